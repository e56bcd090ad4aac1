/*
 * cluster_rw.c: RESP framing, the reply tree and its output for the
 * cluster reply rewriter (what changes is in cluster_rw_node.c).
 *
 * A reply is held whole before it is rewritten: the replies that carry
 * addresses are small (CLUSTER NODES of a 1000-node cluster is ~200 KB)
 * and rare, and holding it is what makes the output independent of how
 * the input was split.  Replies that carry no address never come here.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster_rw.h"
#include "cluster_rw_int.h"

void
cluster_rw_out_free(struct cluster_rw_out *o)
{
	if (o == NULL)
		return;
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

static int
out_put(struct cluster_rw_out *o, const void *p, size_t n)
{
	size_t	 cap;
	char	*nb;

	if (n > SIZE_MAX / 2 - o->len)
		return (-1);
	if (o->len + n > o->cap) {
		cap = o->cap ? o->cap : 256;
		while (cap < o->len + n)
			cap *= 2;
		if ((nb = realloc(o->buf, cap)) == NULL)
			return (-1);
		o->buf = nb;
		o->cap = cap;
	}
	if (n > 0)
		memcpy(o->buf + o->len, p, n);
	o->len += n;
	return (0);
}

/* A header's number: -1 (null) or 0..CLUSTER_RW_MAX; -2 otherwise. */
static long long
num(const char *s, size_t len)
{
	long long	v = 0;
	size_t		i = 0;

	if (len == 2 && s[0] == '-' && s[1] == '1')
		return (-1);
	if (len == 0 || len > 10)
		return (-2);
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-2);
		v = v * 10 + (s[i] - '0');
	}
	return (v > CLUSTER_RW_MAX ? -2 : v);
}

/* The line at b[pos]: 1 with its end (the CR) in *eol, 0 more, -1 bad. */
static int
line_end(const char *b, size_t n, size_t pos, size_t *eol)
{
	const char	*cr, *lf;
	size_t		 end;

	cr = memchr(b + pos, '\r', n - pos);
	end = cr != NULL ? (size_t)(cr - b) : n;
	/* RESP lines hold no LF: one before the CR is malformed. */
	if ((lf = memchr(b + pos, '\n', end - pos)) != NULL)
		return (-1);
	if (cr == NULL)
		return (0);
	*eol = end;
	if (*eol + 1 >= n)
		return (0);
	return (b[*eol + 1] == '\n' ? 1 : -1);
}

/* Switches, not strchr: these run once per value of every reply. */
static int
is_line_type(char t)
{
	switch (t) {
	case '+': case '-': case ':': case '_': case '#': case ',': case '(':
		return (1);
	}
	return (0);
}

static int
is_bulk_type(char t)
{
	return (t == '$' || t == '!' || t == '=');
}

static int
is_agg_type(char t)
{
	switch (t) {
	case '*': case '~': case '>': case '%': case '|':
		return (1);
	}
	return (0);
}

/* How many values an aggregate header of count c holds. */
static size_t
agg_kids(char t, long long c)
{
	if (t == '%')
		return ((size_t)c * 2);
	if (t == '|')
		return ((size_t)c * 2 + 1);
	return ((size_t)c);
}

static int
frame_val(const char *b, size_t n, size_t *pos, int depth)
{
	size_t		 eol, i, nk;
	long long	 c;
	int		 r;
	char		 t;

	if (*pos >= n)
		return (0);
	t = b[*pos];
	if (!is_line_type(t) && !is_bulk_type(t) && !is_agg_type(t))
		return (-1);
	if ((r = line_end(b, n, *pos, &eol)) <= 0)
		return (r);
	if (is_line_type(t)) {
		*pos = eol + 2;
		return (1);
	}
	c = num(b + *pos + 1, eol - *pos - 1);
	if (c == -2 || (c == -1 && t != '$' && t != '*'))
		return (-1);
	*pos = eol + 2;
	if (c == -1)
		return (1);
	if (is_bulk_type(t)) {
		if (n - *pos < (size_t)c + 2)
			return (0);
		if (b[*pos + c] != '\r' || b[*pos + c + 1] != '\n')
			return (-1);
		*pos += (size_t)c + 2;
		return (1);
	}
	if (depth >= CLUSTER_RW_DEPTH)
		return (-1);
	nk = agg_kids(t, c);
	for (i = 0; i < nk; i++)
		if ((r = frame_val(b, n, pos, depth + 1)) <= 0)
			return (r);
	return (1);
}

int
cluster_rw_frame(const char *b, size_t n, size_t *len)
{
	size_t	pos = 0;
	int	r;

	if ((r = frame_val(b, n, &pos, 0)) == 1)
		*len = pos;
	return (r);
}

static void
tree_free(struct crw_val *v)
{
	size_t	i;

	for (i = 0; i < v->nkid; i++)
		tree_free(&v->kid[i]);
	free(v->kid);
	free(v->own);
	memset(v, 0, sizeof(*v));
}

/* Build the tree of a reply cluster_rw_frame found complete. */
static int
tree_val(const char *b, size_t n, size_t *pos, struct crw_val *v)
{
	size_t		 eol, i;
	long long	 c;

	v->type = b[*pos];
	if (line_end(b, n, *pos, &eol) != 1)
		return (-1);
	if (is_line_type(v->type)) {
		v->s = b + *pos + 1;
		v->slen = eol - *pos - 1;
		*pos = eol + 2;
		return (0);
	}
	c = num(b + *pos + 1, eol - *pos - 1);
	*pos = eol + 2;
	if (c < 0)
		return (c == -1 ? 0 : -1);	/* null: s stays NULL */
	v->s = b + *pos;
	if (is_bulk_type(v->type)) {
		v->slen = (size_t)c;
		*pos += (size_t)c + 2;
		return (0);
	}
	v->nkid = agg_kids(v->type, c);
	if (v->nkid > 0 &&
	    (v->kid = calloc(v->nkid, sizeof(*v->kid))) == NULL) {
		v->nkid = 0;
		return (-1);
	}
	for (i = 0; i < v->nkid; i++)
		if (tree_val(b, n, pos, &v->kid[i]) != 0)
			return (-1);
	return (0);
}

static int
emit_head(struct cluster_rw_out *o, char t, size_t count)
{
	char	h[32], *p = h + sizeof(h);

	/* "%c%zu\r\n" by hand: snprintf showed in the profile */
	*--p = '\n';
	*--p = '\r';
	do {
		*--p = (char)('0' + count % 10);
		count /= 10;
	} while (count > 0);
	*--p = t;
	return (out_put(o, p, (size_t)(h + sizeof(h) - p)));
}

static int
emit_val(struct cluster_rw_out *o, const struct crw_val *v)
{
	const char	*s = v->own != NULL ? v->own : v->s;
	size_t		 i, live = 0;

	if (s == NULL && !is_line_type(v->type))
		return (out_put(o, v->type == '$' ? "$-1\r\n" : "*-1\r\n", 5));
	if (is_line_type(v->type))
		return (out_put(o, &v->type, 1) || out_put(o, s, v->slen) ||
		    out_put(o, "\r\n", 2) ? -1 : 0);
	if (is_bulk_type(v->type))
		return (emit_head(o, v->type, v->slen) ||
		    out_put(o, s, v->slen) || out_put(o, "\r\n", 2) ? -1 : 0);
	for (i = 0; i < v->nkid; i++)
		live += !v->kid[i].drop;
	if (v->type == '%')
		live /= 2;
	else if (v->type == '|')
		live = (live - 1) / 2;
	if (emit_head(o, v->type, live) != 0)
		return (-1);
	for (i = 0; i < v->nkid; i++)
		if (!v->kid[i].drop && emit_val(o, &v->kid[i]) != 0)
			return (-1);
	return (0);
}

void
cluster_rw_tx_free(struct cluster_rw_tx *tx)
{
	if (tx == NULL)
		return;
	free(tx->kinds);
	free(tx);
}

static int
reply_any(enum cluster_rw_kind kind, const struct cluster_rw_tx *tx,
    const struct cluster_rw_map *map, const char *b, size_t n,
    struct cluster_rw_out *out, unsigned *unknown)
{
	struct crw_val	 root;
	size_t		 pos = 0, had = out->len;
	int		 rc = -1;

	memset(&root, 0, sizeof(root));
	if (cluster_rw_frame(b, n, &pos) != 1 || pos != n)
		return (-1);
	pos = 0;
	if (tree_val(b, n, &pos, &root) != 0)
		goto done;
	if ((kind == CLUSTER_RW_EXEC ? crw_exec(tx, map, &root, unknown) :
	    crw_rewrite(kind, map, &root, unknown)) != 0)
		goto done;
	if (emit_val(out, &root) != 0)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		out->len = had;
	tree_free(&root);
	return (rc);
}

int
cluster_rw_reply(enum cluster_rw_kind kind, const struct cluster_rw_map *map,
    const char *b, size_t n, struct cluster_rw_out *out, unsigned *unknown)
{
	return (reply_any(kind, NULL, map, b, n, out, unknown));
}

int
cluster_rw_reply_tx(const struct cluster_rw_tx *tx,
    const struct cluster_rw_map *map, const char *b, size_t n,
    struct cluster_rw_out *out, unsigned *unknown)
{
	return (reply_any(CLUSTER_RW_EXEC, tx, map, b, n, out, unknown));
}

enum cluster_rw_res
cluster_rw_feed(struct cluster_rw *rw, enum cluster_rw_kind kind,
    const struct cluster_rw_map *map, const char *b, size_t n, size_t *used,
    struct cluster_rw_out *out, unsigned *unknown)
{
	size_t	had = rw->pend.len, len = 0, max;
	int	r;

	max = rw->max ? rw->max : CLUSTER_RW_MAX;
	*used = n;
	if (out_put(&rw->pend, b, n) != 0)
		return (CLUSTER_RW_BAD);
	if ((r = cluster_rw_frame(rw->pend.buf, rw->pend.len, &len)) == 0)
		return (rw->pend.len > max ? CLUSTER_RW_BAD : CLUSTER_RW_MORE);
	if (r < 0 || len > max)
		return (CLUSTER_RW_BAD);
	if (reply_any(kind, rw->tx, map, rw->pend.buf, len, out,
	    unknown) != 0)
		return (CLUSTER_RW_BAD);
	*used = len - had;
	rw->pend.len = 0;
	return (CLUSTER_RW_DONE);
}

void
cluster_rw_clear(struct cluster_rw *rw)
{
	if (rw == NULL)
		return;
	cluster_rw_out_free(&rw->pend);
}

/* Helpers for cluster_rw_node.c. */

int
crw_str_is(const struct crw_val *v, const char *lit)
{
	size_t	len = strlen(lit);

	if (v->s == NULL || v->own != NULL || crw_is_agg(v))
		return (0);
	return (v->slen == len && strncasecmp(v->s, lit, len) == 0);
}

int
crw_set(struct crw_val *v, const char *s, size_t len)
{
	char	*p;

	if ((p = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(p, s, len);
	p[len] = '\0';
	free(v->own);
	v->own = p;
	v->slen = len;
	return (0);
}

int
crw_set_port(struct crw_val *v, long port)
{
	char	d[24];
	int	k;

	k = snprintf(d, sizeof(d), "%ld", port);
	return (crw_set(v, d, (size_t)k));
}

int
crw_long(const struct crw_val *v, long *out)
{
	long	x = 0;
	size_t	i;

	if (v->s == NULL || crw_is_agg(v) || v->slen == 0 || v->slen > 9)
		return (-1);
	for (i = 0; i < v->slen; i++) {
		if (v->s[i] < '0' || v->s[i] > '9')
			return (-1);
		x = x * 10 + (v->s[i] - '0');
	}
	*out = x;
	return (0);
}

int
crw_is_agg(const struct crw_val *v)
{
	return (is_agg_type(v->type));
}
