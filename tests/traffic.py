#!/usr/bin/env python3
"""tests/traffic.py: steady client traffic through a service, every reply checked.

Used by tests/integration/35-faults.sh and tests/bench/faults.sh while they
inject faults on a route.  Python's standard library only; it speaks the
Redis protocol (RESP) and PostgreSQL's simple query protocol itself.

  traffic.py load  --proto redis --host H --port P --name NAME
      SET who NAME and the keys k:0..k:99, then SAVE, so that the server
      restarted in the same directory serves them from its first reply
      (redis; nothing to do for pg).
  traffic.py run   --proto redis|pg --port P --out FILE --stop FILE
                   [--new-ms 100] [--pool 2] [--pool-ms 20] [--timeout 10]
                   [--max-s 300]
      Until FILE --stop exists (or --max-s): a new connection every --new-ms
      (each in its own thread, so that one stuck connection does not delay
      the next), doing one request and closing; and --pool long-lived
      connections each doing a request every --pool-ms, reconnecting after
      an error.  One line per request in --out:

        START_MS END_MS KIND ID STATUS SERVER

      KIND new|pool; STATUS ok, err:<why> (no complete reply: refused,
      reset, eof, timeout, a server error) or wrong:<what> (a complete
      reply whose bytes differ from what was asked for: must never happen);
      SERVER who answered (redis: the value of key who; pg:
      inet_server_port()), "-" when unknown.  Every operation is bounded by
      --timeout seconds, so a hung path shows as a timeout, not a hang.

A request (redis): MGET who k:N, then ECHO of a payload unique to the
request, pipelined; the reply must hold the value of k:N and the payload.
A request (pg): SELECT inet_server_port()::text, md5(P), P for a unique
payload P; the reply must hold both, md5 computed by the server.
"""

import argparse
import hashlib
import os
import socket
import struct
import sys
import threading
import time

NKEYS = 100


def value_of(i):
    """The value stored at k:i: 512 bytes, a pattern unique to i."""
    return (("%d:" % i) + hashlib.sha256(b"k%d" % i).hexdigest() * 8)[:512].encode()


class Fail(Exception):
    """No complete reply (STATUS err:...)."""


class Wrong(Exception):
    """A complete reply with the wrong bytes (STATUS wrong:...)."""


def os_fail(op, e):
    """The Fail for OSError e during op (connect, send, recv)."""
    if isinstance(e, socket.timeout):
        return Fail(op + "-timeout" if op != "recv" else "timeout")
    if isinstance(e, ConnectionRefusedError):
        return Fail("refused")
    if isinstance(e, ConnectionResetError):
        return Fail("reset")
    return Fail(op + "-" + (e.strerror or str(e)).replace(" ", "-"))


class Conn:
    """A socket with a deadline per operation and a read buffer."""

    def __init__(self, host, port, timeout):
        self.timeout = timeout
        self.buf = b""
        try:
            self.s = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise os_fail("connect", e)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def send(self, data):
        try:
            self.s.sendall(data)
        except OSError as e:
            raise os_fail("send", e)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Fail("timeout")
        self.s.settimeout(left)
        try:
            d = self.s.recv(65536)
        except OSError as e:
            raise os_fail("recv", e)
        if not d:
            raise Fail("eof")
        self.buf += d

    def line(self, deadline):
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        d, self.buf = self.buf[:n], self.buf[n:]
        return d


# ------------------------------------------------------------------ redis

def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def redis_bulk(c, deadline):
    l = c.line(deadline)
    if l.startswith(b"-"):
        raise Fail("server-error:" + l[1:60].decode(errors="replace").replace(" ", "_"))
    if not l.startswith(b"$"):
        raise Wrong("bulk-header:" + l[:40].decode(errors="replace").replace(" ", "_"))
    n = int(l[1:])
    if n < 0:
        return None
    d = c.exact(n + 2, deadline)
    if d[-2:] != b"\r\n":
        raise Wrong("bulk-trailer")
    return d[:-2]


def redis_request(c, seq):
    """One checked request on c; returns the server's name."""
    deadline = time.monotonic() + c.timeout
    i = seq % NKEYS
    payload = b"p%d-" % seq + hashlib.md5(b"%d" % seq).hexdigest().encode() * 4
    c.send(resp("MGET", "who", "k:%d" % i) + resp("ECHO", payload))
    l = c.line(deadline)
    if l.startswith(b"-"):
        raise Fail("server-error:" + l[1:60].decode(errors="replace").replace(" ", "_"))
    if l != b"*2":
        raise Wrong("mget-header:" + l[:40].decode(errors="replace"))
    who = redis_bulk(c, deadline)
    v = redis_bulk(c, deadline)
    e = redis_bulk(c, deadline)
    if v != value_of(i):
        raise Wrong("value-of-k:%d" % i)
    if e != payload:
        raise Wrong("echo")
    return (who or b"-").decode(errors="replace")


def redis_load(host, port, name, timeout):
    c = Conn(host, port, timeout)
    deadline = time.monotonic() + timeout
    cmds = [resp("SET", "who", name)] + [resp("SET", "k:%d" % i, value_of(i)) for i in range(NKEYS)]
    cmds.append(resp("SAVE"))
    c.send(b"".join(cmds))
    for _ in cmds:
        l = c.line(deadline)
        if l != b"+OK":
            raise Fail("load:" + l.decode(errors="replace"))
    c.close()


def redis_open(host, port, timeout):
    return Conn(host, port, timeout)


# --------------------------------------------------------------- postgres

def pg_msg(c, deadline):
    t = c.exact(1, deadline)
    (n,) = struct.unpack("!I", c.exact(4, deadline))
    return t, c.exact(n - 4, deadline)


def pg_error(body):
    fields = {}
    for f in body.split(b"\0"):
        if f:
            fields[f[:1]] = f[1:].decode(errors="replace")
    return "pg-" + fields.get(b"C", "?") + ":" + fields.get(b"M", "")[:60].replace(" ", "_")


def pg_open(host, port, timeout):
    c = Conn(host, port, timeout)
    deadline = time.monotonic() + timeout
    params = b"user\0postgres\0database\0postgres\0application_name\0traffic\0\0"
    c.send(struct.pack("!II", 8 + len(params), 196608) + params)
    try:
        while True:
            t, body = pg_msg(c, deadline)
            if t == b"E":
                raise Fail(pg_error(body))
            if t == b"R" and body[:4] != b"\0\0\0\0":
                raise Fail("pg-auth-required")
            if t == b"Z":
                return c
    except Exception:
        c.close()
        raise


def pg_request(c, seq):
    deadline = time.monotonic() + c.timeout
    payload = "p%d-%s" % (seq, hashlib.md5(b"%d" % seq).hexdigest())
    q = ("SELECT inet_server_port()::text, md5('%s'), '%s'" % (payload, payload)).encode() + b"\0"
    c.send(b"Q" + struct.pack("!I", 4 + len(q)) + q)
    row = None
    err = None
    while True:
        t, body = pg_msg(c, deadline)
        if t == b"D":
            (nf,) = struct.unpack("!H", body[:2])
            off, row = 2, []
            for _ in range(nf):
                (ln,) = struct.unpack("!i", body[off:off + 4])
                off += 4
                row.append(body[off:off + ln].decode(errors="replace") if ln >= 0 else None)
                off += max(ln, 0)
        elif t == b"E":
            err = pg_error(body)
        elif t == b"Z":
            break
    if err:
        raise Fail(err)
    if row is None or len(row) != 3:
        raise Wrong("no-row")
    if row[1] != hashlib.md5(payload.encode()).hexdigest() or row[2] != payload:
        raise Wrong("payload")
    return row[0] or "-"


PROTO = {"redis": (redis_open, redis_request), "pg": (pg_open, pg_request)}


# ------------------------------------------------------------------- run

class Out:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()
        self.seq = 0

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def record(self, t0, kind, ident, status, server):
        now = time.time()
        with self.lock:
            self.f.write("%d %d %s %s %s %s\n" % (t0 * 1000, now * 1000, kind, ident, status, server))


def once(a, out, op, rq, ident):
    t0 = time.time()
    c = None
    try:
        c = op("127.0.0.1", a.port, a.timeout)
        server = rq(c, out.next_seq())
        out.record(t0, "new", ident, "ok", server)
    except Fail as e:
        out.record(t0, "new", ident, "err:" + str(e), "-")
    except Wrong as e:
        out.record(t0, "new", ident, "wrong:" + str(e), "-")
    except Exception as e:  # a bug here must show, not vanish
        out.record(t0, "new", ident, "err:client-" + type(e).__name__, "-")
    finally:
        if c:
            c.close()


def pooled(a, out, op, rq, ident, stop):
    c = None
    while not stop.is_set():
        t0 = time.time()
        try:
            if c is None:
                c = op("127.0.0.1", a.port, a.timeout)
            server = rq(c, out.next_seq())
            out.record(t0, "pool", ident, "ok", server)
        except (Fail, Wrong) as e:
            st = ("err:" if isinstance(e, Fail) else "wrong:") + str(e)
            out.record(t0, "pool", ident, st, "-")
            if c:
                c.close()
            c = None
            stop.wait(0.1)
        except Exception as e:
            out.record(t0, "pool", ident, "err:client-" + type(e).__name__, "-")
            c = None
            stop.wait(0.1)
        stop.wait(a.pool_ms / 1000.0)
    if c:
        c.close()


def run(a):
    out = Out(a.out)
    op, rq = PROTO[a.proto]
    stop = threading.Event()
    pool = [threading.Thread(target=pooled, args=(a, out, op, rq, "p%d" % i, stop), daemon=True)
            for i in range(a.pool)]
    for t in pool:
        t.start()
    end = time.monotonic() + a.max_s
    n = 0
    live = []
    while time.monotonic() < end and not os.path.exists(a.stop):
        live = [t for t in live if t.is_alive()]
        if len(live) < 400:  # bounded: a hung path cannot pile up threads
            n += 1
            t = threading.Thread(target=once, args=(a, out, op, rq, "n%d" % n), daemon=True)
            t.start()
            live.append(t)
        time.sleep(a.new_ms / 1000.0)
    stop.set()
    for t in pool + live:
        t.join(a.timeout + 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["load", "run"])
    p.add_argument("--proto", choices=list(PROTO), required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", default="")
    p.add_argument("--out")
    p.add_argument("--stop")
    p.add_argument("--new-ms", type=float, default=100)
    p.add_argument("--pool", type=int, default=2)
    p.add_argument("--pool-ms", type=float, default=20)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--max-s", type=float, default=300)
    a = p.parse_args()
    if a.mode == "load":
        if a.proto == "redis":
            redis_load(a.host, a.port, a.name, a.timeout)
        return 0
    if not a.out or not a.stop:
        p.error("run needs --out and --stop")
    run(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
