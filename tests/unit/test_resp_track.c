/*
 * test_resp_track.c: the RESP tracker against byte streams captured from
 * redis-server 7.0 (requests as redis-py sends them, replies as the
 * server sent them), fed whole, one byte at a time and split at every
 * byte boundary.
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

/*
 * 18 commands: HELLO 3 (RESP3 replies after it), MULTI.  (Its failed
 * AUTH, pipelined, was taken out: Redis 7.2+ may drop such a reply, so
 * the tracker no longer follows one; test_resp_state.c.)
 */
static const char capture_req[] =
"*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$6\r\ns3cret\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$5\r\npool1\r\n*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$8\r\nredis-py\r\n*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$7\r\nlib-ver\r\n$5\r\n5.0.1\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*2\r\n$3\r\nGET\r\n$4\r\nnope\r\n*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\nx\r\n*1\r\n$4\r\nEXEC\r\nPING\r\n*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\nmaxmemory\r\n";

static const char capture_rep[] =
"+OK\r\n+OK\r\n+OK\r\n-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n+OK\r\n:2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n_\r\n%0\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:2\r\n+PONG\r\n$15\r\n1796177640912-0\r\n%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n";

#define CAPTURE_CMDS	18

/* Feed both streams cut at req and rep; check the end state. */
static void
run_split(size_t creq, size_t crep)
{
	struct resp_track	 t;
	const uint8_t		*q = (const uint8_t *)capture_req;
	const uint8_t		*p = (const uint8_t *)capture_rep;
	size_t			 nq = sizeof(capture_req) - 1;
	size_t			 np = sizeof(capture_rep) - 1;

	resp_track_init(&t);
	resp_track_client(&t, q, creq);
	resp_track_client(&t, q + creq, nq - creq);
	resp_track_server(&t, p, crep);
	assert_int_equal(resp_track_safe(&t), crep < np ? RESP_BUSY :
	    RESP_SAFE);
	resp_track_server(&t, p + crep, np - crep);
	assert_null(t.lost);
	assert_int_equal(t.sent, CAPTURE_CMDS);
	assert_int_equal(t.answered, CAPTURE_CMDS);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	assert_true(t.resp3);
	assert_int_equal(t.npending, 0);
	resp_track_clear(&t);
}

static void
test_capture_every_split(void **state)
{
	size_t	i;

	for (i = 0; i <= sizeof(capture_req) - 1; i++)
		run_split(i, 0);
	for (i = 0; i <= sizeof(capture_rep) - 1; i++)
		run_split(sizeof(capture_req) - 1, i);
}

/* One byte at a time, each reply after its request: states as we go. */
static void
test_capture_bytewise(void **state)
{
	struct resp_track	 t;
	size_t			 i;

	resp_track_init(&t);
	for (i = 0; i < sizeof(capture_req) - 1; i++)
		resp_track_client(&t, (const uint8_t *)capture_req + i, 1);
	assert_int_equal(t.sent, CAPTURE_CMDS);
	assert_true(t.multi == 0);	/* EXEC was sent */
	for (i = 0; i < sizeof(capture_rep) - 1; i++) {
		resp_track_server(&t, (const uint8_t *)capture_rep + i, 1);
		if (i + 1 < sizeof(capture_rep) - 1)
			assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	}
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	resp_track_clear(&t);
}

/* What a move replays: the successful state commands, in order. */
static void
test_replay(void **state)
{
	struct resp_track	 t;
	struct resp_expect	 want[RESP_NSLOTS];
	struct evbuffer		*out = evbuffer_new();
	char			 names[128];
	const char		*expect;
	int			 n;

	resp_track_init(&t);
	resp_track_client(&t, S(capture_req));
	resp_track_server(&t, S(capture_rep));
	n = resp_track_replay(&t, out, want, names, sizeof(names));
	assert_int_equal(n, 4);
	assert_string_equal(names, "AUTH, SELECT, CLIENT SETNAME, HELLO");
	expect = "*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$6\r\ns3cret\r\n"
	    "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"
	    "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$5\r\npool1\r\n"
	    "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n";
	assert_int_equal(evbuffer_get_length(out), strlen(expect));
	assert_memory_equal(evbuffer_pullup(out, -1), expect, strlen(expect));
	assert_int_equal(want[0].type, '+');
	assert_string_equal(want[0].line, "OK");
	assert_int_equal(want[3].type, '%');
	assert_true(want[3].any_body);
	evbuffer_free(out);		/* wipes the copies */
	resp_track_clear(&t);
	for (n = 0; n < RESP_NSLOTS; n++)
		assert_null(SAVED_CMD(t, n));
}

/* MULTI, WATCH, subscriptions, MONITOR and blocking commands wait. */
static void
test_busy_states(void **state)
{
	struct resp_track	t;

	resp_track_init(&t);
	resp_track_client(&t, S("*1\r\n$5\r\nMULTI\r\n"));
	resp_track_server(&t, S("+OK\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	assert_string_equal(resp_track_why(&t), "inside MULTI");
	resp_track_client(&t, S("*1\r\n$4\r\nEXEC\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	resp_track_server(&t, S("*0\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);

	resp_track_client(&t, S("*2\r\n$5\r\nWATCH\r\n$1\r\nk\r\n"));
	resp_track_server(&t, S("+OK\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	resp_track_client(&t, S("UNWATCH\r\n"));
	resp_track_server(&t, S("+OK\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);

	/* BLPOP: its reply is outstanding until it comes. */
	resp_track_client(&t, S("*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n0\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	resp_track_server(&t, S("*2\r\n$1\r\nl\r\n$1\r\nx\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);

	resp_track_client(&t, S("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n"));
	resp_track_server(&t,
	    S("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	assert_string_equal(resp_track_why(&t), "subscribed");
	resp_track_clear(&t);
}

/* State it cannot replay: closed at a safe point, or never followed. */
/*
 * Pipelined plain commands are counted in runs (the hot path); a state
 * command in the middle of a run still gets its own reply, whatever the
 * cut between reads.
 */
static const char pipe_req[] =
"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$4\r\nincr\r\n$1\r\nn\r\n"
"*2\r\n$3\r\nget\r\n$1\r\nz\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"
"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$4\r\nDECR\r\n$1\r\nn\r\n"
"*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nEXEC\r\n"
"*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
static const char pipe_rep[] =
"$1\r\nx\r\n:5\r\n$-1\r\n+OK\r\n$1\r\nx\r\n:-2\r\n+OK\r\n+QUEUED\r\n"
"*1\r\n+PONG\r\n$1\r\nx\r\n";

static void
test_pipelined_runs(void **state)
{
	struct resp_track	 t;
	const uint8_t		*q = (const uint8_t *)pipe_req;
	const uint8_t		*p = (const uint8_t *)pipe_rep;
	size_t			 nq = sizeof(pipe_req) - 1;
	size_t			 np = sizeof(pipe_rep) - 1;
	size_t			 cq, cp;

	for (cq = 0; cq <= nq; cq++) {
		for (cp = 0; cp <= np; cp += cq == nq ? 1 : np) {
			resp_track_init(&t);
			resp_track_client(&t, q, cq);
			resp_track_client(&t, q + cq, nq - cq);
			assert_int_equal(t.sent, 10);
			assert_int_equal(t.npending, 1);
			resp_track_server(&t, p, cp);
			resp_track_server(&t, p + cp, np - cp);
			assert_null(t.lost);
			assert_int_equal(t.answered, 10);
			assert_int_equal(t.npending, 0);
			assert_non_null(t.saved[RESP_SLOT_SELECT].cmd);
			assert_string_equal(t.saved[RESP_SLOT_SELECT].want.line,
			    "OK");
			assert_int_equal(resp_track_safe(&t), RESP_SAFE);
			resp_track_clear(&t);
		}
	}

	/* More replies than requests (not RESP's way): never counted over. */
	resp_track_init(&t);
	resp_track_client(&t, S("*2\r\n$3\r\nGET\r\n$1\r\na\r\n"));
	resp_track_server(&t, S(":1\r\n:2\r\n$1\r\nx\r\n"));
	assert_int_equal(t.answered, 1);
	assert_int_equal(t.sent, 1);

	/*
	 * A refused AUTH in a run records nothing (sent with all replies
	 * read: pipelined behind one, it would lose the tracker).
	 */
	resp_track_client(&t, S("*2\r\n$3\r\nGET\r\n$1\r\na\r\n"));
	resp_track_server(&t, S("$-1\r\n"));
	resp_track_client(&t, S("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"
	    "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"));
	resp_track_server(&t, S("-WRONGPASS no\r\n$-1\r\n"));
	assert_int_equal(t.answered, 4);
	assert_int_equal(t.npending, 0);
	assert_null(SAVED_CMD(t, RESP_SLOT_AUTH));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	resp_track_clear(&t);
}

static void
test_unreplayable_and_lost(void **state)
{
	struct resp_track	t;

	resp_track_init(&t);
	resp_track_client(&t,
	    S("*3\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\non\r\n"));
	resp_track_server(&t, S("+OK\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE_CLOSE);
	/* A RESP3 push is not a reply. */
	resp_track_server(&t, S(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"));
	assert_int_equal(t.answered, 1);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE_CLOSE);
	resp_track_clear(&t);

	resp_track_init(&t);
	resp_track_client(&t,
	    S("*3\r\n$6\r\nclient\r\n$5\r\nreply\r\n$3\r\noff\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_LOST);
	resp_track_clear(&t);

	resp_track_init(&t);
	resp_track_client(&t, S("*2\r\n:1\r\n"));	/* not a bulk */
	assert_int_equal(resp_track_safe(&t), RESP_LOST);
	resp_track_clear(&t);

	resp_track_init(&t);
	resp_track_client(&t, S("PING\r\n"));
	resp_track_server(&t, S("$?\r\n;4\r\nHell\r\n;0\r\n"));	/* streamed */
	assert_int_equal(resp_track_safe(&t), RESP_LOST);
	resp_track_clear(&t);

	/* A state command inside MULTI takes effect at EXEC: not replayed. */
	resp_track_init(&t);
	resp_track_client(&t, S("MULTI\r\nSELECT 2\r\nEXEC\r\n"));
	resp_track_server(&t, S("+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE_CLOSE);
	resp_track_clear(&t);
}

/* Inline commands are recorded too; RESET forgets; attributes nest. */
static void
test_inline_reset_attributes(void **state)
{
	struct resp_track	 t;
	struct resp_expect	 want[RESP_NSLOTS];
	struct evbuffer		*out = evbuffer_new();
	char			 names[128];

	resp_track_init(&t);
	resp_track_client(&t, S("\r\nselect 5\r\nREADONLY\r\n"));
	resp_track_server(&t, S("+OK\r\n-ERR cluster support disabled\r\n"));
	assert_int_equal(t.sent, 2);
	assert_int_equal(resp_track_replay(&t, out, want, names,
	    sizeof(names)), 1);
	assert_string_equal(names, "SELECT");
	assert_memory_equal(evbuffer_pullup(out, -1), "SELECT 5\r\n", 10);
	evbuffer_drain(out, evbuffer_get_length(out));
	resp_track_client(&t, S("*1\r\n$5\r\nRESET\r\n"));
	resp_track_server(&t, S("+RESET\r\n"));
	assert_int_equal(resp_track_replay(&t, out, want, names,
	    sizeof(names)), 0);
	/* An attribute before a nested reply: one reply. */
	resp_track_client(&t, S("*1\r\n$4\r\nXXXX\r\n"));
	resp_track_server(&t, S("|1\r\n+key\r\n%1\r\n+a\r\n:1\r\n"
	    "*2\r\n*1\r\n:1\r\n~1\r\n,3.5\r\n"));
	assert_int_equal(t.answered, t.sent);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	evbuffer_free(out);
	resp_track_clear(&t);
}


/*
 * Subscribers, captured from redis-server 7.0 (a second connection
 * published meanwhile; each turn sent after the previous one's replies).  A: three channels and a pattern, PING, messages,
 * UNSUBSCRIBE and PUNSUBSCRIBE of all, then GET.  B: SETNAME, SELECT, a
 * shard channel and a channel, RESET, PING.  C: SUBSCRIBE, UNSUBSCRIBE of
 * two (one never subscribed), of all (none left), MONITOR, RESET, PING.
 * D: A pipelined (the UNSUBSCRIBEs of all counted as their replies come).
 * Each ends an ordinary connection, safe to move, and not before.
 */
/* Each: requests, then their replies, in turns (NULL ends). */
static const char *const sub_a[] = {
	"*4\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
	"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:3\r\n",
	"*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n",
	"*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:4\r\n",
	"*1\r\n$4\r\nPING\r\n",
	"*2\r\n$4\r\npong\r\n$0\r\n\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n*4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npq\r\n$1\r\nx\r\n",
	"*1\r\n$11\r\nUNSUBSCRIBE\r\n",
	"*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:3\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npz\r\n$1\r\ny\r\n",
	"*1\r\n$12\r\nPUNSUBSCRIBE\r\n",
	"*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n",
	"*2\r\n$3\r\nGET\r\n$3\r\nwho\r\n",
	"$1\r\nx\r\n",
	NULL
};
static const char *const sub_b[] = {
	"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$2\r\nn1\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$10\r\nSSUBSCRIBE\r\n$2\r\ns1\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n*1\r\n$5\r\nRESET\r\n*1\r\n$4\r\nPING\r\n",
	"+OK\r\n+OK\r\n*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n+RESET\r\n+PONG\r\n",
	NULL
};
static const char *const sub_c[] = {
	"*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n*3\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\na\r\n$2\r\nzz\r\n",
	"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n*3\r\n$11\r\nunsubscribe\r\n$2\r\nzz\r\n:0\r\n",
	"*1\r\n$11\r\nUNSUBSCRIBE\r\n*1\r\n$7\r\nMONITOR\r\n*1\r\n$5\r\nRESET\r\n*1\r\n$4\r\nPING\r\n",
	"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n+OK\r\n+1796185035.456653 [0 127.0.0.1:49954] \"PUBLISH\" \"a\" \"m2\"\r\n+RESET\r\n+PONG\r\n",
	NULL
};

/* D: A's commands (and SELECT 1) pipelined in one write. */
static const char *const sub_d[] = {
	"*4\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n*1\r\n$11\r\nUNSUBSCRIBE\r\n*1\r\n$4\r\nPING\r\n*1\r\n$12\r\nPUNSUBSCRIBE\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$3\r\nwho\r\n",
	"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:3\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:4\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:3\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n+OK\r\n$1\r\nx\r\n",
	NULL
};

static const char *const *const sub_captures[] = {
	sub_a, sub_b, sub_c, sub_d
};

/*
 * Turn k of capture c cut at creq and crep (or its replies one byte at
 * a time): busy until its last reply; safe at the end.
 */
static void
run_sub_split(size_t c, size_t k, size_t creq, size_t crep, int bytewise)
{
	const char *const	*cap = sub_captures[c];
	struct resp_track	 t;
	const uint8_t		*q, *p;
	size_t			 i, j, nq, np;

	resp_track_init(&t);
	for (i = 0; cap[i] != NULL; i += 2) {
		q = (const uint8_t *)cap[i];
		p = (const uint8_t *)cap[i + 1];
		nq = strlen(cap[i]);
		np = strlen(cap[i + 1]);
		if (i / 2 != k) {
			resp_track_client(&t, q, nq);
			resp_track_server(&t, p, np);
			continue;
		}
		resp_track_client(&t, q, creq);
		resp_track_client(&t, q + creq, nq - creq);
		if (bytewise) {
			for (j = 0; j < np; j++) {
				assert_int_equal(resp_track_safe(&t), RESP_BUSY);
				resp_track_server(&t, p + j, 1);
			}
		} else {
			resp_track_server(&t, p, crep);
			if (crep < np)
				assert_int_equal(resp_track_safe(&t), RESP_BUSY);
			resp_track_server(&t, p + crep, np - crep);
		}
	}
	assert_null(t.lost);
	assert_int_equal(t.answered, t.sent);
	assert_false(t.subscribed);
	assert_false(t.monitor);
	assert_true(t.live == NULL || !t.live->rep.pubsub);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	resp_track_clear(&t);
}

static void
test_sub_every_split(void **state)
{
	const char *const	*cap;
	size_t			 c, k, i;

	for (c = 0; c < sizeof(sub_captures) / sizeof(sub_captures[0]); c++) {
		cap = sub_captures[c];
		for (k = 0; cap[2 * k] != NULL; k++) {
			for (i = 0; i <= strlen(cap[2 * k]); i++)
				run_sub_split(c, k, i, 0, 0);
			for (i = 0; i <= strlen(cap[2 * k + 1]); i++)
				run_sub_split(c, k, 0, i, 0);
			run_sub_split(c, k, 0, 0, 1);
		}
	}
}

/* Unsubscribed from some only; one way or the other, still subscribed. */
static void
test_sub_stays(void **state)
{
	struct resp_track	t;

	/* Inline, as redis-cli and telnet send it. */
	resp_track_init(&t);
	resp_track_client(&t, S("SUBSCRIBE a  b\r\n"));
	resp_track_server(&t, S("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	resp_track_server(&t, S("*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"));
	resp_track_server(&t, S("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n"));
	resp_track_client(&t, S("UNSUBSCRIBE a\r\n"));
	resp_track_server(&t, S("*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n"));
	assert_int_equal(t.answered, t.sent);
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	assert_string_equal(resp_track_why(&t), "subscribed");
	/* A pattern left when the channels go. */
	resp_track_client(&t, S("PSUBSCRIBE p*\r\nUNSUBSCRIBE\r\n"));
	resp_track_server(&t, S("*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:2\r\n"));
	resp_track_server(&t, S("*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n"));
	assert_int_equal(t.answered, t.sent);
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	/* Now none: ordinary again. */
	resp_track_client(&t, S("PUNSUBSCRIBE p*\r\n"));
	resp_track_server(&t, S("*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	resp_track_clear(&t);

	/*
	 * UNSUBSCRIBE of all pipelined behind SUBSCRIBE: its replies are
	 * counted as they come; a SELECT behind it is still paired with
	 * its own reply.  A second such UNSUBSCRIBE: never the unsafe way.
	 */
	resp_track_init(&t);
	resp_track_client(&t, S("SUBSCRIBE a b\r\nUNSUBSCRIBE\r\nSELECT 2\r\n"));
	resp_track_server(&t, S("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
	    "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
	    "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n"
	    "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	resp_track_server(&t, S("*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	resp_track_server(&t, S("+OK\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	assert_non_null(t.saved[RESP_SLOT_SELECT].cmd);
	resp_track_clear(&t);

	resp_track_init(&t);
	resp_track_client(&t, S("SUBSCRIBE a\r\nUNSUBSCRIBE\r\nSUBSCRIBE b\r\n"
	    "UNSUBSCRIBE\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_LOST);
	resp_track_clear(&t);

	/* An open UNSUBSCRIBE that had nothing: one reply. */
	resp_track_init(&t);
	resp_track_client(&t, S("PSUBSCRIBE p\r\nPUNSUBSCRIBE p\r\n"
	    "PUNSUBSCRIBE\r\nPING\r\n"));
	assert_true(t.live->sub.open[RESP_SUB_PATTERN]);
	resp_track_server(&t, S("*3\r\n$10\r\npsubscribe\r\n$1\r\np\r\n:1\r\n"
	    "*3\r\n$12\r\npunsubscribe\r\n$1\r\np\r\n:0\r\n"
	    "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"));
	assert_false(t.live->sub.open[RESP_SUB_PATTERN]);
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	resp_track_server(&t, S("+PONG\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	resp_track_clear(&t);

	/* An arity error is one reply. */
	resp_track_init(&t);
	resp_track_client(&t, S("*1\r\n$9\r\nSUBSCRIBE\r\n"));
	resp_track_server(&t, S("-ERR wrong number of arguments for 'subscribe' command\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	resp_track_clear(&t);

	/* RESP3: confirmations are pushes; held until RESET. */
	resp_track_init(&t);
	resp_track_client(&t, S("HELLO 3\r\nSUBSCRIBE a\r\n"));
	resp_track_server(&t, S("%1\r\n$5\r\nproto\r\n:3\r\n"));
	resp_track_server(&t, S(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"));
	resp_track_client(&t, S("UNSUBSCRIBE a\r\n"));
	resp_track_server(&t, S(">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	assert_string_equal(resp_track_why(&t), "subscribed");
	resp_track_client(&t, S("RESET\r\nPING\r\n"));
	resp_track_server(&t, S("+RESET\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_BUSY);
	resp_track_server(&t, S("+PONG\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	assert_false(t.resp3);
	resp_track_clear(&t);
}

/*
 * RESET: what a move replays follows it (no AUTH, SELECT, name; CLIENT
 * SETINFO kept), state commands pending across it are dropped, and the
 * state it ends (tracking) no longer forbids a move.
 */
static void
test_reset_replay(void **state)
{
	struct resp_track	 t;
	struct resp_expect	 want[RESP_NSLOTS];
	struct evbuffer		*out = evbuffer_new();
	char			 names[128];

	resp_track_init(&t);
	resp_track_client(&t, S("AUTH app pw\r\nCLIENT SETINFO LIB-NAME py\r\n"
	    "CLIENT SETINFO lib-ver 5\r\nCLIENT TRACKING on\r\n"));
	resp_track_server(&t, S("+OK\r\n+OK\r\n+OK\r\n+OK\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE_CLOSE);
	resp_track_client(&t, S("SELECT 4\r\nRESET\r\n"));
	resp_track_server(&t, S("+OK\r\n+RESET\r\n"));
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	assert_int_equal(resp_track_replay(&t, out, want, names,
	    sizeof(names)), 2);
	assert_string_equal(names, "CLIENT SETINFO, CLIENT SETINFO");
	evbuffer_free(out);
	resp_track_clear(&t);
}

/*
 * An idle tracker holds nothing beyond the struct (issue 27): the
 * recording buffer goes once its state command is read, the pending
 * slots once none awaits a reply; only kept state stays.  A command cut
 * mid-record keeps the buffer until it ends.
 */
static void
test_idle_holds_nothing(void **state)
{
	struct resp_track	t;

	(void)state;
	resp_track_init(&t);
	resp_track_client(&t, S("*1\r\n$4\r\nPING\r\n"));
	resp_track_server(&t, S("+PONG\r\n"));
	assert_null(t.live);		/* no reader held between messages */
	assert_null(t.pending);
	assert_null(t.saved);
	resp_track_client(&t, S("*2\r\n$6\r\nSELECT\r\n$1\r"));
	assert_non_null(t.live->req.raw);	/* recording */
	resp_track_client(&t, S("\n3\r\n"));
	assert_true(t.live == NULL || t.live->req.raw == NULL);
	assert_int_equal(t.npending, 1);
	assert_non_null(t.pending);
	resp_track_server(&t, S("+OK\r\n"));
	assert_null(t.pending);
	assert_non_null(SAVED_CMD(t, RESP_SLOT_SELECT));
	resp_track_client(&t, S("*2\r\n$6\r\nSELECT\r\n$1\r\n4\r\n"));
	resp_track_server(&t, S("-ERR DB index is out of range\r\n"));
	assert_null(t.live);
	assert_null(t.pending);
	assert_int_equal(resp_track_safe(&t), RESP_SAFE);
	resp_track_clear(&t);
	assert_null(t.saved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_every_split),
		cmocka_unit_test(test_capture_bytewise),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_busy_states),
		cmocka_unit_test(test_pipelined_runs),
		cmocka_unit_test(test_unreplayable_and_lost),
		cmocka_unit_test(test_inline_reset_attributes),
		cmocka_unit_test(test_sub_every_split),
		cmocka_unit_test(test_sub_stays),
		cmocka_unit_test(test_reset_replay),
		cmocka_unit_test(test_idle_holds_nothing),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
