/*
 * ssh_open.c: channel opens and the session_command channel.
 *
 * libssh2 1.10 keeps the state of a channel open in the session
 * (session->open_state, ->direct_state): one open at a time.  Opens wait
 * in a queue for that slot; the keepalive probe and the session channel
 * go first.  An open cancelled while in the slot runs to its end (libssh2
 * cannot abandon it) and its channel is closed at once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/util.h>

#include "clock.h"
#include "dial.h"
#include "log.h"
#include "ssh_int.h"

/* A channel type no server knows: the answer is an open failure. */
#define SSH_PROBE_TYPE		"keepalive@postern"

struct ssh_open *
ssh_open_start(struct ssh_bastion *b, int kind, const char *host,
    unsigned int port, ssh_open_cb *cb, void *arg)
{
	struct ssh_open	*o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return (NULL);
	if (host != NULL && (o->host = strdup(host)) == NULL) {
		free(o);
		return (NULL);
	}
	o->b = b;
	o->kind = kind;
	o->port = port;
	o->cb = cb;
	o->arg = arg;
	o->queued = clock_ms();
	if (kind == SSH_OPEN_DIRECT)
		TAILQ_INSERT_TAIL(&b->opens, o, entry);
	else
		TAILQ_INSERT_HEAD(&b->opens, o, entry);
	/* Never from inside the caller: the open starts from the loop. */
	if (b->state == SSH_READY)
		ssh_kick(b);
	return (o);
}

void
ssh_open_urgent(struct ssh_open *o)
{
	struct ssh_bastion	*b = o->b;
	struct ssh_open		*q;

	if (b == NULL || o == b->opening || o->kind != SSH_OPEN_DIRECT ||
	    o->urgent)
		return;
	o->urgent = 1;
	TAILQ_REMOVE(&b->opens, o, entry);
	TAILQ_FOREACH(q, &b->opens, entry) {
		if (q->kind == SSH_OPEN_DIRECT && !q->urgent)
			break;
	}
	if (q != NULL)
		TAILQ_INSERT_BEFORE(q, o, entry);
	else
		TAILQ_INSERT_TAIL(&b->opens, o, entry);
}

static void
ssh_open_free(struct ssh_open *o)
{
	free(o->host);
	free(o);
}

void
ssh_open_cancel(struct ssh_open *o)
{
	if (o == NULL)
		return;
	if (o->b == NULL) {			/* the pool is gone */
		ssh_open_free(o);
		return;
	}
	if (o == o->b->opening) {
		o->cb = NULL;			/* ssh_open_step frees it */
		return;
	}
	TAILQ_REMOVE(&o->b->opens, o, entry);
	ssh_open_free(o);
}

/* Report a failed open to its owner; frees o. */
static void
ssh_open_report(struct ssh_open *o, int status, const char *detail)
{
	if (o->cb != NULL)
		o->cb(status, detail, NULL, o->arg);
	ssh_open_free(o);
}

void
ssh_open_fail_all(struct ssh_bastion *b, const char *detail)
{
	struct ssh_open	*o;
	int		 status;

	if (detail == NULL) {
		/* Freeing the bastion: a dial still holding o frees it. */
		if ((o = b->opening) != NULL) {
			b->opening = NULL;
			if (o->cb != NULL)
				o->b = NULL;
			else
				ssh_open_free(o);
		}
		while ((o = TAILQ_FIRST(&b->opens)) != NULL) {
			TAILQ_REMOVE(&b->opens, o, entry);
			if (o->cb != NULL)
				o->b = NULL;
			else
				ssh_open_free(o);
		}
		return;
	}
	status = b->local_fail ? DIAL_LOCAL : DIAL_SSH;
	if ((o = b->opening) != NULL) {
		b->opening = NULL;
		ssh_open_report(o, status, detail);
	}
	while ((o = TAILQ_FIRST(&b->opens)) != NULL) {
		TAILQ_REMOVE(&b->opens, o, entry);
		ssh_open_report(o, status, detail);
	}
	b->probing = 0;
}

/*
 * "administratively prohibited" (the bastion's policy, e.g. PermitOpen)
 * and "connect failed" (the target is down) come from the reason code of
 * SSH_MSG_CHANNEL_OPEN_FAILURE, as libssh2 words it.
 */
static void
ssh_open_failed(struct ssh_bastion *b, struct ssh_open *o, int rc)
{
	char		 detail[700], *msg = NULL;
	const char	*why;
	int		 len = 0;

	libssh2_session_last_error(b->sess, &msg, &len, 0);
	if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE && msg != NULL &&
	    strstr(msg, "administratively prohibited") != NULL)
		why = "administratively prohibited (the bastion's policy "
		    "refuses this destination)";
	else if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE && msg != NULL &&
	    strstr(msg, "connect failed") != NULL)
		why = "connect failed (the bastion cannot reach the "
		    "destination)";
	else if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE && msg != NULL &&
	    strstr(msg, "resource shortage") != NULL)
		why = "resource shortage on the bastion";
	else
		why = NULL;
	switch (o->kind) {
	case SSH_OPEN_PROBE:
		b->probing = 0;		/* the answer expected */
		ssh_open_free(o);
		return;
	case SSH_OPEN_SESSION:
		log_warnx("%s: session_command: the bastion refused a session "
		    "channel: %.*s (Nagle stays on at the bastion)", b->label,
		    len, msg != NULL ? msg : "?");
		b->ctl_state = SSH_CTL_NONE;
		ssh_open_free(o);
		return;
	case SSH_OPEN_DIRECT:
		break;
	}
	if (why != NULL)
		snprintf(detail, sizeof(detail), "bastion %s: channel to "
		    "%s:%u: %s", b->set.name, o->host, o->port, why);
	else
		snprintf(detail, sizeof(detail), "bastion %s: channel to "
		    "%s:%u: %.*s", b->set.name, o->host, o->port, len,
		    msg != NULL ? msg : "failed");
	log_debug("%s: %s", b->label, detail);
	ssh_open_report(o, DIAL_SSH, detail);
}

/* The open in the slot succeeded: hand the channel over. */
static void
ssh_open_done(struct ssh_bastion *b, struct ssh_open *o,
    LIBSSH2_CHANNEL *ch)
{
	struct ssh_chan	*c;
	char		 target[300];

	switch (o->kind) {
	case SSH_OPEN_PROBE:		/* a server that accepts anything */
		b->probing = 0;
		ssh_chan_release(b, ch);
		ssh_open_free(o);
		return;
	case SSH_OPEN_SESSION:
		b->ctl = ch;
		b->ctl_state = SSH_CTL_EXEC;
		libssh2_channel_handle_extended_data2(ch,
		    LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE);
		ssh_open_free(o);
		return;
	case SSH_OPEN_DIRECT:
		break;
	}
	if (o->cb == NULL) {			/* cancelled meanwhile */
		ssh_chan_release(b, ch);
		ssh_open_free(o);
		return;
	}
	snprintf(target, sizeof(target), "%s:%u", o->host, o->port);
	/* The timeline of a burst: one open per round trip per connection. */
	log_debug("%s: channel to %s open: %ld ms in the slot, %ld ms since "
	    "asked", b->label, target, (long)clock_since(b->slot_since),
	    (long)clock_since(o->queued));
	if ((c = ssh_chan_new(b, ch, target)) == NULL) {
		ssh_open_report(o, DIAL_ERROR, "out of memory");
		return;
	}
	o->cb(DIAL_OK, b->label, &c->link, o->arg);
	ssh_open_free(o);
}

void
ssh_open_step(struct ssh_bastion *b)
{
	struct ssh_open	*o;
	LIBSSH2_CHANNEL	*ch;
	int		 rc;

	while (b->state == SSH_READY && !b->broken) {
		if (b->opening == NULL) {
			if ((o = TAILQ_FIRST(&b->opens)) == NULL)
				return;
			TAILQ_REMOVE(&b->opens, o, entry);
			b->opening = o;
			b->slot_since = clock_ms();
			b->slot_warned = 0;
			ssh_conns_slot_taken(b);
		}
		o = b->opening;
		switch (o->kind) {
		case SSH_OPEN_DIRECT:
			ch = libssh2_channel_direct_tcpip_ex(b->sess, o->host,
			    (int)o->port, "127.0.0.1", 0);
			break;
		case SSH_OPEN_SESSION:
			ch = libssh2_channel_open_ex(b->sess, "session",
			    sizeof("session") - 1,
			    LIBSSH2_CHANNEL_WINDOW_DEFAULT,
			    LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
			break;
		default:
			ch = libssh2_channel_open_ex(b->sess, SSH_PROBE_TYPE,
			    sizeof(SSH_PROBE_TYPE) - 1, SSH_CHUNK, SSH_CHUNK,
			    NULL, 0);
			break;
		}
		if (ch == NULL) {
			rc = libssh2_session_last_errno(b->sess);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return;
			b->opening = NULL;
			if (ssh_fatal(rc)) {
				ssh_broken(b, "%s", ssh_error(b, "channel open",
				    rc));
				/* ssh_fail reports o with the rest. */
				TAILQ_INSERT_HEAD(&b->opens, o, entry);
				return;
			}
			ssh_open_failed(b, o, rc);
			continue;
		}
		b->opening = NULL;
		ssh_open_done(b, o, ch);
		b->again = 1;	/* exec the session command, pump new data */
	}
}

/* Output of the session command (an error message, usually): log it. */
static void
ssh_ctl_read(struct ssh_bastion *b)
{
	char	*buf = (char *)b->pool->buf, *nl;
	ssize_t	 n;
	int	 status, rc;

	while ((n = libssh2_channel_read(b->ctl, buf, SSH_CHUNK - 1)) > 0) {
		buf[n] = '\0';
		if ((nl = strpbrk(buf, "\r\n")) != NULL)
			*nl = '\0';
		log_info("%s: session_command says: %.200s", b->label,
		    log_clean(buf));
	}
	if (n == LIBSSH2_ERROR_EAGAIN && !libssh2_channel_eof(b->ctl))
		return;
	if (n < 0 && n != LIBSSH2_ERROR_EAGAIN && ssh_fatal((int)n)) {
		ssh_broken(b, "%s", ssh_error(b, "session channel", (int)n));
		return;
	}
	/*
	 * sshd sends the exit status before it closes the channel, but not
	 * always before its EOF: wait for the close, or a 0 would be read
	 * for a status not yet here.
	 */
	if ((rc = libssh2_channel_wait_closed(b->ctl)) == LIBSSH2_ERROR_EAGAIN)
		return;
	if (rc < 0 && ssh_fatal(rc)) {
		ssh_broken(b, "%s", ssh_error(b, "session channel", rc));
		return;
	}
	status = libssh2_channel_get_exit_status(b->ctl);
	/* sshd set TCP_NODELAY when it ran the command; nothing unsets it. */
	log_warnx("%s: session_command '%s' ended (exit status %d)", b->label,
	    b->set.command, status);
	ssh_chan_release(b, b->ctl);
	b->ctl = NULL;
	b->ctl_state = SSH_CTL_NONE;
}

void
ssh_ctl_step(struct ssh_bastion *b)
{
	int	rc;

	switch (b->ctl_state) {
	case SSH_CTL_EXEC:
		rc = libssh2_channel_exec(b->ctl, b->set.command);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return;
		if (rc != 0) {
			if (ssh_fatal(rc)) {
				ssh_broken(b, "%s", ssh_error(b,
				    "session_command", rc));
				return;
			}
			log_warnx("%s: session_command '%s': %s (Nagle stays "
			    "on at the bastion)", b->label, b->set.command,
			    ssh_error(b, "refused", rc));
			ssh_chan_release(b, b->ctl);
			b->ctl = NULL;
			b->ctl_state = SSH_CTL_NONE;
			return;
		}
		b->ctl_state = SSH_CTL_RUNNING;
		log_info("%s: session_command '%s' running", b->label,
		    b->set.command);
		/* FALLTHROUGH */
	case SSH_CTL_RUNNING:
		ssh_ctl_read(b);
		return;
	case SSH_CTL_NONE:
	case SSH_CTL_OPENING:	/* ssh_open_done() moves it on */
		return;
	}
}
