/*
 * guard.h: readonly = yes for a session (issue 24): the protocol's guard
 * (resp_guard.h for Redis, pg_guard.h for PostgreSQL) put on the relay as
 * its client filter, and the PostgreSQL startup packet's parameter.
 */
#ifndef POSTERN_GUARD_H
#define POSTERN_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct conf_service;
struct evbuffer;
struct guard;
struct relay;

/*
 * guard_start(cs, r, gp): when cs has readonly = yes, filter r's client
 * direction (after relay_start) and set *gp (freed by guard_free, after
 * r is released); else *gp = NULL.  Returns 0, or -1 when out of memory.
 */
int	guard_start(const struct conf_service *cs, struct relay *r,
	    struct guard **gp);

/* guard_free(g): NULL is a no-op; wipes what the tracker recorded. */
void	guard_free(struct guard *g);

/* guard_refusals(g): requests refused so far (0 for NULL). */
uint64_t guard_refusals(const struct guard *g);

/*
 * guard_startup(cs, first, len): first starts with a PostgreSQL startup
 * packet of len bytes; with readonly = yes it is replaced by one asking
 * for default_transaction_read_only=on (the bytes after it kept).
 * Returns 0, or -1 (malformed, or out of memory: end the session).
 */
int	guard_startup(const struct conf_service *cs, struct evbuffer *first,
	    size_t len);

#endif
