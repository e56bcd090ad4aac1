/*
 * ssh_mux_master.c: running the OpenSSH engine's ControlMaster: ssh(1)
 * with the bastion's settings in a private 0700 directory, and its
 * stderr, whose last line says why it failed ("Host key verification
 * failed.").  ssh_mux.c opens the channels through it.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
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

#include <event2/event.h>

#include "log.h"
#include "ssh_int.h"

/* ------------------------------------------------------------------ */
/* The master's stderr: its last line says why it failed. */

/*
 * What no retry mends (ssh itself exits 255 on them).  The first such
 * line is kept: with ProxyJump the hop's ssh -W writes to the same pipe,
 * and the master's own last line ("Connection closed by UNKNOWN port
 * 65535") may come after the hop's "Host key verification failed.".
 */
static int
mux_err_final(const char *line)
{
	return (strstr(line, "Host key verification failed") != NULL ||
	    strstr(line, "Permission denied") != NULL ||
	    (strstr(line, "Could not resolve hostname") != NULL &&
	    strstr(line, "Temporary failure") == NULL));	/* may pass */
}

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

/*
 * The bastion's host key for /health: the master runs with
 * VisualHostKey=yes, whose "Host key fingerprint is SHA256:..." line
 * ssh prints once per connection at its default log level (its debug1
 * "Server host key:" line would need -v, which logs every channel), then
 * the key's randomart box, which is not an error line.
 */
static int
mux_err_hostkey(struct ssh_bastion *b, const char *line)
{
	static const char	 fp[] = "Host key fingerprint is ";
	struct ssh_mux_state	*m = &b->mux;

	if (strncmp(line, fp, sizeof(fp) - 1) == 0) {
		snprintf(b->fingerprint, sizeof(b->fingerprint), "%.*s",
		    (int)strcspn(line + sizeof(fp) - 1, " "),
		    line + sizeof(fp) - 1);
		m->art = 1;
		return (1);
	}
	if (m->art && (line[0] == '+' || line[0] == '|'))
		return (1);
	m->art = 0;
	return (0);
}

/* A whole line of ssh's stderr. */
static void
mux_err_line(struct ssh_bastion *b)
{
	struct ssh_mux_state	*m = &b->mux;

	m->errbuf[m->errlen] = '\0';
	if (m->errlen > 0 && mux_err_hostkey(b, m->errbuf)) {
		m->errlen = 0;
		return;
	}
	if (m->errlen > 0) {
		/* ssh repeats the server's words (banners, reasons): no
		   control characters into the log or /health. */
		log_clean(m->errbuf);
		memcpy(m->errline, m->errbuf, m->errlen + 1);
		if (m->errwhy[0] == '\0' && mux_err_final(m->errline))
			memcpy(m->errwhy, m->errline, m->errlen + 1);
		/*
		 * A session through a listener of the master only sees its
		 * connection closed when the bastion refuses the channel:
		 * the master's line is the one word on why.  With a stdio
		 * open in flight the line is likelier its, and its dial
		 * error carries it.
		 */
		if (b->set.mux_listener && strstr(m->errline,
		    ": open failed: ") != NULL && !ssh_mux_stdio_opening(b))
			log_warnx("%s: ssh: %s (a session through the "
			    "master's listener is closed)", b->label,
			    m->errline);
		else
			log_debug("%s: ssh: %s", b->label, m->errline);
		mux_err_hint(m, m->errline);
	}
	m->errlen = 0;
}

/* Read what ssh wrote: 1 (lines taken), -1 (nothing yet), 0 (EOF, error). */
static int
mux_err_read(struct ssh_bastion *b)
{
	struct ssh_mux_state	*m = &b->mux;
	char			 buf[512];
	ssize_t			 n, i;

	n = read(m->errfd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return (-1);
	for (i = 0; i < n; i++) {
		if (buf[i] == '\r')
			continue;
		if (buf[i] != '\n') {
			if (m->errlen < sizeof(m->errbuf) - 1)
				m->errbuf[m->errlen++] = buf[i];
			continue;
		}
		mux_err_line(b);
	}
	return (n > 0);
}

void
ssh_mux_err_drain(struct ssh_bastion *b)
{
	int	n;

	/* Bounded: the pipe holds what ssh wrote before it was ready. */
	for (n = 0; n < 64 && b->mux.errfd != -1 && mux_err_read(b) == 1;
	    n++)
		;
}

static void
mux_err_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_bastion	*b = arg;
	struct ssh_mux_state	*m = &b->mux;
	int			 st = 0;

	if (mux_err_read(b) != 0)
		return;
	mux_err_line(b);		/* a last line without its newline */
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
	/* In quick mode, before the tunnel ever worked, postern stops too. */
	if (m->errwhy[0] != '\0') {
		b->permanent = 1;
		memcpy(m->errline, m->errwhy, sizeof(m->errline));
	}
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

int
ssh_mux_asks(const struct ssh_bastion *b)
{
	return (b->set.ask && !b->set.accept_new && b->set.control_path ==
	    NULL && isatty(STDIN_FILENO));
}

/* In the child: exec ssh with the bastion's settings; never returns. */
static void
mux_exec(const struct ssh_bastion *b, int errfd)
{
	const struct ssh_settings *s = &b->set;
	char		 opt[13][400], port[16], dest[400];
	const char	*argv[48];
	int		 n = 0, k = 0, fd, ka, ask;

#ifdef __linux__
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
	signal(SIGPIPE, SIG_DFL);
	/*
	 * strict_host_key_checking = ask on a terminal: ssh asks on /dev/tty
	 * about an unknown key, as it would for the user, so it stays in the
	 * terminal's foreground process group (a background one is stopped
	 * when it reads).  A terminal's ^C is still postern's: ssh keeps an
	 * ignored SIGINT ignored, and postern's stop ends it.
	 */
	ask = ssh_mux_asks(b);
	if (ask)
		signal(SIGINT, SIG_IGN);
	else
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
	OPT("VisualHostKey=yes");	/* the host key for /health */
	OPT("BatchMode=%s", ask ? "no" : "yes");
	OPT("ExitOnForwardFailure=yes");
	OPT("ClearAllForwardings=yes");
	OPT("ServerAliveInterval=%d", ka);
	OPT("ServerAliveCountMax=%d", s->keepalive_count);
	OPT("ConnectTimeout=%d", (s->connect_timeout_ms + 999) / 1000);
	/* Never "no": an unknown key is refused, or added when asked. */
	OPT("StrictHostKeyChecking=%s", s->accept_new ? "accept-new" :
	    ask ? "ask" : "yes");
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

int
ssh_mux_spawn(struct ssh_bastion *b)
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
	m->errline[0] = m->errwhy[0] = m->idline[0] = '\0';
	m->art = 0;
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
