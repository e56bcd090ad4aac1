/*
 * addr.c: parsing and formatting of configured addresses.
 */
#include "config.h"

#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int
addr_parse_port(const char *s, uint16_t *port)
{
	unsigned long	 v;
	char		*end;

	if (*s == '\0' || !isdigit((unsigned char)*s) || strlen(s) > 5)
		return (-1);
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return (-1);
	*port = (uint16_t)v;
	return (0);
}

/* A DNS name or IPv4 literal: letters, digits, '-', '.', '_'. */
static int
addr_valid_name(const char *h)
{
	const char	*p;

	if (*h == '\0' || *h == '.' || *h == '-')
		return (0);
	for (p = h; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
		    *p != '_')
			return (0);
	}
	return (1);
}

int
addr_parse_hostport(const char *s, struct addr *a, char *err, size_t errlen)
{
	const char	*colon, *host, *port;
	size_t		 hlen;
	struct in6_addr	 in6;
	char		 tmp[ADDR_HOSTLEN];

	memset(a, 0, sizeof(*a));
	a->kind = ADDR_INET;
	if (*s == '[') {
		colon = strchr(s, ']');
		if (colon == NULL || colon[1] != ':') {
			snprintf(err, errlen, "bad address '%s': expected "
			    "[v6-address]:port", s);
			return (-1);
		}
		host = s + 1;
		hlen = (size_t)(colon - host);
		port = colon + 2;
		if (hlen == 0 || hlen >= sizeof(tmp)) {
			snprintf(err, errlen, "bad address '%s'", s);
			return (-1);
		}
		memcpy(tmp, host, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, &in6) != 1) {
			snprintf(err, errlen, "bad address '%s': '%s' is not "
			    "an IPv6 address", s, tmp);
			return (-1);
		}
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "bad address '%s': expected "
			    "host:port", s);
			return (-1);
		}
		if (strchr(s, ':') != colon) {
			snprintf(err, errlen, "bad address '%s': write IPv6 "
			    "addresses as [address]:port", s);
			return (-1);
		}
		hlen = (size_t)(colon - s);
		port = colon + 1;
		if (hlen == 0 || hlen >= sizeof(tmp)) {
			snprintf(err, errlen, "bad address '%s': missing or "
			    "overlong host", s);
			return (-1);
		}
		memcpy(tmp, s, hlen);
		tmp[hlen] = '\0';
		if (strcmp(tmp, "*") != 0 && !addr_valid_name(tmp)) {
			snprintf(err, errlen, "bad address '%s': '%s' is not "
			    "a host name or IP address", s, tmp);
			return (-1);
		}
	}
	if (addr_parse_port(port, &a->port) != 0) {
		snprintf(err, errlen, "bad address '%s': port must be 1-65535",
		    s);
		return (-1);
	}
	strcpy(a->host, tmp);
	return (0);
}

int
addr_parse_listen(const char *s, struct addr *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (strncmp(s, "unix:", 5) == 0) {
		a->kind = ADDR_UNIX;
		if (s[5] != '/') {
			snprintf(err, errlen, "bad address '%s': unix socket "
			    "path must be absolute", s);
			return (-1);
		}
		if (strlen(s + 5) >= sizeof(a->path)) {
			snprintf(err, errlen, "bad address '%s': unix socket "
			    "path longer than %zu bytes", s,
			    sizeof(a->path) - 1);
			return (-1);
		}
		strcpy(a->path, s + 5);
		return (0);
	}
	if (strchr(s, ':') == NULL && *s != '\0') {
		a->kind = ADDR_INET;
		if (addr_parse_port(s, &a->port) != 0) {
			snprintf(err, errlen, "bad address '%s': port must be "
			    "1-65535", s);
			return (-1);
		}
		strcpy(a->host, "127.0.0.1");
		return (0);
	}
	return (addr_parse_hostport(s, a, err, errlen));
}

const char *
addr_format(const struct addr *a, char *buf, size_t len)
{
	if (a->kind == ADDR_UNIX)
		snprintf(buf, len, "unix:%s", a->path);
	else if (strchr(a->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", a->host, a->port);
	else
		snprintf(buf, len, "%s:%u", a->host, a->port);
	return (buf);
}

int
addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->kind != b->kind)
		return (0);
	if (a->kind == ADDR_UNIX)
		return (strcmp(a->path, b->path) == 0);
	return (a->port == b->port && strcmp(a->host, b->host) == 0);
}

int
addr_is_literal(const struct addr *a)
{
	struct in6_addr	in6;
	struct in_addr	in4;

	if (a->kind == ADDR_UNIX || strcmp(a->host, "*") == 0)
		return (1);
	return (inet_pton(AF_INET, a->host, &in4) == 1 ||
	    inet_pton(AF_INET6, a->host, &in6) == 1);
}

int
addr_sockaddr(const struct addr *a, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->kind == ADDR_UNIX) {
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", a->path);
		*sslen = sizeof(*sun);
		return (0);
	}
	if (strcmp(a->host, "*") == 0) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(a->port);
		*sslen = sizeof(*sin6);
		return (0);
	}
	if (inet_pton(AF_INET, a->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		*sslen = sizeof(*sin);
		return (0);
	}
	if (inet_pton(AF_INET6, a->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		*sslen = sizeof(*sin6);
		return (0);
	}
	return (-1);
}

const char *
addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t buflen)
{
	char	 host[INET6_ADDRSTRLEN];

	(void)len;
	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    host, sizeof(host));
		snprintf(buf, buflen, "%s:%u", host,
		    ntohs(((const struct sockaddr_in *)sa)->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
		    sizeof(host));
		snprintf(buf, buflen, "[%s]:%u", host,
		    ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
		break;
	case AF_UNIX:
		snprintf(buf, buflen, "unix");
		break;
	default:
		snprintf(buf, buflen, "?");
		break;
	}
	return (buf);
}
