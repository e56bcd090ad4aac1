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

/* The example from the configuration contract (see postern.conf(5)). */
static const char example[] =
	"[postern]\n"
	"admin     = 127.0.0.1:9090\n"
	"log_level = info\n"
	"\n"
	"[bastion prod]\n"
	"address     = bastion.example.com:22\n"
	"user        = deploy\n"
	"identity    = /etc/postern/id_ed25519\n"
	"known_hosts = /etc/postern/known_hosts\n"
	"\n"
	"[service redis]\n"
	"listen   = 127.0.0.1:6379\n"
	"protocol = redis\n"
	"route    = private tcp://172.16.0.4:6379\n"
	"route    = bastion ssh://prod/172.16.0.4:6379\n"
	"route    = public  tls://redis.example.net:6380 "
	    "ca=/etc/ssl/certs/ca-certificates.crt\n"
	"check    = redis\n"
	"check_interval = 2s\n"
	"rise     = 2\n"
	"fall     = 3\n"
	"\n"
	"[service postgres]\n"
	"listen   = 127.0.0.1:5432\n"
	"protocol = postgres\n"
	"route    = private tcp://10.0.1.2:5433\n"
	"route    = public  tls://db.example.net:5432 name=db.example.net\n";

/* A service that is valid on its own, to append bad lines to. */
#define SVC	"[service s]\nlisten = 7000\nroute = direct tcp://127.0.0.1:6379\n"

/* Log level indexes in the log_level enum: error, warn, info, debug. */
#define LEVEL_INFO	2
#define LEVEL_DEBUG	3

static struct conf *
parse_buf(const char *buf, size_t len, int flags, struct conf_errors *e)
{
	return (conf_parse(buf, len, "t.conf", flags, e));
}

static void
dump_errors(const char *what, const struct conf_errors *e)
{
	size_t	i;

	print_error("%s: %zu error(s)\n", what, e->n);
	for (i = 0; i < e->n; i++)
		print_error("  got:  %s\n", e->msg[i]);
}

/* Parse buf, which must be valid; the caller unrefs the result. */
static struct conf *
parse_ok_buf(const char *buf, size_t len, int flags)
{
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*c;

	c = parse_buf(buf, len, flags, &e);
	if (c == NULL || e.n != 0) {
		dump_errors("expected a valid configuration", &e);
		conf_unref(c);
		conf_errors_free(&e);
		fail();
	}
	assert_int_equal(c->refs, 1);
	return (c);
}

static struct conf *
parse_ok(const char *text)
{
	return (parse_ok_buf(text, strlen(text), 0));
}

/* Compare the errors in e with the NULL-terminated list want. */
static void
check_errors(struct conf *c, struct conf_errors *e, const char *const *want)
{
	size_t	 i, n;
	int	 same;

	for (n = 0; want[n] != NULL; n++)
		;
	same = c == NULL && e->n == n;
	for (i = 0; same && i < n; i++)
		same = strcmp(e->msg[i], want[i]) == 0;
	if (!same) {
		dump_errors(c != NULL ? "parsed, but expected errors" :
		    "unexpected errors", e);
		for (i = 0; i < n; i++)
			print_error("  want: %s\n", want[i]);
		conf_unref(c);
		conf_errors_free(e);
		fail();
	}
	conf_errors_free(e);
}

static void
expect_errors_buf(const char *buf, size_t len, int flags,
    const char *const *want)
{
	struct conf_errors	 e = { NULL, 0 };

	check_errors(parse_buf(buf, len, flags, &e), &e, want);
}

/* EXPECT_ERRORS(text, flags, "t.conf:N: message", ...): exactly these. */
#define EXPECT_ERRORS(text, flags, ...)					\
	expect_errors_buf((text), strlen(text), (flags),		\
	    (const char *const[]){ __VA_ARGS__, NULL })

/* The parse errors of forwards specs, exactly. */
#define EXPECT_FWD_ERRORS(specs, ...) do {				\
	struct conf_errors	 e_ = { NULL, 0 };			\
	char			*s_[] = specs;				\
									\
	check_errors(conf_from_forwards(s_, sizeof(s_) / sizeof(s_[0]),	\
	    &e_), &e_, (const char *const[]){ __VA_ARGS__, NULL });	\
} while (0)
#define SPECS(...)	{ __VA_ARGS__ }

static const char *
fmt(const struct addr *a)
{
	static char	buf[ADDR_STRLEN];

	return (addr_format(a, buf, sizeof(buf)));
}

/*
 * Good files.
 */

static void
check_example(const struct conf *c)
{
	const struct conf_service	*s;
	const struct conf_bastion	*b;
	const struct conf_route		*r;

	assert_true(c->has_admin);
	assert_string_equal(fmt(&c->admin), "127.0.0.1:9090");
	assert_int_equal(c->log_level, LEVEL_INFO);
	assert_int_equal(c->drain_timeout_ms, 30000);

	assert_int_equal(c->nbastions, 1);
	b = conf_find_bastion(c, "prod");
	assert_non_null(b);
	assert_int_equal(b->line, 5);
	assert_string_equal(fmt(&b->address), "bastion.example.com:22");
	assert_string_equal(b->user, "deploy");
	assert_string_equal(b->identity, "/etc/postern/id_ed25519");
	assert_string_equal(b->known_hosts, "/etc/postern/known_hosts");
	assert_null(conf_find_bastion(c, "staging"));

	assert_int_equal(c->nservices, 2);
	s = conf_find_service(c, "redis");
	assert_ptr_equal(s, &c->services[0]);
	assert_int_equal(s->line, 11);
	assert_int_equal(s->nlisten, 1);
	assert_string_equal(fmt(&s->listen[0].addr), "127.0.0.1:6379");
	assert_int_equal(s->listen[0].line, 12);
	assert_int_equal(s->protocol, PROTO_REDIS);
	assert_int_equal(s->check, CHECK_REDIS);
	assert_int_equal(s->check_interval_ms, 2000);
	assert_int_equal(s->check_timeout_ms, 1000);
	assert_int_equal(s->connect_timeout_ms, 4000);
	assert_int_equal(s->rise, 2);
	assert_int_equal(s->fall, 3);
	assert_int_equal(s->max_connections, 10000);

	/* Routes keep the order written: it is their priority. */
	assert_int_equal(s->nroutes, 3);
	r = &s->routes[0];
	assert_string_equal(r->name, "private");
	assert_string_equal(r->url, "tcp://172.16.0.4:6379");
	assert_int_equal(r->kind, ROUTE_TCP);
	assert_string_equal(fmt(&r->target), "172.16.0.4:6379");
	assert_null(r->bastion);
	assert_int_equal(r->nopts, 0);
	assert_int_equal(r->line, 14);
	r = &s->routes[1];
	assert_string_equal(r->name, "bastion");
	assert_int_equal(r->kind, ROUTE_SSH);
	assert_string_equal(r->bastion, "prod");
	assert_string_equal(fmt(&r->target), "172.16.0.4:6379");
	assert_int_equal(r->line, 15);
	r = &s->routes[2];
	assert_string_equal(r->name, "public");
	assert_string_equal(r->url, "tls://redis.example.net:6380");
	assert_int_equal(r->kind, ROUTE_TLS);
	assert_string_equal(fmt(&r->target), "redis.example.net:6380");
	assert_int_equal(r->nopts, 1);
	assert_string_equal(conf_route_opt(r, "ca"),
	    "/etc/ssl/certs/ca-certificates.crt");
	assert_null(conf_route_opt(r, "name"));

	/* postgres: everything not written is a default. */
	s = conf_find_service(c, "postgres");
	assert_ptr_equal(s, &c->services[1]);
	assert_int_equal(s->protocol, PROTO_POSTGRES);
	assert_int_equal(s->check, CHECK_DEFAULT);
	assert_int_equal(s->check_interval_ms, 2000);
	assert_int_equal(s->check_timeout_ms, 1000);
	assert_int_equal(s->connect_timeout_ms, 4000);
	assert_int_equal(s->rise, 2);
	assert_int_equal(s->fall, 3);
	assert_int_equal(s->max_connections, 10000);
	assert_int_equal(s->nroutes, 2);
	assert_string_equal(s->routes[0].name, "private");
	assert_string_equal(fmt(&s->routes[0].target), "10.0.1.2:5433");
	assert_string_equal(conf_route_opt(&s->routes[1], "name"),
	    "db.example.net");
	assert_null(conf_find_service(c, "mysql"));
}

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
	assert_int_equal(s->max_connections, 10000);
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

/* Tolerated layouts: comments, blank lines, white space, CRLF, a BOM. */
static void
test_syntax(void **state)
{
	struct conf	*c;
	char		*crlf, *p;
	const char	*q;
	size_t		 n;

	c = parse_ok(
	    "# a comment\n"
	    "; another\n"
	    "   # indented comment\n"
	    "\t\n"
	    "  [ service   s ]   # trailing comment\n"
	    "\tlisten=7000\t\n"
	    "route = direct tcp://h:1 # primary\n"
	    "rise = 3 ; three\n"
	    "fall=4\t#tab before it\n");
	assert_string_equal(c->services[0].name, "s");
	assert_int_equal(c->services[0].routes[0].nopts, 0);
	assert_int_equal(c->services[0].rise, 3);
	assert_int_equal(c->services[0].fall, 4);
	conf_unref(c);
	/* '#' or ';' without white space before it is part of the value. */
	EXPECT_ERRORS(SVC "fall=4#x\n", 0,
	    "t.conf:4: fall: '4#x' is not a number");
	EXPECT_ERRORS(SVC "fall = 4;x\n", 0,
	    "t.conf:4: fall: '4;x' is not a number");

	/* The whole example with CRLF line endings. */
	crlf = malloc(2 * sizeof(example));
	assert_non_null(crlf);
	for (p = crlf, q = example; *q != '\0'; q++) {
		if (*q == '\n')
			*p++ = '\r';
		*p++ = *q;
	}
	*p = '\0';
	c = parse_ok(crlf);
	check_example(c);
	conf_unref(c);
	/* And with a UTF-8 byte order mark. */
	n = strlen(crlf);
	memmove(crlf + 3, crlf, n + 1);
	memcpy(crlf, "\xef\xbb\xbf", 3);
	c = parse_ok(crlf);
	check_example(c);
	conf_unref(c);
	free(crlf);

	/* No newline at the end of the file. */
	c = parse_ok("[service s]\nlisten = 1\nroute = r tcp://h:1");
	assert_string_equal(fmt(&c->services[0].routes[0].target), "h:1");
	conf_unref(c);

	/* A BOM is only skipped at the start. */
	EXPECT_ERRORS(SVC "\xef\xbb\xbf" "rise = 2\n", 0,
	    "t.conf:4: unknown key '\xef\xbb\xbf" "rise' in [service] "
	    "section");
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
	    "info, debug",
	    "t.conf:6: drain_timeout: '1441m' is not a duration (write it as "
	    "250ms, 2s or 1m)",
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
	    "t.conf:4: unknown key 'lisen' in [service] section");
	EXPECT_ERRORS("[postern]\nrise = 2\n" SVC, 0,
	    "t.conf:2: unknown key 'rise' in [postern] section");
	EXPECT_ERRORS("[bastion b]\naddress = h:22\nuser = u\nport = 22\n"
	    SVC, 0, "t.conf:4: unknown key 'port' in [bastion] section");
	/* Keys are case-sensitive. */
	EXPECT_ERRORS(SVC "Rise = 2\n", 0,
	    "t.conf:4: unknown key 'Rise' in [service] section");
	EXPECT_ERRORS(SVC "rise = 2\nrise = 3\n", 0,
	    "t.conf:5: 'rise' given twice in this section");
	EXPECT_ERRORS("[postern]\nadmin = 1\nadmin = 2\n" SVC, 0,
	    "t.conf:3: 'admin' given twice in this section");
}

static void
test_key_outside_section(void **state)
{
	EXPECT_ERRORS("listen = 7000\n" SVC, 0,
	    "t.conf:1: 'listen' is outside any section (start with "
	    "[postern] or [service NAME])");
	EXPECT_ERRORS("\n# comment\nrise = 2\nfall = 2\n" SVC, 0,
	    "t.conf:3: 'rise' is outside any section (start with "
	    "[postern] or [service NAME])",
	    "t.conf:4: 'fall' is outside any section (start with "
	    "[postern] or [service NAME])");
}

/*
 * After a broken header, keys are skipped: not filed under the section
 * before it (where "rise = 0" and the second listen would be errors).
 */
static void
test_broken_header(void **state)
{
	EXPECT_ERRORS(SVC "[service t\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: section header without ']'");
	EXPECT_ERRORS(SVC "[service t] x\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: text after section header");
	EXPECT_ERRORS(SVC "[ ]\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: empty section header");
	EXPECT_ERRORS(SVC "[redis]\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: unknown section [redis] (expected [postern], "
	    "[bastion NAME] or [service NAME])");
	EXPECT_ERRORS(SVC "[service s]\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: duplicate [service s]");
	EXPECT_ERRORS(SVC "[service a/b]\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: bad name 'a/b' (letters, digits, '-', '_', '.')");
	/* Keys under the next good header count again. */
	EXPECT_ERRORS(SVC "[service t\nrise = 0\n[service u]\nrise = 0\n", 0,
	    "t.conf:4: section header without ']'",
	    "t.conf:7: rise: 0 is out of range (1 to 100)",
	    "t.conf:6: [service u]: missing required key 'listen'",
	    "t.conf:6: [service u]: missing required key 'route'");
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
	    "250ms, 2s or 1m)");
	EXPECT_ERRORS(SVC "check_interval = 2h\n", 0,
	    "t.conf:4: check_interval: '2h' is not a duration (write it as "
	    "250ms, 2s or 1m)");
	EXPECT_ERRORS(SVC "connect_timeout = -1s\n", 0,
	    "t.conf:4: connect_timeout: '-1s' is not a duration (write it "
	    "as 250ms, 2s or 1m)");
	EXPECT_ERRORS(SVC "connect_timeout = 1.5s\n", 0,
	    "t.conf:4: connect_timeout: '1.5s' is not a duration (write it "
	    "as 250ms, 2s or 1m)");
	EXPECT_ERRORS("[postern]\ndrain_timeout = 2 s\n" SVC, 0,
	    "t.conf:2: drain_timeout: '2 s' is not a duration (write it as "
	    "250ms, 2s or 1m)");
	EXPECT_ERRORS("[postern]\ndrain_timeout = 1441m\n" SVC, 0,
	    "t.conf:2: drain_timeout: '1441m' is not a duration (write it "
	    "as 250ms, 2s or 1m)");
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
	    "info, debug");
	EXPECT_ERRORS(SVC "protocol = redis\ncheck = postgres\n", 0,
	    "t.conf:1: [service s]: check = postgres does not fit "
	    "protocol = redis");
	EXPECT_ERRORS(SVC "protocol = postgres\ncheck = redis\n", 0,
	    "t.conf:1: [service s]: check = redis does not fit "
	    "protocol = postgres");
	/* A redis check of a plain tcp service is allowed. */
	conf_unref(parse_ok(SVC "check = redis\n"));
}

static void
test_routes(void **state)
{
	EXPECT_ERRORS(SVC "route = direct tcp://h:2\n", 0,
	    "t.conf:4: route name 'direct' used twice in [service s]");
	/* The same name in two services is fine. */
	conf_unref(parse_ok(SVC "[service t]\nlisten = 2\n"
	    "route = direct tcp://h:2\n"));
	EXPECT_ERRORS(SVC "route = onlyname\n", 0,
	    "t.conf:4: route needs a name and a URL: route = NAME "
	    "tcp://host:port");
	EXPECT_ERRORS(SVC "route =\n", 0,
	    "t.conf:4: route needs a name and a URL: route = NAME "
	    "tcp://host:port");
	EXPECT_ERRORS(SVC "route = r/1 tcp://h:1\n", 0,
	    "t.conf:4: bad route name 'r/1' (letters, digits, '-', '_', "
	    "'.')");
	EXPECT_ERRORS(SVC "route = r http://h:1\n", 0,
	    "t.conf:4: route 'r': unknown scheme in 'http://h:1' (expected "
	    "tcp://, ssh:// or tls://)");
	EXPECT_ERRORS(SVC "route = r tcp://h\n", 0,
	    "t.conf:4: route 'r': bad address 'h': expected host:port");
	EXPECT_ERRORS(SVC "route = r tcp://*:1\n", 0,
	    "t.conf:4: route 'r': '*' is not a destination");
	EXPECT_ERRORS(SVC "route = r ssh://h:22\n", 0,
	    "t.conf:4: route 'r': expected ssh://BASTION/host:port");
	EXPECT_ERRORS(SVC "route = r ssh:///h:22\n", 0,
	    "t.conf:4: route 'r': expected ssh://BASTION/host:port");
	EXPECT_ERRORS(SVC "route = r ssh://b/h\n[bastion b]\naddress = b:22\n"
	    "user = u\n", 0,
	    "t.conf:4: route 'r': bad address 'h': expected host:port");
	EXPECT_ERRORS(SVC "route = b ssh://prod/10.0.0.1:6379\n", 0,
	    "t.conf:4: route 'b': unknown bastion 'prod' (no [bastion prod] "
	    "section)");
	/* A bastion that failed to parse does not exist either. */
	EXPECT_ERRORS(SVC "route = b ssh://prod/10.0.0.1:6379\n"
	    "[bastion prod/x]\n", 0,
	    "t.conf:5: bad name 'prod/x' (letters, digits, '-', '_', '.')",
	    "t.conf:4: route 'b': unknown bastion 'prod' (no [bastion prod] "
	    "section)");
	EXPECT_ERRORS(SVC "route = r tcp://h:1 bare\n", 0,
	    "t.conf:4: route 'r': option 'bare' is not key=value");
	EXPECT_ERRORS(SVC "route = r tcp://h:1 =x\n", 0,
	    "t.conf:4: route 'r': option '=x' is not key=value");
	EXPECT_ERRORS(SVC "route = r tls://h:1 ca=\n", 0,
	    "t.conf:4: route 'r': option 'ca=' is not key=value");
}

static void
test_route_limit(void **state)
{
	char	text[8192];
	size_t	off;
	int	i;

	off = (size_t)snprintf(text, sizeof(text), "[service s]\nlisten = 1\n");
	for (i = 0; i < 33; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "route = r%d tcp://h:%d\nlisten = %d\n", i, i + 1,
		    i + 2);
	EXPECT_ERRORS(text, 0, "t.conf:66: more than 32 listen addresses",
	    "t.conf:67: more than 32 routes",
	    "t.conf:68: more than 32 listen addresses");
}

static void
test_route_options(void **state)
{
	EXPECT_ERRORS(SVC "route = t tls://h:1 cafile=/x\n", 0,
	    "t.conf:4: route 't': unknown option 'cafile' for a tls route");
	EXPECT_ERRORS(SVC "route = t tls://h:1 verify=maybe\n", 0,
	    "t.conf:4: route 't': verify must be full or none");
	EXPECT_ERRORS(SVC "route = t tls://h:1 min_version=tls1.1\n", 0,
	    "t.conf:4: route 't': min_version must be tls1.2 or tls1.3");
	EXPECT_ERRORS(SVC "route = t tls://h:1 name=a name=b\n", 0,
	    "t.conf:4: route 't': option 'name' given twice");
	/* Only tls:// routes take options. */
	EXPECT_ERRORS(SVC "route = t tcp://h:1 ca=/x\n", 0,
	    "t.conf:4: route 't': unknown option 'ca' for a tcp route");
	EXPECT_ERRORS(SVC "route = t ssh://b/h:1 name=x\n[bastion b]\n"
	    "address = b:22\nuser = u\n", 0,
	    "t.conf:4: route 't': unknown option 'name' for a ssh route");
	/* Every problem of one route, in the order written. */
	EXPECT_ERRORS(SVC "route = t tls://h:1 verify=maybe x=1 "
	    "min_version=ssl3\n", 0,
	    "t.conf:4: route 't': verify must be full or none",
	    "t.conf:4: route 't': unknown option 'x' for a tls route",
	    "t.conf:4: route 't': min_version must be tls1.2 or tls1.3");
	conf_unref(parse_ok(SVC "route = t tls://h:1 verify=full "
	    "min_version=tls1.2\n"));
}

/* Files named by the config are checked only with CONF_CHECK_FILES. */
static void
test_check_files(void **state)
{
	char		 dir[] = "/tmp/test_conf.XXXXXX", id[64], kh[64];
	char		 ca[64], text[1024], w1[256], w2[256], w3[256];
	struct conf	*c;
	int		 fd;

	assert_non_null(mkdtemp(dir));
	snprintf(id, sizeof(id), "%s/id_ed25519", dir);
	snprintf(kh, sizeof(kh), "%s/known_hosts", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(text, sizeof(text),
	    "[bastion b]\n"			/* 1 */
	    "address = b:22\n"			/* 2 */
	    "user = u\n"			/* 3 */
	    "identity = %s\n"			/* 4 */
	    "known_hosts = %s\n"		/* 5 */
	    "[service s]\n"			/* 6 */
	    "listen = 1\n"			/* 7 */
	    "route = r ssh://b/h:1\n"		/* 8 */
	    "route = t tls://h:1 ca=%s cert=%s key=%s name=%s\n",	/* 9 */
	    id, kh, ca, ca, id, kh);

	/* Nothing exists: fine without the flag. */
	conf_unref(parse_ok_buf(text, strlen(text), 0));
	snprintf(w1, sizeof(w1), "t.conf:4: identity %s: No such file or "
	    "directory", id);
	snprintf(w2, sizeof(w2), "t.conf:5: known_hosts %s: No such file or "
	    "directory", kh);
	snprintf(w3, sizeof(w3), "t.conf:9: ca %s: No such file or directory",
	    ca);
	{
		char	w4[256], w5[256];

		snprintf(w4, sizeof(w4), "t.conf:9: cert %s: No such file "
		    "or directory", ca);
		snprintf(w5, sizeof(w5), "t.conf:9: key %s: No such file "
		    "or directory", id);
		EXPECT_ERRORS(text, CONF_CHECK_FILES, w1, w2, w3, w4, w5);
	}

	/* Create two of them: only the third is reported. */
	assert_int_not_equal(fd = open(id, O_CREAT | O_WRONLY, 0600), -1);
	close(fd);
	assert_int_not_equal(fd = open(ca, O_CREAT | O_WRONLY, 0644), -1);
	close(fd);
	EXPECT_ERRORS(text, CONF_CHECK_FILES, w2);
	assert_int_not_equal(fd = open(kh, O_CREAT | O_WRONLY, 0644), -1);
	close(fd);
	c = parse_ok_buf(text, strlen(text), CONF_CHECK_FILES);
	assert_string_equal(c->bastions[0].identity, id);
	conf_unref(c);

	assert_int_equal(unlink(id), 0);
	assert_int_equal(unlink(kh), 0);
	assert_int_equal(unlink(ca), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
test_load(void **state)
{
	char			 dir[] = "/tmp/test_conf.XXXXXX", path[128];
	char			 want[256], want2[256];
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*c;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/postern.conf", dir);

	/* A missing file. */
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	c = conf_load(path, &e);
	check_errors(c, &e, (const char *const[]){ want, NULL });

	/* A good file: the generation remembers its path. */
	write_file(path, SVC "[bastion prod]\naddress = b:22\nuser = deploy\n");
	c = conf_load(path, &e);
	if (c == NULL)
		dump_errors(path, &e);
	assert_non_null(c);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->path, path);
	assert_int_equal(c->refs, 1);
	conf_unref(c);

	/* Errors carry the path, and conf_load checks files. */
	write_file(path, SVC "rise = 0\n[bastion b]\naddress = b:22\n"
	    "user = u\nidentity = /nonexistent/id\n");
	snprintf(want, sizeof(want), "%s:4: rise: 0 is out of range (1 to "
	    "100)", path);
	snprintf(want2, sizeof(want2), "%s:8: identity /nonexistent/id: No "
	    "such file or directory", path);
	c = conf_load(path, &e);
	check_errors(c, &e, (const char *const[]){ want, want2, NULL });

	/* Not a regular file: a directory, a FIFO (must not block). */
	snprintf(want, sizeof(want), "%s: not a regular file of at most "
	    "4194304 bytes", dir);
	c = conf_load(dir, &e);
	check_errors(c, &e, (const char *const[]){ want, NULL });
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(want, sizeof(want), "%s: not a regular file of at most "
	    "4194304 bytes", path);
	c = conf_load(path, &e);
	check_errors(c, &e, (const char *const[]){ want, NULL });

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Lines up to 8191 bytes are read; longer ones are an error of their own. */
static void
test_long_lines(void **state)
{
	char	*buf;
	size_t	 off;

	buf = malloc(3 * 8192 + 256);
	assert_non_null(buf);
	off = (size_t)sprintf(buf, SVC "#");
	memset(buf + off, 'x', 8190);		/* line 4: 8191 bytes */
	off += 8190;
	off += (size_t)sprintf(buf + off, "\n#");
	memset(buf + off, 'x', 8191);		/* line 5: 8192 bytes */
	off += 8191;
	off += (size_t)sprintf(buf + off, "\nrise = 0\n");
	expect_errors_buf(buf, off, 0, (const char *const[]){
	    "t.conf:5: line too long",
	    "t.conf:6: rise: 0 is out of range (1 to 100)", NULL });

	/* A long value is reported, not cut to a shorter valid one. */
	off = (size_t)sprintf(buf, SVC "listen = 7001");
	memset(buf + off, '1', 9000);
	off += 9000;
	expect_errors_buf(buf, off, 0, (const char *const[]){
	    "t.conf:4: line too long", NULL });

	/* A long header is a broken header: keys below it are skipped. */
	off = (size_t)sprintf(buf, SVC "[service ");
	memset(buf + off, 'n', 9000);
	off += 9000;
	off += (size_t)sprintf(buf + off, "]\nrise = 0\n");
	expect_errors_buf(buf, off, 0, (const char *const[]){
	    "t.conf:4: line too long", NULL });
	free(buf);
}

static void
test_nul_bytes(void **state)
{
	static const char t1[] = SVC "rise = 2\0junk\nfall = 0\n";
	static const char t2[] = SVC "[serv\0ice t]\nrise = 0\n";
	static const char t3[] = "\0";

	/* The line is rejected whole; parsing goes on. */
	expect_errors_buf(t1, sizeof(t1) - 1, 0, (const char *const[]){
	    "t.conf:4: NUL byte in line",
	    "t.conf:5: fall: 0 is out of range (1 to 100)", NULL });
	/* A header with a NUL is a broken header. */
	expect_errors_buf(t2, sizeof(t2) - 1, 0, (const char *const[]){
	    "t.conf:4: NUL byte in line", NULL });
	expect_errors_buf(t3, 1, 0, (const char *const[]){
	    "t.conf:1: NUL byte in line",
	    "t.conf: no [service NAME] section: nothing to do", NULL });
}

/* The length given is respected: the buffer need not end in NUL. */
static void
test_length(void **state)
{
	static const char	t[] = SVC "rise = 50\n";
	struct conf		*c;

	c = parse_ok_buf(t, strlen(SVC), 0);
	assert_int_equal(c->services[0].rise, 2);
	conf_unref(c);
	c = parse_ok_buf(t, strlen(SVC) + 8, 0);	/* "rise = 5" */
	assert_int_equal(c->services[0].rise, 5);
	conf_unref(c);
}

/* New errors are appended; a caller's earlier ones do not fail a parse. */
static void
test_errors_append(void **state)
{
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*c;

	conf_errors_add(&e, "x", 3, "first %d", 1);
	conf_errors_add(&e, "y", 0, "second");
	c = parse_buf(SVC, strlen(SVC), 0, &e);
	assert_non_null(c);
	conf_unref(c);
	assert_int_equal(e.n, 2);
	c = parse_buf(SVC "rise = 0\n", strlen(SVC) + 9, 0, &e);
	assert_null(c);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.msg[0], "x:3: first 1");
	assert_string_equal(e.msg[1], "y: second");
	assert_string_equal(e.msg[2],
	    "t.conf:4: rise: 0 is out of range (1 to 100)");
	conf_errors_free(&e);
	assert_int_equal(e.n, 0);
	assert_null(e.msg);
	conf_errors_free(&e);		/* twice is harmless */
}

/*
 * -L quick mode.
 */

static void
test_forwards(void **state)
{
	char			*specs[] = {
		"6379:127.0.0.1:6380",
		"0.0.0.0:7000:db:5432",
		"[::1]:7001:[::1]:5432",
		":7002:cache.internal:11211",
	};
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*c;
	const struct conf_service *s;

	c = conf_from_forwards(specs, 4, &e);
	if (c == NULL)
		dump_errors("forwards", &e);
	assert_non_null(c);
	assert_int_equal(e.n, 0);
	assert_null(c->path);
	assert_false(c->has_admin);
	assert_int_equal(c->nservices, 4);

	s = conf_find_service(c, "L1");
	assert_non_null(s);
	assert_int_equal(s->nlisten, 1);
	assert_string_equal(fmt(&s->listen[0].addr), "127.0.0.1:6379");
	assert_int_equal(s->protocol, PROTO_TCP);
	assert_int_equal(s->nroutes, 1);
	assert_string_equal(s->routes[0].name, "direct");
	assert_int_equal(s->routes[0].kind, ROUTE_TCP);
	assert_string_equal(fmt(&s->routes[0].target), "127.0.0.1:6380");
	assert_int_equal(s->check_interval_ms, 2000);
	assert_int_equal(s->connect_timeout_ms, 4000);

	s = conf_find_service(c, "L2");
	assert_string_equal(fmt(&s->listen[0].addr), "0.0.0.0:7000");
	assert_string_equal(fmt(&s->routes[0].target), "db:5432");

	s = conf_find_service(c, "L3");
	assert_string_equal(fmt(&s->listen[0].addr), "[::1]:7001");
	assert_string_equal(s->routes[0].target.host, "::1");
	assert_string_equal(fmt(&s->routes[0].target), "[::1]:5432");

	/* An empty bind address is the default, 127.0.0.1. */
	s = conf_find_service(c, "L4");
	assert_string_equal(fmt(&s->listen[0].addr), "127.0.0.1:7002");
	assert_string_equal(fmt(&s->routes[0].target),
	    "cache.internal:11211");
	conf_unref(c);

	/* Specs that parse but fail validation. */
	EXPECT_FWD_ERRORS(SPECS("6379:h:1", "127.0.0.1:6379:h:2"),
	    "-L:5: duplicate listener 127.0.0.1:6379 (also at line 2)");
	EXPECT_FWD_ERRORS(SPECS("70000:h:1"),
	    "-L:2: listen: bad address '70000': port must be 1-65535");
	EXPECT_FWD_ERRORS(SPECS("1:h:0"),
	    "-L:3: route 'direct': bad address 'h:0': port must be 1-65535");
	EXPECT_FWD_ERRORS(SPECS("1:*:2"),
	    "-L:3: route 'direct': '*' is not a destination");
	EXPECT_FWD_ERRORS(SPECS("1::2"),
	    "-L:3: route 'direct': bad address ':2': missing or overlong "
	    "host");
	EXPECT_FWD_ERRORS(SPECS("::1:7000:h:1"),
	    "-L: '::1:7000:h:1': expected [bind_address:]port:host:hostport");
}

static void
test_forwards_bad(void **state)
{
	struct conf_errors	 e = { NULL, 0 };

	EXPECT_FWD_ERRORS(SPECS("6379"),
	    "-L: '6379': expected [bind_address:]port:host:hostport");
	EXPECT_FWD_ERRORS(SPECS("6379:6380"),
	    "-L: '6379:6380': expected [bind_address:]port:host:hostport");
	EXPECT_FWD_ERRORS(SPECS("a:b:c:d:e"),
	    "-L: 'a:b:c:d:e': expected [bind_address:]port:host:hostport");
	EXPECT_FWD_ERRORS(SPECS(""),
	    "-L: '': expected [bind_address:]port:host:hostport");
	/* Every bad spec is reported, before any is parsed. */
	EXPECT_FWD_ERRORS(SPECS("1:h:2", "x", "3:h:4", "y:z"),
	    "-L: 'x': expected [bind_address:]port:host:hostport",
	    "-L: 'y:z': expected [bind_address:]port:host:hostport");
	/* A spec cannot smuggle in configuration text. */
	EXPECT_FWD_ERRORS(SPECS("1:h:2 ca=/x"),
	    "-L: '1:h:2 ca=/x': white space, '#' or ';' in a forward");
	EXPECT_FWD_ERRORS(SPECS("1:h:2 #x"),
	    "-L: '1:h:2 #x': white space, '#' or ';' in a forward");
	EXPECT_FWD_ERRORS(SPECS("1:h:2\n[postern]\nadmin = 9"),
	    "-L: '1:h:2\n[postern]\nadmin = 9': white space, '#' or ';' in "
	    "a forward");
	/* No specs at all. */
	assert_null(conf_from_forwards(NULL, 0, &e));
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0],
	    "-L: no [service NAME] section: nothing to do");
	conf_errors_free(&e);
}

/*
 * References, names and the key table.
 */

static void
test_refs(void **state)
{
	struct conf	*c;

	c = parse_ok(example);
	assert_int_equal(c->refs, 1);
	assert_ptr_equal(conf_ref(c), c);
	assert_int_equal(c->refs, 2);
	assert_ptr_equal(conf_ref(c), c);
	assert_int_equal(c->refs, 3);
	conf_unref(c);
	conf_unref(c);
	assert_int_equal(c->refs, 1);
	/* Still whole while referenced. */
	check_example(c);
	conf_unref(c);		/* freed: ASan or valgrind see misuse */
	conf_unref(NULL);
}

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
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_key_outside_section),
		cmocka_unit_test(test_broken_header),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_duplicate_listeners),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_route_limit),
		cmocka_unit_test(test_route_options),
		cmocka_unit_test(test_check_files),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_errors_append),
		cmocka_unit_test(test_forwards),
		cmocka_unit_test(test_forwards_bad),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_key_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
