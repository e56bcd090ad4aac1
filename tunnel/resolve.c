/*
 * resolve.c: see resolve.h.
 *
 * evdns delivers a cancelled request's callback later, from the loop
 * (DNS_ERR_CANCEL), so a cancelled resolve stays allocated, callback-less,
 * until both of its requests have come back.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>

#include "log.h"
#include "resolve.h"

struct resolve {
	struct evdns_base	*dns;
	struct evdns_request	*req[2];	/* A, AAAA; NULL when back */
	struct evdns_getaddrinfo_request *gai;	/* the hosts file's turn */
	int			 starting;	/* inside evdns_getaddrinfo */
	int			 pending;	/* requests not back */
	char			 host[256];
	struct resolve_answer	 ans;
	int			 have_ttl;
	char			 error[64];	/* of the A request */
	resolve_cb		*cb;		/* NULL: cancelled */
	void			*arg;
};

static const char *
resolve_error_name(int err)
{
	switch (err) {
	case DNS_ERR_NOTEXIST:
		return ("NXDOMAIN");
	case DNS_ERR_NODATA:
		return ("no address");
	case DNS_ERR_SERVERFAILED:
		return ("SERVFAIL");
	case DNS_ERR_REFUSED:
		return ("refused");
	case DNS_ERR_TIMEOUT:
		return ("timeout");
	}
	return (evdns_err_to_string(err));
}

static void
resolve_add(struct resolve *r, char type, int count, int ttl, void *addrs)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	int			 i;

	for (i = 0; i < count && r->ans.n < RESOLVE_MAX; i++) {
		memset(&r->ans.addr[r->ans.n], 0, sizeof(r->ans.addr[0]));
		if (type == DNS_IPv4_A) {
			sin = (struct sockaddr_in *)&r->ans.addr[r->ans.n];
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, (char *)addrs + 4 * i, 4);
		} else {
			sin6 = (struct sockaddr_in6 *)&r->ans.addr[r->ans.n];
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, (char *)addrs + 16 * i, 16);
		}
		r->ans.n++;
	}
	if (count > 0 && (!r->have_ttl || ttl < r->ans.ttl)) {
		r->ans.ttl = ttl < 0 ? 0 : ttl;
		r->have_ttl = 1;
	}
}

static void
resolve_end(struct resolve *r)
{
	if (r->cb != NULL)
		r->cb(r->ans.n > 0 ? &r->ans : NULL, r->error, r->arg);
	free(r);
}

/*
 * The hosts file's answer (evdns_getaddrinfo reads it first, as connects
 * do; the DNS queries above do not): a name in /etc/hosts, such as a
 * Kubernetes hostAlias, is not "unresolvable".  No TTL: 0.
 */
static void
resolve_gai_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct resolve		*r = arg;
	struct evutil_addrinfo	*ai;

	r->gai = NULL;
	for (ai = result == 0 ? res : NULL; ai != NULL && r->ans.n <
	    RESOLVE_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(r->ans.addr[0]))
			continue;
		memset(&r->ans.addr[r->ans.n], 0, sizeof(r->ans.addr[0]));
		memcpy(&r->ans.addr[r->ans.n++], ai->ai_addr, ai->ai_addrlen);
		r->ans.ttl = 0;
	}
	if (res != NULL)
		evutil_freeaddrinfo(res);
	r->pending = 0;
	if (!r->starting)
		resolve_end(r);
}

/* Neither A nor AAAA: ask the hosts file (and DNS again) the way connects do. */
static void
resolve_hosts(struct resolve *r)
{
	struct evutil_addrinfo	hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	r->pending = 1;
	r->starting = 1;
	/* NULL: it called back already (the hosts file answers at once). */
	r->gai = evdns_getaddrinfo(r->dns, r->host, NULL, &hints,
	    resolve_gai_cb, r);
	r->starting = 0;
	if (r->pending == 0)
		resolve_end(r);
}

static void
resolve_got(int result, char type, int count, int ttl, void *addrs,
    void *arg, int which)
{
	struct resolve	*r = arg;

	r->req[which] = NULL;
	if (result == DNS_ERR_NONE && (type == DNS_IPv4_A ||
	    type == DNS_IPv6_AAAA))
		resolve_add(r, type, count, ttl, addrs);
	else if (which == 0 || r->error[0] == '\0')
		snprintf(r->error, sizeof(r->error), "%s",
		    resolve_error_name(result));
	if (--r->pending > 0)
		return;
	if (r->ans.n == 0 && r->cb != NULL) {
		resolve_hosts(r);
		return;
	}
	resolve_end(r);
}

static void
resolve_got4(int result, char type, int count, int ttl, void *addrs,
    void *arg)
{
	resolve_got(result, type, count, ttl, addrs, arg, 0);
}

static void
resolve_got6(int result, char type, int count, int ttl, void *addrs,
    void *arg)
{
	resolve_got(result, type, count, ttl, addrs, arg, 1);
}

struct resolve *
resolve_start(struct evdns_base *dns, const char *host, resolve_cb *cb,
    void *arg)
{
	struct resolve	*r;

	if (dns == NULL || (r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->dns = dns;
	r->cb = cb;
	r->arg = arg;
	snprintf(r->host, sizeof(r->host), "%s", host);
	/* evdns calls back from the loop only, never inside these calls. */
	r->req[0] = evdns_base_resolve_ipv4(dns, host, 0, resolve_got4, r);
	r->req[1] = evdns_base_resolve_ipv6(dns, host, 0, resolve_got6, r);
	r->pending = (r->req[0] != NULL) + (r->req[1] != NULL);
	if (r->pending == 0) {
		free(r);
		return (NULL);
	}
	return (r);
}

void
resolve_cancel(struct resolve *r)
{
	int	i;

	if (r == NULL)
		return;
	r->cb = NULL;
	for (i = 0; i < 2; i++) {
		if (r->req[i] != NULL)
			evdns_cancel_request(r->dns, r->req[i]);
	}
	/* Its callback still comes (EVUTIL_EAI_CANCEL) and frees r. */
	if (r->gai != NULL)
		evdns_getaddrinfo_cancel(r->gai);
}

/* The address of sa as 16 bytes (v4 as v4-mapped); -1 if neither. */
static int
resolve_bytes(const struct sockaddr *sa, unsigned char out[16])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &sin->sin_addr, 4);
		return (0);
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(out, &sin6->sin6_addr, 16);
		return (0);
	}
	return (-1);
}

int
resolve_has(const struct resolve_answer *ans, const struct sockaddr *sa)
{
	unsigned char	a[16], b[16];
	size_t		i;

	if (resolve_bytes(sa, a) != 0)
		return (0);
	for (i = 0; i < ans->n; i++) {
		if (resolve_bytes((const struct sockaddr *)&ans->addr[i],
		    b) == 0 && memcmp(a, b, 16) == 0)
			return (1);
	}
	return (0);
}

void
resolve_nameserver(struct evdns_base *dns, const char *server)
{
	int	rc;

	evdns_base_clear_nameservers_and_suspend(dns);
	if (server[0] != '\0')
		rc = evdns_base_nameserver_ip_add(dns, server);
	else
		rc = evdns_base_resolv_conf_parse(dns, DNS_OPTION_NAMESERVERS,
		    "/etc/resolv.conf");
	evdns_base_resume(dns);
	if (rc != 0)
		log_error("resolver %s: cannot be used (%d)", server[0] != '\0' ?
		    server : "/etc/resolv.conf", rc);
	else
		log_info("names resolve through %s", server[0] != '\0' ?
		    server : "/etc/resolv.conf's nameservers");
}

int
resolve_is_literal(const char *host)
{
	unsigned char	raw[16];

	return (inet_pton(AF_INET, host, raw) == 1 ||
	    inet_pton(AF_INET6, host, raw) == 1);
}

const char *
resolve_format(const struct sockaddr *sa, char *buf, size_t len)
{
	const void	*p;

	if (sa->sa_family == AF_INET)
		p = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		p = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		p = NULL;
	if (p == NULL || inet_ntop(sa->sa_family, p, buf, (socklen_t)len) ==
	    NULL)
		snprintf(buf, len, "?");
	return (buf);
}
