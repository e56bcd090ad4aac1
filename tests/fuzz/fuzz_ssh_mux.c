/*
 * fuzz_ssh_mux.c: libFuzzer harness for the parser of the OpenSSH
 * master's mux replies (tunnel/ssh_mux_wire.c), peer bytes read from
 * the control socket.  Parses packet after packet as ssh_mux.c does: a
 * packet is consumed whole or not at all, never past the input, and a
 * prefix of a whole packet is "more to come" (0), never a verdict.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_mux_wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
	return (0);
}
