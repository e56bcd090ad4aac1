/*
 * test_conf_limits.c: the resource-bound keys (issue 22): idle_timeout,
 * max_sessions, the unix admin socket's mode and group, and the
 * descriptor budget conf_fds compares with RLIMIT_NOFILE.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_check.h"
#include "conf_fds.h"

static void
test_defaults(void **state)
{
	struct conf	*c = parse_ok(SVC);

	assert_int_equal(c->max_sessions, 0);
	assert_int_equal(c->services[0].idle_timeout_ms, 0);
	assert_int_equal(c->services[0].max_connections, 4096);
	assert_int_equal(c->admin_socket_perm, 0600);
	assert_null(c->admin_socket_group);
	conf_unref(c);
	c = parse_ok("[postern]\nmax_sessions = 300\nadmin = unix:/run/p.sock\n"
	    "admin_socket_mode = 0660\n" SVC "idle_timeout = 90s\n");
	assert_int_equal(c->max_sessions, 300);
	assert_int_equal(c->services[0].idle_timeout_ms, 90000);
	assert_int_equal(c->admin_socket_perm, 0660);
	conf_unref(c);
}

static void
test_socket_mode_errors(void **state)
{
	EXPECT_ERRORS("[postern]\nadmin = unix:/run/p.sock\n"
	    "admin_socket_mode = 0400\n" SVC, 0,
	    "t.conf:3: admin_socket_mode '0400': an octal mode from 0600 to "
	    "0777 (the owner must read and write)");
	EXPECT_ERRORS("[postern]\nadmin = unix:/run/p.sock\n"
	    "admin_socket_mode = 01777\n" SVC, 0,
	    "t.conf:3: admin_socket_mode '01777': an octal mode from 0600 to "
	    "0777 (the owner must read and write)");
	EXPECT_ERRORS("[postern]\nadmin = unix:/run/p.sock\n"
	    "admin_socket_mode = 0698\n" SVC, 0,
	    "t.conf:3: admin_socket_mode '0698': an octal mode from 0600 to "
	    "0777 (the owner must read and write)");
	EXPECT_ERRORS("[postern]\nadmin = unix:/run/p.sock\n"
	    "admin_socket_mode = -0600\n" SVC, 0,
	    "t.conf:3: admin_socket_mode '-0600': an octal mode from 0600 to "
	    "0777 (the owner must read and write)");
	EXPECT_ERRORS("[postern]\nadmin = 127.0.0.1:9090\n"
	    "admin_socket_group = adm\n" SVC, 0,
	    "t.conf:3: admin_socket_group applies to a unix:/path admin "
	    "address only");
	EXPECT_ERRORS("[postern]\nmax_sessions = 1000001\n" SVC, 0,
	    "t.conf:2: max_sessions: 1000001 is out of range (0 to 1000000)");
}

static void
test_fds(void **state)
{
	struct conf	*c;
	struct conf_fds	 f;
	char		 msg[512];

	/* Two services, three listeners, four checked routes, an admin. */
	c = parse_ok("[postern]\nadmin = 127.0.0.1:9090\n"
	    "[service a]\nlisten = 7000\nlisten = 7001\nprotocol = redis\n"
	    "route = x tcp://127.0.0.1:1\nroute = y tcp://127.0.0.1:2\n"
	    "max_connections = 100\n"
	    "[service b]\nlisten = 7002\nprotocol = redis\n"
	    "route = x tcp://127.0.0.1:1\nroute = y tcp://127.0.0.1:2\n"
	    "max_connections = 50\n");
	conf_fds_need(c, &f);
	assert_int_equal(f.sessions, 150);
	assert_int_equal(f.capped, 0);
	assert_int_equal(f.listeners, 3);
	assert_int_equal(f.admin, CONF_FDS_ADMIN);
	assert_int_equal(f.checks, 4);
	assert_int_equal(f.total, 300 + 3 + 65 + 4 + CONF_FDS_RESERVE);
	assert_int_equal(conf_fds_check(c, f.total, msg, sizeof(msg)), 0);
	assert_int_equal(conf_fds_check(c, f.total - 1, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "RLIMIT_NOFILE is 403, but the caps may "
	    "need 404 descriptors: 150 sessions (the services' "
	    "max_connections) x 2"));
	assert_non_null(strstr(msg, "; 149 sessions fit"));
	conf_unref(c);

	/* max_sessions below the sum is the cap; above it changes nothing. */
	c = parse_ok("[postern]\nmax_sessions = 10\n" SVC);
	conf_fds_need(c, &f);
	assert_int_equal(f.sessions, 10);
	assert_int_equal(f.capped, 1);
	conf_unref(c);
	c = parse_ok("[postern]\nmax_sessions = 5000\n" SVC
	    "max_connections = 20\n");
	conf_fds_need(c, &f);
	assert_int_equal(f.sessions, 20);
	assert_int_equal(f.capped, 0);
	conf_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_socket_mode_errors),
		cmocka_unit_test(test_fds),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
