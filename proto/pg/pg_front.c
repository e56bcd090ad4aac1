/*
 * pg_front.c: SSLRequest/GSSENCRequest answered 'N'; StartupMessage or
 * CancelRequest captured.
 */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "pg_front.h"

struct pg_front {
	int		 fd;
	struct evbuffer	*in;
	struct event	*ev;
	pg_front_cb	*cb;
	void		*arg;
};

static uint32_t
pg_front_get32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return (ntohl(v));
}

int
pg_front_parse(const uint8_t *buf, size_t len, struct pg_front_msg *msg)
{
	uint32_t	plen, code;

	memset(msg, 0, sizeof(*msg));
	if (len < 8)
		return (msg->kind = PG_FRONT_NEED_MORE);
	plen = pg_front_get32(buf);
	code = pg_front_get32(buf + 4);
	if (plen < 8 || plen > PG_MAX_STARTUP) {
		msg->detail = "invalid startup packet length";
		return (msg->kind = PG_FRONT_BAD);
	}
	msg->len = plen;
	switch (code) {
	case PG_SSLREQUEST_CODE:
	case PG_GSSENCREQUEST_CODE:
		if (plen != 8) {
			msg->detail = "invalid SSL/GSS request length";
			return (msg->kind = PG_FRONT_BAD);
		}
		return (msg->kind = code == PG_SSLREQUEST_CODE ?
		    PG_FRONT_SSL_REQUEST : PG_FRONT_GSS_REQUEST);
	case PG_CANCELREQUEST_CODE:
		/* 3.2: a key of 4 to 256 bytes, all the rest of it. */
		if (plen < PG_CANCEL_MIN || plen > PG_CANCEL_MAX) {
			msg->detail = "invalid cancel request length";
			return (msg->kind = PG_FRONT_BAD);
		}
		if (len < plen)
			return (msg->kind = PG_FRONT_NEED_MORE);
		msg->cancel_pid = pg_front_get32(buf + 8);
		msg->cancel_keylen = plen - 12;
		memcpy(msg->cancel_key, buf + 12, msg->cancel_keylen);
		return (msg->kind = PG_FRONT_CANCEL);
	}
	/* Protocol 2.0 and 3.x: major version in the high 16 bits. */
	if ((code >> 16) != 3 && (code >> 16) != 2) {
		msg->detail = "unsupported frontend protocol";
		return (msg->kind = PG_FRONT_BAD);
	}
	if (len < plen)
		return (msg->kind = PG_FRONT_NEED_MORE);
	/* A 3.x startup packet ends with a NUL after the last pair. */
	if ((code >> 16) == 3 && buf[plen - 1] != '\0') {
		msg->detail = "startup packet not terminated";
		return (msg->kind = PG_FRONT_BAD);
	}
	return (msg->kind = PG_FRONT_STARTUP);
}

static void
pg_front_finish(struct pg_front *p, struct pg_front_msg *msg)
{
	event_del(p->ev);
	p->cb(msg, p->in, p->arg);
}

static void
pg_front_block_free(const void *data, size_t len, void *extra)
{
	(void)len;
	(void)extra;
	free((void *)(uintptr_t)data);
}

/*
 * Read what the client sent into p->in, in a block of its size: an
 * evbuffer_read() reserves a 1 KiB chain for a startup of ~100 bytes,
 * and a pool that connects at once holds all of them together until it
 * frees them, leaving 1 KiB holes below the sessions' lasting objects
 * (issue 27).  Returns read(2)'s result.
 */
static ssize_t
pg_front_read(struct pg_front *p, int fd)
{
	uint8_t		 tmp[PG_MAX_STARTUP];
	size_t		 have = evbuffer_get_length(p->in);
	uint8_t		*b;
	ssize_t		 n;

	n = read(fd, tmp, have < sizeof(tmp) ? sizeof(tmp) - have : 1);
	if (n <= 0)
		return (n);
	/*
	 * A startup in pieces goes into ordinary chains after the first:
	 * a block per read would let a client that sends a byte at a time
	 * cost a chain header per byte.
	 */
	if (have > 0) {
		if (evbuffer_add(p->in, tmp, (size_t)n) != 0) {
			errno = ENOMEM;
			return (-1);
		}
		return (n);
	}
	if ((b = malloc((size_t)n)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	memcpy(b, tmp, (size_t)n);
	if (evbuffer_add_reference(p->in, b, (size_t)n, pg_front_block_free,
	    NULL) != 0) {
		free(b);
		errno = ENOMEM;
		return (-1);
	}
	return (n);
}

static void
pg_front_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pg_front		*p = arg;
	struct pg_front_msg	 msg;
	ssize_t			 n;

	memset(&msg, 0, sizeof(msg));
	if (what & EV_TIMEOUT) {
		msg.kind = PG_FRONT_TIMEOUT;
		msg.detail = "no startup message in time";
		pg_front_finish(p, &msg);
		return;
	}
	n = pg_front_read(p, fd);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		msg.kind = PG_FRONT_CLOSED;
		msg.detail = n == 0 ? "client closed" : strerror(errno);
		pg_front_finish(p, &msg);
		return;
	}
	for (;;) {
		size_t	len = evbuffer_get_length(p->in);
		uint8_t	*buf = evbuffer_pullup(p->in, len < 8 ? -1 : 8);

		/* The header classifies; the whole packet is then pulled. */
		if (len >= 8 && pg_front_get32(buf) <= PG_MAX_STARTUP &&
		    pg_front_get32(buf) <= len)
			buf = evbuffer_pullup(p->in, pg_front_get32(buf));
		switch (pg_front_parse(buf, len, &msg)) {
		case PG_FRONT_NEED_MORE:
			if (len >= PG_MAX_STARTUP) {
				msg.kind = PG_FRONT_BAD;
				msg.detail = "startup packet too long";
				pg_front_finish(p, &msg);
			}
			return;
		case PG_FRONT_SSL_REQUEST:
		case PG_FRONT_GSS_REQUEST:
			/* The client's leg is local: no encryption. */
			evbuffer_drain(p->in, 8);
			if (write(fd, "N", 1) != 1) {
				msg.kind = PG_FRONT_CLOSED;
				msg.detail = "client went away";
				pg_front_finish(p, &msg);
				return;
			}
			continue;
		default:
			pg_front_finish(p, &msg);
			explicit_bzero(msg.cancel_key, msg.cancel_keylen);
			return;
		}
	}
}

struct pg_front *
pg_front_start(struct event_base *base, int fd, int timeout_ms, pg_front_cb *cb,
    void *arg)
{
	struct pg_front	*p;
	struct timeval	 tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->fd = fd;
	p->cb = cb;
	p->arg = arg;
	p->in = evbuffer_new();
	p->ev = event_new(base, fd, EV_READ | EV_PERSIST, pg_front_read_cb, p);
	if (p->in == NULL || p->ev == NULL) {
		pg_front_free(p);
		return (NULL);
	}
	event_add(p->ev, &tv);
	return (p);
}

void
pg_front_stop(struct pg_front *p)
{
	event_del(p->ev);
}

void
pg_front_free(struct pg_front *p)
{
	if (p == NULL)
		return;
	if (p->ev != NULL)
		event_free(p->ev);
	if (p->in != NULL)
		evbuffer_free(p->in);
	free(p);
}
