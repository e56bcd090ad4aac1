#!/usr/bin/env python3
"""tests/move_client.py: long-lived clients for tests/integration/50-move.sh.

Speaks through tests/traffic.py's protocol code.  Every request's outcome
is one line of --out: "MS ok SERVER [EXTRA]" or "MS err WHY"; the client
stops when --stop exists.

  move_client.py redis --port P --out F --stop S [--auth USER:PASS]
                 [--db N] [--name NAME] [--lib LIB:VER] [--ms 20]
      One connection kept (as a pool keeps it): AUTH, SELECT, CLIENT
      SETNAME, CLIENT SETINFO LIB-NAME and LIB-VER as asked, then every --ms: GET who (the server's name), SET
      last:NAME SEQ, CLIENT GETNAME; "MS ok WHO NAME cN" with N the
      connection's number.  --info FILE: once FILE exists, remove it and
      ask CLIENT INFO ("MS info cN INFO").  After an error ("MS err cN WHY") it connects
      again, as a pool does.
  move_client.py pg --port P --out F --stop S [--ms 50] [--tx]
      One connection, reconnecting only after its server ended it
      (57P01 between queries): every --ms SELECT inet_server_port(); with
      --tx a transaction BEGIN; INSERT INTO moved VALUES (SEQ);
      SELECT inet_server_port(); COMMIT, one line per committed SEQ.
      An error inside a transaction is "err intx ...".  --hold FILE: on
      the first connection, BEGIN; INSERT INTO held VALUES (1), then wait
      for FILE, SELECT inet_server_port(), COMMIT ("MS ok PORT held").
      --who SQL: what names the server (default SELECT inet_server_port()).
      --listen: LISTEN ch on each connection.  --unlisten FILE: once FILE
      exists, UNLISTEN * once ("MS unlistened").
"""

import argparse
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import traffic  # noqa: E402
from traffic import Conn, Fail, resp  # noqa: E402


def redis_reply(c, deadline):
    l = c.line(deadline)
    if l[:1] in (b"+", b":"):
        return l[1:].decode()
    if l[:1] == b"-":
        raise Fail("server-error:" + l[1:80].decode(errors="replace"))
    if l[:1] == b"$":
        n = int(l[1:])
        return None if n < 0 else c.exact(n + 2, deadline)[:-2].decode()
    raise Fail("unexpected:" + l[:40].decode(errors="replace"))


def redis_open(a):
    """A connection set up as asked: AUTH, SELECT, CLIENT SETNAME, SETINFO."""
    c = Conn("127.0.0.1", a.port, 10)
    setup = []
    if a.auth:
        setup.append(resp("AUTH", *a.auth.split(":", 1)))
    if a.db:
        setup.append(resp("SELECT", a.db))
    if a.name:
        setup.append(resp("CLIENT", "SETNAME", a.name))
    if a.lib:
        lib, ver = a.lib.split(":", 1)
        setup.append(resp("CLIENT", "SETINFO", "LIB-NAME", lib))
        setup.append(resp("CLIENT", "SETINFO", "LIB-VER", ver))
    for cmd in setup:
        c.send(cmd)
        if redis_reply(c, time.monotonic() + 10) != "OK":
            raise Fail("setup")
    return c


def redis(a, out):
    c, conn, seq = None, 0, 0
    while not os.path.exists(a.stop):
        seq += 1
        t = int(time.time() * 1000)
        try:
            if c is None:
                conn += 1
                c = redis_open(a)
            dl = time.monotonic() + 10
            c.send(resp("GET", "who") + resp("SET", "last:%s" % (a.name or "c"), seq) +
                   resp("CLIENT", "GETNAME"))
            who = redis_reply(c, dl)
            ok = redis_reply(c, dl)
            name = redis_reply(c, dl)
            if ok != "OK":
                raise Fail("set:" + str(ok))
            out.write("%d ok %s %s c%d\n" % (t, who, name, conn))
            if a.info and os.path.exists(a.info):
                os.unlink(a.info)
                c.send(resp("CLIENT", "INFO"))
                out.write("%d info c%d %s\n" % (t, conn, redis_reply(c, dl).strip()))
        except Fail as e:
            # A pool would reconnect: so does this client.
            out.write("%d err c%d %s\n" % (t, conn, e))
            if c:
                c.close()
            c = None
            time.sleep(0.1)
            continue
        time.sleep(a.ms / 1000.0)
    return 0


def pg_query(c, sql):
    """Run sql; returns (rows, error SQLSTATE or None)."""
    q = sql.encode() + b"\0"
    c.send(b"Q" + struct.pack("!I", 4 + len(q)) + q)
    deadline = time.monotonic() + 10
    rows, err = [], None
    while True:
        try:
            t, body = traffic.pg_msg(c, deadline)
        except Fail:
            if err:		# a FATAL before the close: say which
                raise Fail(err)
            raise
        if t == b"D":
            (ln,) = struct.unpack("!i", body[2:6])
            rows.append(body[6:6 + ln].decode())
        elif t == b"E":
            err = traffic.pg_error(body)
        elif t == b"Z":
            return rows, err


def pg_hold(a, c, out):
    """A transaction kept open until the file --hold exists."""
    for sql in ("BEGIN", "INSERT INTO held VALUES (1)"):
        _, err = pg_query(c, sql)
        if err:
            raise Fail(err)
    out.write("%d holding\n" % int(time.time() * 1000))
    while not os.path.exists(a.hold):
        time.sleep(0.02)
    rows, err = pg_query(c, "SELECT inet_server_port()::text")
    _, err2 = pg_query(c, "COMMIT")
    if err or err2:
        raise Fail("intx %s" % (err or err2))
    out.write("%d ok %s held\n" % (int(time.time() * 1000), rows[0]))


def pg(a, out):
    c, seq, held, unlistened = None, 0, False, False
    while not os.path.exists(a.stop):
        t = int(time.time() * 1000)
        if c is None:
            try:
                c = traffic.pg_open("127.0.0.1", a.port, 10)
                if a.listen:
                    _, err = pg_query(c, "LISTEN ch")
                    if err:
                        raise Fail(err)
                if a.hold and not held:
                    held = True
                    pg_hold(a, c, out)
            except Fail as e:
                out.write("%d err connect %s\n" % (t, e))
                if c:
                    c.close()
                c = None
                time.sleep(0.1)
                continue
        intx = False
        try:
            if a.unlisten and not unlistened and os.path.exists(a.unlisten):
                _, err = pg_query(c, "UNLISTEN *")
                if err:
                    raise Fail(err)
                unlistened = True
                out.write("%d unlistened\n" % t)
            if a.tx:
                seq += 1
                _, err = pg_query(c, "BEGIN")
                intx = True
                for sql in ("INSERT INTO moved VALUES (%d)" % seq,
                            "SELECT inet_server_port()::text"):
                    rows, err = pg_query(c, sql)
                    if err:
                        raise Fail(err)
                _, err = pg_query(c, "COMMIT")
                if err:
                    raise Fail(err)
                out.write("%d ok %s %d\n" % (t, rows[0], seq))
            else:
                rows, err = pg_query(c, a.who)
                if err:
                    raise Fail(err)
                out.write("%d ok %s\n" % (t, rows[0]))
        except Fail as e:
            # The server (or postern) ended the connection: reconnect.
            out.write("%d err %s%s\n" % (t, "intx " if intx else "", e))
            c.close()
            c = None
        time.sleep(a.ms / 1000.0)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("proto", choices=["redis", "pg"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--auth", default="")
    p.add_argument("--db", default="")
    p.add_argument("--name", default="")
    p.add_argument("--lib", default="")
    p.add_argument("--info", default="")
    p.add_argument("--ms", type=float, default=20)
    p.add_argument("--tx", action="store_true")
    p.add_argument("--hold", default="")
    p.add_argument("--listen", action="store_true")
    p.add_argument("--unlisten", default="")
    p.add_argument("--who", default="SELECT inet_server_port()::text")
    a = p.parse_args()
    with open(a.out, "a", buffering=1) as out:
        try:
            return (redis if a.proto == "redis" else pg)(a, out)
        except Fail as e:
            out.write("%d err %s\n" % (int(time.time() * 1000), e))
            return 1


if __name__ == "__main__":
    sys.exit(main())
