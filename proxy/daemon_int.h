/*
 * daemon_int.h: what the daemon's files (daemon_ctx.c: the context's
 * accessors; daemon.c: start, signals, shutdown; daemon_reload.c:
 * configuration reloads, by SIGHUP or watch_config) share.  Not for other
 * modules: they use daemon_ctx.h (main.c daemon.h).
 */
#ifndef POSTERN_DAEMON_INT_H
#define POSTERN_DAEMON_INT_H

#include <stdint.h>

#include "addr.h"
#include "daemon_ctx.h"
#include "linger.h"

struct confwatch;

struct postern {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct dial_env		 dial_env;
	struct conf		*conf;		/* the running generation */
	unsigned int		 generation;
	struct service_list	 services;
	struct session_list	 sessions;	/* live */
	struct session_list	 reap;		/* closed, to free */
	unsigned int		 nsessions;
	struct event		*reap_ev;
	struct memtrim		*trim;		/* after bursts (memtrim.h) */
	struct event		*sig_term, *sig_int, *sig_hup;
	struct event		*drain_timer;
	struct event		*delay_timer;	/* shutdown_delay */
	struct linger_list	 lingers;
	struct pg_cancel		*cancels;	/* postgres cancel keys */
	struct admin		*admin;
	struct notify		*notify;	/* sd_notify */
	struct confwatch	*watch;		/* watch_config = yes */
	char			 resolver[ADDR_STRLEN]; /* "": resolv.conf's */
	struct daemon_reload	 reload;	/* the last reload's outcome */
	char			*user;		/* ids dropped to (start) */
	int64_t			 started;	/* clock_ms */
	uint64_t		 next_id;
	int			 stopping;	/* SIGTERM seen: not ready */
	int			 draining;	/* listeners closed */
	int			 exit_status;	/* daemon_run's, once stopped */
};

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
