/*
 * fuzz_pgback.c: libFuzzer harness for the BackendKeyData sniffer, which
 * reads untrusted bytes from any upstream server.  The first input byte
 * picks a chunk size; the rest is fed whole and in chunks, and both ways
 * must agree (the relay hands it whatever one read returned).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_back.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_back	whole, parts;
	size_t		off, step, n;
	int		r1, r2 = PG_BACK_MORE;

	if (size < 1)
		return (0);
	step = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	pg_back_init(&whole);
	pg_back_init(&parts);
	r1 = pg_back_feed(&whole, data, size);
	for (off = 0; off < size; off += n) {
		n = size - off < step ? size - off : step;
		r2 = pg_back_feed(&parts, data + off, n);
	}
	if (size == 0)
		r2 = parts.result;
	if (r1 != r2 || whole.seen != parts.seen)
		abort();
	if (r1 == PG_BACK_KEY && (whole.pid != parts.pid ||
	    whole.keylen != parts.keylen ||
	    whole.keylen < PG_CANCEL_KEY_MIN || whole.keylen > PG_CANCEL_KEY_MAX ||
	    memcmp(whole.body + 4, parts.body + 4, whole.keylen) != 0))
		abort();
	if (r1 == PG_BACK_NONE && whole.why == NULL)
		abort();
	if (whole.seen > PG_BACK_MAX + 5 || whole.seen > size)
		abort();
	/* Once finished, more bytes change nothing. */
	if (r1 != PG_BACK_MORE && pg_back_feed(&whole, data, size) != r1)
		abort();
	/* -PLUS hidden in a copy: shorter by whole names or unchanged,
	 * and never twice (the second pass finds no -PLUS). */
	if (size <= 4096) {
		uint8_t	copy[4096];
		size_t	m;

		memcpy(copy, data, size);
		m = pg_back_hide_plus(copy, size);
		/* Each SCRAM-SHA-256-PLUS entry and its NUL (19 bytes) go. */
		if (m > size || (size - m) % 19 != 0)
			abort();
		if (m != size && pg_back_hide_plus(copy, m) != m)
			abort();
	}
	return (0);
}
