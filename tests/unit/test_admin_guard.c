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
	static const struct {
		const char		*ip;
		enum admin_guard_place	 want;
	} cases[] = {
		{ "127.0.0.1", ADMIN_GUARD_LOOPBACK },
		{ "127.9.8.7", ADMIN_GUARD_LOOPBACK },
		{ "::1", ADMIN_GUARD_LOOPBACK },
		{ "0.0.0.0", ADMIN_GUARD_WILDCARD },
		{ "::", ADMIN_GUARD_WILDCARD },
		{ "10.200.0.1", ADMIN_GUARD_ADDRESS },
		{ "fd00::1", ADMIN_GUARD_ADDRESS },
		{ NULL, ADMIN_GUARD_UNIX },
	};
	struct admin_guard	g;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bind_to(&g, cases[i].ip);
		if (g.place != cases[i].want)
			fail_msg("%s: place %d, not %d", cases[i].ip ?
			    cases[i].ip : "unix", g.place, cases[i].want);
	}
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

/*
 * Off loopback: that address and loopback literals; bound to all
 * interfaces, any IP literal (a pod IP), no other name; a unix socket,
 * anything.
 */
static void
test_host_places(void **state)
{
	static const struct {
		const char		*bound, *host;
		enum admin_guard_verdict want;
	} cases[] = {
		{ "10.200.0.1", "10.200.0.1:9090", ADMIN_GUARD_OK },
		{ "10.200.0.1", "10.200.0.1", ADMIN_GUARD_OK },
		{ "10.200.0.1", "127.0.0.1:9090", ADMIN_GUARD_OK },
		{ "10.200.0.1", "10.200.0.2:9090", ADMIN_GUARD_MISDIRECTED },
		{ "10.200.0.1", "pod.example:9090", ADMIN_GUARD_MISDIRECTED },
		{ "fd00::1", "[fd00::1]:9090", ADMIN_GUARD_OK },
		{ "fd00::1", "[fd00::2]:9090", ADMIN_GUARD_MISDIRECTED },
		{ "0.0.0.0", "10.1.2.3:9090", ADMIN_GUARD_OK },
		{ "0.0.0.0", "[fd00::7]:9090", ADMIN_GUARD_OK },
		{ "0.0.0.0", "evil.example:9090", ADMIN_GUARD_MISDIRECTED },
		{ NULL, "evil.example:9090", ADMIN_GUARD_OK },
	};
	struct admin_guard	g;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bind_to(&g, cases[i].bound);
		if (get(&g, ADMIN_GUARD_PROBE, cases[i].host) != cases[i].want)
			fail_msg("bound to %s, Host '%s': not verdict %d",
			    cases[i].bound ? cases[i].bound : "unix",
			    cases[i].host, cases[i].want);
	}
}

/* One request against one endpoint, and the verdict it must get. */
struct guard_case {
	const char		*bound;		/* IP the endpoint is bound to */
	const char		*token;		/* admin_token_file's, or NULL */
	int			 read_token;
	enum admin_guard_access	 access;
	const char		*origin, *fetch_site, *custom, *auth;
	enum admin_guard_verdict want;
	const char		*why;		/* in the reason, or NULL */
};

#define LO	"127.0.0.1"
#define OFF	"10.200.0.1"
#define R	ADMIN_GUARD_READ
#define P	ADMIN_GUARD_PROBE
#define WR	ADMIN_GUARD_WRITE
#define OK	ADMIN_GUARD_OK
#define NO	ADMIN_GUARD_FORBIDDEN
#define AUTH	ADMIN_GUARD_UNAUTHORIZED
#define BEARER	"Bearer " TOKEN

static const struct guard_case guard_cases[] = {
	/* Cross-site: refused, whatever else the request carries. */
	{ LO, NULL, 0, R, "http://evil.example", NULL, NULL, NULL, NO,
	  "Origin" },
	{ LO, NULL, 0, R, "null", NULL, NULL, NULL, NO, NULL },
	{ LO, NULL, 0, R, NULL, "cross-site", NULL, NULL, NO, "cross-site" },
	{ LO, NULL, 0, R, NULL, "none", NULL, NULL, OK, NULL },
	{ LO, NULL, 0, WR, "http://127.0.0.1:9090", NULL, "1", NULL, NO,
	  NULL },
	/* Writes need X-Postern-Request: 1. */
	{ LO, NULL, 0, WR, NULL, NULL, NULL, NULL, NO,
	  "X-Postern-Request: 1" },
	{ LO, NULL, 0, WR, NULL, NULL, "0", NULL, NO, NULL },
	{ LO, NULL, 0, WR, NULL, NULL, "1", NULL, OK, NULL },
	/* Off loopback: writes need a token file, reads do not. */
	{ OFF, NULL, 0, WR, NULL, NULL, "1", NULL, NO, "admin_token_file" },
	{ OFF, NULL, 0, R, NULL, NULL, NULL, NULL, OK, NULL },
	{ OFF, TOKEN, 0, WR, NULL, NULL, "1", NULL, AUTH, "token required" },
	{ OFF, TOKEN, 0, WR, NULL, NULL, "1", BEARER "x", AUTH,
	  "wrong token" },
	{ OFF, TOKEN, 0, WR, NULL, NULL, "1", "Bearer 0123", AUTH, NULL },
	{ OFF, TOKEN, 0, WR, NULL, NULL, "1", "Basic " TOKEN, AUTH, NULL },
	{ OFF, TOKEN, 0, WR, NULL, NULL, "1", BEARER, OK, NULL },
	{ OFF, TOKEN, 0, WR, NULL, NULL, "1", "bearer  " TOKEN, OK, NULL },
	/* The token never replaces the custom header. */
	{ OFF, TOKEN, 0, WR, NULL, NULL, NULL, BEARER, NO, NULL },
	/* With a token, loopback writes need it; reads with read_token. */
	{ LO, TOKEN, 0, WR, NULL, NULL, "1", NULL, AUTH, NULL },
	{ LO, TOKEN, 0, R, NULL, NULL, NULL, NULL, OK, NULL },
	{ LO, TOKEN, 1, R, NULL, NULL, NULL, NULL, AUTH, NULL },
	{ LO, TOKEN, 1, P, NULL, NULL, NULL, NULL, OK, NULL },
	{ LO, TOKEN, 1, R, NULL, NULL, NULL, BEARER, OK, NULL },
};

static void
test_cases(void **state)
{
	const struct guard_case	*c;
	struct admin_guard	 g;
	struct admin_guard_req	 r;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof(guard_cases) / sizeof(guard_cases[0]); i++) {
		c = &guard_cases[i];
		bind_to(&g, c->bound);
		g.token = c->token;
		g.read_token = c->read_token;
		memset(&r, 0, sizeof(r));
		r.access = c->access;
		r.host = c->bound;
		r.origin = c->origin;
		r.fetch_site = c->fetch_site;
		r.custom = c->custom;
		r.authorization = c->auth;
		if (admin_guard_check(&g, &r, &why) != c->want)
			fail_msg("case %zu: verdict %d, not %d (%s)", i,
			    admin_guard_check(&g, &r, &why), c->want, why);
		if (c->why != NULL && strstr(why, c->why) == NULL)
			fail_msg("case %zu: reason '%s' lacks '%s'", i, why,
			    c->why);
	}
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
		cmocka_unit_test(test_host_places),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_first),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
