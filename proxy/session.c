/*
 * session.c: the life of one proxied connection.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf.h"
#include "daemon.h"
#include "dial.h"
#include "log.h"
#include "route.h"
#include "service.h"
#include "session.h"
#include "sockopt.h"

static void	session_dial_next(struct session *, size_t);

static const char *const session_reason_names[] = {
	"relay", "no route", "shutdown", "internal error"
};

/* "s7 redis 127.0.0.1:51234 -> private 127.0.0.1:6380" */
static const char *
session_prefix(const struct session *s, const struct route *r, char *buf,
    size_t len)
{
	char	target[ADDR_STRLEN];

	if (r == NULL)
		snprintf(buf, len, "s%llu %s %s", (unsigned long long)s->id,
		    s->svc->name, s->peer);
	else
		snprintf(buf, len, "s%llu %s %s -> %s %s",
		    (unsigned long long)s->id, s->svc->name, s->peer,
		    r->cr->name, addr_format(&r->cr->target, target,
		    sizeof(target)));
	return (buf);
}

static void
session_relay_done(struct relay *r, void *arg)
{
	struct session	*s = arg;

	session_close(s, SESSION_END_RELAY, NULL);
}

static void
session_connected(struct session *s, const struct dial_result *res,
    struct route *r)
{
	int	fd = s->client;

	s->client = -1;
	s->route = route_ref(r);
	r->sessions_total++;
	r->sessions_active++;
	s->state = SESSION_RELAYING;
	if (relay_start(&s->relay, daemon_base(s->svc->px), fd, res->bev,
	    res->plain, session_relay_done, s) != 0)
		session_close(s, SESSION_END_INTERNAL, "out of memory");
}

static void
session_dial_cb(const struct dial_result *res, void *arg)
{
	struct session	*s = arg;
	struct route	*r = s->svc->routes[s->route_idx];
	struct timeval	 now;
	char		 prefix[256];
	int		 n;

	s->dial = NULL;
	evutil_gettimeofday(&now, NULL);
	if (res->status == DIAL_OK) {
		route_report(r, 1, "connected", &now);
		log_debug("%s: connected in %d ms", session_prefix(s, r,
		    prefix, sizeof(prefix)), res->elapsed_ms);
		session_connected(s, res, r);
		return;
	}
	r->connect_failures++;
	log_warnx("%s: connect failed: %s", session_prefix(s, r, prefix,
	    sizeof(prefix)), res->detail);
	route_report(r, 0, res->detail, &now);
	n = (int)strlen(s->tried);
	snprintf(s->tried + n, sizeof(s->tried) - (size_t)n, "%s%s: %s",
	    n ? "; " : "", r->cr->name, res->detail);
	session_dial_next(s, s->route_idx + 1);
}

/* Dial the first usable route at or after `from`. */
static void
session_dial_next(struct session *s, size_t from)
{
	struct service	*svc = s->svc;
	struct timeval	 now;
	size_t		 i;
	int		 n;

	evutil_gettimeofday(&now, NULL);
	i = route_select(svc->routes, svc->nroutes, from, &now);
	if (i == svc->nroutes) {
		/* Name the routes skipped as down, with their last error. */
		for (i = from; i < svc->nroutes; i++) {
			n = (int)strlen(s->tried);
			snprintf(s->tried + n, sizeof(s->tried) - (size_t)n,
			    "%s%s: down (%s)", n ? "; " : "",
			    svc->routes[i]->cr->name,
			    svc->routes[i]->last_error);
		}
		session_close(s, SESSION_END_NO_ROUTE, s->tried);
		return;
	}
	s->route_idx = i;
	s->dial = dial_start(daemon_dial_env(svc->px), svc->routes[i]->cr,
	    svc->cs->connect_timeout_ms, session_dial_cb, s);
	if (s->dial == NULL)
		session_close(s, SESSION_END_INTERNAL, "out of memory");
}

void
session_new(struct service *svc, int fd, struct sockaddr *sa, socklen_t len)
{
	struct session	*s;
	struct postern	*px = svc->px;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warnx("service %s: out of memory for a session",
		    svc->name);
		close(fd);
		return;
	}
	s->id = daemon_next_session_id(px);
	s->svc = service_ref(svc);
	addr_from_sockaddr(sa, len, s->peer, sizeof(s->peer));
	evutil_gettimeofday(&s->start, NULL);
	s->state = SESSION_DIALING;
	relay_init(&s->relay);
	evutil_make_socket_nonblocking(fd);
	sockopt_tcp(fd);
	/* Client bytes wait in the kernel until the relay starts. */
	s->client = fd;
	svc->active++;
	svc->total++;
	daemon_session_add(px, s);
	session_dial_next(s, 0);
}

void
session_close(struct session *s, int reason, const char *detail)
{
	struct timeval	 now;
	char		 prefix[256], why[640];
	long		 ms;

	if (s->state == SESSION_CLOSED)
		return;
	if (reason == SESSION_END_RELAY && s->relay.error[0] != '\0')
		snprintf(why, sizeof(why), "%s: %s",
		    relay_end_name(s->relay.first_end), s->relay.error);
	else if (reason == SESSION_END_RELAY)
		snprintf(why, sizeof(why), "%s",
		    relay_end_name(s->relay.first_end));
	else if (detail != NULL)
		snprintf(why, sizeof(why), "%s: %s",
		    session_reason_names[reason], detail);
	else
		snprintf(why, sizeof(why), "%s", session_reason_names[reason]);
	evutil_gettimeofday(&now, NULL);
	ms = (long)(now.tv_sec - s->start.tv_sec) * 1000 +
	    (long)(now.tv_usec - s->start.tv_usec) / 1000;
	log_info("%s: closed (%s) after %ld.%03lds, %llu bytes up, %llu "
	    "bytes down", session_prefix(s, s->route, prefix, sizeof(prefix)),
	    why, ms / 1000, ms % 1000,
	    (unsigned long long)s->relay.side[RELAY_CLIENT].bytes,
	    (unsigned long long)s->relay.side[RELAY_SERVER].bytes);

	s->state = SESSION_CLOSED;
	dial_cancel(s->dial);
	s->dial = NULL;
	relay_stop(&s->relay);
	if (s->route != NULL) {
		s->route->sessions_active--;
		s->route->bytes_up += s->relay.side[RELAY_CLIENT].bytes;
		s->route->bytes_down += s->relay.side[RELAY_SERVER].bytes;
	}
	s->svc->active--;
	daemon_session_reap(s->svc->px, s);
}

void
session_free(struct session *s)
{
	if (s->client != -1)
		close(s->client);
	relay_release(&s->relay);
	route_unref(s->route);
	service_unref(s->svc);
	free(s);
}
