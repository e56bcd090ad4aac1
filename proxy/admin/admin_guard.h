/*
 * admin_guard.h: who may ask the admin endpoint what.  A pure decision
 * on the request's Host, Origin, Sec-Fetch-Site, X-Postern-Request and
 * Authorization headers against the address the endpoint is bound to
 * and the token of the running generation; no I/O, so that unit tests
 * drive it directly (tests/unit/test_admin_guard.c).
 *
 * The threats: a web page in the operator's browser sending a "simple"
 * cross-origin POST (no preflight), a page on a DNS-rebinding name
 * reading /status, and anyone who can reach a non-loopback address.
 */
#ifndef POSTERN_ADMIN_GUARD_H
#define POSTERN_ADMIN_GUARD_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>

/* What the endpoint is bound to. */
enum admin_guard_place {
	ADMIN_GUARD_UNIX,	/* unix:/path: any Host */
	ADMIN_GUARD_LOOPBACK,	/* 127.0.0.0/8 or ::1 */
	ADMIN_GUARD_ADDRESS,	/* one non-loopback IP */
	ADMIN_GUARD_WILDCARD	/* *:port, 0.0.0.0 or :: */
};

/* What a page does: probes are never behind the token. */
enum admin_guard_access {
	ADMIN_GUARD_PROBE,	/* /liveness /readiness /startup */
	ADMIN_GUARD_READ,	/* /health /status /metrics */
	ADMIN_GUARD_WRITE	/* POST /routes/... */
};

enum admin_guard_verdict {
	ADMIN_GUARD_OK,
	ADMIN_GUARD_MISDIRECTED,	/* 421: Host names another server */
	ADMIN_GUARD_FORBIDDEN,		/* 403: cross-site, no custom header,
					   or writes off loopback, no token */
	ADMIN_GUARD_UNAUTHORIZED	/* 401: token missing or wrong */
};

#define ADMIN_GUARD_SEEN	32	/* client addresses remembered */
#define ADMIN_GUARD_PEERLEN	64

struct admin_guard {
	enum admin_guard_place	 place;
	struct in6_addr		 ip;		/* ADDRESS: IPv4 v4-mapped */
	const char		*token;		/* NULL: no admin_token_file;
						   not owned */
	int			 read_token;	/* admin_read_token = yes */
	/* Clients warned about recently, so refusals do not flood the log. */
	struct {
		char		 peer[ADMIN_GUARD_PEERLEN];
		int64_t		 ms;		/* monotonic; 0: free */
	}			 seen[ADMIN_GUARD_SEEN];
	unsigned int		 next;
};

/* The headers that matter, each NULL when absent. */
struct admin_guard_req {
	enum admin_guard_access	 access;
	const char		*host;
	const char		*origin;
	const char		*fetch_site;	/* Sec-Fetch-Site */
	const char		*custom;	/* X-Postern-Request */
	const char		*authorization;
};

/*
 * admin_guard_init(g, sa, len): set g (zeroed; token unset) for an
 * endpoint bound to sa, as getsockname() gives it.  Returns 0, or -1 for
 * an address family it does not know.
 */
int	admin_guard_init(struct admin_guard *g, const struct sockaddr *sa,
	    socklen_t len);

/*
 * admin_guard_check(g, r, why): the verdict on request r.  On refusal
 * *why is a one-line reason (a static string, never freed) meant for
 * the client and the log.
 */
enum admin_guard_verdict admin_guard_check(const struct admin_guard *g,
	    const struct admin_guard_req *r, const char **why);

/* admin_guard_status(v): the HTTP status of a verdict (200 for OK). */
int	admin_guard_status(enum admin_guard_verdict v);

/*
 * admin_guard_first(g, peer, now_ms): 1 if a refusal from peer (an
 * address without port) should be logged: not logged in the last 10
 * minutes, or forgotten since (the oldest of ADMIN_GUARD_SEEN is
 * forgotten first).  Records peer.
 */
int	admin_guard_first(struct admin_guard *g, const char *peer,
	    int64_t now_ms);

/* The quiet period of admin_guard_first(). */
#define ADMIN_GUARD_QUIET_MS	(10 * 60 * 1000)

#endif
