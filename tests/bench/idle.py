#!/usr/bin/env python3
"""idle.py PORT N PID [HEAPCMD]: the memory a proxy (process PID) holds per
idle session.  Reads PID's VmRSS, opens N connections to 127.0.0.1:PORT,
sends a Redis PING on each and waits for every +PONG (so that each session
has its upstream connected and has moved data once), waits IDLE_SETTLE
seconds (environment, default 1: postern frees a TLS link's record buffers
after one to two idle seconds), reads VmRSS again, and prints "N
KB_BEFORE KB_AFTER BYTES_PER_SESSION".  IDLE_PROTO=postgres (environment)
makes each a PostgreSQL session instead (user and database postgres, trust
authentication) that ran one SELECT 1.  With
HEAPCMD, a shell command that prints the proxy's heap in use in bytes on
its last line (e.g. malloc_stats through gdb), it is run before and after
as well and "HEAP_BYTES_PER_SESSION" is added (NA when it failed).  The
connections close when it exits."""
import os
import socket
import subprocess
import sys
import time

port, n, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
heapcmd = sys.argv[4] if len(sys.argv) > 4 else None


def rss_kb():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def heap():
    try:
        out = subprocess.run(heapcmd, shell=True, capture_output=True, text=True,
                             timeout=60).stdout.split()
        return int(out[-1])
    except (subprocess.SubprocessError, ValueError, IndexError):
        return None


def pg_ready(s):
    """Read PostgreSQL messages up to ReadyForQuery."""
    got = b""
    while True:
        while len(got) >= 5:
            mlen = int.from_bytes(got[1:5], "big")
            if len(got) < 1 + mlen:
                break
            if got[0:1] == b"E":
                sys.exit("the server refused a session")
            if got[0:1] == b"Z":
                return
            got = got[1 + mlen:]
        d = s.recv(4096)
        if not d:
            sys.exit("a session ended early")
        got += d


def pg_msg(kind, body):
    return kind + (len(body) + 4).to_bytes(4, "big") + body


pg = os.environ.get("IDLE_PROTO") == "postgres"
before = rss_kb()
heap0 = heap() if heapcmd else None
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if pg:
        body = (196608).to_bytes(4, "big") + b"user\0postgres\0database\0postgres\0\0"
        s.sendall((len(body) + 4).to_bytes(4, "big") + body)
    else:
        s.sendall(b"PING\r\n")
    socks.append(s)
for s in socks:
    s.settimeout(30)
    if pg:
        pg_ready(s)
        s.sendall(pg_msg(b"Q", b"SELECT 1\0"))
        pg_ready(s)
        continue
    got = b""
    while not got.endswith(b"\r\n"):
        d = s.recv(64)
        if not d:
            sys.exit("a session ended early")
        got += d
time.sleep(float(os.environ.get("IDLE_SETTLE", "1")))
after = rss_kb()
fields = [n, before, after, int((after - before) * 1024 / n)]
if heapcmd:
    heap1 = heap()
    fields.append("NA" if heap0 is None or heap1 is None else int((heap1 - heap0) / n))
print(*fields)
