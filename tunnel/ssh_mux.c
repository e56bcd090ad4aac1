/*
 * ssh_mux.c: the OpenSSH engine of a bastion (engine = openssh).
 *
 * postern runs ssh(1) as a ControlMaster (or attaches to the user's own,
 * control_path) and opens each channel through OpenSSH's multiplexing
 * protocol (PROTOCOL.mux in OpenSSH's source): every open is a fresh
 * connection to the control socket carrying a hello, a
 * MUX_C_NEW_STDIO_FWD and then, by SCM_RIGHTS, one end of a socketpair
 * twice (the stdio forward's input and output).  The master serves many
 * such connections at once, so opens pipeline, unlike libssh2's one open
 * slot.  The dial's result is the socketpair's other end, a plain socket.
 *
 * The mux connection must stay open for the channel's life: the master
 * closes the channel when it goes, and closes it when the channel ends.
 * So an opened connection stays in b->mux.conns (LIVE) until its EOF.
 *
 * Everything is non-blocking on the event loop.  The messages are tiny
 * and every connection is fresh, so a request goes out in one send() on
 * an empty socket buffer; a short send is an error, not a wait.  The
 * master reads exactly one packet at a time (OpenSSH's mux reads the
 * length, then the body), so the fds sent right behind the request are
 * not swallowed by a read of the request.
 *
 * ssh_mux_master.c runs the master and reads its stderr; ssh_mux_fwd.c
 * holds mux_forward = listener (sessions through a listener of the
 * master instead of a stdio forward each).
 *
 * Why no spare control connections are kept ahead of opens: the master
 * accepts one control connection per turn of its loop
 * (channel_post_mux_listener; strace of a 100-open burst: 100 accepts
 * over 124 poll() turns, the same one-a-turn bound as ssh -L's
 * listener), so connections made ahead would skip that wait.  Tried and
 * measured (tests/bench/README.md): the burst at +10 ms RTT was 1.21x
 * and 1.01x of the same rounds without them, while every spare is a
 * channel the master visits on every turn, which cost small requests
 * (GET -c50 0.85x and 0.88x).  Not kept.
 *
 * Supervision reuses ssh.c's: the state (CONNECTING until the master
 * answers an alive check, READY, BACKOFF), ssh_fail() with the master's
 * last stderr line ("Host key verification failed."), back-off and the
 * connect deadline.  Keepalive ticks send MUX_C_ALIVE_CHECK: a master
 * that stops answering (stopped, hung) is declared dead like a silent
 * libssh2 connection; the master's own ServerAliveInterval watches the
 * bastion.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "conf.h"
#include "dial_int.h"
#include "log.h"
#include "ssh_int.h"
#include "ssh_mux_int.h"
#include "ssh_mux_wire.h"

/* How often to look for the control socket while ssh connects. */
#define MUX_POLL_MS		20
/* A control socket whose listen queue is full: try again this soon. */
#define MUX_BUSY_MS		2
/*
 * A channel open failure the master logs this soon after a stdio
 * forward's failure reply is that forward's (ssh_mux_stdio_opening).
 */
#define MUX_FAIL_PAIR_MS	200


/* ------------------------------------------------------------------ */
/* Passing the channel's socket. */

/* One fd by SCM_RIGHTS, with the one byte of data OpenSSH expects. */
int
ssh_mux_send_fd(int sock, int fd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr	*cmsg;
	char		 byte = 0;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return (sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1);
}

/* ------------------------------------------------------------------ */
/* Mux connections. */

struct ssh_mux_conn *
ssh_mux_conn_new(struct ssh_bastion *b, enum mux_kind kind, struct dial *d)
{
	struct ssh_mux_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->b = b;
	c->kind = kind;
	c->fd = c->local = -1;
	c->d = d;
	c->rid = ++b->mux.rid;
	c->since = clock_ms();
	TAILQ_INSERT_TAIL(kind == MUX_WAIT ? &b->mux.waiting :
	    &b->mux.conns, c, entry);
	return (c);
}

void
ssh_mux_conn_free(struct ssh_mux_conn *c)
{
	struct ssh_bastion	*b = c->b;

	TAILQ_REMOVE(c->kind == MUX_WAIT ? &b->mux.waiting : &b->mux.conns,
	    c, entry);
	if (c->kind == MUX_LIVE && b->nchans > 0) {
		b->nchans--;
		if (b->retired && b->nchans == 0)
			event_active(b->pool->reap, EV_TIMEOUT, 0);
	}
	if (b->mux.probe == c)
		b->mux.probe = NULL;
	if (c->d != NULL)
		c->d->ssh_mux = NULL;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->out != NULL)
		event_free(c->out);
	if (c->tmr != NULL)
		event_free(c->tmr);
	if (c->fd != -1)
		close(c->fd);
	if (c->local != -1)
		close(c->local);
	free(c);
}

/* The master is up: the wait is over, dials go on. */
static void
mux_ready(struct ssh_bastion *b)
{
	struct ssh_mux_conn	*c;
	struct timeval		 tv;
	long			 ms;
	size_t			 i;

	evtimer_del(b->timer);
	b->state = SSH_READY;
	ssh_mux_err_drain(b);	/* the host key line came before the login */
	if (!b->ever_up) {
		if (b->set.control_path != NULL)
			log_info("%s: connected in %ld ms (OpenSSH ControlMaster "
			    "at %s)", b->label, (long)clock_since(
			    b->attempt_start), b->set.control_path);
		else
			log_info("%s: connected in %ld ms (OpenSSH ControlMaster "
			    "pid %d)", b->label, (long)clock_since(
			    b->attempt_start), b->mux.pid);
		for (i = 0; i < b->nforwards; i++)
			log_status("forwarding %s via %s (OpenSSH)",
			    b->forwards[i], b->via);
	} else {
		ms = (long)clock_since(b->down_since);
		log_status("%s: connected again after %ld.%03lds (OpenSSH)",
		    b->label, ms / 1000, ms % 1000);
	}
	b->ever_up = 1;
	b->attempts = 0;
	b->logged_error[0] = '\0';
	b->backoff_ms = SSH_BACKOFF_MIN_MS;
	b->missed = 0;
	tv = clock_tv(b->set.keepalive_ms);
	evtimer_add(b->ka_timer, &tv);
	ssh_mux_fwd_prepare(b);		/* before the dials that waited */
	if (b->set.mux_proxy)
		ssh_mux_proxy_prepare(b);
	ssh_mux_cmd_start(b);
	while ((c = TAILQ_FIRST(&b->mux.waiting)) != NULL) {
		TAILQ_REMOVE(&b->mux.waiting, c, entry);
		if (b->set.mux_proxy && ssh_mux_proxy_dial(b, c->d) == 0) {
			c->d->ssh_mux = NULL;	/* the proxy's now */
			c->d = NULL;
			c->kind = MUX_OPEN;
			TAILQ_INSERT_TAIL(&b->mux.conns, c, entry);
			ssh_mux_conn_free(c);
			continue;
		}
		c->kind = MUX_OPEN;
		TAILQ_INSERT_TAIL(&b->mux.conns, c, entry);
		ssh_mux_conn_start(c);
	}
}

/* An open or probe failed: say so to its dial, or to the bastion. */
static void
mux_conn_fail(struct ssh_mux_conn *c, const char *fmt, const char *why)
{
	struct ssh_bastion	*b = c->b;
	struct dial		*d = c->d;
	char			 msg[700];

	snprintf(msg, sizeof(msg), fmt, why);
	if (c->kind == MUX_CMD) {
		ssh_mux_cmd_fail(c, msg);
		return;
	}
	if (c->kind == MUX_FWDREQ) {
		ssh_mux_fwd_answer(c, msg);
		return;
	}
	if (c->kind == MUX_PROBE) {
		ssh_mux_conn_free(c);
		if (b->state == SSH_READY)
			ssh_fail(b, "ssh master: %s", msg);
		return;			/* connecting: the poll goes on */
	}
	c->d = NULL;
	ssh_mux_conn_free(c);
	snprintf(d->detail, sizeof(d->detail), "bastion %.60s: %.200s%s%.200s",
	    b->set.name, msg, b->mux.errline[0] != '\0' ? "; ssh: " : "",
	    b->mux.errline);
	d->ssh_mux = NULL;
	dial_finish(d, DIAL_SSH, NULL);
}

int
ssh_mux_dial_ok(struct ssh_bastion *b, struct dial *d, int fd,
    const char *how)
{
	struct bufferevent	*bev;

	snprintf(d->detail, sizeof(d->detail), "via %s (%s)", b->via, how);
	if ((d->flags & DIAL_FD) && d->tls == NULL) {
		dial_finish_fd(d, fd);
		return (0);
	}
	if ((bev = bufferevent_socket_new(b->pool->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		snprintf(d->detail, sizeof(d->detail), "out of memory");
		dial_finish(d, DIAL_LOCAL, NULL);
		return (-1);
	}
	dial_finish(d, DIAL_OK, bev);
	return (0);
}

/*
 * The master took the client's own socket (mux_forward = client): the
 * session gets a copy of this control connection, whose EOF is the
 * channel's end, while c stays LIVE and counts as the bastion's channel
 * (a retired bastion waits for it).  Without a descriptor for the copy,
 * the channel is ended (shutdown reaches the master's side too).
 */
static void
mux_handed(struct ssh_mux_conn *c, struct dial *d)
{
	struct ssh_bastion	*b = c->b;
	int			 fd;

	if ((fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		snprintf(d->detail, sizeof(d->detail), "bastion %.60s: %s",
		    b->set.name, strerror(errno));
		(void)shutdown(c->fd, SHUT_RDWR);
		ssh_mux_conn_free(c);
		dial_finish(d, DIAL_LOCAL, NULL);
		return;
	}
	snprintf(d->detail, sizeof(d->detail), "via %s (OpenSSH, the client's "
	    "socket handed to the master)", b->via);
	dial_finish_handed(d, fd);
}

/* One reply from the master. */
static void
mux_reply(struct ssh_mux_conn *c, const struct ssh_mux_msg *msg)
{
	struct ssh_bastion	*b = c->b;
	struct dial		*d;
	int			 fd;

	if (msg->rid != c->rid) {
		mux_conn_fail(c, "%s", "bad reply on the control socket");
		return;
	}
	switch (msg->type) {
	case MUX_S_ALIVE:
		if (c->kind != MUX_PROBE)
			break;
		ssh_mux_conn_free(c);
		b->missed = 0;
		if (b->state == SSH_CONNECTING)
			mux_ready(b);
		return;
	case MUX_S_SESSION_OPENED:
		if (c->kind != MUX_OPEN)
			break;
		d = c->d;
		c->d = NULL;
		d->ssh_mux = NULL;
		c->kind = MUX_LIVE;
		b->nchans++;
		if (c->handoff) {
			mux_handed(c, d);
			return;
		}
		fd = c->local;
		c->local = -1;		/* the dial's now */
		if (ssh_mux_dial_ok(b, d, fd, "OpenSSH") != 0)
			ssh_mux_conn_free(c);	/* no session for it */
		return;
	case MUX_S_OK:
		if (c->kind != MUX_FWDREQ)
			break;
		ssh_mux_fwd_answer(c, NULL);
		return;
	case MUX_S_PERMISSION_DENIED:
	case MUX_S_FAILURE:
		if (c->kind == MUX_FWDREQ) {
			ssh_mux_fwd_answer(c, msg->reason);
			return;
		}
		b->mux.stdio_failed_ms = clock_ms();
		mux_conn_fail(c, msg->type == MUX_S_FAILURE ? "channel open "
		    "failed: %s" : "channel open refused: %s", msg->reason);
		return;
	}
	mux_conn_fail(c, "%s", "unexpected reply on the control socket");
}

static void
mux_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_mux_conn	*c = arg;
	unsigned char		 junk[256];
	struct ssh_mux_msg	 msg;
	ssize_t			 n;
	long			 used;

	if (c->kind == MUX_LIVE) {
		/* Nothing is due here; EOF: the channel is over. */
		n = read(fd, junk, sizeof(junk));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			ssh_mux_conn_free(c);
		return;
	}
	n = read(fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		mux_conn_fail(c, "%s", n == 0 ? "the ssh master closed the "
		    "control connection" : strerror(errno));
		return;
	}
	c->inlen += (size_t)n;
	for (;;) {
		if ((used = ssh_mux_parse(c->in, c->inlen, &msg)) == 0)
			return;			/* more to come */
		if (used < 0) {
			mux_conn_fail(c, "%s", "bad packet on the control "
			    "socket");
			return;
		}
		c->inlen -= (size_t)used;
		memmove(c->in, c->in + used, c->inlen);
		if (msg.type == MUX_MSG_HELLO)
			continue;
		/* A session says more than one thing: its end too. */
		if (c->kind == MUX_CMD) {
			if (ssh_mux_cmd_reply(c, &msg) != 0)
				return;		/* c is gone */
			continue;
		}
		mux_reply(c, &msg);	/* c may be gone */
		return;
	}
}

/* Connect to the control socket and send the request (and the fds). */
void
ssh_mux_conn_start(struct ssh_mux_conn *c)
{
	struct ssh_bastion	*b = c->b;
	struct sockaddr_un	 sun;
	unsigned char		 buf[1100];
	size_t			 len;
	int			 sp[2], busy;
	struct timeval		 tv;

	if (c->kind == MUX_FWDDIAL) {
		ssh_mux_fwd_dial(c);
		return;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, b->mux.path, sizeof(sun.sun_path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		mux_conn_fail(c, "control socket: %s", strerror(errno));
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		busy = errno == EAGAIN;
		if (!busy) {
			mux_conn_fail(c, "control socket: %s", strerror(errno));
			return;
		}
		/* The master's listen queue is full (a burst): soon again. */
		close(c->fd);
		c->fd = -1;
		tv = clock_tv(MUX_BUSY_MS);
		if (c->tmr == NULL)
			c->tmr = evtimer_new(b->pool->base, ssh_mux_conn_start_cb, c);
		if (c->tmr == NULL || evtimer_add(c->tmr, &tv) != 0)
			mux_conn_fail(c, "%s", "out of memory");
		return;
	}
	if (c->kind == MUX_FWDREQ)
		len = ssh_mux_fwd_encode(c, buf, sizeof(buf));
	else if (c->kind == MUX_CMD)
		len = ssh_mux_encode_session(buf, sizeof(buf), c->rid,
		    b->set.command);
	else
		len = ssh_mux_encode(buf, sizeof(buf), c->rid, c->kind ==
		    MUX_OPEN ? c->d->route->target.host : NULL, c->kind ==
		    MUX_OPEN ? c->d->route->target.port : 0);
	if (len == 0) {
		mux_conn_fail(c, "%s", c->kind == MUX_CMD ? "the command is "
		    "too long" : "target name too long");
		return;
	}
	if (send(c->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		mux_conn_fail(c, "control socket: %s", strerror(errno));
		return;
	}
	if (c->kind == MUX_CMD) {
		if (ssh_mux_cmd_fds(c) != 0) {
			mux_conn_fail(c, "passing the command's stdio: %s",
			    strerror(errno));
			return;
		}
	} else if (c->kind == MUX_OPEN && b->set.mux_client &&
	    c->d->client_fd != -1 && c->d->tls == NULL) {
		/*
		 * The client's own socket as the forward's stdin and stdout:
		 * the master moves its bytes, postern's hop is gone.  The
		 * master reads it only once the channel is open; a refused
		 * open leaves it untouched, for the next route.
		 */
		c->handoff = 1;
		if (ssh_mux_send_fd(c->fd, c->d->client_fd) != 0 ||
		    ssh_mux_send_fd(c->fd, c->d->client_fd) != 0) {
			mux_conn_fail(c, "passing the client's socket: %s",
			    strerror(errno));
			return;
		}
	} else if (c->kind == MUX_OPEN) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) ==
		    -1) {
			mux_conn_fail(c, "socketpair: %s", strerror(errno));
			return;
		}
		c->local = sp[0];
		evutil_make_socket_nonblocking(sp[0]);
		/* The master's stdin and stdout of the forward: one socket. */
		if (ssh_mux_send_fd(c->fd, sp[1]) != 0 ||
		    ssh_mux_send_fd(c->fd, sp[1]) != 0) {
			close(sp[1]);
			mux_conn_fail(c, "passing the channel's socket: %s",
			    strerror(errno));
			return;
		}
		close(sp[1]);
	}
	c->ev = event_new(b->pool->base, c->fd, EV_READ | EV_PERSIST,
	    mux_read_cb, c);
	if (c->ev == NULL || event_add(c->ev, NULL) != 0)
		mux_conn_fail(c, "%s", "out of memory");
}

void
ssh_mux_conn_start_cb(evutil_socket_t fd, short what, void *arg)
{
	ssh_mux_conn_start(arg);
}

/* ------------------------------------------------------------------ */
/* Readiness, keepalive, stop. */

static void
mux_probe(struct ssh_bastion *b)
{
	struct ssh_mux_conn	*c;

	if (b->mux.probe != NULL)
		return;
	if ((c = ssh_mux_conn_new(b, MUX_PROBE, NULL)) == NULL)
		return;
	b->mux.probe = c;
	ssh_mux_conn_start(c);
}

/* While connecting: is the control socket there and answering yet? */
static void
mux_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_bastion	*b = arg;
	struct timeval		 tv = clock_tv(MUX_POLL_MS);

	if (b->state != SSH_CONNECTING)
		return;
	if (b->mux.probe == NULL && access(b->mux.path, F_OK) == 0)
		mux_probe(b);
	if (b->state == SSH_CONNECTING)
		evtimer_add(b->mux.poll, &tv);
}

void
ssh_mux_init(struct ssh_bastion *b)
{
	b->mux.pid = b->mux.errfd = -1;
	TAILQ_INIT(&b->mux.waiting);
	TAILQ_INIT(&b->mux.conns);
	TAILQ_INIT(&b->mux.proxies);
}

void
ssh_mux_connect(struct ssh_bastion *b)
{
	struct ssh_mux_state	*m = &b->mux;
	struct timeval		 tv = clock_tv(0);

	if (m->poll == NULL && (m->poll = evtimer_new(b->pool->base,
	    mux_poll_cb, b)) == NULL) {
		ssh_fail(b, "out of memory");
		return;
	}
	if (b->set.control_path != NULL) {
		if (strlen(b->set.control_path) >= sizeof(m->path)) {
			b->local_fail = 1;
			ssh_fail(b, "control_path %s: longer than a unix socket "
			    "path may be", b->set.control_path);
			return;
		}
		snprintf(m->path, sizeof(m->path), "%s", b->set.control_path);
	} else if (ssh_mux_spawn(b) != 0) {
		char	why[sizeof(b->last_error)];

		memcpy(why, b->last_error, sizeof(why));
		b->local_fail = 1;
		ssh_fail(b, "%s", why);
		return;
	}
	evtimer_add(m->poll, &tv);
}

void
ssh_mux_keepalive(struct ssh_bastion *b)
{
	int	ms;

	if (b->mux.probe != NULL) {
		/* The last check has no answer yet. */
		if (++b->missed >= b->set.keepalive_count) {
			ms = b->set.keepalive_ms * b->missed;
			ssh_fail(b, "the ssh master did not answer %d alive "
			    "checks in %d.%03ds", b->missed, ms / 1000,
			    ms % 1000);
		}
		return;
	}
	mux_probe(b);
}

void
ssh_mux_stop(struct ssh_bastion *b, const char *detail)
{
	struct ssh_mux_state	*m = &b->mux;
	struct ssh_mux_conn	*c;
	struct dial		*d;
	int			 st;

	if (m->poll != NULL)
		evtimer_del(m->poll);
	ssh_mux_proxy_stop(b, detail);
	/* Dials first: their callbacks may dial again (and fail at once). */
	while ((c = TAILQ_FIRST(&m->waiting)) != NULL ||
	    (c = TAILQ_FIRST(&m->conns)) != NULL) {
		d = c->d;
		c->d = NULL;
		ssh_mux_conn_free(c);
		if (d != NULL) {
			d->ssh_mux = NULL;
			snprintf(d->detail, sizeof(d->detail), "%s", detail !=
			    NULL ? detail : "bastion closed");
			dial_finish(d, DIAL_SSH, NULL);
		}
	}
	b->nchans = 0;
	if (m->errev != NULL)
		event_free(m->errev);
	m->errev = NULL;
	if (m->errfd != -1)
		close(m->errfd);
	m->errfd = -1;
	if (m->pid > 0) {
		kill(m->pid, SIGTERM);
		if (waitpid(m->pid, &st, 0) == -1)
			log_warnx("%s: waitpid %d: %s", b->label, m->pid,
			    strerror(errno));
		m->pid = -1;
	}
	ssh_mux_fwd_forget(b);		/* the next master is asked again */
	if (m->dir[0] != '\0') {
		(void)unlink(m->path);
		(void)rmdir(m->dir);
		m->dir[0] = '\0';
	}
}

void
ssh_mux_free(struct ssh_bastion *b)
{
	ssh_mux_stop(b, NULL);
	free(b->mux.targets);
	b->mux.targets = NULL;
	b->mux.ntargets = 0;
	if (b->mux.poll != NULL)
		event_free(b->mux.poll);
	b->mux.poll = NULL;
}

/* ------------------------------------------------------------------ */
/* Dials. */

int
ssh_mux_stdio_opening(const struct ssh_bastion *b)
{
	const struct ssh_mux_conn	*c;

	/* The master writes the line and the reply in one turn. */
	if (!TAILQ_EMPTY(&b->mux.waiting) || (b->mux.stdio_failed_ms != 0 &&
	    clock_since(b->mux.stdio_failed_ms) < MUX_FAIL_PAIR_MS))
		return (1);
	TAILQ_FOREACH(c, &b->mux.conns, entry)
		if (c->kind == MUX_OPEN)
			return (1);
	return (0);
}

void
ssh_mux_dial(struct ssh_bastion *b, struct dial *d)
{
	struct ssh_mux_conn	*c;

	if (b->state == SSH_BACKOFF) {
		snprintf(d->detail, sizeof(d->detail), "bastion %.60s: %.300s "
		    "(retrying in %ld ms)", b->set.name, b->last_error,
		    ssh_backoff_left_ms(b));
		dial_fail_later(d, b->local_fail ? DIAL_LOCAL : DIAL_SSH);
		return;
	}
	if (b->state != SSH_READY && b->state != SSH_CONNECTING) {
		snprintf(d->detail, sizeof(d->detail), "bastion %s is not "
		    "running", b->set.name);
		dial_fail_later(d, DIAL_SSH);
		return;
	}
	/* mux_forward = proxy: a channel of ours; none to be had: stdio. */
	if (b->state == SSH_READY && b->set.mux_proxy &&
	    ssh_mux_proxy_dial(b, d) == 0)
		return;
	c = ssh_mux_conn_new(b, b->state == SSH_READY ? MUX_OPEN : MUX_WAIT, d);
	if (c != NULL && c->kind == MUX_OPEN && b->set.mux_listener)
		ssh_mux_fwd_choose(c);
	if (c == NULL) {
		snprintf(d->detail, sizeof(d->detail), "out of memory");
		dial_fail_later(d, DIAL_LOCAL);
		return;
	}
	d->ssh_mux = c;
	if (c->kind == MUX_WAIT)
		return;
	/* Never from inside dial_start: from the loop. */
	c->tmr = evtimer_new(b->pool->base, ssh_mux_conn_start_cb, c);
	if (c->tmr == NULL) {
		ssh_mux_cancel(c);
		snprintf(d->detail, sizeof(d->detail), "out of memory");
		dial_fail_later(d, DIAL_LOCAL);
		return;
	}
	event_active(c->tmr, EV_TIMEOUT, 0);
}

void
ssh_mux_dial_timeout(struct dial *d)
{
	struct ssh_mux_conn	*c = d->ssh_mux;
	struct ssh_bastion	*b = c->b;

	/*
	 * A master started again after a failure has said nothing yet: the
	 * last attempt's error is the likelier cause (a refused host key),
	 * not a bare "not connected yet".
	 */
	if (c->kind == MUX_WAIT && b->mux.errline[0] == '\0' &&
	    b->last_error[0] != '\0')
		snprintf(d->detail, sizeof(d->detail), "connect timeout after "
		    "%d ms (bastion %s: ssh master not connected yet; last "
		    "attempt: %.300s)", d->timeout_ms, b->set.name,
		    b->last_error);
	else if (c->kind == MUX_WAIT)
		snprintf(d->detail, sizeof(d->detail), "connect timeout after "
		    "%d ms (bastion %s: ssh master not connected yet%s%.300s)",
		    d->timeout_ms, b->set.name, b->mux.errline[0] != '\0' ?
		    "; ssh: " : "", b->mux.errline);
	else
		snprintf(d->detail, sizeof(d->detail), "connect timeout after "
		    "%d ms (bastion %s did not answer the channel open: it "
		    "may not reach %s:%u)", d->timeout_ms, b->set.name,
		    d->route->target.host, d->route->target.port);
}

void
ssh_mux_cancel(struct ssh_mux_conn *c)
{
	if (c == NULL)
		return;
	c->d = NULL;
	ssh_mux_conn_free(c);
}
