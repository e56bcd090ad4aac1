/*
 * tcp_connect.h: the one TCP connect path, for routes (dial_tcp.c) and
 * bastions (ssh.c): resolve the host (evdns, asynchronously, unless it is
 * a literal), then a non-blocking connect to each address in turn, and
 * one callback with a connected socket or a classified failure.
 */
#ifndef POSTERN_TCP_CONNECT_H
#define POSTERN_TCP_CONNECT_H

struct event_base;
struct evdns_base;
struct pagemem;
struct tcp_connect;

/*
 * tcp_connect_cb(fd, status, detail, arg): the one completion, always
 * from the event loop (never from inside tcp_connect_start).  status is
 * an enum dial_status: DIAL_OK with fd connected, non-blocking, with
 * TCP_NODELAY and keepalives set (the callee owns it); else fd is -1 and
 * detail says why ("connection refused", "connect timeout",
 * "unreachable: No route to host", "cannot resolve h: ...").  The
 * tcp_connect is freed when the callback returns: do not cancel it from
 * inside.
 */
typedef void tcp_connect_cb(int fd, int status, const char *detail,
	    void *arg);

/*
 * tcp_connect_start(base, dns, pm, host, port, cb, arg): start
 * connecting.  dns may be NULL (literal addresses only); pm, the cache
 * its memory comes from (pagemem.h), may be NULL and must outlive it.
 * No deadline here: the caller has its own and cancels.  NULL when out
 * of memory.
 */
struct tcp_connect *tcp_connect_start(struct event_base *base,
	    struct evdns_base *dns, struct pagemem *pm, const char *host,
	    unsigned int port,
	    tcp_connect_cb *cb, void *arg);

/*
 * tcp_connect_no_such_name(c): inside c's callback with DIAL_RESOLVE, 1
 * if the DNS answered that the name does not exist (NXDOMAIN: a retry
 * will not mend it), 0 if resolving failed otherwise (no answer, a
 * server failure: it may work next time).
 */
int	tcp_connect_no_such_name(const struct tcp_connect *c);

/*
 * tcp_connect_cancel(c): stop and free c without a callback (a socket
 * being connected is closed).  NULL is a no-op.
 */
void	tcp_connect_cancel(struct tcp_connect *c);

/*
 * tcp_connect_status(err): the enum dial_status of a connect errno:
 * DIAL_REFUSED, DIAL_TIMEOUT, DIAL_UNREACHABLE or DIAL_ERROR.
 */
int	tcp_connect_status(int err);

#endif
