/*
 * test_ssh_config.c: the ~/.ssh/config reader behind "-J alias"
 * (tunnel/ssh_config.c): Host blocks, first value wins, wildcards and
 * negation, the line syntax, Match and Include, what is skipped
 * (test_ssh_jump.c: "~" and %-token expansion, the -J spec and the
 * generation ssh_config_conf() builds).  The expected
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

static int
setup(void **state)
{
	return (tmpdir_fixture_new(state, "sshcfg", "config"));
}

static int
teardown(void **state)
{
	return (tmpdir_fixture_free(state));
}

/* Write text as the config, then ssh_config_apply() for alias into h. */
static int
apply(struct tmpdir_fixture *f, const char *text, const char *alias,
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
	struct tmpdir_fixture	*f = *state;
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
	struct tmpdir_fixture	*f = *state;
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
	struct tmpdir_fixture	*f = *state;
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
	struct tmpdir_fixture	*f = *state;
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
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
