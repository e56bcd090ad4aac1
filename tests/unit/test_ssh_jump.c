/*
 * test_ssh_jump.c: what tunnel/ssh_config.c makes of "-J" once the
 * config is read: "~" and %-token expansion, the -J spec, the
 * generation ssh_config_conf() builds, and the note for a name no Host
 * block resolves (test_ssh_config.c: the reader itself).
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
	struct tmpdir_fixture	*f = *state;
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
	struct tmpdir_fixture	*f = *state;
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
	struct tmpdir_fixture	*f = *state;
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
		T(test_expand),
		cmocka_unit_test(test_parse_jump),
		T(test_conf),
		T(test_alias_note),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
