/*
 * cluster_cmd.h: which of a client's commands get a reply that carries
 * node addresses.  Reads the client's RESP arrays (and inline commands)
 * as they come and queues, per command, the kind of reply the rewriter
 * should expect (cluster_rw.h); the server's replies pop them in order.
 * A pure codec like cluster_rw (no I/O, no proxy headers).
 *
 * Replies that answer no command (RESP3 pushes, the extra replies of
 * SUBSCRIBE) find an empty queue or a plain kind: they are only looked
 * at for -MOVED/-ASK.  Inside MULTI every command answers +QUEUED
 * (REDIRECT) and its kind is kept for the transaction: an EXEC whose
 * transaction queued a command with addresses in its reply pops
 * CLUSTER_RW_EXEC with those kinds, any other EXEC pops REDIRECT (Redis
 * answers a redirect for the whole EXEC, never per element; see
 * DESIGN.md, Redis Cluster).
 */
#ifndef POSTERN_CLUSTER_CMD_H
#define POSTERN_CLUSTER_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "cluster_rw.h"

/* A run of commands with the same kind of reply (an EXEC: alone). */
struct cluster_cmd_run {
	enum cluster_rw_kind	 kind;
	uint32_t		 count;
	struct cluster_rw_tx	*tx;		/* kind EXEC: its own */
};

/* Zeroed to start; cluster_cmd_clear after. */
struct cluster_cmd {
	int			 state;
	int			 inline_cmd;	/* a line, not an array */
	long long		 args;		/* array elements left */
	long long		 left;		/* bulk bytes and CRLF left */
	long long		 num;
	int			 argi;		/* the element being read */
	char			 word[2][16];	/* its first two, cut */
	size_t			 wlen[2];
	struct cluster_cmd_run	*runs;		/* a ring */
	size_t			 head, len, cap;
	int			 multi;		/* after MULTI, before EXEC */
	int			 tx_rw;		/* tx holds a kind not REDIRECT */
	struct cluster_rw_tx	*tx;		/* the transaction's kinds */
};

/*
 * cluster_cmd_feed(c, b, n): n more bytes the client sent.  0, or -1
 * when out of memory (a queued kind may then be lost: the caller stops
 * rewriting).
 */
int	cluster_cmd_feed(struct cluster_cmd *c, const char *b, size_t n);

/* cluster_cmd_pop(c): the kind of the next reply (REDIRECT if none). */
enum cluster_rw_kind cluster_cmd_pop(struct cluster_cmd *c);

/*
 * cluster_cmd_pop_tx(c, tx): cluster_cmd_pop; for CLUSTER_RW_EXEC *tx
 * is the transaction's kinds, the caller's to free
 * (cluster_rw_tx_free), else NULL.
 */
enum cluster_rw_kind cluster_cmd_pop_tx(struct cluster_cmd *c,
	    struct cluster_rw_tx **tx);

/* cluster_cmd_clear(c): free what c holds. */
void	cluster_cmd_clear(struct cluster_cmd *c);

#endif
