#!/usr/bin/python3
"""cluster_client.py HOST PORT N ALLOWED_HOST FIRST LAST: redis-py's
RedisCluster from the seed HOST:PORT with no address map: writes N keys
spread over every slot range, reads them back, and checks that every node
it learned is ALLOWED_HOST with a port in FIRST..LAST.  Prints
"ok N nodes=K" or "FAIL ..." lines; exit status 1 on any failure.
Run with /usr/bin/python3 (Debian's redis module)."""
import sys

from redis.cluster import RedisCluster


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    allowed, first, last = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    rc = RedisCluster(host=host, port=port, socket_timeout=20)
    bad = 0
    for node in rc.get_nodes():
        if node.host != allowed or not first <= node.port <= last:
            print("FAIL node %s:%s outside %s:%d-%d" %
                  (node.host, node.port, allowed, first, last))
            bad += 1
    for i in range(n):
        rc.set("ck:%d" % i, "v%d" % i)
    for i in range(n):
        v = rc.get("ck:%d" % i)
        if v != b"v%d" % i:
            print("FAIL ck:%d = %r" % (i, v))
            bad += 1
    masters = {(x.host, x.port) for x in rc.get_primaries()}
    rc.close()
    if bad:
        sys.exit(1)
    print("ok %d nodes=%d masters=%d" % (n, len(rc.get_nodes()), len(masters)))


main()
