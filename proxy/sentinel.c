/*
 * sentinel.c: follow the master that a quorum of Redis Sentinels names
 * (sentinel.h).  One watcher per Sentinel route: a round asks every
 * Sentinel at once, tallies, and confirms a new master with ROLE; a
 * subscription per Sentinel starts a round when +switch-master for the
 * route's master name passes.  Connections are freed only from the
 * watcher's own timers, never inside their bufferevent's callbacks.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "addr.h"
#include "clock.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "dial.h"
#include "log.h"
#include "relay.h"
#include "route.h"
#include "sentinel.h"

enum sconn_kind {
	SCONN_ASK,		/* SENTINEL get-master-addr-by-name */
	SCONN_SUB,		/* SUBSCRIBE +switch-master, kept open */
	SCONN_ROLE		/* ROLE on the candidate master */
};

enum sentinel_phase {
	SENTINEL_IDLE,		/* the timer starts the next round */
	SENTINEL_ASKING,	/* the timer is the round's deadline */
	SENTINEL_CONFIRMING	/* ROLE asked; the timer is its deadline */
};

/* One connection, to a Sentinel or to a candidate master. */
struct sconn {
	struct sentinel		*w;
	enum sconn_kind		 kind;
	size_t			 i;		/* the Sentinel's index */
	struct conf_route	 cr;		/* whom: a shallow copy */
	struct dial		*dial;
	struct bufferevent	*bev;
	redisReader		*reader;
	struct event		*retry;		/* SUB: connect again */
	int			 done;		/* ASK, ROLE: answered/failed */
	int			 found;		/* ASK: addr; ROLE: master */
	int			 authing;	/* AUTH's reply comes first */
	struct addr		 addr;
	char			 error[160];	/* ASK, ROLE: last logged */
};

struct sentinel {
	struct postern		*px;
	const struct conf_service *cs;	/* the service's */
	struct route		*route;
	size_t			 n;
	struct sconn		*ask, *sub;	/* n each */
	struct sconn		 role;
	struct event		*timer;
	enum sentinel_phase	 phase;
	int			 again;		/* a switch while busy */
	int			 votes;		/* for role.addr */
};

static void	sconn_open(struct sconn *);

static const char *
sentinel_label(const struct sentinel *w)
{
	return (w->route->label);
}

static void
sentinel_arm(struct sentinel *w, int ms)
{
	struct timeval	tv = clock_tv(ms > 0 ? ms : 1);

	evtimer_add(w->timer, &tv);
}

/* Wake the watcher's timer now (from a connection's callback). */
static void
sentinel_wake(struct sentinel *w)
{
	event_active(w->timer, EV_TIMEOUT, 0);
}

static void
sconn_close(struct sconn *c)
{
	dial_cancel(c->dial);
	c->dial = NULL;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->reader != NULL)
		redisReaderFree(c->reader);
	c->reader = NULL;
}

/* An ASK or ROLE connection is through: tell the watcher. */
static void
sconn_finish(struct sconn *c, int found)
{
	size_t	i;

	if (c->done)
		return;
	c->done = 1;
	c->found = found;
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (c->kind == SCONN_ROLE) {
		sentinel_wake(c->w);
		return;
	}
	for (i = 0; i < c->w->n; i++) {
		if (!c->w->ask[i].done)
			return;
	}
	sentinel_wake(c->w);
}

/* The last error logged for c's server: one per Sentinel, and ROLE's. */
static char *
sconn_errbuf(struct sconn *c)
{
	return (c->kind == SCONN_ROLE ? c->error : c->w->ask[c->i].error);
}

/*
 * An error reply (a refused AUTH, NOAUTH, ...): a warning when it is new
 * for this server, so that a Sentinel asked every check_interval (and
 * subscribed to) says it once.  Redis never echoes the password in these.
 */
static void
sconn_error(struct sconn *c, const char *what, const redisReply *r)
{
	char	to[ADDR_STRLEN], text[160], *last = sconn_errbuf(c);
	int	noauth = strncmp(r->str, "NOAUTH", 6) == 0;

	/*
	 * The answer alone (a SUBSCRIBE and a SENTINEL refused alike), its
	 * end marked if cut.
	 */
	snprintf(text, sizeof(text), "%.*s%s", (int)(r->len > 120 ? 120 :
	    r->len), r->str, r->len > 120 ? "..." : "");
	if (strcmp(text, last) == 0)
		return;
	snprintf(last, sizeof(c->error), "%s", text);
	log_warnx("%s: %s %s: %s: %s%s", sentinel_label(c->w),
	    c->kind == SCONN_ROLE ? "master" : "sentinel",
	    addr_format(&c->cr.target, to, sizeof(to)), what, text,
	    !noauth ? "" :
	    c->kind == SCONN_ROLE ? " (check_password_file)" :
	    " (sentinel_password_file)");
}

/* evbuffer cleanup of a formatted AUTH: it carries the password. */
static void
sconn_wipe(const void *data, size_t len, void *arg)
{
	explicit_bzero((void *)(uintptr_t)data, len);
	redisFreeCommand((char *)(uintptr_t)data);
}

/*
 * AUTH [user] password ahead of the command, by reference: the output
 * buffer wipes it once written (a copy in its chains would be freed
 * unwiped).  0, or -1 when out of memory.
 */
static int
sconn_auth(struct sconn *c, const char *user, const char *password)
{
	char	*cmd;
	int	 len;

	if (password == NULL)
		return (0);
	len = user != NULL ? redisFormatCommand(&cmd, "AUTH %s %s", user,
	    password) : redisFormatCommand(&cmd, "AUTH %s", password);
	if (len < 0)
		return (-1);
	if (evbuffer_add_reference(bufferevent_get_output(c->bev), cmd,
	    (size_t)len, sconn_wipe, NULL) != 0) {
		sconn_wipe(cmd, (size_t)len, NULL);
		return (-1);
	}
	c->authing = 1;
	return (0);
}

/* A subscription broke: connect again after check_down_interval. */
static void
sconn_lost(struct sconn *c, const char *why)
{
	char	to[ADDR_STRLEN];
	struct timeval tv = clock_tv(c->w->cs->check_down_interval_ms);

	log_debug("%s: sentinel %s: subscription lost: %s",
	    sentinel_label(c->w), addr_format(&c->cr.target, to, sizeof(to)),
	    why);
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	evtimer_add(c->retry, &tv);
}

static void
sconn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sconn	*c = arg;

	sconn_close(c);
	sconn_open(c);
}

/* "host" and "port" as a Sentinel sends them, into an addr. */
static int
sentinel_addr(const redisReply *host, const redisReply *port, struct addr *a)
{
	char	buf[ADDR_STRLEN + 4], err[128];

	if (host->type != REDIS_REPLY_STRING ||
	    port->type != REDIS_REPLY_STRING || host->len >= ADDR_HOSTLEN)
		return (-1);
	snprintf(buf, sizeof(buf), strchr(host->str, ':') != NULL ?
	    "[%s]:%s" : "%s:%s", host->str, port->str);
	return (addr_parse_hostport(buf, a, err, sizeof(err)));
}

/* One reply on c; returns 1 when c is through with replies. */
static int
sconn_reply(struct sconn *c, const redisReply *r)
{
	const struct conf_route	*cr = c->w->route->cr;
	char			 name[128];
	size_t			 len;

	if (c->authing) {
		c->authing = 0;
		if (r->type != REDIS_REPLY_ERROR)
			return (0);	/* +OK: the command's reply next */
		sconn_error(c, "AUTH refused", r);
		if (c->kind == SCONN_SUB)
			sconn_lost(c, "AUTH refused");
		else
			sconn_finish(c, 0);
		return (1);
	}
	if (r->type == REDIS_REPLY_ERROR) {
		sconn_error(c, c->kind == SCONN_ASK ? "SENTINEL "
		    "get-master-addr-by-name" : c->kind == SCONN_ROLE ? "ROLE" :
		    "SUBSCRIBE", r);
		if (c->kind == SCONN_SUB)
			sconn_lost(c, "SUBSCRIBE refused");
		else
			sconn_finish(c, 0);
		return (1);
	}
	sconn_errbuf(c)[0] = '\0';	/* answered: a new error logs again */
	switch (c->kind) {
	case SCONN_ASK:
		/* [host, port], or nil: no such master. */
		sconn_finish(c, r->type == REDIS_REPLY_ARRAY &&
		    r->elements == 2 && sentinel_addr(r->element[0],
		    r->element[1], &c->addr) == 0);
		return (1);
	case SCONN_ROLE:
		sconn_finish(c, r->type == REDIS_REPLY_ARRAY &&
		    r->elements >= 1 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[0]->str, "master") == 0);
		return (1);
	case SCONN_SUB:
		/* ["message", "+switch-master", "NAME old-ip old-port ..."] */
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
		    r->element[2]->type != REDIS_REPLY_STRING)
			return (0);
		snprintf(name, sizeof(name), "%s ", cr->sentinel);
		len = strlen(name);
		if (r->element[2]->len > len &&
		    strncmp(r->element[2]->str, name, len) == 0) {
			log_notice("%s: sentinel: +switch-master %s",
			    sentinel_label(c->w), r->element[2]->str);
			if (c->w->phase == SENTINEL_IDLE)
				sentinel_wake(c->w);
			else
				c->w->again = 1;
		}
		return (0);
	}
	return (1);
}

static void
sconn_read_cb(struct bufferevent *bev, void *arg)
{
	struct sconn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 len = evbuffer_get_length(in);
	void		*reply;

	if (redisReaderFeed(c->reader, (const char *)evbuffer_pullup(in, -1),
	    len) != REDIS_OK) {
		if (c->kind == SCONN_SUB)
			sconn_lost(c, "protocol error");
		else
			sconn_finish(c, 0);
		return;
	}
	evbuffer_drain(in, len);
	for (;;) {
		if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
			if (c->kind == SCONN_SUB)
				sconn_lost(c, "protocol error");
			else
				sconn_finish(c, 0);
			return;
		}
		if (reply == NULL)
			return;		/* not a whole reply yet */
		if (sconn_reply(c, reply)) {
			freeReplyObject(reply);
			return;
		}
		freeReplyObject(reply);
	}
}

static void
sconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sconn	*c = arg;

	if (c->kind == SCONN_SUB)
		sconn_lost(c, (what & BEV_EVENT_EOF) ? "closed" :
		    "connection error");
	else
		sconn_finish(c, 0);
}

static void
sconn_dial_cb(const struct dial_result *res, void *arg)
{
	struct sconn	*c = arg;
	struct event_base *base = daemon_base(c->w->px);
	const struct conf_service *cs = c->w->cs;
	const struct conf_route	*rcr = c->w->route->cr;
	const char	*name = rcr->sentinel;
	int		 fd;

	c->dial = NULL;
	if (res->status != DIAL_OK)
		goto fail;
	if ((c->bev = res->bev) == NULL) {
		/* ssh://: a channel, served through a socketpair. */
		if (relay_bridge(base, res->link, &fd) == -1)
			goto fail;
		c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			close(fd);
			goto fail;
		}
	}
	if ((c->reader = redisReaderCreate()) == NULL)
		goto fail;
	bufferevent_setcb(c->bev, sconn_read_cb, NULL, sconn_event_cb, c);
	/* The Sentinels' credentials; the master's are the check's. */
	c->authing = 0;
	if ((c->kind == SCONN_ROLE ? sconn_auth(c, cs->check_user,
	    cs->check_password) : sconn_auth(c, rcr->sentinel_user,
	    rcr->sentinel_password)) != 0)
		goto fail;
	switch (c->kind) {
	case SCONN_ASK:
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name"
		    "\r\n$%zu\r\n%s\r\n", strlen(name), name);
		break;
	case SCONN_SUB:
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "*2\r\n$9\r\nSUBSCRIBE\r\n$14\r\n+switch-master\r\n");
		break;
	case SCONN_ROLE:
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "*1\r\n$4\r\nROLE\r\n");
		break;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return;
fail:
	if (c->kind == SCONN_SUB)
		sconn_lost(c, res->status != DIAL_OK ? res->detail :
		    "out of memory");
	else
		sconn_finish(c, 0);
}

static void
sconn_open(struct sconn *c)
{
	const struct conf_service	*cs = c->w->cs;
	int				 flags = DIAL_TLS_BEV;

	c->done = c->found = 0;
	if (c->kind != SCONN_SUB)
		flags |= DIAL_URGENT;
	c->dial = dial_start(daemon_dial_env(c->w->px), &c->cr,
	    cs->check_timeout_ms, flags, sconn_dial_cb, c);
	if (c->dial == NULL) {
		if (c->kind == SCONN_SUB)
			sconn_lost(c, "out of memory");
		else
			sconn_finish(c, 0);
	}
}

/* The answers are in (or the deadline passed): is there a quorum? */
static void
sentinel_tally(struct sentinel *w)
{
	const struct conf_route	*cur = w->route->dial_cr;
	size_t			 i, j, quorum = w->n / 2 + 1;
	int			 best = -1, votes, most = 0;
	char			 a[ADDR_STRLEN];

	for (i = 0; i < w->n; i++) {
		if (!w->ask[i].found)
			continue;
		for (j = 0, votes = 0; j < w->n; j++)
			votes += w->ask[j].found &&
			    addr_equal(&w->ask[i].addr, &w->ask[j].addr);
		if (votes > most) {
			most = votes;
			best = (int)i;
		}
	}
	for (i = 0; i < w->n; i++)
		sconn_close(&w->ask[i]);
	if (best < 0 || (size_t)most < quorum) {
		log_debug("%s: sentinel: no quorum for master %s (%d of %zu "
		    "Sentinels agree, %zu needed)", sentinel_label(w),
		    w->route->cr->sentinel, most, w->n, quorum);
		/* Unreachable yet (a bastion connecting), or mid-failover. */
		w->phase = SENTINEL_IDLE;
		sentinel_arm(w, w->cs->check_fast_interval_ms);
		return;
	}
	if (cur != NULL && addr_equal(&cur->target, &w->ask[best].addr)) {
		log_debug("%s: sentinel: master %s still %s (%d of %zu "
		    "Sentinels)", sentinel_label(w), w->route->cr->sentinel,
		    addr_format(&cur->target, a, sizeof(a)), most, w->n);
		w->phase = SENTINEL_IDLE;
		sentinel_arm(w, w->again ? 1 : w->cs->check_interval_ms);
		w->again = 0;
		return;
	}
	/* A new master: it must say so itself before it is used. */
	log_debug("%s: sentinel: %d of %zu Sentinels name %s: asking it ROLE",
	    sentinel_label(w), most, w->n, addr_format(&w->ask[best].addr, a,
	    sizeof(a)));
	w->votes = most;
	w->role.cr.target = w->ask[best].addr;	/* sconn_init copied cr */
	w->role.addr = w->ask[best].addr;
	w->phase = SENTINEL_CONFIRMING;
	sentinel_arm(w, w->cs->check_timeout_ms);
	sconn_open(&w->role);
}

/* ROLE answered (or its deadline passed). */
static void
sentinel_confirm(struct sentinel *w)
{
	const struct conf_route	*cur = w->route->dial_cr;
	char			 a[ADDR_STRLEN], was[ADDR_STRLEN];
	int			 ok = w->role.done && w->role.found;

	sconn_close(&w->role);
	addr_format(&w->role.addr, a, sizeof(a));
	/* Now: route_set_master lets go of cur (freed unless held). */
	snprintf(was, sizeof(was), "none");
	if (cur != NULL)
		addr_format(&cur->target, was, sizeof(was));
	if (!ok)
		log_warnx("%s: sentinel: %d of %zu Sentinels name %s master "
		    "of %s, but it does not say ROLE master: not used",
		    sentinel_label(w), w->votes, w->n, a,
		    w->route->cr->sentinel);
	else if (route_set_master(w->route, &w->role.addr) == 0) {
		log_notice("%s: sentinel: master %s is %s (%d of %zu Sentinels, "
		    "ROLE master; was %s)", sentinel_label(w),
		    w->route->cr->sentinel, a, w->votes, w->n, was);
		if (w->route->notify != NULL)
			w->route->notify(w->route, w->route->notify_arg);
	}
	w->phase = SENTINEL_IDLE;
	/* Not confirmed: the failover may be in progress; ask again soon. */
	sentinel_arm(w, w->again ? 1 : ok ? w->cs->check_interval_ms :
	    w->cs->check_fast_interval_ms);
	w->again = 0;
}

static void
sentinel_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sentinel	*w = arg;
	size_t		 i;

	switch (w->phase) {
	case SENTINEL_IDLE:
		w->phase = SENTINEL_ASKING;
		w->again = 0;
		sentinel_arm(w, w->cs->check_timeout_ms);
		for (i = 0; i < w->n; i++)
			w->ask[i].done = 0;
		for (i = 0; i < w->n; i++)
			sconn_open(&w->ask[i]);
		return;
	case SENTINEL_ASKING:
		sentinel_tally(w);
		return;
	case SENTINEL_CONFIRMING:
		sentinel_confirm(w);
		return;
	}
}

static int
sconn_init(struct sentinel *w, struct sconn *c, enum sconn_kind kind,
    size_t i)
{
	const struct conf_route	*cr = w->route->cr;

	c->w = w;
	c->kind = kind;
	c->i = i;
	c->cr = *cr;
	c->cr.sentinel = NULL;
	c->cr.sentinels = NULL;
	c->cr.nsentinels = 0;
	c->cr.origin = cr;	/* its TLS context */
	if (kind != SCONN_ROLE)
		c->cr.target = cr->sentinels[i];
	if (kind == SCONN_SUB && (c->retry = evtimer_new(daemon_base(
	    w->px), sconn_retry_cb, c)) == NULL)
		return (-1);
	return (0);
}

struct sentinel *
sentinel_new(struct postern *px, const struct conf_service *cs,
    struct route *r)
{
	struct sentinel	*w;
	size_t		 i, n = r->cr->nsentinels;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (NULL);
	w->px = px;
	w->cs = cs;
	w->route = route_ref(r);
	w->n = n;
	w->ask = calloc(n, sizeof(*w->ask));
	w->sub = calloc(n, sizeof(*w->sub));
	w->timer = evtimer_new(daemon_base(px), sentinel_timer_cb, w);
	if (w->ask == NULL || w->sub == NULL || w->timer == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		if (sconn_init(w, &w->ask[i], SCONN_ASK, i) == -1 ||
		    sconn_init(w, &w->sub[i], SCONN_SUB, i) == -1)
			goto fail;
	}
	if (sconn_init(w, &w->role, SCONN_ROLE, 0) == -1)
		goto fail;
	return (w);
fail:
	sentinel_free(w);
	return (NULL);
}

void
sentinel_start(struct sentinel *w)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		sconn_open(&w->sub[i]);
	w->phase = SENTINEL_IDLE;
	sentinel_arm(w, 0);
}

void
sentinel_free(struct sentinel *w)
{
	size_t	i;

	if (w == NULL)
		return;
	for (i = 0; w->ask != NULL && i < w->n; i++)
		sconn_close(&w->ask[i]);
	for (i = 0; w->sub != NULL && i < w->n; i++) {
		sconn_close(&w->sub[i]);
		if (w->sub[i].retry != NULL)
			event_free(w->sub[i].retry);
	}
	sconn_close(&w->role);
	if (w->timer != NULL)
		event_free(w->timer);
	free(w->ask);
	free(w->sub);
	route_unref(w->route);
	free(w);
}
