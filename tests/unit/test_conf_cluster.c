/*
 * test_conf_cluster.c: the Redis Cluster keys (issue 23): cluster = yes
 * on redis services only, with cluster_ports FIRST-LAST parsed and
 * checked against listen and Sentinel routes; every error "file:line:".
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_check.h"

#define RSVC	"[service s]\nlisten = 7000\nprotocol = redis\n" \
		"route = direct tcp://127.0.0.1:6379\n"

static void
test_cluster_ok(void **state)
{
	struct conf	*c;

	(void)state;
	c = parse_ok(RSVC);
	assert_int_equal(c->services[0].cluster, 0);
	assert_int_equal(c->services[0].cluster_port_first, 0);
	conf_unref(c);
	c = parse_ok(RSVC "cluster = yes\ncluster_ports = 7001-7010\n");
	assert_int_equal(c->services[0].cluster, 1);
	assert_int_equal(c->services[0].cluster_port_first, 7001);
	assert_int_equal(c->services[0].cluster_port_last, 7010);
	conf_unref(c);
	c = parse_ok(RSVC "cluster_ports = 65535-65535\ncluster = yes\n");
	assert_int_equal(c->services[0].cluster_port_first, 65535);
	conf_unref(c);
}

static void
test_cluster_errors(void **state)
{
	(void)state;
	EXPECT_ERRORS(RSVC "cluster = yes\n", 0,
	    "t.conf:5: cluster = yes needs cluster_ports = FIRST-LAST");
	EXPECT_ERRORS(RSVC "cluster_ports = 7001-7002\n", 0,
	    "t.conf:5: cluster_ports needs cluster = yes");
	EXPECT_ERRORS(SVC "cluster = yes\ncluster_ports = 7001-7002\n", 0,
	    "t.conf:4: cluster = yes is for protocol = redis services");
	EXPECT_ERRORS(RSVC "cluster = yes\ncluster_ports = 7010-7001\n", 0,
	    "t.conf:6: cluster_ports: want FIRST-LAST, two ports 1-65535 "
	    "with FIRST <= LAST, not '7010-7001'");
	EXPECT_ERRORS(RSVC "cluster = yes\ncluster_ports = 7001\n", 0,
	    "t.conf:6: cluster_ports: want FIRST-LAST, two ports 1-65535 "
	    "with FIRST <= LAST, not '7001'");
	EXPECT_ERRORS(RSVC "cluster = yes\ncluster_ports = 0-7\n", 0,
	    "t.conf:6: cluster_ports: want FIRST-LAST, two ports 1-65535 "
	    "with FIRST <= LAST, not '0-7'");
	EXPECT_ERRORS(RSVC "cluster = yes\ncluster_ports = 7001-65536\n", 0,
	    "t.conf:6: cluster_ports: want FIRST-LAST, two ports 1-65535 "
	    "with FIRST <= LAST, not '7001-65536'");
	EXPECT_ERRORS(RSVC "cluster = yes\ncluster_ports = 7001-+9\n", 0,
	    "t.conf:6: cluster_ports: want FIRST-LAST, two ports 1-65535 "
	    "with FIRST <= LAST, not '7001-+9'");
	EXPECT_ERRORS(RSVC "cluster = yes\ncluster_ports = 6990-7005\n", 0,
	    "t.conf:6: cluster_ports 6990-7005 holds the listen port 7000 "
	    "(the seed's)");
	EXPECT_ERRORS(RSVC "cluster = maybe\ncluster_ports = 7001-7002\n", 0,
	    "t.conf:5: cluster: 'maybe' is not one of: no, yes",
	    "t.conf:6: cluster_ports needs cluster = yes");
}

/*
 * Node listeners bind the seed's listen host on cluster_ports: another
 * service's range, a listener or the admin endpoint there is an error
 * at the later cluster_ports line; other hosts are fine.
 */
static void
test_cluster_overlap(void **state)
{
	struct conf	*c;

	(void)state;
	EXPECT_ERRORS(RSVC "cluster = yes\ncluster_ports = 7001-7010\n\n"
	    "[service t]\nlisten = 7100\nprotocol = redis\n"
	    "route = direct tcp://127.0.0.1:6380\ncluster = yes\n"
	    "cluster_ports = 7010-7020\n", 0,
	    "t.conf:13: cluster_ports 7010-7020 overlaps cluster_ports "
	    "7001-7010 of service s (line 6)");
	EXPECT_ERRORS(RSVC "cluster = yes\ncluster_ports = 7001-7010\n\n"
	    "[service t]\nlisten = 127.0.0.1:7005\nprotocol = redis\n"
	    "route = direct tcp://127.0.0.1:6380\n", 0,
	    "t.conf:6: cluster_ports 7001-7010 holds listen 127.0.0.1:7005 "
	    "of service t (line 9)");
	EXPECT_ERRORS("[postern]\nadmin = 127.0.0.1:7003\n\n"
	    RSVC "cluster = yes\ncluster_ports = 7001-7010\n", 0,
	    "t.conf:9: cluster_ports 7001-7010 holds the admin address "
	    "127.0.0.1:7003");
	/* Two loopback addresses: each binds its own ports. */
	c = parse_ok("[service s]\nlisten = 127.0.0.1:7000\nprotocol = redis\n"
	    "route = direct tcp://127.0.0.1:6379\ncluster = yes\n"
	    "cluster_ports = 7001-7010\n\n"
	    "[service t]\nlisten = 127.0.0.2:7000\nprotocol = redis\n"
	    "route = direct tcp://127.0.0.1:6380\ncluster = yes\n"
	    "cluster_ports = 7001-7010\n\n"
	    "[service u]\nlisten = 127.0.0.3:7005\nprotocol = tcp\n"
	    "route = direct tcp://127.0.0.1:6381\n");
	conf_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_ok),
		cmocka_unit_test(test_cluster_overlap),
		cmocka_unit_test(test_cluster_errors),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
