/*
 * daemon_ctx.h: the one run-time context, struct postern, as the other
 * modules see it: accessors for its parts and the lists it holds (the
 * services, the live sessions and those to free).  It calls no other
 * module of proxy/, so every module may read it without a loop.  Its
 * life (start, reload, drain, stop) is daemon.h, for main.c only.
 */
#ifndef POSTERN_DAEMON_CTX_H
#define POSTERN_DAEMON_CTX_H

#include <sys/queue.h>

#include <stdint.h>

#include "dial.h"

struct conf;
struct linger_list;
struct evbuffer;
struct event;
struct route;
struct event_base;
struct evdns_base;
struct admin;
struct notify;
struct pg_cancel;
struct service;
struct session;

TAILQ_HEAD(service_list, service);
TAILQ_HEAD(session_list, session);

/* The context is opaque: other modules use the calls below. */
struct postern;


/* Accessors for the modules that need the context's parts. */
struct event_base *daemon_base(struct postern *px);
const struct dial_env *daemon_dial_env(struct postern *px);
uint64_t daemon_next_session_id(struct postern *px);
struct pg_cancel *daemon_cancels(struct postern *px);

/* daemon_services(px): the serving services, in configuration order. */
const struct service_list *daemon_services(struct postern *px);

/* daemon_conf(px): the running configuration generation. */
const struct conf *daemon_conf(struct postern *px);

/* daemon_generation(px): how many generations were loaded (1: the first). */
unsigned int daemon_generation(struct postern *px);

/* The outcome of the last reload (SIGHUP or watch_config), for /health. */
struct daemon_reload {
	unsigned long long	 ok, failed;	/* reloads since start */
	int			 last_ok;	/* of the last one */
	const char		*trigger;	/* "SIGHUP", "watch"; NULL: none yet */
	int64_t			 when;		/* Unix time (s) of the last */
	char			 error[512];	/* why it failed: file:line: ... */
};

/* daemon_reload_status(px): the last reload's outcome (owned by px). */
const struct daemon_reload *daemon_reload_status(struct postern *px);

/* daemon_stopping(px): SIGTERM or SIGINT seen: readiness fails. */
int	daemon_stopping(struct postern *px);

/* daemon_uptime_ms(px): milliseconds since the daemon started serving. */
int64_t	daemon_uptime_ms(struct postern *px);

/* daemon_nsessions(px): live sessions of every service and generation. */
unsigned int daemon_nsessions(const struct postern *px);

/*
 * daemon_sessions(px): the live sessions, every service and generation;
 * session.c adds and removes them (session_new, session_close) and
 * counts them with daemon_session_count(px, +1 or -1).
 */
struct session_list *daemon_sessions(struct postern *px);
void	daemon_session_count(struct postern *px, int delta);

/*
 * daemon_reap_list(px): closed sessions waiting to be freed;
 * daemon_reap_soon(px) has session_reap_cb free them from a
 * zero-timeout event, outside their own callbacks.  daemon_reaped(px),
 * called once they are freed, drops TLS contexts no session holds and
 * ends the loop when a drain has no session left.
 */
struct session_list *daemon_reap_list(struct postern *px);
void	daemon_reap_soon(struct postern *px);
void	daemon_reaped(struct postern *px);

/* daemon_lingers(px): the clients being given last words (linger.h). */
struct linger_list *daemon_lingers(struct postern *px);

#endif
