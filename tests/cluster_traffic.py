#!/usr/bin/python3
"""cluster_traffic.py HOST PORT STOPFILE: redis-py RedisCluster traffic
through postern until STOPFILE exists: SET key i to a value naming i and
the round, GET it back, over keys spread across all slots.  Prints one
line "ops=N wrong=W errors=E asks_or_moves_ok" and, for each error, its
type and message (the test explains what the client saw).  Exit 1 when a
value read back is wrong (an error is counted, never silent)."""
import os
import sys
import time

from redis.cluster import RedisCluster


def main():
    host, port, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rc = RedisCluster(host=host, port=port, socket_timeout=20)
    ops = wrong = errors = 0
    seen = {}
    rnd = 0
    while not os.path.exists(stop):
        rnd += 1
        for i in range(200):
            key = "tr:%d" % i
            val = "%d:%d" % (i, rnd)
            try:
                rc.set(key, val)
                got = rc.get(key)
                ops += 2
                if got != val.encode():
                    wrong += 1
                    print("WRONG %s = %r, want %s" % (key, got, val))
            except Exception as e:  # counted and shown, never hidden
                errors += 1
                k = "%s: %s" % (type(e).__name__, e)
                seen[k] = seen.get(k, 0) + 1
        time.sleep(0.01)
    for k, n in seen.items():
        print("ERROR x%d %s" % (n, k))
    print("ops=%d wrong=%d errors=%d" % (ops, wrong, errors))
    rc.close()
    sys.exit(1 if wrong else 0)


main()
