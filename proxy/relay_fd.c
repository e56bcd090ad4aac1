/*
 * relay_fd.c: the relay engine for two plain sockets.  Data read from one
 * side is written to the other at once; only what the kernel does not
 * take waits in the side's `out` buffer, with a write event armed until
 * it drains.  Level-triggered read events stay armed unless back-pressure
 * or EOF disarms them, so a request/response exchange costs one wake-up,
 * one read and one write per hop, and no epoll_ctl.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "iobuf.h"
#include "relay.h"

static void	relay_fd_forward_eof(struct relay_side *);

static void
relay_fd_arm(struct relay_side *s, int reading, int writing)
{
	if (reading != s->reading) {
		if (reading)
			event_add(s->rev, NULL);
		else
			event_del(s->rev);
		s->reading = reading;
	}
	if (writing != s->writing) {
		if (writing)
			event_add(s->wev, NULL);
		else
			event_del(s->wev);
		s->writing = writing;
	}
}

/* Side s can do no more I/O: keep what can still be delivered. */
static void
relay_fd_dead(struct relay_side *s, int err)
{
	struct relay_side	*other = &s->relay->side[!s->idx];

	s->dead = 1;
	relay_fd_arm(s, 0, 0);
	relay_note_end(s->relay, s->idx, 1, strerror(err));
	evbuffer_drain(s->out, evbuffer_get_length(s->out));
	/* Nothing read from the other side can reach s any more. */
	if (!other->eof && !other->dead)
		relay_fd_arm(other, 0, other->writing);
	/* What s sent already still goes out, then other is shut. */
	relay_fd_forward_eof(other);
}

/* The side feeding `to` is finished: shut `to` once flushed. */
static void
relay_fd_forward_eof(struct relay_side *to)
{
	if (to->dead || to->shut || evbuffer_get_length(to->out) > 0)
		return;
	if (shutdown(to->fd, SHUT_WR) == -1 && errno != ENOTCONN) {
		relay_fd_dead(to, errno);
		return;
	}
	to->shut = 1;
}

/* Write what waits for `to`; arm or disarm its write event. */
static void
relay_fd_flush(struct relay_side *to)
{
	struct relay_side	*from = &to->relay->side[!to->idx];
	size_t			 left;

	if (evbuffer_write(to->out, to->fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		relay_fd_dead(to, errno);
		return;
	}
	left = evbuffer_get_length(to->out);
	relay_fd_arm(to, to->reading, left > 0);
	if (left == 0 && (from->eof || from->dead))
		relay_fd_forward_eof(to);
	else if (left < RELAY_LOW_WATER && !from->reading && !from->eof &&
	    !from->dead)
		relay_fd_arm(from, 1, from->writing);	/* resume */
}

static void
relay_fd_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_side	*from = arg;
	struct relay		*r = from->relay;
	struct relay_side	*to = &r->side[!from->idx];
	size_t			 before = evbuffer_get_length(to->out);
	ssize_t			 n;

	n = iobuf_read(to->out, fd, RELAY_READ_CHUNK);
	if (n > 0) {
		from->bytes += (uint64_t)n;
		if (from->tap != NULL)
			relay_tap_run(from, to->out, before, (size_t)n);
		if (to->dead || to->shut)
			evbuffer_drain(to->out, evbuffer_get_length(to->out));
		else if (!to->writing)
			relay_fd_flush(to);
		if (evbuffer_get_length(to->out) >= RELAY_HIGH_WATER)
			relay_fd_arm(from, 0, from->writing);
	} else if (n == 0) {
		from->eof = 1;
		relay_fd_arm(from, 0, from->writing);
		relay_note_end(r, from->idx, 0, NULL);
		relay_fd_forward_eof(to);
	} else if (errno != EAGAIN && errno != EINTR)
		relay_fd_dead(from, errno);
	relay_check_done(r);
}

static void
relay_fd_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_side	*to = arg;

	relay_fd_flush(to);
	relay_check_done(to->relay);
}

int
relay_fd_start(struct relay *r, struct event_base *base,
    struct evbuffer *first)
{
	struct relay_side	*s;
	int			 i;

	for (i = 0; i < 2; i++) {
		s = &r->side[i];
		s->out = evbuffer_new();
		s->rev = event_new(base, s->fd, EV_READ | EV_PERSIST,
		    relay_fd_read_cb, s);
		s->wev = event_new(base, s->fd, EV_WRITE | EV_PERSIST,
		    relay_fd_write_cb, s);
		if (s->out == NULL || s->rev == NULL || s->wev == NULL)
			return (-1);
	}
	for (i = 0; i < 2; i++)
		relay_fd_arm(&r->side[i], 1, 0);
	if (first != NULL && evbuffer_get_length(first) > 0) {
		r->side[RELAY_CLIENT].bytes += evbuffer_get_length(first);
		evbuffer_add_buffer(r->side[RELAY_SERVER].out, first);
		relay_fd_flush(&r->side[RELAY_SERVER]);
	}
	return (0);
}

void
relay_fd_stop(struct relay *r)
{
	int	i;

	for (i = 0; i < 2; i++) {
		if (r->side[i].rev != NULL && r->side[i].wev != NULL)
			relay_fd_arm(&r->side[i], 0, 0);
	}
}

void
relay_fd_release(struct relay *r)
{
	struct relay_side	*s;
	int			 i;

	for (i = 0; i < 2; i++) {
		s = &r->side[i];
		if (s->rev != NULL)
			event_free(s->rev);
		if (s->wev != NULL)
			event_free(s->wev);
		if (s->out != NULL)
			evbuffer_free(s->out);
		if (s->fd != -1)
			close(s->fd);
		s->rev = s->wev = NULL;
		s->out = NULL;
		s->fd = -1;
	}
}
