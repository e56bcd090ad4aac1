/*
 * service.c: run-time services and their accept path.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "route.h"
#include "service.h"
#include "session.h"

static void
service_accept(int fd, struct sockaddr *sa, int len, void *arg)
{
	struct service	*svc = arg;
	char		 peer[ADDR_STRLEN];

	if (svc->active >= (unsigned int)svc->cs->max_connections) {
		svc->refused++;
		/* One line per refusal would let a flood fill the disk. */
		if (svc->refused == 1 || svc->refused % 1000 == 0)
			log_warnx("service %s: %s: refused: max_connections "
			    "reached (%d; %llu refused so far)", svc->name,
			    addr_from_sockaddr(sa, (socklen_t)len, peer,
			    sizeof(peer)), svc->cs->max_connections,
			    (unsigned long long)svc->refused);
		close(fd);
		return;
	}
	session_new(svc, fd, sa, (socklen_t)len);
}

struct service *
service_new(struct postern *px, struct conf *gen,
    const struct conf_service *cs, const struct service *old)
{
	struct service	*svc;
	struct timeval	 now;
	size_t		 i, j;

	if ((svc = calloc(1, sizeof(*svc))) == NULL)
		return (NULL);
	svc->refs = 1;
	svc->px = px;
	svc->gen = conf_ref(gen);
	svc->cs = cs;
	svc->name = cs->name;
	svc->routes = calloc(cs->nroutes, sizeof(*svc->routes));
	if (svc->routes == NULL)
		goto fail;
	evutil_gettimeofday(&now, NULL);
	for (i = 0; i < cs->nroutes; i++) {
		for (j = 0; old != NULL && j < old->nroutes; j++) {
			if (route_same(old->routes[j]->cr, &cs->routes[i])) {
				svc->routes[i] = route_ref(old->routes[j]);
				route_rebind(svc->routes[i], gen, cs,
				    &cs->routes[i]);
				break;
			}
		}
		if (svc->routes[i] == NULL &&
		    (svc->routes[i] = route_new(gen, cs, &cs->routes[i],
		    &now)) == NULL)
			goto fail;
		svc->nroutes++;
	}
	if (old != NULL) {
		svc->total = old->total;
		svc->refused = old->refused;
	}
	return (svc);
fail:
	service_unref(svc);
	return (NULL);
}

int
service_add_listener(struct service *svc, struct listener *l)
{
	struct listener	**n;

	n = reallocarray(svc->listeners, svc->nlisteners + 1, sizeof(*n));
	if (n == NULL)
		return (-1);
	svc->listeners = n;
	svc->listeners[svc->nlisteners++] = l;
	listener_set_cb(l, service_accept, svc);
	return (0);
}

struct listener *
service_take_listener(struct service *svc, const struct addr *a)
{
	struct listener	*l;
	size_t		 i;

	for (i = 0; i < svc->nlisteners; i++) {
		l = svc->listeners[i];
		if (!addr_equal(listener_addr(l), a))
			continue;
		memmove(&svc->listeners[i], &svc->listeners[i + 1],
		    (svc->nlisteners - i - 1) * sizeof(*svc->listeners));
		svc->nlisteners--;
		return (l);
	}
	return (NULL);
}

void
service_close_listeners(struct service *svc)
{
	size_t	i;

	for (i = 0; i < svc->nlisteners; i++)
		listener_free(svc->listeners[i]);
	free(svc->listeners);
	svc->listeners = NULL;
	svc->nlisteners = 0;
}

struct service *
service_ref(struct service *svc)
{
	svc->refs++;
	return (svc);
}

void
service_unref(struct service *svc)
{
	size_t	i;

	if (svc == NULL || --svc->refs > 0)
		return;
	service_close_listeners(svc);
	for (i = 0; i < svc->nroutes; i++)
		route_unref(svc->routes[i]);
	free(svc->routes);
	conf_unref(svc->gen);
	free(svc);
}
