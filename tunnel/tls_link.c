/*
 * tls_link.c: a TLS upstream as a link (link.h), after the dial's
 * handshake (dial_tls.c).
 *
 *   client -- relay (fd engine) -- link -- SSL -- socket -- server
 *
 * The link owns the socket and the SSL and watches the socket with two
 * events of its own.  The read event stays armed while the user takes
 * data, so a request/response exchange costs no epoll_ctl; per readiness
 * SSL_read runs until OpenSSL holds nothing more (SSL_has_pending: whole
 * or partial records too, not just SSL_pending's decrypted bytes) or
 * wants more from the socket, and read-ahead fills its buffer with as
 * many records as one read(2) brings.  (libevent's OpenSSL bufferevent
 * drains only SSL_pending(), which is why read-ahead had to stay off
 * there.)
 *
 * Up: link_write() queues in t->up and, unless OpenSSL waits for the
 * socket, calls SSL_write at once; only a WANT_WRITE arms the write
 * event.  pending() is t->up.  Down: SSL_read hands its bytes to the
 * user's data() at once; pause(1) disarms the read event, and pause(0)
 * schedules a pass when OpenSSL still holds bytes (the socket would not
 * announce them).
 *
 * End: link_shutdown() sends close_notify once t->up is written, then
 * shuts the TCP write side; reading goes on.  The server's close_notify
 * or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF makes them alike) is eof() and at
 * once closed(): as before with libevent, a TLS upstream whose input
 * ended takes nothing more.  Errors are error(), from the loop.
 *
 * Lifetime: link_close() marks the link closed; it is freed from a
 * zero-timeout event, never inside a callback.
 *
 * Memory: an idle link gives back OpenSSL's record buffers with
 * SSL_free_buffers() once it has moved nothing for TLS_LINK_IDLE_MS (a
 * timer armed only while the link is busy, checked once a period).  Not
 * SSL_MODE_RELEASE_BUFFERS: it frees and allocates the read buffer per
 * record, which costs CPU on every request, and with read-ahead OpenSSL
 * 3.0 still kept the read buffer of most idle links (heaptrack, 200
 * idle sessions: 16.6 KB each before, 10.6 on average with it).
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "link.h"
#include "tls_link.h"

#define TLS_LINK_CHUNK	(16 * 1024)	/* one record's plaintext */
/*
 * Reading: OpenSSL's read-ahead buffer takes up to two records per
 * read(2), and the pump hands the user up to four records' plaintext at
 * once, copied by SSL_read straight into the user's buffer when it
 * offers one (sink, link.h), so that bulk downloads cost about two reads
 * per three records and a write per 64 KB, and no copy of ours (the
 * buffer is freed when idle).  Not more records per read: OpenSSL
 * (SSL3_ALIGN_PAYLOAD) memmoves what is left in the buffer to its start
 * before each record it parses from it, so a 4-record buffer moved 1.3
 * bytes per byte received and cost more CPU than the reads it spared
 * (1 MB GETs: 920 ms/GB against 650 with two records, 690 with one;
 * README, TLS performance).  Nor fewer: with one, a busy session holds
 * ~16 KB less (~69 KB against ~85 in tests/bench/busy.sh, 200 sessions
 * moving 1 MB values) for ~12 % more CPU per GB (README, "Busy
 * sessions"); the buffer goes when the link is idle.
 */
#ifndef TLS_LINK_RBUF_RECORDS	/* -D for tests/bench/busy.sh's variants */
#define TLS_LINK_RBUF_RECORDS	2
#endif
#define TLS_LINK_RBUF	(TLS_LINK_RBUF_RECORDS * (TLS_LINK_CHUNK + 512))
#define TLS_LINK_BATCH	(4 * TLS_LINK_CHUNK)
#define TLS_LINK_IDLE_MS	1000	/* then the record buffers go */

struct tls_link {
	struct link	 link;
	int		 fd;
	SSL		*ssl;
	struct event	*rev;		/* EV_READ | EV_PERSIST */
	struct event	*wev;		/* EV_WRITE | EV_PERSIST */
	struct event	*soon;		/* deferred work, the free */
	struct event	*idle;		/* frees the buffers of an idle link */
	int		 idle_armed;
	int		 busy;		/* moved bytes since the last check */
	struct evbuffer	*up;		/* toward the server */
	int		 reading, writing;	/* events armed */
	int		 paused;
	int		 wblocked;	/* a write waits for POLLOUT */
	int		 w_on_read;	/* a write waits for POLLIN */
	int		 r_on_write;	/* a read waits for POLLOUT */
	int		 up_eof;	/* link_shutdown() asked */
	int		 shut;		/* close_notify and FIN sent */
	int		 wdead;		/* a write failed: nothing goes up */
	int		 down_eof;	/* the server ended: eof() given */
	int		 blocked;	/* writable() owed */
	int		 failed;	/* broken: error() owed or given */
	int		 told;		/* error() given */
	int		 closed;	/* the user's link_close() */
	char		 why[256];
};

static const struct link_ops tls_link_ops;

static struct tls_link *
tls_link_of(const struct link *l)
{
	return ((struct tls_link *)(void *)((char *)(uintptr_t)l -
	    offsetof(struct tls_link, link)));
}

static void
tls_link_arm(struct tls_link *t)
{
	int	live = !t->closed && !t->failed;
	int	r, w;

	r = live && ((t->link.user != NULL && !t->paused && !t->down_eof) ||
	    t->w_on_read);
	w = live && (t->wblocked || t->r_on_write);
	if (r != t->reading) {
		if (r)
			event_add(t->rev, NULL);
		else
			event_del(t->rev);
		t->reading = r;
	}
	if (w != t->writing) {
		if (w)
			event_add(t->wev, NULL);
		else
			event_del(t->wev);
		t->writing = w;
	}
}

/*
 * What an SSL call's failure (SSL_get_error's e) means: "tls: reason"
 * for the TLS layer, else the socket's error.
 */
static void
tls_link_explain(int e, int err, char *buf, size_t len)
{
	unsigned long	 first = ERR_get_error();
	const char	*reason;
	char		 code[128];

	if (first != 0 && e == SSL_ERROR_SSL) {
		if ((reason = ERR_reason_error_string(first)) == NULL) {
			ERR_error_string_n(first, code, sizeof(code));
			reason = code;
		}
		snprintf(buf, len, "tls: %s", reason);
	} else
		snprintf(buf, len, "%s", err != 0 ? strerror(err) :
		    "connection lost");
	ERR_clear_error();
}

/* Broken both ways: drop what waits, stop, tell the user from the loop. */
static void
tls_link_fail(struct tls_link *t, int e, int err)
{
	if (t->failed)
		return;
	tls_link_explain(e, err, t->why, sizeof(t->why));
	t->failed = 1;
	evbuffer_drain(t->up, evbuffer_get_length(t->up));
	tls_link_arm(t);
	event_active(t->soon, EV_TIMEOUT, 0);
}

/*
 * A write failed (the server reset or closed): what waits is dropped and
 * nothing more goes up, but reading goes on: the server's last answer
 * may wait in the socket before its end, which reading then reports.
 */
static void
tls_link_write_dead(struct tls_link *t)
{
	ERR_clear_error();
	t->wdead = 1;
	evbuffer_drain(t->up, evbuffer_get_length(t->up));
	if (t->blocked)
		event_active(t->soon, EV_TIMEOUT, 0);	/* writable() */
}

/* close_notify, then the TCP write side, once t->up is written. */
static void
tls_link_shut(struct tls_link *t)
{
	int	rc, e;

	if (!(SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN)) {
		ERR_clear_error();
		if ((rc = SSL_shutdown(t->ssl)) < 0) {
			e = SSL_get_error(t->ssl, rc);
			ERR_clear_error();
			if (e == SSL_ERROR_WANT_WRITE) {
				t->wblocked = 1;	/* the rest later */
				return;
			}
		}
	}
	/* A peer already gone makes this fail: its end is read soon. */
	shutdown(t->fd, SHUT_WR);
	t->shut = 1;
}

/* The idle check, a period from now (see the top). */
static void
tls_link_idle_arm(struct tls_link *t)
{
	struct timeval	tv = { TLS_LINK_IDLE_MS / 1000,
			    TLS_LINK_IDLE_MS % 1000 * 1000 };

	if (!t->idle_armed) {
		t->idle_armed = 1;
		evtimer_add(t->idle, &tv);
	}
}

/* Bytes moved: the buffers stay until a period passes without. */
static void
tls_link_busy(struct tls_link *t)
{
	t->busy = 1;
	tls_link_idle_arm(t);
}

/* A period passed: busy, look again; idle, give back the buffers. */
static void
tls_link_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_link	*t = arg;

	t->idle_armed = 0;
	if (t->closed || t->failed)
		return;
	/* OpenSSL declines while a record is half read or a write pending. */
	if (t->busy || SSL_has_pending(t->ssl) ||
	    evbuffer_get_length(t->up) > 0 || !SSL_free_buffers(t->ssl)) {
		t->busy = 0;
		tls_link_idle_arm(t);
	}
}

/* Write t->up while the socket takes it.  No user callback from here. */
static void
tls_link_flush(struct tls_link *t)
{
	size_t	len;
	int	n, e;

	t->wblocked = t->w_on_read = 0;
	while (!t->failed && !t->wdead &&
	    (len = evbuffer_get_length(t->up)) > 0) {
		if (len > TLS_LINK_CHUNK)
			len = TLS_LINK_CHUNK;
		ERR_clear_error();
		n = SSL_write(t->ssl, evbuffer_pullup(t->up, (ssize_t)len),
		    (int)len);
		if (n > 0) {
			evbuffer_drain(t->up, (size_t)n);
			tls_link_busy(t);
			continue;
		}
		e = SSL_get_error(t->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE)
			t->wblocked = 1;
		else if (e == SSL_ERROR_WANT_READ)
			t->w_on_read = 1;
		else
			tls_link_write_dead(t);
		break;
	}
	if (!t->failed && !t->wdead && t->up_eof && !t->shut && !t->wblocked &&
	    !t->w_on_read && evbuffer_get_length(t->up) == 0)
		tls_link_shut(t);
	tls_link_arm(t);
}

/* The server finished: eof(), and it takes nothing more: closed(). */
static void
tls_link_eof(struct tls_link *t)
{
	t->down_eof = 1;
	t->up_eof = t->shut = 1;	/* nothing more goes up */
	t->wblocked = t->w_on_read = 0;
	evbuffer_drain(t->up, evbuffer_get_length(t->up));
	tls_link_arm(t);
	t->link.user->eof(t->link.user_arg);
	if (!t->closed && t->link.user != NULL)
		t->link.user->closed(t->link.user_arg);
}

/*
 * Where the next batch goes: the user's buffer when it offers one (sink,
 * link.h), spared a copy, else buf.  Sets *dst and *cap; returns the sink
 * with its space reserved in *v, or NULL.
 */
static struct evbuffer *
tls_link_dest(struct tls_link *t, uint8_t *buf, struct evbuffer_iovec *v,
    uint8_t **dst, size_t *cap, size_t *before)
{
	const struct link_user	*u = t->link.user;
	struct evbuffer		*sink;

	*dst = buf;
	*cap = TLS_LINK_BATCH;
	if (u->sink == NULL || u->appended == NULL ||
	    (sink = u->sink(t->link.user_arg)) == NULL)
		return (NULL);
	*before = evbuffer_get_length(sink);
	if (evbuffer_reserve_space(sink, TLS_LINK_BATCH, v, 1) != 1)
		return (NULL);
	*dst = v->iov_base;
	if (v->iov_len < *cap)
		*cap = v->iov_len;
	return (sink);
}

/* Hand the user everything OpenSSL and the socket have, while it takes. */
static void
tls_link_pump(struct tls_link *t)
{
	uint8_t			 buf[TLS_LINK_BATCH], *dst;
	struct evbuffer_iovec	 v;
	struct evbuffer		*sink;
	size_t			 have, cap, before = 0;
	int			 n, e, err, drained;

	t->r_on_write = 0;
	while (!t->closed && !t->failed && t->link.user != NULL &&
	    !t->paused && !t->down_eof) {
		/* Gather what OpenSSL has decrypted or can, up to a batch. */
		sink = tls_link_dest(t, buf, &v, &dst, &cap, &before);
		have = 0;
		n = 1;
		drained = 0;
		e = SSL_ERROR_NONE;
		err = 0;
		while (have < cap) {
			ERR_clear_error();
			errno = 0;	/* SSL_ERROR_SYSCALL: 0 is an EOF */
			n = SSL_read(t->ssl, dst + have, (int)(cap - have));
			if (n <= 0) {
				/* Now: the user's callback may touch t->ssl. */
				err = errno;
				e = SSL_get_error(t->ssl, n);
				break;
			}
			have += (size_t)n;
			/*
			 * Nothing left in OpenSSL: the (level-triggered) read
			 * event says when the socket has more, which spares a
			 * read(2) that would only say EAGAIN.
			 */
			if (!SSL_has_pending(t->ssl)) {
				drained = 1;
				break;
			}
		}
		if (sink != NULL) {
			v.iov_len = have;
			evbuffer_commit_space(sink, &v, have > 0 ? 1 : 0);
		}
		if (have > 0) {
			tls_link_busy(t);
			if (sink != NULL)
				t->link.user->appended(t->link.user_arg, before,
				    have);
			else
				t->link.user->data(t->link.user_arg, buf, have);
			if (t->closed || t->failed || t->link.user == NULL)
				break;
		}
		if (n > 0) {
			if (drained)
				break;
			continue;	/* a full batch: more may wait */
		}
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_WANT_WRITE)
			t->r_on_write = 1;
		else if (e == SSL_ERROR_ZERO_RETURN)
			tls_link_eof(t);
		else
			tls_link_fail(t, e, err);
		break;
	}
	if (!t->closed)
		tls_link_arm(t);
}

/* After a flush from the loop: owe writable()? */
static void
tls_link_after_flush(struct tls_link *t)
{
	if (t->blocked && !t->failed && !t->closed &&
	    evbuffer_get_length(t->up) < LINK_LOW_WATER) {
		t->blocked = 0;
		if (t->link.user != NULL)
			t->link.user->writable(t->link.user_arg);
	}
}

static void
tls_link_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_link	*t = arg;

	if (t->w_on_read) {
		tls_link_flush(t);
		tls_link_after_flush(t);
	}
	tls_link_pump(t);
}

static void
tls_link_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_link	*t = arg;

	if (t->r_on_write)
		tls_link_pump(t);
	if (t->closed || t->failed)
		return;
	tls_link_flush(t);
	tls_link_after_flush(t);
}

static void
tls_link_free(struct tls_link *t)
{
	event_free(t->rev);
	event_free(t->wev);
	event_free(t->soon);
	event_free(t->idle);
	evbuffer_free(t->up);
	SSL_free(t->ssl);
	close(t->fd);
	free(t);
}

/* Deferred work: the free, an error to tell, bytes OpenSSL holds. */
static void
tls_link_soon_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_link	*t = arg;

	if (t->closed) {
		tls_link_free(t);
		return;
	}
	if (t->failed) {
		if (!t->told && t->link.user != NULL) {
			t->told = 1;
			t->link.user->error(t->link.user_arg, t->why);
		}
		return;
	}
	tls_link_after_flush(t);
	if (!t->closed && !t->failed)
		tls_link_pump(t);
}

struct link *
tls_link_new(struct event_base *base, int fd, SSL *ssl)
{
	struct tls_link	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto fail;
	t->fd = fd;
	t->ssl = ssl;
	t->link.ops = &tls_link_ops;
	t->paused = 1;			/* until a user attaches */
	t->rev = event_new(base, fd, EV_READ | EV_PERSIST, tls_link_read_cb,
	    t);
	t->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, tls_link_write_cb,
	    t);
	t->soon = event_new(base, -1, 0, tls_link_soon_cb, t);
	t->idle = evtimer_new(base, tls_link_idle_cb, t);
	t->up = evbuffer_new();
	if (t->rev == NULL || t->wev == NULL || t->soon == NULL ||
	    t->idle == NULL || t->up == NULL) {
		if (t->rev != NULL)
			event_free(t->rev);
		if (t->wev != NULL)
			event_free(t->wev);
		if (t->soon != NULL)
			event_free(t->soon);
		if (t->idle != NULL)
			event_free(t->idle);
		if (t->up != NULL)
			evbuffer_free(t->up);
		free(t);
		goto fail;
	}
	SSL_set_read_ahead(ssl, 1);
	SSL_set_default_read_buffer_len(ssl, TLS_LINK_RBUF);
	SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	tls_link_busy(t);	/* the handshake's buffers go when idle */
	return (&t->link);
fail:
	SSL_free(ssl);
	close(fd);
	return (NULL);
}

SSL *
tls_link_ssl(const struct link *l)
{
	return (l != NULL && l->ops == &tls_link_ops ? tls_link_of(l)->ssl :
	    NULL);
}

/* ------------------------------------------------------------------ */
/* link_ops: what the user calls.  Never a user callback from here. */

static int
tls_link_write(struct link *l, struct evbuffer *buf)
{
	struct tls_link	*t = tls_link_of(l);

	if (t->failed || t->up_eof || t->wdead) {
		evbuffer_drain(buf, evbuffer_get_length(buf));
		return (t->told ? -1 : 0);
	}
	evbuffer_add_buffer(t->up, buf);
	if (!t->wblocked && !t->w_on_read)
		tls_link_flush(t);	/* at once: no event round trip */
	/* Whatever mark the user stops at, writable() will follow. */
	if (evbuffer_get_length(t->up) >= LINK_LOW_WATER)
		t->blocked = 1;
	return (0);
}

static size_t
tls_link_pending(const struct link *l)
{
	return (evbuffer_get_length(tls_link_of(l)->up));
}

static void
tls_link_shutdown(struct link *l)
{
	struct tls_link	*t = tls_link_of(l);

	if (t->up_eof || t->failed)
		return;
	t->up_eof = 1;
	if (!t->wblocked && !t->w_on_read)
		tls_link_flush(t);
}

static void
tls_link_pause(struct link *l, int on)
{
	struct tls_link	*t = tls_link_of(l);

	if (t->paused == on)
		return;
	t->paused = on;
	tls_link_arm(t);
	/* Records OpenSSL read ahead are not announced by the socket. */
	if (!on && !t->failed && !t->down_eof && SSL_has_pending(t->ssl))
		event_active(t->soon, EV_TIMEOUT, 0);
}

static void
tls_link_close(struct link *l)
{
	struct tls_link	*t = tls_link_of(l);

	t->link.user = NULL;
	t->closed = 1;
	tls_link_arm(t);
	event_active(t->soon, EV_TIMEOUT, 0);
}

static const struct link_ops tls_link_ops = {
	tls_link_write,
	tls_link_pending,
	tls_link_shutdown,
	tls_link_pause,
	tls_link_close
};
