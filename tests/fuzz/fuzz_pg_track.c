/*
 * fuzz_pg_track.c: libFuzzer harness for the PostgreSQL tracker.  The
 * first input byte picks a chunk size and the split between client and
 * server bytes; whole and chunked feeding must agree, and so must one
 * byte at a time (never the whole-message fast path).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "pg_track.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
feed(struct pg_track *t, const uint8_t *q, size_t nq, const uint8_t *p,
    size_t np, size_t step)
{
	size_t	off, n;

	for (off = 0; off < nq; off += n) {
		n = nq - off < step ? nq - off : step;
		pg_track_client(t, q + off, n);
	}
	for (off = 0; off < np; off += n) {
		n = np - off < step ? np - off : step;
		pg_track_server(t, p + off, n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_track	whole, parts, bytes;
	size_t		step, cut;

	if (size < 1)
		return (0);
	step = (size_t)data[0] % 13 + 1;
	cut = (size_t)data[0] * (size - 1) / 255;
	data++;
	size--;
	pg_track_init(&whole);
	pg_track_init(&parts);
	feed(&whole, data, cut, data + cut, size - cut, size + 1);
	feed(&parts, data, cut, data + cut, size - cut, step);
	pg_track_init(&bytes);
	feed(&bytes, data, cut, data + cut, size - cut, 1);
	if (pg_track_safe(&whole) != pg_track_safe(&parts) ||
	    whole.syncs != parts.syncs || whole.status != parts.status ||
	    pg_listen_on(&whole.listen) != pg_listen_on(&parts.listen) ||
	    (whole.lost == NULL) != (parts.lost == NULL))
		abort();
	if (pg_track_safe(&whole) != pg_track_safe(&bytes) ||
	    whole.syncs != bytes.syncs || whole.status != bytes.status ||
	    pg_listen_on(&whole.listen) != pg_listen_on(&bytes.listen) ||
	    whole.copy != bytes.copy ||
	    whole.batch != bytes.batch ||
	    (whole.lost == NULL) != (bytes.lost == NULL))
		abort();
	if (pg_track_why(&whole) == NULL)
		abort();
	return (0);
}
