/*
 * fuzz_pg_guard.c: libFuzzer harness for the PostgreSQL readonly guard
 * (issue 24), which reads a client's bytes: the SQL check on the input
 * as text, the startup rewrite on it as a packet, and the message filter
 * fed in pieces.  Invariants: a refusal names what it refused; a
 * rewritten startup packet is well formed and ends with the parameter.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "pg_guard.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 tail[] = "default_transaction_read_only\0on\0";
	struct pg_guard		 g;
	struct evbuffer		*in, *srv, *cli, *st;
	char			 what[96];
	size_t			 i, n, step, len;
	uint8_t			*p;
	uint32_t		 l;

	what[0] = '\0';
	if (pg_guard_sql((const char *)data, size, what, sizeof(what)) &&
	    what[0] == '\0')
		abort();
	if ((in = evbuffer_new()) == NULL || (srv = evbuffer_new()) == NULL ||
	    (cli = evbuffer_new()) == NULL || (st = evbuffer_new()) == NULL)
		abort();
	if (pg_guard_startup(data, size, st) == 0) {
		len = evbuffer_get_length(st);
		p = evbuffer_pullup(st, -1);
		memcpy(&l, p, 4);
		if (ntohl(l) != len || len < sizeof(tail) + 8 ||
		    memcmp(p + len - sizeof(tail), tail, sizeof(tail)) != 0)
			abort();
	}
	if (pg_guard_init(&g, "fuzz") == -1)
		abort();
	step = size > 0 ? (data[0] % 13) + 1 : 1;
	for (i = 0; i < size; i += n) {
		n = size - i < step ? size - i : step;
		evbuffer_add(in, data + i, n);
		if (pg_guard_client(&g, in, srv, cli) == -1)
			break;
	}
	pg_guard_clear(&g);
	evbuffer_free(in);
	evbuffer_free(srv);
	evbuffer_free(cli);
	evbuffer_free(st);
	return (0);
}
