/*
 * relay.h: the byte pump between a client and an upstream bufferevent.
 *
 * Two directions, each finished on its own: EOF (or an error) on the
 * reading side is forwarded, once the other side's output is flushed, as
 * a write shutdown; the relay is done when both directions are.  Reading
 * stops while the other side's output is above RELAY_HIGH_WATER and
 * resumes when it drains below RELAY_LOW_WATER, so memory per session is
 * bounded whatever the peers' speeds.
 */
#ifndef POSTERN_RELAY_H
#define POSTERN_RELAY_H

#include <stdint.h>

struct bufferevent;

#define RELAY_HIGH_WATER	(256 * 1024)
#define RELAY_LOW_WATER		(64 * 1024)
#define RELAY_READ_CHUNK	(64 * 1024)

enum relay_end {
	RELAY_END_NONE,
	RELAY_END_CLIENT_EOF,	/* the client finished first */
	RELAY_END_SERVER_EOF,
	RELAY_END_CLIENT_ERROR,
	RELAY_END_SERVER_ERROR
};

#define RELAY_CLIENT	0
#define RELAY_SERVER	1

struct relay_side {
	struct bufferevent	*bev;
	int			 eof;		/* read side finished */
	int			 shut;		/* write side shut down */
	int			 dead;		/* error: no more I/O */
	uint64_t		 bytes;		/* read from this side */
};

struct relay;

/*
 * relay_done_cb(r, arg): both directions are finished (or neither can
 * make progress).  Called from inside a bufferevent callback: the callee
 * must not free the bufferevents there (defer it).
 */
typedef void relay_done_cb(struct relay *r, void *arg);

struct relay {
	struct relay_side	 side[2];	/* RELAY_CLIENT, RELAY_SERVER */
	int			 first_end;	/* enum relay_end */
	char			 error[128];	/* detail of the first error */
	int			 done;
	relay_done_cb		*cb;
	void			*arg;
};

/*
 * relay_start(r, client, server, cb, arg): take both bufferevents (the
 * relay sets their callbacks; they stay owned by the caller, who frees
 * them with relay_release) and start pumping.
 */
void	relay_start(struct relay *r, struct bufferevent *client,
	    struct bufferevent *server, relay_done_cb *cb, void *arg);

/*
 * relay_stop(r): stop all I/O and callbacks (used before freeing, and to
 * close a session early).
 */
void	relay_stop(struct relay *r);

/* relay_end_name(end): "client closed", "server closed", ... */
const char *relay_end_name(int end);

#endif
