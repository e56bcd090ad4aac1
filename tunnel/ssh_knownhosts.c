/*
 * ssh_knownhosts.c: is this the bastion we mean?  The server's host key
 * is checked against a pinned SHA-256 fingerprint or an OpenSSH
 * known_hosts file, with OpenSSH's rules: plain and hashed ("|1|salt|hash")
 * host names, wildcard and negated patterns, "[host]:port" for ports other
 * than 22, @revoked lines; a host under an @cert-authority line is refused
 * unless its own key is listed (libssh2 cannot check certificates).  An
 * unknown key is refused (or, under
 * accept-new, appended to the file; under ask, shown at the terminal and
 * appended if the user says yes); a changed key is always refused.
 *
 * The file is read here rather than with libssh2_knownhost_readfile():
 * libssh2 stops at the first line it cannot parse (a key type it does not
 * know, a @cert-authority line), silently ignoring the rest of the file,
 * and its checkp() also matches a plain "host" entry for a non-default
 * port, which OpenSSH does not.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "log.h"
#include "ssh_config.h"
#include "ssh_int.h"

#define KH_MAXKEY	4096	/* decoded public key blob */
#define KH_MAXTYPES	8
#define KH_NAMELEN	300	/* "[host]:port" */

/* What the file says about one host and one key. */
struct kh_scan {
	const char		*name;		/* "host" or "[host]:port" */
	const unsigned char	*key;		/* the server's blob, or NULL */
	size_t			 keylen;
	char			 type[64];	/* its type */
	int			 match;		/* line of an equal key */
	int			 revoked;	/* line revoking it */
	int			 changed;	/* line: same type, other key */
	char			 changed_fp[64];
	char			 types[KH_MAXTYPES][64];	/* host's types */
	int			 ntypes;
	int			 lines;		/* host lines seen */
	int			 ca;		/* @cert-authority */
};

static int
kh_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t max)
{
	int	n, pad = 0;

	if (inlen == 0 || inlen % 4 != 0 || inlen / 4 * 3 > max)
		return (-1);
	if ((n = EVP_DecodeBlock(out, (const unsigned char *)in,
	    (int)inlen)) < 0)
		return (-1);
	if (in[inlen - 1] == '=')
		pad++;
	if (inlen > 1 && in[inlen - 2] == '=')
		pad++;
	return (n - pad);
}

static void
kh_b64_encode(const unsigned char *in, size_t len, char *out, size_t max,
    int pad)
{
	char	tmp[KH_MAXKEY * 2];
	size_t	n;

	if (len > KH_MAXKEY || max == 0) {
		if (max > 0)
			out[0] = '\0';
		return;
	}
	n = (size_t)EVP_EncodeBlock((unsigned char *)tmp, in, (int)len);
	while (!pad && n > 0 && tmp[n - 1] == '=')
		n--;
	tmp[n] = '\0';
	snprintf(out, max, "%s", tmp);
}

const char *
ssh_fingerprint(const unsigned char *blob, size_t len, char *buf,
    size_t buflen)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	char		b64[64];

	SHA256(blob, len, md);
	kh_b64_encode(md, sizeof(md), b64, sizeof(b64), 0);
	snprintf(buf, buflen, "SHA256:%.56s", b64);
	return (buf);
}

/* The key type: the blob's first string. */
static const char *
kh_blob_type(const unsigned char *blob, size_t len, char *buf, size_t buflen)
{
	size_t	n;

	if (len < 4)
		return ("unknown");
	n = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
	    (size_t)blob[2] << 8 | blob[3];
	if (n == 0 || n > len - 4 || n >= buflen)
		return ("unknown");
	memcpy(buf, blob + 4, n);
	buf[n] = '\0';
	return (buf);
}

const char *
ssh_key_describe(const unsigned char *blob, size_t len, char *buf,
    size_t buflen)
{
	char	type[64], fp[64];

	snprintf(buf, buflen, "%s %s", kh_blob_type(blob, len, type,
	    sizeof(type)), ssh_fingerprint(blob, len, fp, sizeof(fp)));
	return (buf);
}

/* "|1|salt|hash": HMAC-SHA1 of the name under the salt. */
static int
kh_hashed_match(const char *entry, const char *name)
{
	unsigned char	 salt[64], want[64], got[EVP_MAX_MD_SIZE];
	unsigned int	 gotlen = 0;
	const char	*s = entry + 3, *bar;
	int		 saltlen, wantlen;

	if ((bar = strchr(s, '|')) == NULL)
		return (0);
	saltlen = kh_b64_decode(s, (size_t)(bar - s), salt, sizeof(salt));
	wantlen = kh_b64_decode(bar + 1, strlen(bar + 1), want, sizeof(want));
	if (saltlen <= 0 || wantlen != SHA_DIGEST_LENGTH)
		return (0);
	if (HMAC(EVP_sha1(), salt, saltlen, (const unsigned char *)name,
	    strlen(name), got, &gotlen) == NULL || gotlen != SHA_DIGEST_LENGTH)
		return (0);
	return (memcmp(got, want, SHA_DIGEST_LENGTH) == 0);
}

/* Does the pattern list match name?  A negated match wins. */
static int
kh_host_match(char *patterns, const char *name)
{
	if (strncmp(patterns, "|1|", 3) == 0)
		return (kh_hashed_match(patterns, name));
	return (ssh_config_match_list(patterns, ",", name));
}

static void
kh_add_type(struct kh_scan *ks, const char *type)
{
	int	i;

	for (i = 0; i < ks->ntypes; i++) {
		if (strcmp(ks->types[i], type) == 0)
			return;
	}
	if (ks->ntypes < KH_MAXTYPES)
		snprintf(ks->types[ks->ntypes++], sizeof(ks->types[0]), "%s",
		    type);
}

static void
kh_line(struct kh_scan *ks, char *line, int lineno)
{
	unsigned char	 blob[KH_MAXKEY];
	char		*f[4], *save = NULL, *hosts, *type, *key;
	int		 n = 0, revoked = 0, len;

	line[strcspn(line, "\r\n")] = '\0';
	for (n = 0; n < 4 && (f[n] = strtok_r(n == 0 ? line : NULL, " \t",
	    &save)) != NULL; n++)
		;
	if (n == 0 || f[0][0] == '#')
		return;
	if (f[0][0] == '@') {
		/*
		 * @cert-authority: the host proves itself with a certificate,
		 * which libssh2 cannot check; noted, so that such a host is
		 * refused rather than trusted on first use.
		 */
		if (strcmp(f[0], "@cert-authority") == 0 && n >= 4 &&
		    ks->ca == 0 && kh_host_match(f[1], ks->name))
			ks->ca = lineno;
		if (strcmp(f[0], "@revoked") != 0 || n < 4)
			return;
		revoked = 1;
		hosts = f[1], type = f[2], key = f[3];
	} else {
		if (n < 3)
			return;
		hosts = f[0], type = f[1], key = f[2];
	}
	if (!kh_host_match(hosts, ks->name))
		return;
	if (!revoked) {
		/* "@revoked * ..." must not make every host known. */
		ks->lines++;
		kh_add_type(ks, type);
	}
	if (ks->key == NULL || strcmp(type, ks->type) != 0)
		return;
	len = kh_b64_decode(key, strlen(key), blob, sizeof(blob));
	if (len == (int)ks->keylen && memcmp(blob, ks->key, ks->keylen) == 0) {
		if (revoked)
			ks->revoked = lineno;
		else if (ks->match == 0)
			ks->match = lineno;
	} else if (!revoked && len > 0 && ks->changed == 0) {
		ks->changed = lineno;
		ssh_fingerprint(blob, (size_t)len, ks->changed_fp,
		    sizeof(ks->changed_fp));
	}
}

/* Read the file; -1 with errno when it cannot be opened. */
static int
kh_scan_file(const char *path, struct kh_scan *ks)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 cap = 0;
	int	 lineno = 0;

	if ((fp = fopen(path, "re")) == NULL)
		return (-1);
	while (getline(&line, &cap, fp) != -1)
		kh_line(ks, line, ++lineno);
	free(line);
	fclose(fp);
	return (0);
}

/*
 * OpenSSH's name for the host: "host" on port 22, else "[host]:port",
 * lowercased as ssh(1) does: hashed entries are HMACs of that form.
 */
static const char *
kh_name(const struct ssh_bastion *b, char *buf, size_t len)
{
	char	*p;

	if (b->set.port == 22)
		snprintf(buf, len, "%s", b->set.host);
	else
		snprintf(buf, len, "[%s]:%u", b->set.host, b->set.port);
	for (p = buf; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return (buf);
}

/*
 * OpenSSH's order without ssh-rsa: RSA keys with SHA-1 signatures, which
 * OpenSSH refuses by default since 8.8 (a chosen-prefix collision costs
 * tens of thousands of dollars).  host_key_algorithms may add it back.
 * libssh2 1.10 has no rsa-sha2-* host keys (1.11 has): filtered later.
 */
#define KH_DEFAULT_ALGS	"ssh-ed25519,ecdsa-sha2-nistp256," \
	"ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"

const char *
ssh_hostkey_allowed(const struct ssh_settings *s)
{
	return (s->hostkey_algs != NULL ? s->hostkey_algs : KH_DEFAULT_ALGS);
}

/* Is name (len bytes) in the comma-separated list? */
static int
kh_listed(const char *list, const char *name, size_t len)
{
	const char	*c;

	for (; *list != '\0'; list = *c != '\0' ? c + 1 : c) {
		c = list + strcspn(list, ",");
		if ((size_t)(c - list) == len && strncmp(list, name, len) == 0)
			return (1);
	}
	return (0);
}

static void
kh_append(char *buf, size_t len, const char *m)
{
	size_t	n = strlen(buf), l = strlen(m);
	char	*p = buf;

	/* Already listed? */
	while ((p = strstr(p, m)) != NULL) {
		if ((p == buf || p[-1] == ',') && (p[l] == ',' || p[l] == '\0'))
			return;
		p += l;
	}
	snprintf(buf + n, len - n, "%s%s", n > 0 ? "," : "", m);
}

const char *
ssh_hostkey_prefs(const struct ssh_bastion *b, char *buf, size_t len)
{
	static const char *const rsa[] = {
		"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", NULL
	};
	struct kh_scan	 ks;
	char		 name[KH_NAMELEN], one[64];
	const char	*allowed = ssh_hostkey_allowed(&b->set), *m, *c;
	int		 i, j;

	buf[0] = '\0';
	memset(&ks, 0, sizeof(ks));
	ks.name = kh_name(b, name, sizeof(name));
	if (b->set.pin == NULL)
		kh_scan_file(b->set.known_hosts, &ks);
	for (i = 0; i < ks.ntypes; i++) {
		/* An RSA key: its SHA-2 signatures first. */
		for (j = 0; strcmp(ks.types[i], "ssh-rsa") == 0 &&
		    rsa[j] != NULL; j++) {
			if (kh_listed(allowed, rsa[j], strlen(rsa[j])))
				kh_append(buf, len, rsa[j]);
		}
		if (strcmp(ks.types[i], "ssh-rsa") != 0 && kh_listed(allowed,
		    ks.types[i], strlen(ks.types[i])))
			kh_append(buf, len, ks.types[i]);
	}
	for (m = allowed; *m != '\0'; m = *c != '\0' ? c + 1 : c) {
		c = m + strcspn(m, ",");
		if ((size_t)(c - m) < sizeof(one)) {
			snprintf(one, sizeof(one), "%.*s", (int)(c - m), m);
			kh_append(buf, len, one);
		}
	}
	return (buf);
}

/* accept-new: append "name type base64" to the file (made if missing). */
static int
kh_add(struct ssh_bastion *b, const char *name, const char *type,
    const unsigned char *key, size_t keylen)
{
	char	 line[KH_MAXKEY * 2], b64[KH_MAXKEY * 2], *dir, *copy;
	int	 fd, n, rc = -1;

	if ((copy = strdup(b->set.known_hosts)) == NULL)
		return (-1);
	dir = dirname(copy);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		log_debug("%s: mkdir %s: %s", b->label, dir, strerror(errno));
	free(copy);
	kh_b64_encode(key, keylen, b64, sizeof(b64), 1);
	n = snprintf(line, sizeof(line), "%s %s %s\n", name, type, b64);
	fd = open(b->set.known_hosts, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600);
	if (fd != -1 && write(fd, line, (size_t)n) == n)
		rc = 0;
	else
		snprintf(b->last_error, sizeof(b->last_error), "host key "
		    "verification failed: cannot add the %s key %s of %s to "
		    "%s: %s", type, b->fingerprint, name, b->set.known_hosts,
		    strerror(errno));
	if (fd != -1)
		close(fd);
	return (rc);
}

#define KH_FAIL(...) \
	snprintf(b->last_error, sizeof(b->last_error), __VA_ARGS__)

/* Does the directory of path exist? */
static int
kh_dir_exists(const char *path)
{
	struct stat	 st;
	char		*copy;
	int		 rc;

	if ((copy = strdup(path)) == NULL)
		return (1);
	rc = stat(dirname(copy), &st) == 0 && S_ISDIR(st.st_mode);
	free(copy);
	return (rc);
}

int
ssh_hostkey_verify(struct ssh_bastion *b)
{
	const unsigned char	*key;
	struct kh_scan		 ks;
	size_t			 keylen = 0;
	char			 name[KH_NAMELEN], types[KH_MAXTYPES * 66];
	int			 type, i, missing;

	key = (const unsigned char *)libssh2_session_hostkey(b->sess, &keylen,
	    &type);
	if (key == NULL || keylen == 0) {
		KH_FAIL("host key verification failed: the server sent no "
		    "host key");
		return (-1);
	}
	memset(&ks, 0, sizeof(ks));
	kh_blob_type(key, keylen, ks.type, sizeof(ks.type));
	ssh_fingerprint(key, keylen, b->fingerprint, sizeof(b->fingerprint));
	snprintf(b->hostkey, sizeof(b->hostkey), "%s %s", ks.type,
	    b->fingerprint);
	if (b->set.pin != NULL) {
		if (strcmp(b->fingerprint, b->set.pin) == 0)
			return (0);
		KH_FAIL("host key verification failed: the %s key %s of %s "
		    "does not match the pinned host_key_sha256 %s", ks.type,
		    b->fingerprint, b->set.host, b->set.pin);
		return (-1);
	}
	ks.name = kh_name(b, name, sizeof(name));
	ks.key = key;
	ks.keylen = keylen;
	missing = kh_scan_file(b->set.known_hosts, &ks) == -1;
	if (ks.revoked) {
		KH_FAIL("host key verification failed: the %s key %s of %s is "
		    "marked @revoked in %s line %d", ks.type, b->fingerprint,
		    name, b->set.known_hosts, ks.revoked);
		return (-1);
	}
	if (ks.match)
		return (0);
	if (ks.changed) {
		KH_FAIL("host key verification failed: the %s key %s of %s "
		    "does not match %s line %d (which has %s): the host key "
		    "changed, or someone is intercepting the connection",
		    ks.type, b->fingerprint, name, b->set.known_hosts,
		    ks.changed, ks.changed_fp);
		/* OpenSSH's help: the command that removes the old key. */
		snprintf(b->hint, sizeof(b->hint), "if the change is "
		    "expected, remove the old key with: ssh-keygen -f '%s' "
		    "-R '%s'", b->set.known_hosts, name);
		return (-1);
	}
	if (ks.ca) {
		KH_FAIL("host key verification failed: %s line %d says "
		    "@cert-authority for %s, and libssh2 cannot verify host "
		    "certificates: its %s key %s is not trusted on first use; "
		    "add the host's own key (ssh-keyscan) or pin "
		    "host_key_sha256", b->set.known_hosts, ks.ca, name,
		    ks.type, b->fingerprint);
		return (-1);
	}
	if (ks.lines > 0) {
		types[0] = '\0';
		for (i = 0; i < ks.ntypes; i++)
			kh_append(types, sizeof(types), ks.types[i]);
		KH_FAIL("host key verification failed: the %s key %s of %s is "
		    "unknown: %s has only %s keys for it", ks.type,
		    b->fingerprint, name, b->set.known_hosts, types);
		/* Its RSA key could not be asked for: say why. */
		if (kh_listed(types, "ssh-rsa", 7) && !kh_listed(
		    ssh_hostkey_allowed(&b->set), "ssh-rsa", 7))
			snprintf(b->hint, sizeof(b->hint), "an ssh-rsa key "
			    "needs rsa-sha2-256/512 signatures (libssh2 "
			    "1.11) or ssh-rsa, SHA-1, in host_key_algorithms; "
			    "or add the bastion's %s key", ks.type);
		return (-1);
	}
	if (b->set.accept_new) {
		if (kh_add(b, name, ks.type, key, keylen) != 0)
			return (-1);
		log_warnx("%s: accepted the new %s key %s of %s into %s "
		    "(strict_host_key_checking = accept-new)", b->label,
		    ks.type, b->fingerprint, name, b->set.known_hosts);
		return (0);
	}
	if (b->set.ask) {
		switch (ssh_prompt_hostkey(name, ks.type, b->fingerprint,
		    b->set.known_hosts)) {
		case 1:
			if (kh_add(b, name, ks.type, key, keylen) != 0)
				return (-1);
			log_warnx("%s: added the %s key %s of %s to %s (accepted "
			    "at the prompt)", b->label, ks.type, b->fingerprint,
			    name, b->set.known_hosts);
			return (0);
		case 0:
			KH_FAIL("host key verification failed: the %s key %s of "
			    "%s is unknown: not accepted at the prompt", ks.type,
			    b->fingerprint, name);
			b->refused = 1;
			return (-1);
		}
		/* No terminal: refused as under "yes". */
	}
	KH_FAIL("host key verification failed: the %s key %s of %s is "
	    "unknown: not in %s%s", ks.type, b->fingerprint, name,
	    b->set.known_hosts, missing ? " (no such file)" : "");
	if (missing && !kh_dir_exists(b->set.known_hosts))
		/* A service user's home, such as /nonexistent. */
		snprintf(b->hint, sizeof(b->hint), "its directory does not "
		    "exist: set known_hosts in [bastion %s] to a file this "
		    "user can read, such as /etc/postern/known_hosts, with the "
		    "key (ssh-keyscan) after checking its fingerprint",
		    b->set.name);
	else
		snprintf(b->hint, sizeof(b->hint), "check the fingerprint and "
		    "add the key (ssh-keyscan), or set strict_host_key_checking "
		    "= accept-new");
	return (-1);
}
