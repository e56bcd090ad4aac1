/*
 * relay.c: per-direction half-close with watermark back-pressure (after
 * spiped's proto_pipe and stunnel's transfer(); le-proxy's watermarks,
 * but not its close-both-on-first-EOF).
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "relay.h"

static void	relay_read_cb(struct bufferevent *, void *);
static void	relay_write_cb(struct bufferevent *, void *);
static void	relay_event_cb(struct bufferevent *, short, void *);

static int
relay_index(struct relay *r, struct bufferevent *bev)
{
	return (bev == r->side[RELAY_CLIENT].bev ? RELAY_CLIENT : RELAY_SERVER);
}

static void
relay_check_done(struct relay *r)
{
	struct relay_side	*c = &r->side[RELAY_CLIENT];
	struct relay_side	*s = &r->side[RELAY_SERVER];
	int			 up_done, down_done;

	/* A direction is done once its data can go nowhere more. */
	up_done = (c->eof || c->dead || s->dead) && (s->shut || s->dead);
	down_done = (s->eof || s->dead || c->dead) && (c->shut || c->dead);
	if (up_done && down_done && !r->done) {
		r->done = 1;
		relay_stop(r);
		r->cb(r, r->arg);
	}
}

/*
 * The reading side `from` has finished: once `to` has flushed its output,
 * shut down its write side.
 */
static void
relay_forward_eof(struct relay *r, int from)
{
	struct relay_side	*to = &r->side[!from];
	struct evbuffer		*out;

	if (to->dead || to->shut)
		return;
	out = bufferevent_get_output(to->bev);
	if (evbuffer_get_length(out) > 0) {
		/* relay_write_cb fires when the buffer is empty. */
		bufferevent_setwatermark(to->bev, EV_WRITE, 0, 0);
		bufferevent_enable(to->bev, EV_WRITE);
		return;
	}
	if (shutdown(bufferevent_getfd(to->bev), SHUT_WR) == -1 &&
	    errno != ENOTCONN) {
		/* The peer is gone: nothing more can reach it. */
		to->dead = 1;
		return;
	}
	to->shut = 1;
}

static void
relay_read_cb(struct bufferevent *bev, void *arg)
{
	struct relay		*r = arg;
	int			 i = relay_index(r, bev);
	struct relay_side	*from = &r->side[i], *to = &r->side[!i];
	struct evbuffer		*in = bufferevent_get_input(bev), *out;
	size_t			 n = evbuffer_get_length(in);

	from->bytes += n;
	if (to->dead || to->shut) {
		/* Nowhere to send it: drop, as a closed socket would. */
		evbuffer_drain(in, n);
		return;
	}
	out = bufferevent_get_output(to->bev);
	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= RELAY_HIGH_WATER) {
		/* Back-pressure: resume in relay_write_cb below low water. */
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(to->bev, EV_WRITE, RELAY_LOW_WATER, 0);
	}
}

static void
relay_write_cb(struct bufferevent *bev, void *arg)
{
	struct relay		*r = arg;
	int			 i = relay_index(r, bev);
	struct relay_side	*to = &r->side[i], *from = &r->side[!i];

	if (from->eof || from->dead) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
			relay_forward_eof(r, !i);
			relay_check_done(r);
		}
		return;
	}
	if (!to->dead && !(bufferevent_get_enabled(from->bev) & EV_READ)) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(from->bev, EV_READ);
	}
}

static void
relay_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct relay		*r = arg;
	int			 i = relay_index(r, bev);
	struct relay_side	*side = &r->side[i], *other = &r->side[!i];
	int			 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_EOF) {
		side->eof = 1;
		bufferevent_disable(bev, EV_READ);
		if (r->first_end == RELAY_END_NONE)
			r->first_end = i == RELAY_CLIENT ?
			    RELAY_END_CLIENT_EOF : RELAY_END_SERVER_EOF;
		relay_forward_eof(r, i);
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		side->dead = 1;
		bufferevent_disable(bev, EV_READ | EV_WRITE);
		if (r->first_end == RELAY_END_NONE) {
			r->first_end = i == RELAY_CLIENT ?
			    RELAY_END_CLIENT_ERROR : RELAY_END_SERVER_ERROR;
			snprintf(r->error, sizeof(r->error), "%s",
			    (what & BEV_EVENT_TIMEOUT) ? "write timeout" :
			    err != 0 ? strerror(err) : "connection lost");
		}
		/* What the dead side sent already still goes out. */
		relay_forward_eof(r, i);
		/* The other way can go nowhere: stop reading it. */
		if (!other->eof && !other->dead)
			bufferevent_disable(other->bev, EV_READ);
	}
	relay_check_done(r);
}

void
relay_start(struct relay *r, struct bufferevent *client,
    struct bufferevent *server, relay_done_cb *cb, void *arg)
{
	int	i;

	memset(r, 0, sizeof(*r));
	r->side[RELAY_CLIENT].bev = client;
	r->side[RELAY_SERVER].bev = server;
	r->cb = cb;
	r->arg = arg;
	for (i = 0; i < 2; i++) {
		bufferevent_setcb(r->side[i].bev, relay_read_cb,
		    relay_write_cb, relay_event_cb, r);
		bufferevent_set_max_single_read(r->side[i].bev,
		    RELAY_READ_CHUNK);
		bufferevent_enable(r->side[i].bev, EV_READ | EV_WRITE);
	}
}

void
relay_stop(struct relay *r)
{
	int	i;

	for (i = 0; i < 2; i++) {
		if (r->side[i].bev == NULL)
			continue;
		bufferevent_disable(r->side[i].bev, EV_READ | EV_WRITE);
		bufferevent_setcb(r->side[i].bev, NULL, NULL, NULL, NULL);
	}
}

const char *
relay_end_name(int end)
{
	switch (end) {
	case RELAY_END_CLIENT_EOF:
		return ("client closed");
	case RELAY_END_SERVER_EOF:
		return ("server closed");
	case RELAY_END_CLIENT_ERROR:
		return ("client error");
	case RELAY_END_SERVER_ERROR:
		return ("server error");
	}
	return ("stopped");
}
