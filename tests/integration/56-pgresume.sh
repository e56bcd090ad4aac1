#!/bin/bash
# PostgreSQL sessions resume on the new route (issue 21; follow_pg.c,
# pg_state.c, pgresume.c): a failback moves pooled sessions of a psycopg
# ConnectionPool and of pgbench -M prepared to the preferred route
# without an error: postern logs in there as the session's user with the
# SCRAM secret of auth_file (read from pg_authid: no password in it),
# replays SET and prepared statements, and swaps the server under the
# client.  The client's cancel key reaches the new backend.  Sessions
# with state that cannot be carried over (a temporary table, an advisory
# lock, a user missing from auth_file) are closed at an idle point with
# 57P01 as before, the reason in the log.  One PostgreSQL 15; the
# preferred route "private" reaches it through a forwarder that starts
# late (the route comes up: a failback), over tcp://, ssh:// or tls://.
# With on_route_down = move, a pool's sessions idle when private hangs
# (its forwarder SIGSTOPped) resume on public, their clients held
# meanwhile (case_pool_route_down).
. "$(dirname "$0")/../lib.sh"

unset SSH_AUTH_SOCK SSH_AGENT_PID

RISE=2 INTERVAL_MS=300
FAST=("check_interval=${INTERVAL_MS}ms" "check_fast_interval=${INTERVAL_MS}ms"
	"check_down_interval=${INTERVAL_MS}ms" "check_timeout=${INTERVAL_MS}ms"
	fall=2 "rise=$RISE")
APP_PW=app-pw-$$-$RANDOM

# pg_template: a stopped cluster in $T/pgtmpl/data, made once per file
# (the first case that needs it; a case that fails half-way leaves no
# ready mark, so the next one makes it again): role app with a SCRAM
# password, database app with pgbench's tables, and $T/pgtmpl/secret,
# app's SCRAM secret as pg_authid has it.  Each case's cluster is a copy
# of it: the same fresh cluster that initdb, CREATE ROLE and pgbench -i
# made, without their seconds in every case.
pg_template() {
	local dir=$T/pgtmpl port secret
	[[ -f $dir/ready ]] && return 0
	port=$(free_port) || fail_case "no free port for postgres"
	rm -rf "$dir"
	mkdir -p "$dir/sock"
	((EUID == 0)) && chown -R postgres:postgres "$dir"
	fixture_pg_initdb "$PGBIN" "$dir/data" > "$dir/initdb.log" 2>&1 ||
	    fail_case "initdb failed: $(tail -n 3 "$dir/initdb.log")"
	printf '%s\n' 'local all all trust' 'host all app 127.0.0.1/32 scram-sha-256' \
	    'host all all 127.0.0.1/32 trust' 'host replication all 127.0.0.1/32 trust' \
	    > "$dir/data/pg_hba.conf"
	PG_OPTS='' _pg_ctl_start "$dir" "$port"
	_as_postgres psql -X -q -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres \
	    -c "CREATE ROLE app LOGIN PASSWORD '$APP_PW'" \
	    -c "CREATE DATABASE app OWNER app" > "$dir/psql.log" 2>&1 ||
	    fail_case "psql: $(tail -n 2 "$dir/psql.log")"
	secret=$(_as_postgres psql -X -qAt -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres \
	    -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'")
	[[ $secret == SCRAM-SHA-256\$* ]] || fail_case "no SCRAM secret for app: $secret"
	printf '%s\n' "$secret" > "$dir/secret"
	_as_postgres pgbench -i -q -s 1 -h "$PG_SOCKDIR" -p "$PG_PORT" -U app app \
	    > "$dir/pgbench-init.log" 2>&1 || fail_case "pgbench -i: $(tail -n 2 "$dir/pgbench-init.log")"
	# A clean shutdown: a copy then starts without crash recovery.
	_as_postgres timeout 60 "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop \
	    > "$dir/stop.log" 2>&1 || fail_case "pg_ctl stop: $(tail -n 2 "$dir/stop.log")"
	rm -f "$dir/data/postmaster.opts"
	: > "$dir/ready"
}

# start_pg_app TRANSPORT: PostgreSQL (a copy of pg_template's cluster)
# with TLS for tls; role app with a SCRAM password, database app with
# pgbench's tables; $T/userlist.txt holds app's SCRAM secret as
# pg_authid has it.
start_pg_app() {
	local k=$T/pgtls port dir
	pg_template
	PG_OPTS=
	if [[ $1 == tls ]]; then
		make_pki > "$T/pki.log" 2>&1 || fail_case "make_pki failed"
		mkdir -p "$k"
		cp "$PKI/server.crt" "$PKI/server.key" "$k/"
		chown -R postgres:postgres "$k"
		chmod 600 "$k/server.key"
		PG_OPTS="-c ssl=on -c ssl_cert_file=$k/server.crt -c ssl_key_file=$k/server.key"
	fi
	port=$(free_port) || fail_case "no free port for postgres"
	dir=$T/pg-$port
	mkdir -p "$dir/sock"
	cp -a "$T/pgtmpl/data" "$dir/data" || fail_case "cannot copy the template cluster"
	((EUID == 0)) && chown -R postgres:postgres "$dir"
	_pg_ctl_start "$dir" "$port"
	printf '; app, as pg_authid holds it\n"app" "%s"\n' "$(cat "$T/pgtmpl/secret")" > "$T/userlist.txt"
	chmod 600 "$T/userlist.txt"
}

# postern_resume TRANSPORT [KEY=VALUE...]: route private over TRANSPORT
# to a forwarder port FWD_PORT (nothing there yet: private is down),
# public straight to PostgreSQL; waits until public is up.
postern_resume() {
	local t=$1
	shift
	FWD_PORT=$(free_port) || fail_case "no free port"
	transport_route "$t" "$FWD_PORT"
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	GLOBAL_OPTS=("admin=$ADMIN" log_level=debug)
	postern_service postgres "$ROUTE" "public tcp://127.0.0.1:$PG_PORT" -- \
	    "${FAST[@]}" check=postgres "auth_file=$T/userlist.txt" "$@"
	[[ $t != ssh* ]] ||
	    expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in " 20
	expect_log 'notice: postgres/public: up \(check ok\)$' 20
}

# failback: start the forwarder; private comes up.
failback() {
	(_close_sess_fds; exec socat "TCP-LISTEN:$FWD_PORT,bind=127.0.0.1,reuseaddr,fork" \
	    "TCP:127.0.0.1:$PG_PORT") > "$T/fwd.log" 2>&1 &
	FWD_PID=$!
	track_server "$FWD_PID"
	expect_log 'notice: postgres/private: ((unknown|down) -> up|up \(check ok\)$)' 20
}

DSN() {
	printf 'host=127.0.0.1 port=%s user=app dbname=app password=%s connect_timeout=10' \
	    "$LISTEN_PORT" "$APP_PW"
}

start_pyclient() {	# NAME MODE ARGS
	local name=$1
	shift
	: > "$T/$name.out"
	rm -f "$T/$name.stop"
	(_close_sess_fds; exec /usr/bin/python3 "$TESTS_DIR/pgresume_client.py" "$@" \
	    --dsn "$(DSN)" --out "$T/$name.out" --stop "$T/$name.stop") 2> "$T/$name.err" &
	track_client "$!"
	eval "PYPID_$name=$!"
}

stop_pyclient() {
	local pid
	: > "$T/$1.stop"
	eval "pid=\$PYPID_$1"
	wait_exit "$pid" 20 || kill -KILL "$pid" 2>/dev/null
	return 0
}

resumed_count() {
	grep -c ': resumed on private ' "$POSTERN_LOG"
}

# history_rows: rows of pgbench_history (one per transaction of the
# default script and of case_pgbench_crash's insert; read over the
# socket, not through postern).
history_rows() {
	_as_postgres psql -X -qAt -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres -d app \
	    -c "SELECT count(*) FROM pgbench_history"
}

# pgbench_end PID: end pgbench's run now, as its -T would (SIGALRM is
# its -T timer: each client finishes its transaction, then pgbench prints
# its report and exits, 0 when no client failed).  -T stays the bound;
# the case ends once it has seen what it checks, not after a fixed time.
pgbench_end() {
	kill -ALRM "$1" 2>/dev/null
}

# A psycopg pool (8 connections, work_mem set, a prepared statement) and
# pgbench -M prepared (4 clients) under steady load across a failback:
# every session resumes on private, none sees an error; afterwards each
# pooled connection runs on a new backend that has its work_mem.
case_pool_failback() {
	local t=$1 before n moved pgb_pid part
	# Checks of 1 s once private is up: at 300 ms two slow checks on a
	# loaded machine took it down again under pgbench, which then saw
	# its transactions closed (a full run, load 6-9).
	local FAST=(check_interval=1s check_fast_interval=1s
		"check_down_interval=${INTERVAL_MS}ms" check_timeout=1s fall=2 "rise=$RISE")
	start_pg_app "$t"
	postern_resume "$t"
	start_pyclient pool pool --size 8
	wait_until 30 eval '(( $(grep -c "^ok " "$T/pool.out") >= 200 ))' ||
	    fail_case "pool: no steady traffic: $(tail -n 2 "$T/pool.out") $(tail -n 2 "$T/pool.err")"
	(_close_sess_fds; PGPASSWORD=$APP_PW exec pgbench -n -M prepared -c 4 -j 2 -R 200 -T 20 \
	    -h 127.0.0.1 -p "$LISTEN_PORT" -U app app) > "$T/pgbench.out" 2>&1 &
	pgb_pid=$!
	track_client "$pgb_pid"
	wait_until 10 eval '[[ $(grep -c "backend pid" "$POSTERN_LOG") -ge 12 ]]' ||
	    fail_case "not 12 sessions: $(grep -c 'backend pid' "$POSTERN_LOG")"
	failback
	wait_until 30 eval '(( $(resumed_count) >= 12 ))' ||
	    fail_case "$(resumed_count) of 12 sessions resumed: $(grep -E 'not resumable|resume failed' "$POSTERN_LOG" | head -n 3)"
	before=$(grep -c '^ok ' "$T/pool.out")
	wait_until 30 eval '(( $(grep -c "^ok " "$T/pool.out") >= before + 300 ))' ||
	    fail_case "pool: no traffic after the resume"
	# pgbench's transactions go on after its sessions resumed (each
	# writes a row of pgbench_history).
	before=$(history_rows)
	wait_until 15 eval '(( $(history_rows) >= before + 100 ))' ||
	    fail_case "pgbench: no transactions after the resume: $(tail -n 3 "$T/pgbench.out")"
	pgbench_end "$pgb_pid"
	wait_exit "$pgb_pid" 40 || fail_case "pgbench did not end"
	wait "$pgb_pid"
	expect_eq "pgbench exit status" 0 "$?"
	expect_match "pgbench: no failed transaction" 'number of failed transactions: 0 ' "$(cat "$T/pgbench.out")"
	stop_pyclient pool
	expect_eq "pool errors" "" "$(grep '^err ' "$T/pool.out" | head -n 3)"
	# The pool's connections kept their BackendKeyData (the client's
	# pid) while their backend changed: each of the 8 ran on a new one.
	moved=$(awk '$1 == "ok" && $2 != $3 { print $2 }' "$T/pool.out" | sort -u | wc -l)
	expect_eq "pooled connections on a new backend" 8 "$moved"
	expect_eq "work_mem replayed" "" "$(awk '$1 == "ok" && $4 != "7MB"' "$T/pool.out" | head -n 2)"
	expect_log ': resumed on private 127\.0\.0\.1:[0-9]+ \(waited [0-9.]+s, the new server ready in [0-9]+ ms; replayed 1 SET, [1-9][0-9]* prepared statements?\)'
	expect_log ': resumed on private 127\.0\.0\.1:[0-9]+ .*replayed 0 SET, [1-9][0-9]* prepared statements\)'
	expect_no_log 'terminating connection|not resumable|resume failed'
	# pgbench's and the pool's clients say Terminate when they end: the
	# server's close that follows is no crash to resume from.
	expect_no_log 'its server closed'
	expect_no_log "$APP_PW"
	# Nor any part of the SCRAM secret (salt, StoredKey, ServerKey).
	for part in $(sed -n 's/.*SCRAM-SHA-256\$[0-9]*:\([^$]*\)\$\([^:]*\):\(.*\)"$/\1 \2 \3/p' "$T/userlist.txt"); do
		expect_no_log "$(printf '%s' "$part" | sed 's/[][\.*^$+?(){}|]/\\&/g')"
	done
	stop_postern
}

ctl() {
	CTL_OUT=$(timeout 20 "$POSTERN" ctl -a "$ADMIN" "$@" 2> "$T/ctl.err") ||
	    fail_case "ctl $*: $(cat "$T/ctl.err")"
}

# A pin and a drain move sessions too: pinned to public, a session on
# private resumes there; drained off public, it resumes back on private.
case_pin_drain() {
	start_pg_app tcp
	postern_resume tcp
	failback
	start_pyclient s state --sql "SET search_path = public"
	wait_until 20 grep -q '^ok' "$T/s.out" || fail_case "client not running"
	ctl pin postgres public
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: resumed on public ' 20
	ctl unpin postgres
	expect_log ' -> public 127\.0\.0\.1:[0-9]+: resumed on private ' 20
	ctl pin postgres public
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: resumed on public .*replayed 1 SET' 20
	ctl unpin postgres
	ctl drain postgres public
	wait_until 20 eval '(( $(resumed_count) >= 2 ))' || fail_case "not back on private after the drain"
	stop_pyclient s
	expect_eq "errors" "" "$(grep '^err' "$T/s.out")"
	stop_postern
}

# PostgreSQL 17 direct TLS (sslnegotiation=direct): private reaches the
# server with TLS from the first byte, public in the clear; a session
# pinned off private resumes on public, and unpinned it resumes back on
# private: the resume's own login goes through the direct TLS dial (SCRAM
# as app, with its SET replayed).  Needs PostgreSQL 17+ and
# python3-psycopg(-pool): the Debian 13 and testing chroot stages run it
# (tests/chroot-inside.sh), as does tests/run.sh on a Debian 13 host.
case_direct_tls_resume() {
	local v
	v=$("$PGBIN/postgres" -V 2>/dev/null | sed -E 's/.* ([0-9]+)[.a-z].*/\1/')
	[[ -n "$v" ]] && ((v >= 17)) ||
	    skip_case "PostgreSQL ${v:-?} here: direct TLS needs 17 (the Debian 13 and testing stages run this case)"
	start_pg_app tls
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	GLOBAL_OPTS=("admin=$ADMIN" log_level=debug)
	postern_service postgres \
	    "private tls://127.0.0.1:$PG_PORT ca=$PKI/ca.crt sslnegotiation=direct" \
	    "public tcp://127.0.0.1:$PG_PORT" -- \
	    "${FAST[@]}" check=postgres "auth_file=$T/userlist.txt"
	expect_log 'notice: postgres/private: up \(check ok\)$' 20
	start_pyclient s state --sql "SET search_path = public"
	wait_until 20 grep -q '^ok' "$T/s.out" || fail_case "client not running: $(tail -n 2 "$T/s.err")"
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: connected in [0-9]+ ms \(TLSv1\.3 [A-Z0-9_]+, (full handshake|resumed), ALPN postgresql\)$' 20
	ctl pin postgres public
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: resumed on public ' 20
	ctl unpin postgres
	expect_log ' -> public 127\.0\.0\.1:[0-9]+: resumed on private .*replayed 1 SET' 20
	stop_pyclient s
	expect_eq "errors" "" "$(grep '^err' "$T/s.out")"
	stop_postern
}

# A session resumed onto a route named by DNS takes that route's server
# as its upstream: public is tcp://pub.example.test (tests/dns_server.py
# answers 127.0.0.2, where a forwarder to PostgreSQL listens), private
# the transport's route on 127.0.0.1.  Pinned to public, the session
# resumes there once and stays: before, it kept private's address, which
# public's name check took for a stale one (the name no longer points at
# the session's server), so it resumed again on public at every safe
# point; and its lines named private's server under public's name.
case_resume_by_name() {
	local t=$1 pub_port since
	start_pg_app "$t"
	: > "$T/zone"
	rm -f "$T/dns.port"
	(_close_sess_fds; exec python3 "$TESTS_DIR/dns_server.py" --addr 127.0.0.1 --port 0 \
	    --zone "$T/zone" --port-file "$T/dns.port" --log "$T/dns.log") 2> "$T/dns.err" &
	track_server "$!"
	wait_until 10 test -s "$T/dns.port" || fail_case "dns_server.py did not start: $(tail -n 3 "$T/dns.err")"
	printf 'pub.example.test A 127.0.0.2 5\n' > "$T/zone"
	pub_port=$(free_port) || fail_case "no free port"
	(_close_sess_fds; exec socat "TCP-LISTEN:$pub_port,bind=127.0.0.2,reuseaddr,fork" \
	    "TCP:127.0.0.1:$PG_PORT") > "$T/pubfwd.log" 2>&1 &
	track_server "$!"
	FWD_PORT=$(free_port) || fail_case "no free port"
	transport_route "$t" "$FWD_PORT"
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	GLOBAL_OPTS=("admin=$ADMIN" "resolver=127.0.0.1:$(cat "$T/dns.port")" log_level=debug)
	postern_service postgres "$ROUTE" "public tcp://pub.example.test:$pub_port" -- \
	    "${FAST[@]}" check=postgres "auth_file=$T/userlist.txt"
	[[ $t != ssh* ]] ||
	    expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in " 20
	failback
	start_pyclient s state --sql "SET search_path = public"
	wait_until 20 grep -q '^ok' "$T/s.out" || fail_case "client not running: $(tail -n 2 "$T/s.err")"
	expect_eq "on private" 1 "$(route_active private)"
	ctl pin postgres public
	expect_log " -> private 127\\.0\\.0\\.1:$FWD_PORT: resumed on public pub\\.example\\.test:$pub_port .*replayed 1 SET" 20
	# Five more checks of public (each resolves its name anew) while
	# the session runs its queries on it, each a safe point.
	since=$(grep -c 'postgres/public: check: ok' "$POSTERN_LOG")
	wait_until 20 eval '(( $(grep -c "postgres/public: check: ok" "$POSTERN_LOG") >= since + 5 ))' ||
	    fail_case "public not checked"
	stop_pyclient s
	expect_eq "errors" "" "$(grep '^err' "$T/s.out")"
	expect_eq "resumes" 1 "$(grep -c ': resumed on ' "$POSTERN_LOG")"
	expect_log " postgres 127\\.0\\.0\\.1:[0-9]+ -> public pub\\.example\\.test:$pub_port: closed \\(client closed\\)" 20
	stop_postern
}

# RESET ALL leaves the role as it is (PostgreSQL keeps role and session
# authorization): a session that dropped privileges with SET ROLE and
# then ran RESET ALL resumes with that role still, not as its login user
# (before, postern forgot the SET ROLE at the RESET ALL: the resumed
# session ran as app again).  Its work_mem SET is gone, as on the server.
case_role_reset_all() {
	local t=$1 since
	start_pg_app "$t"
	pg_admin "CREATE ROLE reader NOLOGIN"
	pg_admin "GRANT reader TO app"
	postern_resume "$t"
	start_pyclient s state --sql "SET ROLE reader" --sql "SET work_mem = '9MB'" \
	    --sql "RESET ALL" --show "SELECT current_user || ' ' || current_setting('work_mem')"
	wait_until 20 grep -q '^ok ' "$T/s.out" || fail_case "client not running: $(tail -n 2 "$T/s.err")"
	failback
	wait_until 20 eval '(( $(resumed_count) >= 1 ))' ||
	    fail_case "not resumed: $(grep -m 2 -E 'not resumable|resume failed' "$POSTERN_LOG")"
	expect_log 'resumed on private .*replayed 1 SET, [0-9]+ prepared statements?\)'
	since=$(grep -c '^ok ' "$T/s.out")
	wait_until 20 eval '(( $(grep -c "^ok " "$T/s.out") >= since + 10 ))' || fail_case "no queries after the resume"
	stop_pyclient s
	expect_eq "errors" "" "$(grep '^err' "$T/s.out")"
	expect_eq "role and work_mem before and after the resume" "ok reader 4MB" "$(grep '^ok ' "$T/s.out" | sort -u)"
	stop_postern
}

# A cancel after the resume: the client's own BackendKeyData, mapped to
# the new backend's key, cancels the query there.
case_cancel_after_resume() {
	local l
	start_pg_app tcp
	postern_resume tcp
	start_pyclient c cancel --go "$T/c.go"
	wait_until 20 grep -q '^started ' "$T/c.out" || fail_case "no session: $(tail -n 2 "$T/c.err")"
	failback
	wait_until 20 eval '(( $(resumed_count) >= 1 ))' || fail_case "not resumed"
	: > "$T/c.go"
	wait_until 20 grep -q '^cancelled \|^err ' "$T/c.out" || fail_case "no answer: $(tail -n 2 "$T/c.err")"
	l=$(grep '^cancelled \|^err ' "$T/c.out")
	expect_match "cancelled quickly on the new backend" '^cancelled [0-4]\.[0-9] ' "$l"
	read -r _ _ b a <<< "$l"
	[[ $a != "$b" ]] || fail_case "the same backend before and after: $l"
	expect_log "cancel request for backend pid $b \\(4-byte key\\) goes to route private"
	stop_pyclient c
	stop_postern
}

# State that cannot follow: each such session is closed at its idle
# point with 57P01 as before, and the log names the reason; a plain
# session beside them resumes.
case_not_resumable() {
	start_pg_app tcp
	postern_resume tcp
	start_pyclient tmp state --sql "CREATE TEMP TABLE scratch (a int)"
	start_pyclient adv state --sql "SELECT pg_advisory_lock(42)"
	start_pyclient plain state --sql "SET search_path = public"
	wait_until 20 eval 'grep -q "^ok" "$T/tmp.out" && grep -q "^ok" "$T/adv.out" && grep -q "^ok" "$T/plain.out"' ||
	    fail_case "clients not running"
	failback
	wait_until 20 grep -Eq '^err .*(terminating connection: postern moves|server closed the connection)' "$T/tmp.out" || fail_case "temp: $(tail -n 1 "$T/tmp.out")"
	wait_until 20 grep -Eq '^err .*(terminating connection: postern moves|server closed the connection)' "$T/adv.out" || fail_case "advisory: $(tail -n 1 "$T/adv.out")"
	expect_log 'closed \(safe point.*not resumable: TEMP or WITH HOLD'
	expect_log 'closed \(safe point.*not resumable: advisory locks'
	wait_until 20 eval '(( $(resumed_count) >= 1 ))' || fail_case "the plain session did not resume"
	expect_log 'resumed on private .*replayed 1 SET, [0-9]+ prepared statements?\)'
	stop_pyclient plain
	expect_eq "plain session errors" "" "$(grep '^err' "$T/plain.out")"
	stop_postern
}

# A user missing from auth_file: closed with 57P01, the reason logged.
case_user_not_in_authfile() {
	start_pg_app tcp
	printf '"someone" "md5%032d"\n' 0 > "$T/userlist.txt"
	postern_resume tcp
	start_pyclient s state --sql "SELECT 1"
	wait_until 20 grep -q '^ok' "$T/s.out" || fail_case "client not running"
	failback
	wait_until 20 grep -Eq '^err .*(terminating connection: postern moves|server closed the connection)' "$T/s.out" || fail_case "$(tail -n 1 "$T/s.out")"
	expect_log 'not resumable: its user is not in auth_file'
	stop_postern
}

# psql as postgres over the socket.
pg_admin() {
	_as_postgres psql -X -qAt -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres -c "$1" \
	    > "$T/admin.log" 2>&1 || fail_case "psql: $(tail -n 2 "$T/admin.log")"
}

# The target disagrees: a parameter the client saw (DateStyle, set for
# the role after the session began), or the login (the password changed:
# another salt than auth_file's secret).  The resume fails, the session
# is closed with 57P01 as before, the reason logged.
case_target_differs() {	# case_target_differs datestyle|password
	start_pg_app tcp
	postern_resume tcp
	start_pyclient s state --sql "SELECT 1"
	wait_until 20 grep -q '^ok' "$T/s.out" || fail_case "client not running"
	if [[ $1 == datestyle ]]; then
		pg_admin "ALTER ROLE app SET DateStyle = 'German, DMY'"
	else
		pg_admin "ALTER ROLE app PASSWORD 'another-$APP_PW'"
	fi
	failback
	wait_until 20 grep -Eq '^err .*(terminating connection: postern moves|server closed the connection)' "$T/s.out" ||
	    fail_case "$(tail -n 1 "$T/s.out")"
	if [[ $1 == datestyle ]]; then
		expect_log "closed \(safe point: for route private: resume failed: parameter DateStyle differs: 'German, DMY' there, 'ISO, MDY' before\)"
	else
		expect_log 'closed \(safe point: for route private: resume failed: authentication: SCRAM: the server.s salt or iteration count differs'
	fi
	expect_eq "resumed" 0 "$(resumed_count)"
	stop_postern
}

# auth_file holds another role's SCRAM secret for app (the same password,
# another salt): the client's proof does not fit its StoredKey, so postern
# learns no client key and does not try.
case_wrong_secret() {
	local other
	start_pg_app tcp
	pg_admin "CREATE ROLE other LOGIN PASSWORD '$APP_PW'"
	other=$(_as_postgres psql -X -qAt -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres \
	    -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'other'")
	printf '"app" "%s"\n' "$other" > "$T/userlist.txt"
	postern_resume tcp
	start_pyclient s state --sql "SELECT 1"
	wait_until 20 grep -q '^ok' "$T/s.out" || fail_case "client not running"
	failback
	wait_until 20 grep -Eq '^err .*(terminating connection: postern moves|server closed the connection)' "$T/s.out" ||
	    fail_case "$(tail -n 1 "$T/s.out")"
	expect_log "not resumable: the client's SCRAM proof does not fit auth_file's secret for its user"
	stop_postern
}

# auth_file's errors: at the file's own line, its mode, its protocol;
# a reload reads it again (a fixed file is taken, a broken one refused).
case_authfile_config() {
	local out uf=$T/ul.txt
	printf '; users\n"app" "SCRAM-SHA-256$4096:c2FsdA==$not-base64:x"\n' > "$uf"
	chmod 600 "$uf"
	cat > "$T/bad.conf" <<-EOF
	[service pg]
	listen = 127.0.0.1:$(free_port)
	protocol = postgres
	route = a tcp://127.0.0.1:1
	check = none
	auth_file = $uf

	[service r]
	listen = 127.0.0.1:$(free_port)
	protocol = redis
	route = a tcp://127.0.0.1:1
	check = none
	auth_file = $uf
	EOF
	out=$(set -o pipefail; timeout 20 "$POSTERN" -n -c "$T/bad.conf" 2>&1 |
	    grep -v '^postern: warning: running as root')
	expect_eq "exit status of -n" 2 "$?"
	expect_match "-n: the file's own line" "ul\.txt:2: a SCRAM key is not 32 bytes in base64" "$out"
	expect_match "-n: protocol" "bad\.conf:8: \[service r\]: auth_file is for protocol = postgres" "$out"
	[[ $out != *not-base64* ]] || fail_case "a secret in the message: $out"
	sed -i '/\[service r\]/,$d' "$T/bad.conf"
	printf '"app" "md5%032d"\n' 1 > "$uf"
	chmod 644 "$uf"
	out=$(timeout 20 "$POSTERN" -n -c "$T/bad.conf" 2>&1 | grep -v '^postern: warning: running as root')
	# The one rule for secret files (config/secret.c), said once.
	expect_match "-n: mode" "bad\.conf:6: auth_file $uf: mode 0644 lets others read or write it: chmod 600 it" "$out"
	expect_eq "-n: mode errors" 1 "$(grep -c 'mode 0' <<< "$out")"
	chmod 620 "$uf"
	out=$(timeout 20 "$POSTERN" -n -c "$T/bad.conf" 2>&1 | grep -v '^postern: warning: running as root')
	expect_match "-n: group may write" "bad\.conf:6: auth_file $uf: mode 0620 lets its group write it" "$out"
	chmod 600 "$uf"
	out=$(timeout 20 "$POSTERN" -n -c "$T/bad.conf" 2>&1 | grep -v '^postern: warning: running as root')
	expect_eq "-n once fixed" "configuration OK" "$out"
	start_postern "$T/bad.conf"
	printf '"app" "x" junk\n' > "$uf"
	kill -HUP "$POSTERN_PID"
	expect_log "error: .*ul\.txt:1: text after the secret"
	expect_log 'error: reload failed: keeping the running configuration \(generation 1\)$'
	printf '"app" "x"\n' > "$uf"
	kill -HUP "$POSTERN_PID"
	expect_log 'reload: configuration generation 2 loaded'
	stop_postern
}

# ---------------------------------------------------------------------
# A route that goes down (issue 21 item 5, with issue 20's
# on_route_down = move): its idle sessions resume on the next route.

PY=/usr/bin/python3

now_ms() {
	$PY -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1000))'
}

# hang_forwarder: SIGSTOP the forwarder of failback() and every
# connection it forked (as 36-routedown.sh); the case's exit trap
# continues them first.
_STOPPED=()
hang_forwarder() {
	local p
	trap '_rc=$?; for _p in "${_STOPPED[@]}"; do kill -CONT "$_p" 2>/dev/null; done; _with_status "$_rc"; _case_cleanup' EXIT
	for p in $(pid_tree "$FWD_PID"); do
		_STOPPED+=("$p")
		kill -STOP "$p" 2>/dev/null
	done
}

# route_active ROUTE: sessions postern relays through ROUTE now (/health).
route_active() {
	curl -sf "http://$ADMIN/health" | jq -r ".services.postgres.routes.$1.sessions_active"
}

# pool_count FROM_MS STATUS: operations of tests/pool_client.py begun at
# or after FROM_MS with that status (ok, err).
pool_count() {
	awk -v from="$1" -v st="$2" 'NF >= 4 && $1 >= from && $3 == st { n++ } END { print n + 0 }' "$T/pool.out"
}

# A psycopg pool (tests/pool_client.py: 12 connections, 4 threads, a
# query every 5 ms each, default settings) logged in as app with SCRAM
# through private; private hangs (its forwarder SIGSTOPped) and the
# checks take it down.  The sessions idle at the fault resume on public,
# their clients held meanwhile (a query taken from the pool then waits
# for the new backend, not the hung one): no error.  A session with a
# query in flight on the hung route is closed at once by design (a
# connection error: at most one per thread, each begun before private
# was seen down).  None is closed with 57P01.
case_pool_route_down() {
	local t=$1 t1 errs n dsn="user=app dbname=app password=$APP_PW"
	start_pg_app "$t"
	postern_resume "$t"
	failback
	: > "$T/pool.out"
	rm -f "$T/pool.stop"	# $T is the file's: a former case's
	(_close_sess_fds; exec $PY "$TESTS_DIR/pool_client.py" pg --port "$LISTEN_PORT" \
	    --threads 4 --size 12 --dsn "$dsn" \
	    --out "$T/pool.out" --stop "$T/pool.stop") 2> "$T/pool.err" &
	POOL_PID=$!
	track_client "$POOL_PID"
	wait_until 30 eval '(( $(pool_count 0 ok) >= 200 ))' ||
	    fail_case "pool: no steady traffic: $(tail -n 2 "$T/pool.out") $(grep -m 2 -i 'error' "$T/pool.err")"
	wait_until 20 eval '[[ "$(route_active private)" == 12 ]]' ||
	    fail_case "not 12 sessions on private: $(route_active private)"
	hang_forwarder
	expect_log 'warn: postgres/private: up -> down ' 15
	t1=$(now_ms)
	wait_until 15 eval '[[ "$(route_active private)" == 0 ]]' ||
	    fail_case "sessions still on private after it went down: $(route_active private)"
	wait_until 30 eval '(( $(pool_count "$t1" ok) >= 300 ))' ||
	    fail_case "pool: no traffic after private went down: $(tail -n 2 "$T/pool.out")"
	: > "$T/pool.stop"
	wait_log "$T/pool.out" '^done$' 30 || fail_case "the pool did not stop: $(tail -n 3 "$T/pool.err")"
	wait "$POOL_PID" 2>/dev/null
	expect_eq "errors of operations begun after private was seen down" 0 "$(pool_count "$t1" err)"
	expect_eq "errors that are not connection errors" 0 "$(grep -c ' err other:' "$T/pool.out")"
	errs=$(pool_count 0 err)
	((errs <= 4)) || fail_case "$errs errors, more than the 4 queries that can be in flight: $(grep -m 3 ' err ' "$T/pool.out" | paste -sd'|')"
	expect_eq "sessions closed with a query in flight" "$errs" \
	    "$(grep -c 'closed (route: private is down, ' "$POSTERN_LOG")"
	n=$(grep -c ' -> private [^ ]*: resumed on public ' "$POSTERN_LOG")
	((n >= 12 - errs)) || fail_case "$n sessions resumed on public, $errs closed: not all 12"
	expect_no_log 'closed \(safe point|not resumable|resume failed'
	expect_no_log "$APP_PW"
	note "$n sessions resumed on public, $errs closed with a query in flight"
	stop_postern
}

# crash_forwarder: kill the forwarder of failback() and every connection
# it forked (SIGKILL: the private path crashes; the sessions' server
# sides end with a FIN, the backends see their client gone); waits until
# they are gone.
crash_forwarder() {
	local p pids
	pids=$(pid_tree "$FWD_PID")
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in $pids; do
		wait_exit "$p" 10 || fail_case "forwarder process $p still there"
	done
}

# crashed_count: sessions resumed after their server side ended at idle.
crashed_count() {
	grep -c ': resumed on public [^ ]* after its server closed ' "$POSTERN_LOG"
}

# The private path crashes (its forwarder killed) under a psycopg pool
# (12 connections, 4 threads, default settings: no check at checkout).
# First with the pool paused (every connection idle in the pool): all 12
# sessions resume on public, their clients see nothing, and the pool's
# next 300 operations have no error.  Then, back on private by a
# failback, a second crash under steady traffic: the idle sessions resume
# again; only a query in flight on the crashed path may fail (a
# connection error, at most one per thread: the server may have run it,
# so it never goes again), and such a session is closed, not resumed
# (over ssh:// the bastion tells postern of the end some ms late, so a
# thread may send more than one query into the crashed path).
# The client of a resumed session never sees the server's end.
case_pool_crash() {
	local t=$1 errs n t1 paused busy dsn="user=app dbname=app password=$APP_PW"
	# A crash is no hang: checks with room for a loaded machine, so that
	# private is not taken down by a slow answer before the crash.
	local FAST=(check_interval=1s check_fast_interval=1s
		"check_down_interval=${INTERVAL_MS}ms" check_timeout=1s fall=2 "rise=$RISE")
	start_pg_app "$t"
	postern_resume "$t"
	failback
	: > "$T/pool.out"
	rm -f "$T/pool.stop" "$T/pool.pause"
	(_close_sess_fds; exec $PY "$TESTS_DIR/pool_client.py" pg --port "$LISTEN_PORT" \
	    --threads 4 --size 12 --dsn "$dsn" --pause "$T/pool.pause" \
	    --out "$T/pool.out" --stop "$T/pool.stop") 2> "$T/pool.err" &
	POOL_PID=$!
	track_client "$POOL_PID"
	wait_until 30 eval '(( $(pool_count 0 ok) >= 200 ))' ||
	    fail_case "pool: no steady traffic: $(tail -n 2 "$T/pool.out") $(grep -m 2 -i 'error' "$T/pool.err")"
	wait_until 20 eval '[[ "$(route_active private)" == 12 ]]' ||
	    fail_case "not 12 sessions on private: $(route_active private)"
	# 1. Every pooled connection idle when the path crashes.
	paused=$(grep -c '^paused$' "$T/pool.out")
	: > "$T/pool.pause"
	wait_until 20 eval '(( $(grep -c "^paused$" "$T/pool.out") >= paused + 4 ))' ||
	    fail_case "the pool did not pause"
	expect_eq "sessions on private before the crash" 12 "$(route_active private)"
	crash_forwarder
	wait_until 20 eval '(( $(crashed_count) >= 12 ))' ||
	    fail_case "$(crashed_count) of 12 idle sessions resumed: $(grep -m 3 -E 'not resumed|resume failed' "$POSTERN_LOG")"
	expect_eq "sessions on private after the crash" 0 "$(route_active private)"
	expect_eq "sessions on public after the crash" 12 "$(route_active public)"
	t1=$(now_ms)
	rm -f "$T/pool.pause"
	wait_until 30 eval '(( $(pool_count "$t1" ok) >= 300 ))' ||
	    fail_case "pool: no traffic after the crash: $(tail -n 2 "$T/pool.out")"
	expect_eq "errors after a crash with every connection idle" 0 "$(pool_count 0 err)"
	expect_no_log 'closed \(safe point|not resumable|not resumed'
	# 2. Back on private, then a crash under steady traffic.
	failback
	wait_until 30 eval '[[ "$(route_active private)" == 12 ]]' ||
	    fail_case "not back on private: $(route_active private)"
	n=$(crashed_count)
	t1=$(now_ms)
	crash_forwarder
	wait_until 20 eval '[[ "$(route_active private)" == 0 ]]' ||
	    fail_case "sessions still on private after the crash: $(route_active private)"
	wait_until 30 eval '(( $(pool_count "$t1" ok) >= 300 ))' ||
	    fail_case "pool: no traffic after the second crash: $(tail -n 2 "$T/pool.out")"
	: > "$T/pool.stop"
	wait_log "$T/pool.out" '^done$' 30 || fail_case "the pool did not stop: $(tail -n 3 "$T/pool.err")"
	wait "$POOL_PID" 2>/dev/null
	errs=$(pool_count 0 err)
	expect_eq "errors that are not connection errors" 0 "$(grep -c ' err other:' "$T/pool.out")"
	# Each error is a session in use when postern saw its server end (a
	# query in flight, or the pool's transaction open between its SELECT
	# and the COMMIT; over ssh:// the bastion tells of the end some ms
	# late): that session is closed and says so; every other resumed.
	busy=$(grep -Ec ': its server closed \((a query is in progress|inside a transaction)\): not resumed$' "$POSTERN_LOG")
	[[ $errs == "$busy" ]] ||
	    fail_case "errors ($errs) are not the sessions in use when their server ended ($busy): $(grep -m 2 ' err ' "$T/pool.out" | cut -c1-120 | paste -sd'|') / $(grep -E 'closed \((safe point|route|server)|not resumed|resume failed' "$POSTERN_LOG" | cut -d' ' -f3- | cut -c1-160 | head -n 6 | paste -sd'|')"
	# (A connection the pool was opening then fails its startup: the
	# pool opens another, the application sees no error.)
	expect_eq "sessions whose server ended for another reason, not resumed" 0 \
	    "$(grep ': its server closed (' "$POSTERN_LOG" | grep -Evc '\((a query is in progress|inside a transaction|starting up)\)')"
	n=$(($(crashed_count) - n))
	((n + busy >= 12)) || fail_case "$n sessions resumed after the second crash, $busy closed with a query in flight: not all 12"
	expect_no_log 'closed \(safe point|not resumable'
	expect_no_log "$APP_PW"
	note "second crash: $n sessions resumed on public, $errs errors (queries in flight)"
	stop_postern
}

# pgbench_idle N: N pgbench backends, each idle outside a transaction
# (pg_stat_activity: its ReadyForQuery 'I' is written), and no byte
# waiting to be read on any hop of the path (every established socket
# of the server, forwarder or bastion port has an empty receive queue):
# so each ReadyForQuery has reached postern.
pgbench_idle() {
	local n ports="( sport = :$PG_PORT or dport = :$PG_PORT or sport = :$FWD_PORT or dport = :$FWD_PORT"
	[[ -z ${SSHD_PORT:-} ]] || ports+=" or sport = :$SSHD_PORT or dport = :$SSHD_PORT"
	n=$(_as_postgres psql -X -qAt -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres \
	    -c "SELECT count(*) FILTER (WHERE state = 'idle') || ' ' || count(*)
	        FROM pg_stat_activity WHERE application_name = 'pgbench'") || return 1
	[[ $n == "$1 $1" ]] || return 1
	ss -Htn state established "$ports )" | awk '$1 != 0 { bad = 1 } END { exit bad }'
}

# pgbench -M prepared (4 clients, -R 200: mostly idle between
# transactions) across a crashed private path and the failback after it.
# Its scripts are one statement each, outside a transaction: -b
# select-only and an INSERT into pgbench_history (the server-side count
# of transactions).  pgbench is SIGSTOPped once its sessions are idle, so
# that none has a query in flight at the crash (one that had cannot be
# resumed: the server may have run it); the path crashes, the 4 sessions
# resume on public with their prepared statements re-prepared (pgbench
# Binds P_0, P_1 and never Parses them again: a missing one would abort
# its client); pgbench goes on, then the forwarder returns and the 4
# resume back on private under traffic.  pgbench: exit status 0, no
# failed transaction, no aborted client, and transactions completed
# after each of the two resumes.
case_pgbench_crash() {
	local t=$1 pgb_pid before since
	local FAST=(check_interval=1s check_fast_interval=1s
		"check_down_interval=${INTERVAL_MS}ms" check_timeout=1s fall=2 "rise=$RISE")
	start_pg_app "$t"
	postern_resume "$t"
	failback
	printf '%s\n' '\set aid random(1, 100000)' '\set delta random(-5000, 5000)' \
	    'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, now());' \
	    > "$T/insert.sql"
	chmod 644 "$T/insert.sql"
	(_close_sess_fds; PGPASSWORD=$APP_PW exec pgbench -n -M prepared -c 4 -j 2 -R 200 -T 50 \
	    -b select-only -f "$T/insert.sql" -h 127.0.0.1 -p "$LISTEN_PORT" -U app app) \
	    > "$T/pgbench.out" 2>&1 &
	pgb_pid=$!
	track_client "$pgb_pid"
	trap '_rc=$?; kill -CONT "'"$pgb_pid"'" 2>/dev/null; _with_status "$_rc"; _case_cleanup' EXIT
	wait_until 20 eval '[[ "$(route_active private)" == 4 ]]' ||
	    fail_case "not 4 sessions on private: $(route_active private) $(tail -n 2 "$T/pgbench.out")"
	wait_until 20 eval '(( $(history_rows) >= 100 ))' || fail_case "no steady traffic: $(tail -n 2 "$T/pgbench.out")"
	kill -STOP "$pgb_pid"
	wait_until 20 pgbench_idle 4 || fail_case "pgbench's sessions not idle: $(ss -Htn state established | awk '$1 != 0' | head -n 3)"
	crash_forwarder
	wait_until 20 eval '(( $(crashed_count) >= 4 ))' ||
	    fail_case "$(crashed_count) of 4 idle sessions resumed: $(grep -m 3 -E 'not resumed|resume failed' "$POSTERN_LOG")"
	expect_eq "sessions on public after the crash" 4 "$(route_active public)"
	expect_eq "resumed with pgbench's prepared statements re-prepared" 4 \
	    "$(grep -Ec ': resumed on public [^ ]* after its server closed \(.*replayed 0 SET, [1-9][0-9]* prepared statements?\)$' "$POSTERN_LOG")"
	kill -CONT "$pgb_pid"
	before=$(history_rows)
	wait_until 20 eval '(( $(history_rows) >= before + 200 ))' ||
	    fail_case "no transactions after the crash: $(tail -n 3 "$T/pgbench.out")"
	# The forwarder back: a failback under traffic, no SIGSTOP.
	since=$(resumed_count)
	failback
	wait_until 30 eval '(( $(resumed_count) >= since + 4 ))' ||
	    fail_case "$(($(resumed_count) - since)) of 4 sessions resumed back on private: $(grep -m 3 -E 'not resumable|resume failed' "$POSTERN_LOG")"
	before=$(history_rows)
	wait_until 20 eval '(( $(history_rows) >= before + 200 ))' ||
	    fail_case "no transactions after the failback: $(tail -n 3 "$T/pgbench.out")"
	pgbench_end "$pgb_pid"
	wait_exit "$pgb_pid" 60 || fail_case "pgbench did not end"
	wait "$pgb_pid"
	expect_eq "pgbench exit status" 0 "$?"
	expect_match "pgbench: no failed transaction" 'number of failed transactions: 0 ' "$(cat "$T/pgbench.out")"
	expect_eq "pgbench: aborted clients" "" "$(grep -i 'abort' "$T/pgbench.out" | head -n 2)"
	expect_no_log 'closed \(safe point|not resumable|not resumed'
	expect_no_log "$APP_PW"
	note "$(grep -m 1 'number of transactions actually processed' "$T/pgbench.out")"
	stop_postern
}

# The server itself goes (an immediate shutdown: each backend sends a
# WARNING, a NoticeResponse, and exits; a crash of another backend does
# the same): private reaches a primary, public a streaming standby of it
# (the same pg_authid: the same SCRAM secret).  The pool's idle sessions
# resume on the standby, the application sees no error.
case_server_crash() {
	local t=$1 primary t1 paused dsn="user=app dbname=app password=$APP_PW"
	local FAST=(check_interval=1s check_fast_interval=1s
		"check_down_interval=${INTERVAL_MS}ms" check_timeout=1s fall=2 "rise=$RISE")
	start_pg_app "$t"
	primary=$PG_PORT
	local primary_dir=$PG_DIR
	start_pg_standby "$primary"
	postern_resume "$t"		# public: the standby
	(_close_sess_fds; exec socat "TCP-LISTEN:$FWD_PORT,bind=127.0.0.1,reuseaddr,fork" \
	    "TCP:127.0.0.1:$primary") > "$T/fwd.log" 2>&1 &
	FWD_PID=$!
	track_server "$FWD_PID"
	expect_log 'notice: postgres/private: ((unknown|down) -> up|up \(check ok\)$)' 20
	: > "$T/pool.out"
	rm -f "$T/pool.stop" "$T/pool.pause"
	(_close_sess_fds; exec $PY "$TESTS_DIR/pool_client.py" pg --port "$LISTEN_PORT" \
	    --threads 4 --size 12 --dsn "$dsn" --pause "$T/pool.pause" \
	    --out "$T/pool.out" --stop "$T/pool.stop") 2> "$T/pool.err" &
	POOL_PID=$!
	track_client "$POOL_PID"
	wait_until 30 eval '(( $(pool_count 0 ok) >= 200 ))' ||
	    fail_case "pool: no steady traffic: $(tail -n 2 "$T/pool.out") $(grep -m 2 -i 'error' "$T/pool.err")"
	paused=$(grep -c '^paused$' "$T/pool.out")
	: > "$T/pool.pause"
	wait_until 20 eval '(( $(grep -c "^paused$" "$T/pool.out") >= paused + 4 ))' ||
	    fail_case "the pool did not pause"
	expect_eq "sessions on private before the crash" 12 "$(route_active private)"
	_as_postgres timeout 60 "$PGBIN/pg_ctl" -D "$primary_dir/data" -m immediate stop \
	    > "$T/stop.log" 2>&1 || fail_case "pg_ctl stop: $(tail -n 2 "$T/stop.log")"
	wait_until 20 eval '(( $(crashed_count) >= 12 ))' ||
	    fail_case "$(crashed_count) of 12 idle sessions resumed: $(grep -m 3 -E 'not resumed|resume failed' "$POSTERN_LOG")"
	t1=$(now_ms)
	rm -f "$T/pool.pause"
	wait_until 30 eval '(( $(pool_count "$t1" ok) >= 300 ))' ||
	    fail_case "pool: no traffic after the crash: $(tail -n 2 "$T/pool.out")"
	: > "$T/pool.stop"
	wait_log "$T/pool.out" '^done$' 30 || fail_case "the pool did not stop: $(tail -n 3 "$T/pool.err")"
	wait "$POOL_PID" 2>/dev/null
	expect_eq "errors after the server went with every connection idle" 0 "$(pool_count 0 err)"
	expect_no_log 'closed \(safe point|not resumable|not resumed'
	stop_postern
}

# pg_terminate_backend is an operator's decision about that backend: its
# FATAL 57P01 reaches the client, which is not resumed (a fast shutdown
# sends the same 57P01 and is treated alike).
case_terminate_passes() {
	local pid
	start_pg_app tcp
	postern_resume tcp
	failback
	start_pyclient s cancel --go "$T/s.go"
	wait_until 20 grep -q '^started ' "$T/s.out" || fail_case "no session: $(tail -n 2 "$T/s.err")"
	read -r _ pid < <(grep '^started ' "$T/s.out")
	pg_admin "SELECT pg_terminate_backend($pid)"
	expect_log ': its server closed \((it sent an error at idle|a query is in progress)\): not resumed$' 20
	expect_log 'closed \(server closed\)' 20
	stop_pyclient s
	expect_eq "resumed" 0 "$(grep -c 'resumed on' "$POSTERN_LOG")"
	stop_postern
}

for t in "${TRANSPORTS[@]}"; do
	run_case "$t: postgres: a psycopg pool and pgbench -M prepared resume across a failback, 0 errors" \
	    case_pool_failback "$t"
done
for t in "${TRANSPORTS[@]}"; do
	run_case "$t: postgres: a psycopg pool's idle sessions resume when private goes down, 0 errors" \
	    case_pool_route_down "$t"
done
for t in "${TRANSPORTS[@]}"; do
	run_case "$t: postgres: a psycopg pool's idle sessions resume when the private path crashes, 0 errors" \
	    case_pool_crash "$t"
done
for t in "${TRANSPORTS[@]}"; do
	run_case "$t: postgres: pgbench -M prepared resumes across a crashed private path and the failback, 0 errors" \
	    case_pgbench_crash "$t"
done
for t in "${TRANSPORTS[@]}"; do
	run_case "$t: postgres: the primary shuts down immediately: idle sessions resume on its standby, 0 errors" \
	    case_server_crash "$t"
done
run_case "postgres: pg_terminate_backend's 57P01 reaches the client (not resumed)" case_terminate_passes
run_case "postgres: auth_file errors at its own line, mode, protocol; reload" case_authfile_config
run_case "postgres: a pin and a drain resume sessions too" case_pin_drain
for t in "${TRANSPORTS[@]}"; do
	run_case "$t: postgres: resumed onto a route named by DNS, a session stays there with that route's server" \
	    case_resume_by_name "$t"
done
for t in "${TRANSPORTS[@]}"; do
	run_case "$t: postgres: SET ROLE, then RESET ALL: the session resumes with that role" \
	    case_role_reset_all "$t"
done
run_case "postgres: a cancel after the resume reaches the new backend" case_cancel_after_resume
run_case "postgres: direct TLS route (PostgreSQL 17): a session resumes off it and back onto it" \
    case_direct_tls_resume
run_case "postgres: temporary table, advisory lock: 57P01 with the reason" case_not_resumable
run_case "postgres: a user missing from auth_file: 57P01 with the reason" case_user_not_in_authfile
run_case "postgres: a SCRAM secret that does not fit the client's proof: 57P01 with the reason" case_wrong_secret
run_case "postgres: the target's DateStyle differs: resume fails, 57P01 with the reason" \
    case_target_differs datestyle
run_case "postgres: the password changed (another salt): resume fails, 57P01 with the reason" \
    case_target_differs password
finish
