/*
 * fuzz_cluster_rw.c: libFuzzer harness for the cluster reply rewriter
 * (proxy/cluster_rw.c), which reads a cluster node's reply bytes.  The
 * first input byte picks the reply kind (EXEC: of a transaction that
 * queued one command of each kind) and a chunk size; fed whole and
 * in chunks, the verdicts, the bytes taken and the output must agree,
 * and every rewritten reply must frame as one complete reply.  A reply
 * that frames is skipped (cluster_rw_skip_feed) to the same end.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_rw.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Even ports are known (local port 7000 + port % 1000), odd are not. */
static int
lookup(void *arg, const struct cluster_rw_node *n)
{
	(void)arg;
	if (n->port <= 0 || n->port % 2 != 0)
		return (-1);
	return ((int)(7000 + n->port % 1000));
}

/* Feed replies of kind until the input ends or one is refused. */
static int
run(enum cluster_rw_kind kind, const char *b, size_t n, size_t step,
    struct cluster_rw_out *out, unsigned *unknown)
{
	struct cluster_rw_map	 map = { "127.0.0.9", lookup, NULL };
	struct cluster_rw	 rw;
	enum cluster_rw_res	 r = CLUSTER_RW_MORE;
	size_t			 off, k, used, before, flen;

	/* EXEC: a transaction that queued one command of every kind */
	static enum cluster_rw_kind k6[] = { CLUSTER_RW_SLOTS,
		CLUSTER_RW_SHARDS, CLUSTER_RW_NODES, CLUSTER_RW_ROLE,
		CLUSTER_RW_INFO, CLUSTER_RW_REDIRECT };
	static struct cluster_rw_tx tx = { k6, 6, 6 };

	memset(&rw, 0, sizeof(rw));
	rw.max = 4096;
	rw.tx = &tx;
	for (off = 0; off < n; off += used) {
		k = n - off < step ? n - off : step;
		before = out->len;
		r = cluster_rw_feed(&rw, kind, &map, b + off, k, &used, out,
		    unknown);
		if (used > k)
			abort();
		if (r == CLUSTER_RW_BAD)
			break;
		if (r == CLUSTER_RW_DONE && (cluster_rw_frame(out->buf +
		    before, out->len - before, &flen) != 1 ||
		    flen != out->len - before))
			abort();
	}
	cluster_rw_clear(&rw);
	return (r == CLUSTER_RW_BAD ? -1 : 0);
}

/* Where the skip ends the reply b[0..n) frames as flen bytes. */
static void
skip_check(const char *b, size_t n, size_t step)
{
	struct cluster_rw_skip	k;
	size_t			flen, off, used, c;
	int			r = 0;

	if (cluster_rw_frame(b, n, &flen) != 1)
		return;
	memset(&k, 0, sizeof(k));
	for (off = 0; off < flen && r == 0; off += used) {
		c = flen - off < step ? flen - off : step;
		if ((r = cluster_rw_skip_feed(&k, b + off, c, &used)) < 0)
			abort();	/* frame refuses what skip cannot */
	}
	if (r != 1 || off != flen)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster_rw_out	o1, o2;
	unsigned		u1 = 0, u2 = 0;
	enum cluster_rw_kind	kind;
	int			r1, r2;

	if (size < 1)
		return (0);
	kind = (enum cluster_rw_kind)((data[0] & 7) % 7);
	memset(&o1, 0, sizeof(o1));
	memset(&o2, 0, sizeof(o2));
	r1 = run(kind, (const char *)data + 1, size - 1, size, &o1, &u1);
	r2 = run(kind, (const char *)data + 1, size - 1,
	    (size_t)(data[0] >> 3) + 1, &o2, &u2);
	if (r1 != r2 || o1.len != o2.len || u1 != u2 ||
	    (o1.len > 0 && memcmp(o1.buf, o2.buf, o1.len) != 0))
		abort();
	cluster_rw_out_free(&o1);
	cluster_rw_out_free(&o2);
	skip_check((const char *)data + 1, size - 1, (size_t)(data[0] >> 3) + 1);
	return (0);
}
