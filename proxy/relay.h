/*
 * relay.h: the byte pump between a client socket and an upstream.
 *
 * Two directions, each finished on its own: EOF (or an error) on the
 * reading side is forwarded, once the other side's pending output is
 * flushed, as a write shutdown; a direction whose writing side fails
 * (reset, broken pipe, SSH channel closed) is finished at once, and what
 * its reading side still sends is read and dropped.  The relay is done
 * when both directions are.  Reading stops while the other side's
 * pending output is above RELAY_HIGH_WATER and resumes below
 * RELAY_LOW_WATER, so memory per session is bounded whatever the peers'
 * speeds.
 *
 * One engine (relay_fd.c).  When the upstream is a plain socket, the
 * relay works on the two file descriptors directly and writes as soon as
 * it has read (one epoll wake-up, one read, one write per message, as
 * HAProxy does); it drives an in-process upstream (a link: SSH channels,
 * TLS connections) with function calls in place of the upstream's read
 * and write.
 */
#ifndef POSTERN_RELAY_H
#define POSTERN_RELAY_H

#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct event;
struct link;
struct event_base;
struct evbuffer;

#define RELAY_HIGH_WATER	(256 * 1024)
#define RELAY_LOW_WATER		(64 * 1024)
#define RELAY_READ_CHUNK	(64 * 1024)
/*
 * The first read of a burst: what fits in one 4 KiB evbuffer chain with
 * libevent's chain header (which rounds a reserve up to a power of two).
 */
#define RELAY_READ_MIN		(4096 - 128)

enum relay_end {
	RELAY_END_NONE,
	RELAY_END_CLIENT_EOF,	/* the client finished first */
	RELAY_END_SERVER_EOF,
	RELAY_END_CLIENT_ERROR,
	RELAY_END_SERVER_ERROR
};

#define RELAY_CLIENT	0
#define RELAY_SERVER	1

struct relay;

/*
 * relay_tap_cb(buf, len, arg): bytes just read from a side, before they
 * are forwarded; they must not be kept.  Return 0 to see the next ones,
 * non-zero to stop tapping.
 */
typedef int relay_tap_cb(const uint8_t *buf, size_t len, void *arg);

/*
 * A filter of the client's bytes (readonly = yes, resp_guard.h): what
 * the client sends is read into `in` and handed to client(), which
 * moves what may pass to to_server, may answer in to_client (after what
 * the server sent so far) and may leave bytes in `in` to wait; it is
 * called again after every read from either side.  server() sees the
 * server's bytes first.  client() returns -1 to end the session.
 */
struct relay_filter {
	int	(*client)(void *arg, struct evbuffer *in,
		    struct evbuffer *to_server, struct evbuffer *to_client);
	void	(*server)(void *arg, const uint8_t *buf, size_t len);
};

/*
 * relay_rewrite_cb(arg, in, out): the server's bytes just read, all of
 * them in `in`, before the client gets them: move them, changed or not,
 * to out (cluster = yes: addresses in replies, cluster_sess.h).  Taps and
 * the filter saw them as the server sent them.
 */
typedef void relay_rewrite_cb(void *arg, struct evbuffer *in,
	    struct evbuffer *out);

/*
 * The fd engine's part of a side (relay_fd.c).  Every session holds two
 * sides: wide fields first, flags in bytes, no padding (issue 27).
 */
struct relay_fdio {
	struct link		*link;		/* server: a link, not fd */
	struct event		*rev, *wev;	/* wev: made when first needed */
	struct evbuffer		*out;		/* to write here; NULL: empty */
	int			 fd;		/* else -1 */
	uint8_t			 reading;	/* rev added */
	uint8_t			 writing;	/* wev added */
};

struct relay_side {
	struct relay		*relay;
	struct relay_fdio	 fdio;		/* the engine's I/O (relay_fd.c) */
	uint64_t		 bytes;		/* read from this side */
	relay_tap_cb		*tap;		/* see relay_tap() */
	void			*tap_arg;
	unsigned int		 rwant;		/* next read's size (relay_fd.c) */
	uint8_t			 idx;		/* RELAY_CLIENT or _SERVER */
	uint8_t			 eof;		/* read side finished */
	uint8_t			 shut;		/* write side shut down */
	uint8_t			 wdead;		/* write side failed: takes no more */
	uint8_t			 dead;		/* error: no more I/O (and wdead) */
	uint8_t			 held;		/* not read: relay_hold() */
};

/*
 * relay_done_cb(r, arg): both directions are finished (or neither can
 * make progress).  Called from inside an I/O callback: the callee must
 * not relay_release() there (defer it).
 */
typedef void relay_done_cb(struct relay *r, void *arg);

/*
 * relay_lost_cb(r, arg): the server side ended (EOF, reset, a failed
 * link) while the client side is whole.  Return 1 to take over: the end
 * is then not passed on (the client is held and never shut), and the
 * caller goes on with relay_resend_server() or ends the session; 0 to
 * pass it on as usual.  Called once per upstream, from inside an I/O
 * callback: only decide and schedule there.
 */
typedef int relay_lost_cb(struct relay *r, void *arg);

/*
 * relay_edit_cb(arg, buf, off, n): the n bytes at off of buf were just
 * read from the server and are about to go to the client (and be shown
 * to the taps); the callee may rewrite them in place, and returns their
 * new length.  Called once (relay_edit_server).
 */
typedef size_t relay_edit_cb(void *arg, struct evbuffer *buf, size_t off,
    size_t n);

/*
 * A relay's filter and rewrite (readonly = yes, cluster = yes), made by
 * the first relay_filter_set() or relay_rewrite_set() and kept across
 * swaps: most sessions have neither (issue 27).
 */
struct relay_hooks {
	const struct relay_filter *filter;	/* NULL: none */
	void			*filter_arg;
	struct evbuffer		*filter_in;	/* client bytes it holds */
	relay_rewrite_cb	*rewrite;	/* NULL: none */
	void			*rewrite_arg;
	struct evbuffer		*rewrite_tmp;	/* what the client had */
};

struct relay {
	struct relay_side	 side[2];	/* RELAY_CLIENT, RELAY_SERVER */
	char			*error;		/* detail of the first error */
	relay_done_cb		*cb;
	void			*arg;
	struct relay_hooks	*hooks;		/* NULL: no filter, no rewrite */
	relay_lost_cb		*lost_cb;	/* NULL: ends pass on */
	void			*lost_arg;
	relay_edit_cb		*edit_cb;	/* the next server read; once */
	void			*edit_arg;
	enum relay_end		 first_end;
	uint8_t			 done;
	uint8_t			 started;	/* relay_fd_start ran */
	uint8_t			 lost_asked;	/* lost_cb asked (per upstream) */
	uint8_t			 lost;		/* taken over: end not passed */
	uint8_t			 handoff;	/* relay_start_handoff() */
};

/* relay_init(r): an idle relay owning nothing; relay_release() is safe. */
void	relay_init(struct relay *r);

/*
 * relay_start(r, base, client_fd, server, first, cb, arg): take
 * ownership of the client socket and the upstream, a bufferevent on a
 * bare socket (the relay takes its descriptor and frees it; TLS and SSH
 * upstreams come as links), and start pumping.  first (may be NULL) holds client bytes
 * already read, sent upstream before anything else; it is emptied.
 * Returns 0, or -1 when out of memory: r then owns both ends all the
 * same, and relay_release() closes them.
 */
int	relay_start(struct relay *r, struct event_base *base, int client_fd,
	    struct bufferevent *server, struct evbuffer *first,
	    relay_done_cb *cb, void *arg);

/*
 * relay_start_fd(r, base, client_fd, server_fd, first, cb, arg): the same
 * with the upstream's bare socket (the relay takes and closes it).
 */
int	relay_start_fd(struct relay *r, struct event_base *base,
	    int client_fd, int server_fd, struct evbuffer *first,
	    relay_done_cb *cb, void *arg);

/*
 * relay_start_link(r, base, client_fd, server, first, cb, arg): the same
 * with an in-process upstream (link.h) that the relay takes.
 */
int	relay_start_link(struct relay *r, struct event_base *base,
	    int client_fd, struct link *server, struct evbuffer *first,
	    relay_done_cb *cb, void *arg);

/*
 * relay_start_handoff(r, base, client_fd, ctl_fd, cb, arg): the client's
 * socket was handed to an OpenSSH master, which moves the bytes
 * (mux_forward = client, relay_handoff.c); r takes a copy of it and of
 * the forward's control connection, whose EOF ends the relay.  Byte
 * counts come from the kernel (relay_handoff_sync); the relay is never
 * idle, so it never swaps, resends or gives its client back.  Returns 0,
 * or -1 when out of memory (r owns both fds; relay_release closes them).
 */
int	relay_start_handoff(struct relay *r, struct event_base *base,
	    int client_fd, int ctl_fd, relay_done_cb *cb, void *arg);

/*
 * relay_handoff_sync(r): for a handed-off relay, bring the byte counts
 * (side[].bytes) up to date from the kernel; otherwise nothing (the fd
 * engine counts as it goes).
 */
void	relay_handoff_sync(struct relay *r);

/*
 * relay_bridge(base, link, fdp): serve link through a socketpair, for a
 * consumer that speaks through a socket (health probes use bufferevents):
 * a relay between the pair's other end and the link, which frees itself
 * when both directions are done.  *fdp is the caller's end.  Returns 0,
 * or -1 with errno (link closed then).
 */
int	relay_bridge(struct event_base *base, struct link *link, int *fdp);

/*
 * relay_tap(r, idx, cb, arg): show what side idx sends to cb as it
 * passes, until cb returns non-zero (after relay_start).  Costs nothing
 * once it has stopped.
 */
void	relay_tap(struct relay *r, int idx, relay_tap_cb *cb, void *arg);

/*
 * relay_filter_set(r, f, arg): filter the client's bytes through f from
 * now on (after relay_start; the filter stays when the server side is
 * swapped).  Returns 0, or -1 when out of memory.  f and arg outlive r.
 */
int	relay_filter_set(struct relay *r, const struct relay_filter *f,
	    void *arg);

/*
 * relay_rewrite_set(r, cb, arg): pass the server's bytes through cb from
 * now on (it stays when the server side is swapped).  Returns 0, or -1
 * when out of memory.  arg outlives r.
 */
int	relay_rewrite_set(struct relay *r, relay_rewrite_cb *cb, void *arg);

/*
 * relay_on_server_lost(r, cb, arg): ask cb before passing an end of the
 * server side on to the client (relay_lost_cb); kept across swaps.
 */
void	relay_on_server_lost(struct relay *r, relay_lost_cb *cb, void *arg);

/*
 * relay_edit_server(r, cb, arg): let cb rewrite the next bytes read from
 * the server, once, before anyone sees them (relay_edit_cb).  Not kept
 * across swaps.
 */
void	relay_edit_server(struct relay *r, relay_edit_cb *cb, void *arg);

/*
 * relay_idle(r): no byte waits in either direction (nothing buffered to
 * either side), and neither side has
 * ended or failed.  Only then may the server side change.
 */
int	relay_idle(const struct relay *r);

/*
 * relay_swap_server(r, base, bev, link): an idle relay (see relay_idle)
 * goes on with a new upstream: the bare socket's bufferevent bev (as for
 * relay_start) or, if link is not NULL, that link.  The old upstream
 * is closed; the client side, the byte counts, the taps and the done
 * callback stay.
 * Never call it from inside one of r's callbacks or taps: the old
 * upstream's objects are freed here.  Returns 0; -1 when r is not idle
 * (nothing changed, the new upstream stays the caller's); -2 when out of
 * memory: r owns everything then and the caller ends it (relay_release).
 */
int	relay_swap_server(struct relay *r, struct event_base *base,
	    struct bufferevent *bev, struct link *link);

/*
 * relay_resend_ok(r): may relay_resend_server() run now?  The client side
 * has neither ended nor failed and nothing waits to be written to it
 * (the upstream side may be in any state).
 */
int	relay_resend_ok(const struct relay *r);

/*
 * relay_resend_server(r, base, bev, link, first): as relay_swap_server(),
 * but the old upstream need not be idle: what was buffered toward it is
 * dropped, and first (client bytes the caller kept: the requests the old
 * server never answered) goes to the new one before anything else
 * (emptied).  -1 unless relay_resend_ok(r); -2 when out of memory (as
 * relay_swap_server).  Never from inside one of r's callbacks or taps.
 */
int	relay_resend_server(struct relay *r, struct event_base *base,
	    struct bufferevent *bev, struct link *link,
	    struct evbuffer *first);

/*
 * relay_hold(r, on): while on, the client side is not read (what the
 * client sends waits in the socket); off reads it again.  A restart of
 * the relay (relay_swap_server, relay_resend_server) ends the hold too.
 * For a session resuming off a route that is down: what its client sends
 * meanwhile must not go to the hung server, but to the new one.
 */
void	relay_hold(struct relay *r, int on);

/*
 * relay_take_client(r): an idle relay hands its client socket back (the
 * caller closes it) and closes its upstream.  Byte counts stay; r is
 * otherwise reset (relay_release stays safe).  -1 when r is not idle:
 * nothing changed.
 */
int	relay_take_client(struct relay *r);

/* relay_stop(r): stop all I/O and callbacks; ends stay open. */
void	relay_stop(struct relay *r);

/* relay_release(r): close both ends and free the engine's state. */
void	relay_release(struct relay *r);

/* relay_end_name(end): "client closed", "server closed", ... */
const char *relay_end_name(int end);

#endif
