/*
 * test_ssh_algs.c: a bastion's `ciphers`: its syntax (config/), the
 * check against the linked libssh2 (ssh_algs_check, file:line errors),
 * the default order filtered to the library, and the message of a key
 * exchange that found no common cipher, read from a bastion's KEXINIT
 * (ssh_algs_explain).  Uses the real libssh2; ssh_error() is a stub.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_check.h"
#include "ssh_int.h"

#define BASTION	"[bastion b]\naddress = h:22\nuser = u\n"
#define VIA	"[service s]\nlisten = 7000\nroute = r ssh://b/127.0.0.1:1\n"

/* Stub: ssh_algs_explain falls back to it when the cause is another. */
const char *
ssh_error(struct ssh_bastion *b, const char *what, int rc)
{
	snprintf(b->last_error, sizeof(b->last_error), "%s: libssh2 %d",
	    what, rc);
	return (b->last_error);
}

static void
test_parse(void **state)
{
	struct conf	*c;

	c = parse_ok(BASTION "ciphers = aes256-ctr,aes128-ctr\n" VIA);
	assert_string_equal(c->bastions[0].ciphers, "aes256-ctr,aes128-ctr");
	assert_int_equal(c->bastions[0].ciphers_line, 4);
	conf_unref(c);
	c = parse_ok(BASTION VIA);
	assert_null(c->bastions[0].ciphers);
	assert_int_equal(c->bastions[0].ciphers_line, 1);	/* section's */
	conf_unref(c);
	/* Syntax only: which names exist is libssh2's to say. */
	c = parse_ok(BASTION "ciphers = made-up@example.com\n" VIA);
	conf_unref(c);

	EXPECT_ERRORS(BASTION "ciphers = aes128-ctr,,aes256-ctr\n" VIA, 0,
	    "t.conf:4: ciphers: 'aes128-ctr,,aes256-ctr': an "
	    "empty name (names are separated by single commas, without "
	    "spaces)");
	EXPECT_ERRORS(BASTION "ciphers = aes128-ctr,\n" VIA, 0,
	    "t.conf:4: ciphers: 'aes128-ctr,': an empty name "
	    "(names are separated by single commas, without spaces)");
	EXPECT_ERRORS(BASTION "ciphers = aes128-ctr, aes256-ctr\n" VIA, 0,
	    "t.conf:4: ciphers: ' aes256-ctr' is not an "
	    "algorithm name (letters, digits, '@', '.', '-', '_')");
	EXPECT_ERRORS(BASTION "ciphers = +aes128-ctr\n" VIA, 0,
	    "t.conf:4: ciphers: '+aes128-ctr' is not an "
	    "algorithm name (letters, digits, '@', '.', '-', '_')");
	EXPECT_ERRORS(BASTION "ciphers = aes128-ctr,aes256-ctr,aes128-ctr\n"
	    VIA, 0, "t.conf:4: ciphers: 'aes128-ctr' is listed "
	    "twice");
	EXPECT_ERRORS(BASTION "ciphers =\n" VIA, 0,
	    "t.conf:4: ciphers: empty value");
}

/* Each name the library lacks: an error at the key's line. */
static void
test_check(void **state)
{
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*c;
	char			 want[256];

	c = parse_ok(BASTION "ciphers = aes128-ctr,aes256-ctr\n" VIA);
	c->path = strdup("t.conf");
	assert_int_equal(ssh_algs_check(c, &e), 0);
	assert_int_equal(e.n, 0);
	conf_unref(c);

	c = parse_ok(BASTION "ciphers = nope-ctr,aes128-ctr,rot13@x\n" VIA);
	c->path = strdup("t.conf");
	assert_int_equal(ssh_algs_check(c, &e), -1);
	assert_int_equal(e.n, 2);
	snprintf(want, sizeof(want), "t.conf:4: [bastion b]: ciphers: this "
	    "libssh2 (%s) does not support 'nope-ctr'; it supports ",
	    libssh2_version(0));
	assert_memory_equal(e.msg[0], want, strlen(want));
	assert_non_null(strstr(e.msg[0] + strlen(want), "aes128-ctr"));
	assert_non_null(strstr(e.msg[1], "does not support 'rot13@x'"));
	conf_errors_free(&e);
	conf_unref(c);

	/* host_key_algorithms: the same check, against host key methods. */
	c = parse_ok(BASTION "ciphers = aes128-ctr\n"
	    "host_key_algorithms = ssh-ed25519,ssh-rsa\n" VIA);
	c->path = strdup("t.conf");
	assert_int_equal(c->bastions[0].host_key_algorithms_line, 5);
	assert_int_equal(ssh_algs_check(c, &e), 0);
	conf_unref(c);
	c = parse_ok(BASTION "host_key_algorithms = ssh-ed25519,aes128-ctr\n"
	    VIA);
	c->path = strdup("t.conf");
	assert_int_equal(ssh_algs_check(c, &e), -1);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "t.conf:4: [bastion b]: "
	    "host_key_algorithms: this libssh2 (%s) does not support "
	    "'aes128-ctr'; it supports ", libssh2_version(0));
	assert_memory_equal(e.msg[0], want, strlen(want));
	conf_errors_free(&e);
	conf_unref(c);

	/* Quick mode (no file): the list came from -o. */
	c = parse_ok(BASTION "ciphers = nope-ctr\n" VIA);
	assert_int_equal(ssh_algs_check(c, &e), -1);
	assert_int_equal(e.n, 1);
	assert_memory_equal(e.msg[0], "-o: [bastion b]: ciphers: ", 26);
	conf_errors_free(&e);
	conf_unref(c);
}

/* The default order, filtered: the library's, in our order. */
static void
test_filter(void **state)
{
	struct ssh_settings	 set;
	LIBSSH2_SESSION		*sess = libssh2_session_init();
	char			 out[512];

	assert_non_null(sess);
	memset(&set, 0, sizeof(set));
	assert_int_equal(ssh_algs_filter(sess, LIBSSH2_METHOD_CRYPT_CS,
	    ssh_algs_ciphers(&set), out, sizeof(out)), 0);
	/* Every libssh2 this builds with has these, in this order. */
	assert_non_null(strstr(out, "aes128-ctr,aes256-ctr,aes192-ctr"));
	assert_int_equal(ssh_algs_filter(sess, LIBSSH2_METHOD_CRYPT_CS,
	    "nope,aes256-ctr,rot13", out, sizeof(out)), 0);
	assert_string_equal(out, "aes256-ctr");
	assert_int_equal(ssh_algs_filter(sess, LIBSSH2_METHOD_CRYPT_CS,
	    "nope,rot13", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	set.ciphers = "aes192-ctr";
	assert_string_equal(ssh_algs_ciphers(&set), "aes192-ctr");
	libssh2_session_free(sess);
}

/* Append an SSH string (uint32 length, bytes) to buf at *n. */
static void
put_string(unsigned char *buf, size_t *n, const char *s)
{
	size_t	l = strlen(s);

	buf[(*n)++] = (unsigned char)(l >> 24);
	buf[(*n)++] = (unsigned char)(l >> 16);
	buf[(*n)++] = (unsigned char)(l >> 8);
	buf[(*n)++] = (unsigned char)l;
	memcpy(buf + *n, s, l);
	*n += l;
}

/* A bastion's first bytes: pre-banner line, banner, KEXINIT. */
static size_t
make_hello_hk(unsigned char *buf, const char *hostkeys, const char *ciphers)
{
	const char	*pre = "hello there\r\nSSH-2.0-OpenSSH_9.2p1\r\n";
	size_t		 n, start, plen;
	int		 i;

	n = strlen(pre);
	memcpy(buf, pre, n);
	start = n;
	n += 4;			/* packet length, filled in below */
	buf[n++] = 4;		/* padding length */
	buf[n++] = 20;		/* SSH_MSG_KEXINIT */
	memset(buf + n, 0xab, 16);	/* cookie */
	n += 16;
	put_string(buf, &n, "curve25519-sha256");
	put_string(buf, &n, hostkeys);
	put_string(buf, &n, ciphers);
	put_string(buf, &n, ciphers);
	for (i = 0; i < 6; i++)
		put_string(buf, &n, i < 2 ? "hmac-sha2-256" : i < 4 ? "none" :
		    "");
	buf[n++] = 0;			/* first_kex_packet_follows */
	memset(buf + n, 0, 4 + 4);	/* reserved, padding */
	n += 8;
	plen = n - start - 4;
	buf[start] = (unsigned char)(plen >> 24);
	buf[start + 1] = (unsigned char)(plen >> 16);
	buf[start + 2] = (unsigned char)(plen >> 8);
	buf[start + 3] = (unsigned char)plen;
	return (n);
}

static size_t
make_hello(unsigned char *buf, const char *ciphers)
{
	return (make_hello_hk(buf, "ssh-ed25519", ciphers));
}

static void
test_explain(void **state)
{
	struct ssh_bastion	*b = calloc(1, sizeof(*b));
	unsigned char		 hello[1024];
	size_t			 n, i;
	const char		*msg;

	assert_non_null(b);
	b->sess = libssh2_session_init();
	assert_non_null(b->sess);
	b->set.host = (char *)"h";
	b->set.port = 22;
	b->set.known_hosts = (char *)"/nonexistent/known_hosts";
	b->set.ciphers = strdup("aes128-ctr,aes192-ctr");
	n = make_hello(hello, "chacha20-poly1305@openssh.com,aes256-ctr");

	/* Received in pieces, as recv() hands them over. */
	assert_int_equal(ssh_algs_hello_start(b), 0);
	for (i = 0; i < n; i += 7)
		ssh_algs_hello_add(b, hello + i, n - i < 7 ? n - i : 7);
	msg = ssh_algs_explain(b, "SSH handshake failed",
	    LIBSSH2_ERROR_KEX_FAILURE);
	assert_string_equal(msg, "SSH handshake failed: cipher negotiation "
	    "failed: no cipher in common: we offer aes128-ctr,aes192-ctr "
	    "(ciphers), the bastion accepts "
	    "chacha20-poly1305@openssh.com,aes256-ctr");

	/* Another cause: libssh2's words. */
	msg = ssh_algs_explain(b, "SSH handshake failed",
	    LIBSSH2_ERROR_SOCKET_RECV);
	assert_string_equal(msg, "SSH handshake failed: libssh2 -43");

	/* A common cipher: the failure was about something else. */
	ssh_algs_hello_end(b);
	assert_null(b->io.hello);
	n = make_hello(hello, "aes256-ctr,aes192-ctr");
	assert_int_equal(ssh_algs_hello_start(b), 0);
	ssh_algs_hello_add(b, hello, n);
	msg = ssh_algs_explain(b, "SSH handshake failed",
	    LIBSSH2_ERROR_KEX_FAILURE);
	assert_string_equal(msg, "SSH handshake failed: libssh2 -5");

	/* Cut short inside the cipher list: not read. */
	n = make_hello(hello, "aes256-ctr");
	assert_int_equal(ssh_algs_hello_start(b), 0);
	ssh_algs_hello_add(b, hello, n - 86);
	msg = ssh_algs_explain(b, "SSH handshake failed",
	    LIBSSH2_ERROR_KEX_FAILURE);
	assert_string_equal(msg, "SSH handshake failed: libssh2 -5");

	/* The default order: not attributed to `ciphers`. */
	free(b->set.ciphers);
	b->set.ciphers = NULL;
	assert_int_equal(ssh_algs_hello_start(b), 0);
	n = make_hello(hello, "3des-cbc");
	ssh_algs_hello_add(b, hello, n);
	msg = ssh_algs_explain(b, "SSH handshake failed",
	    LIBSSH2_ERROR_KEX_FAILURE);
	assert_non_null(strstr(msg, "no cipher in common: we offer "));
	assert_non_null(strstr(msg, "aes128-ctr"));
	assert_null(strstr(msg, "(ciphers)"));
	assert_non_null(strstr(msg, ", the bastion accepts 3des-cbc"));

	ssh_algs_hello_end(b);
	libssh2_session_free(b->sess);
	free(b);
}

/*
 * A bastion that signs its host key with ssh-rsa (SHA-1) only: refused
 * by default, and the message names the algorithm and the way out;
 * host_key_algorithms with ssh-rsa lets it through (no host key
 * complaint then).
 */
static void
test_explain_hostkey(void **state)
{
	struct ssh_bastion	*b = calloc(1, sizeof(*b));
	unsigned char		 hello[1024];
	size_t			 n;
	const char		*msg;

	(void)state;
	assert_non_null(b);
	b->sess = libssh2_session_init();
	assert_non_null(b->sess);
	b->set.host = (char *)"h";
	b->set.port = 22;
	b->set.known_hosts = (char *)"/nonexistent/known_hosts";
	n = make_hello_hk(hello, "ssh-rsa", "aes128-ctr");
	assert_int_equal(ssh_algs_hello_start(b), 0);
	ssh_algs_hello_add(b, hello, n);
	msg = ssh_algs_explain(b, "SSH handshake failed",
	    LIBSSH2_ERROR_KEX_FAILURE);
	assert_non_null(strstr(msg, "SSH handshake failed: host key "
	    "negotiation failed: the bastion offers ssh-rsa, we accept "
	    "ssh-ed25519,"));
	assert_non_null(strstr(msg, ": ssh-rsa signs with SHA-1, refused by "
	    "default as OpenSSH 8.8 and later do; give the bastion an "
	    "ed25519 or ecdsa host key (or rsa-sha2-256 with libssh2 1.11), "
	    "or accept SHA-1 with host_key_algorithms = ...,ssh-rsa"));
	assert_null(strstr(msg, "(host_key_algorithms)"));
	assert_null(strstr(msg, "we accept ssh-rsa"));
	assert_null(strstr(msg, ",ssh-rsa,"));

	/* Allowed: the host key is not what failed. */
	b->set.hostkey_algs = (char *)"ssh-ed25519,ssh-rsa";
	msg = ssh_algs_explain(b, "SSH handshake failed",
	    LIBSSH2_ERROR_KEX_FAILURE);
	assert_null(strstr(msg, "host key"));

	/* Another list, no SHA-1: both lists named, no SHA-1 advice. */
	b->set.hostkey_algs = (char *)"ssh-ed25519";
	ssh_algs_hello_end(b);
	n = make_hello_hk(hello, "ecdsa-sha2-nistp256", "aes128-ctr");
	assert_int_equal(ssh_algs_hello_start(b), 0);
	ssh_algs_hello_add(b, hello, n);
	msg = ssh_algs_explain(b, "SSH handshake failed",
	    LIBSSH2_ERROR_KEX_FAILURE);
	assert_string_equal(msg, "SSH handshake failed: host key negotiation "
	    "failed: the bastion offers ecdsa-sha2-nistp256, we accept "
	    "ssh-ed25519 (host_key_algorithms)");
	ssh_algs_hello_end(b);
	libssh2_session_free(b->sess);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_explain_hostkey),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
