#!/usr/bin/env python3
"""busy.py: the memory a proxy (process PID) holds per busy Redis session.

  busy.py blpop PORT N PID
      N connections to 127.0.0.1:PORT each answer a PING, then each sends
      BLPOP on a key nobody pushes (a request in flight that the server
      holds, as a pool's workers waiting on a queue do); BUSY_SETTLE
      seconds later (environment, default 2) the proxy's VmRSS is read.
      Prints "N KB_BEFORE KB_AFTER BYTES_PER_SESSION".

  busy.py big PORT N PID [ROUNDS [SIZE]]
      N connections each SET their own SIZE-byte value (default 1000000)
      and then GET it ROUNDS times (default 3), all at once; the proxy's
      VmRSS is sampled every 50 ms while they move.  Prints "N KB_BEFORE
      MEDIAN_BYTES_PER_SESSION PEAK_BYTES_PER_SESSION CPU_MS_PER_GB
      SECONDS" (CPU: the proxy's utime+stime over the bytes both ways).

The connections close when it exits.  Figures only: nothing judged.
"""
import os
import resource
import selectors
import socket
import sys
import threading
import time

mode, port, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
CLK = os.sysconf("SC_CLK_TCK")


def rss_kb():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ticks():
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def connect_all(count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1024), hard))
    conns = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        conns.append(s)
    return conns


def read_exact(s, want):
    """Read until WANT bytes arrived (bounded by the socket's timeout)."""
    got = 0
    while got < want:
        b = s.recv(min(65536, want - got))
        if not b:
            raise SystemExit("connection closed early")
        got += len(b)


def blpop():
    settle = float(os.environ.get("BUSY_SETTLE", "2"))
    before = rss_kb()
    conns = connect_all(n)
    for s in conns:
        s.sendall(b"PING\r\n")
    for s in conns:
        read_exact(s, len(b"+PONG\r\n"))
    for i, s in enumerate(conns):
        s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$%d\r\nbusy:none:%d\r\n$1\r\n0\r\n"
                  % (len(b"busy:none:%d" % i), i))
    time.sleep(settle)
    after = rss_kb()
    print(n, before, after, int((after - before) * 1024 / n))
    for s in conns:
        s.close()


def big():
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    size = int(sys.argv[6]) if len(sys.argv) > 6 else 1000000
    value = b"x" * size
    getreply = len(b"$%d\r\n" % size) + size + 2
    before = rss_kb()
    conns = connect_all(n)
    for s in conns:
        s.setblocking(False)
    samples = []
    done = threading.Event()

    def sample():
        while not done.wait(0.05):
            samples.append(rss_kb())
    sel = selectors.DefaultSelector()
    # per connection: [pending output, bytes of reply still due, GETs left]
    state = {}
    for i, s in enumerate(conns):
        key = b"busy:big:%d" % i
        cmd = b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(key), key, size)
        state[s] = [bytearray(cmd + value + b"\r\n"), len(b"+OK\r\n"), rounds, key]
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    moved = 0
    t0 = time.monotonic()
    c0 = cpu_ticks()
    th = threading.Thread(target=sample)
    th.start()
    live = len(conns)
    deadline = t0 + 600
    while live > 0 and time.monotonic() < deadline:
        for k, ev in sel.select(timeout=1):
            s = k.fileobj
            st = state[s]
            if ev & selectors.EVENT_WRITE and st[0]:
                w = s.send(st[0])
                moved += w
                del st[0][:w]
                if not st[0]:
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                b = s.recv(262144)
                if not b:
                    raise SystemExit("connection closed early")
                moved += len(b)
                st[1] -= len(b)
                if st[1] == 0:
                    if st[2] == 0:
                        sel.unregister(s)
                        live -= 1
                        continue
                    st[2] -= 1
                    st[0] = bytearray(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n"
                                      % (len(st[3]), st[3]))
                    st[1] = getreply
                    sel.modify(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    secs = time.monotonic() - t0
    c1 = cpu_ticks()
    done.set()
    th.join()
    if live > 0:
        raise SystemExit("%d connections did not finish in time" % live)
    samples.sort()
    med = samples[len(samples) // 2] if samples else rss_kb()
    peak = samples[-1] if samples else med
    cpu_ms = (c1 - c0) * 1000.0 / CLK
    print(n, before, int((med - before) * 1024 / n), int((peak - before) * 1024 / n),
          "%.0f" % (cpu_ms / (moved / 1e9)), "%.1f" % secs)
    for s in conns:
        s.close()


if mode == "blpop":
    blpop()
elif mode == "big":
    big()
else:
    raise SystemExit("usage: busy.py blpop|big PORT N PID ...")
