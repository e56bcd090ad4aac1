/*
 * move.h: a Redis session's next server, made ready before the session
 * moves to it: dial the route, replay the state-setting commands the
 * session's tracker recorded (resp_track.h) and a PING, and check that
 * every reply equals the one the first server gave.  The session swaps
 * its server side only after that (relay_swap_server), at a safe point;
 * on any mismatch, error or timeout the new connection is dropped and
 * the session stays where it is.
 *
 *   DIALING --connected--> REPLAYING --all replies match--> READY
 *      |                       |
 *      +--failed---------------+--mismatch, EOF, error, timeout--> FAILED
 */
#ifndef POSTERN_MOVE_H
#define POSTERN_MOVE_H

#include <stddef.h>

struct bufferevent;
struct conf_route;
struct dial_env;
struct evbuffer;
struct link;
struct move;
struct resp_expect;

/*
 * move_cb(m, ok, why, arg): the move is READY (ok: move_take() gives the
 * upstream) or FAILED (why says how).  Called from m's own callbacks:
 * the callee must not move_free(m) there (defer it).
 */
typedef void move_cb(struct move *m, int ok, const char *why, void *arg);

/*
 * move_start(env, cr, connect_ms, reply_ms, replay, want, nwant, cb,
 * arg): dial cr within connect_ms, send replay (emptied; the commands
 * whose replies want[0..nwant) describe) followed by a PING, and expect
 * the replies within reply_ms of the connect.  The callback always
 * comes later from the loop.  Returns NULL when out of memory (replay
 * is emptied all the same).  Free with move_free().
 */
struct move *move_start(const struct dial_env *env,
	    const struct conf_route *cr, int connect_ms, int reply_ms,
	    struct evbuffer *replay, const struct resp_expect *want,
	    size_t nwant, move_cb *cb, void *arg);

/*
 * move_take(m, bev, link): a READY move hands over its upstream: *link
 * (an ssh:// channel or a tls:// connection, paused and detached) or else
 * *bev (a bare socket: events disabled, no callbacks, no unread byte).
 * The caller owns it from then on.
 */
/*
 * move_peer(m): the address of the server a READY move connected to over
 * TCP (tcp://, tls://), or NULL (ssh://: the bastion knows).  Owned by m.
 */
const struct sockaddr *move_peer(const struct move *m);

void	move_take(struct move *m, struct bufferevent **bev,
	    struct link **link);

/* move_free(m): cancel and close whatever m still holds; NULL: no-op. */
void	move_free(struct move *m);

#endif
