/*
 * cluster_sess.h: one session's part of cluster = yes.  The client's
 * commands say what each reply answers (cluster_cmd.h); replies to
 * CLUSTER SLOTS/SHARDS/NODES/REPLICAS/SLAVES and every '-' error are
 * held whole and rewritten (cluster_rw.h) with the cluster's node map,
 * any other reply passes as it comes (cluster_rw_skip_feed).  A reply the
 * rewriter refuses passes unchanged and ends rewriting for the session,
 * logged; a node the map does not know is logged and asks for a
 * topology refresh.
 */
#ifndef POSTERN_CLUSTER_SESS_H
#define POSTERN_CLUSTER_SESS_H

#include <stddef.h>
#include <stdint.h>

struct cluster;
struct cluster_sess;
struct evbuffer;

/*
 * cluster_sess_new(c, prefix): a session's state, holding a reference to
 * c; prefix (the session's log prefix) is copied.  NULL when out of
 * memory.  cluster_sess_free(cs) frees it (NULL: no-op).
 */
struct cluster_sess *cluster_sess_new(struct cluster *c, const char *prefix);
void	cluster_sess_free(struct cluster_sess *cs);

/* cluster_sess_client(cs, buf, len): bytes the client sent, as read. */
void	cluster_sess_client(struct cluster_sess *cs, const uint8_t *buf,
	    size_t len);

/*
 * cluster_sess_server(arg, in, out): a relay_rewrite_cb (relay.h): the
 * server's bytes in `in`, moved to out with addresses rewritten.
 */
void	cluster_sess_server(void *arg, struct evbuffer *in,
	    struct evbuffer *out);

#endif
