/*
 * fuzz_resp_track.c: libFuzzer harness for the RESP tracker, which reads
 * untrusted bytes from clients and servers.  The first input byte picks a
 * chunk size and where the input splits into client and server bytes;
 * each stream is fed whole to one tracker and in chunks to another, and
 * both must agree (the relay hands it whatever one read returned), and
 * so must a third fed one byte at a time, which never takes the reader's
 * whole-message fast paths: same counts, states and replay.  The
 * replay must hold only what was recorded, each command one that Redis
 * reads back as the command of its slot (split as Redis splits it,
 * resp_args.c), and clearing frees it all.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "resp_int.h"
#include "resp_track.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The command names each slot may hold (READONLY's: either). */
static const char *const slot_cmd[RESP_NSLOTS][2] = {
	{ "AUTH", "AUTH" }, { "HELLO", "HELLO" }, { "SELECT", "SELECT" },
	{ "CLIENT", "CLIENT" }, { "CLIENT", "CLIENT" }, { "CLIENT", "CLIENT" },
	{ "READONLY", "READWRITE" }
};

/* Every recorded command reads back as its slot's. */
static void
check_saved(const struct resp_track *t)
{
	static uint8_t		buf[RESP_CMD_MAX];
	struct resp_args	a;
	size_t			i;

	for (i = 0; i < RESP_NSLOTS; i++) {
		if (t->saved[i].cmd == NULL)
			continue;
		if (resp_args_split(t->saved[i].cmd, t->saved[i].len, buf,
		    &a) != 0 || a.n < 1 || (!resp_args_is(&a, 0,
		    slot_cmd[i][0]) && !resp_args_is(&a, 0, slot_cmd[i][1])))
			abort();
		if (i == RESP_SLOT_LIBNAME && !resp_args_is(&a, 2, "LIB-NAME"))
			abort();
		if (i == RESP_SLOT_LIBVER && !resp_args_is(&a, 2, "LIB-VER"))
			abort();
	}
}

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
	static struct resp_track	 whole, parts, bytes;
	struct resp_expect		 want[RESP_NSLOTS], want1[RESP_NSLOTS];
	struct evbuffer			*out, *out1;
	char				 names[128];
	size_t				 step, cut;
	int				 n, n1;

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
	resp_track_init(&bytes);
	feed(&bytes, data, cut, data + cut, size - cut, 1);
	if (whole.sent != bytes.sent || whole.answered != bytes.answered ||
	    resp_track_safe(&whole) != resp_track_safe(&bytes) ||
	    whole.gen != bytes.gen || whole.multi != bytes.multi ||
	    whole.watch != bytes.watch || whole.resp3 != bytes.resp3 ||
	    whole.subscribed != bytes.subscribed ||
	    whole.monitor != bytes.monitor ||
	    whole.npending != bytes.npending ||
	    (whole.unreplayable == NULL) != (bytes.unreplayable == NULL) ||
	    (whole.lost == NULL) != (bytes.lost == NULL))
		abort();
	if (whole.sent != parts.sent || whole.answered != parts.answered ||
	    resp_track_safe(&whole) != resp_track_safe(&parts) ||
	    whole.gen != parts.gen || whole.answered > whole.sent)
		abort();
	if (resp_track_why(&whole) == NULL)
		abort();
	check_saved(&whole);
	check_saved(&bytes);
	if ((out = evbuffer_new()) == NULL)
		abort();
	n = resp_track_replay(&whole, out, want, names, sizeof(names));
	if (n < 0 || n > RESP_NSLOTS ||
	    evbuffer_get_length(out) > (size_t)n * RESP_CMD_MAX)
		abort();
	if ((out1 = evbuffer_new()) == NULL)
		abort();
	n1 = resp_track_replay(&bytes, out1, want1, names, sizeof(names));
	if (n1 != n || evbuffer_get_length(out1) != evbuffer_get_length(out) ||
	    (evbuffer_get_length(out) > 0 && memcmp(evbuffer_pullup(out, -1),
	    evbuffer_pullup(out1, -1), evbuffer_get_length(out)) != 0))
		abort();
	while (n-- > 0) {
		if (want[n].type != want1[n].type ||
		    want[n].any_body != want1[n].any_body ||
		    strcmp(want[n].line, want1[n].line) != 0)
			abort();
	}
	evbuffer_free(out1);
	evbuffer_free(out);
	resp_track_clear(&whole);
	resp_track_clear(&parts);
	resp_track_clear(&bytes);
	return (0);
}
