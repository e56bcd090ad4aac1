/*
 * sessions.h: operations on every live session of a route or a service
 * (the list is the context's: daemon_sessions).
 */
#ifndef POSTERN_SESSIONS_H
#define POSTERN_SESSIONS_H

#include <stdint.h>

struct postern;
struct route;
struct service;

/*
 * sessions_close_route(px, r, why): close every live session that relays
 * through route r.
 */
void	sessions_close_route(struct postern *px, struct route *r,
	    const char *why);

/*
 * sessions_close_unfollowed(px, r, why): close the live sessions on route
 * r that do not follow their route (protocol tcp): the others leave it on
 * their own (follow.h).
 */
void	sessions_close_unfollowed(struct postern *px, struct route *r,
	    const char *why);

/*
 * sessions_follow_service(px, svc): svc's routing changed: every live
 * session of its name looks again whether to leave its route
 * (follow_update; the steps come later, from the loop).
 */
void	sessions_follow_service(struct postern *px, struct service *svc);

/*
 * sessions_follow_stale(px, r): r's name has a new answer: every session
 * on r whose server is not in it looks again (follow_update).
 */
void	sessions_follow_stale(struct postern *px, struct route *r);

/*
 * sessions_live_bytes(px, r, up, down): add the bytes relayed so far on r
 * by its sessions still open (closed ones are in r->bytes_up and
 * r->bytes_down), so that a byte counter grows as bytes move.
 */
void	sessions_live_bytes(struct postern *px, const struct route *r,
	    uint64_t *up, uint64_t *down);

#endif
