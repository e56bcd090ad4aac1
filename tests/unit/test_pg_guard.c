/*
 * test_pg_guard.c: readonly = yes for PostgreSQL (issue 24): the SQL
 * check (what turns read-only off, what only looks like it), the startup
 * packet's parameter, and Query/Parse rewritten in place.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "pg_guard.h"

static int
refused(const char *sql, char *what, size_t len)
{
	return (pg_guard_sql(sql, strlen(sql), what, len));
}

static void
test_sql_refused(void **state)
{
	static const char *const bad[] = {
		"SET default_transaction_read_only = off",
		"set default_transaction_read_only to 'off'",
		"SET SESSION default_transaction_read_only=0",
		"SET LOCAL transaction_read_only = off",
		"SET \"default_transaction_read_only\" = off",
		"  /* c */ SET -- x\n default_transaction_read_only = on",
		"SET transaction_read_only TO DEFAULT",
		"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
		"set session characteristics as transaction isolation level "
		    "serializable, read write",
		"SET TRANSACTION READ WRITE",
		"BEGIN READ WRITE",
		"begin isolation level read committed read write",
		"START TRANSACTION READ WRITE",
		"SELECT 1; SET default_transaction_read_only = off",
		"SELECT set_config('default_transaction_read_only', 'off', false)",
		"select SET_CONFIG('transaction_read_only','off',true)",
		"DO $x$BEGIN EXECUTE 'SET default_transaction_read_only=off'; "
		    "END$x$",
		"DO $$ begin perform set_config('transaction_read_only', 'off', "
		    "true); end $$",
	};
	char	what[96];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		what[0] = '\0';
		if (!refused(bad[i], what, sizeof(what)))
			fail_msg("not refused: %s", bad[i]);
		assert_true(what[0] != '\0');
	}
	refused("SET default_transaction_read_only = off", what,
	    sizeof(what));
	assert_string_equal(what, "SET default_transaction_read_only");
	refused("BEGIN READ WRITE", what, sizeof(what));
	assert_string_equal(what, "BEGIN READ WRITE");
}

static void
test_sql_passes(void **state)
{
	static const char *const good[] = {
		"SELECT 1",
		"SHOW transaction_read_only",
		"SHOW default_transaction_read_only",
		"SELECT current_setting('transaction_read_only')",
		"SELECT 'SET default_transaction_read_only = off'",
		"-- SET default_transaction_read_only = off\nSELECT 1",
		"/* SET default_transaction_read_only = off /* nested */ */ "
		    "SELECT 1",
		"BEGIN",
		"BEGIN READ ONLY",
		"START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
		"SET search_path = public",
		"SET SESSION AUTHORIZATION DEFAULT",
		"SELECT read, write FROM t",
		"SELECT $1::text",
		"RESET default_transaction_read_only",
		"INSERT INTO t VALUES (1)",	/* the server refuses it */
		"",
		"SELECT 'unterminated",
		"SELECT $q$ unterminated",
	};
	char	what[96];
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (refused(good[i], what, sizeof(what)))
			fail_msg("refused (%s): %s", what, good[i]);
}

/* A startup packet from its pairs ("user\0u\0..."). */
static size_t
startup(uint8_t *buf, const char *pairs, size_t plen)
{
	uint32_t	n = htonl((uint32_t)(8 + plen + 1)), v = htonl(196608);

	memcpy(buf, &n, 4);
	memcpy(buf + 4, &v, 4);
	memcpy(buf + 8, pairs, plen);
	buf[8 + plen] = '\0';
	return (8 + plen + 1);
}

static void
test_startup(void **state)
{
	static const char pairs[] = "user\0u\0default_transaction_read_only\0"
	    "off\0database\0d\0";
	static const char want[] = "user\0u\0database\0d\0"
	    "default_transaction_read_only\0on\0";
	uint8_t		 buf[256], *p;
	struct evbuffer	*out = evbuffer_new();
	size_t		 n, len;
	uint32_t	 l;

	n = startup(buf, pairs, sizeof(pairs) - 1);
	assert_int_equal(pg_guard_startup(buf, n, out), 0);
	len = evbuffer_get_length(out);
	assert_int_equal(len, 8 + sizeof(want) - 1 + 1);
	p = evbuffer_pullup(out, -1);
	memcpy(&l, p, 4);
	assert_int_equal(ntohl(l), len);
	assert_memory_equal(p + 8, want, sizeof(want) - 1);
	assert_int_equal(p[len - 1], 0);
	/* Malformed: a key without its value; not protocol 3. */
	evbuffer_drain(out, len);
	n = startup(buf, "user\0u\0database", 15);
	assert_int_equal(pg_guard_startup(buf, n, out), -1);
	n = startup(buf, "user\0u\0", 7);
	buf[5] = 2;
	assert_int_equal(pg_guard_startup(buf, n, out), -1);
	evbuffer_free(out);
}

/* A message: type, length, body. */
static void
msg(struct evbuffer *b, char type, const void *body, size_t len)
{
	uint32_t	n = htonl((uint32_t)len + 4);

	evbuffer_add(b, &type, 1);
	evbuffer_add(b, &n, 4);
	evbuffer_add(b, body, len);
}

static void
test_filter(void **state)
{
	struct pg_guard	 g;
	struct evbuffer	*in = evbuffer_new(), *srv = evbuffer_new();
	struct evbuffer	*cli = evbuffer_new(), *want = evbuffer_new();
	static const char q1[] = "SELECT 1";
	static const char q2[] = "SET default_transaction_read_only = off";
	static const char p2[] = "st\0BEGIN READ WRITE\0\0\1\0\0\0\x19";
	static const char raise1[] = "DO $postern$BEGIN RAISE EXCEPTION "
	    "USING ERRCODE = '25006', MESSAGE = 'postern: readonly service "
	    "pg refuses SET default_transaction_read_only'; END$postern$";
	static const char raise2[] = "st\0DO $postern$BEGIN RAISE EXCEPTION "
	    "USING ERRCODE = '25006', MESSAGE = 'postern: readonly service "
	    "pg refuses BEGIN READ WRITE'; END$postern$\0\0\1\0\0\0\x19";
	uint8_t		*all;
	size_t		 i, n;

	assert_int_equal(pg_guard_init(&g, "pg"), 0);
	msg(in, 'Q', q1, sizeof(q1));
	msg(in, 'Q', q2, sizeof(q2));
	msg(in, 'P', p2, sizeof(p2) - 1);
	msg(in, 'S', "", 0);
	msg(want, 'Q', q1, sizeof(q1));
	msg(want, 'Q', raise1, sizeof(raise1));
	msg(want, 'P', raise2, sizeof(raise2) - 1);
	msg(want, 'S', "", 0);
	/* Fed a byte at a time. */
	n = evbuffer_get_length(in);
	all = evbuffer_pullup(in, -1);
	{
		struct evbuffer	*one = evbuffer_new();

		for (i = 0; i < n; i++) {
			evbuffer_add(one, all + i, 1);
			assert_int_equal(pg_guard_client(&g, one, srv, cli), 0);
		}
		evbuffer_free(one);
	}
	assert_int_equal(evbuffer_get_length(cli), 0);
	assert_int_equal(evbuffer_get_length(srv), evbuffer_get_length(want));
	assert_memory_equal(evbuffer_pullup(srv, -1),
	    evbuffer_pullup(want, -1), evbuffer_get_length(want));
	assert_int_equal(g.refusals, 2);
	pg_guard_clear(&g);
	evbuffer_free(in);
	evbuffer_free(srv);
	evbuffer_free(cli);
	evbuffer_free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_refused),
		cmocka_unit_test(test_sql_passes),
		cmocka_unit_test(test_startup),
		cmocka_unit_test(test_filter),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
