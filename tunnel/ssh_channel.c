/*
 * ssh_channel.c: a direct-tcpip channel served through a socketpair.
 *
 * The session gets the other end of the pair as its upstream socket, so
 * a channel behaves like any TCP upstream: the relay's half-close
 * (shutdown) and back-pressure work unchanged, and the session can never
 * free the channel under us: it closes its descriptor, which we see.
 *
 *   client -- relay -- [socketpair] -- pump -- libssh2 channel -- bastion
 *
 * Up (client to bastion): read the pair into c->up (at most
 * SSH_CHAN_HIGH), write to the channel.  libssh2_channel_write returns
 * EAGAIN when the server's window is used up: we stop reading the pair,
 * the kernel buffer fills, and the relay stops reading the client.
 * Down: libssh2_channel_read, write to the pair at once; what the kernel
 * does not take waits in c->down.  At SSH_CHAN_HIGH we stop reading the
 * channel; libssh2 then stops enlarging the window (it adjusts it only
 * as the application reads), and the server stops sending: a slow client
 * costs at most one window (2 MiB) plus SSH_CHAN_HIGH.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "iobuf.h"
#include "ssh_int.h"

static void	ssh_chan_pump_down(struct ssh_chan *);

static void
ssh_chan_arm(struct ssh_chan *c, int reading, int writing)
{
	if (c->fd == -1)
		return;
	if (reading != c->reading) {
		if (reading)
			event_add(c->rev, NULL);
		else
			event_del(c->rev);
		c->reading = reading;
	}
	if (writing != c->writing) {
		if (writing)
			event_add(c->wev, NULL);
		else
			event_del(c->wev);
		c->writing = writing;
	}
}

static void
ssh_chan_check_done(struct ssh_chan *c)
{
	if (c->fd_dead || ((c->eof_sent || c->write_dead) && c->shut))
		c->done = 1;
}

/* The session's end is closed, not just shut for writing? */
static int
ssh_chan_peer_gone(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };

	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR)));
}

static void
ssh_chan_fd_failed(struct ssh_chan *c)
{
	c->fd_dead = 1;
	evbuffer_drain(c->down, evbuffer_get_length(c->down));
	ssh_chan_arm(c, 0, 0);
}

/* Client bytes to the channel, as far as window and buffers allow. */
static void
ssh_chan_flush_up(struct ssh_chan *c)
{
	struct ssh_bastion	*b = c->b;
	size_t			 len;
	ssize_t			 n;
	int			 rc;

	while (!c->write_dead && (len = evbuffer_get_length(c->up)) > 0) {
		if (ssh_adapter_out_full(b))
			break;		/* resumes when b->out drains */
		if (len > SSH_CHUNK)
			len = SSH_CHUNK;
		n = libssh2_channel_write(c->ch,
		    (const char *)evbuffer_pullup(c->up, (ssize_t)len), len);
		if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
			break;		/* window used up: an adjust resumes */
		if (n < 0) {
			if (ssh_fatal((int)n)) {
				ssh_broken(b, "%s", ssh_error(b, "channel write",
				    (int)n));
				return;
			}
			/* The channel is closing: client bytes go nowhere. */
			c->write_dead = 1;
			break;
		}
		evbuffer_drain(c->up, (size_t)n);
	}
	if (c->write_dead)
		evbuffer_drain(c->up, evbuffer_get_length(c->up));
	if (!c->up_eof && !c->fd_dead && evbuffer_get_length(c->up) <
	    SSH_CHAN_LOW)
		ssh_chan_arm(c, 1, c->writing);
	if (c->up_eof && !c->eof_sent && !c->write_dead &&
	    evbuffer_get_length(c->up) == 0) {
		rc = libssh2_channel_send_eof(c->ch);
		if (rc == 0)
			c->eof_sent = 1;
		else if (rc != LIBSSH2_ERROR_EAGAIN) {
			if (ssh_fatal(rc)) {
				ssh_broken(b, "%s", ssh_error(b, "channel eof",
				    rc));
				return;
			}
			c->eof_sent = 1;
		}
	}
}

/* The session wrote to its end (or shut it, or closed it). */
static void
ssh_chan_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_chan		*c = arg;
	struct ssh_bastion	*b = c->b;
	size_t			 have = evbuffer_get_length(c->up);
	ssize_t			 n;

	if (have >= SSH_CHAN_HIGH) {
		ssh_chan_arm(c, 0, c->writing);
		return;
	}
	n = iobuf_read(c->up, fd, SSH_CHAN_HIGH - have);
	if (n == 0) {
		c->up_eof = 1;
		ssh_chan_arm(c, 0, c->writing);
		if (ssh_chan_peer_gone(fd))
			ssh_chan_fd_failed(c);
	} else if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		ssh_chan_fd_failed(c);
	}
	if (!c->fd_dead && b->state == SSH_READY)
		ssh_chan_flush_up(c);
	if (evbuffer_get_length(c->up) >= SSH_CHAN_HIGH)
		ssh_chan_arm(c, 0, c->writing);
	ssh_chan_check_done(c);
	if (c->done || b->broken)
		ssh_kick(b);
}

static void
ssh_chan_shut(struct ssh_chan *c)
{
	if (!c->down_eof || c->shut || c->fd_dead ||
	    evbuffer_get_length(c->down) > 0)
		return;
	if (shutdown(c->fd, SHUT_WR) == -1 && errno != ENOTCONN) {
		ssh_chan_fd_failed(c);
		return;
	}
	c->shut = 1;
}

/* The session's end can take more: flush, maybe resume the channel. */
static void
ssh_chan_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_chan		*c = arg;
	struct ssh_bastion	*b = c->b;

	if (evbuffer_write(c->down, fd) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		ssh_chan_fd_failed(c);
	if (evbuffer_get_length(c->down) == 0)
		ssh_chan_arm(c, c->reading, 0);
	if (c->paused && evbuffer_get_length(c->down) < SSH_CHAN_LOW) {
		c->paused = 0;
		if (b->state == SSH_READY)
			ssh_chan_pump_down(c);
	}
	ssh_chan_shut(c);
	ssh_chan_check_done(c);
	if (c->done || b->broken)
		ssh_kick(b);
}

/* Channel bytes to the session's end: write-through, the rest buffered. */
static void
ssh_chan_deliver(struct ssh_chan *c, const unsigned char *p, size_t n)
{
	ssize_t	w = 0;

	if (c->fd_dead)
		return;
	if (evbuffer_get_length(c->down) == 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				ssh_chan_fd_failed(c);
				return;
			}
			w = 0;
		}
	}
	if ((size_t)w < n) {
		evbuffer_add(c->down, p + w, n - (size_t)w);
		ssh_chan_arm(c, c->reading, 1);
		if (evbuffer_get_length(c->down) >= SSH_CHAN_HIGH)
			c->paused = 1;
	}
}

static void
ssh_chan_pump_down(struct ssh_chan *c)
{
	struct ssh_bastion	*b = c->b;
	ssize_t			 n;

	while (!c->paused && !c->down_eof && !c->fd_dead) {
		n = libssh2_channel_read(c->ch, (char *)b->pool->buf,
		    sizeof(b->pool->buf));
		if (n > 0) {
			ssh_chan_deliver(c, b->pool->buf, (size_t)n);
			continue;
		}
		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		if (n < 0 && ssh_fatal((int)n)) {
			ssh_broken(b, "%s", ssh_error(b, "channel read",
			    (int)n));
			return;
		}
		if (n == 0 && !libssh2_channel_eof(c->ch))
			break;
		c->down_eof = 1;	/* EOF, or the channel failed */
	}
	ssh_chan_shut(c);
}

struct ssh_chan *
ssh_chan_new(struct ssh_bastion *b, LIBSSH2_CHANNEL *ch, const char *target,
    int fd)
{
	struct event_base	*base = b->pool->base;
	struct ssh_chan		*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->b = b;
	c->ch = ch;
	c->fd = fd;
	snprintf(c->target, sizeof(c->target), "%s", target);
	c->up = evbuffer_new();
	c->down = evbuffer_new();
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, ssh_chan_read_cb,
	    c);
	c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, ssh_chan_write_cb,
	    c);
	if (c->up == NULL || c->down == NULL || c->rev == NULL ||
	    c->wev == NULL)
		goto fail;
	TAILQ_INSERT_TAIL(&b->chans, c, entry);
	b->nchans++;
	ssh_chan_arm(c, 1, 0);
	return (c);
fail:
	if (c != NULL) {
		if (c->up != NULL)
			evbuffer_free(c->up);
		if (c->down != NULL)
			evbuffer_free(c->down);
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->wev != NULL)
			event_free(c->wev);
		free(c);
	}
	close(fd);
	ssh_chan_release(b, ch);
	return (NULL);
}

void
ssh_chan_release(struct ssh_bastion *b, LIBSSH2_CHANNEL *ch)
{
	struct ssh_chan	*z;

	if (ch == NULL || libssh2_channel_free(ch) != LIBSSH2_ERROR_EAGAIN)
		return;
	/* libssh2 waits for the server's close: finish it later. */
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return;		/* libssh2_session_free frees it */
	z->b = b;
	z->ch = ch;
	z->fd = -1;
	TAILQ_INSERT_TAIL(&b->closing, z, entry);
}

static void
ssh_chan_free(struct ssh_chan *c)
{
	struct ssh_bastion	*b = c->b;

	TAILQ_REMOVE(&b->chans, c, entry);
	b->nchans--;
	event_free(c->rev);
	event_free(c->wev);
	if (c->fd != -1)
		close(c->fd);
	evbuffer_free(c->up);
	evbuffer_free(c->down);
	ssh_chan_release(b, c->ch);
	free(c);
	if (b->retired && b->nchans == 0)
		event_active(b->pool->reap, EV_TIMEOUT, 0);
}

void
ssh_chan_step_all(struct ssh_bastion *b)
{
	struct ssh_chan	*c, *next;

	for (c = TAILQ_FIRST(&b->chans); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->done) {
			if (evbuffer_get_length(c->up) > 0 ||
			    (c->up_eof && !c->eof_sent))
				ssh_chan_flush_up(c);
			if (b->broken)
				return;
			ssh_chan_pump_down(c);
			if (b->broken)
				return;
			ssh_chan_check_done(c);
		}
		if (c->done)
			ssh_chan_free(c);
	}
	for (c = TAILQ_FIRST(&b->closing); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (libssh2_channel_free(c->ch) == LIBSSH2_ERROR_EAGAIN)
			continue;
		TAILQ_REMOVE(&b->closing, c, entry);
		free(c);
	}
}

void
ssh_chan_close_all(struct ssh_bastion *b)
{
	struct ssh_chan	*c;

	while ((c = TAILQ_FIRST(&b->chans)) != NULL)
		ssh_chan_free(c);
	if (b->ctl != NULL) {
		ssh_chan_release(b, b->ctl);
		b->ctl = NULL;
	}
	while ((c = TAILQ_FIRST(&b->closing)) != NULL) {
		TAILQ_REMOVE(&b->closing, c, entry);
		libssh2_channel_free(c->ch);
		free(c);
	}
}
