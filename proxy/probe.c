/*
 * probe.c: the common part of a check's conversation, and Redis.
 *
 * Redis: [AUTH] PING [ROLE] [GET identity_key], pipelined, replies parsed
 * with hiredis's reader (it works on any byte stream).  PostgreSQL is in
 * probe_pg.c.
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
#include <hiredis/hiredis.h>

#include "conf.h"
#include "dial.h"
#include "probe.h"
#include "probe_int.h"
#include "resp_scan.h"

enum probe_redis_step {
	REDIS_AUTH,
	REDIS_PING,
	REDIS_ROLE,
	REDIS_GET
};

static void
probe_free(struct probe *p)
{
	if (p->bev != NULL) {
		dial_shutdown_write(p->bev);	/* TLS: close_notify */
		bufferevent_free(p->bev);
	}
	if (p->reader != NULL)
		redisReaderFree(p->reader);
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

/* ROLE's first element, in the words of check_role. */
static const char *
probe_redis_role_name(const redisReply *r)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return ("unknown");
	if (strcmp(r->element[0]->str, "master") == 0)
		return ("master");
	if (strcmp(r->element[0]->str, "slave") == 0)
		return ("replica");
	if (strcmp(r->element[0]->str, "sentinel") == 0)
		return ("sentinel");
	return ("unknown");
}

/* A reply to a step that is not the last: 0 to go on, -1 finished. */
static int
probe_redis_step(struct probe *p, int step, redisReply *r, const char *text)
{
	const char	*role, *want;

	switch (step) {
	case REDIS_AUTH:
		break;
	case REDIS_PING:
		if (r->type != REDIS_REPLY_STATUS || strcmp(text, "PONG") != 0) {
			probe_finish(p, PROBE_REPLY, "PING answered '%s'",
			    text);
			return (-1);
		}
		break;
	case REDIS_ROLE:
		role = probe_redis_role_name(r);
		want = p->params.role == PROBE_ROLE_PRIMARY ? "master" :
		    "replica";
		if (strcmp(role, want) != 0) {
			probe_finish(p, PROBE_ROLE, "%s, wanted %s", role,
			    want);
			return (-1);
		}
		break;
	case REDIS_GET:
		if (r->type == REDIS_REPLY_NIL) {
			probe_finish(p, PROBE_IDENTITY, "key '%s' is not set",
			    p->params.identity_key);
			return (-1);
		}
		if (r->type != REDIS_REPLY_STRING ||
		    probe_set_identity(p, r->str, r->len) != 0) {
			probe_finish(p, PROBE_IDENTITY, "the value of key '%s' "
			    "is not printable text of at most %d bytes",
			    p->params.identity_key, PROBE_IDENTITY_MAX);
			return (-1);
		}
		break;
	}
	return (0);
}

static void
probe_redis_reply(struct probe *p, redisReply *r)
{
	char	text[160];
	int	step = p->steps[p->step];

	if (r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STATUS)
		probe_clean(text, sizeof(text), r->str, r->len);
	else
		text[0] = '\0';
	if (r->type == REDIS_REPLY_ERROR) {
		if (step == REDIS_AUTH)
			probe_finish(p, PROBE_AUTH, "AUTH refused: %s", text);
		else if (strncmp(text, "NOAUTH", 6) == 0 ||
		    strncmp(text, "NOPERM", 6) == 0)
			probe_finish(p, PROBE_AUTH, "%s", text);
		else
			probe_finish(p, PROBE_REPLY, "%s", text);
		return;
	}
	if (probe_redis_step(p, step, r, text) != 0)
		return;
	if (++p->step < p->nsteps)
		return;
	if (p->params.role != PROBE_ROLE_ANY)
		probe_finish(p, PROBE_OK, "PONG, role %s",
		    p->params.role == PROBE_ROLE_PRIMARY ? "master" :
		    "replica");
	else
		probe_finish(p, PROBE_OK, "PONG");
}

/* The elements an array header may announce: each takes 4 bytes or more. */
#define PROBE_MAX_ELEMENTS	(PROBE_MAX_REPLY / 4)

static void
probe_redis_read(struct probe *p, struct evbuffer *in)
{
	void		*reply;
	size_t		 n;
	unsigned char	*data;
	long long	 count = 0;

	n = evbuffer_get_length(in);
	data = evbuffer_pullup(in, -1);
	/* Before hiredis allocates from an aggregate's header. */
	if (resp_scan_feed(&p->scan, data, n, PROBE_MAX_ELEMENTS,
	    &count) != 0) {
		probe_finish(p, PROBE_REPLY, "reply larger than %d bytes (an "
		    "array of %lld elements)", PROBE_MAX_REPLY, count);
		return;
	}
	if (redisReaderFeed(p->reader, (const char *)data, n) != REDIS_OK) {
		probe_finish(p, PROBE_REPLY, "unreadable reply");
		return;
	}
	evbuffer_drain(in, n);
	for (;;) {
		if (redisReaderGetReply(p->reader, &reply) != REDIS_OK) {
			probe_finish(p, PROBE_REPLY, "not a RESP reply: %s",
			    p->reader->errstr);
			return;
		}
		if (reply == NULL)
			return;
		probe_redis_reply(p, reply);
		freeReplyObject(reply);
		if (p->result != -1)
			return;
	}
}

/* evbuffer cleanup of a formatted command: AUTH carries the password. */
static void
probe_redis_wipe(const void *data, size_t len, void *arg)
{
	explicit_bzero((void *)(uintptr_t)data, len);
	redisFreeCommand((char *)(uintptr_t)data);
}

/*
 * Queue one command (hiredis formats it) and expect its reply.  The
 * output buffer holds a reference, wiped once written: a copy in its
 * chains would be freed unwiped.
 */
static int
probe_redis_command(struct probe *p, int step, const char *fmt, ...)
{
	struct evbuffer	*out = bufferevent_get_output(p->bev);
	va_list		 ap;
	char		*cmd;
	int		 len;

	va_start(ap, fmt);
	len = redisvFormatCommand(&cmd, fmt, ap);
	va_end(ap);
	if (len < 0)
		return (-1);
	if (evbuffer_add_reference(out, cmd, (size_t)len, probe_redis_wipe,
	    NULL) != 0) {
		probe_redis_wipe(cmd, (size_t)len, NULL);
		return (-1);
	}
	p->steps[p->nsteps++] = step;
	return (0);
}

static int
probe_redis_send(struct probe *p)
{
	const struct probe_params	*pp = &p->params;
	int				 rc = 0;

	if ((p->reader = redisReaderCreate()) == NULL)
		return (-1);

	if (pp->password != NULL && pp->user != NULL)
		rc = probe_redis_command(p, REDIS_AUTH, "AUTH %s %s", pp->user,
		    pp->password);
	else if (pp->password != NULL)
		rc = probe_redis_command(p, REDIS_AUTH, "AUTH %s",
		    pp->password);
	if (rc == 0)
		rc = probe_redis_command(p, REDIS_PING, "PING");
	if (rc == 0 && pp->role != PROBE_ROLE_ANY)
		rc = probe_redis_command(p, REDIS_ROLE, "ROLE");
	if (rc == 0 && pp->identity_key != NULL)
		rc = probe_redis_command(p, REDIS_GET, "GET %s",
		    pp->identity_key);
	return (rc);
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
