/*
 * test_admin_guard.c: the admin endpoint's access decision
 * (proxy/admin_guard.c): Host against the bound address, Origin and
 * Sec-Fetch-Site, the custom header on writes, the token, and the
 * once-per-address log limiter.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admin_guard.h"

#define TOKEN	"0123456789abcdef0123456789abcdef"

/* g bound to ip (an IPv4 or IPv6 literal, or NULL for a unix socket). */
static void
bind_to(struct admin_guard *g, const char *ip)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;

	memset(&ss, 0, sizeof(ss));
	if (ip == NULL) {
		ss.ss_family = AF_UNIX;
		len = sizeof(struct sockaddr_un);
	} else if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		len = sizeof(*sin);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		len = sizeof(*sin6);
	}
	assert_int_equal(admin_guard_init(g, (struct sockaddr *)&ss, len), 0);
}

/* A GET of a page read by access, with Host host. */
static enum admin_guard_verdict
get(const struct admin_guard *g, enum admin_guard_access access,
    const char *host)
{
	struct admin_guard_req	 r;
	const char		*why;

	memset(&r, 0, sizeof(r));
	r.access = access;
	r.host = host;
	return (admin_guard_check(g, &r, &why));
}

static void
test_place(void **state)
{
	struct admin_guard	g;

	bind_to(&g, "127.0.0.1");
	assert_int_equal(g.place, ADMIN_GUARD_LOOPBACK);
	bind_to(&g, "127.9.8.7");
	assert_int_equal(g.place, ADMIN_GUARD_LOOPBACK);
	bind_to(&g, "::1");
	assert_int_equal(g.place, ADMIN_GUARD_LOOPBACK);
	bind_to(&g, "0.0.0.0");
	assert_int_equal(g.place, ADMIN_GUARD_WILDCARD);
	bind_to(&g, "::");
	assert_int_equal(g.place, ADMIN_GUARD_WILDCARD);
	bind_to(&g, "10.200.0.1");
	assert_int_equal(g.place, ADMIN_GUARD_ADDRESS);
	bind_to(&g, "fd00::1");
	assert_int_equal(g.place, ADMIN_GUARD_ADDRESS);
	bind_to(&g, NULL);
	assert_int_equal(g.place, ADMIN_GUARD_UNIX);
}

static void
test_host_loopback(void **state)
{
	static const char *const good[] = {
		"127.0.0.1", "127.0.0.1:9090", "localhost", "LocalHost:9090",
		"localhost.", "[::1]", "[::1]:9090", "127.0.0.2:1",
		"localhost:8080",	/* kubectl port-forward */
	};
	static const char *const bad[] = {
		"evil.example", "evil.example:9090", "10.0.0.1:9090",
		"localhost.evil.example", "127.0.0.1.nip.io:9090", "::1",
		"[::1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:123456", "",
		":9090", "[]:9090", "localhost:9090:1", "127.1:9090",
	};
	struct admin_guard	g;
	size_t			i;

	bind_to(&g, "127.0.0.1");
	assert_int_equal(get(&g, ADMIN_GUARD_READ, NULL), ADMIN_GUARD_OK);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (get(&g, ADMIN_GUARD_READ, good[i]) != ADMIN_GUARD_OK)
			fail_msg("Host '%s' refused", good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (get(&g, ADMIN_GUARD_PROBE, bad[i]) !=
		    ADMIN_GUARD_MISDIRECTED)
			fail_msg("Host '%s' accepted", bad[i]);
	}
}

static void
test_host_address(void **state)
{
	struct admin_guard	g;

	bind_to(&g, "10.200.0.1");
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "10.200.0.1:9090"),
	    ADMIN_GUARD_OK);
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "10.200.0.1"),
	    ADMIN_GUARD_OK);
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "127.0.0.1:9090"),
	    ADMIN_GUARD_OK);
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "10.200.0.2:9090"),
	    ADMIN_GUARD_MISDIRECTED);
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "pod.example:9090"),
	    ADMIN_GUARD_MISDIRECTED);
	bind_to(&g, "fd00::1");
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "[fd00::1]:9090"),
	    ADMIN_GUARD_OK);
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "[fd00::2]:9090"),
	    ADMIN_GUARD_MISDIRECTED);
}

/* A wildcard endpoint takes any IP literal (a pod IP), no other name. */
static void
test_host_wildcard(void **state)
{
	struct admin_guard	g;

	bind_to(&g, "0.0.0.0");
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "10.1.2.3:9090"),
	    ADMIN_GUARD_OK);
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "[fd00::7]:9090"),
	    ADMIN_GUARD_OK);
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "evil.example:9090"),
	    ADMIN_GUARD_MISDIRECTED);
	bind_to(&g, NULL);
	assert_int_equal(get(&g, ADMIN_GUARD_PROBE, "evil.example:9090"),
	    ADMIN_GUARD_OK);
}

static void
test_cross_site(void **state)
{
	struct admin_guard	 g;
	struct admin_guard_req	 r;
	const char		*why;

	bind_to(&g, "127.0.0.1");
	memset(&r, 0, sizeof(r));
	r.access = ADMIN_GUARD_READ;
	r.host = "127.0.0.1:9090";
	r.origin = "http://evil.example";
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_FORBIDDEN);
	assert_non_null(strstr(why, "Origin"));
	r.origin = "null";
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_FORBIDDEN);
	r.origin = NULL;
	r.fetch_site = "cross-site";
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_FORBIDDEN);
	r.fetch_site = "none";		/* typed in the address bar */
	assert_int_equal(admin_guard_check(&g, &r, &why), ADMIN_GUARD_OK);
}

static void
test_write_header(void **state)
{
	struct admin_guard	 g;
	struct admin_guard_req	 r;
	const char		*why;

	bind_to(&g, "127.0.0.1");
	memset(&r, 0, sizeof(r));
	r.access = ADMIN_GUARD_WRITE;
	r.host = "127.0.0.1:9090";
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_FORBIDDEN);
	assert_non_null(strstr(why, "X-Postern-Request: 1"));
	r.custom = "0";
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_FORBIDDEN);
	r.custom = "1";
	assert_int_equal(admin_guard_check(&g, &r, &why), ADMIN_GUARD_OK);
	/* The header does not excuse a cross-origin request. */
	r.origin = "http://127.0.0.1:9090";
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_FORBIDDEN);
}

/* Off loopback, writes need a token; reads and probes do not. */
static void
test_token_off_loopback(void **state)
{
	struct admin_guard	 g;
	struct admin_guard_req	 r;
	const char		*why;

	bind_to(&g, "10.200.0.1");
	memset(&r, 0, sizeof(r));
	r.access = ADMIN_GUARD_WRITE;
	r.host = "10.200.0.1:9090";
	r.custom = "1";
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_FORBIDDEN);
	assert_non_null(strstr(why, "admin_token_file"));
	r.access = ADMIN_GUARD_READ;
	assert_int_equal(admin_guard_check(&g, &r, &why), ADMIN_GUARD_OK);

	g.token = TOKEN;
	r.access = ADMIN_GUARD_WRITE;
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_UNAUTHORIZED);
	r.authorization = "Bearer " TOKEN "x";
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_UNAUTHORIZED);
	r.authorization = "Bearer 0123";
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_UNAUTHORIZED);
	r.authorization = "Basic " TOKEN;
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_UNAUTHORIZED);
	r.authorization = "Bearer " TOKEN;
	assert_int_equal(admin_guard_check(&g, &r, &why), ADMIN_GUARD_OK);
	r.authorization = "bearer  " TOKEN;
	assert_int_equal(admin_guard_check(&g, &r, &why), ADMIN_GUARD_OK);
	/* The token never replaces the custom header. */
	r.custom = NULL;
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_FORBIDDEN);
}

/* With a token, loopback writes need it too; reads only if read_token. */
static void
test_token_reads(void **state)
{
	struct admin_guard	 g;
	struct admin_guard_req	 r;
	const char		*why;

	bind_to(&g, "127.0.0.1");
	g.token = TOKEN;
	memset(&r, 0, sizeof(r));
	r.custom = "1";
	r.access = ADMIN_GUARD_WRITE;
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_UNAUTHORIZED);
	r.access = ADMIN_GUARD_READ;
	assert_int_equal(admin_guard_check(&g, &r, &why), ADMIN_GUARD_OK);
	g.read_token = 1;
	assert_int_equal(admin_guard_check(&g, &r, &why),
	    ADMIN_GUARD_UNAUTHORIZED);
	r.access = ADMIN_GUARD_PROBE;
	assert_int_equal(admin_guard_check(&g, &r, &why), ADMIN_GUARD_OK);
	r.access = ADMIN_GUARD_READ;
	r.authorization = "Bearer " TOKEN;
	assert_int_equal(admin_guard_check(&g, &r, &why), ADMIN_GUARD_OK);
}

static void
test_status(void **state)
{
	assert_int_equal(admin_guard_status(ADMIN_GUARD_OK), 200);
	assert_int_equal(admin_guard_status(ADMIN_GUARD_MISDIRECTED), 421);
	assert_int_equal(admin_guard_status(ADMIN_GUARD_FORBIDDEN), 403);
	assert_int_equal(admin_guard_status(ADMIN_GUARD_UNAUTHORIZED), 401);
}

/* Once per address per quiet period; a bounded set, oldest forgotten. */
static void
test_first(void **state)
{
	struct admin_guard	g;
	char			peer[32];
	int			i;

	bind_to(&g, "127.0.0.1");
	assert_true(admin_guard_first(&g, "10.0.0.1", 1000));
	assert_false(admin_guard_first(&g, "10.0.0.1", 2000));
	assert_true(admin_guard_first(&g, "10.0.0.2", 2000));
	assert_false(admin_guard_first(&g, "10.0.0.1",
	    1000 + ADMIN_GUARD_QUIET_MS - 1));
	assert_true(admin_guard_first(&g, "10.0.0.1",
	    1000 + ADMIN_GUARD_QUIET_MS));
	/* A flood of addresses pushes the first ones out. */
	for (i = 0; i < ADMIN_GUARD_SEEN; i++) {
		snprintf(peer, sizeof(peer), "10.1.0.%d", i);
		assert_true(admin_guard_first(&g, peer, 5000));
	}
	assert_true(admin_guard_first(&g, "10.0.0.2", 5000));
	assert_false(admin_guard_first(&g, "10.0.0.2", 5001));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place),
		cmocka_unit_test(test_host_loopback),
		cmocka_unit_test(test_host_address),
		cmocka_unit_test(test_host_wildcard),
		cmocka_unit_test(test_cross_site),
		cmocka_unit_test(test_write_header),
		cmocka_unit_test(test_token_off_loopback),
		cmocka_unit_test(test_token_reads),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_first),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
