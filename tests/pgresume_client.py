#!/usr/bin/python3
"""tests/pgresume_client.py: PostgreSQL clients for tests/integration/56-pgresume.sh.

Debian's python3-psycopg and python3-psycopg-pool: run with /usr/bin/python3.
Every outcome is one line of --out; the client stops when --stop exists.

  pool --dsn D --out F --stop S [--size 8]
      A psycopg_pool ConnectionPool of --size connections at default
      settings and as many threads, each running transactions without
      pause: SELECT %s::int (psycopg prepares it after five runs, so a
      moved session's next Bind needs its prepared statement) and
      SELECT pg_backend_pid(), current_setting('work_mem').  Each
      connection sets work_mem = '7MB' (a SET to replay) when the pool
      opens it.  "ok CLIENTPID BACKENDPID WORKMEM" or "err WHY" a line.
  cancel --dsn D --out F --stop S --go G
      One connection, a query every 50 ms until G exists; then
      SELECT pg_sleep(30) cancelled after 0.5 s from another thread
      (conn.cancel(): the client's own BackendKeyData):
      "cancelled SECONDS PID-BEFORE PID-AFTER" or "err WHY".
  state --dsn D --out F --stop S --sql SQL [--sql SQL...] [--show SQL]
      One connection that runs each SQL once, in order (a temporary
      table, an advisory lock, ...), then SELECT 1 (or --show's query)
      every 50 ms: "ok" ("ok VALUE" with --show) or "err SQLSTATE WHY".
"""

import argparse
import os
import threading
import time

import psycopg
import psycopg_pool


def line(out, lock, text):
    with lock:
        out.write(text + "\n")
        out.flush()


def pool_mode(a, out, lock):
    def configure(conn):
        conn.execute("SET work_mem = '7MB'")
        conn.commit()

    pool = psycopg_pool.ConnectionPool(a.dsn, min_size=a.size, max_size=a.size,
                                       configure=configure, open=True)
    pool.wait(30)

    def worker(n):
        i = 0
        while not os.path.exists(a.stop):
            i += 1
            try:
                with pool.connection() as conn:
                    with conn.transaction():
                        conn.execute("SELECT %s::int", [i]).fetchone()
                        pid, wm = conn.execute(
                            "SELECT pg_backend_pid(), current_setting('work_mem')"
                        ).fetchone()
                    line(out, lock, "ok %d %d %s" % (conn.info.backend_pid, pid, wm))
            except Exception as e:  # noqa: BLE001: every error counts
                line(out, lock, "err %s" % str(e).replace("\n", " "))
            time.sleep(0.005)

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(a.size)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    pool.close()


def cancel_mode(a, out, lock):
    conn = psycopg.connect(a.dsn, autocommit=True)
    before = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    line(out, lock, "started %d" % before)
    while not os.path.exists(a.go):
        if os.path.exists(a.stop):
            return
        conn.execute("SELECT 1").fetchone()
        time.sleep(0.05)
    after = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    timer = threading.Timer(0.5, conn.cancel)
    t0 = time.monotonic()
    timer.start()
    try:
        conn.execute("SELECT pg_sleep(30)")
        line(out, lock, "err not cancelled")
    except psycopg.errors.QueryCanceled:
        line(out, lock, "cancelled %.1f %d %d" % (time.monotonic() - t0, before, after))
    except Exception as e:  # noqa: BLE001
        line(out, lock, "err %s" % str(e).replace("\n", " "))
    timer.cancel()
    conn.close()


def state_mode(a, out, lock):
    conn = psycopg.connect(a.dsn, autocommit=True)
    for q in a.sql:
        conn.execute(q)
    line(out, lock, "set")
    while not os.path.exists(a.stop):
        try:
            v = conn.execute(a.show or "SELECT 1").fetchone()
            line(out, lock, "ok %s" % v[0] if a.show else "ok")
        except psycopg.Error as e:
            line(out, lock, "err %s %s" % (e.sqlstate, str(e).replace("\n", " ")))
            return
        time.sleep(0.05)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["pool", "cancel", "state"])
    p.add_argument("--dsn", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--size", type=int, default=8)
    p.add_argument("--go")
    p.add_argument("--sql", action="append")
    p.add_argument("--show")
    a = p.parse_args()
    lock = threading.Lock()
    with open(a.out, "a") as out:
        {"pool": pool_mode, "cancel": cancel_mode, "state": state_mode}[a.mode](a, out, lock)


if __name__ == "__main__":
    main()
