#!/usr/bin/env python3
"""idle.py PORT N PID [HEAPCMD]: the memory a proxy (process PID) holds per
idle session.  Reads PID's VmRSS, opens N connections to 127.0.0.1:PORT,
sends a Redis PING on each and waits for every +PONG (so that each session
has its upstream connected and has moved data once), waits IDLE_SETTLE
seconds (environment, default 1: postern frees a TLS link's record buffers
after one to two idle seconds), reads VmRSS again, and prints "N
KB_BEFORE KB_AFTER BYTES_PER_SESSION".  With
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


before = rss_kb()
heap0 = heap() if heapcmd else None
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PING\r\n")
    socks.append(s)
for s in socks:
    s.settimeout(30)
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
