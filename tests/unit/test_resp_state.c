/*
 * test_resp_state.c: the RESP tracker on what issue 22 found it got
 * wrong: inline commands with quoted names (read as Redis splits them),
 * a HELLO that authenticates followed by one that does not, replication
 * streams, and the slot of CLIENT SETINFO.  Each stream is fed whole and
 * one byte at a time.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "resp_track.h"

/* A slot's command; saved is allocated with the first one kept. */
#define SAVED_CMD(t, s)	((t).saved != NULL ? (t).saved[s].cmd : NULL)

#define S(x)	(const uint8_t *)(x), sizeof(x) - 1

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

/* Inline names Redis reads as MULTI: the session is inside MULTI. */
static void
test_inline_quoted_multi(void **state)
{
	static const char *const multi[] = {
		"\"MULTI\"\r\n", "'multi'\r\n", "\"\\x4dULTI\"\r\n",
		"MU\"LTI\"\r\n", "\"mul\\x74i\"\n", "  \"MULTI\"  \r\n",
		"'MU''LTI'\r\n" /* glued: refused */,
	};
	struct resp_track	t;
	size_t			i;
	int			b;

	for (b = 0; b < 2; b++) {
		for (i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
			resp_track_init(&t);
			feed(&t, multi[i], "+OK\r\n", b);
			if (i == 6) {
				/* Redis: "unbalanced quotes", and it closes. */
				assert_int_equal(resp_track_safe(&t),
				    RESP_LOST);
			} else {
				assert_true(t.multi);
				assert_int_equal(t.sent, 1);
				assert_int_equal(resp_track_safe(&t),
				    RESP_BUSY);
			}
			resp_track_clear(&t);
		}
	}
}

/* Lines Redis refuses, or reads otherwise than as text: lost. */
static void
test_inline_refused(void **state)
{
	static const char *const lost[] = {
		"\"MULTI\r\n", "\"MULTI\"x\r\n", "'MULTI\r\n", "'a'b\r\n",
		"\"a\\\r\n", "GET \"k\n",
	};
	struct resp_track	t;
	size_t			i;
	int			b;

	for (b = 0; b < 2; b++) {
		for (i = 0; i < sizeof(lost) / sizeof(lost[0]); i++) {
			resp_track_init(&t);
			feed(&t, lost[i], NULL, b);
			assert_int_equal(resp_track_safe(&t), RESP_LOST);
			resp_track_clear(&t);
		}
	}
	/* A NUL ends what Redis reads of a line: not followed. */
	resp_track_init(&t);
	resp_track_client(&t, (const uint8_t *)"PING\0 x\r\n", 9);
	assert_int_equal(resp_track_safe(&t), RESP_LOST);
	resp_track_clear(&t);
}

/*
 * Quoted words that are not names Redis knows, empty names, escapes
 * that are no hex escape; and channels counted as Redis splits them.
 */
static void
test_inline_words(void **state)
{
	struct resp_track	t;
	int			b;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		/*
		 * "" is a command (unknown): one reply; an empty line none
		 * (a line of blanks: test_blank_line_lost).
		 */
		feed(&t, "\"\"\r\n\r\n'MUL\\'TI'\r\n\"\\xZZ\"\r\n",
		    "-ERR unknown command ''\r\n-ERR unknown command\r\n"
		    "-ERR unknown command\r\n", b);
		assert_int_equal(t.sent, 3);
		assert_int_equal(t.answered, 3);
		assert_false(t.multi);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		/* Two channels, one with a blank in it: two confirmations. */
		feed(&t, "'SUBSCRIBE' \"a b\" c\r\n",
		    "*3\r\n$9\r\nsubscribe\r\n$3\r\na b\r\n:1\r\n", b);
		assert_true(t.subscribed);
		assert_int_equal(resp_track_safe(&t), RESP_BUSY);
		feed(&t, "", "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:2\r\n"
		    "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n", b);
		assert_int_equal(t.sent, t.answered);
		assert_true(t.subscribed);
		/* "\x55NSUBSCRIBE": UNSUBSCRIBE of all: ordinary again. */
		feed(&t, "\"\\x55NSUBSCRIBE\"\r\n",
		    "*3\r\n$11\r\nunsubscribe\r\n$3\r\na b\r\n:1\r\n"
		    "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n", b);
		assert_false(t.subscribed);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);
	}
}

/* An inline state command is replayed as it came, quotes and all. */
static void
test_inline_quoted_replay(void **state)
{
	struct resp_track	 t;
	struct resp_expect	 want[RESP_NSLOTS];
	struct evbuffer		*out = evbuffer_new();
	char			 names[128];
	static const char	 req[] = "\"AUTH\" 'u s' \"p\\x41ss\"\r\n";

	resp_track_init(&t);
	feed(&t, req, "+OK\r\n", 0);
	assert_int_equal(resp_track_replay(&t, out, want, names,
	    sizeof(names)), 1);
	assert_string_equal(names, "AUTH");
	/* The name as read (upper case), the rest as sent. */
	assert_int_equal(evbuffer_get_length(out), sizeof(req) - 1 - 2);
	assert_memory_equal(evbuffer_pullup(out, -1),
	    "AUTH 'u s' \"p\\x41ss\"\r\n", sizeof(req) - 3);
	evbuffer_free(out);
	resp_track_clear(&t);
}

static const char hello_map[] =
    "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n";

/* What a replay sends, as one string (NUL-terminated, for comparing). */
static char *
replay_of(struct resp_track *t, char *names, size_t nameslen, int *n)
{
	struct resp_expect	 want[RESP_NSLOTS];
	struct evbuffer		*out = evbuffer_new();
	size_t			 len;
	char			*s;

	*n = resp_track_replay(t, out, want, names, nameslen);
	len = evbuffer_get_length(out);
	s = calloc(1, len + 1);
	evbuffer_remove(out, s, len);
	evbuffer_free(out);
	return (s);
}

/*
 * HELLO 3 AUTH alice pw, then HELLO 3: the user is still alice; the
 * replay authenticates as alice, then switches to RESP3.  SETNAME given
 * to a HELLO survives one without it.
 */
static void
test_hello_auth_survives(void **state)
{
	struct resp_track	 t;
	char			 names[128], *s;
	int			 b, n;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		feed(&t, "*7\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n"
		    "$5\r\nalice\r\n$2\r\npw\r\n$7\r\nSETNAME\r\n$2\r\nn1\r\n",
		    hello_map, b);
		feed(&t, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", hello_map, b);
		feed(&t, "HELLO\r\n", hello_map, b);	/* changes nothing */
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		assert_true(t.resp3);
		s = replay_of(&t, names, sizeof(names), &n);
		assert_int_equal(n, 3);
		assert_string_equal(names, "AUTH, CLIENT SETNAME, HELLO");
		assert_string_equal(s,
		    "*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$2\r\npw\r\n"
		    "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$2\r\nn1\r\n"
		    "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
		free(s);
		/* A later AUTH replaces HELLO's; a HELLO 2 the protocol. */
		feed(&t, "AUTH bob \"p w\"\r\nhello 2\r\n",
		    "+OK\r\n*2\r\n$6\r\nserver\r\n$5\r\nredis\r\n", b);
		assert_false(t.resp3);
		s = replay_of(&t, names, sizeof(names), &n);
		assert_string_equal(names, "CLIENT SETNAME, AUTH, HELLO");
		assert_string_equal(s,
		    "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$2\r\nn1\r\n"
		    "AUTH bob \"p w\"\r\n*2\r\n$5\r\nHELLO\r\n$1\r\n2\r\n");
		free(s);
		resp_track_clear(&t);
	}
}

/*
 * Inline HELLO with quoted words; a refused one changes nothing; one
 * with an option the tracker does not know cannot be replayed.
 */
static void
test_hello_inline_and_unknown(void **state)
{
	struct resp_track	 t;
	char			 names[128], *s;
	int			 n;

	resp_track_init(&t);
	feed(&t, "HELLO 3 auth \"al\\x69ce\" 'p\\'w' setname x\r\n",
	    hello_map, 0);
	feed(&t, "HELLO 3 AUTH alice wrong\r\n",
	    "-WRONGPASS invalid username-password pair\r\n", 0);
	s = replay_of(&t, names, sizeof(names), &n);
	assert_int_equal(n, 3);
	assert_string_equal(s,
	    "*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$3\r\np'w\r\n"
	    "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$1\r\nx\r\n"
	    "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
	free(s);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	feed(&t, "HELLO 3 FUTURE x\r\n", hello_map, 0);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE_CLOSE);
	resp_track_clear(&t);
}

/* SYNC, PSYNC, REPLCONF: a replication stream is never followed. */
static void
test_replication_lost(void **state)
{
	static const char *const repl[] = {
		"*1\r\n$4\r\nSYNC\r\n",
		"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n",
		"*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$1\r\n0\r\n",
		"psync ? -1\r\n", "\"sync\"\r\n",
		"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nsync\r\n",
	};
	struct resp_track	t;
	size_t			i;
	int			b;

	for (b = 0; b < 2; b++) {
		for (i = 0; i < sizeof(repl) / sizeof(repl[0]); i++) {
			resp_track_init(&t);
			feed(&t, repl[i], "+FULLRESYNC 0 0\r\n$3\r\nabc"
			    "*1\r\n$4\r\nPING\r\n", b);
			assert_int_equal(resp_track_safe(&t), RESP_LOST);
			assert_non_null(strstr(resp_track_why(&t),
			    "replication"));
			resp_track_clear(&t);
		}
	}
}

/* CLIENT SETINFO goes to the slot its attribute names, not a substring. */
static void
test_setinfo_slot(void **state)
{
	struct resp_track	t;

	resp_track_init(&t);
	feed(&t, "*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n"
	    "$9\r\nx-lib-ver\r\n*4\r\n$6\r\nclient\r\n$7\r\nsetinfo\r\n"
	    "$7\r\nlib-ver\r\n$5\r\n1.2.3\r\n", "+OK\r\n+OK\r\n", 0);
	assert_non_null(t.saved[RESP_SLOT_LIBNAME].cmd);
	assert_non_null(memmem(t.saved[RESP_SLOT_LIBNAME].cmd,
	    t.saved[RESP_SLOT_LIBNAME].len, "x-lib-ver", 9));
	assert_non_null(t.saved[RESP_SLOT_LIBVER].cmd);
	assert_non_null(memmem(t.saved[RESP_SLOT_LIBVER].cmd,
	    t.saved[RESP_SLOT_LIBVER].len, "1.2.3", 5));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	/* Inline, with the attribute quoted. */
	feed(&t, "CLIENT SETINFO \"lib-name\" lib-ver-2\r\n", "+OK\r\n", 0);
	assert_non_null(memmem(t.saved[RESP_SLOT_LIBNAME].cmd,
	    t.saved[RESP_SLOT_LIBNAME].len, "lib-ver-2", 9));
	assert_non_null(memmem(t.saved[RESP_SLOT_LIBVER].cmd,
	    t.saved[RESP_SLOT_LIBVER].len, "1.2.3", 5));
	/* An attribute it does not know: not replayable. */
	feed(&t, "CLIENT SETINFO LIB-OTHER x\r\n", "+OK\r\n", 0);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE_CLOSE);
	resp_track_clear(&t);
}

/*
 * Found by the differential test (tests/diff): inside MULTI a
 * (un)subscribe is queued and its confirmations come inside and after
 * EXEC's array (Redis 7.0: "*1" then two arrays), MONITOR and HELLO
 * change how replies read from EXEC on: not followed.
 */
static void
test_multi_pubsub_lost(void **state)
{
	static const char *const in_multi[] = {
		"MULTI\r\nSUBSCRIBE b c\r\n", "MULTI\r\nUNSUBSCRIBE\r\n",
		"MULTI\r\nMONITOR\r\n", "MULTI\r\nHELLO 3\r\n",
	};
	struct resp_track	t;
	size_t			i;

	for (i = 0; i < sizeof(in_multi) / sizeof(in_multi[0]); i++) {
		resp_track_init(&t);
		feed(&t, in_multi[i], "+OK\r\n+QUEUED\r\n", 0);
		assert_int_equal(resp_track_safe(&t), RESP_LOST);
		resp_track_clear(&t);
	}
}

/*
 * A MULTI or MONITOR that a subscribed connection is refused begins
 * nothing: once unsubscribed, the session is ordinary (it was held in
 * "MULTI" or "MONITOR" for good).
 */
static void
test_refused_multi_monitor(void **state)
{
	struct resp_track	t;
	int			b;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		/* In turns: MONITOR pipelined behind MULTI is lost. */
		feed(&t, "SUBSCRIBE a\r\nMULTI\r\n",
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
		    "-ERR Can't execute 'multi': only (P|S)SUBSCRIBE / "
		    "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
		    "this context\r\n", b);
		feed(&t, "MONITOR\r\nGET k\r\n",
		    "-ERR Can't execute 'monitor': only ...\r\n"
		    "-ERR Can't execute 'get': only ...\r\n", b);
		assert_null(t.lost);
		assert_false(t.multi);
		assert_false(t.monitor);
		feed(&t, "UNSUBSCRIBE\r\n",
		    "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n", b);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		/* Accepted, they hold. */
		feed(&t, "MULTI\r\n", "+OK\r\n", b);
		assert_true(t.multi);
		feed(&t, "GET k\r\n", "-ERR wrong\r\n", b);
		assert_true(t.multi);
		resp_track_clear(&t);
		/*
		 * Behind a RESET that ends MONITOR, a MONITOR a
		 * subscription refuses (diff.py seed 77, stream 41).
		 */
		resp_track_init(&t);
		feed(&t, "MONITOR\r\n", "+OK\r\n", b);
		feed(&t, "RESET\r\nPSUBSCRIBE p*\r\nMONITOR\r\n",
		    "+RESET\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n"
		    ":1\r\n-ERR Can't execute 'monitor': only ...\r\n", b);
		assert_null(t.lost);
		assert_false(t.monitor);
		assert_true(t.subscribed);
		feed(&t, "PUNSUBSCRIBE\r\n",
		    "*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n", b);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);
	}
}

/*
 * Where replies are not counted (RESP3 subscriptions, MONITOR) a state
 * command cannot be paired with its reply: not recorded, and a CLIENT
 * SETINFO sent there (which RESET keeps) leaves the session
 * unreplayable after RESET; an error there is not MULTI's either.
 */
static void
test_uncounted_state(void **state)
{
	struct resp_track	t;

	resp_track_init(&t);
	feed(&t, "HELLO 3\r\n", hello_map, 0);
	feed(&t, "SUBSCRIBE c\r\nCLIENT SETINFO lib-ver 1.0\r\nMULTI\r\n"
	    "NOSUCHCMD\r\n",
	    ">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n+OK\r\n+OK\r\n"
	    "-ERR unknown command 'NOSUCHCMD'\r\n", 0);
	assert_null(SAVED_CMD(t, RESP_SLOT_LIBVER));
	assert_true(t.multi);
	feed(&t, "RESET\r\n", "+RESET\r\n", 0);
	assert_false(t.multi);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE_CLOSE);
	resp_track_clear(&t);
	/* MONITOR: its lines are no replies to pair with. */
	resp_track_init(&t);
	feed(&t, "MONITOR\r\nCLIENT SETNAME x\r\n",
	    "+OK\r\n+1796 [0 127.0.0.1:1] \"GET\" \"k\"\r\n+OK\r\n", 0);
	assert_null(SAVED_CMD(t, RESP_SLOT_SETNAME));
	feed(&t, "RESET\r\n", "+RESET\r\n", 0);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	resp_track_clear(&t);
}

/*
 * EXEC or DISCARD without MULTI is refused and the keys stay WATCHed
 * (redis-server 7.0: a later MULTI/EXEC returns nil after another client
 * wrote the key); moved then, the session would lose its WATCH.
 */
static void
test_exec_without_multi_keeps_watch(void **state)
{
	struct resp_track	t;
	int			b;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		feed(&t, "WATCH wk\r\nEXEC\r\nDISCARD\r\n",
		    "+OK\r\n-ERR EXEC without MULTI\r\n"
		    "-ERR DISCARD without MULTI\r\n", b);
		assert_true(t.watch);
		assert_int_equal(resp_track_safe(&t), RESP_BUSY);
		assert_string_equal(resp_track_why(&t), "WATCHing keys");
		feed(&t, "MULTI\r\nPING\r\nEXEC\r\n",
		    "+OK\r\n+QUEUED\r\n*-1\r\n", b);
		assert_false(t.watch);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		/* UNWATCH inside MULTI is queued: still watching until
		 * DISCARD (Redis 7.4+ shows watch=1 there). */
		feed(&t, "WATCH wk\r\nMULTI\r\nUNWATCH\r\n",
		    "+OK\r\n+OK\r\n+QUEUED\r\n", b);
		assert_true(t.watch);
		feed(&t, "DISCARD\r\n", "+OK\r\n", b);
		assert_false(t.watch);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		/* Subscribed, UNWATCH is refused: once unsubscribed, the
		 * keys are still watched. */
		feed(&t, "WATCH wk\r\nSUBSCRIBE c\r\nUNWATCH\r\n",
		    "+OK\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
		    "-ERR Can't execute 'unwatch': only (P|S)SUBSCRIBE / "
		    "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
		    "this context\r\n", b);
		feed(&t, "UNSUBSCRIBE\r\n",
		    "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n", b);
		assert_false(t.subscribed);
		assert_true(t.watch);
		assert_int_equal(resp_track_safe(&t), RESP_BUSY);
		feed(&t, "UNWATCH\r\n", "+OK\r\n", b);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);
	}
}

/*
 * A MONITOR or a RESP3 subscription pipelined behind a RESET that ends
 * one is still on when the RESET's reply comes (found by tests/diff:
 * the tracker took the second for ended, and MONITOR's lines for
 * replies).
 */
static void
test_reset_then_again(void **state)
{
	struct resp_track	t;
	int			b;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		feed(&t, "MONITOR\r\nRESET\r\nMONITOR\r\n",
		    "+OK\r\n+RESET\r\n+OK\r\n"
		    "+1796 [0 127.0.0.1:1] \"GET\" \"k\"\r\n", b);
		assert_null(t.lost);
		assert_true(t.monitor);
		assert_int_equal(resp_track_safe(&t), RESP_BUSY);
		feed(&t, "RESET\r\n", "+RESET\r\n", b);
		assert_false(t.monitor);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);

		resp_track_init(&t);
		feed(&t, "HELLO 3\r\nSUBSCRIBE a\r\n", hello_map, b);
		feed(&t, "", ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", b);
		feed(&t, "RESET\r\nHELLO 3\r\nPSUBSCRIBE p*\r\n",
		    "+RESET\r\n", b);
		feed(&t, "", hello_map, b);
		feed(&t, "", ">3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:1\r\n",
		    b);
		assert_true(t.subscribed);
		assert_int_equal(resp_track_safe(&t), RESP_BUSY);
		resp_track_clear(&t);
	}
}

/*
 * What is pipelined behind a RESET is counted from its reply on (found
 * by tests/diff): an UNSUBSCRIBE of all sent after it stays open at
 * RESET's reply, and a state command sent after a RESET that ends RESP3
 * pub/sub is recorded, paired with its own reply.
 */
static void
test_after_reset_counted(void **state)
{
	struct resp_track	 t;
	char			 names[128], *s;
	int			 b, n;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		feed(&t, "SUBSCRIBE c b\r\n",
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n", b);
		feed(&t, "RESET\r\nSSUBSCRIBE s1\r\nSSUBSCRIBE s2\r\n"
		    "SUNSUBSCRIBE\r\nSELECT 1\r\n",
		    "+RESET\r\n"
		    "*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n"
		    "*3\r\n$10\r\nssubscribe\r\n$2\r\ns2\r\n:2\r\n"
		    "*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns2\r\n:1\r\n"
		    "*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:0\r\n"
		    "+OK\r\n", b);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		s = replay_of(&t, names, sizeof(names), &n);
		assert_int_equal(n, 1);
		assert_string_equal(s, "SELECT 1\r\n");
		assert_int_equal(t.saved[RESP_SLOT_SELECT].want.type, '+');
		free(s);
		resp_track_clear(&t);

		resp_track_init(&t);
		feed(&t, "HELLO 3\r\n", hello_map, b);
		feed(&t, "SUBSCRIBE a\r\n",
		    ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", b);
		feed(&t, "RESET\r\nHELLO 3 SETNAME h2\r\n", "+RESET\r\n", b);
		feed(&t, "", hello_map, b);
		assert_non_null(t.saved[RESP_SLOT_HELLO].cmd);
		assert_non_null(t.saved[RESP_SLOT_SETNAME].cmd);
		assert_true(t.resp3);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);
	}
}

/*
 * A MULTI refused while subscribed, pipelined behind an UNSUBSCRIBE of
 * all whose replies are counted as they come (its sequence number moves
 * with theirs; found by tests/diff).
 */
static void
test_refused_multi_behind_open(void **state)
{
	struct resp_track	t;
	int			b;

	for (b = 0; b < 2; b++) {
		resp_track_init(&t);
		feed(&t, "SUBSCRIBE c\r\n",
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", b);
		feed(&t, "SUBSCRIBE a b\r\nUNSUBSCRIBE\r\nPING\r\nMULTI\r\n",
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n"
		    "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:3\r\n"
		    "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n"
		    "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n"
		    "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n"
		    "+PONG\r\n-ERR Can't execute 'multi'\r\n", b);
		assert_int_equal(t.sent, t.answered);
		assert_false(t.multi);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);
	}
}

/*
 * Redis 7.2 to 8 send no error for an AUTH that fails while earlier
 * replies are still unwritten (redis#15640): an AUTH or a HELLO with
 * AUTH pipelined behind unread replies, or inside MULTI, loses the
 * tracker, which would otherwise wait for that reply for good and take
 * each later reply for the one before.  Sent with all replies read, an
 * AUTH (failed or not), or a HELLO without AUTH, is followed.
 */
static void
test_auth_pipelined_lost(void **state)
{
	static const char *const lost[][2] = {
		/* What Redis 8.0 answers: no -WRONGPASS. */
		{ "PING\r\nAUTH alice bad\r\n", "+PONG\r\n" },
		{ "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
		  "HELLO 3 AUTH alice bad\r\n", "$-1\r\n" },
		{ "GET k\r\nhello 2 SETNAME x auth alice pw\r\n", NULL },
		{ "MULTI\r\nAUTH alice pw\r\n", "+OK\r\n" },
		{ "MULTI\r\nHELLO 2 AUTH alice pw\r\n", "+OK\r\n" },
	};
	static const char *const followed[][2] = {
		{ "AUTH alice bad\r\nPING\r\n",
		  "-WRONGPASS invalid username-password pair\r\n+PONG\r\n" },
		{ "PING\r\nHELLO 2\r\n",
		  "+PONG\r\n*2\r\n$6\r\nserver\r\n$5\r\nredis\r\n" },
		{ "PING\r\nHELLO 2 SETNAME auth\r\n", NULL },
	};
	struct resp_track	t;
	size_t			i;
	int			b;

	for (b = 0; b < 2; b++) {
		for (i = 0; i < sizeof(lost) / sizeof(lost[0]); i++) {
			resp_track_init(&t);
			feed(&t, lost[i][0], lost[i][1], b);
			assert_int_equal(resp_track_safe(&t), RESP_LOST);
			assert_non_null(strstr(resp_track_why(&t), "AUTH"));
			/* Nothing more follows, whatever comes. */
			feed(&t, "PING\r\n", "+PONG\r\n+PONG\r\n", b);
			assert_int_equal(resp_track_safe(&t), RESP_LOST);
			resp_track_clear(&t);
		}
		for (i = 0; i < sizeof(followed) / sizeof(followed[0]); i++) {
			resp_track_init(&t);
			feed(&t, followed[i][0], followed[i][1], b);
			assert_null(t.lost);
			resp_track_clear(&t);
		}
		/* All replies read first: the AUTH is followed. */
		resp_track_init(&t);
		feed(&t, "PING\r\n", "+PONG\r\n", b);
		feed(&t, "AUTH alice bad\r\n",
		    "-WRONGPASS invalid username-password pair\r\n", b);
		feed(&t, "GET k\r\n", "$-1\r\n", b);
		feed(&t, "HELLO 3 AUTH alice pw\r\n", hello_map, b);
		assert_null(t.lost);
		assert_int_equal(resp_track_safe(&t), RESP_SAFE);
		resp_track_clear(&t);
	}
}

/*
 * A line of blanks is no command, but Valkey 8.1 then reads the next
 * command inline even when it is RESP ("*2" an unknown command, the
 * SUBSCRIBE in it never run): not followed.  An empty line (LF, CRLF)
 * is ignored by Redis and Valkey alike, and followed.
 */
static void
test_blank_line_lost(void **state)
{
	static const char *const blank[] = {
		"   \r\n", "\t\r\n", " \n", "\r\r\n", "PING\r\n \x0b\r\n",
	};
	static const char *const empty[] = { "\r\n", "\n", "PING\r\n\r\n" };
	struct resp_track	t;
	size_t			i;
	int			b;

	for (b = 0; b < 2; b++) {
		for (i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
			resp_track_init(&t);
			feed(&t, blank[i], NULL, b);
			feed(&t, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n",
			    "-ERR unknown command '*2'\r\n", b);
			assert_int_equal(resp_track_safe(&t), RESP_LOST);
			assert_non_null(strstr(resp_track_why(&t), "blanks"));
			resp_track_clear(&t);
		}
		for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
			resp_track_init(&t);
			feed(&t, empty[i], NULL, b);
			feed(&t, "*1\r\n$4\r\nPING\r\n", NULL, b);
			assert_null(t.lost);
			resp_track_clear(&t);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_quoted_multi),
		cmocka_unit_test(test_inline_refused),
		cmocka_unit_test(test_inline_words),
		cmocka_unit_test(test_inline_quoted_replay),
		cmocka_unit_test(test_hello_auth_survives),
		cmocka_unit_test(test_hello_inline_and_unknown),
		cmocka_unit_test(test_replication_lost),
		cmocka_unit_test(test_setinfo_slot),
		cmocka_unit_test(test_multi_pubsub_lost),
		cmocka_unit_test(test_refused_multi_monitor),
		cmocka_unit_test(test_uncounted_state),
		cmocka_unit_test(test_exec_without_multi_keeps_watch),
		cmocka_unit_test(test_reset_then_again),
		cmocka_unit_test(test_after_reset_counted),
		cmocka_unit_test(test_refused_multi_behind_open),
		cmocka_unit_test(test_auth_pipelined_lost),
		cmocka_unit_test(test_blank_line_lost),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
