/*
 * ssh_adapter.c: libssh2 on the libevent loop.
 *
 * libssh2 runs non-blocking and does its socket I/O through our send and
 * recv callbacks:
 *
 * - recv reads the socket; EAGAIN makes libssh2 return
 *   LIBSSH2_ERROR_EAGAIN with LIBSSH2_SESSION_BLOCK_INBOUND set, and we
 *   wait for EV_READ.  Once a recv has seen EAGAIN, later ones return
 *   EAGAIN without a system call until the loop reports the socket
 *   readable again: one read event, however many channels look.
 * - send never makes libssh2 wait: packets go to b->io.out, written once
 *   the callbacks due in this loop iteration have run (so one send()
 *   carries the packets of every channel that had something to say),
 *   then on EV_WRITE while the kernel does not take it all.  libssh2
 *   keeps a single partly sent
 *   packet per session and completes it on the next send of *any* call,
 *   reporting success to that caller (transport.c, send_existing): with
 *   many channels, a short send would hand one channel's success to
 *   another and lose data or a window adjust.  So libssh2 never sees one;
 *   the channels stop writing while b->io.out is above SSH_OUT_HIGH.
 *
 * Interest therefore follows libssh2_session_block_directions() for the
 * inbound side (always wanted once connected: the server may speak at any
 * time) and our buffer for the outbound side.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "clock.h"
#include "iobuf.h"
#include "log.h"
#include "ssh_int.h"

/* Negotiation preferences: see DESIGN.md, "SSH tunnel". */
#define SSH_KEX		"curve25519-sha256,curve25519-sha256@libssh.org," \
	"ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521," \
	"diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512," \
	"diffie-hellman-group14-sha256"
#define SSH_MACS	"hmac-sha2-256,hmac-sha2-512"

static void
ssh_adapter_want_write(struct ssh_bastion *b, int on)
{
	if (on == b->io.writing)
		return;
	if (on)
		event_add(b->io.wev, NULL);
	else
		event_del(b->io.wev);
	b->io.writing = on;
}

/*
 * libssh2 1.10 talks to the ssh-agent through the session's callbacks too
 * (agent.c, LIBSSH2_SEND_FD/RECV_FD on the agent's blocking unix socket):
 * those calls are passed straight through, but a read waits at most
 * SSH_AGENT_TIMEOUT_MS: an agent that hangs (a stuck forwarded agent, a
 * confirmation prompt nobody sees) must not stall the loop for ever.
 */
static ssize_t
ssh_adapter_agent_io(ssize_t n)
{
	return (n == -1 ? -errno : n);
}

static ssize_t
ssh_adapter_agent_recv(struct ssh_bastion *b, int fd, void *buf,
    size_t len)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	int64_t		start = clock_ms();
	long		left = SSH_AGENT_TIMEOUT_MS;
	int		rc;

	while ((rc = poll(&pfd, 1, (int)left)) == -1 && errno == EINTR &&
	    (left = SSH_AGENT_TIMEOUT_MS - clock_since(start)) > 0)
		;
	if (rc == 0 || (rc == -1 && errno == EINTR)) {
		b->auth.agent_timeout = 1;
		return (-ETIMEDOUT);
	}
	if (rc == -1)
		return (-errno);
	return (ssh_adapter_agent_io(recv(fd, buf, len, 0)));
}

static LIBSSH2_SEND_FUNC(ssh_adapter_send)
{
	struct ssh_bastion	*b = *abstract;

	if (socket != b->io.fd)
		return (ssh_adapter_agent_io(send(socket, buffer, length,
		    MSG_NOSIGNAL)));
	if (b->io.dead)
		return ((ssize_t)length);	/* tearing down: discard */
	if (evbuffer_add(b->io.out, buffer, length) == -1) {
		b->io.io_error = ENOMEM;
		return (-ENOMEM);
	}
	/*
	 * Sent from the write callback, which runs after the callbacks
	 * already due in this loop iteration: the packets of every client
	 * read in one wake-up leave in one send().
	 */
	if (!b->io.flush_due && !b->io.writing) {
		b->io.flush_due = 1;
		event_active(b->io.wev, EV_WRITE, 1);
	}
	return ((ssize_t)length);
}

static LIBSSH2_RECV_FUNC(ssh_adapter_recv)
{
	struct ssh_bastion	*b = *abstract;
	ssize_t			 n;

	if (socket != b->io.fd)
		return (ssh_adapter_agent_recv(b, socket, buffer, length));
	if (b->io.dead)
		return (-ECONNRESET);
	if (b->io.rx_drained)
		return (-EAGAIN);
	n = recv(socket, buffer, length, 0);
	if (n > 0) {
		b->io.rx_bytes += (uint64_t)n;
		ssh_algs_hello_add(b, buffer, (size_t)n);
		/* Packets for other channels may now wait inside libssh2. */
		if (b->running)
			b->again = 1;
		else
			ssh_kick(b);
		return (n);
	}
	if (n == 0) {
		b->io.rx_eof = 1;
		return (-ECONNRESET);
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		b->io.rx_drained = 1;
		return (-EAGAIN);
	}
	b->io.io_error = errno;
	return (-errno);
}

static void
ssh_adapter_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_bastion	*b = arg;

	b->io.rx_drained = 0;
	ssh_drive(b);
}

static void
ssh_adapter_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_bastion	*b = arg;
	size_t			 before = evbuffer_get_length(b->io.out);

	b->io.flush_due = 0;
	if (iobuf_write(b->io.out, fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		b->io.io_error = errno;
		ssh_adapter_want_write(b, 0);
		ssh_drive(b);		/* notices io_error */
		return;
	}
	if (evbuffer_get_length(b->io.out) == 0)
		ssh_adapter_want_write(b, 0);
	/* Channels held back by a full buffer may write again. */
	if (before == 0 || (before >= SSH_OUT_LOW &&
	    evbuffer_get_length(b->io.out) < SSH_OUT_LOW))
		ssh_drive(b);
}

/*
 * Set a preference list, keeping only the methods this libssh2 supports:
 * libssh2 1.10 removes unsupported names with an overlapping memcpy
 * (kex.c, libssh2_session_method_pref), which corrupts the list.
 */
static void
ssh_adapter_pref(struct ssh_bastion *b, int type, const char *wanted)
{
	char	list[512];

	if (ssh_algs_filter(b->sess, type, wanted, list, sizeof(list)) == 0 &&
	    libssh2_session_method_pref(b->sess, type, list) != 0)
		log_debug("%s: method preference %s refused", b->label, list);
}

int
ssh_adapter_out_full(const struct ssh_bastion *b)
{
	return (evbuffer_get_length(b->io.out) >= SSH_OUT_HIGH);
}

int
ssh_adapter_start(struct ssh_bastion *b)
{
	struct event_base	*base = b->pool->base;
	char			 prefs[512], list[512];

	b->io.rx_drained = b->io.io_error = b->io.rx_eof = b->io.dead = 0;
	b->io.flush_due = 0;
	b->io.rev = event_new(base, b->io.fd, EV_READ | EV_PERSIST,
	    ssh_adapter_read_cb, b);
	b->io.wev = event_new(base, b->io.fd, EV_WRITE | EV_PERSIST,
	    ssh_adapter_write_cb, b);
	if (b->io.rev == NULL || b->io.wev == NULL || (b->io.out == NULL &&
	    (b->io.out = evbuffer_new()) == NULL) ||
	    ssh_algs_hello_start(b) != 0) {
		snprintf(b->last_error, sizeof(b->last_error), "out of memory");
		return (-1);
	}
	b->sess = libssh2_session_init_ex(NULL, NULL, NULL, b);
	if (b->sess == NULL) {
		snprintf(b->last_error, sizeof(b->last_error), "cannot "
		    "create an SSH session (out of memory)");
		return (-1);
	}
#if HAVE_DECL_LIBSSH2_SESSION_CALLBACK_SET2 && \
    defined(HAVE_LIBSSH2_SESSION_CALLBACK_SET2)
	/* libssh2 >= 1.11.1, which deprecates the void * form. */
	libssh2_session_callback_set2(b->sess, LIBSSH2_CALLBACK_SEND,
	    (libssh2_cb_generic *)ssh_adapter_send);
	libssh2_session_callback_set2(b->sess, LIBSSH2_CALLBACK_RECV,
	    (libssh2_cb_generic *)ssh_adapter_recv);
#else
	libssh2_session_callback_set(b->sess, LIBSSH2_CALLBACK_SEND,
	    (void *)ssh_adapter_send);
	libssh2_session_callback_set(b->sess, LIBSSH2_CALLBACK_RECV,
	    (void *)ssh_adapter_recv);
#endif
	libssh2_session_set_blocking(b->sess, 0);
	libssh2_session_flag(b->sess, LIBSSH2_FLAG_COMPRESS, 0);
	ssh_adapter_pref(b, LIBSSH2_METHOD_KEX, SSH_KEX);
	/*
	 * Never libssh2's own default here: it offers ssh-rsa (SHA-1).
	 * host_key_algorithms is checked on load; this is the backstop.
	 */
	if (ssh_algs_filter(b->sess, LIBSSH2_METHOD_HOSTKEY,
	    ssh_hostkey_prefs(b, prefs, sizeof(prefs)), list,
	    sizeof(list)) != 0) {
		snprintf(b->last_error, sizeof(b->last_error), "this libssh2 "
		    "(%s) supports none of the host key algorithms %s",
		    libssh2_version(0), prefs);
		return (-1);
	}
	ssh_adapter_pref(b, LIBSSH2_METHOD_HOSTKEY, list);
	ssh_adapter_pref(b, LIBSSH2_METHOD_CRYPT_CS, ssh_algs_ciphers(&b->set));
	ssh_adapter_pref(b, LIBSSH2_METHOD_CRYPT_SC, ssh_algs_ciphers(&b->set));
	ssh_adapter_pref(b, LIBSSH2_METHOD_MAC_CS, SSH_MACS);
	ssh_adapter_pref(b, LIBSSH2_METHOD_MAC_SC, SSH_MACS);
	/* Sent only when we ask (ssh.c decides), with a reply wanted. */
	libssh2_keepalive_config(b->sess, 1, 1);
	event_add(b->io.rev, NULL);
	return (0);
}

void
ssh_adapter_arm(struct ssh_bastion *b)
{
	int	dirs;

	if (b->sess == NULL || b->io.dead)
		return;
	/*
	 * INBOUND: the persistent read event stays armed.  OUTBOUND does not
	 * happen with our send callback; were it to, a writable socket
	 * drives the session again (ssh_adapter_write_cb).
	 */
	dirs = libssh2_session_block_directions(b->sess);
	ssh_adapter_want_write(b, (evbuffer_get_length(b->io.out) > 0 &&
	    !b->io.flush_due) || (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND));
}

void
ssh_adapter_stop(struct ssh_bastion *b, int graceful)
{
	if (b->sess != NULL && graceful && !b->io.dead && b->state ==
	    SSH_READY) {
		libssh2_session_disconnect(b->sess, "postern: closing");
		/* Best effort: the kernel takes it or it is lost. */
		if (b->io.fd != -1)
			evbuffer_write(b->io.out, b->io.fd);
	}
	b->io.dead = 1;		/* no more I/O, no more waiting */
	ssh_algs_hello_end(b);
	ssh_chan_close_all(b);
	ssh_auth_reset(b);
	if (b->sess != NULL) {
		libssh2_session_free(b->sess);
		b->sess = NULL;
	}
	if (b->io.rev != NULL)
		event_free(b->io.rev);
	if (b->io.wev != NULL)
		event_free(b->io.wev);
	b->io.rev = b->io.wev = NULL;
	b->io.writing = b->io.flush_due = 0;
	if (b->io.fd != -1)
		close(b->io.fd);
	b->io.fd = -1;
	if (b->io.out != NULL)
		evbuffer_drain(b->io.out, evbuffer_get_length(b->io.out));
}
