/*
 * test_scram.c: the SCRAM-SHA-256 client against RFC 7677's example
 * exchange (section 3), and its refusals of a server that does not play
 * by the rules.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scram.h"

#define RFC_NONCE	"rOprNGfwEbeRWgbNEkqO"
#define RFC_FIRST	"n,,n=user,r=" RFC_NONCE
#define RFC_SERVER_FIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_FINAL	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
	"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static struct scram *
rfc_client(int max_iterations)
{
	struct scram_params	p;
	struct scram		*s;

	memset(&p, 0, sizeof(p));
	p.user = "user";
	p.password = "pencil";
	p.nonce = RFC_NONCE;
	p.max_iterations = max_iterations;
	s = scram_new(&p);
	assert_non_null(s);
	return (s);
}

static void
test_rfc7677(void **state)
{
	struct scram	*s = rfc_client(10000);
	char		 err[256];

	(void)state;
	assert_string_equal(scram_client_first(s), RFC_FIRST);
	assert_int_equal(scram_server_first(s, RFC_SERVER_FIRST,
	    strlen(RFC_SERVER_FIRST), err, sizeof(err)), 0);
	assert_string_equal(scram_client_final(s), RFC_FINAL);
	assert_int_equal(scram_server_final(s, RFC_SERVER_FINAL,
	    strlen(RFC_SERVER_FINAL), err, sizeof(err)), 0);
	scram_free(s);
}

/* A server that does not know the password cannot sign. */
static void
test_wrong_signature(void **state)
{
	struct scram	*s = rfc_client(10000);
	const char	*bad = "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
	char		 err[256];

	(void)state;
	assert_int_equal(scram_server_first(s, RFC_SERVER_FIRST,
	    strlen(RFC_SERVER_FIRST), err, sizeof(err)), 0);
	assert_int_equal(scram_server_final(s, bad, strlen(bad), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "signature is wrong"));
	/* One answer only: the right one does not help after that. */
	assert_int_equal(scram_server_final(s, RFC_SERVER_FINAL,
	    strlen(RFC_SERVER_FINAL), err, sizeof(err)), -1);
	scram_free(s);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char	*msg;
		const char	*why;
	} cases[] = {
		{ "r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		  "does not extend ours" },
		{ "r=" RFC_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		  "does not extend ours" },
		{ "r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4097",
		  "is not in 1..4096" },
		{ "r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
		  "is not in 1..4096" },
		{ "r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=1",
		  "bad salt" },
		{ "r=" RFC_NONCE "x,s=,i=1", "bad salt" },
		{ "r=" RFC_NONCE "x,i=1", "malformed" },
		{ "m=ext,r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",
		  "extension" },
	};
	struct scram	*s;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = rfc_client(4096);
		assert_int_equal(scram_server_first(s, cases[i].msg,
		    strlen(cases[i].msg), err, sizeof(err)), -1);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
			    cases[i].why);
		assert_null(scram_client_final(s));
		scram_free(s);
	}
}

static void
test_server_error(void **state)
{
	struct scram	*s = rfc_client(10000);
	const char	*e = "e=invalid-proof\x01";
	char		 err[256];

	(void)state;
	assert_int_equal(scram_server_first(s, RFC_SERVER_FIRST,
	    strlen(RFC_SERVER_FIRST), err, sizeof(err)), 0);
	assert_int_equal(scram_server_final(s, e, strlen(e), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "SCRAM: the server refused: invalid-proof?");
	scram_free(s);
}

/* Channel binding: the gs2 header and the hash go into c=. */
#define CB_PREFIX	"c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAQIDBA==,r="
static void
test_binding(void **state)
{
	struct scram_params	 p;
	struct scram		*s;
	const unsigned char	 hash[4] = { 1, 2, 3, 4 };
	char			 err[256];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.user = "";
	p.password = "pencil";
	p.nonce = RFC_NONCE;
	p.max_iterations = 4096;
	p.binding = SCRAM_BIND_USED;
	assert_null(scram_new(&p));	/* no hash */
	p.cbind = hash;
	p.cbind_len = sizeof(hash);
	s = scram_new(&p);
	assert_non_null(s);
	assert_string_equal(scram_client_first(s),
	    "p=tls-server-end-point,,n=,r=" RFC_NONCE);
	assert_int_equal(scram_server_first(s, RFC_SERVER_FIRST,
	    strlen(RFC_SERVER_FIRST), err, sizeof(err)), 0);
	/* base64("p=tls-server-end-point,," 01 02 03 04) */
	assert_memory_equal(scram_client_final(s), CB_PREFIX,
	    strlen(CB_PREFIX));
	scram_free(s);
	p.binding = SCRAM_BIND_UNUSED;
	s = scram_new(&p);
	assert_non_null(s);
	assert_string_equal(scram_client_first(s), "y,,n=,r=" RFC_NONCE);
	scram_free(s);
}

/* Random nonces: 24 base64 characters, different each time. */
static void
test_random_nonce(void **state)
{
	struct scram_params	 p;
	struct scram		*a, *b;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.user = "u=,";
	p.password = "x";
	p.max_iterations = 4096;
	a = scram_new(&p);
	b = scram_new(&p);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(strlen(scram_client_first(a)),
	    strlen("n,,n=u=3D=2C,r=") + 24);
	assert_memory_equal(scram_client_first(a), "n,,n=u=3D=2C,r=", 15);
	assert_string_not_equal(scram_client_first(a), scram_client_first(b));
	scram_free(a);
	scram_free(b);
	scram_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7677),
		cmocka_unit_test(test_wrong_signature),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_server_error),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_random_nonce),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
