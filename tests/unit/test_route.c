/*
 * test_route.c: route health state machine and priority selection.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "log.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	log_init(LOG_LEVEL_ERROR, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
