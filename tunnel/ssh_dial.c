/*
 * ssh_dial.c: the ssh:// transport of the dial step.  A dial asks the
 * route's bastion for a direct-tcpip channel; the result is the channel
 * as a link (or, for callers that want a socket, a bufferevent on a
 * socketpair bridged to it: link_fd_new), or DIAL_SSH with
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

#include "conf.h"
#include "dial_int.h"
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
	struct ssh_bastion	*b;
	long			 ms;

	b = ssh_pool_find(d->env.ssh, r->bastion);
	if (b == NULL) {
		snprintf(d->detail, sizeof(d->detail), "bastion %s is not "
		    "running", r->bastion);
		dial_fail_later(d, DIAL_SSH);
		return;
	}
	if (b->state == SSH_BACKOFF) {
		ms = ssh_backoff_left_ms(b);
		snprintf(d->detail, sizeof(d->detail), "bastion %s: down, "
		    "retrying in %ld.%01lds: %.300s", r->bastion, ms / 1000,
		    ms % 1000 / 100, b->last_error);
		dial_fail_later(d, DIAL_SSH);
		return;
	}
	d->ssh_req = ssh_open_start(b, SSH_OPEN_DIRECT, r->target.host,
	    r->target.port, ssh_dial_opened, d);
	if (d->ssh_req == NULL) {
		snprintf(d->detail, sizeof(d->detail), "out of memory");
		dial_fail_later(d, DIAL_ERROR);
	}
}

void
ssh_dial_cleanup(struct dial *d)
{
	ssh_open_cancel(d->ssh_req);
	d->ssh_req = NULL;
}
