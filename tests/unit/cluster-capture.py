#!/usr/bin/python3
"""cluster-capture.py: capture a real cluster's replies for the unit tests.

    tests/unit/cluster-capture.py SERVER CLI DIR

Starts six nodes of SERVER (redis-server, valkey-server) on
127.0.0.1:31001-31006 in a temporary directory, each announcing the
hostname node<port>.internal, joins them with "CLI --cluster create
... --cluster-replicas 1", waits until every node is online, then writes
the raw replies (RESP2, and RESP3 after HELLO 3) into DIR, one file
FIELD.resp each holding the bytes exactly as the server wrote them:
-MOVED and -ASK, CLUSTER SLOTS, SHARDS, NODES, REPLICAS, SLAVES, ROLE
and INFO replication, with cluster-preferred-endpoint-type ip, hostname
(h) and unknown-endpoint (u).  DIR/capset.txt says which server it was
and which node is 31001's replica, one "key value" a line:

    name Redis 8.0.2
    replica 31006

test_cluster_caps.c reads DIR as tests/unit/captures/cluster-NAME/
(cluster-redis8, cluster-valkey; Makefile.am names the folders), its
struct cluster_capset and CAPSET_FILES list the fields: a new field is
added there and here.

Run it where the ports are free and private, e.g. in the Debian 13
chroot inside a network namespace of its own, then copy DIR into
tests/unit/captures/:

    unshare -n sh -c 'ip link set lo up; chroot /var/cache/postern-ci/trixie \\
        python3 /tmp/cluster-capture.py valkey-server valkey-cli \\
        /tmp/cluster-valkey'

The Redis 8 and Valkey captures in the tree were made by the earlier
form of this script, which wrote a C header (cluster_caps_NAME.h); they
were converted to these files byte for byte, without the servers.  This
file-writing form has not been run against Redis 8 or Valkey (their
servers are only in the Debian 13 chroot); it was run once against
Debian 12's Redis 7.0.15 in a network namespace of its own, and
test_cluster_caps passed on what it wrote.

Python's standard library only (the chroot has no redis-py).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

PORTS = list(range(31001, 31007))
HOST = "127.0.0.1"
KEY = "foo"		# slot 12182: node 31003's with the default layout
SLOT = 12182


def frame_end(buf, i=0):
    """Index just past the RESP value at buf[i:], or None if incomplete."""
    nl = buf.find(b"\r\n", i)
    if nl < 0:
        return None
    t, head, nxt = buf[i:i + 1], buf[i + 1:nl], nl + 2
    if t in b"+-:_,#(":
        return nxt
    if t in b"$=!":
        n = int(head)
        if n < 0:
            return nxt
        return nxt + n + 2 if len(buf) >= nxt + n + 2 else None
    if t in b"*~>%|":
        n = int(head)
        if t in b"%|":
            n *= 2
        for _ in range(max(n, 0)):
            nxt = frame_end(buf, nxt)
            if nxt is None:
                return None
        # an attribute (|) comes before its value
        return frame_end(buf, nxt) if t == b"|" else nxt
    raise ValueError("bad RESP type %r" % t)


class Conn:
    def __init__(self, port, resp3=False):
        self.s = socket.create_connection((HOST, port), timeout=10)
        self.buf = b""
        if resp3:
            self.raw("HELLO", "3")

    def raw(self, *args):
        cmd = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            cmd += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(cmd)
        while True:
            end = frame_end(self.buf) if self.buf else None
            if end is not None:
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            data = self.s.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data

    def text(self, *args):
        r = self.raw(*args)
        if r[:1] in b"$=":
            body = r[r.index(b"\r\n") + 2:-2]
            return body[4:].decode() if r[:1] == b"=" else body.decode()
        return r.decode()


def cmd(port, *args):
    c = Conn(port)
    try:
        return c.text(*args)
    finally:
        c.s.close()


def wait(cond, what, secs=60):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except (OSError, EOFError, ValueError):
            pass
        time.sleep(0.2)
    sys.exit("cluster-capture: %s: not in %d s" % (what, secs))


def start(server, cli, top):
    procs = []
    for p in PORTS:
        d = os.path.join(top, str(p))
        os.mkdir(d)
        procs.append(subprocess.Popen(
            [server, "--port", str(p), "--bind", HOST, "--dir", d,
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--cluster-enabled", "yes",
             "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", "5000",
             "--cluster-announce-hostname", "node%d.internal" % p],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for p in PORTS:
        wait(lambda: cmd(p, "PING") == "+PONG\r\n", "node %d up" % p)
    subprocess.run([cli, "--cluster", "create"] +
                   ["%s:%d" % (HOST, p) for p in PORTS] +
                   ["--cluster-replicas", "1", "--cluster-yes"],
                   check=True, stdout=subprocess.DEVNULL)

    def ready():
        for p in PORTS:
            info = cmd(p, "CLUSTER", "INFO")
            if "cluster_state:ok" not in info or \
               "cluster_known_nodes:6" not in info:
                return False
        return cmd(PORTS[0], "CLUSTER", "SHARDS").count("online") == 6 and \
            cmd(PORTS[0], "CLUSTER", "NODES").count(" slave ") == 3

    wait(ready, "cluster ok, six nodes online")
    return procs


def capture():
    ids = {p: cmd(p, "CLUSTER", "MYID") for p in PORTS}
    # the replica of 31001 (redis-cli and valkey-cli pair them apart)
    rport = None
    for line in cmd(PORTS[0], "CLUSTER", "NODES").splitlines():
        f = line.split()
        if len(f) > 3 and "slave" in f[2] and f[3] == ids[31001]:
            rport = int(f[1].split("@")[0].split(":")[1])
    assert rport is not None, "31001 has no replica"
    caps = [("replica", rport)]

    def both(name, port, *args):
        for v, r3 in (("2", False), ("3", True)):
            c = Conn(port, r3)
            caps.append((name + v, c.raw(*args)))
            c.s.close()

    both("moved", 31001, "GET", KEY)
    # -ASK: the slot migrating from its owner to 31001, the key absent.
    assert cmd(31003, "CLUSTER", "SETSLOT", str(SLOT), "MIGRATING",
               ids[31001]) == "+OK\r\n"
    both("ask", 31003, "GET", KEY)
    assert cmd(31003, "CLUSTER", "SETSLOT", str(SLOT), "STABLE") == "+OK\r\n"
    both("slots", 31001, "CLUSTER", "SLOTS")
    both("shards", 31001, "CLUSTER", "SHARDS")
    both("nodes", 31001, "CLUSTER", "NODES")
    both("replicas", 31001, "CLUSTER", "REPLICAS", ids[31001])
    both("slaves", 31001, "CLUSTER", "SLAVES", ids[31001])
    both("rolem", 31001, "ROLE")
    both("roler", rport, "ROLE")
    both("infom", 31001, "INFO", "replication")
    both("infor", rport, "INFO", "replication")
    for p in PORTS:
        cmd(p, "CONFIG", "SET", "cluster-preferred-endpoint-type", "hostname")
    both("hmoved", 31001, "GET", KEY)
    both("hslots", 31001, "CLUSTER", "SLOTS")
    both("hshards", 31001, "CLUSTER", "SHARDS")
    for p in PORTS:
        cmd(p, "CONFIG", "SET", "cluster-preferred-endpoint-type",
            "unknown-endpoint")
    both("umoved", 31001, "GET", KEY)
    both("uslots", 31001, "CLUSTER", "SLOTS")
    return caps


def write(d, name, caps):
    """DIR/FIELD.resp with each reply's bytes, DIR/capset.txt."""
    os.makedirs(d, exist_ok=True)
    meta = "name %s\n" % name
    for k, v in caps:
        if isinstance(v, int):
            meta += "%s %d\n" % (k, v)
            continue
        with open(os.path.join(d, k + ".resp"), "wb") as f:
            f.write(v)
    with open(os.path.join(d, "capset.txt"), "w") as f:
        f.write(meta)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: cluster-capture.py SERVER CLI DIR")
    server, cli, out = sys.argv[1:]
    version = subprocess.run([server, "--version"], capture_output=True,
                             text=True).stdout.split()
    version = " ".join(version[:3]).replace("server v=", "")
    top = tempfile.mkdtemp(prefix="cluster-capture-")
    procs = []
    try:
        procs = start(server, cli, top)
        caps = capture()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(top, ignore_errors=True)
    write(out, version, caps)


if __name__ == "__main__":
    main()
