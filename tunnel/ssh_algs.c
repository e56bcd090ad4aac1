/*
 * ssh_algs.c: which algorithms a session offers.  The preference lists,
 * filtered to what the linked libssh2 supports (so one configuration
 * works with libssh2 1.10 and 1.11); the load-time check of a bastion's
 * `ciphers` and `host_key_algorithms`; and, when a key exchange fails,
 * the bastion's own cipher or host key list read from its KEXINIT, so
 * that the log can name both lists (and ssh-rsa, SHA-1, when that is
 * what stood in the way).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ssh_int.h"

/*
 * The default cipher order, from the figures in README.md ("SSH bastions
 * and developer tunnels"), with chacha20-poly1305 ahead of the cheaper
 * AES-GCM because libssh2 1.11.1 leaks 96 bytes per key exchange with
 * GCM: see DESIGN.md, "SSH tunnel".
 */
#define SSH_CIPHERS_DEFAULT	"chacha20-poly1305@openssh.com," \
	"aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
	"aes128-ctr,aes256-ctr,aes192-ctr"

/* SSH_MSG_KEXINIT (RFC 4253, 7.1). */
#define SSH_MSG_KEXINIT		20

/* Is name in the comma-separated list (len bytes)? */
static int
ssh_algs_in(const char *list, size_t len, const char *name, size_t nlen)
{
	const char	*p = list, *end = list + len, *c;

	while (p < end) {
		c = memchr(p, ',', (size_t)(end - p));
		if (c == NULL)
			c = end;
		if ((size_t)(c - p) == nlen && memcmp(p, name, nlen) == 0)
			return (1);
		p = c + 1;
	}
	return (0);
}

/* The methods of a type this libssh2 has, comma-separated, into out. */
static int
ssh_algs_supported(LIBSSH2_SESSION *sess, int type, char *out, size_t len)
{
	const char	**algs = NULL;
	int		  n, i;
	size_t		  used = 0;

	out[0] = '\0';
	if ((n = libssh2_session_supported_algs(sess, type, &algs)) <= 0)
		return (-1);
	for (i = 0; i < n && used + strlen(algs[i]) + 2 < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
		    used > 0 ? "," : "", algs[i]);
	libssh2_free(sess, algs);
	return (0);
}

int
ssh_algs_filter(LIBSSH2_SESSION *sess, int type, const char *wanted,
    char *out, size_t len)
{
	char		 have[1024];
	const char	*m, *c;
	size_t		 used = 0, l;

	out[0] = '\0';
	if (ssh_algs_supported(sess, type, have, sizeof(have)) != 0)
		return (-1);
	for (m = wanted; *m != '\0'; m = *c != '\0' ? c + 1 : c) {
		c = m + strcspn(m, ",");
		l = (size_t)(c - m);
		if (l > 0 && ssh_algs_in(have, strlen(have), m, l) &&
		    used + l + 2 < len)
			used += (size_t)snprintf(out + used, len - used,
			    "%s%.*s", used > 0 ? "," : "", (int)l, m);
	}
	return (out[0] != '\0' ? 0 : -1);
}

const char *
ssh_algs_ciphers(const struct ssh_settings *s)
{
	return (s->ciphers != NULL ? s->ciphers : SSH_CIPHERS_DEFAULT);
}

/*
 * One bastion's list of a method type (key: its name in errors) against
 * the library's, errors into errs.
 */
static void
ssh_algs_check_one(LIBSSH2_SESSION *sess, const char *file, int line,
    const struct conf_bastion *cb, int type, const char *key,
    const char *list, struct conf_errors *errs)
{
	char		 have[1024];
	const char	*m, *c;
	size_t		 l;

	if (ssh_algs_supported(sess, type, have, sizeof(have)) != 0) {
		conf_errors_add(errs, file, line, "[bastion %s]: %s: "
		    "libssh2 does not list its methods", cb->name, key);
		return;
	}
	for (m = list; *m != '\0'; m = *c != '\0' ? c + 1 : c) {
		c = m + strcspn(m, ",");
		l = (size_t)(c - m);
		if (!ssh_algs_in(have, strlen(have), m, l))
			conf_errors_add(errs, file, line, "[bastion %s]: "
			    "%s: this libssh2 (%s) does not support "
			    "'%.*s'; it supports %s", cb->name, key,
			    libssh2_version(0), (int)l, m, have);
	}
}

int
ssh_algs_check(const struct conf *c, struct conf_errors *errs)
{
	LIBSSH2_SESSION	*sess = NULL;
	const char	*file = c->path != NULL ? c->path : "-o";
	size_t		 i, before = errs->n;

	for (i = 0; i < c->nbastions; i++) {
		if (c->bastions[i].ciphers == NULL &&
		    c->bastions[i].host_key_algorithms == NULL)
			continue;
		/* The supported lists hang off a session: a bare one. */
		if (sess == NULL && (sess = libssh2_session_init()) == NULL) {
			conf_errors_add(errs, file, 0, "cannot create an SSH "
			    "session (out of memory)");
			return (-1);
		}
		if (c->bastions[i].ciphers != NULL)
			ssh_algs_check_one(sess, file, c->path != NULL ?
			    c->bastions[i].ciphers_line : 0, &c->bastions[i],
			    LIBSSH2_METHOD_CRYPT_CS, "ciphers",
			    c->bastions[i].ciphers, errs);
		if (c->bastions[i].host_key_algorithms != NULL)
			ssh_algs_check_one(sess, file, c->path != NULL ?
			    c->bastions[i].host_key_algorithms_line : 0,
			    &c->bastions[i], LIBSSH2_METHOD_HOSTKEY,
			    "host_key_algorithms",
			    c->bastions[i].host_key_algorithms, errs);
	}
	if (sess != NULL)
		libssh2_session_free(sess);
	return (errs->n == before ? 0 : -1);
}

/* ------------------------------------------------------------------ */
/* The bastion's KEXINIT, kept from the bytes received until it is read. */

int
ssh_algs_hello_start(struct ssh_bastion *b)
{
	b->io.hello_len = 0;
	if (b->io.hello == NULL && (b->io.hello = malloc(SSH_HELLO_MAX)) ==
	    NULL)
		return (-1);
	return (0);
}

void
ssh_algs_hello_add(struct ssh_bastion *b, const void *buf, size_t n)
{
	if (b->io.hello == NULL || b->io.hello_len >= SSH_HELLO_MAX)
		return;
	if (n > SSH_HELLO_MAX - b->io.hello_len)
		n = SSH_HELLO_MAX - b->io.hello_len;
	memcpy(b->io.hello + b->io.hello_len, buf, n);
	b->io.hello_len += n;
}

void
ssh_algs_hello_end(struct ssh_bastion *b)
{
	free(b->io.hello);
	b->io.hello = NULL;
	b->io.hello_len = 0;
}

static uint32_t
ssh_algs_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/*
 * One of the server's lists from its KEXINIT (0: kex, 1: host key, 2:
 * client-to-server ciphers): after the banner line, the first packet,
 * unencrypted (RFC 4253, 4.2 and 7.1).  *list points into the kept
 * bytes; 0, or -1 when they do not hold it.
 */
static int
ssh_algs_server_list(const struct ssh_bastion *b, int which,
    const char **list, size_t *len)
{
	const unsigned char	*p = b->io.hello, *end, *nl;
	uint32_t		 plen, l;
	int			 i;

	if (p == NULL)
		return (-1);
	end = p + b->io.hello_len;
	/* Lines before the banner are allowed; the banner starts "SSH-". */
	for (;;) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return (-1);
		if (end - p >= 4 && memcmp(p, "SSH-", 4) == 0) {
			p = nl + 1;
			break;
		}
		p = nl + 1;
	}
	if (end - p < 6 + 16)
		return (-1);
	plen = ssh_algs_u32(p);
	if (p[5] != SSH_MSG_KEXINIT)
		return (-1);
	if (plen < (uint32_t)(end - p - 4))
		end = p + 4 + plen;
	p += 6 + 16;		/* length, padding length, type, cookie */
	/* kex, host key, then encryption client to server. */
	for (i = 0; i <= which; i++) {
		if (end - p < 4 || (l = ssh_algs_u32(p)) > (uint32_t)(end -
		    p - 4))
			return (-1);
		*list = (const char *)p + 4;
		*len = l;
		p += 4 + l;
	}
	return (0);
}

/* Does any name of ours appear in theirs (tlen bytes)? */
static int
ssh_algs_common(const char *ours, const char *theirs, size_t tlen)
{
	const char	*m, *c;

	for (m = ours; *m != '\0'; m = *c != '\0' ? c + 1 : c) {
		c = m + strcspn(m, ",");
		if (ssh_algs_in(theirs, tlen, m, (size_t)(c - m)))
			return (1);
	}
	return (0);
}

/*
 * No host key algorithm in common.  The usual cause: a bastion that signs
 * with ssh-rsa (SHA-1) only, refused by default as OpenSSH 8.8 does; say
 * so by name, and what would do instead.  NULL when that is not it.
 */
static const char *
ssh_algs_explain_hostkey(struct ssh_bastion *b, const char *what)
{
	char		 ours[512], prefs[512];
	const char	*theirs;
	size_t		 tlen;
	int		 sha1;

	if (ssh_algs_filter(b->sess, LIBSSH2_METHOD_HOSTKEY, ssh_hostkey_prefs(
	    b, prefs, sizeof(prefs)), ours, sizeof(ours)) != 0)
		ours[0] = '\0';
	if (ssh_algs_server_list(b, 1, &theirs, &tlen) != 0 ||
	    ssh_algs_common(ours, theirs, tlen))
		return (NULL);
	sha1 = ssh_algs_in(theirs, tlen, "ssh-rsa", 7);
	snprintf(b->last_error, sizeof(b->last_error), "%s: host key "
	    "negotiation failed: the bastion offers %.*s, we accept %s%s%s",
	    what, (int)(tlen > 300 ? 300 : tlen), theirs, ours,
	    b->set.hostkey_algs != NULL ? " (host_key_algorithms)" : "",
	    sha1 && !ssh_algs_in(ours, strlen(ours), "ssh-rsa", 7) ?
	    ": ssh-rsa signs with SHA-1, refused by default as OpenSSH 8.8 "
	    "and later do; give the bastion an ed25519 or ecdsa host key "
	    "(or rsa-sha2-256 with libssh2 1.11), or accept SHA-1 with "
	    "host_key_algorithms = ...,ssh-rsa" : "");
	return (b->last_error);
}

const char *
ssh_algs_explain(struct ssh_bastion *b, const char *what, int rc)
{
	char		 ours[512];
	const char	*theirs, *hk;
	size_t		 tlen;

	if (rc == LIBSSH2_ERROR_KEX_FAILURE &&
	    (hk = ssh_algs_explain_hostkey(b, what)) != NULL)
		return (hk);
	if (rc != LIBSSH2_ERROR_KEX_FAILURE || ssh_algs_filter(b->sess,
	    LIBSSH2_METHOD_CRYPT_CS, ssh_algs_ciphers(&b->set), ours,
	    sizeof(ours)) != 0 || ssh_algs_server_list(b, 2, &theirs,
	    &tlen) != 0)
		return (ssh_error(b, what, rc));
	if (ssh_algs_common(ours, theirs, tlen))
		return (ssh_error(b, what, rc));
	snprintf(b->last_error, sizeof(b->last_error), "%s: cipher "
	    "negotiation failed: no cipher in common: we offer %s%s, the "
	    "bastion accepts %.*s", what, ours, b->set.ciphers != NULL ?
	    " (ciphers)" : "", (int)(tlen > 400 ? 400 : tlen), theirs);
	return (b->last_error);
}
