/*
 * listener.h: one bound, listening socket on the event loop.
 * Accept errors from fd exhaustion (EMFILE, ENFILE, ENOBUFS) pause the
 * listener and resume it from a timer instead of spinning.
 */
#ifndef POSTERN_LISTENER_H
#define POSTERN_LISTENER_H

#include <sys/socket.h>

#include <stddef.h>

#include "addr.h"

struct event_base;
struct listener;

/* listener_cb(fd, sa, len, arg): a new client; the callee owns fd. */
typedef void listener_cb(int fd, struct sockaddr *sa, int len, void *arg);

/*
 * listener_new(base, a, cb, arg, err, errlen): bind and listen on a.
 * Returns NULL with "cannot listen on ADDR: reason" in err.  The caller
 * owns the listener; listener_free() closes it (and unlinks a unix path
 * it created).
 */
struct listener *listener_new(struct event_base *base, const struct addr *a,
	    listener_cb *cb, void *arg, char *err, size_t errlen);

/*
 * listener_socket(a, why, whylen): a bound, listening, non-blocking
 * socket for a (a unix socket file left by a dead process is replaced; a
 * live one is not).  Returns the fd (the caller's), or -1 with the reason
 * in why.  For listeners that are not sessions' (the admin endpoint).
 */
int	listener_socket(const struct addr *a, char *why, size_t whylen);

/* listener_set_cb(l, cb, arg): hand the listener to a new owner (reload). */
void	listener_set_cb(struct listener *l, listener_cb *cb, void *arg);

/* listener_addr(l): the address as configured. */
const struct addr *listener_addr(const struct listener *l);

/* listener_bound(l, buf, len): the address actually bound, for logs. */
const char *listener_bound(const struct listener *l, char *buf, size_t len);

/* listener_free(l): close; NULL is a no-op. */
void	listener_free(struct listener *l);

#endif
