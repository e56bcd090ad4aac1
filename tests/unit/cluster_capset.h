/*
 * cluster_capset.h: one server's captured cluster replies, as
 * tests/unit/cluster-capture.py writes them (cluster_caps_NAME.h).  The
 * suffix 2 is RESP2, 3 RESP3 (after HELLO 3); h with
 * cluster-preferred-endpoint-type hostname, u with unknown-endpoint.
 * Nodes are 127.0.0.1:31001-31006; replica is the port of 31001's
 * replica (the role and infor replies are that node's).
 */
#ifndef POSTERN_CLUSTER_CAPSET_H
#define POSTERN_CLUSTER_CAPSET_H

struct cluster_capset {
	const char	*name;
	long		 replica;
	const char	*moved2, *moved3, *ask2, *ask3;
	const char	*slots2, *slots3, *shards2, *shards3;
	const char	*nodes2, *nodes3, *replicas2, *replicas3;
	const char	*slaves2, *slaves3;
	const char	*rolem2, *rolem3, *roler2, *roler3;
	const char	*infom2, *infom3, *infor2, *infor3;
	const char	*hmoved2, *hmoved3, *hslots2, *hslots3;
	const char	*hshards2, *hshards3;
	const char	*umoved2, *umoved3, *uslots2, *uslots3;
};

#endif
