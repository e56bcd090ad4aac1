/*
 * notify.h: tell the service manager where the daemon is in its life,
 * with systemd's sd_notify protocol (Type=notify units):
 *
 *   READY=1       listeners and the admin endpoint are bound and every
 *                 checked route has had its first health check (what
 *                 GET /startup reports), so dependent units start against
 *                 a proxy that knows which route to use;
 *   RELOADING=1   on SIGHUP, followed by READY=1 once the reload is done
 *                 (applied or refused: the daemon serves either way);
 *   STOPPING=1    on the first SIGTERM or SIGINT;
 *   STATUS=...    one line for "systemctl status".
 *
 * Every call is a no-op when configure found no libsystemd or when
 * $NOTIFY_SOCKET is unset (not started by systemd).
 */
#ifndef POSTERN_NOTIFY_H
#define POSTERN_NOTIFY_H

struct notify;
struct postern;

/*
 * notify_new(px): the notifier of px (px must outlive it).  Returns NULL
 * only when out of memory; free with notify_free().
 */
struct notify *notify_new(struct postern *px);

/* notify_free(n): stop waiting for the first checks; NULL is a no-op. */
void	notify_free(struct notify *n);

/*
 * notify_started(n): the listeners are bound.  Sends READY=1 as soon as
 * every checked route of px has had its first check (looking every
 * 100 ms until then; at once when no service runs checks).
 */
void	notify_started(struct notify *n);

/* notify_reloading(n): SIGHUP received; a reload starts. */
void	notify_reloading(struct notify *n);

/* notify_reloaded(n): the reload is over (applied or refused). */
void	notify_reloaded(struct notify *n);

/* notify_stopping(n): shutdown started (shutdown_delay, then drain). */
void	notify_stopping(struct notify *n);

#endif
