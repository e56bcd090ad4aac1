/*
 * test_resp_diff.c: the RESP tracker on streams where tests/diff
 * (55-diff.sh) found it disagreeing with a real redis-server, one test
 * per cause, each named with the seed that found it (and one that
 * fuzz_resp_track found).  Each stream is fed whole and one byte at a
 * time.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp_track.h"

/* The tracker fed req then rep, whole (bytewise = 0) or byte by byte. */
static void
feed(struct resp_track *t, const char *req, const char *rep, int bytewise)
{
	size_t	i, n;

	n = strlen(req);
	if (!bytewise)
		resp_track_client(t, (const uint8_t *)req, n);
	else
		for (i = 0; i < n; i++)
			resp_track_client(t, (const uint8_t *)req + i, 1);
	if (rep == NULL)
		return;
	n = strlen(rep);
	if (!bytewise)
		resp_track_server(t, (const uint8_t *)rep, n);
	else
		for (i = 0; i < n; i++)
			resp_track_server(t, (const uint8_t *)rep + i, 1);
}

/* What redis-server 7.0 answers HELLO 3 (trimmed: no one reads it). */
static const char hello3_map[] =
    "%1\r\n$5\r\nproto\r\n:3\r\n";

/* A line MONITOR prints for a command (here, another client's). */
#define MON(cmd)	"+1796614046.6 [0 127.0.0.1:4] \"" cmd "\"\r\n"

/*
 * In MONITOR the server's lines are no replies, yet they were counted
 * as the replies of a SUBSCRIBE pipelined behind the RESET that ends
 * MONITOR: once they reached the count sent, the subscription was taken
 * for settled (none), and the SUBSCRIBE's confirmation after RESET's
 * reply for an ordinary reply.  The session was subscribed and the
 * tracker called it movable (seed 374442320 on Redis 7.0).
 */
static void
test_subscribe_behind_reset_in_monitor(void **state)
{
	struct resp_track	t;
	int			b;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		feed(&t, "MONITOR\r\n", "+OK\r\n", b);
		feed(&t, "SUBSCRIBE a\r\nUNSUBSCRIBE a\r\nRESET\r\n"
		    "SUBSCRIBE c\r\n",
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
		    MON("SUBSCRIBE\" \"a")
		    "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
		    MON("UNSUBSCRIBE\" \"a") MON("PUBLISH\" \"b\" \"m")
		    "+RESET\r\n"
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", b);
		assert_null(t.lost);
		assert_false(t.monitor);
		assert_true(t.subscribed);
		assert_int_equal(t.live->sub.n[RESP_SUB_CHANNEL], 1);
		assert_int_equal(resp_track_safe(&t), RESP_BUSY);
		feed(&t, "UNSUBSCRIBE\r\n",
		    "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n", b);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);

		/* The stream as found: HELLO 3 sent in MONITOR first. */
		resp_track_init(&t);
		feed(&t, "MONITOR\r\n", "+OK\r\n", b);
		feed(&t, "HELLO 3\r\n", hello3_map, b);
		feed(&t, "SUBSCRIBE a\r\nCLIENT NO-EVICT off\r\nSELECT 1\r\n"
		    "RESET\r\nSUBSCRIBE c\r\n",
		    ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
		    MON("SUBSCRIBE\" \"a") "+OK\r\n" MON("PUBLISH\" \"b")
		    "+OK\r\n" MON("SELECT\" \"1") "+RESET\r\n"
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", b);
		assert_null(t.lost);
		assert_true(t.subscribed);
		assert_int_equal(t.live->sub.n[RESP_SUB_CHANNEL], 1);
		assert_int_equal(resp_track_safe(&t), RESP_BUSY);
		resp_track_clear(&t);
	}
}

/*
 * A HELLO refused in RESP2 pub/sub, still unanswered when a SUBSCRIBE
 * follows, makes the tracker take that subscription for RESP3 (not
 * counted: held until RESET).  Its confirmations came as RESP2 arrays
 * and were counted past the RESET, up to the CLIENT SETNAME pipelined
 * behind it: a confirmation was recorded as SETNAME's reply, and a move
 * would have waited for "*" where the server says +OK (seed 348483894
 * on Redis 7.0).  The same with MONITOR's lines.
 */
static void
test_uncounted_not_past_reset(void **state)
{
	struct resp_track	t;
	int			b;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		feed(&t, "SUBSCRIBE a c\r\n",
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:2\r\n", b);
		feed(&t, "HELLO\r\nSUBSCRIBE a b d\r\nRESET\r\n"
		    "CLIENT SETNAME b2\r\n",
		    "-ERR Can't execute 'hello': only (P|S)SUBSCRIBE / "
		    "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
		    "this context\r\n"
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n"
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:3\r\n"
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nd\r\n:4\r\n"
		    "+RESET\r\n+OK\r\n", b);
		assert_null(t.lost);
		assert_int_equal(t.sent, t.answered);
		assert_non_null(t.saved);
		assert_non_null(t.saved[RESP_SLOT_SETNAME].cmd);
		assert_int_equal(t.saved[RESP_SLOT_SETNAME].want.type, '+');
		assert_string_equal(t.saved[RESP_SLOT_SETNAME].want.line, "OK");
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);

		resp_track_init(&t);
		feed(&t, "MONITOR\r\n", "+OK\r\n", b);
		feed(&t, "RESET\r\nCLIENT SETNAME m\r\n",
		    MON("GET\" \"k") MON("GET\" \"k") MON("GET\" \"k")
		    "+RESET\r\n+OK\r\n", b);
		assert_null(t.lost);
		assert_int_equal(t.sent, t.answered);
		assert_non_null(t.saved[RESP_SLOT_SETNAME].cmd);
		assert_string_equal(t.saved[RESP_SLOT_SETNAME].want.line, "OK");
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);
	}
}

/*
 * EXEC and DISCARD end WATCH only when the MULTI they close was begun,
 * which their reply says: a MULTI pipelined behind a subscription is
 * refused, the DISCARD after it too ("only (P|S)SUBSCRIBE ... allowed"),
 * and the keys stay watched (seed 22709912 on Redis 8.0, watch=1).  A
 * transaction that ran, was aborted (nil) or discarded on EXECABORT
 * unwatches.
 */
static void
test_unwatch_at_reply(void **state)
{
	static const char *const ended[][2] = {
		{ "MULTI\r\nSET k 1\r\nEXEC\r\n",
		  "+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n" },
		{ "MULTI\r\nINCR n\r\nEXEC\r\n",
		  "+OK\r\n+QUEUED\r\n*-1\r\n" },
		{ "MULTI\r\nNOSUCH\r\nEXEC\r\n",
		  "+OK\r\n-ERR unknown command 'NOSUCH'\r\n"
		  "-EXECABORT Transaction discarded because of previous "
		  "errors.\r\n" },
		{ "MULTI\r\nDISCARD\r\n", "+OK\r\n+OK\r\n" },
	};
	struct resp_track	t;
	size_t			i;
	int			b;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		feed(&t, "WATCH k\r\n", "+OK\r\n", b);
		feed(&t, "SUBSCRIBE c\r\n",
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", b);
		feed(&t, "MULTI\r\nDISCARD\r\n",
		    "-ERR Can't execute 'multi': only (P|S)SUBSCRIBE / "
		    "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
		    "this context\r\n"
		    "-ERR Can't execute 'discard': only (P|S)SUBSCRIBE / "
		    "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
		    "this context\r\n", b);
		assert_false(t.multi);
		assert_true(t.watch);
		feed(&t, "UNSUBSCRIBE\r\n",
		    "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n", b);
		assert_int_equal(resp_track_safe(&t), RESP_BUSY);
		assert_string_equal(resp_track_why(&t), "WATCHing keys");
		resp_track_clear(&t);

		/* A MULTI refused (nested), a WATCH run, DISCARD refused. */
		resp_track_init(&t);
		feed(&t, "MULTI\r\n", "+OK\r\n", b);
		feed(&t, "DISCARD\r\nMULTI\r\nMULTI\r\n", "+OK\r\n+OK\r\n"
		    "-ERR MULTI calls can not be nested\r\n", b);
		feed(&t, "EXEC\r\nWATCH k\r\nDISCARD\r\n",
		    "*0\r\n+OK\r\n-ERR DISCARD without MULTI\r\n", b);
		assert_true(t.watch);
		assert_int_equal(resp_track_safe(&t), RESP_BUSY);
		resp_track_clear(&t);

		for (i = 0; i < sizeof(ended) / sizeof(ended[0]); i++) {
			resp_track_init(&t);
			feed(&t, "WATCH k\r\n", "+OK\r\n", b);
			feed(&t, ended[i][0], ended[i][1], b);
			assert_false(t.watch);
			assert_int_equal(t.unwatch_at, 0);
			assert_int_equal(resp_track_safe(&t), RESP_SAFE);
			resp_track_clear(&t);
		}
		/* Pipelined with the WATCH, and a WATCH behind the EXEC. */
		resp_track_init(&t);
		feed(&t, "WATCH k\r\nMULTI\r\nEXEC\r\nWATCH k\r\n",
		    "+OK\r\n+OK\r\n*0\r\n+OK\r\n", b);
		assert_true(t.watch);
		feed(&t, "MULTI\r\nEXEC\r\n", "+OK\r\n*0\r\n", b);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);
	}
}

/*
 * A reply's recorded text does not depend on how its bytes came: with
 * pub/sub replies being read, the reader keeps an integer's text, and
 * the fast path for whole flat replies kept none (fuzz_resp_track: a
 * SELECT recorded with ":" "1" byte by byte, ":" "" whole).
 */
static void
test_integer_text_any_split(void **state)
{
	struct resp_track	t[2];
	int			b;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t[b]);
		feed(&t[b], "GET k\r\nSELECT 1\r\nSUBSCRIBE\r\n",
		    "$1\r\na\r\n:1\r\n", b);
		assert_non_null(t[b].saved);
		assert_int_equal(t[b].saved[RESP_SLOT_SELECT].want.type, ':');
	}
	assert_string_equal(t[0].saved[RESP_SLOT_SELECT].want.line,
	    t[1].saved[RESP_SLOT_SELECT].want.line);
	resp_track_clear(&t[0]);
	resp_track_clear(&t[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subscribe_behind_reset_in_monitor),
		cmocka_unit_test(test_uncounted_not_past_reset),
		cmocka_unit_test(test_unwatch_at_reply),
		cmocka_unit_test(test_integer_text_any_split),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
