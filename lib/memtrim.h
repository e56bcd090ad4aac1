/*
 * memtrim.h: give the heap's free pages back to the system once a burst
 * of sessions has settled.
 *
 * A pool that connects at once makes, per session, objects that last
 * (the session, its events) and objects that go once its first request
 * is answered (a reader, a capture, a timer, read buffers).  Those made
 * last sit at the top of the heap; freed, glibc keeps them (small frees
 * never trim, and daemon.c keeps up to 8 MiB of free heap on purpose,
 * for bulk transfers), so the idle pool's RSS kept its peak: about 200
 * bytes per idle Redis session (issue 27).  malloc_trim(0) returns the
 * top and every whole free page inside the heap.
 *
 * memtrim_touch() says that sessions began or ended; a timer then trims
 * every MEMTRIM_PERIOD_MS while they keep doing so, and once more a
 * period after the last: at most two trims a second, none while the set
 * of sessions does not change (a bulk transfer keeps its free heap).
 * Without malloc_trim (not glibc) it does nothing.
 */
#ifndef POSTERN_MEMTRIM_H
#define POSTERN_MEMTRIM_H

#define MEMTRIM_PERIOD_MS	500

struct event_base;
struct memtrim;

/* memtrim_new(base): NULL when out of memory; memtrim_free() frees. */
struct memtrim *memtrim_new(struct event_base *base);

/* memtrim_touch(m): sessions began or ended (NULL: no-op). */
void	memtrim_touch(struct memtrim *m);

/* memtrim_free(m): stop and free; NULL is a no-op. */
void	memtrim_free(struct memtrim *m);

#endif
