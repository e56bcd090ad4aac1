/*
 * follow.c: sessions follow their service's routing at safe points
 * (follow.h): the target, the steps, Redis moves; follow_cap.c keeps
 * what a Redis move re-sends; follow_pg.c resumes PostgreSQL sessions.
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "follow.h"
#include "follow_int.h"
#include "link.h"
#include "log.h"
#include "move.h"
#include "pg_track.h"
#include "pgresume.h"
#include "pg_state.h"
#include "scram.h"
#include "resp_ro.h"
#include "native_error.h"
#include "relay.h"
#include "resolve.h"
#include "resp_track.h"
#include "route.h"
#include "service.h"
#include "session.h"

static void	follow_step(evutil_socket_t, short, void *);
static struct route *follow_target(const struct session *, int *);

/*
 * The follow's event, made on first use: most sessions never move, and
 * an idle one should not hold a timer it never runs (issue 27).  NULL
 * when out of memory: the step is skipped, and the service's next tick
 * (follow_update) tries again.
 */
struct event *
follow_event(struct follow *f)
{
	if (f->ev == NULL)
		f->ev = evtimer_new(daemon_base(f->s->svc->px), follow_step,
		    f);
	return (f->ev);
}

/* Run a step from the follow's own event, soon. */
void
follow_kick(struct follow *f)
{
	if (follow_event(f) != NULL)
		event_active(f->ev, EV_TIMEOUT, 0);
}

/* The move's part (struct follow_more), made on first use; NULL: none. */
struct follow_more *
follow_more(struct follow *f)
{
	if (f->more == NULL && (f->more = calloc(1, sizeof(*f->more))) ==
	    NULL)
		f->more_nomem = 1;
	return (f->more);
}

/* Why the session cannot be resumed (close instead); "": nothing says. */
const char *
follow_why(const struct follow *f)
{
	if (f->more != NULL)
		return (f->more->noresume);
	return (f->more_nomem ? "out of memory" : "");
}

/* Forget why: the next resume may be tried. */
void
follow_why_clear(struct follow *f)
{
	if (f->more != NULL)
		f->more->noresume[0] = '\0';
	f->more_nomem = 0;
}

/* Say why the session cannot be resumed (out of memory: follow_why). */
void
follow_noresume(struct follow *f, const char *fmt, ...)
{
	va_list	ap;

	if (follow_more(f) == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(f->more->noresume, sizeof(f->more->noresume), fmt,
	    ap);
	va_end(ap);
}

/* What the last move or resume replayed ("" when none). */
const char *
follow_names(const struct follow *f)
{
	return (f->more != NULL ? f->more->names : "");
}

struct follow *
follow_new(struct session *s)
{
	struct follow	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	f->s = s;
	if (s->svc->cs->protocol == PROTO_REDIS) {
		if ((f->resp = malloc(sizeof(*f->resp))) == NULL)
			goto fail;
		resp_track_init(f->resp);
		f->capture = s->svc->cs->on_route_down == ON_DOWN_MOVE;
	} else {
		if ((f->pg = malloc(sizeof(*f->pg))) == NULL)
			goto fail;
		pg_track_init(f->pg);
		/* What a resume needs, only where one can log in. */
		if (s->svc->cs->auth != NULL) {
			if ((f->st = calloc(1, sizeof(*f->st))) == NULL)
				goto fail;
			pg_state_init(f->st);
			f->pg->st = f->st;
			relay_on_server_lost(&s->relay, follow_pg_lost, f);
		}
	}
	return (f);
fail:
	follow_free(f);
	return (NULL);
}

/*
 * Hold the client (relay_hold) while a session resumes off a route that
 * is down: a query it sent meanwhile would hang on the old server and
 * cost the session; held, it goes to the new one after the swap.
 */
void
follow_hold(struct follow *f, int on)
{
	if (f->held != on)
		relay_hold(&f->s->relay, on);
	f->held = on;
}

/* Leave the waiting state (counted in the service's gauge). */
void
follow_settle(struct follow *f)
{
	follow_hold(f, 0);
	if (f->state != FOLLOW_NONE)
		f->s->svc->count->waiting--;
	f->state = FOLLOW_NONE;
	move_free(f->move);
	f->move = NULL;
	route_dial_release(f->cr);	/* the move's dial is gone */
	f->cr = NULL;
	pgresume_free(f->resume);
	f->resume = NULL;
	follow_why_clear(f);
	route_unref(f->target);
	f->target = NULL;
}

uint64_t
follow_requests(const struct follow *f)
{
	return (f != NULL && f->resp != NULL ? f->resp->sent : 0);
}

void
follow_free(struct follow *f)
{
	if (f == NULL)
		return;
	f->held = 0;	/* the relay goes with the session */
	follow_settle(f);
	follow_cap_drop(f);
	move_free(f->dead);
	if (f->ev != NULL)
		event_free(f->ev);
	if (f->resp != NULL) {
		resp_track_clear(f->resp);	/* wipes what it recorded */
		free(f->resp);
	}
	if (f->pg != NULL)
		pg_track_clear(f->pg);	/* a LISTEN's channel set */
	free(f->pg);
	pgresume_free(f->rdead);
	if (f->st != NULL) {
		pg_state_free(f->st);	/* wipes what it recorded */
		free(f->st);
	}
	if (f->more != NULL) {
		OPENSSL_cleanse(f->more, sizeof(*f->more));
		free(f->more);
	}
	free(f);
}

int
follow_waiting(const struct follow *f)
{
	return (f != NULL && f->state != FOLLOW_NONE);
}

void
follow_update(struct follow *f)
{
	int	urgent;

	/*
	 * Where it should be, nothing in progress: no step to run, and no
	 * event made for one (every routing change calls this for every
	 * session of the service).
	 */
	if (f->ev == NULL && f->state == FOLLOW_NONE &&
	    follow_target(f->s, &urgent) == NULL && !urgent)
		return;
	follow_kick(f);
}

/* A tap saw bytes: if they made a safe point we wait for, step. */
static int
follow_noticed(struct follow *f)
{
	int	safe;

	if (f->resp != NULL) {
		safe = resp_track_safe(f->resp);
		if (safe == RESP_LOST)
			return (1);
		safe = safe != RESP_BUSY;
	} else {
		safe = pg_track_safe(f->pg);
		if (safe == PG_LOST)
			return (1);
		safe = safe == PG_SAFE;
	}
	/* Leaving a route that is down: any change may decide. */
	if ((safe || f->urgent) && (f->state == FOLLOW_WAITING ||
	    f->state == FOLLOW_READY || f->urgent))
		follow_kick(f);
	return (0);
}

/* Bytes were fed: 1 when the stream is lost; notice a safe point. */
static int
follow_fed(struct follow *f)
{
	/* Nothing to wait for: only a lost stream matters. */
	if (f->state == FOLLOW_NONE)
		return (f->resp != NULL ? f->resp->lost != NULL :
		    f->pg->lost != NULL);
	return (follow_noticed(f));
}

int
follow_client(struct follow *f, const uint8_t *buf, size_t len)
{
	if (f->resp != NULL) {
		if (f->capture)
			follow_cap_add(f, buf, len);
		resp_track_client(f->resp, buf, len);
	} else
		pg_track_client(f->pg, buf, len);
	return (follow_fed(f));
}

int
follow_server(struct follow *f, const uint8_t *buf, size_t len)
{
	if (f->resp != NULL) {
		resp_track_server(f->resp, buf, len);
		if (f->cap != NULL && follow_quiet(f->resp))
			follow_cap_drop(f);	/* all answered */
	} else
		pg_track_server(f->pg, buf, len);
	return (follow_fed(f));
}

/* Is the session's server no longer what its route's name points at? */
static int
follow_stale(const struct session *s)
{
	return (s->has_upaddr && route_dns_stale(s->route,
	    (const struct sockaddr *)&s->upaddr, clock_ms()));
}

/*
 * Where the session should be: the route new sessions go to, when that
 * ranks above the session's (failback, with on_failback = move; a pin),
 * or when the session's own route is drained, disabled or down (with
 * on_route_down = move: *urgent, and then NULL when no route is left);
 * its own route again when the route's name now points elsewhere (the
 * move dials it anew).  NULL: stay.  Asked again on every routing event
 * and every tick of the service's follow timer: level-triggered, so a
 * session that fell through to a lower route at connect comes back
 * although no route changed state.
 */
static struct route *
follow_target(const struct session *s, int *urgent)
{
	struct service	*svc = service_followed(s->svc);
	struct route	*t;
	size_t		 i;

	*urgent = 0;
	if (svc == NULL || s->route == NULL)
		return (NULL);
	if (svc->cs->on_route_down == ON_DOWN_MOVE &&
	    (s->route->state == ROUTE_STATE_DOWN ||
	    s->route->admin == ROUTE_ADMIN_DISABLED))
		*urgent = 1;
	if (svc->current >= svc->nroutes)
		return (NULL);
	t = svc->order[svc->current];
	if (t == s->route) {
		*urgent = 0;	/* a passive route on trial: in use */
		/* Its Sentinel route has another master now: leave the old
		 * one; or its name no longer resolves to this server. */
		return ((s->epoch != t->epoch && t->dial_cr != NULL) ||
		    follow_stale(s) ? t : NULL);
	}
	if (*urgent || s->route->admin != ROUTE_ADMIN_ENABLED)
		return (t);
	for (i = 0; i < svc->nroutes; i++) {
		if (svc->order[i] != s->route)
			continue;
		/* Ranks above: not a failback; but a cluster node goes
		 * where its seed went (service_select). */
		if (i < svc->current)
			return (svc->cluster != NULL && !svc->cluster_owner ?
			    t : NULL);
		if (svc->cs->on_failback == ON_FAILBACK_MOVE || svc->pinned)
			return (t);
		return (NULL);
	}
	/* A reload removed its route: it keeps the one it started with. */
	return (NULL);
}

/* Step again in ms (a timer on the same event). */
void
follow_later(struct follow *f, long ms)
{
	struct timeval	tv = clock_tv(ms > 0 ? ms : 1);

	if (follow_event(f) != NULL)
		evtimer_add(f->ev, &tv);
}

/* Both directions idle (nothing buffered)?  Else look again soon. */
int
follow_idle(struct follow *f)
{
	if (relay_idle(&f->s->relay))
		return (1);
	follow_later(f, FOLLOW_IDLE_RETRY_MS);
	return (0);
}

/*
 * Close at a safe point: a Redis session whose state cannot be replayed
 * (plain close: its pool reconnects on its next use), or a PostgreSQL
 * session, told as a server restart would (FATAL 57P01).
 */
void
follow_close(struct follow *f, const char *why)
{
	struct session	*s = f->s;
	struct evbuffer	*msg = NULL;
	char		 text[256], detail[320];
	int		 fd;

	snprintf(text, sizeof(text), "terminating connection: postern moves "
	    "this session to route %s", f->target->cr->name);
	snprintf(detail, sizeof(detail), "for route %s: %s",
	    f->target->cr->name, why);
	if (f->pg != NULL && (fd = relay_take_client(&s->relay)) != -1) {
		s->client = fd;
		if ((msg = evbuffer_new()) != NULL)
			native_shutdown(PROTO_POSTGRES, text, msg);
		s->last_words = msg;
	}
	s->svc->count->safe_closed++;
	session_close(s, SESSION_END_SAFE, detail);
}

/*
 * Its route is down (or disabled): must the session be closed now rather
 * than wait?  Yes when a request is outstanding that cannot go again on
 * to, or its state cannot be followed.  An idle one moves, or is closed,
 * at its safe point.  With no route to go to (to NULL: every route down,
 * new sessions trying them as a last resort) it stays, as with keep.
 */
static int
follow_must_cut(const struct follow *f, const struct route *to)
{
	char	name[32];

	if (to == NULL)
		return (0);
	if (f->resp == NULL)
		return (pg_track_safe(f->pg) != PG_SAFE);
	switch (resp_track_safe(f->resp)) {
	case RESP_SAFE:
	case RESP_SAFE_CLOSE:
		return (0);
	case RESP_LOST:
		return (1);
	case RESP_BUSY:
		break;
	}
	return (!follow_replayable(f, name, sizeof(name)));
}

/*
 * Close now: the session's route is down (or disabled) with a request
 * outstanding that cannot go again.  Its client gets a connection error
 * at once instead of waiting on a hung path; one line names the session,
 * the route and the request.
 */
static void
follow_cut(struct follow *f)
{
	struct session	*s = f->s;
	char		 name[32], detail[160];

	if (f->resp != NULL)
		follow_replayable(f, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", pg_track_why(f->pg));
	snprintf(detail, sizeof(detail), "%s is %s, %s%s", s->route->cr->name,
	    s->route->admin == ROUTE_ADMIN_DISABLED ? "disabled" : "down",
	    name, f->resp != NULL && f->cap != NULL ? " unanswered" : "");
	s->svc->count->cut++;
	session_close(s, SESSION_END_ROUTE, detail);
}

/*
 * The new server is ready; the old one owes replies to reads that may go
 * again: the relay takes the new upstream, which gets those requests
 * first, and the client its answers from there.
 */
static void
follow_swap_resend(struct follow *f)
{
	struct session		*s = f->s;
	struct route		*old = s->route;
	struct bufferevent	*bev;
	struct link		*link;
	struct evbuffer		*first;
	char			 prefix[256], to[ADDR_STRLEN], name[32];
	long			 ms = (long)clock_since(f->since);
	int			 rc;

	if (!relay_resend_ok(&s->relay)) {
		follow_later(f, FOLLOW_IDLE_RETRY_MS);
		return;
	}
	if ((first = evbuffer_new()) == NULL ||
	    evbuffer_add(first, f->cap, f->caplen) != 0) {
		if (first != NULL)
			evbuffer_free(first);
		follow_later(f, FOLLOW_RETRY_MS);
		return;
	}
	resp_ro_replayable(f->cap, f->caplen, name, sizeof(name));
	move_take(f->move, &bev, &link);
	rc = relay_resend_server(&s->relay, daemon_base(s->svc->px), bev,
	    link, first);
	evbuffer_free(first);
	if (rc != 0) {
		session_close(s, SESSION_END_INTERNAL, "out of memory");
		return;
	}
	log_info("%s: moved to %s %s (waited %ld.%03lds; replayed %s; "
	    "re-sent %zu bytes of unanswered reads from %s)",
	    session_prefix(s, old, prefix, sizeof(prefix)),
	    f->target->cr->name, addr_format(&f->target->cr->target, to,
	    sizeof(to)), ms / 1000, ms % 1000, follow_names(f)[0] != '\0' ?
	    follow_names(f) : "nothing", f->caplen, name);
	session_route_moved(s, f->target);
	s->svc->count->moved++;
	s->svc->count->replayed++;
	follow_settle(f);
}

/* The new server is ready and the session idle: swap. */
static void
follow_swap(struct follow *f)
{
	struct session		*s = f->s;
	struct route		*old = s->route;
	struct bufferevent	*bev;
	struct link		*link;
	char			 prefix[256], to[ADDR_STRLEN];
	char			 ip[64], at[72];
	long			 ms = (long)clock_since(f->since);
	int			 rc;

	move_take(f->move, &bev, &link);
	rc = relay_swap_server(&s->relay, daemon_base(s->svc->px), bev, link);
	if (rc == -2) {
		session_close(s, SESSION_END_INTERNAL, "out of memory");
		return;
	}
	at[0] = '\0';
	if (move_peer(f->move) != NULL && !resolve_is_literal(
	    f->target->cr->target.host))
		snprintf(at, sizeof(at), " at %s", resolve_format(
		    move_peer(f->move), ip, sizeof(ip)));
	log_info("%s: moved to %s %s%s (waited %ld.%03lds; replayed %s)",
	    session_prefix(s, old, prefix, sizeof(prefix)),
	    f->target->cr->name, addr_format(&f->cr->target, to,
	    sizeof(to)), at, ms / 1000, ms % 1000,
	    follow_names(f)[0] != '\0' ? follow_names(f) : "nothing");
	session_route_moved(s, f->target);
	session_set_upstream(s, move_peer(f->move));
	route_dial_release(s->cr);	/* the session's, handed over */
	s->cr = f->cr;
	f->cr = NULL;
	s->epoch = f->epoch;
	s->svc->count->moved++;
	follow_settle(f);
}

static void
follow_move_cb(struct move *m, int ok, const char *why, void *arg)
{
	struct follow	*f = arg;
	char		 prefix[256];

	if (ok) {
		f->state = FOLLOW_READY;
	} else {
		log_warnx("%s: move to %s failed: %s; it stays, and tries "
		    "again at a later safe point", session_prefix(f->s,
		    f->s->route, prefix, sizeof(prefix)),
		    f->target->cr->name, why);
		f->dead = f->move;	/* not inside its own callback */
		f->move = NULL;
		f->state = FOLLOW_WAITING;
		f->retry_at = clock_ms() + FOLLOW_RETRY_MS;
	}
	follow_kick(f);
}

/* Dial the target and replay the session's state there. */
static void
follow_dial(struct follow *f)
{
	const struct conf_service	*cs = f->s->svc->cs;
	struct resp_expect		 want[RESP_NSLOTS];
	struct evbuffer			*replay;
	int				 n;

	if (follow_more(f) == NULL || (replay = evbuffer_new()) == NULL)
		return;
	n = resp_track_replay(f->resp, replay, want, f->more->names,
	    sizeof(f->more->names));
	route_dial_release(f->cr);	/* a failed move's */
	f->cr = route_dial_hold(f->target);
	f->epoch = f->target->epoch;
	if (n >= 0 && f->cr != NULL)
		f->move = move_start(daemon_dial_env(f->s->svc->px),
		    f->cr, cs->connect_timeout_ms,
		    cs->response_timeout_ms > 0 ? cs->response_timeout_ms :
		    5000, replay, want, (size_t)n, follow_move_cb, f);
	evbuffer_free(replay);		/* references: wiped */
	if (f->move == NULL) {
		f->retry_at = clock_ms() + FOLLOW_RETRY_MS;
		follow_later(f, FOLLOW_RETRY_MS);
		return;
	}
	f->gen = f->resp->gen;
	f->state = FOLLOW_MOVING;
}

static void
follow_redis(struct follow *f)
{
	int64_t	now = clock_ms();
	char	name[32];
	int	resend = 0;

	switch (resp_track_safe(f->resp)) {
	case RESP_BUSY:
		/* Leaving a down route: reads in flight go again. */
		if (f->urgent && follow_replayable(f, name, sizeof(name))) {
			resend = 1;
			break;
		}
		return;		/* a later safe point, or the deadline */
	case RESP_LOST:
		return;
	case RESP_SAFE_CLOSE:
		if (follow_idle(f))
			follow_close(f, resp_track_why(f->resp));
		return;
	case RESP_SAFE:
		break;
	}
	if (f->state == FOLLOW_READY && f->gen != f->resp->gen) {
		/* The client changed its state meanwhile: prepare anew. */
		f->dead = f->move;
		f->move = NULL;
		f->state = FOLLOW_WAITING;
	}
	if (f->state == FOLLOW_READY) {
		if (resend)
			follow_swap_resend(f);
		else if (follow_idle(f))
			follow_swap(f);
		return;
	}
	if (now < f->retry_at) {
		follow_later(f, (long)(f->retry_at - now));
		return;
	}
	follow_dial(f);
}


static void
follow_step(evutil_socket_t fd, short what, void *arg)
{
	struct follow	*f = arg;
	struct session	*s = f->s;
	struct route	*t;
	char		 prefix[256];

	move_free(f->dead);
	f->dead = NULL;
	pgresume_free(f->rdead);
	f->rdead = NULL;
	if (s->state != SESSION_RELAYING)
		return;
	if (f->crashed) {
		follow_pg_crash(f);
		return;
	}
	t = follow_target(s, &f->urgent);
	if (f->urgent && follow_must_cut(f, t)) {
		follow_cut(f);
		return;
	}
	if (t == NULL) {
		f->urgent = 0;	/* nowhere to go: the next tick looks again */
		follow_settle(f);
		return;
	}
	if (f->state == FOLLOW_NONE || t != f->target) {
		if (f->state == FOLLOW_NONE) {
			/*
			 * A bounded number of moves begins per tick of the
			 * service's follow timer, so a large pool does not
			 * all move at once; the rest begin at later ticks.
			 * Leaving a route that is down is never put off.
			 */
			if (!f->urgent && s->svc->count->follow_budget == 0)
				return;
			if (!f->urgent)
				s->svc->count->follow_budget--;
			s->svc->count->waiting++;
			f->since = clock_ms();
		}
		move_free(f->move);
		f->move = NULL;
		pgresume_free(f->resume);
		f->resume = NULL;
		follow_hold(f, 0);
		route_unref(f->target);
		f->target = route_ref(t);
		f->state = FOLLOW_WAITING;
		if (t == s->route)
			log_info("%s: %s no longer points at this server; "
			    "leaves at a safe point", session_prefix(s,
			    s->route, prefix, sizeof(prefix)),
			    t->cr->target.host);
		log_debug("%s: waits for a safe point to move to %s (%s)",
		    session_prefix(s, s->route, prefix, sizeof(prefix)),
		    t->cr->name, f->resp != NULL ? resp_track_why(f->resp) :
		    pg_track_why(f->pg));
	}
	if (f->state == FOLLOW_MOVING)
		return;
	if (f->resp != NULL)
		follow_redis(f);
	else
		follow_pg_step(f);
}
