/*
 * service.h: a configured service at run time: its listeners, its routes
 * (with health) and its session counters.  A reload builds new service
 * objects; sessions keep a reference to the one they were accepted by.
 */
#ifndef POSTERN_SERVICE_H
#define POSTERN_SERVICE_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "route.h"	/* enum route_admin */

struct cluster;
struct conf;
struct conf_service;
struct health;
struct listener;
struct postern;
struct route;
struct session;

TAILQ_HEAD(service_held, session);
/* Sessions whose response_timeout runs, oldest (first due) first. */
TAILQ_HEAD(service_answers, session);

/*
 * Sessions relaying or waiting, for max_connections: one count per
 * service name, shared by the objects of every generation, so that the
 * old generation's sessions still count after a reload.
 */
struct service_count {
	unsigned int		 refs;
	unsigned int		 active;
	unsigned int		 waiting;	/* to leave their route */
	unsigned int		 lingering;	/* closed, saying goodbye */
	uint64_t		 moved;		/* to another route, unseen */
	uint64_t		 safe_closed;	/* closed at a safe point */
	uint64_t		 replayed;	/* moved with reads re-sent */
	uint64_t		 cut;		/* closed at once: route down */
	unsigned int		 follow_budget;	/* moves left this tick */
	uint64_t		 no_route;	/* "no healthy route": all failed */
	uint64_t		 hold_expired;	/* the same after hold_timeout */
};

struct service {
	TAILQ_ENTRY(service)	 entry;		/* in postern.services */
	int			 refs;
	struct postern		*px;
	struct conf		*gen;
	const struct conf_service *cs;
	const char		*name;		/* cs->name */
	const char		*label;		/* logs: -L "7391 -> h:6379" */
	struct route		**routes;	/* configured priority order */
	struct route		**order;	/* effective: a pin goes first */
	size_t			 nroutes;
	size_t			 current;	/* order index new sessions
						   get now; nroutes: none */
	uint64_t		 failovers;	/* changes of current */
	int			 pinned;	/* routes[pin] is pinned */
	size_t			 pin;
	int64_t			 pin_until;	/* clock_ms; 0: none */
	struct event		*pin_timer;
	struct event		*rest_timer;	/* a passive route may be tried */
	struct event		*drain_timer;	/* a drain deadline */
	struct event		*follow_timer;	/* the level-triggered pass */
	struct health		*health;
	struct service_held	 held;		/* waiting for a route */
	/* response_timeout: one timer for all of them (session_watch.c). */
	struct service_answers	 answers;
	struct event		*answer_timer;
	int			 retired;	/* replaced by a reload */
	struct listener		**listeners;
	size_t			 nlisteners;
	struct service_count	*count;		/* shared across reloads */
	uint64_t		 total;
	uint64_t		 refused;	/* over max_connections */
	/* cluster = yes: the seed owns it, its node services share it. */
	struct cluster		*cluster;
	int			 cluster_owner;
	struct cluster		*cluster_prev;	/* a reload: its ports */
};

/*
 * service_new(px, gen, cs, old): a service for cs in generation gen,
 * with everything it needs allocated (health checks, room for its
 * listeners), nothing started: a reload prepares every service before
 * it commits.  Routes equal to one of old's (old may be NULL) are carried
 * over with their health state.  No listeners yet.  Returns NULL on
 * allocation failure; the caller owns the one reference.
 */
struct service *service_new(struct postern *px, struct conf *gen,
	    const struct conf_service *cs, const struct service *old);

/*
 * service_activate(svc): svc is now the one serving its name: it receives
 * its routes' state changes, starts their health checks and computes the
 * current route.  Cannot fail.
 */
void	service_activate(struct service *svc);

/*
 * service_retire(svc): a reload replaced svc: stop its checks and
 * listeners, and wake its held sessions so they fail promptly.  Live
 * sessions keep their reference.
 */
void	service_retire(struct service *svc);

/*
 * service_select(svc, from, now): the first usable route at or after
 * position `from` of the effective order (a pinned route first, then the
 * configured priority); svc->nroutes when none is.  A cluster node's
 * service (cluster set, not its owner) takes, from 0, its copy of the
 * route its seed uses now while that copy is usable for it.
 */
size_t	service_select(struct service *svc, size_t from,
	    int64_t now);

/*
 * service_update(svc): pick the route new sessions get again now (a
 * cluster node service when its seed's route changed); established
 * sessions follow as configured.  Logged when it changes.
 */
void	service_update(struct service *svc);

/* service_preferred(svc): the route that would serve if all were up. */
struct route *service_preferred(const struct service *svc);

/* service_find_route(svc, name): the route of that name, or NULL. */
struct route *service_find_route(const struct service *svc,
	    const char *name);

/*
 * service_pin(svc, route, ms, err, errlen): put route first in the order
 * for ms milliseconds (0: until unpinned); logged.  service_unpin(svc):
 * back to the configured order.  Return 0, or -1 with a message.
 */
int	service_pin(struct service *svc, const char *route, int ms, char *err,
	    size_t errlen);
int	service_unpin(struct service *svc, char *err, size_t errlen);

/*
 * service_set_admin(svc, route, admin, err, errlen): enable, drain or
 * disable a route (enum route_admin); disabling closes its sessions.
 * Logged.  Returns 0, or -1 with a message.
 */
int	service_set_admin(struct service *svc, const char *route,
	    enum route_admin admin, char *err, size_t errlen);

/*
 * service_drain_deadline(svc, route, ms): sessions still on the drained
 * route ms from now are closed then (0: no deadline).  Logged.
 */
void	service_drain_deadline(struct service *svc, const char *route, int ms);

/* service_hold(svc, s) / service_unhold(svc, s): the held-session list. */
void	service_hold(struct service *svc, struct session *s);
void	service_unhold(struct service *svc, struct session *s);

/*
 * service_add_listener(svc, l): the service takes l over and accepts
 * from it.  At most the service's configured number of listeners (room
 * was made by service_new); cannot fail.
 */
void	service_add_listener(struct service *svc, struct listener *l);

/*
 * service_take_listener(svc, a): detach and return svc's listener bound
 * to address a, or NULL.  Used on reload to keep sockets open.
 */
struct listener *service_take_listener(struct service *svc,
	    const struct addr *a);

/* service_close_listeners(svc): stop accepting (shutdown, retirement). */
void	service_close_listeners(struct service *svc);

struct service *service_ref(struct service *svc);

/*
 * service_linger_hold(svc): one more of svc's clients lingering
 * (linger.h), counted toward max_connections with the sessions: a client
 * refused or closed at a safe point keeps its socket for up to
 * LINGER_TIMEOUT_MS.  Returns the count, kept allocated, for
 * service_linger_release(), to be called exactly once.
 */
struct service_count *service_linger_hold(struct service *svc);
void	service_linger_release(void *count);

/* service_unref(svc): drop a reference; frees at zero.  NULL is a no-op. */
void	service_unref(struct service *svc);

/* service_find(px, name): the serving service of that name, or NULL. */
struct service *service_find(struct postern *px, const char *name);

/*
 * service_followed(svc): the service whose routes svc's sessions follow
 * now: the one serving svc's name (a reload may have replaced svc), but
 * a cluster node's service itself (its routes aim at its node; the
 * name's service is the seed's).  NULL: none.
 */
struct service *service_followed(struct service *svc);

#endif
