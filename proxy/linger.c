/*
 * linger.c: graceful close after a final message.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "linger.h"

struct linger_conn {
	TAILQ_ENTRY(linger_conn)	 entry;
	struct linger_list	*list;
	int			 fd;
	struct evbuffer		*msg;
	struct event		*wev, *rev;
	struct event		*deadline;	/* absolute: LINGER_TIMEOUT_MS */
	linger_done_fn		*done;
	void			*arg;
};

static void
linger_free(struct linger_conn *l)
{
	TAILQ_REMOVE(l->list, l, entry);
	/* event_free is allowed from the event's own callback. */
	if (l->wev != NULL)
		event_free(l->wev);
	if (l->rev != NULL)
		event_free(l->rev);
	if (l->deadline != NULL)
		event_free(l->deadline);
	if (l->msg != NULL)
		evbuffer_free(l->msg);
	close(l->fd);
	if (l->done != NULL)
		l->done(l->arg);
	free(l);
}

/* Write what is left; once all is out, shut the write side. */
static void
linger_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct linger_conn	*l = arg;

	if (evbuffer_write(l->msg, fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		linger_free(l);
		return;
	}
	if (evbuffer_get_length(l->msg) > 0) {
		event_add(l->wev, NULL);
		return;
	}
	shutdown(fd, SHUT_WR);
}

/*
 * The end, however busy the client: a timeout on rev would restart with
 * every byte it reads (EV_PERSIST), and a client trickling a byte a
 * second would hold the socket for ever.
 */
static void
linger_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	linger_free(arg);
}

/* Discard what the client sends until it closes, or the deadline. */
static void
linger_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct linger_conn	*l = arg;
	char		 buf[4096];
	ssize_t		 n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		linger_free(l);
}

void
linger_start(struct event_base *base, struct linger_list *list, int fd,
    struct evbuffer *msg, linger_done_fn *done, void *arg)
{
	struct linger_conn	*l;
	struct timeval	 tv = { LINGER_TIMEOUT_MS / 1000,
	    (LINGER_TIMEOUT_MS % 1000) * 1000 };

	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto fail;
	l->list = list;
	l->fd = fd;
	l->done = done;
	l->arg = arg;
	l->msg = msg != NULL ? msg : evbuffer_new();
	l->wev = event_new(base, fd, EV_WRITE, linger_write_cb, l);
	l->rev = event_new(base, fd, EV_READ | EV_PERSIST, linger_read_cb, l);
	l->deadline = evtimer_new(base, linger_deadline_cb, l);
	TAILQ_INSERT_TAIL(list, l, entry);
	if (l->msg == NULL || l->wev == NULL || l->rev == NULL ||
	    l->deadline == NULL) {
		msg = NULL;	/* owned by l now */
		linger_free(l);
		return;
	}
	event_add(l->rev, NULL);
	evtimer_add(l->deadline, &tv);
	linger_write_cb(fd, EV_WRITE, l);
	return;
fail:
	if (msg != NULL)
		evbuffer_free(msg);
	close(fd);
	if (done != NULL)
		done(arg);
}

void
linger_free_all(struct linger_list *list)
{
	struct linger_conn	*l;

	while ((l = TAILQ_FIRST(list)) != NULL)
		linger_free(l);
}
