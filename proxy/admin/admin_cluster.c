/*
 * admin_cluster.c: a cluster seed's nodes (cluster.h) in the admin
 * endpoint's documents: under the seed's service in /health and
 * /status, and as per-node series in /metrics.  A node service is not
 * in the daemon's service list (the seed owns it), so nothing else shows
 * it.  Only reads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "admin_int.h"
#include "clock.h"
#include "cluster.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "route.h"
#include "service.h"

struct admin_cluster_walk {
	struct evbuffer		*b;
	const struct service	*seed;
	const char		*metric;	/* /metrics: the family */
	int64_t			 now;
	int			 first;
};

/* "listening", "closed" (gone from the topology) or "unmapped". */
static const char *
admin_cluster_state(const struct cluster_node_info *in)
{
	if (in->svc != NULL)
		return ("listening");
	return (in->port == 0 ? "unmapped" : "closed");
}

/* The route a node's new sessions get now, or NULL. */
static const struct route *
admin_cluster_route(const struct cluster_node_info *in)
{
	const struct service	*s = in->svc;

	if (s == NULL || !admin_service_connected(s))
		return (NULL);
	return (s->order[s->current]);
}

static void
admin_cluster_json_node(const struct cluster_node_info *in, void *arg)
{
	struct admin_cluster_walk	*w = arg;
	const struct route		*cur = admin_cluster_route(in);
	size_t				 i;

	if (!w->first)
		evbuffer_add(w->b, ",", 1);
	w->first = 0;
	evbuffer_add_printf(w->b, "{\"id\":");
	admin_json_string(w->b, in->id[0] != '\0' ? in->id : NULL);
	evbuffer_add_printf(w->b, ",\"announced\":");
	admin_json_string(w->b, in->announced);
	evbuffer_add_printf(w->b, ",\"local\":");
	if (in->port == 0)
		evbuffer_add_printf(w->b, "null");
	else {
		evbuffer_add_printf(w->b, "\"%s%s%s:%d\"",
		    strchr(in->host, ':') ? "[" : "", in->host,
		    strchr(in->host, ':') ? "]" : "", in->port);
	}
	evbuffer_add_printf(w->b, ",\"port\":%d,\"state\":\"%s\","
	    "\"in_topology\":%s,\"route\":", in->port,
	    admin_cluster_state(in), in->seen ? "true" : "false");
	admin_json_string(w->b, cur != NULL ? cur->cr->name : NULL);
	evbuffer_add_printf(w->b, ",\"sessions_active\":%u,\"routes\":{",
	    in->svc != NULL ? in->svc->count->active : 0);
	for (i = 0; in->svc != NULL && i < in->svc->nroutes; i++) {
		if (i > 0)
			evbuffer_add(w->b, ",", 1);
		admin_json_route(w->b, in->svc->routes[i], w->now);
	}
	evbuffer_add_printf(w->b, "}}");
}

void
admin_cluster_json(struct evbuffer *b, const struct service *svc,
    int64_t now)
{
	struct admin_cluster_walk	w = { b, svc, NULL, now, 1 };
	unsigned long long		moved, ask;

	if (svc->cluster == NULL || !svc->cluster_owner)
		return;
	evbuffer_add_printf(b, ",\"cluster\":{\"ports\":");
	admin_json_string(b, svc->cs->cluster_ports);
	cluster_redirects(svc->cluster, &moved, &ask);
	evbuffer_add_printf(b, ",\"nodes_unmapped\":%u,"
	    "\"unknown_nodes_named\":%llu,\"redirects_moved\":%llu,"
	    "\"redirects_ask\":%llu,\"nodes\":[",
	    cluster_unmapped(svc->cluster),
	    cluster_unknown_total(svc->cluster), moved, ask);
	cluster_each(svc->cluster, admin_cluster_json_node, &w);
	evbuffer_add_printf(b, "]}");
}

static void
admin_cluster_text_node(const struct cluster_node_info *in, void *arg)
{
	struct admin_cluster_walk	*w = arg;
	const struct route		*cur = admin_cluster_route(in);
	char				 local[64];

	if (in->port == 0)
		snprintf(local, sizeof(local), "no port");
	else
		snprintf(local, sizeof(local), "%s:%d", in->host, in->port);
	evbuffer_add_printf(w->b, "    node %.12s %s -> %s: %s, route %s "
	    "(%s), %u active\n", in->id[0] != '\0' ? in->id : "-",
	    in->announced, local, admin_cluster_state(in),
	    cur != NULL ? cur->cr->name : "none",
	    cur != NULL ? route_shown_state(cur) : "-",
	    in->svc != NULL ? in->svc->count->active : 0);
}

void
admin_cluster_text(struct evbuffer *b, const struct service *svc)
{
	struct admin_cluster_walk	w = { b, svc, NULL, 0, 1 };
	unsigned			unmapped;

	if (svc->cluster == NULL || !svc->cluster_owner)
		return;
	unmapped = cluster_unmapped(svc->cluster);
	evbuffer_add_printf(b, "  cluster nodes (cluster_ports %s)%s\n",
	    svc->cs->cluster_ports != NULL ? svc->cs->cluster_ports : "-",
	    unmapped > 0 ? ": RANGE FULL" : "");
	cluster_each(svc->cluster, admin_cluster_text_node, &w);
	if (unmapped > 0)
		evbuffer_add_printf(b, "    %u node(s) without a port: "
		    "widen cluster_ports\n", unmapped);
}

static void
admin_cluster_metric_node(const struct cluster_node_info *in, void *arg)
{
	struct admin_cluster_walk	*w = arg;
	const struct route		*cur = admin_cluster_route(in);
	char				 port[16];

	snprintf(port, sizeof(port), "%d", in->port);
	evbuffer_add_printf(w->b, "%s{service=\"", w->metric);
	admin_label_value(w->b, w->seed->name);
	evbuffer_add_printf(w->b, "\",node=\"%s\",announced=\"",
	    in->id[0] != '\0' ? in->id : "-");
	admin_label_value(w->b, in->announced);
	evbuffer_add_printf(w->b, "\",local_port=\"%s\"} ", port);
	if (strcmp(w->metric, "postern_cluster_node_up") == 0)
		evbuffer_add_printf(w->b, "%d\n", cur != NULL &&
		    cur->state == ROUTE_STATE_UP);
	else
		evbuffer_add_printf(w->b, "%u\n", in->svc != NULL ?
		    in->svc->count->active : 0);
}

/* Redirects sessions passed on, rewritten: the client's extra round trips. */
static void
admin_cluster_redirects(struct postern *px, struct evbuffer *b)
{
	const struct service	*svc;
	unsigned long long	 n[2];
	int			 k;

	evbuffer_add_printf(b, "# HELP postern_cluster_redirects_total "
	    "-MOVED and -ASK replies passed on to clients (rewritten).\n"
	    "# TYPE postern_cluster_redirects_total counter\n");
	TAILQ_FOREACH(svc, daemon_services(px), entry) {
		if (svc->cluster == NULL || !svc->cluster_owner)
			continue;
		cluster_redirects(svc->cluster, &n[0], &n[1]);
		for (k = 0; k < 2; k++) {
			evbuffer_add_printf(b, "postern_cluster_redirects_total"
			    "{service=\"");
			admin_label_value(b, svc->name);
			evbuffer_add_printf(b, "\",kind=\"%s\"} %llu\n",
			    k == 0 ? "moved" : "ask", n[k]);
		}
	}
}

void
admin_cluster_metrics(struct postern *px, struct evbuffer *b)
{
	static const char *const node_families[][2] = {
		{ "postern_cluster_node_up", "1 when the route a cluster "
		    "node's new sessions get is up." },
		{ "postern_cluster_node_sessions_active", "Sessions open "
		    "on a cluster node's local listener." },
	};
	struct admin_cluster_walk	 w = { b, NULL, NULL, 0, 1 };
	const struct service		*svc;
	size_t				 i;

	for (i = 0; i < sizeof(node_families) / sizeof(node_families[0]);
	    i++) {
		evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s gauge\n",
		    node_families[i][0], node_families[i][1],
		    node_families[i][0]);
		w.metric = node_families[i][0];
		TAILQ_FOREACH(svc, daemon_services(px), entry) {
			if (svc->cluster == NULL || !svc->cluster_owner)
				continue;
			w.seed = svc;
			cluster_each(svc->cluster, admin_cluster_metric_node,
			    &w);
		}
	}
	evbuffer_add_printf(b, "# HELP postern_cluster_nodes_unmapped Cluster "
	    "nodes without a local port (cluster_ports is full).\n"
	    "# TYPE postern_cluster_nodes_unmapped gauge\n");
	TAILQ_FOREACH(svc, daemon_services(px), entry) {
		if (svc->cluster == NULL || !svc->cluster_owner)
			continue;
		evbuffer_add_printf(b, "postern_cluster_nodes_unmapped"
		    "{service=\"");
		admin_label_value(b, svc->name);
		evbuffer_add_printf(b, "\"} %u\n",
		    cluster_unmapped(svc->cluster));
	}
	admin_cluster_redirects(px, b);
}
