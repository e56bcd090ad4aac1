#!/usr/bin/python3
"""tests/pool_client.py: a real client pool under steady traffic, for
tests/integration/36-routedown.sh (issue 20).  Run with /usr/bin/python3:
it needs Debian's python3-redis / python3-psycopg-pool.

  pool_client.py redis --port P --out F --stop S [--threads 8] [--ms 5]
      redis.ConnectionPool at its default settings (no socket timeout):
      each thread, every --ms, GET who (a read: the server's name).
  pool_client.py pg --port P --out F --stop S [--threads 8] [--ms 5]
                 [--size N] [--dsn DSN]
      psycopg_pool.ConnectionPool (min_size = max_size = --size, default
      --threads; default settings): each thread, every --ms, SELECT
      inet_server_port().  --dsn: another login than user=postgres
      dbname=postgres (host and port are added).  --pause P: while P
      exists, each thread runs nothing (it holds no connection) and
      writes "paused" once.

One line per operation in --out: "START_MS END_MS ok SERVER" or
"START_MS END_MS err KIND:TEXT" (KIND: conn for a connection error,
other for anything else), times in ms of CLOCK_MONOTONIC.  Stops when
--stop exists; "done" is the last line.
"""

import argparse
import os
import sys
import threading
import time


def now_ms():
    return int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1000)


def redis_worker(pool, out, lock, args):
    import redis
    r = redis.Redis(connection_pool=pool)
    while not os.path.exists(args.stop):
        t0 = now_ms()
        try:
            who = r.get("who")
            line = "%d %d ok %s" % (t0, now_ms(), who.decode() if who else "-")
        except redis.exceptions.ConnectionError as e:
            line = "%d %d err conn:%s" % (t0, now_ms(), str(e)[:80])
        except Exception as e:  # noqa: BLE001: every error is counted
            line = "%d %d err other:%s:%s" % (t0, now_ms(),
                                              type(e).__name__, str(e)[:80])
        with lock:
            out.write(line.replace("\n", " ") + "\n")
            out.flush()
        time.sleep(args.ms / 1000.0)


def pg_worker(pool, out, lock, args):
    import psycopg
    while not os.path.exists(args.stop):
        if args.pause and os.path.exists(args.pause):
            with lock:
                out.write("paused\n")
                out.flush()
            while os.path.exists(args.pause) and not os.path.exists(args.stop):
                time.sleep(0.01)
            continue
        t0 = now_ms()
        try:
            with pool.connection() as c:
                port = c.execute("SELECT inet_server_port()").fetchone()[0]
            line = "%d %d ok %s" % (t0, now_ms(), port)
        except psycopg.OperationalError as e:
            line = "%d %d err conn:%s" % (t0, now_ms(), str(e)[:80])
        except Exception as e:  # noqa: BLE001
            line = "%d %d err other:%s:%s" % (t0, now_ms(),
                                              type(e).__name__, str(e)[:80])
        with lock:
            out.write(line.replace("\n", " ") + "\n")
            out.flush()
        time.sleep(args.ms / 1000.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("proto", choices=("redis", "pg"))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stop", required=True)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--ms", type=float, default=5)
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--dsn", default="user=postgres dbname=postgres")
    ap.add_argument("--pause")
    args = ap.parse_args()
    out = open(args.out, "a")
    lock = threading.Lock()
    if args.proto == "redis":
        import redis
        pool = redis.ConnectionPool(host="127.0.0.1", port=args.port,
                                    max_connections=args.threads)
        work = redis_worker
    else:
        from psycopg_pool import ConnectionPool
        size = args.size or args.threads
        pool = ConnectionPool("host=127.0.0.1 port=%d %s" % (args.port,
                                                             args.dsn),
                              min_size=size, max_size=size)
        pool.wait(timeout=30)
        work = pg_worker
    threads = [threading.Thread(target=work, args=(pool, out, lock, args))
               for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if args.proto == "pg":
        pool.close()
    else:
        pool.disconnect()
    with lock:
        out.write("done\n")
    out.close()


if __name__ == "__main__":
    sys.exit(main())
