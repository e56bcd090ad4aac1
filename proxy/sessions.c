/*
 * sessions.c: operations on every live session of a route or a service:
 * close them, ask them to follow their routing again, add up their bytes.
 * The service (a route down, disabled or drained), the health checks (a
 * name's new answer) and /metrics call them; they walk forward, into
 * session.c and follow.c, never back.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "daemon_ctx.h"
#include "follow.h"
#include "route.h"
#include "service.h"
#include "session.h"

void
sessions_close_route(struct postern *px, struct route *r,
    const char *why)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(daemon_sessions(px)); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->route == r)
			session_close(s, SESSION_END_ROUTE, why);
	}
}

void
sessions_close_unfollowed(struct postern *px, struct route *r, const char *why)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(daemon_sessions(px)); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->route == r && s->follow == NULL)
			session_close(s, SESSION_END_ROUTE, why);
	}
}

void
sessions_follow_service(struct postern *px, struct service *svc)
{
	struct session	*s;

	TAILQ_FOREACH(s, daemon_sessions(px), entry) {
		if (s->follow != NULL && strcmp(s->svc->name, svc->name) == 0)
			follow_update(s->follow);
	}
}

void
sessions_follow_stale(struct postern *px, struct route *r)
{
	struct session	*s;
	int64_t		 now = clock_ms();

	TAILQ_FOREACH(s, daemon_sessions(px), entry) {
		if (s->follow != NULL && s->route == r && s->has_upaddr &&
		    route_dns_stale(r, (struct sockaddr *)&s->upaddr, now))
			follow_update(s->follow);
	}
}

void
sessions_live_bytes(struct postern *px, const struct route *r,
    uint64_t *up, uint64_t *down)
{
	struct session	*s;

	TAILQ_FOREACH(s, daemon_sessions(px), entry) {
		if (s->route != r)
			continue;
		relay_handoff_sync(&s->relay);	/* handed: the kernel's */
		*up += s->relay.side[RELAY_CLIENT].bytes -
		    s->route_base[RELAY_CLIENT];
		*down += s->relay.side[RELAY_SERVER].bytes -
		    s->route_base[RELAY_SERVER];
	}
}
