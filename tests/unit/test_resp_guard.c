/*
 * test_resp_guard.c: readonly = yes for Redis (issue 24): which commands
 * pass, and the stream: refused requests dropped, their errors owed
 * until the requests before them are answered, bytes cut anywhere.
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

#include "resp_guard.h"

static void
test_table(void **state)
{
	size_t	i;

	assert_true(resp_guard_count > 100);
	for (i = 1; i < resp_guard_count; i++)
		assert_true(strcmp(resp_guard_table[i - 1],
		    resp_guard_table[i]) < 0);
	assert_int_equal(resp_guard_allowed("GET", NULL), 1);
	assert_int_equal(resp_guard_allowed("GET", "KEY"), 1);
	assert_int_equal(resp_guard_allowed("SET", NULL), 0);
	assert_int_equal(resp_guard_allowed("SET", "K"), 0);
	assert_int_equal(resp_guard_allowed("EVAL", NULL), 0);
	assert_int_equal(resp_guard_allowed("EVALSHA", NULL), 0);
	assert_int_equal(resp_guard_allowed("FCALL", NULL), 0);
	assert_int_equal(resp_guard_allowed("EVAL_RO", NULL), 1);
	assert_int_equal(resp_guard_allowed("FCALL_RO", NULL), 1);
	assert_int_equal(resp_guard_allowed("MULTI", NULL), 1);
	assert_int_equal(resp_guard_allowed("EXEC", NULL), 1);
	assert_int_equal(resp_guard_allowed("PUBLISH", NULL), 0);
	assert_int_equal(resp_guard_allowed("FLUSHALL", NULL), 0);
	assert_int_equal(resp_guard_allowed("SORT", NULL), 0);
	assert_int_equal(resp_guard_allowed("SORT_RO", NULL), 1);
	assert_int_equal(resp_guard_allowed("CLIENT", NULL), -1);
	assert_int_equal(resp_guard_allowed("CLIENT", "SETNAME"), 1);
	assert_int_equal(resp_guard_allowed("CLIENT", "KILL"), 0);
	assert_int_equal(resp_guard_allowed("CONFIG", "SET"), 0);
	assert_int_equal(resp_guard_allowed("CONFIG", NULL), -1);	/* HELP */
	assert_int_equal(resp_guard_allowed("FUNCTION", "LOAD"), 0);
	assert_int_equal(resp_guard_allowed("MODULE.CMD", NULL), 0);
	assert_int_equal(resp_guard_allowed("?", NULL), 0);
}

/* What the guard made of a client's bytes, fed in pieces of `step`. */
struct run {
	char	server[4096];	/* passed */
	char	client[4096];	/* errors */
	int	rc;
	size_t	held;
	struct evbuffer *ib;	/* held bytes stay between feeds */
};

static void
feed(struct resp_guard *g, const char *in, size_t step, const char *replies,
    struct run *out)
{
	struct evbuffer	*ib, *sb = evbuffer_new();
	struct evbuffer	*cb = evbuffer_new();
	size_t		 i, n, len = strlen(in);

	if (out->ib == NULL)
		out->ib = evbuffer_new();
	ib = out->ib;
	assert_non_null(ib);
	assert_non_null(sb);
	assert_non_null(cb);
	out->rc = 0;
	for (i = 0; i < len && out->rc == 0; i += n) {
		n = len - i < step ? len - i : step;
		evbuffer_add(ib, in + i, n);
		out->rc = resp_guard_client(g, ib, sb, cb);
	}
	if (replies != NULL && out->rc == 0) {
		resp_guard_server(g, (const uint8_t *)replies,
		    strlen(replies));
		evbuffer_add(cb, replies, 0);
		out->rc = resp_guard_client(g, ib, sb, cb);
	}
	out->held = evbuffer_get_length(ib);
	n = evbuffer_remove(sb, out->server, sizeof(out->server) - 1);
	out->server[n > 0 ? n : 0] = '\0';
	n = evbuffer_remove(cb, out->client, sizeof(out->client) - 1);
	out->client[n > 0 ? n : 0] = '\0';
	evbuffer_free(sb);
	evbuffer_free(cb);
}

#define GET	"*2\r\n$3\r\nget\r\n$1\r\na\r\n"
#define SET	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
#define GETB	"*2\r\n$3\r\nGET\r\n$1\r\nb\r\n"
#define ERR	"-NOPERM postern: readonly service r refuses SET\r\n"

/* A write among reads, cut at every byte: held until GET is answered. */
static void
test_pipelined(void **state)
{
	struct resp_guard	g;
	struct run		r = { .ib = NULL };
	size_t			step;

	for (step = 1; step <= strlen(GET SET GETB); step++) {
		resp_guard_init(&g, "r");
		feed(&g, GET SET GETB, step, NULL, &r);
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.server, GET);	/* the rest waits */
		assert_string_equal(r.client, "");
		assert_int_equal(r.held, strlen(GETB));
		assert_true(resp_guard_waiting(&g));
		/* GET's reply: then the error, then GET b goes on. */
		feed(&g, "", 1, "$1\r\nx\r\n", &r);
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.client, ERR);
		assert_string_equal(r.server, GETB);
		assert_int_equal(r.held, 0);
		assert_int_equal(g.refusals, 1);
		resp_guard_clear(&g);
		evbuffer_free(r.ib);
		r.ib = NULL;
	}
}

/* A refused request first: its error at once, nothing due before it. */
static void
test_first_refused(void **state)
{
	struct resp_guard	g;
	struct run		r = { .ib = NULL };

	resp_guard_init(&g, "r");
	feed(&g, SET GETB, 3, NULL, &r);
	assert_string_equal(r.client, ERR);
	assert_string_equal(r.server, GETB);
	resp_guard_clear(&g);
	evbuffer_free(r.ib);
}

/* Containers, scripts, inline commands and MULTI. */
static void
test_kinds(void **state)
{
	struct resp_guard	g;
	struct run		r = { .ib = NULL };

	resp_guard_init(&g, "svc");
	feed(&g, "*3\r\n$6\r\nclient\r\n$7\r\nsetname\r\n$1\r\nx\r\n", 2,
	    NULL, &r);
	assert_string_equal(r.client, "");
	feed(&g, "", 1, "+OK\r\n", &r);
	feed(&g, "*3\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$1\r\nx\r\n", 5, NULL,
	    &r);
	assert_string_equal(r.server, "");
	assert_string_equal(r.client, "-NOPERM postern: readonly service svc "
	    "refuses CLIENT|KILL\r\n");
	feed(&g, "*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n", 4,
	    NULL, &r);
	assert_string_equal(r.client, "-NOPERM postern: readonly service svc "
	    "refuses EVAL\r\n");
	feed(&g, "*3\r\n$7\r\nEVAL_RO\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n", 4,
	    NULL, &r);
	assert_string_equal(r.client, "");
	feed(&g, "", 1, ":1\r\n", &r);
	feed(&g, "set k v\r\nget k\r\n\r\n", 1, NULL, &r);
	assert_string_equal(r.client, "-NOPERM postern: readonly service svc "
	    "refuses SET\r\n");
	assert_string_equal(r.server, "get k\r\n\r\n");
	feed(&g, "", 1, "$-1\r\n", &r);
	/* MULTI, a write, a read, EXEC: the write never queued. */
	feed(&g, "*1\r\n$5\r\nMULTI\r\n" SET GETB "*1\r\n$4\r\nEXEC\r\n", 7,
	    NULL, &r);
	assert_string_equal(r.server, "*1\r\n$5\r\nMULTI\r\n");
	feed(&g, "", 1, "+OK\r\n", &r);
	assert_string_equal(r.client, "-NOPERM postern: readonly service svc "
	    "refuses SET\r\n");
	assert_string_equal(r.server, GETB "*1\r\n$4\r\nEXEC\r\n");
	/* A name too long for any table: refused without being kept. */
	feed(&g, "", 1, "+QUEUED\r\n*1\r\n$-1\r\n", &r);
	feed(&g, "*1\r\n$60\r\n"
	    "123456789012345678901234567890123456789012345678901234567890\r\n",
	    9, NULL, &r);
	assert_string_equal(r.server, "");
	assert_string_equal(r.client, "-NOPERM postern: readonly service svc "
	    "refuses ?\r\n");
	resp_guard_clear(&g);
	evbuffer_free(r.ib);
}

/* Bytes that are not requests end the session. */
static void
test_bad(void **state)
{
	struct resp_guard	g;
	struct run		r = { .ib = NULL };
	char			line[RESP_GUARD_INLINE + 10];

	resp_guard_init(&g, "r");
	feed(&g, "*1\r\n+GET\r\n", 1, NULL, &r);
	assert_int_equal(r.rc, -1);
	resp_guard_clear(&g);
	evbuffer_free(r.ib);
	r.ib = NULL;
	resp_guard_init(&g, "r");
	feed(&g, "*x\r\n", 1, NULL, &r);
	assert_int_equal(r.rc, -1);
	resp_guard_clear(&g);
	evbuffer_free(r.ib);
	r.ib = NULL;
	resp_guard_init(&g, "r");
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	feed(&g, line, 100, NULL, &r);
	assert_int_equal(r.rc, -1);
	resp_guard_clear(&g);
	evbuffer_free(r.ib);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_first_refused),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_bad),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
