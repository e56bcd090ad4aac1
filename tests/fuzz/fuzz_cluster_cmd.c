/*
 * fuzz_cluster_cmd.c: libFuzzer harness for the reader of a client's
 * commands under cluster = yes (proxy/cluster_cmd.c).  The first input
 * byte picks a chunk size; fed whole and in chunks, the queued kinds
 * must be the same, in the same order.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_cmd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster_cmd	a, b;
	size_t			off, k, step;

	if (size < 1)
		return (0);
	step = (size_t)data[0] % 32 + 1;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (cluster_cmd_feed(&a, (const char *)data + 1, size - 1) != 0)
		abort();
	for (off = 1; off < size; off += k) {
		k = size - off < step ? size - off : step;
		if (cluster_cmd_feed(&b, (const char *)data + off, k) != 0)
			abort();
	}
	while (a.len > 0 || b.len > 0)
		if (cluster_cmd_pop(&a) != cluster_cmd_pop(&b))
			abort();
	cluster_cmd_clear(&a);
	cluster_cmd_clear(&b);
	return (0);
}
