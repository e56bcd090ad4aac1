/*
 * move.c: dial and replay for a session's move (move.h).  The replies
 * are read with resp_track's reply reader: counted, never buffered.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "dial.h"
#include "link.h"
#include "move.h"
#include "resp_track.h"

enum move_state {
	MOVE_DIALING,
	MOVE_REPLAYING,
	MOVE_READY,
	MOVE_FAILED
};

struct move {
	enum move_state		 state;
	struct event_base	*base;
	struct dial		*dial;
	struct bufferevent	*bev;
	struct link		*link;
	struct event		*timer;		/* reply_ms */
	int			 reply_ms;
	struct evbuffer		*replay;	/* until sent */
	struct resp_expect	 want[RESP_NSLOTS + 1];	/* + the PING */
	size_t			 nwant, got;
	struct resp_reader	 rd;
	move_cb			*cb;
	void			*arg;
	struct sockaddr_storage	 peer;		/* the new server (TCP) */
	int			 have_peer;
};

/* Stop listening to the upstream: the session decides what is next. */
static void
move_quiet(struct move *m)
{
	evtimer_del(m->timer);
	if (m->link != NULL) {
		link_pause(m->link, 1);
		link_attach(m->link, NULL, NULL);
	}
	if (m->bev != NULL) {
		bufferevent_disable(m->bev, EV_READ | EV_WRITE);
		bufferevent_setcb(m->bev, NULL, NULL, NULL, NULL);
	}
}

static void
move_end(struct move *m, int ok, const char *why)
{
	if (m->state == MOVE_READY || m->state == MOVE_FAILED)
		return;
	m->state = ok ? MOVE_READY : MOVE_FAILED;
	move_quiet(m);
	m->cb(m, ok, why, m->arg);
}

/* Replies from the new server, in any pieces. */
static void
move_replies(struct move *m, const uint8_t *buf, size_t len)
{
	const struct resp_expect	*w;
	char				 why[160];
	size_t				 n;
	int				 done;

	while (len > 0 && m->state == MOVE_REPLAYING) {
		if (m->got == m->nwant) {
			move_end(m, 0, "unexpected bytes after the replies");
			return;
		}
		n = resp_reader_feed(&m->rd, buf, len, &done);
		buf += n;
		len -= n;
		if (m->rd.err) {
			move_end(m, 0, "the server's reply is not RESP");
			return;
		}
		if (!done || m->rd.top == '>')
			continue;	/* a push is no reply */
		w = &m->want[m->got++];
		/* A session that never authenticated may meet NOAUTH. */
		if (!resp_expect_match(w, &m->rd) && !(m->nwant == 1 &&
		    m->rd.top == '-' && strncmp(m->rd.line, "NOAUTH", 6) == 0)) {
			snprintf(why, sizeof(why), "reply %zu of %zu differs "
			    "from the first server's ('%c' %s)", m->got,
			    m->nwant, m->rd.top, m->rd.top == '-' ?
			    "error" : "reply");
			move_end(m, 0, why);
			return;
		}
	}
	if (m->state == MOVE_REPLAYING && m->got == m->nwant && len == 0)
		move_end(m, 1, NULL);
}

static void
move_read_cb(struct bufferevent *bev, void *arg)
{
	struct move	*m = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 n = evbuffer_get_length(in);
	uint8_t		*p;

	/* Replies to a replay are small: look at them in one piece. */
	if (m->state != MOVE_REPLAYING || n == 0 ||
	    (p = evbuffer_pullup(in, -1)) == NULL)
		return;
	move_replies(m, p, n);
	evbuffer_drain(in, n);
}

static void
move_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct move	*m = arg;
	char		 why[160];

	dial_bev_error(bev, EVUTIL_SOCKET_ERROR(), why, sizeof(why));
	move_end(m, 0, (what & BEV_EVENT_EOF) ? "the server closed" : why);
}

static void
move_link_data(void *arg, const uint8_t *buf, size_t len)
{
	move_replies(arg, buf, len);
}

static void
move_link_eof(void *arg)
{
	move_end(arg, 0, "the server closed");
}

static void
move_link_error(void *arg, const char *why)
{
	move_end(arg, 0, why);
}

static void
move_link_writable(void *arg)
{
}

static const struct link_user move_link_user = {
	move_link_data,
	move_link_eof,
	move_link_eof,
	move_link_error,
	move_link_writable,
	NULL,			/* no sink: data() copies */
	NULL
};

static void
move_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct move	*m = arg;
	char		 why[96];

	snprintf(why, sizeof(why), "no reply to the replay within %d ms",
	    m->reply_ms);
	move_end(m, 0, why);
}

static void
move_dial_cb(const struct dial_result *res, void *arg)
{
	struct move	*m = arg;
	struct timeval	 tv = clock_tv(m->reply_ms);
	char		 why[300];

	m->dial = NULL;
	if (res->status != DIAL_OK) {
		snprintf(why, sizeof(why), "connect failed: %s", res->detail);
		move_end(m, 0, why);
		return;
	}
	m->state = MOVE_REPLAYING;
	if ((m->have_peer = res->peer != NULL))
		memcpy(&m->peer, res->peer, res->peer->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	evtimer_add(m->timer, &tv);
	if (res->link != NULL) {
		m->link = res->link;
		link_attach(m->link, &move_link_user, m);
		if (link_write(m->link, m->replay) == -1) {
			move_end(m, 0, "the channel failed");
			return;
		}
		link_pause(m->link, 0);
		return;
	}
	m->bev = res->bev;
	bufferevent_setcb(m->bev, move_read_cb, NULL, move_event_cb, m);
	if (bufferevent_write_buffer(m->bev, m->replay) != 0 ||
	    bufferevent_enable(m->bev, EV_READ | EV_WRITE) != 0)
		move_end(m, 0, "out of memory");
}

struct move *
move_start(const struct dial_env *env, const struct conf_route *cr,
    int connect_ms, int reply_ms, struct evbuffer *replay,
    const struct resp_expect *want, size_t nwant, move_cb *cb, void *arg)
{
	struct move	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto fail;
	m->base = env->base;
	m->reply_ms = reply_ms;
	m->cb = cb;
	m->arg = arg;
	resp_reader_init(&m->rd, RESP_REPLIES);
	if (nwant > RESP_NSLOTS)
		nwant = RESP_NSLOTS;
	memcpy(m->want, want, nwant * sizeof(*want));
	m->want[nwant].type = '+';
	snprintf(m->want[nwant].line, sizeof(m->want[nwant].line), "PONG");
	m->nwant = nwant + 1;
	if ((m->replay = evbuffer_new()) == NULL ||
	    (m->timer = evtimer_new(env->base, move_timeout, m)) == NULL)
		goto fail;
	evbuffer_add_buffer(m->replay, replay);
	evbuffer_add(m->replay, "*1\r\n$4\r\nPING\r\n", 14);
	if ((m->dial = dial_start(env, cr, connect_ms, 0, move_dial_cb,
	    m)) == NULL)
		goto fail;
	return (m);
fail:
	evbuffer_drain(replay, evbuffer_get_length(replay));
	move_free(m);
	return (NULL);
}

void
move_take(struct move *m, struct bufferevent **bev, struct link **link)
{
	*bev = m->bev;
	*link = m->link;
	m->bev = NULL;
	m->link = NULL;
}

const struct sockaddr *
move_peer(const struct move *m)
{
	return (m->have_peer ? (const struct sockaddr *)&m->peer : NULL);
}

void
move_free(struct move *m)
{
	if (m == NULL)
		return;
	dial_cancel(m->dial);
	if (m->timer != NULL)
		event_free(m->timer);
	if (m->bev != NULL)
		bufferevent_free(m->bev);
	link_close(m->link);
	if (m->replay != NULL)
		evbuffer_free(m->replay);	/* references: wiped */
	free(m);
}
