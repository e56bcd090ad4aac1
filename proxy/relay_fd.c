/*
 * relay_fd.c: the relay engine for plain sockets.  Data read from one
 * side is written to the other at once; only what the kernel does not
 * take waits in the side's `out` buffer, with a write event armed until
 * it drains.  Level-triggered read events stay armed unless back-pressure
 * or EOF disarms them, so a request/response exchange costs one wake-up,
 * one read and one write per hop, and no epoll_ctl.
 *
 * The server side may be a link (an SSH channel) instead of a socket:
 * writing to it is link_write(), which takes everything (its pending()
 * counts as that side's backlog); reading is its data() callback; its
 * read interest is link_pause().  Same rules otherwise.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "iobuf.h"
#include "link.h"
#include "relay_int.h"

static void	relay_fd_forward_eof(struct relay_side *);
static void	relay_fd_write_failed(struct relay_side *, const char *);
static void	relay_fd_write_cb(evutil_socket_t, short, void *);
static const struct link_user relay_link_user;

/*
 * A side's `out` buffer exists only while something waits in it or is
 * being passed: made by relay_fd_out() at a read, freed empty by
 * relay_fd_trim() when an event's work is done.  An idle session holds
 * none (two evbuffers less, 288 bytes of heap: issue 27).  A link's side
 * keeps its own for life: link_write() of an empty buffer is how a
 * failed link is told (and a link session holds kilobytes anyway).
 */
static struct evbuffer *
relay_fd_out(struct relay_side *s)
{
	if (s->fdio.out == NULL)
		s->fdio.out = evbuffer_new();
	return (s->fdio.out);
}

/* What waits in s's out buffer (none when it has none). */
static size_t
relay_fd_outlen(const struct relay_side *s)
{
	return (s->fdio.out != NULL ? evbuffer_get_length(s->fdio.out) : 0);
}

/* Free the sides' empty out buffers: at the end of every entry point. */
static void
relay_fd_trim(struct relay *r)
{
	int	i;

	for (i = 0; i < 2; i++) {
		if (r->side[i].fdio.out != NULL &&
		    r->side[i].fdio.link == NULL &&
		    evbuffer_get_length(r->side[i].fdio.out) == 0) {
			evbuffer_free(r->side[i].fdio.out);
			r->side[i].fdio.out = NULL;
		}
	}
}

static void
relay_fd_arm(struct relay_side *s, int reading, int writing)
{
	if (s->held)
		reading = 0;	/* relay_hold(): back-pressure ends no hold */
	if (s->fdio.link != NULL) {
		/* A link takes every write: only reading is switched. */
		if (reading != s->fdio.reading)
			link_pause(s->fdio.link, !reading);
		s->fdio.reading = reading;
		return;
	}
	if (reading != s->fdio.reading) {
		if (reading)
			event_add(s->fdio.rev, NULL);
		else
			event_del(s->fdio.rev);
		s->fdio.reading = reading;
	}
	if (writing != s->fdio.writing) {
		/*
		 * The write event is made the first time the kernel does not
		 * take all: most sessions never need one (issue 27).
		 */
		if (writing && s->fdio.wev == NULL &&
		    (s->fdio.wev = event_new(event_get_base(s->fdio.rev),
		    s->fdio.fd, EV_WRITE | EV_PERSIST, relay_fd_write_cb,
		    s)) == NULL) {
			relay_fd_write_failed(s, "out of memory");
			return;
		}
		if (writing)
			event_add(s->fdio.wev, NULL);
		else
			event_del(s->fdio.wev);
		s->fdio.writing = writing;
	}
}

/* What waits to be written to side s. */
static size_t
relay_fd_backlog(const struct relay_side *s)
{
	if (s->wdead)
		return (0);
	return (relay_fd_outlen(s) +
	    (s->fdio.link != NULL ? link_pending(s->fdio.link) : 0));
}

/*
 * Side s takes nothing more (its write side failed): drop what waits for
 * it.  The other side is read on, resumed if back-pressure toward s had
 * stopped it, and what it sends is dropped: it never blocks writing to
 * us, and its own end (EOF, reset) is seen.  s itself is still read while
 * it can be: a reset peer's last bytes wait in our receive queue.
 */
static void
relay_fd_unwritable(struct relay_side *s)
{
	struct relay_side	*other = &s->relay->side[!s->idx];

	if (s->wdead)
		return;
	s->wdead = 1;
	if (s->fdio.out != NULL)
		evbuffer_drain(s->fdio.out, evbuffer_get_length(s->fdio.out));
	relay_fd_arm(s, s->fdio.reading, 0);
	if (!other->eof && !other->dead && !other->fdio.reading)
		relay_fd_arm(other, 1, other->fdio.writing);
}

/* Writing to s failed: that direction is finished, the other goes on. */
static void
relay_fd_write_failed(struct relay_side *s, const char *why)
{
	relay_note_end(s->relay, s->idx, 1, why);
	relay_fd_unwritable(s);
}

/*
 * Server side s ended: may its end be kept from the client (relay_lost_cb)?
 * Asked once per upstream, and only while the client side is whole; a
 * taken-over relay holds its client (what it sends waits in the socket
 * for the next upstream) and never shuts it.
 */
static int
relay_fd_server_lost(struct relay_side *s)
{
	struct relay		*r = s->relay;
	struct relay_side	*c = &r->side[RELAY_CLIENT];

	if (s->idx != RELAY_SERVER || r->lost_cb == NULL || r->lost_asked)
		return (r->lost);
	r->lost_asked = 1;
	if (c->eof || c->shut || c->wdead || c->dead ||
	    r->lost_cb(r, r->lost_arg) == 0)
		return (0);
	r->lost = 1;
	c->held = 1;
	relay_fd_arm(c, 0, c->fdio.writing);
	return (1);
}

/* Side s can do no more I/O: keep what can still be delivered. */
static void
relay_fd_dead(struct relay_side *s, const char *why)
{
	if (s->dead)
		return;
	relay_fd_arm(s, 0, s->fdio.writing);
	s->dead = 1;
	relay_note_end(s->relay, s->idx, 1, why);
	relay_fd_unwritable(s);
	(void)relay_fd_server_lost(s);
	/* What s sent already still goes out, then the other is shut. */
	relay_fd_forward_eof(&s->relay->side[!s->idx]);
}

/* The side feeding `to` is finished: shut `to` once flushed. */
static void
relay_fd_forward_eof(struct relay_side *to)
{
	struct relay		*r = to->relay;

	if (to->wdead || to->shut || relay_fd_outlen(to) > 0)
		return;
	/* The server's end was taken over (relay_lost_cb): not passed on. */
	if (to->idx == RELAY_CLIENT && r->lost)
		return;
	/* Client bytes a filter holds still go first. */
	if (to->idx == RELAY_SERVER && relay_filter_held(r) > 0 &&
	    !r->side[RELAY_CLIENT].dead)
		return;
	if (to->fdio.link != NULL)
		link_shutdown(to->fdio.link);	/* after its pending bytes */
	else if (shutdown(to->fdio.fd, SHUT_WR) == -1 && errno != ENOTCONN) {
		relay_fd_write_failed(to, strerror(errno));
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

	if (to->wdead)
		return;
	if (to->fdio.link != NULL) {
		if (link_write(to->fdio.link, to->fdio.out) == -1) {
			relay_fd_dead(to, "upstream channel failed");
			return;
		}
	} else {
		if (relay_fd_outlen(to) > 0 &&
		    iobuf_write(to->fdio.out, to->fdio.fd) == -1 &&
		    errno != EAGAIN && errno != EINTR) {
			relay_fd_write_failed(to, strerror(errno));
			return;
		}
		relay_fd_arm(to, to->fdio.reading, relay_fd_outlen(to) > 0);
	}
	left = relay_fd_backlog(to);
	if (relay_fd_outlen(to) == 0 && (from->eof || from->dead))
		relay_fd_forward_eof(to);
	else if (left < RELAY_LOW_WATER && !from->fdio.reading && !from->eof &&
	    !from->dead)
		relay_fd_arm(from, 1, from->fdio.writing);	/* resume */
}

static void	relay_fd_filter(struct relay *);

/* A filter's server(): fed like a tap, never stopping. */
static int
relay_fd_filter_server(const uint8_t *buf, size_t len, void *arg)
{
	struct relay	*r = arg;

	r->hooks->filter->server(r->hooks->filter_arg, buf, len);
	return (0);
}

/* n bytes from `from` are in to->fdio.out, after `before` bytes: pass them. */
static void
relay_fd_pass(struct relay_side *from, size_t before, size_t n)
{
	struct relay_side	*to = &from->relay->side[!from->idx];
	struct relay		*r = from->relay;

	relay_edit_cb		*edit = r->edit_cb;

	from->bytes += (uint64_t)n;
	if (from->idx == RELAY_SERVER && edit != NULL) {
		r->edit_cb = NULL;	/* once */
		n = edit(r->edit_arg, to->fdio.out, before, n);
	}
	if (from->tap != NULL)
		relay_tap_run(from, to->fdio.out, before, n);
	if (from->idx == RELAY_SERVER && relay_filter_of(r) != NULL)
		relay_peek_run(to->fdio.out, before, n, relay_fd_filter_server,
		    r);
	if (from->idx == RELAY_SERVER && r->hooks != NULL &&
	    r->hooks->rewrite != NULL) {
		/* Set aside what was there, rewrite the rest after it. */
		evbuffer_remove_buffer(to->fdio.out, r->hooks->rewrite_tmp,
		    before);
		r->hooks->rewrite(r->hooks->rewrite_arg, to->fdio.out,
		    r->hooks->rewrite_tmp);
		evbuffer_add_buffer(to->fdio.out, r->hooks->rewrite_tmp);
	}
	if (from->idx == RELAY_SERVER && relay_filter_of(r) != NULL)
		relay_fd_filter(r);	/* answers owed after these */
	if (to->wdead || to->shut)
		evbuffer_drain(to->fdio.out, evbuffer_get_length(to->fdio.out));
	else if (!to->fdio.writing)
		relay_fd_flush(to);
	if (relay_fd_backlog(to) >= RELAY_HIGH_WATER && !from->dead)
		relay_fd_arm(from, 0, from->fdio.writing);
}

/*
 * A peer that closed its socket, not just shut its write side, takes
 * nothing more.  POLLHUP tells the two apart for unix sockets (a unix
 * listener's clients, relay_bridge's user); TCP shows it only once both
 * ways are shut, so a TCP peer stays half-closed until a write fails.
 */
static int
relay_fd_peer_gone(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };

	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR)));
}

/* `from` finished sending. */
static void
relay_fd_eof(struct relay_side *from)
{
	from->eof = 1;
	relay_fd_arm(from, 0, from->fdio.writing);
	relay_note_end(from->relay, from->idx, 0, NULL);
	(void)relay_fd_server_lost(from);
	relay_fd_forward_eof(&from->relay->side[!from->idx]);
	if (from->fdio.link == NULL && relay_fd_peer_gone(from->fdio.fd))
		relay_fd_dead(from, "closed");
}

/*
 * Run the client filter over what it holds: what it passes goes to the
 * server (seen by the client tap as if just read), its answers to the
 * client.  Reading from the client stops while it holds much.
 */
static void
relay_fd_filter(struct relay *r)
{
	struct relay_side	*c = &r->side[RELAY_CLIENT];
	struct relay_side	*s = &r->side[RELAY_SERVER];
	size_t			 sb, cb, n;

	if (c->dead)
		return;
	if (relay_fd_out(s) == NULL || relay_fd_out(c) == NULL) {
		relay_fd_dead(c, "out of memory");
		return;
	}
	sb = evbuffer_get_length(s->fdio.out);
	cb = evbuffer_get_length(c->fdio.out);
	if (r->hooks->filter->client(r->hooks->filter_arg, r->hooks->filter_in,
	    s->fdio.out, c->fdio.out) == -1) {
		evbuffer_drain(r->hooks->filter_in,
		    evbuffer_get_length(r->hooks->filter_in));
		relay_fd_dead(c, "request refused unread (readonly)");
		return;
	}
	n = evbuffer_get_length(s->fdio.out) - sb;
	if (n > 0 && c->tap != NULL)
		relay_tap_run(c, s->fdio.out, sb, n);
	if (s->wdead || s->shut)
		evbuffer_drain(s->fdio.out, evbuffer_get_length(s->fdio.out));
	else if (n > 0 && !s->fdio.writing)
		relay_fd_flush(s);
	if (relay_fd_outlen(c) > cb && !c->fdio.writing && !c->wdead)
		relay_fd_flush(c);
	if (c->eof)
		relay_fd_forward_eof(s);
	else if (!c->dead && (relay_fd_backlog(s) >= RELAY_HIGH_WATER ||
	    relay_filter_held(r) >= RELAY_HIGH_WATER))
		relay_fd_arm(c, 0, c->fdio.writing);
	else if (!c->dead && !c->fdio.reading &&
	    relay_fd_backlog(s) < RELAY_LOW_WATER &&
	    relay_filter_held(r) < RELAY_LOW_WATER)
		relay_fd_arm(c, 1, c->fdio.writing);
}

/*
 * How much side s reads at once: RELAY_READ_MIN until a read fills it,
 * then four times more after each full read up to RELAY_READ_CHUNK, and
 * back to the minimum after a read of less than a quarter.  A request
 * and its answer never reserve more than one small chain; a bulk
 * transfer reaches the full chunk at its third read.  (A 64 KiB reserve
 * for every read, a 128 KiB malloc, left about 1 KiB of touched heap
 * per idle session behind it: issue 27.)
 */
static size_t
relay_fd_want(struct relay_side *s, ssize_t got)
{
	size_t	want = s->rwant ? s->rwant : RELAY_READ_MIN;

	if (got >= (ssize_t)want && want < RELAY_READ_CHUNK)
		want = want * 4 < RELAY_READ_CHUNK ? want * 4 :
		    RELAY_READ_CHUNK;
	else if (got >= 0 && got < (ssize_t)want / 4)
		want = RELAY_READ_MIN;
	s->rwant = (unsigned int)want;
	return (want);
}

static void
relay_fd_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_side	*from = arg;
	struct relay		*r = from->relay;
	struct relay_side	*to = &r->side[!from->idx];
	size_t			 before = relay_fd_outlen(to);
	size_t			 want = from->rwant ? from->rwant :
				    RELAY_READ_MIN;
	ssize_t			 n;

	if (relay_fd_out(to) == NULL) {
		relay_fd_dead(from, "out of memory");
		n = -2;
	} else if (from->idx == RELAY_CLIENT && relay_filter_of(r) != NULL) {
		n = iobuf_read(r->hooks->filter_in, fd, want);
		relay_fd_want(from, n);
		if (n > 0) {
			from->bytes += (uint64_t)n;
			relay_fd_filter(r);
		}
	} else if ((n = iobuf_read(to->fdio.out, fd, want)) > 0) {
		relay_fd_want(from, n);
		relay_fd_pass(from, before, (size_t)n);
	}
	if (n == 0)
		relay_fd_eof(from);
	else if (n == -1 && errno != EAGAIN && errno != EINTR)
		relay_fd_dead(from, strerror(errno));
	relay_fd_trim(r);
	relay_check_done(r);
}

static void
relay_fd_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_side	*to = arg;

	relay_fd_flush(to);
	relay_fd_trim(to->relay);
	relay_check_done(to->relay);
}

/* ------------------------------------------------------------------ */
/* The link's callbacks (the server side). */

static void
relay_link_data(void *arg, const uint8_t *buf, size_t len)
{
	struct relay_side	*from = arg;
	struct relay_side	*to = &from->relay->side[!from->idx];
	size_t			 before = relay_fd_outlen(to);

	if (from->dead || from->eof)
		return;
	if (relay_fd_out(to) == NULL ||
	    evbuffer_add(to->fdio.out, buf, len) == -1) {
		relay_fd_dead(from, "out of memory");
		relay_check_done(from->relay);
		return;
	}
	relay_fd_pass(from, before, len);
	relay_fd_trim(from->relay);
	relay_check_done(from->relay);
}

static void
relay_link_eof(void *arg)
{
	struct relay_side	*from = arg;

	if (from->dead || from->eof)
		return;
	relay_fd_eof(from);
	relay_fd_trim(from->relay);
	relay_check_done(from->relay);
}

static void
relay_link_error(void *arg, const char *why)
{
	struct relay_side	*s = arg;

	relay_fd_dead(s, why);
	relay_fd_trim(s->relay);
	relay_check_done(s->relay);
}

/* Upstream closed both ways: after its data and EOF, it takes no more. */
static void
relay_link_closed(void *arg)
{
	struct relay_side	*s = arg;

	if (!s->eof && !s->dead)
		relay_fd_eof(s);
	relay_fd_unwritable(s);
	relay_fd_trim(s->relay);
	relay_check_done(s->relay);
}

static void
relay_link_writable(void *arg)
{
	struct relay_side	*to = arg;

	if (to->dead)
		return;
	relay_fd_flush(to);
	relay_fd_trim(to->relay);
	relay_check_done(to->relay);
}

/* The buffer toward the client, for a provider to append to. */
static struct evbuffer *
relay_link_sink(void *arg)
{
	struct relay_side	*from = arg;

	if (from->dead || from->eof)
		return (NULL);		/* data() drops them */
	/* NULL when out of memory: the provider drops them too. */
	return (relay_fd_out(&from->relay->side[!from->idx]));
}

static void
relay_link_appended(void *arg, size_t before, size_t len)
{
	struct relay_side	*from = arg;

	relay_fd_pass(from, before, len);
	relay_fd_trim(from->relay);
	relay_check_done(from->relay);
}

static const struct link_user relay_link_user = {
	relay_link_data,
	relay_link_eof,
	relay_link_closed,
	relay_link_error,
	relay_link_writable,
	relay_link_sink,
	relay_link_appended
};

/* ------------------------------------------------------------------ */

int
relay_fd_start(struct relay *r, struct event_base *base,
    struct evbuffer *first)
{
	struct relay_side	*s;
	int			 i;

	for (i = 0; i < 2; i++) {
		s = &r->side[i];
		if (s->fdio.link != NULL) {
			if (relay_fd_out(s) == NULL)
				return (-1);
			/* Still paused: relay_fd_arm below resumes it. */
			link_attach(s->fdio.link, &relay_link_user, s);
			continue;
		}
		/* The write event comes when needed (relay_fd_arm). */
		s->fdio.rev = event_new(base, s->fdio.fd, EV_READ | EV_PERSIST,
		    relay_fd_read_cb, s);
		if (s->fdio.rev == NULL)
			return (-1);
	}
	r->started = 1;
	for (i = 0; i < 2; i++)
		relay_fd_arm(&r->side[i], 1, 0);
	if (first != NULL && evbuffer_get_length(first) > 0) {
		if (relay_fd_out(&r->side[RELAY_SERVER]) == NULL)
			return (-1);
		r->side[RELAY_CLIENT].bytes += evbuffer_get_length(first);
		evbuffer_add_buffer(r->side[RELAY_SERVER].fdio.out, first);
		relay_fd_flush(&r->side[RELAY_SERVER]);
		if (relay_fd_backlog(&r->side[RELAY_SERVER]) >=
		    RELAY_HIGH_WATER)
			relay_fd_arm(&r->side[RELAY_CLIENT], 0, 0);
		relay_fd_trim(r);
	}
	return (0);
}

int
relay_fd_idle(const struct relay *r)
{
	int	i;

	if (!r->started)
		return (0);
	for (i = 0; i < 2; i++) {
		if (relay_fd_outlen(&r->side[i]) > 0 ||
		    (r->side[i].fdio.link != NULL &&
		    link_pending(r->side[i].fdio.link) > 0))
			return (0);
	}
	return (relay_filter_held(r) == 0);
}

void
relay_fd_hold(struct relay *r, int on)
{
	struct relay_side	*c = &r->side[RELAY_CLIENT];

	if (!r->started || c->held == on)
		return;		/* not running */
	if (!on && r->lost)
		return;		/* no upstream to read for: held to the swap */
	c->held = on;
	if (on)
		relay_fd_arm(c, 0, c->fdio.writing);
	else if (!c->eof && !c->dead &&
	    relay_fd_backlog(&r->side[RELAY_SERVER]) < RELAY_HIGH_WATER)
		relay_fd_arm(c, 1, c->fdio.writing);
}

void
relay_fd_stop(struct relay *r)
{
	struct relay_side	*s;
	int			 i;

	for (i = 0; i < 2; i++) {
		s = &r->side[i];
		if (s->fdio.link != NULL)
			/* No more calls. */
			link_attach(s->fdio.link, NULL, NULL);
		else if (s->fdio.rev != NULL)
			relay_fd_arm(s, 0, 0);
	}
}

void
relay_fd_release(struct relay *r)
{
	struct relay_side	*s;
	int			 i;

	for (i = 0; i < 2; i++) {
		s = &r->side[i];
		if (s->fdio.rev != NULL)
			event_free(s->fdio.rev);
		if (s->fdio.wev != NULL)
			event_free(s->fdio.wev);
		if (s->fdio.out != NULL)
			evbuffer_free(s->fdio.out);
		if (s->fdio.fd != -1)
			close(s->fdio.fd);
		link_close(s->fdio.link);
		s->fdio.rev = s->fdio.wev = NULL;
		s->fdio.out = NULL;
		s->fdio.fd = -1;
		s->fdio.link = NULL;
	}
}
