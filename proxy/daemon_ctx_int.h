/*
 * daemon_ctx_int.h: the context's fields, struct postern.  Read through
 * the accessors of daemon_ctx.c by everyone else; only the daemon's own
 * files include this: daemon_ctx.c (the accessors) and the life that
 * fills it (daemon.c, daemon_reload.c).  Apart from daemon_int.h so that
 * the context, which everybody calls, includes nothing of the life,
 * which calls everybody.
 */
#ifndef POSTERN_DAEMON_CTX_INT_H
#define POSTERN_DAEMON_CTX_INT_H

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
