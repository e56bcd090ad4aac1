/*
 * cluster.h: a Redis Cluster behind a service (cluster = yes).  The
 * topology is learned from CLUSTER SHARDS (CLUSTER SLOTS on servers
 * without it) through the service's current route: at start, soon after
 * a redirect names a node postern does not know, and every
 * CLUSTER_REFRESH_MS.  Each node gets a local listener on a port from
 * cluster_ports, keyed by node ID, kept for the process's life; behind
 * it a service whose routes are the seed service's routes aimed at that
 * node (route_set_master: through the same bastion, over TLS the same
 * way).  Sessions on the seed and node listeners rewrite the addresses
 * in replies (cluster_sess.h) with cluster_map().
 */
#ifndef POSTERN_CLUSTER_H
#define POSTERN_CLUSTER_H

struct cluster;
struct cluster_rw_map;
struct service;

#define CLUSTER_REFRESH_MS	10000
#define CLUSTER_SOON_MS		1000	/* a refresh asked for, at most */

/*
 * cluster_new(seed): the cluster of the seed service, nothing started;
 * NULL when out of memory.  The seed keeps the one reference.
 */
struct cluster *cluster_new(struct service *seed);

/*
 * cluster_inherit(c, prev): a reload: c gives each node ID the port it
 * had in prev (NULL: none), so that ports stay across generations.
 * Out of memory: a node may get another port (logged when it opens).
 */
void	cluster_inherit(struct cluster *c, const struct cluster *prev);

/* cluster_start(c): learn the topology now, then periodically. */
void	cluster_start(struct cluster *c);

/*
 * cluster_stop(c): the seed is retired: close every node listener,
 * retire the node services (their live sessions keep them), stop
 * fetching.  The map then knows no node.
 */
void	cluster_stop(struct cluster *c);

/* cluster_ref(c), cluster_unref(c): sessions hold one; NULL: no-op. */
struct cluster *cluster_ref(struct cluster *c);
void	cluster_unref(struct cluster *c);

/* cluster_map(c): the node map for the rewriter; valid while c is. */
const struct cluster_rw_map *cluster_map(struct cluster *c);

/*
 * cluster_unknown(c, n, what): a reply named n nodes the map does not
 * know (logged with what, the session's prefix): counted, and a refresh
 * is asked for.
 */
void	cluster_unknown(struct cluster *c, unsigned n, const char *what);

/* What the admin endpoint shows of one node; valid during the call. */
struct cluster_node_info {
	const char		*id;		/* "" when the server gave none */
	const char		*announced;	/* "10.0.3.7:6379" */
	const char		*host;		/* the local listener's */
	int			 port;		/* 0: none (cluster_ports full) */
	const struct service	*svc;		/* NULL: not listening */
	int			 seen;		/* in the last topology */
};

/*
 * cluster_each(c, fn, arg): fn for each node postern knows, in the order
 * it learned them.  Only reads.
 */
void	cluster_each(const struct cluster *c,
	    void (*fn)(const struct cluster_node_info *, void *), void *arg);

/* cluster_unmapped(c): nodes of the topology without a port. */
unsigned cluster_unmapped(const struct cluster *c);

/* cluster_unknown_total(c): nodes replies named that had no listener. */
unsigned long long cluster_unknown_total(const struct cluster *c);

/*
 * cluster_redirected(c, ask): a session passed a -MOVED (ask 0) or -ASK
 * (ask 1) on to its client: counted; cluster_redirects(c, moved, ask)
 * reads the counts.
 */
void	cluster_redirected(struct cluster *c, int ask);
void	cluster_redirects(const struct cluster *c, unsigned long long *moved,
	    unsigned long long *ask);

/*
 * cluster_route(c): the position, in the seed's configured routes, of
 * the route the seed's new sessions get now; (size_t)-1 when none or
 * stopped.  A node service prefers its copy of that route (service.h's
 * service_select): the service's route failover applies to all nodes.
 */
size_t	cluster_route(const struct cluster *c);

/*
 * cluster_follow_seed(c): the seed's route changed: each node service
 * picks its route again now, and its sessions follow (follow.h).
 */
void	cluster_follow_seed(struct cluster *c);

/* cluster_refresh(c): a redirect came: learn the topology again soon. */
void	cluster_refresh(struct cluster *c);

#endif
