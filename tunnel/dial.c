/*
 * dial.c: transport-independent part of dialing: timeout, deferral, the
 * one completion path.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/bufferevent.h>

#include "clock.h"
#include "conf.h"
#include "dial_int.h"
#include "link.h"
#include "pagemem.h"
#include "ssh.h"
#include "tls_reg.h"

static void	dial_free(struct dial *);

/* The deadline passed: d->detail says where the dial was; the status. */
static int
dial_timeout_status(struct dial *d)
{
	if (d->tls_stage > DIAL_TLS_TCP)
		return (dial_tls_timeout(d));
	if (d->ssh_req != NULL || d->ssh_mux != NULL ||
	    d->ssh_mproxy != NULL) {
		ssh_dial_timeout(d);	/* says what the channel waited for */
		return (DIAL_TIMEOUT);
	}
	snprintf(d->detail, sizeof(d->detail), "connect timeout after %d ms",
	    d->timeout_ms);
	return (DIAL_TIMEOUT);
}

static void
dial_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dial	*d = arg;

	if (d->deferred != DIAL_OK) {
		dial_finish(d, d->deferred, NULL);
		return;
	}
	dial_finish(d, dial_timeout_status(d), NULL);
}

int
dial_expire(struct dial *d, char *buf, size_t len)
{
	int	status;

	if (d->deferred != DIAL_OK) {
		status = d->deferred;
		if (d->detail[0] == '\0')
			snprintf(d->detail, sizeof(d->detail), "%s",
			    dial_status_name(status));
	} else
		status = dial_timeout_status(d);
	snprintf(buf, len, "%s", d->detail);
	dial_free(d);
	return (status);
}

static void
dial_free(struct dial *d)
{
	dial_tls_cleanup(d);		/* before TCP's: it owns d->bev */
	dial_tcp_cleanup(d);
	ssh_dial_cleanup(d);
	link_close(d->link);
	if (d->timer != NULL)
		event_free(d->timer);
	pagemem_free(d->env.pm, d, sizeof(*d));
}

struct dial *
dial_start(const struct dial_env *env, const struct conf_route *route,
    int timeout_ms, int flags, dial_cb *cb, void *arg)
{
	struct dial	*d;
	struct timeval	 tv;

	/* Its own mapping: no hole in the heap after it (pagemem.h). */
	if ((d = pagemem_new(env->pm, sizeof(*d))) == NULL)
		return (NULL);
	d->env = *env;
	d->route = route;
	d->timeout_ms = timeout_ms;
	d->flags = flags;
	d->client_fd = -1;
	d->handed = 0;
	d->cb = cb;
	d->arg = arg;
	d->start = clock_ms();
	d->timer = evtimer_new(env->base, dial_timer_cb, d);
	if (d->timer == NULL) {
		pagemem_free(d->env.pm, d, sizeof(*d));
		return (NULL);
	}
	tv = clock_tv(timeout_ms);
	evtimer_add(d->timer, &tv);
	if (route->kind == ROUTE_TLS &&
	    (d->tls = tls_reg_find(env->tls, route->origin != NULL ?
	    route->origin : route)) == NULL) {
		snprintf(d->detail, sizeof(d->detail), "tls: no TLS context "
		    "loaded for route '%s'", route->name);
		dial_fail_later(d, DIAL_TLS);
		return (d);
	}
	if (route->kind == ROUTE_SSH) {
		ssh_dial_begin(d);	/* a channel through the bastion */
		return (d);
	}
	dial_tcp_begin(d);
	return (d);
}

void
dial_cancel(struct dial *d)
{
	if (d != NULL)
		dial_free(d);
}

void
dial_fail_later(struct dial *d, int status)
{
	d->deferred = status;
	event_active(d->timer, EV_TIMEOUT, 0);
}

/* The one completion: bev, or fd (-1: none), goes to the callback. */
static void
dial_deliver(struct dial *d, int status, struct bufferevent *bev, int fd)
{
	struct dial_result	 res;

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.bev = bev;
	res.fd = fd;
	res.plain = (bev != NULL || fd != -1) && d->route->kind == ROUTE_TCP;
	res.handed = d->handed;
	if (status == DIAL_OK && d->link != NULL) {
		res.link = d->link;	/* handed over */
		d->link = NULL;
	}
	res.detail = d->detail[0] != '\0' ? d->detail :
	    dial_status_name(status);
	res.elapsed_ms = (int)(clock_ms() - d->start);
	if (status == DIAL_OK && d->have_peer)
		res.peer = (const struct sockaddr *)&d->peer;
	if (bev == d->bev)
		d->bev = NULL;		/* handed over */
	d->cb(&res, d->arg);
	dial_free(d);
}

void
dial_finish(struct dial *d, int status, struct bufferevent *bev)
{
	/* TCP is up; a TLS route goes on (and comes back here). */
	if (status == DIAL_OK && d->tls != NULL &&
	    d->tls_stage == DIAL_TLS_TCP) {
		dial_tls_begin(d);
		return;
	}
	dial_deliver(d, status, bev, -1);
}

void
dial_finish_fd(struct dial *d, int fd)
{
	dial_deliver(d, DIAL_OK, NULL, fd);
}

void
dial_finish_handed(struct dial *d, int ctl_fd)
{
	d->handed = 1;
	dial_deliver(d, DIAL_OK, NULL, ctl_fd);
}

void
dial_offer_client(struct dial *d, int fd)
{
	if (d != NULL)
		d->client_fd = fd;
}

const char *
dial_status_name(int status)
{
	switch (status) {
	case DIAL_OK:
		return ("connected");
	case DIAL_REFUSED:
		return ("connection refused");
	case DIAL_TIMEOUT:
		return ("connect timeout");
	case DIAL_RESOLVE:
		return ("name resolution failed");
	case DIAL_UNREACHABLE:
		return ("unreachable");
	case DIAL_ERROR:
		return ("connect error");
	case DIAL_TLS:
		return ("tls");
	case DIAL_SSH:
		return ("ssh");
	case DIAL_LOCAL:
		return ("postern's own limit");
	}
	return ("?");
}

int
dial_bev_error(struct bufferevent *bev, int err, char *buf, size_t len)
{
	if (dial_tls_error(bev, buf, len))
		return (1);
	snprintf(buf, len, "%s", err != 0 ? evutil_socket_error_to_string(err) :
	    "connection lost");
	return (0);
}

int
dial_shutdown_write(struct bufferevent *bev)
{
	/*
	 * TLS: close_notify first.  If the kernel did not take all of it,
	 * leave TCP open: a FIN after half an alert would end the stream
	 * with a truncated record.  The peer then ends by its own close.
	 */
	if (dial_tls_close_notify(bev) == -1)
		return (0);
	return (shutdown(bufferevent_getfd(bev), SHUT_WR));
}
