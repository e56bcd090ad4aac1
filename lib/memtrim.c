/*
 * memtrim.c: the heap trimmed after bursts of sessions (memtrim.h).
 */
#include "config.h"

#include <stdlib.h>

#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif

#include <event2/event.h>

#include "clock.h"
#include "memtrim.h"

struct memtrim {
	struct event	*timer;
	int		 dirty;		/* touched since the last trim */
	int		 armed;
};

static void
memtrim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct memtrim	*m = arg;
	struct timeval	 tv;

	m->armed = 0;
#ifdef HAVE_MALLOC_TRIM
	(void)malloc_trim(0);
#endif
	/* Touched meanwhile: what those sessions free comes later. */
	if (m->dirty) {
		m->dirty = 0;
		tv = clock_tv(MEMTRIM_PERIOD_MS);
		if (evtimer_add(m->timer, &tv) == 0)
			m->armed = 1;
	}
}

struct memtrim *
memtrim_new(struct event_base *base)
{
	struct memtrim	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	if ((m->timer = evtimer_new(base, memtrim_cb, m)) == NULL) {
		free(m);
		return (NULL);
	}
	return (m);
}

void
memtrim_touch(struct memtrim *m)
{
	struct timeval	tv;

	if (m == NULL)
		return;
	if (m->armed) {
		m->dirty = 1;
		return;
	}
	tv = clock_tv(MEMTRIM_PERIOD_MS);
	if (evtimer_add(m->timer, &tv) == 0)
		m->armed = 1;
}

void
memtrim_free(struct memtrim *m)
{
	if (m == NULL)
		return;
	event_free(m->timer);
	free(m);
}
