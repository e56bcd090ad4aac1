/*
 * tls_ctx.h: the TLS material of one tls:// route: an OpenSSL SSL_CTX
 * built from the route's options (ca, name, cert, key, verify,
 * min_version, ciphers, sslnegotiation), the name checked and sent in
 * SNI, and the last session ticket for resumption.
 *
 * Plain OpenSSL, no event loop: the configuration loader builds one to
 * validate a route (postern -n, reload), the daemon builds the one its
 * dials use (tls_reg.c).
 */
#ifndef POSTERN_TLS_CTX_H
#define POSTERN_TLS_CTX_H

#include <stddef.h>

struct conf_route;
struct ssl_st;
struct tls_ctx;

/*
 * tls_ctx_new(r, protocol, err, errlen): load everything route r names
 * (CA file or directory, or the system store; client certificate and
 * key, checked to match) and apply its settings; protocol is the
 * service's (enum conf_proto: postgres routes negotiate with an
 * SSLRequest, or directly with ALPN "postgresql").  Returns a context
 * with one reference, or NULL with the reason in err ("cannot load CA
 * file /x: ...", "certificate /c and key /k do not match").
 */
struct tls_ctx *tls_ctx_new(const struct conf_route *r, int protocol,
	    char *err, size_t errlen);

/*
 * tls_ctx_free(t): drop the caller's reference.  Connections made from
 * t keep it alive until they are freed.  NULL is a no-op.
 */
void	tls_ctx_free(struct tls_ctx *t);

#define TLS_CTX_FAILURE_LEN	256

/*
 * tls_ctx_ssl(t, failure): a client SSL for one connection: SNI, host
 * name or IP check, ALPN, and the last session to resume.  failure (may
 * be NULL; TLS_CTX_FAILURE_LEN bytes) receives the first verification
 * failure, explained, during the handshake; tls_ctx_detach() it before
 * it goes away.  The caller frees the SSL (or hands it to a
 * bufferevent).  NULL when out of memory.
 */
struct ssl_st *tls_ctx_ssl(struct tls_ctx *t, char *failure);

/* tls_ctx_detach(ssl): no more failure reports into the caller's buffer. */
void	tls_ctx_detach(struct ssl_st *ssl);

/*
 * tls_ctx_explain(ssl, err, buf, len): why a handshake failed, from the
 * verification result, the failure recorded by the verify callback and
 * err (the first OpenSSL error code, 0 if none): "certificate has
 * expired: ...", "unknown CA: ...", "name mismatch: ...", "protocol
 * version: ...".  Returns buf.
 */
char	*tls_ctx_explain(struct ssl_st *ssl, unsigned long err, char *buf,
	    size_t len);

/*
 * tls_ctx_describe(ssl, buf, len): "TLSv1.3 TLS_AES_256_GCM_SHA384,
 * resumed" for a completed handshake.  Returns buf.
 */
char	*tls_ctx_describe(struct ssl_st *ssl, char *buf, size_t len);

/* The route's negotiation: these are exclusive; neither means TLS first. */
int	tls_ctx_pg_sslrequest(const struct tls_ctx *t);	/* SSLRequest, 'S' */
int	tls_ctx_pg_direct(const struct tls_ctx *t);	/* ALPN postgresql */

/* tls_ctx_verifies(t): 0 for verify=none. */
int	tls_ctx_verifies(const struct tls_ctx *t);

/* tls_ctx_name(t): the name checked and sent in SNI. */
const char *tls_ctx_name(const struct tls_ctx *t);

#endif
