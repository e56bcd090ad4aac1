/*
 * tcp_connect.c: resolve, then connect to each address in turn (see
 * tcp_connect.h).
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "dial.h"
#include "pagemem.h"
#include "sockopt.h"
#include "tcp_connect.h"

struct tcp_connect {
	struct event_base		*base;
	struct pagemem			*pm;	/* its memory's cache */
	struct evdns_getaddrinfo_request *dns_req;
	struct evutil_addrinfo		*ai, *ai_next;
	int				 fd;	/* being connected */
	struct event			*ev;	/* writable, or the result */
	enum dial_status		 status;
	int				 no_such_name;	/* NXDOMAIN */
	char				 host[256];
	char				 detail[512];
	tcp_connect_cb			*cb;
	void				*arg;
};

static void	tcp_connect_next(struct tcp_connect *);

int
tcp_connect_status(int err)
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
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case ENOBUFS:
		/* Ours, not the route's: never counted toward fall. */
		return (DIAL_LOCAL);
	}
	return (DIAL_ERROR);
}

/* Remember why the last address failed: "connection refused", ... */
static void
tcp_connect_error(struct tcp_connect *c, int err)
{
	c->status = tcp_connect_status(err);
	if (c->status == DIAL_REFUSED || c->status == DIAL_TIMEOUT)
		snprintf(c->detail, sizeof(c->detail), "%s",
		    dial_status_name(c->status));
	else
		snprintf(c->detail, sizeof(c->detail), "%s: %s",
		    dial_status_name(c->status), strerror(err));
}

static void
tcp_connect_release(struct tcp_connect *c)
{
	if (c->dns_req != NULL)
		evdns_getaddrinfo_cancel(c->dns_req);
	if (c->ai != NULL)
		evutil_freeaddrinfo(c->ai);
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->fd != -1)
		close(c->fd);
	pagemem_free(c->pm, c, sizeof(*c));
}

/* The result event: call back, then free (never inside the callback). */
static void
tcp_connect_done_cb(evutil_socket_t unused, short what, void *arg)
{
	struct tcp_connect	*c = arg;
	int			 fd = c->fd;

	c->fd = -1;		/* the callee's now, or -1 */
	c->cb(fd, c->status, c->detail, c->arg);
	tcp_connect_release(c);
}

/* Deliver the result from the loop. */
static void
tcp_connect_finish(struct tcp_connect *c, int status)
{
	c->status = status;
	if (c->ev != NULL)
		event_free(c->ev);
	if ((c->ev = event_new(c->base, -1, 0, tcp_connect_done_cb, c)) ==
	    NULL) {
		/* No event to defer with: the caller's deadline ends it. */
		return;
	}
	event_active(c->ev, EV_TIMEOUT, 0);
}

static void
tcp_connect_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_connect	*c = arg;
	int			 err = 0;
	socklen_t		 len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		event_free(c->ev);
		c->ev = NULL;
		sockopt_tcp(c->fd);
		c->detail[0] = '\0';
		tcp_connect_finish(c, DIAL_OK);
		return;
	}
	tcp_connect_error(c, err);
	event_free(c->ev);
	c->ev = NULL;
	close(c->fd);
	c->fd = -1;
	tcp_connect_next(c);
}

/* Try the next address, or report the last error when none is left. */
static void
tcp_connect_next(struct tcp_connect *c)
{
	struct evutil_addrinfo	*ai;
	int			 fd;

	while ((ai = c->ai_next) != NULL) {
		c->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			tcp_connect_error(c, errno);
			continue;
		}
		if (connect(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen) == -1 &&
		    errno != EINPROGRESS) {
			tcp_connect_error(c, errno);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->ev = event_new(c->base, fd, EV_WRITE,
		    tcp_connect_writable_cb, c);
		if (c->ev != NULL && event_add(c->ev, NULL) == 0)
			return;		/* tcp_connect_writable_cb follows */
		tcp_connect_error(c, ENOMEM);
		if (c->ev != NULL)
			event_free(c->ev);
		c->ev = NULL;
		close(fd);
		c->fd = -1;
	}
	tcp_connect_finish(c, c->status != DIAL_OK ? c->status : DIAL_ERROR);
}

static void
tcp_connect_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct tcp_connect	*c = arg;

	/*
	 * evdns calls back after evdns_getaddrinfo_cancel(), from the loop:
	 * by then tcp_connect_release() has freed c.  Touch nothing.
	 */
	if (result == EVUTIL_EAI_CANCEL)
		return;
	c->dns_req = NULL;
	if (result == EVUTIL_EAI_NONAME) {
		/* The DNS answered: the name does not exist. */
		c->no_such_name = 1;
		snprintf(c->detail, sizeof(c->detail), "cannot resolve %s: "
		    "no such host name", c->host);
		tcp_connect_finish(c, DIAL_RESOLVE);
		return;
	}
	if (result != 0) {
		snprintf(c->detail, sizeof(c->detail), "cannot resolve %s: "
		    "%s", c->host, evutil_gai_strerror(result));
		tcp_connect_finish(c, DIAL_RESOLVE);
		return;
	}
	c->ai = c->ai_next = ai;
	tcp_connect_next(c);
}

struct tcp_connect *
tcp_connect_start(struct event_base *base, struct evdns_base *dns,
    struct pagemem *pm, const char *host, unsigned int port, tcp_connect_cb *cb, void *arg)
{
	struct tcp_connect	*c;
	struct evutil_addrinfo	 hints;
	struct evdns_getaddrinfo_request *req;
	char			 serv[8];
	unsigned char		 raw[16];

	/* Its own mapping: no hole in the heap after it (pagemem.h). */
	if ((c = pagemem_new(pm, sizeof(*c))) == NULL)
		return (NULL);
	c->pm = pm;
	c->base = base;
	c->fd = -1;
	c->status = DIAL_ERROR;
	c->cb = cb;
	c->arg = arg;
	snprintf(c->host, sizeof(c->host), "%s", host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(serv, sizeof(serv), "%u", port);
	if (dns == NULL || inet_pton(AF_INET, host, raw) == 1 ||
	    inet_pton(AF_INET6, host, raw) == 1) {
		hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
		if (evutil_getaddrinfo(host, serv, &hints, &c->ai) != 0) {
			snprintf(c->detail, sizeof(c->detail), "cannot resolve "
			    "%s%s", host, dns == NULL ? " (no resolver)" : "");
			tcp_connect_finish(c, DIAL_RESOLVE);
			return (c);
		}
		c->ai_next = c->ai;
		tcp_connect_next(c);
		return (c);
	}
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	/* May call back at once (cached): then the request is NULL. */
	req = evdns_getaddrinfo(dns, host, serv, &hints, tcp_connect_resolved,
	    c);
	c->dns_req = req;
	return (c);
}

int
tcp_connect_no_such_name(const struct tcp_connect *c)
{
	return (c != NULL && c->no_such_name);
}

void
tcp_connect_cancel(struct tcp_connect *c)
{
	if (c != NULL)
		tcp_connect_release(c);
}
