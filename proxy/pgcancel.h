/*
 * pgcancel.h: the daemon's map from a PostgreSQL backend's cancel key
 * (BackendKeyData: pid and secret key) to the route its session runs
 * on, so that a client's CancelRequest goes to the server that runs the
 * query (over the same route, with TLS if the route has it) and nowhere
 * else.  Sessions add their entry when the key passes by and remove it
 * when they close.
 */
#ifndef POSTERN_PGCANCEL_H
#define POSTERN_PGCANCEL_H

#include <stddef.h>
#include <stdint.h>

struct pgcancel;
struct pgcancel_entry;
struct route;

/* pgcancel_new(): an empty map; NULL when out of memory. */
struct pgcancel *pgcancel_new(void);

/* pgcancel_free(m): free the map and any entry left.  NULL: no-op. */
void	pgcancel_free(struct pgcancel *m);

/*
 * pgcancel_add(m, pid, key, r): remember that backend (pid, key) is
 * reached through route r (borrowed: the caller keeps r alive until
 * pgcancel_del).  Returns the entry, NULL when out of memory.
 */
struct pgcancel_entry *pgcancel_add(struct pgcancel *m, uint32_t pid,
	    uint32_t key, struct route *r);

/* pgcancel_del(m, e): forget an entry.  NULL e is a no-op. */
void	pgcancel_del(struct pgcancel *m, struct pgcancel_entry *e);

/* pgcancel_find(m, pid, key): the route of that backend, or NULL. */
struct route *pgcancel_find(const struct pgcancel *m, uint32_t pid,
	    uint32_t key);

/*
 * pgcancel_move(e, r, bpid, bkey): the session resumed on another
 * backend (pgresume.h): a CancelRequest quoting the client's key goes to
 * route r, rewritten to that backend's own key (bpid, bkey).
 */
void	pgcancel_move(struct pgcancel_entry *e, struct route *r,
	    uint32_t bpid, uint32_t bkey);

/*
 * pgcancel_lookup(m, pid, key, bpid, bkey): as pgcancel_find, and the
 * key of the backend that runs the session now (the same one unless it
 * was resumed elsewhere).
 */
struct route *pgcancel_lookup(const struct pgcancel *m, uint32_t pid,
	    uint32_t key, uint32_t *bpid, uint32_t *bkey);

/* pgcancel_count(m): entries in the map. */
size_t	pgcancel_count(const struct pgcancel *m);

#endif
