/*
 * ssh_hop.c: bastion chains for the libssh2 engine (proxy_jump naming
 * [bastion] sections).  A bastion whose settings list hops connects not
 * with TCP but through a direct-tcpip channel of the hop before it, which
 * is a bastion of its own (its own host key check against its own
 * known_hosts entry, its own login, keepalives and back-off), and which
 * may itself go through the hop before it.
 *
 * The channel reaches libssh2 through a socketpair: one end is the
 * session's socket, exactly as a TCP connection would be, so the adapter
 * (ssh_adapter.c) and everything above it do not know about chains; the
 * other end is pumped to and from the channel (the link) here, with
 * back-pressure both ways and half-close.  The cost is one extra write
 * and read per packet on a path that a developer's session uses, which
 * buys an adapter without a second I/O mode.
 *
 * A hop belongs to the bastion that goes through it (b->hop); a
 * bastion's other connections (ssh_conns.c) share their main
 * connection's hop, so growing adds channels, not logins.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "clock.h"
#include "dial.h"
#include "link.h"
#include "log.h"
#include "ssh_int.h"

/* The pump between the socketpair's far end and the hop's channel. */
struct ssh_hop_pipe {
	struct ssh_bastion	*b;		/* whose session reads fd's peer */
	struct link		*link;		/* the channel through the hop */
	int			 fd;		/* our end of the pair */
	struct event		*rev, *wev;
	struct evbuffer		*up;		/* fd -> channel */
	struct evbuffer		*down;		/* channel -> fd */
	int			 down_eof;	/* the channel sent EOF */
	int			 paused;	/* the channel is paused */
	int			 shut;		/* SHUT_WR done on fd */
};

/* Bytes from the channel kept for the session before pausing it. */
#define SSH_HOP_DOWN_HIGH	(256 * 1024)

static struct ssh_bastion *
ssh_hop_of(struct ssh_bastion *b)
{
	return (b->conns.owner != NULL ? b->conns.owner->hop : b->hop);
}

/*
 * The chain broke under b: fail it from its own drive (never from the
 * link's callback, which must not free the link).
 */
static void
ssh_hop_broken(struct ssh_hop_pipe *p, const char *why)
{
	struct ssh_bastion	*hop = ssh_hop_of(p->b);

	ssh_broken(p->b, "via %s: %s", hop != NULL ? hop->label : "its hop",
	    why);
}

static void
ssh_hop_flush(struct ssh_hop_pipe *p)
{
	if (evbuffer_get_length(p->down) > 0 && evbuffer_write(p->down,
	    p->fd) == -1 && errno != EAGAIN && errno != EINTR) {
		evbuffer_drain(p->down, evbuffer_get_length(p->down));
		return;		/* the session sees it on its own end */
	}
	if (evbuffer_get_length(p->down) > 0) {
		event_add(p->wev, NULL);
		if (!p->paused && evbuffer_get_length(p->down) >=
		    SSH_HOP_DOWN_HIGH) {
			p->paused = 1;
			link_pause(p->link, 1);
		}
		return;
	}
	event_del(p->wev);
	if (p->paused) {
		p->paused = 0;
		link_pause(p->link, 0);
	}
	if (p->down_eof && !p->shut) {
		p->shut = 1;
		shutdown(p->fd, SHUT_WR);	/* the session reads EOF */
	}
}

static void
ssh_hop_data(void *arg, const uint8_t *buf, size_t len)
{
	struct ssh_hop_pipe	*p = arg;

	if (evbuffer_add(p->down, buf, len) == -1) {
		ssh_hop_broken(p, "out of memory");
		return;
	}
	ssh_hop_flush(p);
}

static void
ssh_hop_eof(void *arg)
{
	struct ssh_hop_pipe	*p = arg;

	p->down_eof = 1;
	ssh_hop_flush(p);
}

static void
ssh_hop_error(void *arg, const char *why)
{
	ssh_hop_broken(arg, why);
}

static void
ssh_hop_closed(void *arg)
{
	ssh_hop_eof(arg);	/* the next hop's end closed: as EOF */
}

static void
ssh_hop_writable(void *arg)
{
	struct ssh_hop_pipe	*p = arg;

	event_add(p->rev, NULL);
}

static const struct link_user ssh_hop_user = {
	ssh_hop_data, ssh_hop_eof, ssh_hop_closed, ssh_hop_error,
	ssh_hop_writable, NULL, NULL
};

/* The session wrote: to the channel, until the channel is full. */
static void
ssh_hop_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_hop_pipe	*p = arg;
	int			 n;

	n = evbuffer_read(p->up, fd, SSH_CHUNK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The session ended its side (or the pair broke). */
		event_del(p->rev);
		link_shutdown(p->link);
		return;
	}
	if (link_write(p->link, p->up) == -1) {
		event_del(p->rev);
		return;		/* error() follows from the loop */
	}
	if (link_pending(p->link) >= LINK_HIGH_WATER)
		event_del(p->rev);	/* writable() resumes */
}

static void
ssh_hop_write_cb(evutil_socket_t fd, short what, void *arg)
{
	ssh_hop_flush(arg);
}

static void
ssh_hop_pipe_free(struct ssh_hop_pipe *p)
{
	if (p == NULL)
		return;
	link_close(p->link);
	if (p->rev != NULL)
		event_free(p->rev);
	if (p->wev != NULL)
		event_free(p->wev);
	if (p->up != NULL)
		evbuffer_free(p->up);
	if (p->down != NULL)
		evbuffer_free(p->down);
	if (p->fd != -1)
		close(p->fd);
	free(p);
}

/*
 * b cannot connect because of its hop.  While the hop backs off, b's
 * next attempt waits for the hop's, not for b's own growing delay: b is
 * up again as soon as the hop is.
 */
static void
ssh_hop_fail(struct ssh_bastion *b, const char *why)
{
	struct ssh_bastion	*hop = ssh_hop_of(b);
	struct timeval		 tv;
	long			 ms;

	ssh_fail(b, "via %s: %s", hop->label, why);
	if (b->state != SSH_BACKOFF || hop->state != SSH_BACKOFF)
		return;
	ms = ssh_backoff_left_ms(hop) + 1;
	b->backoff_ms = SSH_BACKOFF_MIN_MS;
	b->retry_at = clock_ms() + ms;
	tv = clock_tv((int)ms);
	evtimer_add(b->timer, &tv);
}

/* The channel through the hop is open (or not): start the session. */
static void
ssh_hop_opened(int status, const char *detail, struct link *link,
    void *arg)
{
	struct ssh_bastion	*b = arg;
	struct event_base	*base = b->pool->base;
	struct ssh_hop_pipe	*p;
	struct timeval		 tv;
	int			 sv[2];

	b->hop_open = NULL;
	if (status != DIAL_OK) {
		ssh_hop_fail(b, detail);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		link_close(link);
		ssh_fail(b, "out of memory");
		return;
	}
	p->b = b;
	p->link = link;
	p->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		b->local_fail = 1;
		ssh_hop_pipe_free(p);
		ssh_fail(b, "socketpair: %s", strerror(errno));
		return;
	}
	p->fd = sv[1];
	p->rev = event_new(base, p->fd, EV_READ | EV_PERSIST, ssh_hop_read_cb,
	    p);
	p->wev = event_new(base, p->fd, EV_WRITE | EV_PERSIST,
	    ssh_hop_write_cb, p);
	p->up = evbuffer_new();
	p->down = evbuffer_new();
	if (p->rev == NULL || p->wev == NULL || p->up == NULL ||
	    p->down == NULL) {
		close(sv[0]);
		ssh_hop_pipe_free(p);
		ssh_fail(b, "out of memory");
		return;
	}
	b->hop_pipe = p;
	link_attach(link, &ssh_hop_user, p);
	link_pause(link, 0);
	event_add(p->rev, NULL);
	log_debug("%s: channel open via %s", b->label, ssh_hop_of(b)->label);
	/* The deadline covered the hop: b's own handshake gets its own. */
	tv = clock_tv(b->set.connect_timeout_ms);
	evtimer_add(b->timer, &tv);
	ssh_transport_up(b, sv[0]);
}

/* b's hop, made from the last of b's hops with the others before it. */
static struct ssh_bastion *
ssh_hop_make(struct ssh_bastion *b)
{
	struct ssh_settings	 set;
	struct ssh_bastion	*hop;
	size_t			 n = b->set.nhops, i;

	if (ssh_settings_copy(&set, &b->set.hops[n - 1]) != 0)
		return (NULL);
	if (n > 1 && (set.hops = calloc(n - 1, sizeof(*set.hops))) != NULL)
		for (i = 0; i < n - 1; i++) {
			if (ssh_settings_copy(&set.hops[i], &b->set.hops[i]) !=
			    0)
				break;
			set.nhops++;
		}
	if (set.nhops != n - 1 || (hop = ssh_bastion_new(b->pool, &set)) ==
	    NULL) {
		ssh_settings_clear(&set);
		return (NULL);
	}
	snprintf(hop->label, sizeof(hop->label), "bastion %s (%s; hop %zu "
	    "of %s)", hop->set.name, hop->via, n, b->set.name);
	return (hop);
}

void
ssh_hop_connect(struct ssh_bastion *b)
{
	struct ssh_bastion	*hop;

	if (b->conns.owner == NULL && b->hop == NULL &&
	    (b->hop = ssh_hop_make(b)) == NULL) {
		ssh_fail(b, "out of memory");
		return;
	}
	hop = ssh_hop_of(b);
	hop->quick = b->quick;
	switch (hop->state) {
	case SSH_IDLE:
		if (hop->refused)
			break;
		ssh_connect(hop);
		if (hop->state == SSH_BACKOFF || hop->state == SSH_IDLE)
			break;
		/* FALLTHROUGH */
	case SSH_CONNECTING:
	case SSH_HANDSHAKE:
	case SSH_AUTH:
	case SSH_READY:
		/* Waits in the hop's queue while the hop connects. */
		b->hop_open = ssh_open_start(hop, SSH_OPEN_DIRECT, b->set.host,
		    b->set.port, ssh_hop_opened, b);
		if (b->hop_open == NULL)
			ssh_fail(b, "out of memory");
		return;
	case SSH_BACKOFF:
		break;
	}
	/* The hop is down: say so now rather than at our deadline. */
	ssh_hop_fail(b, hop->last_error[0] != '\0' ? hop->last_error :
	    "not connected");
}

void
ssh_hop_release(struct ssh_bastion *b)
{
	ssh_open_cancel(b->hop_open);
	b->hop_open = NULL;
	ssh_hop_pipe_free(b->hop_pipe);
	b->hop_pipe = NULL;
}

void
ssh_hop_free(struct ssh_bastion *b)
{
	ssh_hop_release(b);
	if (b->hop != NULL)
		ssh_bastion_free(b->hop);
	b->hop = NULL;
}
