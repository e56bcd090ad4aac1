/*
 * session.h: one client connection and its upstream.
 *
 * (postgres: the startup phase comes first, in DIALING with s->pg set
 * and no dial yet: SSL/GSS requests answered 'N', the startup message
 * read; then the dial)
 *
 *            +--(connect failed: next usable route)--+
 *            v                                       |
 *   accept -> DIALING --(connected)--> RELAYING --(both directions done)--+
 *            |   ^                                                        |
 *   no usable|   |a route came up                                         |
 *   route    v   |                                                        |
 *           HOLDING --(hold_timeout: protocol error sent)--> CLOSED <-----+
 *
 * A relaying Redis session may change its server at a safe point and go
 * on relaying through another route (follow.h); a PostgreSQL one is
 * closed there instead (SESSION_END_SAFE).
 *
 * Every end goes through session_close(s, reason, detail): one log line
 * with age, bytes each way, route and reason; the memory is freed later
 * from the daemon's reap list, never inside a callback of the session's
 * own objects.
 */
#ifndef POSTERN_SESSION_H
#define POSTERN_SESSION_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdint.h>

#include <event2/util.h>

#include "relay.h"

struct cluster_sess;
struct conf_route;
struct dial;
struct event;
struct follow;
struct guard;
struct evbuffer;
struct pg_back;
struct pg_cancel_entry;
struct pg_front;
struct route;
struct service;

enum session_state {
	SESSION_DIALING,
	SESSION_HOLDING,	/* no usable route: waiting for one */
	SESSION_RELAYING,
	SESSION_CLOSED
};

/*
 * Has the server answered the session's first request?  That answer, not
 * the TCP connect, is a session's evidence about its route.
 */
enum session_answer {
	SESSION_ANSWER_NONE,	/* no request seen that needs one */
	SESSION_ANSWER_WAITING,	/* response_timeout running */
	SESSION_ANSWER_LATE,	/* timed out: reported as a failure */
	SESSION_ANSWER_DONE	/* the server's first byte came */
};

enum session_reason {
	SESSION_END_RELAY,	/* the relay finished: see relay.first_end */
	SESSION_END_NO_ROUTE,
	SESSION_END_ROUTE,	/* route marked down or disabled */
	SESSION_END_CLIENT,	/* before relaying: bad or no startup */
	SESSION_END_SHUTDOWN,	/* drain timeout at exit */
	SESSION_END_INTERNAL,	/* out of memory and the like */
	SESSION_END_SAFE,	/* closed at a safe point to leave its route */
	SESSION_END_IDLE	/* idle_timeout without a byte either way */
};

/*
 * Every connection holds one for its life: wide fields first, then the
 * 4-byte ones, flags in bytes, so that no padding is left (issue 27).
 */
struct session {
	TAILQ_ENTRY(session)	 entry;		/* live list, then reap list */
	/*
	 * A session is held (SESSION_HOLDING, before it dials) or waits
	 * for its first answer (relaying), never both: one place for the
	 * two list entries.
	 */
	union {
		TAILQ_ENTRY(session)	 hold_entry;	/* svc->held */
		TAILQ_ENTRY(session)	 answer_entry;	/* svc->answers */
	};
	uint64_t		 id;
	struct service		*svc;
	struct dial		*dial;
	struct route		*dialing;	/* the route being dialed */
	const struct conf_route	*cr;		/* what it dialed: its */
	size_t			 pos;		/* its place in svc->order */
	struct route		*route;		/* once connected */
	struct event		*hold_timer;
	struct pg_front		*pg;		/* postgres startup phase */
	struct evbuffer		*first;		/* client bytes read early */
	struct pg_back		*pgback;	/* pg_seek across reads */
	struct pg_cancel_entry	*cancel_key;	/* in the daemon's map */
	uint8_t			*pg_startup;	/* the StartupMessage, for */
	size_t			 pg_startup_len; /* a resume (follow.c) */
	int64_t			 start;		/* clock_ms at accept */
	int64_t			 wall_ms;	/* audit: wall clock at accept */
	long			 uid;		/* audit: the client's uid */
	int64_t			 answer_due_ms;	/* clock_ms: response_timeout */
	size_t			 headlen;
	struct follow		*follow;	/* redis, postgres: see follow.h */
	struct guard		*guard;		/* readonly = yes: guard.h */
	struct cluster_sess	*cluster;	/* cluster = yes: rewrites */
	uint64_t		 route_base[2];	/* relay bytes when route set */
	struct evbuffer		*last_words;	/* to the client at close */
	struct event		*idle_timer;	/* idle_timeout, if set */
	uint64_t		 idle_bytes;	/* relay bytes at the last tick */
	int64_t			 idle_since;	/* clock_ms they last changed */
	struct relay		 relay;		/* owns both ends once started */
	/* The server's address (tcp://, tls://), for DNS staleness. */
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}			 upaddr;	/* not a 128-byte storage */
	enum session_state	 state;
	enum session_answer	 answer;
	int			 client;	/* fd, until the relay has it */
	unsigned int		 epoch;		/* route's dial_cr, epoch */
	char			 peer[64];
	char			 request[32];	/* "GET", "startup": for logs */
	uint8_t			 head[48];	/* redis: first client bytes */
	uint8_t			 last_resort;	/* all down: trying anyway */
	uint8_t			 has_upaddr;
	uint8_t			 cancel;	/* relays a CancelRequest */
	uint8_t			 head_done;	/* first command looked at */
	uint8_t			 answer_due;	/* time it once it is whole */
	uint8_t			 pg_seek;	/* cancel key still to find */
	uint8_t			 tcp_client;	/* accepted over TCP */
};

/*
 * session_new(svc, fd, sa, len): adopt an accepted client fd and start
 * dialing.  On failure fd is closed and the reason logged.
 */
void	session_new(struct service *svc, int fd, struct sockaddr *sa,
	    socklen_t len);

/* session_wake(s): a held session dials again (a route came up). */
void	session_wake(struct session *s);

/*
 * session_close(s, reason, detail): end the session: log, stop I/O and
 * queue it for freeing.  Idempotent.
 */
void	session_close(struct session *s, int reason, const char *detail);

/*
 * session_close with s->client set (taken back from the relay) lingers on
 * it with s->last_words (may be NULL), which it takes.
 */

/*
 * session_route_moved(s, r): s's relay now runs through route r (a
 * move): counters and byte totals follow, s holds a reference to r.
 */
void	session_route_moved(struct session *s, struct route *r);

/*
 * session_set_upstream(s, sa): the server s now relays to is at sa
 * (copied; NULL: not known, as through a bastion).
 */
void	session_set_upstream(struct session *s, const struct sockaddr *sa);

/*
 * session_prefix(s, r, buf, len): "s7 redis 127.0.0.1:51234 -> private
 * 127.0.0.1:6380" (r may be NULL), the prefix of every line about s.
 */
const char *session_prefix(const struct session *s, const struct route *r,
	    char *buf, size_t len);

/*
 * session_reap_cb(fd, what, px): free the closed sessions on the
 * context's reap list (daemon_reap_soon makes it run, from a zero-timeout
 * event: never inside a session's own callback).
 */
void	session_reap_cb(evutil_socket_t fd, short what, void *px);

/* session_free(s): release everything; only from the reap list. */
void	session_free(struct session *s);

/*
 * sessions.c: operations on every live session of a route or a service
 * (the list is the context's: daemon_sessions).
 */
struct postern;

/*
 * sessions_close_route(px, r, why): close every live session that relays
 * through route r.
 */
void	sessions_close_route(struct postern *px, struct route *r,
	    const char *why);

/*
 * sessions_close_unfollowed(px, r, why): close the live sessions on route
 * r that do not follow their route (protocol tcp): the others leave it on
 * their own (follow.h).
 */
void	sessions_close_unfollowed(struct postern *px, struct route *r,
	    const char *why);

/*
 * sessions_follow_service(px, svc): svc's routing changed: every live
 * session of its name looks again whether to leave its route
 * (follow_update; the steps come later, from the loop).
 */
void	sessions_follow_service(struct postern *px, struct service *svc);

/*
 * sessions_follow_stale(px, r): r's name has a new answer: every session
 * on r whose server is not in it looks again (follow_update).
 */
void	sessions_follow_stale(struct postern *px, struct route *r);

/*
 * sessions_live_bytes(px, r, up, down): add the bytes relayed so far on r
 * by its sessions still open (closed ones are in r->bytes_up and
 * r->bytes_down), so that a byte counter grows as bytes move.
 */
void	sessions_live_bytes(struct postern *px, const struct route *r,
	    uint64_t *up, uint64_t *down);

#endif
