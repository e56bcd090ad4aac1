/*
 * fuzz_cluster_cmd.c: libFuzzer harness for the reader of a client's
 * commands under cluster = yes (proxy/cluster_cmd.c).  The first input
 * byte picks a chunk size; fed whole and in chunks, the queued kinds
 * must be the same, in the same order, whatever replies are refused
 * (the input's bytes say which), and so must EXEC's transactions.
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
	struct cluster_cmd	 a, b;
	struct cluster_rw_tx	*ta, *tb;
	enum cluster_rw_kind	 ka, kb;
	size_t			 off, k, step, i;
	char			 first;

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
	/* Replies refused or not, as the input's bytes say: the same. */
	for (i = 0; a.len > 0 || b.len > 0; i++) {
		first = data[i % size] & 1 ? '-' : '+';
		ka = cluster_cmd_pop_reply(&a, first, &ta);
		kb = cluster_cmd_pop_reply(&b, first, &tb);
		if (ka != kb || (ta == NULL) != (tb == NULL) ||
		    (ka == CLUSTER_RW_EXEC) != (ta != NULL) ||
		    (ta != NULL && (ta->n != tb->n || memcmp(ta->kinds,
		    tb->kinds, ta->n * sizeof(*ta->kinds)) != 0)))
			abort();
		cluster_rw_tx_free(ta);
		cluster_rw_tx_free(tb);
	}
	cluster_cmd_clear(&a);
	cluster_cmd_clear(&b);
	return (0);
}
