/*
 * test_cluster_caps.c: the cluster reply rewriter (proto/redis/cluster_rw*)
 * on replies captured from real Redis 8 and Valkey clusters
 * (cluster_caps_*.h, made by tests/unit/cluster-capture.py in the
 * Debian 13 chroot), RESP2 and RESP3, every endpoint type: each address
 * becomes the local one, framing is recomputed, the output is the same
 * for every split of the input (two parts at every byte, and byte by
 * byte), the skip ends each reply where the framer does, an unknown
 * node is counted and left as written.  Redis 7.0's captures are
 * test_cluster_rw.c's.
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

#include "cluster_rw.h"
#include "cluster_caps_redis8.h"
#include "cluster_caps_valkey.h"

#define LHOST	"127.0.0.9"

static const struct cluster_capset *const capsets[] = {
	&capset_redis8, &capset_valkey
};
#define NSETS	(sizeof(capsets) / sizeof(capsets[0]))

/* The test's map: node 127.0.0.1:3100N is local port 700N. */
struct tmap {
	long	unknown_port;	/* a port the map does not know, or 0 */
	int	calls;
};

static int
tlookup(void *arg, const struct cluster_rw_node *n)
{
	struct tmap	*m = arg;

	m->calls++;
	if (n->idlen > 0)
		assert_int_equal(n->idlen, 40);
	if (n->port < 31001 || n->port > 31006 || n->port == m->unknown_port)
		return (-1);
	return ((int)(n->port - 31001 + 7001));
}

static size_t
count(const char *hay, size_t n, const char *needle)
{
	size_t	c = 0, k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		c += memcmp(hay + i, needle, k) == 0;
	return (c);
}

/* Rewrite text whole with map tm; the result (to free) and its length. */
static char *
whole(enum cluster_rw_kind kind, struct tmap *tm, const char *text,
    size_t *len, unsigned *unknown)
{
	struct cluster_rw_map	map = { LHOST, tlookup, tm };
	struct cluster_rw_out	out = { NULL, 0, 0 };
	size_t			n = strlen(text), flen;

	*unknown = 0;
	assert_int_equal(cluster_rw_frame(text, n, &flen), 1);
	assert_int_equal(flen, n);
	assert_int_equal(cluster_rw_reply(kind, &map, text, n, &out,
	    unknown), 0);
	*len = out.len;
	return (out.buf);
}

/* Feed text in two parts split at every byte, then byte by byte. */
static void
splits(enum cluster_rw_kind kind, const char *text, const char *want,
    size_t wantlen)
{
	struct tmap		tm = { 0, 0 };
	struct cluster_rw_map	map = { LHOST, tlookup, &tm };
	struct cluster_rw_out	out;
	struct cluster_rw	rw;
	size_t			n = strlen(text), cut, off, used, step;
	unsigned		unknown;
	enum cluster_rw_res	r;

	for (cut = 0; cut <= n + 1; cut++) {
		memset(&rw, 0, sizeof(rw));
		memset(&out, 0, sizeof(out));
		unknown = 0;
		r = CLUSTER_RW_MORE;
		for (off = 0; off < n; off += used) {
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

/* The skip ends the reply where cluster_rw_frame does, for any split. */
static void
skips(const char *text)
{
	struct cluster_rw_skip	k;
	size_t			n = strlen(text), cut, off, used, step;
	int			r;

	for (cut = 1; cut <= n + 1; cut++) {
		memset(&k, 0, sizeof(k));
		r = 0;
		for (off = 0; off < n && r == 0; off += used) {
			step = cut == n + 1 ? 1 : (off < cut ? cut - off :
			    n - off);
			r = cluster_rw_skip_feed(&k, text + off, step, &used);
			assert_true(used <= step);
		}
		assert_int_equal(r, 1);
		assert_int_equal(off, n);
	}
}

/*
 * No original address is left, nlocal local ones are there, the output
 * frames, must (if any) is in it, every split gives the same bytes.
 */
static void
check(const struct cluster_capset *cs, enum cluster_rw_kind kind,
    const char *text, size_t nlocal, const char *must)
{
	struct tmap	 tm = { 0, 0 };
	char		*o, port[8];
	size_t		 len, flen, i;
	unsigned	 unknown;

	print_message("%s: kind %d, %zu bytes\n", cs->name, (int)kind,
	    text != NULL ? strlen(text) : 0);
	assert_non_null(text);
	o = whole(kind, &tm, text, &len, &unknown);
	assert_int_equal(unknown, 0);
	assert_int_equal(cluster_rw_frame(o, len, &flen), 1);
	assert_int_equal(flen, len);
	assert_int_equal(count(o, len, "127.0.0.1"), 0);
	assert_int_equal(count(o, len, ".internal"), 0);
	/* a port as the replies write one (a replid's hex may hold 3100N) */
	for (i = 1; i <= 6; i++) {
		snprintf(port, sizeof(port), ":3100%zu", i);
		assert_int_equal(count(o, len, port), 0);
		port[0] = '=';
		assert_int_equal(count(o, len, port), 0);
		port[0] = '\n';
		assert_int_equal(count(o, len, port), 0);
	}
	assert_int_equal(count(o, len, LHOST), nlocal);
	if (must != NULL && count(o, len, must) == 0)
		fail_msg("%s: \"%s\" not in %.*s", cs->name, must, (int)len, o);
	splits(kind, text, o, len);
	skips(text);
	free(o);
}

static void
test_redirects(void **state)
{
	const struct cluster_capset	*cs;
	const char			*moved[6];
	size_t				 i, j;

	(void)state;
	for (i = 0; i < NSETS; i++) {
		cs = capsets[i];
		moved[0] = cs->moved2, moved[1] = cs->moved3;
		moved[2] = cs->hmoved2, moved[3] = cs->hmoved3;
		moved[4] = cs->umoved2, moved[5] = cs->umoved3;
		for (j = 0; j < 6; j++)
			check(cs, CLUSTER_RW_REDIRECT, moved[j], 1,
			    "-MOVED 12182 " LHOST ":7003\r\n");
		check(cs, CLUSTER_RW_REDIRECT, cs->ask2, 1,
		    "-ASK 12182 " LHOST ":7001\r\n");
		check(cs, CLUSTER_RW_REDIRECT, cs->ask3, 1,
		    "-ASK 12182 " LHOST ":7001\r\n");
	}
}

static void
test_slots(void **state)
{
	const struct cluster_capset	*cs;
	size_t				 i;

	(void)state;
	for (i = 0; i < NSETS; i++) {
		cs = capsets[i];
		/* 6 endpoints + 6 hostnames; RESP3 metadata is a map */
		check(cs, CLUSTER_RW_SLOTS, cs->slots2, 12, ":7001\r\n");
		check(cs, CLUSTER_RW_SLOTS, cs->slots3, 12, "%1\r\n");
		/* preferred hostname: endpoint + ip in metadata */
		check(cs, CLUSTER_RW_SLOTS, cs->hslots2, 12, "$2\r\nip\r\n");
		check(cs, CLUSTER_RW_SLOTS, cs->hslots3, 12, ":7006\r\n");
		/* unknown-endpoint "?": endpoint, ip and hostname */
		check(cs, CLUSTER_RW_SLOTS, cs->uslots2, 18, "*4\r\n");
		check(cs, CLUSTER_RW_SLOTS, cs->uslots3, 18, "%2\r\n");
	}
}

static void
test_shards(void **state)
{
	const struct cluster_capset	*cs;
	size_t				 i;

	(void)state;
	for (i = 0; i < NSETS; i++) {
		cs = capsets[i];
		/* ip, endpoint, hostname of 6 nodes */
		check(cs, CLUSTER_RW_SHARDS, cs->shards2, 18,
		    "$4\r\nport\r\n:7002\r\n");
		check(cs, CLUSTER_RW_SHARDS, cs->shards3, 18, ":7004\r\n");
		check(cs, CLUSTER_RW_SHARDS, cs->hshards2, 18, ":7005\r\n");
		check(cs, CLUSTER_RW_SHARDS, cs->hshards3, 18, ":7006\r\n");
	}
}

static void
test_nodes(void **state)
{
	const struct cluster_capset	*cs;
	char				 rep[64];
	size_t				 i;

	(void)state;
	for (i = 0; i < NSETS; i++) {
		cs = capsets[i];
		snprintf(rep, sizeof(rep), LHOST ":%ld@%ld," LHOST " slave ",
		    cs->replica - 31001 + 7001, cs->replica + 10000);
		/* address and hostname of 6 lines; the bus port stays */
		check(cs, CLUSTER_RW_NODES, cs->nodes2, 12,
		    LHOST ":7001@41001," LHOST);
		check(cs, CLUSTER_RW_NODES, cs->nodes3, 12, "=");
		check(cs, CLUSTER_RW_NODES, cs->replicas2, 2, rep);
		check(cs, CLUSTER_RW_NODES, cs->replicas3, 2, rep);
		check(cs, CLUSTER_RW_NODES, cs->slaves2, 2, rep);
		check(cs, CLUSTER_RW_NODES, cs->slaves3, 2, rep);
	}
}

/* ROLE and INFO replication: the replica's and the master's addresses. */
static void
test_repl(void **state)
{
	const struct cluster_capset	*cs;
	struct tmap			 tm = { 31001, 0 };
	char				 rrole[32], rinfo[64];
	char				*o;
	size_t				 i, len;
	unsigned			 unknown;

	(void)state;
	for (i = 0; i < NSETS; i++) {
		cs = capsets[i];
		snprintf(rrole, sizeof(rrole), "$4\r\n%ld\r\n",
		    cs->replica - 31001 + 7001);
		snprintf(rinfo, sizeof(rinfo), "slave0:ip=" LHOST ",port=%ld,",
		    cs->replica - 31001 + 7001);
		check(cs, CLUSTER_RW_ROLE, cs->rolem2, 1, rrole);
		check(cs, CLUSTER_RW_ROLE, cs->rolem3, 1, rrole);
		check(cs, CLUSTER_RW_ROLE, cs->roler2, 1, ":7001\r\n");
		check(cs, CLUSTER_RW_ROLE, cs->roler3, 1, ":7001\r\n");
		check(cs, CLUSTER_RW_INFO, cs->infor2, 1, "master_host:" LHOST
		    "\r\nmaster_port:7001\r\n");
		check(cs, CLUSTER_RW_INFO, cs->infor3, 1, "master_port:7001\r\n");
		check(cs, CLUSTER_RW_INFO, cs->infom2, 1, rinfo);
		check(cs, CLUSTER_RW_INFO, cs->infom3, 1, rinfo);
		/* an unknown master: both lines stay, counted once */
		o = whole(CLUSTER_RW_INFO, &tm, cs->infor2, &len, &unknown);
		assert_int_equal(unknown, 1);
		assert_int_equal(len, strlen(cs->infor2));
		assert_memory_equal(o, cs->infor2, len);
		free(o);
	}
}

/* A node the map does not know keeps its address and is counted once. */
static void
test_unknown(void **state)
{
	const struct cluster_capset	*cs;
	struct tmap			 tm = { 31003, 0 };
	char				*o;
	size_t				 i, len;
	unsigned			 unknown;

	(void)state;
	for (i = 0; i < NSETS; i++) {
		cs = capsets[i];
		o = whole(CLUSTER_RW_SLOTS, &tm, cs->slots2, &len, &unknown);
		assert_int_equal(unknown, 1);
		assert_int_equal(count(o, len, ":31003\r\n"), 1);
		assert_int_equal(count(o, len, "node31003.internal"), 1);
		assert_int_equal(count(o, len, "31001"), 0);
		free(o);
		o = whole(CLUSTER_RW_NODES, &tm, cs->nodes2, &len, &unknown);
		assert_int_equal(unknown, 1);
		assert_int_equal(count(o, len, "127.0.0.1:31003@41003"), 1);
		free(o);
		o = whole(CLUSTER_RW_SHARDS, &tm, cs->shards3, &len, &unknown);
		assert_int_equal(unknown, 1);
		assert_int_equal(count(o, len, "node31003.internal"), 1);
		free(o);
		o = whole(CLUSTER_RW_REDIRECT, &tm, cs->moved3, &len, &unknown);
		assert_int_equal(unknown, 1);
		assert_memory_equal(o, cs->moved3, len);
		free(o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_shards),
		cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_repl),
		cmocka_unit_test(test_unknown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
