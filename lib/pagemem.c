/*
 * pagemem.c: short-lived objects in mappings of their own (pagemem.h).
 */
#include "config.h"

#include <sys/mman.h>

#include <stdlib.h>

#include "pagemem.h"

#if defined(__SANITIZE_ADDRESS__)
#define PAGEMEM_HEAP	1	/* so that LeakSanitizer sees a leak */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PAGEMEM_HEAP	1
#endif
#endif

void *
pagemem_new(size_t size)
{
#ifdef PAGEMEM_HEAP
	return (calloc(1, size));
#else
	void	*p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return (p == MAP_FAILED ? NULL : p);	/* zero-filled */
#endif
}

void
pagemem_free(void *p, size_t size)
{
	if (p == NULL)
		return;
#ifdef PAGEMEM_HEAP
	(void)size;
	free(p);
#else
	munmap(p, size);
#endif
}
