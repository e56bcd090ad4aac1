/*
 * pagemem.h: memory of its own mapping, for short-lived objects made in
 * bursts (a dial, a TCP connect).  From malloc, each left a hole of its
 * size between the sessions' lasting objects once it was freed, and the
 * idle sessions of a pool that connected at once paid for those holes in
 * RSS (issue 27); a mapping goes back to the system whole.
 *
 * A mapping costs two system calls and a page fault, which a connect
 * per request felt (pgbench -C: ~120 us more CPU per connect, paired).
 * So freed pages of up to a page go to a small cache of PAGEMEM_KEEP
 * pages first, which the next connects take without a system call: a
 * burst still gives back all but those, and steady connects cost none.
 * Objects larger than a page are mapped and unmapped each time.
 *
 * Under AddressSanitizer it is plain calloc/free, so that LeakSanitizer
 * still sees a leak.
 */
#ifndef POSTERN_PAGEMEM_H
#define POSTERN_PAGEMEM_H

#include <stddef.h>

#define PAGEMEM_KEEP	16	/* pages kept for reuse: 64 KiB */

struct pagemem;

/* pagemem_cache_new(): an empty cache, or NULL; pagemem_cache_free(). */
struct pagemem	*pagemem_cache_new(void);

/* pagemem_cache_free(pm): unmap the cached pages and free pm; NULL: no-op. */
void		 pagemem_cache_free(struct pagemem *pm);

/* pagemem_new(pm, size): size zeroed bytes, or NULL; pm may be NULL. */
void		*pagemem_new(struct pagemem *pm, size_t size);

/*
 * pagemem_free(pm, p, size): size as given to pagemem_new, pm the same
 * cache (or NULL); p NULL: no-op.
 */
void		 pagemem_free(struct pagemem *pm, void *p, size_t size);

#endif
