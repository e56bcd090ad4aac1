/*
 * cluster.c: the topology of a Redis Cluster and a listener per node
 * (cluster.h).  One fetch connection at a time, through the seed
 * service's current route; it is closed only from the cluster's timer,
 * never inside its bufferevent's callbacks.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "addr.h"
#include "clock.h"
#include "cluster.h"
#include "cluster_rw.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "dial.h"
#include "listener.h"
#include "log.h"
#include "relay.h"
#include "route.h"
#include "service.h"

struct cluster_node {
	char			 id[41];
	struct addr		 addr;		/* as the cluster announces it */
	long			 alt_port;	/* its other port (tls/plain) */
	int			 port;		/* local; 0: none (range full) */
	struct service		*svc;		/* serving it; NULL: closed */
	int			 seen;		/* in the last topology */
	char			 label[400];	/* "redis node 10.0.3.7:6379" */
};

struct cluster {
	int			 refs;
	struct service		*seed;		/* NULL once stopped */
	struct cluster_node	**nodes;	/* each its own: labels stay put */
	size_t			 nnodes;
	struct cluster_rw_map	 map;
	char			 host[ADDR_HOSTLEN];	/* the listeners' */
	struct event		*timer;
	struct conf_route	 cr;		/* fetch: a shallow copy */
	struct dial		*dial;
	struct bufferevent	*bev;
	redisReader		*reader;
	int			 asked_slots;	/* SHARDS was refused */
	int			 fetch_done;	/* close it at the timer */
	int			 soon;		/* a refresh is wanted */
	int			 full_logged;
	uint64_t		 unknown;	/* nodes replies named, unmapped */
	uint64_t		 moved, ask;	/* redirects passed on */
};

static int	cluster_lookup(void *, const struct cluster_rw_node *);

struct cluster *
cluster_new(struct service *seed)
{
	struct cluster		*c;
	const struct addr	*l = &seed->cs->listen[0].addr;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->refs = 1;
	c->seed = seed;
	/* Clients reach the nodes where they reach the seed. */
	if (l->host[0] == '\0' || strcmp(l->host, "0.0.0.0") == 0)
		snprintf(c->host, sizeof(c->host), "127.0.0.1");
	else if (strcmp(l->host, "::") == 0)
		snprintf(c->host, sizeof(c->host), "::1");
	else
		snprintf(c->host, sizeof(c->host), "%s", l->host);
	c->map.host = c->host;
	c->map.lookup = cluster_lookup;
	c->map.arg = c;
	return (c);
}

struct cluster *
cluster_ref(struct cluster *c)
{
	c->refs++;
	return (c);
}

static void
cluster_close_fetch(struct cluster *c)
{
	dial_cancel(c->dial);
	c->dial = NULL;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->reader != NULL)
		redisReaderFree(c->reader);
	c->reader = NULL;
	c->fetch_done = 0;
}

static void
cluster_node_close(struct cluster_node *n)
{
	if (n->svc == NULL)
		return;
	service_retire(n->svc);
	service_unref(n->svc);		/* live sessions keep it */
	n->svc = NULL;
}

void
cluster_stop(struct cluster *c)
{
	size_t	i;

	if (c == NULL || c->seed == NULL)
		return;
	cluster_close_fetch(c);
	if (c->timer != NULL)
		evtimer_del(c->timer);
	for (i = 0; i < c->nnodes; i++)
		cluster_node_close(c->nodes[i]);
	c->seed = NULL;
}

void
cluster_unref(struct cluster *c)
{
	size_t	i;

	if (c == NULL || --c->refs > 0)
		return;
	cluster_stop(c);
	if (c->timer != NULL)
		event_free(c->timer);
	for (i = 0; i < c->nnodes; i++)
		free(c->nodes[i]);
	free(c->nodes);
	free(c);
}

const struct cluster_rw_map *
cluster_map(struct cluster *c)
{
	return (&c->map);
}

size_t
cluster_route(const struct cluster *c)
{
	const struct service	*s = c->seed;
	size_t			 i;

	if (s == NULL || s->current >= s->nroutes)
		return ((size_t)-1);
	for (i = 0; i < s->nroutes; i++)
		if (s->routes[i] == s->order[s->current])
			return (i);
	return ((size_t)-1);
}

void
cluster_follow_seed(struct cluster *c)
{
	size_t	i;

	for (i = 0; c->seed != NULL && i < c->nnodes; i++)
		if (c->nodes[i]->svc != NULL)
			service_update(c->nodes[i]->svc);
}

static int
same(const char *s, size_t n, const char *z)
{
	return (n > 0 && strlen(z) == n && strncasecmp(s, z, n) == 0);
}

/* The local port of the node a reply names; -1 when none. */
static int
cluster_lookup(void *arg, const struct cluster_rw_node *q)
{
	struct cluster		*c = arg;
	struct cluster_node	*n;
	size_t			 i;
	int			 found = -1, matches = 0;

	for (i = 0; i < c->nnodes; i++) {
		n = c->nodes[i];
		if (n->port == 0 || n->svc == NULL)
			continue;
		if (q->idlen > 0) {
			if (same(q->id, q->idlen, n->id))
				return (n->port);
			continue;
		}
		if (n->addr.port != q->port && n->alt_port != q->port)
			continue;
		if (same(q->ip, q->iplen, n->addr.host) ||
		    same(q->endpoint, q->endpointlen, n->addr.host))
			return (n->port);
		/* "" or "?": the session's own host; unique port only */
		if (q->endpointlen == 0 || same(q->endpoint, q->endpointlen,
		    "?")) {
			found = n->port;
			matches++;
		}
	}
	return (matches == 1 ? found : -1);
}

static void
cluster_arm(struct cluster *c, int ms)
{
	struct timeval	tv = clock_tv(ms > 0 ? ms : 1);

	evtimer_add(c->timer, &tv);
}

void
cluster_refresh(struct cluster *c)
{
	if (c->seed == NULL || c->soon)
		return;
	c->soon = 1;
	if (c->dial == NULL && c->bev == NULL)
		cluster_arm(c, CLUSTER_SOON_MS);
}

void
cluster_unknown(struct cluster *c, unsigned n, const char *what)
{
	c->unknown += n;
	log_warnx("%s: the reply names %u cluster node(s) postern has no "
	    "listener for (left as the server wrote them; %llu so far)",
	    what, n, (unsigned long long)c->unknown);
	cluster_refresh(c);
}

/* A free port of the range: never one a node had (ports are stable). */
static int
cluster_port(struct cluster *c)
{
	const struct conf_service	*cs = c->seed->cs;
	int				 p;
	size_t				 i;

	for (p = cs->cluster_port_first; p <= cs->cluster_port_last; p++) {
		for (i = 0; i < c->nnodes && c->nodes[i]->port != p; i++)
			;
		if (i == c->nnodes)
			return (p);
	}
	return (0);
}

/* Node n's routes log as "rc/direct node 3f2a1b9c0d1e 10.0.3.7:6379". */
static void
cluster_node_relabel(struct cluster *c, struct cluster_node *n)
{
	char	 l[512], a[ADDR_STRLEN];
	size_t	 i;

	addr_format(&n->addr, a, sizeof(a));
	for (i = 0; n->svc != NULL && i < n->svc->nroutes; i++) {
		snprintf(l, sizeof(l), "%s/%s node %.12s %s", c->seed->cs->name,
		    n->svc->routes[i]->cr->name, n->id[0] != '\0' ? n->id :
		    "-", a);
		(void)route_relabel(n->svc->routes[i], l);
	}
}

/* Open node n's listener and service. */
static void
cluster_node_open(struct cluster *c, struct cluster_node *n)
{
	struct service		*svc;
	struct listener		*l;
	struct addr		 la = c->seed->cs->listen[0].addr;
	char			 err[256], buf[ADDR_STRLEN];
	size_t			 i;

	la.port = (uint16_t)n->port;
	if ((svc = service_new(c->seed->px, c->seed->gen, c->seed->cs,
	    NULL)) == NULL) {
		log_warnx("service %s: cluster node %s: out of memory",
		    c->seed->label, n->id);
		return;
	}
	if ((l = listener_new(daemon_base(c->seed->px), &la, NULL, NULL, err,
	    sizeof(err))) == NULL) {
		log_warnx("service %s: cluster node %s: %s", c->seed->label,
		    n->id, err);
		service_unref(svc);
		return;
	}
	svc->label = n->label;
	svc->cluster = c;
	service_add_listener(svc, l);
	service_activate(svc);
	for (i = 0; i < svc->nroutes; i++)
		if (route_set_master(svc->routes[i], &n->addr) != 0) {
			log_warnx("service %s: cluster node %s: out of memory",
			    c->seed->label, n->id);
			service_retire(svc);
			service_unref(svc);
			return;
		}
	n->svc = svc;
	cluster_node_relabel(c, n);
	log_notice("service %s: cluster node %s %s: listening on %s:%d",
	    c->seed->label, n->id, addr_format(&n->addr, buf, sizeof(buf)),
	    c->host, n->port);
}

/*
 * One node of the topology: id (may be empty), the announced address
 * postern dials, and the node's other client port (0: none), which
 * redirects may name instead.
 */
static void
cluster_saw(struct cluster *c, const char *id, const char *host, long port,
    long alt)
{
	struct cluster_node	*n = NULL, **nn;
	struct addr		 a;
	char			 buf[ADDR_STRLEN + 8], err[128], was[ADDR_STRLEN];
	size_t			 i;

	snprintf(buf, sizeof(buf), strchr(host, ':') ? "[%s]:%ld" : "%s:%ld",
	    host, port);
	if (port <= 0 || port > 65535 ||
	    addr_parse_hostport(buf, &a, err, sizeof(err)) != 0)
		return;
	for (i = 0; i < c->nnodes && n == NULL; i++)
		if (id[0] != '\0' ? strcmp(c->nodes[i]->id, id) == 0 :
		    addr_equal(&c->nodes[i]->addr, &a))
			n = c->nodes[i];
	if (n == NULL) {
		if ((nn = reallocarray(c->nodes, c->nnodes + 1,
		    sizeof(*nn))) == NULL)
			return;
		c->nodes = nn;
		if ((n = calloc(1, sizeof(*n))) == NULL)
			return;
		c->nodes[c->nnodes++] = n;
		snprintf(n->id, sizeof(n->id), "%s", id);
		n->addr = a;
		if ((n->port = cluster_port(c)) == 0 && !c->full_logged++)
			log_warnx("service %s: cluster_ports %s is full: node "
			    "%s %s gets no listener", c->seed->label,
			    c->seed->cs->cluster_ports, id, buf);
	} else if (!addr_equal(&n->addr, &a)) {
		log_notice("service %s: cluster node %s moved: %s -> %s",
		    c->seed->label, n->id, addr_format(&n->addr, was,
		    sizeof(was)), buf);
		n->addr = a;
		for (i = 0; n->svc != NULL && i < n->svc->nroutes; i++)
			(void)route_set_master(n->svc->routes[i], &a);
		cluster_node_relabel(c, n);
	}
	n->seen = 1;
	n->alt_port = alt;
	snprintf(n->label, sizeof(n->label), "%.100s node %.*s", c->seed->label,
	    ADDR_STRLEN, buf);
	if (n->port != 0 && n->svc == NULL)
		cluster_node_open(c, n);
}

static const redisReply *
kv(const redisReply *r, const char *key)
{
	size_t	i;

	if (r->type != REDIS_REPLY_ARRAY)
		return (NULL);
	for (i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    strcasecmp(r->element[i]->str, key) == 0)
			return (r->element[i + 1]);
	return (NULL);
}

static const char *
str(const redisReply *r)
{
	return (r != NULL && r->type == REDIS_REPLY_STRING ? r->str : "");
}

static long
num(const redisReply *r)
{
	return (r != NULL && r->type == REDIS_REPLY_INTEGER ?
	    (long)r->integer : 0);
}

/* CLUSTER SHARDS: [[slots, [...], nodes, [[id, ..., port, ...], ...]]] */
static int
cluster_shards(struct cluster *c, const redisReply *r)
{
	const redisReply	*nodes, *nd;
	const char		*ip;
	long			 port, tls;
	size_t			 i, j;

	for (i = 0; i < r->elements; i++) {
		if ((nodes = kv(r->element[i], "nodes")) == NULL ||
		    nodes->type != REDIS_REPLY_ARRAY)
			return (-1);
		for (j = 0; j < nodes->elements; j++) {
			nd = nodes->element[j];
			ip = str(kv(nd, "ip"));
			if (*ip == '\0')
				ip = str(kv(nd, "endpoint"));
			port = num(kv(nd, "port"));
			tls = num(kv(nd, "tls-port"));
			/* tls://: the node's TLS port when it has one */
			if (port == 0 || (tls != 0 && c->cr.kind == ROUTE_TLS))
				cluster_saw(c, str(kv(nd, "id")), ip, tls, port);
			else
				cluster_saw(c, str(kv(nd, "id")), ip, port, tls);
		}
	}
	return (0);
}

/* CLUSTER SLOTS: [[start, end, [ip, port, id?], ...], ...] */
static int
cluster_slots(struct cluster *c, const redisReply *r)
{
	const redisReply	*e, *nd;
	size_t			 i, j;

	for (i = 0; i < r->elements; i++) {
		e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3)
			return (-1);
		for (j = 2; j < e->elements; j++) {
			nd = e->element[j];
			if (nd->type != REDIS_REPLY_ARRAY || nd->elements < 2)
				return (-1);
			cluster_saw(c, nd->elements > 2 ?
			    str(nd->element[2]) : "", str(nd->element[0]),
			    num(nd->element[1]), 0);
		}
	}
	return (0);
}

/* The fetch is over (or failed): close it from the timer. */
static void
cluster_fetch_over(struct cluster *c, const char *why)
{
	if (why != NULL)
		log_warnx("service %s: cluster topology: %s", c->seed->label,
		    why);
	c->fetch_done = 1;
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_active(c->timer, EV_TIMEOUT, 0);
}

static void
cluster_reply(struct cluster *c, const redisReply *r)
{
	size_t	i;
	int	rc;

	if (r->type == REDIS_REPLY_ERROR && !c->asked_slots) {
		/* Before 7.0: no CLUSTER SHARDS. */
		c->asked_slots = 1;
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		cluster_fetch_over(c, r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply");
		return;
	}
	for (i = 0; i < c->nnodes; i++)
		c->nodes[i]->seen = 0;
	rc = c->asked_slots ? cluster_slots(c, r) : cluster_shards(c, r);
	if (rc != 0) {
		cluster_fetch_over(c, "malformed topology reply");
		return;
	}
	/* Nodes gone from the topology close; their ports stay theirs. */
	for (i = 0; i < c->nnodes; i++)
		if (!c->nodes[i]->seen && c->nodes[i]->svc != NULL) {
			log_notice("service %s: cluster node %s left the "
			    "topology", c->seed->label, c->nodes[i]->id);
			cluster_node_close(c->nodes[i]);
		}
	cluster_fetch_over(c, NULL);
}

static void
cluster_read_cb(struct bufferevent *bev, void *arg)
{
	struct cluster	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 len = evbuffer_get_length(in);
	void		*reply = NULL;

	if (c->fetch_done)
		return;
	if (redisReaderFeed(c->reader, (const char *)evbuffer_pullup(in, -1),
	    len) != REDIS_OK) {
		cluster_fetch_over(c, "protocol error");
		return;
	}
	evbuffer_drain(in, len);
	if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
		cluster_fetch_over(c, "protocol error");
		return;
	}
	if (reply == NULL)
		return;
	cluster_reply(c, reply);
	freeReplyObject(reply);
}

static void
cluster_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cluster	*c = arg;

	if (!c->fetch_done)
		cluster_fetch_over(c, (what & BEV_EVENT_EOF) ? "closed" :
		    (what & BEV_EVENT_TIMEOUT) ? "timeout" : "connection error");
}

static void
cluster_dial_cb(const struct dial_result *res, void *arg)
{
	struct cluster		*c = arg;
	struct event_base	*base = daemon_base(c->seed->px);
	struct timeval		 tv = clock_tv(c->seed->cs->check_timeout_ms);
	int			 fd;

	c->dial = NULL;
	if (res->status != DIAL_OK) {
		cluster_fetch_over(c, res->detail);
		return;
	}
	if ((c->bev = res->bev) == NULL) {
		/* ssh://: a channel, served through a socketpair. */
		if (relay_bridge(base, res->link, &fd) == -1) {
			cluster_fetch_over(c, "out of memory");
			return;
		}
		c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			close(fd);
			cluster_fetch_over(c, "out of memory");
			return;
		}
	}
	if ((c->reader = redisReaderCreate()) == NULL) {
		cluster_fetch_over(c, "out of memory");
		return;
	}
	bufferevent_setcb(c->bev, cluster_read_cb, NULL, cluster_event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "*2\r\n$7\r\nCLUSTER\r\n$6\r\nSHARDS\r\n");
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Ask the seed, through the route new sessions get now. */
static void
cluster_fetch(struct cluster *c)
{
	struct service	*s = c->seed;
	struct route	*r;

	r = s->current < s->nroutes ? s->order[s->current] : s->order[0];
	if (r->dial_cr == NULL) {
		cluster_arm(c, CLUSTER_SOON_MS);
		return;
	}
	c->cr = *r->dial_cr;
	/* A copy finds the TLS context through the route it stands for. */
	if (c->cr.origin == NULL)
		c->cr.origin = r->dial_cr;
	c->asked_slots = 0;
	c->soon = 0;
	c->dial = dial_start(daemon_dial_env(s->px), &c->cr,
	    s->cs->check_timeout_ms, DIAL_TLS_BEV | DIAL_URGENT,
	    cluster_dial_cb, c);
	if (c->dial == NULL)
		cluster_arm(c, CLUSTER_SOON_MS);
}

static void
cluster_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster	*c = arg;

	if (c->seed == NULL)
		return;
	if (c->fetch_done) {
		cluster_close_fetch(c);
		cluster_arm(c, c->soon ? CLUSTER_SOON_MS : CLUSTER_REFRESH_MS);
		return;
	}
	if (c->dial != NULL || c->bev != NULL)
		return;		/* a fetch in flight ends in fetch_over */
	cluster_fetch(c);
}

void
cluster_inherit(struct cluster *c, const struct cluster *prev)
{
	struct cluster_node	**nn, *n;
	size_t			  i;

	if (prev == NULL || prev->nnodes == 0 ||
	    (nn = calloc(prev->nnodes, sizeof(*nn))) == NULL)
		return;
	c->nodes = nn;
	for (i = 0; i < prev->nnodes; i++) {
		/* Not when the range changed and left it out. */
		if (prev->nodes[i]->id[0] == '\0' ||
		    prev->nodes[i]->port < c->seed->cs->cluster_port_first ||
		    prev->nodes[i]->port > c->seed->cs->cluster_port_last ||
		    (n = calloc(1, sizeof(*n))) == NULL)
			continue;
		memcpy(n->id, prev->nodes[i]->id, sizeof(n->id));
		n->addr = prev->nodes[i]->addr;
		n->port = prev->nodes[i]->port;
		n->alt_port = prev->nodes[i]->alt_port;
		c->nodes[c->nnodes++] = n;
	}
}

void
cluster_start(struct cluster *c)
{
	if (c->timer == NULL &&
	    (c->timer = evtimer_new(daemon_base(c->seed->px),
	    cluster_timer_cb, c)) == NULL) {
		log_warnx("service %s: cluster: out of memory",
		    c->seed->label);
		return;
	}
	cluster_arm(c, 1);
}

void
cluster_each(const struct cluster *c,
    void (*fn)(const struct cluster_node_info *, void *), void *arg)
{
	struct cluster_node_info	 in;
	char				 a[ADDR_STRLEN];
	size_t				 i;

	for (i = 0; i < c->nnodes; i++) {
		in.id = c->nodes[i]->id;
		in.announced = addr_format(&c->nodes[i]->addr, a, sizeof(a));
		in.host = c->host;
		in.port = c->nodes[i]->port;
		in.svc = c->nodes[i]->svc;
		in.seen = c->nodes[i]->seen;
		fn(&in, arg);
	}
}

unsigned
cluster_unmapped(const struct cluster *c)
{
	unsigned	n = 0;
	size_t		i;

	for (i = 0; i < c->nnodes; i++)
		n += c->nodes[i]->port == 0 && c->nodes[i]->seen;
	return (n);
}

unsigned long long
cluster_unknown_total(const struct cluster *c)
{
	return ((unsigned long long)c->unknown);
}

void
cluster_redirected(struct cluster *c, int ask)
{
	if (ask)
		c->ask++;
	else
		c->moved++;
}

void
cluster_redirects(const struct cluster *c, unsigned long long *moved,
    unsigned long long *ask)
{
	*moved = (unsigned long long)c->moved;
	*ask = (unsigned long long)c->ask;
}
