/*
 * follow_int.h: private to the follow group, follow.c (routing, Redis
 * moves, the steps), follow_cap.c (what a Redis move re-sends) and
 * follow_pg.c (PostgreSQL resume, a crashed server): the follow's state
 * and the steps they share.
 */
#ifndef POSTERN_FOLLOW_INT_H
#define POSTERN_FOLLOW_INT_H

#include <stddef.h>
#include <stdint.h>

#include "scram.h"

struct conf_route;
struct event;
struct move;
struct pg_state;
struct pg_track;
struct pgresume;
struct relay;
struct resp_track;
struct route;
struct session;

/* Relay buffers not empty at a safe point: look again this soon. */
#define FOLLOW_IDLE_RETRY_MS	20
/* A move that failed is tried again at a safe point after this. */
#define FOLLOW_RETRY_MS		1000

enum follow_state {
	FOLLOW_NONE,		/* where it should be */
	FOLLOW_WAITING,		/* for a safe point */
	FOLLOW_MOVING,		/* dialing and replaying (redis) */
	FOLLOW_READY		/* the new server is ready: swap when safe */
};

struct follow {
	struct session		*s;
	enum follow_state	 state;
	unsigned int		 epoch;		/* dial_cr, epoch then */
	struct resp_track	*resp;		/* redis */
	struct pg_track		*pg;		/* postgres */
	struct pg_state		*st;		/* what a resume replays */
	struct pgresume		*resume;	/* postgres: the next server */
	struct pgresume		*rdead;		/* failed: freed next step */
	struct follow_more	*more;		/* NULL: never moved */
	struct event		*ev;		/* every step runs from here */
	struct route		*target;	/* while not NONE */
	struct move		*move;
	struct move		*dead;		/* failed: freed next step */
	const struct conf_route	*cr;		/* the move dialed: target's */
	uint64_t		 gen;		/* resp->gen the move replays */
	int64_t			 since;		/* clock_ms: began waiting */
	int64_t			 retry_at;	/* clock_ms; 0: now */
	uint8_t			*cap;		/* their bytes; NULL: none */
	size_t			 caplen, capsize;
	uint64_t		 cap_answered;	/* resp->answered at start */
	uint32_t		 tried;		/* crashed: order indexes */
	int			 crash_rounds;	/* crashed: every route tried */
	int			 urgent;	/* route down or disabled */
	/* Flags in bytes, last: every tracked session holds one. */
	uint8_t			 more_nomem;	/* more could not be made */
	uint8_t			 held;		/* the client not read */
	uint8_t			 capture;	/* keep unanswered requests */
	uint8_t			 cap_over;	/* too long: unreplayable */
	uint8_t			 crashed;	/* its server ended at idle */
};

/*
 * What only a move or a resume uses, made at the first one and kept to
 * the end (ckey is reused by the next resume): an idle session that
 * never moves holds none of it (issue 27).
 */
struct follow_more {
	char			 noresume[160];	/* why not: close instead */
	char			 names[96];	/* what the move replays */
	unsigned char		 ckey[SCRAM_KEY_SIZE];	/* SCRAM pass- */
	int			 have_ckey;		/* through */
	int64_t			 rstart;	/* clock_ms: resume began */
};

/* follow_event(f): f's event, made on first use; NULL: out of memory. */
struct event *follow_event(struct follow *f);
/* follow_kick(f): run a step from f's own event, soon. */
void	follow_kick(struct follow *f);
/* follow_later(f, ms): step again in ms (a timer on the same event). */
void	follow_later(struct follow *f, long ms);
/* follow_more(f): f->more, made on first use; NULL: out of memory. */
struct follow_more *follow_more(struct follow *f);
/* follow_why(f): why f's session cannot be resumed; "": nothing says. */
const char *follow_why(const struct follow *f);
/* follow_why_clear(f): forget why: the next resume may be tried. */
void	follow_why_clear(struct follow *f);
/* follow_noresume(f, fmt, ...): say why the session cannot be resumed. */
void	follow_noresume(struct follow *f, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* follow_names(f): what the last move or resume replayed ("": none). */
const char *follow_names(const struct follow *f);
/* follow_hold(f, on): hold the client (relay_hold) while it resumes. */
void	follow_hold(struct follow *f, int on);
/* follow_settle(f): back to NONE; drops the move or resume and target. */
void	follow_settle(struct follow *f);
/* follow_idle(f): both directions idle?  Else f steps again soon. */
int	follow_idle(struct follow *f);
/*
 * follow_close(f, why): close the session at a safe point (PostgreSQL:
 * FATAL 57P01 first); the session and f are freed by the reap list.
 */
void	follow_close(struct follow *f, const char *why);

/* follow_cap.c: the unanswered requests' bytes (Redis) */

/* follow_cap_drop(f): forget them (wiped: they may hold a password). */
void	follow_cap_drop(struct follow *f);
/* follow_quiet(t): nothing outstanding and no request begun. */
int	follow_quiet(const struct resp_track *t);
/* follow_cap_add(f, buf, len): the client's bytes, before t reads them. */
void	follow_cap_add(struct follow *f, const uint8_t *buf, size_t len);
/*
 * follow_replayable(f, name, namelen): may the unanswered requests go
 * again on a new route?  name: the first request's, or the one that may
 * not go again.
 */
int	follow_replayable(const struct follow *f, char *name, size_t namelen);

/*
 * follow_pg_step(f): a PostgreSQL session's step once its target is set:
 * at a safe point and idle, swap to a ready resume, start one, or close.
 */
void	follow_pg_step(struct follow *f);
/*
 * follow_pg_lost(r, f): relay_lost_cb for a session with resume state:
 * 1 when f takes over the crashed server side (follow_pg_crash resumes
 * it from f's event), 0 when the end passes on to the client.
 */
int	follow_pg_lost(struct relay *r, void *f);
/* follow_pg_crash(f): a crashed session's step: resume on the next route. */
void	follow_pg_crash(struct follow *f);

#endif
