/*
 * relay.c: the relay's life (start, taps, idle, swap, release) around the
 * fd engine (relay_fd.c), which does the I/O: per-direction half-close
 * with watermark back-pressure (after spiped's proto_pipe and stunnel's
 * transfer(); le-proxy's watermarks, but not its close-both-on-first-EOF).
 * Upstreams are plain sockets or links (link.h: TLS, SSH channels).
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
		/* Made only at an error: an idle relay holds no room for
		 * one (issue 27); out of memory, the line goes without. */
		r->error = strdup(why != NULL ? why : "");
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

void
relay_peek_run(struct evbuffer *buf, size_t off, size_t n,
    relay_tap_cb *cb, void *arg)
{
	struct evbuffer_ptr	p;
	struct evbuffer_iovec	v[4];
	size_t			m;
	int			i, k;

	if (evbuffer_ptr_set(buf, &p, off, EVBUFFER_PTR_SET) != 0)
		return;
	while (n > 0) {
		if ((k = evbuffer_peek(buf, (ev_ssize_t)n, &p, v, 4)) <= 0)
			return;
		for (i = 0; i < k && i < 4 && n > 0; i++) {
			m = v[i].iov_len < n ? v[i].iov_len : n;
			if (cb(v[i].iov_base, m, arg) != 0)
				return;
			n -= m;
			if (evbuffer_ptr_set(buf, &p, m, EVBUFFER_PTR_ADD) != 0)
				return;
		}
	}
}

/* One tap call; a tap that returns non-zero is removed. */
static int
relay_tap_one(const uint8_t *buf, size_t len, void *arg)
{
	struct relay_side	*s = arg;

	if (s->tap(buf, len, s->tap_arg) != 0) {
		s->tap = NULL;
		return (1);
	}
	return (0);
}

void
relay_tap_run(struct relay_side *s, struct evbuffer *buf, size_t off,
    size_t n)
{
	if (s->tap != NULL)
		relay_peek_run(buf, off, n, relay_tap_one, s);
}

void
relay_init(struct relay *r)
{
	int	i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 2; i++) {
		r->side[i].relay = r;
		r->side[i].idx = (uint8_t)i;
		r->side[i].fdio.fd = -1;
	}
}

int
relay_start(struct relay *r, struct event_base *base, int client_fd,
    struct bufferevent *server, struct evbuffer *first, relay_done_cb *cb,
    void *arg)
{
	int	fd;

	/* Take the descriptor; freeing the bufferevent keeps it. */
	fd = bufferevent_getfd(server);
	bufferevent_setfd(server, -1);
	bufferevent_free(server);
	return (relay_start_fd(r, base, client_fd, fd, first, cb, arg));
}

int
relay_start_fd(struct relay *r, struct event_base *base, int client_fd,
    int server_fd, struct evbuffer *first, relay_done_cb *cb, void *arg)
{
	relay_init(r);
	r->cb = cb;
	r->arg = arg;
	r->side[RELAY_SERVER].fdio.fd = server_fd;
	r->side[RELAY_CLIENT].fdio.fd = client_fd;
	return (relay_fd_start(r, base, first));
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
	if (r->handoff)
		relay_handoff_stop(r);
	else
		relay_fd_stop(r);
}

void
relay_release(struct relay *r)
{
	relay_fd_release(r);
	free(r->error);
	r->error = NULL;
	if (r->hooks != NULL) {
		if (r->hooks->filter_in != NULL)
			evbuffer_free(r->hooks->filter_in);
		if (r->hooks->rewrite_tmp != NULL)
			evbuffer_free(r->hooks->rewrite_tmp);
		free(r->hooks);
		r->hooks = NULL;
	}
}

/* r's hooks, made when first needed; NULL when out of memory. */
static struct relay_hooks *
relay_hooks(struct relay *r)
{
	if (r->hooks == NULL)
		r->hooks = calloc(1, sizeof(*r->hooks));
	return (r->hooks);
}

int
relay_filter_set(struct relay *r, const struct relay_filter *f, void *arg)
{
	if (relay_hooks(r) == NULL || (r->hooks->filter_in == NULL &&
	    (r->hooks->filter_in = evbuffer_new()) == NULL))
		return (-1);
	r->hooks->filter = f;
	r->hooks->filter_arg = arg;
	return (0);
}

void
relay_on_server_lost(struct relay *r, relay_lost_cb *cb, void *arg)
{
	r->lost_cb = cb;
	r->lost_arg = arg;
}

void
relay_edit_server(struct relay *r, relay_edit_cb *cb, void *arg)
{
	r->edit_cb = cb;
	r->edit_arg = arg;
}

int
relay_rewrite_set(struct relay *r, relay_rewrite_cb *cb, void *arg)
{
	if (relay_hooks(r) == NULL || (r->hooks->rewrite_tmp == NULL &&
	    (r->hooks->rewrite_tmp = evbuffer_new()) == NULL))
		return (-1);
	r->hooks->rewrite = cb;
	r->hooks->rewrite_arg = arg;
	return (0);
}

int
relay_idle(const struct relay *r)
{
	const struct relay_side	*s;
	int			 i;

	if (r->done)
		return (0);
	for (i = 0; i < 2; i++) {
		s = &r->side[i];
		if (s->eof || s->shut || s->wdead || s->dead)
			return (0);
	}
	return (relay_fd_idle(r));
}

/*
 * Take the client's descriptor out of an idle relay (or, busy_ok, one
 * whose client side is clean: relay_resend_ok) and release the
 * rest (the upstream is closed); r is left as relay_init() makes it,
 * with its byte counts, taps and callback remembered in `keep`.
 */
static int
relay_detach(struct relay *r, struct relay *keep, int busy_ok)
{
	struct relay_side	*c = &r->side[RELAY_CLIENT];
	int			 fd;

	if (!relay_idle(r) && !(busy_ok && relay_resend_ok(r)))
		return (-1);
	relay_stop(r);
	fd = c->fdio.fd;
	c->fdio.fd = -1;
	*keep = *r;
	r->hooks = NULL;		/* kept: relay_restore puts them back */
	relay_release(r);
	relay_init(r);
	return (fd);
}

/* Put back what relay_detach() kept. */
static void
relay_restore(struct relay *r, const struct relay *keep)
{
	int	i;

	for (i = 0; i < 2; i++) {
		r->side[i].bytes = keep->side[i].bytes;
		r->side[i].tap = keep->side[i].tap;
		r->side[i].tap_arg = keep->side[i].tap_arg;
	}
	r->cb = keep->cb;
	r->arg = keep->arg;
	r->hooks = keep->hooks;
	r->lost_cb = keep->lost_cb;
	r->lost_arg = keep->lost_arg;
}

int
relay_swap_server(struct relay *r, struct event_base *base,
    struct bufferevent *bev, struct link *link)
{
	struct relay	keep;
	int		fd, rc;

	if ((fd = relay_detach(r, &keep, 0)) == -1)
		return (-1);
	rc = link != NULL ? relay_start_link(r, base, fd, link, NULL, keep.cb,
	    keep.arg) : relay_start(r, base, fd, bev, NULL, keep.cb, keep.arg);
	relay_restore(r, &keep);
	return (rc == 0 ? 0 : -2);
}

int
relay_resend_ok(const struct relay *r)
{
	const struct relay_side	*c = &r->side[RELAY_CLIENT];

	if (r->done || c->eof || c->shut || c->wdead || c->dead)
		return (0);
	if (relay_filter_held(r) > 0)
		return (0);
	return (r->started && (c->fdio.out == NULL ||
	    evbuffer_get_length(c->fdio.out) == 0));
}

int
relay_resend_server(struct relay *r, struct event_base *base,
    struct bufferevent *bev, struct link *link, struct evbuffer *first)
{
	struct relay	keep;
	int		fd, rc;

	if ((fd = relay_detach(r, &keep, 1)) == -1)
		return (-1);
	rc = link != NULL ? relay_start_link(r, base, fd, link, first,
	    keep.cb, keep.arg) : relay_start(r, base, fd, bev, first, keep.cb,
	    keep.arg);
	relay_restore(r, &keep);
	return (rc == 0 ? 0 : -2);
}

void
relay_hold(struct relay *r, int on)
{
	relay_fd_hold(r, on);
}

int
relay_take_client(struct relay *r)
{
	struct relay	keep;
	int		fd;

	if ((fd = relay_detach(r, &keep, 0)) == -1)
		return (-1);
	relay_restore(r, &keep);
	return (fd);
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
