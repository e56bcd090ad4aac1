/*
 * pg_rs_read.c: a resume's handshake, read (pg_rs_read.h).
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "pg_auth.h"
#include "pg_rs_read.h"

int
pg_rs_init(struct pg_rs *r, struct pg_auth *auth, struct evbuffer *replay,
    int nz, const struct pg_state *st)
{
	const char	*v;
	size_t		 i;

	memset(r, 0, sizeof(*r));
	r->auth = auth;
	r->nz = nz;
	for (i = 0; i < PG_STATE_NPARAMS; i++)
		if ((v = pg_state_param(st, i)) != NULL) {
			snprintf(r->want[i], sizeof(r->want[i]), "%s", v);
			r->wanted[i] = 1;
		}
	if ((r->replay = evbuffer_new()) == NULL ||
	    (r->buf = malloc(PG_RS_MAX_MESSAGE)) == NULL) {
		evbuffer_drain(replay, evbuffer_get_length(replay));
		pg_rs_clear(r);
		return (-1);
	}
	evbuffer_add_buffer(r->replay, replay);
	return (0);
}

void
pg_rs_clear(struct pg_rs *r)
{
	pg_auth_free(r->auth);
	r->auth = NULL;
	OPENSSL_cleanse(r->key, sizeof(r->key));
	r->keylen = 0;
	if (r->replay != NULL)
		evbuffer_free(r->replay);
	r->replay = NULL;
	if (r->buf != NULL) {
		OPENSSL_cleanse(r->buf, r->blen);
		free(r->buf);
	}
	r->buf = NULL;
}

static int
pg_rs_fail(struct pg_rs *r, const char *why)
{
	snprintf(r->error, sizeof(r->error), "%s", why);
	r->phase = PG_RS_DONE;
	return (PG_RS_FAIL);
}

/* An ErrorResponse: "SQLSTATE: message", printable only. */
static int
pg_rs_error(struct pg_rs *r, const char *what, const uint8_t *p, size_t n)
{
	char		 code[8] = "?", msg[160] = "";
	const uint8_t	*end = p + n, *z;
	char		*o;
	size_t		 i;

	while (p < end && *p != '\0' &&
	    (z = memchr(p + 1, '\0', (size_t)(end - p - 1))) != NULL) {
		o = *p == 'C' ? code : *p == 'M' ? msg : NULL;
		if (o != NULL) {
			i = (size_t)(z - p - 1);
			if (i >= (o == code ? sizeof(code) : sizeof(msg)))
				i = (o == code ? sizeof(code) : sizeof(msg)) -
				    1;
			memcpy(o, p + 1, i);
			o[i] = '\0';
			for (; i > 0; i--)
				if (o[i - 1] < 32 || o[i - 1] > 126)
					o[i - 1] = '?';
		}
		p = z + 1;
	}
	snprintf(r->error, sizeof(r->error), "%s: %s %s", what, code, msg);
	r->phase = PG_RS_DONE;
	return (PG_RS_FAIL);
}

static void
pg_rs_param(struct pg_rs *r, const uint8_t *p, size_t n)
{
	const uint8_t	*z;
	size_t		 i, vlen;

	if ((z = memchr(p, '\0', n)) == NULL)
		return;
	for (i = 0; i < PG_STATE_NPARAMS; i++) {
		if (strcmp((const char *)p, pg_state_param_names[i]) != 0)
			continue;
		vlen = strnlen((const char *)z + 1, n - (size_t)(z + 1 - p));
		if (vlen >= PG_STATE_VALUE_MAX)
			vlen = PG_STATE_VALUE_MAX - 1;
		memcpy(r->param[i], z + 1, vlen);
		r->param[i][vlen] = '\0';
		r->have[i] = 1;
	}
}

/* The major version: digits up to the first '.' or blank. */
static size_t
pg_rs_major(const char *v)
{
	size_t	n = 0;

	while (v[n] >= '0' && v[n] <= '9')
		n++;
	return (n);
}

/* Everything the client saw is the same here? */
static int
pg_rs_compare(struct pg_rs *r)
{
	size_t	i, n;
	int	same;

	for (i = 0; i < PG_STATE_NPARAMS; i++) {
		if (!r->wanted[i])
			continue;
		if (!r->have[i])
			same = 0;
		else if (strcmp(pg_state_param_names[i], "server_version") ==
		    0)
			same = (n = pg_rs_major(r->want[i])) > 0 &&
			    n == pg_rs_major(r->param[i]) &&
			    strncmp(r->want[i], r->param[i], n) == 0;
		else
			same = strcmp(r->want[i], r->param[i]) == 0;
		if (!same) {
			snprintf(r->error, sizeof(r->error), "parameter %s "
			    "differs: '%s' there, '%s' before",
			    pg_state_param_names[i], r->have[i] ? r->param[i] :
			    "(none)", r->want[i]);
			r->phase = PG_RS_DONE;
			return (PG_RS_FAIL);
		}
	}
	r->phase = PG_RS_DONE;
	return (PG_RS_READY);
}

static int
pg_rs_auth(struct pg_rs *r, const uint8_t *p, size_t n, struct evbuffer *out)
{
	const unsigned char	*reply;
	size_t			 rlen;

	switch (pg_auth_step(r->auth, p, n)) {
	case PG_AUTH_MORE:
		if ((reply = pg_auth_reply(r->auth, &rlen)) != NULL &&
		    evbuffer_add(out, reply, rlen) != 0)
			return (pg_rs_fail(r, "out of memory"));
		return (PG_RS_MORE);
	case PG_AUTH_OK:
		r->phase = PG_RS_STARTUP;
		return (PG_RS_MORE);
	case PG_AUTH_NEED_PASSWORD:
		return (pg_rs_fail(r, "the server asks for a password and "
		    "auth_file has none for this user"));
	}
	snprintf(r->error, sizeof(r->error), "authentication: %s",
	    pg_auth_error(r->auth));
	r->phase = PG_RS_DONE;
	return (PG_RS_FAIL);
}

/* One whole message. */
static int
pg_rs_message(struct pg_rs *r, uint8_t type, const uint8_t *p, size_t n,
    struct evbuffer *out)
{
	if (type == 'E')
		return (pg_rs_error(r, r->phase == PG_RS_REPLAY ? "the replay "
		    "failed" : "the server refused the session", p, n));
	if (type == 'N')
		return (PG_RS_MORE);
	switch (r->phase) {
	case PG_RS_AUTH:
		if (type == 'R')
			return (pg_rs_auth(r, p, n, out));
		if (type == 'v')	/* NegotiateProtocolVersion */
			return (PG_RS_MORE);
		break;
	case PG_RS_STARTUP:
		if (type == 'S') {
			pg_rs_param(r, p, n);
			return (PG_RS_MORE);
		}
		/* The key as the server sent it: 3.2 keys are longer. */
		if (type == 'K' && n >= 4 + PG_RS_KEY_MIN &&
		    n <= 4 + PG_RS_KEY_MAX) {
			memcpy(&r->pid, p, 4);
			r->pid = ntohl(r->pid);
			memcpy(r->key, p + 4, n - 4);
			r->keylen = n - 4;
			return (PG_RS_MORE);
		}
		if (type == 'Z' && n == 1) {
			if (p[0] != 'I')
				return (pg_rs_fail(r, "the new session is not "
				    "idle after its startup"));
			if (evbuffer_add_buffer(out, r->replay) != 0)
				return (pg_rs_fail(r, "out of memory"));
			if (r->nz == 0)
				return (pg_rs_compare(r));
			r->phase = PG_RS_REPLAY;
			return (PG_RS_MORE);
		}
		break;
	case PG_RS_REPLAY:
		if (type == 'S') {
			pg_rs_param(r, p, n);
			return (PG_RS_MORE);
		}
		if (type == 'Z') {
			if (n != 1 || p[0] != 'I')
				return (pg_rs_fail(r, "the replay left a "
				    "transaction open"));
			if (--r->nz == 0)
				return (pg_rs_compare(r));
			return (PG_RS_MORE);
		}
		if (type == '1' || type == 'C')
			return (PG_RS_MORE);
		break;
	case PG_RS_DONE:
		return (pg_rs_fail(r, "unexpected bytes after the replay"));
	}
	return (pg_rs_fail(r, "a message the handshake does not expect"));
}

int
pg_rs_feed(struct pg_rs *r, const uint8_t *p, size_t n, struct evbuffer *out)
{
	uint32_t	l;
	size_t		k;
	int		rc = PG_RS_MORE;

	while (n > 0) {
		if (r->phase == PG_RS_DONE)
			return (pg_rs_fail(r, "unexpected bytes after the "
			    "replay"));
		if (r->hlen < 5) {
			k = 5 - r->hlen < n ? 5 - r->hlen : n;
			memcpy(r->hdr + r->hlen, p, k);
			r->hlen += k;
			p += k;
			n -= k;
			if (r->hlen < 5)
				break;
			memcpy(&l, r->hdr + 1, 4);
			l = ntohl(l);
			if (l < 4 || l - 4 > PG_RS_MAX_MESSAGE)
				return (pg_rs_fail(r, "a message length out of "
				    "bounds"));
			r->left = l - 4;
			r->blen = 0;
		}
		k = r->left < n ? r->left : n;
		memcpy(r->buf + r->blen, p, k);
		r->blen += k;
		r->left -= (uint32_t)k;
		p += k;
		n -= k;
		if (r->left > 0)
			break;
		r->hlen = 0;
		rc = pg_rs_message(r, r->hdr[0], r->buf, r->blen, out);
		OPENSSL_cleanse(r->buf, r->blen);
		r->blen = 0;
		if (rc != PG_RS_MORE)
			return (rc == PG_RS_READY && n > 0 ? pg_rs_fail(r,
			    "unexpected bytes after the replay") : rc);
	}
	return (rc);
}
