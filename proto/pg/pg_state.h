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
 * what it records on the heap; pgstate_free() wipes it all.
 */
#ifndef POSTERN_PGSTATE_H
#define POSTERN_PGSTATE_H

#include <stddef.h>
#include <stdint.h>

#include <sys/queue.h>

#include "pg_sql.h"

struct evbuffer;

#define PGSTATE_CLIENT		0
#define PGSTATE_SERVER		1

#define PGSTATE_NPARAMS		8	/* pgstate_param_names */
#define PGSTATE_VALUE_MAX	64
#define PGSTATE_FIFO		128	/* client messages awaiting answers */
#define PGSTATE_MAX_BYTES	(256 * 1024)	/* recorded, in all */
#define PGSTATE_MAX_ITEMS	1024
#define PGSTATE_SCRAM_MAX	2048	/* a SCRAM message kept */

enum pgstate_login {
	PGSTATE_LOGIN_NONE,	/* not yet */
	PGSTATE_LOGIN_TRUST,	/* no password asked */
	PGSTATE_LOGIN_SCRAM,	/* SCRAM-SHA-256, the messages kept */
	PGSTATE_LOGIN_MD5,
	PGSTATE_LOGIN_PASSWORD,	/* cleartext */
	PGSTATE_LOGIN_OTHER	/* something a resume cannot repeat */
};

enum pgstate_kind {
	PGSTATE_SET,		/* a SET or RESET: replayed as a query */
	PGSTATE_PARSE		/* a named Parse: replayed as it was */
};

struct pgstate_item {
	TAILQ_ENTRY(pgstate_item) entry;
	enum pgstate_kind	 kind;
	int			 reset_all;	/* pending RESET ALL */
	size_t			 len;
	uint8_t			 data[];	/* query text; Parse body */
};
TAILQ_HEAD(pgstate_items, pgstate_item);

/* A message being read from one side. */
struct pgstate_msg {
	uint8_t		 type;
	int		 want;		/* collect its body */
	uint32_t	 len;		/* body length */
	uint8_t		*buf;		/* the first bytes of the body */
	size_t		 blen, bcap, bmax;
	const uint8_t	*direct;	/* a whole body in place */
	struct pgsql_scan scan;		/* the keyword scan (client) */
};

/* A client message waiting for its answer. */
struct pgstate_op {
	uint8_t			 op;	/* P, C (close), E, S, Q, F */
	struct pgstate_item	*text;	/* owned: a copy, or NULL */
	int			 stmt;	/* C: a statement, not a portal */
	int			 toolong; /* P: named, too long to keep */
	int			 err;	/* Q: an ErrorResponse came */
};

struct pgstate {
	struct pgstate_msg	 m[2];		/* PGSTATE_CLIENT, _SERVER */
	int			 ready;		/* the startup ended */
	enum pgstate_login	 login;
	uint32_t		 auth;		/* last Authentication code */
	char			*scram[3];	/* client-first, server-first, */
	size_t			 scram_len[3];	/* client-final: wiped */
	int			 scram_ok;	/* SASLFinal came */
	char			 param[PGSTATE_NPARAMS][PGSTATE_VALUE_MAX];
	uint8_t			 have[PGSTATE_NPARAMS];
	struct pgstate_items	 items;		/* replayed, in order */
	struct pgstate_items	 pending;	/* SETs until committed */
	size_t			 nitems, bytes;
	struct pgstate_item	*unnamed;	/* the unnamed statement's */
						/* text, when a SET & co */
	struct pgstate_op	 fifo[PGSTATE_FIFO];
	size_t			 head, nops;
	int			 txerr, txrollback, txsavepoint;
	uint64_t		 gen;		/* what a resume replays */
	const char		*why;		/* not resumable: why */
};

extern const char *const pgstate_param_names[PGSTATE_NPARAMS];

/*
 * pgstate_types[dir][type]: 1 for the message types pgstate reads; a
 * whole message of another type need not be handed to pgstate_msg().
 */
extern const uint8_t pgstate_types[2][256];

/* pgstate_init(st): for a session whose StartupMessage went first. */
void	pgstate_init(struct pgstate *st);

/* pgstate_free(st): wipe and free what st holds (not st itself). */
void	pgstate_free(struct pgstate *st);

/*
 * pgstate_begin(st, dir, type, len), pgstate_body(st, dir, p, n),
 * pgstate_end(st, dir): one message from side dir, its body in any
 * pieces.  pgstate_msg(): a whole one at once (nothing copied).
 */
void	pgstate_begin(struct pgstate *st, int dir, uint8_t type, uint32_t len);
void	pgstate_body(struct pgstate *st, int dir, const uint8_t *p, size_t n);
void	pgstate_end(struct pgstate *st, int dir);
void	pgstate_msg(struct pgstate *st, int dir, uint8_t type,
	    const uint8_t *body, uint32_t len);

/* pgstate_why(st): why st's session cannot be resumed, NULL if it can. */
const char *pgstate_why(const struct pgstate *st);

/*
 * pgstate_replay(st, out, names, nlen): the messages that rebuild the
 * state on a new server: a query per SET, each Parse then a Sync.
 * Returns how many ReadyForQuery they get back; a summary for the log
 * in names ("2 SET, 3 prepared").
 */
int	pgstate_replay(const struct pgstate *st, struct evbuffer *out,
	    char *names, size_t nlen);

/* pgstate_param(st, name): a parameter's value as the client saw it. */
const char *pgstate_param(const struct pgstate *st, size_t i);

/* pgstate_scram_wipe(st): forget the SCRAM messages (after use). */
void	pgstate_scram_wipe(struct pgstate *st);

#endif
