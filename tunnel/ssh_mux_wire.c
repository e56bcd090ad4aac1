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

size_t
ssh_mux_encode_proxy(unsigned char *buf, size_t len, uint32_t rid)
{
	unsigned char	*p;

	if (len < 24)
		return (0);
	p = put32(buf, 8);
	p = put32(p, MUX_MSG_HELLO);
	p = put32(p, MUX_VERSION);
	p = put32(p, 8);
	p = put32(p, MUX_C_PROXY);
	put32(p, rid);
	return (24);
}

/* ------------------------------------------------------------------ */
/* Channel messages through a proxy connection. */

/* A string at *off in body[0..n): its bytes and length; -1 if it overruns. */
static int
get_string(const unsigned char *body, size_t n, size_t *off,
    const unsigned char **s, size_t *slen)
{
	uint32_t	l;

	if (n - *off < 4)
		return (-1);
	l = get32(body + *off);
	if (l > n - *off - 4)
		return (-1);
	*s = body + *off + 4;
	*slen = l;
	*off += 4 + (size_t)l;
	return (0);
}

long
ssh_mux_proxy_parse(const unsigned char *buf, size_t len,
    struct ssh_mux_pmsg *msg)
{
	const unsigned char	*body;
	uint32_t		 n;
	size_t			 off, skip;
	const unsigned char	*s;

	memset(msg, 0, sizeof(*msg));
	if (len < 4)
		return (0);
	n = get32(buf);
	if (n < 2 || n > MUX_PROXY_MSG_MAX)
		return (-1);
	if (len < 4 + (size_t)n)
		return (0);
	body = buf + 4;
	if (body[0] != 0)
		return (-1);		/* the master always writes 0 */
	msg->type = body[1];
	if (msg->type < SSH_MSG_CHANNEL_OPEN_CONFIRMATION ||
	    msg->type > SSH_MSG_CHANNEL_FAILURE) {
		if (n >= 6)
			msg->chan = get32(body + 2);
		return ((long)(4 + n));	/* not ours to read: ignored */
	}
	if (n < 6)
		return (-1);		/* every channel message names one */
	msg->chan = get32(body + 2);
	off = 6;
	switch (msg->type) {
	case SSH_MSG_CHANNEL_OPEN_CONFIRMATION:
		if (n - off < 12)
			return (-1);
		msg->peer = get32(body + off);
		msg->window = get32(body + off + 4);
		msg->maxpkt = get32(body + off + 8);
		break;
	case SSH_MSG_CHANNEL_OPEN_FAILURE:
		if (n - off < 4)
			return (-1);
		msg->code = get32(body + off);
		off += 4;
		/* The language tag is RFC 4254's, but tolerated missing. */
		if (get_string(body, n, &off, &msg->data, &msg->len) != 0 ||
		    (off < n && get_string(body, n, &off, &s, &skip) != 0))
			return (-1);
		break;
	case SSH_MSG_CHANNEL_WINDOW_ADJUST:
		if (n - off < 4)
			return (-1);
		msg->window = get32(body + off);
		break;
	case SSH_MSG_CHANNEL_EXTENDED_DATA:
		if (n - off < 4)
			return (-1);
		msg->code = get32(body + off);
		off += 4;
		/* FALLTHROUGH */
	case SSH_MSG_CHANNEL_DATA:
		if (get_string(body, n, &off, &msg->data, &msg->len) != 0)
			return (-1);
		break;
	case SSH_MSG_CHANNEL_REQUEST:
		if (get_string(body, n, &off, &msg->data, &msg->len) != 0 ||
		    n - off < 1)
			return (-1);
		msg->want_reply = body[off] != 0;
		break;
	default:		/* EOF, CLOSE, SUCCESS, FAILURE: the id only */
		break;
	}
	return ((long)(4 + n));
}

int
ssh_mux_proxy_data_peek(const unsigned char *hdr, uint32_t *chan,
    uint32_t *dlen)
{
	uint32_t	n = get32(hdr), l = get32(hdr + 10);

	if (n < 10 || n > MUX_PROXY_MSG_MAX || hdr[4] != 0 ||
	    hdr[5] != SSH_MSG_CHANNEL_DATA || l != n - 10)
		return (0);
	*chan = get32(hdr + 6);
	*dlen = l;
	return (1);
}

size_t
ssh_mux_proxy_open(unsigned char *buf, size_t len, uint32_t id,
    uint32_t window, uint32_t maxpkt, const char *host, unsigned int port)
{
	static const char	 type[] = "direct-tcpip", orig[] = "127.0.0.1";
	size_t			 hl = strlen(host), tl = sizeof(type) - 1;
	size_t			 ol = sizeof(orig) - 1, body, need;
	unsigned char		*p;

	/* pad, type; name; id, window, max packet; host, port; orig, port */
	body = 2 + 4 + tl + 12 + 4 + hl + 4 + 4 + ol + 4;
	need = 4 + body;
	if (hl > 1024 || need > len)
		return (0);
	p = put32(buf, (uint32_t)body);
	*p++ = 0;
	*p++ = SSH_MSG_CHANNEL_OPEN;
	p = put32(p, (uint32_t)tl);
	memcpy(p, type, tl);
	p = put32(p + tl, id);
	p = put32(p, window);
	p = put32(p, maxpkt);
	p = put32(p, (uint32_t)hl);
	memcpy(p, host, hl);
	p = put32(p + hl, port);
	p = put32(p, (uint32_t)ol);
	memcpy(p, orig, ol);
	put32(p + ol, 0);
	return (need);
}

void
ssh_mux_proxy_data_hdr(unsigned char *buf, uint32_t peer, uint32_t n)
{
	unsigned char	*p;

	p = put32(buf, 10 + n);
	*p++ = 0;
	*p++ = SSH_MSG_CHANNEL_DATA;
	p = put32(p, peer);
	put32(p, n);
}

size_t
ssh_mux_proxy_msg(unsigned char *buf, size_t len, uint8_t type,
    uint32_t peer, uint32_t value)
{
	int		 with = type == SSH_MSG_CHANNEL_WINDOW_ADJUST;
	size_t		 need = with ? 14 : 10;
	unsigned char	*p;

	if (len < need)
		return (0);
	p = put32(buf, (uint32_t)need - 4);
	*p++ = 0;
	*p++ = type;
	p = put32(p, peer);
	if (with)
		put32(p, value);
	return (need);
}

const char *
ssh_mux_proxy_reason(uint32_t code)
{
	switch (code) {
	case 1:
		return ("administratively prohibited");
	case 2:
		return ("connect failed");
	case 3:
		return ("unknown channel type");
	case 4:
		return ("resource shortage");
	}
	return ("unknown reason");
}
