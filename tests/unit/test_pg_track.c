/*
 * test_pg_track.c: the PostgreSQL tracker against byte streams captured
 * from PostgreSQL 15 (startup, simple queries, a transaction, an
 * extended-protocol batch the server rejected, COPY TO STDOUT, LISTEN),
 * split at every byte boundary.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pg_track.h"

/* The server's startup, after the StartupMessage: ends in 'Z' 'I'. */
static const char startup[] =
"R\000\000\000\010\000\000\000\000S\000\000\000\026application_name"
"\000\000S\000\000\000\031client_encoding\000UTF8\000S\000\000\000"
"\027DateStyle\000ISO, MDY\000S\000\000\000&default_transaction_rea"
"d_only\000off\000S\000\000\000\027in_hot_standby\000off\000S\000"
"\000\000\031integer_datetimes\000on\000S\000\000\000\033IntervalSt"
"yle\000postgres\000S\000\000\000\024is_superuser\000on\000S\000"
"\000\000\031server_encoding\000UTF8\000S\000\000\0002server_versio"
"n\00015.18 (Debian 15.18-0+deb12u1)\000S\000\000\000#session_autho"
"rization\000postgres\000S\000\000\000#standard_conforming_strings"
"\000on\000S\000\000\000\025TimeZone\000Etc/UTC\000K\000\000\000"
"\014\000\000\n\276\307\227W\225Z\000\000\000\005I";

/* CREATE TABLE; BEGIN; INSERT; COMMIT; P/B/D/E/S; COPY; LISTEN. */
static const char req[] =
"Q\000\000\000\033CREATE TABLE t (a int)\000Q\000\000\000\nBEGIN"
"\000Q\000\000\000\035INSERT INTO t VALUES (1)\000Q\000\000\000\013"
"COMMIT\000P\000\000\000\026\000SELECT $1::int\000\000\000B\000\000"
"\000\022\000\000\000\000\000\001\000\000\000\00142\000\000D\000"
"\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000"
"\000\004Q\000\000\000\025COPY t TO STDOUT\000Q\000\000\000\016LIST"
"EN ch\000";

static const char rep[] =
"C\000\000\000\021CREATE TABLE\000Z\000\000\000\005IC\000\000\000\n"
"BEGIN\000Z\000\000\000\005TC\000\000\000\017INSERT 0 1\000Z\000"
"\000\000\005TC\000\000\000\013COMMIT\000Z\000\000\000\005I1\000"
"\000\000\004E\000\000\000_SERROR\000VERROR\000C08P01\000Minsuffici"
"ent data left in message\000Fpqformat.c\000L533\000Rpq_copymsgbyte"
"s\000\000Z\000\000\000\005IH\000\000\000\011\000\000\001\000\000d"
"\000\000\000\0061\nc\000\000\000\004C\000\000\000\013COPY 1\000Z"
"\000\000\000\005IC\000\000\000\013LISTEN\000Z\000\000\000\005I";

#define LEN(a)	(sizeof(a) - 1)
#define U(a)	((const uint8_t *)(a))

static void
feed_split(struct pg_track *t, const char *s, size_t n, size_t cut,
    int server)
{
	if (server) {
		pg_track_server(t, U(s), cut);
		pg_track_server(t, U(s) + cut, n - cut);
	} else {
		pg_track_client(t, U(s), cut);
		pg_track_client(t, U(s) + cut, n - cut);
	}
}

static void
test_startup(void **state)
{
	struct pg_track	t;
	size_t		i;

	for (i = 0; i <= LEN(startup); i++) {
		pg_track_init(&t);
		assert_int_equal(pg_track_safe(&t), PG_BUSY);
		feed_split(&t, startup, LEN(startup), i, 1);
		assert_int_equal(pg_track_safe(&t), PG_SAFE);
	}
}

static void
test_session_every_split(void **state)
{
	struct pg_track	t;
	size_t		i;

	for (i = 0; i <= LEN(rep); i++) {
		pg_track_init(&t);
		pg_track_server(&t, U(startup), LEN(startup));
		feed_split(&t, req, LEN(req), i % (LEN(req) + 1), 0);
		assert_int_equal(pg_track_safe(&t), PG_BUSY);
		feed_split(&t, rep, LEN(rep), i, 1);
		assert_null(t.lost);
		assert_int_equal(t.syncs, 0);
		assert_int_equal(pg_track_safe(&t), PG_LISTENING);
		pg_track_clear(&t);
	}
}

/* Reply by reply: busy inside the transaction and the batch. */
static void
test_transaction(void **state)
{
	struct pg_track	t;
	size_t		i;
	int		safe_points = 0, was_safe = 1;

	pg_track_init(&t);
	pg_track_server(&t, U(startup), LEN(startup));
	pg_track_client(&t, U(req), LEN(req));
	for (i = 0; i < LEN(rep); i++) {
		pg_track_server(&t, U(rep) + i, 1);
		if (pg_track_safe(&t) == PG_SAFE && !was_safe)
			safe_points++;
		was_safe = pg_track_safe(&t) == PG_SAFE;
		if (t.status == 'T')
			assert_int_equal(pg_track_safe(&t), PG_BUSY);
	}
	/* All queries were sent at once: no idle point until the end. */
	assert_int_equal(safe_points, 0);
	assert_int_equal(pg_track_safe(&t), PG_LISTENING);
	assert_string_equal(pg_track_why(&t), "LISTENing");
	pg_track_clear(&t);
}

/* One query at a time, as a pool runs them: idle between them only. */
static void
test_idle_between_queries(void **state)
{
	static const char begin[] = "Q\000\000\000\nBEGIN\000";
	static const char begin_ok[] =
	    "C\000\000\000\nBEGIN\000Z\000\000\000\005T";
	static const char commit[] = "Q\000\000\000\013COMMIT\000";
	static const char commit_ok[] =
	    "C\000\000\000\013COMMIT\000Z\000\000\000\005I";
	static const char parse[] = "P\000\000\000\010\000x\000\000\000";
	struct pg_track	t;

	pg_track_init(&t);
	pg_track_server(&t, U(startup), LEN(startup));
	pg_track_client(&t, U(begin), LEN(begin));
	assert_int_equal(pg_track_safe(&t), PG_BUSY);
	pg_track_server(&t, U(begin_ok), LEN(begin_ok));
	assert_int_equal(pg_track_safe(&t), PG_BUSY);
	assert_string_equal(pg_track_why(&t), "inside a transaction");
	pg_track_client(&t, U(commit), LEN(commit));
	pg_track_server(&t, U(commit_ok), LEN(commit_ok));
	assert_int_equal(pg_track_safe(&t), PG_SAFE);
	/* An extended batch without its Sync yet: not idle. */
	pg_track_client(&t, U(parse), 5);
	assert_int_equal(pg_track_safe(&t), PG_BUSY);
	pg_track_client(&t, U(parse) + 5, LEN(parse) - 5);
	assert_int_equal(pg_track_safe(&t), PG_BUSY);
}

/*
 * A simple query inside an extended batch (no Sync yet): after an error
 * in the batch the server discards it with no ReadyForQuery, else runs
 * it.  Found by the differential test (tests/diff): the tracker owed a
 * ReadyForQuery that never came.  Not followed: lost, whole or cut.
 */
static void
test_query_in_batch(void **state)
{
	static const char parse_q[] = "P\000\000\000\011\000x\000\000\000"
	    "H\000\000\000\004Q\000\000\000\015SELECT 1\000";
	struct pg_track	t;
	size_t		i;

	pg_track_init(&t);
	pg_track_server(&t, U(startup), LEN(startup));
	pg_track_client(&t, U(parse_q), LEN(parse_q));
	assert_int_equal(pg_track_safe(&t), PG_LOST);
	assert_non_null(strstr(pg_track_why(&t), "extended-protocol batch"));
	pg_track_init(&t);
	pg_track_server(&t, U(startup), LEN(startup));
	for (i = 0; i < LEN(parse_q); i++)
		pg_track_client(&t, U(parse_q) + i, 1);
	assert_int_equal(pg_track_safe(&t), PG_LOST);
	/* After its Sync the batch is over: a query is a query. */
	pg_track_init(&t);
	pg_track_server(&t, U(startup), LEN(startup));
	pg_track_client(&t, U("P\000\000\000\011\000x\000\000\000"
	    "S\000\000\000\004Q\000\000\000\015SELECT 1\000"), 29);
	assert_null(t.lost);
	assert_int_equal(t.syncs, 2);
}

static void
test_lost(void **state)
{
	struct pg_track	t;

	pg_track_init(&t);
	pg_track_server(&t, U("Z\000\000\000\002"), 5);
	assert_int_equal(pg_track_safe(&t), PG_LOST);
	pg_track_init(&t);
	pg_track_client(&t, U("Q\177\000\000\000"), 5);
	assert_int_equal(pg_track_safe(&t), PG_LOST);
}


/* ------------------------------------------------------------------ */
/* LISTEN and UNLISTEN (pg_listen.h), messages built as the server and
 * libpq frame them. */

/* One message of type with body (its NUL included when text). */
static size_t
pg_msg(uint8_t *buf, char type, const char *body, size_t blen)
{
	uint32_t	l = (uint32_t)blen + 4;

	buf[0] = (uint8_t)type;
	buf[1] = (uint8_t)(l >> 24);
	buf[2] = (uint8_t)(l >> 16);
	buf[3] = (uint8_t)(l >> 8);
	buf[4] = (uint8_t)l;
	memcpy(buf + 5, body, blen);
	return (blen + 5);
}

/* sql sent as a simple query; the server answers tag (or err), then Z. */
static void
pg_run(struct pg_track *t, const char *sql, const char *tag,
    uint8_t status, size_t cut)
{
	uint8_t	q[256], r[256];
	size_t	nq, nr;

	nq = pg_msg(q, 'Q', sql, strlen(sql) + 1);
	if (tag != NULL)
		nr = pg_msg(r, 'C', tag, strlen(tag) + 1);
	else
		nr = pg_msg(r, 'E', "SERROR\0C42601\0Mx\0\0", 19);
	nr += pg_msg(r + nr, 'Z', (const char *)&status, 1);
	pg_track_client(t, q, cut < nq ? cut : nq);
	pg_track_client(t, q + (cut < nq ? cut : nq), nq - (cut < nq ? cut : nq));
	pg_track_server(t, r, cut < nr ? cut : nr);
	pg_track_server(t, r + (cut < nr ? cut : nr), nr - (cut < nr ? cut : nr));
	assert_null(t->lost);
}

static void
pg_started(struct pg_track *t)
{
	pg_track_init(t);
	pg_track_server(t, U(startup), LEN(startup));
}

/* UNLISTEN * and DISCARD ALL end it, every query split anywhere. */
static void
test_unlisten_all(void **state)
{
	struct pg_track	t;
	size_t		cut;

	for (cut = 0; cut < 40; cut++) {
		pg_started(&t);
		pg_run(&t, "LISTEN ch", "LISTEN", 'I', cut);
		assert_int_equal(pg_track_safe(&t), PG_LISTENING);
		pg_run(&t, "  unlisten\t* ; ", "UNLISTEN", 'I', cut);
		assert_int_equal(pg_track_safe(&t), PG_SAFE);

		pg_run(&t, "LISTEN a; SELECT 1", "LISTEN", 'I', cut);
		assert_int_equal(pg_track_safe(&t), PG_LISTENING);
		pg_run(&t, "DISCARD ALL", "DISCARD ALL", 'I', cut);
		assert_int_equal(pg_track_safe(&t), PG_SAFE);
		/* None left, no query being read: nothing held. */
		assert_null(t.listen.chan);
		assert_null(t.listen.q);
	}
}

/* Channel by channel, by the name the server folds to. */
static void
test_unlisten_each(void **state)
{
	struct pg_track	t;
	char		sql[64];
	int		i;

	pg_started(&t);
	assert_null(t.listen.chan);	/* made at the first LISTEN */
	pg_run(&t, "LISTEN Orders", "LISTEN", 'I', 0);
	assert_non_null(t.listen.chan);
	pg_run(&t, "LISTEN \"Orders\"", "LISTEN", 'I', 0);
	pg_run(&t, "listen orders", "LISTEN", 'I', 0);	/* the same */
	pg_run(&t, "SELECT 1", "SELECT 1", 'I', 0);	/* not copied */
	assert_int_equal(t.listen.qlen, 0);
	pg_run(&t, "UNLISTEN ORDERS", "UNLISTEN", 'I', 0);
	assert_int_equal(pg_track_safe(&t), PG_LISTENING);
	pg_run(&t, "UNLISTEN \"x\"\"y\"", "UNLISTEN", 'I', 0);
	assert_int_equal(pg_track_safe(&t), PG_LISTENING);
	pg_run(&t, "UNLISTEN \"Orders\";", "UNLISTEN", 'I', 0);
	assert_int_equal(pg_track_safe(&t), PG_SAFE);

	/* More channels than the set holds: only UNLISTEN * ends it. */
	for (i = 0; i < PG_LISTEN_SET + 1; i++) {
		snprintf(sql, sizeof(sql), "LISTEN c%d", i);
		pg_run(&t, sql, "LISTEN", 'I', 0);
	}
	for (i = 0; i < PG_LISTEN_SET + 1; i++) {
		snprintf(sql, sizeof(sql), "UNLISTEN c%d", i);
		pg_run(&t, sql, "UNLISTEN", 'I', 0);
	}
	assert_int_equal(pg_track_safe(&t), PG_LISTENING);
	pg_run(&t, "UNLISTEN *", "UNLISTEN", 'I', 0);
	assert_int_equal(pg_track_safe(&t), PG_SAFE);
	assert_null(t.listen.chan);
}

/* When it may not have ended: still listening. */
static void
test_unlisten_unsure(void **state)
{
	static const char two[] =
	    "Q\000\000\000\016LISTEN ch\000Q\000\000\000\017UNLISTEN *\000";
	static const char two_ok[] =
	    "C\000\000\000\013LISTEN\000Z\000\000\000\005I"
	    "C\000\000\000\015UNLISTEN\000Z\000\000\000\005I";
	struct pg_track	t;

	pg_started(&t);
	pg_run(&t, "LISTEN ch", "LISTEN", 'I', 0);
	/* Inside a transaction that rolls back. */
	pg_run(&t, "BEGIN", "BEGIN", 'T', 0);
	pg_run(&t, "UNLISTEN *", "UNLISTEN", 'T', 0);
	pg_run(&t, "ROLLBACK", "ROLLBACK", 'I', 0);
	assert_int_equal(pg_track_safe(&t), PG_LISTENING);
	/* Refused. */
	pg_run(&t, "UNLISTEN *", NULL, 'I', 0);
	assert_int_equal(pg_track_safe(&t), PG_LISTENING);
	/* With another statement, a comment, or an unnamed channel. */
	pg_run(&t, "UNLISTEN *; SELECT 1", "UNLISTEN", 'I', 0);
	pg_run(&t, "UNLISTEN * -- bye", "UNLISTEN", 'I', 0);
	pg_run(&t, "UNLISTEN \"\"", "UNLISTEN", 'I', 0);
	assert_int_equal(pg_track_safe(&t), PG_LISTENING);
	assert_string_equal(pg_track_why(&t), "LISTENing");
	pg_track_clear(&t);

	/* Pipelined behind the LISTEN: not taken for certain. */
	pg_started(&t);
	pg_track_client(&t, U(two), LEN(two));
	pg_track_server(&t, U(two_ok), LEN(two_ok));
	assert_null(t.lost);
	assert_int_equal(pg_track_safe(&t), PG_LISTENING);
	pg_track_clear(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_startup),
		cmocka_unit_test(test_session_every_split),
		cmocka_unit_test(test_transaction),
		cmocka_unit_test(test_idle_between_queries),
		cmocka_unit_test(test_lost),
		cmocka_unit_test(test_query_in_batch),
		cmocka_unit_test(test_unlisten_all),
		cmocka_unit_test(test_unlisten_each),
		cmocka_unit_test(test_unlisten_unsure),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
