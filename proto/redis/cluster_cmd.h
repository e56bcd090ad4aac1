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
 *
 * Whether the server is in a transaction is known from its replies, not
 * from what the client sent: a refused MULTI (-ERR, -NOAUTH) starts
 * none, so what follows answers as itself; a refused command inside
 * one (-MOVED, -CROSSSLOT) is not queued; RESET ends one.  So the
 * queue holds each command's own kind and its place (MULTI, inside,
 * EXEC, DISCARD/RESET), and the pop decides with the reply's first
 * byte (cluster_cmd_pop_reply).
 */
#ifndef POSTERN_CLUSTER_CMD_H
#define POSTERN_CLUSTER_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "cluster_rw.h"

/* A command's place as the client sent it (cluster_cmd.c). */
enum cluster_cmd_place {
	CLUSTER_CMD_PLAIN,
	CLUSTER_CMD_MULTI,
	CLUSTER_CMD_IN_TX,	/* sent after a MULTI, before its end */
	CLUSTER_CMD_EXEC,
	CLUSTER_CMD_END		/* DISCARD or RESET: a transaction ends */
};

/* A run of commands with the same kind of reply and place. */
struct cluster_cmd_run {
	enum cluster_rw_kind	 kind;
	enum cluster_cmd_place	 place;
	uint32_t		 count;
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
	int			 multi;		/* the client sent MULTI */
	int			 srv_multi;	/* the server said OK to it */
	int			 tx_rw;		/* tx holds a kind not REDIRECT */
	struct cluster_rw_tx	*tx;		/* the kinds the server queued */
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
 * cluster_cmd_pop_reply(c, first, tx): the kind of the next reply, whose
 * first byte is first ('-': refused); for CLUSTER_RW_EXEC *tx is the
 * transaction's kinds, the caller's to free (cluster_rw_tx_free), else
 * NULL.  cluster_cmd_pop_tx(c, tx): the same for a reply that is no
 * error.
 */
enum cluster_rw_kind cluster_cmd_pop_reply(struct cluster_cmd *c, char first,
	    struct cluster_rw_tx **tx);
enum cluster_rw_kind cluster_cmd_pop_tx(struct cluster_cmd *c,
	    struct cluster_rw_tx **tx);

/* cluster_cmd_clear(c): free what c holds. */
void	cluster_cmd_clear(struct cluster_cmd *c);

#endif
