/*
 * ssh.c: a bastion connection and its supervision: connect (resolve,
 * TCP, handshake, host key, authentication), the drive, the keepalive
 * counter, loss and reconnect with jittered exponential back-off.  The
 * state machine is drawn in DESIGN.md, "SSH tunnel".  The pool that
 * follows configuration generations is in ssh_pool.c.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "sockopt.h"
#include "ssh_int.h"

static void	ssh_connect_next(struct ssh_bastion *);

/* ------------------------------------------------------------------ */
/* Errors. */

int
ssh_fatal(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_EAGAIN:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED:
	case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_CHANNEL_OUTOFORDER:
	case LIBSSH2_ERROR_BAD_USE:
		return (0);
	}
	return (1);
}

const char *
ssh_error(struct ssh_bastion *b, const char *what, int rc)
{
	char	*msg = NULL;
	int	 len = 0;

	if (b->sess != NULL)
		libssh2_session_last_error(b->sess, &msg, &len, 0);
	if (msg != NULL && len > 0)
		snprintf(b->last_error, sizeof(b->last_error), "%s: %.*s",
		    what, len, msg);
	else
		snprintf(b->last_error, sizeof(b->last_error), "%s: libssh2 "
		    "error %d", what, rc);
	return (b->last_error);
}

void
ssh_broken(struct ssh_bastion *b, const char *fmt, ...)
{
	va_list	ap;

	if (b->broken)
		return;		/* the first cause is the one */
	va_start(ap, fmt);
	vsnprintf(b->last_error, sizeof(b->last_error), fmt, ap);
	va_end(ap);
	b->broken = 1;
	if (!b->running)
		ssh_kick(b);
}

/* ------------------------------------------------------------------ */
/* Loss, back-off, reconnect. */

long
ssh_backoff_left_ms(const struct ssh_bastion *b)
{
	long	ms = (long)-clock_since(b->retry_at);

	return (ms > 0 ? ms : 0);
}

/* The next delay: backoff_ms +-20%, then double it up to the maximum. */
static int
ssh_backoff_next(struct ssh_bastion *b)
{
	int	ms = b->backoff_ms, jitter = ms / 5;

	ms += (int)arc4random_uniform((uint32_t)(2 * jitter + 1)) - jitter;
	b->backoff_ms = b->backoff_ms * 2 > SSH_BACKOFF_MAX_MS ?
	    SSH_BACKOFF_MAX_MS : b->backoff_ms * 2;
	return (ms);
}

static void
ssh_release_tcp(struct ssh_bastion *b)
{
	if (b->dns_req != NULL) {
		evdns_getaddrinfo_cancel(b->dns_req);
		b->dns_req = NULL;
	}
	if (b->ai != NULL) {
		evutil_freeaddrinfo(b->ai);
		b->ai = b->ai_next = NULL;
	}
	if (b->cev != NULL) {
		event_free(b->cev);
		b->cev = NULL;
	}
}

void
ssh_fail(struct ssh_bastion *b, const char *fmt, ...)
{
	char		 why[1024], detail[1200];
	va_list		 ap;
	int		 was = b->state, ms;
	unsigned int	 n = b->nchans;
	struct timeval	 tv;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	evtimer_del(b->timer);
	evtimer_del(b->ka_timer);
	ssh_release_tcp(b);
	b->state = b->retired ? SSH_IDLE : SSH_BACKOFF;
	snprintf(b->last_error, sizeof(b->last_error), "%s", why);
	snprintf(detail, sizeof(detail), "bastion %s: %s: %s", b->set.name,
	    was == SSH_READY ? "connection lost" : "cannot connect", why);
	/* Dials arriving from these callbacks see the new state. */
	ssh_open_fail_all(b, detail);
	ssh_adapter_stop(b, 0);
	b->ctl_state = SSH_CTL_NONE;
	b->probing = b->missed = b->broken = b->rx_eof = b->io_error = 0;
	if (b->retired) {
		log_info("%s: closed: %s", b->label, why);
		event_active(b->pool->reap, EV_TIMEOUT, 0);
		return;
	}
	if (b->refused) {
		/* "no" at the host key question: no retry, postern stops. */
		b->state = SSH_IDLE;
		log_error("%s: cannot connect: %s", b->label, why);
		if (b->pool->refused_cb != NULL)
			b->pool->refused_cb(b->pool->refused_arg);
		return;
	}
	ms = ssh_backoff_next(b);
	b->retry_at = clock_ms() + ms;
	tv = clock_tv(ms);
	evtimer_add(b->timer, &tv);
	if (was == SSH_READY) {
		b->losses++;
		/* One line per loss. */
		b->down_since = clock_ms();
		b->attempts = 1;
		log_warnx("%s: connection lost: %s; %u channel%s closed; "
		    "reconnecting in %d.%01ds", b->label, why, n,
		    n == 1 ? "" : "s", ms / 1000, ms % 1000 / 100);
	} else if (b->attempts++ == 0 || strcmp(why, b->logged_error) != 0) {
		if (!b->ever_up && b->attempts == 1)
			b->down_since = clock_ms();
		log_error("%s: cannot connect: %s%s%s%s; retrying in %d.%01ds",
		    b->label, why, b->hint[0] != '\0' ? " (" : "", b->hint,
		    b->hint[0] != '\0' ? ")" : "", ms / 1000, ms % 1000 / 100);
	} else
		log_debug("%s: cannot connect (attempt %d): %s; retrying in "
		    "%d.%01ds", b->label, b->attempts, why, ms / 1000,
		    ms % 1000 / 100);
	snprintf(b->logged_error, sizeof(b->logged_error), "%s", why);
}

/* Connected and authenticated. */
static void
ssh_ready(struct ssh_bastion *b)
{
	struct timeval	 tv;
	long		 ms;
	size_t		 i;
	const char	*cipher, *mac;

	evtimer_del(b->timer);
	b->state = SSH_READY;
	cipher = libssh2_session_methods(b->sess, LIBSSH2_METHOD_CRYPT_CS);
	mac = libssh2_session_methods(b->sess, LIBSSH2_METHOD_MAC_CS);
	if (!b->ever_up) {
		log_info("%s: connected in %ld ms (host key %s; %s, %s)",
		    b->label, (long)clock_since(b->attempt_start), b->hostkey,
		    cipher != NULL ? cipher : "?", mac != NULL ? mac : "?");
		for (i = 0; i < b->nforwards; i++)
			log_status("forwarding %s via %s (host key %s)",
			    b->forwards[i], b->via, b->fingerprint);
	} else {
		/* One line per recovery. */
		ms = (long)clock_since(b->down_since);
		log_status("%s: connected again after %ld.%03lds (host key %s)",
		    b->label, ms / 1000, ms % 1000, b->hostkey);
	}
	b->ever_up = 1;
	b->attempts = 0;
	b->logged_error[0] = '\0';
	b->backoff_ms = SSH_BACKOFF_MIN_MS;
	b->missed = 0;
	b->ka_rx = b->rx_bytes;
	tv = clock_tv(b->set.keepalive_ms);
	evtimer_add(b->ka_timer, &tv);
	if (b->set.command != NULL && ssh_open_start(b, SSH_OPEN_SESSION,
	    NULL, 0, NULL, NULL) != NULL)
		b->ctl_state = SSH_CTL_OPENING;
	if (b->owner != NULL)
		ssh_spare_ready(b);
	b->again = 1;
}

/*
 * Keepalive tick.  libssh2 sends keepalives but does not count replies,
 * so we count bytes: any byte from the bastion since the last tick proves
 * it alive.  A tick without one sends a request that must be answered:
 * a channel open of an unknown type (the server replies
 * SSH_MSG_CHANNEL_OPEN_FAILURE, which libssh2 consumes), or, while a real
 * open holds libssh2's one open slot, a keepalive@libssh2.org global
 * request.  keepalive_count ticks in a row without a byte: dead.
 */
static void
ssh_ka_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_bastion	*b = arg;
	int			 next, ms;

	if (b->state != SSH_READY)
		return;
	if (b->rx_bytes != b->ka_rx) {
		b->ka_rx = b->rx_bytes;
		b->missed = 0;
		return;
	}
	if (++b->missed >= b->set.keepalive_count) {
		ms = b->set.keepalive_ms * b->missed;
		ssh_fail(b, "no answer to %d keepalives in %d.%03ds", b->missed,
		    ms / 1000, ms % 1000);
		return;
	}
	if (b->opening == NULL && !b->probing) {
		if (ssh_open_start(b, SSH_OPEN_PROBE, NULL, 0, NULL, NULL) !=
		    NULL)
			b->probing = 1;
	} else if (b->opening != NULL)
		libssh2_keepalive_send(b->sess, &next);
	ssh_adapter_arm(b);
	log_debug("%s: keepalive: nothing heard for %d interval%s", b->label,
	    b->missed, b->missed == 1 ? "" : "s");
}

static const char *
ssh_phase(int state)
{
	switch (state) {
	case SSH_RESOLVING:
		return ("resolving the address");
	case SSH_CONNECTING:
		return ("connecting");
	case SSH_HANDSHAKE:
		return ("in the SSH handshake");
	case SSH_AUTH:
		return ("authenticating");
	}
	return ("?");
}

static void
ssh_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_bastion	*b = arg;

	if (b->state == SSH_BACKOFF) {
		ssh_connect(b);
		return;
	}
	ssh_fail(b, "timeout after %d ms %s", b->set.connect_timeout_ms,
	    ssh_phase(b->state));
}

/* ------------------------------------------------------------------ */
/* The drive: run the session as far as it goes. */

static int
ssh_check(struct ssh_bastion *b)
{
	char	why[1024];

	if (b->rx_eof)
		ssh_fail(b, "the bastion closed the connection%s%s",
		    b->state == SSH_READY ? "" : " ", b->state == SSH_READY ?
		    "" : ssh_phase(b->state));
	else if (b->io_error)
		ssh_fail(b, "%s", strerror(b->io_error));
	else if (b->broken) {
		snprintf(why, sizeof(why), "%s", b->last_error);
		ssh_fail(b, "%s", why);
	} else
		return (0);
	return (1);
}

static void
ssh_handshake_step(struct ssh_bastion *b)
{
	struct timeval	tv;
	int		rc;

	rc = libssh2_session_handshake(b->sess, b->fd);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return;
	if (rc != 0) {
		ssh_broken(b, "%s", ssh_error(b, "SSH handshake failed", rc));
		return;
	}
	if (ssh_hostkey_verify(b) != 0) {
		b->broken = 1;		/* last_error says why */
		return;
	}
	if (b->set.ask) {
		/* The user may have taken a while to answer: a new deadline. */
		tv = clock_tv(b->set.connect_timeout_ms);
		evtimer_add(b->timer, &tv);
	}
	b->state = SSH_AUTH;
	b->again = 1;
}

static void
ssh_auth_progress(struct ssh_bastion *b)
{
	switch (ssh_auth_step(b)) {
	case 1:
		ssh_ready(b);
		break;
	case -1:
		b->broken = 1;		/* last_error says why */
		break;
	}
}

static int
ssh_connected_state(int state)
{
	return (state == SSH_HANDSHAKE || state == SSH_AUTH ||
	    state == SSH_READY);
}

void
ssh_drive(struct ssh_bastion *b)
{
	if (b->running) {
		b->again = 1;
		return;
	}
	if (!ssh_connected_state(b->state))
		return;
	b->running = 1;
	do {
		b->again = 0;
		if (ssh_check(b))
			break;
		switch (b->state) {
		case SSH_HANDSHAKE:
			ssh_handshake_step(b);
			break;
		case SSH_AUTH:
			ssh_auth_progress(b);
			break;
		case SSH_READY:
			ssh_ctl_step(b);
			if (!b->broken)
				ssh_open_step(b);
			if (!b->broken)
				ssh_chan_step_all(b);
			break;
		}
		if (ssh_check(b))
			break;
	} while (b->again);
	b->running = 0;
	if (ssh_connected_state(b->state))
		ssh_adapter_arm(b);
}

static void
ssh_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	ssh_drive(arg);
}

void
ssh_kick(struct ssh_bastion *b)
{
	event_active(b->kick, EV_TIMEOUT, 0);
}

void
ssh_drive_soon(struct ssh_bastion *b)
{
	if (b->running)
		b->again = 1;
	else
		ssh_kick(b);
}

/* ------------------------------------------------------------------ */
/* Connecting: resolve, TCP, then the adapter takes over. */

static void
ssh_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_bastion	*b = arg;
	int			 err = 0;
	socklen_t		 len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		close(b->fd);
		b->fd = -1;
		event_free(b->cev);
		b->cev = NULL;
		snprintf(b->last_error, sizeof(b->last_error), "%s",
		    strerror(err));
		ssh_connect_next(b);
		return;
	}
	ssh_release_tcp(b);
	/* Without TCP_NODELAY libssh2's small packets wait for ACKs. */
	sockopt_tcp(b->fd);
	b->state = SSH_HANDSHAKE;
	if (ssh_adapter_start(b) != 0) {
		ssh_broken(b, "%s", b->last_error);
		ssh_check(b);
		return;
	}
	ssh_drive(b);
}

static void
ssh_connect_next(struct ssh_bastion *b)
{
	struct evutil_addrinfo	*ai;
	int			 fd;

	while ((ai = b->ai_next) != NULL) {
		b->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			snprintf(b->last_error, sizeof(b->last_error), "%s",
			    strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			b->fd = fd;
			b->state = SSH_CONNECTING;
			b->cev = event_new(b->pool->base, fd, EV_WRITE,
			    ssh_connected_cb, b);
			if (b->cev != NULL && event_add(b->cev, NULL) == 0)
				return;
			snprintf(b->last_error, sizeof(b->last_error),
			    "out of memory");
		} else
			snprintf(b->last_error, sizeof(b->last_error), "%s",
			    strerror(errno));
		close(fd);
		b->fd = -1;
	}
	{
		char	why[1024];

		snprintf(why, sizeof(why), "%s", b->last_error);
		ssh_fail(b, "TCP connect to %s:%u: %s", b->set.host,
		    b->set.port, why);
	}
}

static void
ssh_resolved_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct ssh_bastion	*b = arg;

	b->dns_req = NULL;
	if (result == EVUTIL_EAI_CANCEL)
		return;
	if (result != 0) {
		ssh_fail(b, "cannot resolve %s: %s", b->set.host,
		    evutil_gai_strerror(result));
		return;
	}
	b->ai = b->ai_next = ai;
	ssh_connect_next(b);
}

void
ssh_connect(struct ssh_bastion *b)
{
	struct evutil_addrinfo	 hints;
	struct timeval		 tv;
	char			 port[8];
	unsigned char		 raw[16];
	int			 literal;

	b->state = SSH_RESOLVING;
	b->broken = b->io_error = b->rx_eof = 0;
	b->hint[0] = '\0';
	b->attempt_start = clock_ms();
	tv = clock_tv(b->set.connect_timeout_ms);
	evtimer_add(b->timer, &tv);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(port, sizeof(port), "%u", b->set.port);
	literal = inet_pton(AF_INET, b->set.host, raw) == 1 ||
	    inet_pton(AF_INET6, b->set.host, raw) == 1;
	if (literal || b->pool->dns == NULL) {
		hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
		if (evutil_getaddrinfo(b->set.host, port, &hints, &b->ai) !=
		    0) {
			ssh_fail(b, "cannot resolve %s (no resolver)",
			    b->set.host);
			return;
		}
		b->ai_next = b->ai;
		ssh_connect_next(b);
		return;
	}
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	/* May call back at once: then the request is NULL. */
	b->dns_req = evdns_getaddrinfo(b->pool->dns, b->set.host, port,
	    &hints, ssh_resolved_cb, b);
}

/* ------------------------------------------------------------------ */
/* Bastion objects. */

struct ssh_bastion *
ssh_bastion_new(struct ssh_pool *pool, struct ssh_settings *set)
{
	struct ssh_bastion	*b;
	int			 v6;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	b->pool = pool;
	b->set = *set;		/* taken */
	b->fd = -1;
	b->backoff_ms = SSH_BACKOFF_MIN_MS;
	TAILQ_INIT(&b->opens);
	TAILQ_INIT(&b->chans);
	TAILQ_INIT(&b->closing);
	v6 = strchr(set->host, ':') != NULL;
	snprintf(b->via, sizeof(b->via), "%s@%s%s%s:%u", set->user,
	    v6 ? "[" : "", set->host, v6 ? "]" : "", set->port);
	snprintf(b->label, sizeof(b->label), "bastion %s (%s)", set->name,
	    b->via);
	b->timer = evtimer_new(pool->base, ssh_timer_cb, b);
	b->ka_timer = event_new(pool->base, -1, EV_PERSIST, ssh_ka_cb, b);
	b->kick = event_new(pool->base, -1, 0, ssh_kick_cb, b);
	b->out = evbuffer_new();
	if (b->timer == NULL || b->ka_timer == NULL || b->kick == NULL ||
	    b->out == NULL || ssh_spare_init(b) != 0) {
		if (b->slot_timer != NULL)
			event_free(b->slot_timer);
		if (b->timer != NULL)
			event_free(b->timer);
		if (b->ka_timer != NULL)
			event_free(b->ka_timer);
		if (b->kick != NULL)
			event_free(b->kick);
		if (b->out != NULL)
			evbuffer_free(b->out);
		free(b);
		return (NULL);
	}
	return (b);
}

void
ssh_bastion_free(struct ssh_bastion *b)
{
	ssh_spare_free(b);
	ssh_open_fail_all(b, NULL);	/* none should be left */
	ssh_release_tcp(b);
	ssh_adapter_stop(b, 1);
	event_free(b->timer);
	event_free(b->ka_timer);
	event_free(b->kick);
	evbuffer_free(b->out);
	ssh_forwards_clear(b);
	ssh_settings_clear(&b->set);
	free(b);
}
