#!/bin/bash
# Guardrails for production access (issue 24): readonly = yes on a Redis
# service refuses writing commands, scripts that may write and unknown
# commands with -NOPERM from postern, one reply per request and in order
# (pipelined, inside MULTI), on every transport; reads pass and the data
# is untouched.  On a PostgreSQL service the server runs every session
# read-only and postern refuses turning that off.
. "$(dirname "$0")/../lib.sh"

unset SSH_AUTH_SOCK SSH_AGENT_PID

# raw PORT TEXT: send TEXT in one write, shut the write side, print the
# replies (CR removed).
raw() {
	printf '%b' "$2" | timeout 20 socat -t 10 - "TCP:127.0.0.1:$1" | tr -d '\r'
}

nop() {
	printf -- '-NOPERM postern: readonly service redis refuses %s' "$1"
}

# Writes among reads in one write: each gets its error in its place, the
# reads around them their values; the server's data is untouched.
case_ro_pipelined() {
	local out want
	transport_redis "$1"
	rdirect "$REDIS_PORT" SET k 1 > /dev/null
	postern_on "$1" redis "$REDIS_PORT" -- readonly=yes
	out=$(raw "$LISTEN_PORT" '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n2\r\nGET k\r\nDEL k\r\nINCR n\r\n*2\r\n$6\r\nEXISTS\r\n$1\r\nk\r\nflushall\r\nPING\r\n')
	want=$(printf '$1\n1\n%s\n$1\n1\n%s\n%s\n:1\n%s\n+PONG' "$(nop SET)" \
	    "$(nop DEL)" "$(nop INCR)" "$(nop FLUSHALL)")
	expect_eq "replies, in order" "$want" "$out"
	expect_eq "k in redis" 1 "$(rdirect "$REDIS_PORT" GET k)"
	expect_eq "n in redis" 0 "$(rdirect "$REDIS_PORT" EXISTS n)"
}

# MULTI with a write inside: the write is refused and never queued, EXEC
# runs what passed.
case_ro_multi() {
	local out want
	transport_redis "$1"
	rdirect "$REDIS_PORT" SET k 1 > /dev/null
	postern_on "$1" redis "$REDIS_PORT" -- readonly=yes
	out=$(raw "$LISTEN_PORT" 'MULTI\r\nSET k 2\r\nGET k\r\nINCR k\r\nEXEC\r\nGET k\r\n')
	want=$(printf '+OK\n%s\n+QUEUED\n%s\n*1\n$1\n1\n$1\n1' "$(nop SET)" \
	    "$(nop INCR)")
	expect_eq "replies, in order" "$want" "$out"
	expect_eq "k in redis" 1 "$(rdirect "$REDIS_PORT" GET k)"
}

# EVAL (which may write) refused; EVAL_RO passes; a write from EVAL_RO
# is the server's to refuse.  Containers by subcommand; unknown refused.
case_ro_scripts() {
	local out want
	transport_redis "$1"
	rdirect "$REDIS_PORT" SET k 1 > /dev/null
	postern_on "$1" redis "$REDIS_PORT" -- readonly=yes
	out=$(raw "$LISTEN_PORT" "EVAL \"return redis.call('set','k','3')\" 0\r\nEVAL_RO \"return redis.call('get',KEYS[1])\" 1 k\r\nSCRIPT LOAD \"return 1\"\r\nCLIENT SETNAME me\r\nCLIENT KILL ID 1\r\nCONFIG SET maxmemory 1\r\nNOSUCHCMD x\r\n")
	want=$(printf '%s\n$1\n1\n%s\n+OK\n%s\n%s\n%s' "$(nop EVAL)" \
	    "$(nop SCRIPT)" "$(nop CLIENT\|KILL)" "$(nop CONFIG\|SET)" \
	    "$(nop NOSUCHCMD)")
	expect_eq "replies, in order" "$want" "$out"
	expect_eq "k in redis" 1 "$(rdirect "$REDIS_PORT" GET k)"
	expect_eq "maxmemory in redis" 0 "$(rdirect "$REDIS_PORT" CONFIG GET maxmemory | tail -n 1)"
}

# A real client library's pipeline: redis-py sees the refusals as
# exceptions in place, reads as values.
case_ro_redis_py() {
	local out
	transport_redis "$1"
	postern_on "$1" redis "$REDIS_PORT" -- readonly=yes
	out=$(timeout 30 /usr/bin/python3 - "$LISTEN_PORT" <<'PY' 2>&1
import sys, redis
r = redis.Redis(port=int(sys.argv[1]))
p = r.pipeline(transaction=False)
for i in range(200):
    p.get("a%d" % i)
    p.set("a%d" % i, "x")
res = p.execute(raise_on_error=False)
bad = [i for i, v in enumerate(res)
       if (i % 2 == 0 and v is not None) or
          (i % 2 == 1 and not (isinstance(v, redis.ResponseError) and
                               "readonly service redis refuses SET" in str(v)))]
print("ok" if not bad and len(res) == 400 else "bad %r" % bad[:5])
PY
)
	expect_eq "redis-py pipeline of 200 reads and 200 writes" ok "$out"
	expect_eq "keys in redis" 0 "$(rdirect "$REDIS_PORT" DBSIZE)"
}

# PostgreSQL: the server refuses writes itself (the startup packet asked
# for default_transaction_read_only), and postern refuses turning that
# off, by the simple protocol (psql) and the extended one (psycopg).
case_ro_pg() {
	local out
	start_postgres
	timeout 30 psql "$(pg_conninfo "$PG_PORT")" -XAtqc "CREATE TABLE t (x int)" ||
	    fail_case "CREATE TABLE directly failed"
	postern_on "$1" postgres "$PG_PORT" -- readonly=yes check=tcp
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -XAtc "INSERT INTO t VALUES (1)" 2>&1)
	expect_match "INSERT through postern" "cannot execute INSERT in a read-only transaction" "$out"
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT" "options='-c default_transaction_read_only=off'")" \
	    -XAtc "SHOW default_transaction_read_only" 2>&1)
	expect_eq "the client's own startup value is overridden" on "$out"
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -X -v ON_ERROR_STOP=0 -At \
	    -c "SET default_transaction_read_only = off" -c "SHOW default_transaction_read_only" \
	    -c "BEGIN READ WRITE" -c "ROLLBACK" -c "SELECT count(*) FROM t" 2>&1)
	expect_match "SET refused" "ERROR:  postern: readonly service postgres refuses SET default_transaction_read_only" "$out"
	expect_match "still read-only" $'\non\n' "$out"
	expect_match "BEGIN READ WRITE refused" "refuses BEGIN READ WRITE" "$out"
	expect_match "reads pass" $'\n0$' "$out"
	out=$(timeout 30 /usr/bin/python3 - "$LISTEN_PORT" <<'PY' 2>&1
import sys, psycopg
c = psycopg.connect(host="127.0.0.1", port=int(sys.argv[1]), user="postgres",
                    dbname="postgres", autocommit=True)
res = []
for q in ("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
          "SELECT set_config('transaction_read_only', 'off', false)",
          "START TRANSACTION READ WRITE"):
    try:
        c.execute(q, prepare=True)
        res.append("passed")
    except psycopg.Error as e:
        res.append("%s %s" % (e.sqlstate, e.diag.message_primary))
try:
    c.execute("INSERT INTO t VALUES (%s)", (2,))
    res.append("insert passed")
except psycopg.Error as e:
    res.append(e.sqlstate)
res.append(str(c.execute("SELECT count(*) FROM t WHERE x = %s", (0,)).fetchone()[0]))
print("|".join(res))
PY
)
	expect_eq "extended protocol" "25006 postern: readonly service postgres refuses SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE|25006 postern: readonly service postgres refuses set_config of transaction_read_only|25006 postern: readonly service postgres refuses START TRANSACTION READ WRITE|25006|0" "$out"
	expect_eq "rows in t" 0 "$(timeout 30 psql "$(pg_conninfo "$PG_PORT")" -XAtc "SELECT count(*) FROM t")"
}

# Quick mode: -o readonly=yes (with -o protocol, or a well-known target
# port) guards every forward, and each forward's client command is
# printed ready to run.
case_ro_quick() {
	local p1 p2 out
	start_redis
	p1=$(free_port) p2=$(free_port)
	start_postern_args -L "127.0.0.1:$p1:127.0.0.1:$REDIS_PORT" \
	    -L "$p2:127.0.0.1:5432" -o readonly=yes -o protocol=redis
	wait_ready 10
	# Named by the forward as typed (issue 28 item 10), not L1, L2.
	expect_log "info: 127\\.0\\.0\\.1:$p1 -> 127\\.0\\.0\\.1:$REDIS_PORT: redis-cli -h 127\\.0\\.0\\.1 -p $p1\$"
	expect_log "info: $p2 -> 127\\.0\\.0\\.1:5432: redis-cli -h 127\\.0\\.0\\.1 -p $p2\$"
	out=$(timeout 10 redis-cli -h 127.0.0.1 -p "$p1" SET k v 2>&1)
	expect_eq "SET through the quick-mode forward" "NOPERM postern: readonly service 127.0.0.1:$p1 -> 127.0.0.1:$REDIS_PORT refuses SET" "$out"
	expect_no_log "[ /]L[12][ :/]"
	stop_postern
	# Without -o protocol: from the target port; a plain forward's hint.
	start_postern_args -L "$p1:127.0.0.1:5432" -L "$p2:127.0.0.1:6380" \
	    -o readonly=yes
	wait_ready 10
	expect_log "info: $p1 -> 127\\.0\\.0\\.1:5432: psql \"host=127\\.0\\.0\\.1 port=$p1\"\$"
	expect_log "info: $p2 -> 127\\.0\\.0\\.1:6380: redis-cli -h 127\\.0\\.0\\.1 -p $p2\$"
	stop_postern
	out=$("$POSTERN" -n -L "$p1:127.0.0.1:$REDIS_PORT" -o readonly=yes 2>&1)
	expect_match "readonly to an unknown port" "^-o readonly=yes: readonly = yes is for protocol = redis or postgres services" "$out"
	out=$("$POSTERN" -n -L "$p1:127.0.0.1:6379" -o user=x 2>&1)
	expect_match "a bastion key without -J" "'user=x': not a key of a forward's service" "$out"
}

# Quick mode to PostgreSQL: the guard's refusal names the forward too.
case_ro_quick_pg() {
	local p out
	start_postgres
	p=$(free_port) || fail_case "no free port"
	start_postern_args -L "$p:127.0.0.1:$PG_PORT" -o readonly=yes \
	    -o protocol=postgres
	wait_ready 10
	out=$(timeout 30 psql "$(pg_conninfo "$p")" -X -At \
	    -c "SET default_transaction_read_only = off" 2>&1)
	expect_match "SET refused, the forward named" "ERROR:  postern: readonly service $p -> 127\\.0\\.0\\.1:$PG_PORT refuses SET default_transaction_read_only" "$out"
	expect_no_log "[ /]L1[ :/]"
}

# as_nobody CMD...: run CMD as nobody (uid 65534), no supplementary groups.
as_nobody() {
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"
}

# audit = log: one line per session with the client's uid, found through
# the kernel's socket diagnostics on loopback TCP (a client run as
# nobody, then one as root), route and bastion, bytes and how it ended.
case_audit_log() {
	local bastion=- nob
	[[ $1 == ssh ]] && bastion=b
	nob=$(id -u nobody)
	transport_redis "$1"
	GLOBAL_OPTS=(audit=log)
	postern_on "$1" redis "$REDIS_PORT"
	GLOBAL_OPTS=()
	expect_eq "PING as nobody" PONG "$(as_nobody timeout 10 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" PING)"
	expect_log "info: audit: s[0-9]+ uid=$nob user=nobody service=redis route=private bastion=$bastion client=127\\.0\\.0\\.1:[0-9]+ start=20[0-9-]{8}T[0-9:.]{12}Z duration=[0-9]+\\.[0-9]{3}s up=14 down=7 refused=0 end=\"client closed\"$"
	expect_eq "PING as root" PONG "$(rcli "$LISTEN_PORT" PING)"
	expect_log "info: audit: s[0-9]+ uid=0 user=root service=redis route=private bastion=$bastion "
}

# audit = json into audit_file, with the refusals of a readonly service;
# a unix socket client's uid from SO_PEERCRED.
case_audit_json() {
	local sock=$T/r$_CASE_ID.sock out nob
	nob=$(id -u nobody)
	transport_redis "$1"
	transport_route "$1" "$REDIS_PORT"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global audit=json "audit_file=$T/audit$_CASE_ID.jsonl"
		[[ -z "${CONF_EXTRA:-}" ]] || printf '%s\n\n' "$CONF_EXTRA"
		printf '[service redis]\nlisten = 127.0.0.1:%s\nlisten = unix:%s\nprotocol = redis\nreadonly = yes\nroute = %s\n' \
		    "$LISTEN_PORT" "$sock" "$ROUTE"
	} > "$CONF"
	start_postern "$CONF"
	[[ $1 != ssh ]] ||
	    expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in " 20
	chmod 666 "$sock"
	out=$(as_nobody timeout 10 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" SET k v 2>&1)
	expect_eq "SET as nobody" "NOPERM postern: readonly service redis refuses SET" "$out"
	expect_eq "GET over the unix socket as nobody" "" "$(as_nobody timeout 10 redis-cli -s "$sock" GET k 2>&1)"
	wait_until 10 eval '[[ $(wc -l < "$T/audit$_CASE_ID.jsonl" 2>/dev/null) -ge 2 ]]' ||
	    fail_case "no 2 audit records in audit_file"
	out=$(/usr/bin/python3 - "$T/audit$_CASE_ID.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
for r in recs:
    print("%s %s %s %s %s %s %s %s" % (r["uid"], r["user"], r["service"],
          r["route"], r["bastion"], r["refused"], r["end"],
          "unix" if r["client"].startswith("unix") else "tcp"))
PY
)
	local b=None
	[[ $1 == ssh ]] && b=b
	expect_eq "audit records" "$nob nobody redis private $b 1 client closed tcp
$nob nobody redis private $b 0 client closed unix" "$out"
	expect_eq "audit_file mode" 600 "$(stat -c %a "$T/audit$_CASE_ID.jsonl")"
}

# readonly = yes on a tcp service: postern -n says it cannot be.
case_ro_conf() {
	local out p
	p=$(free_port)
	{ conf_global
	  conf_service t "127.0.0.1:$p" tcp "a tcp://127.0.0.1:$(free_port)" -- readonly=yes
	} > "$T/ro.conf"
	out=$("$POSTERN" -n -c "$T/ro.conf" 2>&1)
	expect_match "postern -n" "ro\\.conf:[0-9]+: readonly = yes is for protocol = redis or postgres services" "$out"
}

(make_pki) > "$T/pki.log" 2>&1 || {
	fail "$SCRIPT_NAME: certificates" "openssl failed: $(tail -n 3 "$T/pki.log" | paste -sd'|')"
	finish
}

for t in "${TRANSPORTS[@]}"; do
	run_case "$t: readonly redis: pipelined writes among reads" case_ro_pipelined "$t"
	run_case "$t: readonly redis: MULTI with writes" case_ro_multi "$t"
	run_case "$t: readonly redis: EVAL refused, EVAL_RO passes" case_ro_scripts "$t"
	run_case "$t: readonly redis: redis-py pipeline" case_ro_redis_py "$t"
done
for t in tcp ssh; do
	run_case "$t: readonly postgres: the server refuses writes, turning it off refused" case_ro_pg "$t"
	run_case "$t: audit = log: the client's uid by socket diagnostics" case_audit_log "$t"
	run_case "$t: audit = json in audit_file: uid by SO_PEERCRED too, refusals" case_audit_json "$t"
done
run_case "readonly on a tcp service is a config error" case_ro_conf
run_case "quick mode: -o readonly=yes, client commands printed" case_ro_quick
run_case "quick mode: postgres refusal names the forward" case_ro_quick_pg
finish
