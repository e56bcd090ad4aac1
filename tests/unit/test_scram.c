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

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

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

/* RFC 7677's user's keys, as pg_authid would hold them. */
static void
rfc_keys(struct scram_keys *k, unsigned char *salt, size_t *salt_len)
{
	unsigned char	salted[32];
	unsigned int	n = 32;
	int		len;

	len = EVP_DecodeBlock(salt, (const unsigned char *)
	    "W22ZaJ0SNY7soEsUEjb6gQ==", 24);
	assert_int_equal(len, 18);
	*salt_len = 16;
	assert_int_equal(PKCS5_PBKDF2_HMAC("pencil", 6, salt, 16, 4096,
	    EVP_sha256(), 32, salted), 1);
	HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key",
	    10, k->client_key, &n);
	SHA256(k->client_key, 32, k->stored_key);
	HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Server Key",
	    10, k->server_key, &n);
	k->salt = salt;
	k->salt_len = 16;
	k->iterations = 4096;
}

/* SCRAM pass-through: the client key from the client's own messages. */
static void
test_client_key(void **state)
{
	struct scram_keys	k;
	unsigned char		salt[32], out[32];
	size_t			salt_len;
	static const char	bad[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa"
	    "2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7An"
	    "dVA=";

	(void)state;
	rfc_keys(&k, salt, &salt_len);
	assert_int_equal(scram_client_key(k.stored_key, RFC_FIRST,
	    strlen(RFC_FIRST), RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST),
	    RFC_FINAL, strlen(RFC_FINAL), out), 0);
	assert_memory_equal(out, k.client_key, 32);
	/* Another proof, another StoredKey, no proof: refused. */
	assert_int_equal(scram_client_key(k.stored_key, RFC_FIRST,
	    strlen(RFC_FIRST), RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST),
	    bad, strlen(bad), out), -1);
	k.stored_key[0] ^= 1;
	assert_int_equal(scram_client_key(k.stored_key, RFC_FIRST,
	    strlen(RFC_FIRST), RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST),
	    RFC_FINAL, strlen(RFC_FINAL), out), -1);
	assert_int_equal(scram_client_key(k.stored_key, RFC_FIRST,
	    strlen(RFC_FIRST), RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST),
	    "c=biws", 6, out), -1);
	assert_int_equal(scram_client_key(k.stored_key, "n=user", 6,
	    RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), RFC_FINAL,
	    strlen(RFC_FINAL), out), -1);
}

/* Logging in with the keys, no password: RFC 7677's exchange again. */
static void
test_keys_login(void **state)
{
	struct scram_params	p;
	struct scram_keys	k;
	struct scram		*s;
	unsigned char		salt[32];
	size_t			salt_len;
	char			err[256];
	static const char	other[] = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTC"
	    "AfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4097";

	(void)state;
	rfc_keys(&k, salt, &salt_len);
	memset(&p, 0, sizeof(p));
	p.user = "user";
	p.keys = &k;
	p.nonce = RFC_NONCE;
	p.max_iterations = 10000;
	assert_non_null(s = scram_new(&p));
	assert_int_equal(scram_server_first(s, RFC_SERVER_FIRST,
	    strlen(RFC_SERVER_FIRST), err, sizeof(err)), 0);
	assert_string_equal(scram_client_final(s), RFC_FINAL);
	assert_int_equal(scram_server_final(s, RFC_SERVER_FINAL,
	    strlen(RFC_SERVER_FINAL), err, sizeof(err)), 0);
	scram_free(s);
	/* A server with another iteration count: not these keys. */
	assert_non_null(s = scram_new(&p));
	assert_int_equal(scram_server_first(s, other, strlen(other), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "differs"));
	scram_free(s);
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
		cmocka_unit_test(test_client_key),
		cmocka_unit_test(test_keys_login),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
