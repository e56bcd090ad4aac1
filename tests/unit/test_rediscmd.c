/*
 * test_rediscmd.c: naming a Redis client's first command, from bytes
 * that may arrive split anywhere.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resp_first.h"

/* Every prefix of s is MORE (or the final answer once complete). */
static void
expect_name(const char *s, size_t complete, enum resp_first_status want,
    const char *name)
{
	char	got[RESP_FIRST_NAME_MAX];
	size_t	n, len = strlen(s);

	for (n = 0; n <= len; n++) {
		memset(got, 'x', sizeof(got));
		enum resp_first_status st = resp_first_name((const uint8_t *)s, n,
		    got);
		if (n < complete) {
			assert_int_equal(st, RESP_FIRST_MORE);
			continue;
		}
		assert_int_equal(st, want);
		if (want == RESP_FIRST_NAME)
			assert_string_equal(got, name);
	}
}

static void
test_resp(void **state)
{
	const char	*get = "*2\r\n$3\r\nget\r\n$1\r\nk\r\n";

	expect_name(get, strlen("*2\r\n$3\r\nget"), RESP_FIRST_NAME, "GET");
	expect_name("*1\r\n$10\r\nBRPOPLPUSH\r\n", 19, RESP_FIRST_NAME,
	    "BRPOPLPUSH");
}

static void
test_inline(void **state)
{
	expect_name("ping\r\n", 5, RESP_FIRST_NAME, "PING");
	expect_name("BLPOP q 0\r\n", 6, RESP_FIRST_NAME, "BLPOP");
	expect_name("PING\n", 5, RESP_FIRST_NAME, "PING");
}

static void
test_bad(void **state)
{
	char		 name[RESP_FIRST_NAME_MAX];
	static const char *const bad[] = {
		"*0\r\n", "*-1\r\n", "*2\r\n:3\r\n", "*2\r\n$0\r\n",
		"*2\r\n$99\r\n", "*x\r\n", "*1\n", "*1\r\n$3\rx",
		"*9999999999\r\n", "\r\n", " PING\r\n",
		"*1\r\n$4\r\nPI\x01G\r\n",
		/* Quoted inline names: Redis runs BLPOP, not a name here. */
		"\"BLPOP\" l 0\r\n", "BL'POP' l 0\r\n", "\"\\x42LPOP\" l 0\r\n",
	};
	char		 longname[64];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(resp_first_name((const uint8_t *)bad[i],
		    strlen(bad[i]), name), RESP_FIRST_BAD);
	memset(longname, 'A', sizeof(longname));
	assert_int_equal(resp_first_name((const uint8_t *)longname,
	    sizeof(longname), name), RESP_FIRST_BAD);
	/* Redis' own desync case: a NUL and bytes without a newline. */
	assert_int_equal(resp_first_name((const uint8_t *)"\0abc", 4, name),
	    RESP_FIRST_BAD);
	assert_int_equal(resp_first_name(NULL, 0, name), RESP_FIRST_MORE);
}

static void
test_prompt(void **state)
{
	assert_true(resp_first_prompt("GET"));
	assert_true(resp_first_prompt("PING"));
	assert_true(resp_first_prompt("SUBSCRIBE"));	/* confirms at once */
	assert_true(resp_first_prompt("NOSUCHCOMMAND"));
	assert_false(resp_first_prompt("BLPOP"));
	assert_false(resp_first_prompt("BLMOVE"));
	assert_false(resp_first_prompt("XREAD"));
	assert_false(resp_first_prompt("WAIT"));
	assert_false(resp_first_prompt("XREADGROUP"));
	assert_false(resp_first_prompt("CLIENT"));	/* REPLY OFF */
	assert_false(resp_first_prompt("EVAL"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resp),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_prompt),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
