/*
 * pagemem.h: memory of its own mapping, for short-lived objects made in
 * bursts (a dial, a TCP connect).  From malloc, each left a hole of its
 * size between the sessions' lasting objects once it was freed, and the
 * idle sessions of a pool that connected at once paid for those holes in
 * RSS (issue 27); a mapping goes back to the system whole.  It costs a
 * page and two system calls per object, so it is for objects that live
 * about as long as a connect, never for what a request makes.
 *
 * Under AddressSanitizer it is plain calloc/free, so that LeakSanitizer
 * still sees a leak.
 */
#ifndef POSTERN_PAGEMEM_H
#define POSTERN_PAGEMEM_H

#include <stddef.h>

/* pagemem_new(size): size zeroed bytes, or NULL; pagemem_free() frees. */
void	*pagemem_new(size_t size);

/* pagemem_free(p, size): size as given to pagemem_new; NULL: no-op. */
void	 pagemem_free(void *p, size_t size);

#endif
