/*
 * daemon.h: the daemon's life: start, reload (SIGHUP, watch_config),
 * drain and stop (SIGTERM/SIGINT).  It calls every module (services,
 * sessions, admin, notify); only main.c calls it.  What the other
 * modules read of the context is daemon_ctx.h.
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

#endif
