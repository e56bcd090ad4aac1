#!/usr/bin/python3
"""tests/sentinel_writer.py PORT OUT STOP: writes through postern with a
redis-py ConnectionPool at its default settings (no read timeout), until
the file STOP exists (at most 120 s), from 4 threads.

Each write is "RPUSH writes ID" followed by "WAIT 1 2000": a write counts
as acknowledged when the master answered both and WAIT says a replica
has it (what a client that cares about a failover asks for; a write that
only the old master saw after the replica was promoted is not
acknowledged).  One line per acknowledged ID goes to OUT; then the
summary line "acked N errors M" and the errors' kinds.
"""
import collections
import os
import sys
import threading
import time

import redis


def main(port, out, stop):
    # REDISCLI_AUTH: the servers' password in the AUTH cases.
    pool = redis.ConnectionPool(host="127.0.0.1", port=int(port),
                                password=os.environ.get("REDISCLI_AUTH"))
    acked = []
    errors = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + 120

    def writer(tid):
        r = redis.Redis(connection_pool=pool)
        n = 0
        while not os.path.exists(stop) and time.monotonic() < deadline:
            wid = "%d-%d" % (tid, n)
            n += 1
            try:
                r.rpush("writes", wid)
                if r.execute_command("WAIT", 1, 2000) >= 1:
                    with lock:
                        acked.append(wid)
            except redis.RedisError as e:
                with lock:
                    errors[type(e).__name__ + ": " + str(e)[:60]] += 1
                time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        for wid in acked:
            f.write(wid + "\n")
        f.write("acked %d errors %d\n" % (len(acked), sum(errors.values())))
        for k, v in errors.items():
            f.write("error %d %s\n" % (v, k))


if __name__ == "__main__":
    main(*sys.argv[1:4])
