/*
 * dial_tcp.c: direct TCP connect: resolve (evdns, asynchronously, unless
 * the host is a literal), then try each address in turn within the one
 * connect timeout.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "conf.h"
#include "dial_int.h"
#include "sockopt.h"

static void	dial_tcp_next(struct dial *);

static int
dial_tcp_classify(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return (DIAL_REFUSED);
	case ETIMEDOUT:
		return (DIAL_TIMEOUT);
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		return (DIAL_UNREACHABLE);
	}
	return (DIAL_ERROR);
}

static void
dial_tcp_set_error(struct dial *d, int err)
{
	int	status = dial_tcp_classify(err);

	if (status == DIAL_REFUSED || status == DIAL_TIMEOUT)
		snprintf(d->detail, sizeof(d->detail), "%s",
		    dial_status_name(status));
	else
		snprintf(d->detail, sizeof(d->detail), "%s: %s",
		    dial_status_name(status), strerror(err));
	d->deferred = status;
}

static void
dial_tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct dial	*d = arg;
	int		 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		sockopt_tcp(bufferevent_getfd(bev));
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(bev, EV_READ | EV_WRITE);
		d->deferred = DIAL_OK;
		dial_finish(d, DIAL_OK, bev);
		return;
	}
	dial_tcp_set_error(d, err != 0 ? err : ECONNRESET);
	bufferevent_free(d->bev);
	d->bev = NULL;
	dial_tcp_next(d);
}

/* Try the next address, or report the last error when none is left. */
static void
dial_tcp_next(struct dial *d)
{
	struct evutil_addrinfo	*ai;
	evutil_socket_t		 fd;

	while ((ai = d->ai_next) != NULL) {
		d->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			dial_tcp_set_error(d, errno);
			continue;
		}
		d->bev = bufferevent_socket_new(d->env.base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (d->bev == NULL) {
			close(fd);
			dial_tcp_set_error(d, ENOMEM);
			continue;
		}
		bufferevent_setcb(d->bev, NULL, NULL, dial_tcp_event_cb, d);
		if (bufferevent_socket_connect(d->bev, ai->ai_addr,
		    (int)ai->ai_addrlen) == 0)
			return;		/* dial_tcp_event_cb follows */
		dial_tcp_set_error(d, EVUTIL_SOCKET_ERROR());
		bufferevent_free(d->bev);
		d->bev = NULL;
	}
	/* Called from an event callback or deferred: finish in order. */
	dial_fail_later(d, d->deferred != DIAL_OK ? d->deferred : DIAL_ERROR);
}

static void
dial_tcp_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct dial	*d = arg;

	d->dns_req = NULL;
	if (result != 0) {
		if (result == EVUTIL_EAI_CANCEL)
			return;
		snprintf(d->detail, sizeof(d->detail), "cannot resolve %s: %s",
		    d->route->target.host, evutil_gai_strerror(result));
		dial_fail_later(d, DIAL_RESOLVE);
		return;
	}
	d->ai = d->ai_next = ai;
	dial_tcp_next(d);
}

void
dial_tcp_begin(struct dial *d)
{
	struct evutil_addrinfo	 hints;
	char			 port[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(port, sizeof(port), "%u", d->route->target.port);
	if (addr_is_literal(&d->route->target) || d->env.dns == NULL) {
		hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
		if (evutil_getaddrinfo(d->route->target.host, port, &hints,
		    &d->ai) != 0) {
			snprintf(d->detail, sizeof(d->detail), "cannot "
			    "resolve %s", d->route->target.host);
			dial_fail_later(d, DIAL_RESOLVE);
			return;
		}
		d->ai_next = d->ai;
		dial_tcp_next(d);
		return;
	}
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	/* May call back at once (cached or literal): then dns_req is NULL. */
	d->dns_req = evdns_getaddrinfo(d->env.dns, d->route->target.host,
	    port, &hints, dial_tcp_resolved, d);
}

void
dial_tcp_cleanup(struct dial *d)
{
	if (d->dns_req != NULL) {
		evdns_getaddrinfo_cancel(d->dns_req);
		d->dns_req = NULL;
	}
	if (d->ai != NULL) {
		evutil_freeaddrinfo(d->ai);
		d->ai = d->ai_next = NULL;
	}
	if (d->bev != NULL) {
		bufferevent_free(d->bev);
		d->bev = NULL;
	}
}
