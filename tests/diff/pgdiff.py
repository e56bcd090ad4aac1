"""The PostgreSQL half of tests/diff/diff.py: random streams of simple
and extended-protocol messages (transactions, errors, LISTEN/UNLISTEN
spelt many ways, COPY both ways, pipelined queries, batches left open
without Sync) to a real server, each byte also fed to pg_track.  After
each step the tracker is compared with the server's own view: the
backend's pg_stat_activity state (idle / idle in transaction / aborted),
and pg_listening_channels() asked on the session itself.

The tracker does not follow prepared statements (a session is closed,
not moved: they need no replay), so there is nothing of them to compare.
"""
import random
import socket
import struct
import time

from diff import Disagree, TIMEOUT, queues	# diff.py's own module


def msg(t, body=b""):
    return t + struct.pack("!I", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


def q(sql):
    return msg(b"Q", cstr(sql))


def parse(name, sql):
    return msg(b"P", cstr(name) + cstr(sql) + struct.pack("!H", 0))


def bind(stmt):
    return msg(b"B", cstr("") + cstr(stmt) + struct.pack("!HHH", 0, 0, 0))


def execute():
    return msg(b"E", cstr("") + struct.pack("!I", 0))


def describe():
    return msg(b"D", b"P" + cstr(""))


SYNC = msg(b"S")
FLUSH = msg(b"H")


class Conn:
    """A PostgreSQL connection spoken by hand (trust auth)."""

    def __init__(self, port, user, db="postgres"):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        body = struct.pack("!I", 196608) + cstr("user") + cstr(user) + \
            cstr("database") + cstr(db) + b"\0"
        self.s.sendall(struct.pack("!I", len(body) + 4) + body)
        self.startup = self.until_ready()

    def read_msg(self):
        while len(self.buf) < 5 or len(self.buf) < 1 + struct.unpack(
                "!I", self.buf[1:5])[0]:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        n = 1 + struct.unpack("!I", self.buf[1:5])[0]
        m, self.buf = self.buf[:n], self.buf[n:]
        return m

    def until_ready(self):
        got = b""
        while True:
            m = self.read_msg()
            got += m
            if m[:1] == b"Z":
                return got

    def query(self, sql):
        """Rows of the first column, as text."""
        self.s.sendall(q(sql))
        rows, err = [], None
        while True:
            m = self.read_msg()
            if m[:1] == b"D":
                n = struct.unpack("!I", m[7:11])[0]
                rows.append(None if n == 0xffffffff else
                            m[11:11 + n].decode())
            elif m[:1] == b"E":
                err = m
            elif m[:1] == b"Z":
                if err:
                    raise RuntimeError("query %r failed: %r" % (sql, err))
                return rows


CHANS = ["ch", "Ch", "other"]


def listen_sql(rng):
    c = rng.choice(CHANS)
    name = c.lower() if rng.random() < 0.6 else '"%s"' % c
    k = rng.random()
    if k < 0.45:
        return rng.choice(["LISTEN ", "listen  ", "Listen\t"]) + name + \
            rng.choice(["", ";", " ;"])
    if k < 0.7:
        return "UNLISTEN " + name
    if k < 0.85:
        return rng.choice(["UNLISTEN *", "unlisten *;"])
    if k < 0.92:
        return "DISCARD ALL"
    return rng.choice(["LISTEN a; LISTEN b", "SELECT 1; LISTEN ch",
                       "/* c */ LISTEN ch", "LISTEN " + "x" * 120])


def gen_step(rng, st):
    """Bytes of one step, and whether it leaves a batch open (no Sync
    after the last extended message)."""
    out = b""
    open_batch = st.get("batch", False)
    began = st.get("state", "idle") != "idle"
    count = rng.choice([1, 1, 1, 2, 3])
    for _ in range(count):
        k = rng.random()
        if k < 0.12:
            began = True
        elif 0.32 <= k < 0.55 and (began or count > 1 or open_batch):
            # LISTEN/UNLISTEN in a transaction block, or pipelined with
            # other queries: the tracker counts a LISTEN at once, rolled
            # back or not, and an UNLISTEN only when it knows it ran
            # alone at idle (conservative, DESIGN.md): from here on it
            # may list more channels than the server.
            st["txlisten"] = True
        if k < 0.12:
            out += q(rng.choice(["BEGIN", "begin", "START TRANSACTION"]))
        elif k < 0.22:
            out += q(rng.choice(["COMMIT", "ROLLBACK", "END", "ABORT"]))
        elif k < 0.32:
            out += q(rng.choice(["SELECT 1", "SELECT 1; SELECT 2", "",
                                 "SELECT 1/0", "SELEC", "SET x.y = 1",
                                 "SAVEPOINT s", "ROLLBACK TO s",
                                 "SELECT pg_sleep(0.01)"]))
        elif k < 0.55:
            out += q(listen_sql(rng))
        elif k < 0.57:
            out += q("NOTIFY " + rng.choice(CHANS).lower() + ", 'm'")
        elif k < 0.6:
            # A fast-path function call: now() (OID 1299).
            out += msg(b"F", struct.pack("!IHHH", 1299, 0, 0, 0))
        elif k < 0.66:
            out += q("COPY (SELECT generate_series(1, 3)) TO STDOUT")
        elif k < 0.7:
            # COPY FROM STDIN, its data and end in the same step.
            out += q("COPY t FROM STDIN") + msg(b"d", b"1\n2\n") + \
                msg(b"c")
        elif k < 0.73:
            out += q("COPY t FROM STDIN") + msg(b"d", b"x\n") + \
                msg(b"f", cstr("client gave up"))
        elif k < 0.8:
            name = rng.choice(["", "s1"])
            out += q("PREPARE p%d AS SELECT 1" % rng.randrange(3)) \
                if rng.random() < 0.3 else b""
            out += parse(name, rng.choice(["SELECT 1", "SELECT $1::int",
                                           "SELEC", "BEGIN", "COMMIT"]))
            out += bind(name) + describe() + execute()
            if rng.random() < 0.8:
                out += SYNC
                open_batch = False
            else:
                out += FLUSH
                open_batch = True
                break
        elif k < 0.85:
            out += SYNC
            open_batch = False
        else:
            out += q("SELECT %d" % rng.randrange(100))
    if open_batch and rng.random() < 0.3:
        out += SYNC
        open_batch = False
    return out, open_batch


STATES = {"idle": "I", "idle in transaction": "T",
          "idle in transaction (aborted)": "E"}


class PgDiff:
    def __init__(self, args, drive):
        self.port = args.port
        self.user = args.user
        self.drive = drive
        self.ctl = Conn(self.port, self.user)
        self.ctl.query("DROP TABLE IF EXISTS t")
        self.ctl.query("CREATE TABLE t (i int)")
        self.steps = 0

    def drain(self, sock, log):
        got = False
        while True:
            try:
                d = sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return got, False
            if not d:
                return got, True
            self.drive.feed("s", d)
            log.append(("s", d))
            got = True

    def activity(self, pid):
        r = self.ctl.query("SELECT coalesce(state, '?') || ',' || "
                           "coalesce(wait_event, '') FROM pg_stat_activity "
                           "WHERE pid = %d" % pid)
        return r[0] if r else None

    def settle(self, sock, cport, pid, log, open_batch):
        """Until the backend read all and is waiting for the client, and
        all it sent is in our socket; its state ('idle', ...)."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            _, eof = self.drain(sock, log)
            if eof:
                return None
            qs = queues(self.port, cport)
            if qs is None:
                return None
            if qs[1] != 0 or qs[2] != 0:
                continue
            st = self.activity(pid)
            if st is None:
                return None
            state, _, wait = st.partition(",")
            # Waiting for the client (ClientRead: after it flushed what
            # it had to send; "idle" alone is set before ReadyForQuery
            # is written): idle, or a batch left open (active).
            if wait != "ClientRead" or (state not in STATES and
                                         not open_batch):
                continue
            qs = queues(self.port, cport)
            if qs is None or qs[0] != 0:
                continue
            _, eof = self.drain(sock, log)
            return None if eof else state
        raise Disagree("the server never settled")

    def check(self, tr, state, open_batch, chans, txlisten):
        errs = []
        if tr["lost"]:
            if "inside an extended-protocol batch" in tr["why"]:
                return errs	# by design: never followed
            return ["tracker lost: %s" % tr["why"]]
        if open_batch:
            if tr["safe"] != "BUSY":
                errs.append("batch without Sync, tracker %s" % tr["safe"])
            return errs
        want = STATES.get(state)
        if tr["status"] != want:
            errs.append("status: tracker %s, server %s" %
                        (tr["status"], state))
        if tr["syncs"] or tr["batch"] or tr["copy"]:
            errs.append("tracker owes %d ReadyForQuery, batch %d, copy %d"
                        % (tr["syncs"], tr["batch"], tr["copy"]))
        if chans is not None:
            if chans and not tr["listening"]:
                errs.append("server listens on %s, tracker not" % chans)
            exact = not tr["unknown"] and not txlisten and want == "I"
            if not tr["unknown"] and tr["nchan"] < len(set(chans)):
                errs.append("channels: tracker %d, server %s" %
                            (tr["nchan"], chans))
            if exact and tr["nchan"] != len(set(chans)):
                errs.append("channels: tracker %d, server %s" %
                            (tr["nchan"], chans))
            if exact and not chans and tr["listening"]:
                errs.append("tracker listening, server not")
        if tr["safe"] == "SAFE" and (want != "I" or chans):
            errs.append("tracker SAFE, server %s, channels %s" %
                        (state, chans))
        return errs

    def listening(self, sock, cport, pid, log):
        """pg_listening_channels(), asked on the session (and tracked)."""
        data = q("SELECT pg_listening_channels()")
        sock.sendall(data)
        self.drive.feed("c", data)
        log.append(("c", data))
        at = len(log)
        if self.settle(sock, cport, pid, log, False) is None:
            return None
        # Everything before was whole messages: these are its replies
        # (and perhaps notifications).
        raw = b"".join(b for side, b in log[at:] if side == "s")
        chans, i = [], 0
        while i + 5 <= len(raw):
            n = struct.unpack("!I", raw[i + 1:i + 5])[0]
            if raw[i:i + 1] == b"D":
                ln = struct.unpack("!I", raw[i + 7:i + 11])[0]
                chans.append(raw[i + 11:i + 11 + ln].decode())
            i += 1 + n
        return chans

    def stream(self, rng, nsteps):
        self.drive.cmd("P")
        c = Conn(self.port, self.user)
        sock = c.s
        cport = sock.getsockname()[1]
        log = [("s", c.startup)]
        self.drive.feed("s", c.startup)
        pid = struct.unpack("!I", c.startup[c.startup.find(b"K\0\0\0\x0c") +
                                            5:][:4])[0]
        st = {}
        try:
            for _ in range(nsteps):
                data, open_batch = gen_step(rng, st)
                st["batch"] = open_batch
                i = 0
                while i < len(data):
                    n = rng.choice([len(data), 1, 4, 9, 64])
                    sock.sendall(data[i:i + n])
                    self.drive.feed("c", data[i:i + n])
                    log.append(("c", data[i:i + n]))
                    i += n
                state = self.settle(sock, cport, pid, log, open_batch)
                if state is None:
                    raise Disagree("the server closed the session")
                tr = self.drive.ask("q")
                chans = None
                if not open_batch and state in ("idle",
                                                "idle in transaction"):
                    chans = self.listening(sock, cport, pid, log)
                    tr = self.drive.ask("q")
                self.steps += 1
                st["state"] = state
                errs = self.check(tr, state, open_batch, chans,
                                  st.get("txlisten", False))
                if errs:
                    raise Disagree("; ".join(errs) + "\ntracker: %s\n"
                                   "server: %s" % (tr, state))
                if tr["lost"]:
                    return
        except Disagree as e:
            e.log = log
            raise
        finally:
            sock.close()
