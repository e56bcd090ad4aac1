/*
 * daemon_int.h: what the daemon's life shares (daemon.c: start,
 * signals, shutdown; daemon_reload.c: configuration reloads, by SIGHUP or
 * watch_config).  Not for other modules: they use daemon_ctx.h (main.c
 * daemon.h); the context's fields are in daemon_ctx_int.h.
 */
#ifndef POSTERN_DAEMON_INT_H
#define POSTERN_DAEMON_INT_H

struct conf;
struct postern;

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
