/*
 * route.h: the runtime side of a configured route: its health state and
 * counters.  A route outlives config generations when its definition is
 * unchanged, so health is not forgotten on reload; sessions hold a
 * reference while they use it.
 */
#ifndef POSTERN_ROUTE_H
#define POSTERN_ROUTE_H

#include <stdint.h>

#include "resolve.h"
#include "log.h"

struct addr;
struct conf;
struct conf_route;
struct route_master;
struct conf_service;

enum route_state {
	ROUTE_STATE_UNKNOWN,	/* nothing seen yet: usable */
	ROUTE_STATE_UP,
	ROUTE_STATE_DOWN
};

/* Operator control (admin endpoint), kept across reloads. */
enum route_admin {
	ROUTE_ADMIN_ENABLED,
	ROUTE_ADMIN_DRAINING,	/* no new sessions; established stay */
	ROUTE_ADMIN_DISABLED	/* no new sessions; established closed */
};

/*
 * What fed route_report(): a health check, or a passive observation of a
 * real session.  Passive events can push a route toward down between
 * checks; with active checks they never count as successes.
 */
enum route_event {
	ROUTE_EV_CHECK,		/* an active health check's result */
	ROUTE_EV_CONNECT,	/* a session's dial failed */
	ROUTE_EV_ANSWER,	/* a session's server answered, or not */
	ROUTE_EV_COUNT
};

#define ROUTE_CHECK_RESULTS	16	/* >= PROBE_NRESULTS */
#define ROUTE_IDENTITY_LEN	128	/* > PROBE_IDENTITY_MAX */
#define ROUTE_LATENCY_BUCKETS	10

struct route;

/* route_notify_cb(r, arg): r changed state (after the log line). */
typedef void route_notify_cb(struct route *r, void *arg);

struct route {
	int			 refs;
	char			*label;		/* "service/route" for logs */
	struct conf		*gen;		/* holds cr alive */
	const struct conf_route	*cr;
	int			 rise, fall;
	int			 retry_ms;	/* rest of a down route */
	int			 active;	/* health checks decide */
	enum route_admin	 admin;
	int64_t			 drain_until;	/* clock_ms; 0: no deadline */
	route_notify_cb		*notify;
	void			*notify_arg;

	enum route_state	 state;
	int			 fails, oks;	/* consecutive */
	int			 passive_fails;	/* of fails: from sessions */
	int64_t			 since;		/* clock_ms of last transition */
	int64_t			 last_fail;	/* clock_ms; 0: never */
	char			 last_error[LOG_DETAIL_LEN];

	uint64_t		 sessions_total;
	unsigned int		 sessions_active;
	uint64_t		 connect_failures;
	uint64_t		 bytes_up, bytes_down;

	/* Health checks (proxy/health.c). */
	int64_t			 last_check;	/* clock_ms; 0: none yet */
	int			 last_result;	/* enum probe_result */
	char			 last_detail[LOG_DETAIL_LEN];
	int			 last_latency_ms;
	uint64_t		 checks[ROUTE_CHECK_RESULTS];
	uint64_t		 latency_buckets[ROUTE_LATENCY_BUCKETS];
	double			 latency_sum;	/* seconds */

	/*
	 * The route's name as DNS answered the last check that passed on
	 * an address in the answer (health.c): what "stale" is judged by.
	 */
	struct resolve_answer	 dns;		/* n == 0: not known */
	int64_t			 dns_at;	/* clock_ms of that answer */
	char			 dns_error[64];	/* the last failure; "" */
	/* The name's newest answer is another set, not proven by a check:
	 * a move would dial it and land there again (route_dns_unproven). */
	int			 dns_unproven;

	/*
	 * postern's own limit (EMFILE, ENFILE, ENOMEM, ENOBUFS) met by the
	 * last check or dial: "" when none.  Never counted toward fall.
	 */
	char			 local_limit[128];
	int64_t			 local_since;	/* clock_ms */

	/* Identity guard (proxy/identity.c). */
	char			 identity[ROUTE_IDENTITY_LEN]; /* last read */
	char			 refused[320];	/* why not used; "" if not */

	/*
	 * What sessions and checks dial: cr itself, or for a Sentinel route
	 * (cr->sentinel) the master its Sentinels named (route_set_master),
	 * NULL until they have.  epoch counts the masters it has had, so
	 * that a session can tell it runs on a demoted one.
	 */
	const struct conf_route	*dial_cr;
	unsigned int		 epoch;
	struct route_master	*master;	/* dial_cr's, held */
};

/*
 * An answer judges sessions for its TTL, but at least ROUTE_DNS_MIN_MS
 * (a session waiting for a safe point must not forget why) and at most
 * ROUTE_DNS_CAP_MS (checks ask again every check_interval anyway).
 */
#define ROUTE_DNS_MIN_MS	10000
#define ROUTE_DNS_CAP_MS	60000

/*
 * route_dns_set(r, ans, error, now): the name's answer at a check (ans
 * NULL: it did not resolve, error says why: nothing is judged until it
 * does again).  A changed set of addresses is logged once.
 */
void	route_dns_set(struct route *r, const struct resolve_answer *ans,
	    const char *error, int64_t now);

/*
 * route_dns_unproven(r, ans): a check resolved r's name to ans but did
 * not pass on it.  While ans differs from the route's answer, no
 * session is stale: a move dials the name and would land on ans, a
 * server that failed its check, and again at every tick.
 */
void	route_dns_unproven(struct route *r, const struct resolve_answer *ans);

/*
 * route_dns_stale(r, sa, now): 1 when r's name has a current answer
 * and the server address sa (NULL: unknown) is not in it: a session
 * there should leave for what the name points at now.
 */
int	route_dns_stale(const struct route *r, const struct sockaddr *sa,
	    int64_t now);

/* Upper bounds of the check latency histogram buckets, in seconds. */
extern const double route_latency_bounds[ROUTE_LATENCY_BUCKETS];

/*
 * route_new(gen, cs, cr, now): a route in state unknown, holding a
 * reference to gen.  Returns NULL on allocation failure.  The caller owns
 * the one reference.
 */
struct route *route_new(struct conf *gen, const struct conf_service *cs,
	    const struct conf_route *cr, int64_t now);

/* route_ref(r): take a reference; returns r. */
struct route *route_ref(struct route *r);

/* route_unref(r): drop a reference, freeing at zero.  NULL is a no-op. */
void	route_unref(struct route *r);

/*
 * route_rebind(r, gen, cs, cr): point r at an equal definition in a newer
 * generation (see route_same), keeping its state and counters.
 */
void	route_rebind(struct route *r, struct conf *gen,
	    const struct conf_service *cs, const struct conf_route *cr);

/*
 * route_set_master(r, a): a Sentinel route's server is now a (the
 * Sentinels' quorum named it, ROLE confirmed it): dial_cr becomes r->cr
 * with target a, and epoch grows.  The route lets go of its earlier
 * master, which stays valid only for those that hold it
 * (route_dial_hold).  Returns 0, -1 when out of memory (nothing changed).
 */
int	route_set_master(struct route *r, const struct addr *a);

/*
 * route_relabel(r, label): r's log label becomes a copy of label (a
 * cluster node's routes name the node).  -1 when out of memory (the
 * label stays).
 */
int	route_relabel(struct route *r, const char *label);

/*
 * route_dial_hold(r): r->dial_cr (NULL: a Sentinel route without a
 * master yet), valid until route_dial_release(cr) even when the route
 * moves to another master meanwhile.  Whoever dials a route and keeps
 * the conf_route (a dial in flight, a session on it) holds it.
 */
const struct conf_route *route_dial_hold(struct route *r);

/*
 * route_dial_release(cr): done with cr from route_dial_hold; a past
 * master that nobody holds any more is freed.  NULL is a no-op.
 */
void	route_dial_release(const struct conf_route *cr);

/* route_same(a, b): same name, URL and options: health carries over. */
int	route_same(const struct conf_route *a, const struct conf_route *b);

/*
 * route_eligible(r): enabled by the operator and not refused by the
 * identity guard: what even the last resort may try.
 */
int	route_eligible(const struct route *r);

/*
 * route_usable(r, now): may a new session try r?  Not when an operator
 * drained or disabled it, nor when the identity guard refuses it.  Up and unknown routes may.  A down route may
 * only without active checks, once it has rested retry_ms since its last
 * failure (a trial: its result feeds route_report); with active checks,
 * the checker alone brings it back.
 */
int	route_usable(const struct route *r, int64_t now);

/*
 * route_rest_left_ms(r, now): for a route without active checks, enabled
 * by the operator, that has failed: the ms until it has rested retry_ms
 * since that failure (at least 1), when a held session should try it
 * again (a down one becomes usable then).  -1 for any other route: its
 * checker, or nothing, will say when.
 */
long	route_rest_left_ms(const struct route *r, int64_t now);

/*
 * route_select(routes, n, from, now): index of the first usable route at
 * or after from, in priority order; n when none is.
 */
size_t	route_select(struct route **routes, size_t n, size_t from,
	    int64_t now);

/*
 * route_report(r, ok, ev, detail, now): feed one observed result into r's
 * rise/fall state machine; logs each transition once, with cause and
 * duration, then calls r->notify.  With active checks, only a check's
 * success counts (it resets the failures and brings a route up): a
 * session that connected, or even got an answer, proves less than a
 * check, and must never hold up a route that checks fail.  Failures of
 * any kind count toward fall.  Without active checks, sessions' results
 * are all there is.
 */
void	route_report(struct route *r, int ok, enum route_event ev,
	    const char *detail, int64_t now);

/* route_record_check(r, result, detail, ms, now): keep check statistics. */
void	route_record_check(struct route *r, int result, const char *detail,
	    int ms, int64_t now);

/* route_admin_name(admin): "enabled", "draining" or "disabled". */
const char *route_admin_name(int admin);

/*
 * route_local_limit(r, detail, now): a check or dial of r failed for a
 * reason of postern's own (detail), or with NULL: a check completed for
 * any other reason (the condition is over).  Logged once each way;
 * never counted toward fall.
 */
void	route_local_limit(struct route *r, const char *detail, int64_t now);

/*
 * route_shown_state(r): the state /health and /metrics show: "local_limit"
 * while postern's own limit keeps it from checking r, else its state.
 */
const char *route_shown_state(const struct route *r);

/* route_state_name(state): "unknown", "up" or "down". */
const char *route_state_name(int state);

#endif
