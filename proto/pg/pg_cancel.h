/*
 * pg_cancel.h: the daemon's map from a PostgreSQL backend's cancel key
 * (BackendKeyData: pid and secret key) to the route its session runs
 * on, so that a client's CancelRequest goes to the server that runs the
 * query (over the same route, with TLS if the route has it) and nowhere
 * else.  Sessions add their entry when the key passes by and remove it
 * when they close.
 *
 * The secret key is 4 bytes in protocol 3.0 and 4 to 256 bytes from 3.2
 * on (PostgreSQL 18 sends 32): it is kept whole, compared in constant
 * time, and wiped when its entry goes.
 */
#ifndef POSTERN_PGCANCEL_H
#define POSTERN_PGCANCEL_H

#include <stddef.h>
#include <stdint.h>

/* The secret key's length in BackendKeyData and CancelRequest (3.2). */
#define PGCANCEL_KEY_MIN	4
#define PGCANCEL_KEY_MAX	256

struct pgcancel;
struct pgcancel_entry;
struct route;

/* pgcancel_new(): an empty map; NULL when out of memory. */
struct pgcancel *pgcancel_new(void);

/* pgcancel_free(m): free the map and any entry left.  NULL: no-op. */
void	pgcancel_free(struct pgcancel *m);

/*
 * pgcancel_add(m, pid, key, keylen, r): remember that backend (pid, the
 * keylen bytes of key, PGCANCEL_KEY_MIN to PGCANCEL_KEY_MAX; copied) is
 * reached through route r (borrowed: the caller keeps r alive until
 * pgcancel_del).  Returns the entry, NULL when out of memory or keylen
 * is out of bounds.
 */
struct pgcancel_entry *pgcancel_add(struct pgcancel *m, uint32_t pid,
	    const uint8_t *key, size_t keylen, struct route *r);

/* pgcancel_del(m, e): forget an entry (its key wiped).  NULL e: no-op. */
void	pgcancel_del(struct pgcancel *m, struct pgcancel_entry *e);

/*
 * pgcancel_find(m, pid, key, keylen): the route of the backend with that
 * pid and exactly that key (same length, same bytes), or NULL.
 */
struct route *pgcancel_find(const struct pgcancel *m, uint32_t pid,
	    const uint8_t *key, size_t keylen);

/*
 * pgcancel_move(e, r, bpid, bkey, bkeylen): the session resumed on
 * another backend (pgresume.h): a CancelRequest quoting the client's key
 * goes to route r, rewritten to that backend's own pid and key (copied;
 * wiped when the entry goes).  -1 when out of memory or bkeylen is out
 * of bounds (the entry then keeps its old key).  NULL e: no-op.
 */
int	pgcancel_move(struct pgcancel_entry *e, struct route *r,
	    uint32_t bpid, const uint8_t *bkey, size_t bkeylen);

/*
 * pgcancel_lookup(m, pid, key, keylen, bpid, bkey, bkeylen): as
 * pgcancel_find, and the pid and key of the backend that runs the
 * session now (the client's own unless it was resumed elsewhere; *bkey
 * points into the map, valid until the entry is deleted).
 */
struct route *pgcancel_lookup(const struct pgcancel *m, uint32_t pid,
	    const uint8_t *key, size_t keylen, uint32_t *bpid,
	    const uint8_t **bkey, size_t *bkeylen);

/* pgcancel_count(m): entries in the map. */
size_t	pgcancel_count(const struct pgcancel *m);

#endif
