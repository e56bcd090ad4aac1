#!/usr/bin/python3
"""tests/pgwire.py: a PostgreSQL client that speaks the wire protocol
itself (standard library only), to ask for any protocol version, whatever
libpq is installed, and to send CancelRequests with any key.

  pgwire.py PORT sleep MINOR SECONDS
      StartupMessage for protocol 3.MINOR (user and database postgres,
      trust authentication), then "select pg_sleep(SECONDS)".  Prints,
      flushed as they come:
        negotiate 3.N [options]   the server's NegotiateProtocolVersion,
                                  or "negotiate none"
        key PID HEX               BackendKeyData: pid, key in hex
        result SQLSTATE|ok MS     how the query ended, after MS ms
  pgwire.py PORT resume MINOR GO SECONDS
      As sleep, but first "select 1" every 50 ms (the session idle in
      between) until the file GO exists (at most 60 s), then "select
      pg_backend_pid()" ("backend PID": the session may have moved to
      another backend meanwhile), then the pg_sleep.
  pgwire.py PORT cancel PID HEX
      a CancelRequest for that pid and key (any length); waits until the
      other side closes the connection (at most 10 s).

Every wait is bounded (socket timeouts); exits 1 with a message on
anything unexpected.
"""
import os
import socket
import struct
import sys
import time

HOST = "127.0.0.1"


def die(msg):
    print("error " + msg, flush=True)
    sys.exit(1)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            die("server closed the connection")
        buf += chunk
    return buf


def read_msg(s):
    hdr = recv_exact(s, 5)
    typ, length = hdr[0:1], struct.unpack("!I", hdr[1:5])[0]
    if length < 4 or length > 1 << 20:
        die("bad message length %d" % length)
    return typ, recv_exact(s, length - 4)


def sqlstate(body):
    for field in body.split(b"\0"):
        if field[:1] == b"C":
            return field[1:].decode()
    return "?"


def startup(s, minor):
    params = b"user\0postgres\0database\0postgres\0\0"
    s.sendall(struct.pack("!II", 8 + len(params), 3 << 16 | minor) + params)
    negotiated = None
    while True:
        typ, body = read_msg(s)
        if typ == b"v":
            newest, nopts = struct.unpack("!II", body[:8])
            opts = body[8:].split(b"\0")[:nopts]
            negotiated = "3.%d%s" % (newest & 0xFFFF, "".join(
                " " + o.decode() for o in opts))
            print("negotiate " + negotiated, flush=True)
        elif typ == b"R":
            if struct.unpack("!I", body[:4])[0] != 0:
                die("authentication other than trust asked for")
        elif typ == b"K":
            if negotiated is None:
                print("negotiate none", flush=True)
            pid = struct.unpack("!I", body[:4])[0]
            print("key %d %s" % (pid, body[4:].hex()), flush=True)
        elif typ == b"E":
            die("startup refused: " + sqlstate(body))
        elif typ == b"Z":
            return


def query(s, q):
    """Run q; the first column of its first row, or die on an error."""
    q = q.encode() + b"\0"
    s.sendall(b"Q" + struct.pack("!I", 4 + len(q)) + q)
    value = None
    while True:
        typ, body = read_msg(s)
        if typ == b"E":
            die("query refused: " + sqlstate(body))
        if typ == b"D" and value is None:
            n = struct.unpack("!i", body[2:6])[0]
            value = body[6:6 + n].decode()
        elif typ == b"Z":
            return value


def sleep(port, minor, seconds, go=None):
    s = socket.create_connection((HOST, port), timeout=30)
    s.settimeout(int(seconds) + 30)
    startup(s, minor)
    if go is not None:
        deadline = time.monotonic() + 60
        while not os.path.exists(go):
            if time.monotonic() > deadline:
                die("no go file within 60 s")
            query(s, "select 1")
            time.sleep(0.05)
        print("backend %s" % query(s, "select pg_backend_pid()"),
              flush=True)
    q = b"select pg_sleep(%d)\0" % int(seconds)
    t0 = time.monotonic()
    s.sendall(b"Q" + struct.pack("!I", 4 + len(q)) + q)
    result = None
    while True:
        typ, body = read_msg(s)
        if typ == b"E" and result is None:
            result = sqlstate(body)
        elif typ == b"C" and result is None:
            result = "ok"
        elif typ == b"Z":
            break
    print("result %s %d" % (result, (time.monotonic() - t0) * 1000),
          flush=True)
    s.sendall(b"X\0\0\0\4")
    s.close()


def cancel(port, pid, keyhex):
    key = bytes.fromhex(keyhex)
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(struct.pack("!III", 12 + len(key), 80877102, pid) + key)
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        die("the cancel connection stayed open for 10 s")
    except ConnectionResetError:
        pass
    s.close()


def main(argv):
    if len(argv) == 5 and argv[2] == "sleep":
        sleep(int(argv[1]), int(argv[3]), argv[4])
    elif len(argv) == 6 and argv[2] == "resume":
        sleep(int(argv[1]), int(argv[3]), argv[5], argv[4])
    elif len(argv) == 5 and argv[2] == "cancel":
        cancel(int(argv[1]), int(argv[3]), argv[4])
    else:
        die("usage: pgwire.py PORT sleep MINOR SECONDS | "
            "PORT resume MINOR GO SECONDS | PORT cancel PID HEX")


if __name__ == "__main__":
    main(sys.argv)
