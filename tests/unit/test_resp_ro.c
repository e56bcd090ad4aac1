/*
 * test_resp_ro.c: which unanswered Redis requests may be sent again on a
 * new route (issue 20), from bytes cut anywhere.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resp_ro.h"

static int
ro(const char *s, char *first, size_t len)
{
	return (resp_ro_replayable((const uint8_t *)s, strlen(s), first, len));
}

static void
test_table_sorted(void **state)
{
	size_t	i;

	assert_true(resp_ro_count > 20);
	for (i = 1; i < resp_ro_count; i++)
		assert_true(strcmp(resp_ro_table[i - 1], resp_ro_table[i]) < 0);
	assert_true(resp_ro_known("GET", NULL));
	assert_true(resp_ro_known("GET", "KEY"));
	assert_true(resp_ro_known("OBJECT", "FREQ"));
	assert_false(resp_ro_known("OBJECT", NULL));
	assert_false(resp_ro_known("SET", NULL));
	assert_false(resp_ro_known("EVAL_RO", NULL));	/* a script */
	assert_false(resp_ro_known("XREAD", NULL));	/* may block */
	assert_false(resp_ro_known("KEYS", NULL));	/* @dangerous */
}

static void
test_reads_replay(void **state)
{
	char	first[32];

	assert_true(ro("*2\r\n$3\r\nget\r\n$1\r\nk\r\n", first,
	    sizeof(first)));
	assert_string_equal(first, "GET");
	assert_true(ro("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$6\r\nOBJECT\r\n"
	    "$4\r\nfreq\r\n$1\r\nk\r\n", first, sizeof(first)));
	assert_string_equal(first, "GET");
}

static void
test_writes_do_not(void **state)
{
	char	first[32];

	assert_false(ro("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n"
	    "$1\r\nk\r\n$1\r\nv\r\n", first, sizeof(first)));
	assert_string_equal(first, "SET");
	assert_false(ro("*1\r\n$5\r\nWHATS\r\n", first, sizeof(first)));
	assert_false(ro("GET k\r\n", first, sizeof(first)));	/* inline */
	assert_false(ro("*0\r\n", first, sizeof(first)));
	assert_false(ro("*1\r\n$3\r\nGETxx", first, sizeof(first)));
	assert_false(ro("*1\r\n+GET\r\n", first, sizeof(first)));
}

/* A request cut short never ran: whatever it is, it may go again. */
static void
test_cut_anywhere(void **state)
{
	const char	*s = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n"
	    "$1\r\nk\r\n$1\r\nv\r\n";
	char		 first[32];
	size_t		 n, whole = strlen(s);

	for (n = 0; n < whole; n++)
		assert_true(resp_ro_replayable((const uint8_t *)s, n, first,
		    sizeof(first)));
	assert_false(resp_ro_replayable((const uint8_t *)s, whole, first,
	    sizeof(first)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_sorted),
		cmocka_unit_test(test_reads_replay),
		cmocka_unit_test(test_writes_do_not),
		cmocka_unit_test(test_cut_anywhere),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
