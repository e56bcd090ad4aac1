/*
 * probe_redis.c: a check's conversation with Redis: [AUTH] PING [ROLE]
 * [GET identity_key], pipelined, replies parsed with hiredis's reader
 * (it works on any byte stream).  The common part is probe.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <hiredis/hiredis.h>

#include "conf.h"
#include "probe.h"
#include "probe_int.h"
#include "resp_scan.h"

enum probe_redis_step {
	REDIS_AUTH,
	REDIS_PING,
	REDIS_ROLE,
	REDIS_GET
};

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

void
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

int
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

void
probe_redis_free(struct probe *p)
{
	if (p->reader != NULL)
		redisReaderFree(p->reader);
	p->reader = NULL;
}
