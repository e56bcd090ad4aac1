/*
 * test_ssh_mux.c: the OpenSSH mux messages of the OpenSSH engine
 * (tunnel/ssh_mux_wire.c): our requests byte for byte as PROTOCOL.mux
 * lays them out; the master's replies parsed whole, in any chunking;
 * malformed packets (lengths out of bounds, a reason longer than its
 * packet, replies without a request id, a session reply without its
 * session id or exit status) refused; control characters in
 * a reason made harmless for the log.  After MUX_C_PROXY:
 * test_ssh_mux_proxy.c.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssh_mux_wire.h"

static const unsigned char hello[] = {
	0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4
};

static void
test_encode_stdio_fwd(void **state)
{
	unsigned char	buf[128];
	static const unsigned char want[] = {
		0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4,		/* hello v4 */
		0, 0, 0, 25, 0x10, 0, 0, 8,			/* STDIO_FWD */
		0, 0, 0, 7,					/* rid */
		0, 0, 0, 0,					/* reserved */
		0, 0, 0, 5, 'r', 'e', 'd', 'i', 's',		/* host */
		0, 0, 0x18, 0xeb				/* 6379 */
	};

	(void)state;
	assert_int_equal(ssh_mux_encode(buf, sizeof(buf), 7, "redis", 6379),
	    sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* Too small a buffer: nothing. */
	assert_int_equal(ssh_mux_encode(buf, sizeof(want) - 1, 7, "redis",
	    6379), 0);
}

/* MUX_C_OPEN_FWD: a local forward from a unix path (port -2). */
static void
test_encode_open_fwd(void **state)
{
	unsigned char	buf[128];
	static const unsigned char want[] = {
		0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4,		/* hello v4 */
		0, 0, 0, 34, 0x10, 0, 0, 6,			/* OPEN_FWD */
		0, 0, 0, 9,					/* rid */
		0, 0, 0, 1,					/* local */
		0, 0, 0, 5, '/', 'd', '/', 'f', '0',		/* listen path */
		0xff, 0xff, 0xff, 0xfe,				/* -2: a path */
		0, 0, 0, 1, 'h',				/* connect host */
		0, 0, 0x18, 0xeb				/* 6379 */
	};

	(void)state;
	assert_int_equal(ssh_mux_encode_fwd(buf, sizeof(buf), 9, "/d/f0", "h",
	    6379), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ssh_mux_encode_fwd(buf, sizeof(want) - 1, 9, "/d/f0",
	    "h", 6379), 0);
}

/* MUX_C_NEW_SESSION: a command, no tty, no forwarding, no escape. */
static void
test_encode_session(void **state)
{
	unsigned char	buf[128];
	static const unsigned char want[] = {
		0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4,		/* hello v4 */
		0, 0, 0, 45, 0x10, 0, 0, 2,			/* NEW_SESSION */
		0, 0, 0, 5,					/* rid */
		0, 0, 0, 0,					/* reserved */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,		/* tty X11 agent */
		0, 0, 0, 0,					/* subsystem */
		0xff, 0xff, 0xff, 0xff,				/* no escape */
		0, 0, 0, 0,					/* term */
		0, 0, 0, 5, 's', 'l', 'e', 'e', 'p'		/* command */
	};

	(void)state;
	assert_int_equal(ssh_mux_encode_session(buf, sizeof(buf), 5, "sleep"),
	    sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ssh_mux_encode_session(buf, sizeof(want) - 1, 5,
	    "sleep"), 0);
}

/* The session's end: its id and exit status. */
static void
test_parse_exit_message(void **state)
{
	static const unsigned char exitmsg[] = {
		0, 0, 0, 12, 0x80, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 42
	};
	struct ssh_mux_msg	 m;

	(void)state;
	assert_int_equal(ssh_mux_parse(exitmsg, sizeof(exitmsg), &m),
	    sizeof(exitmsg));
	assert_int_equal(m.type, MUX_S_EXIT_MESSAGE);
	assert_int_equal(m.rid, 3);
	assert_int_equal(m.value, 42);
}

static void
test_encode_alive(void **state)
{
	unsigned char	buf[64];
	static const unsigned char want[] = {
		0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4,
		0, 0, 0, 8, 0x10, 0, 0, 4, 0, 0, 1, 2
	};

	(void)state;
	assert_int_equal(ssh_mux_encode(buf, sizeof(buf), 258, NULL, 0),
	    sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* The master's answer to an open: hello, then SESSION_OPENED. */
static void
test_parse_opened_any_chunking(void **state)
{
	unsigned char		 in[64];
	static const unsigned char opened[] = {
		0, 0, 0, 12, 0x80, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 3
	};
	struct ssh_mux_msg	 m;
	size_t			 cut, total;

	(void)state;
	memcpy(in, hello, sizeof(hello));
	memcpy(in + sizeof(hello), opened, sizeof(opened));
	total = sizeof(hello) + sizeof(opened);
	/* A prefix of the hello is "more to come", whatever its length. */
	for (cut = 0; cut < sizeof(hello); cut++)
		assert_int_equal(ssh_mux_parse(in, cut, &m), 0);
	assert_int_equal(ssh_mux_parse(in, total, &m), sizeof(hello));
	assert_int_equal(m.type, MUX_MSG_HELLO);
	for (cut = 0; cut < sizeof(opened); cut++)
		assert_int_equal(ssh_mux_parse(in + sizeof(hello), cut, &m), 0);
	assert_int_equal(ssh_mux_parse(in + sizeof(hello), sizeof(opened), &m),
	    sizeof(opened));
	assert_int_equal(m.type, MUX_S_SESSION_OPENED);
	assert_int_equal(m.rid, 7);
	assert_int_equal(m.value, 3);		/* the session id */
}

static void
test_parse_failure_reason(void **state)
{
	static const unsigned char fail[] = {
		0, 0, 0, 0x1a, 0x80, 0, 0, 3, 0, 0, 0, 9,
		0, 0, 0, 14, 'o', 'p', 'e', 'n', ' ', 'r', 'e', 'f', 'u', 's',
		'e', 'd', '\n', 'x'
	};
	struct ssh_mux_msg	 m;

	(void)state;
	assert_int_equal(ssh_mux_parse(fail, sizeof(fail), &m), sizeof(fail));
	assert_int_equal(m.type, MUX_S_FAILURE);
	assert_int_equal(m.rid, 9);
	assert_string_equal(m.reason, "open refused?x");
}

static void
test_parse_malformed(void **state)
{
	struct ssh_mux_msg	 m;
	/* Length 2: shorter than a type. */
	static const unsigned char tiny[] = { 0, 0, 0, 2, 0, 0 };
	/* Length beyond MUX_MSG_MAX: refused before it is all there. */
	static const unsigned char huge[] = { 0, 0, 0x10, 0x01, 0x80, 0, 0, 3 };
	/* A reply without its request id. */
	static const unsigned char norid[] = { 0, 0, 0, 4, 0x80, 0, 0, 5 };
	/* A reason that claims more bytes than its packet holds. */
	static const unsigned char longreason[] = {
		0, 0, 0, 13, 0x80, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 99, 'x'
	};
	/* SESSION_OPENED and EXIT_MESSAGE without their second word. */
	static const unsigned char noid[] = {
		0, 0, 0, 8, 0x80, 0, 0, 6, 0, 0, 0, 1
	};
	static const unsigned char nostatus[] = {
		0, 0, 0, 8, 0x80, 0, 0, 4, 0, 0, 0, 1
	};
	/* FAILURE without room for the reason's length. */
	static const unsigned char noreason[] = {
		0, 0, 0, 8, 0x80, 0, 0, 3, 0, 0, 0, 1
	};

	(void)state;
	assert_int_equal(ssh_mux_parse(tiny, sizeof(tiny), &m), -1);
	assert_int_equal(ssh_mux_parse(huge, sizeof(huge), &m), -1);
	assert_int_equal(ssh_mux_parse(norid, sizeof(norid), &m), -1);
	assert_int_equal(ssh_mux_parse(longreason, sizeof(longreason), &m),
	    -1);
	assert_int_equal(ssh_mux_parse(noreason, sizeof(noreason), &m), -1);
	assert_int_equal(ssh_mux_parse(noid, sizeof(noid), &m), -1);
	assert_int_equal(ssh_mux_parse(nostatus, sizeof(nostatus), &m), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_stdio_fwd),
		cmocka_unit_test(test_encode_open_fwd),
		cmocka_unit_test(test_encode_session),
		cmocka_unit_test(test_encode_alive),
		cmocka_unit_test(test_parse_exit_message),
		cmocka_unit_test(test_parse_opened_any_chunking),
		cmocka_unit_test(test_parse_failure_reason),
		cmocka_unit_test(test_parse_malformed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
