/*
 * test_cluster_caps.c: the cluster reply rewriter (proto/redis/cluster_rw*)
 * on replies captured from real Redis 8 and Valkey clusters
 * (tests/unit/captures/cluster-redis8/ and cluster-valkey/, written by
 * tests/unit/cluster-capture.py in the Debian 13 chroot), RESP2 and
 * RESP3, every endpoint type: each address becomes the local one,
 * framing is recomputed, the output is the same for every split of the
 * input (two parts at every byte, and byte by byte), the skip ends each
 * reply where the framer does, an unknown node is counted and left as
 * written.  Redis 7.0's captures are test_cluster_rw.c's.
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
 * One server's captures, a folder as cluster-capture.py writes it: one
 * FIELD.resp per reply below (the suffix 2 is RESP2, 3 RESP3 after
 * HELLO 3; h with cluster-preferred-endpoint-type hostname, u with
 * unknown-endpoint; m and r: ROLE and INFO replication of master 31001
 * and of its replica), and capset.txt, the server's name and version
 * and the replica's port ("name Redis 8.0.2", "replica 31006").  Nodes
 * are 127.0.0.1:31001-31006 announcing node<port>.internal.
 */
struct cluster_capset {
	const char	*dir;
	char		 name[64];
	long		 replica;
	char		*moved2, *moved3, *ask2, *ask3;
	char		*slots2, *slots3, *shards2, *shards3;
	char		*nodes2, *nodes3, *replicas2, *replicas3;
	char		*slaves2, *slaves3;
	char		*rolem2, *rolem3, *roler2, *roler3;
	char		*infom2, *infom3, *infor2, *infor3;
	char		*hmoved2, *hmoved3, *hslots2, *hslots3;
	char		*hshards2, *hshards3;
	char		*umoved2, *umoved3, *uslots2, *uslots3;
};

/* The folders: Makefile.am's -D, under abs_top_srcdir (VPATH builds). */
static struct cluster_capset	redis8 = { .dir = CAPTURE_DIR_REDIS8 },
				valkey = { .dir = CAPTURE_DIR_VALKEY };
static struct cluster_capset *const capsets[] = { &redis8, &valkey };
#define NSETS	(sizeof(capsets) / sizeof(capsets[0]))

#define CAPSET_FILES(cs) {						\
	{ "moved2", &(cs).moved2 }, { "moved3", &(cs).moved3 },		\
	{ "ask2", &(cs).ask2 }, { "ask3", &(cs).ask3 },			\
	{ "slots2", &(cs).slots2 }, { "slots3", &(cs).slots3 },		\
	{ "shards2", &(cs).shards2 }, { "shards3", &(cs).shards3 },	\
	{ "nodes2", &(cs).nodes2 }, { "nodes3", &(cs).nodes3 },		\
	{ "replicas2", &(cs).replicas2 },				\
	{ "replicas3", &(cs).replicas3 },				\
	{ "slaves2", &(cs).slaves2 }, { "slaves3", &(cs).slaves3 },	\
	{ "rolem2", &(cs).rolem2 }, { "rolem3", &(cs).rolem3 },		\
	{ "roler2", &(cs).roler2 }, { "roler3", &(cs).roler3 },		\
	{ "infom2", &(cs).infom2 }, { "infom3", &(cs).infom3 },		\
	{ "infor2", &(cs).infor2 }, { "infor3", &(cs).infor3 },		\
	{ "hmoved2", &(cs).hmoved2 }, { "hmoved3", &(cs).hmoved3 },	\
	{ "hslots2", &(cs).hslots2 }, { "hslots3", &(cs).hslots3 },	\
	{ "hshards2", &(cs).hshards2 }, { "hshards3", &(cs).hshards3 },	\
	{ "umoved2", &(cs).umoved2 }, { "umoved3", &(cs).umoved3 },	\
	{ "uslots2", &(cs).uslots2 }, { "uslots3", &(cs).uslots3 },	\
}
static const struct capture	redis8_files[] = CAPSET_FILES(redis8),
				valkey_files[] = CAPSET_FILES(valkey);
static const struct capture *const capset_files[] = {
	redis8_files, valkey_files
};
#define NFILES	(sizeof(redis8_files) / sizeof(redis8_files[0]))

/* capset.txt: "name TEXT" and "replica PORT", one a line, both once. */
static int
capset_meta(struct cluster_capset *cs)
{
	char	*text, *line, *next, *end;
	int	 lineno = 0, have = 0, bad = 0;
	long	 port;

	if ((text = capture_read(cs->dir, "capset.txt")) == NULL)
		return (-1);
	for (line = text; *line != '\0' && !bad; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (strncmp(line, "name ", 5) == 0 && !(have & 1) &&
		    strlen(line + 5) < sizeof(cs->name)) {
			strcpy(cs->name, line + 5);
			have |= 1;
		} else if (strncmp(line, "replica ", 8) == 0 && !(have & 2) &&
		    (port = strtol(line + 8, &end, 10)) >= 31001 &&
		    port <= 31006 && *end == '\0') {
			cs->replica = port;
			have |= 2;
		} else
			bad = 1;
	}
	if (bad)
		print_error("%s/capset.txt:%d: not \"name TEXT\" or "
		    "\"replica 3100N\", or said twice\n", cs->dir, lineno);
	else if (have != 3)
		print_error("%s/capset.txt: \"name\" or \"replica\" missing\n",
		    cs->dir);
	free(text);
	return (have == 3 && !bad ? 0 : -1);
}

static int
capsets_free(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < NSETS; i++)
		capture_free(capset_files[i], NFILES);
	return (0);
}

/* Group setup: every set's metadata and captures, or the run fails. */
static int
capsets_load(void **state)
{
	size_t	i;

	for (i = 0; i < NSETS; i++) {
		if (capset_meta(capsets[i]) == -1 ||
		    capture_load(capsets[i]->dir, capset_files[i],
		    NFILES) == -1) {
			capsets_free(state);
			return (-1);
		}
	}
	return (0);
}

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

/* Rewrite text whole with map tm; the result (to free) and its length. */
static char *
whole(enum cluster_rw_kind kind, struct tmap *tm, const char *text,
    size_t *len, unsigned *unknown)
{
	struct cluster_rw_map	map = { LHOST, tlookup, tm };

	return (capture_whole(kind, &map, text, len, unknown));
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
	assert_int_equal(capture_count(o, len, "127.0.0.1"), 0);
	assert_int_equal(capture_count(o, len, ".internal"), 0);
	/* a port as the replies write one (a replid's hex may hold 3100N) */
	for (i = 1; i <= 6; i++) {
		snprintf(port, sizeof(port), ":3100%zu", i);
		assert_int_equal(capture_count(o, len, port), 0);
		port[0] = '=';
		assert_int_equal(capture_count(o, len, port), 0);
		port[0] = '\n';
		assert_int_equal(capture_count(o, len, port), 0);
	}
	assert_int_equal(capture_count(o, len, LHOST), nlocal);
	if (must != NULL && capture_count(o, len, must) == 0)
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
	char				 rep[128];
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
		assert_int_equal(capture_count(o, len, ":31003\r\n"), 1);
		assert_int_equal(capture_count(o, len, "node31003.internal"),
		    1);
		assert_int_equal(capture_count(o, len, "31001"), 0);
		free(o);
		o = whole(CLUSTER_RW_NODES, &tm, cs->nodes2, &len, &unknown);
		assert_int_equal(unknown, 1);
		assert_int_equal(capture_count(o, len,
		    "127.0.0.1:31003@41003"), 1);
		free(o);
		o = whole(CLUSTER_RW_SHARDS, &tm, cs->shards3, &len, &unknown);
		assert_int_equal(unknown, 1);
		assert_int_equal(capture_count(o, len, "node31003.internal"),
		    1);
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

	return (cmocka_run_group_tests(tests, capsets_load, capsets_free));
}
