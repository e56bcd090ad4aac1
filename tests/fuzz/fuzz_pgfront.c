/*
 * fuzz_pgfront.c: libFuzzer harness for the PostgreSQL startup-packet
 * parser, which reads untrusted bytes from any local client (CancelRequest
 * keys of protocol 3.0 and 3.2 included).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_front.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_front_msg	msg;
	size_t			off = 0;
	int			kind;

	/* Walk the input as a stream of packets, as the session would. */
	while (off < size) {
		kind = pg_front_parse(data + off, size - off, &msg);
		if (kind == PG_FRONT_SSL_REQUEST || kind == PG_FRONT_GSS_REQUEST) {
			if (msg.len != 8)
				abort();
			off += msg.len;
			continue;
		}
		if ((kind == PG_FRONT_STARTUP || kind == PG_FRONT_CANCEL) &&
		    (msg.len < 8 || msg.len > size - off))
			abort();
		/* A cancel key of 4 to 256 bytes (3.2), all the rest of it. */
		if (kind == PG_FRONT_CANCEL &&
		    (msg.cancel_keylen < PG_CANCEL_KEY_MIN ||
		    msg.cancel_keylen > PG_CANCEL_KEY_MAX ||
		    msg.len != 12 + msg.cancel_keylen ||
		    memcmp(msg.cancel_key, data + off + 12,
		    msg.cancel_keylen) != 0))
			abort();
		if (kind == PG_FRONT_BAD && msg.detail == NULL)
			abort();
		break;
	}
	return (0);
}
