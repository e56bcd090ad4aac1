/*
 * test_conf.c: the configuration parser (config/conf.c, ini.c,
 * conf_keys.c, conf_forward.c): good files and their defaults, and bad
 * files with the exact "file:line: message" errors an operator sees.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "conf.h"
#include "conf_keys.h"
#include "conf_check.h"

/*
 * Good files.
 */

static void
test_example(void **state)
{
	struct conf	*c;

	c = parse_ok(example);
	assert_null(c->path);
	check_example(c);
	conf_unref(c);
}

/* The shipped config/postern.conf.example: valid but for missing files. */
static void
test_example_file(void **state)
{
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*c;
	const char		*top = getenv("top_srcdir");
	char			 path[4096];
	size_t			 i;

	if (top == NULL)
		top = ".";
	snprintf(path, sizeof(path), "%s/config/postern.conf.example", top);
	if (access(path, R_OK) != 0) {
		print_message("%s: not found (set top_srcdir)\n", path);
		skip();
	}
	/* conf_load checks files: only the ones that do not exist fail. */
	c = conf_load(path, &e);
	for (i = 0; i < e.n; i++) {
		if (strstr(e.msg[i], "No such file or directory") == NULL) {
			dump_errors(path, &e);
			fail();
		}
	}
	if (c != NULL) {
		assert_string_equal(c->path, path);
		conf_unref(c);
	}
	conf_errors_free(&e);
}

static void
test_defaults(void **state)
{
	struct conf			*c;
	const struct conf_service	*s;

	c = parse_ok(SVC);
	assert_false(c->has_admin);
	assert_int_equal(c->log_level, LEVEL_INFO);
	assert_int_equal(c->drain_timeout_ms, 30000);
	assert_int_equal(c->nbastions, 0);
	assert_int_equal(c->nservices, 1);
	s = &c->services[0];
	assert_string_equal(s->name, "s");
	assert_string_equal(fmt(&s->listen[0].addr), "127.0.0.1:7000");
	assert_int_equal(s->protocol, PROTO_TCP);
	assert_int_equal(s->check, CHECK_DEFAULT);
	assert_int_equal(s->check_interval_ms, 2000);
	assert_int_equal(s->check_timeout_ms, 1000);
	assert_int_equal(s->connect_timeout_ms, 4000);
	assert_int_equal(s->rise, 2);
	assert_int_equal(s->fall, 3);
	assert_int_equal(s->max_connections, 4096);
	conf_unref(c);
}

static void
test_all_values(void **state)
{
	struct conf			*c;
	const struct conf_service	*s;
	const struct conf_route		*r;

	c = parse_ok(
	    "[postern]\n"
	    "admin = unix:/run/postern/admin.sock\n"
	    "log_level = debug\n"
	    "drain_timeout = 0\n"
	    "[service a.b-c_D9]\n"
	    "listen = 7000\n"
	    "listen = *:7001\n"
	    "listen = [::1]:7002\n"
	    "listen = unix:/run/a.sock\n"
	    "protocol = postgres\n"
	    "check = tcp\n"
	    "check_interval = 1m\n"
	    "check_timeout = 250ms\n"
	    "connect_timeout = 10ms\n"
	    "rise = 100\n"
	    "fall = 1\n"
	    "max_connections = 1000000\n"
	    "route = v6 tcp://[2001:db8::1]:5432\n"
	    "route = t tls://[::1]:5433 ca=/ca.pem name=db cert=/c.pem "
		"key=/k.pem verify=none min_version=tls1.3 "
		"ciphers=HIGH:!aNULL:x=y\n");
	assert_int_equal(c->admin.kind, ADDR_UNIX);
	assert_string_equal(c->admin.path, "/run/postern/admin.sock");
	assert_int_equal(c->log_level, LEVEL_DEBUG);
	assert_int_equal(c->drain_timeout_ms, 0);
	s = &c->services[0];
	assert_string_equal(s->name, "a.b-c_D9");
	assert_int_equal(s->nlisten, 4);
	assert_string_equal(fmt(&s->listen[1].addr), "*:7001");
	assert_string_equal(fmt(&s->listen[2].addr), "[::1]:7002");
	assert_string_equal(fmt(&s->listen[3].addr), "unix:/run/a.sock");
	assert_int_equal(s->listen[3].line, 9);
	assert_int_equal(s->protocol, PROTO_POSTGRES);
	assert_int_equal(s->check, CHECK_TCP);
	assert_int_equal(s->check_interval_ms, 60000);
	assert_int_equal(s->check_timeout_ms, 250);
	assert_int_equal(s->connect_timeout_ms, 10);
	assert_int_equal(s->rise, 100);
	assert_int_equal(s->fall, 1);
	assert_int_equal(s->max_connections, 1000000);
	assert_string_equal(s->routes[0].target.host, "2001:db8::1");
	r = &s->routes[1];
	assert_int_equal(r->nopts, 7);
	assert_string_equal(conf_route_opt(r, "ca"), "/ca.pem");
	assert_string_equal(conf_route_opt(r, "name"), "db");
	assert_string_equal(conf_route_opt(r, "cert"), "/c.pem");
	assert_string_equal(conf_route_opt(r, "key"), "/k.pem");
	assert_string_equal(conf_route_opt(r, "verify"), "none");
	assert_string_equal(conf_route_opt(r, "min_version"), "tls1.3");
	/* Only the first '=' splits. */
	assert_string_equal(conf_route_opt(r, "ciphers"), "HIGH:!aNULL:x=y");
	/* The same, typed through the key table (SECT_TLS). */
	assert_string_equal(r->tls.ca, "/ca.pem");
	assert_string_equal(r->tls.name, "db");
	assert_string_equal(r->tls.cert, "/c.pem");
	assert_string_equal(r->tls.key, "/k.pem");
	assert_int_equal(r->tls.verify, TLS_VERIFY_NONE);
	assert_int_equal(r->tls.min_version, TLS_MIN_1_3);
	assert_int_equal(r->tls.sslnegotiation, PG_NEG_POSTGRES);
	assert_string_equal(r->tls.ciphers, "HIGH:!aNULL:x=y");
	conf_unref(c);
}

/* Sections in any order; [postern] may come last or not at all. */
static void
test_section_order(void **state)
{
	struct conf	*c;

	c = parse_ok(
	    "[service b]\nlisten = 2\n"
	    "route = r ssh://jump/10.0.0.1:22\n"
	    "[bastion jump]\nuser = u\naddress = [::1]:22\n"
	    "[postern]\nlog_level = error\n");
	assert_int_equal(c->log_level, 0);
	assert_string_equal(c->services[0].routes[0].bastion, "jump");
	conf_unref(c);
}

/*
 * Bad files.
 */

/* Many errors in one file: all reported, each at its line, in order. */
static void
test_many_errors(void **state)
{
	static const char text[] =
	    "log_level = info\n"			/*  1 */
	    "[postern]\n"				/*  2 */
	    "listen = 1\n"				/*  3 */
	    "admin = nope\n"				/*  4 */
	    "log_level = verbose\n"			/*  5 */
	    "drain_timeout = 1441m\n"			/*  6 */
	    "[bastion b]\n"				/*  7 */
	    "route = x\n"				/*  8 */
	    "address = h\n"				/*  9 */
	    "[service a]\n"				/* 10 */
	    "listen = 1\n"				/* 11 */
	    "listen = 1\n"				/* 12 */
	    "route = r tcp://h:1\n"			/* 13 */
	    "rise = abc\n"				/* 14 */
	    "max_connections = 0\n"			/* 15 */
	    "check_interval = 50ms\n"			/* 16 */
	    "connect_timeout = 0\n"			/* 17 */
	    "check = postgres\n"			/* 18 */
	    "protocol = redis\n"			/* 19 */
	    "check_timeout = 3s\n"			/* 20 */
	    "rise = 2\n"				/* 21 */
	    "route = r ssh://ghost/h:22\n"		/* 22 */
	    "bogus\n"					/* 23 */
	    "[service a]\n"				/* 24 */
	    "listen = 9\n"				/* 25 */
	    "[bastion b]\n"				/* 26 */
	    "[service a.b-c_d]\n"			/* 27 */
	    "[service bad/name]\n"			/* 28 */
	    "[ service   x ]\n"				/* 29 */
	    "listen=2\n"				/* 30 */
	    "route=r tcp://h:2\n"			/* 31 */
	    "[bastion]\n"				/* 32 */
	    "[postern x]\n"				/* 33 */
	    "[]\n"					/* 34 */
	    "[a] b\n"					/* 35 */
	    " = x\n";					/* 36 */

	EXPECT_ERRORS(text, 0,
	    "t.conf:1: 'log_level' is outside any section (start with "
	    "[postern] or [service NAME])",
	    "t.conf:3: unknown key 'listen' in [postern] section",
	    "t.conf:4: admin: bad address 'nope': port must be 1-65535",
	    "t.conf:5: log_level: 'verbose' is not one of: error, warn, "
	    "notice, info, debug",
	    "t.conf:6: drain_timeout: '1441m' is not a duration (write it as "
	    "250ms, 2s, 1m or 1h)",
	    "t.conf:8: unknown key 'route' in [bastion] section",
	    "t.conf:9: address: bad address 'h': expected host:port",
	    "t.conf:7: [bastion b]: missing required key 'user'",
	    "t.conf:14: rise: 'abc' is not a number",
	    "t.conf:15: max_connections: 0 is out of range (1 to 1000000)",
	    "t.conf:16: check_interval: 50ms is out of range (100 ms to "
	    "86400000 ms)",
	    "t.conf:17: connect_timeout: 0 is out of range (10 ms to "
	    "3600000 ms)",
	    "t.conf:21: 'rise' given twice in this section",
	    "t.conf:23: expected 'key = value'",
	    "t.conf:24: duplicate [service a]",
	    "t.conf:26: duplicate [bastion b]",
	    "t.conf:27: [service a.b-c_d]: missing required key 'listen'",
	    "t.conf:27: [service a.b-c_d]: missing required key 'route'",
	    "t.conf:28: bad name 'bad/name' (letters, digits, '-', '_', '.')",
	    "t.conf:32: unknown section [bastion] (expected [postern], "
	    "[bastion NAME] or [service NAME])",
	    "t.conf:33: unknown section [postern x] (expected [postern], "
	    "[bastion NAME] or [service NAME])",
	    "t.conf:34: empty section header",
	    "t.conf:35: text after section header",
	    "t.conf:36: missing key before '='",
	    /* Cross-checks, once the whole file is read. */
	    "t.conf:22: route name 'r' used twice in [service a]",
	    "t.conf:22: route 'r': unknown bastion 'ghost' (no [bastion "
	    "ghost] section)",
	    "t.conf:10: [service a]: check = postgres does not fit protocol "
	    "= redis",
	    "t.conf:10: [service a]: check_timeout is longer than "
	    "check_interval",
	    "t.conf:12: duplicate listener 127.0.0.1:1 (also at line 11)");
}

static void
test_sections(void **state)
{
	EXPECT_ERRORS("[redis]\nlisten = 1\n" SVC, 0,
	    "t.conf:1: unknown section [redis] (expected [postern], "
	    "[bastion NAME] or [service NAME])");
	EXPECT_ERRORS("[service]\n" SVC, 0,
	    "t.conf:1: unknown section [service] (expected [postern], "
	    "[bastion NAME] or [service NAME])");
	EXPECT_ERRORS(SVC "[service a b]\n", 0,
	    "t.conf:4: unknown section [service a b] (expected [postern], "
	    "[bastion NAME] or [service NAME])");
	EXPECT_ERRORS(SVC "[postern]\n[postern]\nlog_level = debug\n", 0,
	    "t.conf:5: duplicate [postern] (first at line 4)");
	EXPECT_ERRORS(SVC "[service s]\n", 0,
	    "t.conf:4: duplicate [service s]");
	EXPECT_ERRORS(SVC "[service x\xff]\n", 0,
	    "t.conf:4: bad name 'x\xff' (letters, digits, '-', '_', '.')");
	/* Names are at most 64 bytes. */
	EXPECT_ERRORS(SVC "[bastion "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "]\n", 0, "t.conf:4: bad name '"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "' (letters, digits, '-', '_', '.')");
	/* No service at all: a file-wide error, without a line. */
	EXPECT_ERRORS("", 0, "t.conf: no [service NAME] section: nothing to do");
	EXPECT_ERRORS("# only a comment\n[postern]\n", 0,
	    "t.conf: no [service NAME] section: nothing to do");
}

static void
test_unknown_keys(void **state)
{
	EXPECT_ERRORS(SVC "lisen = 7001\n", 0,
	    "t.conf:4: unknown key 'lisen' in [service] section (did you "
	    "mean 'listen'?)");
	EXPECT_ERRORS("[postern]\nrise = 2\n" SVC, 0,
	    "t.conf:2: unknown key 'rise' in [postern] section");
	EXPECT_ERRORS("[bastion b]\naddress = h:22\nuser = u\nport = 22\n"
	    SVC, 0, "t.conf:4: unknown key 'port' in [bastion] section");
	/* Keys are case-sensitive. */
	EXPECT_ERRORS(SVC "Rise = 2\n", 0,
	    "t.conf:4: unknown key 'Rise' in [service] section (did you "
	    "mean 'rise'?)");
	EXPECT_ERRORS(SVC "rise = 2\nrise = 3\n", 0,
	    "t.conf:5: 'rise' given twice in this section");
	EXPECT_ERRORS("[postern]\nadmin = 1\nadmin = 2\n" SVC, 0,
	    "t.conf:3: 'admin' given twice in this section");
}

static void
test_missing_required(void **state)
{
	EXPECT_ERRORS("[service a]\nroute = r tcp://h:1\n", 0,
	    "t.conf:1: [service a]: missing required key 'listen'");
	EXPECT_ERRORS("[service a]\nlisten = 1\n", 0,
	    "t.conf:1: [service a]: missing required key 'route'");
	EXPECT_ERRORS(SVC "\n[service b]\n\n[service c]\nlisten = 2\n", 0,
	    "t.conf:5: [service b]: missing required key 'listen'",
	    "t.conf:5: [service b]: missing required key 'route'",
	    "t.conf:7: [service c]: missing required key 'route'");
	EXPECT_ERRORS("[bastion b]\n" SVC, 0,
	    "t.conf:1: [bastion b]: missing required key 'address'",
	    "t.conf:1: [bastion b]: missing required key 'user'");
	/* A key given with a bad value is reported once, not as missing. */
	EXPECT_ERRORS("[service a]\nlisten = 0\nroute = r tcp://h:0\n", 0,
	    "t.conf:2: listen: bad address '0': port must be 1-65535",
	    "t.conf:3: route 'r': bad address 'h:0': port must be 1-65535");
}

static void
test_bad_addresses(void **state)
{
	EXPECT_ERRORS(SVC "listen = 0\n", 0,
	    "t.conf:4: listen: bad address '0': port must be 1-65535");
	EXPECT_ERRORS(SVC "listen = 70000\n", 0,
	    "t.conf:4: listen: bad address '70000': port must be 1-65535");
	EXPECT_ERRORS(SVC "listen = 127.0.0.1:70000\n", 0,
	    "t.conf:4: listen: bad address '127.0.0.1:70000': port must be "
	    "1-65535");
	EXPECT_ERRORS(SVC "listen = 127.0.0.1\n", 0,
	    "t.conf:4: listen: bad address '127.0.0.1': port must be "
	    "1-65535");
	EXPECT_ERRORS(SVC "listen = localhost:\n", 0,
	    "t.conf:4: listen: bad address 'localhost:': port must be "
	    "1-65535");
	EXPECT_ERRORS(SVC "listen = ::1:6379\n", 0,
	    "t.conf:4: listen: bad address '::1:6379': write IPv6 addresses "
	    "as [address]:port");
	EXPECT_ERRORS(SVC "listen = [::1]\n", 0,
	    "t.conf:4: listen: bad address '[::1]': expected "
	    "[v6-address]:port");
	EXPECT_ERRORS(SVC "listen = unix:relative.sock\n", 0,
	    "t.conf:4: listen: bad address 'unix:relative.sock': unix "
	    "socket path must be absolute");
	EXPECT_ERRORS(SVC "listen =\n", 0,
	    "t.conf:4: listen: bad address '': expected host:port");
	EXPECT_ERRORS("[postern]\nadmin = 127.0.0.1:0\n" SVC, 0,
	    "t.conf:2: admin: bad address '127.0.0.1:0': port must be "
	    "1-65535");
	EXPECT_ERRORS("[bastion b]\naddress = bastion.example.com\n"
	    "user = u\n" SVC, 0,
	    "t.conf:2: address: bad address 'bastion.example.com': expected "
	    "host:port");
	EXPECT_ERRORS("[bastion b]\naddress = 22\nuser = u\n" SVC, 0,
	    "t.conf:2: address: bad address '22': expected host:port");
	EXPECT_ERRORS("[bastion b]\naddress = *:22\nuser = u\n" SVC, 0,
	    "t.conf:2: address: '*' is not a destination");
}

static void
test_duplicate_listeners(void **state)
{
	/* Across services; a bare port is 127.0.0.1. */
	EXPECT_ERRORS(SVC "[service t]\nlisten = 127.0.0.1:7000\n"
	    "route = r tcp://h:1\n", 0,
	    "t.conf:5: duplicate listener 127.0.0.1:7000 (also at line 2)");
	/* Within one service. */
	EXPECT_ERRORS(SVC "listen = 7000\n", 0,
	    "t.conf:4: duplicate listener 127.0.0.1:7000 (also at line 2)");
	EXPECT_ERRORS(SVC "listen = unix:/a\nlisten = unix:/a\n", 0,
	    "t.conf:5: duplicate listener unix:/a (also at line 4)");
	/* Against the admin endpoint, wherever [postern] is. */
	EXPECT_ERRORS("[postern]\nadmin = 7000\n" SVC, 0,
	    "t.conf:4: listen 127.0.0.1:7000 is also the admin address");
	EXPECT_ERRORS(SVC "[postern]\nadmin = 127.0.0.1:7000\n", 0,
	    "t.conf:2: listen 127.0.0.1:7000 is also the admin address");
	/* Three times: each later one names every earlier one. */
	EXPECT_ERRORS(SVC "[service t]\nlisten = 7000\nroute = r tcp://h:1\n"
	    "[service u]\nlisten = 7000\nroute = r tcp://h:1\n", 0,
	    "t.conf:5: duplicate listener 127.0.0.1:7000 (also at line 2)",
	    "t.conf:8: duplicate listener 127.0.0.1:7000 (also at line 2)",
	    "t.conf:8: duplicate listener 127.0.0.1:7000 (also at line 5)");
	/* Different ports, hosts or paths are fine. */
	conf_unref(parse_ok(SVC "listen = 7001\nlisten = 127.0.0.2:7000\n"
	    "listen = [::1]:7000\nlisten = unix:/b\n"
	    "[postern]\nadmin = 7002\n"));
}

static void
test_ranges(void **state)
{
	EXPECT_ERRORS(SVC "rise = 0\n", 0,
	    "t.conf:4: rise: 0 is out of range (1 to 100)");
	EXPECT_ERRORS(SVC "fall = 101\n", 0,
	    "t.conf:4: fall: 101 is out of range (1 to 100)");
	EXPECT_ERRORS(SVC "rise = -1\n", 0,
	    "t.conf:4: rise: -1 is out of range (1 to 100)");
	EXPECT_ERRORS(SVC "fall = 99999999999999999999\n", 0,
	    "t.conf:4: fall: '99999999999999999999' is not a number");
	EXPECT_ERRORS(SVC "fall = 3x\n", 0,
	    "t.conf:4: fall: '3x' is not a number");
	EXPECT_ERRORS(SVC "fall =\n", 0,
	    "t.conf:4: fall: '' is not a number");
	EXPECT_ERRORS(SVC "max_connections = 1000001\n", 0,
	    "t.conf:4: max_connections: 1000001 is out of range (1 to "
	    "1000000)");
	EXPECT_ERRORS(SVC "check_interval = 99ms\n", 0,
	    "t.conf:4: check_interval: 99ms is out of range (100 ms to "
	    "86400000 ms)");
	EXPECT_ERRORS(SVC "check_timeout = 9ms\n", 0,
	    "t.conf:4: check_timeout: 9ms is out of range (10 ms to "
	    "3600000 ms)");
	EXPECT_ERRORS(SVC "connect_timeout = 61m\n", 0,
	    "t.conf:4: connect_timeout: 61m is out of range (10 ms to "
	    "3600000 ms)");
	EXPECT_ERRORS(SVC "check_interval = 1s\ncheck_timeout = 2s\n", 0,
	    "t.conf:1: [service s]: check_timeout is longer than "
	    "check_interval");
	/* The bounds themselves are accepted. */
	conf_unref(parse_ok(SVC "rise = 1\nfall = 100\ncheck_interval = 100ms\n"
	    "check_timeout = 10ms\nconnect_timeout = 60m\n"
	    "max_connections = 1\n[postern]\ndrain_timeout = 1440m\n"));
}

static void
test_durations(void **state)
{
	EXPECT_ERRORS(SVC "check_interval = 2\n", 0,
	    "t.conf:4: check_interval: '2' is not a duration (write it as "
	    "250ms, 2s, 1m or 1h)");
	EXPECT_ERRORS(SVC "check_interval = 2d\n", 0,
	    "t.conf:4: check_interval: '2d' is not a duration (write it as "
	    "250ms, 2s, 1m or 1h)");
	EXPECT_ERRORS(SVC "connect_timeout = -1s\n", 0,
	    "t.conf:4: connect_timeout: '-1s' is not a duration (write it "
	    "as 250ms, 2s, 1m or 1h)");
	EXPECT_ERRORS(SVC "connect_timeout = 1.5s\n", 0,
	    "t.conf:4: connect_timeout: '1.5s' is not a duration (write it "
	    "as 250ms, 2s, 1m or 1h)");
	EXPECT_ERRORS("[postern]\ndrain_timeout = 2 s\n" SVC, 0,
	    "t.conf:2: drain_timeout: '2 s' is not a duration (write it as "
	    "250ms, 2s, 1m or 1h)");
	EXPECT_ERRORS("[postern]\ndrain_timeout = 1441m\n" SVC, 0,
	    "t.conf:2: drain_timeout: '1441m' is not a duration (write it "
	    "as 250ms, 2s, 1m or 1h)");
}

static void
test_enums(void **state)
{
	EXPECT_ERRORS(SVC "protocol = http\n", 0,
	    "t.conf:4: protocol: 'http' is not one of: tcp, redis, postgres");
	EXPECT_ERRORS(SVC "protocol = Redis\n", 0,
	    "t.conf:4: protocol: 'Redis' is not one of: tcp, redis, "
	    "postgres");
	EXPECT_ERRORS(SVC "check = ping\n", 0,
	    "t.conf:4: check: 'ping' is not one of: default, none, tcp, "
	    "redis, postgres");
	EXPECT_ERRORS("[postern]\nlog_level = verbose\n" SVC, 0,
	    "t.conf:2: log_level: 'verbose' is not one of: error, warn, "
	    "notice, info, debug");
	EXPECT_ERRORS(SVC "protocol = redis\ncheck = postgres\n", 0,
	    "t.conf:1: [service s]: check = postgres does not fit "
	    "protocol = redis");
	EXPECT_ERRORS(SVC "protocol = postgres\ncheck = redis\n", 0,
	    "t.conf:1: [service s]: check = redis does not fit "
	    "protocol = postgres");
	/* A redis check of a plain tcp service is allowed. */
	conf_unref(parse_ok(SVC "check = redis\n"));
}

/*
 * -L quick mode.
 */

static void
test_names(void **state)
{
	assert_string_equal(conf_proto_name(PROTO_TCP), "tcp");
	assert_string_equal(conf_proto_name(PROTO_REDIS), "redis");
	assert_string_equal(conf_proto_name(PROTO_POSTGRES), "postgres");
	assert_string_equal(conf_proto_name(-1), "?");
	assert_string_equal(conf_proto_name(3), "?");
	assert_string_equal(conf_route_kind_name(ROUTE_TCP), "tcp");
	assert_string_equal(conf_route_kind_name(ROUTE_SSH), "ssh");
	assert_string_equal(conf_route_kind_name(ROUTE_TLS), "tls");
	assert_string_equal(conf_route_kind_name(3), "?");
	assert_string_equal(conf_check_name(CHECK_DEFAULT), "default");
	assert_string_equal(conf_check_name(CHECK_NONE), "none");
	assert_string_equal(conf_check_name(CHECK_TCP), "tcp");
	assert_string_equal(conf_check_name(CHECK_REDIS), "redis");
	assert_string_equal(conf_check_name(CHECK_POSTGRES), "postgres");
	assert_string_equal(conf_check_name(5), "?");
	assert_string_equal(conf_keys_section_name(SECT_GLOBAL), "postern");
	assert_string_equal(conf_keys_section_name(SECT_BASTION), "bastion");
	assert_string_equal(conf_keys_section_name(SECT_SERVICE), "service");
	assert_string_equal(conf_keys_section_name(9), "?");
}

/* The table is sorted, its enums agree with conf.h, its defaults parse. */
static void
test_key_table(void **state)
{
	const struct conf_key	*k, *prev = NULL;
	size_t			 i;
	char			*out = NULL, *line, *save, *f;
	size_t			 outlen = 0, nlines = 0, nf;
	FILE			*fp;

	assert_true(conf_nkeys > 0 && conf_nkeys <= 64);
	for (i = 0; i < conf_nkeys; i++) {
		k = &conf_keys[i];
		if (prev != NULL && (prev->section > k->section ||
		    (prev->section == k->section &&
		    strcmp(prev->name, k->name) >= 0)))
			fail_msg("key table not sorted at %s", k->name);
		assert_ptr_equal(conf_keys_find(k->section, k->name), k);
		assert_non_null(k->doc);
		assert_true(strchr(k->doc, '\t') == NULL &&
		    strchr(k->doc, '\n') == NULL);
		if (k->type == TYPE_ENUM) {
			assert_non_null(k->values);
			if (k->def != NULL)
				assert_int_not_equal(
				    conf_keys_enum_index(k, k->def), -1);
		}
		prev = k;
	}
	assert_null(conf_keys_find(SECT_SERVICE, "admin"));
	assert_null(conf_keys_find(SECT_GLOBAL, "nope"));

	/* Enum indexes are the values of the enums in conf.h. */
	k = conf_keys_find(SECT_SERVICE, "protocol");
	assert_int_equal(conf_keys_enum_index(k, "tcp"), PROTO_TCP);
	assert_int_equal(conf_keys_enum_index(k, "redis"), PROTO_REDIS);
	assert_int_equal(conf_keys_enum_index(k, "postgres"), PROTO_POSTGRES);
	assert_int_equal(conf_keys_enum_index(k, "mysql"), -1);
	k = conf_keys_find(SECT_SERVICE, "check");
	assert_int_equal(conf_keys_enum_index(k, "default"), CHECK_DEFAULT);
	assert_int_equal(conf_keys_enum_index(k, "none"), CHECK_NONE);
	assert_int_equal(conf_keys_enum_index(k, "tcp"), CHECK_TCP);
	assert_int_equal(conf_keys_enum_index(k, "redis"), CHECK_REDIS);
	assert_int_equal(conf_keys_enum_index(k, "postgres"), CHECK_POSTGRES);
	k = conf_keys_find(SECT_GLOBAL, "log_level");
	assert_int_equal(conf_keys_enum_index(k, "info"), LEVEL_INFO);
	assert_int_equal(conf_keys_enum_index(k, "debug"), LEVEL_DEBUG);

	/* conf_keys_print: one TSV line of five fields a key. */
	assert_non_null(fp = open_memstream(&out, &outlen));
	conf_keys_print(fp);
	assert_int_equal(fclose(fp), 0);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (nf = 1, f = line; (f = strchr(f, '\t')) != NULL; f++)
			nf++;
		assert_int_equal(nf, 5);
		k = &conf_keys[nlines++];
		assert_true(strncmp(line, conf_keys_section_name(k->section),
		    strlen(conf_keys_section_name(k->section))) == 0);
	}
	assert_int_equal(nlines, conf_nkeys);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_values),
		cmocka_unit_test(test_section_order),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_duplicate_listeners),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_key_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
