#!/bin/bash
# Faults on the preferred route under load: the product promise is "when
# the preferred path hangs, traffic leaves it within fall x interval +
# timeout, and clients never hang".  Each case runs tests/traffic.py
# through a two-route redis service (a new connection every 100 ms, two
# pooled connections with a request every 20 ms, every reply checked)
# while it hangs the preferred route: SIGSTOP of redis-server, a listener
# that accepts and never answers, one that never accepts, a SIGSTOPped
# bastion on an ssh:// route.  It asserts, with generous bounds, that the
# route is marked down, that new sessions then succeed on the backup,
# that no reply was ever wrong, and that the route comes back after the
# fault ends.  tests/bench/faults.sh measures the same faults.
. "$(dirname "$0")/../lib.sh"

# Bound: fall x interval + timeout = 1.5 s; the cases allow 10 s.
CHECKS=(check_interval=500ms check_fast_interval=200ms check_down_interval=500ms
	check_timeout=500ms fall=2 rise=2 connect_timeout=1s)
DOWN_S=10

_STOPPED=()

# stop_pids PID...: SIGSTOP them; the case's exit trap sends SIGCONT
# first, so that the cleanup can stop them.
stop_pids() {
	_STOPPED+=("$@")
	trap '_rc=$?; for _p in "${_STOPPED[@]}"; do kill -CONT "$_p" 2>/dev/null; done; _ssh_case_cleanup; _with_status "$_rc"; _case_cleanup' EXIT
	kill -STOP "$@" || fail_case "cannot SIGSTOP $*"
}

# redis_named NAME [PORT]: a redis-server (on PORT, else a free one)
# holding traffic.py's keys and who=NAME, saved in its dump.rdb: started
# again on that port (start_redis_on), it has them before it answers.
redis_named() {
	if (($# > 1)); then start_redis_on "$2"; else start_redis; fi
	python3 "$TESTS_DIR/traffic.py" load --proto redis --port "$REDIS_PORT" --name "$1" ||
	    fail_case "cannot load the keys into redis $1"
}

# postern_two PRIVATE-URL: postern, service redis with routes private
# (PRIVATE-URL) and public (PUB_PORT), CHECKS; the bastion section b when
# SSHD_PORT is set; waits for both routes up.
postern_two() {
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global
		[[ -n "${SSHD_PORT:-}" ]] &&
		    conf_bastion b keepalive_interval=300ms keepalive_count=3 connect_timeout=2s
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis "private $1" \
		    "public tcp://127.0.0.1:$PUB_PORT" -- "${CHECKS[@]}"
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: redis/private: up \(check ok\)$' 15
	expect_log 'notice: redis/public: up \(check ok\)$'
}

# traffic_on ROUTE SINCE_MS KIND [TIMEOUT_S]: wait until a request of KIND
# started at or after SINCE_MS was answered by ROUTE.
traffic_on() {
	wait_until "${4:-10}" eval "(( \$(traffic_count $2 0 $3 ok $1) > 0 ))" ||
	    fail_case "no $3 request started after $(($2 - T0)) ms was answered by $1 within ${4:-10}s: $(tail -n 3 "$TRAFFIC_OUT" | paste -sd'|')"
}

# fault_cycle INJECT REPAIR: traffic through postern; INJECT hangs the
# private route; it must go down within DOWN_S and new sessions started
# 1 s after that must all be served by public; REPAIR ends the fault; the
# route must come back and serve new sessions again.  No reply may be
# wrong at any time.
fault_cycle() {
	local t_down t_fix
	start_traffic redis "$LISTEN_PORT" --new-ms 100 --pool 2 --pool-ms 20 --timeout 10
	T0=$(date +%s%3N)
	traffic_on private "$T0" new
	traffic_on private "$T0" pool
	T0=$(date +%s%3N)
	"$1"
	expect_log 'warn: redis/private: up -> down \(' "$DOWN_S"
	t_down=$(log_ms 'redis/private: up -> down')
	note "fault -> 'up -> down' in $((t_down - T0)) ms (bound fall x interval + timeout = 1500 ms)"
	expect_log 'warn: service redis: new sessions go to public \(was private\)$'
	traffic_on public "$t_down" new
	# A window of new sessions, all to be served by public: at least 10
	# started 1 s after 'down' or later (the check below counts them).
	wait_until 60 eval "(( \$(traffic_count $((t_down + 1000)) 0 new ok public) >= 10 ))" ||
	    fail_case "fewer than 10 new sessions served by public from 1 s after 'down' on"
	t_fix=$(date +%s%3N)
	"$2"
	expect_log 'notice: redis/private: down -> up \(' 20
	expect_log 'notice: service redis: new sessions go to private \(was public\)$'
	traffic_on private "$t_fix" new
	note "repair -> 'new sessions go to private' in $(($(log_ms 'new sessions go to private \(was public') - t_fix)) ms"
	stop_traffic
	expect_eq "new sessions from 1 s after 'down' to the repair, not all served by public" \
	    "$(traffic_count $((t_down + 1000)) "$t_fix" new '*' '*')" \
	    "$(traffic_count $((t_down + 1000)) "$t_fix" new ok public)"
	note "requests: $(traffic_count 0 0 '*' ok '*') ok, $(traffic_count 0 0 '*' err '*') errors (sessions caught on the broken route), max $(awk '$2 - $1 > m { m = $2 - $1 } END { print m + 0 }' "$TRAFFIC_OUT") ms"
	expect_eq "wrong replies" 0 "$(traffic_count 0 0 '*' wrong '*')"
}

# ---------------------------------------------------------------------
# The cases

hang_redis() { stop_pids "$PRIV_PID"; }
resume_redis() { kill -CONT "$PRIV_PID"; }

# SIGSTOP: the kernel still completes TCP handshakes, nothing answers.
case_sigstop() {
	redis_named public
	PUB_PORT=$REDIS_PORT
	redis_named private
	PRIV_PID=$REDIS_PID PRIV_PORT=$REDIS_PORT
	postern_two "tcp://127.0.0.1:$PRIV_PORT"
	fault_cycle hang_redis resume_redis
}

to_silent() {
	kill -KILL "$PRIV_PID"
	wait "$PRIV_PID" 2>/dev/null
	start_silent "$PRIV_PORT" "$SILENT_MODE"
}
from_silent() {
	kill -KILL "$SILENT_PID"
	wait "$SILENT_PID" 2>/dev/null
	start_redis_on "$PRIV_PORT"
}

# The server is replaced by a listener that accepts (or never accepts)
# and never answers: connects succeed, the first request gets nothing.
case_silent() {
	SILENT_MODE=$1
	redis_named public
	PUB_PORT=$REDIS_PORT
	redis_named private
	PRIV_PID=$REDIS_PID PRIV_PORT=$REDIS_PORT
	postern_two "tcp://127.0.0.1:$PRIV_PORT"
	fault_cycle to_silent from_silent
}

# shellcheck disable=SC2046 # a list of PIDs, one word each
hang_bastion() { stop_pids $(pid_tree "$SSHD_PID"); }
resume_bastion() { sshd_signal CONT; }

# The bastion of an ssh:// route hangs (sshd and its connection
# processes SIGSTOPped): checks through it time out.
case_bastion_hung() {
	redis_named public
	PUB_PORT=$REDIS_PORT
	redis_named private
	PRIV_PORT=$REDIS_PORT
	start_sshd
	postern_two "ssh://b/127.0.0.1:$PRIV_PORT"
	expect_log "$(connected_re b)"
	fault_cycle hang_bastion resume_bastion
}

run_case "SIGSTOPped preferred redis under traffic: down, backup, failback" case_sigstop
run_case "listener that accepts and never answers, under traffic" case_silent accept
run_case "listener that never accepts, under traffic" case_silent noaccept
run_case "hung bastion (SIGSTOP) on an ssh:// route, under traffic" case_bastion_hung
finish
