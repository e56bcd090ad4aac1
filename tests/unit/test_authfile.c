/*
 * test_authfile.c: the auth_file parser (config/authfile.c): the three
 * kinds of secret, PgBouncer's quoting, and an error with its line for
 * each malformed input, never quoting the secret.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "authfile.h"

/* pg_authid's secret for password "pencil", salt from RFC 7677. */
#define SCRAM "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$" \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:" \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

static struct authfile *
parse_ok(const char *text)
{
	struct authfile	*a = NULL;
	char		 err[256];

	err[0] = '\0';
	if (authfile_parse(text, strlen(text), &a, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	assert_non_null(a);
	return (a);
}

static void
parse_bad(const char *text, const char *want)
{
	struct authfile	*a = NULL;
	char		 err[256];

	assert_int_equal(authfile_parse(text, strlen(text), &a, err,
	    sizeof(err)), -1);
	assert_null(a);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' lacks '%s'", err, want);
	assert_null(strstr(err, "secret1"));
}

static void
test_kinds(void **state)
{
	struct authfile			*a;
	const struct authfile_entry	*e;
	static const unsigned char	 salt[] = {
		0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
		0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81 };

	(void)state;
	a = parse_ok("; a comment\n# another\n\n"
	    "\"alice\" \"" SCRAM "\"\n"
	    "\"bob\" \"md5a3556571e93b0d20722ba62be61e8c2d\"\r\n"
	    "  \"ca\"\"rol\"\t\"pa\"\"ss\"\n"
	    "\"dave\" \"md5nothex\"");
	assert_int_equal(a->n, 4);
	e = authfile_find(a, "alice");
	assert_non_null(e);
	assert_int_equal(e->kind, AUTHFILE_SCRAM);
	assert_int_equal(e->iterations, 4096);
	assert_int_equal(e->salt_len, sizeof(salt));
	assert_memory_equal(e->salt, salt, sizeof(salt));
	assert_int_equal(e->stored_key[0], 0x58);
	assert_int_equal(e->server_key[0], 0xc1);
	e = authfile_find(a, "bob");
	assert_int_equal(e->kind, AUTHFILE_MD5);
	e = authfile_find(a, "ca\"rol");
	assert_non_null(e);
	assert_int_equal(e->kind, AUTHFILE_PLAIN);
	assert_string_equal(e->secret, "pa\"ss");
	assert_int_equal(authfile_find(a, "dave")->kind, AUTHFILE_PLAIN);
	assert_null(authfile_find(a, "eve"));
	assert_null(authfile_find(NULL, "eve"));
	authfile_free(a);
	a = parse_ok("");
	assert_int_equal(a->n, 0);
	authfile_free(a);
}

static void
test_errors(void **state)
{
	(void)state;
	parse_bad("\"a\" \"x\"\nalice secret1\n", "line 2: expected");
	parse_bad("\"a\" \"secret1\n", "line 1: expected");
	parse_bad("\"a\"\n", "line 1: expected");
	parse_bad("\"a\" \"secret1\" trailing\n", "line 1: text after");
	parse_bad("\"\" \"secret1\"\n", "line 1: the user name is empty");
	parse_bad("\"a\" \"\"\n", "line 1: the secret is empty");
	parse_bad("\"a\" \"x\"\n\"a\" \"secret1\"\n", "line 2: this user");
	parse_bad("\"a\" \"SCRAM-SHA-256$secret1\"\n", "line 1: a SCRAM "
	    "secret is");
	parse_bad("\"a\" \"SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$"
	    "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\"", "iteration");
	parse_bad("\"a\" \"SCRAM-SHA-256$4096:!!!!$"
	    "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\"", "salt");
	parse_bad("\"a\" \"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
	    "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4q=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\"", "32 bytes");
	parse_bad("\"a\" \"x\"\n\n\"b\" \"y\" z", "line 3:");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_errors),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
