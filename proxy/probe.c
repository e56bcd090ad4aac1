/*
 * probe.c: Redis and PostgreSQL liveness conversations.
 *
 * Redis: [AUTH] PING [ROLE], replies parsed with hiredis's reader (it
 * works on any byte stream).  PostgreSQL: without a user, an SSLRequest
 * answered 'S' or 'N' proves the postmaster accepts connections; with a
 * user, a StartupMessage answered by an authentication request or
 * ReadyForQuery proves a backend would serve, and an ErrorResponse (e.g.
 * "the database system is starting up") says it would not.
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "dial.h"
#include "probe.h"

#define PG_SSLREQUEST_CODE	80877103
#define PG_PROTOCOL_3		196608
#define PROBE_MAX_REPLY		(64 * 1024)

struct probe {
	struct bufferevent	*bev;
	struct probe_params	 params;
	probe_cb		*cb;
	void			*arg;
	redisReader		*reader;
	int			 expect;	/* redis replies still due */
	int			 step;		/* 0 AUTH, 1 PING, 2 ROLE */
	struct event		*defer;
	int			 result;	/* -1 until finished */
	char			 detail[256];
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
	char		 detail[256];

	memcpy(detail, p->detail, sizeof(detail));
	probe_free(p);
	cb(result, detail, cbarg);
}

static void
probe_finish(struct probe *p, int result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
probe_finish(struct probe *p, int result, const char *fmt, ...)
{
	va_list	ap;

	if (p->result != -1)
		return;		/* already finishing */
	bufferevent_disable(p->bev, EV_READ | EV_WRITE);
	p->result = result;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	event_active(p->defer, EV_TIMEOUT, 0);
}

/* Copy a reply's text for a log line, without control characters. */
static void
probe_clean(char *dst, size_t len, const char *src, size_t n)
{
	size_t	i, j = 0;

	for (i = 0; i < n && j + 1 < len; i++)
		dst[j++] = (src[i] >= 32 && src[i] < 127) ? src[i] : '?';
	dst[j] = '\0';
}

static void
probe_redis_reply(struct probe *p, redisReply *r)
{
	char	text[160];

	if (r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STATUS)
		probe_clean(text, sizeof(text), r->str, r->len);
	else
		text[0] = '\0';
	if (r->type == REDIS_REPLY_ERROR) {
		if (p->step == 0)
			probe_finish(p, PROBE_AUTH, "AUTH refused: %s", text);
		else if (strncmp(text, "NOAUTH", 6) == 0 ||
		    strncmp(text, "NOPERM", 6) == 0)
			probe_finish(p, PROBE_AUTH, "%s", text);
		else
			probe_finish(p, PROBE_REPLY, "%s", text);
		return;
	}
	switch (p->step) {
	case 0:
		p->step = 1;
		return;
	case 1:
		if (r->type != REDIS_REPLY_STATUS || strcmp(text, "PONG") != 0) {
			probe_finish(p, PROBE_REPLY, "PING answered '%s'",
			    text);
			return;
		}
		p->step = 2;
		if (!p->params.role_master)
			probe_finish(p, PROBE_OK, "PONG");
		return;
	case 2:
		if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[0]->str, "master") == 0)
			probe_finish(p, PROBE_OK, "PONG, role master");
		else
			probe_finish(p, PROBE_REPLY, "role is not master");
		return;
	}
}

static void
probe_redis_read(struct probe *p, struct evbuffer *in)
{
	void		*reply;
	size_t		 n;
	unsigned char	*data;

	n = evbuffer_get_length(in);
	data = evbuffer_pullup(in, -1);
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

static int
probe_redis_send(struct probe *p)
{
	struct evbuffer	*out = bufferevent_get_output(p->bev);
	char		*cmd;
	int		 len;

	if ((p->reader = redisReaderCreate()) == NULL)
		return (-1);
	p->step = 1;
	if (p->params.password != NULL) {
		p->step = 0;
		if (p->params.user != NULL)
			len = redisFormatCommand(&cmd, "AUTH %s %s",
			    p->params.user, p->params.password);
		else
			len = redisFormatCommand(&cmd, "AUTH %s",
			    p->params.password);
		if (len < 0)
			return (-1);
		evbuffer_add(out, cmd, (size_t)len);
		explicit_bzero(cmd, (size_t)len);
		redisFreeCommand(cmd);
	}
	evbuffer_add(out, "*1\r\n$4\r\nPING\r\n", 14);
	if (p->params.role_master)
		evbuffer_add(out, "*1\r\n$4\r\nROLE\r\n", 14);
	return (0);
}

static void
probe_pg_put32(struct evbuffer *out, uint32_t v)
{
	v = htonl(v);
	evbuffer_add(out, &v, 4);
}

static int
probe_pg_send(struct probe *p)
{
	struct evbuffer	*out = bufferevent_get_output(p->bev);
	const char	*db;
	size_t		 len;

	if (p->params.user == NULL) {
		probe_pg_put32(out, 8);
		probe_pg_put32(out, PG_SSLREQUEST_CODE);
		return (0);
	}
	db = p->params.database != NULL ? p->params.database : p->params.user;
	len = 4 + 4 + 5 + strlen(p->params.user) + 1 + 9 + strlen(db) + 1 +
	    17 + 8 + 1;
	probe_pg_put32(out, (uint32_t)len);
	probe_pg_put32(out, PG_PROTOCOL_3);
	evbuffer_add(out, "user", 5);
	evbuffer_add(out, p->params.user, strlen(p->params.user) + 1);
	evbuffer_add(out, "database", 9);
	evbuffer_add(out, db, strlen(db) + 1);
	evbuffer_add(out, "application_name", 17);
	evbuffer_add(out, "postern", 8);
	evbuffer_add(out, "", 1);
	return (0);
}

/* An ErrorResponse: report severity, SQLSTATE and message. */
static void
probe_pg_error(struct probe *p, const unsigned char *body, size_t n)
{
	char		 sev[16] = "", code[8] = "", msg[160] = "";
	size_t		 i = 0, e;

	while (i < n && body[i] != 0) {
		char t = (char)body[i++];

		for (e = i; e < n && body[e] != 0; e++)
			;
		if (e >= n)
			break;
		if (t == 'S')
			probe_clean(sev, sizeof(sev), (const char *)body + i,
			    e - i);
		else if (t == 'C')
			probe_clean(code, sizeof(code), (const char *)body + i,
			    e - i);
		else if (t == 'M')
			probe_clean(msg, sizeof(msg), (const char *)body + i,
			    e - i);
		i = e + 1;
	}
	probe_finish(p, strcmp(code, "28P01") == 0 ||
	    strcmp(code, "28000") == 0 ? PROBE_AUTH : PROBE_REPLY,
	    "%s %s: %s", sev, code, msg);
}

static void
probe_pg_read(struct probe *p, struct evbuffer *in)
{
	unsigned char	*h;
	uint32_t	 len;

	if (p->params.user == NULL) {
		h = evbuffer_pullup(in, 1);
		if (h[0] == 'S' || h[0] == 'N')
			probe_finish(p, PROBE_OK, "SSLRequest answered '%c'",
			    h[0]);
		else
			probe_finish(p, PROBE_REPLY, "SSLRequest answered "
			    "0x%02x", h[0]);
		return;
	}
	/*
	 * An authentication request other than AuthenticationOk proves a
	 * backend is serving (we have no password to go further).  After
	 * AuthenticationOk the database is checked: wait for ReadyForQuery
	 * or an ErrorResponse such as "database does not exist".
	 */
	while (evbuffer_get_length(in) >= 5) {
		uint32_t	code;

		h = evbuffer_pullup(in, 5);
		memcpy(&len, h + 1, 4);
		len = ntohl(len);
		if (len < 4 || len > PROBE_MAX_REPLY) {
			probe_finish(p, PROBE_REPLY, "bad message length %u",
			    len);
			return;
		}
		if (evbuffer_get_length(in) < 1 + (size_t)len)
			return;
		h = evbuffer_pullup(in, 1 + (ssize_t)len);
		switch (h[0]) {
		case 'R':
			if (len < 8) {
				probe_finish(p, PROBE_REPLY, "bad "
				    "authentication message");
				return;
			}
			memcpy(&code, h + 5, 4);
			if (ntohl(code) != 0) {
				probe_finish(p, PROBE_OK, "authentication "
				    "requested");
				return;
			}
			break;		/* AuthenticationOk: read on */
		case 'S':		/* ParameterStatus */
		case 'K':		/* BackendKeyData */
		case 'N':		/* NoticeResponse */
			break;
		case 'Z':
			probe_finish(p, PROBE_OK, "ready for query");
			return;
		case 'E':
			probe_pg_error(p, h + 5, len - 4);
			return;
		default:
			probe_finish(p, PROBE_REPLY, "unexpected message type "
			    "0x%02x", h[0]);
			return;
		}
		evbuffer_drain(in, 1 + (size_t)len);
	}
}

static void
probe_read_cb(struct bufferevent *bev, void *arg)
{
	struct probe	*p = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	if (evbuffer_get_length(in) > PROBE_MAX_REPLY) {
		probe_finish(p, PROBE_REPLY, "reply too long");
		return;
	}
	if (p->params.kind == CHECK_REDIS)
		probe_redis_read(p, in);
	else
		probe_pg_read(p, in);
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
	SSL		*ssl;
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
	/*
	 * A tls:// route's dial already had the postmaster answer 'S' to
	 * its SSLRequest (or take a direct TLS connection) and complete a
	 * verified handshake; a second SSLRequest inside TLS would only
	 * get an error.
	 */
	if (params->kind == CHECK_POSTGRES && params->user == NULL &&
	    (ssl = bufferevent_openssl_get_ssl(bev)) != NULL) {
		probe_finish(p, PROBE_OK, "TLS handshake completed (%s)",
		    SSL_get_version(ssl));
		return (p);
	}
	rc = params->kind == CHECK_REDIS ? probe_redis_send(p) :
	    probe_pg_send(p);
	if (rc != 0)
		goto fail;
	bufferevent_setcb(bev, probe_read_cb, NULL, probe_event_cb, p);
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
		"authentication"
	};

	return (result >= 0 && result < PROBE_NRESULTS ? names[result] : "?");
}
