/*
 * daemon_int.h: what the daemon's files (daemon_ctx.c: the context's
 * accessors; daemon.c: start, signals, shutdown; daemon_reload.c:
 * configuration reloads, by SIGHUP or watch_config) share: the context's
 * fields.  Not for other modules: they use daemon_ctx.h (main.c daemon.h).
 * Types only: the life's own functions are in daemon.h, so that the
 * context, which everybody calls, includes nothing of the life, which
 * calls everybody.
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

#endif
