/*
 * probe.c: the common part of a check's conversation: start, the byte
 * budget, the one finish path, delivery from a zero-timeout event.  The
 * protocols are probe_redis.c and probe_pg.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf.h"
#include "dial.h"
#include "probe.h"
#include "probe_int.h"

static void
probe_free(struct probe *p)
{
	if (p->bev != NULL) {
		dial_shutdown_write(p->bev);	/* TLS: close_notify */
		bufferevent_free(p->bev);
	}
	probe_redis_free(p);
	probe_pg_free(p);
	if (p->defer != NULL)
		event_free(p->defer);
	free(p);
}

/* Deliver from a zero-timeout event: never from inside bev callbacks. */
static void
probe_defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe	*p = arg;
	probe_cb	*cb = p->cb;
	void		*cbarg = p->arg;
	int		 result = p->result;
	char		 detail[LOG_DETAIL_LEN], identity[PROBE_IDENTITY_MAX + 1];
	int		 has_identity = p->has_identity;

	memcpy(detail, p->detail, sizeof(detail));
	memcpy(identity, p->identity, sizeof(identity));
	probe_free(p);
	cb(result, detail, has_identity ? identity : NULL, cbarg);
}

static void
probe_vfinish(struct probe *p, int result, const char *fmt, va_list ap)
{
	if (p->result != -1)
		return;		/* already finishing */
	bufferevent_disable(p->bev, EV_READ | EV_WRITE);
	p->result = result;
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	event_active(p->defer, EV_TIMEOUT, 0);
}

void
probe_finish(struct probe *p, int result, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	probe_vfinish(p, result, fmt, ap);
	va_end(ap);
}

static void
probe_flushed_cb(struct bufferevent *bev, void *arg)
{
	struct probe	*p = arg;

	probe_finish(p, p->flush_result, "%s", p->flush_detail);
}

void
probe_finish_flushed(struct probe *p, int result, const char *fmt, ...)
{
	va_list	ap;

	if (p->result != -1)
		return;
	va_start(ap, fmt);
	vsnprintf(p->flush_detail, sizeof(p->flush_detail), fmt, ap);
	va_end(ap);
	p->flush_result = result;
	bufferevent_disable(p->bev, EV_READ);
	/* The write callback runs once the output buffer is empty. */
	bufferevent_setcb(p->bev, NULL, probe_flushed_cb, NULL, p);
	bufferevent_setwatermark(p->bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(bufferevent_get_output(p->bev)) == 0)
		probe_finish(p, result, "%s", p->flush_detail);
}

void
probe_clean(char *dst, size_t len, const char *src, size_t n)
{
	size_t	i, j = 0;

	for (i = 0; i < n && j + 1 < len; i++)
		dst[j++] = (src[i] >= 32 && src[i] < 127) ? src[i] : '?';
	dst[j] = '\0';
}

int
probe_set_identity(struct probe *p, const char *v, size_t n)
{
	size_t	i;

	if (n == 0 || n > PROBE_IDENTITY_MAX)
		return (-1);
	for (i = 0; i < n; i++) {
		if (v[i] < 32 || v[i] >= 127)
			return (-1);
	}
	memcpy(p->identity, v, n);
	p->identity[n] = '\0';
	p->has_identity = 1;
	return (0);
}


static void
probe_read_cb(struct bufferevent *bev, void *arg)
{
	struct probe	*p = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 before = evbuffer_get_length(in);

	/*
	 * All the bytes of the conversation, not this read's: a reader that
	 * drains into its own buffer (hiredis) would otherwise grow with
	 * whatever a server streams.
	 */
	if (p->consumed + before > PROBE_MAX_REPLY) {
		probe_finish(p, PROBE_REPLY, "reply larger than %d bytes",
		    PROBE_MAX_REPLY);
		return;
	}
	if (p->params.kind == CHECK_REDIS)
		probe_redis_read(p, in);
	else
		probe_pg_read(p, in);
	p->consumed += before - evbuffer_get_length(in);
}

static void
probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct probe	*p = arg;
	int		 err = EVUTIL_SOCKET_ERROR();
	char		 why[160];

	if (what & BEV_EVENT_EOF)
		probe_finish(p, PROBE_CLOSED, "closed by the server");
	else if ((what & BEV_EVENT_ERROR) &&
	    dial_bev_error(bev, err, why, sizeof(why)))
		/* e.g. TLS 1.3: a refused client certificate comes here. */
		probe_finish(p, PROBE_TLS, "%s", why);
	else if (what & BEV_EVENT_ERROR)
		probe_finish(p, PROBE_CLOSED, "connection lost: %s", why);
}

struct probe *
probe_start(struct bufferevent *bev, const struct probe_params *params,
    probe_cb *cb, void *arg)
{
	struct probe	*p;
	int		 rc = 0;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		bufferevent_free(bev);
		return (NULL);
	}
	p->bev = bev;
	p->params = *params;
	p->cb = cb;
	p->arg = arg;
	p->result = -1;
	p->defer = event_new(bufferevent_get_base(bev), -1, 0, probe_defer_cb,
	    p);
	if (p->defer == NULL)
		goto fail;
	if (params->kind == CHECK_TCP || params->kind == CHECK_NONE) {
		probe_finish(p, PROBE_OK, "connected");
		return (p);
	}
	bufferevent_setcb(bev, probe_read_cb, NULL, probe_event_cb, p);
	rc = params->kind == CHECK_REDIS ? probe_redis_send(p) :
	    probe_pg_start(p);
	if (rc != 0)
		goto fail;
	if (p->result == -1)
		bufferevent_enable(bev, EV_READ | EV_WRITE);
	return (p);
fail:
	probe_free(p);
	return (NULL);
}

void
probe_cancel(struct probe *p)
{
	if (p != NULL)
		probe_free(p);
}

const char *
probe_result_name(int result)
{
	static const char *const names[PROBE_NRESULTS] = {
		"ok", "connection refused", "connect timeout",
		"name resolution failed", "unreachable", "connect error",
		"tls", "ssh", "timeout", "closed", "bad reply",
		"authentication", "role", "identity"
	};

	return (result >= 0 && result < PROBE_NRESULTS ? names[result] : "?");
}
