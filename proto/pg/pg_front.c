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

#include <event2/event.h>

#include "pg_front.h"

/*
 * Laid out in the caller's PG_FRONT_MEM bytes: this struct, the event
 * (event_assign: libevent's size, known only at run time), then the
 * bytes read so far, until they outgrow it (spill).
 */
struct pg_front {
	struct event	*ev;		/* in mem, after this struct */
	uint8_t		*buf;		/* in mem after the event, or spill */
	uint8_t		*spill;		/* PG_MAX_STARTUP bytes, or NULL */
	size_t		 cap;
	size_t		 len;
	pg_front_cb	*cb;
	void		*arg;
	int		 fd;
};

/* x rounded up to a multiple of 16 (malloc's alignment). */
#define PG_FRONT_ALIGN(x)	(((x) + 15) & ~(size_t)15)

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
	p->cb(msg, p->buf, p->len, p->arg);
}

/*
 * Read what the client sent after what p holds, moving to the spill
 * buffer once the caller's memory is full.  Returns read(2)'s result;
 * 0 bytes of room (PG_MAX_STARTUP held) reads one byte into nothing.
 */
static ssize_t
pg_front_read(struct pg_front *p, int fd)
{
	uint8_t	 one;

	if (p->len == p->cap && p->spill == NULL) {
		if ((p->spill = malloc(PG_MAX_STARTUP)) == NULL) {
			errno = ENOMEM;
			return (-1);
		}
		memcpy(p->spill, p->buf, p->len);
		p->buf = p->spill;
		p->cap = PG_MAX_STARTUP;
	}
	if (p->len == p->cap)
		return (read(fd, &one, 1));	/* the caller says too long */
	return (read(fd, p->buf + p->len, p->cap - p->len));
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
	if (n > 0 && (size_t)n <= p->cap - p->len)
		p->len += (size_t)n;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		msg.kind = PG_FRONT_CLOSED;
		msg.detail = n == 0 ? "client closed" : strerror(errno);
		pg_front_finish(p, &msg);
		return;
	}
	for (;;) {
		switch (pg_front_parse(p->buf, p->len, &msg)) {
		case PG_FRONT_NEED_MORE:
			if (p->len >= PG_MAX_STARTUP) {
				msg.kind = PG_FRONT_BAD;
				msg.detail = "startup packet too long";
				pg_front_finish(p, &msg);
			}
			return;
		case PG_FRONT_SSL_REQUEST:
		case PG_FRONT_GSS_REQUEST:
			/* The client's leg is local: no encryption. */
			p->len -= 8;
			memmove(p->buf, p->buf + 8, p->len);
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
pg_front_start(struct event_base *base, int fd, void *mem, int timeout_ms,
    pg_front_cb *cb, void *arg)
{
	struct pg_front	*p = mem;
	size_t		 head = PG_FRONT_ALIGN(sizeof(*p));
	size_t		 evsize = PG_FRONT_ALIGN(event_get_struct_event_size());
	struct timeval	 tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (head + evsize + 64 > PG_FRONT_MEM)
		return (NULL);	/* a libevent whose event we cannot hold */
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->cb = cb;
	p->arg = arg;
	p->ev = (struct event *)(void *)((uint8_t *)mem + head);
	p->buf = (uint8_t *)mem + head + evsize;
	p->cap = PG_FRONT_MEM - head - evsize;
	if (event_assign(p->ev, base, fd, EV_READ | EV_PERSIST,
	    pg_front_read_cb, p) != 0 || event_add(p->ev, &tv) != 0)
		return (NULL);
	return (p);
}

const uint8_t *
pg_front_bytes(const struct pg_front *p, size_t *len)
{
	*len = p->len;
	return (p->buf);
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
	event_del(p->ev);
	/* A CancelRequest's key is a secret; the memory may be reused. */
	explicit_bzero(p->buf, p->len);
	free(p->spill);
	p->spill = NULL;
	p->len = 0;
}
