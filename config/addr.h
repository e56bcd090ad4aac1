/*
 * addr.h: addresses as written in the configuration: "host:port",
 * "[v6]:port", "unix:/path", and route URLs.
 */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_HOSTLEN	256
#define ADDR_PATHLEN	108	/* sizeof(sun_path) on Linux */
#define ADDR_STRLEN	(ADDR_HOSTLEN + 16)

enum addr_kind {
	ADDR_INET,		/* host name or IP literal, and a port */
	ADDR_UNIX		/* unix-domain socket path */
};

struct addr {
	enum addr_kind	 kind;
	char		 host[ADDR_HOSTLEN];	/* without brackets */
	uint16_t	 port;
	char		 path[ADDR_PATHLEN];
};

/*
 * addr_parse_hostport(s, a, err, errlen): parse "host:port" or
 * "[v6]:port" into a.  Returns 0, or -1 with a message in err.
 */
int	addr_parse_hostport(const char *s, struct addr *a, char *err,
	    size_t errlen);

/*
 * addr_parse_listen(s, a, err, errlen): as addr_parse_hostport, and also
 * "unix:/path", "*:port" (all IPv4 and IPv6 interfaces, said explicitly)
 * and a bare "port", which binds 127.0.0.1: listeners are loopback unless
 * told otherwise.
 */
int	addr_parse_listen(const char *s, struct addr *a, char *err,
	    size_t errlen);

/*
 * addr_parse_port(s, port): a decimal port 1-65535.  Returns 0 or -1.
 */
int	addr_parse_port(const char *s, uint16_t *port);

/* addr_format(a, buf, len): "host:port", "[v6]:port" or "unix:/path". */
const char *addr_format(const struct addr *a, char *buf, size_t len);

/* addr_equal(a, b): the same listen address as written. */
int	addr_equal(const struct addr *a, const struct addr *b);

/*
 * addr_is_literal(a): 1 if a is a unix path or a numeric IP address, so
 * that no name resolution is needed.
 */
int	addr_is_literal(const struct addr *a);

/*
 * addr_sockaddr(a, ss, sslen): fill a sockaddr for a literal address (see
 * addr_is_literal); "*" gives the IPv6 any-address.  Returns 0 or -1.
 */
int	addr_sockaddr(const struct addr *a, struct sockaddr_storage *ss,
	    socklen_t *sslen);

/*
 * addr_from_sockaddr(sa, len, buf, buflen): format a peer address for
 * logs: "1.2.3.4:5", "[::1]:5" or "unix".
 */
const char *addr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
	    char *buf, size_t buflen);

#endif
