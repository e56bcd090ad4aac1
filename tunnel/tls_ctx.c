/*
 * tls_ctx.c: a route's OpenSSL client context, and the words for what
 * went wrong in a handshake.
 *
 * The struct tls_ctx hangs off its SSL_CTX as ex_data and is freed with
 * it, so that every SSL made from it (and owned by a bufferevent we do
 * not control) keeps it alive: the session-ticket callback can fire on
 * an established connection long after a reload dropped the route.
 */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "secret.h"
#include "tls_ctx.h"

struct tls_ctx {
	SSL_CTX		*ctx;
	char		*name;		/* checked, and sent in SNI */
	int		 name_ip;	/* an address: no SNI, IP check */
	int		 verify;
	int		 pg_request;	/* postgres: SSLRequest first */
	int		 pg_direct;	/* postgres: TLS first, ALPN */
	const char	*min_version;	/* for messages */
	SSL_SESSION	*last;		/* the newest ticket, to resume */
};

/* ALPN protocol list: length-prefixed "postgresql". */
static const unsigned char tls_alpn_pg[] = "\012postgresql";

/*
 * The ex_data slot of SSL_CTX that holds our struct.  Written once, at
 * the first context: OpenSSL's ex_data indexes are process-wide.
 */
static int tls_ctx_index = -1;

static void
tls_ctx_exfree(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct tls_ctx	*t = ptr;

	if (t == NULL)
		return;
	SSL_SESSION_free(t->last);
	free(t->name);
	free(t);
}

static struct tls_ctx *
tls_ctx_of(const SSL *ssl)
{
	return (SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_ctx_index));
}

/* The reason of the newest OpenSSL error, then clear the queue. */
static const char *
tls_ctx_ossl_reason(void)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*s = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return (s != NULL ? s : "unknown error");
}

/*
 * A new session ticket arrived: keep a copy for the next connection.  A
 * copy, because OpenSSL marks the connection's own session not
 * resumable when the server closes without close_notify (as Redis
 * does): SSL_OP_IGNORE_UNEXPECTED_EOF resets the shutdown state to
 * "received" only, and SSL_free then drops the session as if the
 * connection had been cut.  TLS 1.1 and later do not require that.
 */
static int
tls_ctx_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_ctx	*t = tls_ctx_of(ssl);
	SSL_SESSION	*copy;

	if (t == NULL || (copy = SSL_SESSION_dup(sess)) == NULL)
		return (0);
	SSL_SESSION_free(t->last);
	t->last = copy;
	return (0);		/* the connection keeps its reference */
}

/* Encrypted keys would make OpenSSL prompt on the terminal: refuse. */
static int
tls_ctx_no_password(char *buf, int size, int rwflag, void *arg)
{
	int	*asked = arg;

	/*
	 * OpenSSL asks only for an encrypted key: note it, so the error says
	 * "encrypted" whatever OpenSSL's decoders make of an empty password
	 * (about one try in 256 the padding checks out and the error is a
	 * parse error instead of "bad decrypt").
	 */
	if (asked != NULL)
		*asked = 1;
	return (0);
}

static void
tls_ctx_bio_text(BIO *b, char *buf, size_t len)
{
	int	n = BIO_read(b, buf, (int)len - 1);

	buf[n > 0 ? n : 0] = '\0';
}

static void
tls_ctx_x509_name(const X509_NAME *n, char *buf, size_t len)
{
	BIO	*b = BIO_new(BIO_s_mem());

	buf[0] = '\0';
	if (b == NULL)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
	tls_ctx_bio_text(b, buf, len);
	BIO_free(b);
}

static void
tls_ctx_time(const ASN1_TIME *tm, char *buf, size_t len)
{
	BIO	*b = BIO_new(BIO_s_mem());

	buf[0] = '\0';
	if (b == NULL)
		return;
	ASN1_TIME_print(b, tm);
	tls_ctx_bio_text(b, buf, len);
	BIO_free(b);
}

/* "DNS:db.example.test, IP:127.0.0.1, CN=db.example.test" */
static void
tls_ctx_cert_names(X509 *cert, char *buf, size_t len)
{
	GENERAL_NAMES	*sans;
	GENERAL_NAME	*g;
	X509_NAME_ENTRY	*e;
	ASN1_STRING	*s;
	char		 ip[INET6_ADDRSTRLEN];
	size_t		 n = 0;
	int		 i, k;

	buf[0] = '\0';
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		g = sk_GENERAL_NAME_value(sans, i);
		if (n >= len)
			break;
		if (g->type == GEN_DNS) {
			s = g->d.dNSName;
			n += (size_t)snprintf(buf + n, len - n, "%sDNS:%.*s",
			    n ? ", " : "", ASN1_STRING_length(s),
			    (const char *)ASN1_STRING_get0_data(s));
		} else if (g->type == GEN_IPADD) {
			s = g->d.iPAddress;
			k = ASN1_STRING_length(s);
			if (inet_ntop(k == 4 ? AF_INET : AF_INET6,
			    ASN1_STRING_get0_data(s), ip, sizeof(ip)) == NULL ||
			    (k != 4 && k != 16))
				snprintf(ip, sizeof(ip), "?");
			n += (size_t)snprintf(buf + n, len - n, "%sIP:%s",
			    n ? ", " : "", ip);
		}
	}
	GENERAL_NAMES_free(sans);
	k = X509_NAME_get_index_by_NID(X509_get_subject_name(cert),
	    NID_commonName, -1);
	if (k >= 0 && n < len) {
		e = X509_NAME_get_entry(X509_get_subject_name(cert), k);
		s = X509_NAME_ENTRY_get_data(e);
		n += (size_t)snprintf(buf + n, len - n, "%sCN=%.*s",
		    n ? ", " : "", ASN1_STRING_length(s),
		    (const char *)ASN1_STRING_get0_data(s));
	}
	if (n == 0)
		snprintf(buf, len, "no names");
}

/* Explain the first verification failure of a chain. */
static void
tls_ctx_verify_text(X509_STORE_CTX *store, const struct tls_ctx *t,
    char *out, size_t len)
{
	X509		*cert = X509_STORE_CTX_get_current_cert(store);
	int		 e = X509_STORE_CTX_get_error(store);
	const char	*why = X509_verify_cert_error_string(e);
	char		 subj[128] = "?", issuer[128] = "?", when[64] = "?";
	char		 names[160];

	if (cert != NULL) {
		tls_ctx_x509_name(X509_get_subject_name(cert), subj,
		    sizeof(subj));
		tls_ctx_x509_name(X509_get_issuer_name(cert), issuer,
		    sizeof(issuer));
	}
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		if (cert != NULL)
			tls_ctx_time(X509_get0_notAfter(cert), when,
			    sizeof(when));
		snprintf(out, len, "certificate has expired: %s (notAfter "
		    "%s)", subj, when);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		if (cert != NULL)
			tls_ctx_time(X509_get0_notBefore(cert), when,
			    sizeof(when));
		snprintf(out, len, "certificate is not yet valid: %s "
		    "(notBefore %s)", subj, when);
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		if (cert != NULL)
			tls_ctx_cert_names(cert, names, sizeof(names));
		else
			snprintf(names, sizeof(names), "?");
		snprintf(out, len, "name mismatch: certificate is for %s, "
		    "not '%s'", names, t != NULL ? t->name : "?");
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		snprintf(out, len, "unknown CA: %s: %s (issuer %s)", why,
		    subj, issuer);
		break;
	default:
		snprintf(out, len, "certificate verify failed: %s: %s", why,
		    subj);
		break;
	}
}

static int
tls_ctx_verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL	*ssl;
	char	*out;

	if (ok)
		return (ok);
	ssl = X509_STORE_CTX_get_ex_data(store,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (out = SSL_get_app_data(ssl)) == NULL ||
	    out[0] != '\0')
		return (ok);
	tls_ctx_verify_text(store, tls_ctx_of(ssl), out, TLS_CTX_FAILURE_LEN);
	return (ok);
}

static int
tls_ctx_is_ip(const char *s)
{
	unsigned char	buf[16];

	return (inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1);
}

/* ca=: a file of PEM certificates or a hashed directory; else the system. */
static int
tls_ctx_load_ca(struct tls_ctx *t, const char *ca, char *err, size_t len)
{
	struct stat	st;
	int		ok;

	if (ca == NULL) {
		if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
			snprintf(err, len, "cannot load the system CA store: "
			    "%s", tls_ctx_ossl_reason());
			return (-1);
		}
		return (0);
	}
	if (stat(ca, &st) == -1) {
		snprintf(err, len, "ca %s: %s", ca, strerror(errno));
		return (-1);
	}
	if (S_ISDIR(st.st_mode))
		ok = SSL_CTX_load_verify_locations(t->ctx, NULL, ca);
	else
		ok = SSL_CTX_load_verify_locations(t->ctx, ca, NULL);
	if (ok != 1) {
		snprintf(err, len, "cannot load CA %s %s: %s",
		    S_ISDIR(st.st_mode) ? "directory" : "file", ca,
		    tls_ctx_ossl_reason());
		return (-1);
	}
	return (0);
}

/*
 * The private key, read with read(2) into a buffer wiped afterwards (a
 * file BIO would leave it in a stdio buffer): 1, 0 when OpenSSL refused
 * it (its error queue says why), -1 when unreadable (err set).
 */
static int
tls_ctx_use_key(struct tls_ctx *t, const char *key, int *encrypted,
    char *err, size_t len)
{
	char		*buf, why[200];
	size_t		 n;
	BIO		*bio;
	EVP_PKEY	*pkey = NULL;
	int		 ok;

	/* Its mode was checked with the configuration (KEY_SECRET). */
	if (secret_load(key, 0, NULL, &buf, &n, why, sizeof(why)) != 0) {
		snprintf(err, len, "cannot load key %s: %s", key, why);
		return (-1);
	}
	if ((bio = BIO_new_mem_buf(buf, (int)n)) != NULL)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, tls_ctx_no_password,
		    encrypted);
	BIO_free(bio);
	secret_free(buf, n);
	ok = pkey != NULL && SSL_CTX_use_PrivateKey(t->ctx, pkey) == 1;
	EVP_PKEY_free(pkey);
	return (ok);
}

/* cert= and key= (the key defaults to the certificate's file). */
static int
tls_ctx_load_cert(struct tls_ctx *t, const char *cert, const char *key,
    char *err, size_t len)
{
	unsigned long	 e;
	const char	*first = NULL, *why;
	int		 mismatch = 0, encrypted = 0, ok;

	if (cert == NULL && key == NULL)
		return (0);
	if (cert == NULL) {
		snprintf(err, len, "key=%s needs cert=", key);
		return (-1);
	}
	if (key == NULL)
		key = cert;
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
		snprintf(err, len, "cannot load certificate %s: %s", cert,
		    tls_ctx_ossl_reason());
		return (-1);
	}
	if ((ok = tls_ctx_use_key(t, key, &encrypted, err, len)) == -1)
		return (-1);
	if (ok != 1) {
		while ((e = ERR_get_error()) != 0) {
			mismatch |= ERR_GET_LIB(e) == ERR_LIB_X509 &&
			    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH;
			why = ERR_reason_error_string(e);
			/* PEM, EVP or a provider says it, depending. */
			encrypted |= why != NULL && (strstr(why, "decrypt") !=
			    NULL || strstr(why, "password") != NULL);
			if (first == NULL)
				first = why;
		}
		if (mismatch)
			snprintf(err, len, "certificate %s and key %s do not "
			    "match", cert, key);
		else if (encrypted)
			snprintf(err, len, "key %s is encrypted (not "
			    "supported: postern starts unattended)", key);
		else
			snprintf(err, len, "cannot load key %s: %s", key,
			    first != NULL ? first : "unknown error");
		return (-1);
	}
	if (SSL_CTX_check_private_key(t->ctx) != 1) {
		ERR_clear_error();
		snprintf(err, len, "certificate %s and key %s do not match",
		    cert, key);
		return (-1);
	}
	return (0);
}

/*
 * ciphers=: one list for both generations of TLS.  Names that start
 * with "TLS_" are TLS 1.3 suites (SSL_CTX_set_ciphersuites); the rest is
 * an OpenSSL cipher list for TLS 1.2 (SSL_CTX_set_cipher_list).  A part
 * left empty keeps OpenSSL's default.
 */
static int
tls_ctx_ciphers(struct tls_ctx *t, const char *list, char *err, size_t len)
{
	char	*copy, *tok, *save = NULL, *v13, *v12;
	size_t	 n = strlen(list) + 1;
	int	 rc = -1;

	copy = strdup(list);
	v13 = calloc(1, n);
	v12 = calloc(1, n);
	if (copy == NULL || v13 == NULL || v12 == NULL) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	for (tok = strtok_r(copy, ":", &save); tok != NULL;
	    tok = strtok_r(NULL, ":", &save)) {
		char *dst = strncmp(tok, "TLS_", 4) == 0 ? v13 : v12;

		if (dst[0] != '\0')
			strcat(dst, ":");
		strcat(dst, tok);
	}
	if (v12[0] != '\0' && SSL_CTX_set_cipher_list(t->ctx, v12) != 1) {
		snprintf(err, len, "ciphers: no usable TLS 1.2 cipher in "
		    "'%s': %s", v12, tls_ctx_ossl_reason());
		goto out;
	}
	if (v13[0] != '\0' && SSL_CTX_set_ciphersuites(t->ctx, v13) != 1) {
		snprintf(err, len, "ciphers: no usable TLS 1.3 suite in "
		    "'%s': %s", v13, tls_ctx_ossl_reason());
		goto out;
	}
	rc = 0;
out:
	free(copy);
	free(v13);
	free(v12);
	return (rc);
}

static int
tls_ctx_settings(struct tls_ctx *t, const struct conf_route *r, int protocol,
    char *err, size_t len)
{
	t->name = strdup(r->tls.name != NULL ? r->tls.name :
	    r->target.host);
	if (t->name == NULL) {
		snprintf(err, len, "out of memory");
		return (-1);
	}
	t->name_ip = tls_ctx_is_ip(t->name);
	t->verify = r->tls.verify == TLS_VERIFY_FULL;
	t->pg_direct = protocol == PROTO_POSTGRES &&
	    r->tls.sslnegotiation == PG_NEG_DIRECT;
	t->pg_request = protocol == PROTO_POSTGRES && !t->pg_direct;
	t->min_version = r->tls.min_version == TLS_MIN_1_3 ? "tls1.3" :
	    "tls1.2";
	SSL_CTX_set_min_proto_version(t->ctx, r->tls.min_version ==
	    TLS_MIN_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	    | SSL_OP_IGNORE_UNEXPECTED_EOF
#endif
	    );
	/*
	 * Release the record buffers (2 x 16 KiB and more) whenever they
	 * are empty, the handshake's included: idle sessions are the common
	 * case of a sidecar.  tls_link.c clears it on its SSL (per record it
	 * costs a malloc and a free) and frees the buffers of a link that
	 * has been idle for a second instead.
	 */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	/*
	 * No read-ahead in the context: with it OpenSSL buffers whole
	 * records that SSL_pending() does not count, and libevent 2.1's
	 * OpenSSL bufferevent (the handshake, health checks), which drains
	 * only SSL_pending(), then waits for the socket while data sits in
	 * the SSL (pgbench and psql stalled in tests/integration/80-tls.sh).
	 * tls_link.c, which reads until OpenSSL wants the socket, turns it
	 * on for its connections.
	 */
	SSL_CTX_set_default_passwd_cb(t->ctx, tls_ctx_no_password);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(t->ctx, tls_ctx_new_session);
	if (t->pg_direct && SSL_CTX_set_alpn_protos(t->ctx, tls_alpn_pg,
	    sizeof(tls_alpn_pg) - 1) != 0) {
		snprintf(err, len, "cannot set ALPN: %s",
		    tls_ctx_ossl_reason());
		return (-1);
	}
	if (t->verify) {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, tls_ctx_verify_cb);
		if (tls_ctx_load_ca(t, r->tls.ca, err, len) != 0)
			return (-1);
	} else
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	if (tls_ctx_load_cert(t, r->tls.cert, r->tls.key, err, len) != 0)
		return (-1);
	if (r->tls.ciphers != NULL &&
	    tls_ctx_ciphers(t, r->tls.ciphers, err, len) != 0)
		return (-1);
	return (0);
}

struct tls_ctx *
tls_ctx_new(const struct conf_route *r, int protocol, char *err,
    size_t errlen)
{
	struct tls_ctx	*t;

	if (tls_ctx_index == -1)
		tls_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_ctx_exfree);
	if (tls_ctx_index == -1 || (t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_ex_data(t->ctx, tls_ctx_index, t) != 1) {
		snprintf(err, errlen, "cannot make a TLS context: %s",
		    tls_ctx_ossl_reason());
		SSL_CTX_free(t->ctx);
		free(t);
		return (NULL);
	}
	/* From here on, SSL_CTX_free frees t too. */
	if (tls_ctx_settings(t, r, protocol, err, errlen) != 0) {
		SSL_CTX_free(t->ctx);
		return (NULL);
	}
	return (t);
}

void
tls_ctx_free(struct tls_ctx *t)
{
	if (t != NULL)
		SSL_CTX_free(t->ctx);
}

SSL *
tls_ctx_ssl(struct tls_ctx *t, char *failure)
{
	SSL	*ssl;

	if ((ssl = SSL_new(t->ctx)) == NULL)
		return (NULL);
	SSL_set_connect_state(ssl);
	if (!t->name_ip && SSL_set_tlsext_host_name(ssl, t->name) != 1)
		goto fail;
	if (t->verify) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (t->name_ip ? X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(ssl), t->name) != 1 :
		    SSL_set1_host(ssl, t->name) != 1)
			goto fail;
	}
	if (t->last != NULL && SSL_SESSION_is_resumable(t->last))
		SSL_set_session(ssl, t->last);
	if (failure != NULL) {
		failure[0] = '\0';
		SSL_set_app_data(ssl, failure);
	}
	return (ssl);
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return (NULL);
}

void
tls_ctx_detach(SSL *ssl)
{
	if (ssl != NULL)
		SSL_set_app_data(ssl, NULL);
}

static int
tls_ctx_is_version_error(unsigned long err)
{
	if (ERR_GET_LIB(err) != ERR_LIB_SSL)
		return (0);
	switch (ERR_GET_REASON(err)) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_WRONG_SSL_VERSION:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_VERSION_TOO_HIGH:
		return (1);
	}
	return (0);
}

char *
tls_ctx_explain(SSL *ssl, unsigned long err, char *buf, size_t len)
{
	const char		*failure = SSL_get_app_data(ssl);
	const struct tls_ctx	*t = tls_ctx_of(ssl);
	const char		*reason;
	char			 code[128];
	long			 vr = SSL_get_verify_result(ssl);

	reason = err != 0 ? ERR_reason_error_string(err) : NULL;
	if (reason == NULL) {
		ERR_error_string_n(err, code, sizeof(code));
		reason = code;
	}
	if (failure != NULL && failure[0] != '\0')
		snprintf(buf, len, "%s", failure);
	else if (vr != X509_V_OK)
		snprintf(buf, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
	else if (err != 0 && tls_ctx_is_version_error(err))
		snprintf(buf, len, "protocol version: %s (min_version %s)",
		    reason, t != NULL ? t->min_version : "?");
	else if (err != 0)
		snprintf(buf, len, "handshake failed: %s", reason);
	else
		snprintf(buf, len, "handshake failed: connection closed by "
		    "the server");
	return (buf);
}

char *
tls_ctx_describe(SSL *ssl, char *buf, size_t len)
{
	const unsigned char	*alpn = NULL;
	unsigned int		 alen = 0;

	SSL_get0_alpn_selected(ssl, &alpn, &alen);
	snprintf(buf, len, "%s %s, %s%s%.*s", SSL_get_version(ssl),
	    SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)),
	    SSL_session_reused(ssl) ? "resumed" : "full handshake",
	    alen > 0 ? ", ALPN " : "", (int)alen, alen > 0 ?
	    (const char *)alpn : "");
	return (buf);
}

int
tls_ctx_pg_sslrequest(const struct tls_ctx *t)
{
	return (t->pg_request);
}

int
tls_ctx_pg_direct(const struct tls_ctx *t)
{
	return (t->pg_direct);
}

int
tls_ctx_verifies(const struct tls_ctx *t)
{
	return (t->verify);
}

const char *
tls_ctx_name(const struct tls_ctx *t)
{
	return (t->name);
}
