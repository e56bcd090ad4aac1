/*
 * ssh_mux_cmd.c: session_command on the OpenSSH engine.
 *
 * OpenSSH's sshd leaves Nagle's algorithm on for a connection that only
 * carries forwarded channels and turns it off once a session runs a
 * command; its client does the same on its own end when it sets a
 * session up.  Bursts of small packets (channel opens, pipelined
 * requests) then stop waiting for acknowledgements.  The libssh2 engine
 * opens such a session itself (ssh_open.c); here the master is asked for
 * one through its control socket (MUX_C_NEW_SESSION, as `ssh -S path
 * host command` would), once each time a master is ready.
 *
 * Nothing depends on it: a refused or ended command is logged and the
 * bastion stays up.  The command's stdin, stdout and stderr are one end
 * of a socketpair; postern never writes to it (the command sees no EOF,
 * as with the libssh2 engine) and logs the first lines that come out.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "clock.h"
#include "log.h"
#include "ssh_int.h"
#include "ssh_mux_int.h"

/* Output lines logged per command; the rest is read and dropped. */
#define MUX_CMD_LINES	20

void
ssh_mux_cmd_start(struct ssh_bastion *b)
{
	struct ssh_mux_conn	*c;

	if (b->set.command == NULL)
		return;
	if ((c = ssh_mux_conn_new(b, MUX_CMD, NULL)) == NULL) {
		log_warnx("%s: session_command: out of memory", b->label);
		return;
	}
	ssh_mux_conn_start(c);		/* c may be gone */
}

/*
 * How long an ended command's output may trail its exit message: the
 * master sends the exit message when the server's exit-status arrives,
 * and may write the last output to our socket a turn later.
 */
#define MUX_CMD_TRAIL_MS	1000

/* The command ended and said all it had: log its end, free c. */
static void
mux_cmd_ended(struct ssh_mux_conn *c)
{
	log_warnx("%s: session_command '%s' ended (exit status %u)",
	    c->b->label, c->b->set.command, c->status);
	ssh_mux_conn_free(c);
}

static void
mux_cmd_trail_cb(evutil_socket_t fd, short what, void *arg)
{
	mux_cmd_ended(arg);
}

/* Log one read of what the command says, up to MUX_CMD_LINES lines. */
static int
mux_cmd_out(struct ssh_mux_conn *c)
{
	char		 buf[1024], *line, *next;
	ssize_t		 n;

	n = read(c->local, buf, sizeof(buf) - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return (0);
	if (n <= 0) {
		/* Its output is closed; its end comes on the control socket. */
		event_del(c->out);
		if (c->exited)
			mux_cmd_ended(c);	/* c is gone */
		return (0);
	}
	buf[n] = '\0';
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strpbrk(line, "\r\n")) != NULL)
			*next++ = '\0';
		if (*line == '\0')
			continue;
		if (c->lines++ >= MUX_CMD_LINES) {
			if (c->lines == MUX_CMD_LINES + 2)
				log_info("%s: session_command: further output "
				    "not logged", c->b->label);
			continue;
		}
		log_info("%s: session_command says: %.200s", c->b->label,
		    log_clean(line));
	}
	return (1);
}

static void
mux_cmd_out_cb(evutil_socket_t fd, short what, void *arg)
{
	mux_cmd_out(arg);
}

int
ssh_mux_cmd_fds(struct ssh_mux_conn *c)
{
	int	sp[2], i, err;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		return (-1);
	for (i = 0; i < 3; i++) {
		if (ssh_mux_send_fd(c->fd, sp[1]) != 0) {
			err = errno;
			close(sp[0]);
			close(sp[1]);
			errno = err;
			return (-1);
		}
	}
	close(sp[1]);
	c->local = sp[0];
	evutil_make_socket_nonblocking(c->local);
	c->out = event_new(c->b->pool->base, c->local, EV_READ | EV_PERSIST,
	    mux_cmd_out_cb, c);
	if (c->out == NULL || event_add(c->out, NULL) != 0) {
		errno = ENOMEM;
		return (-1);
	}
	return (0);
}

int
ssh_mux_cmd_reply(struct ssh_mux_conn *c, const struct ssh_mux_msg *msg)
{
	struct ssh_bastion	*b = c->b;
	struct timeval		 tv;
	int			 i;

	switch (msg->type) {
	case MUX_S_SESSION_OPENED:
		if (msg->rid != c->rid || c->running)
			break;
		c->running = 1;
		c->sid = msg->value;
		log_info("%s: session_command '%s' running", b->label,
		    b->set.command);
		return (0);
	case MUX_S_PERMISSION_DENIED:
	case MUX_S_FAILURE:
		if (msg->rid != c->rid || c->running)
			break;
		log_warnx("%s: session_command '%s': the ssh master refused "
		    "the session: %s (Nagle stays on at the bastion)",
		    b->label, b->set.command, msg->reason);
		ssh_mux_conn_free(c);
		return (1);
	case MUX_S_EXIT_MESSAGE:
		if (!c->running || msg->rid != c->sid)
			break;
		/*
		 * Its last words first: they were written before its end,
		 * but may still be on their way (the master writes them a
		 * turn later): read what is there, then wait for the output's
		 * EOF, MUX_CMD_TRAIL_MS at most.
		 */
		c->status = msg->value;
		for (i = 0; i < 64 && c->out != NULL &&
		    event_pending(c->out, EV_READ, NULL) && mux_cmd_out(c); i++)
			;
		if (c->out == NULL || !event_pending(c->out, EV_READ, NULL)) {
			mux_cmd_ended(c);
			return (1);
		}
		c->exited = 1;
		event_del(c->ev);	/* its close says nothing more */
		tv = clock_tv(MUX_CMD_TRAIL_MS);
		if (c->tmr == NULL)
			c->tmr = evtimer_new(b->pool->base, mux_cmd_trail_cb, c);
		if (c->tmr == NULL || evtimer_add(c->tmr, &tv) != 0)
			mux_cmd_ended(c);
		return (1);
	}
	log_warnx("%s: session_command: unexpected message %#x on the control "
	    "socket", b->label, msg->type);
	ssh_mux_conn_free(c);
	return (1);
}

void
ssh_mux_cmd_fail(struct ssh_mux_conn *c, const char *why)
{
	struct ssh_bastion	*b = c->b;

	/* A master that goes takes its session along: its own failure says. */
	if (c->running)
		log_info("%s: session_command '%s' ended with the ssh master's "
		    "control connection", b->label, b->set.command);
	else
		log_warnx("%s: session_command '%s': %s (Nagle stays on at the "
		    "bastion)", b->label, b->set.command, why);
	ssh_mux_conn_free(c);
}
