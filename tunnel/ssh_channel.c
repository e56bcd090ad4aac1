/*
 * ssh_channel.c: a direct-tcpip channel as a link (link.h).
 *
 * The session's relay holds the channel's struct link and moves bytes
 * with function calls; nothing of ours touches a socket between the
 * client and the bastion's connection:
 *
 *   client -- relay -- link -- libssh2 channel -- bastion
 *
 * Up (user to bastion): link_write() queues in c->up and writes to the
 * channel at once when libssh2 is not busy (outside ssh_drive), else on
 * the drive's next pass.  libssh2_channel_write returns EAGAIN when the
 * server's window is used up; c->up then grows, the relay sees pending()
 * at its high mark and stops reading the client.  writable() follows when
 * a window adjust has let c->up drain.
 * Down: libssh2_channel_read, handed to the user's data() at once.  When
 * the user pauses, we stop reading the channel; libssh2 then stops
 * enlarging the window (it adjusts it only as the application reads), and
 * the server stops sending: a slow client costs at most one window
 * (2 MiB) plus the relay's high mark.
 *
 * End: the channel's EOF is the user's eof(); the server's close of the
 * channel (after EOF: ssh_chan_check_closed) is closed(), after which
 * nothing goes up.
 *
 * Lifetime: the user's link_close() marks the channel done; it is freed
 * from the drive (never inside a user callback).  A connection loss
 * orphans every open channel: the libssh2 channel goes with the session,
 * the user hears error(), and its link_close() frees the rest at once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "link.h"
#include "log.h"
#include "ssh_int.h"

static const struct link_ops ssh_chan_link_ops;

static struct ssh_chan *
ssh_chan_of(const struct link *l)
{
	return ((struct ssh_chan *)(void *)((char *)(uintptr_t)l -
	    offsetof(struct ssh_chan, link)));
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
			break;		/* resumes when b->io.out drains */
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

/*
 * Work asked for by the user (a write, a shutdown): at once when libssh2
 * is idle, so that a request costs no extra loop turn; from the running
 * drive's next pass otherwise.
 */
static void
ssh_chan_poke(struct ssh_chan *c)
{
	struct ssh_bastion	*b = c->b;

	if (b == NULL)
		return;
	if (b->running) {
		b->again = 1;
		return;
	}
	if (b->state != SSH_READY)
		return;
	ssh_chan_flush_up(c);
	if (b->broken)
		ssh_kick(b);		/* ssh_drive fails the connection */
	ssh_adapter_arm(b);
}

/* Channel bytes to the user while it takes them. */
static void
ssh_chan_pump_down(struct ssh_chan *c)
{
	struct ssh_bastion	*b = c->b;
	ssize_t			 n;

	while (c->link.user != NULL && !c->paused && !c->down_eof) {
		n = libssh2_channel_read(c->ch, (char *)b->pool->buf,
		    sizeof(b->pool->buf));
		if (n > 0) {
			c->link.user->data(c->link.user_arg, b->pool->buf,
			    (size_t)n);
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
		c->link.user->eof(c->link.user_arg);
	}
}

/*
 * After the channel's EOF: has the server closed it as well?  Then nothing
 * more can go up, and libssh2 would not say so: its channel write takes
 * bytes while the window lasts and then waits for an adjust that never
 * comes (sshd stops adjusting a channel it has closed), which stalls the
 * client behind back-pressure.  So drop what waits and tell the user.
 * libssh2 has no query for a remote close; libssh2_channel_wait_closed
 * answers at once without blocking (0: closed, EAGAIN: not yet).  A
 * channel that ended with a read error counts as closed.
 */
static void
ssh_chan_check_closed(struct ssh_chan *c)
{
	struct ssh_bastion	*b = c->b;
	int			 rc = 0;

	if (libssh2_channel_eof(c->ch) == 1)
		rc = libssh2_channel_wait_closed(c->ch);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return;
	if (rc != 0 && ssh_fatal(rc)) {
		ssh_broken(b, "%s", ssh_error(b, "channel close", rc));
		return;
	}
	c->gone = 1;
	c->write_dead = 1;
	evbuffer_drain(c->up, evbuffer_get_length(c->up));
	if (c->link.user != NULL)
		c->link.user->closed(c->link.user_arg);
}

struct ssh_chan *
ssh_chan_new(struct ssh_bastion *b, LIBSSH2_CHANNEL *ch, const char *target)
{
	struct ssh_chan	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->up = evbuffer_new()) == NULL) {
		free(c);
		ssh_chan_release(b, ch);
		return (NULL);
	}
	c->link.ops = &ssh_chan_link_ops;
	c->b = b;
	c->ch = ch;
	c->paused = 1;			/* until a user attaches */
	snprintf(c->target, sizeof(c->target), "%s", target);
	TAILQ_INSERT_TAIL(&b->chans, c, entry);
	b->nchans++;
	return (c);
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
	TAILQ_INSERT_TAIL(&b->closing, z, entry);
}

static void
ssh_chan_destroy(struct ssh_chan *c)
{
	evbuffer_free(c->up);
	free(c);
}

static void
ssh_chan_free(struct ssh_chan *c)
{
	struct ssh_bastion	*b = c->b;

	TAILQ_REMOVE(&b->chans, c, entry);
	b->nchans--;
	ssh_chan_release(b, c->ch);
	ssh_chan_destroy(c);
	if (b->retired && b->nchans == 0)
		event_active(b->pool->reap, EV_TIMEOUT, 0);
}

void
ssh_chan_step_all(struct ssh_bastion *b)
{
	struct ssh_chan	*c, *next;

	for (c = TAILQ_FIRST(&b->chans); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->closed) {
			if (evbuffer_get_length(c->up) > 0 ||
			    (c->up_eof && !c->eof_sent))
				ssh_chan_flush_up(c);
			if (b->broken)
				return;
			ssh_chan_pump_down(c);
			if (b->broken)
				return;
			if (c->down_eof && !c->gone && !c->closed)
				ssh_chan_check_closed(c);
			if (b->broken)
				return;
			if (c->blocked && !c->closed &&
			    evbuffer_get_length(c->up) < LINK_LOW_WATER) {
				c->blocked = 0;
				if (c->link.user != NULL)
					c->link.user->writable(
					    c->link.user_arg);
			}
		}
		if (c->closed)
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
	struct ssh_chan_list	 orphans;
	struct ssh_chan		*c;
	char			 why[1200];

	snprintf(why, sizeof(why), "bastion %s: %s", b->set.name,
	    b->last_error[0] != '\0' ? b->last_error : "closed");
	TAILQ_INIT(&orphans);
	while ((c = TAILQ_FIRST(&b->chans)) != NULL) {
		TAILQ_REMOVE(&b->chans, c, entry);
		b->nchans--;
		ssh_chan_release(b, c->ch);
		c->ch = NULL;
		if (c->closed) {
			ssh_chan_destroy(c);
			continue;
		}
		c->b = NULL;		/* the user's link_close frees it */
		TAILQ_INSERT_TAIL(&orphans, c, entry);
	}
	if (b->ctl != NULL) {
		ssh_chan_release(b, b->ctl);
		b->ctl = NULL;
	}
	while ((c = TAILQ_FIRST(&b->closing)) != NULL) {
		TAILQ_REMOVE(&b->closing, c, entry);
		libssh2_channel_free(c->ch);
		free(c);
	}
	/* Tell the users last: they may close their links right away. */
	while ((c = TAILQ_FIRST(&orphans)) != NULL) {
		TAILQ_REMOVE(&orphans, c, entry);
		if (c->link.user != NULL)
			c->link.user->error(c->link.user_arg, why);
	}
}

/* ------------------------------------------------------------------ */
/* link_ops: what the user calls.  Never a user callback from here. */

static int
ssh_chan_write(struct link *l, struct evbuffer *buf)
{
	struct ssh_chan	*c = ssh_chan_of(l);

	if (c->b == NULL || c->write_dead || c->up_eof) {
		evbuffer_drain(buf, evbuffer_get_length(buf));
		return (c->b == NULL ? -1 : 0);
	}
	evbuffer_add_buffer(c->up, buf);
	ssh_chan_poke(c);
	/* Whatever mark the user stops at, writable() will follow. */
	if (evbuffer_get_length(c->up) >= LINK_LOW_WATER)
		c->blocked = 1;
	return (0);
}

static size_t
ssh_chan_pending(const struct link *l)
{
	return (evbuffer_get_length(ssh_chan_of(l)->up));
}

static void
ssh_chan_shutdown(struct link *l)
{
	struct ssh_chan	*c = ssh_chan_of(l);

	if (c->up_eof)
		return;
	c->up_eof = 1;
	ssh_chan_poke(c);
}

static void
ssh_chan_pause(struct link *l, int on)
{
	struct ssh_chan	*c = ssh_chan_of(l);

	if (c->paused == on)
		return;
	c->paused = on;
	/* Data libssh2 holds already is not announced by the socket. */
	if (!on && c->b != NULL && c->b->state == SSH_READY)
		ssh_drive_soon(c->b);
}

static void
ssh_chan_close(struct link *l)
{
	struct ssh_chan	*c = ssh_chan_of(l);

	c->link.user = NULL;
	c->closed = 1;
	if (c->b == NULL) {		/* orphaned: nothing else holds it */
		ssh_chan_destroy(c);
		return;
	}
	ssh_drive_soon(c->b);
}

static const struct link_ops ssh_chan_link_ops = {
	ssh_chan_write,
	ssh_chan_pending,
	ssh_chan_shutdown,
	ssh_chan_pause,
	ssh_chan_close
};
