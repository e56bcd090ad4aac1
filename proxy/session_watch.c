/*
 * session_watch.c: what a relaying session watches (session_int.h): the
 * server's first byte and how long a request waits for its answer (a
 * real session's word on its route), the taps that feed its follower
 * (follow.h), a PostgreSQL backend's cancel key, SCRAM-PLUS hidden on a
 * tls:// route, and Redis Cluster replies rewritten.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "clock.h"
#include "cluster_sess.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "follow.h"
#include "log.h"
#include "pg_back.h"
#include "pg_cancel.h"
#include "resp_first.h"
#include "route.h"
#include "service.h"
#include "session.h"
#include "session_int.h"

/*
 * The server's first byte: the route answered a real session.  Only this,
 * never the TCP connect (a stopped server's kernel still completes it),
 * is a session's success; and with active checks it moves nothing.
 */
static void
session_watch_answered(struct session *s)
{
	if (s->answer == SESSION_ANSWER_DONE)
		return;
	if (s->answer == SESSION_ANSWER_WAITING)
		TAILQ_REMOVE(&s->svc->answers, s, answer_entry);
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
session_watch_late(struct session *s)
{
	char		 prefix[256], why[128];

	s->answer = SESSION_ANSWER_LATE;
	snprintf(why, sizeof(why), "no answer to %s within %d ms", s->request,
	    s->svc->cs->response_timeout_ms);
	log_info("%s: %s", session_prefix(s, s->route, prefix,
	    sizeof(prefix)), why);
	route_report(s->route, 0, ROUTE_EV_ANSWER, why, clock_ms());
}

/* Arm svc's answer timer for the first session due, if any. */
static void
session_watch_arm(struct service *svc)
{
	struct session	*s = TAILQ_FIRST(&svc->answers);
	int64_t		 ms;
	struct timeval	 tv;

	if (s == NULL)
		return;
	ms = s->answer_due_ms - clock_ms();
	tv = clock_tv(ms > 0 ? ms : 0);
	evtimer_add(svc->answer_timer, &tv);
}

/*
 * The service's answer timer: the sessions whose response_timeout has
 * passed, oldest first (one timeout per service, so the queue is in
 * the order they fall due).  Not before their time: libevent arms from
 * the loop's cached time, which may be behind the clock, so a timer
 * that fires early is armed again for the rest.
 */
static void
session_watch_due(evutil_socket_t fd, short what, void *arg)
{
	struct service	*svc = arg;
	struct session	*s;
	int64_t		 now = clock_ms();

	/* route_report may close sessions: the head is read anew each time. */
	while ((s = TAILQ_FIRST(&svc->answers)) != NULL &&
	    s->answer_due_ms <= now) {
		TAILQ_REMOVE(&svc->answers, s, answer_entry);
		session_watch_late(s);
	}
	session_watch_arm(svc);
}

/*
 * The server must answer request soon: start response_timeout.  One
 * timer per service, not an event per session made and freed around each
 * first request: a pool that connected at once left each one's 136 bytes
 * as a hole in the heap, ~100 bytes of RSS per idle PostgreSQL session
 * (issue 27).
 */
static void
session_watch_expect(struct session *s, const char *request)
{
	struct service	*svc = s->svc;

	if (s->answer != SESSION_ANSWER_NONE ||
	    svc->cs->response_timeout_ms == 0)
		return;
	if (svc->answer_timer == NULL &&
	    (svc->answer_timer = evtimer_new(daemon_base(svc->px),
	    session_watch_due, svc)) == NULL)
		return;		/* out of memory: no passive check */
	if (request != s->request)
		snprintf(s->request, sizeof(s->request), "%s", request);
	s->answer = SESSION_ANSWER_WAITING;
	s->answer_due_ms = clock_ms() + svc->cs->response_timeout_ms;
	TAILQ_INSERT_TAIL(&svc->answers, s, answer_entry);
	if (TAILQ_FIRST(&svc->answers) == s)
		session_watch_arm(svc);
}

/*
 * A Redis client's first bytes: does its first command need a prompt
 * answer?  A blocking one (BLPOP) does not, nor one we cannot name.
 * Returns 1 once that is decided.
 */
static int
session_watch_redis_head(struct session *s, const uint8_t *buf, size_t len)
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
session_watch_client(const uint8_t *buf, size_t len, void *arg)
{
	struct session	*s = arg;
	int		 done = 1;

	if (!s->head_done && s->svc->cs->protocol == PROTO_REDIS)
		s->head_done = session_watch_redis_head(s, buf, len);
	if (s->cluster != NULL)
		cluster_sess_client(s->cluster, buf, len);
	if (s->follow != NULL)
		done = follow_client(s->follow, buf, len);
	if (s->answer_due && follow_requests(s->follow) > 0) {
		s->answer_due = 0;
		session_watch_expect(s, s->request);
	} else if (done)
		s->answer_due = 0;	/* the tracker lost the stream */
	return (done && s->head_done && !s->answer_due && s->cluster == NULL);
}

/* The server's bytes: its first one, then what a follower needs. */
static int
session_watch_server(const uint8_t *buf, size_t len, void *arg)
{
	struct session	*s = arg;

	session_watch_answered(s);
	return (s->follow == NULL || follow_server(s->follow, buf, len));
}

/*
 * The server's startup messages pass by: remember the backend's cancel
 * key (BackendKeyData), so that a CancelRequest quoting it finds this
 * route.  Bounded (pg_back.h); stops at the key.  The reader starts on
 * the stack and goes to the heap only when the key is not in the read
 * that began it (an authentication exchange first): a pool that
 * connects at once left each heap one a hole below its sessions' lasting
 * objects, ~300 bytes of RSS per idle session (issue 27).
 */
static int
session_watch_pg(const uint8_t *buf, size_t len, void *arg)
{
	struct session	*s = arg;
	struct pg_back	 here, *b = s->pgback;
	char		 prefix[256];
	int		 done = 1;

	session_watch_answered(s);
	if (s->follow != NULL)
		done = follow_server(s->follow, buf, len);
	if (!s->pg_seek)
		return (done);
	if (b == NULL) {
		b = &here;
		pg_back_init(b);
	}
	switch (pg_back_feed(b, buf, len)) {
	case PG_BACK_MORE:
		if (b != &here)
			return (0);
		if ((s->pgback = malloc(sizeof(*s->pgback))) != NULL) {
			memcpy(s->pgback, b, sizeof(*s->pgback));
			pg_back_wipe(b);
			return (0);
		}
		log_warnx("%s: out of memory: not cancellable",
		    session_prefix(s, s->route, prefix, sizeof(prefix)));
		break;
	case PG_BACK_KEY:
		s->cancel_key = pg_cancel_add(daemon_cancels(s->svc->px),
		    b->pid, b->body + 4, b->keylen, s->route);
		log_debug("%s: backend pid %u, %zu-byte cancel key%s",
		    session_prefix(s, s->route, prefix, sizeof(prefix)),
		    b->pid, b->keylen, s->cancel_key == NULL ? " (out of "
		    "memory: not cancellable)" : "");
		break;
	case PG_BACK_NONE:
		log_debug("%s: no cancel key: %s", session_prefix(s, s->route,
		    prefix, sizeof(prefix)), b->why);
		break;
	}
	pg_back_wipe(b);
	free(s->pgback);	/* done with the startup */
	s->pgback = NULL;
	s->pg_seek = 0;
	return (done);
}

/* cluster = yes: the node addresses in replies become postern's. */
static void
session_watch_cluster(struct session *s)
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
session_watch_pg_edit(void *arg, struct evbuffer *buf, size_t off, size_t n)
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
void
session_watch_start(struct session *s)
{
	if (s->cancel)
		return;
	/* Redis and PostgreSQL sessions follow their route (follow.h). */
	if (s->svc->cs->protocol != PROTO_TCP)
		s->follow = follow_new(s);
	switch (s->svc->cs->protocol) {
	case PROTO_POSTGRES:
		s->pg_seek = 1;		/* session_watch_pg() */
		relay_tap(&s->relay, RELAY_SERVER, session_watch_pg, s);
		if (s->route->cr->kind == ROUTE_TLS)
			relay_edit_server(&s->relay, session_watch_pg_edit, s);
		/*
		 * No command name to look at: the client tap is the
		 * follow's alone (and need not reach for the protocol
		 * through two pointers on every read).
		 */
		s->head_done = 1;
		if (s->follow != NULL)
			relay_tap(&s->relay, RELAY_CLIENT, session_watch_client,
			    s);
		/* The startup packet went first, in s->first. */
		session_watch_expect(s, "startup");
		return;
	case PROTO_REDIS:
		relay_tap(&s->relay, RELAY_CLIENT, session_watch_client, s);
		session_watch_cluster(s);
		break;
	case PROTO_TCP:
		break;
	}
	relay_tap(&s->relay, RELAY_SERVER, session_watch_server, s);
}

/*
 * A server that closes or fails before answering the request it had to
 * answer has failed it; a client that leaves first says nothing.
 */
void
session_watch_close(struct session *s, int reason)
{
	char	why[128];
	int	waiting = s->answer == SESSION_ANSWER_WAITING;

	if (waiting) {
		TAILQ_REMOVE(&s->svc->answers, s, answer_entry);
		s->answer = SESSION_ANSWER_DONE;	/* watched no more */
	}
	if (!waiting || reason != SESSION_END_RELAY ||
	    (s->relay.first_end != RELAY_END_SERVER_EOF &&
	    s->relay.first_end != RELAY_END_SERVER_ERROR))
		return;
	snprintf(why, sizeof(why), "server %s before answering %s",
	    s->relay.first_end == RELAY_END_SERVER_EOF ? "closed" : "failed",
	    s->request);
	s->answer = SESSION_ANSWER_LATE;
	route_report(s->route, 0, ROUTE_EV_ANSWER, why, clock_ms());
}
