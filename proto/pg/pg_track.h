/*
 * pg_track.h: a PostgreSQL session's messages, followed as they pass (a
 * 5-byte header each way, and a few bodies looked into: ReadyForQuery's
 * status byte, the first bytes of CommandComplete's tag, and a short
 * simple query's text for LISTEN and UNLISTEN, pg_listen.h) to know when
 * the session is idle: not in a transaction, not in COPY, no query or
 * extended-protocol batch pending.  There it can be closed the way a
 * server restart closes it (FATAL 57P01), and its pool reconnects.
 *
 * Pure: no allocation, no I/O; copies no message but the first bytes of
 * a simple query sent alone (PG_LISTEN_QMAX, into a fixed buffer).
 */
#ifndef POSTERN_PG_TRACK_H
#define POSTERN_PG_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "pg_listen.h"

struct pg_state;

/* A message longer than this is not PostgreSQL's (1 GB, its own cap). */
#define PG_TRACK_MAX_LEN	(1U << 30)

/* One direction's framing. */
struct pg_frame {
	uint8_t		 hdr[5];	/* type, length */
	size_t		 hlen;
	uint32_t	 left;		/* body bytes still to pass */
	uint32_t	 off;		/* body bytes passed */
};

enum pg_safe {
	PG_BUSY,		/* wait for ReadyForQuery 'I' */
	PG_SAFE,		/* idle: may be closed now */
	PG_LISTENING,		/* idle, but LISTENs: only at a deadline */
	PG_LOST			/* not followed: never safe */
};

struct pg_track {
	struct pg_frame	 c, s;		/* client, server */
	uint64_t	 syncs;		/* ReadyForQuery still due */
	struct pg_listen listen;	/* LISTENs: pg_listen.h */
	const char	*lost;		/* why; NULL: followed */
	struct pg_state	*st;		/* resume's state (pg_state.h), or NULL */
	char		 tag[12];	/* CommandComplete, first bytes */
	/* Small ones in bytes, last: every session holds one (issue 27). */
	uint8_t		 taglen;
	uint8_t		 status;	/* last ReadyForQuery: I, T, E; 0 */
	uint8_t		 last;		/* the server's last message type */
	uint8_t		 bye;		/* the client sent Terminate */
	uint8_t		 copy;		/* COPY in progress */
	uint8_t		 batch;		/* extended messages since Sync */
};

/* pg_track_init(t): for a session whose startup packet went first. */
void	pg_track_init(struct pg_track *t);

/* pg_track_clear(t): free what t holds (pg_listen_clear). */
void	pg_track_clear(struct pg_track *t);

/* pg_track_client(t, buf, len): bytes the client sent, as read. */
void	pg_track_client(struct pg_track *t, const uint8_t *buf, size_t len);

/* pg_track_server(t, buf, len): bytes the server sent, as read. */
void	pg_track_server(struct pg_track *t, const uint8_t *buf, size_t len);

/* pg_track_safe(t): may the session be closed now? */
enum pg_safe pg_track_safe(const struct pg_track *t);

/* pg_track_why(t): a short reason for logs. */
const char *pg_track_why(const struct pg_track *t);

#endif
