/*
 * ssh_spare.c: a second connection to a bastion while its open slot is
 * stuck.
 *
 * libssh2 1.10 opens one channel at a time per connection (ssh_open.c).
 * An open the bastion does not answer, typically because the target
 * drops SYNs (a cloud security group), holds that slot until sshd's own
 * connect gives up, about two minutes on Linux, and every open behind
 * it waits: one dark target would stall every route through the
 * bastion.  So:
 *
 * - once the open in the slot has had no answer for SSH_SLOT_STUCK_MS
 *   while others wait, the bastion opens a spare connection (same
 *   settings, its own authentication and host key check) and moves the
 *   waiting opens there; new dials go there while the slot stays stuck;
 * - an open to the very target that is stuck fails at once instead of
 *   queueing (on either connection): a route's checks would otherwise
 *   block the spare's slot too, one every check interval;
 * - the spare closes once it carries nothing and the main slot is free;
 *   it never reconnects (a failure fails its opens, which fail over) and
 *   never has a spare of its own.
 *
 * The spare is owned by its bastion (not in the pool's lists) and freed
 * from the bastion's slot timer or with the bastion.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "ssh_int.h"

/* Is b's slot held by a direct-tcpip open with no answer for a while? */
static int
ssh_spare_stuck(const struct ssh_bastion *b)
{
	return (b != NULL && b->state == SSH_READY && b->opening != NULL &&
	    b->opening->kind == SSH_OPEN_DIRECT &&
	    (long)clock_since(b->slot_since) >= SSH_SLOT_STUCK_MS);
}

/* Does b's stuck slot hold an open to host:port? */
static int
ssh_spare_stuck_on(const struct ssh_bastion *b, const char *host,
    unsigned int port)
{
	return (ssh_spare_stuck(b) && b->opening->port == port &&
	    b->opening->host != NULL && strcmp(b->opening->host, host) == 0);
}

static int
ssh_spare_idle(const struct ssh_bastion *s)
{
	return (s->nchans == 0 && s->opening == NULL &&
	    TAILQ_EMPTY(&s->opens) && TAILQ_EMPTY(&s->closing));
}

static int
ssh_spare_waiting(const struct ssh_bastion *b)
{
	const struct ssh_open	*o;

	TAILQ_FOREACH(o, &b->opens, entry) {
		if (o->kind == SSH_OPEN_DIRECT && o->cb != NULL)
			return (1);
	}
	return (0);
}

static void
ssh_spare_start(struct ssh_bastion *b)
{
	struct ssh_settings	 set;
	struct ssh_bastion	*s;
	long			 ms = (long)clock_since(b->slot_since);

	if (ssh_settings_copy(&set, &b->set) != 0)
		return;
	if ((s = ssh_bastion_new(b->pool, &set)) == NULL) {
		ssh_settings_clear(&set);
		return;
	}
	s->spare.owner = b;
	s->retired = 1;			/* no reconnecting: see above */
	snprintf(s->label, sizeof(s->label), "%.570s [second connection]",
	    b->label);
	b->spare.conn = s;
	log_warnx("%s: the channel open to %s:%u has had no answer for "
	    "%ld.%01lds; opening a second connection for the opens behind it "
	    "(libssh2 opens one channel at a time)", b->label,
	    b->opening->host, b->opening->port, ms / 1000, ms % 1000 / 100);
	b->slot_warned = 1;
	ssh_connect(s);
}

static void
ssh_spare_tick(struct ssh_bastion *b)
{
	struct timeval	 tv = clock_tv(SSH_SLOT_STUCK_MS);
	struct ssh_bastion *s = b->spare.conn;

	if (s != NULL && (s->state == SSH_IDLE || s->state == SSH_BACKOFF ||
	    (s->state == SSH_READY && ssh_spare_idle(s) &&
	    !ssh_spare_stuck(b)))) {
		if (s->state == SSH_READY)
			log_info("%s: not needed any more: closing it",
			    s->label);
		b->spare.conn = NULL;
		ssh_bastion_free(s);
		s = NULL;
	}
	if (s == NULL && ssh_spare_stuck(b) && ssh_spare_waiting(b) &&
	    !b->retired && b->spare.owner == NULL)
		ssh_spare_start(b);
	/* Look again while the slot is busy or a spare lives. */
	if (b->opening != NULL || b->spare.conn != NULL)
		evtimer_add(b->spare.timer, &tv);
}

static void
ssh_spare_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	ssh_spare_tick(arg);
}

int
ssh_spare_init(struct ssh_bastion *b)
{
	b->spare.timer = evtimer_new(b->pool->base, ssh_spare_timer_cb, b);
	return (b->spare.timer == NULL ? -1 : 0);
}

void
ssh_spare_slot_taken(struct ssh_bastion *b)
{
	struct timeval	tv = clock_tv(SSH_SLOT_STUCK_MS);

	if (b->spare.owner == NULL && !evtimer_pending(b->spare.timer, NULL))
		evtimer_add(b->spare.timer, &tv);
}

struct ssh_bastion *
ssh_spare_pick(struct ssh_bastion *b, const char *host, unsigned int port,
    char *why, size_t len)
{
	struct ssh_bastion	*s = b->spare.conn, *stuck = NULL;
	long			 ms;

	if (ssh_spare_stuck_on(b, host, port))
		stuck = b;
	else if (s != NULL && ssh_spare_stuck_on(s, host, port))
		stuck = s;
	if (stuck != NULL) {
		ms = (long)clock_since(stuck->slot_since);
		snprintf(why, len, "bastion %s: an open to %s:%u has had no "
		    "answer for %ld.%01lds (the bastion cannot reach it?); not "
		    "queueing another", b->set.name, host, port, ms / 1000,
		    ms % 1000 / 100);
		return (NULL);
	}
	if (ssh_spare_stuck(b) && s != NULL && s->state != SSH_IDLE &&
	    s->state != SSH_BACKOFF && !ssh_spare_stuck(s))
		return (s);
	return (b);
}

void
ssh_spare_ready(struct ssh_bastion *s)
{
	struct ssh_bastion	*b = s->spare.owner;
	struct ssh_open		*o, *next;
	unsigned int		 n = 0;

	for (o = TAILQ_FIRST(&b->opens); o != NULL; o = next) {
		next = TAILQ_NEXT(o, entry);
		/* Not those for the stuck target: they would stick here. */
		if (o->kind != SSH_OPEN_DIRECT || (b->opening != NULL &&
		    b->opening->port == o->port && b->opening->host != NULL &&
		    o->host != NULL && strcmp(b->opening->host, o->host) == 0))
			continue;
		TAILQ_REMOVE(&b->opens, o, entry);
		TAILQ_INSERT_TAIL(&s->opens, o, entry);
		o->b = s;
		n++;
	}
	log_info("%s: took over %u waiting open%s", s->label, n,
	    n == 1 ? "" : "s");
}

void
ssh_spare_free(struct ssh_bastion *b)
{
	if (b->spare.conn != NULL) {
		ssh_bastion_free(b->spare.conn);
		b->spare.conn = NULL;
	}
	if (b->spare.timer != NULL)
		event_free(b->spare.timer);
	b->spare.timer = NULL;
}
