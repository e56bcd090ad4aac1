/*
 * daemon.h: the one run-time context, struct postern, and its life:
 * start, reload (SIGHUP), drain and stop (SIGTERM/SIGINT).
 */
#ifndef POSTERN_DAEMON_H
#define POSTERN_DAEMON_H

#include <sys/queue.h>

#include <stdint.h>

#include "dial.h"

struct conf;
struct evbuffer;
struct event;
struct route;
struct event_base;
struct evdns_base;
struct admin;
struct notify;
struct pgcancel;
struct service;
struct session;

TAILQ_HEAD(service_list, service);
TAILQ_HEAD(session_list, session);

/* The context is opaque: other modules use the calls below. */
struct postern;


/*
 * daemon_new(): the event loop, resolver and signal handlers.  Returns
 * NULL (logged) on failure.  Free with daemon_free().
 */
struct postern *daemon_new(void);

/*
 * daemon_start(px, conf): bind every listener of conf and start serving.
 * Takes conf's reference on success.  Returns 0, 1 (runtime failure such
 * as a port in use) or 2 (a configuration this build cannot run), all
 * logged; on failure conf stays the caller's.
 */
int	daemon_start(struct postern *px, struct conf *conf);

/* daemon_run(px): run until stopped; returns the exit code. */
int	daemon_run(struct postern *px);

/* daemon_free(px): close everything; NULL is a no-op. */
void	daemon_free(struct postern *px);

/* Accessors for the modules that need the context's parts. */
struct event_base *daemon_base(struct postern *px);
const struct dial_env *daemon_dial_env(struct postern *px);
uint64_t daemon_next_session_id(struct postern *px);
struct pgcancel *daemon_cancels(struct postern *px);

/* daemon_services(px): the serving services, in configuration order. */
const struct service_list *daemon_services(struct postern *px);

/* daemon_conf(px): the running configuration generation. */
const struct conf *daemon_conf(struct postern *px);

/* daemon_generation(px): how many generations were loaded (1: the first). */
unsigned int daemon_generation(struct postern *px);

/* daemon_stopping(px): SIGTERM or SIGINT seen: readiness fails. */
int	daemon_stopping(struct postern *px);

/*
 * daemon_route_live_bytes(px, r, up, down): add the bytes relayed so far
 * on r by its sessions still open (closed ones are in r->bytes_up and
 * r->bytes_down), so that a byte counter grows as bytes move.
 */
void	daemon_route_live_bytes(struct postern *px, const struct route *r,
	    uint64_t *up, uint64_t *down);

/* daemon_uptime_ms(px): milliseconds since the daemon started serving. */
int64_t	daemon_uptime_ms(struct postern *px);

/* daemon_nsessions(px): live sessions of every service and generation. */
unsigned int daemon_nsessions(const struct postern *px);

/*
 * daemon_linger(px, svc, fd, msg): send msg (may be NULL) to a client of
 * svc and close it gracefully; takes fd and msg.  Until it is closed the
 * socket counts toward svc's max_connections (service_linger_hold).
 */
void	daemon_linger(struct postern *px, struct service *svc, int fd,
	    struct evbuffer *msg);

/*
 * daemon_close_unfollowed(px, r, why): close the live sessions on route r
 * that do not follow their route (protocol tcp): the others leave it on
 * their own (follow.h).
 */
void	daemon_close_unfollowed(struct postern *px, struct route *r,
	    const char *why);

/*
 * daemon_close_route_sessions(px, r, why): close every live session that
 * relays through route r.
 */
void	daemon_close_route_sessions(struct postern *px, struct route *r,
	    const char *why);

/*
 * daemon_follow_sessions(px, svc): svc's routing changed: every live
 * session of its name looks again whether to leave its route
 * (follow_update; the steps come later, from the loop).
 */
void	daemon_follow_sessions(struct postern *px, struct service *svc);

/*
 * Logged at start (and printed by "postern -n") when postern runs as root
 * and no "user =" makes it drop root once its listeners are bound.
 */
#define DAEMON_ROOT_WARNING	"running as root without user =: every " \
	"session, check and bastion runs with root's rights; set user = " \
	"(e.g. user = postern) to drop them once the listeners are bound"

/* daemon_find_service(px, name): the serving service, or NULL. */
struct service *daemon_find_service(struct postern *px, const char *name);

/* daemon_session_add(px, s): a new live session. */
void	daemon_session_add(struct postern *px, struct session *s);

/*
 * daemon_session_reap(px, s): move a closed session to the reap list;
 * it is freed from a zero-timeout event, outside its own callbacks.
 */
void	daemon_session_reap(struct postern *px, struct session *s);

#endif
