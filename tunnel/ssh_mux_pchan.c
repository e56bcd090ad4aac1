/*
 * ssh_mux_pchan.c: a channel of mux_forward = proxy (ssh_mux_proxy.c
 * says how it works): its state, the master's messages for it, and the
 * link (link.h) its user drives.  Never a user callback from inside a
 * link op; freed from its connection's kick.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conf.h"
#include "dial_int.h"
#include "link.h"
#include "log.h"
#include "ssh_int.h"
#include "ssh_mux_proxy_int.h"
#include "ssh_mux_wire.h"

static const struct link_ops muxp_link_ops;

static struct muxp_chan *
muxp_of(const struct link *l)
{
	return ((struct muxp_chan *)(void *)((char *)(uintptr_t)l -
	    offsetof(struct muxp_chan, link)));
}

/* Client bytes to the server, as far as its window and pc->out allow. */
void
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
void
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

void
muxp_chan_destroy(struct muxp_chan *ch)
{
	if (ch->up != NULL)
		evbuffer_free(ch->up);
	if (ch->held != NULL)
		evbuffer_free(ch->held);
	free(ch);
}

/* Take ch out of its connection's table (its id may be reused). */
void
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

struct muxp_chan *
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
void
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
int
muxp_chan_dispatch(struct muxp_conn *pc, const struct ssh_mux_pmsg *m)
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

/*
 * A DATA message's bytes, still in pc->in after its header: to the
 * user's buffer without a copy (sink), or data() extent by extent, or
 * held.  -1: a protocol error (past the window, after EOF).
 */
int
muxp_chan_data(struct muxp_conn *pc, uint32_t id, size_t len)
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
	    ch->held) > 0 || ch->consumed >= MUXP_ADJUST_MIN ||
	    ch->lwin < MUXP_WINDOW / 2 || (ch->eof_rcvd &&
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
