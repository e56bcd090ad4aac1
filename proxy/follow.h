/*
 * follow.h: a session follows its service's routing.  When the route new
 * sessions go to ranks above the session's own (failback with
 * on_failback = move, a pin), or the session's route is drained, or the
 * route's name no longer resolves to the session's server
 * (route_dns_stale: its own route is then the target, dialed anew), the
 * session leaves at its next safe point:
 *
 * - Redis (resp_track.h): moved, its client seeing nothing: a new
 *   connection is dialed and prepared (move.h), then the relay's server
 *   side is swapped while both directions are idle.  A session whose
 *   state cannot be replayed is closed at a safe point instead.
 * - PostgreSQL (pg_track.h): closed at an idle point with FATAL 57P01,
 *   as a server restart would; its pool reconnects to the new route.
 *   A session that ran LISTEN waits for the drain deadline.
 *
 * When its own route is down or disabled (on_route_down = move) it leaves
 * at once instead of at a safe point: a Redis session whose unanswered
 * requests are all reads free of side effects (resp_ro.h), kept whole,
 * moves with them sent again on the new route; any other busy session
 * is closed at once (issue 20).
 *
 *   NONE --routing says move--> WAITING --safe point--> MOVING (redis)
 *    ^                            ^  |                     |
 *    +--routing says stay---------+  +--safe point: close  |
 *                                 +--failed (retry in 1s)--+
 *                                    READY --safe point: swap--> NONE
 *
 * A PostgreSQL session with resume state whose server side ends while it
 * is idle (a crashed path or server, relay_lost_cb) is resumed on the
 * first route up, its client held meanwhile and never told.
 *
 * Every step runs from the follow's own event, never inside a relay or
 * move callback: taps only notice a safe point and activate it.
 */
#ifndef POSTERN_FOLLOW_H
#define POSTERN_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

struct follow;
struct session;

/*
 * follow_new(s): follow s (a redis or postgres session, relaying); its
 * taps must feed follow_client/follow_server from the relay's start.
 * NULL when out of memory (s just does not follow).  Freed by
 * follow_free(), which session_free() calls.
 */
struct follow *follow_new(struct session *s);

/* follow_free(f): drop any move in progress; NULL is a no-op. */
void	follow_free(struct follow *f);

/*
 * follow_client(f, buf, len) / follow_server(f, buf, len): bytes read
 * from that side (a relay tap).  Return 0 to keep tapping, 1 when the
 * session cannot be followed any more.
 */
int	follow_client(struct follow *f, const uint8_t *buf, size_t len);
int	follow_server(struct follow *f, const uint8_t *buf, size_t len);

/* follow_update(f): the service's routing changed: look again soon. */
void	follow_update(struct follow *f);

/*
 * follow_requests(f): how many whole Redis requests f's session has sent
 * (0 for PostgreSQL, or f NULL): a request is timed (response_timeout)
 * only once it is whole.
 */
uint64_t follow_requests(const struct follow *f);

/* follow_waiting(f): 1 while f's session waits to leave its route. */
int	follow_waiting(const struct follow *f);

#endif
