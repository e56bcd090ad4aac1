/*
 * scram.h: the client side of SCRAM-SHA-256 (RFC 5802, RFC 7677), with
 * optional channel binding (RFC 5929 tls-server-end-point), as libpq
 * speaks it to PostgreSQL.  Pure computation over OpenSSL's primitives:
 * no I/O, no event loop, so that the unit tests can replay RFC 7677's
 * exchange and the fuzzer can feed it any server message.
 *
 * Exchange: scram_new(), send scram_client_first(); hand the server's
 * first message to scram_server_first() and send scram_client_final();
 * hand the server's final message to scram_server_final(), which proves
 * that the server knows the password too.  The password and every key
 * derived from it are wiped (OPENSSL_cleanse) by scram_free().
 */
#ifndef POSTERN_SCRAM_H
#define POSTERN_SCRAM_H

#include <stddef.h>

struct scram;

/* The gs2 channel-binding flag the client sends. */
enum scram_binding {
	SCRAM_BIND_NONE,	/* "n": no TLS, or the client cannot bind */
	SCRAM_BIND_UNUSED,	/* "y": TLS, but the server offered no -PLUS */
	SCRAM_BIND_USED		/* "p=tls-server-end-point": SCRAM-...-PLUS */
};

#define SCRAM_KEY_SIZE	32	/* SHA-256 */

/*
 * A user's keys instead of the password (a resumed session's login,
 * DESIGN.md "Resume (PostgreSQL)"): the server's salt and iteration
 * count must be the ones the keys were made with.
 */
struct scram_keys {
	unsigned char		 client_key[SCRAM_KEY_SIZE];
	unsigned char		 stored_key[SCRAM_KEY_SIZE];
	unsigned char		 server_key[SCRAM_KEY_SIZE];
	const unsigned char	*salt;
	size_t			 salt_len;
	int			 iterations;
};

struct scram_params {
	const char		*user;		/* "" for PostgreSQL */
	const char		*password;	/* or: */
	const struct scram_keys	*keys;		/* copied */
	enum scram_binding	 binding;
	const unsigned char	*cbind;		/* the certificate hash, for */
	size_t			 cbind_len;	/* SCRAM_BIND_USED */
	const char		*nonce;		/* tests: fixed; NULL: random */
	int			 max_iterations; /* refuse more (loop time) */
};

/*
 * scram_new(params): a client ready to send its first message.  Copies
 * what it needs from params.  Returns NULL when out of memory, when the
 * random nonce cannot be drawn, or when SCRAM_BIND_USED has no data.
 */
struct scram *scram_new(const struct scram_params *params);

/* scram_free(s): wipe the password and keys, free.  NULL is a no-op. */
void	scram_free(struct scram *s);

/* scram_client_first(s): "n,,n=user,r=nonce"; owned by s. */
const char *scram_client_first(const struct scram *s);

/*
 * scram_server_first(s, msg, len, err, errlen): check the server's first
 * message (our nonce extended, salt, iteration count) and compute the
 * proof.  Returns 0, or -1 with a reason in err.
 */
int	scram_server_first(struct scram *s, const char *msg, size_t len,
	    char *err, size_t errlen);

/* scram_client_final(s): "c=...,r=...,p=proof" after scram_server_first. */
const char *scram_client_final(const struct scram *s);

/*
 * scram_server_final(s, msg, len, err, errlen): "v=signature" must match
 * (constant-time), "e=..." is the server's refusal.  Returns 0 when the
 * server proved it knows the password, or -1 with a reason in err.
 */
int	scram_server_final(struct scram *s, const char *msg, size_t len,
	    char *err, size_t errlen);

/*
 * scram_client_key(stored, first, flen, server_first, slen, final, fnlen,
 * out): SCRAM pass-through.  From a client's own messages in an exchange
 * that succeeded (its client-first-message with the gs2 header, the
 * server's first message, its client-final-message with the proof) and
 * the user's StoredKey, recover its ClientKey:
 *   ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage)
 * and check SHA-256(ClientKey) == StoredKey.  0 with out set, else -1
 * (malformed, or the proof does not fit this StoredKey).
 */
int	scram_client_key(const unsigned char *stored, const char *first,
	    size_t flen, const char *server_first, size_t slen,
	    const char *final, size_t fnlen, unsigned char *out);

#endif
