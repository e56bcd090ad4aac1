/*
 * route.c: route health, rise/fall hysteresis, priority selection.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "resolve.h"
#include "route.h"

/*
 * A master of a Sentinel route: r->cr with another target.  The route
 * holds its current one; sessions, moves and checks that dial it hold it
 * too (route_dial_hold), so a past master lives only as long as someone
 * still uses it, not as long as the route.
 */
struct route_master {
	int			 refs;
	struct conf		*gen;		/* holds cr's strings alive */
	struct conf_route	 cr;		/* a shallow copy: owns nothing */
};

static void
route_master_unref(struct route_master *m)
{
	if (m == NULL || --m->refs > 0)
		return;
	conf_unref(m->gen);
	free(m);
}

struct route *
route_new(struct conf *gen, const struct conf_service *cs,
    const struct conf_route *cr, int64_t now)
{
	struct route	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	/* -L: "7391 -> redis.internal:6379 (via prod)", or (direct). */
	if ((cs->label != NULL ? asprintf(&r->label, "%s (%s%s)", cs->label,
	    cr->kind == ROUTE_SSH ? "via " : "", cr->kind == ROUTE_SSH ?
	    cr->bastion : "direct") : asprintf(&r->label, "%s/%s", cs->name,
	    cr->name)) == -1) {
		free(r);
		return (NULL);
	}
	r->refs = 1;
	r->state = ROUTE_STATE_UNKNOWN;
	r->since = now;
	route_rebind(r, gen, cs, cr);
	return (r);
}

struct route *
route_ref(struct route *r)
{
	r->refs++;
	return (r);
}

void
route_unref(struct route *r)
{
	if (r == NULL || --r->refs > 0)
		return;
	route_master_unref(r->master);
	conf_unref(r->gen);
	free(r->label);
	free(r);
}

void
route_rebind(struct route *r, struct conf *gen, const struct conf_service *cs,
    const struct conf_route *cr)
{
	struct conf	*old = r->gen;

	r->gen = conf_ref(gen);
	conf_unref(old);
	r->cr = cr;
	/* A Sentinel route keeps the master it has: it holds its gen. */
	if (cr->sentinel == NULL)
		r->dial_cr = cr;
	r->rise = cs->rise;
	r->fall = cs->fall;
	r->retry_ms = cs->check_interval_ms;
	r->active = cs->check != CHECK_NONE;
}

const double route_latency_bounds[ROUTE_LATENCY_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5
};

void
route_record_check(struct route *r, int result, const char *detail, int ms,
    int64_t now)
{
	double	s = ms / 1000.0;
	int	i;

	r->last_check = now;
	r->last_result = result;
	r->last_latency_ms = ms;
	snprintf(r->last_detail, sizeof(r->last_detail), "%s", detail);
	if (result >= 0 && result < ROUTE_CHECK_RESULTS)
		r->checks[result]++;
	for (i = 0; i < ROUTE_LATENCY_BUCKETS; i++) {
		if (s <= route_latency_bounds[i]) {
			r->latency_buckets[i]++;
			break;
		}
	}
	r->latency_sum += s;
}

const char *
route_admin_name(int admin)
{
	switch (admin) {
	case ROUTE_ADMIN_DRAINING:
		return ("draining");
	case ROUTE_ADMIN_DISABLED:
		return ("disabled");
	}
	return ("enabled");
}

int
route_same(const struct conf_route *a, const struct conf_route *b)
{
	size_t	i;

	if (strcmp(a->name, b->name) != 0 || strcmp(a->url, b->url) != 0 ||
	    a->nopts != b->nopts)
		return (0);
	for (i = 0; i < a->nopts; i++) {
		if (strcmp(a->opts[i].key, b->opts[i].key) != 0 ||
		    strcmp(a->opts[i].value, b->opts[i].value) != 0)
			return (0);
	}
	return (1);
}

int
route_set_master(struct route *r, const struct addr *a)
{
	struct route_master	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (-1);
	m->gen = conf_ref(r->gen);
	m->cr = *r->cr;
	m->cr.target = *a;
	m->cr.sentinel = NULL;
	m->cr.sentinels = NULL;
	m->cr.nsentinels = 0;
	m->cr.origin = r->cr;
	m->refs = 1;			/* the route's */
	route_master_unref(r->master);	/* freed unless still dialed */
	r->master = m;
	r->dial_cr = &m->cr;
	r->epoch++;
	return (0);
}

int
route_relabel(struct route *r, const char *label)
{
	char	*l;

	if ((l = strdup(label)) == NULL)
		return (-1);
	free(r->label);
	r->label = l;
	return (0);
}

const struct conf_route *
route_dial_hold(struct route *r)
{
	if (r->master != NULL && r->dial_cr == &r->master->cr)
		r->master->refs++;
	return (r->dial_cr);
}

void
route_dial_release(const struct conf_route *cr)
{
	/* Only a master's copy has an origin (configured routes: NULL). */
	if (cr == NULL || cr->origin == NULL)
		return;
	route_master_unref((struct route_master *)(void *)((const char *)cr -
	    offsetof(struct route_master, cr)));
}

int
route_eligible(const struct route *r)
{
	/* A Sentinel route without a master has nothing to dial. */
	return (r->admin == ROUTE_ADMIN_ENABLED && r->refused[0] == '\0' &&
	    r->dial_cr != NULL);
}

int
route_usable(const struct route *r, int64_t now)
{
	if (!route_eligible(r))
		return (0);
	if (r->state != ROUTE_STATE_DOWN)
		return (1);
	return (!r->active &&
	    (now - r->last_fail) >= r->retry_ms);
}

long
route_rest_left_ms(const struct route *r, int64_t now)
{
	long	left;

	if (r->admin != ROUTE_ADMIN_ENABLED || r->active ||
	    r->last_fail == 0)
		return (-1);
	left = r->retry_ms - (now - r->last_fail);
	return (left < 1 ? 1 : left);
}

size_t
route_select(struct route **routes, size_t n, size_t from,
    int64_t now)
{
	size_t	i;

	for (i = from; i < n; i++) {
		if (route_usable(routes[i], now))
			return (i);
	}
	return (n);
}

static void
route_transition(struct route *r, int to, const char *why,
    int64_t now)
{
	long	ms = (long)(now - r->since);

	/* The operator's events: down is a warning, back up a notice. */
	(to == ROUTE_STATE_DOWN ? log_warnx : log_notice)(
	    "%s: %s -> %s (%s; was %s for %ld.%03lds)", r->label,
	    route_state_name(r->state), route_state_name(to), why,
	    route_state_name(r->state), ms / 1000, ms % 1000);
	r->state = to;
	r->since = now;
	if (r->notify != NULL)
		r->notify(r, r->notify_arg);
}

/* What each event is a count of, in log lines. */
static const char *const route_event_names[ROUTE_EV_COUNT] = {
	"check", "connect", "request"
};

/* "3 failed checks; last: ..." or "3 failures (1 check, 2 sessions)..." */
static void
route_fail_why(const struct route *r, enum route_event ev,
    const char *detail, char *buf, size_t len)
{
	int	checks = r->fails - r->passive_fails;

	if (r->passive_fails == 0 || checks == 0)
		snprintf(buf, len, "%d failed %s%s; last: %s", r->fails,
		    route_event_names[ev], r->fails == 1 ? "" : "s", detail);
	else
		snprintf(buf, len, "%d failures (%d check%s, %d session%s); "
		    "last: %s", r->fails, checks, checks == 1 ? "" : "s",
		    r->passive_fails, r->passive_fails == 1 ? "" : "s",
		    detail);
}

void
route_report(struct route *r, int ok, enum route_event ev,
    const char *detail, int64_t now)
{
	char	why[LOG_DETAIL_LEN + 128];

	if (ok) {
		/*
		 * With active checks, a session's success proves nothing the
		 * checks do not: a hung server's kernel still completes the
		 * handshake, and one that answered a while ago may be gone.
		 */
		if (r->active && ev != ROUTE_EV_CHECK)
			return;
		r->fails = r->passive_fails = 0;
		r->oks++;
		if (r->state == ROUTE_STATE_UNKNOWN) {
			/* The first success: no "transition" worth a line. */
			r->state = ROUTE_STATE_UP;
			r->since = now;
			log_notice("%s: up (%s ok)", r->label,
			    route_event_names[ev]);
			if (r->notify != NULL)
				r->notify(r, r->notify_arg);
		} else if (r->state == ROUTE_STATE_DOWN && r->oks >= r->rise) {
			snprintf(why, sizeof(why), "%d successful %s%s",
			    r->oks, route_event_names[ev], r->oks == 1 ? "" :
			    "s");
			route_transition(r, ROUTE_STATE_UP, why, now);
		}
		return;
	}
	r->oks = 0;
	r->fails++;
	if (ev != ROUTE_EV_CHECK)
		r->passive_fails++;
	r->last_fail = now;
	snprintf(r->last_error, sizeof(r->last_error), "%s", detail);
	/*
	 * With active checks, sessions' failures alone never take a route
	 * down: a client can forge them (a request it never finishes, a
	 * server it keeps busy), a check it cannot.  They count toward fall
	 * once a check agrees (the transition waits for a failed check).
	 */
	if (r->active && r->fails == r->passive_fails)
		return;
	if (r->state != ROUTE_STATE_DOWN && r->fails >= r->fall) {
		route_fail_why(r, ev, detail, why, sizeof(why));
		route_transition(r, ROUTE_STATE_DOWN, why, now);
	}
}

void
route_local_limit(struct route *r, const char *detail, int64_t now)
{
	if (detail == NULL) {
		if (r->local_limit[0] != '\0')
			log_info("%s: postern's own limit is over (a check "
			    "ran again)", r->label);
		r->local_limit[0] = '\0';
		return;
	}
	if (r->local_limit[0] == '\0')
		log_warnx("%s: %s (postern's own limit, not the route's: "
		    "not counted toward fall)", r->label, detail);
	snprintf(r->local_limit, sizeof(r->local_limit), "%s", detail);
	r->local_since = now;
}

const char *
route_shown_state(const struct route *r)
{
	return (r->local_limit[0] != '\0' ? "local_limit" :
	    route_state_name(r->state));
}

const char *
route_state_name(int state)
{
	switch (state) {
	case ROUTE_STATE_UP:
		return ("up");
	case ROUTE_STATE_DOWN:
		return ("down");
	}
	return ("unknown");
}

/* The addresses of a as text, "127.0.0.2, ::1" ("none" when empty). */
static void
route_dns_format(const struct resolve_answer *a, char *buf, size_t len)
{
	char	one[64];
	size_t	i, at = 0;

	snprintf(buf, len, "none");
	for (i = 0; i < a->n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "",
		    resolve_format((const struct sockaddr *)&a->addr[i], one,
		    sizeof(one)));
}

/* The same addresses, whatever the order? */
static int
route_dns_same(const struct resolve_answer *a, const struct resolve_answer *b)
{
	size_t	i;

	if (a->n != b->n)
		return (0);
	for (i = 0; i < a->n; i++) {
		if (!resolve_has(b, (const struct sockaddr *)&a->addr[i]))
			return (0);
	}
	return (1);
}

void
route_dns_set(struct route *r, const struct resolve_answer *ans,
    const char *error, int64_t now)
{
	char	was[256], is[256];

	if (ans == NULL) {
		if (r->dns_error[0] == '\0')
			log_warnx("%s: %s does not resolve (%s); sessions stay "
			    "where they are until it does", r->label,
			    r->cr->target.host, error);
		snprintf(r->dns_error, sizeof(r->dns_error), "%s", error);
		r->dns.n = 0;
		return;
	}
	r->dns_error[0] = '\0';
	r->dns_unproven = 0;
	if (!route_dns_same(&r->dns, ans)) {
		route_dns_format(&r->dns, was, sizeof(was));
		route_dns_format(ans, is, sizeof(is));
		/* A record that changed is the operator's event (failover). */
		(r->dns_at != 0 ? log_notice : log_info)("%s: %s resolves "
		    "to %s (was %s; ttl %ds)", r->label, r->cr->target.host,
		    is, was, ans->ttl);
	}
	r->dns = *ans;
	r->dns_at = now;
}

void
route_dns_unproven(struct route *r, const struct resolve_answer *ans)
{
	r->dns_unproven = r->dns.n != 0 && !route_dns_same(&r->dns, ans);
}

int
route_dns_stale(const struct route *r, const struct sockaddr *sa,
    int64_t now)
{
	int64_t	life = (int64_t)r->dns.ttl * 1000;

	if (sa == NULL || r->dns.n == 0 || r->dns_unproven)
		return (0);
	if (life < ROUTE_DNS_MIN_MS)
		life = ROUTE_DNS_MIN_MS;
	if (life > ROUTE_DNS_CAP_MS)
		life = ROUTE_DNS_CAP_MS;
	if (now - r->dns_at > life)
		return (0);
	return (!resolve_has(&r->dns, sa));
}
