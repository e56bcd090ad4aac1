/*
 * dial.h: the upstream "dial" step.  Whatever the transport (tcp://,
 * tls:// over TCP, ssh:// channels through a bastion), a dial ends in
 * exactly one callback with a connected bufferevent or link, or a
 * classified failure.
 */
#ifndef POSTERN_DIAL_H
#define POSTERN_DIAL_H

#include <sys/socket.h>

#include <stddef.h>

struct bufferevent;
struct conf_route;
struct link;
struct event_base;
struct evdns_base;
struct pagemem;
struct ssh_pool;
struct tls_reg;

/* Which layer failed: health and logs tell these apart. */
enum dial_status {
	DIAL_OK,
	DIAL_REFUSED,		/* connection refused */
	DIAL_TIMEOUT,		/* connect timeout */
	DIAL_RESOLVE,		/* name resolution failed */
	DIAL_UNREACHABLE,	/* no route to host / network unreachable */
	DIAL_ERROR,		/* other socket error */
	DIAL_TLS,		/* TLS: refused, handshake, verification */
	DIAL_SSH,		/* SSH: bastion down, auth, channel refused */
	DIAL_LOCAL		/* postern's own limit: EMFILE, ENOMEM... */
};

struct dial_result {
	enum dial_status	 status;
	const char		*detail;	/* human text, valid in callback */
	struct bufferevent	*bev;		/* DIAL_OK: connected; callee owns */
	struct link		*link;		/* DIAL_OK, ssh://, tls://: instead */
	int			 fd;		/* DIAL_FD: instead; else -1 */
	int			 plain;		/* bev (or fd) is a bare socket */
	/*
	 * The client's socket offered by dial_offer_client() was taken:
	 * fd is then the channel's control connection, whose EOF ends it.
	 */
	int			 handed;
	int			 elapsed_ms;
	/* DIAL_OK over TCP (tcp://, tls://): the server's address; else NULL */
	const struct sockaddr	*peer;
};

/*
 * DIAL_URGENT: where transports queue (an SSH bastion opens one channel
 * at a time), go ahead of the dials that are not urgent.  Health checks
 * ask for it: they measure the path, not the queue of a burst.
 */
#define DIAL_URGENT	0x01

/*
 * DIAL_TLS_BEV: a tls:// route gives an OpenSSL bufferevent (as below)
 * instead of a link.  Health checks ask for it: their probe speaks
 * through a bufferevent and reports the TLS layer's alerts ("tls: tlsv13
 * alert certificate required"), which a relay_bridge would hide.
 */
#define DIAL_TLS_BEV	0x02

/*
 * DIAL_FD: a tcp:// route, or an ssh:// one through an OpenSSH-engine
 * bastion (a socketpair or a unix socket to its master), gives the
 * connected socket itself in res->fd (res->bev NULL) for a caller that
 * relays on descriptors: no
 * bufferevent is made only to be freed at once.  Made and freed between
 * the lasting objects of a burst of sessions, libevent's deferred free
 * of it left a ~1 KiB hole in the heap per session (issue 27).
 */
#define DIAL_FD		0x04

/*
 * dial_cb(res, arg): the one completion.  On DIAL_OK the callee takes
 * res->bev (a socket bufferevent; for tls:// with DIAL_TLS_BEV an
 * OpenSSL one over the socket with the handshake done, with
 * BEV_OPT_CLOSE_ON_FREE, callbacks unset, events disabled), or for
 * tls:// res->link (tls_link.h; res->detail then describes the TLS
 * session), or for ssh:// res->link (link.h; relay_bridge() turns it into a socket
 * for consumers that need one).  The dial is freed after the callback
 * returns: do not dial_cancel() it from inside.
 */
typedef void dial_cb(const struct dial_result *res, void *arg);
/* (With DIAL_FD, where the route gives one, the callee takes res->fd.) */

/* What transports need from the daemon. */
struct dial_env {
	struct event_base	*base;
	struct evdns_base	*dns;		/* may be NULL: literals only */
	struct tls_reg		*tls;		/* tls:// routes' contexts */
	struct ssh_pool		*ssh;		/* ssh:// routes' bastions */
	struct pagemem		*pm;		/* dials' and connects' pages */
};

/*
 * dial_start(env, route, timeout_ms, flags, cb, arg): begin connecting to
 * the route's target.  The callback always comes later from the event
 * loop, never from inside dial_start.  Returns NULL only when out of
 * memory.
 */
struct dial *dial_start(const struct dial_env *env,
	    const struct conf_route *route, int timeout_ms, int flags,
	    dial_cb *cb, void *arg);

/*
 * dial_expire(d, buf, len): the caller's own deadline passed first:
 * abandon d like dial_cancel, with what its timeout would have said in
 * buf ("tls: handshake timeout after 2000 ms", "connect timeout after
 * ..."); returns that status (DIAL_TIMEOUT, DIAL_TLS, ...).
 */
int	dial_expire(struct dial *d, char *buf, size_t len);

/*
 * dial_offer_client(d, fd): the client socket the dial is for, right
 * after dial_start(), for a transport that can hand it on whole: an
 * OpenSSH-engine bastion with mux_forward = client passes it to its
 * master as the stdio forward's two ends, and then reports DIAL_OK with
 * res->handed set and res->fd a copy of the forward's control connection
 * (the callee takes it; fd stays the caller's too).  Other transports
 * ignore the offer.  Only for a TCP client of a service that needs none
 * of its bytes (protocol = tcp).
 */
void	dial_offer_client(struct dial *d, int fd);

/* dial_cancel(d): abandon a dial; no callback follows.  NULL is a no-op. */
void	dial_cancel(struct dial *d);


/*
 * dial_shutdown_write(bev): end the write side of a connected upstream
 * (or any socket bufferevent) once its output is flushed: a TLS
 * close_notify, then a TCP write shutdown.  Reading goes on.  Returns 0,
 * or -1 with errno when the connection is gone.
 */
int	dial_shutdown_write(struct bufferevent *bev);

/*
 * dial_bev_error(bev, err, buf, len): what an error event on a dialed
 * bufferevent means: for TLS the OpenSSL reason ("tls: tlsv13 alert
 * certificate required"), else strerror(err) ("connection lost" for 0).
 * Returns 1 when the TLS layer failed, else 0.
 */
int	dial_bev_error(struct bufferevent *bev, int err, char *buf, size_t len);

/* dial_status_name(status): "connection refused", "connect timeout", ... */
const char *dial_status_name(int status);

#endif
