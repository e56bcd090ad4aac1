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

struct pgauth;
struct scram_keys;

enum pgauth_status {
	PGAUTH_MORE,		/* send pgauth_reply() (if any), read on */
	PGAUTH_OK,		/* AuthenticationOk, and SCRAM verified */
	PGAUTH_NEED_PASSWORD,	/* the server wants one; none configured */
	PGAUTH_FAIL		/* pgauth_error() says why */
};

struct pgauth_params {
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
 * pgauth_new(params): copies what it needs (the password too).  Returns
 * NULL when out of memory.  Free with pgauth_free(), which wipes it.
 */
struct pgauth *pgauth_new(const struct pgauth_params *params);

/* pgauth_free(a): wipe secrets and free.  NULL is a no-op. */
void	pgauth_free(struct pgauth *a);

/*
 * pgauth_step(a, body, len): one Authentication message's body (after
 * the type byte and length).  Returns an enum pgauth_status.  After
 * PGAUTH_MORE, pgauth_reply() holds the message to send (none after
 * SASLFinal), valid until the next call, and wiped then: it may be
 * password-equivalent (md5, cleartext).
 */
int	pgauth_step(struct pgauth *a, const unsigned char *body, size_t len);

/* pgauth_reply(a, len): the message to send; NULL when none. */
const unsigned char *pgauth_reply(const struct pgauth *a, size_t *len);

/* pgauth_error(a): why PGAUTH_FAIL (no secret in it). */
const char *pgauth_error(const struct pgauth *a);

/* pgauth_method(a): "SCRAM-SHA-256-PLUS", "md5", ... or "trust". */
const char *pgauth_method(const struct pgauth *a);

/* The default limit on SCRAM iterations (PBKDF2 runs on the loop). */
#define PGAUTH_MAX_ITERATIONS	1000000

#endif
