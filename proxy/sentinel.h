/*
 * sentinel.h: a Redis route whose server is the master that its
 * Sentinels name (route option sentinel=NAME; the URL lists the
 * Sentinels).  Every check_interval, and at once when a Sentinel
 * publishes +switch-master for NAME, it asks each Sentinel
 * "SENTINEL get-master-addr-by-name NAME"; an address that a quorum (a
 * majority of the configured Sentinels) names is dialed and asked ROLE;
 * only when it answers "master" does it become the route's server
 * (route_set_master).  Sentinels and the master are reached through the
 * route's own transport: tcp://, ssh:// through its bastion, tls://.
 *
 * The route's health checks then check that server (with ROLE: master),
 * and sessions on a demoted master leave it at their next safe point as
 * on any route change (follow.h).  A server that claims to be master
 * but that no quorum names (an old master restarted) is never used.
 */
#ifndef POSTERN_SENTINEL_H
#define POSTERN_SENTINEL_H

struct route;
struct conf_service;
struct postern;
struct sentinel;

/*
 * sentinel_new(px, cs, r): watch r's Sentinels (r->cr->sentinel set) for
 * the service cs configures (cs must outlive it); nothing runs before
 * sentinel_start.  NULL when out of memory.
 */
struct sentinel *sentinel_new(struct postern *px,
	    const struct conf_service *cs, struct route *r);

/* sentinel_start(w): subscribe and ask at once. */
void	sentinel_start(struct sentinel *w);

/* sentinel_free(w): close every connection; NULL is a no-op. */
void	sentinel_free(struct sentinel *w);

#endif
