#!/usr/bin/env python3
"""tests/dns_server.py: a tiny authoritative DNS server over UDP for the
tests (standard library only), whose answers a test changes by rewriting
a zone file.

  dns_server.py --addr 127.0.0.1 --port 0 --zone FILE --port-file F [--log F]
                [--silent]

The zone file has one record a line, "NAME TYPE ADDRESS TTL" with TYPE A or
AAAA; it is read again whenever its modification time or size changes, so
a test swaps it with an atomic rename.  A name with records gets them (an
empty answer for a type it lacks); any other name NXDOMAIN.  Queries are
logged to --log ("NAME TYPE"), so a test can tell who asked for what.
The bound port goes to --port-file once the socket is bound.
"""

import argparse
import os
import socket
import struct

TYPES = {1: "A", 28: "AAAA"}


def load(path, cache):
    try:
        st = os.stat(path)
    except OSError:
        return cache.get("zone", {})
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    if cache.get("key") != key:
        zone = {}
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) == 4 and w[1] in ("A", "AAAA"):
                    zone.setdefault(w[0].lower().rstrip("."), []).append(
                        (w[1], w[2], int(w[3])))
        cache["key"], cache["zone"] = key, zone
    return cache["zone"]


def parse_question(msg):
    """(id, flags, name, qtype, end of question) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1:
        return None
    labels, i = [], 12
    while i < len(msg) and msg[i] != 0:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    i += 1
    if i + 4 > len(msg):
        return None
    qtype, _ = struct.unpack("!HH", msg[i:i + 4])
    return qid, flags, ".".join(labels).lower(), qtype, i + 4


def answer(msg, zone):
    q = parse_question(msg)
    if q is None:
        return None, None
    qid, flags, name, qtype, end = q
    records = zone.get(name)
    rcode = 0 if records is not None else 3
    rrs = b""
    n = 0
    for typ, value, ttl in records or []:
        if TYPES.get(qtype) != typ:
            continue
        fam = socket.AF_INET if typ == "A" else socket.AF_INET6
        data = socket.inet_pton(fam, value)
        rrs += struct.pack("!HHHIH", 0xC00C, qtype, 1, ttl, len(data)) + data
        n += 1
    # QR, AA, RD copied, RA; the question echoed.
    head = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | 0x0080 |
                       rcode, 1, n, 0, 0)
    return head + msg[12:end] + rrs, "%s %s" % (name, TYPES.get(qtype, qtype))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--zone", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--silent", action="store_true",
                   help="log queries, answer none (a resolver that hangs)")
    a = p.parse_args()
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((a.addr, a.port))
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    log = open(a.log, "a", buffering=1) if a.log else None
    cache = {}
    while True:
        msg, peer = s.recvfrom(4096)
        reply, what = answer(msg, load(a.zone, cache))
        if reply is None:
            continue
        if log:
            log.write(what + "\n")
        if not a.silent:
            s.sendto(reply, peer)


if __name__ == "__main__":
    main()
