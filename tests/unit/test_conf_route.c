/*
 * test_conf_route.c: routes and their options, files a configuration
 * names, conf_load(), -L/-J forwards and generation references.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <grp.h>
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
#include "tmpdir.h"

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
	    "t.conf:4: route 't': verify: 'maybe' is not one of: full, none");
	EXPECT_ERRORS(SVC "route = t tls://h:1 min_version=tls1.1\n", 0,
	    "t.conf:4: route 't': min_version: 'tls1.1' is not one of: "
	    "tls1.2, tls1.3");
	EXPECT_ERRORS(SVC "route = t tls://h:1 sslnegotiation=direct\n", 0,
	    "t.conf:4: route 't': sslnegotiation is for protocol = "
	    "postgres");
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
	    "t.conf:4: route 't': verify: 'maybe' is not one of: full, none",
	    "t.conf:4: route 't': unknown option 'x' for a tls route",
	    "t.conf:4: route 't': min_version: 'ssl3' is not one of: "
	    "tls1.2, tls1.3");
	conf_unref(parse_ok(SVC "route = t tls://h:1 verify=full "
	    "min_version=tls1.2\n"));
}

/* sentinel=NAME: the URL lists Sentinels (redis only). */
#define RSVC	"[service r]\nlisten = 7001\nprotocol = redis\n"
static void
test_sentinel_routes(void **state)
{
	struct conf		*c;
	const struct conf_route	*r;

	(void)state;
	c = parse_ok(RSVC "route = m tcp://h1:1,h2:2,[::1]:3 "
	    "sentinel=mymaster\n");
	r = &c->services[0].routes[0];
	assert_string_equal(r->sentinel, "mymaster");
	assert_int_equal(r->nsentinels, 3);
	assert_string_equal(r->sentinels[0].host, "h1");
	assert_int_equal(r->sentinels[1].port, 2);
	assert_string_equal(r->sentinels[2].host, "::1");
	/* The first Sentinel is also the route's address. */
	assert_string_equal(r->target.host, "h1");
	assert_int_equal(r->target.port, 1);
	conf_unref(c);
	/* One Sentinel; through a bastion. */
	c = parse_ok(RSVC "route = m ssh://b/s:26379 sentinel=m.1\n"
	    "[bastion b]\naddress = b:22\nuser = u\n");
	r = &c->services[0].routes[0];
	assert_int_equal(r->nsentinels, 1);
	assert_string_equal(r->sentinels[0].host, "s");
	conf_unref(c);
	/* An ordinary route has none. */
	c = parse_ok(RSVC "route = d tcp://h:1\n");
	assert_null(c->services[0].routes[0].sentinel);
	assert_int_equal(c->services[0].routes[0].nsentinels, 0);
	conf_unref(c);
	EXPECT_ERRORS(RSVC "route = m tcp://h1:1,h2:2\n", 0,
	    "t.conf:4: route 'm': several addresses are Sentinels: name the "
	    "master with sentinel=NAME");
	EXPECT_ERRORS(RSVC "route = m tcp://h1:1,h2 sentinel=x\n", 0,
	    "t.conf:4: route 'm': bad address 'h2': expected host:port");
	EXPECT_ERRORS(RSVC "route = m tcp://h1:1,,h2:2 sentinel=x\n", 0,
	    "t.conf:4: route 'm': bad address '': expected host:port");
	EXPECT_ERRORS(RSVC "route = m tcp://h1:1 sentinel=a/b\n", 0,
	    "t.conf:4: route 'm': bad Sentinel master name 'a/b' (letters, "
	    "digits, '-', '_', '.')");
	EXPECT_ERRORS(SVC "route = m tcp://h1:1 sentinel=x\n", 0,
	    "t.conf:4: route 'm': sentinel is for protocol = redis");
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

/*
 * admin_token_file: read with the file checks, refused when group or
 * others may read it, short, or with spaces; admin_read_token needs it.
 */
static void
test_admin_token(void **state)
{
	char		 dir[128], tok[160], text[512], want[384];
	struct conf	*c;
	struct stat	 st;
	struct group	*gr;

	tmpdir_make(dir, sizeof(dir), "token");
	snprintf(tok, sizeof(tok), "%s/token", dir);
	snprintf(text, sizeof(text), "[postern]\nadmin = 9090\n"
	    "admin_token_file = %s\n" SVC, tok);
	write_file(tok, "0123456789abcdef0123\nignored\n");
	assert_int_equal(chmod(tok, 0600), 0);
	c = parse_ok_buf(text, strlen(text), CONF_CHECK_FILES);
	assert_string_equal(c->admin_token, "0123456789abcdef0123");
	assert_int_equal(c->admin_read_token, 0);
	conf_unref(c);
	/* Not read without the file checks (postern ctl parses so). */
	c = parse_ok_buf(text, strlen(text), 0);
	assert_null(c->admin_token);
	assert_string_equal(c->admin_token_file, tok);
	conf_unref(c);

	/* The rule of secret.h (test_secret.c has its cases). */
	assert_int_equal(chmod(tok, 0644), 0);
	snprintf(want, sizeof(want), "t.conf:3: admin_token_file %s: mode "
	    "0644 lets others read or write it: chmod 600 it", tok);
	EXPECT_ERRORS(text, CONF_CHECK_FILES, want);
	assert_int_equal(chmod(tok, 0660), 0);
	snprintf(want, sizeof(want), "t.conf:3: admin_token_file %s: mode "
	    "0660 lets its group write it: chmod 600 it", tok);
	EXPECT_ERRORS(text, CONF_CHECK_FILES, want);
	/* Group-readable: only when root owns it (a Kubernetes Secret). */
	assert_int_equal(chmod(tok, 0640), 0);
	if (getuid() == 0) {
		assert_int_equal(chown(tok, 0, getegid()), 0);
		conf_unref(parse_ok_buf(text, strlen(text), CONF_CHECK_FILES));
		assert_int_equal(chown(tok, 12345, (gid_t)-1), 0);
	}
	/* Owned by another user (root made it so) or by us, not root. */
	assert_int_equal(stat(tok, &st), 0);
	gr = getgrgid(st.st_gid);
	snprintf(want, sizeof(want), "t.conf:3: admin_token_file %s: mode "
	    "0640 lets group %s read it and root does not own it: chmod 600 "
	    "it (a group may read only a root-owned file)", tok,
	    gr != NULL ? gr->gr_name : "?");
	EXPECT_ERRORS(text, CONF_CHECK_FILES, want);
	assert_int_equal(chmod(tok, 0400), 0);
	write_file(tok, "short\n");
	snprintf(want, sizeof(want), "t.conf:3: admin_token_file %s: the "
	    "token is shorter than 16 characters (try: openssl rand -hex 32)",
	    tok);
	EXPECT_ERRORS(text, CONF_CHECK_FILES, want);
	write_file(tok, "0123456789 abcdef0123\n");
	snprintf(want, sizeof(want), "t.conf:3: admin_token_file %s: the "
	    "token has spaces or control characters", tok);
	EXPECT_ERRORS(text, CONF_CHECK_FILES, want);
	write_file(tok, "\n");
	snprintf(want, sizeof(want), "t.conf:3: admin_token_file %s: empty "
	    "file", tok);
	EXPECT_ERRORS(text, CONF_CHECK_FILES, want);

	EXPECT_ERRORS("[postern]\nadmin = 9090\nadmin_read_token = yes\n"
	    SVC, 0, "t.conf:3: admin_read_token = yes needs "
	    "admin_token_file");
	tmpdir_remove(dir);
}

/* [postern] resolver and watch_config: values, defaults, errors. */
static void
test_resolver_and_watch(void **state)
{
	struct conf	*c;

	(void)state;
	c = parse_ok("[postern]\nresolver = 127.0.0.1:5353\n"
	    "watch_config = yes\n" SVC);
	assert_string_equal(c->resolver.host, "127.0.0.1");
	assert_int_equal(c->resolver.port, 5353);
	assert_int_equal(c->watch_config, 1);
	conf_unref(c);
	c = parse_ok("[postern]\nresolver = [::1]:53\n" SVC);
	assert_string_equal(c->resolver.host, "::1");
	conf_unref(c);
	c = parse_ok(SVC);
	assert_string_equal(c->resolver.host, "");
	assert_int_equal(c->watch_config, 0);
	conf_unref(c);
	EXPECT_ERRORS("[postern]\nresolver = dns.example.test:53\n" SVC, 0,
	    "t.conf:2: resolver dns.example.test: an IP address is needed, "
	    "not a name");
	EXPECT_ERRORS("[postern]\nwatch_config = maybe\n" SVC, 0,
	    "t.conf:2: watch_config: 'maybe' is not one of: no, yes");
}

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
	/* The logs name the tunnel as typed. */
	assert_string_equal(s->label, "6379 -> 127.0.0.1:6380");
	assert_int_equal(s->routes[0].kind, ROUTE_TCP);
	assert_string_equal(fmt(&s->routes[0].target), "127.0.0.1:6380");
	assert_int_equal(s->check_interval_ms, 2000);
	assert_int_equal(s->connect_timeout_ms, 4000);

	s = conf_find_service(c, "L2");
	assert_string_equal(s->label, "0.0.0.0:7000 -> db:5432");
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

	/*
	 * Specs that parse but fail validation: the error names the
	 * argument, not a line of the generated text.
	 */
	EXPECT_FWD_ERRORS(SPECS("6379:h:1", "127.0.0.1:6379:h:2"),
	    "-L 127.0.0.1:6379:h:2: duplicate listener 127.0.0.1:6379 "
	    "(also -L 6379:h:1)");
	EXPECT_FWD_ERRORS(SPECS("70000:h:1"),
	    "-L 70000:h:1: listen: bad address '70000': port must be 1-65535");
	EXPECT_FWD_ERRORS(SPECS("1:h:0"),
	    "-L 1:h:0: route 'direct': bad address 'h:0': port must be "
	    "1-65535");
	EXPECT_FWD_ERRORS(SPECS("1:*:2"),
	    "-L 1:*:2: route 'direct': '*' is not a destination");
	EXPECT_FWD_ERRORS(SPECS("1::2"),
	    "-L 1::2: route 'direct': bad address ':2': missing or overlong "
	    "host");
	EXPECT_FWD_ERRORS(SPECS("::1:7000:h:1"),
	    "-L: '::1:7000:h:1': expected [bind_address:]port:host:hostport");
}

/* -J and -o: errors name the argument that wrote the bad line. */
static void
test_forwards_jump_errors(void **state)
{
	struct conf_errors	 e = { NULL, 0 };
	char			*opts[] = { "keepalive_count=0", "user=ok",
				    "connect_timeout=never" };
	char			*specs[] = { "6379:10.0.0.5:99999",
				    "6380:10.0.0.5:6379" };
	struct conf_jump	 j = { .name = "prod",
				    .host = "bastion.example.com",
				    .user = "deploy", .opts = opts, .nopts = 3 };

	check_errors(conf_from_forwards_jump(specs, 2, &j, &e), &e,
	    (const char *const[]){
	    "-o keepalive_count=0: keepalive_count: 0 is out of range "
	    "(1 to 100)",
	    "-o user=ok: 'user' given twice in this section",
	    "-o connect_timeout=never: connect_timeout: 'never' is not a "
	    "duration (write it as 250ms, 2s, 1m or 1h)",
	    "-L 6379:10.0.0.5:99999: route 'prod': bad address "
	    "'10.0.0.5:99999': port must be 1-65535", NULL });
	(void)state;
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_route_limit),
		cmocka_unit_test(test_route_options),
		cmocka_unit_test(test_sentinel_routes),
		cmocka_unit_test(test_check_files),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_admin_token),
		cmocka_unit_test(test_resolver_and_watch),
		cmocka_unit_test(test_forwards),
		cmocka_unit_test(test_forwards_bad),
		cmocka_unit_test(test_forwards_jump_errors),
		cmocka_unit_test(test_refs),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
