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

#define PG_CANCEL_BUCKETS	64	/* at first; a power of two */

struct pg_cancel_entry {
	LIST_ENTRY(pg_cancel_entry)	 entry;
	uint32_t			 pid;		/* the client's */
	struct route			*route;
	/* After a resume (pgresume.h), the backend's own; else NULL. */
	uint32_t			 bpid;
	uint8_t				*bkey;
	size_t				 bkeylen;
	size_t				 keylen;
	uint8_t				 key[];		/* keylen bytes */
};

LIST_HEAD(pg_cancel_bucket, pg_cancel_entry);

struct pg_cancel {
	struct pg_cancel_bucket	*buckets;
	size_t			 nbuckets;
	size_t			 n;
};

static size_t
pg_cancel_hash(const struct pg_cancel *m, uint32_t pid)
{
	uint32_t	h = pid * 2654435761u;

	h ^= h >> 16;
	return (h & (m->nbuckets - 1));
}

static int
pg_cancel_resize(struct pg_cancel *m, size_t nb)
{
	struct pg_cancel_bucket	*old = m->buckets;
	struct pg_cancel_entry	*e;
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
			LIST_INSERT_HEAD(&m->buckets[pg_cancel_hash(m, e->pid)],
			    e, entry);
		}
	}
	free(old);
	return (0);
}

static void
pg_cancel_entry_free(struct pg_cancel_entry *e)
{
	OPENSSL_cleanse(e->key, e->keylen);
	if (e->bkey != NULL) {
		OPENSSL_cleanse(e->bkey, e->bkeylen);
		free(e->bkey);
	}
	free(e);
}

struct pg_cancel *
pg_cancel_new(void)
{
	struct pg_cancel	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	if (pg_cancel_resize(m, PG_CANCEL_BUCKETS) != 0) {
		free(m);
		return (NULL);
	}
	return (m);
}

void
pg_cancel_free(struct pg_cancel *m)
{
	struct pg_cancel_entry	*e;
	size_t			 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nbuckets; i++) {
		while ((e = LIST_FIRST(&m->buckets[i])) != NULL) {
			LIST_REMOVE(e, entry);
			pg_cancel_entry_free(e);
		}
	}
	free(m->buckets);
	free(m);
}

struct pg_cancel_entry *
pg_cancel_add(struct pg_cancel *m, uint32_t pid, const uint8_t *key,
    size_t keylen, struct route *r)
{
	struct pg_cancel_entry	*e;

	if (keylen < PG_CANCEL_KEY_MIN || keylen > PG_CANCEL_KEY_MAX)
		return (NULL);
	/* Keep chains short; a failed resize only makes them longer. */
	if (m->n >= 2 * m->nbuckets)
		(void)pg_cancel_resize(m, 2 * m->nbuckets);
	if ((e = calloc(1, sizeof(*e) + keylen)) == NULL)
		return (NULL);
	e->pid = pid;
	e->keylen = keylen;
	memcpy(e->key, key, keylen);
	e->route = r;
	LIST_INSERT_HEAD(&m->buckets[pg_cancel_hash(m, pid)], e, entry);
	m->n++;
	return (e);
}

void
pg_cancel_del(struct pg_cancel *m, struct pg_cancel_entry *e)
{
	if (e == NULL)
		return;
	LIST_REMOVE(e, entry);
	m->n--;
	pg_cancel_entry_free(e);
}

struct route *
pg_cancel_find(const struct pg_cancel *m, uint32_t pid, const uint8_t *key,
    size_t keylen)
{
	const struct pg_cancel_entry	*e;

	LIST_FOREACH(e, &m->buckets[pg_cancel_hash(m, pid)], entry) {
		/* The length is the server's choice, not a secret. */
		if (e->pid == pid && e->keylen == keylen &&
		    CRYPTO_memcmp(e->key, key, keylen) == 0)
			return (e->route);
	}
	return (NULL);
}

int
pg_cancel_move(struct pg_cancel_entry *e, struct route *r, uint32_t bpid,
    const uint8_t *bkey, size_t bkeylen)
{
	uint8_t	*copy;

	if (e == NULL)
		return (0);
	e->route = r;
	if (bkeylen < PG_CANCEL_KEY_MIN || bkeylen > PG_CANCEL_KEY_MAX ||
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
pg_cancel_lookup(const struct pg_cancel *m, uint32_t pid, const uint8_t *key,
    size_t keylen, uint32_t *bpid, const uint8_t **bkey, size_t *bkeylen)
{
	const struct pg_cancel_entry	*e;

	LIST_FOREACH(e, &m->buckets[pg_cancel_hash(m, pid)], entry) {
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
pg_cancel_count(const struct pg_cancel *m)
{
	return (m->n);
}
