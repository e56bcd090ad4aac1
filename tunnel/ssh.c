/*
 * ssh.c: a bastion connection and its supervision: connect (resolve,
 * TCP, handshake, host key, authentication), the drive, the keepalive
 * counter, loss and reconnect with jittered exponential back-off.  The
 * state machine is drawn in DESIGN.md, "SSH tunnel".  The pool that
 * follows configuration generations is in ssh_pool.c.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>

#include "addr.h"
#include "clock.h"
#include "conf.h"
#include "dial.h"
#include "log.h"
#include "ssh_int.h"
#include "tcp_connect.h"


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
	char	why[sizeof(b->last_error)];

	if (b->broken)
		return;		/* the first cause is the one */
	/* Through a copy: callers pass ssh_error()'s b->last_error. */
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	memcpy(b->last_error, why, sizeof(why));
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
	tcp_connect_cancel(b->tcp);
	b->tcp = NULL;
	ssh_hop_release(b);
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
	b->state = b->retired || b->conns.grown ? SSH_IDLE : SSH_BACKOFF;
	snprintf(b->last_error, sizeof(b->last_error), "%s", why);
	snprintf(detail, sizeof(detail), "bastion %s: %s: %s", b->set.name,
	    was == SSH_READY ? "connection lost" : "cannot connect", why);
	/* The bastion's other connections take the opens they can. */
	ssh_conns_lost(b);
	/* Dials arriving from these callbacks see the new state. */
	if (b->set.openssh)
		ssh_mux_stop(b, detail);
	ssh_open_fail_all(b, detail);
	ssh_adapter_stop(b, 0);
	b->ctl_state = SSH_CTL_NONE;
	b->probing = b->missed = b->broken = b->io.rx_eof = b->io.io_error = 0;
	if (b->state == SSH_IDLE) {	/* retired, or grown: not again */
		log_info("%s: closed: %s", b->label, why);
		event_active(b->pool->reap, EV_TIMEOUT, 0);
		return;
	}
	if (b->refused || (b->permanent && b->quick && !b->ever_up)) {
		/*
		 * "no" at the host key question, or in quick mode an error
		 * that no retry mends before the tunnel ever worked (ssh
		 * exits 255): no retry, postern stops.  A daemon retries: its
		 * operator fixes the cause and reloads.
		 */
		b->state = SSH_IDLE;
		log_error("%s: cannot connect: %s%s%s%s%s", b->label, why,
		    b->hint[0] != '\0' ? " (" : "", b->hint,
		    b->hint[0] != '\0' ? ")" : "", b->refused ? "" :
		    "; not retrying: this error does not go away by itself");
		if (b->pool->refused_cb != NULL)
			b->pool->refused_cb(b->pool->refused_arg,
			    b->refused ? 1 : 255);
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
	b->ka_rx = b->io.rx_bytes;
	tv = clock_tv(b->set.keepalive_ms);
	evtimer_add(b->ka_timer, &tv);
	if (b->set.command != NULL && ssh_open_start(b, SSH_OPEN_SESSION,
	    NULL, 0, NULL, NULL) != NULL)
		b->ctl_state = SSH_CTL_OPENING;
	ssh_conns_ready(b);
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
	if (b->set.openssh) {
		ssh_mux_keepalive(b);	/* the master must answer */
		return;
	}
	if (b->io.rx_bytes != b->ka_rx) {
		b->ka_rx = b->io.rx_bytes;
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
	if (b->set.openssh && b->mux.errline[0] != '\0') {
		/* What ssh said last is the likelier cause. */
		ssh_fail(b, "timeout after %d ms connecting (ssh: %.300s)",
		    b->set.connect_timeout_ms, b->mux.errline);
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

	if (b->io.rx_eof)
		ssh_fail(b, "the bastion closed the connection%s%s",
		    b->state == SSH_READY ? "" : " ", b->state == SSH_READY ?
		    "" : ssh_phase(b->state));
	else if (b->io.io_error)
		ssh_fail(b, "%s", strerror(b->io.io_error));
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

	rc = libssh2_session_handshake(b->sess, b->io.fd);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return;
	if (rc != 0) {
		ssh_broken(b, "%s", ssh_algs_explain(b, "SSH handshake failed",
		    rc));
		return;
	}
	ssh_algs_hello_end(b);
	if (ssh_hostkey_verify(b) != 0) {
		b->broken = 1;		/* last_error says why */
		b->permanent = 1;
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
		/* A hung agent may answer next time; a refused key will not. */
		b->permanent = !b->auth.agent_timeout;
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
		case SSH_IDLE:		/* ssh_connected_state() said no */
		case SSH_CONNECTING:
		case SSH_BACKOFF:
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

/* TCP is up (or failed, classified as a route's connect is). */
static void
ssh_tcp_done(int fd, int status, const char *detail, void *arg)
{
	struct ssh_bastion	*b = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			 local[ADDR_STRLEN];

	if (status == DIAL_RESOLVE) {
		/*
		 * A name the DNS says does not exist (ssh exits 255 on it) is
		 * permanent; a resolver that did not answer may next time.
		 */
		b->permanent = tcp_connect_no_such_name(b->tcp);
		b->tcp = NULL;		/* freed when this returns */
		ssh_fail(b, "%s", detail);
		return;
	}
	b->tcp = NULL;		/* freed when this returns */
	if (status != DIAL_OK) {
		/* postern's own limit: its opens fail as DIAL_LOCAL. */
		b->local_fail = status == DIAL_LOCAL;
		ssh_fail(b, "TCP connect to %s:%u: %s", b->set.host,
		    b->set.port, detail);
		return;
	}
	if (log_level() >= LOG_LEVEL_DEBUG && getsockname(fd,
	    (struct sockaddr *)&ss, &sslen) == 0)
		log_debug("%s: TCP connected from %s", b->label,
		    addr_from_sockaddr((struct sockaddr *)&ss, sslen, local,
		    sizeof(local)));
	ssh_transport_up(b, fd);
}

void
ssh_transport_up(struct ssh_bastion *b, int fd)
{
	b->io.fd = fd;
	b->state = SSH_HANDSHAKE;
	if (ssh_adapter_start(b) != 0) {
		ssh_broken(b, "%s", b->last_error);
		ssh_check(b);
		return;
	}
	ssh_drive(b);
}

void
ssh_connect(struct ssh_bastion *b)
{
	struct timeval	tv;

	b->state = SSH_CONNECTING;
	b->broken = b->io.io_error = b->io.rx_eof = b->local_fail =
	    b->permanent = 0;
	b->hint[0] = '\0';
	b->attempt_start = clock_ms();
	tv = clock_tv(b->set.connect_timeout_ms);
	if (!b->set.openssh || !ssh_mux_asks(b))
		evtimer_add(b->timer, &tv);
	if (b->set.openssh) {
		ssh_mux_connect(b);	/* ssh(1) connects */
		return;
	}
	if (b->set.nhops > 0) {
		ssh_hop_connect(b);	/* through a channel of the hop */
		return;
	}
	b->tcp = tcp_connect_start(b->pool->base, b->pool->dns, NULL,
	    b->set.host, b->set.port, ssh_tcp_done, b);
	if (b->tcp == NULL)
		ssh_fail(b, "out of memory");
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
	b->io.fd = -1;
	b->backoff_ms = SSH_BACKOFF_MIN_MS;
	TAILQ_INIT(&b->opens);
	TAILQ_INIT(&b->chans);
	TAILQ_INIT(&b->closing);
	ssh_mux_init(b);
	v6 = strchr(set->host, ':') != NULL;
	snprintf(b->via, sizeof(b->via), "%s@%s%s%s:%u", set->user,
	    v6 ? "[" : "", set->host, v6 ? "]" : "", set->port);
	if (set->destination != NULL)	/* ssh resolves it: as typed */
		snprintf(b->via, sizeof(b->via), "%.150s%s%.200s",
		    set->proxy_jump != NULL ? set->proxy_jump : "",
		    set->proxy_jump != NULL ? "," : "", set->destination);
	snprintf(b->label, sizeof(b->label), "bastion %s (%s)", set->name,
	    b->via);
	b->timer = evtimer_new(pool->base, ssh_timer_cb, b);
	b->ka_timer = event_new(pool->base, -1, EV_PERSIST, ssh_ka_cb, b);
	b->kick = event_new(pool->base, -1, 0, ssh_kick_cb, b);
	b->io.out = evbuffer_new();
	if (b->timer == NULL || b->ka_timer == NULL || b->kick == NULL ||
	    b->io.out == NULL || ssh_conns_init(b) != 0) {
		if (b->conns.timer != NULL)
			event_free(b->conns.timer);
		if (b->timer != NULL)
			event_free(b->timer);
		if (b->ka_timer != NULL)
			event_free(b->ka_timer);
		if (b->kick != NULL)
			event_free(b->kick);
		if (b->io.out != NULL)
			evbuffer_free(b->io.out);
		free(b);
		return (NULL);
	}
	return (b);
}

void
ssh_bastion_free(struct ssh_bastion *b)
{
	ssh_conns_free(b);
	ssh_mux_free(b);
	ssh_open_fail_all(b, NULL);	/* none should be left */
	ssh_release_tcp(b);
	ssh_adapter_stop(b, 1);
	ssh_hop_free(b);	/* after b's channel through it */
	event_free(b->timer);
	event_free(b->ka_timer);
	event_free(b->kick);
	evbuffer_free(b->io.out);
	ssh_forwards_clear(b);
	ssh_settings_clear(&b->set);
	free(b);
}
