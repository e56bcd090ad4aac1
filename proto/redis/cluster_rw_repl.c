/*
 * cluster_rw_repl.c: the replication addresses GUIs read: ROLE (a
 * master's replicas, a replica's master) and INFO's replication section
 * (master_host/master_port, slaveN:ip=...,port=...).  These name the
 * address a replica connected from or announced, which is the node's
 * client address in a cluster; one the map does not know is counted,
 * like any other.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_rw.h"
#include "cluster_rw_int.h"

static int
lookup(const struct cluster_rw_map *map, const char *ip, size_t iplen,
    long port, unsigned *unknown)
{
	struct cluster_rw_node	n;
	int			lp;

	memset(&n, 0, sizeof(n));
	n.endpoint = n.ip = ip;
	n.endpointlen = n.iplen = iplen;
	n.port = port;
	lp = map->lookup(map->arg, &n);
	if (lp <= 0 || lp > 65535) {
		(*unknown)++;
		return (-1);
	}
	return (lp);
}

/* ROLE: ["master", off, [[ip, "port", off], ...]] or ["slave", ip, port, ...] */
int
crw_role(const struct cluster_rw_map *map, struct crw_val *v,
    unsigned *unknown)
{
	struct crw_val	*e;
	long		 port;
	size_t		 i;
	int		 lp;

	if (!crw_is_agg(v) || v->nkid < 3)
		return (0);
	if (crw_str_is(&v->kid[0], "master") && crw_is_agg(&v->kid[2])) {
		for (i = 0; i < v->kid[2].nkid; i++) {
			e = &v->kid[2].kid[i];
			if (!crw_is_agg(e) || e->nkid < 2 ||
			    crw_is_agg(&e->kid[0]) || crw_long(&e->kid[1], &port))
				continue;
			if ((lp = lookup(map, e->kid[0].s, e->kid[0].slen, port,
			    unknown)) < 0)
				continue;
			if (crw_set(&e->kid[0], map->host, strlen(map->host)) ||
			    crw_set_port(&e->kid[1], lp))
				return (-1);
		}
	} else if (crw_str_is(&v->kid[0], "slave") ||
	    crw_str_is(&v->kid[0], "replica")) {
		if (crw_is_agg(&v->kid[1]) || crw_long(&v->kid[2], &port) ||
		    (lp = lookup(map, v->kid[1].s, v->kid[1].slen, port,
		    unknown)) < 0)
			return (0);
		if (crw_set(&v->kid[1], map->host, strlen(map->host)) ||
		    crw_set_port(&v->kid[2], lp))
			return (-1);
	}
	return (0);
}

static int
put(struct cluster_rw_out *o, const char *s, size_t n)
{
	char	*nb;
	size_t	 cap;

	if (n == 0)
		return (0);
	if (o->len + n > o->cap) {
		for (cap = o->cap ? o->cap : 256; cap < o->len + n; cap *= 2)
			;
		if ((nb = realloc(o->buf, cap)) == NULL)
			return (-1);
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return (0);
}

/* The value after "key:" on a line of text t[0..n), or NULL. */
static const char *
field(const char *t, size_t n, const char *key, size_t *len)
{
	size_t		 k = strlen(key);
	const char	*p = t, *end = t + n, *eol;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) > k && memcmp(p, key, k) == 0) {
			*len = (size_t)(eol - p - k);
			if (*len > 0 && p[k + *len - 1] == '\r')
				(*len)--;
			return (p + k);
		}
	}
	return (NULL);
}

static long
num(const char *s, size_t n)
{
	long	v = 0;
	size_t	i;

	if (n == 0 || n > 5)
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

/* "slaveN:ip=A,port=P,...": A and P rewritten. */
static int
info_slave(const struct cluster_rw_map *map, const char *s, size_t n,
    struct cluster_rw_out *o, unsigned *unknown)
{
	const char	*ip, *ipe, *pp, *pe;
	char		 buf[16];
	int		 lp, k;

	if ((ip = memchr(s, ':', n)) == NULL || (size_t)(s + n - ip) < 4 ||
	    memcmp(ip + 1, "ip=", 3) != 0)
		return (put(o, s, n));
	ip += 4;
	if ((ipe = memchr(ip, ',', (size_t)(s + n - ip))) == NULL ||
	    (size_t)(s + n - ipe) < 6 || memcmp(ipe + 1, "port=", 5) != 0)
		return (put(o, s, n));
	pp = ipe + 6;
	if ((pe = memchr(pp, ',', (size_t)(s + n - pp))) == NULL)
		pe = s + n;
	if ((lp = lookup(map, ip, (size_t)(ipe - ip), num(pp,
	    (size_t)(pe - pp)), unknown)) < 0)
		return (put(o, s, n));
	k = snprintf(buf, sizeof(buf), "%d", lp);
	return (put(o, s, (size_t)(ip - s)) ||
	    put(o, map->host, strlen(map->host)) || put(o, ",port=", 6) ||
	    put(o, buf, (size_t)k) || put(o, pe, (size_t)(s + n - pe)));
}

/* INFO text: master_host/master_port and slaveN lines. */
int
crw_info(const struct cluster_rw_map *map, struct crw_val *v,
    unsigned *unknown)
{
	struct cluster_rw_out	 o;
	const char		*t = v->s, *end, *eol, *mh, *mp;
	size_t			 mhl = 0, mpl = 0, skip = 0;
	char			 buf[16];
	int			 lp = -1, rc = -1, k;

	if (t == NULL || (v->type != '$' && v->type != '='))
		return (0);
	if (v->type == '=')
		skip = v->slen >= 4 ? 4 : v->slen;
	end = t + v->slen;
	mh = field(t + skip, v->slen - skip, "master_host:", &mhl);
	mp = field(t + skip, v->slen - skip, "master_port:", &mpl);
	if (mh != NULL && mp != NULL)
		lp = lookup(map, mh, mhl, num(mp, mpl), unknown);
	memset(&o, 0, sizeof(o));
	if (put(&o, t, skip) != 0)
		goto done;
	for (t += skip; t < end; t = eol + 1) {
		if ((eol = memchr(t, '\n', (size_t)(end - t))) == NULL)
			eol = end;
		k = snprintf(buf, sizeof(buf), "%d", lp);
		if (lp > 0 && t == mh - 12) {
			if (put(&o, "master_host:", 12) ||
			    put(&o, map->host, strlen(map->host)) ||
			    put(&o, mh + mhl, (size_t)(eol - mh - mhl)))
				goto done;
		} else if (lp > 0 && t == mp - 12) {
			if (put(&o, "master_port:", 12) ||
			    put(&o, buf, (size_t)k) ||
			    put(&o, mp + mpl, (size_t)(eol - mp - mpl)))
				goto done;
		} else if ((size_t)(eol - t) > 5 && memcmp(t, "slave", 5) == 0 &&
		    t[5] >= '0' && t[5] <= '9') {
			if (info_slave(map, t, (size_t)(eol - t), &o, unknown))
				goto done;
		} else if (put(&o, t, (size_t)(eol - t)) != 0)
			goto done;
		if (eol < end && put(&o, "\n", 1) != 0)
			goto done;
	}
	rc = o.len == 0 ? crw_set(v, "", 0) : crw_set(v, o.buf, o.len);
done:
	free(o.buf);
	return (rc);
}
