/*
 * ssh_mux_proxy.c: mux_forward = proxy, the OpenSSH engine's channels as
 * links (link.h), spoken through the master's MUX_C_PROXY.
 *
 * A proxy connection is a control connection that, after MUX_C_PROXY,
 * carries SSH connection-protocol messages (RFC 4254) which the master
 * relays to and from the server, rewriting only its own channel ids
 * (OpenSSH's channels.c: channel_proxy_downstream/_upstream).  postern
 * then is the channel's end: it opens direct-tcpip channels, keeps both
 * windows, sends EOF and CLOSE itself, as ssh_channel.c does with
 * libssh2.  What this buys over a stdio forward per session (ssh_mux.c):
 * no control connection, socketpair and fd passing per open, and the
 * master relays packets instead of reading and writing a socket per
 * channel; measured (tests/bench/README.md) at 0.38x-0.48x of ssh -L's
 * master CPU per open.
 *
 *   client -- relay -- link -- proxy connection -- master -- bastion
 *
 * The master reads one message per proxy connection per turn of its
 * loop (channel_post_mux_client_read reads exactly one packet, for fd
 * passing), so MUXP_CONNS connections are kept, made when the master is
 * ready, and each open goes to the one with the fewest channels: a burst
 * of opens is spread over them.
 *
 * Up (user to bastion): link_write() queues in ch->up; what the server's
 * window and its maximum packet allow is framed into pc->out at once, and
 * pc->out is written from the loop (one write for all that a turn
 * queued).  Above MUXP_OUT_HIGH in pc->out, channels wait in pc->blocked
 * for the socket to drain.  writable() follows when ch->up drops below
 * LINK_LOW_WATER after having been at or above it.
 * Down: DATA goes to the user's data() at once; while the user is paused
 * it waits in ch->held, and no window adjust is sent for it, so the
 * server stops at the window (MUXP_WINDOW): a slow client costs at most
 * one window plus the relay's high mark, and the other channels on the
 * connection go on.
 *
 * End: the server's EOF is eof(), its CLOSE closed() (after held data
 * and EOF); link_close() sends our CLOSE if not sent.  A channel's id is
 * reused only after CLOSE went both ways.  Channels are freed from the
 * connection's kick event, never inside a user callback or a link op.
 * The proxy connection's loss (the master gone) is error() for every
 * open channel and a failed dial for every opening one.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conf.h"
#include "dial_int.h"
#include "link.h"
#include "log.h"
#include "ssh_int.h"
#include "ssh_mux_int.h"
#include "ssh_mux_wire.h"

/* Proxy connections per master (see above). */
#define MUXP_CONNS		4
/* Our window and largest packet: what ssh -L offers (channels.h). */
#define MUXP_WINDOW		(2 * 1024 * 1024)
#define MUXP_MAXPKT		(32 * 1024)
/* Bytes given back to the server in one adjust, at least. */
#define MUXP_ADJUST_MIN		(3 * MUXP_MAXPKT)
/* Queued toward the master above this: channels wait. */
#define MUXP_OUT_HIGH		(256 * 1024)
/* Read from the master at most this much per callback. */
#define MUXP_READ_MAX		(256 * 1024)

enum muxp_state {
	MUXP_ASKING,		/* MUX_C_PROXY sent, no answer yet */
	MUXP_READY
};

enum muxp_chan_state {
	MUXP_OPENING,
	MUXP_OPEN,
	MUXP_DONE		/* to be freed by the kick */
};

TAILQ_HEAD(muxp_chan_list, muxp_chan);

struct muxp_conn {
	TAILQ_ENTRY(muxp_conn)	 entry;
	struct ssh_bastion	*b;		/* NULL: stopped, being freed */
	int			 fd;
	enum muxp_state		 state;
	uint32_t		 rid;
	struct event		*rev, *flush, *kick;
	struct evbuffer		*in, *out;
	struct muxp_chan	**chans;	/* by our channel id */
	uint32_t		 nalloc, hint;
	unsigned int		 nchans;
	struct muxp_chan_list	 blocked;	/* waiting for pc->out */
	struct muxp_chan_list	 kicked;	/* for the kick: to free, or
						   to deliver to */
	int			 dispatching;
	int			 eof;		/* the master closed it */
};

struct muxp_chan {
	struct link		 link;
	struct muxp_conn	*pc;		/* NULL: orphaned */
	TAILQ_ENTRY(muxp_chan)	 bentry;
	int			 queued;	/* in pc->blocked */
	TAILQ_ENTRY(muxp_chan)	 kentry;
	int			 kicked;	/* in pc->kicked */
	enum muxp_chan_state	 state;
	uint32_t		 id, peer;
	struct dial		*d;		/* while opening */
	uint32_t		 rwin, rmax;	/* the server's window, packet */
	uint32_t		 lwin;		/* what the server may still send */
	uint32_t		 consumed;	/* delivered, not yet adjusted */
	struct evbuffer		*up, *held;
	unsigned int		 paused:1, up_eof:1, eof_sent:1, close_sent:1,
				 eof_rcvd:1, eof_told:1, close_rcvd:1,
				 close_told:1, gone:1, owe_writable:1,
				 counted:1;
};

static const struct link_ops muxp_link_ops;
static void	muxp_conn_lost(struct muxp_conn *, const char *);
static void	muxp_conn_free(struct muxp_conn *);

static struct muxp_chan *
muxp_of(const struct link *l)
{
	return ((struct muxp_chan *)(void *)((char *)(uintptr_t)l -
	    offsetof(struct muxp_chan, link)));
}

/* ------------------------------------------------------------------ */
/* Output toward the master. */

static void
muxp_schedule(struct muxp_conn *pc)
{
	if (pc->state == MUXP_READY && evbuffer_get_length(pc->out) > 0)
		event_active(pc->flush, EV_TIMEOUT, 0);
}

static void
muxp_send(struct muxp_conn *pc, uint8_t type, uint32_t peer, uint32_t value)
{
	unsigned char	buf[16];
	size_t		n;

	n = ssh_mux_proxy_msg(buf, sizeof(buf), type, peer, value);
	evbuffer_add(pc->out, buf, n);
	muxp_schedule(pc);
}

/* Client bytes to the server, as far as its window and pc->out allow. */
static void
muxp_chan_flush(struct muxp_chan *ch)
{
	struct muxp_conn	*pc = ch->pc;
	unsigned char		 hdr[MUX_PROXY_DATA_HDR];
	size_t			 len, n;

	if (pc == NULL || ch->state != MUXP_OPEN || ch->close_sent)
		return;
	while ((len = evbuffer_get_length(ch->up)) > 0 && ch->rwin > 0) {
		if (evbuffer_get_length(pc->out) >= MUXP_OUT_HIGH) {
			if (!ch->queued) {
				TAILQ_INSERT_TAIL(&pc->blocked, ch, bentry);
				ch->queued = 1;
			}
			break;
		}
		n = len;
		if (n > ch->rwin)
			n = ch->rwin;
		if (n > ch->rmax)
			n = ch->rmax;
		ssh_mux_proxy_data_hdr(hdr, ch->peer, (uint32_t)n);
		evbuffer_add(pc->out, hdr, sizeof(hdr));
		evbuffer_remove_buffer(ch->up, pc->out, n);
		ch->rwin -= (uint32_t)n;
	}
	if (evbuffer_get_length(ch->up) == 0 && ch->up_eof && !ch->eof_sent) {
		ch->eof_sent = 1;
		muxp_send(pc, SSH_MSG_CHANNEL_EOF, ch->peer, 0);
	}
	muxp_schedule(pc);
}

/* What a write left owed: writable() once ch->up is low again. */
static void
muxp_chan_tell_writable(struct muxp_chan *ch)
{
	if (ch->owe_writable && evbuffer_get_length(ch->up) < LINK_LOW_WATER &&
	    !ch->gone) {
		ch->owe_writable = 0;
		if (ch->link.user != NULL)
			ch->link.user->writable(ch->link.user_arg);
	}
}

static void
muxp_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct muxp_conn	*pc = arg;
	struct muxp_chan	*ch;
	int			 n;

	if (pc->b == NULL || pc->state != MUXP_READY)
		return;
	while (evbuffer_get_length(pc->out) > 0) {
		n = evbuffer_write(pc->out, pc->fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			muxp_conn_lost(pc, strerror(errno));
			return;
		}
	}
	if (evbuffer_get_length(pc->out) > 0) {
		/* The master is slow to read: wait for the socket. */
		event_del(pc->flush);
		event_assign(pc->flush, event_get_base(pc->rev), pc->fd,
		    EV_WRITE, muxp_flush_cb, pc);
		event_add(pc->flush, NULL);
		return;
	}
	if (event_get_fd(pc->flush) != -1) {
		event_del(pc->flush);
		event_assign(pc->flush, event_get_base(pc->rev), -1, 0,
		    muxp_flush_cb, pc);
	}
	/* Room again: the channels that waited, in their order. */
	pc->dispatching++;
	while ((ch = TAILQ_FIRST(&pc->blocked)) != NULL &&
	    evbuffer_get_length(pc->out) < MUXP_OUT_HIGH && pc->b != NULL) {
		TAILQ_REMOVE(&pc->blocked, ch, bentry);
		ch->queued = 0;
		muxp_chan_flush(ch);
		muxp_chan_tell_writable(ch);
	}
	pc->dispatching--;
	if (pc->b == NULL)
		muxp_conn_free(pc);	/* stopped meanwhile */
	else
		muxp_schedule(pc);
}

/* ------------------------------------------------------------------ */
/* Channels. */

static void
muxp_chan_unqueue(struct muxp_chan *ch)
{
	if (ch->queued && ch->pc != NULL) {
		TAILQ_REMOVE(&ch->pc->blocked, ch, bentry);
		ch->queued = 0;
	}
}

/* Have the kick look at ch (from the loop, never inside a call). */
static void
muxp_chan_kick(struct muxp_chan *ch)
{
	struct muxp_conn	*pc = ch->pc;

	if (pc == NULL)
		return;
	if (!ch->kicked) {
		TAILQ_INSERT_TAIL(&pc->kicked, ch, kentry);
		ch->kicked = 1;
	}
	event_active(pc->kick, EV_TIMEOUT, 0);
}

static void
muxp_chan_destroy(struct muxp_chan *ch)
{
	if (ch->up != NULL)
		evbuffer_free(ch->up);
	if (ch->held != NULL)
		evbuffer_free(ch->held);
	free(ch);
}

/* Take ch out of its connection's table (its id may be reused). */
static void
muxp_chan_detach(struct muxp_chan *ch, struct ssh_bastion *b)
{
	struct muxp_conn	*pc = ch->pc;

	if (pc == NULL)
		return;
	muxp_chan_unqueue(ch);
	if (ch->kicked) {
		TAILQ_REMOVE(&pc->kicked, ch, kentry);
		ch->kicked = 0;
	}
	pc->chans[ch->id] = NULL;
	pc->nchans--;
	if (ch->id < pc->hint)
		pc->hint = ch->id;
	if (ch->counted && b != NULL && b->nchans > 0) {
		b->nchans--;
		if (b->retired && b->nchans == 0)
			event_active(b->pool->reap, EV_TIMEOUT, 0);
	}
	ch->counted = 0;
	ch->pc = NULL;
}

/* Done on both sides: free it from the kick. */
static void
muxp_chan_done(struct muxp_chan *ch)
{
	ch->state = MUXP_DONE;
	muxp_chan_kick(ch);
}

static struct muxp_chan *
muxp_chan_new(struct muxp_conn *pc)
{
	struct muxp_chan	**grown, *ch;
	uint32_t		  i, n;

	for (i = pc->hint; i < pc->nalloc; i++)
		if (pc->chans[i] == NULL)
			break;
	if (i == pc->nalloc) {
		n = pc->nalloc == 0 ? 64 : pc->nalloc * 2;
		if (n > 1U << 24 || (grown = reallocarray(pc->chans, n,
		    sizeof(*grown))) == NULL)
			return (NULL);
		memset(grown + pc->nalloc, 0, (n - pc->nalloc) *
		    sizeof(*grown));
		pc->chans = grown;
		pc->nalloc = n;
	}
	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return (NULL);
	if ((ch->up = evbuffer_new()) == NULL ||
	    (ch->held = evbuffer_new()) == NULL) {
		muxp_chan_destroy(ch);
		return (NULL);
	}
	ch->link.ops = &muxp_link_ops;
	ch->pc = pc;
	ch->id = i;
	ch->paused = 1;			/* until a user attaches */
	ch->lwin = MUXP_WINDOW;
	pc->chans[i] = ch;
	pc->hint = i + 1;
	pc->nchans++;
	return (ch);
}

/*
 * Hand the user what the server sent, in order: held data (until the
 * user pauses), then EOF, then the close.  Then give the window back for
 * what the user took.
 */
static void
muxp_chan_deliver(struct muxp_chan *ch)
{
	struct evbuffer_iovec	 v;
	size_t			 n;

	while (!ch->paused && !ch->gone && ch->state == MUXP_OPEN &&
	    evbuffer_peek(ch->held, -1, NULL, &v, 1) > 0) {
		n = v.iov_len;
		ch->consumed += (uint32_t)n;
		ch->link.user->data(ch->link.user_arg, v.iov_base, n);
		if (ch->gone)
			return;
		evbuffer_drain(ch->held, n);
	}
	/* EOF and the close are no data: a pause holds them only behind
	   held bytes (a user that paused after the last byte still hears
	   the end). */
	if (ch->gone || ch->state != MUXP_OPEN ||
	    evbuffer_get_length(ch->held) > 0 || ch->link.user == NULL)
		goto adjust;
	if (ch->eof_rcvd && !ch->eof_told) {
		ch->eof_told = 1;
		ch->link.user->eof(ch->link.user_arg);
	}
	if (ch->close_rcvd && !ch->close_told && !ch->gone) {
		ch->close_told = 1;
		evbuffer_drain(ch->up, evbuffer_get_length(ch->up));
		ch->link.user->closed(ch->link.user_arg);
	}
adjust:
	if (ch->pc != NULL && ch->state == MUXP_OPEN && !ch->close_sent &&
	    !ch->close_rcvd && !ch->eof_rcvd && ch->consumed > 0 &&
	    (ch->consumed >= MUXP_ADJUST_MIN || ch->lwin < MUXP_WINDOW / 2)) {
		muxp_send(ch->pc, SSH_MSG_CHANNEL_WINDOW_ADJUST, ch->peer,
		    ch->consumed);
		ch->lwin += ch->consumed;
		ch->consumed = 0;
	}
}

/* The open ended: the dial gets the link, or the reason. */
static void
muxp_chan_opened(struct muxp_chan *ch, const struct ssh_mux_pmsg *m)
{
	struct muxp_conn	*pc = ch->pc;
	struct ssh_bastion	*b = pc->b;
	struct dial		*d = ch->d;

	ch->d = NULL;
	if (d != NULL)
		d->ssh_mproxy = NULL;
	if (b->mux.proxy_opening > 0)
		b->mux.proxy_opening--;
	if (m->type == SSH_MSG_CHANNEL_OPEN_FAILURE) {
		muxp_chan_done(ch);
		if (d == NULL)
			return;		/* cancelled meanwhile */
		snprintf(d->detail, sizeof(d->detail), "bastion %.60s: "
		    "channel open failed: %s: %.*s", b->set.name,
		    ssh_mux_proxy_reason(m->code), (int)(m->len > 300 ? 300 :
		    m->len), (const char *)m->data);
		log_clean(d->detail);
		dial_finish(d, DIAL_SSH, NULL);
		return;
	}
	ch->state = MUXP_OPEN;
	ch->peer = m->peer;
	ch->rwin = m->window;
	ch->rmax = m->maxpkt > MUXP_MAXPKT ? MUXP_MAXPKT : m->maxpkt;
	if (ch->rmax == 0)
		ch->rmax = 1;
	ch->counted = 1;
	b->nchans++;
	if (d == NULL) {
		/* Cancelled while opening: close it at once. */
		ch->gone = 1;
		ch->close_sent = 1;
		muxp_send(pc, SSH_MSG_CHANNEL_CLOSE, ch->peer, 0);
		return;
	}
	snprintf(d->detail, sizeof(d->detail), "via %s (OpenSSH mux proxy)",
	    b->via);
	d->link = &ch->link;
	dial_finish(d, DIAL_OK, NULL);
}

/* One message from the master. */
static int
muxp_dispatch(struct muxp_conn *pc, const struct ssh_mux_pmsg *m)
{
	struct muxp_chan	*ch;

	if (m->type < SSH_MSG_CHANNEL_OPEN_CONFIRMATION ||
	    m->type > SSH_MSG_CHANNEL_FAILURE)
		return (0);		/* nothing of ours: ignored */
	if (m->chan >= pc->nalloc || (ch = pc->chans[m->chan]) == NULL ||
	    ch->state == MUXP_DONE)
		return (-1);
	if (ch->state == MUXP_OPENING) {
		if (m->type != SSH_MSG_CHANNEL_OPEN_CONFIRMATION &&
		    m->type != SSH_MSG_CHANNEL_OPEN_FAILURE)
			return (-1);
		muxp_chan_opened(ch, m);
		return (0);
	}
	switch (m->type) {
	case SSH_MSG_CHANNEL_WINDOW_ADJUST:
		if (m->window > UINT32_MAX - ch->rwin)
			return (-1);
		ch->rwin += m->window;
		muxp_chan_flush(ch);
		muxp_chan_tell_writable(ch);
		break;
	case SSH_MSG_CHANNEL_DATA:
	case SSH_MSG_CHANNEL_EXTENDED_DATA:
		if (m->len > ch->lwin || ch->eof_rcvd || ch->close_rcvd)
			return (-1);	/* past the window, or after EOF */
		ch->lwin -= (uint32_t)m->len;
		if (m->type == SSH_MSG_CHANNEL_EXTENDED_DATA || ch->gone) {
			ch->consumed += (uint32_t)m->len;	/* dropped */
			break;
		}
		if (!ch->paused && evbuffer_get_length(ch->held) == 0) {
			ch->consumed += (uint32_t)m->len;
			ch->link.user->data(ch->link.user_arg, m->data, m->len);
		} else
			evbuffer_add(ch->held, m->data, m->len);
		break;
	case SSH_MSG_CHANNEL_EOF:
		ch->eof_rcvd = 1;
		break;
	case SSH_MSG_CHANNEL_CLOSE:
		if (ch->close_rcvd)
			return (-1);
		ch->close_rcvd = 1;
		ch->eof_rcvd = 1;
		muxp_chan_unqueue(ch);
		if (!ch->close_sent) {
			ch->close_sent = 1;
			muxp_send(pc, SSH_MSG_CHANNEL_CLOSE, ch->peer, 0);
		}
		if (ch->gone)
			muxp_chan_done(ch);
		break;
	case SSH_MSG_CHANNEL_REQUEST:
		/* None is ours to grant (sshd sends none for direct-tcpip). */
		if (m->want_reply && !ch->close_sent)
			muxp_send(pc, SSH_MSG_CHANNEL_FAILURE, ch->peer, 0);
		break;
	default:		/* SUCCESS, FAILURE: we asked nothing */
		break;
	}
	if (!ch->gone && pc->b != NULL && ch->state == MUXP_OPEN)
		muxp_chan_deliver(ch);
	return (0);
}

/* ------------------------------------------------------------------ */
/* Proxy connections. */

static void
muxp_conn_free(struct muxp_conn *pc)
{
	if (pc->rev != NULL)
		event_free(pc->rev);
	if (pc->flush != NULL)
		event_free(pc->flush);
	if (pc->kick != NULL)
		event_free(pc->kick);
	if (pc->in != NULL)
		evbuffer_free(pc->in);
	if (pc->out != NULL)
		evbuffer_free(pc->out);
	if (pc->fd != -1)
		close(pc->fd);
	free(pc->chans);
	free(pc);
}

/*
 * pc is broken (why: the proxy connection's own failure, logged), or its
 * bastion stopped it (why NULL, detail: the bastion's reason): fail its
 * opens, orphan its open channels (error() to their users, whose
 * link_close() frees them), and free it, unless a callback of its own is
 * under way (which frees it when it returns: pc->b is then NULL).
 */
static void
muxp_conn_end(struct muxp_conn *pc, const char *why, const char *detail)
{
	struct ssh_bastion	*b = pc->b;
	struct muxp_chan_list	 orphans;
	struct muxp_chan	*ch;
	struct dial		*d;
	char			 msg[700];
	uint32_t		 i;

	if (b != NULL) {
		TAILQ_REMOVE(&b->mux.proxies, pc, entry);
		if (why != NULL) {
			/* EOF: the master's end, which its stderr tells. */
			if (pc->eof)
				log_debug("%s: proxy connection to the ssh "
				    "master lost: %s", b->label, why);
			else
				log_warnx("%s: proxy connection to the ssh "
				    "master lost: %s", b->label, why);
			snprintf(msg, sizeof(msg), "bastion %s: proxy "
			    "connection to the ssh master lost: %s",
			    b->set.name, why);
		} else
			snprintf(msg, sizeof(msg), "%s", detail != NULL ?
			    detail : "bastion closed");
		event_del(pc->rev);
		event_del(pc->flush);
	} else
		snprintf(msg, sizeof(msg), "bastion closed");
	TAILQ_INIT(&orphans);
	for (i = 0; i < pc->nalloc; i++) {
		if ((ch = pc->chans[i]) == NULL)
			continue;
		muxp_chan_detach(ch, b);
		if (ch->state == MUXP_OPENING && b != NULL &&
		    b->mux.proxy_opening > 0)
			b->mux.proxy_opening--;
		d = ch->d;
		ch->d = NULL;
		if (d != NULL) {
			d->ssh_mproxy = NULL;
			snprintf(d->detail, sizeof(d->detail), "%s", msg);
			dial_finish(d, DIAL_SSH, NULL);
		}
		if (ch->gone || ch->state != MUXP_OPEN)
			muxp_chan_destroy(ch);
		else
			TAILQ_INSERT_TAIL(&orphans, ch, bentry);
	}
	pc->b = NULL;
	while ((ch = TAILQ_FIRST(&orphans)) != NULL) {
		TAILQ_REMOVE(&orphans, ch, bentry);
		ch->state = MUXP_DONE;	/* link_close() frees it */
		if (ch->link.user != NULL)
			ch->link.user->error(ch->link.user_arg, msg);
	}
	if (pc->dispatching == 0)
		muxp_conn_free(pc);
}

static void
muxp_conn_lost(struct muxp_conn *pc, const char *why)
{
	muxp_conn_end(pc, why, NULL);
}

/*
 * A DATA message's bytes, still in pc->in after its header: to the
 * user's buffer without a copy (sink), or data() extent by extent, or
 * held.  -1: a protocol error (past the window, after EOF).
 */
static int
muxp_data(struct muxp_conn *pc, uint32_t id, size_t len)
{
	struct muxp_chan	*ch;
	struct evbuffer		*sink;
	struct evbuffer_iovec	 v;
	size_t			 before, n;

	if (id >= pc->nalloc || (ch = pc->chans[id]) == NULL ||
	    ch->state != MUXP_OPEN || len > ch->lwin || ch->eof_rcvd ||
	    ch->close_rcvd)
		return (-1);
	ch->lwin -= (uint32_t)len;
	if (ch->gone) {
		ch->consumed += (uint32_t)len;		/* dropped */
		evbuffer_drain(pc->in, len);
		return (0);
	}
	if (ch->paused || evbuffer_get_length(ch->held) > 0 ||
	    ch->link.user == NULL) {
		evbuffer_remove_buffer(pc->in, ch->held, len);
		return (0);
	}
	ch->consumed += (uint32_t)len;
	if (ch->link.user->sink != NULL) {
		sink = ch->link.user->sink(ch->link.user_arg);
		if (sink == NULL) {
			evbuffer_drain(pc->in, len);	/* the user drops them */
			return (0);
		}
		before = evbuffer_get_length(sink);
		evbuffer_remove_buffer(pc->in, sink, len);
		ch->link.user->appended(ch->link.user_arg, before, len);
	} else {
		while (len > 0 && evbuffer_peek(pc->in, (ssize_t)len, NULL,
		    &v, 1) > 0) {
			n = v.iov_len < len ? v.iov_len : len;
			ch->link.user->data(ch->link.user_arg, v.iov_base, n);
			evbuffer_drain(pc->in, n);
			len -= n;
			if (ch->gone || ch->paused)
				break;
		}
		if (len > 0 && !ch->gone)
			evbuffer_remove_buffer(pc->in, ch->held, len);
		else
			evbuffer_drain(pc->in, len);
	}
	if (!ch->gone && pc->b != NULL)
		muxp_chan_deliver(ch);		/* the window */
	return (0);
}

/* Read what the master sent, MUXP_READ_MAX at most a call. */
static int
muxp_read(struct muxp_conn *pc)
{
	struct evbuffer_iovec	 v[2];
	struct iovec		 io[2];
	ssize_t			 n;
	size_t			 total = 0;
	int			 nv, i;

	while (total < MUXP_READ_MAX) {
		if ((nv = evbuffer_reserve_space(pc->in, 64 * 1024, v, 2)) <= 0)
			return (-1);
		for (i = 0; i < nv; i++) {
			io[i].iov_base = v[i].iov_base;
			io[i].iov_len = v[i].iov_len;
		}
		n = readv(pc->fd, io, nv);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			evbuffer_commit_space(pc->in, v, 0);
			if (n < 0 && errno == EAGAIN)
				return (total > 0 ? 1 : 0);
			if (n == 0)
				errno = 0;
			return (total > 0 && n == 0 ? 1 : -1);
		}
		for (i = 0; i < nv; i++) {
			if ((size_t)n <= v[i].iov_len) {
				v[i].iov_len = (size_t)n;
				nv = i + 1;
				break;
			}
			n -= (ssize_t)v[i].iov_len;
		}
		for (i = 0, n = 0; i < nv; i++)
			n += (ssize_t)v[i].iov_len;
		evbuffer_commit_space(pc->in, v, nv);
		total += (size_t)n;
		if ((size_t)n < io[0].iov_len + (nv > 1 ? io[1].iov_len : 0))
			break;			/* drained the socket */
	}
	return (1);
}

static void
muxp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct muxp_conn	*pc = arg;
	struct ssh_mux_msg	 rep;
	struct ssh_mux_pmsg	 m;
	unsigned char		*p, hdr[MUX_PROXY_DATA_HDR];
	size_t			 have, need;
	uint32_t		 id, dlen;
	long			 used;
	int			 r;

	if ((r = muxp_read(pc)) == 0)
		return;
	if (r < 0) {
		pc->eof = errno == 0;
		muxp_conn_lost(pc, errno == 0 ? "the ssh master closed it" :
		    strerror(errno));
		return;
	}
	pc->dispatching++;
	while (pc->b != NULL && (have = evbuffer_get_length(pc->in)) >= 4) {
		evbuffer_copyout(pc->in, hdr, have < sizeof(hdr) ? have :
		    sizeof(hdr));
		need = 4 + ((size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
		    (size_t)hdr[2] << 8 | hdr[3]);
		if (need > MUX_PROXY_MSG_MAX + 4) {
			used = -1;
			goto bad;
		}
		if (have < need)
			break;
		if (pc->state == MUXP_READY && have >= sizeof(hdr) &&
		    ssh_mux_proxy_data_peek(hdr, &id, &dlen)) {
			evbuffer_drain(pc->in, sizeof(hdr));
			if (muxp_data(pc, id, dlen) != 0)
				goto bad;
			continue;
		}
		p = evbuffer_pullup(pc->in, (ssize_t)need);
		if (pc->state == MUXP_ASKING) {
			used = ssh_mux_parse(p, need, &rep);
			if (used <= 0)
				goto bad;
			if (rep.type == MUX_S_PROXY && rep.rid == pc->rid) {
				pc->state = MUXP_READY;
				muxp_schedule(pc);
			} else if (rep.type != MUX_MSG_HELLO) {
				evbuffer_drain(pc->in, (size_t)used);
				pc->dispatching--;
				muxp_conn_lost(pc, "the ssh master refused "
				    "MUX_C_PROXY");
				return;
			}
		} else {
			used = ssh_mux_proxy_parse(p, need, &m);
			if (used <= 0 || muxp_dispatch(pc, &m) != 0)
				goto bad;
		}
		evbuffer_drain(pc->in, (size_t)used);
	}
	pc->dispatching--;
	if (pc->b == NULL)
		muxp_conn_free(pc);	/* stopped meanwhile */
	return;
bad:
	pc->dispatching--;
	if (pc->b == NULL)
		muxp_conn_free(pc);	/* stopped meanwhile */
	else
		muxp_conn_lost(pc, "bad message from the ssh master");
}

/*
 * Channels done on both sides, freed here (never inside a callback), and
 * resumed ones, handed what waited.
 */
static void
muxp_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct muxp_conn	*pc = arg;
	struct muxp_chan	*ch;
	unsigned int		 n = 0;

	pc->dispatching++;
	/* Bounded: a channel kicked again meanwhile waits for the next. */
	while (pc->b != NULL && n++ < pc->nalloc &&
	    (ch = TAILQ_FIRST(&pc->kicked)) != NULL) {
		TAILQ_REMOVE(&pc->kicked, ch, kentry);
		ch->kicked = 0;
		if (ch->state == MUXP_DONE) {
			muxp_chan_detach(ch, pc->b);
			muxp_chan_destroy(ch);
		} else if (ch->state == MUXP_OPEN && !ch->gone)
			muxp_chan_deliver(ch);
	}
	pc->dispatching--;
	if (pc->b == NULL)
		muxp_conn_free(pc);	/* stopped meanwhile */
	else if (!TAILQ_EMPTY(&pc->kicked))
		event_active(pc->kick, EV_TIMEOUT, 0);
}

/* A new proxy connection to b's master: connected, MUX_C_PROXY sent. */
static struct muxp_conn *
muxp_conn_new(struct ssh_bastion *b)
{
	struct muxp_conn	*pc;
	struct sockaddr_un	 sun;
	unsigned char		 buf[32];
	size_t			 len;
	struct event_base	*base = b->pool->base;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return (NULL);
	pc->fd = -1;
	TAILQ_INIT(&pc->blocked);
	TAILQ_INIT(&pc->kicked);
	pc->rid = ++b->mux.rid;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, b->mux.path, sizeof(sun.sun_path));
	len = ssh_mux_encode_proxy(buf, sizeof(buf), pc->rid);
	if ((pc->in = evbuffer_new()) == NULL ||
	    (pc->out = evbuffer_new()) == NULL ||
	    (pc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    (pc->rev = event_new(base, pc->fd, EV_READ | EV_PERSIST,
	    muxp_read_cb, pc)) == NULL ||
	    (pc->flush = event_new(base, -1, 0, muxp_flush_cb, pc)) == NULL ||
	    (pc->kick = event_new(base, -1, 0, muxp_kick_cb, pc)) == NULL)
		goto fail;
	/*
	 * A full listen queue (EAGAIN) is a failure here, not a wait: the
	 * open goes to another connection, or a stdio forward.
	 */
	if (connect(pc->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    send(pc->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		log_debug("%s: proxy connection to the ssh master: %s",
		    b->label, strerror(errno));
		goto fail;
	}
	if (event_add(pc->rev, NULL) != 0)
		goto fail;
	pc->b = b;
	TAILQ_INSERT_TAIL(&b->mux.proxies, pc, entry);
	return (pc);
fail:
	muxp_conn_free(pc);
	return (NULL);
}

/* ------------------------------------------------------------------ */
/* Entry points (ssh_mux_int.h). */

void
ssh_mux_proxy_prepare(struct ssh_bastion *b)
{
	int	i, n = 0;
	struct muxp_conn *pc;

	TAILQ_FOREACH(pc, &b->mux.proxies, entry)
		n++;
	for (i = n; i < MUXP_CONNS; i++)
		if (muxp_conn_new(b) == NULL)
			break;
}

int
ssh_mux_proxy_dial(struct ssh_bastion *b, struct dial *d)
{
	struct muxp_conn	*pc, *best = NULL;
	struct muxp_chan	*ch;
	unsigned char		 buf[1200];
	size_t			 len;
	unsigned int		 n = 0;

	TAILQ_FOREACH(pc, &b->mux.proxies, entry) {
		n++;
		if (best == NULL || pc->nchans < best->nchans)
			best = pc;
	}
	if ((best == NULL || (best->nchans > 0 && n < MUXP_CONNS)) &&
	    (pc = muxp_conn_new(b)) != NULL)
		best = pc;
	if (best == NULL)
		return (-1);		/* by stdio, as before */
	len = ssh_mux_proxy_open(buf, sizeof(buf), 0, MUXP_WINDOW,
	    MUXP_MAXPKT, d->route->target.host, d->route->target.port);
	if (len == 0 || (ch = muxp_chan_new(best)) == NULL)
		return (-1);
	/* Our id, now known. */
	len = ssh_mux_proxy_open(buf, sizeof(buf), ch->id, MUXP_WINDOW,
	    MUXP_MAXPKT, d->route->target.host, d->route->target.port);
	ch->d = d;
	d->ssh_mproxy = ch;
	b->mux.proxy_opening++;
	evbuffer_add(best->out, buf, len);
	muxp_schedule(best);
	return (0);
}

void
ssh_mux_proxy_cancel(struct muxp_chan *ch)
{
	if (ch == NULL)
		return;
	if (ch->d != NULL)
		ch->d->ssh_mproxy = NULL;
	ch->d = NULL;		/* the answer closes or frees it */
}

void
ssh_mux_proxy_dial_timeout(struct dial *d)
{
	struct muxp_chan	*ch = d->ssh_mproxy;
	struct ssh_bastion	*b = ch->pc != NULL ? ch->pc->b : NULL;

	snprintf(d->detail, sizeof(d->detail), "connect timeout after %d ms "
	    "(bastion %s did not answer the channel open: it may not reach "
	    "%s:%u)", d->timeout_ms, b != NULL ? b->set.name :
	    d->route->bastion, d->route->target.host, d->route->target.port);
}

void
ssh_mux_proxy_stop(struct ssh_bastion *b, const char *detail)
{
	struct muxp_conn	*pc;

	while ((pc = TAILQ_FIRST(&b->mux.proxies)) != NULL)
		muxp_conn_end(pc, NULL, detail);
}

/* ------------------------------------------------------------------ */
/* link_ops: what the user calls.  Never a user callback from here. */

static int
muxp_write(struct link *l, struct evbuffer *buf)
{
	struct muxp_chan	*ch = muxp_of(l);

	if (ch->pc == NULL || ch->up_eof || ch->close_sent ||
	    ch->close_rcvd) {
		evbuffer_drain(buf, evbuffer_get_length(buf));
		return (ch->pc == NULL ? -1 : 0);
	}
	evbuffer_add_buffer(ch->up, buf);
	muxp_chan_flush(ch);
	if (evbuffer_get_length(ch->up) >= LINK_LOW_WATER)
		ch->owe_writable = 1;
	return (0);
}

static size_t
muxp_pending(const struct link *l)
{
	return (evbuffer_get_length(muxp_of(l)->up));
}

static void
muxp_shutdown(struct link *l)
{
	struct muxp_chan	*ch = muxp_of(l);

	ch->up_eof = 1;
	muxp_chan_flush(ch);
}

static void
muxp_pause(struct link *l, int on)
{
	struct muxp_chan	*ch = muxp_of(l);

	ch->paused = on != 0;
	/* Held bytes, EOF or close, and the window: from the loop. */
	if (!ch->paused && ch->state == MUXP_OPEN && (evbuffer_get_length(
	    ch->held) > 0 || ch->consumed > 0 || (ch->eof_rcvd &&
	    !ch->eof_told) || (ch->close_rcvd && !ch->close_told)))
		muxp_chan_kick(ch);
}

static void
muxp_close(struct link *l)
{
	struct muxp_chan	*ch = muxp_of(l);

	ch->link.user = NULL;
	ch->gone = 1;
	if (ch->pc == NULL) {
		muxp_chan_destroy(ch);	/* orphaned: ours alone */
		return;
	}
	muxp_chan_unqueue(ch);
	/* Not ch->held: data() may be reading it (freed with ch). */
	evbuffer_drain(ch->up, evbuffer_get_length(ch->up));
	if (!ch->close_sent) {
		ch->close_sent = 1;
		muxp_send(ch->pc, SSH_MSG_CHANNEL_CLOSE, ch->peer, 0);
	}
	if (ch->close_rcvd)
		muxp_chan_done(ch);
}

static const struct link_ops muxp_link_ops = {
	muxp_write, muxp_pending, muxp_shutdown, muxp_pause, muxp_close
};
