#!/usr/bin/python3
"""tests/redis_pool_client.py: a redis-py ConnectionPool at its default
settings (no socket timeout) through postern, as an application holds one.

  redis_pool_client.py --port P --out FILE --stop FILE [--threads 4] [--ms 20]

Each of --threads threads, until FILE --stop exists: GET who, then
CLIENT ID (which connection of the server answered), every --ms.  One line
per request in --out: "MS ok WHO CLIENT_ID" or "MS err WHY".  redis-py
retries nothing here (retry_on_timeout off, no Retry): an error is one
the application would see.  Run with Debian's /usr/bin/python3 (redis-py).
Used by tests/integration/42-watch.sh and 45-dns.sh, which need CLIENT ID
(tests/pool_client.py, for 36-routedown, reports only the server's name).
"""

import argparse
import os
import threading
import time

import redis


def worker(pool, a, out, lock):
    r = redis.Redis(connection_pool=pool)
    while not os.path.exists(a.stop):
        try:
            who = r.get("who")
            cid = r.client_id()
            line = "%d ok %s %s\n" % (time.time() * 1000,
                                      (who or b"-").decode(), cid)
        except Exception as e:  # noqa: BLE001: every error is reported
            line = "%d err %s\n" % (time.time() * 1000,
                                    repr(e).replace("\n", " ")[:200])
        with lock:
            out.write(line)
            out.flush()
        time.sleep(a.ms / 1000.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--ms", type=int, default=20)
    a = p.parse_args()
    pool = redis.ConnectionPool(host="127.0.0.1", port=a.port)
    lock = threading.Lock()
    with open(a.out, "a") as out:
        ts = [threading.Thread(target=worker, args=(pool, a, out, lock))
              for _ in range(a.threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    pool.disconnect()


if __name__ == "__main__":
    main()
