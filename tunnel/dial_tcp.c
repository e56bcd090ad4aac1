/*
 * dial_tcp.c: a route's TCP connection: tcp_connect.c resolves and
 * connects (the same path as a bastion's), within the dial's timeout;
 * the socket becomes the dial's bufferevent.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdio.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf.h"
#include "dial_int.h"
#include "tcp_connect.h"

static void
dial_tcp_done(int fd, int status, const char *detail, void *arg)
{
	struct dial	*d = arg;
	socklen_t	 len;

	d->tcp = NULL;		/* freed when this returns */
	if (status == DIAL_OK && (d->flags & DIAL_FD) && d->tls == NULL) {
		len = sizeof(d->peer);
		d->have_peer = getpeername(fd, (struct sockaddr *)&d->peer,
		    &len) == 0;
		d->deferred = DIAL_OK;
		dial_finish_fd(d, fd);
		return;
	}
	if (status == DIAL_OK && (d->bev = bufferevent_socket_new(d->env.base,
	    fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		status = DIAL_ERROR;
		detail = "out of memory";
	}
	if (status != DIAL_OK) {
		snprintf(d->detail, sizeof(d->detail), "%s", detail);
		dial_finish(d, status, NULL);
		return;
	}
	len = sizeof(d->peer);
	d->have_peer = getpeername(fd, (struct sockaddr *)&d->peer, &len) == 0;
	d->deferred = DIAL_OK;
	dial_finish(d, DIAL_OK, d->bev);
}

void
dial_tcp_begin(struct dial *d)
{
	d->tcp = tcp_connect_start(d->env.base, d->env.dns, d->env.pm,
	    d->route->target.host, d->route->target.port, dial_tcp_done, d);
	if (d->tcp == NULL) {
		snprintf(d->detail, sizeof(d->detail), "out of memory");
		dial_fail_later(d, DIAL_ERROR);
	}
}

void
dial_tcp_cleanup(struct dial *d)
{
	tcp_connect_cancel(d->tcp);
	d->tcp = NULL;
	if (d->bev != NULL) {
		bufferevent_free(d->bev);
		d->bev = NULL;
	}
}
