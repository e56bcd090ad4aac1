/*
 * relay_handoff.c: a relay that moves no bytes itself.  The client's
 * socket was handed to an OpenSSH ControlMaster as both ends of a stdio
 * forward (mux_forward = client, ssh_mux.c), so the master reads and
 * writes it and postern's hop is gone (issue 24: the bulk rows were the
 * hop's cost).  What stays here is what the session needs of a relay:
 * its end, its byte counts and a way to cut it.
 *
 * The end: the master closes the forward's control connection when the
 * channel ends; we hold a copy of it (ctl) and read its EOF.  The bytes:
 * the kernel counts them on the client's socket (TCP_INFO:
 * tcpi_bytes_received is what the client sent, tcpi_bytes_acked what it
 * got), read at every relay_sync() and at the end.  Who ended it: our
 * copy keeps the client's socket open, so a client that sent FIN leaves
 * it in CLOSE_WAIT; otherwise the server's side ended.  Cutting it:
 * shutdown() of both sockets, which every copy shares (the master sees
 * its control connection end and drops the channel; the client sees
 * FIN at once).
 *
 * <linux/tcp.h> is included alone: glibc's <netinet/tcp.h> has no byte
 * counts in its struct tcp_info, and the two cannot meet in one file.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <linux/tcp.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "relay_int.h"

/* tcpi_state values (the kernel's net/tcp_states.h; not in linux/tcp.h). */
#define HANDOFF_TCP_CLOSE	7
#define HANDOFF_TCP_CLOSE_WAIT	8
#define HANDOFF_TCP_LAST_ACK	9
#define HANDOFF_TCP_CLOSING	11

/*
 * The client socket's counts and whether the client finished first
 * (1), reset (-1) or neither (0).  Nothing changes when TCP_INFO is not
 * there (a kernel before 4.1, a socket that is not TCP).
 */
static int
relay_handoff_info(struct relay *r)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof(ti);
	int		fd = r->side[RELAY_CLIENT].fdio.fd, fin = 0;

	memset(&ti, 0, sizeof(ti));
	if (fd == -1 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return (0);
	switch (ti.tcpi_state) {
	case HANDOFF_TCP_CLOSE_WAIT:
	case HANDOFF_TCP_LAST_ACK:
	case HANDOFF_TCP_CLOSING:
		fin = 1;
		break;
	case HANDOFF_TCP_CLOSE:
		fin = -1;
		break;
	}
	if (len >= offsetof(struct tcp_info, tcpi_bytes_received) +
	    sizeof(ti.tcpi_bytes_received)) {
		/* The client's FIN takes a sequence number: not a byte. */
		r->side[RELAY_CLIENT].bytes = ti.tcpi_bytes_received -
		    (fin == 1 && ti.tcpi_bytes_received > 0);
		r->side[RELAY_SERVER].bytes = ti.tcpi_bytes_acked;
	}
	return (fin);
}

/* The control connection's EOF: the channel is over. */
static void
relay_handoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay	*r = arg;
	char		 junk[256];
	ssize_t		 n;
	int		 who, err = 0;

	n = read(fd, junk, sizeof(junk));
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return;			/* nothing is due; not the end */
	if (n < 0)
		err = errno;
	who = relay_handoff_info(r);
	if (who == -1)
		relay_note_end(r, RELAY_CLIENT, 1, "connection reset");
	else if (who == 1)
		relay_note_end(r, RELAY_CLIENT, 0, NULL);
	else if (err != 0)
		relay_note_end(r, RELAY_SERVER, 1, strerror(err));
	else
		relay_note_end(r, RELAY_SERVER, 0, NULL);
	r->side[RELAY_CLIENT].eof = r->side[RELAY_SERVER].eof = 1;
	r->side[RELAY_CLIENT].shut = r->side[RELAY_SERVER].shut = 1;
	relay_check_done(r);		/* stops, then the done callback */
}

int
relay_start_handoff(struct relay *r, struct event_base *base, int client_fd,
    int ctl_fd, relay_done_cb *cb, void *arg)
{
	struct relay_side	*s = &r->side[RELAY_SERVER];

	r->cb = cb;
	r->arg = arg;
	r->handoff = 1;
	r->side[RELAY_CLIENT].fdio.fd = client_fd;
	s->fdio.fd = ctl_fd;
	s->fdio.rev = event_new(base, ctl_fd, EV_READ | EV_PERSIST,
	    relay_handoff_cb, r);
	if (s->fdio.rev == NULL || event_add(s->fdio.rev, NULL) != 0)
		return (-1);
	s->fdio.reading = 1;
	return (0);
}

void
relay_handoff_sync(struct relay *r)
{
	if (r->handoff && !r->done)
		(void)relay_handoff_info(r);
}

void
relay_handoff_stop(struct relay *r)
{
	struct relay_side	*s = &r->side[RELAY_SERVER];

	if (s->fdio.rev != NULL && s->fdio.reading)
		event_del(s->fdio.rev);
	s->fdio.reading = 0;
	if (r->done)
		return;
	/* Cut short by postern: counts first, then end it everywhere. */
	(void)relay_handoff_info(r);
	r->done = 1;
	if (s->fdio.fd != -1)
		(void)shutdown(s->fdio.fd, SHUT_RDWR);
	if (r->side[RELAY_CLIENT].fdio.fd != -1)
		(void)shutdown(r->side[RELAY_CLIENT].fdio.fd, SHUT_RDWR);
}
