/*
 * daemon.h: the daemon's life: start, reload (SIGHUP, watch_config),
 * drain and stop (SIGTERM/SIGINT).  It calls every module (services,
 * sessions, admin, notify); only main.c calls it (daemon_new, _start,
 * _run, _free), and the life's own files (daemon.c, daemon_reload.c) call
 * the rest among themselves.  What the other modules read of the context
 * is daemon_ctx.h.
 */
#ifndef POSTERN_DAEMON_H
#define POSTERN_DAEMON_H

struct conf;
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

/*
 * Logged at start (and printed by "postern -n") when postern runs as root
 * and no "user =" makes it drop root once its listeners are bound.
 */
#define DAEMON_ROOT_WARNING	"running as root without user =: every " \
	"session, check and bastion runs with root's rights; set user = " \
	"(e.g. user = postern) to drop them once the listeners are bound"

/* The life's own, between daemon.c and daemon_reload.c. */

/*
 * daemon_apply(px, c): prepare generation c whole (listeners, TLS), then
 * commit it.  Returns 0 (px takes c's reference) or -1 (logged; nothing
 * changed, c stays the caller's).
 */
int	daemon_apply(struct postern *px, struct conf *c);

/*
 * daemon_reload(px, trigger): read the file again and apply it, or keep
 * the running generation (logged; recorded for /health under trigger,
 * "SIGHUP" or "watch", a static string).
 */
void	daemon_reload(struct postern *px, const char *trigger);

/*
 * daemon_resolver(px, c): the nameserver of generation c (its resolver,
 * or resolv.conf's) for every lookup from now on.
 */
void	daemon_resolver(struct postern *px, const struct conf *c);

/* daemon_watch_update(px): start or stop the watch per watch_config. */
void	daemon_watch_update(struct postern *px);

#endif
