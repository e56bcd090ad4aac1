/*
 * ssh_mux_proxy.c: mux_forward = proxy, the OpenSSH engine's channels as
 * links (link.h), spoken through the master's MUX_C_PROXY.  This file
 * holds the proxy connections; ssh_mux_pchan.c the channels on them
 * (private ssh_mux_proxy_int.h between the two).
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
#include "ssh_mux_proxy_int.h"
#include "ssh_mux_wire.h"

/* Proxy connections per master (see above; -D for a benchmark). */
#ifndef MUXP_CONNS
#define MUXP_CONNS		4
#endif
/* Read from the master at most this much per callback. */
#define MUXP_READ_MAX		(256 * 1024)

static void	muxp_conn_lost(struct muxp_conn *, const char *);
static void	muxp_conn_free(struct muxp_conn *);

/* ------------------------------------------------------------------ */
/* Output toward the master. */

void
muxp_schedule(struct muxp_conn *pc)
{
	if (pc->state == MUXP_READY && evbuffer_get_length(pc->out) > 0)
		event_active(pc->flush, EV_TIMEOUT, 0);
}

void
muxp_send(struct muxp_conn *pc, uint8_t type, uint32_t peer, uint32_t value)
{
	unsigned char	buf[16];
	size_t		n;

	n = ssh_mux_proxy_msg(buf, sizeof(buf), type, peer, value);
	evbuffer_add(pc->out, buf, n);
	muxp_schedule(pc);
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
			if (muxp_chan_data(pc, id, dlen) != 0)
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
			if (used <= 0 || muxp_chan_dispatch(pc, &m) != 0)
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

