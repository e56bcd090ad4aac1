/*
 * health.h: active health checks for a service's routes.
 *
 * Each route is checked on its own timer through its own transport (the
 * same dial step as the traffic), then with the service's protocol probe.
 * Every check ends in health_done(), the one completion path, which
 * records statistics and feeds route_report().  Intervals: check_interval
 * while up, check_fast_interval while a route's state is changing (some
 * failures while up, some successes while down), check_down_interval
 * while down; each with +-10% jitter so that checks do not align.
 */
#ifndef POSTERN_HEALTH_H
#define POSTERN_HEALTH_H

struct health;
struct conf_service;
struct postern;
struct route;

/*
 * health_stale_fn(px, r): route r's name has a new answer: its sessions
 * on a server no longer in it look again (sessions_follow_stale).  Given
 * by the service at health_new, so that the checks call forward into the
 * sessions without including them.
 */
typedef void health_stale_fn(struct postern *px, struct route *r);

/*
 * health_new(px, cs, routes, nroutes, stale): the checks of a service's
 * routes (none when cs's check is "none"), allocated but not started;
 * results go to the routes (route_report), which tell their service, and
 * a name's new answer to stale (NULL: nobody).  Returns NULL when out of
 * memory.  cs and routes (the service's) must outlive it; the caller
 * frees it with health_free().
 */
struct health *health_new(struct postern *px, const struct conf_service *cs,
	    struct route **routes, size_t nroutes, health_stale_fn *stale);

/*
 * health_start(h): start checking; cannot fail.  Routes never checked
 * yet are probed at once; routes carried over a reload keep their
 * cadence.
 */
void	health_start(struct health *h);

/* health_free(h): cancel every check; NULL is a no-op. */
void	health_free(struct health *h);

#endif
