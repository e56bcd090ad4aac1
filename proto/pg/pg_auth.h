/*
 * pg_auth.h: the client half of PostgreSQL's authentication exchange, as
 * libpq does it: SCRAM-SHA-256 (with channel binding over TLS when the
 * server offers SCRAM-SHA-256-PLUS), md5 (only over TLS unless allowed),
 * and a cleartext password only over TLS.  It reads the bodies of the
 * server's Authentication ('R') messages, which are untrusted bytes, and
 * writes the answers as whole protocol messages; it does no I/O
 * (tests/fuzz/fuzz_pgauth.c).
 */
#ifndef POSTERN_PGAUTH_H
#define POSTERN_PGAUTH_H

#include <stddef.h>

struct pg_auth;
struct scram_keys;

enum pg_auth_status {
	PG_AUTH_MORE,		/* send pg_auth_reply() (if any), read on */
	PG_AUTH_OK,		/* AuthenticationOk, and SCRAM verified */
	PG_AUTH_NEED_PASSWORD,	/* the server wants one; none configured */
	PG_AUTH_FAIL		/* pg_auth_error() says why */
};

struct pg_auth_params {
	const char		*user;
	const char		*password;	/* NULL: none configured */
	const char		*md5_hash;	/* or "md5" + md5(password user) */
	const struct scram_keys	*keys;		/* or SCRAM keys (scram.h) */
	int			 tls;		/* the connection is TLS */
	int			 allow_md5;	/* md5 without TLS too */
	const unsigned char	*cbind;		/* tls-server-end-point hash */
	size_t			 cbind_len;	/* 0: none (no TLS) */
	const char		*nonce;		/* tests; NULL: random */
	int			 max_iterations; /* SCRAM; 0: the default */
};

/*
 * pg_auth_new(params): copies what it needs (the password too).  Returns
 * NULL when out of memory.  Free with pg_auth_free(), which wipes it.
 */
struct pg_auth *pg_auth_new(const struct pg_auth_params *params);

/* pg_auth_free(a): wipe secrets and free.  NULL is a no-op. */
void	pg_auth_free(struct pg_auth *a);

/*
 * pg_auth_step(a, body, len): one Authentication message's body (after
 * the type byte and length).  Returns an enum pg_auth_status.  After
 * PG_AUTH_MORE, pg_auth_reply() holds the message to send (none after
 * SASLFinal), valid until the next call, and wiped then: it may be
 * password-equivalent (md5, cleartext).
 */
int	pg_auth_step(struct pg_auth *a, const unsigned char *body, size_t len);

/* pg_auth_reply(a, len): the message to send; NULL when none. */
const unsigned char *pg_auth_reply(const struct pg_auth *a, size_t *len);

/* pg_auth_error(a): why PG_AUTH_FAIL (no secret in it). */
const char *pg_auth_error(const struct pg_auth *a);

/* pg_auth_method(a): "SCRAM-SHA-256-PLUS", "md5", ... or "trust". */
const char *pg_auth_method(const struct pg_auth *a);

/* The default limit on SCRAM iterations (PBKDF2 runs on the loop). */
#define PG_AUTH_MAX_ITERATIONS	1000000

#endif
