/*
 * admin_metrics.c: GET /metrics in the Prometheus text exposition format
 * 0.0.4.  Every family is written whole (HELP, TYPE, then all its
 * samples), as the format requires; label values are escaped.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/time.h>

#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "admin_int.h"
#include "clock.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "dial.h"
#include "probe.h"
#include "route.h"
#include "service.h"
#include "session.h"
#include "ssh.h"

typedef void admin_route_fn(struct evbuffer *, const char *,
	    const struct service *, const struct route *);

struct admin_route_family {
	const char	*name;
	const char	*type;
	const char	*help;
	admin_route_fn	*fn;
};

static void
admin_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A label value: backslash, double quote and newline are escaped. */
void
admin_label_value(struct evbuffer *b, const char *v)
{
	size_t	n;

	while (*v != '\0') {
		n = strcspn(v, "\\\"\n");
		evbuffer_add(b, v, n);
		v += n;
		if (*v == '\0')
			break;
		evbuffer_add(b, *v == '\n' ? "\\n" : *v == '"' ? "\\\"" :
		    "\\\\", 2);
		v++;
	}
}

/*
 * Start a sample: name{service="..",route="..",k="v"} and the space
 * before the value.  svc, r and k may be NULL.
 */
static void
admin_sample(struct evbuffer *b, const char *name, const struct service *svc,
    const struct route *r, const char *k, const char *v)
{
	const char	*sep = "{";

	evbuffer_add_printf(b, "%s", name);
	if (svc != NULL) {
		evbuffer_add_printf(b, "%sservice=\"", sep);
		admin_label_value(b, svc->name);
		evbuffer_add(b, "\"", 1);
		sep = ",";
	}
	if (r != NULL) {
		evbuffer_add_printf(b, "%sroute=\"", sep);
		admin_label_value(b, r->cr->name);
		evbuffer_add(b, "\"", 1);
		sep = ",";
	}
	if (k != NULL) {
		evbuffer_add_printf(b, "%s%s=\"", sep, k);
		admin_label_value(b, v);
		evbuffer_add(b, "\"", 1);
		sep = ",";
	}
	evbuffer_add(b, sep[0] == ',' ? "} " : " ", sep[0] == ',' ? 2 : 1);
}

static void
admin_m_active(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	admin_sample(b, name, svc, r, NULL, NULL);
	evbuffer_add_printf(b, "%u\n", r->sessions_active);
}

static void
admin_m_total(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	admin_sample(b, name, svc, r, NULL, NULL);
	evbuffer_add_printf(b, "%llu\n", (unsigned long long)r->sessions_total);
}

/* Routes with a name that checks resolve (tcp://, tls://) only. */
static void
admin_m_dns(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	if (r->dns_at == 0 && r->dns_error[0] == '\0')
		return;
	admin_sample(b, name, svc, r, NULL, NULL);
	evbuffer_add_printf(b, "%zu\n", r->dns_error[0] != '\0' ? (size_t)0 :
	    r->dns.n);
}

/* Closed sessions' bytes and the open ones' so far: grows as bytes move. */
static void
admin_m_bytes(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	uint64_t	up = r->bytes_up, down = r->bytes_down;

	sessions_live_bytes(svc->px, r, &up, &down);
	admin_sample(b, name, svc, r, "direction", "up");
	evbuffer_add_printf(b, "%llu\n", (unsigned long long)up);
	admin_sample(b, name, svc, r, "direction", "down");
	evbuffer_add_printf(b, "%llu\n", (unsigned long long)down);
}

static void
admin_m_failures(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	admin_sample(b, name, svc, r, NULL, NULL);
	evbuffer_add_printf(b, "%llu\n",
	    (unsigned long long)r->connect_failures);
}

static void
admin_m_up(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	admin_sample(b, name, svc, r, NULL, NULL);
	evbuffer_add_printf(b, "%d\n", r->state == ROUTE_STATE_UP);
}

static void
admin_m_state(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	static const enum route_state states[] = {
		ROUTE_STATE_UNKNOWN, ROUTE_STATE_UP, ROUTE_STATE_DOWN
	};
	size_t	i;

	int	local = r->local_limit[0] != '\0';

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		admin_sample(b, name, svc, r, "state",
		    route_state_name(states[i]));
		evbuffer_add_printf(b, "%d\n", !local && r->state == states[i]);
	}
	/* postern's own limit keeps it from checking: not the route's. */
	admin_sample(b, name, svc, r, "state", "local_limit");
	evbuffer_add_printf(b, "%d\n", local);
}

static void
admin_m_admin(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	static const enum route_admin modes[] = {
		ROUTE_ADMIN_ENABLED, ROUTE_ADMIN_DRAINING, ROUTE_ADMIN_DISABLED
	};
	size_t	i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		admin_sample(b, name, svc, r, "admin",
		    route_admin_name(modes[i]));
		evbuffer_add_printf(b, "%d\n", r->admin == modes[i]);
	}
}

/*
 * A label value as Prometheus users expect: "connection refused" ->
 * "connection_refused", stable for queries and free of spaces.
 */
static const char *
admin_snake(const char *s, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = isalnum((unsigned char)s[i]) ? (char)tolower(
		    (unsigned char)s[i]) : '_';
	buf[i] = '\0';
	return (buf);
}

static void
admin_m_checks(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	int	i;

	char	v[64];

	for (i = 0; i < PROBE_NRESULTS; i++) {
		admin_sample(b, name, svc, r, "result", admin_snake(
		    probe_result_name(i), v, sizeof(v)));
		evbuffer_add_printf(b, "%llu\n",
		    (unsigned long long)r->checks[i]);
	}
}

/* route->latency_buckets holds per-bucket counts: accumulate them. */
static void
admin_m_latency(struct evbuffer *b, const char *name,
    const struct service *svc, const struct route *r)
{
	uint64_t	 cum = 0, total = 0;
	char		 le[32], series[128];
	int		 i;

	for (i = 0; i < PROBE_NRESULTS; i++)
		total += r->checks[i];
	snprintf(series, sizeof(series), "%s_bucket", name);
	for (i = 0; i < ROUTE_LATENCY_BUCKETS; i++) {
		cum += r->latency_buckets[i];
		snprintf(le, sizeof(le), "%g", route_latency_bounds[i]);
		admin_sample(b, series, svc, r, "le", le);
		evbuffer_add_printf(b, "%llu\n", (unsigned long long)cum);
	}
	admin_sample(b, series, svc, r, "le", "+Inf");
	evbuffer_add_printf(b, "%llu\n", (unsigned long long)total);
	snprintf(series, sizeof(series), "%s_sum", name);
	admin_sample(b, series, svc, r, NULL, NULL);
	evbuffer_add_printf(b, "%.9g\n", r->latency_sum);
	snprintf(series, sizeof(series), "%s_count", name);
	admin_sample(b, series, svc, r, NULL, NULL);
	evbuffer_add_printf(b, "%llu\n", (unsigned long long)total);
}

static const struct admin_route_family admin_route_families[] = {
	{ "postern_sessions_active", "gauge",
	  "Sessions relaying through the route now.", admin_m_active },
	{ "postern_sessions_total", "counter",
	  "Sessions that connected through the route.", admin_m_total },
	{ "postern_bytes_total", "counter",
	  "Bytes relayed through the route, counted as they move (open "
	  "sessions included); up: client to server, down: server to "
	  "client.", admin_m_bytes },
	{ "postern_connect_failures_total", "counter",
	  "Failed upstream connects of sessions on the route.",
	  admin_m_failures },
	{ "postern_route_up", "gauge",
	  "1 if the route's health state is up.", admin_m_up },
	{ "postern_route_state", "gauge",
	  "The route's health state, one-hot over unknown, up, down and "
	  "local_limit (postern's own fd or memory limit, not the route's).",
	  admin_m_state },
	{ "postern_route_admin", "gauge",
	  "The operator's setting for the route, one-hot over enabled, "
	  "draining and disabled.", admin_m_admin },
	{ "postern_checks_total", "counter",
	  "Health checks of the route, by result.", admin_m_checks },
	{ "postern_check_duration_seconds", "histogram",
	  "Time health checks of the route took, connect included.",
	  admin_m_latency },
	{ "postern_route_dns_addresses", "gauge",
	  "Addresses the route's name resolved to at its last good check "
	  "(0: it does not resolve); routes with a name only.", admin_m_dns },
};

/*
 * What a service family reports: one value per service, except those
 * with labels of their own (SV_NO_ROUTE: one sample per reason).
 */
enum admin_service_value {
	SV_ACTIVE, SV_TOTAL, SV_LINGERING, SV_REFUSED, SV_NO_ROUTE, SV_MOVED,
	SV_SAFE_CLOSED, SV_REPLAYED, SV_CUT, SV_WAITING, SV_FAILOVERS,
	SV_PINNED, SV_CONNECTED
};

static unsigned long long
admin_service_value(const struct service *svc, enum admin_service_value v)
{
	const struct service_count	*c = svc->count;

	switch (v) {
	case SV_ACTIVE:
		return (c->active);
	case SV_TOTAL:
		return (svc->total);
	case SV_LINGERING:
		return (c->lingering);
	case SV_REFUSED:
		return (svc->refused);
	case SV_NO_ROUTE:
		return (c->no_route + c->hold_expired);
	case SV_MOVED:
		return (c->moved);
	case SV_SAFE_CLOSED:
		return (c->safe_closed);
	case SV_REPLAYED:
		return (c->replayed);
	case SV_CUT:
		return (c->cut);
	case SV_WAITING:
		return (c->waiting);
	case SV_FAILOVERS:
		return (svc->failovers);
	case SV_PINNED:
		return (svc->pinned != 0);
	case SV_CONNECTED:
		return (admin_service_connected(svc) != 0);
	}
	return (0);
}

static void
admin_service_sample(struct evbuffer *b, const char *name,
    const struct service *svc, enum admin_service_value v)
{
	const struct service_count	*c = svc->count;

	if (v == SV_NO_ROUTE) {
		admin_sample(b, name, svc, NULL, "reason", "no_healthy_route");
		evbuffer_add_printf(b, "%llu\n",
		    (unsigned long long)c->no_route);
		admin_sample(b, name, svc, NULL, "reason", "hold_timeout");
		evbuffer_add_printf(b, "%llu\n",
		    (unsigned long long)c->hold_expired);
		return;
	}
	admin_sample(b, name, svc, NULL, NULL, NULL);
	evbuffer_add_printf(b, "%llu\n", admin_service_value(svc, v));
}

struct admin_service_family {
	const char			*name;
	const char			*type;
	const char			*help;
	enum admin_service_value	 value;
};

static const struct admin_service_family admin_service_families[] = {
	{ "postern_service_sessions_active", "gauge",
	  "Client sessions of the service now, dialing and held included.",
	  SV_ACTIVE },
	{ "postern_service_sessions_total", "counter",
	  "Client sessions the service accepted.", SV_TOTAL },
	{ "postern_service_lingering", "gauge",
	  "Closed clients whose socket lingers (a last message, then up to "
	  "2 s to read their close); they count toward max_connections.",
	  SV_LINGERING },
	{ "postern_service_refused_total", "counter",
	  "Clients refused because max_connections (or max_sessions) was "
	  "reached.",
	  SV_REFUSED },
	{ "postern_service_no_route_total", "counter",
	  "Clients answered \"no healthy route\": at once (no_healthy_route: "
	  "every route failed and hold_timeout is 0), or after waiting "
	  "hold_timeout for a usable route (hold_timeout).",
	  SV_NO_ROUTE },
	{ "postern_sessions_moved_total", "counter",
	  "Sessions moved to another route at a safe point, unseen by "
	  "their client.", SV_MOVED },
	{ "postern_sessions_safe_closed_total", "counter",
	  "Sessions closed at a safe point to leave their route.",
	  SV_SAFE_CLOSED },
	{ "postern_sessions_replayed_total", "counter",
	  "Sessions moved off a route that went down with their unanswered "
	  "reads sent again on the new one.", SV_REPLAYED },
	{ "postern_sessions_route_down_closed_total", "counter",
	  "Sessions closed at once because their route went down with a "
	  "request outstanding that could not go again.", SV_CUT },
	{ "postern_sessions_move_waiting", "gauge",
	  "Sessions waiting for a safe point to leave a lower or drained "
	  "route.", SV_WAITING },
	{ "postern_failovers_total", "counter",
	  "Changes of the route new sessions of the service go to, away "
	  "from a route that had served (not the first choice settling at "
	  "start).", SV_FAILOVERS },
	{ "postern_service_pinned", "gauge",
	  "1 while an operator pin is in effect.", SV_PINNED },
	{ "postern_service_connected", "gauge",
	  "1 if the service has a usable route for new sessions.",
	  SV_CONNECTED },
};

/* Bastions: one family at a time, each over every bastion. */
struct admin_bastion_family {
	const char	*name;
	const char	*type;
	const char	*help;
	int		 field;
};

enum { AB_UP, AB_CONNECTIONS, AB_CHANNELS, AB_WAITING, AB_SPARE,
	AB_LOSSES };

static const struct admin_bastion_family admin_bastion_families[] = {
	{ "postern_bastion_up", "gauge",
	  "1 while an SSH connection to the bastion is up and authenticated.",
	  AB_UP },
	{ "postern_bastion_connections", "gauge",
	  "SSH connections to the bastion up and authenticated.",
	  AB_CONNECTIONS },
	{ "postern_bastion_channels", "gauge",
	  "Channels open through the bastion (sessions and checks).",
	  AB_CHANNELS },
	{ "postern_bastion_opens_waiting", "gauge",
	  "Channel opens the bastion has not answered yet.", AB_WAITING },
	{ "postern_bastion_spare", "gauge",
	  "1 while a connection grown beyond `connections` is open (opens "
	  "queued, or a slot stuck).",
	  AB_SPARE },
	{ "postern_bastion_losses_total", "counter",
	  "Established connections to the bastion that were lost.",
	  AB_LOSSES },
};

struct admin_bastion_ctx {
	struct evbuffer				*b;
	const struct admin_bastion_family	*f;
};

static void
admin_bastion_sample(const struct ssh_info *in, void *arg)
{
	struct admin_bastion_ctx	*ctx = arg;
	unsigned long long		 v = 0;

	switch (ctx->f->field) {
	case AB_UP:
		v = (unsigned long long)in->up;
		break;
	case AB_CONNECTIONS:
		v = in->connections;
		break;
	case AB_CHANNELS:
		v = in->channels;
		break;
	case AB_WAITING:
		v = in->waiting;
		break;
	case AB_SPARE:
		v = (unsigned long long)in->spare;
		break;
	case AB_LOSSES:
		v = in->losses;
		break;
	}
	admin_sample(ctx->b, ctx->f->name, NULL, NULL, "bastion", in->name);
	evbuffer_add_printf(ctx->b, "%llu\n", v);
}

static void
admin_bastion_families_write(struct postern *px, struct evbuffer *b)
{
	struct admin_bastion_ctx	ctx;
	size_t				i;

	ctx.b = b;
	for (i = 0; i < sizeof(admin_bastion_families) /
	    sizeof(admin_bastion_families[0]); i++) {
		ctx.f = &admin_bastion_families[i];
		admin_head(b, ctx.f->name, ctx.f->type, ctx.f->help);
		ssh_pool_info(daemon_dial_env(px)->ssh, admin_bastion_sample,
		    &ctx);
	}
}

/* Reloads by outcome, and when and how the last one ended. */
static void
admin_config_reloads(struct postern *px, struct evbuffer *b)
{
	const struct daemon_reload	*r = daemon_reload_status(px);

	admin_head(b, "postern_config_reloads_total", "counter",
	    "Reloads (SIGHUP or watch_config) by result; error: the running "
	    "configuration was kept.");
	evbuffer_add_printf(b, "postern_config_reloads_total{result=\"ok\"} "
	    "%llu\npostern_config_reloads_total{result=\"error\"} %llu\n",
	    r->ok, r->failed);
	admin_head(b, "postern_config_last_reload_success", "gauge",
	    "1 when the last reload succeeded (or none was tried), else 0.");
	evbuffer_add_printf(b, "postern_config_last_reload_success %d\n",
	    r->trigger == NULL || r->last_ok);
	admin_head(b, "postern_config_last_reload_timestamp_seconds", "gauge",
	    "Unix time of the last reload attempt; 0 before any.");
	evbuffer_add_printf(b, "postern_config_last_reload_timestamp_seconds "
	    "%lld\n", (long long)r->when);
}

/* Open file descriptors: the entries of /proc/self/fd; -1 if unknown. */
static long
admin_open_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	long		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return (n - 1);		/* the directory's own */
}

/* Resident set size in bytes from /proc/self/statm; -1 if unknown. */
static long long
admin_rss_bytes(void)
{
	FILE		*fp;
	long long	 size, rss = -1;

	if ((fp = fopen("/proc/self/statm", "re")) == NULL)
		return (-1);
	if (fscanf(fp, "%lld %lld", &size, &rss) != 2)
		rss = -1;
	fclose(fp);
	return (rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE));
}

/*
 * The process_* families every Prometheus client library exports, with
 * their usual names and units, so stock dashboards and alerts work.
 */
static void
admin_process_write(struct postern *px, struct evbuffer *b)
{
	struct rusage	ru;
	struct rlimit	rl;
	long long	rss = admin_rss_bytes();
	long		fds = admin_open_fds();

	admin_head(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch in seconds.");
	evbuffer_add_printf(b, "process_start_time_seconds %lld\n",
	    (long long)clock_wall(clock_ms() - daemon_uptime_ms(px)));
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		admin_head(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		evbuffer_add_printf(b, "process_cpu_seconds_total %.6f\n",
		    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	}
	if (rss >= 0) {
		admin_head(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		evbuffer_add_printf(b, "process_resident_memory_bytes %lld\n",
		    rss);
	}
	if (fds >= 0) {
		admin_head(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		evbuffer_add_printf(b, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY) {
		admin_head(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		evbuffer_add_printf(b, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
}

void
admin_metrics_write(struct postern *px, struct evbuffer *b)
{
	const struct admin_route_family		*rf;
	const struct admin_service_family	*sf;
	const struct service			*svc;
	size_t					 i, j;

	admin_head(b, "postern_build_info", "gauge",
	    "Version of the running postern.");
	admin_sample(b, "postern_build_info", NULL, NULL, "version",
	    PACKAGE_VERSION);
	evbuffer_add_printf(b, "1\n");
	admin_process_write(px, b);
	admin_head(b, "postern_config_generation", "gauge",
	    "Configuration generation: 1 at start, plus one per reload.");
	evbuffer_add_printf(b, "postern_config_generation %u\n",
	    daemon_generation(px));
	admin_config_reloads(px, b);
	for (i = 0; i < sizeof(admin_route_families) /
	    sizeof(admin_route_families[0]); i++) {
		rf = &admin_route_families[i];
		admin_head(b, rf->name, rf->type, rf->help);
		TAILQ_FOREACH(svc, daemon_services(px), entry) {
			for (j = 0; j < svc->nroutes; j++)
				rf->fn(b, rf->name, svc, svc->routes[j]);
		}
	}
	for (i = 0; i < sizeof(admin_service_families) /
	    sizeof(admin_service_families[0]); i++) {
		sf = &admin_service_families[i];
		admin_head(b, sf->name, sf->type, sf->help);
		TAILQ_FOREACH(svc, daemon_services(px), entry)
			admin_service_sample(b, sf->name, svc, sf->value);
	}
	admin_cluster_metrics(px, b);
	admin_bastion_families_write(px, b);
}
