/*
 * notify.c: sd_notify(3) messages for Type=notify units.  Without
 * libsystemd the module keeps its interface and sends nothing.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "conf.h"
#include "daemon_ctx.h"
#include "health.h"
#include "log.h"
#include "notify.h"
#include "route.h"
#include "service.h"

#define NOTIFY_POLL_MS	100

struct notify {
	struct postern	*px;
	struct event	*poll;		/* until the first checks ran */
	int		 enabled;	/* $NOTIFY_SOCKET set, libsystemd */
	int		 ready;		/* READY=1 sent */
	int		 reloading;	/* RELOADING=1 sent */
	int		 stopping;	/* STOPPING=1 sent */
};

/* Send one message ("A=1\nSTATUS=..."); a failure is only logged. */
static void
notify_send(struct notify *n, const char *msg)
{
#ifdef HAVE_SYSTEMD
	int	rc;

	if (!n->enabled)
		return;
	if ((rc = sd_notify(0, msg)) < 0)
		log_warnx("sd_notify: %s", strerror(-rc));
	else
		log_debug("sd_notify: %.*s", (int)strcspn(msg, "\n"), msg);
#endif
}

/* Every checked route has had its first check (as GET /startup says). */
static int
notify_checks_ran(struct postern *px)
{
	struct service	*svc;
	size_t		 i;

	TAILQ_FOREACH(svc, daemon_services(px), entry) {
		if (conf_check_kind(svc->cs) == CHECK_NONE)
			continue;
		for (i = 0; i < svc->nroutes; i++) {
			if (svc->routes[i]->last_check == 0)
				return (0);
		}
	}
	return (1);
}

static void
notify_ready(struct notify *n)
{
	char	msg[128];
	size_t	nsvc = daemon_conf(n->px) != NULL ?
	    daemon_conf(n->px)->nservices : 0;

	n->ready = 1;
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving %zu service%s "
	    "(configuration generation %u)", nsvc, log_s(nsvc),
	    daemon_generation(n->px));
	notify_send(n, msg);
}

static void
notify_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify	*n = arg;
	struct timeval	 tv = { 0, NOTIFY_POLL_MS * 1000 };

	if (n->stopping)
		return;
	if (!notify_checks_ran(n->px)) {
		evtimer_add(n->poll, &tv);
		return;
	}
	notify_ready(n);
}

struct notify *
notify_new(struct postern *px)
{
	struct notify	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return (NULL);
	n->px = px;
#ifdef HAVE_SYSTEMD
	n->enabled = getenv("NOTIFY_SOCKET") != NULL;
#else
	/* A Type=notify unit would wait for READY=1 and time out. */
	if (getenv("NOTIFY_SOCKET") != NULL)
		log_warnx("NOTIFY_SOCKET is set, but this postern was built "
		    "without libsystemd and cannot notify systemd: a "
		    "Type=notify unit will time out (rebuild with "
		    "libsystemd-dev, or use Type=simple)");
#endif
	if (n->enabled && (n->poll = evtimer_new(daemon_base(px),
	    notify_poll_cb, n)) == NULL) {
		free(n);
		return (NULL);
	}
	return (n);
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->poll != NULL)
		event_free(n->poll);
	free(n);
}

void
notify_started(struct notify *n)
{
	if (!n->enabled || n->ready)
		return;
	notify_send(n, "STATUS=waiting for the first health checks");
	notify_poll_cb(-1, 0, n);
}

void
notify_reloading(struct notify *n)
{
	struct timespec	ts;
	char		msg[128];

	/* Before READY=1, systemd runs no reload; a stray SIGHUP is quiet. */
	if (!n->enabled || !n->ready || n->stopping)
		return;
	n->reloading = 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* MONOTONIC_USEC: systemd 253 and later want it with RELOADING=1. */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=reloading", (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	notify_send(n, msg);
}

void
notify_reloaded(struct notify *n)
{
	if (!n->reloading || n->stopping)
		return;
	n->reloading = 0;
	notify_ready(n);
}

void
notify_stopping(struct notify *n)
{
	if (!n->enabled || n->stopping)
		return;
	n->stopping = 1;
	evtimer_del(n->poll);
	notify_send(n, "STOPPING=1\nSTATUS=stopping: draining sessions");
}
