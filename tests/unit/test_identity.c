/*
 * test_identity.c: the identity guard's reference and verdicts: the
 * preferred route is the reference and is never refused by it; others are
 * refused until it has reported, and when they differ; its last identity
 * stays the reference while it reports nothing; a pinned identity_value
 * judges every route; a refused route is not usable; identity = off and
 * checks that cannot see an identity leave routes alone.
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
#include "identity.h"
#include "route.h"

#define CFG(extra) \
    "[service pg]\n" \
    "listen = 127.0.0.1:7000\n" \
    "protocol = postgres\n" \
    "route = a tcp://127.0.0.1:7001\n" \
    "route = b tcp://127.0.0.1:7002\n" \
    "check_user = check\n" \
    extra

struct fixture {
	struct conf	*conf;
	struct route	*r[2];
	int		 notified;
};

static void
notify(struct route *r, void *arg)
{
	struct fixture	*f = arg;

	(void)r;
	f->notified++;
}

static struct fixture *
fixture(const char *cfg)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct fixture		*f = calloc(1, sizeof(*f));
	size_t			 i;

	assert_non_null(f);
	f->conf = conf_parse(cfg, strlen(cfg), "t", 0, &errs);
	if (f->conf == NULL)
		fail_msg("%s", errs.msg[0]);
	for (i = 0; i < 2; i++) {
		f->r[i] = route_new(f->conf, &f->conf->services[0],
		    &f->conf->services[0].routes[i], 1000);
		assert_non_null(f->r[i]);
		f->r[i]->notify = notify;
		f->r[i]->notify_arg = f;
	}
	return (f);
}

static void
fixture_free(struct fixture *f)
{
	route_unref(f->r[0]);
	route_unref(f->r[1]);
	conf_unref(f->conf);
	free(f);
}

static int
report(struct fixture *f, int i, const char *observed)
{
	return (identity_report(f->r, 2, &f->conf->services[0], f->r[i],
	    observed));
}

static void
test_preferred_is_reference(void **state)
{
	/* A password file (not read here) turns the guard on. */
	struct fixture	*f = fixture(CFG("check_password_file = /pw\n"));

	(void)state;
	assert_true(f->conf->services[0].identity_on);
	identity_judge(f->r, 2, &f->conf->services[0]);
	assert_string_equal(f->r[0]->refused, "");
	assert_non_null(strstr(f->r[1]->refused, "a, the preferred route, "
	    "has not reported"));
	assert_false(route_usable(f->r[1], 1000));
	/* b reports first: still no reference. */
	assert_int_equal(report(f, 1, "42"), 0);
	assert_non_null(strstr(f->r[1]->refused, "not verified"));
	/* a reports the same: b accepted, and usable again. */
	f->notified = 0;
	assert_int_equal(report(f, 0, "42"), 0);
	assert_string_equal(f->r[1]->refused, "");
	assert_true(route_usable(f->r[1], 1000));
	assert_int_equal(f->notified, 1);
	/* b moves to another cluster: refused, and its check fails. */
	assert_int_equal(report(f, 1, "77"), 1);
	assert_string_equal(f->r[1]->refused,
	    "identity mismatch: system 77 but a has system 42");
	assert_false(route_eligible(f->r[1]));
	/* a reports nothing (down): its last identity stays the reference. */
	assert_int_equal(report(f, 0, NULL), 0);
	assert_int_equal(report(f, 1, "77"), 1);
	/* a itself moves: it is the truth, so b now matches. */
	assert_int_equal(report(f, 0, "77"), 0);
	assert_string_equal(f->r[1]->refused, "");
	assert_string_equal(f->r[0]->refused, "");
	fixture_free(f);
}

static void
test_pinned(void **state)
{
	struct fixture	*f = fixture(CFG("identity_value = 42\n"));

	(void)state;
	assert_true(f->conf->services[0].identity_on);
	identity_judge(f->r, 2, &f->conf->services[0]);
	assert_string_equal(f->r[0]->refused, "identity not verified yet");
	assert_string_equal(f->r[1]->refused, "identity not verified yet");
	/* The preferred route is judged too. */
	assert_int_equal(report(f, 0, "7"), 1);
	assert_string_equal(f->r[0]->refused,
	    "identity mismatch: system 7 but identity_value is system 42");
	assert_int_equal(report(f, 1, "42"), 0);
	assert_string_equal(f->r[1]->refused, "");
	fixture_free(f);
}

static void
test_off(void **state)
{
	struct fixture	*f = fixture(CFG(""));

	(void)state;
	/* No password file: auto does not turn the guard on. */
	assert_false(f->conf->services[0].identity_on);
	assert_int_equal(report(f, 1, "77"), 0);
	assert_int_equal(report(f, 0, "42"), 0);
	assert_string_equal(f->r[1]->refused, "");
	assert_string_equal(f->r[1]->identity, "");
	fixture_free(f);
	f = fixture(CFG("identity = off\n"));
	assert_false(f->conf->services[0].identity_on);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preferred_is_reference),
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_off),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
