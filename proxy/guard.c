/*
 * guard.c: a session's readonly guard (guard.h).
 */
#include "config.h"

#include <stdlib.h>

#include <event2/buffer.h>

#include "conf.h"
#include "guard.h"
#include "pg_guard.h"
#include "relay.h"
#include "resp_guard.h"

struct guard {
	enum conf_proto		 proto;
	struct resp_guard	 resp;	/* PROTO_REDIS */
	struct pg_guard		 pg;	/* PROTO_POSTGRES */
};

static int
guard_client(void *arg, struct evbuffer *in, struct evbuffer *srv,
    struct evbuffer *cli)
{
	struct guard	*g = arg;

	return (g->proto == PROTO_REDIS ? resp_guard_client(&g->resp, in, srv,
	    cli) : pg_guard_client(&g->pg, in, srv, cli));
}

static void
guard_server(void *arg, const uint8_t *buf, size_t len)
{
	struct guard	*g = arg;

	if (g->proto == PROTO_REDIS)
		resp_guard_server(&g->resp, buf, len);
}

static const struct relay_filter guard_filter = {
	guard_client,
	guard_server
};

int
guard_start(const struct conf_service *cs, struct relay *r,
    struct guard **gp)
{
	struct guard	*g;
	/* -L: the refusal names the tunnel as typed, not "L1". */
	const char	*name = cs->label != NULL ? cs->label : cs->name;

	*gp = NULL;
	if (!cs->readonly || cs->protocol == PROTO_TCP)
		return (0);
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return (-1);
	g->proto = cs->protocol;
	if (g->proto == PROTO_REDIS)
		resp_guard_init(&g->resp, name);
	else if (pg_guard_init(&g->pg, name) == -1) {
		free(g);
		return (-1);
	}
	*gp = g;
	return (relay_filter_set(r, &guard_filter, g));
}

void
guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	if (g->proto == PROTO_REDIS)
		resp_guard_clear(&g->resp);	/* wipes a recorded AUTH */
	else
		pg_guard_clear(&g->pg);
	free(g);
}

uint64_t
guard_refusals(const struct guard *g)
{
	if (g == NULL)
		return (0);
	return (g->proto == PROTO_REDIS ? g->resp.refusals : g->pg.refusals);
}

int
guard_startup(const struct conf_service *cs, struct evbuffer *first,
    size_t len)
{
	struct evbuffer	*b;
	uint8_t		*p;
	int		 rc = -1;

	if (!cs->readonly || cs->protocol != PROTO_POSTGRES)
		return (0);
	if ((p = evbuffer_pullup(first, (ev_ssize_t)len)) == NULL ||
	    (b = evbuffer_new()) == NULL)
		return (-1);
	if (pg_guard_startup(p, len, b) == 0) {
		evbuffer_drain(first, len);
		/* The rewritten packet first, then what followed it. */
		if (evbuffer_prepend_buffer(first, b) == 0)
			rc = 0;
	}
	evbuffer_free(b);
	return (rc);
}
