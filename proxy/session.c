/*
 * session.c: the life of one proxied connection.
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
#include "resp_first.h"
#include "route.h"
#include "service.h"
#include "session.h"
#include "sockopt.h"

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

/*
 * The server's first byte: the route answered a real session.  Only this,
 * never the TCP connect (a stopped server's kernel still completes it),
 * is a session's success; and with active checks it moves nothing.
 */
static void
session_answered(struct session *s)
{
	if (s->answer == SESSION_ANSWER_DONE)
		return;
	/* Never armed again: an idle session holds no timer (issue 27). */
	if (s->answer_timer != NULL)
		event_free(s->answer_timer);
	s->answer_timer = NULL;
	if (s->answer != SESSION_ANSWER_LATE)
		route_report(s->route, 1, ROUTE_EV_ANSWER, "answered",
		    clock_ms());
	s->answer = SESSION_ANSWER_DONE;
}

/*
 * response_timeout passed without a byte from the server: a failure of
 * the route, as a failed check is.  The session itself goes on: the
 * answer may still come, and the client decides how long to wait.
 */
static void
session_answer_late(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	char		 prefix[256], why[128];

	s->answer = SESSION_ANSWER_LATE;
	snprintf(why, sizeof(why), "no answer to %s within %d ms", s->request,
	    s->svc->cs->response_timeout_ms);
	log_info("%s: %s", session_prefix(s, s->route, prefix,
	    sizeof(prefix)), why);
	route_report(s->route, 0, ROUTE_EV_ANSWER, why, clock_ms());
}

/* The server must answer request soon: start response_timeout. */
static void
session_expect_answer(struct session *s, const char *request)
{
	struct timeval	tv = clock_tv(s->svc->cs->response_timeout_ms);

	if (s->answer != SESSION_ANSWER_NONE ||
	    s->svc->cs->response_timeout_ms == 0)
		return;
	if (s->answer_timer == NULL &&
	    (s->answer_timer = evtimer_new(daemon_base(s->svc->px),
	    session_answer_late, s)) == NULL)
		return;		/* out of memory: no passive check */
	if (request != s->request)
		snprintf(s->request, sizeof(s->request), "%s", request);
	s->answer = SESSION_ANSWER_WAITING;
	evtimer_add(s->answer_timer, &tv);
}

/*
 * A Redis client's first bytes: does its first command need a prompt
 * answer?  A blocking one (BLPOP) does not, nor one we cannot name.
 * Returns 1 once that is decided.
 */
static int
session_redis_head(struct session *s, const uint8_t *buf, size_t len)
{
	char		 name[RESP_FIRST_NAME_MAX];
	size_t		 n = sizeof(s->head) - s->headlen;

	if (n > len)
		n = len;
	memcpy(s->head + s->headlen, buf, n);
	s->headlen += n;
	switch (resp_first_name(s->head, s->headlen, name)) {
	case RESP_FIRST_MORE:
		if (s->headlen < sizeof(s->head))
			return (0);
		break;
	case RESP_FIRST_NAME:
		/*
		 * Timed only once the whole command has passed (the
		 * tracker counts it): a client that sends half a command
		 * and stops must not count against the route.
		 */
		if (s->answer == SESSION_ANSWER_NONE && s->follow != NULL &&
		    resp_first_prompt(name)) {
			snprintf(s->request, sizeof(s->request), "%s", name);
			s->answer_due = 1;
		}
		break;
	case RESP_FIRST_BAD:
		break;
	}
	return (1);
}

/*
 * The client's bytes: the first command's name (redis), and for a
 * session that follows its route, every byte (follow.h).
 */
static int
session_client_tap(const uint8_t *buf, size_t len, void *arg)
{
	struct session	*s = arg;
	int		 done = 1;

	if (!s->head_done && s->svc->cs->protocol == PROTO_REDIS)
		s->head_done = session_redis_head(s, buf, len);
	if (s->cluster != NULL)
		cluster_sess_client(s->cluster, buf, len);
	if (s->follow != NULL)
		done = follow_client(s->follow, buf, len);
	if (s->answer_due && follow_requests(s->follow) > 0) {
		s->answer_due = 0;
		session_expect_answer(s, s->request);
	} else if (done)
		s->answer_due = 0;	/* the tracker lost the stream */
	return (done && s->head_done && !s->answer_due && s->cluster == NULL);
}

/* The server's bytes: its first one, then what a follower needs. */
static int
session_server_tap(const uint8_t *buf, size_t len, void *arg)
{
	struct session	*s = arg;

	session_answered(s);
	return (s->follow == NULL || follow_server(s->follow, buf, len));
}

/*
 * The server's startup messages pass by: remember the backend's cancel
 * key (BackendKeyData), so that a CancelRequest quoting it finds this
 * route.  Bounded (pg_back.h); stops at the key.
 */
static int
session_pg_tap(const uint8_t *buf, size_t len, void *arg)
{
	struct session	*s = arg;
	char		 prefix[256];
	int		 done = 1;

	session_answered(s);
	if (s->follow != NULL)
		done = follow_server(s->follow, buf, len);
	if (s->pgback == NULL)
		return (done);
	switch (pg_back_feed(s->pgback, buf, len)) {
	case PG_BACK_MORE:
		return (0);
	case PG_BACK_KEY:
		s->cancel_key = pg_cancel_add(daemon_cancels(s->svc->px),
		    s->pgback->pid, s->pgback->body + 4, s->pgback->keylen,
		    s->route);
		log_debug("%s: backend pid %u, %zu-byte cancel key%s",
		    session_prefix(s, s->route, prefix, sizeof(prefix)),
		    s->pgback->pid, s->pgback->keylen,
		    s->cancel_key == NULL ? " (out of memory: not "
		    "cancellable)" : "");
		break;
	case PG_BACK_NONE:
		log_debug("%s: no cancel key: %s", session_prefix(s, s->route,
		    prefix, sizeof(prefix)), s->pgback->why);
		break;
	}
	pg_back_wipe(s->pgback);
	free(s->pgback);	/* done with the startup */
	s->pgback = NULL;
	return (done);
}

/* cluster = yes: the node addresses in replies become postern's. */
static void
session_cluster(struct session *s)
{
	char	prefix[256];

	if (s->svc->cluster == NULL)
		return;
	session_prefix(s, s->route, prefix, sizeof(prefix));
	if ((s->cluster = cluster_sess_new(s->svc->cluster, prefix)) == NULL ||
	    relay_rewrite_set(&s->relay, cluster_sess_server, s->cluster) != 0)
		log_warnx("%s: cluster: out of memory: replies pass unchanged",
		    prefix);
}

/*
 * The server's first read on a tls:// route: an AuthenticationSASL that
 * offers SCRAM-SHA-256-PLUS goes to the client without it.  The binding
 * would be to postern's TLS, which the client's plain leg has no part
 * in, and libpq refuses a -PLUS offer on a plain connection: SCRAM
 * through a tls:// route failed before it began.  The client then binds
 * nothing ("n"), which the server accepts.
 */
static size_t
session_pg_edit(void *arg, struct evbuffer *buf, size_t off, size_t n)
{
	struct session	*s = arg;
	uint8_t		 m[512];
	size_t		 nl;
	char		 prefix[256];

	if (off != 0 || n > sizeof(m) || evbuffer_get_length(buf) != n ||
	    evbuffer_copyout(buf, m, n) != (ev_ssize_t)n)
		return (n);
	if ((nl = pg_back_hide_plus(m, n)) == n)
		return (n);
	if (evbuffer_drain(buf, n) != 0 || evbuffer_add(buf, m, nl) != 0)
		return (evbuffer_get_length(buf));
	log_debug("%s: SCRAM-SHA-256-PLUS offered on postern's TLS leg: "
	    "passed on without it", session_prefix(s, s->route, prefix,
	    sizeof(prefix)));
	return (nl);
}

/*
 * Watch what tells about the route: the server's first byte, and for
 * protocols with a request that must be answered, how long it takes.
 * A cancel request gets no answer at all.
 */
static void
session_watch(struct session *s)
{
	if (s->cancel)
		return;
	/* Redis and PostgreSQL sessions follow their route (follow.h). */
	if (s->svc->cs->protocol != PROTO_TCP)
		s->follow = follow_new(s);
	switch (s->svc->cs->protocol) {
	case PROTO_POSTGRES:
		if ((s->pgback = malloc(sizeof(*s->pgback))) != NULL)
			pg_back_init(s->pgback);
		relay_tap(&s->relay, RELAY_SERVER, session_pg_tap, s);
		if (s->route->cr->kind == ROUTE_TLS)
			relay_edit_server(&s->relay, session_pg_edit, s);
		/*
		 * No command name to look at: the client tap is the
		 * follow's alone (and need not reach for the protocol
		 * through two pointers on every read).
		 */
		s->head_done = 1;
		if (s->follow != NULL)
			relay_tap(&s->relay, RELAY_CLIENT, session_client_tap,
			    s);
		/* The startup packet went first, in s->first. */
		session_expect_answer(s, "startup");
		return;
	case PROTO_REDIS:
		relay_tap(&s->relay, RELAY_CLIENT, session_client_tap, s);
		session_cluster(s);
		break;
	case PROTO_TCP:
		break;
	}
	relay_tap(&s->relay, RELAY_SERVER, session_server_tap, s);
}

static void
session_connected(struct session *s, const struct dial_result *res)
{
	int	fd = s->client;

	s->client = -1;
	s->route = s->dialing;
	s->dialing = NULL;
	session_set_upstream(s, res->peer);
	s->route->sessions_total++;
	s->route->sessions_active++;
	s->state = SESSION_RELAYING;
	if ((res->link != NULL ? relay_start_link(&s->relay,
	    daemon_base(s->svc->px), fd, res->link, s->first,
	    session_relay_done, s) : res->fd != -1 ? relay_start_fd(
	    &s->relay, daemon_base(s->svc->px), fd, res->fd, s->first,
	    session_relay_done, s) : relay_start(&s->relay,
	    daemon_base(s->svc->px), fd, res->bev, s->first,
	    session_relay_done, s)) != 0 ||
	    guard_start(s->svc->cs, &s->relay, &s->guard) != 0) {
		session_close(s, SESSION_END_INTERNAL, "out of memory");
		return;
	}
	/*
	 * The startup phase is over (its event deleted when it ended) and
	 * the relay emptied s->first: neither is needed again, so an idle
	 * session does not keep them (issue 27).  Not inside their own
	 * callbacks: this runs from the dial's.
	 */
	pg_front_free(s->pg);
	s->pg = NULL;
	if (s->first != NULL)
		evbuffer_free(s->first);
	s->first = NULL;
	session_watch(s);
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
	if (s->dial == NULL)
		session_close(s, SESSION_END_INTERNAL, "out of memory");
}

/*
 * A CancelRequest goes to the server of the session that got that
 * backend key, over that session's route (TLS and SSLRequest included,
 * by the dial), or nowhere: a cancel sent to another server would be
 * ignored there at best.
 */
static void
session_cancel(struct session *s, const struct pg_front_msg *msg,
    struct evbuffer *packet)
{
	struct route	*r;
	char		 prefix[256], why[96];
	const uint8_t	*bkey;
	size_t		 bkeylen;
	uint32_t	 bpid, head[3];

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
		evbuffer_add_buffer(s->first, packet);
	else {
		/* A resumed session's backend has a key of its own
		 * (pgresume.h), maybe of another length: a new packet. */
		head[0] = htonl((uint32_t)(12 + bkeylen));
		head[1] = htonl(80877102);	/* CancelRequest */
		head[2] = htonl(bpid);
		if (evbuffer_add(s->first, head, sizeof(head)) != 0 ||
		    evbuffer_add(s->first, bkey, bkeylen) != 0) {
			session_close(s, SESSION_END_INTERNAL, "out of memory");
			return;
		}
		evbuffer_drain(packet, evbuffer_get_length(packet));
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

/* The postgres startup phase ended: dial, or end the session. */
static void
session_pg_cb(const struct pg_front_msg *msg, struct evbuffer *packet,
    void *arg)
{
	struct session	*s = arg;

	switch (msg->kind) {
	case PG_FRONT_CANCEL:
		session_cancel(s, msg, packet);
		return;
	case PG_FRONT_STARTUP:
		/* Kept for a resume (follow.c), which only a service with
		 * auth_file at the session's start does: no secret in it. */
		if (s->svc->cs->auth != NULL && msg->len <= PG_MAX_STARTUP &&
		    (s->pg_startup = malloc(msg->len)) != NULL &&
		    evbuffer_copyout(packet, s->pg_startup, msg->len) ==
		    (ev_ssize_t)msg->len)
			s->pg_startup_len = msg->len;
		if ((s->first = evbuffer_new()) == NULL) {
			session_close(s, SESSION_END_INTERNAL, "out of memory");
			return;
		}
		evbuffer_add_buffer(s->first, packet);
		if (guard_startup(s->svc->cs, s->first, msg->len) != 0) {
			session_close(s, SESSION_END_CLIENT, "startup packet "
			    "postern cannot make read-only");
			return;
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
	uint64_t	 bytes = s->relay.side[RELAY_CLIENT].bytes +
			    s->relay.side[RELAY_SERVER].bytes;
	int64_t		 now = clock_ms();
	int		 tick = ms / 4 > 50 ? ms / 4 : 50;	/* not a spin */
	struct timeval	 tv = { tick / 1000, (tick % 1000) * 1000 };
	char		 detail[64];

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
	audit_begin(s, fd);
	s->state = SESSION_DIALING;
	relay_init(&s->relay);
	evutil_make_socket_nonblocking(fd);
	sockopt_tcp(fd);
	/* Client bytes wait in the kernel until the relay starts. */
	s->client = fd;
	svc->count->active++;
	svc->total++;
	TAILQ_INSERT_TAIL(daemon_sessions(px), s, entry);
	daemon_session_count(px, 1);
	session_idle_start(s);
	if (svc->cs->protocol != PROTO_POSTGRES) {
		session_dial_next(s, 0);
		return;
	}
	s->pg = pg_front_start(daemon_base(px), fd, SESSION_STARTUP_TIMEOUT_MS,
	    session_pg_cb, s);
	if (s->pg == NULL)
		session_close(s, SESSION_END_INTERNAL, "out of memory");
}

/*
 * A server that closes or fails before answering the request it had to
 * answer has failed it; a client that leaves first says nothing.
 */
static void
session_close_answer(struct session *s, int reason)
{
	char	why[128];

	if (s->answer_timer != NULL)
		evtimer_del(s->answer_timer);
	if (s->answer != SESSION_ANSWER_WAITING ||
	    reason != SESSION_END_RELAY ||
	    (s->relay.first_end != RELAY_END_SERVER_EOF &&
	    s->relay.first_end != RELAY_END_SERVER_ERROR))
		return;
	snprintf(why, sizeof(why), "server %s before answering %s",
	    s->relay.first_end == RELAY_END_SERVER_EOF ? "closed" : "failed",
	    s->request);
	s->answer = SESSION_ANSWER_LATE;
	route_report(s->route, 0, ROUTE_EV_ANSWER, why, clock_ms());
}

void
session_close(struct session *s, int reason, const char *detail)
{
	char		 prefix[256], why[SESSION_SUMMARY_LEN + 64];
	long		 ms;

	if (s->state == SESSION_CLOSED)
		return;
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
	audit_end(s, why);

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
	session_close_answer(s, reason);
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
	if (s->answer_timer != NULL)
		event_free(s->answer_timer);
	pg_front_free(s->pg);
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
