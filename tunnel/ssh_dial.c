/*
 * ssh_dial.c: the ssh:// transport of the dial step.  A dial asks the
 * route's bastion for a direct-tcpip channel; the result is the channel
 * as a link (link.h), or DIAL_SSH with
 * the cause: the bastion's connection state, "administratively
 * prohibited" or "connect failed".
 *
 * While the bastion (re)connects, the dial waits in its open queue,
 * bounded by the dial's own timeout.  While it backs off between
 * attempts, the dial fails at once with the last error, so that a
 * session moves on to its next route without waiting.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "conf.h"
#include "dial_int.h"
#include "log.h"
#include "ssh_int.h"

static void
ssh_dial_opened(int status, const char *detail, struct link *link,
    void *arg)
{
	struct dial	*d = arg;

	d->ssh_req = NULL;
	if (status != DIAL_OK) {
		snprintf(d->detail, sizeof(d->detail), "%s", detail);
		dial_finish(d, status, NULL);
		return;
	}
	snprintf(d->detail, sizeof(d->detail), "via %s", detail);
	d->link = link;
	dial_finish(d, DIAL_OK, NULL);
}

void
ssh_dial_begin(struct dial *d)
{
	const struct conf_route	*r = d->route;
	struct ssh_bastion	*b, *first;

	b = ssh_pool_find(d->env.ssh, r->bastion);
	if (b == NULL) {
		snprintf(d->detail, sizeof(d->detail), "bastion %s is not "
		    "running", r->bastion);
		dial_fail_later(d, DIAL_SSH);
		return;
	}
	if (b->set.openssh) {
		ssh_mux_dial(b, d);	/* through ssh(1)'s ControlMaster */
		return;
	}
	/* The least busy connection; none: all back off, or a stuck target. */
	first = b;
	b = ssh_conns_pick(b, r->target.host, r->target.port, d->detail,
	    sizeof(d->detail));
	if (b == NULL) {
		/* Backing off after postern's own limit: not the route's. */
		dial_fail_later(d, first->local_fail ? DIAL_LOCAL : DIAL_SSH);
		return;
	}
	d->ssh_req = ssh_open_start(b, SSH_OPEN_DIRECT, r->target.host,
	    r->target.port, ssh_dial_opened, d);
	if (d->ssh_req == NULL) {
		snprintf(d->detail, sizeof(d->detail), "out of memory");
		dial_fail_later(d, DIAL_ERROR);
	} else if (d->flags & DIAL_URGENT)
		ssh_open_urgent(d->ssh_req);
}

void
ssh_dial_timeout(struct dial *d)
{
	struct ssh_open		*o = d->ssh_req, *slot, *q;
	struct ssh_bastion	*b = o != NULL ? o->b : NULL;
	unsigned int		 behind = 0, ahead = 0;
	long			 ms;

	if (d->ssh_mux != NULL) {
		ssh_mux_dial_timeout(d);
		return;
	}
	if (d->ssh_mproxy != NULL) {
		ssh_mux_proxy_dial_timeout(d);
		return;
	}
	if (b == NULL || b->state != SSH_READY) {
		snprintf(d->detail, sizeof(d->detail), "connect timeout after "
		    "%d ms (bastion %s not connected yet%s%.300s)",
		    d->timeout_ms, d->route->bastion, b != NULL &&
		    b->last_error[0] != '\0' ? "; last error: " : "",
		    b != NULL ? b->last_error : "");
		return;
	}
	if ((slot = b->opening) == o || slot == NULL) {
		snprintf(d->detail, sizeof(d->detail), "connect timeout after "
		    "%d ms (bastion %s did not answer the channel open: it "
		    "may not reach %s:%u)", d->timeout_ms, b->set.name,
		    o->host, o->port);
		return;
	}
	/*
	 * libssh2 opens one channel at a time: an open the bastion does not
	 * answer (a target that drops SYNs: sshd waits for its own connect
	 * timeout) holds up every open behind it, for every route through
	 * this bastion.
	 */
	ms = (long)clock_since(b->slot_since);
	TAILQ_FOREACH(q, &b->opens, entry) {
		if (q == o)
			ahead = behind;
		behind++;
	}
	if (ms * 2 < d->timeout_ms) {
		/* No open held the slot long: the queue was long. */
		snprintf(d->detail, sizeof(d->detail), "connect timeout after "
		    "%d ms (%u channel open%s ahead of it at bastion %s; "
		    "libssh2 opens one channel at a time)", d->timeout_ms,
		    ahead + 1, ahead == 0 ? "" : "s", b->set.name);
		return;
	}
	snprintf(d->detail, sizeof(d->detail), "connect timeout after %d ms "
	    "(queued behind a channel open to %s:%u unanswered for %ld.%01lds; "
	    "libssh2 opens one channel at a time)", d->timeout_ms,
	    slot->host != NULL ? slot->host : "?", slot->port, ms / 1000,
	    ms % 1000 / 100);
	if (!b->slot_warned) {
		b->slot_warned = 1;
		log_warnx("%s: the channel open to %s:%u has had no answer "
		    "for %ld.%01lds; %u open%s wait%s behind it (libssh2 opens "
		    "one channel at a time)", b->label, slot->host != NULL ?
		    slot->host : "?", slot->port, ms / 1000, ms % 1000 / 100,
		    behind, behind == 1 ? "" : "s", behind == 1 ? "s" : "");
	}
}

void
ssh_dial_cleanup(struct dial *d)
{
	ssh_open_cancel(d->ssh_req);
	d->ssh_req = NULL;
	ssh_mux_cancel(d->ssh_mux);
	d->ssh_mux = NULL;
	ssh_mux_proxy_cancel(d->ssh_mproxy);
	d->ssh_mproxy = NULL;
}
