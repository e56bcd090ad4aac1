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
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

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
#include "ssh_mux_wire.h"

/* How often to look for the control socket while ssh connects. */
#define MUX_POLL_MS		20
/* A control socket whose listen queue is full: try again this soon. */
#define MUX_BUSY_MS		2

enum mux_kind {
	MUX_WAIT,		/* a dial before the master is ready */
	MUX_PROBE,		/* alive check */
	MUX_OPEN,		/* stdio forward asked */
	MUX_LIVE		/* forward opened: held for the channel */
};

struct ssh_mux_conn {
	TAILQ_ENTRY(ssh_mux_conn) entry;
	struct ssh_bastion	*b;
	enum mux_kind		 kind;
	int			 fd;		/* to the control socket */
	int			 local;		/* socketpair: the dial's end */
	struct event		*ev;		/* read */
	struct event		*tmr;		/* start from the loop; retry */
	struct dial		*d;		/* MUX_WAIT, MUX_OPEN */
	uint32_t		 rid;
	int64_t			 since;		/* clock_ms: asked */
	unsigned char		 in[MUX_MSG_MAX + 4];
	size_t			 inlen;
};

static void	mux_conn_free(struct ssh_mux_conn *);
static void	mux_start(struct ssh_mux_conn *);
static void	mux_start_cb(evutil_socket_t, short, void *);

/* ------------------------------------------------------------------ */
/* Passing the channel's socket. */

/* One fd by SCM_RIGHTS, with the one byte of data OpenSSH expects. */
static int
mux_send_fd(int sock, int fd)
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
/* The master's stderr: its last line says why it failed. */

/*
 * Lines before the last that say what to do about it: a missing -i
 * (only a warning to ssh), and a changed host key's offending
 * known_hosts line with the ssh-keygen -R command that removes it.
 */
static void
mux_err_hint(struct ssh_mux_state *m, const char *line)
{
	const char	*p;
	size_t		 n = strlen(m->idline);

	if ((p = strstr(line, "Identity file ")) != NULL &&
	    strstr(p, " not accessible: ") != NULL)
		snprintf(m->idline, sizeof(m->idline), "%s", p);
	else if (strncmp(line, "Offending ", 10) == 0)
		snprintf(m->idline, sizeof(m->idline), "%s", line);
	else if ((p = strstr(line, "ssh-keygen -f ")) != NULL &&
	    strncmp(m->idline, "Offending ", 10) == 0)
		snprintf(m->idline + n, sizeof(m->idline) - n, "; if the "
		    "change is expected, remove the old key with: %s", p);
}

static void
mux_err_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_bastion	*b = arg;
	struct ssh_mux_state	*m = &b->mux;
	char			 buf[512];
	ssize_t			 n, i;
	int			 st = 0;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (i = 0; i < n; i++) {
		if (buf[i] == '\r')
			continue;
		if (buf[i] != '\n') {
			if (m->errlen < sizeof(m->errbuf) - 1)
				m->errbuf[m->errlen++] = buf[i];
			continue;
		}
		m->errbuf[m->errlen] = '\0';
		if (m->errlen > 0) {
			memcpy(m->errline, m->errbuf, m->errlen + 1);
			log_debug("%s: ssh: %s", b->label, m->errline);
		}
		mux_err_hint(m, m->errbuf);
		m->errlen = 0;
	}
	if (n > 0)
		return;
	/* EOF: the master is gone (or closed stderr, and goes now). */
	event_free(m->errev);
	m->errev = NULL;
	close(m->errfd);
	m->errfd = -1;
	if (m->pid > 0 && waitpid(m->pid, &st, WNOHANG) == 0) {
		kill(m->pid, SIGTERM);
		(void)waitpid(m->pid, &st, 0);
	}
	m->pid = -1;
	/*
	 * What no retry mends (ssh itself exits 255 on them): in quick mode,
	 * before the tunnel ever worked, postern stops too (ssh.c).
	 */
	if (strstr(m->errline, "Host key verification failed") != NULL ||
	    strstr(m->errline, "Permission denied") != NULL ||
	    (strstr(m->errline, "Could not resolve hostname") != NULL &&
	    strstr(m->errline, "Temporary failure") == NULL))
		b->permanent = 1;	/* a resolver that did not answer: not */
	/* Refused, and the identity was not there; or which key changed. */
	if (strstr(m->errline, "Permission denied") == NULL &&
	    strstr(m->errline, "Host key verification failed") == NULL)
		m->idline[0] = '\0';
	if (WIFSIGNALED(st))
		ssh_fail(b, "ssh exited on signal %d%s%s", WTERMSIG(st),
		    m->errline[0] != '\0' ? ": " : "", m->errline);
	else
		ssh_fail(b, "ssh exited with status %d%s%s%s%s%s",
		    WEXITSTATUS(st), m->errline[0] != '\0' ? ": " : "",
		    m->errline, m->idline[0] != '\0' ? " (" : "", m->idline,
		    m->idline[0] != '\0' ? ")" : "");
}

/* ------------------------------------------------------------------ */
/* Running the master. */

static int
mux_private_dir(struct ssh_bastion *b)
{
	struct ssh_mux_state	*m = &b->mux;
	const char		*rt = getenv("XDG_RUNTIME_DIR");

	if (rt == NULL || *rt != '/' || strlen(rt) > 60)
		rt = "/tmp";
	snprintf(m->dir, sizeof(m->dir), "%s/postern-ssh.XXXXXX", rt);
	if (mkdtemp(m->dir) == NULL) {	/* mode 0700 */
		snprintf(b->last_error, sizeof(b->last_error), "mkdtemp %s: %s",
		    m->dir, strerror(errno));
		m->dir[0] = '\0';
		return (-1);
	}
	snprintf(m->path, sizeof(m->path), "%s/ctl", m->dir);
	return (0);
}

/* In the child: exec ssh with the bastion's settings; never returns. */
static void
mux_exec(const struct ssh_bastion *b, int errfd)
{
	const struct ssh_settings *s = &b->set;
	char		 opt[12][400], port[16], dest[400];
	const char	*argv[48];
	int		 n = 0, k = 0, fd, ka;

#ifdef __linux__
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
	signal(SIGPIPE, SIG_DFL);
	(void)setpgid(0, 0);	/* a terminal's ^C is for postern */
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
	}
	dup2(errfd, STDERR_FILENO);
	/* Listeners and sessions are not ssh's (the limit may be raised). */
#ifdef SYS_close_range
	if (syscall(SYS_close_range, STDERR_FILENO + 1, ~0U, 0) != 0)
#endif
		for (fd = STDERR_FILENO + 1; fd < 65536; fd++)
			(void)close(fd);
	ka = (s->keepalive_ms + 999) / 1000;
	argv[n++] = "ssh";
	argv[n++] = "-M";
	argv[n++] = "-N";
	argv[n++] = "-S";
	argv[n++] = b->mux.path;
	if (s->ssh_config != NULL) {
		argv[n++] = "-F";
		argv[n++] = s->ssh_config;
	}
#define OPT(...) do {							\
		snprintf(opt[k], sizeof(opt[k]), __VA_ARGS__);		\
		argv[n++] = "-o";					\
		argv[n++] = opt[k++];					\
	} while (0)
	OPT("ControlPersist=no");
	OPT("BatchMode=yes");
	OPT("ExitOnForwardFailure=yes");
	OPT("ClearAllForwardings=yes");
	OPT("ServerAliveInterval=%d", ka);
	OPT("ServerAliveCountMax=%d", s->keepalive_count);
	OPT("ConnectTimeout=%d", (s->connect_timeout_ms + 999) / 1000);
	/* Never "no": an unknown key is refused, or added when asked. */
	OPT("StrictHostKeyChecking=%s", s->accept_new ? "accept-new" : "yes");
	if (s->known_hosts_given)	/* else ssh's own, as configured */
		OPT("UserKnownHostsFile=%s", s->known_hosts);
	if (s->ciphers != NULL)
		OPT("Ciphers=%s", s->ciphers);
	if (s->hostkey_algs != NULL)
		OPT("HostKeyAlgorithms=%s", s->hostkey_algs);
#undef OPT
	if (s->identity != NULL) {
		argv[n++] = "-i";
		argv[n++] = s->identity;
	}
	if (s->proxy_jump != NULL) {
		argv[n++] = "-J";
		argv[n++] = s->proxy_jump;
	}
	if (s->destination != NULL) {
		/* As typed: ssh's Host and Match blocks see the alias. */
		snprintf(dest, sizeof(dest), "%s%s", strchr(s->destination,
		    ':') != NULL && strncmp(s->destination, "ssh://", 6) != 0 ?
		    "ssh://" : "", s->destination);
		argv[n++] = "--";
		argv[n++] = dest;
	} else {
		snprintf(port, sizeof(port), "%u", s->port);
		argv[n++] = "-p";
		argv[n++] = port;
		argv[n++] = "-l";
		argv[n++] = s->user;
		argv[n++] = "--";
		argv[n++] = s->host;
	}
	argv[n] = NULL;
	execvp("ssh", (char *const *)argv);
	dprintf(STDERR_FILENO, "cannot run ssh: %s\n", strerror(errno));
	_exit(127);
}

static int
mux_spawn(struct ssh_bastion *b)
{
	struct ssh_mux_state	*m = &b->mux;
	int			 p[2];
	pid_t			 pid;

	if (m->dir[0] == '\0' && mux_private_dir(b) != 0)
		return (-1);
	(void)unlink(m->path);		/* a dead master's */
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(b->last_error, sizeof(b->last_error), "pipe: %s",
		    strerror(errno));
		return (-1);
	}
	if ((pid = fork()) == -1) {
		snprintf(b->last_error, sizeof(b->last_error), "fork: %s",
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return (-1);
	}
	if (pid == 0) {
		close(p[0]);
		mux_exec(b, p[1]);
	}
	close(p[1]);
	m->pid = pid;
	m->errfd = p[0];
	m->errlen = 0;
	m->errline[0] = '\0';
	m->idline[0] = '\0';
	evutil_make_socket_nonblocking(p[0]);
	m->errev = event_new(b->pool->base, p[0], EV_READ | EV_PERSIST,
	    mux_err_cb, b);
	if (m->errev == NULL || event_add(m->errev, NULL) != 0) {
		snprintf(b->last_error, sizeof(b->last_error), "out of memory");
		return (-1);
	}
	log_debug("%s: started ssh (pid %d), control socket %s", b->label,
	    (int)pid, m->path);
	return (0);
}

/* ------------------------------------------------------------------ */
/* Mux connections. */

static struct ssh_mux_conn *
mux_conn_new(struct ssh_bastion *b, enum mux_kind kind, struct dial *d)
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

static void
mux_conn_free(struct ssh_mux_conn *c)
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
	while ((c = TAILQ_FIRST(&b->mux.waiting)) != NULL) {
		TAILQ_REMOVE(&b->mux.waiting, c, entry);
		c->kind = MUX_OPEN;
		TAILQ_INSERT_TAIL(&b->mux.conns, c, entry);
		mux_start(c);
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
	if (c->kind == MUX_PROBE) {
		mux_conn_free(c);
		if (b->state == SSH_READY)
			ssh_fail(b, "ssh master: %s", msg);
		return;			/* connecting: the poll goes on */
	}
	c->d = NULL;
	mux_conn_free(c);
	snprintf(d->detail, sizeof(d->detail), "bastion %.60s: %.200s%s%.200s",
	    b->set.name, msg, b->mux.errline[0] != '\0' ? "; ssh: " : "",
	    b->mux.errline);
	d->ssh_mux = NULL;
	dial_finish(d, DIAL_SSH, NULL);
}

/* One reply from the master. */
static void
mux_reply(struct ssh_mux_conn *c, const struct ssh_mux_msg *msg)
{
	struct ssh_bastion	*b = c->b;
	struct bufferevent	*bev;
	struct dial		*d;

	if (msg->rid != c->rid) {
		mux_conn_fail(c, "%s", "bad reply on the control socket");
		return;
	}
	switch (msg->type) {
	case MUX_S_ALIVE:
		if (c->kind != MUX_PROBE)
			break;
		mux_conn_free(c);
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
		bev = bufferevent_socket_new(b->pool->base, c->local,
		    BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			mux_conn_free(c);
			snprintf(d->detail, sizeof(d->detail), "out of memory");
			dial_finish(d, DIAL_LOCAL, NULL);
			return;
		}
		c->local = -1;		/* the bev's now */
		snprintf(d->detail, sizeof(d->detail), "via %s (OpenSSH)",
		    b->via);
		dial_finish(d, DIAL_OK, bev);
		return;
	case MUX_S_PERMISSION_DENIED:
	case MUX_S_FAILURE:
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
			mux_conn_free(c);
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
		if (msg.type != MUX_MSG_HELLO) {
			mux_reply(c, &msg);	/* c may be gone */
			return;
		}
	}
}

/* Connect to the control socket and send the request (and the fds). */
static void
mux_start(struct ssh_mux_conn *c)
{
	struct ssh_bastion	*b = c->b;
	struct sockaddr_un	 sun;
	unsigned char		 buf[600];
	size_t			 len;
	int			 sp[2], busy;
	struct timeval		 tv;

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
			c->tmr = evtimer_new(b->pool->base, mux_start_cb, c);
		if (c->tmr == NULL || evtimer_add(c->tmr, &tv) != 0)
			mux_conn_fail(c, "%s", "out of memory");
		return;
	}
	if ((len = ssh_mux_encode(buf, sizeof(buf), c->rid, c->kind ==
	    MUX_OPEN ? c->d->route->target.host : NULL, c->kind == MUX_OPEN ?
	    c->d->route->target.port : 0)) == 0) {
		mux_conn_fail(c, "%s", "target name too long");
		return;
	}
	if (send(c->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		mux_conn_fail(c, "control socket: %s", strerror(errno));
		return;
	}
	if (c->kind == MUX_OPEN) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) ==
		    -1) {
			mux_conn_fail(c, "socketpair: %s", strerror(errno));
			return;
		}
		c->local = sp[0];
		evutil_make_socket_nonblocking(sp[0]);
		/* The master's stdin and stdout of the forward: one socket. */
		if (mux_send_fd(c->fd, sp[1]) != 0 ||
		    mux_send_fd(c->fd, sp[1]) != 0) {
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

static void
mux_start_cb(evutil_socket_t fd, short what, void *arg)
{
	mux_start(arg);
}

/* ------------------------------------------------------------------ */
/* Readiness, keepalive, stop. */

static void
mux_probe(struct ssh_bastion *b)
{
	struct ssh_mux_conn	*c;

	if (b->mux.probe != NULL)
		return;
	if ((c = mux_conn_new(b, MUX_PROBE, NULL)) == NULL)
		return;
	b->mux.probe = c;
	mux_start(c);
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
	} else if (mux_spawn(b) != 0) {
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
	/* Dials first: their callbacks may dial again (and fail at once). */
	while ((c = TAILQ_FIRST(&m->waiting)) != NULL ||
	    (c = TAILQ_FIRST(&m->conns)) != NULL) {
		d = c->d;
		c->d = NULL;
		mux_conn_free(c);
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
	if (b->mux.poll != NULL)
		event_free(b->mux.poll);
	b->mux.poll = NULL;
}

/* ------------------------------------------------------------------ */
/* Dials. */

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
	c = mux_conn_new(b, b->state == SSH_READY ? MUX_OPEN : MUX_WAIT, d);
	if (c == NULL) {
		snprintf(d->detail, sizeof(d->detail), "out of memory");
		dial_fail_later(d, DIAL_LOCAL);
		return;
	}
	d->ssh_mux = c;
	if (c->kind == MUX_WAIT)
		return;
	/* Never from inside dial_start: from the loop. */
	c->tmr = evtimer_new(b->pool->base, mux_start_cb, c);
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

	if (c->kind == MUX_WAIT)
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
	mux_conn_free(c);
}
