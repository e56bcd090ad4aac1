/*
 * cluster_rw.h: the rewriter of Redis Cluster replies that carry node
 * addresses.  A cluster node answers with the addresses it knows its
 * peers by (-MOVED 3999 10.0.3.7:6379, CLUSTER SLOTS, CLUSTER SHARDS,
 * CLUSTER NODES); a client behind postern cannot reach those, so every
 * address becomes the local listener postern opened for that node.
 *
 * A pure codec over bytes: no I/O, no proxy headers, no libevent (it is
 * to move to proto/), fuzzed (tests/fuzz/fuzz_cluster_rw.c).  The caller
 * names what the reply answers (the request tracker knows), the codec
 * buffers one reply until it is complete, then appends the rewritten
 * reply with its framing recomputed: the output does not depend on how
 * the input was split.  Replies to other commands are not given to it
 * (a -MOVED or -ASK error can answer any key command: CLUSTER_RW_REDIRECT).
 */
#ifndef POSTERN_CLUSTER_RW_H
#define POSTERN_CLUSTER_RW_H

#include <stddef.h>

/* What the reply answers; every kind also rewrites -MOVED / -ASK. */
enum cluster_rw_kind {
	CLUSTER_RW_REDIRECT,	/* any command: only -MOVED / -ASK change */
	CLUSTER_RW_SLOTS,	/* CLUSTER SLOTS */
	CLUSTER_RW_SHARDS,	/* CLUSTER SHARDS */
	CLUSTER_RW_NODES,	/* CLUSTER NODES / REPLICAS / SLAVES text */
	CLUSTER_RW_ROLE,	/* ROLE */
	CLUSTER_RW_INFO,	/* INFO: its replication lines */
	CLUSTER_RW_EXEC		/* EXEC: each element as its command's */
};

/*
 * The kinds of the commands a transaction queued, in order: element i
 * of EXEC's array answers kinds[i] (REDIRECT past n).  Made by
 * cluster_cmd (cluster_cmd.h); cluster_rw_tx_free(tx) frees it (NULL:
 * no-op).
 */
struct cluster_rw_tx {
	enum cluster_rw_kind	*kinds;
	size_t			 n;
	size_t			 cap;
};

void	cluster_rw_tx_free(struct cluster_rw_tx *tx);

/* What a reply says about one node; strings are not terminated. */
struct cluster_rw_node {
	const char	*id;		/* 40 hex, or idlen 0 (MOVED, ASK) */
	size_t		 idlen;
	const char	*endpoint;	/* as announced: ip, hostname, "" or "?" */
	size_t		 endpointlen;
	const char	*ip;		/* where the reply has one apart */
	size_t		 iplen;
	long		 port;		/* client port (tls-port if only that) */
};

/*
 * The map: lookup(arg, node) returns the local port of that node's
 * listener, or -1 when postern has none (the address is then left as the
 * server wrote it and counted in *unknown).  host is the local address
 * the listeners are on, written in place of every endpoint, ip and
 * hostname.
 */
struct cluster_rw_map {
	const char	*host;
	int		(*lookup)(void *arg, const struct cluster_rw_node *node);
	void		*arg;
};

/* A growable output buffer; zeroed to start, cluster_rw_out_free after. */
struct cluster_rw_out {
	char		*buf;
	size_t		 len;
	size_t		 cap;
};

/* cluster_rw_out_free(o): free o's bytes (o itself is the caller's). */
void	cluster_rw_out_free(struct cluster_rw_out *o);

/*
 * cluster_rw_frame(b, n, len): is b[0..n) the start of one complete
 * RESP2/RESP3 reply?  1 with its length in *len, 0 when more bytes are
 * needed, -1 when the framing is malformed or nests deeper than the codec
 * follows.  No allocation.
 */
int	cluster_rw_frame(const char *b, size_t n, size_t *len);

/*
 * cluster_rw_reply(kind, map, b, n, out, unknown): append to out the
 * rewrite of the one complete reply b[0..n) (as cluster_rw_frame found
 * it); *unknown counts the nodes the map did not know.  0, or -1 on a
 * malformed reply or no memory (out is then unchanged).
 */
int	cluster_rw_reply(enum cluster_rw_kind kind,
	    const struct cluster_rw_map *map, const char *b, size_t n,
	    struct cluster_rw_out *out, unsigned *unknown);

/*
 * cluster_rw_reply_tx(tx, map, b, n, out, unknown): cluster_rw_reply of
 * an EXEC reply whose transaction queued tx (NULL: every element as
 * CLUSTER_RW_REDIRECT).  A null or error reply (WATCH, EXECABORT) is
 * read as any other.
 */
int	cluster_rw_reply_tx(const struct cluster_rw_tx *tx,
	    const struct cluster_rw_map *map, const char *b, size_t n,
	    struct cluster_rw_out *out, unsigned *unknown);

/* The streaming state: zeroed to start, cluster_rw_clear after. */
struct cluster_rw {
	struct cluster_rw_out	 pend;	/* the reply read so far */
	size_t			 max;	/* its cap; 0: CLUSTER_RW_MAX */
	const struct cluster_rw_tx *tx;	/* kind EXEC: the caller's */
};

#define CLUSTER_RW_MAX	(8u << 20)	/* CLUSTER NODES of ~40000 nodes */

enum cluster_rw_res {
	CLUSTER_RW_MORE,	/* all n bytes taken, the reply goes on */
	CLUSTER_RW_DONE,	/* the reply ended: *used bytes taken */
	CLUSTER_RW_BAD,		/* malformed, too big or no memory */
};

/*
 * cluster_rw_feed(rw, kind, map, b, n, used, out, unknown): take the
 * next bytes of the reply being read.  On CLUSTER_RW_DONE the rewritten
 * reply was appended to out, *used tells how many of the n bytes it
 * took (the rest start the next reply) and rw is ready for the next one.
 * On CLUSTER_RW_BAD nothing was appended; the bytes held so far are in
 * rw->pend (the caller passes them through unchanged, reports, and stops
 * rewriting that stream) and *used is n.
 */
enum cluster_rw_res cluster_rw_feed(struct cluster_rw *rw,
	    enum cluster_rw_kind kind, const struct cluster_rw_map *map,
	    const char *b, size_t n, size_t *used,
	    struct cluster_rw_out *out, unsigned *unknown);

/*
 * Following a reply that is not rewritten, without holding it: zeroed
 * at a reply's start.  The framing is followed, not judged.
 */
struct cluster_rw_skip {
	int		 state;
	char		 type;
	int		 neg;
	long long	 num;		/* the header's number */
	long long	 left;		/* bulk bytes and CRLF left */
	int		 depth;
	long long	 rem[16];	/* values left per open aggregate */
};

/*
 * cluster_rw_skip_feed(k, b, n, used): follow n more bytes of a reply.
 * 1 when it ended after *used bytes (k is zeroed for the next one), 0
 * when all n were taken, -1 when it nests deeper than followed (the
 * caller stops rewriting that stream).
 */
int	cluster_rw_skip_feed(struct cluster_rw_skip *k, const char *b,
	    size_t n, size_t *used);

/* cluster_rw_clear(rw): drop what rw held. */
void	cluster_rw_clear(struct cluster_rw *rw);

#endif
