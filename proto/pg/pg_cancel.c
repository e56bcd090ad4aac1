/*
 * pg_cancel.c: cancel keys to routes, a chained hash that doubles as it
 * fills.  The hash is of the pid alone (not secret: the client quotes
 * it in the clear), so that which bucket a lookup walks says nothing of
 * the key; a key is compared whole and in constant time.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pg_cancel.h"

#define PGCANCEL_BUCKETS	64	/* at first; a power of two */

struct pgcancel_entry {
	LIST_ENTRY(pgcancel_entry)	 entry;
	uint32_t			 pid;		/* the client's */
	struct route			*route;
	/* After a resume (pgresume.h), the backend's own; else NULL. */
	uint32_t			 bpid;
	uint8_t				*bkey;
	size_t				 bkeylen;
	size_t				 keylen;
	uint8_t				 key[];		/* keylen bytes */
};

LIST_HEAD(pgcancel_bucket, pgcancel_entry);

struct pgcancel {
	struct pgcancel_bucket	*buckets;
	size_t			 nbuckets;
	size_t			 n;
};

static size_t
pgcancel_hash(const struct pgcancel *m, uint32_t pid)
{
	uint32_t	h = pid * 2654435761u;

	h ^= h >> 16;
	return (h & (m->nbuckets - 1));
}

static int
pgcancel_resize(struct pgcancel *m, size_t nb)
{
	struct pgcancel_bucket	*old = m->buckets;
	struct pgcancel_entry	*e;
	size_t			 i, onb = m->nbuckets;

	if ((m->buckets = calloc(nb, sizeof(*m->buckets))) == NULL) {
		m->buckets = old;
		return (-1);
	}
	m->nbuckets = nb;
	for (i = 0; i < nb; i++)
		LIST_INIT(&m->buckets[i]);
	for (i = 0; old != NULL && i < onb; i++) {
		while ((e = LIST_FIRST(&old[i])) != NULL) {
			LIST_REMOVE(e, entry);
			LIST_INSERT_HEAD(&m->buckets[pgcancel_hash(m, e->pid)],
			    e, entry);
		}
	}
	free(old);
	return (0);
}

static void
pgcancel_entry_free(struct pgcancel_entry *e)
{
	OPENSSL_cleanse(e->key, e->keylen);
	if (e->bkey != NULL) {
		OPENSSL_cleanse(e->bkey, e->bkeylen);
		free(e->bkey);
	}
	free(e);
}

struct pgcancel *
pgcancel_new(void)
{
	struct pgcancel	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	if (pgcancel_resize(m, PGCANCEL_BUCKETS) != 0) {
		free(m);
		return (NULL);
	}
	return (m);
}

void
pgcancel_free(struct pgcancel *m)
{
	struct pgcancel_entry	*e;
	size_t			 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nbuckets; i++) {
		while ((e = LIST_FIRST(&m->buckets[i])) != NULL) {
			LIST_REMOVE(e, entry);
			pgcancel_entry_free(e);
		}
	}
	free(m->buckets);
	free(m);
}

struct pgcancel_entry *
pgcancel_add(struct pgcancel *m, uint32_t pid, const uint8_t *key,
    size_t keylen, struct route *r)
{
	struct pgcancel_entry	*e;

	if (keylen < PGCANCEL_KEY_MIN || keylen > PGCANCEL_KEY_MAX)
		return (NULL);
	/* Keep chains short; a failed resize only makes them longer. */
	if (m->n >= 2 * m->nbuckets)
		(void)pgcancel_resize(m, 2 * m->nbuckets);
	if ((e = calloc(1, sizeof(*e) + keylen)) == NULL)
		return (NULL);
	e->pid = pid;
	e->keylen = keylen;
	memcpy(e->key, key, keylen);
	e->route = r;
	LIST_INSERT_HEAD(&m->buckets[pgcancel_hash(m, pid)], e, entry);
	m->n++;
	return (e);
}

void
pgcancel_del(struct pgcancel *m, struct pgcancel_entry *e)
{
	if (e == NULL)
		return;
	LIST_REMOVE(e, entry);
	m->n--;
	pgcancel_entry_free(e);
}

struct route *
pgcancel_find(const struct pgcancel *m, uint32_t pid, const uint8_t *key,
    size_t keylen)
{
	const struct pgcancel_entry	*e;

	LIST_FOREACH(e, &m->buckets[pgcancel_hash(m, pid)], entry) {
		/* The length is the server's choice, not a secret. */
		if (e->pid == pid && e->keylen == keylen &&
		    CRYPTO_memcmp(e->key, key, keylen) == 0)
			return (e->route);
	}
	return (NULL);
}

int
pgcancel_move(struct pgcancel_entry *e, struct route *r, uint32_t bpid,
    const uint8_t *bkey, size_t bkeylen)
{
	uint8_t	*copy;

	if (e == NULL)
		return (0);
	e->route = r;
	if (bkeylen < PGCANCEL_KEY_MIN || bkeylen > PGCANCEL_KEY_MAX ||
	    (copy = malloc(bkeylen)) == NULL)
		return (-1);	/* a cancel then reaches r with a stale key */
	memcpy(copy, bkey, bkeylen);
	if (e->bkey != NULL) {
		OPENSSL_cleanse(e->bkey, e->bkeylen);
		free(e->bkey);
	}
	e->bpid = bpid;
	e->bkey = copy;
	e->bkeylen = bkeylen;
	return (0);
}

struct route *
pgcancel_lookup(const struct pgcancel *m, uint32_t pid, const uint8_t *key,
    size_t keylen, uint32_t *bpid, const uint8_t **bkey, size_t *bkeylen)
{
	const struct pgcancel_entry	*e;

	LIST_FOREACH(e, &m->buckets[pgcancel_hash(m, pid)], entry) {
		/* The length is the server's choice, not a secret. */
		if (e->pid == pid && e->keylen == keylen &&
		    CRYPTO_memcmp(e->key, key, keylen) == 0) {
			*bpid = e->bkey != NULL ? e->bpid : e->pid;
			*bkey = e->bkey != NULL ? e->bkey : e->key;
			*bkeylen = e->bkey != NULL ? e->bkeylen : e->keylen;
			return (e->route);
		}
	}
	return (NULL);
}

size_t
pgcancel_count(const struct pgcancel *m)
{
	return (m->n);
}
