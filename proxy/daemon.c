/*
 * daemon.c: the daemon's life: start, configuration generations,
 * signals, drain and stop (reloading a generation from the file:
 * daemon_reload.c; the context's accessors: daemon_ctx.c).
 */
#include "config.h"

#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "admin.h"
#include "clock.h"
#include "conf.h"
#include "confwatch.h"
#include "daemon.h"
#include "daemon_ctx.h"
#include "daemon_int.h"
#include "fault.h"
#include "follow.h"
#include "linger.h"
#include "listener.h"
#include "log.h"
#include "memtrim.h"
#include "pagemem.h"
#include "notify.h"
#include "pg_cancel.h"
#include "priv.h"
#include "route.h"
#include "service.h"
#include "session.h"
#include "ssh.h"
#include "tls_reg.h"

/* Build the TLS contexts of generation c (errors logged). */
static int
daemon_load_tls(struct postern *px, struct conf *c)
{
	struct conf_errors	errs = { NULL, 0 };
	size_t			i;
	int			rc;

	rc = tls_reg_load(px->dial_env.tls, c, &errs);
	for (i = 0; i < errs.n; i++)
		log_error("%s", errs.msg[i]);
	conf_errors_free(&errs);
	return (rc);
}

static struct listener *
daemon_find_listener(struct postern *px, const struct addr *a)
{
	struct service	*svc;
	struct listener	*l;

	TAILQ_FOREACH(svc, &px->services, entry) {
		if ((l = service_take_listener(svc, a)) != NULL)
			return (l);
	}
	return (NULL);
}

/* Is a listener of a running service bound to a? */
static int
daemon_bound(struct postern *px, const struct addr *a)
{
	struct service	*svc;
	size_t		 k;

	TAILQ_FOREACH(svc, &px->services, entry) {
		for (k = 0; k < svc->nlisteners; k++) {
			if (addr_equal(listener_addr(svc->listeners[k]), a))
				return (1);
		}
	}
	return (0);
}

/*
 * Prepare generation c: everything that can fail, with nothing running
 * changed.  TLS contexts, new listeners (bound[], in the order of c's
 * listen lines; NULL where a running listener is reused), the new
 * services with their checks allocated (fresh), the new bastions.
 */
static int
daemon_prepare(struct postern *px, struct conf *c, struct listener **bound,
    struct service_list *fresh)
{
	struct service	*svc;
	size_t		 i, j, n = 0;
	char		 err[512];

	if (fault_at("reload.tls")) {
		log_error("tls: injected fault");
		return (-1);
	}
	if (daemon_load_tls(px, c) != 0)
		return (-1);
	for (i = 0; i < c->nservices; i++) {
		for (j = 0; j < c->services[i].nlisten; j++, n++) {
			const struct addr *a = &c->services[i].listen[j].addr;

			if (daemon_bound(px, a))
				continue;
			if (fault_at("reload.bind")) {
				snprintf(err, sizeof(err), "listen: "
				    "injected fault");
				bound[n] = NULL;
			} else
				bound[n] = listener_new(px->base, a, NULL,
				    NULL, err, sizeof(err));
			if (bound[n] == NULL) {
				log_error("service %s: %s",
				    c->services[i].label != NULL ?
				    c->services[i].label :
				    c->services[i].name, err);
				return (-1);
			}
		}
	}
	for (i = 0; i < c->nservices; i++) {
		svc = service_new(px, c, &c->services[i],
		    service_find(px, c->services[i].name));
		if (svc == NULL) {
			log_error("service %s: out of memory",
			    c->services[i].name);
			return (-1);
		}
		TAILQ_INSERT_TAIL(fresh, svc, entry);
	}
	return (ssh_pool_prepare(px->dial_env.ssh, c));
}

/*
 * Commit generation c, prepared by daemon_prepare(): only moves pointers
 * and starts things, and cannot fail.  Listeners on unchanged addresses
 * move to the new services without being closed, so no connection is
 * refused meanwhile.
 */
static void
daemon_commit(struct postern *px, struct conf *c, struct listener **bound,
    struct service_list *fresh)
{
	struct service	*svc;
	struct listener	*l;
	size_t		 i, j, n = 0;
	char		 buf[ADDR_STRLEN];

	svc = TAILQ_FIRST(fresh);
	for (i = 0; i < c->nservices; i++, svc = TAILQ_NEXT(svc, entry)) {
		for (j = 0; j < c->services[i].nlisten; j++, n++) {
			if ((l = bound[n]) == NULL)
				l = daemon_find_listener(px,
				    &c->services[i].listen[j].addr);
			bound[n] = NULL;
			service_add_listener(svc, l);
			log_info("service %s: listening on %s", svc->label,
			    listener_bound(l, buf, sizeof(buf)));
		}
	}
	while ((svc = TAILQ_FIRST(&px->services)) != NULL) {
		TAILQ_REMOVE(&px->services, svc, entry);
		service_retire(svc);
		service_unref(svc);	/* live sessions keep it */
	}
	TAILQ_CONCAT(&px->services, fresh, entry);
	/* Bastions first: the first health checks dial through them. */
	ssh_pool_commit(px->dial_env.ssh, c);
	TAILQ_FOREACH(svc, &px->services, entry)
		service_activate(svc);
	conf_unref(px->conf);
	px->conf = c;
	px->generation++;
	log_set_level(c->log_level);
	tls_reg_purge(px->dial_env.tls, c);
}

/*
 * Switch to generation c: prepare all of it, then commit.  On failure
 * (logged) nothing running has changed and c is still the caller's.
 */
int
daemon_apply(struct postern *px, struct conf *c)
{
	struct service_list	 fresh = TAILQ_HEAD_INITIALIZER(fresh);
	struct service		*svc;
	struct listener		**bound;
	size_t			 i, total = 0;
	int			 rc = -1;

	TAILQ_INIT(&fresh);
	for (i = 0; i < c->nservices; i++)
		total += c->services[i].nlisten;
	if ((bound = calloc(total ? total : 1, sizeof(*bound))) == NULL)
		return (-1);
	if (daemon_prepare(px, c, bound, &fresh) == 0) {
		daemon_commit(px, c, bound, &fresh);
		rc = 0;
	} else {
		while ((svc = TAILQ_FIRST(&fresh)) != NULL) {
			TAILQ_REMOVE(&fresh, svc, entry);
			service_unref(svc);
		}
		ssh_pool_abort(px->dial_env.ssh);
		tls_reg_forget(px->dial_env.tls, c);
	}
	for (i = 0; i < total; i++)
		listener_free(bound[i]);
	free(bound);
	return (rc);
}

static void
daemon_close_all(struct postern *px, int reason)
{
	struct session	*s;

	while ((s = TAILQ_FIRST(&px->sessions)) != NULL)
		session_close(s, reason, NULL);
}

static void
daemon_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct postern	*px = arg;

	log_warnx("drain timeout: closing %u session%s", px->nsessions,
	    log_s(px->nsessions));
	daemon_close_all(px, SESSION_END_SHUTDOWN);
}

/* Stop accepting; sessions finish up to drain_timeout. */
static void
daemon_drain(struct postern *px)
{
	struct service	*svc;
	struct timeval	 tv;
	int		 ms = px->conf->drain_timeout_ms;

	px->draining = 1;
	TAILQ_FOREACH(svc, &px->services, entry)
		service_close_listeners(svc);
	log_info("shutting down: %u session%s to drain (timeout %d.%03ds)",
	    px->nsessions, log_s(px->nsessions), ms / 1000, ms % 1000);
	if (px->nsessions == 0) {
		event_base_loopexit(px->base, NULL);
		return;
	}
	/* -L on a terminal: say why nothing happens yet, and the way out. */
	if (px->conf->path == NULL)
		log_status("waiting up to %d.%03ds for %u open session%s to "
		    "finish; Ctrl-C again closes %s now", ms / 1000, ms % 1000,
		    px->nsessions, log_s(px->nsessions), px->nsessions == 1 ?
		    "it" : "them");
	tv = clock_tv(ms);
	evtimer_add(px->drain_timer, &tv);
}

/*
 * Quick mode cannot go on (a bastion's host key refused at the prompt:
 * status 1; a permanent error before the first connection: 255): stop.
 */
static void
daemon_refused_cb(void *arg, int status)
{
	struct postern	*px = arg;

	px->exit_status = status;
	if (!px->draining)
		daemon_drain(px);
}

static void
daemon_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	daemon_drain(arg);
}

/*
 * SIGTERM for sidecars: readiness fails at once; new connections are
 * still accepted for shutdown_delay (the orchestrator needs time to stop
 * sending them); then the drain.
 */
static void
daemon_stop(struct postern *px, const char *signame)
{
	struct timeval	 tv;
	int		 ms = px->conf->shutdown_delay_ms;

	if (px->stopping) {
		log_info("%s again: closing %u session%s now", signame,
		    px->nsessions, log_s(px->nsessions));
		evtimer_del(px->delay_timer);
		if (!px->draining)
			daemon_drain(px);
		daemon_close_all(px, SESSION_END_SHUTDOWN);
		return;
	}
	px->stopping = 1;
	notify_stopping(px->notify);
	if (ms == 0) {
		/* Without an admin endpoint there is no readiness to fail. */
		if (px->admin != NULL)
			log_info("%s: readiness now failing", signame);
		else
			log_info("%s: stopping", signame);
		daemon_drain(px);
		return;
	}
	log_info("%s: %saccepting for %d.%03ds more (shutdown_delay)",
	    signame, px->admin != NULL ? "readiness now failing; " : "",
	    ms / 1000, ms % 1000);
	tv = clock_tv(ms);
	evtimer_add(px->delay_timer, &tv);
}

/*
 * SIGHUP with -L (no file to reload): the terminal that started the
 * tunnel is gone.  End it now, as ssh does, so that an orphaned tunnel
 * does not keep its ports; nobody is left to wait for a drain.
 */
static void
daemon_hangup(struct postern *px)
{
	log_status("SIGHUP: the terminal is gone: closing %u session%s and "
	    "exiting", px->nsessions, log_s(px->nsessions));
	px->stopping = 1;
	notify_stopping(px->notify);
	evtimer_del(px->delay_timer);
	if (!px->draining)
		daemon_drain(px);
	daemon_close_all(px, SESSION_END_SHUTDOWN);
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct postern	*px = arg;

	switch (sig) {
	case SIGHUP:
		if (px->conf->path == NULL) {
			daemon_hangup(px);
			break;
		}
		notify_reloading(px->notify);
		daemon_reload(px, "SIGHUP");
		/* Read just now: no second reload for the watch. */
		confwatch_sync(px->watch);
		notify_reloaded(px->notify);
		break;
	case SIGTERM:
		daemon_stop(px, "SIGTERM");
		break;
	case SIGINT:
		daemon_stop(px, "SIGINT");
		break;
	}
}

/*
 * Bulk transfers allocate and free 32-128 KiB buffers all the time
 * (libssh2's packets, relay chains).  With glibc's defaults those are
 * mmap()ed or grow and trim the heap top on every round: page faults
 * were 16% of the CPU of a 1 MB download through a bastion.  Keep up to
 * 8 MiB of free heap instead; RSS after a burst stays at most that much
 * higher.
 */
static void
daemon_malloc_policy(void)
{
#if defined(HAVE_MALLOPT) && defined(HAVE_MALLOC_H)
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	mallopt(M_TOP_PAD, 1024 * 1024);
#endif
}

struct postern *
daemon_new(void)
{
	struct postern	*px;

	daemon_malloc_policy();
	if ((px = calloc(1, sizeof(*px))) == NULL)
		return (NULL);
	TAILQ_INIT(&px->services);
	TAILQ_INIT(&px->sessions);
	TAILQ_INIT(&px->reap);
	TAILQ_INIT(&px->lingers);
	px->started = clock_ms();
	if ((px->base = event_base_new()) == NULL)
		goto fail;
	/* Names in routes resolve asynchronously; literals never wait. */
	px->dns = evdns_base_new(px->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (px->dns == NULL)
		log_warnx("no DNS resolver configured: route host names will "
		    "not resolve");
	px->dial_env.base = px->base;
	px->dial_env.dns = px->dns;
	if ((px->dial_env.tls = tls_reg_new()) == NULL ||
	    (px->dial_env.pm = pagemem_cache_new()) == NULL ||
	    (px->cancels = pg_cancel_new()) == NULL)
		goto fail;
	if ((px->dial_env.ssh = ssh_pool_new(px->base, px->dns)) == NULL)
		goto fail;
	ssh_pool_on_refused(px->dial_env.ssh, daemon_refused_cb, px);
	if ((px->notify = notify_new(px)) == NULL)
		goto fail;
	px->reap_ev = event_new(px->base, -1, 0, session_reap_cb, px);
	px->trim = memtrim_new(px->base);
	px->drain_timer = evtimer_new(px->base, daemon_drain_cb, px);
	px->delay_timer = evtimer_new(px->base, daemon_delay_cb, px);
	px->sig_term = evsignal_new(px->base, SIGTERM, daemon_signal_cb, px);
	px->sig_int = evsignal_new(px->base, SIGINT, daemon_signal_cb, px);
	px->sig_hup = evsignal_new(px->base, SIGHUP, daemon_signal_cb, px);
	if (px->reap_ev == NULL || px->trim == NULL ||
	    px->drain_timer == NULL || px->delay_timer == NULL ||
	    px->sig_term == NULL || px->sig_int == NULL || px->sig_hup == NULL)
		goto fail;
	evsignal_add(px->sig_term, NULL);
	evsignal_add(px->sig_int, NULL);
	evsignal_add(px->sig_hup, NULL);
	signal(SIGPIPE, SIG_IGN);
	return (px);
fail:
	log_error("cannot set up the event loop");
	daemon_free(px);
	return (NULL);
}

int
daemon_start(struct postern *px, struct conf *conf)
{
	struct service	*svc;
	size_t		 nl = 0;
	char		 err[512];

	if (conf->user != NULL && priv_check(conf->user, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		return (1);
	}
	if (conf->user == NULL && geteuid() == 0)
		log_warnx("%s", DAEMON_ROOT_WARNING);
	/* Before the first checks ask for a name. */
	daemon_resolver(px, conf);
	/* Before daemon_apply: on failure conf must stay the caller's. */
	if (conf->has_admin && (px->admin = admin_new(px, conf, err,
	    sizeof(err))) == NULL) {
		log_error("admin: %s", err);
		return (1);
	}
	if (daemon_apply(px, conf) != 0) {
		admin_free(px->admin);
		px->admin = NULL;
		return (1);
	}
	/*
	 * Bound: become the configured user.  priv_check passed, so a
	 * failure here is a broken invariant, and ids may be mixed: fatal.
	 */
	if (conf->user != NULL) {
		if (priv_drop(conf->user, err, sizeof(err)) != 0)
			fatalx("%s", err);
		priv_nodump();	/* new ids reset it to fs.suid_dumpable */
		if ((px->user = strdup(conf->user)) == NULL)
			fatalx("out of memory");
		log_info("running as user %s (uid %ld, gid %ld)", conf->user,
		    (long)getuid(), (long)getgid());
	}
	TAILQ_FOREACH(svc, &px->services, entry)
		nl += svc->nlisteners;
	log_info("ready: %zu service%s, %zu listener%s", conf->nservices,
	    log_s(conf->nservices), nl, log_s(nl));
	daemon_watch_update(px);
	notify_started(px->notify);
	return (0);
}

int
daemon_run(struct postern *px)
{
	if (event_base_dispatch(px->base) == -1) {
		log_error("event loop failed");
		return (1);
	}
	log_info("exiting");
	return (px->exit_status);
}

void
daemon_free(struct postern *px)
{
	struct service	*svc;

	if (px == NULL)
		return;
	admin_free(px->admin);
	confwatch_free(px->watch);
	if (px->reap_ev != NULL) {
		daemon_close_all(px, SESSION_END_SHUTDOWN);
		session_reap_cb(-1, 0, px);
	}
	linger_free_all(&px->lingers);	/* they hold service counts */
	while ((svc = TAILQ_FIRST(&px->services)) != NULL) {
		TAILQ_REMOVE(&px->services, svc, entry);
		service_retire(svc);
		service_unref(svc);
	}
	notify_free(px->notify);
	ssh_pool_free(px->dial_env.ssh);	/* after the dials */
	px->dial_env.ssh = NULL;
	/*
	 * One last turn of the loop for what frees itself from it: a health
	 * check's relay_bridge ends when its channel is orphaned above, and
	 * would otherwise be left to LSan.
	 */
	if (px->base != NULL)
		event_base_loop(px->base, EVLOOP_NONBLOCK);
	free(px->user);
	tls_reg_free(px->dial_env.tls);
	pagemem_cache_free(px->dial_env.pm);	/* after the dials */
	pg_cancel_free(px->cancels);
	conf_unref(px->conf);
	if (px->reap_ev != NULL)
		event_free(px->reap_ev);
	memtrim_free(px->trim);
	if (px->drain_timer != NULL)
		event_free(px->drain_timer);
	if (px->delay_timer != NULL)
		event_free(px->delay_timer);
	if (px->sig_term != NULL)
		event_free(px->sig_term);
	if (px->sig_int != NULL)
		event_free(px->sig_int);
	if (px->sig_hup != NULL)
		event_free(px->sig_hup);
	if (px->dns != NULL)
		evdns_base_free(px->dns, 0);
	if (px->base != NULL)
		event_base_free(px->base);
	free(px);
}
