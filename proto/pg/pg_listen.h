/*
 * pg_listen.h: which channels a PostgreSQL session LISTENs on, followed
 * for pg_track.c, so that a session that ran UNLISTEN * (or DISCARD ALL,
 * or UNLISTEN of each channel it listened on) is an ordinary idle session
 * again, one that may be closed at its next safe point.
 *
 * The server's CommandComplete tag says that a LISTEN or UNLISTEN ran,
 * not on what: that is in the query.  A simple query ('Q') sent alone
 * (nothing else in flight) and short enough is kept in a fixed buffer
 * and parsed when it ends: one LISTEN, UNLISTEN or DISCARD ALL statement
 * and its channel name, kept as a hash in a small fixed set.  Whatever
 * is not understood (several statements, comments, the extended
 * protocol, a set that is full) counts as "listening, on what we cannot
 * tell", which only UNLISTEN * or DISCARD ALL ends.  An UNLISTEN takes
 * effect only when it ran outside a transaction block, was not followed
 * by an error, and the server is idle again.
 *
 * Pure: no I/O.  The query buffer is allocated while a query that may be
 * one of those is read, the channel set from the first LISTEN until none
 * is left: a session that never listens holds neither (issue 27).  Out
 * of memory, it counts as "listening, on what we cannot tell", never the
 * unsafe way.
 */
#ifndef POSTERN_PG_LISTEN_H
#define POSTERN_PG_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#define PG_LISTEN_QMAX	96	/* a query body parsed, at most */
#define PG_LISTEN_SET	8	/* channels known by name */

/* What the lone simple query in flight is. */
enum pg_stmt {
	PG_STMT_UNKNOWN,	/* not parsed: anything */
	PG_STMT_LISTEN,		/* LISTEN name */
	PG_STMT_UNLISTEN,	/* UNLISTEN name */
	PG_STMT_UNLISTEN_ALL,	/* UNLISTEN * */
	PG_STMT_DISCARD_ALL	/* DISCARD ALL */
};

struct pg_listen {
	uint8_t		*q;		/* PG_LISTEN_QMAX: the query, as it came */
	uint64_t	*chan;		/* PG_LISTEN_SET channel hashes */
	uint64_t	 qhash;		/* its channel name's hash */
	enum pg_stmt	 stmt;
	enum pg_stmt	 effect;	/* an UNLISTEN done, due at 'Z' 'I' */
	/* Small ones in bytes: every PostgreSQL session holds one. */
	uint8_t		 qlen;		/* at most PG_LISTEN_QMAX */
	uint8_t		 nchan;		/* at most PG_LISTEN_SET */
	uint8_t		 capture;	/* q is being filled */
	uint8_t		 qidle;		/* sent outside a transaction */
	uint8_t		 unknown;	/* LISTENs on channels not known */
};

/*
 * pg_listen_query(l, len, alone, idle): a 'Q' of len body bytes starts;
 * alone: nothing else is in flight; idle: no transaction is open.
 */
void	pg_listen_query(struct pg_listen *l, uint32_t len, int alone,
	    int idle);

/* pg_listen_text(l, p, n): body bytes of that query. */
void	pg_listen_text(struct pg_listen *l, const uint8_t *p, size_t n);

/* pg_listen_query_end(l): the query ended: parse it. */
void	pg_listen_query_end(struct pg_listen *l);

/* pg_listen_other(l): another query or batch was sent meanwhile. */
void	pg_listen_other(struct pg_listen *l);

/* pg_listen_tag(l, tag): the server's CommandComplete tag. */
void	pg_listen_tag(struct pg_listen *l, const char *tag);

/* pg_listen_error(l): the server's ErrorResponse. */
void	pg_listen_error(struct pg_listen *l);

/* pg_listen_ready(l, status): ReadyForQuery with its status byte. */
void	pg_listen_ready(struct pg_listen *l, uint8_t status);

/* pg_listen_on(l): may the session be listening? */
int	pg_listen_on(const struct pg_listen *l);

/* pg_listen_clear(l): free what l holds (it may be used again). */
void	pg_listen_clear(struct pg_listen *l);

#endif
