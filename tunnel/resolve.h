/*
 * resolve.h: a route's name as DNS answers it now: A and AAAA asked in
 * parallel (evdns, the daemon's resolver, its search list), every address
 * and the smallest TTL.  Health checks ask once per check to tell whether
 * a session's server is still what the name points at; connects resolve
 * on their own (tcp_connect.c), never from this answer.
 */
#ifndef POSTERN_RESOLVE_H
#define POSTERN_RESOLVE_H

#include <sys/socket.h>

#include <stddef.h>

struct evdns_base;
struct resolve;

#define RESOLVE_MAX	16	/* addresses kept; more are dropped */

struct resolve_answer {
	struct sockaddr_storage	 addr[RESOLVE_MAX];	/* port 0 */
	size_t			 n;
	int			 ttl;		/* seconds, the smallest */
};

/*
 * resolve_cb(ans, error, arg): the one completion, from the event loop.
 * ans is NULL and error says why ("NXDOMAIN", "timeout", ...) when
 * neither A nor AAAA gave an address; both are valid only in the call.
 */
typedef void resolve_cb(const struct resolve_answer *ans, const char *error,
	    void *arg);

/*
 * resolve_start(dns, host, cb, arg): ask.  NULL when out of memory or
 * the resolver took no request (no callback then).  The object frees
 * itself after the callback; resolve_cancel() before it.
 */
struct resolve *resolve_start(struct evdns_base *dns, const char *host,
	    resolve_cb *cb, void *arg);

/*
 * resolve_cancel(r): no callback will come; r frees itself once evdns
 * has returned its requests.  NULL is a no-op.
 */
void	resolve_cancel(struct resolve *r);

/*
 * resolve_has(ans, sa): is sa's address (port ignored) among ans's?
 * A v4-mapped v6 address counts as the v4 one.
 */
int	resolve_has(const struct resolve_answer *ans, const struct sockaddr *sa);

/*
 * resolve_nameserver(dns, server): ask server ("IP:port", "[v6]:port")
 * from now on, or with "" the nameservers of /etc/resolv.conf again; the
 * search list and options of /etc/resolv.conf stay.  Asks in flight
 * finish where they are.  Logged; on failure evdns keeps what it has.
 */
void	resolve_nameserver(struct evdns_base *dns, const char *server);

/* resolve_is_literal(host): an IPv4 or IPv6 literal (nothing to ask). */
int	resolve_is_literal(const char *host);

/* resolve_format(sa, buf, len): the address alone, "127.0.0.2", "::1". */
const char *resolve_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
