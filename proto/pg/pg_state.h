/*
 * pg_state.h: what a PostgreSQL session's resume needs to know, followed
 * as the session's messages pass (pg_track.c hands it the messages it
 * frames): how the client logged in (its SCRAM messages, for the
 * pass-through, scram_client_key), the ParameterStatus values the client
 * has seen, and the session state that can be replayed on a new server:
 * SET/RESET (simple and extended protocol, once committed) and named
 * prepared statements (Parse/Close/DEALLOCATE), in the order they were
 * made.  Whatever may have made state it cannot replay (temporary
 * tables, advisory locks, WITH HOLD cursors, SQL PREPARE, LOAD, a SET it
 * cannot pair with its text, ...) marks the session not resumable, for
 * good, with a reason (DESIGN.md, "Resume (PostgreSQL)").
 *
 * No I/O.  It copies only the messages it reads (bounded) and keeps
 * what it records on the heap; pg_state_free() wipes it all.
 */
#ifndef POSTERN_PGSTATE_H
#define POSTERN_PGSTATE_H

#include <stddef.h>
#include <stdint.h>

#include <sys/queue.h>

#include "pg_sql.h"

struct evbuffer;

#define PG_STATE_CLIENT		0
#define PG_STATE_SERVER		1

#define PG_STATE_NPARAMS		8	/* pg_state_param_names */
#define PG_STATE_VALUE_MAX	64
#define PG_STATE_FIFO		128	/* client messages awaiting answers */
#define PG_STATE_MAX_BYTES	(256 * 1024)	/* recorded, in all */
#define PG_STATE_MAX_ITEMS	1024
#define PG_STATE_SCRAM_MAX	2048	/* a SCRAM message kept */

enum pg_state_login {
	PG_STATE_LOGIN_NONE,	/* not yet */
	PG_STATE_LOGIN_TRUST,	/* no password asked */
	PG_STATE_LOGIN_SCRAM,	/* SCRAM-SHA-256, the messages kept */
	PG_STATE_LOGIN_MD5,
	PG_STATE_LOGIN_PASSWORD,	/* cleartext */
	PG_STATE_LOGIN_OTHER	/* something a resume cannot repeat */
};

enum pg_state_kind {
	PG_STATE_SET,		/* a SET or RESET: replayed as a query */
	PG_STATE_PARSE		/* a named Parse: replayed as it was */
};

struct pg_state_item {
	TAILQ_ENTRY(pg_state_item) entry;
	enum pg_state_kind	 kind;
	int			 reset_all;	/* pending RESET ALL */
	size_t			 len;
	uint8_t			 data[];	/* query text; Parse body */
};
TAILQ_HEAD(pg_state_items, pg_state_item);

/* A message being read from one side. */
struct pg_state_msg {
	uint8_t		 type;
	int		 want;		/* collect its body */
	uint32_t	 len;		/* body length */
	uint8_t		*buf;		/* the first bytes of the body */
	size_t		 blen, bcap, bmax;
	const uint8_t	*direct;	/* a whole body in place */
	struct pg_sql_scan scan;		/* the keyword scan (client) */
};

/* A client message waiting for its answer. */
struct pg_state_op {
	uint8_t			 op;	/* P, C (close), E, S, Q, F */
	struct pg_state_item	*text;	/* owned: a copy, or NULL */
	int			 stmt;	/* C: a statement, not a portal */
	int			 toolong; /* P: named, too long to keep */
	int			 err;	/* Q: an ErrorResponse came */
};

struct pg_state {
	struct pg_state_msg	 m[2];		/* PG_STATE_CLIENT, _SERVER */
	int			 ready;		/* the startup ended */
	enum pg_state_login	 login;
	uint32_t		 auth;		/* last Authentication code */
	char			*scram[3];	/* client-first, server-first, */
	size_t			 scram_len[3];	/* client-final: wiped */
	int			 scram_ok;	/* SASLFinal came */
	char			 param[PG_STATE_NPARAMS][PG_STATE_VALUE_MAX];
	uint8_t			 have[PG_STATE_NPARAMS];
	struct pg_state_items	 items;		/* replayed, in order */
	struct pg_state_items	 pending;	/* SETs until committed */
	size_t			 nitems, bytes;
	struct pg_state_item	*unnamed;	/* the unnamed statement's */
						/* text, when a SET & co */
	struct pg_state_op	 fifo[PG_STATE_FIFO];
	size_t			 head, nops;
	int			 txerr, txrollback, txsavepoint;
	uint64_t		 gen;		/* what a resume replays */
	const char		*why;		/* not resumable: why */
};

extern const char *const pg_state_param_names[PG_STATE_NPARAMS];

/*
 * pg_state_types[dir][type]: 1 for the message types pg_state reads; a
 * whole message of another type need not be handed to pg_state_msg().
 */
extern const uint8_t pg_state_types[2][256];

/* pg_state_init(st): for a session whose StartupMessage went first. */
void	pg_state_init(struct pg_state *st);

/* pg_state_free(st): wipe and free what st holds (not st itself). */
void	pg_state_free(struct pg_state *st);

/*
 * pg_state_begin(st, dir, type, len), pg_state_body(st, dir, p, n),
 * pg_state_end(st, dir): one message from side dir, its body in any
 * pieces.  pg_state_msg(): a whole one at once (nothing copied).
 */
void	pg_state_begin(struct pg_state *st, int dir, uint8_t type, uint32_t len);
void	pg_state_body(struct pg_state *st, int dir, const uint8_t *p, size_t n);
void	pg_state_end(struct pg_state *st, int dir);
void	pg_state_msg(struct pg_state *st, int dir, uint8_t type,
	    const uint8_t *body, uint32_t len);

/* pg_state_why(st): why st's session cannot be resumed, NULL if it can. */
const char *pg_state_why(const struct pg_state *st);

/*
 * pg_state_replay(st, out, names, nlen): the messages that rebuild the
 * state on a new server: a query per SET, each Parse then a Sync.
 * Returns how many ReadyForQuery they get back; a summary for the log
 * in names ("2 SET, 3 prepared").
 */
int	pg_state_replay(const struct pg_state *st, struct evbuffer *out,
	    char *names, size_t nlen);

/* pg_state_param(st, name): a parameter's value as the client saw it. */
const char *pg_state_param(const struct pg_state *st, size_t i);

/* pg_state_scram_wipe(st): forget the SCRAM messages (after use). */
void	pg_state_scram_wipe(struct pg_state *st);

#endif
