/*
 * session.c: the life of one proxied connection: accept, the PostgreSQL
 * startup phase, dialing and holding, the one close path and the reap.
 * What it watches once relaying is in session_watch.c.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "audit.h"
#include "clock.h"
#include "cluster_sess.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "dial.h"
#include "follow.h"
#include "guard.h"
#include "linger.h"
#include "log.h"
#include "pg_back.h"
#include "pg_cancel.h"
#include "pg_front.h"
#include "native_error.h"
#include "pagemem.h"
#include "route.h"
#include "service.h"
#include "session.h"
#include "session_int.h"

/* A client that connects must say who it is within this time. */
#define SESSION_STARTUP_TIMEOUT_MS	30000

static void	session_dial_next(struct session *, size_t);

static const char *const session_reason_names[] = {
	"relay", "no route", "route", "client", "shutdown", "internal error",
	"safe point", "idle"
};

const char *
session_prefix(const struct session *s, const struct route *r, char *buf,
    size_t len)
{
	char			 target[ADDR_STRLEN];
	const struct conf_route	*cr;

	if (r != NULL) {
		/* The server it dialed, for a Sentinel route's session. */
		cr = (r == s->route || r == s->dialing) && s->cr != NULL ?
		    s->cr : r->dial_cr != NULL ? r->dial_cr : r->cr;
	}
	/*
	 * -L: the path as the developer reads it, "s1 127.0.0.1:51234 ->
	 * 7391 -> redis.internal:6379 (via prod)"; the generated service
	 * and route names (L1, direct) mean nothing to them.
	 */
	if (s->svc->cs->label != NULL)
		snprintf(buf, len, "s%llu %s -> %s", (unsigned long long)s->id,
		    s->peer, r != NULL ? r->label : s->svc->label);
	else if (r == NULL)
		snprintf(buf, len, "s%llu %s %s", (unsigned long long)s->id,
		    s->svc->name, s->peer);
	else
		snprintf(buf, len, "s%llu %s %s -> %s %s",
		    (unsigned long long)s->id, s->svc->name, s->peer,
		    r->cr->name, addr_format(&cr->target, target,
		    sizeof(target)));
	return (buf);
}

static long
session_age_ms(const struct session *s)
{
	return ((long)clock_since(s->start));
}

static void
session_relay_done(struct relay *r, void *arg)
{
	struct session	*s = arg;

	session_close(s, SESSION_END_RELAY, NULL);
}

/* The startup reader and its memory, a page of its own (pg_front.h). */
static void
session_pg_free(struct session *s)
{
	if (s->pg == NULL)
		return;
	pg_front_free(s->pg);
	pagemem_free(daemon_dial_env(s->svc->px)->pm, s->pg, PG_FRONT_MEM);
	s->pg = NULL;
}

/*
 * A PostgreSQL session's first bytes (the startup packet and whatever
 * followed it), for the relay to send first, made from the reader's only
 * now: an evbuffer and its 1 KiB chain made at the startup and kept over
 * the dial were holes below the lasting objects of a pool that connected
 * at once; made and freed in this one callback, the next session's take
 * the same chunks (issue 27).  Returns 0, or -1 (out of memory, or a
 * startup that readonly cannot rewrite).
 */
static int
session_pg_first(struct session *s)
{
	const uint8_t	*b;
	size_t		 len;
	uint32_t	 plen;

	if (s->pg == NULL || s->cancel)
		return (0);
	b = pg_front_bytes(s->pg, &len);
	if (len < 4)
		return (-1);
	memcpy(&plen, b, 4);
	if ((s->first = evbuffer_new()) == NULL ||
	    evbuffer_add(s->first, b, len) != 0 ||
	    guard_startup(s->svc->cs, s->first, ntohl(plen)) != 0) {
		if (s->first != NULL)
			evbuffer_free(s->first);
		s->first = NULL;
		return (-1);
	}
	return (0);
}

static void
session_connected(struct session *s, const struct dial_result *res)
{
	int	fd = s->client, first;

	s->client = -1;
	s->route = s->dialing;
	s->dialing = NULL;
	session_set_upstream(s, res->peer);
	s->route->sessions_total++;
	s->route->sessions_active++;
	s->state = SESSION_RELAYING;
	/*
	 * The startup phase is over (its event deleted when it ended): the
	 * first bytes are made from its reader, which goes (a page of its
	 * own) before the relay makes its lasting events.  Not inside its
	 * own callback: this runs from the dial's.  Without memory for the
	 * first bytes, the relay still takes the fds, to close them.
	 */
	first = session_pg_first(s);
	session_pg_free(s);
	if (res->handed) {
		/* The master has the client's socket: no bytes pass here. */
		if (relay_start_handoff(&s->relay, daemon_base(s->svc->px), fd,
		    res->fd, session_relay_done, s) != 0)
			session_close(s, SESSION_END_INTERNAL, "out of memory");
		return;
	}
	if ((res->link != NULL ? relay_start_link(&s->relay,
	    daemon_base(s->svc->px), fd, res->link, s->first,
	    session_relay_done, s) : res->fd != -1 ? relay_start_fd(
	    &s->relay, daemon_base(s->svc->px), fd, res->fd, s->first,
	    session_relay_done, s) : relay_start(&s->relay,
	    daemon_base(s->svc->px), fd, res->bev, s->first,
	    session_relay_done, s)) != 0 || first != 0 ||
	    guard_start(s->svc->cs, &s->relay, &s->guard) != 0) {
		session_close(s, SESSION_END_INTERNAL, "out of memory");
		return;
	}
	/* The relay emptied s->first: an idle session does not keep it. */
	if (s->first != NULL)
		evbuffer_free(s->first);
	s->first = NULL;
	session_watch_start(s);
}

static void
session_dial_cb(const struct dial_result *res, void *arg)
{
	struct session	*s = arg;
	struct route	*r = s->dialing;
	char		 prefix[256];

	s->dial = NULL;
	if (res->status == DIAL_OK) {
		/* Layered transports say what they set up (TLS version...). */
		log_debug("%s: connected in %d ms%s%s%s", session_prefix(s, r,
		    prefix, sizeof(prefix)), res->elapsed_ms,
		    res->plain ? "" : " (", res->plain ? "" : res->detail,
		    res->plain ? "" : ")");
		session_connected(s, res);
		return;
	}
	s->dialing = NULL;
	if (res->status == DIAL_LOCAL) {
		/* postern's own limit: not the route's failure (issue 20). */
		log_warnx("%s: connect failed: %s (not counted against the "
		    "route)", session_prefix(s, r, prefix, sizeof(prefix)),
		    res->detail);
	} else {
		r->connect_failures++;
		log_info("%s: connect failed: %s", session_prefix(s, r,
		    prefix, sizeof(prefix)), res->detail);
		route_report(r, 0, ROUTE_EV_CONNECT, res->detail, clock_ms());
	}
	if (s->cancel) {
		/* Another server cannot cancel that query: no next route. */
		snprintf(prefix, sizeof(prefix), "cancel request: %s: %s",
		    r->cr->name, res->detail);
		route_unref(r);
		session_close(s, SESSION_END_NO_ROUTE, prefix);
		return;
	}
	route_unref(r);
	if (s->state == SESSION_DIALING)
		session_dial_next(s, s->pos + 1);
}

/* Room for a few routes' errors in a client's "no healthy route". */
#define SESSION_SUMMARY_LEN	(2 * LOG_DETAIL_LEN)

/* "private: connect timeout; public: connection refused" */
static const char *
session_routes_summary(const struct session *s, char *buf, size_t len)
{
	const struct route	*r;
	size_t			 i;
	int			 n = 0;

	buf[0] = '\0';
	for (i = 0; i < s->svc->nroutes && n >= 0 && (size_t)n < len; i++) {
		r = s->svc->order[i];
		n += snprintf(buf + n, len - (size_t)n, "%s%s: %s",
		    i ? "; " : "", r->cr->name,
		    r->admin != ROUTE_ADMIN_ENABLED ? route_admin_name(r->admin) :
		    r->refused[0] != '\0' ? r->refused :
		    r->last_error[0] != '\0' ? r->last_error :
		    route_state_name(r->state));
	}
	/* Many routes, each with a long error: cut, but say so. */
	if (n < 0 || (size_t)n >= len)
		memcpy(buf + len - 4, "...", 4);
	return (buf);
}

/*
 * Last words to the client (msg may be NULL), then a graceful close; the
 * linger takes the descriptor and msg and counts toward the service's
 * max_connections until it is done.
 */
static void
session_linger(struct session *s, struct evbuffer *msg)
{
	linger_start(daemon_base(s->svc->px), daemon_lingers(s->svc->px),
	    s->client, msg, service_linger_release,
	    service_linger_hold(s->svc));
}

/*
 * The client gets the protocol's own error, so an application logs "no
 * healthy route for service redis (...)" instead of a bare reset.
 */
static void
session_refuse(struct session *s)
{
	struct evbuffer	*msg;
	char		 text[SESSION_SUMMARY_LEN + 256], routes[SESSION_SUMMARY_LEN];

	snprintf(text, sizeof(text), "postern: no healthy route for service "
	    "%s (%s)", s->svc->label, session_routes_summary(s, routes,
	    sizeof(routes)));
	if ((msg = evbuffer_new()) != NULL &&
	    native_error(s->svc->cs->protocol, text, msg) != 0) {
		evbuffer_free(msg);	/* plain tcp: a graceful close */
		msg = NULL;
	}
	session_linger(s, msg);
	s->client = -1;		/* the linger owns it now */
}

static void
session_hold_expired(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	char		 routes[SESSION_SUMMARY_LEN];
	long		 left = s->svc->cs->hold_timeout_ms - session_age_ms(s);
	struct timeval	 tv;

	/* libevent armed the timer from the loop's cached time, which a
	 * busy turn leaves a few ms behind: it may fire early; wait out
	 * the rest, as the client was told (hold_timeout from accept). */
	if ((what & EV_TIMEOUT) && left > 0) {
		tv = clock_tv(left);
		evtimer_add(s->hold_timer, &tv);
		return;
	}
	session_close(s, SESSION_END_NO_ROUTE, session_routes_summary(s,
	    routes, sizeof(routes)));
}

/* No usable route now: wait for one until hold_timeout from accept. */
static void
session_hold(struct session *s)
{
	long		 left = s->svc->cs->hold_timeout_ms - session_age_ms(s);
	struct timeval	 tv;

	if (left <= 0 || s->svc->retired || daemon_stopping(s->svc->px)) {
		session_hold_expired(-1, 0, s);
		return;
	}
	if (s->hold_timer == NULL) {
		s->hold_timer = evtimer_new(daemon_base(s->svc->px),
		    session_hold_expired, s);
		if (s->hold_timer == NULL) {
			session_close(s, SESSION_END_INTERNAL, "out of memory");
			return;
		}
		tv = clock_tv(left);
		evtimer_add(s->hold_timer, &tv);
	}
	s->state = SESSION_HOLDING;
	service_hold(s->svc, s);
}

void
session_wake(struct session *s)
{
	if (s->state != SESSION_HOLDING)
		return;
	service_unhold(s->svc, s);
	s->state = SESSION_DIALING;
	session_dial_next(s, 0);
}

/*
 * The last resort: every route enabled by the operator (and not refused
 * by the identity guard: a wrong dataset is never a resort) is down.  Rather
 * than refuse all traffic on the word of health checks (which time out
 * on a saturated host while the server still serves), a new session
 * tries those routes once, in priority order, within its hold time.
 */
static size_t
session_last_resort(struct session *s, size_t from)
{
	struct service	*svc = s->svc;
	size_t		 i;

	if (from == 0) {
		if (s->last_resort)
			return (svc->nroutes);	/* tried them all once */
		for (i = 0; i < svc->nroutes; i++) {
			if (route_eligible(svc->order[i]) &&
			    svc->order[i]->state != ROUTE_STATE_DOWN)
				return (svc->nroutes);	/* not all down */
		}
		s->last_resort = 1;
		log_debug("s%llu %s: every route is down: trying them anyway",
		    (unsigned long long)s->id, svc->label);
	} else if (!s->last_resort)
		return (svc->nroutes);
	for (i = from; i < svc->nroutes; i++) {
		if (route_eligible(svc->order[i]))
			return (i);
	}
	return (svc->nroutes);
}

/* Dial the first usable route at or after position `from`. */
static void
session_dial_next(struct session *s, size_t from)
{
	struct service	*svc = s->svc;
	size_t		 i;
	long		 ms = svc->cs->connect_timeout_ms, left;

	i = s->last_resort && from > 0 ? svc->nroutes :
	    service_select(svc, from, clock_ms());
	if (i == svc->nroutes && (i = session_last_resort(s, from)) ==
	    svc->nroutes) {
		session_hold(s);
		return;
	}
	if (s->last_resort) {
		/* Within the hold: the client should not wait longer. */
		left = svc->cs->hold_timeout_ms - session_age_ms(s);
		if (left < ms)
			ms = left > 100 ? left : 100;
	}
	s->pos = i;
	s->dialing = route_ref(svc->order[i]);
	/* A Sentinel route's current master (eligible: it has one). */
	route_dial_release(s->cr);
	s->cr = route_dial_hold(s->dialing);
	s->epoch = s->dialing->epoch;
	s->dial = dial_start(daemon_dial_env(svc->px), s->cr,
	    (int)ms, DIAL_FD, session_dial_cb, s);
	if (s->dial == NULL) {
		session_close(s, SESSION_END_INTERNAL, "out of memory");
		return;
	}
	/*
	 * A session that needs none of its bytes may have its socket
	 * handed on whole (mux_forward = client): the kernel's byte
	 * counts are exact only for TCP, so only a TCP client.
	 */
	if (svc->cs->protocol == PROTO_TCP && s->tcp_client)
		dial_offer_client(s->dial, s->client);
}

/*
 * A CancelRequest goes to the server of the session that got that
 * backend key, over that session's route (TLS and SSLRequest included,
 * by the dial), or nowhere: a cancel sent to another server would be
 * ignored there at best.
 */
static void
session_cancel(struct session *s, const struct pg_front_msg *msg,
    const uint8_t *bytes, size_t len)
{
	struct route	*r;
	char		 prefix[256], why[96];
	const uint8_t	*bkey;
	size_t		 bkeylen;
	uint32_t	 bpid, head[3];
	int		 rc;

	r = pg_cancel_lookup(daemon_cancels(s->svc->px), msg->cancel_pid,
	    msg->cancel_key, msg->cancel_keylen, &bpid, &bkey, &bkeylen);
	if (r == NULL) {
		snprintf(why, sizeof(why), "cancel request for an unknown "
		    "backend (pid %u)", msg->cancel_pid);
		session_close(s, SESSION_END_CLIENT, why);
		return;
	}
	if ((s->first = evbuffer_new()) == NULL) {
		session_close(s, SESSION_END_INTERNAL, "out of memory");
		return;
	}
	if (bkey == msg->cancel_key || (bpid == msg->cancel_pid &&
	    bkeylen == msg->cancel_keylen &&
	    memcmp(bkey, msg->cancel_key, bkeylen) == 0))
		rc = evbuffer_add(s->first, bytes, len);
	else {
		/* A resumed session's backend has a key of its own
		 * (pgresume.h), maybe of another length: a new packet. */
		head[0] = htonl((uint32_t)(12 + bkeylen));
		head[1] = htonl(80877102);	/* CancelRequest */
		head[2] = htonl(bpid);
		if ((rc = evbuffer_add(s->first, head, sizeof(head))) == 0)
			rc = evbuffer_add(s->first, bkey, bkeylen);
	}
	if (rc != 0) {
		session_close(s, SESSION_END_INTERNAL, "out of memory");
		return;
	}
	s->cancel = 1;
	s->dialing = route_ref(r);
	log_info("%s: cancel request for backend pid %u (%zu-byte key) goes "
	    "to route %s", session_prefix(s, NULL, prefix, sizeof(prefix)),
	    msg->cancel_pid, msg->cancel_keylen, r->cr->name);
	s->dial = dial_start(daemon_dial_env(s->svc->px), r->cr,
	    s->svc->cs->connect_timeout_ms, DIAL_FD, session_dial_cb, s);
	if (s->dial == NULL)
		session_close(s, SESSION_END_INTERNAL, "out of memory");
}

/*
 * The postgres startup phase ended: dial, or end the session.  The
 * startup's bytes stay in the reader until the relay starts
 * (session_pg_first).
 */
static void
session_pg_cb(const struct pg_front_msg *msg, const uint8_t *bytes,
    size_t len, void *arg)
{
	struct session	*s = arg;
	struct evbuffer	*b;
	int		 rc;

	switch (msg->kind) {
	case PG_FRONT_CANCEL:
		session_cancel(s, msg, bytes, len);
		return;
	case PG_FRONT_STARTUP:
		/* Kept for a resume (follow.c), which only a service with
		 * auth_file at the session's start does: no secret in it. */
		if (s->svc->cs->auth != NULL && msg->len <= PG_MAX_STARTUP &&
		    msg->len <= len &&
		    (s->pg_startup = malloc(msg->len)) != NULL) {
			memcpy(s->pg_startup, bytes, msg->len);
			s->pg_startup_len = msg->len;
		}
		/* Refused now, not after a dial: readonly's rewrite is tried
		 * on a copy made and freed here (again at the connect). */
		if (s->svc->cs->readonly) {
			if ((b = evbuffer_new()) == NULL ||
			    evbuffer_add(b, bytes, len) != 0)
				rc = -2;
			else
				rc = guard_startup(s->svc->cs, b, msg->len);
			if (b != NULL)
				evbuffer_free(b);
			if (rc != 0) {
				session_close(s, rc == -2 ?
				    SESSION_END_INTERNAL : SESSION_END_CLIENT,
				    rc == -2 ? "out of memory" : "startup "
				    "packet postern cannot make read-only");
				return;
			}
		}
		session_dial_next(s, 0);
		return;
	case PG_FRONT_BAD:
		session_close(s, SESSION_END_CLIENT, msg->detail);
		return;
	default:
		session_close(s, SESSION_END_CLIENT, msg->detail);
		return;
	}
}

/*
 * idle_timeout: the relay's byte counts, looked at every quarter of it,
 * so no pump pays for a timestamp.  A session is closed between one and
 * one and a quarter idle_timeout after its last byte, never before;
 * dialing, holding and a PostgreSQL startup do not count as idle.
 */
static void
session_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	int		 ms = s->svc->cs->idle_timeout_ms;
	uint64_t	 bytes;
	int64_t		 now = clock_ms();
	int		 tick = ms / 4 > 50 ? ms / 4 : 50;	/* not a spin */
	struct timeval	 tv = { tick / 1000, (tick % 1000) * 1000 };
	char		 detail[64];

	relay_handoff_sync(&s->relay);
	bytes = s->relay.side[RELAY_CLIENT].bytes +
	    s->relay.side[RELAY_SERVER].bytes;
	if (s->state != SESSION_RELAYING || bytes != s->idle_bytes) {
		s->idle_bytes = bytes;
		s->idle_since = now;
	} else if (now - s->idle_since >= ms) {
		snprintf(detail, sizeof(detail), "no byte either way for "
		    "%d.%03ds (idle_timeout)", ms / 1000, ms % 1000);
		session_close(s, SESSION_END_IDLE, detail);
		return;
	}
	evtimer_add(s->idle_timer, &tv);
}

/* Start idle_timeout's clock; without memory for it, there is none. */
static void
session_idle_start(struct session *s)
{
	if (s->svc->cs->idle_timeout_ms == 0)
		return;
	s->idle_timer = evtimer_new(daemon_base(s->svc->px), session_idle_cb,
	    s);
	if (s->idle_timer != NULL)
		session_idle_cb(-1, EV_TIMEOUT, s);
}

void
session_new(struct service *svc, int fd, struct sockaddr *sa, socklen_t len)
{
	struct session	*s;
	struct postern	*px = svc->px;
	void		*mem;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warnx("service %s: out of memory for a session",
		    svc->label);
		close(fd);
		return;
	}
	s->id = daemon_next_session_id(px);
	s->svc = service_ref(svc);
	addr_from_sockaddr(sa, len, s->peer, sizeof(s->peer));
	s->start = clock_ms();
	audit_begin(svc->gen, fd, &s->wall_ms, &s->uid);
	s->state = SESSION_DIALING;
	relay_init(&s->relay);
	/*
	 * Already non-blocking (accept4), and with the listener's TCP
	 * options, which Linux copies to accepted sockets (listener_new).
	 * Client bytes wait in the kernel until the relay starts.
	 */
	s->client = fd;
	s->tcp_client = sa->sa_family == AF_INET || sa->sa_family == AF_INET6;
	svc->count->active++;
	svc->total++;
	TAILQ_INSERT_TAIL(daemon_sessions(px), s, entry);
	daemon_session_count(px, 1);
	session_idle_start(s);
	if (svc->cs->protocol != PROTO_POSTGRES) {
		session_dial_next(s, 0);
		return;
	}
	/* A page of its own: no hole in the heap after it (pg_front.h). */
	if ((mem = pagemem_new(daemon_dial_env(px)->pm, PG_FRONT_MEM)) ==
	    NULL) {
		session_close(s, SESSION_END_INTERNAL, "out of memory");
		return;
	}
	if ((s->pg = pg_front_start(daemon_base(px), fd, mem,
	    SESSION_STARTUP_TIMEOUT_MS, session_pg_cb, s)) == NULL) {
		pagemem_free(daemon_dial_env(px)->pm, mem, PG_FRONT_MEM);
		session_close(s, SESSION_END_INTERNAL, "out of memory");
	}
}

/* The session's audit record (audit.h), if its generation audits. */
static void
session_audit(const struct session *s, const char *why)
{
	struct audit_rec	 r;

	if (s->svc->gen->audit == AUDIT_OFF)
		return;
	memset(&r, 0, sizeof(r));
	r.id = s->id;
	r.service = s->svc->name;
	r.route = s->route != NULL ? s->route->cr->name : NULL;
	r.bastion = s->route != NULL ? s->route->cr->bastion : NULL;
	r.client = s->peer;
	r.end = why;
	r.uid = s->uid;
	r.start_ms = s->wall_ms;
	r.duration_ms = clock_since(s->start);
	r.up = s->relay.side[RELAY_CLIENT].bytes;
	r.down = s->relay.side[RELAY_SERVER].bytes;
	r.refused = guard_refusals(s->guard);
	audit_end(s->svc->gen, &r);
}

void
session_close(struct session *s, int reason, const char *detail)
{
	char		 prefix[256], why[SESSION_SUMMARY_LEN + 64];
	long		 ms;

	if (s->state == SESSION_CLOSED)
		return;
	relay_handoff_sync(&s->relay);	/* the kernel's counts, if handed */
	if (reason == SESSION_END_RELAY && s->relay.error != NULL &&
	    s->relay.error[0] != '\0')
		snprintf(why, sizeof(why), "%s: %s",
		    relay_end_name(s->relay.first_end), s->relay.error);
	else if (reason == SESSION_END_RELAY)
		snprintf(why, sizeof(why), "%s",
		    relay_end_name(s->relay.first_end));
	else if (detail != NULL)
		snprintf(why, sizeof(why), "%s: %s",
		    session_reason_names[reason], detail);
	else
		snprintf(why, sizeof(why), "%s", session_reason_names[reason]);
	ms = session_age_ms(s);
	log_info("%s: closed (%s) after %ld.%03lds, %llu bytes up, %llu "
	    "bytes down", session_prefix(s, s->route, prefix, sizeof(prefix)),
	    why, ms / 1000, ms % 1000,
	    (unsigned long long)s->relay.side[RELAY_CLIENT].bytes,
	    (unsigned long long)s->relay.side[RELAY_SERVER].bytes);
	session_audit(s, why);

	if (reason == SESSION_END_NO_ROUTE && s->client != -1) {
		if (s->state == SESSION_HOLDING)
			s->svc->count->hold_expired++;
		else
			s->svc->count->no_route++;
	}
	if (s->state == SESSION_HOLDING)
		service_unhold(s->svc, s);
	if (reason == SESSION_END_NO_ROUTE && s->client != -1)
		session_refuse(s);
	else if (reason == SESSION_END_SAFE && s->client != -1) {
		/* Taken back from the relay at an idle point: last words. */
		session_linger(s, s->last_words);
		s->client = -1;
		s->last_words = NULL;
	}
	s->state = SESSION_CLOSED;
	pg_cancel_del(daemon_cancels(s->svc->px), s->cancel_key);
	s->cancel_key = NULL;
	dial_cancel(s->dial);
	s->dial = NULL;
	if (s->hold_timer != NULL)
		evtimer_del(s->hold_timer);
	if (s->idle_timer != NULL)
		evtimer_del(s->idle_timer);
	session_watch_close(s, reason);
	if (s->pg != NULL)
		pg_front_stop(s->pg);	/* freed from the reap list */
	relay_stop(&s->relay);
	if (s->route != NULL) {
		s->route->sessions_active--;
		s->route->bytes_up += s->relay.side[RELAY_CLIENT].bytes -
		    s->route_base[RELAY_CLIENT];
		s->route->bytes_down += s->relay.side[RELAY_SERVER].bytes -
		    s->route_base[RELAY_SERVER];
	}
	s->svc->count->active--;
	TAILQ_REMOVE(daemon_sessions(s->svc->px), s, entry);
	daemon_session_count(s->svc->px, -1);
	TAILQ_INSERT_TAIL(daemon_reap_list(s->svc->px), s, entry);
	daemon_reap_soon(s->svc->px);
}

void
session_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct postern		*px = arg;
	struct session_list	*reap = daemon_reap_list(px);
	struct session		*s;

	while ((s = TAILQ_FIRST(reap)) != NULL) {
		TAILQ_REMOVE(reap, s, entry);
		session_free(s);
	}
	daemon_reaped(px);
}

void
session_set_upstream(struct session *s, const struct sockaddr *sa)
{
	if ((s->has_upaddr = sa != NULL))
		memcpy(&s->upaddr, sa, sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
}

void
session_route_moved(struct session *s, struct route *r)
{
	struct route	*old = s->route;
	int		 i;

	old->sessions_active--;
	old->bytes_up += s->relay.side[RELAY_CLIENT].bytes -
	    s->route_base[RELAY_CLIENT];
	old->bytes_down += s->relay.side[RELAY_SERVER].bytes -
	    s->route_base[RELAY_SERVER];
	for (i = 0; i < 2; i++)
		s->route_base[i] = s->relay.side[i].bytes;
	s->route = route_ref(r);
	r->sessions_total++;
	r->sessions_active++;
	route_unref(old);
}

void
session_free(struct session *s)
{
	follow_free(s->follow);
	cluster_sess_free(s->cluster);
	free(s->pg_startup);
	if (s->last_words != NULL)
		evbuffer_free(s->last_words);
	if (s->client != -1)
		close(s->client);
	relay_release(&s->relay);
	if (s->hold_timer != NULL)
		event_free(s->hold_timer);
	if (s->idle_timer != NULL)
		event_free(s->idle_timer);
	session_pg_free(s);
	if (s->first != NULL)
		evbuffer_free(s->first);
	if (s->pgback != NULL)
		pg_back_wipe(s->pgback);
	free(s->pgback);
	guard_free(s->guard);
	route_dial_release(s->cr);	/* after the relay and dial are gone */
	route_unref(s->dialing);
	route_unref(s->route);
	service_unref(s->svc);
	free(s);
}
