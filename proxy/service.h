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

struct conf;
struct conf_service;
struct listener;
struct postern;
struct route;

struct service {
	TAILQ_ENTRY(service)	 entry;		/* in postern.services */
	int			 refs;
	struct postern		*px;
	struct conf		*gen;
	const struct conf_service *cs;
	const char		*name;		/* cs->name */
	struct route		**routes;	/* priority order */
	size_t			 nroutes;
	struct listener		**listeners;
	size_t			 nlisteners;
	unsigned int		 active;
	uint64_t		 total;
	uint64_t		 refused;	/* over max_connections */
};

/*
 * service_new(px, gen, cs, old): a service for cs in generation gen.
 * Routes equal to one of old's (old may be NULL) are carried over with
 * their health state.  No listeners yet.  Returns NULL on allocation
 * failure; the caller owns the one reference.
 */
struct service *service_new(struct postern *px, struct conf *gen,
	    const struct conf_service *cs, const struct service *old);

/*
 * service_add_listener(svc, l): the service takes l over and accepts
 * from it.  Returns 0, or -1 (out of memory; l stays the caller's).
 */
int	service_add_listener(struct service *svc, struct listener *l);

/*
 * service_take_listener(svc, a): detach and return svc's listener bound
 * to address a, or NULL.  Used on reload to keep sockets open.
 */
struct listener *service_take_listener(struct service *svc,
	    const struct addr *a);

/* service_close_listeners(svc): stop accepting (shutdown, retirement). */
void	service_close_listeners(struct service *svc);

struct service *service_ref(struct service *svc);

/* service_unref(svc): drop a reference; frees at zero.  NULL is a no-op. */
void	service_unref(struct service *svc);

#endif
