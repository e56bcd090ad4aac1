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
#define PG_CANCEL_KEY_MIN	4
#define PG_CANCEL_KEY_MAX	256

struct pg_cancel;
struct pg_cancel_entry;
struct route;

/* pg_cancel_new(): an empty map; NULL when out of memory. */
struct pg_cancel *pg_cancel_new(void);

/* pg_cancel_free(m): free the map and any entry left.  NULL: no-op. */
void	pg_cancel_free(struct pg_cancel *m);

/*
 * pg_cancel_add(m, pid, key, keylen, r): remember that backend (pid, the
 * keylen bytes of key, PG_CANCEL_KEY_MIN to PG_CANCEL_KEY_MAX; copied) is
 * reached through route r (borrowed: the caller keeps r alive until
 * pg_cancel_del).  Returns the entry, NULL when out of memory or keylen
 * is out of bounds.
 */
struct pg_cancel_entry *pg_cancel_add(struct pg_cancel *m, uint32_t pid,
	    const uint8_t *key, size_t keylen, struct route *r);

/* pg_cancel_del(m, e): forget an entry (its key wiped).  NULL e: no-op. */
void	pg_cancel_del(struct pg_cancel *m, struct pg_cancel_entry *e);

/*
 * pg_cancel_find(m, pid, key, keylen): the route of the backend with that
 * pid and exactly that key (same length, same bytes), or NULL.
 */
struct route *pg_cancel_find(const struct pg_cancel *m, uint32_t pid,
	    const uint8_t *key, size_t keylen);

/*
 * pg_cancel_move(e, r, bpid, bkey, bkeylen): the session resumed on
 * another backend (pgresume.h): a CancelRequest quoting the client's key
 * goes to route r, rewritten to that backend's own pid and key (copied;
 * wiped when the entry goes).  -1 when out of memory or bkeylen is out
 * of bounds (the entry then keeps its old key).  NULL e: no-op.
 */
int	pg_cancel_move(struct pg_cancel_entry *e, struct route *r,
	    uint32_t bpid, const uint8_t *bkey, size_t bkeylen);

/*
 * pg_cancel_lookup(m, pid, key, keylen, bpid, bkey, bkeylen): as
 * pg_cancel_find, and the pid and key of the backend that runs the
 * session now (the client's own unless it was resumed elsewhere; *bkey
 * points into the map, valid until the entry is deleted).
 */
struct route *pg_cancel_lookup(const struct pg_cancel *m, uint32_t pid,
	    const uint8_t *key, size_t keylen, uint32_t *bpid,
	    const uint8_t **bkey, size_t *bkeylen);

/* pg_cancel_count(m): entries in the map. */
size_t	pg_cancel_count(const struct pg_cancel *m);

#endif
