/*
 * pg_auth.c: PostgreSQL authentication requests and our answers.
 *
 * Like libpq, and stricter in three places: a cleartext password is sent
 * only inside TLS (libpq sends it anywhere unless told not to), an md5
 * hash only inside TLS unless check_allow_md5 says so (a man in the
 * middle can downgrade SCRAM to md5 and crack the hash), and a
 * SCRAM exchange must end with the server's proof before AuthenticationOk
 * is believed (libpq 13 and later; a server that skips it may be anyone).
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pg_auth.h"
#include "scram.h"

enum pg_auth_state {
	PG_AUTH_ST_START,
	PG_AUTH_ST_PASSWORD,	/* sent a password (md5 or cleartext) */
	PG_AUTH_ST_SASL_CONTINUE, /* sent SASLInitialResponse */
	PG_AUTH_ST_SASL_FINAL,	/* sent the client-final-message */
	PG_AUTH_ST_SASL_DONE,	/* the server proved itself */
	PG_AUTH_ST_END		/* OK or failed */
};

/* Authentication request codes (protocol.sgml, "Message Formats"). */
#define AUTH_OK			0
#define AUTH_KERBEROS		2
#define AUTH_CLEARTEXT		3
#define AUTH_MD5		5
#define AUTH_GSS		7
#define AUTH_GSS_CONTINUE	8
#define AUTH_SSPI		9
#define AUTH_SASL		10
#define AUTH_SASL_CONTINUE	11
#define AUTH_SASL_FINAL		12

struct pg_auth {
	enum pg_auth_state	 state;
	char			*user;
	char			*password;
	char			*md5_hash;	/* "md5" + 32 hex digits */
	struct scram_keys	*keys;
	int			 tls;
	int			 allow_md5;
	unsigned char		*cbind;
	size_t			 cbind_len;
	char			*nonce;
	int			 max_iterations;
	struct scram		*scram;
	const char		*method;
	unsigned char		*reply;
	size_t			 reply_len;
	char			 error[256];
};

static void
pg_auth_clear_reply(struct pg_auth *a)
{
	if (a->reply != NULL) {
		OPENSSL_cleanse(a->reply, a->reply_len);
		free(a->reply);
	}
	a->reply = NULL;
	a->reply_len = 0;
}

void
pg_auth_free(struct pg_auth *a)
{
	if (a == NULL)
		return;
	pg_auth_clear_reply(a);
	scram_free(a->scram);
	if (a->password != NULL) {
		OPENSSL_cleanse(a->password, strlen(a->password));
		free(a->password);
	}
	if (a->md5_hash != NULL) {
		OPENSSL_cleanse(a->md5_hash, strlen(a->md5_hash));
		free(a->md5_hash);
	}
	if (a->keys != NULL) {
		OPENSSL_cleanse(a->keys, sizeof(*a->keys));
		free(a->keys);
	}
	free(a->user);
	free(a->cbind);
	free(a->nonce);
	free(a);
}

struct pg_auth *
pg_auth_new(const struct pg_auth_params *pp)
{
	struct pg_auth	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return (NULL);
	a->tls = pp->tls;
	a->allow_md5 = pp->allow_md5;
	a->method = "trust";
	a->max_iterations = pp->max_iterations > 0 ? pp->max_iterations :
	    PG_AUTH_MAX_ITERATIONS;
	if ((a->user = strdup(pp->user)) == NULL ||
	    (pp->password != NULL &&
	    (a->password = strdup(pp->password)) == NULL) ||
	    (pp->md5_hash != NULL &&
	    (a->md5_hash = strdup(pp->md5_hash)) == NULL) ||
	    (pp->nonce != NULL && (a->nonce = strdup(pp->nonce)) == NULL))
		goto fail;
	if (pp->keys != NULL) {
		if ((a->keys = malloc(sizeof(*a->keys))) == NULL)
			goto fail;
		*a->keys = *pp->keys;	/* the salt stays the caller's */
	}
	if (pp->cbind_len > 0) {
		if ((a->cbind = malloc(pp->cbind_len)) == NULL)
			goto fail;
		memcpy(a->cbind, pp->cbind, pp->cbind_len);
		a->cbind_len = pp->cbind_len;
	}
	return (a);
fail:
	pg_auth_free(a);
	return (NULL);
}

const unsigned char *
pg_auth_reply(const struct pg_auth *a, size_t *len)
{
	*len = a->reply_len;
	return (a->reply);
}

const char *
pg_auth_error(const struct pg_auth *a)
{
	return (a->error);
}

const char *
pg_auth_method(const struct pg_auth *a)
{
	return (a->method);
}

static int
pg_auth_fail(struct pg_auth *a, const char *why)
{
	snprintf(a->error, sizeof(a->error), "%s", why);
	a->state = PG_AUTH_ST_END;
	return (PG_AUTH_FAIL);
}

/*
 * A 'p' message of up to two parts: part1 (with its NUL when nul1), then,
 * when part2 is not NULL, an Int32 length and part2 (SASLInitialResponse).
 */
static int
pg_auth_message(struct pg_auth *a, const void *part1, size_t n1, int nul1,
    const void *part2, size_t n2)
{
	size_t		len = 4 + n1 + (nul1 ? 1 : 0) +
	    (part2 != NULL ? 4 + n2 : 0);
	uint32_t	v;
	unsigned char	*p;

	pg_auth_clear_reply(a);
	if ((p = a->reply = malloc(1 + len)) == NULL)
		return (pg_auth_fail(a, "out of memory"));
	a->reply_len = 1 + len;
	*p++ = 'p';
	v = htonl((uint32_t)len);
	memcpy(p, &v, 4);
	p += 4;
	memcpy(p, part1, n1);
	p += n1;
	if (nul1)
		*p++ = '\0';
	if (part2 != NULL) {
		v = htonl((uint32_t)n2);
		memcpy(p, &v, 4);
		memcpy(p + 4, part2, n2);
	}
	return (PG_AUTH_MORE);
}

/* "md5" + md5hex(md5hex(password + user) + salt), as libpq computes it. */
static int
pg_auth_md5(struct pg_auth *a, const unsigned char *salt)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 d[EVP_MAX_MD_SIZE], buf[32 + 4];
	char			 out[3 + 32 + 1], inner[32];
	size_t			 i, pl = a->password != NULL ?
				     strlen(a->password) : 0;
	char			*pu;
	int			 ok, rc;

	if (a->password == NULL) {
		/* auth_file's md5 entry: md5hex(password + user) already. */
		memcpy(inner, a->md5_hash + 3, 32);
		ok = 1;
		goto outer;
	}
	if ((pu = malloc(pl + strlen(a->user) + 1)) == NULL)
		return (pg_auth_fail(a, "out of memory"));
	memcpy(pu, a->password, pl);
	memcpy(pu + pl, a->user, strlen(a->user) + 1);
	ok = EVP_Digest(pu, strlen(pu), d, NULL, EVP_md5(), NULL);
	OPENSSL_cleanse(pu, strlen(pu));
	free(pu);
	for (i = 0; i < 16; i++) {
		inner[2 * i] = hex[d[i] >> 4];
		inner[2 * i + 1] = hex[d[i] & 15];
	}
outer:
	memcpy(buf, inner, 32);
	memcpy(buf + 32, salt, 4);
	ok = ok && EVP_Digest(buf, sizeof(buf), d, NULL, EVP_md5(), NULL);
	memcpy(out, "md5", 3);
	for (i = 0; i < 16; i++) {
		out[3 + 2 * i] = hex[d[i] >> 4];
		out[3 + 2 * i + 1] = hex[d[i] & 15];
	}
	out[35] = '\0';
	rc = ok ? pg_auth_message(a, out, 35, 1, NULL, 0) :
	    pg_auth_fail(a, "md5 is not available in this OpenSSL (FIPS?)");
	OPENSSL_cleanse(d, sizeof(d));
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(out, sizeof(out));
	return (rc);
}

/* Choose from the server's mechanisms and send client-first-message. */
static int
pg_auth_sasl(struct pg_auth *a, const unsigned char *p, size_t n)
{
	struct scram_params	 sp;
	int			 plus = 0, plain = 0;
	size_t			 i, e;
	const char		*first, *mech;

	for (i = 0; i < n && p[i] != '\0'; i = e + 1) {
		if ((e = i + strnlen((const char *)p + i, n - i)) >= n)
			return (pg_auth_fail(a, "malformed SASL mechanism list"));
		if (strcmp((const char *)p + i, "SCRAM-SHA-256-PLUS") == 0)
			plus = 1;
		else if (strcmp((const char *)p + i, "SCRAM-SHA-256") == 0)
			plain = 1;
	}
	memset(&sp, 0, sizeof(sp));
	sp.user = "";		/* the StartupMessage named the user */
	sp.password = a->password;
	sp.keys = a->password == NULL ? a->keys : NULL;
	if (a->password == NULL && a->keys == NULL)
		return (pg_auth_fail(a, "the server asks for SCRAM; an md5 "
		    "secret cannot answer it"));
	sp.nonce = a->nonce;
	sp.max_iterations = a->max_iterations;
	if (a->tls && plus && a->cbind_len > 0) {
		sp.binding = SCRAM_BIND_USED;
		sp.cbind = a->cbind;
		sp.cbind_len = a->cbind_len;
		mech = "SCRAM-SHA-256-PLUS";
	} else if (plain) {
		/* "y": we could bind, the server offered no -PLUS. */
		sp.binding = a->tls && !plus ? SCRAM_BIND_UNUSED :
		    SCRAM_BIND_NONE;
		mech = "SCRAM-SHA-256";
	} else
		return (pg_auth_fail(a, "the server offers no SASL mechanism "
		    "we support (SCRAM-SHA-256)"));
	if ((a->scram = scram_new(&sp)) == NULL)
		return (pg_auth_fail(a, "SCRAM: out of memory or no "
		    "randomness"));
	a->method = mech;
	a->state = PG_AUTH_ST_SASL_CONTINUE;
	first = scram_client_first(a->scram);
	return (pg_auth_message(a, mech, strlen(mech), 1, first,
	    strlen(first)));
}

static int
pg_auth_sasl_continue(struct pg_auth *a, const unsigned char *p, size_t n)
{
	const char	*final;
	char		 err[200];

	if (a->state != PG_AUTH_ST_SASL_CONTINUE)
		return (pg_auth_fail(a, "unexpected SASLContinue"));
	if (scram_server_first(a->scram, (const char *)p, n, err,
	    sizeof(err)) != 0)
		return (pg_auth_fail(a, err));
	a->state = PG_AUTH_ST_SASL_FINAL;
	final = scram_client_final(a->scram);
	return (pg_auth_message(a, final, strlen(final), 0, NULL, 0));
}

static int
pg_auth_sasl_final(struct pg_auth *a, const unsigned char *p, size_t n)
{
	char	err[200];

	if (a->state != PG_AUTH_ST_SASL_FINAL)
		return (pg_auth_fail(a, "unexpected SASLFinal"));
	if (scram_server_final(a->scram, (const char *)p, n, err,
	    sizeof(err)) != 0)
		return (pg_auth_fail(a, err));
	a->state = PG_AUTH_ST_SASL_DONE;
	pg_auth_clear_reply(a);
	return (PG_AUTH_MORE);
}

static int
pg_auth_ok(struct pg_auth *a)
{
	if (a->state == PG_AUTH_ST_SASL_CONTINUE ||
	    a->state == PG_AUTH_ST_SASL_FINAL)
		return (pg_auth_fail(a, "the server ended SCRAM authentication "
		    "without proving that it knows the password"));
	a->state = PG_AUTH_ST_END;
	pg_auth_clear_reply(a);
	return (PG_AUTH_OK);
}

/* A request for a password: md5, cleartext or SASL. */
static int
pg_auth_password(struct pg_auth *a, uint32_t code, const unsigned char *p,
    size_t n)
{
	if (a->state != PG_AUTH_ST_START)
		return (pg_auth_fail(a, "a second authentication request"));
	if (a->password == NULL && a->md5_hash == NULL && a->keys == NULL) {
		a->state = PG_AUTH_ST_END;
		return (PG_AUTH_NEED_PASSWORD);
	}
	if (a->password == NULL && (code == AUTH_CLEARTEXT ||
	    (code == AUTH_MD5 && a->md5_hash == NULL)))
		return (pg_auth_fail(a, "the server asks for the password "
		    "(cleartext or md5); a SCRAM secret cannot answer it"));
	switch (code) {
	case AUTH_CLEARTEXT:
		if (!a->tls)
			return (pg_auth_fail(a, "the server asks for the "
			    "password in cleartext on a connection without "
			    "TLS; refused (use a tls:// route, or "
			    "scram-sha-256 in pg_hba.conf)"));
		a->method = "password";
		a->state = PG_AUTH_ST_PASSWORD;
		return (pg_auth_message(a, a->password, strlen(a->password), 1,
		    NULL, 0));
	case AUTH_MD5:
		if (n != 4)
			return (pg_auth_fail(a, "malformed md5 request"));
		/*
		 * Anyone on the path can ask for md5 instead of SCRAM and
		 * crack the hash offline: only inside TLS, or when allowed.
		 */
		if (!a->tls && !a->allow_md5)
			return (pg_auth_fail(a, "the server asks for an md5 "
			    "password hash on a connection without TLS; "
			    "refused: whoever is on the path could have "
			    "downgraded SCRAM to crack it (use a tls:// "
			    "route, scram-sha-256 in pg_hba.conf, or "
			    "check_allow_md5 = yes)"));
		a->method = "md5";
		a->state = PG_AUTH_ST_PASSWORD;
		return (pg_auth_md5(a, p));
	}
	return (pg_auth_sasl(a, p, n));
}

int
pg_auth_step(struct pg_auth *a, const unsigned char *body, size_t len)
{
	uint32_t	code;
	char		why[96];

	pg_auth_clear_reply(a);
	if (a->state == PG_AUTH_ST_END)
		return (pg_auth_fail(a, "authentication already ended"));
	if (len < 4)
		return (pg_auth_fail(a, "malformed authentication request"));
	memcpy(&code, body, 4);
	code = ntohl(code);
	body += 4;
	len -= 4;
	switch (code) {
	case AUTH_OK:
		return (pg_auth_ok(a));
	case AUTH_CLEARTEXT:
	case AUTH_MD5:
	case AUTH_SASL:
		return (pg_auth_password(a, code, body, len));
	case AUTH_SASL_CONTINUE:
		return (pg_auth_sasl_continue(a, body, len));
	case AUTH_SASL_FINAL:
		return (pg_auth_sasl_final(a, body, len));
	case AUTH_KERBEROS:
	case AUTH_GSS:
	case AUTH_GSS_CONTINUE:
	case AUTH_SSPI:
		return (pg_auth_fail(a, "the server asks for Kerberos, GSSAPI "
		    "or SSPI, which checks do not support"));
	}
	snprintf(why, sizeof(why), "unknown authentication request %u",
	    code);
	return (pg_auth_fail(a, why));
}
