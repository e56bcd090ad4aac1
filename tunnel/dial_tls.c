/*
 * dial_tls.c: the TLS layer of a tls:// dial, over the TCP connection
 * that dial_tcp.c made.  PostgreSQL routes first send an SSLRequest and
 * require 'S' (unless sslnegotiation = direct); then the handshake, with
 * verification, through a socket-based OpenSSL bufferevent: OpenSSL
 * reads and writes the descriptor itself, with no second buffer layer.
 * Then the socket and the SSL become a link (tls_link.c), which the
 * relay's fd engine drives like an SSH channel.
 *
 * Every failure is DIAL_TLS with a detail that starts with "tls: " and
 * says which check failed, so that session and health lines read the
 * same: "tls: certificate has expired: ...", "tls: name mismatch: ...".
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "dial_int.h"
#include "tls_ctx.h"
#include "tls_link.h"

/* The verify callback writes into d->tls_failure. */
_Static_assert(sizeof(((struct dial *)0)->tls_failure) >= TLS_CTX_FAILURE_LEN,
    "tls_failure too small");

/* PostgreSQL SSLRequest: length 8, code 80877103. */
static const unsigned char dial_tls_sslrequest_pkt[8] = {
	0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f
};

static void	dial_tls_fail(struct dial *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	dial_tls_to_link(struct dial *);

static void
dial_tls_fail(struct dial *d, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(d->detail, sizeof(d->detail), "tls: ");
	va_start(ap, fmt);
	vsnprintf(d->detail + n, sizeof(d->detail) - (size_t)n, fmt, ap);
	va_end(ap);
	dial_finish(d, DIAL_TLS, NULL);		/* frees d->bev */
}

static void
dial_tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct dial		*d = arg;
	SSL			*ssl = bufferevent_openssl_get_ssl(bev);
	const unsigned char	*alpn = NULL;
	unsigned int		 alen = 0;
	unsigned long		 err;
	int			 serr = EVUTIL_SOCKET_ERROR();
	char			 why[384];

	if (what & BEV_EVENT_CONNECTED) {
		tls_ctx_detach(ssl);
		SSL_get0_alpn_selected(ssl, &alpn, &alen);
		if (tls_ctx_pg_direct(d->tls) && (alen != 10 ||
		    memcmp(alpn, "postgresql", 10) != 0)) {
			dial_tls_fail(d, "the server did not select ALPN "
			    "'postgresql' (sslnegotiation = direct needs "
			    "PostgreSQL 17 or later)");
			return;
		}
		tls_ctx_describe(ssl, d->detail, sizeof(d->detail));
		if (!(d->flags & DIAL_TLS_BEV)) {
			dial_tls_to_link(d);
			return;
		}
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(bev, EV_READ | EV_WRITE);
		d->tls_stage = DIAL_TLS_DONE;
		dial_finish(d, DIAL_OK, bev);
		return;
	}
	err = bufferevent_get_openssl_error(bev);
	if (err == 0 && (what & BEV_EVENT_ERROR) && serr != 0 &&
	    serr != EAGAIN && serr != EINTR)
		snprintf(why, sizeof(why), "handshake failed: %s",
		    evutil_socket_error_to_string(serr));
	else
		tls_ctx_explain(ssl, err, why, sizeof(why));
	while (bufferevent_get_openssl_error(bev) != 0)
		;
	tls_ctx_detach(ssl);
	dial_tls_fail(d, "%s", why);
}

/*
 * The handshake is done: the socket and the SSL (which the bufferevent,
 * made without BEV_OPT_CLOSE_ON_FREE, never owned) become a link.
 */
static void
dial_tls_to_link(struct dial *d)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(d->bev);
	int	 fd = bufferevent_getfd(d->bev);

	bufferevent_setcb(d->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(d->bev, EV_READ | EV_WRITE);
	bufferevent_free(d->bev);
	d->bev = NULL;
	d->tls_stage = DIAL_TLS_DONE;
	if ((d->link = tls_link_new(d->env.base, fd, ssl)) == NULL) {
		dial_tls_fail(d, "out of memory");
		return;
	}
	dial_finish(d, DIAL_OK, NULL);
}

void
dial_tls_cleanup(struct dial *d)
{
	SSL	*ssl;
	int	 fd;

	if (d->tls_stage != DIAL_TLS_HANDSHAKE || d->bev == NULL ||
	    (d->flags & DIAL_TLS_BEV))
		return;		/* dial_tcp_cleanup frees it all */
	ssl = bufferevent_openssl_get_ssl(d->bev);
	fd = bufferevent_getfd(d->bev);
	bufferevent_free(d->bev);
	d->bev = NULL;
	SSL_free(ssl);
	if (fd != -1)
		close(fd);
}

/* Hand the socket from the plain bufferevent to an OpenSSL one. */
static void
dial_tls_handshake(struct dial *d)
{
	evutil_socket_t		 fd = bufferevent_getfd(d->bev);
	struct bufferevent	*bev;
	SSL			*ssl;

	d->tls_stage = DIAL_TLS_HANDSHAKE;
	bufferevent_setcb(d->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(d->bev, EV_READ | EV_WRITE);
	bufferevent_setfd(d->bev, -1);		/* keep the socket */
	bufferevent_free(d->bev);
	d->bev = NULL;
	if ((ssl = tls_ctx_ssl(d->tls, d->tls_failure)) == NULL) {
		close(fd);
		dial_tls_fail(d, "out of memory");
		return;
	}
	/*
	 * For a link, without BEV_OPT_CLOSE_ON_FREE: the socket and the SSL
	 * stay ours (dial_tls_cleanup on failure, the link after the
	 * handshake).  With it, libevent frees the SSL even when it fails
	 * here: only the socket is then still ours.
	 */
	bev = bufferevent_openssl_socket_new(d->env.base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, (d->flags & DIAL_TLS_BEV) ?
	    BEV_OPT_CLOSE_ON_FREE : 0);
	if (bev == NULL) {
		if (!(d->flags & DIAL_TLS_BEV))
			SSL_free(ssl);
		close(fd);
		dial_tls_fail(d, "out of memory");
		return;
	}
	d->bev = bev;
	/* An EOF without close_notify is an EOF, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, NULL, NULL, dial_tls_event_cb, d);
}

/* The SSLRequest answer: one byte, 'S', and nothing after it. */
static void
dial_tls_sslrequest_read_cb(struct bufferevent *bev, void *arg)
{
	struct dial	*d = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 n = evbuffer_get_length(in);
	unsigned char	 c;

	if (n == 0 || evbuffer_copyout(in, &c, 1) != 1)
		return;
	if (c == 'N')
		dial_tls_fail(d, "the server does not accept TLS "
		    "(SSLRequest answered 'N')");
	else if (c != 'S')
		dial_tls_fail(d, "unexpected answer to the SSLRequest "
		    "(0x%02x)", c);
	else if (n > 1)
		/* Bytes before the handshake would bypass TLS (CVE-2021-23222). */
		dial_tls_fail(d, "the server sent data after 'S', before "
		    "the handshake");
	else
		dial_tls_handshake(d);
}

static void
dial_tls_sslrequest_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct dial	*d = arg;
	int		 serr = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_EOF)
		dial_tls_fail(d, "the server closed the connection after "
		    "the SSLRequest");
	else
		dial_tls_fail(d, "SSLRequest: %s",
		    evutil_socket_error_to_string(serr));
}

void
dial_tls_begin(struct dial *d)
{
	if (!tls_ctx_pg_sslrequest(d->tls)) {
		dial_tls_handshake(d);
		return;
	}
	d->tls_stage = DIAL_TLS_SSLREQUEST;
	bufferevent_setcb(d->bev, dial_tls_sslrequest_read_cb, NULL,
	    dial_tls_sslrequest_event_cb, d);
	if (bufferevent_write(d->bev, dial_tls_sslrequest_pkt,
	    sizeof(dial_tls_sslrequest_pkt)) != 0) {
		dial_tls_fail(d, "out of memory");
		return;
	}
	bufferevent_enable(d->bev, EV_READ | EV_WRITE);
}

int
dial_tls_timeout(struct dial *d)
{
	if (d->tls_stage == DIAL_TLS_SSLREQUEST)
		snprintf(d->detail, sizeof(d->detail), "tls: no answer to "
		    "the SSLRequest within %d ms", d->timeout_ms);
	else
		snprintf(d->detail, sizeof(d->detail), "tls: handshake "
		    "timeout after %d ms", d->timeout_ms);
	return (DIAL_TLS);
}

int
dial_tls_error(struct bufferevent *bev, char *buf, size_t len)
{
	unsigned long	 e, first = 0;
	const char	*reason;
	char		 code[128];

	if (bufferevent_openssl_get_ssl(bev) == NULL)
		return (0);
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (first == 0)
			first = e;
	}
	if (first == 0)
		return (0);
	if ((reason = ERR_reason_error_string(first)) == NULL) {
		ERR_error_string_n(first, code, sizeof(code));
		reason = code;
	}
	snprintf(buf, len, "tls: %s", reason);
	return (1);
}

int
dial_tls_close_notify(struct bufferevent *bev)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(bev);
	int	 rc;

	if (ssl == NULL || (SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
		return (0);
	if ((rc = SSL_shutdown(ssl)) >= 0)
		return (0);
	rc = SSL_get_error(ssl, rc);
	ERR_clear_error();
	return (rc == SSL_ERROR_WANT_WRITE ? -1 : 0);
}
