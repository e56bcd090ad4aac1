/*
 * test_route.c: route health state machine and priority selection.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "log.h"
#include "resolve.h"
#include "route.h"

static const char cfg[] =
    "[service redis]\n"
    "listen = 127.0.0.1:7000\n"
    "route = a tcp://127.0.0.1:7001\n"
    "route = b tcp://127.0.0.1:7002\n"
    "route = c tcp://127.0.0.1:7003\n"
    "rise = 2\n"
    "fall = 3\n"
    "check_interval = 1s\n"
    "check = none\n";

struct fixture {
	struct conf	*conf;
	struct route	*r[3];
	int64_t		 now;		/* a fake clock_ms() */
};

static int
setup(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct fixture		*f = calloc(1, sizeof(*f));
	size_t			 i;

	assert_non_null(f);
	f->conf = conf_parse(cfg, strlen(cfg), "t", 0, &errs);
	assert_non_null(f->conf);
	assert_int_equal(errs.n, 0);
	f->now = 1000000;
	for (i = 0; i < 3; i++) {
		f->r[i] = route_new(f->conf, &f->conf->services[0],
		    &f->conf->services[0].routes[i], f->now);
		assert_non_null(f->r[i]);
	}
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	size_t		 i;

	for (i = 0; i < 3; i++)
		route_unref(f->r[i]);
	conf_unref(f->conf);
	free(f);
	return (0);
}

static void
advance(struct fixture *f, long ms)
{
	f->now += ms;
}

static void
test_new_route_is_unknown_and_usable(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(f->r[0]->state, ROUTE_STATE_UNKNOWN);
	assert_true(route_usable(f->r[0], f->now));
	assert_int_equal(route_select(f->r, 3, 0, f->now), 0);
	assert_string_equal(f->r[0]->label, "redis/a");
}

static void
test_fall_marks_down_after_n_failures(void **state)
{
	struct fixture	*f = *state;

	route_report(f->r[0], 0, ROUTE_EV_CHECK, "connection refused", f->now);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "connection refused", f->now);
	assert_int_not_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	assert_int_equal(route_select(f->r, 3, 0, f->now), 0);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "connect timeout", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	assert_string_equal(f->r[0]->last_error, "connect timeout");
	/* Priority skips the down route. */
	assert_int_equal(route_select(f->r, 3, 0, f->now), 1);
}

static void
test_success_resets_failure_count(void **state)
{
	struct fixture	*f = *state;

	route_report(f->r[0], 0, ROUTE_EV_CHECK, "x", f->now);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "x", f->now);
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "ok", f->now);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "x", f->now);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "x", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_UP);
}

static void
test_down_route_rests_then_gets_a_trial(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	for (i = 0; i < 3; i++)
		route_report(f->r[0], 0, ROUTE_EV_CHECK, "refused", f->now);
	advance(f, 999);
	assert_false(route_usable(f->r[0], f->now));
	advance(f, 1);
	assert_true(route_usable(f->r[0], f->now));
	assert_int_equal(route_select(f->r, 3, 0, f->now), 0);
	/* A failed trial starts another rest. */
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "refused", f->now);
	assert_false(route_usable(f->r[0], f->now));
}

/* When a held session should try a passive route again. */
static void
test_rest_left(void **state)
{
	struct fixture	*f = *state;

	/* Never failed: nothing to wait for. */
	assert_int_equal(route_rest_left_ms(f->r[0], f->now), -1);
	/* Failed once, not down yet: retry_ms after that failure. */
	route_report(f->r[0], 0, ROUTE_EV_CONNECT, "refused", f->now);
	assert_int_not_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	assert_int_equal(route_rest_left_ms(f->r[0], f->now), 1000);
	advance(f, 400);
	assert_int_equal(route_rest_left_ms(f->r[0], f->now), 600);
	/* Down: the rest ends when route_usable() says yes. */
	route_report(f->r[0], 0, ROUTE_EV_CONNECT, "refused", f->now);
	route_report(f->r[0], 0, ROUTE_EV_CONNECT, "refused", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	advance(f, 999);
	assert_int_equal(route_rest_left_ms(f->r[0], f->now), 1);
	assert_false(route_usable(f->r[0], f->now));
	advance(f, 1);
	assert_true(route_usable(f->r[0], f->now));
	/* Past the rest: at least 1 ms, never 0 or negative. */
	advance(f, 5000);
	assert_int_equal(route_rest_left_ms(f->r[0], f->now), 1);
	/* Active checks or an operator's hand decide instead. */
	f->r[0]->active = 1;
	assert_int_equal(route_rest_left_ms(f->r[0], f->now), -1);
	f->r[0]->active = 0;
	f->r[0]->admin = ROUTE_ADMIN_DISABLED;
	assert_int_equal(route_rest_left_ms(f->r[0], f->now), -1);
}

static void
test_active_checks_alone_revive_a_down_route(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	f->r[0]->active = 1;
	for (i = 0; i < 3; i++)
		route_report(f->r[0], 0, ROUTE_EV_CHECK, "refused", f->now);
	advance(f, 60000);
	assert_false(route_usable(f->r[0], f->now));
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "PONG", f->now);
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "PONG", f->now);
	assert_true(route_usable(f->r[0], f->now));
}

static void
test_operator_drain_and_disable(void **state)
{
	struct fixture	*f = *state;

	f->r[0]->admin = ROUTE_ADMIN_DRAINING;
	assert_false(route_usable(f->r[0], f->now));
	assert_int_equal(route_select(f->r, 3, 0, f->now), 1);
	f->r[1]->admin = ROUTE_ADMIN_DISABLED;
	assert_int_equal(route_select(f->r, 3, 0, f->now), 2);
	f->r[0]->admin = ROUTE_ADMIN_ENABLED;
	assert_int_equal(route_select(f->r, 3, 0, f->now), 0);
}

static int	notified;

static void
count_notify(struct route *r, void *arg)
{
	notified++;
}

static void
test_transitions_notify_once(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	notified = 0;
	f->r[0]->notify = count_notify;
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "ok", f->now);	/* unknown->up */
	assert_int_equal(notified, 1);
	for (i = 0; i < 5; i++)
		route_report(f->r[0], 0, ROUTE_EV_CHECK, "refused", f->now);
	assert_int_equal(notified, 2);
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "ok", f->now);
	assert_int_equal(notified, 2);
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "ok", f->now);
	assert_int_equal(notified, 3);
}

static void
test_check_statistics(void **state)
{
	struct fixture	*f = *state;

	route_record_check(f->r[0], 0, "PONG", 3, f->now);
	route_record_check(f->r[0], 2, "connect timeout", 1000, f->now);
	assert_int_equal(f->r[0]->checks[0], 1);
	assert_int_equal(f->r[0]->checks[2], 1);
	assert_int_equal(f->r[0]->latency_buckets[2], 1);	/* <= 5 ms */
	assert_int_equal(f->r[0]->latency_buckets[8], 1);	/* <= 1 s */
	assert_string_equal(f->r[0]->last_detail, "connect timeout");
	assert_int_equal(f->r[0]->last_latency_ms, 1000);
}

static void
test_rise_needs_consecutive_successes(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	for (i = 0; i < 3; i++)
		route_report(f->r[0], 0, ROUTE_EV_CHECK, "refused", f->now);
	advance(f, 1000);
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "ok", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "refused", f->now);
	advance(f, 1000);
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "ok", f->now);
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "ok", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_UP);
	assert_int_equal(route_select(f->r, 3, 0, f->now), 0);
}

static void
test_select_from_and_none(void **state)
{
	struct fixture	*f = *state;
	int		 i, j;

	assert_int_equal(route_select(f->r, 3, 1, f->now), 1);
	assert_int_equal(route_select(f->r, 3, 3, f->now), 3);
	for (j = 0; j < 3; j++)
		for (i = 0; i < 3; i++)
			route_report(f->r[j], 0, ROUTE_EV_CHECK, "refused", f->now);
	assert_int_equal(route_select(f->r, 3, 0, f->now), 3);
}

/*
 * The incident: a stopped Redis still completes TCP handshakes and may
 * have answered sessions a moment ago.  With active checks, nothing a
 * session reports may reset the checks' count of failures.
 */
static void
test_active_sessions_never_hold_a_route_up(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	f->r[0]->active = 1;
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "PONG", f->now);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "timeout", f->now);
	for (i = 0; i < 20; i++)
		route_report(f->r[0], 1, ROUTE_EV_ANSWER, "answered", f->now);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "timeout", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_UP);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "timeout", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	/* Down: only checks bring it back, however many sessions work. */
	for (i = 0; i < 20; i++)
		route_report(f->r[0], 1, ROUTE_EV_ANSWER, "answered", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	assert_false(route_usable(f->r[0], f->now + 3600 * 1000));
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "PONG", f->now);
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "PONG", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_UP);
}

/* Sessions' failures count with the checks' toward fall. */
static void
test_active_session_failures_push_down(void **state)
{
	struct fixture	*f = *state;

	f->r[0]->active = 1;
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "PONG", f->now);
	route_report(f->r[0], 0, ROUTE_EV_ANSWER, "no answer to GET", f->now);
	route_report(f->r[0], 0, ROUTE_EV_CONNECT, "refused", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_UP);
	assert_int_equal(f->r[0]->passive_fails, 2);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "timeout", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	assert_string_equal(f->r[0]->last_error, "timeout");
	/* A check's success clears both kinds. */
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "PONG", f->now);
	assert_int_equal(f->r[0]->fails, 0);
	assert_int_equal(f->r[0]->passive_fails, 0);
}

/*
 * Issue 20: with active checks, sessions' failures alone (which a local
 * client can forge) never take a route down, however many; one failed
 * check that agrees does.
 */
static void
test_active_passive_alone_never_down(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	f->r[0]->active = 1;
	route_report(f->r[0], 1, ROUTE_EV_CHECK, "PONG", f->now);
	for (i = 0; i < 50; i++)
		route_report(f->r[0], 0, ROUTE_EV_ANSWER, "no answer to GET",
		    f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_UP);
	route_report(f->r[0], 0, ROUTE_EV_CHECK, "timeout", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_DOWN);
}

/* postern's own limit is shown apart and clears on the next check. */
static void
test_local_limit_is_apart(void **state)
{
	struct fixture	*f = *state;

	route_report(f->r[0], 1, ROUTE_EV_CHECK, "PONG", f->now);
	route_local_limit(f->r[0], "Too many open files", f->now);
	assert_string_equal(route_shown_state(f->r[0]), "local_limit");
	assert_int_equal(f->r[0]->fails, 0);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_UP);
	route_local_limit(f->r[0], NULL, f->now);
	assert_string_equal(route_shown_state(f->r[0]), "up");
}

/* Without checks, a session's answer is the evidence: it counts. */
static void
test_passive_route_comes_back_on_answers(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	for (i = 0; i < 3; i++)
		route_report(f->r[0], 0, ROUTE_EV_ANSWER, "no answer", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	route_report(f->r[0], 1, ROUTE_EV_ANSWER, "answered", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_DOWN);
	route_report(f->r[0], 1, ROUTE_EV_ANSWER, "answered", f->now);
	assert_int_equal(f->r[0]->state, ROUTE_STATE_UP);
}

static void
test_same_definition(void **state)
{
	struct fixture		*f = *state;
	const struct conf_route	*a = &f->conf->services[0].routes[0];
	const struct conf_route	*b = &f->conf->services[0].routes[1];

	assert_true(route_same(a, a));
	assert_false(route_same(a, b));
}

/*
 * A Sentinel route dials nothing until a master is set; each master is a
 * copy of the route with that target, valid while the route or a holder
 * (a dial, a session: route_dial_hold) has it (ASan would see a dial's
 * pointer to an old one freed), and freed after: a route that failed
 * over ten times keeps one master, and one generation reference.
 */
static void
test_sentinel_route_masters(void **state)
{
	static const char	 text[] = "[service r]\nlisten = 7000\n"
	    "protocol = redis\ncheck = none\n"
	    "route = m tcp://127.0.0.1:1,127.0.0.1:2 sentinel=mm\n";
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*c;
	struct route		*r;
	struct addr		 a = { .kind = ADDR_INET, .host = "127.0.0.1",
				    .port = 6380 };
	const struct conf_route	*first;

	(void)state;
	c = conf_parse(text, strlen(text), "t", 0, &errs);
	assert_non_null(c);
	assert_int_equal(errs.n, 0);
	r = route_new(c, &c->services[0], &c->services[0].routes[0], 1000);
	assert_non_null(r);
	assert_null(r->dial_cr);
	assert_false(route_eligible(r));
	assert_false(route_usable(r, 1000));
	assert_int_equal(c->refs, 2);		/* ours, the route's */
	assert_int_equal(route_set_master(r, &a), 0);
	assert_true(route_usable(r, 1000));
	assert_int_equal(r->epoch, 1);
	assert_int_equal(c->refs, 3);		/* and the master's */
	first = route_dial_hold(r);		/* a session on it */
	assert_ptr_equal(first, r->dial_cr);
	assert_int_equal(first->target.port, 6380);
	assert_ptr_equal(first->origin, r->cr);
	assert_null(first->sentinel);
	assert_int_equal(first->nsentinels, 0);
	assert_string_equal(first->name, "m");
	a.port = 6381;
	assert_int_equal(route_set_master(r, &a), 0);
	assert_int_equal(r->epoch, 2);
	assert_int_equal(r->dial_cr->target.port, 6381);
	assert_int_equal(first->target.port, 6380);	/* still valid: held */
	assert_int_equal(c->refs, 4);
	/* Let go of, the past master is gone; the current one stays. */
	route_dial_release(first);
	assert_int_equal(c->refs, 3);
	/* Past masters nobody holds are not kept: ten failovers, one. */
	for (a.port = 7000; a.port < 7010; a.port++)
		assert_int_equal(route_set_master(r, &a), 0);
	assert_int_equal(c->refs, 3);
	assert_int_equal(r->dial_cr->target.port, 7009);
	/* An ordinary route's conf_route is not a master: no-op. */
	route_dial_release(&c->services[0].routes[0]);
	route_dial_release(NULL);
	/* The route's master survives a rebind to an equal definition. */
	route_rebind(r, c, &c->services[0], &c->services[0].routes[0]);
	assert_int_equal(r->dial_cr->target.port, 7009);
	route_unref(r);
	assert_int_equal(c->refs, 1);
	conf_unref(c);
}

/* An answer with the IPv4 addresses given, and ttl. */
static void
answer(struct resolve_answer *a, int ttl, const char *ip1, const char *ip2)
{
	struct sockaddr_in	*sin;
	const char		*ips[2] = { ip1, ip2 };
	size_t			 i;

	memset(a, 0, sizeof(*a));
	a->ttl = ttl;
	for (i = 0; i < 2 && ips[i] != NULL; i++, a->n++) {
		sin = (struct sockaddr_in *)&a->addr[i];
		sin->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ips[i], &sin->sin_addr), 1);
	}
}

static struct sockaddr_storage
v4(const char *ip, unsigned short port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return (ss);
}

/*
 * A session is stale when its server's address (port ignored) is not in
 * the route's answer, while the answer lives: its TTL, at least
 * ROUTE_DNS_MIN_MS, at most ROUTE_DNS_CAP_MS.  No answer, or a name
 * that stopped resolving: never stale.
 */
static void
test_dns_stale(void **state)
{
	struct fixture		*f = *state;
	struct route		*r = f->r[0];
	struct resolve_answer	 a;
	struct sockaddr_storage	 s2 = v4("10.0.0.2", 6379), s3 = v4("10.0.0.3", 1);
	const struct sockaddr	*p2 = (struct sockaddr *)&s2, *p3 = (struct sockaddr *)&s3;

	assert_int_equal(route_dns_stale(r, p2, f->now), 0);	/* no answer */
	answer(&a, 5, "10.0.0.3", NULL);
	route_dns_set(r, &a, NULL, f->now);
	assert_int_equal(route_dns_stale(r, p2, f->now), 1);
	assert_int_equal(route_dns_stale(r, p3, f->now), 0);
	assert_int_equal(route_dns_stale(r, NULL, f->now), 0);
	/* TTL 5 s, judged at least ROUTE_DNS_MIN_MS. */
	assert_int_equal(route_dns_stale(r, p2, f->now + ROUTE_DNS_MIN_MS), 1);
	assert_int_equal(route_dns_stale(r, p2, f->now + ROUTE_DNS_MIN_MS + 1),
	    0);
	/* A long TTL is capped. */
	answer(&a, 3600, "10.0.0.3", "10.0.0.4");
	route_dns_set(r, &a, NULL, f->now);
	assert_int_equal(route_dns_stale(r, p2, f->now + ROUTE_DNS_CAP_MS), 1);
	assert_int_equal(route_dns_stale(r, p2, f->now + ROUTE_DNS_CAP_MS + 1),
	    0);
	/* Either address of the answer is current. */
	assert_int_equal(route_dns_stale(r, p3, f->now), 0);
	/* The name stops resolving: nothing is judged. */
	route_dns_set(r, NULL, "NXDOMAIN", f->now);
	assert_int_equal(route_dns_stale(r, p2, f->now), 0);
	assert_string_equal(r->dns_error, "NXDOMAIN");
	/* ... until it does again. */
	answer(&a, 5, "10.0.0.2", NULL);
	route_dns_set(r, &a, NULL, f->now);
	assert_string_equal(r->dns_error, "");
	assert_int_equal(route_dns_stale(r, p2, f->now), 0);
	assert_int_equal(route_dns_stale(r, p3, f->now), 1);
}

/* An IPv4 server reached as a v4-mapped IPv6 address is the same one. */
static void
test_dns_v4_mapped(void **state)
{
	struct resolve_answer	 a;
	struct sockaddr_in6	 sin6;

	(void)state;
	answer(&a, 5, "10.0.0.2", NULL);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.2",
	    &sin6.sin6_addr), 1);
	assert_int_equal(resolve_has(&a, (struct sockaddr *)&sin6), 1);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.3",
	    &sin6.sin6_addr), 1);
	assert_int_equal(resolve_has(&a, (struct sockaddr *)&sin6), 0);
	assert_int_equal(resolve_is_literal("10.0.0.2"), 1);
	assert_int_equal(resolve_is_literal("::1"), 1);
	assert_int_equal(resolve_is_literal("db.example.test"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sentinel_route_masters),
		cmocka_unit_test_setup_teardown(
		    test_new_route_is_unknown_and_usable, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_fall_marks_down_after_n_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_success_resets_failure_count, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_down_route_rests_then_gets_a_trial, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rise_needs_consecutive_successes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_select_from_and_none, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_active_sessions_never_hold_a_route_up, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_active_session_failures_push_down, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_active_passive_alone_never_down, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_local_limit_is_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_passive_route_comes_back_on_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_active_checks_alone_revive_a_down_route, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_operator_drain_and_disable, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_transitions_notify_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_check_statistics, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_same_definition, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rest_left, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dns_stale, setup, teardown),
		cmocka_unit_test(test_dns_v4_mapped),
	};

	log_init(LOG_LEVEL_ERROR, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
