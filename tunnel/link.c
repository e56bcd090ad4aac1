/*
 * link.c: the link calls (link.h), and a bridge that serves a link
 * through a socketpair for users that need a descriptor.
 *
 * Sessions use links directly (the relay, proxy/relay_fd.c).  Health
 * probes speak through bufferevents and run a few times a minute: for
 * them a socketpair's extra system calls cost nothing worth a second
 * code path, so the dial hands them the bridge's end instead.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "iobuf.h"
#include "link.h"

void
link_attach(struct link *l, const struct link_user *user, void *arg)
{
	l->user = user;
	l->user_arg = arg;
	/* Attaching starts the data; detaching stops it. */
	l->ops->pause(l, user == NULL);
}

int
link_write(struct link *l, struct evbuffer *buf)
{
	return (l->ops->write(l, buf));
}

size_t
link_pending(const struct link *l)
{
	return (l->ops->pending(l));
}

void
link_shutdown(struct link *l)
{
	l->ops->shutdown(l);
}

void
link_pause(struct link *l, int on)
{
	l->ops->pause(l, on);
}

void
link_close(struct link *l)
{
	if (l != NULL)
		l->ops->close(l);
}

/* ------------------------------------------------------------------ */
/* The socketpair bridge. */

#define LINK_FD_CHUNK	(64 * 1024)

struct link_fd {
	struct link	*l;
	int		 fd;		/* our end of the pair */
	struct event	*rev, *wev;
	struct event	*reap;		/* frees the bridge from the loop */
	struct evbuffer	*up;		/* read from fd, for the link */
	struct evbuffer	*down;		/* from the link, for fd */
	int		 reading;	/* rev added */
	int		 writing;	/* wev added */
	int		 paused;	/* the link is paused by us */
	int		 up_eof;	/* fd said EOF: link shut */
	int		 down_eof;	/* the link said EOF */
	int		 shut;		/* fd's write side shut */
	int		 dead;		/* fd or link failed */
	int		 done;		/* reap queued */
};

static void
link_fd_arm(struct link_fd *lf, int reading, int writing)
{
	if (lf->dead) {
		reading = writing = 0;
	}
	if (reading != lf->reading) {
		if (reading)
			event_add(lf->rev, NULL);
		else
			event_del(lf->rev);
		lf->reading = reading;
	}
	if (writing != lf->writing) {
		if (writing)
			event_add(lf->wev, NULL);
		else
			event_del(lf->wev);
		lf->writing = writing;
	}
}

/* Both directions over, or broken: free from the loop. */
static void
link_fd_check(struct link_fd *lf)
{
	if (lf->done || !(lf->dead || (lf->up_eof && lf->shut)))
		return;
	lf->done = 1;
	link_fd_arm(lf, 0, 0);
	link_attach(lf->l, NULL, NULL);
	event_active(lf->reap, EV_TIMEOUT, 0);
}

static void
link_fd_fail(struct link_fd *lf)
{
	lf->dead = 1;
	link_fd_check(lf);
}

static void
link_fd_shut(struct link_fd *lf)
{
	if (!lf->down_eof || lf->shut || lf->dead ||
	    evbuffer_get_length(lf->down) > 0)
		return;
	if (shutdown(lf->fd, SHUT_WR) == -1 && errno != ENOTCONN) {
		link_fd_fail(lf);
		return;
	}
	lf->shut = 1;
}

/* The user's end is closed, not just shut for writing? */
static int
link_fd_peer_gone(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };

	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR)));
}

static void
link_fd_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct link_fd	*lf = arg;
	ssize_t		 n;

	if (link_pending(lf->l) >= LINK_HIGH_WATER) {
		link_fd_arm(lf, 0, lf->writing);	/* writable() resumes */
		return;
	}
	n = iobuf_read(lf->up, fd, LINK_FD_CHUNK);
	if (n > 0) {
		if (link_write(lf->l, lf->up) == -1)
			link_fd_fail(lf);
	} else if (n == 0) {
		lf->up_eof = 1;
		link_fd_arm(lf, 0, lf->writing);
		link_shutdown(lf->l);
		if (link_fd_peer_gone(fd))
			link_fd_fail(lf);
	} else if (errno != EAGAIN && errno != EINTR)
		link_fd_fail(lf);
	link_fd_check(lf);
}

static void
link_fd_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct link_fd	*lf = arg;

	if (evbuffer_write(lf->down, fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		link_fd_fail(lf);
		return;
	}
	if (evbuffer_get_length(lf->down) == 0)
		link_fd_arm(lf, lf->reading, 0);
	if (lf->paused && evbuffer_get_length(lf->down) < LINK_LOW_WATER) {
		lf->paused = 0;
		link_pause(lf->l, 0);
	}
	link_fd_shut(lf);
	link_fd_check(lf);
}

static void
link_fd_data(void *arg, const uint8_t *p, size_t n)
{
	struct link_fd	*lf = arg;
	ssize_t		 w = 0;

	if (lf->dead)
		return;
	if (evbuffer_get_length(lf->down) == 0) {
		w = send(lf->fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				link_fd_fail(lf);
				return;
			}
			w = 0;
		}
	}
	if ((size_t)w < n) {
		if (evbuffer_add(lf->down, p + w, n - (size_t)w) == -1) {
			link_fd_fail(lf);
			return;
		}
		link_fd_arm(lf, lf->reading, 1);
		if (evbuffer_get_length(lf->down) >= LINK_HIGH_WATER) {
			lf->paused = 1;
			link_pause(lf->l, 1);
		}
	}
}

static void
link_fd_eof(void *arg)
{
	struct link_fd	*lf = arg;

	lf->down_eof = 1;
	link_fd_shut(lf);
	link_fd_check(lf);
}

static void
link_fd_error(void *arg, const char *why)
{
	link_fd_fail(arg);
}

static void
link_fd_writable(void *arg)
{
	struct link_fd	*lf = arg;

	if (!lf->up_eof && !lf->dead)
		link_fd_arm(lf, 1, lf->writing);
}

static const struct link_user link_fd_user = {
	link_fd_data,
	link_fd_eof,
	link_fd_error,
	link_fd_writable
};

static void
link_fd_free(struct link_fd *lf)
{
	if (lf->l != NULL)
		link_close(lf->l);
	if (lf->rev != NULL)
		event_free(lf->rev);
	if (lf->wev != NULL)
		event_free(lf->wev);
	if (lf->reap != NULL)
		event_free(lf->reap);
	if (lf->up != NULL)
		evbuffer_free(lf->up);
	if (lf->down != NULL)
		evbuffer_free(lf->down);
	if (lf->fd != -1)
		close(lf->fd);
	free(lf);
}

static void
link_fd_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	link_fd_free(arg);
}

int
link_fd_new(struct event_base *base, struct link *l, int *fdp)
{
	struct link_fd	*lf;
	int		 sp[2];

	if ((lf = calloc(1, sizeof(*lf))) == NULL) {
		link_close(l);
		return (-1);
	}
	lf->l = l;
	lf->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1) {
		link_fd_free(lf);
		return (-1);
	}
	lf->fd = sp[0];
	lf->rev = event_new(base, lf->fd, EV_READ | EV_PERSIST,
	    link_fd_read_cb, lf);
	lf->wev = event_new(base, lf->fd, EV_WRITE | EV_PERSIST,
	    link_fd_write_cb, lf);
	lf->reap = event_new(base, -1, 0, link_fd_reap_cb, lf);
	lf->up = evbuffer_new();
	lf->down = evbuffer_new();
	if (lf->rev == NULL || lf->wev == NULL || lf->reap == NULL ||
	    lf->up == NULL || lf->down == NULL) {
		close(sp[1]);
		link_fd_free(lf);
		errno = ENOMEM;
		return (-1);
	}
	link_attach(l, &link_fd_user, lf);
	link_fd_arm(lf, 1, 0);
	*fdp = sp[1];
	return (0);
}
