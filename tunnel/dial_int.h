/*
 * dial_int.h: what transport implementations share with dial.c.
 */
#ifndef POSTERN_DIAL_INT_H
#define POSTERN_DIAL_INT_H

#include <sys/socket.h>

#include <stdint.h>

#include "log.h"
#include "dial.h"

struct tcp_connect;
struct ssh_open;
struct ssh_mux_conn;
struct muxp_chan;

/* TLS stages: TCP first, then maybe an SSLRequest, then the handshake. */
enum dial_tls_stage {
	DIAL_TLS_TCP,
	DIAL_TLS_SSLREQUEST,
	DIAL_TLS_HANDSHAKE,
	DIAL_TLS_DONE
};

struct dial {
	struct dial_env			 env;
	const struct conf_route		*route;
	int				 timeout_ms;
	int				 flags;		/* DIAL_URGENT */
	int				 client_fd;	/* offered; else -1 */
	int				 handed;	/* client_fd taken */
	dial_cb				*cb;
	void				*arg;
	int64_t				 start;		/* clock_ms */
	struct event			*timer;		/* timeout and deferral */
	int				 deferred;	/* status to deliver */
	char				 detail[LOG_DETAIL_LEN];

	/* tcp */
	struct tcp_connect		*tcp;		/* connecting */
	struct bufferevent		*bev;
	struct sockaddr_storage		 peer;		/* connected to */
	int				 have_peer;

	/* tls (dial_tls.c): after TCP, d->bev is the stage's bufferevent */
	struct tls_ctx			*tls;		/* the route's context */
	enum dial_tls_stage		 tls_stage;
	char				 tls_failure[256];

	/* ssh (ssh_dial.c): the channel open queued at the bastion */
	struct ssh_open			*ssh_req;
	struct link			*link;		/* the channel, opened */
	struct ssh_mux_conn		*ssh_mux;	/* engine = openssh */
	struct muxp_chan		*ssh_mproxy;	/* mux_forward = proxy */
};

/* dial_tcp_begin(d): start a TCP connect; reports through dial_finish. */
void	dial_tcp_begin(struct dial *d);

/* dial_tcp_cleanup(d): release TCP resources (request, addrinfo, bev). */
void	dial_tcp_cleanup(struct dial *d);

/*
 * dial_tls_begin(d): the TCP connection (d->bev) is up: negotiate and
 * handshake; reports through dial_finish.  Call from an event callback.
 */
void	dial_tls_begin(struct dial *d);

/*
 * dial_tls_cleanup(d): mid-handshake toward a link, free the OpenSSL
 * bufferevent, its SSL and the socket (the bufferevent does not own
 * them).
 */
void	dial_tls_cleanup(struct dial *d);

/* dial_tls_timeout(d): the deadline passed mid-TLS: say where; status. */
int	dial_tls_timeout(struct dial *d);

/* dial_tls_error(bev, buf, len): 1 and "tls: reason" if bev's TLS failed. */
int	dial_tls_error(struct bufferevent *bev, char *buf, size_t len);

/*
 * dial_tls_close_notify(bev): if bev is a TLS bufferevent, send
 * close_notify.  0: sent, or not TLS; -1: only part of it went out.
 */
int	dial_tls_close_notify(struct bufferevent *bev);

/*
 * dial_finish(d, status, bev): deliver the result and free d.  Call only
 * from an event callback.
 */
void	dial_finish(struct dial *d, int status, struct bufferevent *bev);

/*
 * dial_finish_fd(d, fd): deliver DIAL_OK with the connected socket fd
 * (DIAL_FD: tcp://, the OpenSSH engine), which the callback takes, and
 * free d.
 */
void	dial_finish_fd(struct dial *d, int fd);

/*
 * dial_finish_handed(d, ctl_fd): deliver DIAL_OK for a dial that handed
 * the client's socket on (dial_offer_client), with ctl_fd, which the
 * callback takes, and free d.
 */
void	dial_finish_handed(struct dial *d, int ctl_fd);

/*
 * dial_fail_later(d, status): deliver a failure from the next loop
 * iteration (for failures found while starting).
 */
void	dial_fail_later(struct dial *d, int status);

#endif
