/*
 * ssh_mux_fwd.c: mux_forward = listener, the OpenSSH engine's other way
 * to a target: a listener of the master per target (a unix socket in
 * postern's private directory, asked for with MUX_C_OPEN_FWD as ssh -O
 * forward -L does), which sessions connect to instead of opening a
 * stdio forward each (ssh_mux.c).  The master is asked for them as soon
 * as it is ready, for the targets of the routes through its bastion; a
 * dial to a target without one yet (asked, refused, past the 32 kept)
 * goes by stdio, as do health checks.  The listeners are
 * the master's, for its life: ssh_mux_stop() forgets them with the
 * private directory.  See DESIGN.md, "The OpenSSH engine".
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "dial_int.h"
#include "log.h"
#include "ssh_int.h"
#include "ssh_mux_int.h"

enum mux_fwd_state {
	MUX_FWD_ASKING,
	MUX_FWD_READY,
	MUX_FWD_REFUSED		/* by the master: stdio for this target */
};

struct ssh_mux_fwd {
	char			 host[256];
	unsigned int		 port;
	char			 path[108];
	enum mux_fwd_state	 state;
};

/* At most this many targets get a listener; the others go by stdio. */
#define MUX_FWD_MAX		32

struct ssh_mux_target {
	char			 host[256];
	unsigned int		 port;
};

/*
 * The listener for host:port, asked for now if there is none yet (only
 * for a master of our own: a user's master is not ours to add to).
 */
static struct ssh_mux_fwd *
mux_fwd_find(struct ssh_bastion *b, const char *host, unsigned int port)
{
	struct ssh_mux_state	*m = &b->mux;
	struct ssh_mux_fwd	*f;
	struct ssh_mux_conn	*c;
	size_t			 i;

	if (!b->set.mux_listener || m->dir[0] == '\0' ||
	    strlen(host) >= sizeof(f->host))
		return (NULL);
	for (i = 0; i < m->nfwd; i++)
		if (m->fwd[i].port == port && strcmp(m->fwd[i].host, host) == 0)
			return (&m->fwd[i]);
	/* Allocated once, whole: opens in flight point into it. */
	if (m->fwd == NULL && (m->fwd = calloc(MUX_FWD_MAX,
	    sizeof(*m->fwd))) == NULL)
		return (NULL);
	if (m->nfwd == MUX_FWD_MAX)
		return (NULL);
	f = &m->fwd[m->nfwd];
	memset(f, 0, sizeof(*f));
	snprintf(f->host, sizeof(f->host), "%s", host);
	f->port = port;
	if ((size_t)snprintf(f->path, sizeof(f->path), "%s/f%zu", m->dir,
	    m->nfwd) >= sizeof(f->path))
		return (NULL);
	m->nfwd++;
	if ((c = ssh_mux_conn_new(b, MUX_FWDREQ, NULL)) == NULL) {
		f->state = MUX_FWD_REFUSED;
		return (f);
	}
	c->fwd = f;
	c->tmr = evtimer_new(b->pool->base, ssh_mux_conn_start_cb, c);
	if (c->tmr == NULL) {
		f->state = MUX_FWD_REFUSED;
		ssh_mux_conn_free(c);
	} else
		event_active(c->tmr, EV_TIMEOUT, 0);
	return (f);
}

/*
 * A session through the master's listener: connected at once (a unix
 * socket); the master opens the channel when it accepts, and reads what
 * postern writes meanwhile.  A listener that is gone, or whose queue is
 * full, sends the dial by stdio instead.
 */
void
ssh_mux_fwd_dial(struct ssh_mux_conn *c)
{
	struct ssh_bastion	*b = c->b;
	struct sockaddr_un	 sun;
	struct dial		*d = c->d;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c->fwd->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		log_debug("%s: listener %s: %s; by stdio", b->label,
		    c->fwd->path, strerror(errno));
		if (fd != -1)
			close(fd);
		c->kind = MUX_OPEN;
		ssh_mux_conn_start(c);
		return;
	}
	log_debug("%s: a session to %s:%u through the master's listener",
	    b->label, c->fwd->host, c->fwd->port);
	c->d = NULL;
	d->ssh_mux = NULL;
	ssh_mux_conn_free(c);
	(void)ssh_mux_dial_ok(b, d, fd, "OpenSSH listener");
}

/*
 * mux_forward = listener: through the target's listener when it is
 * ready; else by stdio, saying why (tests count the checks' lines).
 * Checks (DIAL_URGENT) always go by stdio: their failure carries the
 * master's reason, which a listener's closed connection would not.
 */
void
ssh_mux_fwd_choose(struct ssh_mux_conn *c)
{
	struct ssh_bastion	*b = c->b;
	const struct conf_route	*r = c->d->route;
	const char		*why;

	if (c->d->flags & DIAL_URGENT)
		why = "a check";
	else if ((c->fwd = mux_fwd_find(b, r->target.host,
	    r->target.port)) == NULL)
		why = "no listener for it";
	else if (c->fwd->state == MUX_FWD_READY) {
		c->kind = MUX_FWDDIAL;
		return;
	} else
		why = c->fwd->state == MUX_FWD_ASKING ? "its listener is "
		    "being asked for" : "the master refused it a listener";
	log_debug("%s: a stdio forward to %s:%u (%s)", b->label,
	    r->target.host, r->target.port, why);
}

size_t
ssh_mux_fwd_encode(const struct ssh_mux_conn *c, unsigned char *buf,
    size_t len)
{
	return (ssh_mux_encode_fwd(buf, len, c->rid, c->fwd->path,
	    c->fwd->host, c->fwd->port));
}

void
ssh_mux_fwd_answer(struct ssh_mux_conn *c, const char *refused)
{
	struct ssh_bastion	*b = c->b;
	struct ssh_mux_fwd	*f = c->fwd;

	if (refused == NULL) {
		f->state = MUX_FWD_READY;
		log_debug("%s: the master listens for %s:%u at %s", b->label,
		    f->host, f->port, f->path);
	} else {
		f->state = MUX_FWD_REFUSED;
		log_warnx("%s: no listener of the master for %s:%u (%s): "
		    "sessions to it use stdio forwards", b->label, f->host,
		    f->port, refused);
	}
	ssh_mux_conn_free(c);
}

void
ssh_mux_fwd_forget(struct ssh_bastion *b)
{
	struct ssh_mux_state	*m = &b->mux;
	size_t			 i;

	for (i = 0; i < m->nfwd; i++)
		(void)unlink(m->fwd[i].path);	/* the master's, if left */
	free(m->fwd);
	m->fwd = NULL;
	m->nfwd = 0;
}

void
ssh_mux_fwd_targets(struct ssh_bastion *b, const struct conf *c)
{
	struct ssh_mux_state		*m = &b->mux;
	const struct conf_route		*r;
	struct ssh_mux_target		*t;
	size_t				 i, j, k;

	free(m->targets);
	m->targets = NULL;
	m->ntargets = 0;
	if (!b->set.openssh || !b->set.mux_listener ||
	    (m->targets = calloc(MUX_FWD_MAX, sizeof(*t))) == NULL)
		return;
	for (i = 0; i < c->nservices; i++) {
		for (j = 0; j < c->services[i].nroutes; j++) {
			r = &c->services[i].routes[j];
			if (r->kind != ROUTE_SSH || strcmp(r->bastion,
			    b->set.name) != 0 || m->ntargets == MUX_FWD_MAX)
				continue;
			for (k = 0; k < m->ntargets; k++)
				if (m->targets[k].port == r->target.port &&
				    strcmp(m->targets[k].host,
				    r->target.host) == 0)
					break;
			if (k < m->ntargets)
				continue;
			t = &m->targets[m->ntargets++];
			snprintf(t->host, sizeof(t->host), "%s",
			    r->target.host);
			t->port = r->target.port;
		}
	}
	if (b->state == SSH_READY)
		ssh_mux_fwd_prepare(b);		/* a reload's new routes */
}

void
ssh_mux_fwd_prepare(struct ssh_bastion *b)
{
	size_t	i;

	for (i = 0; i < b->mux.ntargets; i++)
		(void)mux_fwd_find(b, b->mux.targets[i].host,
		    b->mux.targets[i].port);
}
