/*
 * fuzz_resp_track.c: libFuzzer harness for the RESP tracker, which reads
 * untrusted bytes from clients and servers.  The first input byte picks a
 * chunk size and where the input splits into client and server bytes;
 * each stream is fed whole to one tracker and in chunks to another, and
 * both must agree (the relay hands it whatever one read returned).  The
 * replay must hold only what was recorded, and clearing frees it all.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "resp_track.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
feed(struct resp_track *t, const uint8_t *q, size_t nq, const uint8_t *p,
    size_t np, size_t step)
{
	size_t	off, n;

	for (off = 0; off < nq; off += n) {
		n = nq - off < step ? nq - off : step;
		resp_track_client(t, q + off, n);
	}
	for (off = 0; off < np; off += n) {
		n = np - off < step ? np - off : step;
		resp_track_server(t, p + off, n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct resp_track	 whole, parts;
	struct resp_expect		 want[RESP_NSLOTS];
	struct evbuffer			*out;
	char				 names[128];
	size_t				 step, cut;
	int				 n;

	if (size < 1)
		return (0);
	step = (size_t)data[0] % 13 + 1;
	cut = (size_t)data[0] * (size - 1) / 255;
	data++;
	size--;
	resp_track_init(&whole);
	resp_track_init(&parts);
	feed(&whole, data, cut, data + cut, size - cut, size + 1);
	feed(&parts, data, cut, data + cut, size - cut, step);
	if (whole.sent != parts.sent || whole.answered != parts.answered ||
	    resp_track_safe(&whole) != resp_track_safe(&parts) ||
	    whole.gen != parts.gen || whole.answered > whole.sent)
		abort();
	if (resp_track_why(&whole) == NULL)
		abort();
	if ((out = evbuffer_new()) == NULL)
		abort();
	n = resp_track_replay(&whole, out, want, names, sizeof(names));
	if (n < 0 || n > RESP_NSLOTS ||
	    evbuffer_get_length(out) > (size_t)n * RESP_CMD_MAX)
		abort();
	evbuffer_free(out);
	resp_track_clear(&whole);
	resp_track_clear(&parts);
	return (0);
}
