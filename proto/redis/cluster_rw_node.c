/*
 * cluster_rw_node.c: where each cluster reply names a node, and what it
 * becomes.  Every endpoint, ip and (non-empty) hostname becomes the
 * map's host, every client port the node's local port; a tls-port goes
 * (the client talks plain TCP to postern, which speaks TLS to the node
 * itself when the route is tls://); the cluster bus port of CLUSTER
 * NODES is left as it was (no client uses it).  A node the map does not
 * know keeps its address and is counted: the caller reports it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_rw.h"
#include "cluster_rw_int.h"

static int
lookup(const struct cluster_rw_map *map, const struct cluster_rw_node *n,
    unsigned *unknown)
{
	int	lp;

	lp = map->lookup(map->arg, n);
	if (lp <= 0 || lp > 65535) {
		(*unknown)++;
		return (-1);
	}
	return (lp);
}

static int
set_host(const struct cluster_rw_map *map, struct crw_val *v)
{
	return (crw_set(v, map->host, strlen(map->host)));
}

/* "MOVED 3999 host:port" or "ASK 3999 host:port" (host may be empty). */
static int
redirect(const struct cluster_rw_map *map, struct crw_val *v,
    unsigned *unknown)
{
	struct cluster_rw_node	 n;
	const char		*s = v->s, *sp, *colon;
	char			 buf[128];
	size_t			 w, len = v->slen;
	long			 port = 0;
	int			 lp, k;

	if (len > 6 && memcmp(s, "MOVED ", 6) == 0)
		w = 5;
	else if (len > 4 && memcmp(s, "ASK ", 4) == 0)
		w = 3;
	else
		return (0);
	if ((sp = memchr(s + w + 1, ' ', len - w - 1)) == NULL)
		return (0);
	colon = s + len - 1;
	while (colon > sp && *colon != ':')
		colon--;
	if (colon == sp || colon + 1 == s + len || s + len - colon > 6)
		return (0);
	for (k = 1; colon + k < s + len; k++) {
		if (colon[k] < '0' || colon[k] > '9')
			return (0);
		port = port * 10 + (colon[k] - '0');
	}
	memset(&n, 0, sizeof(n));
	n.endpoint = sp + 1;
	n.endpointlen = (size_t)(colon - sp - 1);
	n.port = port;
	if ((lp = lookup(map, &n, unknown)) < 0)
		return (0);
	k = snprintf(buf, sizeof(buf), "%.*s %.*s:%d", (int)(sp - s), s,
	    (int)strnlen(map->host, 64), map->host, lp);
	if (k < 0 || (size_t)k >= sizeof(buf))
		return (-1);
	return (crw_set(v, buf, (size_t)k));
}

/* Are v's kids key/value pairs (a RESP3 map, a RESP2 flat array)? */
static int
pairs(const struct crw_val *v)
{
	return (v->type == '%' || (v->type == '*' && v->nkid % 2 == 0));
}

/* One node of CLUSTER SLOTS: [endpoint, port, id?, metadata?]. */
static int
slots_node(const struct cluster_rw_map *map, struct crw_val *v,
    unsigned *unknown)
{
	struct cluster_rw_node	 n;
	struct crw_val		*meta = NULL;
	size_t			 i;
	int			 lp;

	memset(&n, 0, sizeof(n));
	if (!crw_is_agg(v) || v->nkid < 2 || crw_is_agg(&v->kid[0]) ||
	    crw_long(&v->kid[1], &n.port) != 0)
		return (-1);
	n.endpoint = v->kid[0].s;
	n.endpointlen = v->kid[0].slen;
	if (v->nkid > 2 && !crw_is_agg(&v->kid[2])) {
		n.id = v->kid[2].s;
		n.idlen = v->kid[2].slen;
	}
	if (v->nkid > 3 && pairs(&v->kid[3]))
		meta = &v->kid[3];
	for (i = 0; meta != NULL && i + 1 < meta->nkid; i += 2)
		if (crw_str_is(&meta->kid[i], "ip")) {
			n.ip = meta->kid[i + 1].s;
			n.iplen = meta->kid[i + 1].slen;
		}
	if ((lp = lookup(map, &n, unknown)) < 0)
		return (0);
	if (set_host(map, &v->kid[0]) != 0 || crw_set_port(&v->kid[1], lp))
		return (-1);
	for (i = 0; meta != NULL && i + 1 < meta->nkid; i += 2)
		if ((crw_str_is(&meta->kid[i], "ip") ||
		    (crw_str_is(&meta->kid[i], "hostname") &&
		    meta->kid[i + 1].slen > 0)) &&
		    set_host(map, &meta->kid[i + 1]) != 0)
			return (-1);
	return (0);
}

static int
slots(const struct cluster_rw_map *map, struct crw_val *v, unsigned *unknown)
{
	struct crw_val	*e;
	size_t		 i, j;

	if (!crw_is_agg(v))
		return (0);
	for (i = 0; i < v->nkid; i++) {
		e = &v->kid[i];
		if (!crw_is_agg(e) || e->nkid < 3)
			return (-1);
		for (j = 2; j < e->nkid; j++)
			if (slots_node(map, &e->kid[j], unknown) != 0)
				return (-1);
	}
	return (0);
}

/* The value of key in a pairs aggregate, or NULL. */
static struct crw_val *
find(struct crw_val *v, const char *key)
{
	size_t	i;

	for (i = 0; i + 1 < v->nkid; i += 2)
		if (crw_str_is(&v->kid[i], key))
			return (&v->kid[i + 1]);
	return (NULL);
}

static void
node_str(struct crw_val *v, const char **s, size_t *len)
{
	if (v != NULL && !crw_is_agg(v)) {
		*s = v->s;
		*len = v->slen;
	}
}

/* One node map of CLUSTER SHARDS. */
static int
shards_node(const struct cluster_rw_map *map, struct crw_val *v,
    unsigned *unknown)
{
	struct cluster_rw_node	 n;
	struct crw_val		*port, *tls;
	size_t			 i;
	int			 lp;

	memset(&n, 0, sizeof(n));
	if (!pairs(v))
		return (-1);
	port = find(v, "port");
	tls = find(v, "tls-port");
	if ((port == NULL || crw_long(port, &n.port) != 0) &&
	    (tls == NULL || crw_long(tls, &n.port) != 0))
		return (-1);
	node_str(find(v, "id"), &n.id, &n.idlen);
	node_str(find(v, "endpoint"), &n.endpoint, &n.endpointlen);
	node_str(find(v, "ip"), &n.ip, &n.iplen);
	if ((lp = lookup(map, &n, unknown)) < 0)
		return (0);
	for (i = 0; i + 1 < v->nkid; i += 2) {
		struct crw_val	*k = &v->kid[i], *x = &v->kid[i + 1];

		if (crw_str_is(k, "ip") || crw_str_is(k, "endpoint") ||
		    (crw_str_is(k, "hostname") && x->slen > 0)) {
			if (set_host(map, x) != 0)
				return (-1);
		} else if (x == port) {
			if (crw_set_port(x, lp) != 0)
				return (-1);
		} else if (x == tls && port != NULL) {
			k->drop = x->drop = 1;
		} else if (x == tls) {
			if (crw_set(k, "port", 4) || crw_set_port(x, lp))
				return (-1);
		}
	}
	return (0);
}

static int
shards(const struct cluster_rw_map *map, struct crw_val *v, unsigned *unknown)
{
	struct crw_val	*nodes;
	size_t		 i, j;

	if (!crw_is_agg(v))
		return (0);
	for (i = 0; i < v->nkid; i++) {
		if (!pairs(&v->kid[i]))
			return (-1);
		if ((nodes = find(&v->kid[i], "nodes")) == NULL ||
		    !crw_is_agg(nodes))
			return (-1);
		for (j = 0; j < nodes->nkid; j++)
			if (shards_node(map, &nodes->kid[j], unknown) != 0)
				return (-1);
	}
	return (0);
}

static int
put(struct cluster_rw_out *o, const char *s, size_t n)
{
	size_t	 cap;
	char	*nb;

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

/*
 * One line of CLUSTER NODES: "id ip:port@cport[,hostname] flags ...".
 * A node with no address yet (port 0: noaddr, handshake) stays as is.
 */
static int
nodes_line(const struct cluster_rw_map *map, const char *s, size_t len,
    struct cluster_rw_out *o, unsigned *unknown)
{
	struct cluster_rw_node	 n;
	const char		*a, *ae, *at, *colon = NULL, *p, *comma;
	char			 buf[32];
	int			 lp, k;

	memset(&n, 0, sizeof(n));
	if ((a = memchr(s, ' ', len)) == NULL)
		return (put(o, s, len));
	a++;
	if ((ae = memchr(a, ' ', (size_t)(s + len - a))) == NULL)
		ae = s + len;
	if ((at = memchr(a, '@', (size_t)(ae - a))) == NULL)
		at = ae;
	for (p = at; p > a && colon == NULL; p--)
		if (p[-1] == ':')
			colon = p - 1;
	if (colon == NULL)
		return (put(o, s, len));
	for (k = 1; colon + k < at && n.port < 100000; k++) {
		if (colon[k] < '0' || colon[k] > '9')
			return (put(o, s, len));
		n.port = n.port * 10 + (colon[k] - '0');
	}
	if (n.port == 0)
		return (put(o, s, len));
	n.id = s;
	n.idlen = (size_t)(a - 1 - s);
	n.endpoint = n.ip = a;
	n.endpointlen = n.iplen = (size_t)(colon - a);
	if ((lp = lookup(map, &n, unknown)) < 0)
		return (put(o, s, len));
	comma = memchr(at, ',', (size_t)(ae - at));
	k = snprintf(buf, sizeof(buf), ":%d", lp);
	if (put(o, s, (size_t)(a - s)) || put(o, map->host, strlen(map->host))
	    || put(o, buf, (size_t)k) ||
	    put(o, at, (size_t)((comma ? comma : ae) - at)))
		return (-1);
	if (comma != NULL && comma + 1 < ae &&
	    (put(o, ",", 1) || put(o, map->host, strlen(map->host))))
		return (-1);
	else if (comma != NULL && comma + 1 == ae && put(o, ",", 1))
		return (-1);
	return (put(o, ae, (size_t)(s + len - ae)));
}

/* A bulk or verbatim string of CLUSTER NODES lines. */
static int
nodes_text(const struct cluster_rw_map *map, struct crw_val *v,
    unsigned *unknown)
{
	struct cluster_rw_out	 o;
	const char		*s = v->s, *end, *nl;
	int			 rc = -1;

	memset(&o, 0, sizeof(o));
	if (s == NULL || crw_is_agg(v) || (v->type != '$' && v->type != '='))
		return (0);
	end = s + v->slen;
	if (v->type == '=') {
		if (v->slen < 4 || put(&o, s, 4) != 0)
			goto done;
		s += 4;
	}
	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if (nodes_line(map, s, (size_t)(nl - s), &o, unknown) != 0 ||
		    (nl < end && put(&o, "\n", 1) != 0))
			goto done;
	}
	rc = o.len == 0 ? crw_set(v, "", 0) : crw_set(v, o.buf, o.len);
done:
	free(o.buf);
	return (rc);
}

static int
nodes(const struct cluster_rw_map *map, struct crw_val *v, unsigned *unknown)
{
	size_t	i;

	if (!crw_is_agg(v))
		return (nodes_text(map, v, unknown));
	for (i = 0; i < v->nkid; i++)
		if (nodes_text(map, &v->kid[i], unknown) != 0)
			return (-1);
	return (0);
}

int
crw_rewrite(int kind, const struct cluster_rw_map *map, struct crw_val *v,
    unsigned *unknown)
{
	if (v->type == '|' && v->nkid > 0)
		return (crw_rewrite(kind, map, &v->kid[v->nkid - 1], unknown));
	if (v->type == '-')
		return (redirect(map, v, unknown));
	switch ((enum cluster_rw_kind)kind) {
	case CLUSTER_RW_REDIRECT:
		return (0);
	case CLUSTER_RW_SLOTS:
		return (slots(map, v, unknown));
	case CLUSTER_RW_SHARDS:
		return (shards(map, v, unknown));
	case CLUSTER_RW_NODES:
		return (nodes(map, v, unknown));
	case CLUSTER_RW_ROLE:
		return (crw_role(map, v, unknown));
	case CLUSTER_RW_INFO:
		return (crw_info(map, v, unknown));
	case CLUSTER_RW_EXEC:
		return (crw_exec(NULL, map, v, unknown));
	}
	return (0);
}

int
crw_exec(const struct cluster_rw_tx *tx, const struct cluster_rw_map *map,
    struct crw_val *v, unsigned *unknown)
{
	size_t	i;

	if (v->type == '|' && v->nkid > 0)
		return (crw_exec(tx, map, &v->kid[v->nkid - 1], unknown));
	if (v->type != '*')
		return (crw_rewrite(CLUSTER_RW_REDIRECT, map, v, unknown));
	for (i = 0; i < v->nkid; i++)
		if (crw_rewrite(tx != NULL && i < tx->n ? tx->kinds[i] :
		    CLUSTER_RW_REDIRECT, map, &v->kid[i], unknown) != 0)
			return (-1);
	return (0);
}
