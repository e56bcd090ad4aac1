/*
 * pgresume.c: dial, log in and replay for a PostgreSQL session's resume
 * (pgresume.h).  The I/O around pg_rs_read.c, as move.c does it for
 * Redis.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <openssl/crypto.h>

#include "authfile.h"
#include "clock.h"
#include "dial.h"
#include "link.h"
#include "pg_auth.h"
#include "pgresume.h"
#include "pg_rs_read.h"
#include "pg_state.h"
#include "scram.h"

enum pgresume_state {
	PGRESUME_DIALING,
	PGRESUME_HANDSHAKE,
	PGRESUME_READY,
	PGRESUME_FAILED
};

struct pgresume {
	enum pgresume_state	 state;
	struct dial		*dial;
	struct bufferevent	*bev;
	struct link		*link;
	struct event		*timer;		/* reply_ms */
	int			 reply_ms;
	struct evbuffer		*out;		/* to send */
	struct pg_rs		 rd;
	int			 rd_init;
	pgresume_cb		*cb;
	void			*arg;
	struct sockaddr_storage	 peer;		/* the new server (TCP) */
	int			 have_peer;
};

/* Stop listening to the upstream: the session decides what is next. */
static void
pgresume_quiet(struct pgresume *r)
{
	evtimer_del(r->timer);
	if (r->link != NULL) {
		link_pause(r->link, 1);
		link_attach(r->link, NULL, NULL);
	}
	if (r->bev != NULL) {
		bufferevent_disable(r->bev, EV_READ | EV_WRITE);
		bufferevent_setcb(r->bev, NULL, NULL, NULL, NULL);
	}
}

static void
pgresume_end(struct pgresume *r, int ok, const char *why)
{
	if (r->state == PGRESUME_READY || r->state == PGRESUME_FAILED)
		return;
	r->state = ok ? PGRESUME_READY : PGRESUME_FAILED;
	pgresume_quiet(r);
	r->cb(r, ok, why, r->arg);
}

/* Send what the reader queued. */
static int
pgresume_flush(struct pgresume *r)
{
	if (evbuffer_get_length(r->out) == 0)
		return (0);
	if (r->link != NULL)
		return (link_write(r->link, r->out) == -1 ? -1 : 0);
	return (bufferevent_write_buffer(r->bev, r->out));
}

static void
pgresume_bytes(struct pgresume *r, const uint8_t *buf, size_t len)
{
	int	rc;

	if (r->state != PGRESUME_HANDSHAKE)
		return;
	rc = pg_rs_feed(&r->rd, buf, len, r->out);
	if (rc == PG_RS_FAIL) {
		pgresume_end(r, 0, r->rd.error);
		return;
	}
	if (pgresume_flush(r) != 0) {
		pgresume_end(r, 0, "the connection failed");
		return;
	}
	if (rc == PG_RS_READY)
		pgresume_end(r, 1, NULL);
}

static void
pgresume_read_cb(struct bufferevent *bev, void *arg)
{
	struct pgresume	*r = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 n = evbuffer_get_length(in);
	uint8_t		*p;

	/* A login and a replay's replies are small: one piece. */
	if (r->state != PGRESUME_HANDSHAKE || n == 0 ||
	    (p = evbuffer_pullup(in, -1)) == NULL)
		return;
	pgresume_bytes(r, p, n);
	evbuffer_drain(in, n);
}

static void
pgresume_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct pgresume	*r = arg;
	char		 why[160];

	dial_bev_error(bev, EVUTIL_SOCKET_ERROR(), why, sizeof(why));
	pgresume_end(r, 0, (what & BEV_EVENT_EOF) ? "the server closed" : why);
}

static void
pgresume_link_data(void *arg, const uint8_t *buf, size_t len)
{
	pgresume_bytes(arg, buf, len);
}

static void
pgresume_link_eof(void *arg)
{
	pgresume_end(arg, 0, "the server closed");
}

static void
pgresume_link_error(void *arg, const char *why)
{
	pgresume_end(arg, 0, why);
}

static void
pgresume_link_writable(void *arg)
{
}

static const struct link_user pgresume_link_user = {
	pgresume_link_data,
	pgresume_link_eof,
	pgresume_link_eof,
	pgresume_link_error,
	pgresume_link_writable,
	NULL,			/* no sink: data() copies */
	NULL
};

static void
pgresume_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pgresume	*r = arg;
	char		 why[96];

	snprintf(why, sizeof(why), "no login and replay within %d ms",
	    r->reply_ms);
	pgresume_end(r, 0, why);
}

static void
pgresume_dial_cb(const struct dial_result *res, void *arg)
{
	struct pgresume	*r = arg;
	struct timeval	 tv = clock_tv(r->reply_ms);
	char		 why[300];

	r->dial = NULL;
	if (res->status != DIAL_OK) {
		snprintf(why, sizeof(why), "connect failed: %s", res->detail);
		pgresume_end(r, 0, why);
		return;
	}
	r->state = PGRESUME_HANDSHAKE;
	/* The session's upstream once swapped: its route's name check and
	 * its log prefix compare with it (move.c keeps it alike). */
	if ((r->have_peer = res->peer != NULL))
		memcpy(&r->peer, res->peer, res->peer->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	evtimer_add(r->timer, &tv);
	if (res->link != NULL) {
		r->link = res->link;
		link_attach(r->link, &pgresume_link_user, r);
		if (pgresume_flush(r) != 0) {
			pgresume_end(r, 0, "the channel failed");
			return;
		}
		link_pause(r->link, 0);
		return;
	}
	r->bev = res->bev;
	bufferevent_setcb(r->bev, pgresume_read_cb, NULL, pgresume_event_cb,
	    r);
	if (pgresume_flush(r) != 0 ||
	    bufferevent_enable(r->bev, EV_READ | EV_WRITE) != 0)
		pgresume_end(r, 0, "out of memory");
}

struct pgresume *
pgresume_start(const struct dial_env *env, const struct conf_route *cr,
    int connect_ms, int reply_ms, const uint8_t *startup, size_t slen,
    struct pg_auth *auth, struct evbuffer *replay, int nz,
    const struct pg_state *st, pgresume_cb *cb, void *arg)
{
	struct pgresume	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		pg_auth_free(auth);
		evbuffer_drain(replay, evbuffer_get_length(replay));
		return (NULL);
	}
	r->reply_ms = reply_ms;
	r->cb = cb;
	r->arg = arg;
	if (pg_rs_init(&r->rd, auth, replay, nz, st) != 0)
		goto fail;
	r->rd_init = 1;
	if ((r->out = evbuffer_new()) == NULL ||
	    evbuffer_add(r->out, startup, slen) != 0 ||
	    (r->timer = evtimer_new(env->base, pgresume_timeout, r)) == NULL ||
	    (r->dial = dial_start(env, cr, connect_ms, 0, pgresume_dial_cb,
	    r)) == NULL)
		goto fail;
	return (r);
fail:
	pgresume_free(r);
	return (NULL);
}

void
pgresume_take(struct pgresume *r, struct bufferevent **bev,
    struct link **link, uint32_t *pid, const uint8_t **key, size_t *keylen)
{
	*bev = r->bev;
	*link = r->link;
	r->bev = NULL;
	r->link = NULL;
	*pid = r->rd.keylen > 0 ? r->rd.pid : 0;
	*key = r->rd.key;
	*keylen = r->rd.keylen;
}

const struct sockaddr *
pgresume_peer(const struct pgresume *r)
{
	return (r->have_peer ? (const struct sockaddr *)&r->peer : NULL);
}

void
pgresume_free(struct pgresume *r)
{
	if (r == NULL)
		return;
	dial_cancel(r->dial);
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->bev != NULL)
		bufferevent_free(r->bev);
	link_close(r->link);
	if (r->out != NULL)
		evbuffer_free(r->out);
	if (r->rd_init)
		pg_rs_clear(&r->rd);
	free(r);
}

/* A value of the StartupMessage startup, or NULL. */
static const char *
pgresume_startup(const uint8_t *startup, size_t slen, const char *name)
{
	const char	*p, *end, *v;

	if (slen < 9)
		return (NULL);
	p = (const char *)startup + 8;
	end = (const char *)startup + slen;
	while (p < end && *p != '\0') {
		if ((v = memchr(p, '\0', (size_t)(end - p))) == NULL ||
		    memchr(v + 1, '\0', (size_t)(end - v - 1)) == NULL)
			return (NULL);
		if (strcmp(p, name) == 0)
			return (v + 1);
		p = v + 1 + strlen(v + 1) + 1;
	}
	return (NULL);
}

/* The secret of e for st's login, into ap (k: SCRAM keys); NULL or why not. */
static const char *
pgresume_secret(const struct authfile_entry *e, struct pg_state *st,
    unsigned char *ckey, int *have_ckey, struct pg_auth_params *ap,
    struct scram_keys *k)
{
	if (e->kind == AUTHFILE_PLAIN) {
		ap->password = e->secret;
		return (NULL);
	}
	if (e->kind == AUTHFILE_MD5) {
		if (st->login == PG_STATE_LOGIN_SCRAM)
			return ("it logged in with SCRAM and auth_file holds "
			    "an md5 hash for its user");
		ap->md5_hash = e->secret;
		return (NULL);
	}
	if (st->login != PG_STATE_LOGIN_SCRAM && st->login !=
	    PG_STATE_LOGIN_TRUST)
		return ("auth_file holds a SCRAM secret and the session "
		    "logged in otherwise");
	if (st->login == PG_STATE_LOGIN_SCRAM && !*have_ckey) {
		if (scram_client_key(e->stored_key, st->scram[0],
		    st->scram_len[0], st->scram[1], st->scram_len[1],
		    st->scram[2], st->scram_len[2], ckey) != 0)
			return ("the client's SCRAM proof does not fit "
			    "auth_file's secret for its user");
		*have_ckey = 1;
		pg_state_scram_wipe(st);
	}
	if (!*have_ckey)
		return (NULL);	/* trust: no secret needed, none given */
	memcpy(k->client_key, ckey, SCRAM_KEY_SIZE);
	memcpy(k->stored_key, e->stored_key, SCRAM_KEY_SIZE);
	memcpy(k->server_key, e->server_key, SCRAM_KEY_SIZE);
	k->salt = e->salt;
	k->salt_len = e->salt_len;
	k->iterations = e->iterations;
	ap->keys = k;
	return (NULL);
}

const char *
pgresume_login(const struct authfile *af, const uint8_t *startup,
    size_t slen, struct pg_state *st, int tls, int allow_md5,
    unsigned char *ckey, int *have_ckey, struct pg_auth **authp)
{
	const struct authfile_entry	*e;
	struct pg_auth_params		 ap;
	struct scram_keys		 k;
	const char			*user, *why;

	*authp = NULL;
	user = pgresume_startup(startup, slen, "user");
	if (user == NULL)
		return ("no user in its StartupMessage");
	if (pgresume_startup(startup, slen, "replication") != NULL)
		return ("a replication connection");
	if ((e = authfile_find(af, user)) == NULL)
		return ("its user is not in auth_file");
	if ((why = pg_state_why(st)) != NULL)
		return (why);
	memset(&ap, 0, sizeof(ap));
	memset(&k, 0, sizeof(k));
	ap.user = user;
	ap.tls = tls;
	ap.allow_md5 = allow_md5;
	if ((why = pgresume_secret(e, st, ckey, have_ckey, &ap, &k)) == NULL &&
	    (*authp = pg_auth_new(&ap)) == NULL)
		why = "out of memory";
	OPENSSL_cleanse(&k, sizeof(k));
	return (why);
}
