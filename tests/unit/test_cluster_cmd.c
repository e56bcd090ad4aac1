/*
 * test_cluster_cmd.c: which commands get replies that carry cluster
 * addresses (proxy/cluster_cmd.c): RESP arrays and inline commands, any
 * case, pipelined, split at every byte; the queue pops in order and
 * answers REDIRECT when empty.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_cmd.h"

static const char stream[] =
	"*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n"
	"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n"
	"*2\r\n$7\r\ncluster\r\n$6\r\nshards\r\n"
	"*3\r\n$7\r\nCLUSTER\r\n$8\r\nREPLICAS\r\n$40\r\n"
	"0123456789012345678901234567890123456789\r\n"
	"CLUSTER NODES\r\n"
	"\r\n"				/* an empty inline line: no command */
	"*2\r\n$7\r\nCLUSTER\r\n$4\r\nINFO\r\n"
	"cluster   slaves abc\n"
	"*3\r\n$3\r\nSET\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n"
	"*1\r\n$7\r\nCLUSTER\r\n"
	"*2\r\n$7\r\nCLUSTER\r\n$0\r\n\r\n"
	"*2\r\n$9\r\nCLUSTERXX\r\n$5\r\nSLOTS\r\n"
	"role\r\n"
	"*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n";

static const enum cluster_rw_kind want[] = {
	CLUSTER_RW_SLOTS, CLUSTER_RW_REDIRECT, CLUSTER_RW_SHARDS,
	CLUSTER_RW_NODES, CLUSTER_RW_NODES, CLUSTER_RW_REDIRECT,
	CLUSTER_RW_NODES, CLUSTER_RW_REDIRECT, CLUSTER_RW_REDIRECT,
	CLUSTER_RW_REDIRECT, CLUSTER_RW_REDIRECT, CLUSTER_RW_ROLE,
	CLUSTER_RW_INFO
};

static void
check_pops(struct cluster_cmd *c)
{
	size_t	i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(cluster_cmd_pop(c), want[i]);
	assert_int_equal(c->len, 0);
	assert_int_equal(cluster_cmd_pop(c), CLUSTER_RW_REDIRECT);
}

static void
test_kinds_every_split(void **state)
{
	struct cluster_cmd	c;
	size_t			n = strlen(stream), cut;

	(void)state;
	for (cut = 0; cut <= n; cut++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(cluster_cmd_feed(&c, stream, cut), 0);
		assert_int_equal(cluster_cmd_feed(&c, stream + cut, n - cut), 0);
		check_pops(&c);
		cluster_cmd_clear(&c);
	}
	memset(&c, 0, sizeof(c));
	for (cut = 0; cut < n; cut++)
		assert_int_equal(cluster_cmd_feed(&c, stream + cut, 1), 0);
	check_pops(&c);
	cluster_cmd_clear(&c);
}

/* A deep pipeline of plain commands is one run; order is kept. */
static void
test_runs(void **state)
{
	struct cluster_cmd	c;
	int			i;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 10000; i++)
		assert_int_equal(cluster_cmd_feed(&c, "PING\r\n", 6), 0);
	assert_int_equal(cluster_cmd_feed(&c, "CLUSTER SLOTS\r\n", 15), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(cluster_cmd_feed(&c, "CLUSTER NODES\r\n", 15),
		    0);
		assert_int_equal(cluster_cmd_feed(&c, "GET a\r\n", 7), 0);
	}
	assert_true(c.len == 12);
	for (i = 0; i < 10000; i++)
		assert_int_equal(cluster_cmd_pop(&c), CLUSTER_RW_REDIRECT);
	assert_int_equal(cluster_cmd_pop(&c), CLUSTER_RW_SLOTS);
	for (i = 0; i < 5; i++) {
		assert_int_equal(cluster_cmd_pop(&c), CLUSTER_RW_NODES);
		assert_int_equal(cluster_cmd_pop(&c), CLUSTER_RW_REDIRECT);
	}
	assert_int_equal(cluster_cmd_pop(&c), CLUSTER_RW_REDIRECT);
	cluster_cmd_clear(&c);
}

/*
 * MULTI: queued commands answer +QUEUED (REDIRECT); an EXEC whose
 * transaction queued an address-carrying command pops EXEC with the
 * kinds in order, any other EXEC (or DISCARD) pops REDIRECT.
 */
static const char txstream[] =
	"*1\r\n$5\r\nmulti\r\n"
	"*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n"
	"*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
	"ROLE\r\n"
	"*1\r\n$4\r\nEXEC\r\n"
	"MULTI\r\n"
	"*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
	"EXEC\r\n"
	"MULTI\r\n"
	"CLUSTER NODES\r\n"
	"DISCARD\r\n"
	"EXEC\r\n"
	"CLUSTER SHARDS\r\n";

static void
check_tx(struct cluster_cmd *c)
{
	static const enum cluster_rw_kind w[] = {
		CLUSTER_RW_REDIRECT, CLUSTER_RW_REDIRECT, CLUSTER_RW_REDIRECT,
		CLUSTER_RW_REDIRECT, CLUSTER_RW_EXEC, CLUSTER_RW_REDIRECT,
		CLUSTER_RW_REDIRECT, CLUSTER_RW_REDIRECT, CLUSTER_RW_REDIRECT,
		CLUSTER_RW_REDIRECT, CLUSTER_RW_REDIRECT, CLUSTER_RW_REDIRECT,
		CLUSTER_RW_SHARDS
	};
	struct cluster_rw_tx	*tx;
	size_t			 i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		assert_int_equal(cluster_cmd_pop_tx(c, &tx), w[i]);
		if (w[i] != CLUSTER_RW_EXEC) {
			assert_null(tx);
			continue;
		}
		assert_non_null(tx);
		assert_int_equal(tx->n, 3);
		assert_int_equal(tx->kinds[0], CLUSTER_RW_SLOTS);
		assert_int_equal(tx->kinds[1], CLUSTER_RW_REDIRECT);
		assert_int_equal(tx->kinds[2], CLUSTER_RW_ROLE);
		cluster_rw_tx_free(tx);
	}
	assert_int_equal(c->len, 0);
}

static void
test_multi_every_split(void **state)
{
	struct cluster_cmd	c;
	size_t			n = strlen(txstream), cut, i;

	(void)state;
	for (cut = 0; cut <= n + 1; cut++) {
		memset(&c, 0, sizeof(c));
		if (cut == n + 1) {
			for (i = 0; i < n; i++)
				assert_int_equal(cluster_cmd_feed(&c,
				    txstream + i, 1), 0);
		} else {
			assert_int_equal(cluster_cmd_feed(&c, txstream, cut), 0);
			assert_int_equal(cluster_cmd_feed(&c, txstream + cut,
			    n - cut), 0);
		}
		check_tx(&c);
		cluster_cmd_clear(&c);
	}
	/* an EXEC not yet answered is freed with the queue */
	memset(&c, 0, sizeof(c));
	assert_int_equal(cluster_cmd_feed(&c, txstream, n), 0);
	cluster_cmd_clear(&c);
}

/*
 * The server, not the client, says whether a transaction runs: each
 * reply's first byte (the test's script) decides.  A refused MULTI
 * starts none (CLUSTER SLOTS then answers as itself, and must be
 * rewritten); a refused command inside one is not queued; RESET ends
 * one; a nested MULTI is refused and the transaction goes on; EXEC's
 * -EXECABORT carries no array.
 */
static const char refstream[] =
	"MULTI x\r\n"			/* - wrong number of arguments */
	"CLUSTER SLOTS\r\n"		/* * its own reply */
	"EXEC\r\n"			/* - EXEC without MULTI */
	"MULTI\r\n"			/* + */
	"SET foo 1\r\n"			/* - MOVED (not queued) */
	"CLUSTER NODES\r\n"		/* + QUEUED */
	"EXEC\r\n"			/* - EXECABORT */
	"MULTI\r\n"			/* + */
	"CLUSTER SLOTS\r\n"		/* + QUEUED */
	"RESET\r\n"			/* + RESET: no transaction */
	"CLUSTER SHARDS\r\n"		/* * its own reply */
	"MULTI\r\n"			/* + */
	"MULTI\r\n"			/* - nested */
	"ROLE\r\n"			/* - CROSSSLOT-like refusal */
	"CLUSTER NODES\r\n"		/* + QUEUED */
	"EXEC\r\n"			/* * one element: NODES */
	"*1\r\n$4\r\nINFO\r\n";		/* $ its own */

static void
test_multi_refused(void **state)
{
	static const struct {
		char			first;
		enum cluster_rw_kind	kind;
	} w[] = {
		{ '-', CLUSTER_RW_REDIRECT }, { '*', CLUSTER_RW_SLOTS },
		{ '-', CLUSTER_RW_REDIRECT }, { '+', CLUSTER_RW_REDIRECT },
		{ '-', CLUSTER_RW_REDIRECT }, { '+', CLUSTER_RW_REDIRECT },
		{ '-', CLUSTER_RW_REDIRECT }, { '+', CLUSTER_RW_REDIRECT },
		{ '+', CLUSTER_RW_REDIRECT }, { '+', CLUSTER_RW_REDIRECT },
		{ '*', CLUSTER_RW_SHARDS }, { '+', CLUSTER_RW_REDIRECT },
		{ '-', CLUSTER_RW_REDIRECT }, { '-', CLUSTER_RW_REDIRECT },
		{ '+', CLUSTER_RW_REDIRECT }, { '*', CLUSTER_RW_EXEC },
		{ '$', CLUSTER_RW_INFO }
	};
	struct cluster_cmd	 c;
	struct cluster_rw_tx	*tx;
	size_t			 i;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(cluster_cmd_feed(&c, refstream, strlen(refstream)),
	    0);
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		print_message("reply %zu\n", i);
		assert_int_equal(cluster_cmd_pop_reply(&c, w[i].first, &tx),
		    w[i].kind);
		if (w[i].kind != CLUSTER_RW_EXEC) {
			assert_null(tx);
			continue;
		}
		assert_non_null(tx);
		assert_int_equal(tx->n, 1);
		assert_int_equal(tx->kinds[0], CLUSTER_RW_NODES);
		cluster_rw_tx_free(tx);
	}
	assert_int_equal(c.len, 0);
	assert_int_equal(c.srv_multi, 0);
	cluster_cmd_clear(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds_every_split),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_multi_every_split),
		cmocka_unit_test(test_multi_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
