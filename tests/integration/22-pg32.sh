#!/bin/bash
# PostgreSQL protocol 3.2 (PostgreSQL 18) through tcp://, ssh:// and
# tls:// routes: the cancel key of BackendKeyData and CancelRequest is 4
# to 256 bytes (PostgreSQL 18 sends 32), a client asks for 3.2 (libpq 18:
# max_protocol_version=3.2) or for a minor version nobody knows (3.99,
# as PostgreSQL 19's libpq does to test negotiation), and the server's
# NegotiateProtocolVersion passes through postern untouched.
#
# tests/pgwire.py speaks the protocol itself, so the cases with it run
# against any server: an older one answers 3.2 with NegotiateProtocolVersion
# and a 4-byte key.  The cases with psql need PostgreSQL 18 and its libpq
# (the Debian testing stage, tests/chroot.sh --suite forky) and are
# skipped elsewhere.
. "$(dirname "$0")/../lib.sh"

unset SSH_AUTH_SOCK SSH_AGENT_PID
PGWIRE=(/usr/bin/python3 "$TOP/tests/pgwire.py")

# The server's major version, and libpq's (psql's).
pg_major() {
	"$PGBIN/postgres" -V | awk '{ split($3, v, "."); print v[1] }'
}
libpq_major() {
	psql -V | awk '{ split($3, v, "."); print v[1] }'
}

# need_pg18: skip the case unless server and libpq are PostgreSQL 18+.
need_pg18() {
	(($(pg_major) >= 18 && $(libpq_major) >= 18)) ||
	    skip_case "needs PostgreSQL 18 and libpq 18 (here $(pg_major) and $(libpq_major))"
}

# pg_for TRANSPORT: a cluster for it (tls: ssl = on, and TLS required
# from 127.0.0.1, so that nothing gets through in the clear); postern
# with one route to it over TRANSPORT, debug log (the key lengths).
pg_for() {
	local k=$T/pgtls$_CASE_ID
	if [[ $1 == tls ]]; then
		mkdir -p "$k"
		cp "$PKI/server.crt" "$PKI/server.key" "$k/"
		chmod 600 "$k/server.key"
		((EUID == 0)) && chown -R postgres:postgres "$k"
		PG_HBA=$'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject' \
		PG_OPTS="-c ssl=on -c ssl_cert_file=$k/server.crt -c ssl_key_file=$k/server.key" \
		    start_postgres
	else
		start_postgres
	fi
	GLOBAL_OPTS=(log_level=debug)
	postern_on "$1" postgres "$PG_PORT" -- check=none
}

# pg_local SQL: a query on the server itself, over its Unix socket.
pg_local() {
	timeout 30 psql "host=$PG_SOCKDIR port=$PG_PORT user=postgres dbname=postgres" \
	    -X -Atc "$1" 2>&1
}

# sleeping_backend SECONDS: the pid of the backend running
# pg_sleep(SECONDS), or nothing.
sleeping_backend() {
	pg_local "select pid from pg_stat_activity where query = 'select pg_sleep($1)' and state = 'active'"
}
backend_sleeping() {
	[[ -n "$(sleeping_backend "$1")" ]]
}
backend_gone() {
	[[ -z "$(sleeping_backend "$1")" ]]
}

# size_is FILE N: FILE has N bytes.
size_is() {
	[[ "$(stat -c %s "$1")" == "$2" ]]
}

# wire_key OUT: "PID HEX" once pgwire.py has printed its key.
wire_key() {
	sed -n 's/^key //p' "$1" | head -n 1
}
have_line() {
	grep -q "^$2" "$1"
}

# expect_wire_cancel TRANSPORT MINOR NEGOTIATED KEYLEN: pgwire.py asks
# for 3.MINOR and runs pg_sleep(10) through postern; the server's answer
# to the version (NEGOTIATED: "none" or "3.N") reaches it as sent; its
# key is KEYLEN bytes.  A CancelRequest with that key but its last byte
# changed is refused by postern (whole keys only) and the query runs on;
# the right one stops it at once.
expect_wire_cancel() {
	local out=$T/wire$_CASE_ID.out pid hex bad n
	pg_for "$1"
	"${PGWIRE[@]}" "$LISTEN_PORT" sleep "$2" 10 > "$out" 2>&1 &
	track_client "$!"
	wait_until 20 have_line "$out" "key " ||
	    fail_case "no BackendKeyData through postern: $(head -c 300 "$out")"
	expect_eq "NegotiateProtocolVersion as the client saw it" \
	    "negotiate $3" "$(sed -n 's/^negotiate //p' "$out" | sed 's/^/negotiate /')"
	read -r pid hex <<< "$(wire_key "$out")"
	expect_eq "key length (bytes)" "$4" "$((${#hex} / 2))"
	expect_log " backend pid $pid, $4-byte cancel key$"
	wait_until 20 backend_sleeping 10 || fail_case "pg_sleep never showed up on the server"
	# The last byte flipped: no such backend as far as postern knows.
	bad=${hex:0:$((${#hex} - 2))}$(printf '%02x' $((0x${hex: -2} ^ 1)))
	timeout 20 "${PGWIRE[@]}" "$LISTEN_PORT" cancel "$pid" "$bad" ||
	    fail_case "the wrong-key cancel connection: see $out"
	expect_log ": closed \\(client: cancel request for an unknown backend \\(pid $pid\\)\\)"
	backend_sleeping 10 || fail_case "a cancel with a wrong key stopped the query"
	timeout 20 "${PGWIRE[@]}" "$LISTEN_PORT" cancel "$pid" "$hex" ||
	    fail_case "the cancel connection failed"
	wait_until 5 backend_gone 10 || fail_case "the backend still runs pg_sleep 5 s after the cancel"
	wait_until 10 have_line "$out" "result " || fail_case "the query never ended"
	expect_match "the query's end" '^result 57014 [0-9]+$' "$(grep '^result ' "$out")"
	n=$(sed -n 's/^result 57014 //p' "$out")
	((n < 9000)) || fail_case "the query ended after $n ms: not cancelled"
	expect_log " cancel request for backend pid $pid \\($4-byte key\\) goes to route private$"
	expect_log " -> private [0-9.:]+: closed \\(server closed\\) after [0-9.]+s, $((12 + $4)) bytes up, 0 bytes down$"
}

# Any server: 3.2 and 3.99 asked for.  PostgreSQL before 18 answers both
# with NegotiateProtocolVersion 3.0 and a 4-byte key; 18 takes 3.2 as it
# is (no NegotiateProtocolVersion) and answers 3.99 with 3.2; both send
# a 32-byte key.
case_wire_32() {
	if (($(pg_major) >= 18)); then
		expect_wire_cancel "$1" 2 none 32
	else
		expect_wire_cancel "$1" 2 3.0 4
	fi
}
case_wire_399() {
	if (($(pg_major) >= 18)); then
		expect_wire_cancel "$1" 99 3.2 32
	else
		expect_wire_cancel "$1" 99 3.0 4
	fi
}
case_wire_30() {
	expect_wire_cancel "$1" 0 none 4
}

# PostgreSQL 18 and libpq 18: psql sessions on 3.0 and on 3.2, each
# seen by postern with its key length; the server says which protocol
# the session has.
case_psql_versions() {
	local v out want
	need_pg18
	pg_for "$1"
	for v in 3.0 3.2; do
		out=$(timeout 60 psql "$(pg_conninfo "$LISTEN_PORT" "max_protocol_version=$v")" \
		    -X -v ON_ERROR_STOP=1 -Atc 'select 41 + 1' 2>&1)
		expect_eq "psql (max_protocol_version=$v) through postern" 42 "$out"
		want=4
		[[ $v == 3.2 ]] && want=32
		expect_log " backend pid [0-9]+, $want-byte cancel key$"
	done
	# What libpq itself says it negotiated (\conninfo, psql 18).
	out=$(timeout 60 psql "$(pg_conninfo "$LISTEN_PORT" "max_protocol_version=3.2")" \
	    -X -c '\conninfo' 2>&1)
	expect_match "psql's \\conninfo on a 3.2 session" 'Protocol Version[ |]+3\.2' "$out"
}

# PostgreSQL 18 and libpq 18: psql runs pg_sleep(10) on a 3.2 session,
# with \timing; SIGINT makes libpq send a CancelRequest with the 32-byte
# key to postern's port, which sends it on over the session's route.
case_psql_cancel() {
	local pid bpid out=$T/psql$_CASE_ID.out
	need_pg18
	pg_for "$1"
	# Not under timeout(1): psql must get the SIGINT itself (a
	# background job starts with SIGINT ignored, and coreutils 9.10's
	# timeout then passes none on); the case's own timeout bounds it.
	psql "$(pg_conninfo "$LISTEN_PORT" "max_protocol_version=3.2")" \
	    -X -c '\timing on' -c 'select pg_sleep(10)' > "$out" 2>&1 &
	pid=$!
	track_client "$pid"
	wait_until 20 backend_sleeping 10 || fail_case "pg_sleep never showed up on the server"
	bpid=$(sleeping_backend 10)
	expect_log " backend pid $bpid, 32-byte cancel key$"
	kill -INT "$pid"
	wait_until 5 backend_gone 10 || fail_case "backend $bpid still runs pg_sleep 5 s after SIGINT to psql"
	wait_exit "$pid" 10 || fail_case "psql did not end after the cancel"
	expect_match "psql's output" 'canceling statement due to user request' "$(cat "$out")"
	# \timing: the statement's time as psql measured it, under 9 s.
	expect_match "psql's \\timing" $'\nTime: [0-8]?[0-9]{1,3}\\.[0-9]+ ms' "$(cat "$out")"
	expect_log " cancel request for backend pid $bpid \\(32-byte key\\) goes to route private$"
	expect_log " -> private [0-9.:]+: closed \\(server closed\\) after [0-9.]+s, 44 bytes up, 0 bytes down$"
}

# The session resume of issue 21 with 3.2 keys: a pgwire.py session on
# protocol 3.MINOR through private (over TRANSPORT) is pinned to public
# and resumes there (auth_file: trust asks for no secret); the new
# backend's key is as long as the first one's (32 bytes on PostgreSQL
# 18); the client's own first key then cancels its pg_sleep on the new
# backend.  Runs on any server (before 18: 4-byte keys).
case_resume_key() {
	local t=$1 out=$T/resume$_CASE_ID.out go=$T/go$_CASE_ID uf=$T/ul$_CASE_ID
	local pid hex bpid n keylen=4 admin
	(($(pg_major) >= 18)) && keylen=32
	if [[ $t == tls ]]; then
		local k=$T/pgtls$_CASE_ID
		mkdir -p "$k"
		cp "$PKI/server.crt" "$PKI/server.key" "$k/"
		chmod 600 "$k/server.key"
		((EUID == 0)) && chown -R postgres:postgres "$k"
		PG_OPTS="-c ssl=on -c ssl_cert_file=$k/server.crt -c ssl_key_file=$k/server.key" \
		    start_postgres
	else
		start_postgres
	fi
	printf '"postgres" "unused: trust"\n' > "$uf"
	chmod 600 "$uf"
	admin=127.0.0.1:$(free_port) || fail_case "no free port"
	GLOBAL_OPTS=(log_level=debug "admin=$admin")
	postern_on "$t" postgres "$PG_PORT" "public tcp://127.0.0.1:$PG_PORT" -- \
	    check=none "auth_file=$uf"
	"${PGWIRE[@]}" "$LISTEN_PORT" resume 2 "$go" 10 > "$out" 2>&1 &
	track_client "$!"
	wait_until 20 have_line "$out" "key " ||
	    fail_case "no BackendKeyData through postern: $(head -c 300 "$out")"
	read -r pid hex <<< "$(wire_key "$out")"
	expect_eq "key length (bytes)" "$keylen" "$((${#hex} / 2))"
	timeout 20 "$POSTERN" ctl -a "$admin" pin postgres public > "$T/ctl.out" 2>&1 ||
	    fail_case "ctl pin: $(cat "$T/ctl.out")"
	expect_log ' -> private [0-9.:]+: resumed on public ' 20
	: > "$go"
	wait_until 20 have_line "$out" "backend " || fail_case "no backend after the resume: $(tail -n 2 "$out")"
	bpid=$(sed -n 's/^backend //p' "$out")
	[[ $bpid != "$pid" ]] || fail_case "the same backend after the resume: $bpid"
	expect_log " backend pid $pid, $keylen-byte cancel key$"
	wait_until 20 backend_sleeping 10 || fail_case "pg_sleep never showed up on the server"
	expect_eq "the sleeping backend" "$bpid" "$(sleeping_backend 10)"
	timeout 20 "${PGWIRE[@]}" "$LISTEN_PORT" cancel "$pid" "$hex" ||
	    fail_case "the cancel connection failed"
	wait_until 5 backend_gone 10 || fail_case "backend $bpid still runs pg_sleep 5 s after the cancel"
	wait_until 10 have_line "$out" "result " || fail_case "the query never ended"
	expect_match "the query's end" '^result 57014 [0-9]+$' "$(grep '^result ' "$out")"
	n=$(sed -n 's/^result 57014 //p' "$out")
	((n < 9000)) || fail_case "the query ended after $n ms: not cancelled"
	expect_log " cancel request for backend pid $pid \\($keylen-byte key\\) goes to route public$"
}

# Health checks stay on protocol 3.0, whatever the clients speak: a
# check that logs in (check_user) sends a StartupMessage for 3.0.
case_checks_on_30() {
	local f=$T/check$_CASE_ID got
	transport_socat tcp "SYSTEM:head -c 8 > $f"
	postern_service postgres "private tcp://127.0.0.1:$SERVER_PORT" -- \
	    check_interval=200ms check_timeout=150ms check_user=postgres
	wait_until 20 size_is "$f" 8 || fail_case "no check reached the server"
	got=$(od -An -tx1 -j4 -N4 "$f" | tr -d ' ')
	expect_eq "protocol version of a check's StartupMessage" 00030000 "$got"
}

(make_pki) > "$T/pki.log" 2>&1 || {
	fail "$SCRIPT_NAME: make_pki" "$(tail -n 5 "$T/pki.log" | paste -sd'|')"
	finish
}
for t in "${TRANSPORTS[@]}"; do
	run_case "$t: pgwire 3.0: 4-byte key, cancel by the whole key" case_wire_30 "$t"
	run_case "$t: pgwire 3.2: NegotiateProtocolVersion passes, cancel by the whole key" case_wire_32 "$t"
	run_case "$t: pgwire 3.99: the server negotiates, postern passes it" case_wire_399 "$t"
	run_case "$t: psql 18 sessions with max_protocol_version 3.0 and 3.2" case_psql_versions "$t"
	run_case "$t: psql 18 cancels pg_sleep(10) with a 32-byte key" case_psql_cancel "$t"
	run_case "$t: a 3.2 session resumes on another route; its first key cancels there" case_resume_key "$t"
done
run_case "health checks stay on protocol 3.0" case_checks_on_30
finish
