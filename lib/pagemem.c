/*
 * pagemem.c: short-lived objects in mappings of their own, with a small
 * cache of freed pages (pagemem.h).
 */
#include "config.h"

#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pagemem.h"

#if defined(__SANITIZE_ADDRESS__)
#define PAGEMEM_HEAP	1	/* so that LeakSanitizer sees a leak */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PAGEMEM_HEAP	1
#endif
#endif

struct pagemem {
	void	*page[PAGEMEM_KEEP];
	size_t	 n;
	size_t	 pagesize;
};

struct pagemem *
pagemem_cache_new(void)
{
	struct pagemem	*pm;
	long		 ps = sysconf(_SC_PAGESIZE);

	if ((pm = calloc(1, sizeof(*pm))) == NULL)
		return (NULL);
	pm->pagesize = ps > 0 ? (size_t)ps : 4096;
	return (pm);
}

void
pagemem_cache_free(struct pagemem *pm)
{
	if (pm == NULL)
		return;
	while (pm->n > 0)
		munmap(pm->page[--pm->n], pm->pagesize);
	free(pm);
}

void *
pagemem_new(struct pagemem *pm, size_t size)
{
#ifdef PAGEMEM_HEAP
	(void)pm;
	return (calloc(1, size));
#else
	void	*p;

	if (pm != NULL && size <= pm->pagesize && pm->n > 0) {
		p = pm->page[--pm->n];
		memset(p, 0, size);
		return (p);
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return (p == MAP_FAILED ? NULL : p);	/* zero-filled */
#endif
}

void
pagemem_free(struct pagemem *pm, void *p, size_t size)
{
	if (p == NULL)
		return;
#ifdef PAGEMEM_HEAP
	(void)pm;
	(void)size;
	free(p);
#else
	if (pm != NULL && size <= pm->pagesize && pm->n < PAGEMEM_KEEP) {
		pm->page[pm->n++] = p;
		return;
	}
	munmap(p, size);
#endif
}
