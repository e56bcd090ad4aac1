/*
 * admin_guard.c: the admin endpoint's access decision (see admin_guard.h
 * and postern(8), SECURITY).
 *
 * Host: a DNS-rebinding page reaches us under its own name, and the
 * browser sends that name as Host; so a name other than "localhost" is
 * refused.  An IP literal cannot be rebound, so on a wildcard address any
 * literal passes (a Kubernetes httpGet probe sends the pod IP, which is
 * not known here); on one address, that address and loopback literals
 * (an SSH tunnel or kubectl port-forward sends 127.0.0.1 or localhost).
 * The port is not compared: port-forwards change it, and it does not help
 * a rebinding page.
 *
 * Origin, Sec-Fetch-Site: browsers add them to cross-site requests; no
 * tool that legitimately talks to us sends them.  X-Postern-Request:
 * a custom header turns any cross-origin write into one that needs a
 * CORS preflight, which we never grant.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "admin_guard.h"

int
admin_guard_init(struct admin_guard *g, const struct sockaddr *sa,
    socklen_t len)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	const uint8_t			*b;

	memset(g, 0, sizeof(*g));
	if (sa->sa_family == AF_UNIX) {
		g->place = ADMIN_GUARD_UNIX;
		return (0);
	}
	if (sa->sa_family == AF_INET && len >= sizeof(*sin)) {
		/* ::ffff:a.b.c.d */
		g->ip.s6_addr[10] = g->ip.s6_addr[11] = 0xff;
		memcpy(&g->ip.s6_addr[12], &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(*sin6))
		g->ip = sin6->sin6_addr;
	else
		return (-1);
	b = g->ip.s6_addr;
	if (IN6_IS_ADDR_UNSPECIFIED(&g->ip) || (IN6_IS_ADDR_V4MAPPED(&g->ip) &&
	    b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 0))
		g->place = ADMIN_GUARD_WILDCARD;
	else if (IN6_IS_ADDR_LOOPBACK(&g->ip) ||
	    (IN6_IS_ADDR_V4MAPPED(&g->ip) && b[12] == 127))
		g->place = ADMIN_GUARD_LOOPBACK;
	else
		g->place = ADMIN_GUARD_ADDRESS;
	return (0);
}

/* s as an IP literal, IPv4 v4-mapped; 0 or -1. */
static int
admin_guard_literal(const char *s, struct in6_addr *ip)
{
	struct in_addr	v4;

	if (inet_pton(AF_INET6, s, ip) == 1)
		return (0);
	if (inet_pton(AF_INET, s, &v4) != 1)
		return (-1);
	memset(ip, 0, sizeof(*ip));
	ip->s6_addr[10] = ip->s6_addr[11] = 0xff;
	memcpy(&ip->s6_addr[12], &v4, 4);
	return (0);
}

/*
 * The host part of a Host value ("name", "name:port", "[v6]",
 * "[v6]:port") into buf; 0, or -1 when malformed.
 */
static int
admin_guard_host_part(const char *host, char *buf, size_t len)
{
	const char	*end, *port;
	size_t		 n;

	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL)
			return (-1);
		host++;
		port = end + 1;
	} else {
		end = strchr(host, ':');
		port = end != NULL ? end : host + strlen(host);
		end = port;
	}
	n = (size_t)(end - host);
	if (n == 0 || n >= len)
		return (-1);
	memcpy(buf, host, n);
	buf[n] = '\0';
	if (*port == '\0')
		return (0);
	if (*port++ != ':')
		return (-1);
	n = strspn(port, "0123456789");
	return (n >= 1 && n <= 5 && port[n] == '\0' ? 0 : -1);
}

/* Host names this endpoint (see the top of the file for why). */
static int
admin_guard_host_ok(const struct admin_guard *g, const char *host)
{
	struct in6_addr	 ip;
	char		 name[256];
	const uint8_t	*b = ip.s6_addr;

	if (g->place == ADMIN_GUARD_UNIX || host == NULL)
		return (1);	/* no browser leaves Host out */
	if (admin_guard_host_part(host, name, sizeof(name)) != 0)
		return (0);
	if (strcasecmp(name, "localhost") == 0 ||
	    strcasecmp(name, "localhost.") == 0)
		return (1);
	if (admin_guard_literal(name, &ip) != 0)
		return (0);
	if (IN6_IS_ADDR_LOOPBACK(&ip) || (IN6_IS_ADDR_V4MAPPED(&ip) &&
	    b[12] == 127))
		return (1);
	switch (g->place) {
	case ADMIN_GUARD_WILDCARD:
		return (1);
	case ADMIN_GUARD_ADDRESS:
		return (memcmp(&ip, &g->ip, sizeof(ip)) == 0);
	case ADMIN_GUARD_UNIX:
	case ADMIN_GUARD_LOOPBACK:
		break;
	}
	return (0);
}

/*
 * "Bearer TOKEN" matches g->token.  Both sides are hashed first, so the
 * constant-time comparison also hides the token's length.
 */
static int
admin_guard_token_ok(const struct admin_guard *g, const char *auth)
{
	unsigned char	 want[EVP_MAX_MD_SIZE], got[EVP_MAX_MD_SIZE];
	unsigned int	 wn = 0, gn = 0;
	int		 ok;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return (0);
	auth += 7;
	while (*auth == ' ')
		auth++;
	if (EVP_Digest(g->token, strlen(g->token), want, &wn, EVP_sha256(),
	    NULL) != 1 || EVP_Digest(auth, strlen(auth), got, &gn,
	    EVP_sha256(), NULL) != 1 || wn != gn)
		return (0);
	ok = CRYPTO_memcmp(want, got, wn) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return (ok);
}

enum admin_guard_verdict
admin_guard_check(const struct admin_guard *g,
    const struct admin_guard_req *r, const char **why)
{
	int	need_token;

	*why = "";
	if (!admin_guard_host_ok(g, r->host)) {
		*why = "the Host header names another server (DNS "
		    "rebinding?): use the admin address or localhost";
		return (ADMIN_GUARD_MISDIRECTED);
	}
	if (r->origin != NULL) {
		*why = "cross-origin request (Origin header): the admin "
		    "endpoint serves no web pages";
		return (ADMIN_GUARD_FORBIDDEN);
	}
	if (r->fetch_site != NULL && strcasecmp(r->fetch_site,
	    "cross-site") == 0) {
		*why = "cross-site request (Sec-Fetch-Site: cross-site)";
		return (ADMIN_GUARD_FORBIDDEN);
	}
	if (r->access == ADMIN_GUARD_WRITE && (r->custom == NULL ||
	    strcmp(r->custom, "1") != 0)) {
		*why = "a write needs the header X-Postern-Request: 1 "
		    "(postern ctl sends it)";
		return (ADMIN_GUARD_FORBIDDEN);
	}
	if (r->access == ADMIN_GUARD_WRITE && g->token == NULL &&
	    (g->place == ADMIN_GUARD_ADDRESS ||
	    g->place == ADMIN_GUARD_WILDCARD)) {
		*why = "writes on a non-loopback admin address need "
		    "admin_token_file in [postern]";
		return (ADMIN_GUARD_FORBIDDEN);
	}
	need_token = g->token != NULL && (r->access == ADMIN_GUARD_WRITE ||
	    (r->access == ADMIN_GUARD_READ && g->read_token));
	if (need_token && r->authorization == NULL) {
		*why = "token required: send Authorization: Bearer TOKEN "
		    "(postern ctl reads admin_token_file)";
		return (ADMIN_GUARD_UNAUTHORIZED);
	}
	if (need_token && !admin_guard_token_ok(g, r->authorization)) {
		*why = "wrong token";
		return (ADMIN_GUARD_UNAUTHORIZED);
	}
	return (ADMIN_GUARD_OK);
}

int
admin_guard_status(enum admin_guard_verdict v)
{
	switch (v) {
	case ADMIN_GUARD_OK:
		return (200);
	case ADMIN_GUARD_MISDIRECTED:
		return (421);
	case ADMIN_GUARD_FORBIDDEN:
		return (403);
	case ADMIN_GUARD_UNAUTHORIZED:
		return (401);
	}
	return (403);
}

int
admin_guard_first(struct admin_guard *g, const char *peer, int64_t now_ms)
{
	unsigned int	i;

	for (i = 0; i < ADMIN_GUARD_SEEN; i++) {
		if (g->seen[i].ms == 0 || strcmp(g->seen[i].peer, peer) != 0)
			continue;
		if (now_ms - g->seen[i].ms < ADMIN_GUARD_QUIET_MS)
			return (0);
		g->seen[i].ms = now_ms;
		return (1);
	}
	i = g->next++ % ADMIN_GUARD_SEEN;
	snprintf(g->seen[i].peer, sizeof(g->seen[i].peer), "%s", peer);
	g->seen[i].ms = now_ms > 0 ? now_ms : 1;
	return (1);
}
