/*
 * test_addr.c: address parsing and formatting (config/addr.c) and the
 * duration syntax (conf_keys_parse_duration).
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
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "conf_keys.h"

/* Parse s with fn and expect success. */
#define OK(fn, s, a) do {						\
	char	 e_[256] = "";						\
	int	 rc_ = fn((s), (a), e_, sizeof(e_));			\
	if (rc_ != 0)							\
		fail_msg("%s(\"%s\"): %s", #fn, (s), e_);		\
} while (0)

/* Parse s with fn and expect exactly the error message msg. */
#define BAD(fn, s, msg) do {						\
	struct addr	 a_;						\
	char		 e_[256] = "";					\
	assert_int_equal(fn((s), &a_, e_, sizeof(e_)), -1);		\
	assert_string_equal(e_, (msg));					\
} while (0)

static void
test_parse_port(void **state)
{
	uint16_t	port = 0;

	assert_int_equal(addr_parse_port("1", &port), 0);
	assert_int_equal(port, 1);
	assert_int_equal(addr_parse_port("65535", &port), 0);
	assert_int_equal(port, 65535);
	assert_int_equal(addr_parse_port("08080", &port), 0);
	assert_int_equal(port, 8080);
	assert_int_equal(addr_parse_port("0", &port), -1);
	assert_int_equal(addr_parse_port("65536", &port), -1);
	assert_int_equal(addr_parse_port("70000", &port), -1);
	assert_int_equal(addr_parse_port("", &port), -1);
	assert_int_equal(addr_parse_port("-1", &port), -1);
	assert_int_equal(addr_parse_port("+80", &port), -1);
	assert_int_equal(addr_parse_port(" 80", &port), -1);
	assert_int_equal(addr_parse_port("80 ", &port), -1);
	assert_int_equal(addr_parse_port("80a", &port), -1);
	assert_int_equal(addr_parse_port("000080", &port), -1);
	assert_int_equal(addr_parse_port("99999999999999999999", &port), -1);
	assert_int_equal(port, 8080);	/* untouched by failures */
}

static void
test_hostport_good(void **state)
{
	struct addr	a;

	OK(addr_parse_hostport, "127.0.0.1:6379", &a);
	assert_int_equal(a.kind, ADDR_INET);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 6379);

	OK(addr_parse_hostport, "[::1]:5432", &a);
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 5432);

	OK(addr_parse_hostport, "[2001:db8::4]:65535", &a);
	assert_string_equal(a.host, "2001:db8::4");
	assert_int_equal(a.port, 65535);

	OK(addr_parse_hostport, "bastion.example.com:22", &a);
	assert_string_equal(a.host, "bastion.example.com");
	assert_int_equal(a.port, 22);

	OK(addr_parse_hostport, "db-1_a:1", &a);
	assert_string_equal(a.host, "db-1_a");

	OK(addr_parse_hostport, "*:80", &a);
	assert_string_equal(a.host, "*");
}

static void
test_hostport_bad(void **state)
{
	char	long_host[ADDR_HOSTLEN + 8], err[512];
	struct addr a;

	BAD(addr_parse_hostport, "host",
	    "bad address 'host': expected host:port");
	BAD(addr_parse_hostport, "",
	    "bad address '': expected host:port");
	BAD(addr_parse_hostport, "host:",
	    "bad address 'host:': port must be 1-65535");
	BAD(addr_parse_hostport, "host:0",
	    "bad address 'host:0': port must be 1-65535");
	BAD(addr_parse_hostport, "host:70000",
	    "bad address 'host:70000': port must be 1-65535");
	BAD(addr_parse_hostport, "host:http",
	    "bad address 'host:http': port must be 1-65535");
	BAD(addr_parse_hostport, ":80",
	    "bad address ':80': missing or overlong host");
	BAD(addr_parse_hostport, "::1:80",
	    "bad address '::1:80': write IPv6 addresses as [address]:port");
	BAD(addr_parse_hostport, "2001:db8::1",
	    "bad address '2001:db8::1': write IPv6 addresses as "
	    "[address]:port");
	BAD(addr_parse_hostport, "[::1]",
	    "bad address '[::1]': expected [v6-address]:port");
	BAD(addr_parse_hostport, "[::1]80",
	    "bad address '[::1]80': expected [v6-address]:port");
	BAD(addr_parse_hostport, "[::1:80",
	    "bad address '[::1:80': expected [v6-address]:port");
	BAD(addr_parse_hostport, "[]:80", "bad address '[]:80'");
	BAD(addr_parse_hostport, "[1.2.3.4]:80",
	    "bad address '[1.2.3.4]:80': '1.2.3.4' is not an IPv6 address");
	BAD(addr_parse_hostport, "[::1]:0",
	    "bad address '[::1]:0': port must be 1-65535");
	BAD(addr_parse_hostport, "a b:80",
	    "bad address 'a b:80': 'a b' is not a host name or IP address");
	BAD(addr_parse_hostport, "-x:80",
	    "bad address '-x:80': '-x' is not a host name or IP address");
	BAD(addr_parse_hostport, ".x:80",
	    "bad address '.x:80': '.x' is not a host name or IP address");
	BAD(addr_parse_hostport, "a/b:80",
	    "bad address 'a/b:80': 'a/b' is not a host name or IP address");

	/* A host that does not fit. */
	memset(long_host, 'a', ADDR_HOSTLEN);
	strcpy(long_host + ADDR_HOSTLEN, ":80");
	assert_int_equal(addr_parse_hostport(long_host, &a, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "missing or overlong host"));

	/* The longest host that fits. */
	memset(long_host, 'a', ADDR_HOSTLEN - 1);
	strcpy(long_host + ADDR_HOSTLEN - 1, ":80");
	OK(addr_parse_hostport, long_host, &a);
	assert_int_equal(strlen(a.host), ADDR_HOSTLEN - 1);

	/* A short error buffer truncates, NUL-terminated. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(addr_parse_hostport("host", &a, err, 8), -1);
	assert_string_equal(err, "bad add");
}

static void
test_listen(void **state)
{
	struct addr	a;
	char		path[ADDR_PATHLEN + 16];

	OK(addr_parse_listen, "6379", &a);
	assert_int_equal(a.kind, ADDR_INET);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 6379);

	OK(addr_parse_listen, "*:6379", &a);
	assert_string_equal(a.host, "*");
	assert_int_equal(a.port, 6379);

	OK(addr_parse_listen, "0.0.0.0:7000", &a);
	assert_string_equal(a.host, "0.0.0.0");

	OK(addr_parse_listen, "[::]:7000", &a);
	assert_string_equal(a.host, "::");

	OK(addr_parse_listen, "unix:/run/postern/redis.sock", &a);
	assert_int_equal(a.kind, ADDR_UNIX);
	assert_string_equal(a.path, "/run/postern/redis.sock");

	BAD(addr_parse_listen, "0", "bad address '0': port must be 1-65535");
	BAD(addr_parse_listen, "70000",
	    "bad address '70000': port must be 1-65535");
	BAD(addr_parse_listen, "localhost",
	    "bad address 'localhost': port must be 1-65535");
	BAD(addr_parse_listen, "", "bad address '': expected host:port");
	BAD(addr_parse_listen, "127.0.0.1:0",
	    "bad address '127.0.0.1:0': port must be 1-65535");
	BAD(addr_parse_listen, "::1:6379",
	    "bad address '::1:6379': write IPv6 addresses as [address]:port");
	BAD(addr_parse_listen, "unix:run/x.sock",
	    "bad address 'unix:run/x.sock': unix socket path must be "
	    "absolute");
	BAD(addr_parse_listen, "unix:",
	    "bad address 'unix:': unix socket path must be absolute");

	/* sun_path holds 107 bytes and a NUL. */
	strcpy(path, "unix:/");
	memset(path + 6, 'p', ADDR_PATHLEN - 2);
	path[6 + ADDR_PATHLEN - 2] = '\0';
	OK(addr_parse_listen, path, &a);
	assert_int_equal(strlen(a.path), ADDR_PATHLEN - 1);
	strcat(path, "p");
	{
		char	e[512];

		assert_int_equal(addr_parse_listen(path, &a, e, sizeof(e)),
		    -1);
		assert_non_null(strstr(e, "unix socket path longer than 107 "
		    "bytes"));
	}
}

static void
test_format(void **state)
{
	struct addr	a;
	char		buf[ADDR_STRLEN], tiny[6];
	const char	*in[] = {
		"127.0.0.1:6379", "[::1]:5432", "[2001:db8::4]:1",
		"db.example.net:5432", "*:7000", "unix:/run/p.sock"
	};
	size_t		i;

	/* Formatting what was parsed gives it back. */
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		OK(addr_parse_listen, in[i], &a);
		assert_ptr_equal(addr_format(&a, buf, sizeof(buf)), buf);
		assert_string_equal(buf, in[i]);
	}
	OK(addr_parse_listen, "6380", &a);
	assert_string_equal(addr_format(&a, buf, sizeof(buf)),
	    "127.0.0.1:6380");
	OK(addr_parse_listen, "127.0.0.1:6379", &a);
	assert_string_equal(addr_format(&a, tiny, sizeof(tiny)), "127.0");
}

static void
test_equal(void **state)
{
	struct addr	a, b;

	OK(addr_parse_listen, "6379", &a);
	OK(addr_parse_listen, "127.0.0.1:6379", &b);
	assert_true(addr_equal(&a, &b));
	OK(addr_parse_listen, "127.0.0.1:6380", &b);
	assert_false(addr_equal(&a, &b));
	OK(addr_parse_listen, "127.0.0.2:6379", &b);
	assert_false(addr_equal(&a, &b));
	/* As written: no name resolution. */
	OK(addr_parse_listen, "localhost:6379", &b);
	assert_false(addr_equal(&a, &b));
	OK(addr_parse_listen, "unix:/a", &a);
	OK(addr_parse_listen, "unix:/a", &b);
	assert_true(addr_equal(&a, &b));
	OK(addr_parse_listen, "unix:/b", &b);
	assert_false(addr_equal(&a, &b));
	OK(addr_parse_listen, "6379", &b);
	assert_false(addr_equal(&a, &b));
	assert_false(addr_equal(&b, &a));
	OK(addr_parse_listen, "[::1]:6379", &a);
	OK(addr_parse_listen, "[::1]:6379", &b);
	assert_true(addr_equal(&a, &b));
}

static void
test_is_literal(void **state)
{
	struct addr	a;

	OK(addr_parse_listen, "127.0.0.1:1", &a);
	assert_true(addr_is_literal(&a));
	OK(addr_parse_listen, "[::1]:1", &a);
	assert_true(addr_is_literal(&a));
	OK(addr_parse_listen, "*:1", &a);
	assert_true(addr_is_literal(&a));
	OK(addr_parse_listen, "unix:/x", &a);
	assert_true(addr_is_literal(&a));
	OK(addr_parse_listen, "localhost:1", &a);
	assert_false(addr_is_literal(&a));
	OK(addr_parse_listen, "db.example.net:1", &a);
	assert_false(addr_is_literal(&a));
	OK(addr_parse_listen, "1.2.3.4.5:1", &a);
	assert_false(addr_is_literal(&a));
}

static void
test_sockaddr(void **state)
{
	struct addr		 a;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	socklen_t		 len;
	char			 buf[64];

	OK(addr_parse_listen, "127.0.0.1:6379", &a);
	assert_int_equal(addr_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 6379);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_string_equal(addr_from_sockaddr((struct sockaddr *)&ss, len,
	    buf, sizeof(buf)), "127.0.0.1:6379");

	OK(addr_parse_listen, "[::1]:5432", &a);
	assert_int_equal(addr_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 5432);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_string_equal(addr_from_sockaddr((struct sockaddr *)&ss, len,
	    buf, sizeof(buf)), "[::1]:5432");

	/* "*" is the IPv6 any-address (dual-stack). */
	OK(addr_parse_listen, "*:7000", &a);
	assert_int_equal(addr_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 7000);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));

	OK(addr_parse_listen, "unix:/run/p.sock", &a);
	assert_int_equal(addr_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(sun->sun_family, AF_UNIX);
	assert_string_equal(sun->sun_path, "/run/p.sock");
	assert_string_equal(addr_from_sockaddr((struct sockaddr *)&ss, len,
	    buf, sizeof(buf)), "unix");

	OK(addr_parse_listen, "localhost:1", &a);
	assert_int_equal(addr_sockaddr(&a, &ss, &len), -1);

	ss.ss_family = AF_UNSPEC;
	assert_string_equal(addr_from_sockaddr((struct sockaddr *)&ss,
	    sizeof(ss), buf, sizeof(buf)), "?");
}

static void
test_duration(void **state)
{
	static const struct {
		const char	*s;
		int		 ms;
	} good[] = {
		{ "0", 0 }, { "0ms", 0 }, { "0s", 0 }, { "1ms", 1 },
		{ "250ms", 250 }, { "2s", 2000 }, { "1m", 60000 },
		{ "90s", 90000 }, { "007s", 7000 }, { "1440m", 86400000 },
		{ "86400s", 86400000 }, { "86400000ms", 86400000 },
		{ "1h", 3600000 }, { "24h", 86400000 }, { "0h", 0 },
	};
	static const char *const bad[] = {
		"", "2", "25h", "2H", "1.5h", "-1s", "+1s", "s", "ms", "1.5s", " 2s", "2s ",
		"2 s", "2S", "2MS", "2sec", "1d", "0x10s", "1441m", "86401s",
		"86400001ms", "99999999999999999999999s", "18446744073709551617ms",
	};
	size_t	i;
	int	ms;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		if (conf_keys_parse_duration(good[i].s, &ms) != 0)
			fail_msg("duration '%s' rejected", good[i].s);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (conf_keys_parse_duration(bad[i], &ms) != -1)
			fail_msg("duration '%s' accepted", bad[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_port),
		cmocka_unit_test(test_hostport_good),
		cmocka_unit_test(test_hostport_bad),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_is_literal),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_duration),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
