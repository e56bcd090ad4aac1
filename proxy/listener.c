/*
 * listener.c: bind with clear errors; pause on fd exhaustion.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "listener.h"
#include "sockopt.h"
#include "log.h"

#define LISTENER_BACKLOG	511
#define LISTENER_PAUSE_MS	250

struct listener {
	struct evconnlistener	*evl;
	struct event		*resume;
	struct addr		 addr;
	int			 unlink_path;
	listener_cb		*cb;
	void			*arg;
};

static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct listener	*l = arg;

	l->cb(fd, sa, len, l->arg);
}

static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;

	evconnlistener_enable(l->evl);
}

static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener	*l = arg;
	int		 err = EVUTIL_SOCKET_ERROR();
	struct timeval	 tv = { 0, LISTENER_PAUSE_MS * 1000 };
	char		 buf[ADDR_STRLEN];

	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		log_warnx("%s: accept: %s; pausing for %d ms",
		    addr_format(&l->addr, buf, sizeof(buf)), strerror(err),
		    LISTENER_PAUSE_MS);
		evconnlistener_disable(evl);
		evtimer_add(l->resume, &tv);
		return;
	}
	log_warnx("%s: accept: %s", addr_format(&l->addr, buf, sizeof(buf)),
	    strerror(err));
}

/* A unix socket file left by a dead process is removed; a live one not. */
static int
listener_unix_stale(const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, stale;

	if (lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode))
		return (0);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	stale = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno == ECONNREFUSED;
	close(fd);
	if (stale)
		unlink(path);
	return (stale);
}

static int
listener_resolve(const struct addr *a, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	char		 port[8];
	int		 rc;

	if (addr_sockaddr(a, ss, len) == 0)
		return (0);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", a->port);
	if ((rc = getaddrinfo(a->host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return (-1);
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

int
listener_socket(const struct addr *a, char *why, size_t whylen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd = -1, on = 1, off = 0;

	if (listener_resolve(a, &ss, &sslen, why, whylen) != 0)
		return (-1);
	if (a->kind == ADDR_UNIX)
		listener_unix_stale(a->path);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (ss.ss_family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	/* "*:port" means every interface, IPv4 included. */
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, strcmp(a->host, "*") == 0 ? &off : &on,
	    sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		goto fail;
	if (listen(fd, LISTENER_BACKLOG) == -1) {
		if (a->kind == ADDR_UNIX)
			unlink(a->path);
		goto fail;
	}
	return (fd);
fail:
	snprintf(why, whylen, "%s", strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
}

struct listener *
listener_new(struct event_base *base, const struct addr *a, listener_cb *cb,
    void *arg, char *err, size_t errlen)
{
	struct listener		*l;
	int			 fd;
	char			 why[256], buf[ADDR_STRLEN];

	snprintf(why, sizeof(why), "out of memory");
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto fail;
	l->addr = *a;
	l->cb = cb;
	l->arg = arg;
	if ((fd = listener_socket(a, why, sizeof(why))) == -1)
		goto fail;
	/*
	 * TCP_NODELAY, keepalive and the user timeout on the listening
	 * socket: Linux copies them to every socket accept() returns, so a
	 * session's client socket has them without six system calls of its
	 * own (a burst of new sessions felt them; session_new).
	 */
	sockopt_tcp(fd);
	l->unlink_path = a->kind == ADDR_UNIX;
	l->evl = evconnlistener_new(base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (l->evl == NULL) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		close(fd);
		goto fail;
	}
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	if ((l->resume = evtimer_new(base, listener_resume_cb, l)) == NULL)
		goto fail;
	return (l);
fail:
	snprintf(err, errlen, "cannot listen on %s: %s",
	    addr_format(a, buf, sizeof(buf)), why);
	listener_free(l);
	return (NULL);
}

void
listener_set_cb(struct listener *l, listener_cb *cb, void *arg)
{
	l->cb = cb;
	l->arg = arg;
}

const struct addr *
listener_addr(const struct listener *l)
{
	return (&l->addr);
}

const char *
listener_bound(const struct listener *l, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);

	if (l->addr.kind == ADDR_UNIX ||
	    getsockname(evconnlistener_get_fd(l->evl),
	    (struct sockaddr *)&ss, &sslen) == -1)
		return (addr_format(&l->addr, buf, len));
	return (addr_from_sockaddr((struct sockaddr *)&ss, sslen, buf, len));
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	if (l->evl != NULL)
		evconnlistener_free(l->evl);
	if (l->resume != NULL)
		event_free(l->resume);
	if (l->unlink_path)
		unlink(l->addr.path);
	free(l);
}
