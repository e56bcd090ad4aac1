/*
 * cluster_sess.c: a session's replies with cluster addresses rewritten
 * (cluster_sess.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cluster.h"
#include "cluster_cmd.h"
#include "cluster_rw.h"
#include "cluster_sess.h"
#include "log.h"

struct cluster_sess {
	struct cluster		*c;
	struct cluster_cmd	 cmd;
	struct cluster_rw	 rw;
	struct cluster_rw_skip	 skip;
	struct cluster_rw_out	 out;
	enum cluster_rw_kind	 kind;
	struct cluster_rw_tx	*tx;		/* kind EXEC: its kinds */
	int			 in_reply;	/* a reply has started */
	int			 hold;		/* it is held and rewritten */
	int			 dead;		/* pass everything unchanged */
	char			 prefix[192];
};

struct cluster_sess *
cluster_sess_new(struct cluster *c, const char *prefix)
{
	struct cluster_sess	*cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return (NULL);
	cs->c = cluster_ref(c);
	snprintf(cs->prefix, sizeof(cs->prefix), "%s", prefix);
	return (cs);
}

void
cluster_sess_free(struct cluster_sess *cs)
{
	if (cs == NULL)
		return;
	cluster_cmd_clear(&cs->cmd);
	cluster_rw_clear(&cs->rw);
	cluster_rw_tx_free(cs->tx);
	cluster_rw_out_free(&cs->out);
	cluster_unref(cs->c);
	free(cs);
}

static void
cluster_sess_stop(struct cluster_sess *cs, const char *why)
{
	log_warnx("%s: cluster: %s: replies pass unchanged from here on",
	    cs->prefix, why);
	cs->dead = 1;
}

void
cluster_sess_client(struct cluster_sess *cs, const uint8_t *buf, size_t len)
{
	if (!cs->dead && cluster_cmd_feed(&cs->cmd, (const char *)buf,
	    len) != 0)
		cluster_sess_stop(cs, "out of memory");
}

/* A held reply ended: its rewrite is in cs->out. */
static void
cluster_sess_done(struct cluster_sess *cs, struct evbuffer *out,
    unsigned unknown, char first)
{
	evbuffer_add(out, cs->out.buf, cs->out.len);
	if (first == '-' && cs->out.len > 5 && (memcmp(cs->out.buf, "-ASK ",
	    5) == 0 || memcmp(cs->out.buf, "-MOVED ", 7) == 0))
		cluster_redirected(cs->c, cs->out.buf[1] == 'A');
	cs->out.len = 0;
	cs->in_reply = 0;
	if (unknown > 0)
		cluster_unknown(cs->c, unknown, cs->prefix);
	else if (first == '-')
		cluster_refresh(cs->c);	/* a redirect: slots moved */
}

/*
 * The reply bytes b[0..n): how many belong to the current reply.  *pass:
 * they go on unchanged (the caller moves them), else the rewriter took
 * them (held; what it makes of them is added to out when it ends).
 */
static size_t
cluster_sess_step(struct cluster_sess *cs, const char *b, size_t n,
    struct evbuffer *out, int *pass)
{
	enum cluster_rw_res	 r;
	size_t			 used = n;
	unsigned		 unknown = 0;
	char			 first;
	int			 k;

	if (!cs->in_reply) {
		cluster_rw_tx_free(cs->tx);
		cs->kind = cluster_cmd_pop_reply(&cs->cmd, b[0], &cs->tx);
		cs->rw.tx = cs->tx;
		cs->hold = cs->kind != CLUSTER_RW_REDIRECT || b[0] == '-';
		cs->in_reply = 1;
	}
	*pass = !cs->hold;
	if (!cs->hold) {
		if ((k = cluster_rw_skip_feed(&cs->skip, b, n, &used)) < 0)
			cluster_sess_stop(cs, "reply nests too deep");
		if (k != 0)
			cs->in_reply = 0;
		return (used);
	}
	first = cs->rw.pend.len > 0 ? cs->rw.pend.buf[0] : b[0];
	r = cluster_rw_feed(&cs->rw, cs->kind, cluster_map(cs->c), b, n,
	    &used, &cs->out, &unknown);
	switch (r) {
	case CLUSTER_RW_MORE:
		break;
	case CLUSTER_RW_DONE:
		cluster_sess_done(cs, out, unknown, first);
		break;
	case CLUSTER_RW_BAD:
		evbuffer_add(out, cs->rw.pend.buf, cs->rw.pend.len);
		cs->rw.pend.len = 0;
		cluster_sess_stop(cs, "a reply it cannot read (malformed, "
		    "or larger than it holds)");
		break;
	}
	return (used);
}

/*
 * Chain by chain, never made contiguous: a reply that carries no address
 * is only followed (its framing) and moved on, its bulk payload not
 * read, whole chains moved without a copy.
 */
void
cluster_sess_server(void *arg, struct evbuffer *in, struct evbuffer *out)
{
	struct cluster_sess	*cs = arg;
	struct evbuffer_iovec	 v;
	size_t			 used;
	int			 pass;

	while (!cs->dead && evbuffer_peek(in, -1, NULL, &v, 1) > 0 &&
	    v.iov_len > 0) {
		used = cluster_sess_step(cs, v.iov_base, v.iov_len, out,
		    &pass);
		if (pass)
			evbuffer_remove_buffer(in, out, used);
		else
			evbuffer_drain(in, used);
		if (used == 0)		/* a broken invariant: never spin */
			cluster_sess_stop(cs, "no progress in a reply");
	}
	evbuffer_add_buffer(out, in);	/* what is left passes unchanged */
}
