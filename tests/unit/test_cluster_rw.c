/*
 * test_cluster_rw.c: the cluster reply rewriter (proto/redis/cluster_rw.c) on
 * replies captured from a real Redis 7.0 cluster (captures/cluster-redis7/),
 * RESP2 and RESP3: every address becomes the local one, framing is
 * recomputed, the output is the same for every split of the input, an
 * unknown node is counted and left as written, malformed input is
 * refused.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "cluster_rw.h"

#define LHOST	"127.0.0.9"

/*
 * The captures, tests/unit/captures/cluster-redis7/NAME.resp: replies of
 * a real Redis 7.0.15 cluster (3 masters, 3 replicas on
 * 127.0.0.1:31001-31006, announced hostnames node<port>.internal),
 * captured raw with RESP2 (a NAME ending in 2) and after HELLO 3 (in 3),
 * with cluster-preferred-endpoint-type ip, hostname (h) and
 * unknown-endpoint (u); ROLE and INFO replication of master 31001 (m) and
 * its replica 31005 (r).  The files hold the bytes as the server wrote
 * them; each is read whole, NUL-terminated, before the tests run
 * (captures_load).
 */
static char	*cap_moved2, *cap_moved3, *cap_ask2, *cap_ask3,
		*cap_hmoved2, *cap_umoved2, *cap_slots2, *cap_slots3,
		*cap_hslots2, *cap_hslots3, *cap_uslots2, *cap_uslots3,
		*cap_shards2, *cap_shards3, *cap_hshards2, *cap_hshards3,
		*cap_nodes2, *cap_nodes3, *cap_replicas2, *cap_replicas3,
		*cap_slaves2, *cap_slaves3, *cap_rolem2, *cap_rolem3,
		*cap_roler2, *cap_roler3, *cap_infor2, *cap_infor3,
		*cap_infom2, *cap_infom3;

static const struct capture captures[] = {
	{ "moved2", &cap_moved2 },
	{ "moved3", &cap_moved3 },
	{ "ask2", &cap_ask2 },
	{ "ask3", &cap_ask3 },
	{ "hmoved2", &cap_hmoved2 },
	{ "umoved2", &cap_umoved2 },
	{ "slots2", &cap_slots2 },
	{ "slots3", &cap_slots3 },
	{ "hslots2", &cap_hslots2 },
	{ "hslots3", &cap_hslots3 },
	{ "uslots2", &cap_uslots2 },
	{ "uslots3", &cap_uslots3 },
	{ "shards2", &cap_shards2 },
	{ "shards3", &cap_shards3 },
	{ "hshards2", &cap_hshards2 },
	{ "hshards3", &cap_hshards3 },
	{ "nodes2", &cap_nodes2 },
	{ "nodes3", &cap_nodes3 },
	{ "replicas2", &cap_replicas2 },
	{ "replicas3", &cap_replicas3 },
	{ "slaves2", &cap_slaves2 },
	{ "slaves3", &cap_slaves3 },
	{ "rolem2", &cap_rolem2 },
	{ "rolem3", &cap_rolem3 },
	{ "roler2", &cap_roler2 },
	{ "roler3", &cap_roler3 },
	{ "infor2", &cap_infor2 },
	{ "infor3", &cap_infor3 },
	{ "infom2", &cap_infom2 },
	{ "infom3", &cap_infom3 },
};

#define NCAPTURES	(sizeof(captures) / sizeof(captures[0]))

/* Group setup: every capture, or the run fails. */
static int
captures_load(void **state)
{
	(void)state;
	return (capture_load(CAPTURE_DIR, captures, NCAPTURES));
}

static int
captures_free(void **state)
{
	(void)state;
	capture_free(captures, NCAPTURES);
	return (0);
}

/* The test's map: node 127.0.0.1:3100N is local port 700N. */
struct tmap {
	long	unknown_port;	/* a port the map does not know, or 0 */
	int	calls;
	int	with_id;
};

static int
tlookup(void *arg, const struct cluster_rw_node *n)
{
	struct tmap	*m = arg;

	m->calls++;
	if (n->idlen > 0) {
		assert_int_equal(n->idlen, 40);
		m->with_id++;
	}
	if (n->port < 31001 || n->port > 31006 || n->port == m->unknown_port)
		return (-1);
	return ((int)(n->port - 31001 + 7001));
}

/* Rewrite text whole; the result (to free) and its length. */
static char *
whole(enum cluster_rw_kind kind, struct tmap *tm, const char *text,
    size_t *len, unsigned *unknown)
{
	struct cluster_rw_map	map = { LHOST, tlookup, tm };

	return (capture_whole(kind, &map, text, len, unknown));
}

/* Feed text in two parts split at cut, then byte by byte: same output. */
static void
splits_tx(enum cluster_rw_kind kind, const struct cluster_rw_tx *tx,
    const char *text, const char *want, size_t wantlen)
{
	struct tmap		tm = { 0, 0, 0 };
	struct cluster_rw_map	map = { LHOST, tlookup, &tm };
	struct cluster_rw_out	out;
	struct cluster_rw	rw;
	size_t			n = strlen(text), cut, off, used, step;
	unsigned		unknown;
	enum cluster_rw_res	r;

	for (cut = 0; cut <= n + 1; cut++) {
		memset(&rw, 0, sizeof(rw));
		rw.tx = tx;
		memset(&out, 0, sizeof(out));
		unknown = 0;
		r = CLUSTER_RW_MORE;
		for (off = 0; off < n; off += used) {
			/* cut n+1: one byte at a time */
			step = cut == n + 1 ? 1 : (off < cut ? cut - off :
			    n - off);
			r = cluster_rw_feed(&rw, kind, &map, text + off, step,
			    &used, &out, &unknown);
			assert_int_not_equal(r, CLUSTER_RW_BAD);
			assert_true(used <= step);
			if (r == CLUSTER_RW_DONE)
				assert_int_equal(off + used, n);
		}
		assert_int_equal(r, CLUSTER_RW_DONE);
		assert_int_equal(unknown, 0);
		assert_int_equal(out.len, wantlen);
		assert_memory_equal(out.buf, want, wantlen);
		cluster_rw_out_free(&out);
		cluster_rw_clear(&rw);
	}
}

static void
splits(enum cluster_rw_kind kind, const char *text, const char *want,
    size_t wantlen)
{
	splits_tx(kind, NULL, text, want, wantlen);
}

/* No original address is left, the output frames, splits agree. */
static void
check(enum cluster_rw_kind kind, const char *text, size_t nlocal,
    const char *must)
{
	struct tmap	 tm = { 0, 0, 0 };
	char		*o, port[8];
	size_t		 len, flen, i;
	unsigned	 unknown;

	o = whole(kind, &tm, text, &len, &unknown);
	assert_int_equal(unknown, 0);
	assert_int_equal(cluster_rw_frame(o, len, &flen), 1);
	assert_int_equal(flen, len);
	assert_int_equal(capture_count(o, len, "127.0.0.1"), 0);
	assert_int_equal(capture_count(o, len, ".internal"), 0);
	for (i = 1; i <= 6; i++) {
		snprintf(port, sizeof(port), "3100%zu", i);
		assert_int_equal(capture_count(o, len, port), 0);
	}
	assert_int_equal(capture_count(o, len, LHOST), nlocal);
	if (must != NULL)
		assert_true(capture_count(o, len, must) > 0);
	splits(kind, text, o, len);
	free(o);
}

static void
test_redirects(void **state)
{
	struct tmap	 tm = { 0, 0, 0 };
	char		*o;
	size_t		 len;
	unsigned	 unknown;
	const char	*in[] = { cap_moved2, cap_moved3, cap_hmoved2,
			    cap_umoved2 };
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		o = whole(CLUSTER_RW_REDIRECT, &tm, in[i], &len, &unknown);
		assert_int_equal(unknown, 0);
		assert_int_equal(len, strlen("-MOVED 12182 " LHOST ":7003\r\n"));
		assert_memory_equal(o, "-MOVED 12182 " LHOST ":7003\r\n", len);
		splits(CLUSTER_RW_REDIRECT, in[i], o, len);
		free(o);
	}
	o = whole(CLUSTER_RW_SLOTS, &tm, cap_ask3, &len, &unknown);
	assert_memory_equal(o, "-ASK 12182 " LHOST ":7001\r\n", len);
	free(o);
}

/* Other errors and plain replies pass through byte for byte. */
static void
test_passthrough(void **state)
{
	struct tmap	 tm = { 0, 0, 0 };
	const char	*in[] = { "-ERR unknown command\r\n", "+OK\r\n",
			    "$3\r\nbar\r\n", "*2\r\n:1\r\n$-1\r\n",
			    "-MOVED nonsense\r\n", "-ASK 1 host:port\r\n",
			    "_\r\n", "*-1\r\n",
			    "-ERR This instance has cluster support disabled\r\n"
			};
	char		*o;
	size_t		 len, i;
	unsigned	 unknown;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		o = whole(i == 8 ? CLUSTER_RW_SLOTS : CLUSTER_RW_REDIRECT,
		    &tm, in[i], &len, &unknown);
		assert_int_equal(len, strlen(in[i]));
		assert_memory_equal(o, in[i], len);
		free(o);
	}
	assert_int_equal(tm.calls, 0);
}

static void
test_slots(void **state)
{
	(void)state;
	/* 6 endpoints + 6 hostnames; RESP3 metadata is a map */
	check(CLUSTER_RW_SLOTS, cap_slots2, 12, ":7001\r\n");
	check(CLUSTER_RW_SLOTS, cap_slots3, 12, "%1\r\n");
	/* preferred hostname: endpoint + ip in metadata */
	check(CLUSTER_RW_SLOTS, cap_hslots2, 12, "$2\r\nip\r\n");
	check(CLUSTER_RW_SLOTS, cap_hslots3, 12, ":7006\r\n");
	/* unknown-endpoint "?": endpoint, ip and hostname */
	check(CLUSTER_RW_SLOTS, cap_uslots2, 18, "*4\r\n");
	check(CLUSTER_RW_SLOTS, cap_uslots3, 18, "%2\r\n");
}

static void
test_shards(void **state)
{
	(void)state;
	/* ip, endpoint, hostname of 6 nodes */
	check(CLUSTER_RW_SHARDS, cap_shards2, 18, "$4\r\nport\r\n:7002\r\n");
	check(CLUSTER_RW_SHARDS, cap_shards3, 18, "%8\r\n");
	check(CLUSTER_RW_SHARDS, cap_hshards2, 18, ":7004\r\n");
	check(CLUSTER_RW_SHARDS, cap_hshards3, 18, ":7005\r\n");
}

static void
test_nodes(void **state)
{
	(void)state;
	/* address and hostname of 6 lines; the bus port stays */
	check(CLUSTER_RW_NODES, cap_nodes2, 12, LHOST ":7001@41001," LHOST);
	check(CLUSTER_RW_NODES, cap_nodes3, 12, "=");
	check(CLUSTER_RW_NODES, cap_replicas2, 2, LHOST ":7005@41005");
	check(CLUSTER_RW_NODES, cap_replicas3, 2, NULL);
	check(CLUSTER_RW_NODES, cap_slaves2, 2, NULL);
	check(CLUSTER_RW_NODES, cap_slaves3, 2, NULL);
}

/* ROLE and INFO replication: the replica's and the master's addresses. */
static void
test_repl(void **state)
{
	struct tmap	 tm = { 0, 0, 0 };
	char		*o;
	size_t		 len;
	unsigned	 unknown;

	(void)state;
	check(CLUSTER_RW_ROLE, cap_rolem2, 1, "$4\r\n7005\r\n");
	check(CLUSTER_RW_ROLE, cap_rolem3, 1, NULL);
	check(CLUSTER_RW_ROLE, cap_roler2, 1, ":7001\r\n");
	check(CLUSTER_RW_ROLE, cap_roler3, 1, NULL);
	check(CLUSTER_RW_INFO, cap_infor2, 1, "master_host:" LHOST "\r\n"
	    "master_port:7001\r\n");
	check(CLUSTER_RW_INFO, cap_infor3, 1, "master_port:7001\r\n");
	check(CLUSTER_RW_INFO, cap_infom2, 1,
	    "slave0:ip=" LHOST ",port=7005,state=online");
	check(CLUSTER_RW_INFO, cap_infom3, 1, "txt:# Replication");
	/* an unknown master: both lines stay, counted once */
	tm.unknown_port = 31001;
	o = whole(CLUSTER_RW_INFO, &tm, cap_infor2, &len, &unknown);
	assert_int_equal(unknown, 1);
	assert_int_equal(len, strlen(cap_infor2));
	assert_memory_equal(o, cap_infor2, len);
	free(o);
}

/* A node the map does not know keeps its address and is counted. */
static void
test_unknown(void **state)
{
	struct tmap	 tm = { 31003, 0, 0 };
	char		*o;
	size_t		 len;
	unsigned	 unknown;

	(void)state;
	o = whole(CLUSTER_RW_SLOTS, &tm, cap_slots2, &len, &unknown);
	assert_int_equal(unknown, 1);
	assert_int_equal(capture_count(o, len, ":31003\r\n"), 1);
	assert_int_equal(capture_count(o, len, "127.0.0.1\r\n"), 1);
	assert_int_equal(capture_count(o, len, "node31003.internal"), 1);
	assert_int_equal(capture_count(o, len, "31001"), 0);
	assert_true(tm.with_id > 0);
	free(o);
	o = whole(CLUSTER_RW_NODES, &tm, cap_nodes2, &len, &unknown);
	assert_int_equal(unknown, 1);
	assert_int_equal(capture_count(o, len, "127.0.0.1:31003@41003"), 1);
	free(o);
	o = whole(CLUSTER_RW_SHARDS, &tm, cap_shards3, &len, &unknown);
	assert_int_equal(unknown, 1);
	free(o);
	o = whole(CLUSTER_RW_REDIRECT, &tm, cap_moved2, &len, &unknown);
	assert_int_equal(unknown, 1);
	assert_memory_equal(o, cap_moved2, len);
	free(o);
}

/* A TLS-only node: tls-port becomes port; with both, tls-port goes. */
static void
test_tls_port(void **state)
{
	struct tmap	 tm = { 0, 0, 0 };
	const char	*only = "*1\r\n%2\r\n$5\r\nslots\r\n*0\r\n"
			    "$5\r\nnodes\r\n*1\r\n%2\r\n$8\r\ntls-port\r\n"
			    ":31002\r\n$2\r\nip\r\n$8\r\n10.0.0.1\r\n";
	const char	*want1 = "*1\r\n%2\r\n$5\r\nslots\r\n*0\r\n"
			    "$5\r\nnodes\r\n*1\r\n%2\r\n$4\r\nport\r\n"
			    ":7002\r\n$2\r\nip\r\n$9\r\n" LHOST "\r\n";
	const char	*both = "*1\r\n*4\r\n$5\r\nslots\r\n*0\r\n"
			    "$5\r\nnodes\r\n*1\r\n*4\r\n$4\r\nport\r\n"
			    ":31002\r\n$8\r\ntls-port\r\n:31003\r\n";
	const char	*want2 = "*1\r\n*4\r\n$5\r\nslots\r\n*0\r\n"
			    "$5\r\nnodes\r\n*1\r\n*2\r\n$4\r\nport\r\n"
			    ":7002\r\n";
	char		*o;
	size_t		 len;
	unsigned	 unknown;

	(void)state;
	o = whole(CLUSTER_RW_SHARDS, &tm, only, &len, &unknown);
	assert_int_equal(len, strlen(want1));
	assert_memory_equal(o, want1, len);
	free(o);
	o = whole(CLUSTER_RW_SHARDS, &tm, both, &len, &unknown);
	assert_int_equal(len, strlen(want2));
	assert_memory_equal(o, want2, len);
	splits(CLUSTER_RW_SHARDS, both, o, len);
	free(o);
}

/* Two replies in one read: the first ends where it should. */
static void
test_pipelined(void **state)
{
	struct tmap		tm = { 0, 0, 0 };
	struct cluster_rw_map	map = { LHOST, tlookup, &tm };
	struct cluster_rw_out	out = { NULL, 0, 0 };
	struct cluster_rw	rw;
	char			in[256];
	size_t			used;
	unsigned		unknown = 0;

	(void)state;
	memset(&rw, 0, sizeof(rw));
	snprintf(in, sizeof(in), "%s%s", cap_moved2, cap_ask2);
	assert_int_equal(cluster_rw_feed(&rw, CLUSTER_RW_REDIRECT, &map, in,
	    strlen(in), &used, &out, &unknown), CLUSTER_RW_DONE);
	assert_int_equal(used, strlen(cap_moved2));
	assert_int_equal(cluster_rw_feed(&rw, CLUSTER_RW_REDIRECT, &map,
	    in + used, strlen(in) - used, &used, &out, &unknown),
	    CLUSTER_RW_DONE);
	assert_int_equal(used, strlen(cap_ask2));
	out.buf[out.len - 1] = '\0';
	assert_string_equal(out.buf, "-MOVED 12182 " LHOST ":7003\r\n"
	    "-ASK 12182 " LHOST ":7001\r");
	cluster_rw_out_free(&out);
	cluster_rw_clear(&rw);
}

/* Malformed framing and replies past the cap are refused. */
static void
test_bad(void **state)
{
	struct tmap		tm = { 0, 0, 0 };
	struct cluster_rw_map	map = { LHOST, tlookup, &tm };
	struct cluster_rw_out	out = { NULL, 0, 0 };
	struct cluster_rw	rw;
	const char		*bad[] = { "?x\r\n", "$3\r\nabcd\r\n",
				    "*x\r\n", "+a\rb\r\n", "%-1\r\n",
				    "$99999999999\r\n" };
	size_t			i, used, flen;
	unsigned		unknown = 0;
	char			deep[96];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&rw, 0, sizeof(rw));
		assert_int_equal(cluster_rw_feed(&rw, CLUSTER_RW_SLOTS, &map,
		    bad[i], strlen(bad[i]), &used, &out, &unknown),
		    CLUSTER_RW_BAD);
		assert_int_equal(rw.pend.len, strlen(bad[i]));
		cluster_rw_clear(&rw);
	}
	memset(deep, 0, sizeof(deep));
	for (i = 0; i < 20; i++)
		memcpy(deep + i * 4, "*1\r\n", 4);
	assert_int_equal(cluster_rw_frame(deep, strlen(deep), &flen), -1);
	memset(&rw, 0, sizeof(rw));
	rw.max = 8;
	assert_int_equal(cluster_rw_feed(&rw, CLUSTER_RW_NODES, &map,
	    "$20\r\n0123456789", 15, &used, &out, &unknown), CLUSTER_RW_BAD);
	assert_int_equal(out.len, 0);
	cluster_rw_clear(&rw);
	cluster_rw_out_free(&out);
}

/* The skip ends each reply where cluster_rw_frame does, for any split. */
static void
test_skip(void **state)
{
	const char	*in[] = { cap_slots2, cap_slots3, cap_shards2,
			    cap_shards3, cap_nodes3, cap_replicas2, cap_moved2,
			    "$0\r\n\r\n", "*0\r\n", "$-1\r\n", "*-1\r\n",
			    "%1\r\n+a\r\n*2\r\n:1\r\n_\r\n",
			    "|1\r\n+k\r\n+v\r\n$3\r\nx\r\n\r\n",
			    "|0\r\n,\r\n",	/* an empty attribute (fuzzer) */
			    ">2\r\n$7\r\nmessage\r\n=8\r\ntxt:abcd\r\n" };
	struct cluster_rw_skip	k;
	size_t		 i, n, cut, off, used, flen, step;
	int		 r;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		n = strlen(in[i]);
		assert_int_equal(cluster_rw_frame(in[i], n, &flen), 1);
		assert_int_equal(flen, n);
		for (cut = 1; cut <= n + 1; cut++) {
			memset(&k, 0, sizeof(k));
			r = 0;
			for (off = 0; off < n && r == 0; off += used) {
				step = cut == n + 1 ? 1 : (off < cut ?
				    cut - off : n - off);
				r = cluster_rw_skip_feed(&k, in[i] + off,
				    step, &used);
				assert_true(used <= step);
			}
			assert_int_equal(r, 1);
			assert_int_equal(off, n);
		}
	}
}

/* s1 + s2 + s3 + s4, to free. */
static char *
cat4(const char *s1, const char *s2, const char *s3, const char *s4)
{
	size_t	 n = strlen(s1) + strlen(s2) + strlen(s3) + strlen(s4) + 1;
	char	*p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s%s%s%s", s1, s2, s3, s4);
	return (p);
}

/*
 * EXEC's array: each element as the command it answers (a CLUSTER SLOTS
 * queued inside MULTI, a -MOVED, a value that looks like nothing), RESP2
 * and RESP3, split at every byte; a null or refused EXEC passes as is.
 */
static void
test_exec(void **state)
{
	struct tmap		 tm = { 0, 0, 0 };
	struct cluster_rw_map	 map = { LHOST, tlookup, &tm };
	enum cluster_rw_kind	 k[] = { CLUSTER_RW_SLOTS, CLUSTER_RW_REDIRECT,
				    CLUSTER_RW_REDIRECT };
	struct cluster_rw_tx	 tx = { k, 3, 3 };
	const char		*slots[] = { cap_slots2, cap_slots3 };
	const char		*moved[] = { cap_moved2, cap_moved3 };
	const char		*plain[] = { "*-1\r\n", "_\r\n",
				    "-EXECABORT Transaction discarded\r\n" };
	struct cluster_rw_out	 out = { NULL, 0, 0 }, sl = { NULL, 0, 0 };
	char			*in, *want, *ws;
	size_t			 i, len;
	unsigned		 unknown = 0;

	(void)state;
	for (i = 0; i < 2; i++) {
		in = cat4("*3\r\n", slots[i], "$15\r\n127.0.0.1:31001\r\n",
		    moved[i]);
		assert_int_equal(cluster_rw_reply(CLUSTER_RW_SLOTS, &map,
		    slots[i], strlen(slots[i]), &sl, &unknown), 0);
		assert_non_null(ws = malloc(sl.len + 1));
		memcpy(ws, sl.buf, sl.len);
		ws[sl.len] = '\0';
		want = cat4("*3\r\n", ws, "$15\r\n127.0.0.1:31001\r\n",
		    "-MOVED 12182 " LHOST ":7003\r\n");
		assert_int_equal(cluster_rw_reply_tx(&tx, &map, in, strlen(in),
		    &out, &unknown), 0);
		assert_int_equal(unknown, 0);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(out.buf, want, out.len);
		splits_tx(CLUSTER_RW_EXEC, &tx, in, want, strlen(want));
		/* without the kinds: only the redirect changes */
		free(want);
		want = cat4("*3\r\n", slots[i], "$15\r\n127.0.0.1:31001\r\n",
		    "-MOVED 12182 " LHOST ":7003\r\n");
		splits_tx(CLUSTER_RW_EXEC, NULL, in, want, strlen(want));
		free(in);
		free(want);
		free(ws);
		out.len = sl.len = 0;
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		len = strlen(plain[i]);
		splits_tx(CLUSTER_RW_EXEC, &tx, plain[i], plain[i], len);
	}
	cluster_rw_out_free(&out);
	cluster_rw_out_free(&sl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_shards),
		cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_tls_port),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_repl),
	};

	return (cmocka_run_group_tests(tests, captures_load, captures_free));
}
