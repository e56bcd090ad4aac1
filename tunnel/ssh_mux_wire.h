/*
 * ssh_mux_wire.h: OpenSSH's multiplexing protocol (PROTOCOL.mux in
 * OpenSSH's source), the few messages the OpenSSH engine (ssh_mux.c)
 * sends and reads: our hello with MUX_C_NEW_STDIO_FWD, MUX_C_ALIVE_CHECK,
 * MUX_C_OPEN_FWD or MUX_C_NEW_SESSION; the master's hello,
 * MUX_S_SESSION_OPENED, MUX_S_ALIVE, MUX_S_OK, MUX_S_EXIT_MESSAGE,
 * MUX_S_FAILURE and MUX_S_PERMISSION_DENIED.  Pure functions: unit tested.
 */
#ifndef POSTERN_SSH_MUX_WIRE_H
#define POSTERN_SSH_MUX_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MUX_MSG_HELLO		0x00000001
#define MUX_C_NEW_SESSION	0x10000002
#define MUX_C_ALIVE_CHECK	0x10000004
#define MUX_C_OPEN_FWD		0x10000006
#define MUX_FWD_LOCAL		1
#define MUX_PORT_STREAMLOCAL	0xfffffffeU	/* (unsigned)-2: a path */
#define MUX_C_NEW_STDIO_FWD	0x10000008
#define MUX_S_OK		0x80000001
#define MUX_S_PERMISSION_DENIED	0x80000002
#define MUX_S_FAILURE		0x80000003
#define MUX_S_EXIT_MESSAGE	0x80000004
#define MUX_S_ALIVE		0x80000005
#define MUX_S_SESSION_OPENED	0x80000006
#define MUX_VERSION		4

/* The largest packet body we accept from the master. */
#define MUX_MSG_MAX		4096

/*
 * ssh_mux_encode(buf, len, rid, host, port): our hello, then
 * MUX_C_NEW_STDIO_FWD (request rid, to host:port), or with host NULL
 * MUX_C_ALIVE_CHECK.  Returns the bytes written, 0 when len is too small.
 */
size_t	ssh_mux_encode(unsigned char *buf, size_t len, uint32_t rid,
	    const char *host, unsigned int port);

/*
 * ssh_mux_encode_fwd(buf, len, rid, path, host, port): our hello, then
 * MUX_C_OPEN_FWD (request rid): a local forward from a unix socket the
 * master listens on at path to host:port.  Returns the bytes written, 0
 * when len is too small.
 */
size_t	ssh_mux_encode_fwd(unsigned char *buf, size_t len, uint32_t rid,
	    const char *path, const char *host, unsigned int port);

/*
 * ssh_mux_encode_session(buf, len, rid, cmd): our hello, then
 * MUX_C_NEW_SESSION (request rid): cmd in a session channel, no tty, no
 * X11 or agent forwarding, no escape character; the master then takes
 * three fds (stdin, stdout, stderr).  Returns the bytes written, 0 when
 * len is too small.
 */
size_t	ssh_mux_encode_session(unsigned char *buf, size_t len, uint32_t rid,
	    const char *cmd);

/* A reply from the master. */
struct ssh_mux_msg {
	uint32_t	type;
	uint32_t	rid;		/* 0 for a hello; EXIT_MESSAGE: the
					   session id */
	uint32_t	value;		/* SESSION_OPENED: the session id;
					   EXIT_MESSAGE: the exit status */
	char		reason[400];	/* FAILURE, PERMISSION_DENIED */
};

/*
 * ssh_mux_parse(buf, len, msg): the first packet of buf.  Returns its
 * length (consumed) with msg filled, 0 when buf holds no whole packet
 * yet, or -1 when it is malformed (length out of bounds, a reply too
 * short for its type, a reason longer than the packet).
 */
long	ssh_mux_parse(const unsigned char *buf, size_t len,
	    struct ssh_mux_msg *msg);

#endif
