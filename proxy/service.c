/*
 * service.c: run-time services and their accept path.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "cluster.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "fault.h"
#include "health.h"
#include "listener.h"
#include "log.h"
#include "probe.h"
#include "route.h"
#include "service.h"
#include "session.h"

/*
 * Sessions that begin to move to a better route per tick of the follow
 * timer (check_interval): a large pool follows over a few ticks, not all
 * at once.  Leaving a route that is down is not counted.
 */
#define SERVICE_FOLLOW_PER_TICK	32

static void
service_accept(int fd, struct sockaddr *sa, int len, void *arg)
{
	struct service	*svc = arg;
	char		 peer[ADDR_STRLEN];
	int		 max;

	/* Lingering sockets count: a trickling client must not add up. */
	if (svc->count->active + svc->count->lingering >=
	    (unsigned int)svc->cs->max_connections) {
		svc->refused++;
		/* One line per refusal would let a flood fill the disk. */
		if (svc->refused == 1 || svc->refused % 1000 == 0)
			log_warnx("service %s: %s: refused: max_connections "
			    "reached (%d; %llu refused so far)", svc->label,
			    addr_from_sockaddr(sa, (socklen_t)len, peer,
			    sizeof(peer)), svc->cs->max_connections,
			    (unsigned long long)svc->refused);
		close(fd);
		return;
	}
	max = daemon_conf(svc->px)->max_sessions;
	if (max > 0 && daemon_nsessions(svc->px) >= (unsigned int)max) {
		svc->refused++;
		if (svc->refused == 1 || svc->refused % 1000 == 0)
			log_warnx("service %s: %s: refused: max_sessions "
			    "reached (%d across services; %llu refused so "
			    "far)", svc->label, addr_from_sockaddr(sa,
			    (socklen_t)len, peer, sizeof(peer)), max,
			    (unsigned long long)svc->refused);
		close(fd);
		return;
	}
	session_new(svc, fd, sa, (socklen_t)len);
}

/* Recompute the effective order: the pinned route first. */
static void
service_order(struct service *svc)
{
	size_t	i, n = 0;

	if (svc->pinned)
		svc->order[n++] = svc->routes[svc->pin];
	for (i = 0; i < svc->nroutes; i++) {
		if (!svc->pinned || i != svc->pin)
			svc->order[n++] = svc->routes[i];
	}
}

/* Did r ever work: a session connected, or a check passed? */
static int
service_route_served(const struct route *r)
{
	return (r->sessions_total > 0 || r->checks[PROBE_OK] > 0);
}

/*
 * A route in the service's lines: its name, or for -L (whose route is
 * named "direct" or after the bastion, often a host) "direct" or "via
 * NAME", as the tunnel was typed.
 */
static const char *
service_route_word(const struct service *svc, const struct route *r,
    char *buf, size_t len)
{
	if (svc->cs->label == NULL)
		return (r->cr->name);
	if (r->cr->kind != ROUTE_SSH)
		return ("direct");
	snprintf(buf, len, "via %s", r->cr->bastion);
	return (buf);
}

/* Log and count changes of the route new sessions go to. */
static void
service_update_current(struct service *svc)
{
	size_t		 cur;
	const char	*was;
	char		 wbuf[160], nbuf[160];

	cur = service_select(svc, 0, clock_ms());
	/* Established sessions may have to follow (follow.h). */
	sessions_follow_service(svc->px, svc);
	if (cur == svc->current)
		return;
	was = svc->current < svc->nroutes ?
	    service_route_word(svc, svc->order[svc->current], wbuf,
	    sizeof(wbuf)) : NULL;
	if (cur == svc->nroutes)
		log_warnx("service %s: no usable route (was %s)", svc->label,
		    was != NULL ? was : "none");
	else if (svc->cs->label != NULL)
		/* -L: one route; "go direct", "go via prod". */
		log_notice("service %s: new sessions go %s", svc->label,
		    service_route_word(svc, svc->order[cur], nbuf,
		    sizeof(nbuf)));
	else if (was == NULL)
		log_notice("service %s: new sessions go to %s", svc->label,
		    svc->order[cur]->cr->name);
	else {
		/* Away from a failed route: a warning; back, or a pin: notice. */
		(route_usable(svc->order[svc->current], clock_ms()) ?
		    log_notice : log_warnx)("service %s: new sessions go to %s "
		    "(was %s)", svc->label, svc->order[cur]->cr->name, was);
		/*
		 * A route that never served (down from the start) was only
		 * the first guess: leaving it is no failover for a dashboard.
		 */
		if (service_route_served(svc->order[svc->current]))
			svc->failovers++;
	}
	svc->current = cur;
	/* A cluster's nodes go where its seed goes (cluster.h). */
	if (svc->cluster_owner && svc->cluster != NULL)
		cluster_follow_seed(svc->cluster);
}

void
service_update(struct service *svc)
{
	service_update_current(svc);
}

static void	service_rest_cb(evutil_socket_t, short, void *);
static void	service_follow_cb(evutil_socket_t, short, void *);
static void	service_drain_cb(evutil_socket_t, short, void *);
static void	service_arm_drain(struct service *);

/*
 * Wake the sessions held now.  One that finds no route is held again, at
 * the tail: counting first keeps this from going round for ever.
 */
static void
service_wake_held(struct service *svc)
{
	struct session	*s, *next;
	size_t		 n = 0;

	TAILQ_FOREACH(s, &svc->held, hold_entry)
		n++;
	for (s = TAILQ_FIRST(&svc->held); s != NULL && n-- > 0; s = next) {
		next = TAILQ_NEXT(s, hold_entry);
		session_wake(s);
	}
}

/* A route changed state: react as configured, then update current. */
static void
service_route_changed(struct route *r, void *arg)
{
	struct service	*svc = arg;

	if (r->state == ROUTE_STATE_DOWN &&
	    svc->cs->on_route_down == ON_DOWN_CLOSE)
		sessions_close_route(svc->px, r, "route down");
	service_update_current(svc);
	if (svc->current == svc->nroutes)
		return;
	/* A route is usable again: held sessions dial now. */
	service_wake_held(svc);
}

static void
service_pin_expired(evutil_socket_t fd, short what, void *arg)
{
	struct service	*svc = arg;

	log_notice("service %s: pin to %s expired", svc->name,
	    svc->routes[svc->pin]->cr->name);
	svc->pinned = 0;
	service_order(svc);
	service_update_current(svc);
}

struct service *
service_new(struct postern *px, struct conf *gen,
    const struct conf_service *cs, const struct service *old)
{
	struct service	*svc;
	int64_t		 now = clock_ms();
	size_t		 i, j;

	if (fault_at("reload.service") ||
	    (svc = calloc(1, sizeof(*svc))) == NULL)
		return (NULL);
	svc->refs = 1;
	svc->px = px;
	svc->gen = conf_ref(gen);
	svc->cs = cs;
	svc->name = cs->name;
	/* -L: the tunnel as typed ("7391 -> redis.internal:6379"). */
	svc->label = cs->label != NULL ? cs->label : cs->name;
	TAILQ_INIT(&svc->held);
	TAILQ_INIT(&svc->answers);
	svc->routes = calloc(cs->nroutes, sizeof(*svc->routes));
	svc->order = calloc(cs->nroutes, sizeof(*svc->order));
	svc->pin_timer = evtimer_new(daemon_base(px), service_pin_expired, svc);
	svc->rest_timer = evtimer_new(daemon_base(px), service_rest_cb, svc);
	svc->drain_timer = evtimer_new(daemon_base(px), service_drain_cb, svc);
	svc->follow_timer = evtimer_new(daemon_base(px), service_follow_cb,
	    svc);
	/* Room for every listener now: adding one later cannot fail. */
	svc->listeners = calloc(cs->nlisten ? cs->nlisten : 1,
	    sizeof(*svc->listeners));
	if (svc->routes == NULL || svc->order == NULL || svc->pin_timer == NULL ||
	    svc->rest_timer == NULL || svc->drain_timer == NULL ||
	    svc->follow_timer == NULL || svc->listeners == NULL)
		goto fail;
	for (i = 0; i < cs->nroutes; i++) {
		for (j = 0; old != NULL && j < old->nroutes; j++) {
			/* Rebound to cs at commit (service_activate). */
			if (route_same(old->routes[j]->cr, &cs->routes[i])) {
				svc->routes[i] = route_ref(old->routes[j]);
				break;
			}
		}
		if (svc->routes[i] == NULL &&
		    (svc->routes[i] = route_new(gen, cs, &cs->routes[i],
		    now)) == NULL)
			goto fail;
		svc->nroutes++;
	}
	svc->current = svc->nroutes;
	if (old != NULL) {
		svc->count = old->count;
		svc->count->refs++;
	} else if ((svc->count = calloc(1, sizeof(*svc->count))) == NULL)
		goto fail;
	else
		svc->count->refs = 1;
	if (old != NULL && old->cluster_owner)
		svc->cluster_prev = cluster_ref(old->cluster);
	if (old != NULL) {
		svc->total = old->total;
		svc->refused = old->refused;
		svc->failovers = old->failovers;
		/* A pin survives a reload if its route still exists. */
		if (old->pinned) {
			for (i = 0; i < svc->nroutes; i++) {
				if (svc->routes[i] ==
				    old->routes[old->pin]) {
					svc->pinned = 1;
					svc->pin = i;
					svc->pin_until = old->pin_until;
				}
			}
		}
	}
	service_order(svc);
	if ((svc->health = health_new(px, cs, svc->routes,
	    svc->nroutes, sessions_follow_stale)) == NULL)
		goto fail;
	return (svc);
fail:
	service_unref(svc);
	return (NULL);
}

void
service_activate(struct service *svc)
{
	struct timeval	tv;
	size_t		i;

	for (i = 0; i < svc->nroutes; i++) {
		if (svc->routes[i]->cr != &svc->cs->routes[i])
			route_rebind(svc->routes[i], svc->gen, svc->cs,
			    &svc->cs->routes[i]);
		svc->routes[i]->notify = service_route_changed;
		svc->routes[i]->notify_arg = svc;
	}
	if (svc->pinned && svc->pin_until != 0) {
		tv = clock_tv(svc->pin_until - clock_ms());
		evtimer_add(svc->pin_timer, &tv);
	}
	svc->count->follow_budget = SERVICE_FOLLOW_PER_TICK;
	service_update_current(svc);
	service_arm_drain(svc);		/* a deadline survives a reload */
	service_follow_cb(-1, 0, svc);
	health_start(svc->health);
	/* A cluster's seed (its node services come with svc->cluster). */
	if (svc->cs->cluster && svc->cluster == NULL &&
	    (svc->cluster = cluster_new(svc)) != NULL) {
		svc->cluster_owner = 1;
		cluster_inherit(svc->cluster, svc->cluster_prev);
		cluster_start(svc->cluster);
	} else if (svc->cs->cluster && svc->cluster == NULL)
		log_warnx("service %s: cluster: out of memory", svc->label);
	cluster_unref(svc->cluster_prev);
	svc->cluster_prev = NULL;
}

/*
 * The level-triggered pass: every check_interval, each session looks
 * again at where it should be (follow.c), whether or not a route changed
 * state: one that fell through to a lower route at connect, while the
 * preferred one never went down, comes back too.
 */
static void
service_follow_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service	*svc = arg;
	struct timeval	 tv = clock_tv(svc->cs->check_interval_ms);

	svc->count->follow_budget = SERVICE_FOLLOW_PER_TICK;
	if (what != 0)
		sessions_follow_service(svc->px, svc);
	evtimer_add(svc->follow_timer, &tv);
}

void
service_retire(struct service *svc)
{
	struct session	*s, *next;
	size_t		 i;

	svc->retired = 1;
	if (svc->cluster_owner)
		cluster_stop(svc->cluster);
	health_free(svc->health);
	svc->health = NULL;
	evtimer_del(svc->pin_timer);
	evtimer_del(svc->rest_timer);
	evtimer_del(svc->drain_timer);
	evtimer_del(svc->follow_timer);
	service_close_listeners(svc);
	for (i = 0; i < svc->nroutes; i++) {
		if (svc->routes[i]->notify_arg == svc) {
			svc->routes[i]->notify = NULL;
			svc->routes[i]->notify_arg = NULL;
		}
	}
	for (s = TAILQ_FIRST(&svc->held); s != NULL; s = next) {
		next = TAILQ_NEXT(s, hold_entry);
		session_wake(s);
	}
}

size_t
service_select(struct service *svc, size_t from, int64_t now)
{
	size_t	k, i;

	if (from == 0 && svc->cluster != NULL && !svc->cluster_owner &&
	    (k = cluster_route(svc->cluster)) < svc->nroutes) {
		for (i = 0; i < svc->nroutes; i++)
			if (svc->order[i] == svc->routes[k] &&
			    route_usable(svc->order[i], now))
				return (i);
	}
	return (route_select(svc->order, svc->nroutes, from, now));
}

struct route *
service_preferred(const struct service *svc)
{
	return (svc->nroutes > 0 ? svc->order[0] : NULL);
}

struct route *
service_find_route(const struct service *svc, const char *name)
{
	size_t	i;

	for (i = 0; i < svc->nroutes; i++) {
		if (strcmp(svc->routes[i]->cr->name, name) == 0)
			return (svc->routes[i]);
	}
	return (NULL);
}

static int
service_route_index(const struct service *svc, const char *name, char *err,
    size_t errlen)
{
	size_t	i;

	for (i = 0; i < svc->nroutes; i++) {
		if (strcmp(svc->routes[i]->cr->name, name) == 0)
			return ((int)i);
	}
	snprintf(err, errlen, "service %s has no route '%s'", svc->name, name);
	return (-1);
}

int
service_pin(struct service *svc, const char *route, int ms, char *err,
    size_t errlen)
{
	struct timeval	 tv;
	char		 until[64] = "until unpinned";
	struct tm	 tm;
	time_t		 t;
	int		 i;

	if ((i = service_route_index(svc, route, err, errlen)) == -1)
		return (-1);
	evtimer_del(svc->pin_timer);
	svc->pinned = 1;
	svc->pin = (size_t)i;
	svc->pin_until = 0;
	if (ms > 0) {
		svc->pin_until = clock_ms() + ms;
		tv = clock_tv(ms);
		evtimer_add(svc->pin_timer, &tv);
		t = clock_wall(svc->pin_until);
		gmtime_r(&t, &tm);
		strftime(until, sizeof(until), "until %Y-%m-%dT%H:%M:%SZ", &tm);
	}
	log_notice("service %s: pinned to %s %s", svc->name, route, until);
	service_order(svc);
	service_update_current(svc);
	return (0);
}

int
service_unpin(struct service *svc, char *err, size_t errlen)
{
	if (!svc->pinned) {
		snprintf(err, errlen, "service %s is not pinned", svc->name);
		return (-1);
	}
	log_notice("service %s: unpinned from %s", svc->name,
	    svc->routes[svc->pin]->cr->name);
	evtimer_del(svc->pin_timer);
	svc->pinned = 0;
	service_order(svc);
	service_update_current(svc);
	return (0);
}

int
service_set_admin(struct service *svc, const char *route,
    enum route_admin admin, char *err, size_t errlen)
{
	struct route	*r;
	int		 i;

	if ((i = service_route_index(svc, route, err, errlen)) == -1)
		return (-1);
	r = svc->routes[i];
	if (r->admin != admin)
		log_notice("%s: %s -> %s (operator)", r->label,
		    route_admin_name(r->admin), route_admin_name(admin));
	r->admin = admin;
	if (admin != ROUTE_ADMIN_DRAINING)
		r->drain_until = 0;
	if (admin == ROUTE_ADMIN_DISABLED &&
	    svc->cs->on_route_down == ON_DOWN_MOVE)
		/* The others leave at once or at a safe point (follow.c). */
		sessions_close_unfollowed(svc->px, r, "route disabled");
	else if (admin == ROUTE_ADMIN_DISABLED)
		sessions_close_route(svc->px, r, "route disabled");
	service_update_current(svc);
	return (0);
}

/* Arm the drain timer for the first deadline still to come. */
static void
service_arm_drain(struct service *svc)
{
	struct timeval	tv;
	int64_t		first = 0;
	size_t		i;

	evtimer_del(svc->drain_timer);
	for (i = 0; i < svc->nroutes; i++) {
		if (svc->routes[i]->drain_until != 0 && (first == 0 ||
		    svc->routes[i]->drain_until < first))
			first = svc->routes[i]->drain_until;
	}
	if (first == 0)
		return;
	first -= clock_ms();
	tv = clock_tv(first > 0 ? (long)first : 1);
	evtimer_add(svc->drain_timer, &tv);
}

/* A drain deadline passed: what has not left at a safe point is closed. */
static void
service_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service	*svc = arg;
	struct route	*r;
	int64_t		 now = clock_ms();
	size_t		 i;

	for (i = 0; i < svc->nroutes; i++) {
		r = svc->routes[i];
		if (r->drain_until == 0 || r->drain_until > now)
			continue;
		r->drain_until = 0;
		if (r->admin != ROUTE_ADMIN_DRAINING)
			continue;
		log_notice("%s: drain deadline: %u session%s still on it closed",
		    r->label, r->sessions_active, r->sessions_active == 1 ?
		    "" : "s");
		sessions_close_route(svc->px, r, "drain deadline");
	}
	service_arm_drain(svc);
}

void
service_drain_deadline(struct service *svc, const char *route, int ms)
{
	struct route	*r;

	if ((r = service_find_route(svc, route)) == NULL)
		return;
	r->drain_until = ms > 0 ? clock_ms() + ms : 0;
	if (ms > 0)
		log_notice("%s: sessions left on it in %d.%03ds are closed",
		    r->label, ms / 1000, ms % 1000);
	service_arm_drain(svc);
}

/*
 * A down route without active checks comes back only by a trial, once it
 * has rested: nothing announces that moment.  While sessions are held, a
 * timer wakes them when the first such rest ends; a session that still
 * finds nothing is held again and re-arms it.
 */
static void
service_rest_cb(evutil_socket_t fd, short what, void *arg)
{
	service_wake_held(arg);
}

static void
service_arm_rest(struct service *svc)
{
	struct timeval	tv;
	int64_t		now = clock_ms();
	long		left, first = -1;
	size_t		i;

	for (i = 0; i < svc->nroutes; i++) {
		left = route_rest_left_ms(svc->routes[i], now);
		if (left > 0 && (first < 0 || left < first))
			first = left;
	}
	if (first < 0)
		return;
	tv = clock_tv(first);
	evtimer_add(svc->rest_timer, &tv);
}

void
service_hold(struct service *svc, struct session *s)
{
	TAILQ_INSERT_TAIL(&svc->held, s, hold_entry);
	service_arm_rest(svc);
}

void
service_unhold(struct service *svc, struct session *s)
{
	TAILQ_REMOVE(&svc->held, s, hold_entry);
}

void
service_add_listener(struct service *svc, struct listener *l)
{
	svc->listeners[svc->nlisteners++] = l;
	listener_set_cb(l, service_accept, svc);
}

struct listener *
service_take_listener(struct service *svc, const struct addr *a)
{
	struct listener	*l;
	size_t		 i;

	for (i = 0; i < svc->nlisteners; i++) {
		l = svc->listeners[i];
		if (!addr_equal(listener_addr(l), a))
			continue;
		memmove(&svc->listeners[i], &svc->listeners[i + 1],
		    (svc->nlisteners - i - 1) * sizeof(*svc->listeners));
		svc->nlisteners--;
		return (l);
	}
	return (NULL);
}

void
service_close_listeners(struct service *svc)
{
	size_t	i;

	for (i = 0; i < svc->nlisteners; i++)
		listener_free(svc->listeners[i]);
	free(svc->listeners);
	svc->listeners = NULL;
	svc->nlisteners = 0;
}

struct service_count *
service_linger_hold(struct service *svc)
{
	svc->count->refs++;
	svc->count->lingering++;
	return (svc->count);
}

void
service_linger_release(void *arg)
{
	struct service_count	*count = arg;

	count->lingering--;
	if (--count->refs == 0)
		free(count);
}

struct service *
service_ref(struct service *svc)
{
	svc->refs++;
	return (svc);
}

void
service_unref(struct service *svc)
{
	size_t	i;

	if (svc == NULL || --svc->refs > 0)
		return;
	if (svc->cluster_owner)
		cluster_unref(svc->cluster);
	cluster_unref(svc->cluster_prev);
	if (svc->count != NULL && --svc->count->refs == 0)
		free(svc->count);
	service_close_listeners(svc);
	health_free(svc->health);
	if (svc->pin_timer != NULL)
		event_free(svc->pin_timer);
	if (svc->rest_timer != NULL)
		event_free(svc->rest_timer);
	if (svc->drain_timer != NULL)
		event_free(svc->drain_timer);
	if (svc->follow_timer != NULL)
		event_free(svc->follow_timer);
	if (svc->answer_timer != NULL)
		event_free(svc->answer_timer);
	for (i = 0; i < svc->nroutes; i++) {
		if (svc->routes[i]->notify_arg == svc) {
			svc->routes[i]->notify = NULL;
			svc->routes[i]->notify_arg = NULL;
		}
		route_unref(svc->routes[i]);
	}
	free(svc->routes);
	free(svc->order);
	conf_unref(svc->gen);
	free(svc);
}

struct service *
service_followed(struct service *svc)
{
	if (svc->cluster != NULL && !svc->cluster_owner)
		return (svc);
	return (service_find(svc->px, svc->name));
}

struct service *
service_find(struct postern *px, const char *name)
{
	struct service	*svc;

	TAILQ_FOREACH(svc, daemon_services(px), entry) {
		if (strcmp(svc->name, name) == 0)
			return (svc);
	}
	return (NULL);
}
