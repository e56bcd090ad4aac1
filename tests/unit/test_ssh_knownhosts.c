/*
 * test_ssh_knownhosts.c: the host key check of tunnel/ssh_knownhosts.c
 * against known_hosts files written to a temp dir, and the wildcard
 * matcher it shares with ssh_config.c (ssh_config_wild).
 *
 * ssh_hostkey_verify() asks libssh2 for the server's key; this program is
 * not linked with libssh2 and defines libssh2_session_hostkey() itself,
 * so a test chooses the key "the server sent".  Keys are fixed blobs in
 * SSH wire format: the checker compares blobs and types, it does not
 * parse keys.  The fingerprints and the hashed "|1|salt|hash" entries
 * below were made by OpenSSH 9.2's ssh-keygen (-lf, -H) from these blobs,
 * so they check compatibility with OpenSSH, not with our own reading.
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

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "log.h"
#include "ssh_config.h"
#include "ssh_int.h"
#include "tmpdir.h"

#define HOST		"bastion.example.com"
/* ssh-keygen -lf of key A (bytes 0..31) and key B (bytes 32..63). */
#define FP_A		"SHA256:ZkAslGjFiUHdGf/WUL8rQvkib4PTvQatUV0OUQSncCA"
#define FP_B		"SHA256:LVC7PY6ur9Dk+WVIYQsgEU2uvTXAor8XoYLl+ZmNyRo"
/* ssh-keygen -H of "bastion.example.com" and "[bastion.example.com]:2222". */
#define HASHED_22	"|1|P4PvX7Zv22tBqqLnHghwzOuV8xg=|" \
			"En98aIltsc54Ybkv9RqoeNXn3/I="
#define HASHED_2222	"|1|ry/c5AIGbEHuuEJR6m1N40YRoN4=|" \
			"zpkAbrmHZiNqni+mzx3uhzpenQk="
/* OpenSSH's order, without ssh-rsa (SHA-1), as OpenSSH 8.8 and later. */
#define DEFAULT_PREFS	"ssh-ed25519,ecdsa-sha2-nistp256," \
			"ecdsa-sha2-nistp384,ecdsa-sha2-nistp521," \
			"rsa-sha2-512,rsa-sha2-256"

struct key {
	unsigned char	blob[128];
	size_t		len;
	char		b64[192];
};

static struct key	 key_a, key_b, key_rsa;

/* What the fake server sends (NULL: no key). */
static const struct key	*server_key;

const char *
libssh2_session_hostkey(LIBSSH2_SESSION *session, size_t *len, int *type)
{
	if (server_key == NULL) {
		*len = 0;
		return (NULL);
	}
	*len = server_key->len;
	if (type != NULL)
		*type = LIBSSH2_HOSTKEY_TYPE_ED25519;
	return ((const char *)server_key->blob);
}

static void
put_string(struct key *k, const void *s, size_t n)
{
	k->blob[k->len++] = (unsigned char)(n >> 24);
	k->blob[k->len++] = (unsigned char)(n >> 16);
	k->blob[k->len++] = (unsigned char)(n >> 8);
	k->blob[k->len++] = (unsigned char)n;
	memcpy(k->blob + k->len, s, n);
	k->len += n;
}

/* A key blob: the type, then each part as an SSH string. */
static void
make_key(struct key *k, const char *type, const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen)
{
	memset(k, 0, sizeof(*k));
	put_string(k, type, strlen(type));
	put_string(k, a, alen);
	if (b != NULL)
		put_string(k, b, blen);
	EVP_EncodeBlock((unsigned char *)k->b64, k->blob, (int)k->len);
}

static int
group_setup(void **state)
{
	unsigned char	a[32], b[32], n[64];
	static const unsigned char e[] = { 0x01, 0x00, 0x01 };
	int		i;

	for (i = 0; i < 32; i++) {
		a[i] = (unsigned char)i;
		b[i] = (unsigned char)(32 + i);
	}
	for (i = 0; i < 64; i++)
		n[i] = (unsigned char)(0x80 + i);
	make_key(&key_a, "ssh-ed25519", a, sizeof(a), NULL, 0);
	make_key(&key_b, "ssh-ed25519", b, sizeof(b), NULL, 0);
	make_key(&key_rsa, "ssh-rsa", e, sizeof(e), n, sizeof(n));
	return (0);
}

struct fixture {
	char			dir[256];
	char			path[PATH_MAX];		/* dir/known_hosts */
	char			host[256];
	struct ssh_bastion	b;
	char			sess;		/* b.sess points here */
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tmpdir_make(f->dir, sizeof(f->dir), "kh");
	snprintf(f->path, sizeof(f->path), "%s/known_hosts", f->dir);
	snprintf(f->host, sizeof(f->host), "%s", HOST);
	f->b.set.host = f->host;
	f->b.set.port = 22;
	f->b.set.known_hosts = f->path;
	f->b.sess = (LIBSSH2_SESSION *)(void *)&f->sess;
	snprintf(f->b.label, sizeof(f->b.label), "bastion test");
	server_key = &key_a;
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

static void
write_kh(struct fixture *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Replace the known_hosts file with the formatted text. */
static void
write_kh(struct fixture *f, const char *fmt, ...)
{
	FILE	*fp = fopen(f->path, "w");
	va_list	 ap;

	assert_non_null(fp);
	va_start(ap, fmt);
	assert_true(vfprintf(fp, fmt, ap) >= 0);
	va_end(ap);
	assert_int_equal(fclose(fp), 0);
}

static char *
read_kh(const char *path, char *buf, size_t len)
{
	FILE	*fp = fopen(path, "r");
	size_t	 n;

	assert_non_null(fp);
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return (buf);
}

/* ssh_hostkey_verify() with the server showing k, on host:port. */
static int
verify(struct fixture *f, const struct key *k, const char *host,
    unsigned int port)
{
	snprintf(f->host, sizeof(f->host), "%s", host);
	f->b.set.port = port;
	f->b.last_error[0] = '\0';
	f->b.hint[0] = '\0';
	server_key = k;
	return (ssh_hostkey_verify(&f->b));
}

/* Expect a refusal whose message contains want. */
#define REFUSED(f, k, host, port, want) do {				\
	assert_int_equal(verify((f), (k), (host), (port)), -1);		\
	if (strstr((f)->b.last_error, (want)) == NULL)			\
		fail_msg("\"%s\" lacks \"%s\"", (f)->b.last_error,	\
		    (want));						\
} while (0)

/* "|1|salt|hash" for name as OpenSSH makes it: HMAC-SHA1 keyed by salt. */
static void
hash_name(const char *name, unsigned char seed, char *out, size_t len)
{
	unsigned char	salt[20], md[20];
	char		s64[32], h64[32];
	unsigned int	mdlen = 0;
	size_t		i;

	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (unsigned char)(seed + i * 7);
	assert_non_null(HMAC(EVP_sha1(), salt, sizeof(salt),
	    (const unsigned char *)name, strlen(name), md, &mdlen));
	assert_int_equal(mdlen, sizeof(md));
	EVP_EncodeBlock((unsigned char *)s64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)h64, md, sizeof(md));
	snprintf(out, len, "|1|%s|%s", s64, h64);
}

static void
test_wild(void **state)
{
	assert_true(ssh_config_wild("*", ""));
	assert_true(ssh_config_wild("*", "anything"));
	assert_true(ssh_config_wild("**", "x"));
	assert_true(ssh_config_wild("", ""));
	assert_false(ssh_config_wild("", "x"));
	assert_false(ssh_config_wild("x", ""));
	assert_true(ssh_config_wild("?", "x"));
	assert_false(ssh_config_wild("?", ""));
	assert_false(ssh_config_wild("?", "xy"));
	assert_true(ssh_config_wild("a*b*c", "aXXbYYc"));
	assert_true(ssh_config_wild("a*b*c", "abc"));
	assert_false(ssh_config_wild("a*b*c", "aXXbYY"));
	assert_true(ssh_config_wild("*.example.com", "a.b.example.com"));
	assert_false(ssh_config_wild("*.example.com", "example.com"));
	assert_false(ssh_config_wild("*.example.com", "a.example.com.evil"));
	/* Backtracking: the first "ab" is not the one that ends the match. */
	assert_true(ssh_config_wild("*ab", "abab"));
	assert_true(ssh_config_wild("*a?c", "abcaxc"));
	assert_true(ssh_config_wild("10.0.0.?", "10.0.0.7"));
	assert_false(ssh_config_wild("10.0.0.?", "10.0.0.17"));
	/* Case-insensitive, as OpenSSH matches host names. */
	assert_true(ssh_config_wild("Bastion.*", "bASTION.example.com"));
	/* '[' is literal: "[host]:port" names match themselves. */
	assert_true(ssh_config_wild("[*.example.com]:2222",
	    "[b.example.com]:2222"));
	assert_false(ssh_config_wild("[*.example.com]:2222",
	    "[b.example.com]:22"));
	/* No other glob syntax: '!' and '\' are plain characters here. */
	assert_false(ssh_config_wild("a\\*", "ab"));
	assert_true(ssh_config_wild("a\\*", "a\\b"));
}

static void
test_plain(void **state)
{
	struct fixture	*f = *state;

	write_kh(f,
	    "other.example.com ssh-ed25519 %s\n"
	    HOST " ssh-ed25519 %s\n", key_b.b64, key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	assert_string_equal(f->b.last_error, "");
	assert_string_equal(f->b.fingerprint, FP_A);
	assert_string_equal(f->b.hostkey, "ssh-ed25519 " FP_A);
	/* Host patterns compare without case. */
	assert_int_equal(verify(f, &key_a, "BASTION.example.COM", 22), 0);
}

static void
test_unknown_host(void **state)
{
	struct fixture	*f = *state;
	char		 want[PATH_MAX + 512];

	/* No file at all. */
	snprintf(want, sizeof(want), "host key verification failed: the "
	    "ssh-ed25519 key " FP_A " of " HOST " is unknown: not in %s "
	    "(no such file)", f->path);
	assert_int_equal(verify(f, &key_a, HOST, 22), -1);
	assert_string_equal(f->b.last_error, want);
	assert_true(f->b.hint[0] != '\0');
	/* Without accept-new the file is not created. */
	assert_int_equal(access(f->path, F_OK), -1);

	/* A file without the host: the same key is known for another. */
	write_kh(f, "other.example.com ssh-ed25519 %s\n", key_a.b64);
	snprintf(want, sizeof(want), "host key verification failed: the "
	    "ssh-ed25519 key " FP_A " of " HOST " is unknown: not in %s",
	    f->path);
	assert_int_equal(verify(f, &key_a, HOST, 22), -1);
	assert_string_equal(f->b.last_error, want);
}

static void
test_changed(void **state)
{
	struct fixture	*f = *state;
	char		 want[PATH_MAX + 512], before[4096], after[4096];

	write_kh(f,
	    "# known hosts\n"
	    "\n"
	    HOST " ssh-ed25519 %s\n", key_b.b64);
	snprintf(want, sizeof(want), "host key verification failed: the "
	    "ssh-ed25519 key " FP_A " of " HOST " does not match %s line 3 "
	    "(which has " FP_B "): the host key changed, or someone is "
	    "intercepting the connection", f->path);
	assert_int_equal(verify(f, &key_a, HOST, 22), -1);
	assert_string_equal(f->b.last_error, want);

	/* accept-new never replaces a changed key. */
	read_kh(f->path, before, sizeof(before));
	f->b.set.accept_new = 1;
	REFUSED(f, &key_a, HOST, 22, "line 3 (which has " FP_B ")");
	assert_string_equal(read_kh(f->path, after, sizeof(after)), before);

	/* Any line with the key is enough, before or after another. */
	write_kh(f,
	    HOST " ssh-ed25519 %s\n"
	    HOST " ssh-ed25519 %s\n", key_b.b64, key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	assert_int_equal(verify(f, &key_b, HOST, 22), 0);
}

static void
test_other_type_only(void **state)
{
	struct fixture	*f = *state;
	char		 want[PATH_MAX + 512], before[4096], after[4096];

	/*
	 * The host is known with an RSA key only: an Ed25519 key is not
	 * "changed" (another type) but not trusted either, even under
	 * accept-new (which is for hosts never seen).
	 */
	write_kh(f, HOST " ssh-rsa %s\n", key_rsa.b64);
	snprintf(want, sizeof(want), "host key verification failed: the "
	    "ssh-ed25519 key " FP_A " of " HOST " is unknown: %s has only "
	    "ssh-rsa keys for it", f->path);
	f->b.hint[0] = '\0';
	assert_int_equal(verify(f, &key_a, HOST, 22), -1);
	assert_string_equal(f->b.last_error, want);
	/* Without ssh-rsa allowed, why the RSA key was not asked for. */
	assert_string_equal(f->b.hint, "an ssh-rsa key needs rsa-sha2-256/512 "
	    "signatures (libssh2 1.11) or ssh-rsa, SHA-1, in "
	    "host_key_algorithms; or add the bastion's ssh-ed25519 key");
	f->b.hint[0] = '\0';
	f->b.set.hostkey_algs = (char *)"ssh-ed25519,ssh-rsa";
	assert_int_equal(verify(f, &key_a, HOST, 22), -1);
	assert_string_equal(f->b.hint, "");
	f->b.set.hostkey_algs = NULL;
	read_kh(f->path, before, sizeof(before));
	f->b.set.accept_new = 1;
	assert_int_equal(verify(f, &key_a, HOST, 22), -1);
	assert_string_equal(f->b.last_error, want);
	assert_string_equal(read_kh(f->path, after, sizeof(after)), before);

	assert_int_equal(verify(f, &key_rsa, HOST, 22), 0);
	assert_string_equal(f->b.hostkey + strlen("ssh-rsa "),
	    f->b.fingerprint);
}

static void
test_port(void **state)
{
	struct fixture	*f = *state;

	/* A plain entry is for port 22 only (libssh2 gets this wrong). */
	write_kh(f, HOST " ssh-ed25519 %s\n", key_a.b64);
	REFUSED(f, &key_a, HOST, 2222, "of [" HOST "]:2222 is unknown: not in");

	write_kh(f, "[" HOST "]:2222 ssh-ed25519 %s\n", key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 2222), 0);
	REFUSED(f, &key_a, HOST, 22, "of " HOST " is unknown: not in");
	REFUSED(f, &key_a, HOST, 2200, "of [" HOST "]:2200 is unknown");
	/* A changed key on the right port is "changed", not unknown. */
	REFUSED(f, &key_b, HOST, 2222, "does not match");

	/* Explicit ":22" is not how OpenSSH writes port 22. */
	write_kh(f, "[" HOST "]:22 ssh-ed25519 %s\n", key_a.b64);
	REFUSED(f, &key_a, HOST, 22, "is unknown");

	/* Wildcards inside the brackets. */
	write_kh(f, "[*.example.com]:2222 ssh-ed25519 %s\n", key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 2222), 0);
	REFUSED(f, &key_a, HOST, 22, "is unknown");
}

static void
test_hashed_openssh(void **state)
{
	struct fixture	*f = *state;

	write_kh(f, HASHED_22 " ssh-ed25519 %s\n", key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	REFUSED(f, &key_b, HOST, 22, "does not match");
	REFUSED(f, &key_a, "other.example.com", 22, "is unknown: not in");
	REFUSED(f, &key_a, HOST, 2222, "is unknown: not in");
	/*
	 * ssh(1) lowercases the name before hashing it: a host written
	 * with capitals must still find the entry ssh made.
	 */
	assert_int_equal(verify(f, &key_a, "Bastion.Example.COM", 22), 0);

	write_kh(f, HASHED_2222 " ssh-ed25519 %s\n", key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 2222), 0);
	REFUSED(f, &key_a, HOST, 22, "is unknown: not in");
}

static void
test_hashed_generated(void **state)
{
	struct fixture	*f = *state;
	char		 h1[128], h2[128], h3[128];

	hash_name("other.example.com", 1, h1, sizeof(h1));
	hash_name(HOST, 2, h2, sizeof(h2));
	hash_name("[" HOST "]:2200", 3, h3, sizeof(h3));
	write_kh(f,
	    "|1|notbase64!|AAAA ssh-ed25519 %s\n"
	    "|1|no-second-bar ssh-ed25519 %s\n"
	    "|1|||| ssh-ed25519 %s\n"
	    "%s ssh-ed25519 %s\n"
	    "%s ssh-ed25519 %s\n"
	    "%s ssh-ed25519 %s\n",
	    key_b.b64, key_b.b64, key_b.b64,
	    h1, key_b.b64, h2, key_a.b64, h3, key_b.b64);
	/* The malformed hashes are skipped, and so is other's entry. */
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	REFUSED(f, &key_b, HOST, 22, "line 5 (which has " FP_A ")");
	REFUSED(f, &key_a, HOST, 2200, "line 6 (which has " FP_B ")");
	assert_int_equal(verify(f, &key_b, "other.example.com", 22), 0);
	REFUSED(f, &key_a, "unlisted.example.com", 22, "is unknown");

	/* One salt per entry: another salt, same name, still matches. */
	hash_name(HOST, 99, h2, sizeof(h2));
	write_kh(f, "%s ssh-ed25519 %s\n", h2, key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
}

static void
test_patterns(void **state)
{
	struct fixture	*f = *state;

	write_kh(f, "a.example.com,10.0.0.1," HOST ",b ssh-ed25519 %s\n",
	    key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	assert_int_equal(verify(f, &key_a, "10.0.0.1", 22), 0);
	assert_int_equal(verify(f, &key_a, "b", 22), 0);
	REFUSED(f, &key_a, "10.0.0.10", 22, "is unknown");
	REFUSED(f, &key_a, "example.com", 22, "is unknown");

	write_kh(f, "*.example.com,bastion? ssh-ed25519 %s\n", key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	assert_int_equal(verify(f, &key_a, "bastion7", 22), 0);
	REFUSED(f, &key_a, "bastion77", 22, "is unknown");

	/* A negated pattern wins wherever it stands in the list. */
	write_kh(f,
	    "*.example.com,!" HOST " ssh-ed25519 %s\n"
	    "!" HOST ",*.example.com ssh-ed25519 %s\n",
	    key_a.b64, key_a.b64);
	REFUSED(f, &key_a, HOST, 22, "is unknown: not in");
	assert_int_equal(verify(f, &key_a, "web.example.com", 22), 0);

	/* A negation alone matches nothing. */
	write_kh(f, "!other ssh-ed25519 %s\n", key_a.b64);
	REFUSED(f, &key_a, HOST, 22, "is unknown: not in");
}

static void
test_markers(void **state)
{
	struct fixture	*f = *state;
	char		 want[PATH_MAX + 512];

	/* @revoked beats a plain line with the same key. */
	write_kh(f,
	    HOST " ssh-ed25519 %s\n"
	    "@revoked *.example.com ssh-ed25519 %s\n", key_a.b64, key_a.b64);
	snprintf(want, sizeof(want), "host key verification failed: the "
	    "ssh-ed25519 key " FP_A " of " HOST " is marked @revoked in %s "
	    "line 2", f->path);
	assert_int_equal(verify(f, &key_a, HOST, 22), -1);
	assert_string_equal(f->b.last_error, want);
	/* A revocation is per host pattern, too. */
	assert_int_equal(verify(f, &key_a, "bastion", 22), -1);
	assert_null(strstr(f->b.last_error, "@revoked"));

	/* Revoking another key changes nothing for this one. */
	write_kh(f,
	    "@revoked * ssh-ed25519 %s\n"
	    HOST " ssh-ed25519 %s\n", key_b.b64, key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	REFUSED(f, &key_b, HOST, 22, "marked @revoked");

	/* A CA key is not a host key; other markers are skipped. */
	write_kh(f,
	    "@cert-authority *.example.com ssh-ed25519 %s\n"
	    "@future " HOST " ssh-ed25519 %s\n"
	    "@revoked " HOST " ssh-ed25519\n", key_a.b64, key_a.b64);
	REFUSED(f, &key_a, HOST, 22, "says @cert-authority for " HOST);
	write_kh(f,
	    "@future " HOST " ssh-ed25519 %s\n"
	    "@revoked " HOST " ssh-ed25519\n", key_a.b64);
	REFUSED(f, &key_a, HOST, 22, "is unknown: not in");
}

/*
 * @cert-authority: libssh2 cannot check a host certificate, so a host
 * the file puts under a CA is refused, under accept-new too (never
 * trusted on first use, never appended), unless its own key is listed.
 */
static void
test_cert_authority(void **state)
{
	struct fixture	*f = *state;
	char		 want[PATH_MAX + 512], before[4096], after[4096];

	write_kh(f, "# fleet CA\n"
	    "@cert-authority *.example.com,!nope.example.com ssh-ed25519 %s\n",
	    key_b.b64);
	snprintf(want, sizeof(want), "host key verification failed: %s line "
	    "2 says @cert-authority for " HOST ", and libssh2 cannot verify "
	    "host certificates: its ssh-ed25519 key " FP_A " is not trusted "
	    "on first use; add the host's own key (ssh-keyscan) or pin "
	    "host_key_sha256", f->path);
	read_kh(f->path, before, sizeof(before));
	f->b.set.accept_new = 1;
	assert_int_equal(verify(f, &key_a, HOST, 22), -1);
	assert_string_equal(f->b.last_error, want);
	assert_string_equal(read_kh(f->path, after, sizeof(after)), before);
	f->b.set.accept_new = 0;
	assert_int_equal(verify(f, &key_a, HOST, 22), -1);
	assert_string_equal(f->b.last_error, want);
	/* Not covered (negated, another domain): accept-new as before. */
	f->b.set.accept_new = 1;
	assert_int_equal(verify(f, &key_a, "nope.example.com", 22), 0);
	assert_int_equal(verify(f, &key_a, "db.example.org", 22), 0);
	/* Its own key listed as well: that key is checked as usual. */
	write_kh(f,
	    "@cert-authority *.example.com ssh-ed25519 %s\n"
	    HOST " ssh-ed25519 %s\n", key_b.b64, key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	REFUSED(f, &key_b, HOST, 22, "does not match");
}

static void
test_revoked_then_accept_new(void **state)
{
	struct fixture	*f = *state;
	char		 want[4096], got[4096];

	/*
	 * "@revoked * <old key>" used to count as an entry for every host:
	 * a new host was then "known with only  keys" and accept-new
	 * refused it.  OpenSSH accepts it, and so must we.
	 */
	write_kh(f, "@revoked * ssh-ed25519 %s\n", key_b.b64);
	REFUSED(f, &key_a, HOST, 22, "is unknown: not in");
	f->b.set.accept_new = 1;
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	snprintf(want, sizeof(want),
	    "@revoked * ssh-ed25519 %s\n"
	    HOST " ssh-ed25519 %s\n", key_b.b64, key_a.b64);
	assert_string_equal(read_kh(f->path, got, sizeof(got)), want);
	/* The revoked key stays refused. */
	REFUSED(f, &key_b, HOST, 22, "marked @revoked");
}

static void
test_accept_new(void **state)
{
	struct fixture	*f = *state;
	struct stat	 st;
	char		 want[4096], got[4096];

	/* The directory is made if missing (a fresh ~/.ssh). */
	snprintf(f->path, sizeof(f->path), "%s/ssh/known_hosts", f->dir);
	f->b.set.accept_new = 1;
	assert_int_equal(verify(f, &key_a, "Bastion.Example.com", 2222), 0);
	/* Written as ssh(1) would: lowercased, bracketed, padded base64. */
	snprintf(want, sizeof(want), "[" HOST "]:2222 ssh-ed25519 %s\n",
	    key_a.b64);
	assert_string_equal(read_kh(f->path, got, sizeof(got)), want);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Now known: found, and a different key is a change. */
	assert_int_equal(verify(f, &key_a, HOST, 2222), 0);
	REFUSED(f, &key_b, HOST, 2222, "does not match");
	assert_string_equal(read_kh(f->path, got, sizeof(got)), want);

	/* Strict again: an unknown host is refused and not added. */
	f->b.set.accept_new = 0;
	REFUSED(f, &key_a, HOST, 22, "is unknown: not in");
	assert_string_equal(read_kh(f->path, got, sizeof(got)), want);

	/* Cannot write: refused, with the reason. */
	snprintf(f->path, sizeof(f->path), "%s/ssh/known_hosts/x", f->dir);
	f->b.set.accept_new = 1;
	REFUSED(f, &key_a, HOST, 22, "cannot add the ssh-ed25519 key");
}

static void
test_robust(void **state)
{
	struct fixture	*f = *state;
	char		 longline[6000];

	/*
	 * Lines we cannot use are skipped and the rest of the file still
	 * read (libssh2's reader stops at the first one it cannot parse).
	 */
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	write_kh(f,
	    "# comment\r\n"
	    "\r\n"
	    "   \t  \n"
	    "%s\n"
	    HOST "\n"
	    HOST " ssh-ed25519\n"
	    HOST " ssh-ed25519 !!!notbase64\n"
	    HOST " ssh-ed25519 AAAA=\n"
	    HOST " sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5\n"
	    HOST " ssh-foo %s\n"
	    "   " HOST "\tssh-ed25519   %s   comment with spaces\r\n",
	    longline, key_b.b64, key_a.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	/* The unparseable same-type keys did not count as a change. */
	REFUSED(f, &key_b, HOST, 22, "line 11 (which has " FP_A ")");

	/* An empty file. */
	write_kh(f, "%s", "");
	REFUSED(f, &key_a, HOST, 22, "is unknown: not in");
}

static void
test_pin(void **state)
{
	struct fixture	*f = *state;
	char		 pin[80];

	/* A pin replaces the file: none is needed, a wrong one is moot. */
	snprintf(pin, sizeof(pin), "%s", FP_A);
	f->b.set.pin = pin;
	write_kh(f, HOST " ssh-ed25519 %s\n", key_b.b64);
	assert_int_equal(verify(f, &key_a, HOST, 22), 0);
	REFUSED(f, &key_b, HOST, 22, "the ssh-ed25519 key " FP_B " of " HOST
	    " does not match the pinned host_key_sha256 " FP_A);
}

static void
test_no_key(void **state)
{
	struct fixture	*f = *state;

	write_kh(f, HOST " ssh-ed25519 %s\n", key_a.b64);
	REFUSED(f, NULL, HOST, 22, "the server sent no host key");
}

static void
test_describe(void **state)
{
	char	buf[128];

	assert_string_equal(ssh_fingerprint(key_a.blob, key_a.len, buf,
	    sizeof(buf)), FP_A);
	assert_string_equal(ssh_key_describe(key_b.blob, key_b.len, buf,
	    sizeof(buf)), "ssh-ed25519 " FP_B);
	/* A blob too short to hold a type. */
	assert_memory_equal(ssh_key_describe(key_a.blob, 3, buf, sizeof(buf)),
	    "unknown SHA256:", 15);
}

/* ssh_hostkey_prefs() for host:port. */
static const char *
prefs(struct fixture *f, const char *host, unsigned int port, char *buf,
    size_t len)
{
	snprintf(f->host, sizeof(f->host), "%s", host);
	f->b.set.port = port;
	return (ssh_hostkey_prefs(&f->b, buf, len));
}

static void
test_prefs(void **state)
{
	struct fixture	*f = *state;
	char		 buf[512];

	/* No file: OpenSSH's default order. */
	assert_string_equal(prefs(f, HOST, 22, buf, sizeof(buf)),
	    DEFAULT_PREFS);

	/* The types the file has for this host (and port) come first. */
	write_kh(f,
	    HOST " ssh-rsa %s\n"
	    HOST " ecdsa-sha2-nistp384 AAAA\n"
	    "[" HOST "]:2222 ecdsa-sha2-nistp521 AAAA\n"
	    "@revoked " HOST " ssh-ed25519 %s\n"
	    "other ecdsa-sha2-nistp256 AAAA\n", key_rsa.b64, key_a.b64);
	assert_string_equal(prefs(f, HOST, 22, buf, sizeof(buf)),
	    "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp384,"
	    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp521");
	assert_string_equal(prefs(f, HOST, 2222, buf, sizeof(buf)),
	    "ecdsa-sha2-nistp521,ssh-ed25519,ecdsa-sha2-nistp256,"
	    "ecdsa-sha2-nistp384,rsa-sha2-512,rsa-sha2-256");

	/* host_key_algorithms: only those, the file's first; SHA-1 on ask. */
	f->b.set.hostkey_algs = (char *)"ssh-ed25519,ssh-rsa";
	assert_string_equal(prefs(f, HOST, 22, buf, sizeof(buf)),
	    "ssh-rsa,ssh-ed25519");
	f->b.set.hostkey_algs = (char *)"ecdsa-sha2-nistp256,rsa-sha2-256";
	assert_string_equal(prefs(f, HOST, 22, buf, sizeof(buf)),
	    "rsa-sha2-256,ecdsa-sha2-nistp256");
	f->b.set.hostkey_algs = NULL;

	/* An ed25519 key recorded: ed25519 is asked for first. */
	write_kh(f, HOST " ssh-ed25519 %s\n", key_a.b64);
	assert_string_equal(prefs(f, HOST, 22, buf, sizeof(buf)),
	    DEFAULT_PREFS);
	write_kh(f, HOST " ecdsa-sha2-nistp521 AAAA\n");
	assert_string_equal(prefs(f, HOST, 22, buf, sizeof(buf)),
	    "ecdsa-sha2-nistp521,ssh-ed25519,ecdsa-sha2-nistp256,"
	    "ecdsa-sha2-nistp384,rsa-sha2-512,rsa-sha2-256");

	/* With a pin the file is not read. */
	f->b.set.pin = (char *)FP_A;
	assert_string_equal(prefs(f, HOST, 22, buf, sizeof(buf)),
	    DEFAULT_PREFS);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wild),
		T(test_plain),
		T(test_unknown_host),
		T(test_changed),
		T(test_other_type_only),
		T(test_port),
		T(test_hashed_openssh),
		T(test_hashed_generated),
		T(test_patterns),
		T(test_markers),
		T(test_revoked_then_accept_new),
		T(test_cert_authority),
		T(test_accept_new),
		T(test_robust),
		T(test_pin),
		T(test_no_key),
		T(test_describe),
		T(test_prefs),
	};

	/* accept-new logs a warning: keep it off the test output. */
	log_init(LOG_LEVEL_ERROR, 0);
	return (cmocka_run_group_tests(tests, group_setup, NULL));
}
