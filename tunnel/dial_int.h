/*
 * dial_int.h: what transport implementations share with dial.c.
 */
#ifndef POSTERN_DIAL_INT_H
#define POSTERN_DIAL_INT_H

#include <sys/time.h>

#include "dial.h"

struct evdns_getaddrinfo_request;
struct evutil_addrinfo;

struct dial {
	struct dial_env			 env;
	const struct conf_route		*route;
	int				 timeout_ms;
	dial_cb				*cb;
	void				*arg;
	struct timeval			 start;
	struct event			*timer;		/* timeout and deferral */
	int				 deferred;	/* status to deliver */
	char				 detail[512];

	/* tcp */
	struct evdns_getaddrinfo_request *dns_req;
	struct evutil_addrinfo		*ai, *ai_next;
	struct bufferevent		*bev;
};

/* dial_tcp_begin(d): start a TCP connect; reports through dial_finish. */
void	dial_tcp_begin(struct dial *d);

/* dial_tcp_cleanup(d): release TCP resources (request, addrinfo, bev). */
void	dial_tcp_cleanup(struct dial *d);

/*
 * dial_finish(d, status, bev): deliver the result and free d.  Call only
 * from an event callback.
 */
void	dial_finish(struct dial *d, int status, struct bufferevent *bev);

/*
 * dial_fail_later(d, status): deliver a failure from the next loop
 * iteration (for failures found while starting).
 */
void	dial_fail_later(struct dial *d, int status);

#endif
