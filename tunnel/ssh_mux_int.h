/*
 * ssh_mux_int.h: private to the OpenSSH engine (ssh_mux.c, ssh_mux_fwd.c,
 * ssh_mux_cmd.c): its connections to the master's control socket and
 * what the three files call in one another.  ssh_int.h has the
 * engine's entry points for the rest of the tunnel layer.
 */
#ifndef POSTERN_SSH_MUX_INT_H
#define POSTERN_SSH_MUX_INT_H

#include "ssh_int.h"

/* The OpenSSH engine's mux connections (ssh_mux.c, ssh_mux_fwd.c). */
enum mux_kind {
	MUX_WAIT,		/* a dial before the master is ready */
	MUX_PROBE,		/* alive check */
	MUX_OPEN,		/* stdio forward asked */
	MUX_LIVE,		/* forward opened: held for the channel */
	MUX_FWDREQ,		/* a listener asked (mux_forward) */
	MUX_FWDDIAL,		/* a dial to a listener, from the loop */
	MUX_CMD			/* session_command (ssh_mux_cmd.c) */
};

/* One connection to the master's control socket, or a dial waiting. */
struct ssh_mux_conn {
	TAILQ_ENTRY(ssh_mux_conn) entry;
	struct ssh_bastion	*b;
	enum mux_kind		 kind;
	int			 fd;		/* to the control socket */
	int			 local;		/* socketpair: the dial's end */
	int			 handoff;	/* the client's socket passed */
	struct event		*ev;		/* read */
	struct event		*out;		/* MUX_CMD: its output, read */
	uint32_t		 sid;		/* MUX_CMD: the master's session
						   id, once opened */
	int			 running;	/* MUX_CMD: opened */
	int			 lines;		/* MUX_CMD: output lines logged */
	int			 exited;	/* MUX_CMD: its end heard, its
						   output not yet all read */
	uint32_t		 status;	/* MUX_CMD: its exit status */
	struct event		*tmr;		/* start from the loop; retry */
	struct dial		*d;		/* MUX_WAIT, MUX_OPEN, FWDDIAL */
	struct ssh_mux_fwd	*fwd;		/* MUX_FWDREQ, MUX_FWDDIAL */
	uint32_t		 rid;
	int64_t			 since;		/* clock_ms: asked */
	unsigned char		 in[MUX_MSG_MAX + 4];
	size_t			 inlen;
};

/* ssh_mux.c: its mux connections, for ssh_mux_fwd.c */

/*
 * ssh_mux_conn_new(b, kind, d): a connection of kind for dial d (or
 * NULL), in b's waiting list (MUX_WAIT) or its connections; not started.
 * NULL when out of memory.  ssh_mux_conn_free() frees it.
 */
struct ssh_mux_conn *ssh_mux_conn_new(struct ssh_bastion *b,
	    enum mux_kind kind, struct dial *d);

/*
 * ssh_mux_conn_free(c): unlink and free c, closing its sockets and
 * events; its dial (c->d), if any, is only told it has none (its owner
 * finishes it).
 */
void	ssh_mux_conn_free(struct ssh_mux_conn *c);

/*
 * ssh_mux_conn_start(c): connect to the control socket and send c's
 * request (MUX_FWDDIAL: ssh_mux_fwd_dial()).  On failure c's dial is
 * finished or c freed: c may be gone when it returns.
 */
void	ssh_mux_conn_start(struct ssh_mux_conn *c);

/*
 * ssh_mux_dial_ok(b, d, fd, how): finish d with the channel's socket fd
 * (taken, closed on failure): fd itself with DIAL_FD, else a socket
 * bufferevent over it; its detail "via USER@HOST:PORT (how)".  -1 when
 * out of memory (d finished with DIAL_LOCAL).
 */
int	ssh_mux_dial_ok(struct ssh_bastion *b, struct dial *d, int fd,
	    const char *how);

/* ssh_mux_conn_start_cb: a timer's callback, ssh_mux_conn_start(arg). */
void	ssh_mux_conn_start_cb(evutil_socket_t fd, short what, void *arg);

/* ssh_mux_send_fd(sock, fd): pass fd over sock as OpenSSH reads it. */
int	ssh_mux_send_fd(int sock, int fd);

/* ssh_mux_cmd.c: session_command (the OpenSSH engine) */

/*
 * ssh_mux_cmd_start(b): b's master is ready: with set.command, ask it
 * for a session running the command (a MUX_CMD connection).
 */
void	ssh_mux_cmd_start(struct ssh_bastion *b);

/*
 * ssh_mux_cmd_fds(c): after c's request went out, pass the command's
 * stdin, stdout and stderr (one socketpair end; postern logs what comes
 * out of the other).  -1 with errno on failure.
 */
int	ssh_mux_cmd_fds(struct ssh_mux_conn *c);

/*
 * ssh_mux_cmd_reply(c, msg): the master's message to c: the session
 * opened, refused, or its end.  Returns 1 when c's control connection is
 * done: c was freed, or (its end heard) waits for its last output.
 */
int	ssh_mux_cmd_reply(struct ssh_mux_conn *c, const struct ssh_mux_msg *msg);

/* ssh_mux_cmd_fail(c, why): c's connection failed or ended: log, free c. */
void	ssh_mux_cmd_fail(struct ssh_mux_conn *c, const char *why);

/* ssh_mux_fwd.c: mux_forward = listener (the OpenSSH engine) */

/*
 * ssh_mux_fwd_choose(c): c (MUX_OPEN, with a dial) goes through its
 * target's listener (c->kind becomes MUX_FWDDIAL) when the master has
 * one ready; else it stays a stdio forward, and the first such dial to a
 * target asks the master for a listener (a MUX_FWDREQ connection).
 */
void	ssh_mux_fwd_choose(struct ssh_mux_conn *c);

/*
 * ssh_mux_fwd_dial(c): connect c's dial to its listener and finish the
 * dial (c freed); when the connect fails, c goes on by stdio.
 */
void	ssh_mux_fwd_dial(struct ssh_mux_conn *c);

/*
 * ssh_mux_fwd_encode(c, buf, len): c's MUX_C_OPEN_FWD request (after our
 * hello) into buf; the bytes written, 0 when they do not fit.
 */
size_t	ssh_mux_fwd_encode(const struct ssh_mux_conn *c, unsigned char *buf,
	    size_t len);

/*
 * ssh_mux_fwd_answer(c, refused): the master's answer to c (MUX_FWDREQ):
 * refused NULL, the listener is ready; else why not (its target then
 * goes by stdio).  Frees c.
 */
void	ssh_mux_fwd_answer(struct ssh_mux_conn *c, const char *refused);

/* ssh_mux_fwd.c, for ssh_mux.c */

/* ssh_mux_fwd_prepare(b): b's master is ready: ask for the listeners. */
void	ssh_mux_fwd_prepare(struct ssh_bastion *b);

/*
 * ssh_mux_fwd_forget(b): forget b's listeners and remove their sockets
 * (the master is gone: the next one is asked again).  Call after the
 * MUX_FWDREQ and MUX_FWDDIAL connections are freed.
 */
void	ssh_mux_fwd_forget(struct ssh_bastion *b);

/* ssh_mux_proxy.c: mux_forward = proxy */

/*
 * ssh_mux_proxy_prepare(b): b's master is ready: make its proxy
 * connections (MUX_C_PROXY), so that the first opens find them.
 */
void	ssh_mux_proxy_prepare(struct ssh_bastion *b);

/*
 * ssh_mux_proxy_dial(b, d): open d's direct-tcpip channel through a proxy
 * connection of b's ready master; d ends with a link (or the server's
 * reason) from the loop.  -1: no proxy connection could be had (d is
 * untouched: the caller opens it by stdio).
 */
int	ssh_mux_proxy_dial(struct ssh_bastion *b, struct dial *d);

/*
 * ssh_mux_proxy_stop(b, detail): the master is gone or stopped: every
 * proxy connection of b ends, its opens failing with detail, its
 * channels' users told error(detail).
 */
void	ssh_mux_proxy_stop(struct ssh_bastion *b, const char *detail);

#endif
