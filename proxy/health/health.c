/*
 * health.c: the check scheduler (after relayd's hce.c: one completion
 * path, a result enum with names, hysteresis in route.c).
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "dial.h"
#include "fault.h"
#include "health.h"
#include "identity.h"
#include "log.h"
#include "probe.h"
#include "relay.h"
#include "resolve.h"
#include "route.h"
#include "sentinel.h"

struct health_check {
	struct health		*h;
	struct route		*route;
	struct probe_params	 params;	/* h's, or ROLE master */
	struct event		*timer;		/* next check, or deadline */
	struct dial		*dial;
	const struct conf_route	*cr;		/* dial's: held */
	struct probe		*probe;
	int64_t			 started;	/* clock_ms */
	int			 running;
	/* The route's name asked alongside each check (resolve.h). */
	struct resolve		*resolve;
	int			 resolved;	/* this check's answer is in */
	int			 judged;	/* the check ended: its result */
	int			 result;	/* enum probe_result */
	struct resolve_answer	 answer;	/* n == 0: none */
	char			 dns_error[64];
	struct sockaddr_storage	 peer;		/* the check's server */
	int			 have_peer;
};

struct health {
	struct postern		*px;
	const struct conf_service *cs;
	struct route		**routes;	/* the service's, priority order */
	size_t			 nroutes;
	struct probe_params	 params;
	struct health_check	*checks;
	size_t			 n;
	struct sentinel		**watch;	/* per route; NULL: none */
	size_t			 nwatch;
	health_stale_fn		*stale;		/* a name's new answer */
};

static void	health_done(struct health_check *, int, const char *,
		    const char *);
static void	health_resolve(struct health_check *);
static void	health_local(struct health_check *, const char *);

/* An errno that is postern's own limit, not the route's fault. */
static int
health_errno_local(int err)
{
	return (err == EMFILE || err == ENFILE || err == ENOMEM ||
	    err == ENOBUFS);
}

static int
health_interval(const struct health_check *c)
{
	const struct conf_service	*cs = c->h->cs;
	const struct route		*r = c->route;
	int				 ms, jitter;

	if (r->state == ROUTE_STATE_DOWN)
		ms = r->oks > 0 ? cs->check_fast_interval_ms :
		    cs->check_down_interval_ms;
	else if (r->fails > 0)
		ms = cs->check_fast_interval_ms;
	else
		ms = cs->check_interval_ms;
	jitter = ms / 10;
	if (jitter > 0)
		ms += (int)arc4random_uniform((uint32_t)(2 * jitter + 1)) -
		    jitter;
	return (ms);
}

static void
health_arm(struct health_check *c, int ms)
{
	struct timeval	tv = clock_tv(ms);

	evtimer_add(c->timer, &tv);
}

static void
health_probe_cb(int result, const char *detail, const char *identity,
    void *arg)
{
	struct health_check	*c = arg;

	c->probe = NULL;
	health_done(c, result, detail, identity);
}

static int
health_dial_result(int status)
{
	switch (status) {
	case DIAL_REFUSED:
		return (PROBE_REFUSED);
	case DIAL_TIMEOUT:
		return (PROBE_CONNECT_TIMEOUT);
	case DIAL_RESOLVE:
		return (PROBE_RESOLVE);
	case DIAL_UNREACHABLE:
		return (PROBE_UNREACHABLE);
	case DIAL_TLS:
		return (PROBE_TLS);
	case DIAL_SSH:
		return (PROBE_SSH);
	}
	return (PROBE_CONNECT_ERROR);
}

/*
 * An ssh:// channel (a link) for the probe, which speaks through a
 * bufferevent: a socketpair relayed to the channel.  Checks run a few
 * times a minute; the pair's system calls do not matter there.
 */
static struct bufferevent *
health_link_bev(struct health_check *c, struct link *link)
{
	struct event_base	*base = daemon_base(c->h->px);
	struct bufferevent	*bev;
	char			 why[128];
	int			 fd;

	if (relay_bridge(base, link, &fd) == -1) {
		snprintf(why, sizeof(why), "socketpair: %s", strerror(errno));
		if (health_errno_local(errno))
			health_local(c, why);
		else
			health_done(c, PROBE_CONNECT_ERROR, why, NULL);
		return (NULL);
	}
	if ((bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL) {
		close(fd);
		health_done(c, PROBE_CONNECT_ERROR, "out of memory", NULL);
	}
	return (bev);
}

static void
health_dial_cb(const struct dial_result *res, void *arg)
{
	struct health_check	*c = arg;
	struct bufferevent	*bev;

	c->dial = NULL;
	route_dial_release(c->cr);	/* dial.c reads it no more */
	c->cr = NULL;
	if (res->status == DIAL_LOCAL) {
		health_local(c, res->detail);
		return;
	}
	if (res->status != DIAL_OK) {
		health_done(c, health_dial_result(res->status), res->detail,
		    NULL);
		return;
	}
	if ((c->have_peer = res->peer != NULL))
		memcpy(&c->peer, res->peer, res->peer->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if ((bev = res->bev) == NULL &&
	    (bev = health_link_bev(c, res->link)) == NULL)
		return;			/* health_link_bev reported it */
	c->probe = probe_start(bev, &c->params, health_probe_cb, c);
	if (c->probe == NULL)
		health_done(c, PROBE_CONNECT_ERROR, "out of memory", NULL);
}

static void
health_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct health_check	*c = arg;
	const struct conf_service *cs = c->h->cs;
	char			 detail[LOG_DETAIL_LEN];
	int			 result;

	if (c->running) {
		/*
		 * The deadline passed, connecting (the dial says at which
		 * stage: TCP, TLS handshake, SSH channel) or waiting for the
		 * answer.
		 */
		if (c->dial != NULL) {
			result = health_dial_result(dial_expire(c->dial,
			    detail, sizeof(detail)));
			c->dial = NULL;
			route_dial_release(c->cr);
			c->cr = NULL;
		} else {
			snprintf(detail, sizeof(detail), "no answer within %d "
			    "ms", cs->check_timeout_ms);
			result = PROBE_TIMEOUT;
		}
		probe_cancel(c->probe);
		c->probe = NULL;
		health_done(c, result, detail, NULL);
		return;
	}
	c->running = 1;
	c->started = clock_ms();
	health_arm(c, cs->check_timeout_ms);
	if (c->route->dial_cr == NULL) {
		health_done(c, PROBE_CONNECT_ERROR, "no master named by a "
		    "quorum of Sentinels yet", NULL);
		return;
	}
	health_resolve(c);
	/* A Sentinel route may switch masters while this dial runs. */
	c->cr = route_dial_hold(c->route);
	c->dial = dial_start(daemon_dial_env(c->h->px), c->cr,
	    cs->check_timeout_ms, DIAL_URGENT | DIAL_TLS_BEV, health_dial_cb, c);
	if (c->dial == NULL) {
		route_dial_release(c->cr);
		c->cr = NULL;
		health_done(c, PROBE_CONNECT_ERROR, "out of memory", NULL);
	}
}

static void	health_dns_apply(struct health_check *);

static void
health_resolved_cb(const struct resolve_answer *ans, const char *error,
    void *arg)
{
	struct health_check	*c = arg;

	c->resolve = NULL;
	c->resolved = 1;
	c->answer.n = 0;
	if (ans != NULL)
		c->answer = *ans;
	snprintf(c->dns_error, sizeof(c->dns_error), "%s", error);
	if (c->judged)		/* the check was quicker */
		health_dns_apply(c);
}

/*
 * Ask for the route's name alongside the check (tcp:// and tls://; an
 * ssh:// route's name is the bastion's to resolve, a literal is not
 * asked).  Connects resolve on their own: this answer only judges.
 */
static void
health_resolve(struct health_check *c)
{
	const struct conf_route	*cr = c->route->cr;

	resolve_cancel(c->resolve);	/* not back since the last check */
	c->resolve = NULL;
	c->resolved = c->judged = 0;
	c->have_peer = 0;
	/* A Sentinel route's server is the master the quorum names. */
	if ((cr->kind != ROUTE_TCP && cr->kind != ROUTE_TLS) ||
	    cr->sentinel != NULL || cr->target.kind != ADDR_INET ||
	    resolve_is_literal(cr->target.host))
		return;
	c->resolve = resolve_start(daemon_dial_env(c->h->px)->dns,
	    cr->target.host, health_resolved_cb, c);
}

/*
 * A check that passed on an address of this check's answer makes that
 * answer the route's (an answer whose server failed the check, its
 * identity above all, never moves a session).  A failed resolution makes
 * it unknown.  Then, level-triggered, each session of the route whose
 * server is no longer in it looks again (follow.c).
 */
static void
health_dns_apply(struct health_check *c)
{
	struct route	*r = c->route;

	c->resolved = c->judged = 0;
	if (c->answer.n == 0)
		route_dns_set(r, NULL, c->dns_error, clock_ms());
	else if (c->result == PROBE_OK && c->have_peer &&
	    resolve_has(&c->answer, (const struct sockaddr *)&c->peer))
		route_dns_set(r, &c->answer, NULL, clock_ms());
	else {
		route_dns_unproven(r, &c->answer);
		return;
	}
	if (c->h->stale != NULL)
		c->h->stale(c->h->px, r);
}

/* The check ended: judge with its answer now, or when that comes. */
static void
health_dns(struct health_check *c, int result)
{
	if (!c->resolved && c->resolve == NULL)
		return;			/* nothing asked */
	c->result = result;
	c->judged = 1;
	if (c->resolved)
		health_dns_apply(c);
}

/*
 * The one completion path of a check.  identity: what the server said it
 * holds (NULL: not read); a route that holds another dataset fails its
 * check with the guard's verdict, whatever the probe thought.
 */
static void
health_done(struct health_check *c, int result, const char *detail,
    const char *identity)
{
	struct health	*h = c->h;
	int64_t		 now = clock_ms();
	int		 ms = (int)(now - c->started), left;

	evtimer_del(c->timer);
	c->running = 0;
	if (identity_report(h->routes, h->nroutes, h->cs, c->route,
	    identity) && result == PROBE_OK) {
		result = PROBE_IDENTITY;
		detail = c->route->refused;
	}
	log_debug("%s: check: %s (%s) in %d ms", c->route->label,
	    probe_result_name(result), detail, ms);
	route_local_limit(c->route, NULL, now);
	route_record_check(c->route, result, detail, ms, now);
	health_dns(c, result);
	if (result == PROBE_OK)
		route_report(c->route, 1, ROUTE_EV_CHECK, detail, now);
	else {
		char		 why[LOG_DETAIL_LEN + 64];
		const char	*name = probe_result_name(result);

		/* "connect timeout after 300 ms", not "connect timeout: ..." */
		if (strncmp(detail, name, strlen(name)) == 0)
			snprintf(why, sizeof(why), "%s", detail);
		else
			snprintf(why, sizeof(why), "%s: %s",
			    probe_result_name(result), detail);
		route_report(c->route, 0, ROUTE_EV_CHECK, why, now);
	}
	/*
	 * Intervals run start to start: a check that timed out spent
	 * check_timeout of its interval, so a hung route is confirmed within
	 * fall x interval + check_timeout (issue 20's bound for sessions on
	 * it), not fall x (interval + check_timeout).
	 */
	left = health_interval(c) - ms;
	health_arm(c, left > 0 ? left : 0);
}

/*
 * A check that could not run for a reason of postern's own (out of file
 * descriptors or memory): shown as such (/health, /metrics), never
 * counted toward fall, and tried again at the usual interval.
 */
static void
health_local(struct health_check *c, const char *detail)
{
	evtimer_del(c->timer);
	c->running = 0;
	log_debug("%s: check: not run: %s", c->route->label, detail);
	route_local_limit(c->route, detail, clock_ms());
	health_arm(c, health_interval(c));
}

/* check_role's word (Redis's or PostgreSQL's) as the probe's role. */
static enum probe_role
health_role(int role)
{
	switch (role) {
	case ROLE_MASTER:
	case ROLE_PRIMARY:
		return (PROBE_ROLE_PRIMARY);
	case ROLE_REPLICA:
	case ROLE_STANDBY:
		return (PROBE_ROLE_STANDBY);
	}
	return (PROBE_ROLE_ANY);
}

struct health *
health_new(struct postern *px, const struct conf_service *cs,
    struct route **routes, size_t nroutes, health_stale_fn *stale)
{
	struct health		*h;
	struct health_check	*c;
	size_t			 i;

	if (fault_at("reload.health") || (h = calloc(1, sizeof(*h))) == NULL)
		return (NULL);
	h->px = px;
	h->cs = cs;
	h->routes = routes;
	h->nroutes = nroutes;
	h->stale = stale;
	h->params.kind = conf_check_kind(cs);
	h->params.user = cs->check_user;
	h->params.password = cs->check_password;
	h->params.database = cs->check_database;
	h->params.allow_md5 = cs->check_allow_md5;
	h->params.role = health_role(cs->check_role);
	h->params.identity_key = cs->identity_on ? cs->identity_key : NULL;
	h->params.identity = cs->identity_on &&
	    h->params.kind == CHECK_POSTGRES;
	/* The configuration may have changed what the guard compares. */
	identity_judge(routes, nroutes, cs);
	if ((h->watch = calloc(nroutes, sizeof(*h->watch))) == NULL)
		goto fail;
	for (h->nwatch = 0; h->nwatch < nroutes; h->nwatch++) {
		if (routes[h->nwatch]->cr->sentinel != NULL &&
		    (h->watch[h->nwatch] = sentinel_new(px, cs,
		    routes[h->nwatch])) == NULL)
			goto fail;
	}
	if (h->params.kind == CHECK_NONE)
		return (h);
	if ((h->checks = calloc(nroutes, sizeof(*h->checks))) == NULL)
		goto fail;
	for (i = 0; i < nroutes; i++, h->n++) {
		c = &h->checks[i];
		c->h = h;
		c->route = routes[i];
		c->params = h->params;
		/* The master the Sentinels name must say so itself. */
		if (c->route->cr->sentinel != NULL)
			c->params.role = PROBE_ROLE_PRIMARY;
		c->timer = evtimer_new(daemon_base(px), health_timer_cb, c);
		if (c->timer == NULL)
			goto fail;
	}
	return (h);
fail:
	health_free(h);
	return (NULL);
}

void
health_start(struct health *h)
{
	struct health_check	*c;
	size_t			 i;

	for (i = 0; i < h->nwatch; i++) {
		if (h->watch[i] != NULL)
			sentinel_start(h->watch[i]);
	}
	for (i = 0; i < h->n; i++) {
		c = &h->checks[i];
		/* New routes at once; carried-over ones keep their cadence. */
		health_arm(c, c->route->last_check == 0 ? 0 :
		    health_interval(c));
	}
}

void
health_free(struct health *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++) {
		dial_cancel(h->checks[i].dial);
		route_dial_release(h->checks[i].cr);
		probe_cancel(h->checks[i].probe);
		resolve_cancel(h->checks[i].resolve);
		if (h->checks[i].timer != NULL)
			event_free(h->checks[i].timer);
	}
	free(h->checks);
	for (i = 0; i < h->nwatch; i++)
		sentinel_free(h->watch[i]);
	free(h->watch);
	free(h);
}
