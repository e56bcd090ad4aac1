#!/bin/bash
# Sessions follow the route (follow.h): Redis sessions move to the
# preferred route at a safe point without their client seeing anything
# (AUTH, SELECT, CLIENT SETNAME replayed), and only at a safe point (not
# in MULTI, subscribed, or blocked); PostgreSQL sessions are closed at an
# idle point with FATAL 57P01 and reconnect to the preferred route, never
# inside a transaction; `ctl drain --deadline` closes what is left.
# Real redis-server and PostgreSQL; clients are tests/move_client.py.
. "$(dirname "$0")/../lib.sh"

# Fast checks: a route is up again rise x check interval after its
# server answers (the down interval is as short).
RISE=2 INTERVAL_MS=300
FAST=(check_interval=${INTERVAL_MS}ms check_fast_interval=${INTERVAL_MS}ms
	check_down_interval=${INTERVAL_MS}ms check_timeout=${INTERVAL_MS}ms
	fall=2 rise=$RISE)

# start_pair: two redis-servers "private" and "public", each holding
# who=<its name> in db 0 and db 3; sets PRIV_PORT PRIV_PID PUB_PORT.
start_pair() {
	start_redis "$@"
	PRIV_PORT=$REDIS_PORT PRIV_PID=$REDIS_PID
	seed_redis "$PRIV_PORT" private
	start_redis "$@"
	PUB_PORT=$REDIS_PORT
	seed_redis "$PUB_PORT" public
}

# seed_redis PORT NAME [AUTH...]: who=NAME in db 0 and 3.
seed_redis() {
	local port=$1 name=$2
	shift 2
	expect_eq "seed $name" OK "$(rcli "$port" "$@" SET who "$name" 2>/dev/null)"
	expect_eq "seed $name db 3" OK "$(rcli "$port" "$@" -n 3 SET who "$name" 2>/dev/null)"
}

# postern_pair [KEY=VALUE...]: service redis over both, admin on
# ADMIN; waits until both routes are up.
postern_pair() {
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	GLOBAL_OPTS=("admin=$ADMIN" log_level=debug)
	postern_redis "private tcp://127.0.0.1:$PRIV_PORT" \
	    "public tcp://127.0.0.1:$PUB_PORT" -- "${FAST[@]}" check=redis "$@"
	expect_log 'info: redis/private: up \(check ok\)$'
	expect_log 'info: redis/public: up \(check ok\)$'
}

ctl() {
	CTL_OUT=$(timeout 20 "$POSTERN" ctl -a "$ADMIN" "$@" 2> "$T/ctl.err")
	CTL_RC=$?
}

# start_client NAME PROTO ARGS: tests/move_client.py, lines in $T/NAME.out.
start_client() {
	local name=$1
	shift
	: > "$T/$name.out"
	rm -f "$T/$name.stop"
	(_close_sess_fds; exec python3 "$TESTS_DIR/move_client.py" "$@" \
	    --out "$T/$name.out" --stop "$T/$name.stop") 2> "$T/$name.err" &
	track_client "$!"
	eval "CLIENT_PID_$name=$!"
}

stop_client() {
	local pid
	: > "$T/$1.stop"
	eval "pid=\$CLIENT_PID_$1"
	wait_exit "$pid" 15 || kill -KILL "$pid" 2>/dev/null
	return 0
}

now_ms() {
	date +%s%3N
}

# ---------------------------------------------------------------------
# Redis

# The preferred server dies: the pooled connection breaks once and
# reconnects to public (that is failover).  When private is back, that
# same connection is moved to it within rise x interval + 1 s, and sees
# no error, with its AUTH (an ACL user), SELECT 3 and CLIENT SETNAME
# replayed there.
redis_failback() {	# redis_failback AUTH-ARGS...
	local up_ms first t conn
	start_client c redis --port "$LISTEN_PORT" --db 3 --name pool1 "$@"
	wait_until 10 grep -q ' ok private pool1 c1$' "$T/c.out" ||
	    fail_case "no reply from private: $(tail -n 2 "$T/c.out")"
	kill -KILL "$PRIV_PID"
	expect_log 'redis/private: up -> down'
	wait_until 10 grep -q ' ok public pool1 c2$' "$T/c.out" ||
	    fail_case "did not reconnect to public: $(tail -n 2 "$T/c.out")"
	start_redis_on "$PRIV_PORT" ${REDIS_ARGS[@]+"${REDIS_ARGS[@]}"}
	up_ms=$(now_ms)
	seed_redis "$PRIV_PORT" private ${SEED_AUTH[@]+"${SEED_AUTH[@]}"}
	expect_log 'redis/private: down -> up' 10
	wait_until 10 grep -q ' ok private pool1 c2$' "$T/c.out" ||
	    fail_case "connection c2 never served by private: $(tail -n 2 "$T/c.out")"
	first=$(grep -m 1 ' ok private pool1 c2$' "$T/c.out")
	t=${first%% *}
	(( t - up_ms <= RISE * INTERVAL_MS + 1000 )) ||
	    fail_case "moved $((t - up_ms)) ms after private answered (bound $((RISE * INTERVAL_MS + 1000)))"
	expect_log 'moved to private 127\.0\.0\.1:[0-9]+ \(waited [0-9.]+s; replayed '
	# Still running: its connection on private has the replayed state.
	CLIENTS=$(rcli "$PRIV_PORT" CLIENT LIST 2>/dev/null)
	expect_match "client name on private" 'name=pool1 .* db=3 ' "$CLIENTS"
	stop_client c
	conn=$(grep -c ' err c2 ' "$T/c.out")
	expect_eq "errors on the moved connection" 0 "$conn"
	expect_eq "connections" 2 "$(grep -oE ' c[0-9]+$' "$T/c.out" | sort -u | wc -l)"
	expect_match "key written in db 3 on private" '^[0-9]+$' \
	    "$(rcli "$PRIV_PORT" -n 3 GET last:pool1 2>/dev/null)"
	expect_no_log 's3cret'
	stop_postern
}

case_redis_failback() {
	start_pair
	postern_pair
	REDIS_ARGS=() SEED_AUTH=()
	redis_failback
	expect_log 'replayed SELECT, CLIENT SETNAME\)'
}

# The same with an ACL user: AUTH app s3cret is replayed (never logged).
case_redis_failback_auth() {
	local acl=(--user default on nopass '~*' '+@all' --user app on '>s3cret' '~*' '+@all')
	start_pair "${acl[@]}"
	postern_pair
	REDIS_ARGS=("${acl[@]}") SEED_AUTH=()
	redis_failback --auth app:s3cret
	expect_log 'replayed AUTH, SELECT, CLIENT SETNAME\)'
	expect_match "ACL user of the moved connection" 'name=pool1 .*user=app' \
	    "$CLIENTS"
}

run_case "redis: a pooled connection moves back to private unseen" case_redis_failback
run_case "redis: AUTH (ACL user), SELECT, SETNAME replayed on the move" case_redis_failback_auth
finish
