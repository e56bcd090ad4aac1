/*
 * relay.c: what both engines share, and the bufferevent engine: per-
 * direction half-close with watermark back-pressure (after spiped's
 * proto_pipe and stunnel's transfer(); le-proxy's watermarks, but not its
 * close-both-on-first-EOF).
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "dial.h"
#include "link.h"
#include "relay_int.h"

void
relay_note_end(struct relay *r, int idx, int error, const char *why)
{
	if (r->first_end != RELAY_END_NONE)
		return;
	if (error) {
		r->first_end = idx == RELAY_CLIENT ? RELAY_END_CLIENT_ERROR :
		    RELAY_END_SERVER_ERROR;
		snprintf(r->error, sizeof(r->error), "%s", why);
	} else
		r->first_end = idx == RELAY_CLIENT ? RELAY_END_CLIENT_EOF :
		    RELAY_END_SERVER_EOF;
}

void
relay_check_done(struct relay *r)
{
	struct relay_side	*c = &r->side[RELAY_CLIENT];
	struct relay_side	*s = &r->side[RELAY_SERVER];
	int			 up_done, down_done;

	/*
	 * A direction is done once nothing more will be written to its end:
	 * shut after its source finished and the data was flushed, or that
	 * end's write side failed (then what it was sent is undeliverable).
	 */
	up_done = s->shut || s->wdead;
	down_done = c->shut || c->wdead;
	if (up_done && down_done && !r->done) {
		r->done = 1;
		relay_stop(r);
		r->cb(r, r->arg);
	}
}

void
relay_tap(struct relay *r, int idx, relay_tap_cb *cb, void *arg)
{
	r->side[idx].tap = cb;
	r->side[idx].tap_arg = arg;
}

/* Show the n bytes at offset off of buf (just read from s) to s's tap. */
void
relay_tap_run(struct relay_side *s, struct evbuffer *buf, size_t off,
    size_t n)
{
	struct evbuffer_ptr	p;
	struct evbuffer_iovec	v[4];
	size_t			m;
	int			i, k;

	if (evbuffer_ptr_set(buf, &p, off, EVBUFFER_PTR_SET) != 0)
		return;
	while (n > 0 && s->tap != NULL) {
		if ((k = evbuffer_peek(buf, (ev_ssize_t)n, &p, v, 4)) <= 0)
			return;
		for (i = 0; i < k && i < 4 && n > 0 && s->tap != NULL; i++) {
			m = v[i].iov_len < n ? v[i].iov_len : n;
			if (s->tap(v[i].iov_base, m, s->tap_arg) != 0)
				s->tap = NULL;
			n -= m;
			if (evbuffer_ptr_set(buf, &p, m, EVBUFFER_PTR_ADD) != 0)
				return;
		}
	}
}

/*
 * Bufferevent engine.  Side s takes nothing more (its write side failed):
 * drop what waits for it.  Both sides are read on: the other one so that
 * it never blocks writing to us (back-pressure toward s may have stopped
 * it) and its own end is seen; s itself for what it sent before it
 * failed, since an OpenSSL bufferevent stops reading too when a write
 * fails (re-enabled here unless back-pressure has it off: then the other
 * side's write callback does it).
 */
static void
relay_bev_unwritable(struct relay_side *s)
{
	struct relay_side	*other = &s->relay->side[!s->idx];
	struct evbuffer		*out = bufferevent_get_output(s->bev);

	if (s->wdead)
		return;
	s->wdead = 1;
	bufferevent_disable(s->bev, EV_WRITE);
	evbuffer_drain(out, evbuffer_get_length(out));
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	if (!other->eof && !other->dead)
		bufferevent_enable(other->bev, EV_READ);
	if (!s->eof && !s->dead && (bufferevent_get_enabled(s->bev) & EV_READ))
		bufferevent_enable(s->bev, EV_READ);
}

/*
 * The reading side `from` has finished: once the other side has flushed
 * its output, shut down its write side.
 */
static void
relay_bev_forward_eof(struct relay *r, int from)
{
	struct relay_side	*to = &r->side[!from];

	if (to->wdead || to->shut)
		return;
	if (evbuffer_get_length(bufferevent_get_output(to->bev)) > 0) {
		/* relay_bev_write_cb fires when the buffer is empty. */
		bufferevent_setwatermark(to->bev, EV_WRITE, 0, 0);
		bufferevent_enable(to->bev, EV_WRITE);
		return;
	}
	/* TLS: close_notify, then the TCP write shutdown (dial.h). */
	if (dial_shutdown_write(to->bev) == -1 && errno != ENOTCONN) {
		relay_bev_unwritable(to);	/* the peer is gone */
		return;
	}
	to->shut = 1;
}

static void
relay_bev_read_cb(struct bufferevent *bev, void *arg)
{
	struct relay_side	*from = arg;
	struct relay_side	*to = &from->relay->side[!from->idx];
	struct evbuffer		*in = bufferevent_get_input(bev), *out;
	size_t			 n = evbuffer_get_length(in);

	from->bytes += n;
	if (from->tap != NULL)
		relay_tap_run(from, in, 0, n);
	if (to->wdead || to->shut) {
		evbuffer_drain(in, n);	/* nowhere to go */
		return;
	}
	out = bufferevent_get_output(to->bev);
	/*
	 * The client side is a plain socket: write at once what the kernel
	 * takes, as the fd engine does.  Only the rest goes through the
	 * bufferevent, so a reply usually costs no write event (an
	 * epoll_ctl pair) and no extra loop iteration.  An error is left for
	 * the bufferevent to find on its own write.
	 */
	if (to->idx == RELAY_CLIENT && evbuffer_get_length(out) == 0)
		(void)evbuffer_write(in, bufferevent_getfd(to->bev));
	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= RELAY_HIGH_WATER) {
		/* Back-pressure: resume in the write callback. */
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(to->bev, EV_WRITE, RELAY_LOW_WATER, 0);
	}
}

static void
relay_bev_write_cb(struct bufferevent *bev, void *arg)
{
	struct relay_side	*to = arg;
	struct relay		*r = to->relay;
	struct relay_side	*from = &r->side[!to->idx];

	if (from->eof || from->dead) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
			relay_bev_forward_eof(r, from->idx);
			relay_check_done(r);
		}
		return;
	}
	if (!(bufferevent_get_enabled(from->bev) & EV_READ)) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(from->bev, EV_READ);
	}
}

static void
relay_bev_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct relay_side	*side = arg;
	struct relay		*r = side->relay;
	int			 err = EVUTIL_SOCKET_ERROR();
	char			 why[128];

	/*
	 * An OpenSSL bufferevent reports the end of a read pass before the
	 * bytes it read in that pass: pass those on first.
	 */
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0 &&
	    !side->eof && !side->dead)
		relay_bev_read_cb(bev, side);
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		/* A TLS upstream says what its layer saw (dial.h). */
		if (what & BEV_EVENT_TIMEOUT)
			snprintf(why, sizeof(why), "timeout");
		else
			dial_bev_error(bev, err, why, sizeof(why));
		relay_note_end(r, side->idx, 1, why);
	} else
		relay_note_end(r, side->idx, 0, NULL);
	if ((what & BEV_EVENT_WRITING) && !(what & BEV_EVENT_TIMEOUT)) {
		/*
		 * A failed write (an EOF with allow-dirty-shutdown is
		 * OpenSSL's EPIPE): nothing more reaches this side, but what
		 * it sent before is still read.
		 */
		relay_bev_unwritable(side);
	} else if (what & BEV_EVENT_EOF) {
		side->eof = 1;
		bufferevent_disable(bev, EV_READ);
		relay_bev_forward_eof(r, side->idx);
		/*
		 * A TLS upstream that closed (close_notify or EOF) takes no
		 * more: libevent stopped its writes, and without this the
		 * client's further bytes would pile up until back-pressure
		 * stopped reading the client for good.
		 */
		if (!dial_bev_writes_after_eof(bev))
			relay_bev_unwritable(side);
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		side->dead = 1;
		bufferevent_disable(bev, EV_READ);
		relay_bev_unwritable(side);
		/* What the dead side sent already still goes out. */
		relay_bev_forward_eof(r, side->idx);
	}
	relay_check_done(r);
}

void
relay_init(struct relay *r)
{
	int	i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 2; i++) {
		r->side[i].relay = r;
		r->side[i].idx = i;
		r->side[i].fdio.fd = -1;
	}
}

int
relay_start(struct relay *r, struct event_base *base, int client_fd,
    struct bufferevent *server, int plain, struct evbuffer *first,
    relay_done_cb *cb, void *arg)
{
	int	i;

	relay_init(r);
	r->cb = cb;
	r->arg = arg;
	if (plain) {
		/* Take the descriptor; freeing the bufferevent keeps it. */
		r->side[RELAY_SERVER].fdio.fd = bufferevent_getfd(server);
		bufferevent_setfd(server, -1);
		bufferevent_free(server);
		r->side[RELAY_CLIENT].fdio.fd = client_fd;
		r->fd_engine = 1;
		return (relay_fd_start(r, base, first));
	}
	r->side[RELAY_SERVER].bev = server;
	r->side[RELAY_CLIENT].bev = bufferevent_socket_new(base, client_fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (r->side[RELAY_CLIENT].bev == NULL) {
		/* closed on release */
		r->side[RELAY_CLIENT].fdio.fd = client_fd;
		return (-1);
	}
	if (first != NULL) {
		r->side[RELAY_CLIENT].bytes += evbuffer_get_length(first);
		evbuffer_add_buffer(bufferevent_get_output(server), first);
	}
	for (i = 0; i < 2; i++) {
		bufferevent_setcb(r->side[i].bev, relay_bev_read_cb,
		    relay_bev_write_cb, relay_bev_event_cb, &r->side[i]);
		bufferevent_set_max_single_read(r->side[i].bev,
		    RELAY_READ_CHUNK);
		bufferevent_enable(r->side[i].bev, EV_READ | EV_WRITE);
	}
	return (0);
}

int
relay_start_link(struct relay *r, struct event_base *base, int client_fd,
    struct link *server, struct evbuffer *first, relay_done_cb *cb,
    void *arg)
{
	relay_init(r);
	r->cb = cb;
	r->arg = arg;
	r->side[RELAY_SERVER].fdio.link = server;
	r->side[RELAY_CLIENT].fdio.fd = client_fd;
	r->fd_engine = 1;
	return (relay_fd_start(r, base, first));
}

/* A relay_bridge: the relay and the event that frees it. */
struct relay_bridge {
	struct relay	 r;
	struct event	*reap;
};

static void
relay_bridge_free(struct relay_bridge *rb)
{
	relay_release(&rb->r);
	if (rb->reap != NULL)
		event_free(rb->reap);
	free(rb);
}

static void
relay_bridge_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	relay_bridge_free(arg);
}

/* Never free the relay inside its own callback: from the loop. */
static void
relay_bridge_done(struct relay *r, void *arg)
{
	struct relay_bridge	*rb = arg;

	event_active(rb->reap, EV_TIMEOUT, 0);
}

int
relay_bridge(struct event_base *base, struct link *link, int *fdp)
{
	struct relay_bridge	*rb;
	int			 sp[2], err;

	if ((rb = calloc(1, sizeof(*rb))) == NULL) {
		link_close(link);
		return (-1);
	}
	relay_init(&rb->r);
	if ((rb->reap = event_new(base, -1, 0, relay_bridge_reap_cb,
	    rb)) == NULL) {
		err = ENOMEM;
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1) {
		err = errno;
		goto fail;
	}
	if (relay_start_link(&rb->r, base, sp[0], link, NULL,
	    relay_bridge_done, rb) != 0) {
		close(sp[1]);
		relay_bridge_free(rb);		/* closes sp[0] and link */
		errno = ENOMEM;
		return (-1);
	}
	*fdp = sp[1];
	return (0);
fail:
	link_close(link);
	relay_bridge_free(rb);
	errno = err;
	return (-1);
}

void
relay_stop(struct relay *r)
{
	int	i;

	if (r->fd_engine) {
		relay_fd_stop(r);
		return;
	}
	for (i = 0; i < 2; i++) {
		if (r->side[i].bev == NULL)
			continue;
		bufferevent_disable(r->side[i].bev, EV_READ | EV_WRITE);
		bufferevent_setcb(r->side[i].bev, NULL, NULL, NULL, NULL);
	}
}

void
relay_release(struct relay *r)
{
	int	i;

	if (r->fd_engine) {
		relay_fd_release(r);
		return;
	}
	for (i = 0; i < 2; i++) {
		if (r->side[i].bev != NULL)
			bufferevent_free(r->side[i].bev);
		r->side[i].bev = NULL;
		if (r->side[i].fdio.fd != -1)
			close(r->side[i].fdio.fd);
		r->side[i].fdio.fd = -1;
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
