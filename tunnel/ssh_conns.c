/*
 * ssh_conns.c: the connections of one bastion.
 *
 * libssh2 1.10 opens one channel at a time per connection (ssh_open.c),
 * one round trip each.  So a bastion may run several SSH connections,
 * each a struct ssh_bastion of its own (own socket, session, host key
 * check, authentication, keepalive and back-off), owned by the bastion
 * the pool holds (the main one, conns.conn[] its extras):
 *
 * - `connections` of them are fixed: opened with the main one, each
 *   reconnecting on its own after a loss; a lost one fails its channels
 *   and hands its waiting opens to the others;
 * - up to `max_connections` in all, more are grown: while every ready
 *   connection has SSH_GROW_QUEUE opens or more in flight (a burst of new
 *   sessions), or while a slot is stuck on an open the bastion does not
 *   answer (a target that drops SYNs holds it until sshd's own connect
 *   gives up, about two minutes on Linux).  A grown connection never
 *   reconnects and closes once it has carried nothing for
 *   SSH_GROWN_LINGER_MS and no slot is stuck.
 *
 * A new open goes to the ready connection with the fewest opens in
 * flight, then the fewest channels; one that becomes ready takes waiting
 * opens from the busier ones.  An open to a target that is stuck in a
 * slot fails at once instead of queueing: a route's checks would
 * otherwise block another slot, one every check interval.
 *
 * Extras are freed from the main bastion's tick (never from their own
 * callbacks) or with it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "ssh_int.h"

/* The main connection of b's bastion. */
static struct ssh_bastion *
ssh_conns_main(struct ssh_bastion *b)
{
	return (b->conns.owner != NULL ? b->conns.owner : b);
}

/* The i-th connection of main bastion m: 0 is m itself. */
static struct ssh_bastion *
ssh_conns_at(struct ssh_bastion *m, unsigned int i)
{
	return (i == 0 ? m : m->conns.conn[i - 1]);
}

/* Is b's slot held by a direct-tcpip open with no answer for a while? */
static int
ssh_conns_stuck(const struct ssh_bastion *b)
{
	return (b->state == SSH_READY && b->opening != NULL &&
	    b->opening->kind == SSH_OPEN_DIRECT &&
	    (long)clock_since(b->slot_since) >= SSH_SLOT_STUCK_MS);
}

/* Does b's stuck slot hold an open to host:port? */
static int
ssh_conns_stuck_on(const struct ssh_bastion *b, const char *host,
    unsigned int port)
{
	return (ssh_conns_stuck(b) && b->opening->port == port &&
	    b->opening->host != NULL && host != NULL &&
	    strcmp(b->opening->host, host) == 0);
}

/* Channel opens in flight on b: in the slot and queued. */
static unsigned int
ssh_conns_load(const struct ssh_bastion *b)
{
	const struct ssh_open	*o;
	unsigned int		 n = b->opening != NULL;

	TAILQ_FOREACH(o, &b->opens, entry)
		n++;
	return (n);
}

static int
ssh_conns_connecting(const struct ssh_bastion *b)
{
	return (b->state == SSH_CONNECTING || b->state == SSH_HANDSHAKE ||
	    b->state == SSH_AUTH);
}

/* Does a take a new open before b?  Fewer opens, then fewer channels. */
static int
ssh_conns_better(const struct ssh_bastion *a, const struct ssh_bastion *b)
{
	unsigned int	la = ssh_conns_load(a), lb = ssh_conns_load(b);

	return (la < lb || (la == lb && a->nchans < b->nchans));
}

/* The ready, unstuck connection of m's bastion that takes the next open. */
static struct ssh_bastion *
ssh_conns_best(struct ssh_bastion *m, const struct ssh_bastion *not)
{
	struct ssh_bastion	*c, *best = NULL;
	unsigned int		 i;

	for (i = 0; i <= m->conns.n; i++) {
		c = ssh_conns_at(m, i);
		if (c == not || c->state != SSH_READY || c->retired ||
		    ssh_conns_stuck(c))
			continue;
		if (best == NULL || ssh_conns_better(c, best))
			best = c;
	}
	return (best);
}

/* Move queued open o from its connection to c (urgent ones first). */
static void
ssh_conns_move(struct ssh_open *o, struct ssh_bastion *c)
{
	TAILQ_REMOVE(&o->b->opens, o, entry);
	o->b = c;
	TAILQ_INSERT_TAIL(&c->opens, o, entry);
	if (o->urgent) {
		o->urgent = 0;
		ssh_open_urgent(o);
	}
	if (c->state == SSH_READY)
		ssh_kick(c);
}

/* May o leave stuck connection s?  Not toward the target stuck there. */
static int
ssh_conns_movable(const struct ssh_bastion *s, const struct ssh_open *o)
{
	return (o->kind == SSH_OPEN_DIRECT && o->cb != NULL &&
	    !ssh_conns_stuck_on(s, o->host, o->port));
}

/* ------------------------------------------------------------------ */
/* Opening more. */

static void
ssh_conns_label(struct ssh_bastion *c, const struct ssh_bastion *m)
{
	snprintf(c->label, sizeof(c->label), "%.560s [connection %u]",
	    m->label, c->conns.number);
}

/* A new connection of m's bastion, connecting; NULL when out of memory. */
static struct ssh_bastion *
ssh_conns_add(struct ssh_bastion *m, int grown)
{
	struct ssh_settings	 set;
	struct ssh_bastion	*c;
	unsigned int		 i, number = 2;

	if (m->conns.n + 1 >= SSH_CONNS_MAX ||
	    ssh_settings_copy(&set, &m->set) != 0)
		return (NULL);
	if ((c = ssh_bastion_new(m->pool, &set)) == NULL) {
		ssh_settings_clear(&set);
		return (NULL);
	}
	/* The lowest number free, so that logs name few connections. */
	for (i = 0; i < m->conns.n; i++) {
		if (m->conns.conn[i]->conns.number == number) {
			number++;
			i = (unsigned int)-1;
		}
	}
	c->conns.owner = m;
	c->conns.grown = grown;
	c->conns.number = number;
	c->conns.idle_since = clock_ms();
	ssh_conns_label(c, m);
	m->conns.conn[m->conns.n++] = c;
	ssh_connect(c);
	return (c);
}

/* Connections of m's bastion, counting those still connecting. */
static unsigned int
ssh_conns_live(const struct ssh_bastion *m, unsigned int *connecting)
{
	const struct ssh_bastion	*c;
	unsigned int			 i, n = 0;

	*connecting = 0;
	for (i = 0; i <= m->conns.n; i++) {
		c = ssh_conns_at((struct ssh_bastion *)m, i);
		if (c->state == SSH_IDLE)
			continue;
		n++;
		if (ssh_conns_connecting(c))
			(*connecting)++;
	}
	return (n);
}

/* Open one more connection if the bastion may have it. */
static struct ssh_bastion *
ssh_conns_grow(struct ssh_bastion *m)
{
	unsigned int	connecting;

	if (m->retired || ssh_conns_live(m, &connecting) >=
	    (unsigned int)m->set.max_connections)
		return (NULL);
	return (ssh_conns_add(m, 1));
}

/* The fixed connections: `connections` in all (after out of memory too). */
static void
ssh_conns_fill(struct ssh_bastion *m)
{
	unsigned int	i, fixed = 1;

	for (i = 0; i < m->conns.n; i++)
		fixed += !m->conns.conn[i]->conns.grown;
	while (!m->retired && fixed < (unsigned int)m->set.connections &&
	    ssh_conns_add(m, 0) != NULL)
		fixed++;
}

/* ------------------------------------------------------------------ */
/* The tick: stuck slots, idle grown connections. */

static int
ssh_conns_idle(const struct ssh_bastion *c)
{
	return (c->nchans == 0 && c->opening == NULL &&
	    TAILQ_EMPTY(&c->opens) && TAILQ_EMPTY(&c->closing));
}

/* Waiting opens of stuck connection s go to the others (or a new one). */
static void
ssh_conns_unstick(struct ssh_bastion *m, struct ssh_bastion *s)
{
	struct ssh_open		*o, *next;
	struct ssh_bastion	*c;
	unsigned int		 connecting;
	long			 ms = (long)clock_since(s->slot_since);

	for (o = TAILQ_FIRST(&s->opens); o != NULL; o = next) {
		next = TAILQ_NEXT(o, entry);
		if (!ssh_conns_movable(s, o))
			continue;
		if ((c = ssh_conns_best(m, s)) != NULL) {
			ssh_conns_move(o, c);
			continue;
		}
		/* None free: one connection more, which takes them when up. */
		ssh_conns_live(m, &connecting);
		if (connecting > 0 || (c = ssh_conns_grow(m)) == NULL)
			return;
		log_warnx("%s: the channel open to %s:%u has had no answer "
		    "for %ld.%01lds; opening connection %u for the opens "
		    "behind it (libssh2 opens one channel at a time)",
		    s->label, s->opening->host, s->opening->port, ms / 1000,
		    ms % 1000 / 100, c->conns.number);
		s->slot_warned = 1;
		return;
	}
}

static void
ssh_conns_tick(struct ssh_bastion *m)
{
	struct timeval		 tv = clock_tv(SSH_SLOT_STUCK_MS);
	struct ssh_bastion	*c;
	unsigned int		 i, busy = 0;
	int			 stuck = 0;

	for (i = 0; i <= m->conns.n; i++) {
		c = ssh_conns_at(m, i);
		stuck |= ssh_conns_stuck(c);
		if (!ssh_conns_idle(c) || c->state != SSH_READY)
			c->conns.idle_since = clock_ms();
	}
	for (i = 0; i < m->conns.n; i++) {
		c = m->conns.conn[i];
		if (c->state != SSH_IDLE && !(c->conns.grown && !stuck &&
		    clock_since(c->conns.idle_since) >= SSH_GROWN_LINGER_MS))
			continue;
		if (c->state == SSH_READY)
			log_info("%s: not needed any more: closing it",
			    c->label);
		m->conns.conn[i] = m->conns.conn[--m->conns.n];
		ssh_bastion_free(c);
		i--;
	}
	ssh_conns_fill(m);
	for (i = 0; i <= m->conns.n; i++) {
		c = ssh_conns_at(m, i);
		if (ssh_conns_stuck(c) && !m->retired)
			ssh_conns_unstick(m, c);
		busy |= c->opening != NULL;
	}
	/* Look again while a slot is busy or extras live. */
	if (busy || m->conns.n > 0)
		evtimer_add(m->conns.timer, &tv);
}

static void
ssh_conns_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	ssh_conns_tick(arg);
}

/* ------------------------------------------------------------------ */
/* What the other modules call. */

int
ssh_conns_init(struct ssh_bastion *b)
{
	b->conns.timer = evtimer_new(b->pool->base, ssh_conns_timer_cb, b);
	return (b->conns.timer == NULL ? -1 : 0);
}

void
ssh_conns_start(struct ssh_bastion *m)
{
	struct timeval	tv = clock_tv(SSH_SLOT_STUCK_MS);

	ssh_conns_fill(m);
	if (m->conns.n > 0)
		evtimer_add(m->conns.timer, &tv);
}

void
ssh_conns_slot_taken(struct ssh_bastion *b)
{
	struct timeval		 tv = clock_tv(SSH_SLOT_STUCK_MS);
	struct ssh_bastion	*m = ssh_conns_main(b);

	if (!evtimer_pending(m->conns.timer, NULL))
		evtimer_add(m->conns.timer, &tv);
}

struct ssh_bastion *
ssh_conns_pick(struct ssh_bastion *m, const char *host, unsigned int port,
    char *why, size_t len)
{
	struct ssh_bastion	*c, *best;
	unsigned int		 i, connecting;
	long			 ms;

	for (i = 0; i <= m->conns.n; i++) {
		c = ssh_conns_at(m, i);
		if (!ssh_conns_stuck_on(c, host, port))
			continue;
		ms = (long)clock_since(c->slot_since);
		snprintf(why, len, "bastion %s: an open to %s:%u has had no "
		    "answer for %ld.%01lds (the bastion cannot reach it?); not "
		    "queueing another", m->set.name, host, port, ms / 1000,
		    ms % 1000 / 100);
		return (NULL);
	}
	if ((best = ssh_conns_best(m, NULL)) != NULL) {
		/* A burst: every ready connection has opens queued. */
		ssh_conns_live(m, &connecting);
		if (ssh_conns_load(best) >= SSH_GROW_QUEUE * (1 + connecting) &&
		    (c = ssh_conns_grow(m)) != NULL) {
			log_info("%s: %u channel opens in flight on the "
			    "least busy connection; opening connection %u "
			    "(max_connections %d)", m->label,
			    ssh_conns_load(best), c->conns.number,
			    m->set.max_connections);
			ssh_conns_slot_taken(m);
		}
		return (best);
	}
	/* None ready: wait for one that connects, or a stuck one. */
	for (i = 0; i <= m->conns.n; i++) {
		if (ssh_conns_connecting(c = ssh_conns_at(m, i)))
			return (c);
	}
	for (i = 0; i <= m->conns.n; i++) {
		if ((c = ssh_conns_at(m, i))->state == SSH_READY)
			return (c);
	}
	ms = ssh_backoff_left_ms(m);
	/* Not "retrying in 0.0s": the retry is due, or under 0.1 s away. */
	if (ms < 100)
		snprintf(why, len, "bastion %s: down, retrying now: %s",
		    m->set.name, m->last_error);
	else
		snprintf(why, len, "bastion %s: down, retrying in %ld.%01lds: "
		    "%s", m->set.name, ms / 1000, ms % 1000 / 100,
		    m->last_error);
	return (NULL);
}

void
ssh_conns_ready(struct ssh_bastion *c)
{
	struct ssh_bastion	*m = ssh_conns_main(c), *s;
	struct ssh_open		*o, *prev;
	unsigned int		 i, n = 0;

	for (i = 0; i <= m->conns.n; i++) {
		if ((s = ssh_conns_at(m, i)) == c)
			continue;
		/* The latest first; a stuck slot's waiting ones all go. */
		for (o = TAILQ_LAST(&s->opens, ssh_open_list); o != NULL;
		    o = prev) {
			prev = TAILQ_PREV(o, ssh_open_list, entry);
			if (!ssh_conns_stuck(s) && ssh_conns_load(s) <=
			    ssh_conns_load(c) + 1)
				break;
			if (!ssh_conns_movable(s, o))
				continue;
			ssh_conns_move(o, c);
			n++;
		}
	}
	if (n > 0)
		log_info("%s: took over %u waiting open%s", c->label, n,
		    n == 1 ? "" : "s");
}

void
ssh_conns_lost(struct ssh_bastion *b)
{
	struct ssh_bastion	*m = ssh_conns_main(b), *c;
	struct ssh_open		*o, *next;

	if (m->retired)
		return;
	/* Nothing was opened on the lost connection: retry elsewhere. */
	if ((o = b->opening) != NULL && o->kind == SSH_OPEN_DIRECT &&
	    o->cb != NULL && (c = ssh_conns_best(m, b)) != NULL) {
		b->opening = NULL;
		TAILQ_INSERT_HEAD(&b->opens, o, entry);
	}
	for (o = TAILQ_FIRST(&b->opens); o != NULL; o = next) {
		next = TAILQ_NEXT(o, entry);
		if (o->kind != SSH_OPEN_DIRECT || o->cb == NULL)
			continue;
		if ((c = ssh_conns_best(m, b)) == NULL)
			return;
		ssh_conns_move(o, c);
	}
}

void
ssh_conns_retire(struct ssh_bastion *m, const char *detail)
{
	struct ssh_bastion	*c;
	unsigned int		 i;

	for (i = 0; i < m->conns.n; i++) {
		c = m->conns.conn[i];
		c->retired = 1;
		ssh_open_fail_all(c, detail);
		if (c->state == SSH_BACKOFF) {
			evtimer_del(c->timer);
			c->state = SSH_IDLE;
		}
	}
}

int
ssh_conns_busy(const struct ssh_bastion *m)
{
	unsigned int	i;

	for (i = 0; i < m->conns.n; i++) {
		if (m->conns.conn[i]->state == SSH_READY &&
		    m->conns.conn[i]->nchans > 0)
			return (1);
	}
	return (0);
}

void
ssh_conns_free(struct ssh_bastion *m)
{
	while (m->conns.n > 0)
		ssh_bastion_free(m->conns.conn[--m->conns.n]);
	if (m->conns.timer != NULL)
		event_free(m->conns.timer);
	m->conns.timer = NULL;
}
