/*
 * fuzz_resp_guard.c: libFuzzer harness for the readonly guard, which
 * reads the bytes a client sends (issue 24).  The input is split in two
 * at its first byte's value: client bytes fed in pieces, then server
 * bytes.  Invariant, while it reads (rc 0; -1 ends the session): what
 * passed and what it holds are never more than the client bytes given.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "resp_guard.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp_guard	 g;
	struct evbuffer		*in, *srv, *cli;
	size_t			 cut, i, n, step;
	int			 rc = 0;

	if (size < 2)
		return (0);
	step = (data[0] % 7) + 1;
	cut = 1 + (data[1] * (size - 1)) / 256;
	in = evbuffer_new();
	srv = evbuffer_new();
	cli = evbuffer_new();
	if (in == NULL || srv == NULL || cli == NULL)
		abort();
	resp_guard_init(&g, "fuzz");
	for (i = 2; i < cut && rc == 0; i += n) {
		n = cut - i < step ? cut - i : step;
		evbuffer_add(in, data + i, n);
		rc = resp_guard_client(&g, in, srv, cli);
	}
	if (rc == 0 && cut < size) {
		resp_guard_server(&g, data + cut, size - cut);
		rc = resp_guard_client(&g, in, srv, cli);
	}
	if (rc == 0 && evbuffer_get_length(srv) + evbuffer_get_length(in) >
	    cut - 2)
		abort();
	resp_guard_clear(&g);
	evbuffer_free(in);
	evbuffer_free(srv);
	evbuffer_free(cli);
	return (0);
}
