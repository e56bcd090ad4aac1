/*
 * admin_health.c: the admin endpoint's status documents: /health (JSON,
 * the shape backends already expose, plus per-service detail) and
 * /status (the plain-text table "postern ctl status" prints).  Both only
 * read state.
 */
#include "config.h"

#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/util.h>

#include "admin_int.h"
#include "clock.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "dial.h"
#include "log.h"
#include "probe.h"
#include "resolve.h"
#include "route.h"
#include "service.h"
#include "ssh.h"

#define TABLE_COLS	8
#define TABLE_CELL	160

int
admin_service_connected(const struct service *svc)
{
	return (svc->current < svc->nroutes);
}

/* The route new sessions of svc get now, or NULL. */
static const struct route *
admin_current(const struct service *svc)
{
	return (admin_service_connected(svc) ? svc->order[svc->current] :
	    NULL);
}

int
admin_health_status(struct postern *px)
{
	struct service	*svc;
	int		 st = ADMIN_HEALTHY;

	TAILQ_FOREACH(svc, daemon_services(px), entry) {
		if (!admin_service_connected(svc))
			return (ADMIN_UNHEALTHY);
		if (admin_current(svc) != svc->routes[0])
			st = ADMIN_DEGRADED;
	}
	return (st);
}

const char *
admin_health_name(int status)
{
	switch (status) {
	case ADMIN_HEALTHY:
		return ("healthy");
	case ADMIN_DEGRADED:
		return ("degraded");
	}
	return ("unhealthy");
}

/* Length of the valid UTF-8 sequence at p, or 0 (RFC 3629). */
static size_t
admin_utf8_len(const unsigned char *p, size_t left)
{
	unsigned int	cp;
	size_t		n, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return (0);
	if (left < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return (0);
	return (n);
}

void
admin_json_string(struct evbuffer *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 left, n;

	if (s == NULL) {
		evbuffer_add(b, "null", 4);
		return;
	}
	evbuffer_add(b, "\"", 1);
	for (left = strlen(s); left > 0; p += n, left -= n) {
		n = 1;
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p == '\n')
			evbuffer_add(b, "\\n", 2);
		else if (*p == '\r')
			evbuffer_add(b, "\\r", 2);
		else if (*p == '\t')
			evbuffer_add(b, "\\t", 2);
		else if (*p < 0x20 || *p == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", *p);
		else if ((n = admin_utf8_len(p, left)) == 0) {
			evbuffer_add(b, "\\ufffd", 6);
			n = 1;
		} else
			evbuffer_add(b, p, n);
	}
	evbuffer_add(b, "\"", 1);
}

/* "2026-11-23T10:00:00Z" */
static const char *
admin_iso8601(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (buf);
}

static void
admin_json_check(struct evbuffer *b, const struct route *r,
    int64_t now)
{
	if (r->last_check == 0) {
		evbuffer_add_printf(b, "null");
		return;
	}
	evbuffer_add_printf(b, "{\"result\":");
	admin_json_string(b, probe_result_name(r->last_result));
	evbuffer_add_printf(b, ",\"detail\":");
	admin_json_string(b, r->last_detail);
	evbuffer_add_printf(b, ",\"latency_ms\":%d,\"age_ms\":%lld}",
	    r->last_latency_ms, (long long)(now - r->last_check));
}

/*
 * "dns": what the route's name resolved to at its last good check (the
 * addresses sessions are judged by), or its error; null when there is
 * no name to follow (a literal, an ssh:// route's bastion-side name).
 */
static void
admin_json_dns(struct evbuffer *b, const struct route *r, int64_t now)
{
	char	one[64];
	size_t	i;

	evbuffer_add_printf(b, ",\"dns\":");
	if (r->dns_at == 0 && r->dns_error[0] == '\0') {
		evbuffer_add_printf(b, "null");
		return;
	}
	evbuffer_add_printf(b, "{\"name\":");
	admin_json_string(b, r->cr->target.host);
	evbuffer_add_printf(b, ",\"addresses\":[");
	for (i = 0; i < r->dns.n; i++) {
		if (i > 0)
			evbuffer_add(b, ",", 1);
		admin_json_string(b, resolve_format((const struct sockaddr *)
		    &r->dns.addr[i], one, sizeof(one)));
	}
	evbuffer_add_printf(b, "],\"ttl\":%d,\"age_ms\":%lld,\"error\":",
	    r->dns.ttl, r->dns_at != 0 ? (long long)(now - r->dns_at) : -1LL);
	admin_json_string(b, r->dns_error[0] != '\0' ? r->dns_error : NULL);
	evbuffer_add(b, "}", 1);
}

void
admin_json_route(struct evbuffer *b, const struct route *r,
    int64_t now)
{
	char	master[ADDR_STRLEN];

	admin_json_string(b, r->cr->name);
	evbuffer_add_printf(b, ":{\"url\":");
	admin_json_string(b, r->cr->url);
	evbuffer_add_printf(b, ",\"state\":\"%s\",\"admin\":\"%s\","
	    "\"since_ms\":%lld,\"sessions_active\":%u,\"sessions_total\":%llu,"
	    "\"connect_failures\":%llu,\"last_error\":",
	    route_shown_state(r), route_admin_name(r->admin),
	    (long long)(now - r->since), r->sessions_active,
	    (unsigned long long)r->sessions_total,
	    (unsigned long long)r->connect_failures);
	admin_json_string(b, r->last_error[0] != '\0' ? r->last_error : NULL);
	evbuffer_add_printf(b, ",\"health\":\"%s\",\"local_limit\":",
	    route_state_name(r->state));
	admin_json_string(b, r->local_limit[0] != '\0' ? r->local_limit :
	    NULL);
	if (r->cr->sentinel != NULL) {
		/* A Sentinel route: the master it dials (null: none yet). */
		evbuffer_add_printf(b, ",\"master\":");
		admin_json_string(b, r->dial_cr != NULL ? addr_format(
		    &r->dial_cr->target, master, sizeof(master)) : NULL);
	}
	evbuffer_add_printf(b, ",\"identity\":");
	admin_json_string(b, r->identity[0] != '\0' ? r->identity : NULL);
	evbuffer_add_printf(b, ",\"refused\":");
	admin_json_string(b, r->refused[0] != '\0' ? r->refused : NULL);
	evbuffer_add_printf(b, ",\"check\":");
	admin_json_check(b, r, now);
	admin_json_dns(b, r, now);
	evbuffer_add_printf(b, "}");
}

static void
admin_json_service(struct evbuffer *b, const struct service *svc,
    int64_t now)
{
	const struct route	*cur = admin_current(svc);
	char			 until[32];
	size_t			 i;

	admin_json_string(b, svc->name);
	evbuffer_add_printf(b, ":{\"status\":\"%s\",\"route\":",
	    admin_service_connected(svc) ? "connected" : "disconnected");
	admin_json_string(b, cur != NULL ? cur->cr->name : NULL);
	evbuffer_add_printf(b, ",\"preferred\":");
	admin_json_string(b, svc->nroutes > 0 ? svc->routes[0]->cr->name :
	    NULL);
	evbuffer_add_printf(b, ",\"pinned\":");
	if (svc->pinned) {
		evbuffer_add_printf(b, "{\"route\":");
		admin_json_string(b, svc->routes[svc->pin]->cr->name);
		evbuffer_add_printf(b, ",\"until\":");
		admin_json_string(b, svc->pin_until == 0 ? NULL :
		    admin_iso8601(clock_wall(svc->pin_until), until,
		    sizeof(until)));
		evbuffer_add_printf(b, "}");
	} else
		evbuffer_add_printf(b, "null");
	evbuffer_add_printf(b, ",\"sessions_active\":%u,\"sessions_total\":%llu"
	    ",\"refused\":%llu,\"no_route\":%llu,\"hold_expired\":%llu"
	    ",\"failovers\":%llu,\"sessions_to_move\":%u"
	    ",\"sessions_moved\":%llu,\"sessions_safe_closed\":%llu"
	    ",\"routes\":{", svc->count->active,
	    (unsigned long long)svc->total, (unsigned long long)svc->refused,
	    (unsigned long long)svc->count->no_route,
	    (unsigned long long)svc->count->hold_expired,
	    (unsigned long long)svc->failovers, svc->count->waiting,
	    (unsigned long long)svc->count->moved,
	    (unsigned long long)svc->count->safe_closed);
	for (i = 0; i < svc->nroutes; i++) {
		if (i > 0)
			evbuffer_add(b, ",", 1);
		admin_json_route(b, svc->routes[i], now);
	}
	evbuffer_add_printf(b, "}");
	admin_cluster_json(b, svc, now);
	evbuffer_add_printf(b, "}");
}

struct admin_bastion_json {
	struct evbuffer	*b;
	int		 first;
};

static void
admin_json_bastion(const struct ssh_info *in, void *arg)
{
	struct admin_bastion_json	*j = arg;

	if (!j->first)
		evbuffer_add(j->b, ",", 1);
	j->first = 0;
	admin_json_string(j->b, in->name);
	evbuffer_add_printf(j->b, ":{\"via\":");
	admin_json_string(j->b, in->via);
	evbuffer_add_printf(j->b, ",\"state\":\"%s\",\"up\":%s,"
	    "\"connections\":%u,\"channels\":%u,\"opens_waiting\":%u,"
	    "\"spare\":%s,\"losses\":%llu,\"host_key\":", in->state,
	    in->up ? "true" : "false", in->connections, in->channels,
	    in->waiting, in->spare ? "true" : "false", in->losses);
	admin_json_string(j->b, in->fingerprint[0] != '\0' ?
	    in->fingerprint : NULL);
	evbuffer_add_printf(j->b, ",\"last_error\":");
	admin_json_string(j->b, in->last_error[0] != '\0' ? in->last_error :
	    NULL);
	evbuffer_add(j->b, "}", 1);
}

static void
admin_text_bastion(const struct ssh_info *in, void *arg)
{
	struct evbuffer	*b = arg;

	evbuffer_add_printf(b, "\nbastion %s (%s): %s, %u connection%s, %u "
	    "channel%s, %u open%s waiting%s, %llu loss%s\n", in->name, in->via,
	    in->state, in->connections, in->connections == 1 ? "" : "s",
	    in->channels, in->channels == 1 ? "" : "s", in->waiting,
	    in->waiting == 1 ? "" : "s", in->spare ? ", grown connections open" :
	    "", in->losses, in->losses == 1 ? "" : "es");
	if (in->last_error[0] != '\0')
		evbuffer_add_printf(b, "  last error: %s\n", in->last_error);
}

/*
 * "config": how the reloads went (the generation they made is the
 * top-level config_generation).
 */
static void
admin_json_config(struct postern *px, struct evbuffer *b)
{
	const struct daemon_reload	*r = daemon_reload_status(px);
	char				 when[48];

	evbuffer_add_printf(b, ",\"config\":{\"watch\":%s,\"reloads_ok\":%llu,"
	    "\"reloads_failed\":%llu,\"last_reload\":",
	    daemon_conf(px)->watch_config ? "true" : "false", r->ok, r->failed);
	if (r->trigger == NULL) {
		evbuffer_add_printf(b, "null}");
		return;
	}
	evbuffer_add_printf(b, "{\"result\":\"%s\",\"trigger\":\"%s\","
	    "\"time\":\"%s\",\"error\":", r->last_ok ? "ok" : "error",
	    r->trigger, admin_iso8601((time_t)r->when, when, sizeof(when)));
	admin_json_string(b, r->last_ok ? NULL : r->error);
	evbuffer_add_printf(b, "}}");
}

int
admin_health_json(struct postern *px, struct evbuffer *b)
{
	struct admin_bastion_json	 bj;
	struct service			*svc;
	int64_t				 now = clock_ms();
	int64_t				 up = daemon_uptime_ms(px);
	char				 started[32];
	int				 st = admin_health_status(px), first = 1;

	/*
	 * The same top-level keys whatever the configuration: a service's
	 * status is under services.NAME.status, the reloads under config.
	 */
	evbuffer_add_printf(b, "{\"status\":\"%s\",\"version\":",
	    admin_health_name(st));
	admin_json_string(b, PACKAGE_VERSION);
	evbuffer_add_printf(b, ",\"started\":\"%s\",\"uptime_seconds\":%lld,"
	    "\"config_generation\":%u", admin_iso8601(clock_wall(now - up),
	    started, sizeof(started)), (long long)(up / 1000),
	    daemon_generation(px));
	admin_json_config(px, b);
	evbuffer_add_printf(b, ",\"services\":{");
	TAILQ_FOREACH(svc, daemon_services(px), entry) {
		if (!first)
			evbuffer_add(b, ",", 1);
		first = 0;
		admin_json_service(b, svc, now);
	}
	evbuffer_add_printf(b, "},\"bastions\":{");
	bj.b = b;
	bj.first = 1;
	ssh_pool_info(daemon_dial_env(px)->ssh, admin_json_bastion, &bj);
	evbuffer_add_printf(b, "}}\n");
	return (st);
}

/* "850ms", "12s", "3m04s", "2h05m", "3d04h" */
static void
admin_duration(long long ms, char *buf, size_t len)
{
	long long	s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%lldms", ms < 0 ? 0 : ms);
	else if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* One table row for route r. */
static void
admin_text_row(char (*row)[TABLE_CELL], const struct route *r,
    int64_t now)
{
	char	d[32];

	snprintf(row[0], TABLE_CELL, "%s", r->cr->name);
	admin_duration((long long)(now - r->since), d, sizeof(d));
	snprintf(row[1], TABLE_CELL, "%s %s", route_shown_state(r), d);
	snprintf(row[2], TABLE_CELL, "%s", route_admin_name(r->admin));
	if (r->last_check == 0) {
		snprintf(row[3], TABLE_CELL, "-");
		snprintf(row[4], TABLE_CELL, "-");
	} else {
		admin_duration((long long)(now - r->last_check), d,
		    sizeof(d));
		snprintf(row[3], TABLE_CELL, "%s (%s ago)",
		    probe_result_name(r->last_result), d);
		snprintf(row[4], TABLE_CELL, "%dms", r->last_latency_ms);
	}
	snprintf(row[5], TABLE_CELL, "%u/%llu", r->sessions_active,
	    (unsigned long long)r->sessions_total);
	snprintf(row[6], TABLE_CELL, "%llu",
	    (unsigned long long)r->connect_failures);
	snprintf(row[7], TABLE_CELL, "%s", r->cr->url);
}

/* "dns: db.example.test: 10.0.0.3 (ttl 5s)" under a route with a name. */
static void
admin_text_dns(struct evbuffer *b, const struct route *r, int w)
{
	char	one[64];
	size_t	i;

	if (r->dns_at == 0 && r->dns_error[0] == '\0')
		return;
	evbuffer_add_printf(b, "  %-*s  dns: %s: ", w, "",
	    r->cr->target.host);
	if (r->dns_error[0] != '\0') {
		evbuffer_add_printf(b, "%s\n", r->dns_error);
		return;
	}
	for (i = 0; i < r->dns.n; i++)
		evbuffer_add_printf(b, "%s%s", i > 0 ? ", " : "",
		    resolve_format((const struct sockaddr *)&r->dns.addr[i],
		    one, sizeof(one)));
	evbuffer_add_printf(b, " (ttl %ds)\n", r->dns.ttl);
}

static void
admin_text_routes(struct evbuffer *b, const struct service *svc,
    int64_t now)
{
	static const char *const head[TABLE_COLS] = {
		"ROUTE", "STATE", "ADMIN", "LAST CHECK", "LATENCY", "SESSIONS",
		"FAILED", "URL"
	};
	char	(*rows)[TABLE_COLS][TABLE_CELL];
	int	 w[TABLE_COLS] = { 0 }, len;
	size_t	 i, j;

	if ((rows = calloc(svc->nroutes + 1, sizeof(*rows))) == NULL)
		return;
	for (j = 0; j < TABLE_COLS; j++)
		snprintf(rows[0][j], TABLE_CELL, "%s", head[j]);
	for (i = 0; i < svc->nroutes; i++)
		admin_text_row(rows[i + 1], svc->routes[i], now);
	for (i = 0; i <= svc->nroutes; i++) {
		for (j = 0; j < TABLE_COLS; j++) {
			len = (int)strlen(rows[i][j]);
			if (len > w[j])
				w[j] = len;
		}
	}
	for (i = 0; i <= svc->nroutes; i++) {
		evbuffer_add_printf(b, "  ");
		for (j = 0; j + 1 < TABLE_COLS; j++)
			evbuffer_add_printf(b, "%-*s  ", w[j], rows[i][j]);
		evbuffer_add_printf(b, "%s\n", rows[i][j]);
		if (i > 0 && svc->routes[i - 1]->state == ROUTE_STATE_DOWN &&
		    svc->routes[i - 1]->last_error[0] != '\0')
			evbuffer_add_printf(b, "  %-*s  last error: %s\n", w[0],
			    "", svc->routes[i - 1]->last_error);
		if (i > 0 && svc->routes[i - 1]->refused[0] != '\0')
			evbuffer_add_printf(b, "  %-*s  refused: %s\n", w[0],
			    "", svc->routes[i - 1]->refused);
		if (i > 0)
			admin_text_dns(b, svc->routes[i - 1], w[0]);
	}
	free(rows);
}

int
admin_health_text(struct postern *px, struct evbuffer *b)
{
	const struct service	*svc;
	const struct route	*cur;
	int64_t			 now = clock_ms();
	char			 until[48], up[32];
	int			 st = admin_health_status(px);

	admin_duration((long long)daemon_uptime_ms(px), up, sizeof(up));
	evbuffer_add_printf(b, "postern %s: %s (configuration generation %u, "
	    "up %s%s)\n", PACKAGE_VERSION, admin_health_name(st),
	    daemon_generation(px), up, daemon_stopping(px) ?
	    ", shutting down" : "");
	if (daemon_reload_status(px)->trigger != NULL &&
	    !daemon_reload_status(px)->last_ok)
		evbuffer_add_printf(b, "last reload failed (%s): %s\n",
		    daemon_reload_status(px)->trigger,
		    daemon_reload_status(px)->error);
	TAILQ_FOREACH(svc, daemon_services(px), entry) {
		cur = admin_current(svc);
		evbuffer_add_printf(b, "\nservice %s: %s, route %s "
		    "(preferred %s)", svc->name, cur != NULL ? "connected" :
		    "disconnected", cur != NULL ? cur->cr->name : "none",
		    svc->nroutes > 0 ? svc->routes[0]->cr->name : "none");
		if (svc->pinned)
			evbuffer_add_printf(b, ", pinned to %s until %s",
			    svc->routes[svc->pin]->cr->name,
			    svc->pin_until == 0 ? "unpinned" :
			    admin_iso8601(clock_wall(svc->pin_until), until,
			    sizeof(until)));
		evbuffer_add_printf(b, "\n  sessions: %u active, %llu total, "
		    "%llu refused; %llu failover%s\n", svc->count->active,
		    (unsigned long long)svc->total,
		    (unsigned long long)svc->refused,
		    (unsigned long long)svc->failovers,
		    log_s(svc->failovers));
		if (svc->count->waiting > 0 || svc->count->moved > 0 ||
		    svc->count->safe_closed > 0)
			evbuffer_add_printf(b, "  following: %u still on a "
			    "lower or drained route, %llu moved, %llu closed "
			    "at a safe point\n", svc->count->waiting,
			    (unsigned long long)svc->count->moved,
			    (unsigned long long)svc->count->safe_closed);
		admin_text_routes(b, svc, now);
		admin_cluster_text(b, svc);
	}
	ssh_pool_info(daemon_dial_env(px)->ssh, admin_text_bastion, b);
	return (st);
}
