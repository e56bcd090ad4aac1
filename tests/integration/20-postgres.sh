#!/bin/bash
# PostgreSQL through postern: a fresh cluster per case, real psql and pgbench.
. "$(dirname "$0")/../lib.sh"

# postern_pg: one postgres service in front of $PG_PORT; sets LISTEN_PORT.
postern_pg() {
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global
		conf_service postgres "127.0.0.1:$LISTEN_PORT" postgres \
		    "private tcp://127.0.0.1:$PG_PORT"
	} > "$CONF"
	start_postern "$CONF"
}

# psql_at PORT SQL [CONNINFO-EXTRA]: one statement, unaligned tuples only.
psql_at() {
	timeout 60 psql "$(pg_conninfo "$1" "${3:-}")" -X -v ON_ERROR_STOP=1 \
	    -tAc "$2" 2>&1
}

case_select_nossl() {
	start_postgres
	postern_pg
	expect_eq "select 1, sslmode=disable" 1 \
	    "$(psql_at "$LISTEN_PORT" 'select 1' sslmode=disable)"
	# psql sends Terminate and closes; the server closes on Terminate:
	# which end postern sees first is a race, either is a clean end.
	expect_log " s[0-9]+ postgres 127\.0\.0\.1:[0-9]+ -> private 127\.0\.0\.1:$PG_PORT: closed \((client|server) closed\)"
}

# With the default sslmode=prefer, psql first asks for TLS; the server
# (no ssl) answers N through postern and the session goes on in clear.
case_select_prefer() {
	start_postgres
	postern_pg
	expect_eq "select 1, sslmode=prefer" 1 \
	    "$(psql_at "$LISTEN_PORT" 'select 1' sslmode=prefer)"
	expect_eq "select 1, default sslmode" 1 \
	    "$(psql_at "$LISTEN_PORT" 'select 1')"
}

# A result of several MB and a COPY in both directions.
case_bulk() {
	local want got
	start_postgres
	postern_pg
	want=$(psql_at "$PG_PORT" "select md5(string_agg(g::text || repeat('x', 50), ',')) from generate_series(1, 200000) g")
	got=$(psql_at "$LISTEN_PORT" "select md5(string_agg(g::text || repeat('x', 50), ',')) from generate_series(1, 200000) g")
	expect_match "md5 computed directly" '^[0-9a-f]{32}$' "$want"
	expect_eq "md5 through postern" "$want" "$got"
	seq 1 300000 > "$T/nums"
	psql_at "$LISTEN_PORT" 'create table nums(n int)' > /dev/null
	got=$(timeout 60 psql "$(pg_conninfo "$LISTEN_PORT")" -X -v ON_ERROR_STOP=1 \
	    -c '\copy nums from stdin' < "$T/nums" 2>&1)
	expect_eq "COPY FROM through postern" "COPY 300000" "$got"
	timeout 60 psql "$(pg_conninfo "$LISTEN_PORT")" -X -v ON_ERROR_STOP=1 \
	    -c '\copy (select n from nums order by n) to stdout' > "$T/nums.out" 2>&1
	expect_eq "COPY TO through postern" "$(sha256_of "$T/nums")" "$(sha256_of "$T/nums.out")"
}

case_pgbench() {
	local out
	start_postgres
	postern_pg
	out=$(timeout 120 pgbench -i -s 1 -q -h 127.0.0.1 -p "$LISTEN_PORT" \
	    -U postgres postgres 2>&1) ||
	    fail_case "pgbench -i failed: $(_short "$(tail -n 3 <<< "$out")")"
	out=$(timeout 120 pgbench -n -c 4 -j 2 -t 200 -h 127.0.0.1 \
	    -p "$LISTEN_PORT" -U postgres postgres 2>&1) ||
	    fail_case "pgbench run failed: $(_short "$(tail -n 5 <<< "$out")")"
	expect_match "pgbench transactions" \
	    'number of transactions actually processed: 800/800' "$out"
	[[ "$out" =~ number\ of\ failed\ transactions:\ ([0-9]+) ]] &&
	    expect_eq "pgbench failed transactions" 0 "${BASH_REMATCH[1]}"
	expect_eq "accounts loaded" 100000 \
	    "$(psql_at "$PG_PORT" 'select count(*) from pgbench_accounts')"
	# -C: a new connection for every transaction.
	out=$(timeout 120 pgbench -n -C -c 4 -j 2 -t 50 -S -h 127.0.0.1 \
	    -p "$LISTEN_PORT" -U postgres postgres 2>&1) ||
	    fail_case "pgbench -C failed: $(_short "$(tail -n 5 <<< "$out")")"
	expect_match "pgbench -C transactions" \
	    'number of transactions actually processed: 200/200' "$out"
}

# A backend that goes away mid-session: the client sees the error and
# postern logs the session as closed by the server.
case_backend_terminated() {
	local out
	start_postgres
	postern_pg
	out=$(timeout 60 psql "$(pg_conninfo "$LISTEN_PORT")" -X \
	    -c 'select pg_terminate_backend(pg_backend_pid())' -c 'select 1' 2>&1)
	expect_match "psql after its backend was terminated" \
	    'terminat|closed the connection' "$out"
	expect_log " -> private 127\.0\.0\.1:$PG_PORT: closed \(server closed\)"
	expect_eq "a new session works" 1 "$(psql_at "$LISTEN_PORT" 'select 1')"
}

# A client whose SSLRequest and StartupMessage arrive in pieces (a few
# bytes per segment, TCP_NODELAY): postern's startup reader appends each
# piece to what it holds (pg_front.c).
case_startup_pieces() {
	local out
	start_postgres
	postern_pg
	out=$(timeout 60 /usr/bin/python3 - "$LISTEN_PORT" <<'PY' 2>&1
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def pieces(b, k):
    for i in range(0, len(b), k):
        s.sendall(b[i:i + k])
        time.sleep(0.02)    # a segment each, not a condition waited for
pieces(struct.pack("!II", 8, 80877103), 3)
assert s.recv(1) == b"N", "no N to the SSLRequest"
body = struct.pack("!I", 196608) + b"user\0postgres\0database\0postgres\0\0"
pieces(struct.pack("!I", len(body) + 4) + body, 5)
got = b""
def msgs():
    global got
    while True:
        while len(got) >= 5:
            n = struct.unpack("!I", got[1:5])[0]
            if len(got) < 1 + n:
                break
            m, got = got[:1 + n], got[1 + n:]
            yield m
        d = s.recv(4096)
        if not d:
            sys.exit("closed early")
        got += d
for m in msgs():
    if m[:1] == b"E":
        sys.exit("error: %r" % m)
    if m[:1] == b"Z":
        break
q = b"select 40 + 2\0"
s.sendall(b"Q" + struct.pack("!I", len(q) + 4) + q)
for m in msgs():
    if m[:1] == b"D":
        print(m[11:].decode())
    if m[:1] == b"Z":
        break
PY
)
	expect_eq "select through a startup sent in pieces" 42 "$out"
}

# A StartupMessage of ~8 KB (a long option), more than the reader's page
# holds (PG_FRONT_MEM): it goes on in a buffer of its own and reaches the
# server whole, after an SSLRequest (sslmode=prefer).
case_startup_long() {
	local pad
	start_postgres
	postern_pg
	pad=$(head -c 8000 /dev/zero | tr '\0' x)
	expect_eq "an 8 KB option through postern, byte for byte" t \
	    "$(PGOPTIONS="-c postern.pad=$pad" psql_at "$LISTEN_PORT" \
	    "select current_setting('postern.pad') = repeat('x', 8000)" \
	    sslmode=prefer)"
}

run_case "startup and SSLRequest in pieces of a few bytes" case_startup_pieces
run_case "a startup longer than the reader's page" case_startup_long
run_case "psql select 1 (sslmode=disable)" case_select_nossl
run_case "psql select 1 (sslmode=prefer)" case_select_prefer
run_case "bulk result and COPY" case_bulk
run_case "pgbench -i and a short run" case_pgbench
run_case "backend terminated mid-session" case_backend_terminated
finish
