#!/usr/bin/env python3
"""A server that answers a health check with a reply that never ends.

  stream_reply.py PORT redis|redis-array|pg MBYTES

Listens on 127.0.0.1:PORT (prints "ready" once listening).  To each
client, after its first bytes: redis: a bulk header of a billion bytes;
redis-array: an array header of a hundred million elements, then
integers; pg: an endless run of NoticeResponse messages; then MBYTES MiB of filler
as fast as the client takes it, then it holds the connection open until
the client closes.  A check that buffers what it reads grows with it
(tests/integration/71-checkcap.sh).
"""
import socket
import struct
import sys
import threading


def notice(n):
    body = b"SNOTICE\0C00000\0M" + b"x" * n + b"\0\0"
    return b"N" + struct.pack("!I", 4 + len(body)) + body


def serve(conn, kind, total):
    try:
        conn.recv(65536)
        if kind == "redis":
            conn.sendall(b"$1000000000\r\n")
            chunk = b"x" * 65536
        elif kind == "redis-array":
            conn.sendall(b"*100000000\r\n")
            chunk = b":1\r\n" * 16384
        else:
            chunk = notice(1000) * 64
        sent = 0
        while sent < total:
            conn.sendall(chunk)
            sent += len(chunk)
        while conn.recv(65536):
            pass
    except OSError:
        pass
    finally:
        conn.close()


def main():
    port, kind, mbytes = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, kind, mbytes << 20),
                         daemon=True).start()


main()
