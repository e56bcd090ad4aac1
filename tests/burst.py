#!/usr/bin/env python3
"""burst.py PORT N [TIMEOUT_S]: N connections to 127.0.0.1:PORT opened at
once; each sends a Redis PING and waits for +PONG.  Prints how many got
it and the milliseconds from the first connect until the last answer.
Used by tests/integration/90-ssh.sh and tests/bench/ssh.sh."""
import selectors
import socket
import sys
import time

port, n = int(sys.argv[1]), int(sys.argv[2])
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 40
sel, t0, done, ended, last = selectors.DefaultSelector(), time.monotonic(), 0, 0, 0.0
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PING\r\n")
    sel.register(s, selectors.EVENT_READ, b"")
while ended < n and time.monotonic() - t0 < limit:
    for key, _ in sel.select(1):
        try:
            d = key.data + key.fileobj.recv(64)
            eof = len(d) == len(key.data)
        except OSError:
            d, eof = b"", True
        if d.startswith(b"+PONG\r\n") or eof:
            if d.startswith(b"+PONG"):
                done, last = done + 1, time.monotonic()
            ended += 1
            sel.unregister(key.fileobj)
            key.fileobj.close()
        else:
            sel.modify(key.fileobj, selectors.EVENT_READ, d)
print(done, "%.1f" % ((last - t0) * 1000))
