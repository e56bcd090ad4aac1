/*
 * ssh_mux_wire.c: encoding and parsing of the OpenSSH mux messages the
 * OpenSSH engine uses (see ssh_mux_wire.h).  Every packet is "uint32
 * length, uint32 type, body", big-endian, strings as uint32 length and
 * bytes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ssh_mux_wire.h"

static unsigned char *
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return (p + 4);
}

static uint32_t
get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

size_t
ssh_mux_encode(unsigned char *buf, size_t len, uint32_t rid,
    const char *host, unsigned int port)
{
	size_t		 hl = host != NULL ? strlen(host) : 0, need;
	unsigned char	*p;

	/* hello: 12; alive: 12; stdio fwd: 4 + 4 + 4 + 4 + 4 + hl + 4. */
	need = 12 + (host != NULL ? 24 + hl : 12);
	if (need > len || hl > MUX_MSG_MAX)
		return (0);
	p = put32(buf, 8);
	p = put32(p, MUX_MSG_HELLO);
	p = put32(p, MUX_VERSION);
	if (host == NULL) {
		p = put32(p, 8);
		p = put32(p, MUX_C_ALIVE_CHECK);
		put32(p, rid);
		return (need);
	}
	p = put32(p, (uint32_t)(20 + hl));
	p = put32(p, MUX_C_NEW_STDIO_FWD);
	p = put32(p, rid);
	p = put32(p, 0);		/* reserved: an empty string */
	p = put32(p, (uint32_t)hl);
	memcpy(p, host, hl);
	put32(p + hl, port);
	return (need);
}

size_t
ssh_mux_encode_fwd(unsigned char *buf, size_t len, uint32_t rid,
    const char *path, const char *host, unsigned int port)
{
	size_t		 pl = strlen(path), hl = strlen(host), need;
	unsigned char	*p;

	/* hello: 12; fwd: length 4, then 4 + 4 + 4 + 4 + pl + 4 + 4 + hl + 4. */
	need = 12 + 4 + 28 + pl + hl;
	if (need > len || pl + hl > MUX_MSG_MAX - 64)
		return (0);
	p = put32(buf, 8);
	p = put32(p, MUX_MSG_HELLO);
	p = put32(p, MUX_VERSION);
	p = put32(p, (uint32_t)(28 + pl + hl));
	p = put32(p, MUX_C_OPEN_FWD);
	p = put32(p, rid);
	p = put32(p, MUX_FWD_LOCAL);
	p = put32(p, (uint32_t)pl);
	memcpy(p, path, pl);
	p = put32(p + pl, MUX_PORT_STREAMLOCAL);
	p = put32(p, (uint32_t)hl);
	memcpy(p, host, hl);
	put32(p + hl, port);
	return (need);
}

size_t
ssh_mux_encode_session(unsigned char *buf, size_t len, uint32_t rid,
    const char *cmd)
{
	size_t		 cl = strlen(cmd), need;
	unsigned char	*p;

	/*
	 * hello: 12; session: length 4, then type, rid, reserved "", tty,
	 * X11, agent, subsystem, escape char, term "": 4 each; cmd: 4 + cl.
	 */
	need = 12 + 4 + 40 + cl;
	if (need > len || cl > MUX_MSG_MAX - 64)
		return (0);
	p = put32(buf, 8);
	p = put32(p, MUX_MSG_HELLO);
	p = put32(p, MUX_VERSION);
	p = put32(p, (uint32_t)(40 + cl));
	p = put32(p, MUX_C_NEW_SESSION);
	p = put32(p, rid);
	p = put32(p, 0);		/* reserved: an empty string */
	p = put32(p, 0);		/* no tty */
	p = put32(p, 0);		/* no X11 forwarding */
	p = put32(p, 0);		/* no agent forwarding */
	p = put32(p, 0);		/* a command, not a subsystem */
	p = put32(p, 0xffffffffU);	/* no escape character */
	p = put32(p, 0);		/* term: "" */
	p = put32(p, (uint32_t)cl);
	memcpy(p, cmd, cl);
	return (need);
}

long
ssh_mux_parse(const unsigned char *buf, size_t len, struct ssh_mux_msg *msg)
{
	uint32_t	n, slen;
	char		*p;

	memset(msg, 0, sizeof(*msg));
	if (len < 4)
		return (0);
	n = get32(buf);
	if (n < 4 || n > MUX_MSG_MAX)
		return (-1);
	if (len < 4 + (size_t)n)
		return (0);
	msg->type = get32(buf + 4);
	if (msg->type == MUX_MSG_HELLO)
		return (n >= 8 ? (long)(4 + n) : -1);
	if (n < 8)
		return (-1);		/* every reply has a request id */
	msg->rid = get32(buf + 8);
	if (msg->type == MUX_S_SESSION_OPENED ||
	    msg->type == MUX_S_EXIT_MESSAGE) {
		if (n < 12)
			return (-1);
		msg->value = get32(buf + 12);
	}
	if (msg->type == MUX_S_FAILURE ||
	    msg->type == MUX_S_PERMISSION_DENIED) {
		if (n < 12)
			return (-1);
		slen = get32(buf + 12);
		if (slen > n - 12)
			return (-1);
		snprintf(msg->reason, sizeof(msg->reason), "%.*s", (int)slen,
		    (const char *)buf + 16);
		/* It goes to the log: no control characters. */
		for (p = msg->reason; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return ((long)(4 + n));
}
