/*
 * admin_conns.c: the admin endpoint's connection cap.  Idle connections
 * held open by anyone must not keep a probe out, nor use up the
 * descriptors the services need: beyond the cap, a new connection closes
 * the oldest.
 *
 * libevent 2.1's evhttp has no connection limit and no hook on a new
 * server connection (evhttp_set_max_connections and evhttp_set_newreqcb
 * came in 2.2); evhttp_set_bevcb is the one call made per accept.  We
 * hand out the bufferevent there, holding a reference of our own, and
 * adopt the connection from an event activated at once, which runs before
 * the loop reads anything from it: by then evhttp has made the
 * bufferevent's callback argument its evhttp_connection (as it has in
 * every release since 2.0), and has set no callback on one it already
 * freed.  Its close callback forgets a connection evhttp closes; one we
 * close is forgotten first.
 *
 * evhttp's timeout restarts on every byte: a client sending one byte a
 * second would hold a connection for ever.  So each request also has an
 * absolute deadline, from its first byte to its dispatch
 * (admin_conns_request_done): the first byte added to the input buffer
 * while no deadline runs starts one.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "admin_guard.h"
#include "admin_int.h"
#include "log.h"

/* One accepted connection, oldest first in admin_conns.list. */
struct admin_conn {
	TAILQ_ENTRY(admin_conn)		 entry;
	struct admin_conns		*set;
	struct bufferevent		*bev;	/* a reference, until adopted */
	struct evhttp_connection	*evcon;	/* once adopted */
	struct evbuffer			*input;	/* evcon's, watched */
	struct evbuffer_cb_entry	*watch;
	struct event			*deadline;
};

struct admin_conns {
	TAILQ_HEAD(, admin_conn)	 list;
	unsigned int			 n, max;
	struct event			*adopt;	/* admin_conns_adopt_cb */
	struct admin_guard		*guard;	/* its log limiter */
	int				 unix_socket;
	int				 request_ms;	/* the deadline */
};

int64_t
admin_conns_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
admin_conns_drop(struct admin_conns *c, struct admin_conn *conn)
{
	TAILQ_REMOVE(&c->list, conn, entry);
	c->n--;
	if (conn->bev != NULL)
		bufferevent_decref(conn->bev);
	if (conn->watch != NULL)
		evbuffer_remove_cb_entry(conn->input, conn->watch);
	if (conn->deadline != NULL)
		event_free(conn->deadline);
	free(conn);
}

static void
admin_conns_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct admin_conn	*conn = arg;

	admin_conns_drop(conn->set, conn);
}

/* Close the oldest adopted connections while there are too many. */
static void
admin_conns_evict(struct admin_conns *c)
{
	struct evhttp_connection	*evcon;
	struct admin_conn		*conn, *oldest;
	char				*host = NULL;
	char				 key[ADMIN_GUARD_PEERLEN];
	ev_uint16_t			 port = 0;

	while (c->n > c->max) {
		oldest = NULL;
		TAILQ_FOREACH(conn, &c->list, entry) {
			if (conn->evcon != NULL) {
				oldest = conn;
				break;
			}
		}
		if (oldest == NULL)
			break;
		if (!c->unix_socket)
			evhttp_connection_get_peer(oldest->evcon, &host, &port);
		/* Apart from refusals: each is worth a line of its own. */
		snprintf(key, sizeof(key), "cap %s", host != NULL ? host :
		    "unix");
		if (admin_guard_first(c->guard, key, admin_conns_now_ms()))
			log_warnx("admin: %u connections open: closing the "
			    "oldest, from %s, to take a new one; not logged "
			    "again for this address for %d minutes", c->max,
			    host != NULL ? host : "unix",
			    ADMIN_GUARD_QUIET_MS / 60000);
		/*
		 * Forget it first, so that the count does not depend on
		 * evhttp calling the close callback from here.
		 */
		evcon = oldest->evcon;
		evhttp_connection_set_closecb(evcon, NULL, NULL);
		admin_conns_drop(c, oldest);
		evhttp_connection_free(evcon);
	}
}

/* A request took too long from its first byte: close its connection. */
static void
admin_conns_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_conn		*conn = arg;
	struct admin_conns		*c = conn->set;
	struct evhttp_connection	*evcon = conn->evcon;
	char				*host = NULL;
	char				 key[ADMIN_GUARD_PEERLEN];
	ev_uint16_t			 port = 0;

	if (!c->unix_socket)
		evhttp_connection_get_peer(evcon, &host, &port);
	snprintf(key, sizeof(key), "slow %s", host != NULL ? host : "unix");
	if (admin_guard_first(c->guard, key, admin_conns_now_ms()))
		log_warnx("admin: a request from %s not complete within %d ms: "
		    "closed; not logged again for this address for %d minutes",
		    host != NULL ? host : "unix", c->request_ms,
		    ADMIN_GUARD_QUIET_MS / 60000);
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	admin_conns_drop(c, conn);
	evhttp_connection_free(evcon);
}

/* Bytes came in: the first of a request starts its deadline. */
static void
admin_conns_input_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct admin_conn	*conn = arg;
	struct timeval		 tv;

	if (info->n_added == 0 || evtimer_pending(conn->deadline, NULL))
		return;
	tv.tv_sec = conn->set->request_ms / 1000;
	tv.tv_usec = (conn->set->request_ms % 1000) * 1000;
	evtimer_add(conn->deadline, &tv);
}

void
admin_conns_request_done(struct admin_conns *c,
    struct evhttp_connection *evcon)
{
	struct admin_conn	*conn;

	TAILQ_FOREACH(conn, &c->list, entry) {
		if (conn->evcon == evcon && conn->deadline != NULL) {
			evtimer_del(conn->deadline);
			return;
		}
	}
}

static void
admin_conns_adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_conns	*c = arg;
	struct admin_conn	*conn, *next;
	bufferevent_data_cb	 readcb = NULL;
	void			*cbarg = NULL;

	for (conn = TAILQ_FIRST(&c->list); conn != NULL; conn = next) {
		next = TAILQ_NEXT(conn, entry);
		if (conn->bev == NULL)
			continue;
		bufferevent_getcb(conn->bev, &readcb, NULL, NULL, &cbarg);
		if (readcb == NULL || cbarg == NULL) {
			admin_conns_drop(c, conn);	/* evhttp gave up */
			continue;
		}
		conn->evcon = cbarg;
		evhttp_connection_set_closecb(conn->evcon,
		    admin_conns_closed_cb, conn);
		/* Without its deadline, the connection is only capped. */
		conn->input = bufferevent_get_input(conn->bev);
		conn->deadline = evtimer_new(bufferevent_get_base(conn->bev),
		    admin_conns_deadline_cb, conn);
		if (conn->deadline != NULL)
			conn->watch = evbuffer_add_cb(conn->input,
			    admin_conns_input_cb, conn);
		if (conn->deadline != NULL &&
		    evbuffer_get_length(conn->input) > 0)
			admin_conns_input_cb(conn->input,
			    &(struct evbuffer_cb_info){ 0, 1, 0 }, conn);
		bufferevent_decref(conn->bev);
		conn->bev = NULL;
	}
	admin_conns_evict(c);
}

static struct bufferevent *
admin_conns_bev_cb(struct event_base *base, void *arg)
{
	struct admin_conns	*c = arg;
	struct admin_conn	*conn;
	struct bufferevent	*bev;

	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL || (conn = calloc(1, sizeof(*conn))) == NULL)
		return (bev);	/* not counted; evhttp copes with NULL */
	bufferevent_incref(bev);
	conn->set = c;
	conn->bev = bev;
	TAILQ_INSERT_TAIL(&c->list, conn, entry);
	c->n++;
	event_active(c->adopt, EV_TIMEOUT, 0);
	return (bev);
}

struct admin_conns *
admin_conns_new(struct event_base *base, struct evhttp *http,
    struct admin_guard *guard, int unix_socket, unsigned int max,
    int request_ms)
{
	struct admin_conns	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	TAILQ_INIT(&c->list);
	c->max = max;
	c->guard = guard;
	c->unix_socket = unix_socket;
	c->request_ms = request_ms;
	if ((c->adopt = event_new(base, -1, 0, admin_conns_adopt_cb, c)) ==
	    NULL) {
		free(c);
		return (NULL);
	}
	evhttp_set_bevcb(http, admin_conns_bev_cb, c);
	return (c);
}

void
admin_conns_free(struct admin_conns *c)
{
	if (c == NULL)
		return;
	/* Left: connections accepted but not adopted yet. */
	while (!TAILQ_EMPTY(&c->list))
		admin_conns_drop(c, TAILQ_FIRST(&c->list));
	event_free(c->adopt);
	free(c);
}
