/*
 * test_pgauth.c: PostgreSQL authentication requests and the answers,
 * byte for byte: md5 as libpq computes it, the SASL mechanism choice and
 * its channel-binding flag, and the refusals (cleartext without TLS,
 * AuthenticationOk before the server's SCRAM proof).
 */
#include "config.h"

#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg_auth.h"

static struct pg_auth *
client_md5(const char *password, int tls, int allow_md5)
{
	static const unsigned char	hash[32] = { 7 };
	struct pg_auth_params		p;
	struct pg_auth			*a;

	memset(&p, 0, sizeof(p));
	p.user = "check";
	p.password = password;
	p.tls = tls;
	p.allow_md5 = allow_md5;
	if (tls) {
		p.cbind = hash;
		p.cbind_len = sizeof(hash);
	}
	p.nonce = "fixednonce";
	a = pg_auth_new(&p);
	assert_non_null(a);
	return (a);
}

static struct pg_auth *
client(const char *password, int tls)
{
	return (client_md5(password, tls, 0));
}

/* An 'R' body: the code, then n bytes. */
static size_t
request(unsigned char *buf, uint32_t code, const void *data, size_t n)
{
	code = htonl(code);
	memcpy(buf, &code, 4);
	memcpy(buf + 4, data, n);
	return (4 + n);
}

/* md5 without TLS: refused unless check_allow_md5 (a downgrade). */
static void
test_md5_refused(void **state)
{
	struct pg_auth	*a = client("s3cret", 0);
	unsigned char	 body[64];
	size_t		 n;

	(void)state;
	n = request(body, 5, "\x01\x02\x03\x04", 4);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_FAIL);
	assert_null(pg_auth_reply(a, &n));
	assert_string_equal(pg_auth_error(a), "the server asks for an md5 "
	    "password hash on a connection without TLS; refused: whoever is "
	    "on the path could have downgraded SCRAM to crack it (use a "
	    "tls:// route, scram-sha-256 in pg_hba.conf, or check_allow_md5 "
	    "= yes)");
	pg_auth_free(a);
	/* Inside TLS it is answered. */
	a = client("s3cret", 1);
	n = request(body, 5, "\x01\x02\x03\x04", 4);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_MORE);
	assert_non_null(pg_auth_reply(a, &n));
	pg_auth_free(a);
}

static void
test_md5(void **state)
{
	struct pg_auth		*a = client_md5("s3cret", 0, 1);
	unsigned char		 body[64];
	const unsigned char	*r;
	size_t			 n;

	(void)state;
	n = request(body, 5, "\x01\x02\x03\x04", 4);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_MORE);
	r = pg_auth_reply(a, &n);
	/* python3: "md5" + md5(md5(b"s3cretcheck").hexdigest() + salt) */
	assert_int_equal(n, 1 + 4 + 36);
	assert_memory_equal(r, "p\0\0\0\x28md5444a1329f8b38741ec5bdeea05dd93a8",
	    n);
	assert_string_equal(pg_auth_method(a), "md5");
	n = request(body, 0, "", 0);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_OK);
	pg_auth_free(a);
}

/* auth_file's md5 entry answers md5 (and nothing else) the same way. */
static void
test_md5_hash(void **state)
{
	struct pg_auth_params	 p;
	struct pg_auth		*a;
	unsigned char		 body[64];
	const unsigned char	*r;
	size_t			 n;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.user = "check";
	p.md5_hash = "md5c84f3e3e66f641cb95824ca607c25dec";
	p.allow_md5 = 1;	/* no TLS here (test_md5_refused) */
	assert_non_null(a = pg_auth_new(&p));
	n = request(body, 5, "\x01\x02\x03\x04", 4);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_MORE);
	r = pg_auth_reply(a, &n);
	assert_int_equal(n, 1 + 4 + 36);
	assert_memory_equal(r, "p\0\0\0\x28md5444a1329f8b38741ec5bdeea05dd93a8",
	    n);
	pg_auth_free(a);
	assert_non_null(a = pg_auth_new(&p));
	n = request(body, 10, "SCRAM-SHA-256\0", 15);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_FAIL);
	pg_auth_free(a);
}

static void
test_cleartext(void **state)
{
	struct pg_auth		*a = client("s3cret", 0);
	unsigned char		 body[8];
	const unsigned char	*r;
	size_t			 n;

	(void)state;
	n = request(body, 3, "", 0);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_FAIL);
	assert_non_null(strstr(pg_auth_error(a), "in cleartext on a "
	    "connection without TLS; refused"));
	assert_null(strstr(pg_auth_error(a), "s3cret"));
	pg_auth_free(a);
	a = client("s3cret", 1);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_MORE);
	r = pg_auth_reply(a, &n);
	assert_int_equal(n, 1 + 4 + 7);
	assert_memory_equal(r, "p\0\0\0\x0bs3cret\0", n);
	pg_auth_free(a);
}

/* Without a password: "the server wants one", not a failure. */
static void
test_need_password(void **state)
{
	struct pg_auth	*a = client(NULL, 0);
	unsigned char	 body[64];
	size_t		 n;

	(void)state;
	n = request(body, 10, "SCRAM-SHA-256\0", 15);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_NEED_PASSWORD);
	pg_auth_free(a);
	a = client(NULL, 0);
	n = request(body, 0, "", 0);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_OK);
	assert_string_equal(pg_auth_method(a), "trust");
	pg_auth_free(a);
}

/* Which mechanism, which gs2 flag. */
static void
test_sasl_choice(void **state)
{
	static const char	both[] = "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0";
	static const char	plain[] = "SCRAM-SHA-256\0";
	static const struct {
		int		 tls;
		const char	*offer;
		size_t		 len;
		const char	*mech;
		const char	*first;
	} cases[] = {
		{ 1, both, sizeof(both), "SCRAM-SHA-256-PLUS",
		  "p=tls-server-end-point,,n=,r=fixednonce" },
		{ 0, both, sizeof(both), "SCRAM-SHA-256", "n,,n=,r=fixednonce" },
		{ 1, plain, sizeof(plain), "SCRAM-SHA-256",
		  "y,,n=,r=fixednonce" },
		{ 0, plain, sizeof(plain), "SCRAM-SHA-256",
		  "n,,n=,r=fixednonce" },
	};
	struct pg_auth		*a;
	unsigned char		 body[128];
	const unsigned char	*r;
	size_t			 i, n, ml;
	uint32_t		 len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = client("pw", cases[i].tls);
		n = request(body, 10, cases[i].offer, cases[i].len);
		assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_MORE);
		assert_string_equal(pg_auth_method(a), cases[i].mech);
		r = pg_auth_reply(a, &n);
		ml = strlen(cases[i].mech) + 1;
		assert_int_equal(n, 1 + 4 + ml + 4 + strlen(cases[i].first));
		assert_int_equal(r[0], 'p');
		assert_memory_equal(r + 5, cases[i].mech, ml);
		memcpy(&len, r + 5 + ml, 4);
		assert_int_equal(ntohl(len), strlen(cases[i].first));
		assert_memory_equal(r + 9 + ml, cases[i].first,
		    strlen(cases[i].first));
		pg_auth_free(a);
	}
}

static void
test_refusals(void **state)
{
	struct pg_auth	*a;
	unsigned char	 body[64];
	size_t		 n;

	(void)state;
	/* AuthenticationOk in the middle of SCRAM. */
	a = client("pw", 0);
	n = request(body, 10, "SCRAM-SHA-256\0", 15);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_MORE);
	n = request(body, 0, "", 0);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_FAIL);
	assert_non_null(strstr(pg_auth_error(a), "without proving"));
	pg_auth_free(a);
	/* No mechanism we know; an unterminated list; GSSAPI. */
	a = client("pw", 0);
	n = request(body, 10, "OTHER\0", 7);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_FAIL);
	pg_auth_free(a);
	a = client("pw", 0);
	n = request(body, 10, "SCRAM-SHA-256", 13);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_FAIL);
	pg_auth_free(a);
	a = client("pw", 0);
	n = request(body, 7, "", 0);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_FAIL);
	assert_non_null(strstr(pg_auth_error(a), "GSSAPI"));
	/* Nothing after an end. */
	n = request(body, 0, "", 0);
	assert_int_equal(pg_auth_step(a, body, n), PG_AUTH_FAIL);
	pg_auth_free(a);
	pg_auth_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5),
		cmocka_unit_test(test_md5_hash),
		cmocka_unit_test(test_md5_refused),
		cmocka_unit_test(test_cleartext),
		cmocka_unit_test(test_need_password),
		cmocka_unit_test(test_sasl_choice),
		cmocka_unit_test(test_refusals),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
