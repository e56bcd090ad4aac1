/*
 * follow_pg.c: a PostgreSQL session follows its routing by resuming on
 * the next server (pgresume.h) at an idle point, or, when its server
 * ended at idle (relay_lost_cb), on the first route that takes it, its
 * client held meanwhile (follow.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "addr.h"
#include "clock.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "follow_int.h"
#include "link.h"
#include "log.h"
#include "pg_auth.h"
#include "pg_cancel.h"
#include "pg_state.h"
#include "pg_track.h"
#include "pgresume.h"
#include "relay.h"
#include "route.h"
#include "service.h"
#include "session.h"

/* A crashed session tries every route at most this many times more. */
#define FOLLOW_CRASH_ROUNDS	3

/*
 * A resume's failure that may pass: the target not reachable now, or its
 * server not taking sessions for a while (57P03: starting, shutting
 * down, in recovery; 53300: too many connections).  A refused login, a
 * parameter that differs or a replay error would fail again.
 */
static int
follow_pg_transient(const char *why)
{
	return (strncmp(why, "connect failed", 14) == 0 ||
	    strcmp(why, "the connection failed") == 0 ||
	    strcmp(why, "the server closed") == 0 ||
	    strncmp(why, "no login and replay within", 26) == 0 ||
	    strstr(why, ": 57P03 ") != NULL || strstr(why, ": 53300 ") != NULL);
}

static void
follow_pg_resume_cb(struct pgresume *r, int ok, const char *why, void *arg)
{
	struct follow	*f = arg;
	char		 prefix[256];

	if (ok)
		f->state = FOLLOW_READY;
	else if (!f->crashed && !f->urgent && follow_pg_transient(why)) {
		/* Its own server still works: stay, as a Redis move does. */
		log_warnx("%s: resume on %s failed: %s; it stays, and tries "
		    "again at a later safe point", session_prefix(f->s,
		    f->s->route, prefix, sizeof(prefix)), f->target->cr->name,
		    why);
		f->rdead = f->resume;	/* not inside its own callback */
		f->resume = NULL;
		f->state = FOLLOW_WAITING;
		f->retry_at = clock_ms() + FOLLOW_RETRY_MS;
	} else {
		/* Today's behaviour then: closed at its next safe point. */
		follow_hold(f, 0);
		follow_noresume(f, "resume failed: %s", why);
		f->rdead = f->resume;	/* not inside its own callback */
		f->resume = NULL;
		f->state = FOLLOW_WAITING;
	}
	follow_kick(f);
}

/*
 * follow_pg_resume(f): a PostgreSQL session at a safe point that must
 * leave its route: start its resume on f->target.  Returns 1 when a
 * resume goes on (the follow's state is MOVING), 0 when the session
 * cannot be resumed (follow_why() says why: close it as before).
 */
static int
follow_pg_resume(struct follow *f)
{
	struct session			*s = f->s;
	struct service			*svc;
	const struct conf_service	*cs;
	struct pg_auth			*auth = NULL;
	struct evbuffer			*replay;
	const char			*why;
	int				 nz;

	if (follow_why(f)[0] != '\0')
		return (0);
	if (f->st == NULL) {
		/* Resume not configured when it began: as before. */
		follow_noresume(f, "%s", f->urgent ? "route down" : "idle");
		return (0);
	}
	if (follow_more(f) == NULL)
		return (0);	/* follow_why(): out of memory */
	/* The generation now: auth_file is read again on reload. */
	svc = service_find(s->svc->px, s->svc->name);
	cs = svc != NULL ? svc->cs : s->svc->cs;
	if (cs->auth == NULL)
		why = "no auth_file any more";
	else
		why = pgresume_login(cs->auth, s->pg_startup, s->pg_startup_len,
		    f->st, f->target->cr->kind == ROUTE_TLS,
		    cs->check_allow_md5, f->more->ckey, &f->more->have_ckey,
		    &auth);
	if (why != NULL) {
		follow_noresume(f, "not resumable: %s", why);
		return (0);
	}
	if ((replay = evbuffer_new()) == NULL) {
		pg_auth_free(auth);
		follow_noresume(f, "out of memory");
		return (0);
	}
	nz = pg_state_replay(f->st, replay, f->more->names,
	    sizeof(f->more->names));
	f->gen = f->st->gen;
	f->more->rstart = clock_ms();
	f->resume = pgresume_start(daemon_dial_env(s->svc->px), f->target->cr,
	    cs->connect_timeout_ms, cs->response_timeout_ms > 0 ?
	    cs->response_timeout_ms : 5000, s->pg_startup, s->pg_startup_len,
	    auth, replay, nz, f->st, follow_pg_resume_cb, f);
	evbuffer_free(replay);		/* emptied */
	if (f->resume == NULL) {
		follow_noresume(f, "out of memory");
		return (0);
	}
	f->state = FOLLOW_MOVING;
	if (f->urgent)
		follow_hold(f, 1);
	return (1);
}

/* The new server is logged in and replayed, the session idle: swap. */
static void
follow_pg_swap(struct follow *f)
{
	struct session		*s = f->s;
	struct route		*old = s->route;
	struct bufferevent	*bev;
	struct link		*link;
	char			 prefix[256], to[ADDR_STRLEN];
	long			 ms = (long)clock_since(f->since);
	long			 rms = (long)clock_since(f->more->rstart);
	const uint8_t		*key;
	size_t			 keylen;
	uint32_t		 pid;
	int			 rc;

	if (f->crashed && !relay_resend_ok(&s->relay)) {
		follow_later(f, FOLLOW_IDLE_RETRY_MS);	/* a reply unwritten */
		return;
	}
	pgresume_take(f->resume, &bev, &link, &pid, &key, &keylen);
	/* Crashed: the old upstream is gone; nothing waits toward it. */
	rc = f->crashed ? relay_resend_server(&s->relay,
	    daemon_base(s->svc->px), bev, link, NULL) :
	    relay_swap_server(&s->relay, daemon_base(s->svc->px), bev, link);
	if (rc == 0)
		f->held = 0;	/* the new relay reads the client */
	if (rc != 0) {
		if (rc == -1) {		/* not idle after all: ours still */
			if (bev != NULL)
				bufferevent_free(bev);
			link_close(link);
		}
		session_close(s, SESSION_END_INTERNAL, rc == -1 ?
		    "resume: the relay was not idle" : "out of memory");
		return;
	}
	log_info("%s: resumed on %s %s %s(waited %ld.%03lds, the new server "
	    "ready in %ld ms; replayed %s)", session_prefix(s, old, prefix,
	    sizeof(prefix)), f->target->cr->name,
	    addr_format(&f->target->cr->target, to, sizeof(to)),
	    f->crashed ? "after its server closed " : "", ms / 1000,
	    ms % 1000, rms, follow_names(f));
	f->crashed = 0;
	session_route_moved(s, f->target);
	/* What it dialed now, as follow_moved() has it: else the session
	 * keeps the old server's address, which its new route's name
	 * check (follow_stale) takes for a stale one, resuming it again
	 * and again, and its log lines name the old server. */
	session_set_upstream(s, pgresume_peer(f->resume));
	route_dial_release(s->cr);
	s->cr = route_dial_hold(f->target);
	s->epoch = f->target->epoch;
	/* The client's cancel key now reaches the new backend. */
	if (pid != 0)
		(void)pg_cancel_move(s->cancel_key, s->route, pid, key, keylen);
	s->svc->count->moved++;
	follow_settle(f);
}

void
follow_pg_step(struct follow *f)
{
	/* LISTEN: only the drain deadline closes it (service.c). */
	if (pg_track_safe(f->pg) != PG_SAFE)
		return;
	if (f->state == FOLLOW_READY && f->st != NULL &&
	    f->gen != f->st->gen) {
		/* The client changed its state meanwhile: prepare anew. */
		follow_hold(f, 0);
		f->rdead = f->resume;
		f->resume = NULL;
		f->state = FOLLOW_WAITING;
	}
	if (f->state != FOLLOW_READY && clock_ms() < f->retry_at) {
		follow_later(f, (long)(f->retry_at - clock_ms()));
		return;
	}
	if (!follow_idle(f))
		return;
	if (f->state == FOLLOW_READY)
		follow_pg_swap(f);
	else if (!follow_pg_resume(f))
		follow_close(f, follow_why(f));
}

/*
 * The relay's server side ended while the session was idle (relay_lost_cb):
 * a crashed path (the forwarder or the network gone, a reset) or server
 * (an immediate shutdown, a crash of another backend: PostgreSQL sends a
 * WARNING, a NoticeResponse, then closes) that the client has not seen
 * as an error: no ErrorResponse came since its last ReadyForQuery.  A
 * FATAL at idle is the server's decision (pg_terminate_backend, a fast
 * shutdown, idle_session_timeout: all 57P01 or 57P05) and goes on to the
 * client.  Resumable: take it over (the relay holds the client);
 * follow_pg_crash() resumes it.
 */
int
follow_pg_lost(struct relay *r, void *arg)
{
	struct follow	*f = arg;
	const char	*why = NULL;
	char		 prefix[256];

	if (f->s->state != SESSION_RELAYING || f->pg->bye)
		return (0);	/* the client said goodbye: its end */
	if (follow_why(f)[0] != '\0')
		why = follow_why(f);
	else if (pg_track_safe(f->pg) != PG_SAFE)
		why = pg_track_why(f->pg);
	else if (f->pg->last != 'Z' && f->pg->last != 'N' && f->pg->last != 'S')
		why = "it sent an error at idle";	/* a FATAL: passed on */
	else
		why = pg_state_why(f->st);
	if (why != NULL) {
		/* One line: tests and operators tell a cut query from this. */
		log_info("%s: its server closed (%s): not resumed",
		    session_prefix(f->s, f->s->route, prefix, sizeof(prefix)),
		    why);
		return (0);
	}
	if (follow_event(f) == NULL)
		return (0);	/* out of memory: the end passes on */
	f->crashed = 1;
	f->tried = 0;
	f->crash_rounds = 0;
	event_active(f->ev, EV_TIMEOUT, 0);
	return (1);
}

/*
 * The next route for a crashed session: the first in the effective order
 * that is neither down nor disabled nor tried (its own route first when
 * that is where new sessions go: the server may be fine).  NULL: none.
 */
static struct route *
follow_pg_crash_target(struct follow *f)
{
	struct service	*svc = service_followed(f->s->svc);
	struct route	*t;
	size_t		 i;

	for (i = 0; svc != NULL && i < svc->nroutes && i < 32; i++) {
		t = svc->order[i];
		if ((f->tried & (1u << i)) || t->state == ROUTE_STATE_DOWN ||
		    t->admin != ROUTE_ADMIN_ENABLED)
			continue;
		f->tried |= 1u << i;
		return (t);
	}
	return (NULL);
}

/*
 * A crashed session: resume on the next route that may take it (its
 * client held), trying each once; when none does, close it as the
 * crash would have (the client sees its server's end).
 */
void
follow_pg_crash(struct follow *f)
{
	struct session	*s = f->s;
	struct route	*t;
	char		 detail[224], prefix[256];

	f->urgent = 0;		/* the relay holds the client, not us */
	if (f->state == FOLLOW_MOVING)
		return;
	if (f->state == FOLLOW_READY && f->gen != f->st->gen) {
		/* Prepared (a failback) before the client changed state. */
		f->rdead = f->resume;
		f->resume = NULL;
		f->state = FOLLOW_WAITING;
	}
	if (f->state == FOLLOW_READY) {
		follow_pg_swap(f);
		return;
	}
	/* Not resumable at all: no other route would do better. */
	t = strncmp(follow_why(f), "not resumable", 13) != 0 ?
	    follow_pg_crash_target(f) : NULL;
	if (t == NULL && f->crash_rounds < FOLLOW_CRASH_ROUNDS &&
	    strncmp(follow_why(f), "resume failed: ", 15) == 0 &&
	    follow_pg_transient(follow_why(f) + 15)) {
		/* Every route refused for now (a loaded target timing out, a
		 * server restarting): the held client waits a little more. */
		f->crash_rounds++;
		f->tried = 0;
		log_info("%s: no route took it (last: %s); tries again in "
		    "%d ms", session_prefix(s, s->route, prefix,
		    sizeof(prefix)), follow_why(f), FOLLOW_RETRY_MS);
		follow_later(f, FOLLOW_RETRY_MS);
		return;
	}
	if (t == NULL) {
		snprintf(detail, sizeof(detail), "its server closed at idle; "
		    "not resumed: %s", follow_why(f)[0] != '\0' ?
		    follow_why(f) : "no route to resume on");
		session_close(s, SESSION_END_ROUTE, detail);
		return;
	}
	if (f->state == FOLLOW_NONE) {
		s->svc->count->waiting++;
		f->since = clock_ms();
	}
	if (follow_why(f)[0] != '\0' && f->target != NULL)
		log_info("%s: %s on %s; tries %s", session_prefix(s, s->route,
		    prefix, sizeof(prefix)), follow_why(f), f->target->cr->name,
		    t->cr->name);
	else
		log_info("%s: its server closed at idle; resumes on %s",
		    session_prefix(s, s->route, prefix, sizeof(prefix)),
		    t->cr->name);
	route_unref(f->target);
	f->target = route_ref(t);
	f->state = FOLLOW_WAITING;
	follow_why_clear(f);		/* a failed resume: the next route */
	if (!follow_pg_resume(f))
		follow_kick(f);			/* closes */
}
