/*
 * ssh_mux_wire.h: OpenSSH's multiplexing protocol (PROTOCOL.mux in
 * OpenSSH's source), the few messages the OpenSSH engine (ssh_mux.c)
 * sends and reads: our hello with MUX_C_NEW_STDIO_FWD, MUX_C_ALIVE_CHECK,
 * MUX_C_OPEN_FWD or MUX_C_NEW_SESSION; the master's hello,
 * MUX_S_SESSION_OPENED, MUX_S_ALIVE, MUX_S_OK, MUX_S_EXIT_MESSAGE,
 * MUX_S_FAILURE and MUX_S_PERMISSION_DENIED; and after MUX_C_PROXY, the
 * SSH connection protocol's channel messages (RFC 4254) in the framing
 * the master relays (mux_forward = proxy, ssh_mux_proxy.c).  Pure
 * functions: unit tested and fuzzed.
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
#define MUX_C_PROXY		0x1000000f
#define MUX_S_PROXY		0x8000000f
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

/*
 * ssh_mux_encode_proxy(buf, len, rid): our hello, then MUX_C_PROXY
 * (request rid): after the master's MUX_S_PROXY the connection carries
 * SSH channel messages.  Returns the bytes written, 0 when len is too
 * small.
 */
size_t	ssh_mux_encode_proxy(unsigned char *buf, size_t len, uint32_t rid);

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

/* ------------------------------------------------------------------ */
/*
 * A proxy connection (after MUX_S_PROXY): each message is "uint32
 * length, byte 0 (padding length), byte type, body", the SSH packet's
 * payload as the master relays it (channels.c, channel_proxy_downstream
 * and channel_proxy_upstream).  Channel ids in what we send are the
 * server's, in what we receive ours: the master translates its own.
 */
#define SSH_MSG_CHANNEL_OPEN		90
#define SSH_MSG_CHANNEL_OPEN_CONFIRMATION 91
#define SSH_MSG_CHANNEL_OPEN_FAILURE	92
#define SSH_MSG_CHANNEL_WINDOW_ADJUST	93
#define SSH_MSG_CHANNEL_DATA		94
#define SSH_MSG_CHANNEL_EXTENDED_DATA	95
#define SSH_MSG_CHANNEL_EOF		96
#define SSH_MSG_CHANNEL_CLOSE		97
#define SSH_MSG_CHANNEL_REQUEST		98
#define SSH_MSG_CHANNEL_SUCCESS		99
#define SSH_MSG_CHANNEL_FAILURE		100

/*
 * The largest proxy message we accept: the master's own bound on what it
 * relays (CHANNEL_MUX_MAX_PACKET, 256 KiB), with room for the headers.
 */
#define MUX_PROXY_MSG_MAX	(256 * 1024 + 64)

/* The header ssh_mux_proxy_data_hdr() writes before a DATA's bytes. */
#define MUX_PROXY_DATA_HDR	14

/* A channel message from the master (the server's, relayed). */
struct ssh_mux_pmsg {
	uint8_t			 type;
	uint32_t		 chan;		/* recipient: our id */
	uint32_t		 peer;		/* OPEN_CONFIRMATION: the
						   server's id */
	uint32_t		 window;	/* OPEN_CONFIRMATION: initial;
						   WINDOW_ADJUST: the bytes */
	uint32_t		 maxpkt;	/* OPEN_CONFIRMATION */
	uint32_t		 code;		/* OPEN_FAILURE: reason;
						   EXTENDED_DATA: data type */
	int			 want_reply;	/* REQUEST */
	const unsigned char	*data;		/* DATA, EXTENDED_DATA;
						   OPEN_FAILURE: description;
						   REQUEST: request name */
	size_t			 len;
};

/*
 * ssh_mux_proxy_parse(buf, len, msg): the first message of buf.  Returns
 * its length (consumed) with msg filled (msg->data points into buf), 0
 * when buf holds no whole message yet, or -1 when it is malformed (length
 * out of bounds, no padding byte of 0, a message too short for its type,
 * a string longer than the message).  A type other than the channel
 * messages above is returned with only type and, if present, chan set:
 * the caller ignores it.
 */
long	ssh_mux_proxy_parse(const unsigned char *buf, size_t len,
	    struct ssh_mux_pmsg *msg);

/*
 * ssh_mux_proxy_data_peek(hdr, chan, dlen): hdr is the first
 * MUX_PROXY_DATA_HDR bytes of a message: 1 when it is a CHANNEL_DATA
 * whose data fills the rest of the message exactly (then *chan and *dlen
 * are set, and the message is MUX_PROXY_DATA_HDR + *dlen bytes long, at
 * most 4 + MUX_PROXY_MSG_MAX), else 0 (ssh_mux_proxy_parse reads it).
 * Lets the data be moved out of a buffer without a contiguous copy.
 */
int	ssh_mux_proxy_data_peek(const unsigned char *hdr, uint32_t *chan,
	    uint32_t *dlen);

/*
 * ssh_mux_proxy_open(buf, len, id, window, maxpkt, host, port): a
 * CHANNEL_OPEN "direct-tcpip" for our channel id to host:port, from
 * 127.0.0.1 port 0 (what ssh -W says).  Returns the bytes written, 0 when
 * len is too small or host too long.
 */
size_t	ssh_mux_proxy_open(unsigned char *buf, size_t len, uint32_t id,
	    uint32_t window, uint32_t maxpkt, const char *host,
	    unsigned int port);

/*
 * ssh_mux_proxy_data_hdr(buf, peer, n): the MUX_PROXY_DATA_HDR bytes
 * that precede n bytes of CHANNEL_DATA to the server's channel peer.
 */
void	ssh_mux_proxy_data_hdr(unsigned char *buf, uint32_t peer, uint32_t n);

/*
 * ssh_mux_proxy_msg(buf, len, type, peer, value): a message of type with
 * only the recipient (EOF, CLOSE, FAILURE), or the recipient and value
 * (WINDOW_ADJUST: the bytes added).  Returns the bytes written (10 or 14),
 * 0 when len is too small.
 */
size_t	ssh_mux_proxy_msg(unsigned char *buf, size_t len, uint8_t type,
	    uint32_t peer, uint32_t value);

/* ssh_mux_proxy_reason(code): RFC 4254's name for an open failure code. */
const char *ssh_mux_proxy_reason(uint32_t code);

#endif
