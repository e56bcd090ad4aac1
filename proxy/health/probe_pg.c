/*
 * probe_pg.c: the PostgreSQL check's conversation.
 *
 * Without check_user: an SSLRequest answered 'S' or 'N' proves that the
 * postmaster accepts connections (a tls:// route's dial already did it).
 * With check_user: a StartupMessage, then authentication as libpq does it
 * (pg_auth.c), then one simple query that says which role the server is in
 * and, for the identity guard, which cluster it is:
 *
 *   SELECT pg_is_in_recovery()[, system_identifier FROM pg_control_system()]
 *
 * and a Terminate, so that the server logs no "unexpected EOF".  Without
 * a password, a request for one still proves that a backend serves, as
 * before; a check that must read the role or the identity fails then.
 * Errors name the layer: "auth failed (28P01: ...)", "query failed
 * (42501: ...)", or the server's own "FATAL 57P03: ..." before either.
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "pg_auth.h"
#include "probe.h"
#include "probe_int.h"

#define PG_SSLREQUEST_CODE	80877103
#define PG_PROTOCOL_3		196608

enum probe_pg_phase {
	PG_SSLREQUEST,		/* waiting for 'S' or 'N' */
	PG_AUTH,		/* until AuthenticationOk */
	PG_STARTUP,		/* until ReadyForQuery */
	PG_QUERY		/* until the query's ReadyForQuery */
};

void
probe_pg_free(struct probe *p)
{
	pg_auth_free(p->auth);
	p->auth = NULL;
}

static void
probe_pg_put32(struct evbuffer *out, uint32_t v)
{
	v = htonl(v);
	evbuffer_add(out, &v, 4);
}

/* A message: type, length, then the body's n bytes. */
static void
probe_pg_message(struct probe *p, char type, const void *body, size_t n)
{
	struct evbuffer	*out = bufferevent_get_output(p->bev);

	evbuffer_add(out, &type, 1);
	probe_pg_put32(out, (uint32_t)(4 + n));
	evbuffer_add(out, body, n);
}

/*
 * tls-server-end-point (RFC 5929): the hash of the server's certificate,
 * with its signature's hash (SHA-256 for MD5 and SHA-1), as the server
 * computes it.  0, or -1 when it cannot be had: SCRAM then does not bind.
 */
static int
probe_pg_cbind(SSL *ssl, unsigned char *out, unsigned int *len)
{
	X509		*cert;
	const EVP_MD	*md;
	int		 algo, rc = -1;

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	cert = SSL_get0_peer_certificate(ssl);
#else
	cert = SSL_get_peer_certificate(ssl);
#endif
	if (cert == NULL)
		return (-1);
	if (OBJ_find_sigid_algs(X509_get_signature_nid(cert), &algo, NULL)) {
		if (algo == NID_md5 || algo == NID_sha1)
			algo = NID_sha256;
		if ((md = EVP_get_digestbynid(algo)) != NULL &&
		    X509_digest(cert, md, out, len) == 1)
			rc = 0;
	}
#if OPENSSL_VERSION_NUMBER < 0x30000000L
	X509_free(cert);
#endif
	return (rc);
}

static int
probe_pg_startup(struct probe *p, SSL *ssl)
{
	const struct probe_params	*pp = &p->params;
	struct evbuffer			*out = bufferevent_get_output(p->bev);
	struct pg_auth_params		 ap;
	unsigned char			 hash[EVP_MAX_MD_SIZE];
	unsigned int			 hlen = 0;
	const char			*db;
	size_t				 len;

	memset(&ap, 0, sizeof(ap));
	ap.user = pp->user;
	ap.password = pp->password;
	ap.tls = ssl != NULL;
	ap.allow_md5 = pp->allow_md5;
	if (ssl != NULL && probe_pg_cbind(ssl, hash, &hlen) == 0) {
		ap.cbind = hash;
		ap.cbind_len = hlen;
	}
	if ((p->auth = pg_auth_new(&ap)) == NULL)
		return (-1);
	db = pp->database != NULL ? pp->database : pp->user;
	len = 4 + 4 + 5 + strlen(pp->user) + 1 + 9 + strlen(db) + 1 +
	    17 + 8 + 1;
	probe_pg_put32(out, (uint32_t)len);
	probe_pg_put32(out, PG_PROTOCOL_3);
	evbuffer_add(out, "user", 5);
	evbuffer_add(out, pp->user, strlen(pp->user) + 1);
	evbuffer_add(out, "database", 9);
	evbuffer_add(out, db, strlen(db) + 1);
	evbuffer_add(out, "application_name", 17);
	evbuffer_add(out, "postern", 8);
	evbuffer_add(out, "", 1);
	p->pg_phase = PG_AUTH;
	return (0);
}

int
probe_pg_start(struct probe *p)
{
	struct evbuffer	*out = bufferevent_get_output(p->bev);
	SSL		*ssl = bufferevent_openssl_get_ssl(p->bev);

	if (p->params.user != NULL)
		return (probe_pg_startup(p, ssl));
	/*
	 * A tls:// route's dial already had the postmaster answer 'S' to
	 * its SSLRequest (or take a direct TLS connection) and complete a
	 * verified handshake; a second SSLRequest inside TLS would only
	 * get an error.
	 */
	if (ssl != NULL) {
		probe_finish(p, PROBE_OK, "TLS handshake completed (%s)",
		    SSL_get_version(ssl));
		return (0);
	}
	probe_pg_put32(out, 8);
	probe_pg_put32(out, PG_SSLREQUEST_CODE);
	p->pg_phase = PG_SSLREQUEST;
	return (0);
}

/* An ErrorResponse: the layer it ended, SQLSTATE and message. */
static void
probe_pg_error(struct probe *p, const unsigned char *body, size_t n)
{
	char		 sev[16] = "", code[8] = "", msg[160] = "";
	size_t		 i = 0, e;

	while (i < n && body[i] != 0) {
		char t = (char)body[i++];

		for (e = i; e < n && body[e] != 0; e++)
			;
		if (e >= n)
			break;
		if (t == 'S')
			probe_clean(sev, sizeof(sev), (const char *)body + i,
			    e - i);
		else if (t == 'C')
			probe_clean(code, sizeof(code), (const char *)body + i,
			    e - i);
		else if (t == 'M')
			probe_clean(msg, sizeof(msg), (const char *)body + i,
			    e - i);
		i = e + 1;
	}
	/* Class 28: invalid authorization (28P01 password, 28000 hba). */
	if (p->pg_phase == PG_AUTH && strncmp(code, "28", 2) == 0)
		probe_finish(p, PROBE_AUTH, "auth failed (%s: %s)", code, msg);
	else if (p->pg_phase == PG_QUERY)
		probe_finish(p, PROBE_REPLY, "query failed (%s: %s)", code,
		    msg);
	else
		probe_finish(p, PROBE_REPLY, "%s %s: %s", sev, code, msg);
}

/* evbuffer cleanup of a copy that may be password-equivalent. */
static void
probe_pg_wipe(const void *data, size_t len, void *arg)
{
	OPENSSL_cleanse((void *)data, len);
	free((void *)data);
}

static void
probe_pg_auth(struct probe *p, const unsigned char *body, size_t n)
{
	const unsigned char	*reply;
	unsigned char		*copy;
	size_t			 len;

	switch (pg_auth_step(p->auth, body, n)) {
	case PG_AUTH_MORE:
		if ((reply = pg_auth_reply(p->auth, &len)) == NULL)
			return;
		/* The output buffer wipes it once written (md5, password). */
		if ((copy = malloc(len)) == NULL) {
			probe_finish(p, PROBE_CONNECT_ERROR, "out of memory");
			return;
		}
		memcpy(copy, reply, len);
		if (evbuffer_add_reference(bufferevent_get_output(p->bev),
		    copy, len, probe_pg_wipe, NULL) != 0) {
			probe_pg_wipe(copy, len, NULL);
			probe_finish(p, PROBE_CONNECT_ERROR, "out of memory");
		}
		return;
	case PG_AUTH_OK:
		p->pg_phase = PG_STARTUP;
		return;
	case PG_AUTH_NEED_PASSWORD:
		/* Alive; but the role and the identity need a session. */
		if (p->params.role == PROBE_ROLE_ANY && !p->params.identity)
			probe_finish(p, PROBE_OK, "authentication requested");
		else
			probe_finish(p, PROBE_AUTH, "auth failed (the server "
			    "asks for a password and check_password_file is "
			    "not set)");
		return;
	}
	probe_finish(p, PROBE_AUTH, "auth failed (%s)", pg_auth_error(p->auth));
}

static void
probe_pg_query(struct probe *p)
{
	static const char	q_role[] = "SELECT pg_is_in_recovery()";
	static const char	q_both[] = "SELECT pg_is_in_recovery(), "
	    "system_identifier FROM pg_control_system()";

	if (p->params.identity)
		probe_pg_message(p, 'Q', q_both, sizeof(q_both));
	else
		probe_pg_message(p, 'Q', q_role, sizeof(q_role));
	p->pg_phase = PG_QUERY;
}

static int
probe_pg_digits(const unsigned char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
	}
	return (n > 0);
}

/* DataRow: Int16 columns, each an Int32 length (-1: NULL) and bytes. */
static void
probe_pg_row(struct probe *p, const unsigned char *b, size_t n)
{
	uint16_t	ncol, i;
	uint32_t	len;
	size_t		off = 2;

	if (n < 2)
		return;
	memcpy(&ncol, b, 2);
	ncol = ntohs(ncol);
	for (i = 0; i < ncol && i < 2 && off + 4 <= n; i++) {
		memcpy(&len, b + off, 4);
		len = ntohl(len);
		off += 4;
		if (len == UINT32_MAX || len > n - off)
			return;
		if (i == 0)
			probe_clean(p->pg_role, sizeof(p->pg_role),
			    (const char *)b + off, len);
		else if (probe_pg_digits(b + off, len))
			probe_set_identity(p, (const char *)b + off, len);
		off += len;
	}
}

/* The query's ReadyForQuery: judge, and say goodbye. */
static void
probe_pg_verdict(struct probe *p)
{
	const char	*role, *method = pg_auth_method(p->auth);
	const char	*want = p->params.role == PROBE_ROLE_PRIMARY ?
	    "primary" : "standby";

	if (strcmp(p->pg_role, "t") != 0 && strcmp(p->pg_role, "f") != 0) {
		probe_finish(p, PROBE_REPLY, "query failed (no answer to "
		    "SELECT pg_is_in_recovery())");
		return;
	}
	role = strcmp(p->pg_role, "t") == 0 ? "standby" : "primary";
	if (p->params.identity && !p->has_identity) {
		probe_finish(p, PROBE_IDENTITY, "no system_identifier from "
		    "pg_control_system()");
		return;
	}
	if (p->params.role != PROBE_ROLE_ANY && strcmp(role, want) != 0) {
		probe_finish(p, PROBE_ROLE, "%s, wanted %s", role, want);
		return;
	}
	probe_pg_message(p, 'X', "", 0);
	if (strcmp(method, "trust") == 0)
		probe_finish_flushed(p, PROBE_OK, "ready for query; %s", role);
	else
		probe_finish_flushed(p, PROBE_OK, "authenticated (%s); %s",
		    method, role);
}

/* One whole message. */
static void
probe_pg_message_in(struct probe *p, char type, const unsigned char *b,
    size_t n)
{
	switch (type) {
	case 'E':
		probe_pg_error(p, b, n);
		return;
	case 'R':
		if (p->pg_phase == PG_AUTH)
			probe_pg_auth(p, b, n);
		else
			probe_finish(p, PROBE_REPLY, "authentication request "
			    "after AuthenticationOk");
		return;
	case 'Z':
		if (p->pg_phase == PG_STARTUP)
			probe_pg_query(p);
		else if (p->pg_phase == PG_QUERY)
			probe_pg_verdict(p);
		else
			probe_finish(p, PROBE_REPLY, "ReadyForQuery before "
			    "authentication");
		return;
	case 'D':
		if (p->pg_phase == PG_QUERY)
			probe_pg_row(p, b, n);
		return;
	case 'S':		/* ParameterStatus */
	case 'K':		/* BackendKeyData */
	case 'N':		/* NoticeResponse */
	case 'T':		/* RowDescription */
	case 'C':		/* CommandComplete */
		return;
	}
	probe_finish(p, PROBE_REPLY, "unexpected message type 0x%02x",
	    (unsigned char)type);
}

void
probe_pg_read(struct probe *p, struct evbuffer *in)
{
	unsigned char	*h;
	uint32_t	 len;

	if (p->pg_phase == PG_SSLREQUEST) {
		h = evbuffer_pullup(in, 1);
		if (h[0] == 'S' || h[0] == 'N')
			probe_finish(p, PROBE_OK, "SSLRequest answered '%c'",
			    h[0]);
		else
			probe_finish(p, PROBE_REPLY, "SSLRequest answered "
			    "0x%02x", h[0]);
		return;
	}
	while (evbuffer_get_length(in) >= 5 && p->result == -1) {
		h = evbuffer_pullup(in, 5);
		memcpy(&len, h + 1, 4);
		len = ntohl(len);
		if (len < 4 || len > PROBE_MAX_REPLY) {
			probe_finish(p, PROBE_REPLY, "bad message length %u",
			    len);
			return;
		}
		if (evbuffer_get_length(in) < 1 + (size_t)len)
			return;
		h = evbuffer_pullup(in, 1 + (ssize_t)len);
		probe_pg_message_in(p, (char)h[0], h + 5, len - 4);
		evbuffer_drain(in, 1 + (size_t)len);
	}
}
