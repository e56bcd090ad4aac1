/*
 * track.c: what session tracking costs per request/reply pair, fed the
 * byte streams the benchmarks' clients make (redis-benchmark GET and SET,
 * alone and 16 pipelined; pgbench -S's simple query and its four reply
 * messages), one relay read per chunk.  A benchmark, not a test: it
 * prints figures and judges none (tests/bench/track.sh runs it, and the
 * same file built against an earlier tracker, side by side).
 *
 *   track [MS]	each case runs MS milliseconds of CPU (default 300), 5
 *		times; the best of the 5 is printed, in ns per pair
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_track.h"
#include "pg_state.h"
#include "resp_track.h"

#define TRACK_REPEAT	5
#define TRACK_BUF	4096

struct track_case {
	const char	*name;
	int		 pg;
	int		 state;		/* pg: with pgstate (resume) */
	size_t		 pairs;		/* request/reply pairs per round */
	uint8_t		 req[TRACK_BUF], rep[TRACK_BUF];
	size_t		 nreq, nrep;
};

/*
 * This thread's CPU time, not the wall clock: on a shared machine the
 * time other jobs hold the CPU is not the tracker's.
 */
static uint64_t
track_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static void
track_add(uint8_t *buf, size_t *len, const void *p, size_t n)
{
	if (*len + n > TRACK_BUF) {
		fprintf(stderr, "track: case too big\n");
		exit(1);
	}
	memcpy(buf + *len, p, n);
	*len += n;
}

/* A PostgreSQL message: type, length, body. */
static void
track_pg(uint8_t *buf, size_t *len, uint8_t type, const void *body, size_t n)
{
	uint8_t	hdr[5];
	size_t	l = n + 4;

	hdr[0] = type;
	hdr[1] = (uint8_t)(l >> 24);
	hdr[2] = (uint8_t)(l >> 16);
	hdr[3] = (uint8_t)(l >> 8);
	hdr[4] = (uint8_t)l;
	track_add(buf, len, hdr, 5);
	track_add(buf, len, body, n);
}

static void
track_redis(struct track_case *c, const char *name, const char *req,
    const char *rep, size_t pairs)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->pairs = pairs;
	for (i = 0; i < pairs; i++) {
		track_add(c->req, &c->nreq, req, strlen(req));
		track_add(c->rep, &c->nrep, rep, strlen(rep));
	}
}

/* pgbench -S: one simple query; RowDescription, DataRow, CommandComplete, ReadyForQuery. */
static void
track_pgbench(struct track_case *c)
{
	static const char	q[] =
	    "SELECT abalance FROM pgbench_accounts WHERE aid = 123456;";
	static const uint8_t	row[] = {
		0, 1, 'a', 'b', 'a', 'l', 'a', 'n', 'c', 'e', 0,
		0, 0, 0x40, 0x01, 0, 3, 0, 0, 0, 23, 0, 4,
		0xff, 0xff, 0xff, 0xff, 0, 0
	};
	static const uint8_t	data[] = { 0, 1, 0, 0, 0, 1, '0' };

	memset(c, 0, sizeof(*c));
	c->name = "pg -S (Q; T D C Z)";
	c->pg = 1;
	c->pairs = 1;
	track_pg(c->req, &c->nreq, 'Q', q, sizeof(q));
	track_pg(c->rep, &c->nrep, 'T', row, sizeof(row));
	track_pg(c->rep, &c->nrep, 'D', data, sizeof(data));
	track_pg(c->rep, &c->nrep, 'C', "SELECT 1", 9);
	track_pg(c->rep, &c->nrep, 'Z', "I", 1);
}

/*
 * pgbench -S -M prepared: Bind, Execute, Sync; BindComplete, DataRow,
 * CommandComplete, ReadyForQuery.
 */
static void
track_pgbench_prepared(struct track_case *c, int state)
{
	static const uint8_t	bind[] = {
		0, 'P', '0', '_', '1', 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 6,
		'1', '2', '3', '4', '5', '6', 0, 0
	};
	static const uint8_t	exec[] = { 0, 0, 0, 0, 0 };
	static const uint8_t	data[] = { 0, 1, 0, 0, 0, 1, '0' };

	memset(c, 0, sizeof(*c));
	c->name = state ? "pg -M prepared+st" : "pg -M prepared";
	c->pg = 1;
	c->state = state;
	c->pairs = 1;
	track_pg(c->req, &c->nreq, 'B', bind, sizeof(bind));
	track_pg(c->req, &c->nreq, 'E', exec, sizeof(exec));
	track_pg(c->req, &c->nreq, 'S', "", 0);
	track_pg(c->rep, &c->nrep, '2', "", 0);
	track_pg(c->rep, &c->nrep, 'D', data, sizeof(data));
	track_pg(c->rep, &c->nrep, 'C', "SELECT 1", 9);
	track_pg(c->rep, &c->nrep, 'Z', "I", 1);
}

/* One round of c on fresh trackers, rounds times; ns per pair. */
static double
track_run(const struct track_case *c, uint64_t rounds)
{
	static struct resp_track	rt;
	static struct pg_track		pt;
	static struct pg_state		st;
	uint64_t			t0, i;

	resp_track_init(&rt);
	pg_track_init(&pt);
	if (c->state) {
		/* PostgreSQL resume's state (pg_state.h), after a startup. */
		pg_state_init(&st);
		st.ready = 1;
		pt.st = &st;
	}
	t0 = track_now_ns();
	for (i = 0; i < rounds; i++) {
		if (c->pg) {
			pg_track_client(&pt, c->req, c->nreq);
			pg_track_server(&pt, c->rep, c->nrep);
		} else {
			resp_track_client(&rt, c->req, c->nreq);
			resp_track_server(&rt, c->rep, c->nrep);
		}
	}
	t0 = track_now_ns() - t0;
	if (c->pg ? pg_track_safe(&pt) != PG_SAFE || pt.syncs != 0 :
	    resp_track_safe(&rt) != RESP_SAFE ||
	    rt.sent != rounds * c->pairs || rt.answered != rt.sent) {
		fprintf(stderr, "track: %s: the tracker lost count\n",
		    c->name);
		exit(1);
	}
	resp_track_clear(&rt);
	if (c->state)
		pg_state_free(&st);
	return ((double)t0 / (double)(rounds * c->pairs));
}

int
main(int argc, char **argv)
{
	static struct track_case	cases[8];
	const char			*get = "*2\r\n$3\r\nGET\r\n$16\r\n"
	    "key:__rand_int__\r\n";
	const char			*set = "*3\r\n$3\r\nSET\r\n$16\r\n"
	    "key:__rand_int__\r\n$3\r\nxxx\r\n";
	uint64_t			 ms = 300, rounds, t0;
	double				 best, ns;
	size_t				 i, r;

	if (argc > 1 && (ms = strtoull(argv[1], NULL, 10)) == 0)
		ms = 300;
	track_redis(&cases[0], "redis GET -P16", get, "$3\r\nxxx\r\n", 16);
	track_redis(&cases[1], "redis GET", get, "$3\r\nxxx\r\n", 1);
	track_redis(&cases[2], "redis SET -P16", set, "+OK\r\n", 16);
	track_redis(&cases[3], "redis SET", set, "+OK\r\n", 1);
	track_pgbench(&cases[4]);
	track_pgbench(&cases[5]);
	cases[5].state = 1;
	cases[5].name = "pg -S +st";
	track_pgbench_prepared(&cases[6], 0);
	track_pgbench_prepared(&cases[7], 1);
	printf("%-20s %10s %10s\n", "case", "bytes/pair", "ns/pair");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Calibrate: rounds for about ms milliseconds. */
		rounds = 1000;
		for (;;) {
			t0 = track_now_ns();
			track_run(&cases[i], rounds);
			t0 = track_now_ns() - t0;
			if (t0 >= 20000000u || rounds > ((uint64_t)1 << 40))
				break;
			rounds *= 4;
		}
		rounds = rounds * ms * 1000000u / (t0 > 0 ? t0 : 1) + 1;
		best = 0;
		for (r = 0; r < TRACK_REPEAT; r++) {
			ns = track_run(&cases[i], rounds);
			if (r == 0 || ns < best)
				best = ns;
		}
		printf("%-20s %10zu %10.1f\n", cases[i].name,
		    (cases[i].nreq + cases[i].nrep) / cases[i].pairs, best);
	}
	return (0);
}
