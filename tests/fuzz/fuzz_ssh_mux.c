/*
 * fuzz_ssh_mux.c: libFuzzer harness for the parsers of what the OpenSSH
 * master sends (tunnel/ssh_mux_wire.c), peer bytes read from the
 * control socket: its mux replies, and after MUX_C_PROXY the channel
 * messages it relays.  The same input is read both ways, message after
 * message as ssh_mux.c and ssh_mux_proxy.c do: a message is consumed
 * whole or not at all, never past the input, and a prefix of a whole
 * message is "more to come" (0), never a verdict; a proxy message's data
 * lies inside the message.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_mux_wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
replies(const uint8_t *data, size_t size)
{
	struct ssh_mux_msg	 m;
	size_t			 off = 0, k;
	long			 used;
	const char		*p;

	while (off < size) {
		used = ssh_mux_parse(data + off, size - off, &m);
		if (used <= 0)
			break;
		if ((size_t)used > size - off)
			abort();
		/* Any shorter prefix of that packet: not yet whole. */
		for (k = 0; k < (size_t)used; k += 1 + k / 8)
			if (ssh_mux_parse(data + off, k, &m) != 0)
				abort();
		ssh_mux_parse(data + off, (size_t)used, &m);
		for (p = m.reason; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				abort();
		off += (size_t)used;
	}
}

static void
proxy(const uint8_t *data, size_t size)
{
	struct ssh_mux_pmsg	 m;
	const uint8_t		*msg;
	size_t			 off = 0, k;
	long			 used;
	uint32_t		 chan, dlen;

	while (off < size) {
		msg = data + off;
		used = ssh_mux_proxy_parse(msg, size - off, &m);
		if (used <= 0)
			break;
		/* At least length, padding and type; never past the input. */
		if (used < 6 || (size_t)used > size - off)
			abort();
		/* Any shorter prefix of that message: not yet whole. */
		for (k = 0; k < (size_t)used; k += 1 + k / 8)
			if (ssh_mux_proxy_parse(msg, k, &m) != 0)
				abort();
		if (ssh_mux_proxy_parse(msg, (size_t)used, &m) != used)
			abort();
		/* Its data (a string's bytes) inside the message's body. */
		if (m.data != NULL) {
			if (m.data < msg + 6 || m.data > msg + used ||
			    m.len > (size_t)(msg + used - m.data))
				abort();
		} else if (m.len != 0)
			abort();
		/*
		 * The DATA shortcut (ssh_mux_proxy.c): when it takes a
		 * message, the parser reads the same channel and length, and
		 * the message is exactly its header and data.
		 */
		if ((size_t)used >= MUX_PROXY_DATA_HDR &&
		    ssh_mux_proxy_data_peek(msg, &chan, &dlen) &&
		    (m.type != SSH_MSG_CHANNEL_DATA || m.chan != chan ||
		    m.len != dlen || (size_t)used != MUX_PROXY_DATA_HDR + dlen))
			abort();
		off += (size_t)used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	replies(data, size);
	proxy(data, size);
	return (0);
}
