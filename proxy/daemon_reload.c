/*
 * daemon_reload.c: a new configuration generation from the file, on
 * SIGHUP or when watch_config sees it change (confwatch.c); the outcome
 * recorded for /health and /metrics.
 */
#include "config.h"

#include <sys/resource.h>

#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "clock.h"
#include "conf.h"
#include "conf_fds.h"
#include "confwatch.h"
#include "daemon.h"
#include "daemon_int.h"
#include "log.h"
#include "notify.h"
#include "resolve.h"

/* The watched file changed (confwatch.c debounced and compared it). */
static void
daemon_watch_cb(void *arg)
{
	struct postern	*px = arg;

	if (px->stopping)
		return;
	notify_reloading(px->notify);
	daemon_reload(px, "watch");
	notify_reloaded(px->notify);
}

/* Both unset, or the same user name. */
static int
daemon_same_user(const char *a, const char *b)
{
	return (a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0);
}

/*
 * The admin endpoint follows the new generation: bound anew when its
 * address changed (the old one is closed only once the new one is
 * bound, so a bad address or lost privileges keep it where it was).
 */
static void
daemon_reload_admin(struct postern *px, const struct conf *c)
{
	struct admin	*ad;
	char		 err[256];

	if (px->admin != NULL && admin_same_address(px->admin, c)) {
		admin_reconfigure(px->admin, c);
		return;
	}
	if (!c->has_admin) {
		if (px->admin != NULL)
			log_info("reload: admin endpoint closed");
		admin_free(px->admin);
		px->admin = NULL;
		return;
	}
	if ((ad = admin_new(px, c, err, sizeof(err))) == NULL) {
		log_error("reload: admin: %s; %s", err, px->admin != NULL ?
		    "keeping the running endpoint" : "no admin endpoint");
		return;
	}
	admin_free(px->admin);		/* admin_new logged the new one */
	px->admin = ad;
}

void
daemon_resolver(struct postern *px, const struct conf *c)
{
	char	want[ADDR_STRLEN] = "";

	if (c->resolver.host[0] != '\0')
		addr_format(&c->resolver, want, sizeof(want));
	if (px->dns == NULL || strcmp(want, px->resolver) == 0)
		return;
	resolve_nameserver(px->dns, want);
	snprintf(px->resolver, sizeof(px->resolver), "%s", want);
}

void
daemon_watch_update(struct postern *px)
{
	px->watch = confwatch_update(px->watch, px->base, px->conf->path,
	    px->conf->watch_config, daemon_watch_cb, px);
}

/*
 * Record a reload's outcome for /health and /metrics: why it failed is
 * the first error of the file (with how many more), else the last error
 * logged while preparing.
 */
static void
daemon_reload_done(struct postern *px, const char *trigger, int ok,
    const struct conf_errors *errs)
{
	struct daemon_reload	*r = &px->reload;

	r->trigger = trigger;
	r->when = (int64_t)clock_wall(clock_ms());
	r->last_ok = ok;
	if (ok) {
		r->ok++;
		r->error[0] = '\0';
		return;
	}
	r->failed++;
	if (errs->n > 1)
		snprintf(r->error, sizeof(r->error), "%s (and %zu more errors)",
		    errs->msg[0], errs->n - 1);
	else
		snprintf(r->error, sizeof(r->error), "%s", errs->n == 1 ?
		    errs->msg[0] : log_last_error());
}

void
daemon_reload(struct postern *px, const char *trigger)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*c;
	struct rlimit		 rl;
	size_t			 i;
	char			 msg[512];
	int			 ok;

	log_info("reload (%s): reading %s", trigger, px->conf->path);
	c = conf_load(px->conf->path, &errs);
	for (i = 0; i < errs.n; i++)
		log_error("%s", errs.msg[i]);
	ok = c != NULL && daemon_apply(px, c) == 0;
	daemon_reload_done(px, trigger, ok, &errs);
	conf_errors_free(&errs);
	if (!ok) {
		conf_unref(c);
		log_error("reload failed: keeping the running configuration "
		    "(generation %u)", px->generation);
		return;
	}
	log_info("reload: configuration generation %u loaded",
	    px->generation);
	daemon_watch_update(px);
	daemon_resolver(px, c);
	daemon_reload_admin(px, c);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    conf_fds_check(c, (unsigned long)rl.rlim_cur, msg,
	    sizeof(msg)) != 0)
		log_warnx("reload: %s", msg);
	if (!daemon_same_user(px->user, c->user))
		log_warnx("reload: a changed user takes effect at the next "
		    "restart");
}
