#!/usr/bin/python3
"""tests/bench/pool_client.py: an application on a real client pool.

Run it with Debian's /usr/bin/python3: it needs python3-redis and
python3-psycopg-pool, which a pyenv python3 on PATH does not have.

  pool_client.py run --proto redis|pg --port P [--host H] --out LOG
                 --stop FILE [--threads 8] [--ms 5] [--max-seconds 300]
                 [--private ID --backup ID]
      THREADS workers share one pool at the library's default settings
      (no socket or read timeout, no retry of their own):
        redis  redis.Redis(connection_pool=redis.ConnectionPool(...)),
               80 % GET r:N (N < 100; the bench stores each server's name
               there, so a GET says which server answered) and 20 %
               SET w:THREAD SEQ;
        pg     psycopg_pool.ConnectionPool(min_size=THREADS), each op a
               short transaction "SELECT inet_server_port()" (the port
               says which server answered).
      Each worker does an op, sleeps --ms (+-50 %), and again, until
      --stop exists or --max-seconds pass.  One line per op in LOG:
        START_MS END_MS THREAD CONN OP SERVED STATUS
      CONN: the local port of the pooled TCP connection (the client side
      of the session postern logs), "-" when none was handed out; SERVED:
      private, backup, the raw answer, or "-" (a SET, an error); STATUS:
      ok or err:CLASS.  At the end, a JSON summary on stdout:
        {"proto", "ops", "errors", "error_kinds": {CLASS: n},
         "max_wait_ms", "unfinished", "served": {SERVED: n},
         "connections": {CONN: {"ops", "errors", "served": {SERVED: n},
                                "last": SERVED}}}
      "unfinished": ops still waiting when the client gave up on them
      (2 s after --stop, or at --max-seconds); they count in max_wait_ms
      up to that moment.  Exit status 0 (figures, not a verdict).

  pool_client.py analyze --log LOG --fault-ms T0 --undo-ms T1
                 [--end-ms T2] [--check-return]
      From an op log and the fault's start and end (ms since the epoch),
      JSON with the figures of tests/bench/pools.sh (see there): errors,
      max_wait_ms, backup_ms (T0 until every pooled connection in use
      was served by backup, or had died), return_ms (T1 until every
      connection in use after T1 was served by private again).  With
      --check-return it prints nothing and exits 0 once every connection
      used in the last second is on private (1 otherwise).

  pool_client.py load --proto redis --host H --port P --name NAME
      SET r:0..r:99 to NAME (the server's name for the GETs above).

  pool_client.py selftest
      The analysis on made-up op logs with known figures; exit 1 on a
      mismatch.  pools.sh runs it first.
"""

import argparse
import json
import os
import random
import socket
import sys
import threading
import time


def now_ms():
    return int(time.time() * 1000)


def err_class(e):
    """A short name for what the application saw."""
    name = type(e).__name__
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    for key in ("LOADING", "not accepting connections", "starting up",
                "no healthy route", "terminating connection",
                "server closed the connection", "Connection reset",
                "Connection refused", "Connection closed", "EOF",
                "timeout", "timed out", "consuming input failed"):
        if key.lower() in text.lower():
            return "%s(%s)" % (name, key.replace(" ", "_"))
    return name


class Recorder:
    def __init__(self, path):
        self.f = open(path, "w", buffering=1)
        self.lock = threading.Lock()
        self.inflight = {}      # thread -> start_ms
        self.ops = 0
        self.errors = 0
        self.kinds = {}
        self.max_wait = 0
        self.served = {}
        self.conns = {}

    def begin(self, th):
        t = now_ms()
        with self.lock:
            self.inflight[th] = t
        return t

    def end(self, th, t0, conn, op, served, status):
        t1 = now_ms()
        with self.lock:
            self.inflight.pop(th, None)
            self.f.write("%d %d %d %s %s %s %s\n" % (t0, t1, th, conn, op, served, status))
            self.ops += 1
            self.max_wait = max(self.max_wait, t1 - t0)
            self.served[served] = self.served.get(served, 0) + 1
            c = self.conns.setdefault(str(conn), {"ops": 0, "errors": 0, "served": {}, "last": "-"})
            c["ops"] += 1
            c["served"][served] = c["served"].get(served, 0) + 1
            if served != "-":
                c["last"] = served
            if status != "ok":
                self.errors += 1
                c["errors"] += 1
                k = status[4:]
                self.kinds[k] = self.kinds.get(k, 0) + 1

    def summary(self, proto):
        t = now_ms()
        with self.lock:
            waiting = list(self.inflight.values())
            mw = max([self.max_wait] + [t - s for s in waiting])
            return {"proto": proto, "ops": self.ops, "errors": self.errors,
                    "error_kinds": self.kinds, "max_wait_ms": mw,
                    "unfinished": len(waiting), "served": self.served,
                    "connections": self.conns}


def name_of(value, a):
    if value == a.private:
        return "private"
    if value == a.backup:
        return "backup"
    return str(value).replace(" ", "_") or "-"


# ------------------------------------------------------------------ redis

def redis_setup(a):
    import redis

    local = threading.local()

    class Pool(redis.ConnectionPool):
        """Records which TCP connection the pool hands out; nothing else
        changes."""

        def get_connection(self, *args, **kw):
            local.port = "-"
            c = super().get_connection(*args, **kw)
            try:
                local.port = c._sock.getsockname()[1]
            except Exception:
                pass
            return c

    pool = Pool(host=a.host, port=a.port)
    client = redis.Redis(connection_pool=pool)
    a.private = a.private or "private"
    a.backup = a.backup or "backup"

    def op(th, seq, rnd):
        local.port = "-"
        try:
            if rnd.random() < 0.8:
                v = client.get("r:%d" % rnd.randrange(100))
                served = name_of(v.decode() if v is not None else "nil", a)
                return "get", served, local.port
            client.set("w:%d" % th, seq)
            return "set", "-", local.port
        except Exception as e:
            e.bench_port = local.port   # the connection the error came on
            raise

    return op, pool.disconnect


# --------------------------------------------------------------------- pg

def pg_setup(a):
    import psycopg_pool

    pool = psycopg_pool.ConnectionPool(
        "host=%s port=%d user=postgres dbname=postgres" % (a.host, a.port),
        min_size=a.threads, open=True)
    pool.wait(timeout=30)

    def op(th, seq, rnd):
        port = "-"
        with pool.connection() as conn:
            try:
                s = socket.socket(fileno=os.dup(conn.fileno()))
                port = s.getsockname()[1]
                s.close()
            except Exception:
                pass
            try:
                v = conn.execute("SELECT inet_server_port()").fetchone()[0]
            except Exception as e:
                e.bench_port = port
                raise
        return "select", name_of(str(v), a), port

    return op, lambda: pool.close(timeout=1)


def run(a):
    rec = Recorder(a.out)
    op, close = (redis_setup if a.proto == "redis" else pg_setup)(a)
    deadline = time.monotonic() + a.max_seconds
    stop = threading.Event()

    def worker(th):
        rnd = random.Random(th)
        seq = 0
        while not stop.is_set():
            seq += 1
            t0 = rec.begin(th)
            try:
                kind, served, port = op(th, seq, rnd)
                rec.end(th, t0, port, kind, served, "ok")
            except Exception as e:
                rec.end(th, t0, getattr(e, "bench_port", "-"), "op", "-", "err:" + err_class(e))
            stop.wait(a.ms / 1000 * rnd.uniform(0.5, 1.5))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(a.threads)]
    for t in threads:
        t.start()
    while not os.path.exists(a.stop) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    end = time.monotonic() + 2
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    print(json.dumps(rec.summary(a.proto), sort_keys=True))
    sys.stdout.flush()
    if any(t.is_alive() for t in threads):
        os._exit(0)     # a worker still waits on a dead path: do not join it
    try:
        close()
    except Exception:
        pass
    return 0


# ---------------------------------------------------------------- analyze

def read_log(path):
    ops = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) != 7:
                continue
            ops.append({"s": int(p[0]), "e": int(p[1]), "th": p[2], "c": p[3],
                        "op": p[4], "srv": p[5], "st": p[6]})
    return ops


def by_conn(ops):
    conns = {}
    for o in ops:
        if o["c"] != "-":
            conns.setdefault(o["c"], []).append(o)
    for l in conns.values():
        l.sort(key=lambda o: o["e"])
    return conns


def left_at(l, t0, t1):
    """When connection l stopped depending on private after t0: its first
    answer from backup with no private answer or error after it (ends
    before t1), or its death (an error and no later op); None when it was
    still on private (or waiting) at t1."""
    during = [o for o in l if o["e"] > t0 and o["s"] < t1]
    if not during:
        return "idle"
    if all(o["st"] == "ok" and o["srv"] != "private" for o in l if o["e"] <= t1):
        # Opened on backup (a new session during the fault) and never
        # on private: it never waited on the bad path.
        return "idle"
    tb = None
    for o in during:
        if o["st"] != "ok" or o["srv"] == "private":
            tb = None
        elif o["srv"] == "backup" and tb is None:
            tb = o["e"]
    if tb is not None and tb <= t1:
        return tb
    last = during[-1]
    if last is l[-1] and (last["st"] != "ok" or last["e"] <= t1):
        # Not used after this op: it died (an error), or the pool
        # dropped it unseen (redis-py reconnects a pooled connection
        # that its server closed when it hands it out): gone by then.
        return last["e"]
    return None


def back_at(l, t1):
    """When connection l was served by private again after t1 (first
    private answer with no backup answer after it); None if not yet."""
    after = [o for o in l if o["e"] > t1 and o["st"] == "ok" and o["srv"] in ("private", "backup")]
    if not after:
        return "idle"
    tp = None
    for o in after:
        if o["srv"] == "backup":
            tp = None
        elif tp is None:
            tp = o["e"]
    return tp


def analyze(a):
    ops = read_log(a.log)
    conns = by_conn(ops)
    if a.check_return:
        t = now_ms()
        recent = [l for l in conns.values() if l[-1]["e"] > t - 1000]
        ok = bool(recent) and all(
            [o for o in l if o["e"] > a.undo_ms and o["srv"] in ("private", "backup")]
            and back_at(l, a.undo_ms) not in (None, "idle") for l in recent)
        return 0 if ok else 1
    print(json.dumps(figures(ops, a.fault_ms, a.undo_ms, a.end_ms), sort_keys=True))
    return 0


def figures(ops, t0, t1, end=0):
    """The figures of one row from its ops (read_log's dicts)."""
    conns = by_conn(ops)
    end = end or (max(o["e"] for o in ops) if ops else t1)
    errs = [o for o in ops if o["st"] != "ok"]
    kinds = {}
    for o in errs:
        kinds[o["st"][4:]] = kinds.get(o["st"][4:], 0) + 1
    lefts = {c: left_at(l, t0, t1) for c, l in conns.items()}
    used = {c: v for c, v in lefts.items() if v != "idle"}
    stuck = [c for c, v in used.items() if v is None]
    if used:
        backup_ms = None if stuck else max(used.values()) - t0
    else:
        # No connection that was on private did an op after the fault:
        # the pool replaced them all unseen (a closed connection is
        # reopened when handed out); the first answer from backup.
        first = [o["e"] for o in ops if o["srv"] == "backup" and t0 < o["e"] <= t1]
        backup_ms = min(first) - t0 if first else None
    backs = {}
    for c, l in conns.items():
        if l[-1]["e"] <= t1:
            continue
        v = back_at(l, t1)
        if l[-1]["e"] < end - 1000 or l[-1]["st"] != "ok":
            # Gone before the end (closed with an error, e.g. postern's
            # 57P01 at a safe point, or dropped by the pool): off
            # backup by then at the latest.
            v = l[-1]["e"] if v in (None, "idle") else v
        backs[c] = v
    active = {c: v for c, v in backs.items() if v != "idle"}
    away = [c for c, v in active.items() if v is None]
    return_ms = None if away or not active else max(0, max(active.values()) - t1)
    res = {
        "fault_ms": t0, "undo_ms": t1, "end_ms": end,
        "ops": len(ops), "errors": len(errs), "error_kinds": kinds,
        "errors_fault": sum(1 for o in errs if o["e"] <= t1),
        "errors_return": sum(1 for o in errs if o["e"] > t1),
        "max_wait_ms": max([o["e"] - o["s"] for o in ops] or [0]),
        "connections": len(conns),
        "used_during_fault": len(used), "stuck_on_private": len(stuck),
        "served_backup_during_fault": len({o["c"] for o in ops if o["srv"] == "backup" and t0 < o["e"] <= t1}),
        "backup_ms": backup_ms,
        "used_after_return": len(active), "still_on_backup": len(away),
        "return_ms": return_ms,
        "observed_after_return_ms": end - t1,
    }
    return res


def selftest(a):
    """The analysis on made-up op logs whose figures are known."""
    def op(s, e, c, srv, st="ok", th=0):
        return {"s": s, "e": e, "th": str(th), "c": str(c), "op": "get", "srv": srv, "st": st}
    t0, t1 = 10000, 16000
    pre = [op(9000 + 10 * i, 9005 + 10 * i, c, "private") for i in range(50) for c in (1, 2)]
    cases = {
        # Both connections wait on private for the whole fault.
        "hung": (pre + [op(10001, 16050, 1, "private"), op(10002, 16060, 2, "private"),
                        op(16100, 16105, 1, "private"), op(16100, 16106, 2, "private")],
                 {"backup_ms": None, "stuck_on_private": 2, "return_ms": 60, "max_wait_ms": 6058}),
        # 1 errors at 10100 and is replaced by 3 on backup; 2 moves to
        # backup at 11500; after the undo 3 is closed at 17000 with an
        # error, 2 is back on private at 18000, and 4, opened after the
        # undo (as a pool replaces a closed connection), answers from
        # private at 19600: the pool is whole on private then.
        "moved": (pre + [op(10050, 10100, 1, "-", "err:X"), op(10200, 10210, 3, "backup"),
                         op(10300, 11500, 2, "backup"), op(16500, 16510, 3, "backup"),
                         op(16500, 16600, 2, "backup"), op(16900, 17000, 3, "-", "err:Y"),
                         op(17900, 18000, 2, "private"), op(19000, 19010, 2, "private"),
                         op(19500, 19600, 4, "private")],
                  {"backup_ms": 1500, "stuck_on_private": 0, "errors": 2, "errors_fault": 1,
                   "errors_return": 1, "return_ms": 3600, "still_on_backup": 0}),
        # 2 is still on backup at the end: it never returned.
        "stays": (pre + [op(10050, 10100, 1, "-", "err:X"), op(10300, 11500, 2, "backup"),
                         op(19000, 19010, 2, "backup")],
                  {"backup_ms": 1500, "return_ms": None, "still_on_backup": 1}),
    }
    bad = 0
    for name, (ops, want) in cases.items():
        got = figures(ops, t0, t1, 19600)
        for k, v in want.items():
            if got[k] != v:
                print("selftest %s: %s = %r, want %r" % (name, k, got[k], v))
                bad += 1
    print("selftest: %s" % ("FAILED" if bad else "ok"))
    return 1 if bad else 0


def load(a):
    import redis
    r = redis.Redis(host=a.host, port=a.port, socket_timeout=10)
    p = r.pipeline(transaction=False)
    for i in range(100):
        p.set("r:%d" % i, a.name)
    p.execute()
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--proto", choices=("redis", "pg"), required=True)
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--stop", required=True)
    r.add_argument("--threads", type=int, default=8)
    r.add_argument("--ms", type=float, default=5)
    r.add_argument("--max-seconds", type=float, default=300)
    r.add_argument("--private", default=None)
    r.add_argument("--backup", default=None)
    n = sub.add_parser("analyze")
    n.add_argument("--log", required=True)
    n.add_argument("--fault-ms", type=int, required=True)
    n.add_argument("--undo-ms", type=int, required=True)
    n.add_argument("--end-ms", type=int, default=0)
    n.add_argument("--check-return", action="store_true")
    sub.add_parser("selftest")
    d = sub.add_parser("load")
    d.add_argument("--proto", choices=("redis",), default="redis")
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--port", type=int, required=True)
    d.add_argument("--name", required=True)
    a = ap.parse_args()
    return {"run": run, "analyze": analyze, "load": load, "selftest": selftest}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
