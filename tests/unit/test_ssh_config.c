/*
 * test_ssh_config.c: the ~/.ssh/config reader behind "-J alias"
 * (tunnel/ssh_config.c): Host blocks, first value wins, wildcards and
 * negation, the line syntax, what is skipped, "~" and %-token expansion,
 * the -J spec and the generation ssh_config_conf() builds.  The expected
 * values were checked against "ssh -G" (OpenSSH 9.2) where ssh(1) and
 * postern agree; where postern chooses differently (an invalid Port is
 * skipped rather than fatal, Match is skipped) the test says so.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "ssh_config.h"
#include "tmpdir.h"

struct fixture {
	char	dir[256];
	char	path[PATH_MAX];		/* dir/config */
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tmpdir_make(f->dir, sizeof(f->dir), "sshcfg");
	snprintf(f->path, sizeof(f->path), "%s/config", f->dir);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	tmpdir_remove(f->dir);
	free(f);
	return (0);
}

/* Write text as the config, then ssh_config_apply() for alias into h. */
static int
apply(struct fixture *f, const char *text, const char *alias,
    struct ssh_config_host *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->alias, sizeof(h->alias), "%s", alias);
	write_file(f->path, text);
	return (ssh_config_apply(f->path, h));
}

static void
test_alias(void **state)
{
	struct ssh_config_host	h;

	assert_int_equal(apply(*state,
	    "Host other\n"
	    "  HostName other.example.com\n"
	    "  User nobody\n"
	    "Host prod\n"
	    "  HostName bastion.example.com\n"
	    "  User alice\n"
	    "  Port 2200\n"
	    "  IdentityFile ~/.ssh/prod_ed25519\n"
	    "  UserKnownHostsFile ~/.ssh/prod_known_hosts\n", "prod", &h), 1);
	assert_string_equal(h.alias, "prod");
	assert_string_equal(h.host, "bastion.example.com");
	assert_string_equal(h.user, "alice");
	assert_int_equal(h.port, 2200);
	/* Not expanded here: ssh_config_conf() expands, see test_conf. */
	assert_string_equal(h.identity, "~/.ssh/prod_ed25519");
	assert_string_equal(h.known_hosts, "~/.ssh/prod_known_hosts");
}

static void
test_no_match(void **state)
{
	struct ssh_config_host	h;

	assert_int_equal(apply(*state,
	    "Host prod\n"
	    "  HostName bastion.example.com\n"
	    "  User alice\n"
	    "  Port 2200\n", "staging", &h), 0);
	assert_string_equal(h.host, "");
	assert_string_equal(h.user, "");
	assert_int_equal(h.port, 0);
}

static void
test_first_value_wins(void **state)
{
	struct ssh_config_host	h;

	/* Within a block, then across blocks: the first value obtained. */
	assert_int_equal(apply(*state,
	    "Host prod\n"
	    "  User alice\n"
	    "  User mallory\n"
	    "  Port 2200\n"
	    "Host *\n"
	    "  User bob\n"
	    "  Port 2201\n"
	    "  HostName catchall\n"
	    "  IdentityFile /keys/default\n", "prod", &h), 2);
	assert_string_equal(h.user, "alice");
	assert_int_equal(h.port, 2200);
	/* Unset by the first block: the later "Host *" fills them. */
	assert_string_equal(h.host, "catchall");
	assert_string_equal(h.identity, "/keys/default");

	/* Lines before any Host apply to every host, and come first. */
	assert_int_equal(apply(*state,
	    "User global\n"
	    "Host prod\n"
	    "  User alice\n", "prod", &h), 1);
	assert_string_equal(h.user, "global");

	/* "Host *" first shadows a later specific block. */
	assert_int_equal(apply(*state,
	    "Host *\n"
	    "  Port 2022\n"
	    "Host prod\n"
	    "  Port 2200\n", "prod", &h), 2);
	assert_int_equal(h.port, 2022);
}

static void
test_given_values_win(void **state)
{
	struct fixture		*f = *state;
	struct ssh_config_host	 h;

	/* Command-line values (already in h) are not overwritten. */
	memset(&h, 0, sizeof(h));
	snprintf(h.alias, sizeof(h.alias), "prod");
	snprintf(h.user, sizeof(h.user), "carol");
	h.port = 2022;
	write_file(f->path,
	    "Host prod\n"
	    "  User alice\n"
	    "  Port 2200\n"
	    "  HostName bastion.example.com\n");
	assert_int_equal(ssh_config_apply(f->path, &h), 1);
	assert_string_equal(h.user, "carol");
	assert_int_equal(h.port, 2022);
	assert_string_equal(h.host, "bastion.example.com");
}

static const char wild_cfg[] =
    "Host *.example.com\n"
    "  User wild\n"
    "Host db?\n"
    "  Port 2201\n"
    "Host alpha beta\tgamma\n"
    "  HostName greek\n"
    "Host *-bastion-*\n"
    "  IdentityFile /keys/bastion\n";

static void
test_wildcards(void **state)
{
	struct ssh_config_host	h;

	assert_int_equal(apply(*state, wild_cfg, "web.example.com", &h), 1);
	assert_string_equal(h.user, "wild");
	/* '*' needs the dot before the domain. */
	assert_int_equal(apply(*state, wild_cfg, "example.com", &h), 0);
	assert_string_equal(h.user, "");
	assert_int_equal(apply(*state, wild_cfg, "web.example.com.evil", &h),
	    0);

	/* '?' is exactly one character. */
	assert_int_equal(apply(*state, wild_cfg, "db1", &h), 1);
	assert_int_equal(h.port, 2201);
	assert_int_equal(apply(*state, wild_cfg, "db", &h), 0);
	assert_int_equal(apply(*state, wild_cfg, "db10", &h), 0);
	assert_int_equal(h.port, 0);

	/* Several patterns on one line, space or tab separated. */
	assert_int_equal(apply(*state, wild_cfg, "beta", &h), 1);
	assert_string_equal(h.host, "greek");
	assert_int_equal(apply(*state, wild_cfg, "gamma", &h), 1);
	assert_int_equal(apply(*state, wild_cfg, "alphabeta", &h), 0);

	/* Two blocks at once. */
	assert_int_equal(apply(*state, wild_cfg, "eu-bastion-1.example.com",
	    &h), 2);
	assert_string_equal(h.user, "wild");
	assert_string_equal(h.identity, "/keys/bastion");
}

static void
test_negation(void **state)
{
	static const char cfg[] =
	    "Host *.example.com !secret.example.com\n"
	    "  User wild\n"
	    "Host !*.internal *\n"
	    "  Port 2202\n"
	    "Host !foo\n"
	    "  HostName negated-only\n";
	struct ssh_config_host	h;

	assert_int_equal(apply(*state, cfg, "web.example.com", &h), 2);
	assert_string_equal(h.user, "wild");
	assert_int_equal(h.port, 2202);

	/* The negation wins over the wildcard on the same line. */
	assert_int_equal(apply(*state, cfg, "secret.example.com", &h), 1);
	assert_string_equal(h.user, "");
	assert_int_equal(h.port, 2202);

	/* Order does not matter: "!*.internal" before "*". */
	assert_int_equal(apply(*state, cfg, "db.internal", &h), 0);
	assert_int_equal(h.port, 0);

	/* A negation alone matches nothing, as in ssh(1). */
	assert_string_equal(h.host, "");
	assert_int_equal(apply(*state, cfg, "bar", &h), 1);
	assert_string_equal(h.host, "");
}

static void
test_syntax(void **state)
{
	struct ssh_config_host	h;

	assert_int_equal(apply(*state,
	    "# a comment line\n"
	    "\n"
	    "   \t\n"
	    "   # an indented comment\n"
	    "HOST prod\n"
	    "\tHOSTNAME=bastion.example.com\n"
	    "  user = alice\n"
	    "  pOrT\t=\t2200   \n"
	    "  IdentityFile \"/keys/my key\"\n"
	    "  UserKnownHostsFile /k/one /k/two\n", "prod", &h), 1);
	assert_string_equal(h.host, "bastion.example.com");
	assert_string_equal(h.user, "alice");
	assert_int_equal(h.port, 2200);
	/* Quotes keep the space; the quotes themselves go. */
	assert_string_equal(h.identity, "/keys/my key");
	/* Several known_hosts files: the first one is used. */
	assert_string_equal(h.known_hosts, "/k/one");

	/* CRLF line endings (a file edited on Windows). */
	assert_int_equal(apply(*state,
	    "Host prod\r\n"
	    "  HostName crlf.example.com\r\n"
	    "  Port 2201\r\n", "prod", &h), 1);
	assert_string_equal(h.host, "crlf.example.com");
	assert_int_equal(h.port, 2201);

	/* No newline at the end of the file. */
	assert_int_equal(apply(*state, "Host prod\n  User last", "prod", &h),
	    1);
	assert_string_equal(h.user, "last");
}

static void
test_trailing_comment(void **state)
{
	struct ssh_config_host	h;

	/*
	 * ssh(1) since 8.7 ends a line at a '#' that starts a word: the
	 * comment is neither part of a value nor a Host pattern ("the"
	 * would otherwise match the alias "the").
	 */
	assert_int_equal(apply(*state,
	    "Host prod # the bastion\n"
	    "  HostName bastion.example.com # production\n"
	    "  Port 2200\t# ssh on a high port\n"
	    "  User a#b\n"
	    "  IdentityFile \"/keys/#1\"\n", "prod", &h), 1);
	assert_string_equal(h.host, "bastion.example.com");
	assert_int_equal(h.port, 2200);
	/* Inside a word or inside quotes, '#' is kept (as ssh -G shows). */
	assert_string_equal(h.user, "a#b");
	assert_string_equal(h.identity, "/keys/#1");

	assert_int_equal(apply(*state,
	    "Host prod # the bastion\n"
	    "  User alice\n", "the", &h), 0);
	assert_string_equal(h.user, "");
}

static void
test_unknown_keys(void **state)
{
	struct ssh_config_host	h;

	assert_int_equal(apply(*state,
	    "Host prod\n"
	    "  ForwardAgent yes\n"
	    "  ProxyJump none\n"
	    "  LocalForward 5432 db:5432\n"
	    "  HostNameX wrong.example.com\n"
	    "  Users mallory\n"
	    "  Ports 1\n"
	    "  HostName bastion.example.com\n"
	    "  User alice\n", "prod", &h), 1);
	/* Keys are compared whole: "HostNameX" is not HostName. */
	assert_string_equal(h.host, "bastion.example.com");
	assert_string_equal(h.user, "alice");
	assert_int_equal(h.port, 0);
}

static void
test_match(void **state)
{
	struct ssh_config_host	h;
	char			text[512];

	/* Match host: applies, first value wins over the Host block. */
	assert_int_equal(apply(*state,
	    "Match host prod\n"
	    "  User matched\n"
	    "  Port 1111\n"
	    "Host prod\n"
	    "  User hosted\n", "prod", &h), 2);
	assert_string_equal(h.user, "matched");
	assert_int_equal(h.port, 1111);

	/* Match all applies after a Host block; host sees HostName. */
	assert_int_equal(apply(*state,
	    "Host prod\n"
	    "  User alice\n"
	    "  HostName bastion.example.com\n"
	    "Match host *.example.com !originalhost other\n"
	    "  Port 2222\n"
	    "Match all\n"
	    "  IdentityFile /k\n", "prod", &h), 3);
	assert_string_equal(h.user, "alice");
	assert_int_equal(h.port, 2222);
	assert_string_equal(h.identity, "/k");

	/* user is the remote user; localuser ours; final and canonical. */
	setenv("USER", "tester", 1);
	snprintf(text, sizeof(text),
	    "Host prod\n"
	    "  User deploy\n"
	    "Match user deploy localuser %s final\n"
	    "  Port 3333\n"
	    "Match user root\n"
	    "  HostName wrong\n"
	    "Match !localuser %s\n"
	    "  IdentityFile /wrong\n"
	    "Match canonical originalhost pr?d\n"
	    "  HostName right\n", "tester", "tester");
	assert_int_equal(apply(*state, text, "prod", &h), 3);
	assert_int_equal(h.port, 3333);
	assert_string_equal(h.host, "right");
	assert_string_equal(h.identity, "");
}

static void
test_match_refused(void **state)
{
	struct fixture		*f = *state;
	struct ssh_config_host	 h;
	char			 err[512];

	write_file(f->path, "Host other\n  User x\nMatch exec \"true\"\n"
	    "  User y\n");
	memset(&h, 0, sizeof(h));
	snprintf(h.alias, sizeof(h.alias), "prod");
	assert_int_equal(ssh_config_apply_err(f->path, &h, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "config:3: Match exec: postern runs no "
	    "commands"));
	/* After a failed criterion exec is not run, so not refused. */
	write_file(f->path, "Match originalhost other exec \"true\"\n"
	    "  User y\n");
	assert_int_equal(ssh_config_apply_err(f->path, &h, err, sizeof(err)),
	    0);
	write_file(f->path, "Match address 10.0.0.0/8\n");
	assert_int_equal(ssh_config_apply_err(f->path, &h, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, ":1: Match address: criterion not "
	    "supported"));
	/* A chain is taken (ssh_config_conf makes a section per hop). */
	write_file(f->path, "Host prod\n  ProxyJump a,b\n  ProxyJump c\n");
	assert_int_equal(ssh_config_apply_err(f->path, &h, err, sizeof(err)),
	    1);
	assert_string_equal(h.proxy_jump, "a,b");
	/* What the libssh2 engine lacks, in a block that applies. */
	write_file(f->path, "Host prod\n  ProxyCommand nc %h %p\n");
	assert_int_equal(ssh_config_apply_err(f->path, &h, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, ":2: ProxyCommand: a command is not a "
	    "bastion the libssh2 engine can use; use engine = openssh"));
	write_file(f->path, "Host prod\n  CertificateFile ~/.ssh/c.pub\n");
	assert_int_equal(ssh_config_apply_err(f->path, &h, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "CertificateFile: libssh2 cannot present "
	    "an OpenSSH certificate; use engine = openssh"));
	/* In a block that does not apply: not our business. */
	write_file(f->path, "Host other\n  ProxyJump a\n");
	assert_int_equal(ssh_config_apply_err(f->path, &h, err, sizeof(err)),
	    0);
}

static void
test_include(void **state)
{
	struct fixture		*f = *state;
	struct ssh_config_host	 h;
	char			 p[400], text[1024], *home;

	/* Relative paths are under ~/.ssh; globs sorted. */
	home = getenv("HOME") != NULL ? strdup(getenv("HOME")) : NULL;
	setenv("HOME", f->dir, 1);
	snprintf(p, sizeof(p), "%s/.ssh", f->dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/.ssh/conf.d", f->dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/.ssh/conf.d/10-a.conf", f->dir);
	write_file(p, "Host prod\n  User from-a\n");
	snprintf(p, sizeof(p), "%s/.ssh/conf.d/20-b.conf", f->dir);
	write_file(p, "Host prod\n  User from-b\n  Port 1111\n"
	    "Include inner\n");
	snprintf(p, sizeof(p), "%s/.ssh/inner", f->dir);
	write_file(p, "HostName inner.example.com\n");
	snprintf(p, sizeof(p), "%s/.ssh/unused", f->dir);
	write_file(p, "IdentityFile /wrong\n");
	assert_int_equal(apply(f,
	    "Include conf.d/*.conf\n"
	    "Host other\n"
	    "  Include unused\n"
	    "Match originalhost prod\n"
	    "  Include ~/.ssh/nosuchfile\n"
	    "  IdentityFile /right\n", "prod", &h), 3);
	assert_string_equal(h.user, "from-a");
	assert_int_equal(h.port, 1111);
	/* Included inside the Host prod block of 20-b.conf: it applies. */
	assert_string_equal(h.host, "inner.example.com");
	assert_string_equal(h.identity, "/right");
	/* A loop is an error, not a hang. */
	snprintf(p, sizeof(p), "%s/.ssh/loop", f->dir);
	write_file(p, "Include loop\n");
	snprintf(text, sizeof(text), "Include loop\n");
	assert_int_equal(apply(f, text, "prod", &h), -1);
	if (home != NULL) {
		setenv("HOME", home, 1);
		free(home);
	}
}

static void
test_bad_port(void **state)
{
	struct ssh_config_host	h;

	/*
	 * ssh(1) refuses the file; postern skips the bad value (the first
	 * valid one wins).  Either way a bad port is never used.
	 */
	assert_int_equal(apply(*state,
	    "Host prod\n"
	    "  Port 0\n"
	    "  Port 65536\n"
	    "  Port 22x\n"
	    "  Port -1\n"
	    "  Port\n"
	    "  Port 2222\n"
	    "  Port 2223\n", "prod", &h), 1);
	assert_int_equal(h.port, 2222);

	assert_int_equal(apply(*state, "Host prod\n  Port 99999\n", "prod",
	    &h), 1);
	assert_int_equal(h.port, 0);
}

static void
test_missing_file(void **state)
{
	struct fixture		*f = *state;
	struct ssh_config_host	 h;
	char			 path[PATH_MAX + 32];

	memset(&h, 0, sizeof(h));
	snprintf(h.alias, sizeof(h.alias), "prod");
	snprintf(path, sizeof(path), "%s/no-such-config", f->dir);
	assert_int_equal(ssh_config_apply(path, &h), 0);
	assert_string_equal(h.host, "");

	/* Any other open error is one (here ENOTDIR: a file as a dir). */
	write_file(f->path, "Host prod\n");
	snprintf(path, sizeof(path), "%s/config/config", f->dir);
	assert_int_equal(ssh_config_apply(path, &h), -1);
	assert_int_equal(errno, ENOTDIR);
}

/* Expand in for h into a buffer of len bytes and compare with want. */
static void
expect_expand(const char *in, const struct ssh_config_host *h, size_t len,
    const char *want)
{
	char	out[512];

	assert_true(len <= sizeof(out));
	memset(out, 'X', sizeof(out));
	ssh_config_expand(in, h, out, len);
	assert_string_equal(out, want);
}

static void
test_expand(void **state)
{
	struct fixture		*f = *state;
	struct ssh_config_host	 h;
	char			 want[PATH_MAX * 2];

	assert_int_equal(setenv("HOME", f->dir, 1), 0);
	assert_int_equal(setenv("USER", "localuser", 1), 0);
	memset(&h, 0, sizeof(h));
	snprintf(h.alias, sizeof(h.alias), "prod");

	snprintf(want, sizeof(want), "%s/.ssh/id_ed25519", f->dir);
	expect_expand("~/.ssh/id_ed25519", &h, 512, want);
	/* Only "~/" at the start: not "~user", not a later '~'. */
	expect_expand("~alice/key", &h, 512, "~alice/key");
	expect_expand("/keys/~/x", &h, 512, "/keys/~/x");

	/* %h is the alias until HostName is known; %p defaults to 22. */
	expect_expand("%h:%p:%r", &h, 512, "prod:22:");
	snprintf(h.host, sizeof(h.host), "bastion.example.com");
	snprintf(h.user, sizeof(h.user), "alice");
	h.port = 2200;
	snprintf(want, sizeof(want), "%s/kh_%s_%s_%s_%s_%%", f->dir,
	    "localuser", "bastion.example.com", "alice", "2200");
	expect_expand("%d/kh_%u_%h_%r_%p_%%", &h, 512, want);

	/* Unknown tokens and a final '%' are copied. */
	expect_expand("a%xb%", &h, 512, "a%xb%");

	/* Truncated to the buffer, always terminated. */
	expect_expand("/a/long/path/%h", &h, 8, "/a/long");
	expect_expand("%h", &h, 5, "bast");
	memcpy(want, f->dir, 2);	/* $HOME cut to 2 bytes and a NUL */
	want[2] = '\0';
	expect_expand("~/x", &h, 3, want);
}

/* Parse a -J spec and expect success. */
static void
jump_ok(const char *spec, const char *user, const char *alias,
    unsigned int port)
{
	struct ssh_config_host	h;
	char			err[256] = "";

	memset(&h, 0, sizeof(h));
	if (ssh_config_parse_jump(spec, &h, err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", spec, err);
	assert_string_equal(h.user, user);
	assert_string_equal(h.alias, alias);
	assert_int_equal(h.port, port);
}

static void
jump_bad(const char *spec, const char *msg)
{
	struct ssh_config_host	h;
	char			err[256] = "";

	memset(&h, 0, sizeof(h));
	assert_int_equal(ssh_config_parse_jump(spec, &h, err, sizeof(err)),
	    -1);
	assert_string_equal(err, msg);
}

static void
test_parse_jump(void **state)
{
	jump_ok("prod", "", "prod", 0);
	jump_ok("alice@prod", "alice", "prod", 0);
	jump_ok("alice@prod:2200", "alice", "prod", 2200);
	jump_ok("[2001:db8::1]:2201", "", "2001:db8::1", 2201);
	jump_ok("bob@[::1]", "bob", "::1", 0);
	/* The last '@' separates: user names may contain one. */
	jump_ok("a@corp@prod", "a@corp", "prod", 0);

	jump_bad("@prod", "-J @prod: bad user name");
	jump_bad("alice@", "-J alice@: no host");
	jump_bad(":22", "-J :22: no host");
	jump_bad("[]:22", "-J []:22: no host");
	jump_bad("prod:0", "-J prod:0: bad port");
	jump_bad("prod:65536", "-J prod:65536: bad port");
	jump_bad("prod:", "-J prod:: bad port");
	jump_bad("prod:22x", "-J prod:22x: bad port");
	jump_bad("[::1]:", "-J [::1]:: bad port");
	jump_bad("2001:db8::1", "-J 2001:db8::1: write an IPv6 address in "
	    "brackets: [v6]:port");
	jump_bad("[::1", "-J [::1: missing ']'");
	/* Was silently read as "::1" (ssh(1) refuses it too). */
	jump_bad("[::1]2200", "-J [::1]2200: junk after ']'");
}

static void
test_conf(void **state)
{
	struct fixture		*f = *state;
	struct conf_errors	 errs = { NULL, 0 };
	const struct conf_bastion *b;
	struct conf		*c;
	char			 path[PATH_MAX + 32];
	char			*specs[] = { "15432:db.internal:5432" };
	char			*opts[] = { "UserKnownHostsFile=/o/kh",
		"Ciphers=aes256-ctr,aes128-ctr" };

	/* ssh_config_conf() reads $HOME/.ssh/config. */
	assert_int_equal(setenv("HOME", f->dir, 1), 0);
	snprintf(path, sizeof(path), "%s/.ssh", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.ssh/config", f->dir);
	write_file(path,
	    "Host prod\n"
	    "  HostName %h.example.com\n"
	    "  User deploy\n"
	    "  Port 2222\n"
	    "  IdentityFile ~/.ssh/prod_key\n"
	    "  UserKnownHostsFile ~/.ssh/kh_%h_%p\n"
	    "  Ciphers aes256-gcm@openssh.com\n");

	c = ssh_config_conf(specs, 1, "prod", NULL, NULL, NULL, NULL, 0, &errs);
	if (c == NULL)
		fail_msg("%s", errs.n > 0 ? errs.msg[0] : "no error");
	assert_int_equal(c->nbastions, 1);
	b = &c->bastions[0];
	assert_string_equal(b->address.host, "prod.example.com");
	assert_int_equal(b->address.port, 2222);
	assert_string_equal(b->user, "deploy");
	snprintf(path, sizeof(path), "%s/.ssh/prod_key", f->dir);
	assert_string_equal(b->identity, path);
	/* %h in the known_hosts path is the expanded HostName. */
	snprintf(path, sizeof(path), "%s/.ssh/kh_prod.example.com_2222",
	    f->dir);
	assert_string_equal(b->known_hosts, path);
	/*
	 * The file's Ciphers is not taken: it may name ciphers this libssh2
	 * lacks, which `ciphers` refuses (-o Ciphers= is taken).
	 */
	assert_null(b->ciphers);
	conf_unref(c);

	/* Command-line values win over the file. */
	c = ssh_config_conf(specs, 1, "root@prod:2200", NULL, "/keys/cli", NULL,
	    opts, 2, &errs);
	if (c == NULL)
		fail_msg("%s", errs.n > 0 ? errs.msg[0] : "no error");
	b = &c->bastions[0];
	assert_string_equal(b->ciphers, "aes256-ctr,aes128-ctr");
	assert_string_equal(b->address.host, "prod.example.com");
	assert_int_equal(b->address.port, 2200);
	assert_string_equal(b->user, "root");
	assert_string_equal(b->identity, "/keys/cli");
	assert_string_equal(b->known_hosts, "/o/kh");
	conf_unref(c);

	/* An alias without a block: the alias is the host name. */
	c = ssh_config_conf(specs, 1, "alice@other", NULL, NULL, "2022", NULL, 0,
	    &errs);
	if (c == NULL)
		fail_msg("%s", errs.n > 0 ? errs.msg[0] : "no error");
	b = &c->bastions[0];
	assert_string_equal(b->address.host, "other");
	assert_int_equal(b->address.port, 2022);
	assert_string_equal(b->user, "alice");
	conf_unref(c);
	assert_int_equal(errs.n, 0);

	/*
	 * Chains: -J a,b and a ProxyJump line give a [bastion] per hop,
	 * each completed from the file, and proxy_jump on the last.
	 */
	snprintf(path, sizeof(path), "%s/chain", f->dir);
	write_file(path,
	    "Host hopa\n  HostName 10.0.0.1\n  User a\n"
	    "Host hopb\n  HostName 10.0.0.2\n  ProxyJump hopa\n"
	    "Host *\n  User z\n");
	c = ssh_config_conf(specs, 1, "hopa,hopb", path, NULL, NULL, NULL, 0,
	    &errs);
	if (c == NULL)
		fail_msg("%s", errs.n > 0 ? errs.msg[0] : "no error");
	assert_int_equal(c->nbastions, 2);
	assert_string_equal(c->bastions[0].name, "hopa");
	assert_string_equal(c->bastions[0].address.host, "10.0.0.1");
	assert_string_equal(c->bastions[0].user, "a");
	assert_null(c->bastions[0].proxy_jump);
	assert_string_equal(c->bastions[1].name, "hopb");
	assert_string_equal(c->bastions[1].address.host, "10.0.0.2");
	assert_string_equal(c->bastions[1].user, "z");
	assert_string_equal(c->bastions[1].proxy_jump, "hopa");
	conf_unref(c);
	c = ssh_config_conf(specs, 1, "hopb", path, NULL, NULL, NULL, 0,
	    &errs);
	if (c == NULL)
		fail_msg("%s", errs.n > 0 ? errs.msg[0] : "no error");
	assert_int_equal(c->nbastions, 2);
	assert_string_equal(c->bastions[1].proxy_jump, "hopa");
	conf_unref(c);
	/* -J x,x: the hop gets a name of its own. */
	c = ssh_config_conf(specs, 1, "hopa,hopa", path, NULL, NULL, NULL, 0,
	    &errs);
	if (c == NULL)
		fail_msg("%s", errs.n > 0 ? errs.msg[0] : "no error");
	assert_string_equal(c->bastions[0].name, "hopa-hop1");
	assert_string_equal(c->bastions[1].proxy_jump, "hopa-hop1");
	conf_unref(c);
	assert_int_equal(errs.n, 0);

	/* A config that cannot be opened (not ENOENT) is an error. */
	snprintf(path, sizeof(path), "%s/.ssh/config", f->dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/.ssh", f->dir);
	assert_int_equal(rmdir(path), 0);
	write_file(path, "not a directory\n");
	assert_null(ssh_config_conf(specs, 1, "prod", NULL, NULL, NULL, NULL, 0,
	    &errs));
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], "/.ssh/config"));
	assert_non_null(strstr(errs.msg[0], strerror(ENOTDIR)));
	conf_errors_free(&errs);
}

/* A -J name that no Host block resolves is said to be a likely typo. */
static void
test_alias_note(void **state)
{
	struct fixture	*f = *state;
	char		 path[PATH_MAX + 32], msg[2048];

	assert_int_equal(setenv("HOME", f->dir, 1), 0);
	snprintf(path, sizeof(path), "%s/.ssh", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.ssh/config", f->dir);
	write_file(path,
	    "Host prod-bastion\n"
	    "  HostName 10.0.0.1\n"
	    "Host *\n"
	    "  User nobody\n");
	assert_int_equal(ssh_config_alias_note("prod-bastoin", msg,
	    sizeof(msg)), 1);
	assert_non_null(strstr(msg, "-J prod-bastoin: no Host block of "));
	assert_non_null(strstr(msg, "/.ssh/config gives prod-bastoin a "
	    "HostName: using it as a host name (a mistyped alias?)"));
	assert_int_equal(ssh_config_alias_note("root@prod-bastoin:2222", msg,
	    sizeof(msg)), 1);
	assert_int_equal(ssh_config_alias_note("prod-bastion", msg,
	    sizeof(msg)), 0);
	assert_int_equal(ssh_config_alias_note("alice@prod-bastion", msg,
	    sizeof(msg)), 0);
	/* Host names and addresses are what they say. */
	assert_int_equal(ssh_config_alias_note("bastion.example.com", msg,
	    sizeof(msg)), 0);
	assert_int_equal(ssh_config_alias_note("127.0.0.1", msg,
	    sizeof(msg)), 0);
	assert_int_equal(ssh_config_alias_note("[::1]:22", msg,
	    sizeof(msg)), 0);
	assert_int_equal(ssh_config_alias_note("localhost", msg,
	    sizeof(msg)), 0);
	/* No config at all: the bare name is noted too. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ssh_config_alias_note("prod-bastion", msg,
	    sizeof(msg)), 1);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_alias),
		T(test_no_match),
		T(test_first_value_wins),
		T(test_given_values_win),
		T(test_wildcards),
		T(test_negation),
		T(test_syntax),
		T(test_trailing_comment),
		T(test_unknown_keys),
		T(test_match),
		T(test_match_refused),
		T(test_include),
		T(test_bad_port),
		T(test_missing_file),
		T(test_expand),
		cmocka_unit_test(test_parse_jump),
		T(test_conf),
		T(test_alias_note),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
