/*
 * test_resp_scan.c: the RESP framing scan a Redis check runs before
 * hiredis (proto/redis/resp_scan.c): aggregate headers beyond the limit are
 * caught, whatever the chunking; bulk payloads that look like headers
 * are skipped; small replies pass.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resp_scan.h"

/* Scan text in chunks of step bytes: 0 or -1, the count in *count. */
static int
scan(const char *text, size_t step, long long max, long long *count)
{
	struct resp_scan	s;
	size_t			n = strlen(text), off, k;

	memset(&s, 0, sizeof(s));
	*count = 0;
	for (off = 0; off < n; off += k) {
		k = n - off < step ? n - off : step;
		if (resp_scan_feed(&s, (const unsigned char *)text + off, k,
		    max, count) != 0)
			return (-1);
	}
	return (0);
}

/* The same verdict for every chunk size from 1 to the whole. */
static void
expect(const char *text, long long max, int rc, long long count)
{
	long long	c;
	size_t		step;

	for (step = 1; step <= strlen(text); step++) {
		assert_int_equal(scan(text, step, max, &c), rc);
		if (rc != 0)
			assert_int_equal(c, count);
	}
}

static void
test_replies(void **state)
{
	(void)state;
	/* What a check reads: +OK, +PONG, ROLE, GET. */
	expect("+OK\r\n+PONG\r\n*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
	    "$4\r\nprod\r\n", 16, 0, 0);
	expect("-NOAUTH Authentication required.\r\n", 16, 0, 0);
	expect("$-1\r\n*-1\r\n", 16, 0, 0);
	/* A header beyond the limit, whatever the chunking. */
	expect("+PONG\r\n*100000000\r\n:1\r\n", 16384, -1, 100000000);
	expect("*17\r\n", 16, -1, 17);
	expect("*16\r\n", 16, 0, 0);
	/* Nested. */
	expect("*1\r\n*2\r\n*99\r\n", 16, -1, 99);
	/* RESP3: sets and pushes count elements, maps and attributes pairs. */
	expect("~20\r\n", 16, -1, 20);
	expect(">20\r\n", 16, -1, 20);
	expect("%9\r\n", 16, -1, 18);
	expect("%8\r\n", 16, 0, 0);
	expect("|9\r\n", 16, -1, 18);
	expect("%9223372036854775807\r\n", 16, -1, 9223372036854775807LL);
}

/* A bulk payload that looks like a header is data, not a header. */
static void
test_bulk_skipped(void **state)
{
	(void)state;
	expect("$13\r\n*1000000000\r\n\r\n+PONG\r\n", 16, 0, 0);
	expect("$13\r\n*1000000000\r\n\r\n*99\r\n", 16, -1, 99);
	expect("=14\r\ntxt:*100000000\r\n*99\r\n", 16, -1, 99);
	/* A bulk that never ends: nothing after it is read as a header. */
	expect("$1000000000\r\n*99\r\n*99\r\n", 16, 0, 0);
}

/* Malformed framing is hiredis's to report; the scan goes on. */
static void
test_malformed(void **state)
{
	(void)state;
	expect("*abc\r\n*99\r\n", 16, -1, 99);
	expect("*\r\n", 16, 0, 0);
	expect("$-5\r\n*99\r\n", 16, -1, 99);
	/* A long header line is cut, not overrun. */
	expect("*0000000000000000000000000000000000000099\r\n", 16, 0, 0);
	/* A length no server sends: hiredis refuses it; the scan reads on. */
	expect("$9223372036854775807\r\n*99\r\n", 16, -1, 99);
	/* A map of LLONG_MIN pairs (the fuzzer's): no overflow doubling it. */
	expect("|-9223372036854775808\r\n*99\r\n", 16, -1, 99);
	expect("%-1\r\n*2\r\n", 16, 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_bulk_skipped),
		cmocka_unit_test(test_malformed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
