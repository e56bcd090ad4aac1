/*
 * fuzz_pg_track.c: libFuzzer harness for the PostgreSQL tracker.  The
 * first input byte picks a chunk size and the split between client and
 * server bytes; whole and chunked feeding must agree, and so must one
 * byte at a time (never the whole-message fast path).  The resume's
 * state (pg_state.h) is followed too: the same reason, the same replay.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "pg_track.h"
#include "pg_state.h"

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

/* The replay st would send, and why it would not. */
static void
replay(struct pg_state *st, struct evbuffer *b, int *nz, const char **why)
{
	char	names[96];

	*nz = pg_state_replay(st, b, names, sizeof(names));
	*why = pg_state_why(st);
}

static int
same_state(struct pg_state *a, struct pg_state *b)
{
	struct evbuffer	*ba = evbuffer_new(), *bb = evbuffer_new();
	const char	*wa, *wb;
	int		 na, nb, same;
	size_t		 la, lb;

	if (ba == NULL || bb == NULL)
		abort();
	replay(a, ba, &na, &wa);
	replay(b, bb, &nb, &wb);
	la = evbuffer_get_length(ba);
	lb = evbuffer_get_length(bb);
	/* Not resumable: what was recorded no longer matters. */
	same = wa == wb && (wa != NULL || (na == nb && la == lb &&
	    a->login == b->login && (la == 0 ||
	    memcmp(evbuffer_pullup(ba, -1), evbuffer_pullup(bb, -1),
	    la) == 0)));
	evbuffer_free(ba);
	evbuffer_free(bb);
	return (same);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_track	whole, parts, bytes;
	struct pg_state	sw, sp, sb;
	size_t		step, cut;

	if (size < 1)
		return (0);
	step = (size_t)data[0] % 13 + 1;
	cut = (size_t)data[0] * (size - 1) / 255;
	data++;
	size--;
	pg_track_init(&whole);
	pg_track_init(&parts);
	pg_state_init(&sw);
	pg_state_init(&sp);
	pg_state_init(&sb);
	whole.st = &sw;
	parts.st = &sp;
	feed(&whole, data, cut, data + cut, size - cut, size + 1);
	feed(&parts, data, cut, data + cut, size - cut, step);
	pg_track_init(&bytes);
	bytes.st = &sb;
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
	/* The tracker stops at a lost stream: then so does the state. */
	if (whole.lost == NULL && (!same_state(&sw, &sp) ||
	    !same_state(&sw, &sb)))
		abort();
	pg_state_free(&sw);
	pg_state_free(&sp);
	pg_state_free(&sb);
	pg_track_clear(&whole);
	pg_track_clear(&parts);
	pg_track_clear(&bytes);
	return (0);
}
