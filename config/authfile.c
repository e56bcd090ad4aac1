/*
 * authfile.c: the auth_file parser (authfile.h).  Input is a file an
 * operator wrote: every error names its line, and none quotes a secret.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "authfile.h"

#define AUTHFILE_MAX_FIELD	4096
#define AUTHFILE_MAX_ENTRIES	65536

static void
authfile_wipe_str(char *p)
{
	if (p != NULL) {
		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
}

void
authfile_free(struct authfile *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->v[i].user);
		authfile_wipe_str(a->v[i].secret);
	}
	if (a->v != NULL)
		OPENSSL_cleanse(a->v, a->n * sizeof(*a->v));
	free(a->v);
	free(a);
}

const char *
authfile_kind_name(enum authfile_kind k)
{
	switch (k) {
	case AUTHFILE_MD5:
		return ("md5");
	case AUTHFILE_SCRAM:
		return ("SCRAM-SHA-256");
	case AUTHFILE_PLAIN:
		break;
	}
	return ("password");
}

const struct authfile_entry *
authfile_find(const struct authfile *a, const char *user)
{
	size_t	i;

	if (a == NULL || user == NULL)
		return (NULL);
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].user, user) == 0)
			return (&a->v[i]);
	return (NULL);
}

/* Strict base64 of exactly n chars into out (max); length or -1. */
static int
authfile_unb64(const char *in, size_t n, unsigned char *out, size_t max)
{
	static const char	 alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char		 tmp[AUTHFILE_SALT_MAX + 4];
	size_t			 i, pad = 0;
	int			 len;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(tmp))
		return (-1);
	for (i = 0; i < n; i++) {
		if (in[i] == '=' && i >= n - 2)
			pad++;
		else if (in[i] == '\0' || strchr(alphabet, in[i]) == NULL ||
		    pad > 0)
			return (-1);
	}
	len = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
	if (len < 0 || (size_t)len < pad || (size_t)len - pad > max) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return (-1);
	}
	len -= (int)pad;
	memcpy(out, tmp, (size_t)len);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return (len);
}

/* SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey> into e. */
static int
authfile_scram(struct authfile_entry *e, const char *s, const char **why)
{
	const char	*colon, *dollar, *colon2;
	char		*end;
	long		 it;
	int		 n;

	s += strlen("SCRAM-SHA-256$");
	if ((colon = strchr(s, ':')) == NULL ||
	    (dollar = strchr(colon, '$')) == NULL ||
	    (colon2 = strchr(dollar, ':')) == NULL) {
		*why = "a SCRAM secret is SCRAM-SHA-256$<iterations>:<salt>$"
		    "<StoredKey>:<ServerKey>";
		return (-1);
	}
	if (*s < '1' || *s > '9' || colon - s > 9 ||
	    (it = strtol(s, &end, 10)) <= 0 || end != colon) {
		*why = "the SCRAM iteration count is not a positive number";
		return (-1);
	}
	e->iterations = (int)it;
	n = authfile_unb64(colon + 1, (size_t)(dollar - colon - 1), e->salt,
	    sizeof(e->salt));
	if (n <= 0) {
		*why = "the SCRAM salt is not base64 (at most 64 bytes)";
		return (-1);
	}
	e->salt_len = (size_t)n;
	if (authfile_unb64(dollar + 1, (size_t)(colon2 - dollar - 1),
	    e->stored_key, AUTHFILE_KEY_LEN) != AUTHFILE_KEY_LEN ||
	    authfile_unb64(colon2 + 1, strlen(colon2 + 1), e->server_key,
	    AUTHFILE_KEY_LEN) != AUTHFILE_KEY_LEN) {
		*why = "a SCRAM key is not 32 bytes in base64";
		return (-1);
	}
	e->kind = AUTHFILE_SCRAM;
	return (0);
}

/* What kind of secret s is; -1 with *why for a malformed one. */
static int
authfile_secret(struct authfile_entry *e, const char *s, const char **why)
{
	size_t	i;

	if (strncmp(s, "SCRAM-SHA-256$", 14) == 0)
		return (authfile_scram(e, s, why));
	e->kind = AUTHFILE_PLAIN;
	if (strlen(s) == 35 && strncmp(s, "md5", 3) == 0) {
		for (i = 3; i < 35; i++)
			if (strchr("0123456789abcdef", s[i]) == NULL)
				break;
		if (i == 35)
			e->kind = AUTHFILE_MD5;
	}
	if (*s == '\0') {
		*why = "the secret is empty";
		return (-1);
	}
	return (0);
}

/*
 * A quoted field at *pp (a '"' inside written '""') into out (max);
 * advances *pp past it.  -1 when malformed.
 */
static int
authfile_field(const char **pp, const char *end, char *out, size_t max)
{
	const char	*p = *pp;
	size_t		 n = 0;

	if (p >= end || *p != '"')
		return (-1);
	for (p++; p < end; p++) {
		if (*p == '"') {
			if (p + 1 < end && p[1] == '"')
				p++;
			else
				break;
		} else if (*p == '\0')
			return (-1);
		if (n + 1 >= max)
			return (-1);
		out[n++] = *p;
	}
	if (p >= end)
		return (-1);
	out[n] = '\0';
	*pp = p + 1;
	return (0);
}

/* One line (without its newline): 0, 1 when it holds an entry, -1. */
static int
authfile_line(const char *p, const char *end, struct authfile_entry *e,
    char *user, char *secret, const char **why)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == ';' || *p == '#')
		return (0);
	if (authfile_field(&p, end, user, AUTHFILE_MAX_FIELD) != 0) {
		*why = "expected \"user\" \"secret\" (a quoted user name)";
		return (-1);
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (authfile_field(&p, end, secret, AUTHFILE_MAX_FIELD) != 0) {
		*why = "expected \"user\" \"secret\" (a quoted secret after "
		    "the user)";
		return (-1);
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p != end) {
		*why = "text after the secret";
		return (-1);
	}
	if (*user == '\0') {
		*why = "the user name is empty";
		return (-1);
	}
	return (authfile_secret(e, secret, why) == 0 ? 1 : -1);
}

int
authfile_parse(const char *buf, size_t len, struct authfile **out,
    char *err, size_t errlen)
{
	struct authfile		*a;
	struct authfile_entry	 e, *v;
	const char		*p = buf, *end = buf + len, *nl, *why = NULL;
	char			*user = NULL, *secret = NULL;
	size_t			 cap = 0;
	int			 line = 0, rc;

	*out = NULL;
	if (len > AUTHFILE_MAX_SIZE) {
		snprintf(err, errlen, "larger than %d bytes",
		    AUTHFILE_MAX_SIZE);
		return (-1);
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (user = malloc(AUTHFILE_MAX_FIELD)) == NULL ||
	    (secret = malloc(AUTHFILE_MAX_FIELD)) == NULL)
		goto oom;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		memset(&e, 0, sizeof(e));
		rc = authfile_line(p, nl > p && nl[-1] == '\r' ? nl - 1 : nl,
		    &e, user, secret, &why);
		if (rc < 0)
			goto bad;
		if (rc == 0)
			continue;
		if (authfile_find(a, user) != NULL) {
			why = "this user has an entry already";
			goto bad;
		}
		if (a->n == AUTHFILE_MAX_ENTRIES) {
			why = "too many entries";
			goto bad;
		}
		if (a->n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((v = calloc(cap, sizeof(*v))) == NULL)
				goto oom;
			if (a->n > 0) {
				memcpy(v, a->v, a->n * sizeof(*v));
				OPENSSL_cleanse(a->v, a->n * sizeof(*v));
			}
			free(a->v);
			a->v = v;
		}
		if ((e.user = strdup(user)) == NULL ||
		    (e.secret = strdup(secret)) == NULL) {
			free(e.user);
			goto oom;
		}
		a->v[a->n++] = e;
		OPENSSL_cleanse(&e, sizeof(e));
		if (nl == end)
			break;
	}
	rc = 0;
	*out = a;
	a = NULL;
	goto out;
bad:
	snprintf(err, errlen, "line %d: %s", line, why);
	rc = -1;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
	rc = -1;
out:
	OPENSSL_cleanse(&e, sizeof(e));
	if (user != NULL)
		OPENSSL_cleanse(user, AUTHFILE_MAX_FIELD);
	if (secret != NULL)
		OPENSSL_cleanse(secret, AUTHFILE_MAX_FIELD);
	free(user);
	free(secret);
	authfile_free(a);
	return (rc);
}
