#!/bin/bash
# Sessions follow the route (follow.h): Redis sessions move to the
# preferred route at a safe point without their client seeing anything
# (AUTH, SELECT, CLIENT SETNAME replayed), and only at a safe point (not
# in MULTI, subscribed, or blocked); PostgreSQL sessions are closed at an
# idle point with FATAL 57P01 and reconnect to the preferred route, never
# inside a transaction; `ctl drain --deadline` closes what is left.
# A subscriber that unsubscribed from everything, a LISTENer after
# UNLISTEN *, are ordinary sessions again.  The Redis move is written once
# and run over every transport (tcp://, ssh://, tls://).  Real
# redis-server, PostgreSQL and sshd; clients are tests/move_client.py.
. "$(dirname "$0")/../lib.sh"

# The agent case of 90-ssh.sh sets its own; none may be found here.
unset SSH_AUTH_SOCK SSH_AGENT_PID

# Fast checks: a route is up again rise x check interval after its
# server answers (the down interval is as short).
RISE=2 INTERVAL_MS=300
FAST=("check_interval=${INTERVAL_MS}ms" "check_fast_interval=${INTERVAL_MS}ms"
	"check_down_interval=${INTERVAL_MS}ms" "check_timeout=${INTERVAL_MS}ms"
	fall=2 "rise=$RISE")

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
	expect_log 'notice: redis/private: up \(check ok\)$'
	expect_log 'notice: redis/public: up \(check ok\)$'
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

# Sessions in MULTI, subscribed, or blocked in BLPOP do not move until
# that state ends; the subscriber is closed at the drain deadline.  An
# idle session moves at once (and shows the step ran for all of them).
case_redis_drain_states() {
	local moved=' -> private 127\.0\.0\.1:[0-9]+: moved to public '
	start_pair
	postern_pair
	open_session m "TCP:127.0.0.1:$LISTEN_PORT"
	session_send m 'MULTI\r\nINCR n\r\n'
	wait_until 10 grep -q QUEUED "$T/m.out" || fail_case "m: no QUEUED"
	open_session s "TCP:127.0.0.1:$LISTEN_PORT"
	session_send s 'SUBSCRIBE ch\r\n'
	wait_until 10 grep -q subscribe "$T/s.out" || fail_case "s: not subscribed"
	open_session b "TCP:127.0.0.1:$LISTEN_PORT"
	session_send b 'BLPOP q 0\r\n'
	wait_until 10 bash -c "redis-cli -p $PRIV_PORT CLIENT LIST | grep -q cmd=blpop" ||
	    fail_case "b: not blocked"
	open_session i "TCP:127.0.0.1:$LISTEN_PORT"
	session_send i 'PING\r\n'
	wait_until 10 grep -q PONG "$T/i.out" || fail_case "i: no PONG"

	ctl drain redis private --deadline 4s
	expect_eq "ctl drain exit" 0 "$CTL_RC"
	expect_match "ctl drain output" 'leave at safe points \(closed after 4s\)' "$CTL_OUT"
	expect_log "$moved"
	expect_eq "moved at once (the idle one)" 1 "$(count_lines "$POSTERN_LOG" "$moved")"
	session_send i 'GET who\r\n'
	wait_until 10 grep -q public "$T/i.out" || fail_case "i: not served by public"

	# MULTI ends on private, then that session moves.
	session_send m 'EXEC\r\n'
	wait_until 10 grep -q '^:1' "$T/m.out" || fail_case "m: EXEC: $(cat "$T/m.out")"
	wait_count "$POSTERN_LOG" "$moved" 2 || fail_case "m did not move after EXEC"
	# BLPOP is answered on private, then that session moves.
	rcli "$PRIV_PORT" LPUSH q x > /dev/null
	wait_until 10 grep -q '^x' "$T/b.out" || fail_case "b: no BLPOP reply"
	wait_count "$POSTERN_LOG" "$moved" 3 || fail_case "b did not move after its reply"
	session_send b 'GET who\r\n'
	wait_until 10 grep -q public "$T/b.out" || fail_case "b: not served by public"
	# The subscriber is closed at the deadline, never moved.
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: closed \(route: drain deadline\)' 10
	expect_log 'redis/private: drain deadline: 1 session still on it closed'
	expect_eq "moved" 3 "$(count_lines "$POSTERN_LOG" "$moved")"
	wait_until 10 bash -c "! kill -0 $(session_pid s) 2>/dev/null" ||
	    fail_case "the subscriber's connection is still open"
	http_metric
	stop_postern
}

# postern_metric NAME: a sample of /metrics for service redis.
http_metric() {
	METRICS=$(curl -s "http://$ADMIN/metrics")
	expect_match "moved metric" 'postern_sessions_moved_total\{service="redis"\} 3' "$METRICS"
	expect_match "waiting metric" 'postern_sessions_move_waiting\{service="redis"\} 0' "$METRICS"
}

# on_failback = keep: established sessions stay where they are.
case_redis_keep() {
	start_pair
	postern_pair on_failback=keep
	start_client c redis --port "$LISTEN_PORT" --name k
	wait_until 10 grep -q ' ok private k c1$' "$T/c.out" || fail_case "no reply from private"
	kill -KILL "$PRIV_PID"
	expect_log 'redis/private: up -> down'
	wait_until 10 grep -q ' ok public k c2$' "$T/c.out" || fail_case "did not reconnect to public"
	start_redis_on "$PRIV_PORT"
	seed_redis "$PRIV_PORT" private
	expect_log 'service redis: new sessions go to private \(was public\)'
	expect_eq "new session" private "$(rcli "$LISTEN_PORT" GET who)"
	# A request on the old connection after the failback: still public.
	: > "$T/c.out"
	wait_until 10 grep -q ' ok ' "$T/c.out" || fail_case "c stopped"
	expect_match "kept on public" ' ok public k c2$' "$(tail -n 1 "$T/c.out")"
	expect_no_log 'moved to'
	stop_postern
}

# rd_on TRANSPORT PORT ARGS: redis-cli straight to a server started for
# TRANSPORT (over TLS for tls).
rd_on() {
	local t=$1
	shift
	if [[ $t == tls ]]; then
		tls_rcli "$@"
	else
		rcli "$@"
	fi
}

# The move on every transport (lib.sh's TRANSPORTS), written once:
# private over PRIV-TRANSPORT, public over PUB-TRANSPORT (ssh: through
# one sshd bastion; tls: redis-server with TLS only).  A pin sends the
# connection to public, unpinning moves it to private, pinning again
# moves it back; its client sees no error, and the server it lands on
# has its SELECT and CLIENT SETNAME.
case_redis_move_over() {	# case_redis_move_over PRIV-TRANSPORT PUB-TRANSPORT
	local pt=$1 ut=$2 priv_route
	if [[ $pt == tls || $ut == tls ]]; then
		make_pki > "$T/pki.log" 2>&1 || fail_case "make_pki failed"
	fi
	REDIS_TLS_CERT=
	transport_redis "$pt"
	PRIV_PORT=$REDIS_PORT
	expect_eq "seed private" OK "$(rd_on "$pt" "$PRIV_PORT" -n 3 SET who private 2>/dev/null)"
	REDIS_TLS_CERT=
	transport_redis "$ut"
	PUB_PORT=$REDIS_PORT
	expect_eq "seed public" OK "$(rd_on "$ut" "$PUB_PORT" -n 3 SET who public 2>/dev/null)"
	transport_route "$pt" "$PRIV_PORT"
	priv_route=$ROUTE
	transport_route "$ut" "$PUB_PORT"
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	GLOBAL_OPTS=("admin=$ADMIN" log_level=debug)
	postern_redis "$priv_route" "public ${ROUTE#private }" -- "${FAST[@]}" check=redis
	expect_log 'notice: redis/private: up \(check ok\)$' 20
	expect_log 'notice: redis/public: up \(check ok\)$' 20
	ctl pin redis public
	start_client c redis --port "$LISTEN_PORT" --db 3 --name mv1
	wait_until 10 grep -q ' ok public mv1 c1$' "$T/c.out" ||
	    fail_case "not on public: $(tail -n 2 "$T/c.out")"
	ctl unpin redis
	wait_until 10 grep -q ' ok private mv1 c1$' "$T/c.out" ||
	    fail_case "not moved to private ($pt): $(tail -n 2 "$T/c.out")"
	expect_log ' -> public 127\.0\.0\.1:[0-9]+: moved to private .*replayed SELECT, CLIENT SETNAME'
	expect_match "on private: name and db" 'name=mv1 .*db=3 ' \
	    "$(rd_on "$pt" "$PRIV_PORT" CLIENT LIST 2>/dev/null)"
	ctl pin redis public
	wait_until 10 bash -c "tail -n 1 '$T/c.out' | grep -q ' ok public mv1 c1$'" ||
	    fail_case "not moved back to public ($ut): $(tail -n 2 "$T/c.out")"
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: moved to public '
	expect_match "on public: name and db" 'name=mv1 .*db=3 ' \
	    "$(rd_on "$ut" "$PUB_PORT" CLIENT LIST 2>/dev/null)"
	stop_client c
	expect_eq "errors" "" "$(grep ' err ' "$T/c.out")"
	stop_postern
}

# CLIENT SETINFO (Redis 7.2+, valkey; the Debian 13 stage): a connection
# that set its library name and version, its name and its db is moved
# back to private, and private's CLIENT LIST and CLIENT INFO show all of
# them on it.  Skipped where the server lacks CLIENT SETINFO.
case_redis_setinfo() {
	local info
	start_pair
	rcli "$PRIV_PORT" CLIENT SETINFO LIB-NAME probe 2>&1 | grep -q '^OK$' ||
	    skip_case "$(redis-server --version | grep -o 'v=[0-9.]*'): no CLIENT SETINFO"
	postern_pair
	ctl pin redis public
	start_client c redis --port "$LISTEN_PORT" --db 3 --name lib1 --lib pylib:1.2.3 \
	    --info "$T/c.info"
	wait_until 10 grep -q ' ok public lib1 c1$' "$T/c.out" ||
	    fail_case "not on public: $(tail -n 2 "$T/c.out")"
	ctl unpin redis
	wait_until 10 grep -q ' ok private lib1 c1$' "$T/c.out" ||
	    fail_case "not moved to private: $(tail -n 2 "$T/c.out")"
	expect_log 'moved to private .*replayed SELECT, CLIENT SETNAME, CLIENT SETINFO, CLIENT SETINFO\)'
	info=$(rcli "$PRIV_PORT" CLIENT LIST 2>/dev/null | grep 'name=lib1 ')
	expect_match "CLIENT LIST on private" 'name=lib1 .*db=3 .*lib-name=pylib .*lib-ver=1\.2\.3' "$info"
	expect_eq "not on public any more" "" \
	    "$(rcli "$PUB_PORT" CLIENT LIST 2>/dev/null | grep 'name=lib1 ')"
	# CLIENT INFO asked on the moved connection itself: private's.
	: > "$T/c.info"
	wait_until 10 grep -q ' info c1 ' "$T/c.out" || fail_case "no CLIENT INFO: $(tail -n 2 "$T/c.out")"
	expect_match "CLIENT INFO of the moved connection" \
	    " info c1 .*laddr=127\.0\.0\.1:$PRIV_PORT .*name=lib1 .*db=3 .*lib-name=pylib .*lib-ver=1\.2\.3" \
	    "$(grep ' info c1 ' "$T/c.out")"
	stop_client c
	expect_eq "errors" "" "$(grep ' err ' "$T/c.out")"
	stop_postern
}

# States that end: a subscriber that unsubscribes from everything (here
# channels, then the pattern left) and one that sends RESET are ordinary
# connections again and move before the drain deadline, on the same
# connection, with what they set replayed (or, after RESET, nothing);
# meanwhile a pooled client under traffic has moved at once.
case_redis_unsubscribe() {
	local moved=' -> private 127\.0\.0\.1:[0-9]+: moved to public '
	start_pair
	postern_pair
	start_client c redis --port "$LISTEN_PORT" --name pool1 --ms 20
	wait_until 10 grep -q ' ok private pool1 c1$' "$T/c.out" ||
	    fail_case "c: not on private"
	open_session s "TCP:127.0.0.1:$LISTEN_PORT"
	session_send s 'CLIENT SETNAME sub1\r\nSELECT 3\r\nSUBSCRIBE a b\r\nPSUBSCRIBE p*\r\n'
	wait_until 10 grep -q psubscribe "$T/s.out" || fail_case "s: not subscribed"
	open_session r "TCP:127.0.0.1:$LISTEN_PORT"
	session_send r 'CLIENT SETNAME sub2\r\nSUBSCRIBE x\r\n'
	wait_until 10 grep -q subscribe "$T/r.out" || fail_case "r: not subscribed"
	expect_eq "publish" 1 "$(rcli "$PRIV_PORT" PUBLISH a hello)"
	wait_until 10 grep -q hello "$T/s.out" || fail_case "s: no message"

	ctl drain redis private --deadline 30s
	expect_eq "ctl drain exit" 0 "$CTL_RC"
	wait_count "$POSTERN_LOG" "$moved" 1 || fail_case "c did not move"
	wait_until 10 grep -q ' ok public pool1 c1$' "$T/c.out" ||
	    fail_case "c: not on public"
	expect_log 'waits for a safe point to move to public \(subscribed\)'

	# The channels go, the pattern stays: still subscribed (PING
	# answers as a subscriber: "pong" in an array), on private.
	session_send s 'UNSUBSCRIBE\r\nPING\r\n'
	wait_until 10 grep -q pong "$T/s.out" || fail_case "s: $(session_out s)"
	expect_eq "unsubscribed channels" 2 "$(grep -c '^unsubscribe' "$T/s.out")"
	expect_match "s still on private" 'name=sub1 .*db=3 .*psub=1' \
	    "$(rcli "$PRIV_PORT" CLIENT LIST 2>/dev/null)"
	session_send s 'PUNSUBSCRIBE\r\n'
	wait_count "$POSTERN_LOG" "$moved" 2 || fail_case "s did not move after its last unsubscribe"
	session_send s 'GET who\r\nPING\r\n'
	wait_until 10 grep -q '^public' "$T/s.out" || fail_case "s: not served by public: $(session_out s)"
	wait_until 10 grep -q '^+PONG' "$T/s.out" || fail_case "s: PING: $(session_out s)"
	expect_match "s on public, name and db replayed" 'name=sub1 .*db=3 .*sub=0 psub=0' \
	    "$(rcli "$PUB_PORT" CLIENT LIST 2>/dev/null)"
	expect_eq "s gone from private" "" \
	    "$(rcli "$PRIV_PORT" CLIENT LIST 2>/dev/null | grep name=sub1)"

	# RESET ends the subscription and the name: moved, nothing replayed.
	session_send r 'RESET\r\n'
	wait_count "$POSTERN_LOG" "$moved" 3 || fail_case "r did not move after RESET"
	session_send r 'CLIENT GETNAME\r\nGET who\r\n'
	wait_until 10 grep -q '^public' "$T/r.out" || fail_case "r: not served by public: $(session_out r)"
	expect_eq "r: no name after RESET" "" \
	    "$(rcli "$PUB_PORT" CLIENT LIST 2>/dev/null | grep name=sub2)"
	expect_eq "r: name gone from private too" "" \
	    "$(rcli "$PRIV_PORT" CLIENT LIST 2>/dev/null | grep name=sub2)"
	expect_no_log 'drain deadline'
	stop_client c
	expect_eq "errors on c" "" "$(grep ' err ' "$T/c.out")"
	stop_postern
}

# HELLO 3 AUTH alice, then a HELLO 3 without AUTH (issue 22): the user
# is still alice after the move, and the name HELLO gave survives too
# (the tracker kept the last HELLO whole and replayed a bare HELLO 3).
case_redis_hello_auth() {
	local acl=(--user default on nopass '~*' '+@all' --user alice on '>pw1' '~*' '+@all')
	local moved=' -> private 127\.0\.0\.1:[0-9]+: moved to public '
	start_pair "${acl[@]}"
	postern_pair
	open_session h "TCP:127.0.0.1:$LISTEN_PORT"
	session_send h 'HELLO 3 AUTH alice pw1 SETNAME hn\r\nHELLO 3\r\nACL WHOAMI\r\n'
	wait_until 10 grep -q '^alice' "$T/h.out" || fail_case "h: $(session_out h)"
	expect_match "alice on private" 'name=hn .*user=alice' \
	    "$(rcli "$PRIV_PORT" CLIENT LIST 2>/dev/null)"
	ctl drain redis private --deadline 30s
	wait_count "$POSTERN_LOG" "$moved" 1 || fail_case "h did not move"
	expect_log 'moved to public .*replayed AUTH, CLIENT SETNAME, HELLO\)'
	session_send h 'GET who\r\nACL WHOAMI\r\n'
	wait_until 10 grep -q '^public' "$T/h.out" || fail_case "h: not on public: $(session_out h)"
	wait_until 10 bash -c "[ \$(grep -c '^alice' '$T/h.out') -ge 2 ]" ||
	    fail_case "h: ACL WHOAMI after the move: $(session_out h)"
	expect_match "alice on public, name kept, RESP3" 'name=hn .*user=alice .*resp=3' \
	    "$(rcli "$PUB_PORT" CLIENT LIST 2>/dev/null)"
	expect_eq "errors" "" "$(grep '^-' "$T/h.out")"
	expect_no_log 'pw1'
	stop_postern
}

# Inline commands with quoted names are the commands Redis runs
# (issue 22): a session in "MULTI" (spelt \x4dULTI) waits, and EXEC
# finds its MULTI; one subscribed by 'SUBSCRIBE' keeps receiving on
# private and is closed at the drain deadline, never moved.  Another
# replaying a quoted AUTH moves with it.
case_redis_inline_quoted() {
	local acl=(--user default on nopass '~*' '&*' '+@all' --user bob on '>pw2' '~*' '&*' '+@all')
	local moved=' -> private 127\.0\.0\.1:[0-9]+: moved to public '
	start_pair "${acl[@]}"
	postern_pair
	open_session m "TCP:127.0.0.1:$LISTEN_PORT"
	session_send m '"\\x4dULTI"\r\nINCR n\r\n'
	wait_until 10 grep -q QUEUED "$T/m.out" || fail_case "m: no QUEUED: $(session_out m)"
	open_session s "TCP:127.0.0.1:$LISTEN_PORT"
	session_send s '"SUBSCRIBE" ch\r\n'
	wait_until 10 grep -q subscribe "$T/s.out" || fail_case "s: not subscribed"
	open_session a "TCP:127.0.0.1:$LISTEN_PORT"
	session_send a "'AUTH' \"bob\" \"p\\\\x772\"\r\nPING\r\n"
	wait_until 10 grep -q PONG "$T/a.out" || fail_case "a: $(session_out a)"

	ctl drain redis private --deadline 6s
	wait_count "$POSTERN_LOG" "$moved" 1 || fail_case "a did not move"
	expect_log 'waits for a safe point to move to public \(inside MULTI\)'
	expect_log 'waits for a safe point to move to public \(subscribed\)'
	session_send a 'ACL WHOAMI\r\nGET who\r\n'
	wait_until 10 grep -q '^public' "$T/a.out" || fail_case "a: not on public: $(session_out a)"
	expect_eq "a: still bob" 1 "$(grep -c '^bob' "$T/a.out")"
	expect_eq "publish reaches s on private" 1 "$(rcli "$PRIV_PORT" PUBLISH ch hello1)"
	wait_until 10 grep -q hello1 "$T/s.out" || fail_case "s: no message: $(session_out s)"
	session_send m 'EXEC\r\n'
	wait_until 10 grep -q '^:1' "$T/m.out" || fail_case "m: EXEC: $(session_out m)"
	expect_eq "m: no EXEC without MULTI" "" "$(grep -i 'without MULTI' "$T/m.out")"
	wait_count "$POSTERN_LOG" "$moved" 2 || fail_case "m did not move after EXEC"
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: closed \(route: drain deadline\)' 10
	expect_eq "moved" 2 "$(count_lines "$POSTERN_LOG" "$moved")"
	stop_postern
}

# A replication stream (issue 22): after PSYNC the master streams an RDB
# and then the commands it runs, none a reply to the replica.  Such a
# session is never moved, however idle it looks; it is closed at the
# drain deadline.  REPLCONF alone is enough.  An idle one moves.
case_redis_replication() {
	local moved=' -> private 127\.0\.0\.1:[0-9]+: moved to public '
	start_pair
	postern_pair
	open_session p "TCP:127.0.0.1:$LISTEN_PORT"
	session_send p 'REPLCONF listening-port 1\r\n'
	wait_until 10 grep -q '^+OK' "$T/p.out" || fail_case "p: $(session_out p)"
	# Not pipelined: PSYNC is refused with output pending.
	session_send p 'PSYNC ? -1\r\n'
	wait_until 10 grep -q FULLRESYNC "$T/p.out" || fail_case "p: $(session_out p | head -c 200)"
	open_session c "TCP:127.0.0.1:$LISTEN_PORT"
	session_send c 'REPLCONF listening-port 2\r\n'
	wait_until 10 grep -q '^+OK' "$T/c.out" || fail_case "c: $(session_out c)"
	open_session i "TCP:127.0.0.1:$LISTEN_PORT"
	session_send i 'PING\r\n'
	wait_until 10 grep -q PONG "$T/i.out" || fail_case "i: no PONG"
	ctl drain redis private --deadline 4s
	wait_count "$POSTERN_LOG" "$moved" 1 || fail_case "i did not move"
	rcli "$PRIV_PORT" SET streamed yes > /dev/null
	wait_until 10 grep -q streamed "$T/p.out" || fail_case "p: the stream stalled"
	expect_log 'redis/private: drain deadline: 2 sessions still on it closed' 10
	expect_eq "moved: only the idle one" 1 "$(count_lines "$POSTERN_LOG" "$moved")"
	stop_postern
}

# ---------------------------------------------------------------------
# PostgreSQL

# pg_stop: stop the cluster of PG_DIR at once (a crash, for clients).
pg_stop() {
	_as_postgres "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop > /dev/null 2>&1
}

psql_at() {	# psql_at PORT SQL
	timeout 30 psql -X -qAt "$(pg_conninfo "$1")" -c "$2" 2>&1
}

# shellcheck disable=SC2120 # callers may pass start_postgres options
start_pg_pair() {
	start_postgres
	PRIV_PG=$PG_PORT PRIV_DIR=$PG_DIR
	start_postgres
	PUB_PG=$PG_PORT PUB_DIR=$PG_DIR
	for port in "$PRIV_PG" "$PUB_PG"; do
		psql_at "$port" 'CREATE TABLE moved (seq int); CREATE TABLE held (a int)' > /dev/null ||
		    fail_case "create tables on $port"
	done
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	GLOBAL_OPTS=("admin=$ADMIN" log_level=debug)
	postern_service postgres "private tcp://127.0.0.1:$PRIV_PG" \
	    "public tcp://127.0.0.1:$PUB_PG" -- "${FAST[@]}" check=postgres "$@"
	expect_log 'notice: postgres/private: up \(check ok\)$'
	expect_log 'notice: postgres/public: up \(check ok\)$'
}

# last_ok NAME: the server port of client NAME's last good reply.
last_ok() {
	grep ' ok ' "$T/$1.out" | tail -n 1 | cut -d' ' -f3
}

# served_on CLIENT PORT: CLIENT's last answer came from the server on PORT.
served_on() {
	[[ $(last_ok "$1") == "$2" ]]
}

# Pooled connections fail over to public when private dies, and when it
# is back they are closed between queries (57P01) and reconnect to
# private; a transaction open across the failback commits on public
# first; a client running transactions back to back loses none and sees
# no error inside one.
case_pg_failback() {
	local commits rows back
	start_pg_pair
	start_client p1 pg --port "$LISTEN_PORT" --ms 50
	start_client p2 pg --port "$LISTEN_PORT" --ms 50
	start_client tx pg --port "$LISTEN_PORT" --ms 10 --tx
	wait_until 10 bash -c "grep -q ' ok $PRIV_PG' '$T/p1.out' && grep -q ' ok $PRIV_PG' '$T/tx.out'" ||
	    fail_case "clients not on private"
	PG_DIR=$PRIV_DIR pg_stop
	expect_log 'postgres/private: up -> down'
	wait_until 15 served_on "p1" "$PUB_PG" ||
	    fail_case "p1 not on public"
	start_client h pg --port "$LISTEN_PORT" --ms 50 --hold "$T/h.release"
	wait_until 10 grep -q holding "$T/h.out" || fail_case "h: no transaction"
	back=$(now_ms)
	PG_DIR=$PRIV_DIR PG_PORT=$PRIV_PG restart_postgres
	expect_log 'postgres/private: down -> up' 15
	for c in p1 p2 tx; do
		wait_until 10 served_on "$c" "$PRIV_PG" ||
		    fail_case "$c did not come back to private: $(tail -n 2 "$T/$c.out")"
	done
	expect_log 'closed \(safe point: for route private: idle\)'
	# The held transaction is still open on public: it commits there.
	: > "$T/h.release"
	wait_until 10 grep -q " ok $PUB_PG held" "$T/h.out" ||
	    fail_case "h: $(tail -n 2 "$T/h.out")"
	wait_until 10 served_on "h" "$PRIV_PG" ||
	    fail_case "h did not come back to private"
	expect_eq "held row on public" 1 "$(psql_at "$PUB_PG" 'SELECT count(*) FROM held')"
	for c in p1 p2 tx h; do
		stop_client "$c"
	done
	# The crash of private broke a transaction, as it would have
	# anyway; the failback must break none.
	expect_eq "errors inside a transaction after the failback" "" \
	    "$(cat "$T/tx.out" "$T/h.out" | awk -v t="$back" '$1 >= t && / intx /')"
	expect_eq "57P01 only between queries" "" \
	    "$(grep ' err ' "$T/p1.out" "$T/p2.out" | grep -v -e eof -e reset -e refused -e 57P01 -e 08006 -e connect)"
	commits=$(grep -c ' ok ' "$T/tx.out")
	rows=$(( $(psql_at "$PRIV_PG" 'SELECT count(*) FROM moved') + $(psql_at "$PUB_PG" 'SELECT count(*) FROM moved') ))
	expect_eq "committed transactions found on the servers" "$commits" "$rows"
	stop_postern
}

# drain --deadline: idle sessions leave at once; a LISTENing one only at
# the deadline.
case_pg_drain_listen() {
	start_pg_pair
	start_client a pg --port "$LISTEN_PORT" --ms 50
	start_client l pg --port "$LISTEN_PORT" --ms 50 --listen
	wait_until 10 bash -c "grep -q ' ok $PRIV_PG' '$T/a.out' && grep -q ' ok $PRIV_PG' '$T/l.out'" ||
	    fail_case "clients not on private"
	ctl drain postgres private --deadline 3s
	expect_eq "ctl drain exit" 0 "$CTL_RC"
	wait_until 10 served_on "a" "$PUB_PG" ||
	    fail_case "a did not leave private"
	expect_eq "l still on private" "$PRIV_PG" "$(last_ok l)"
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: closed \(route: drain deadline\)' 10
	wait_until 10 served_on "l" "$PUB_PG" ||
	    fail_case "l did not reconnect to public"
	stop_client a
	stop_client l
	stop_postern
}

# A LISTENing session that runs UNLISTEN * is closed at its next idle
# point (57P01) and reconnects to public, before the deadline; one still
# LISTENing is closed only at the deadline.  A client without LISTEN
# keeps the traffic going and leaves at once.
case_pg_unlisten() {
	local safe=' -> private 127\.0\.0\.1:[0-9]+: closed \(safe point'
	start_pg_pair
	start_client a pg --port "$LISTEN_PORT" --ms 50
	start_client u pg --port "$LISTEN_PORT" --ms 50 --listen --unlisten "$T/u.go"
	start_client l pg --port "$LISTEN_PORT" --ms 50 --listen
	wait_until 10 bash -c "grep -q ' ok $PRIV_PG' '$T/a.out' && grep -q ' ok $PRIV_PG' '$T/u.out' && grep -q ' ok $PRIV_PG' '$T/l.out'" ||
	    fail_case "clients not on private"
	ctl drain postgres private --deadline 20s
	expect_eq "ctl drain exit" 0 "$CTL_RC"
	wait_until 10 served_on "a" "$PUB_PG" ||
	    fail_case "a did not leave private"
	expect_eq "closed at a safe point (a)" 1 "$(count_lines "$POSTERN_LOG" "$safe")"
	# Both LISTENers are still served by private after a left.
	: > "$T/u.out"
	: > "$T/l.out"
	wait_until 10 bash -c "grep -q ' ok ' '$T/u.out' && grep -q ' ok ' '$T/l.out'" ||
	    fail_case "u, l stopped"
	expect_eq "u still on private" "$PRIV_PG" "$(last_ok u)"
	expect_eq "l still on private" "$PRIV_PG" "$(last_ok l)"
	: > "$T/u.go"
	wait_until 10 grep -q unlistened "$T/u.out" || fail_case "u: no UNLISTEN: $(tail -n 2 "$T/u.out")"
	wait_until 10 served_on "u" "$PUB_PG" ||
	    fail_case "u did not reconnect to public: $(tail -n 3 "$T/u.out")"
	expect_match "u ended with 57P01" ' err .*57P01' "$(cat "$T/u.out")"
	expect_eq "closed at a safe point (a, u)" 2 "$(count_lines "$POSTERN_LOG" "$safe")"
	expect_no_log 'closed \(route: drain deadline\)'
	expect_eq "l still on private" "$PRIV_PG" "$(last_ok l)"
	# l: only the deadline.
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: closed \(route: drain deadline\)' 25
	wait_until 10 served_on "l" "$PUB_PG" ||
	    fail_case "l did not reconnect to public"
	expect_eq "closed at a safe point" 2 "$(count_lines "$POSTERN_LOG" "$safe")"
	stop_client a
	stop_client u
	stop_client l
	stop_postern
}

run_case "redis: a pooled connection moves back to private unseen" case_redis_failback
run_case "redis: AUTH (ACL user), SELECT, SETNAME replayed on the move" case_redis_failback_auth
run_case "redis: MULTI, SUBSCRIBE, BLPOP wait; drain deadline closes the rest" case_redis_drain_states
run_case "redis: a subscriber that unsubscribes from all, or RESETs, moves" case_redis_unsubscribe
run_case "redis: on_failback = keep keeps established sessions" case_redis_keep
run_case "redis: HELLO 3 AUTH then HELLO 3: still the same user after the move" case_redis_hello_auth
run_case "redis: inline \"MULTI\", 'SUBSCRIBE' wait; quoted AUTH replayed" case_redis_inline_quoted
run_case "redis: PSYNC, REPLCONF: never moved, closed at the drain deadline" case_redis_replication
for t in "${TRANSPORTS[@]}"; do
	run_case "$t: redis: a connection moves both ways, both routes over $t" \
	    case_redis_move_over "$t" "$t"
done
run_case "redis: CLIENT SETINFO lib-name, lib-ver replayed on the move" case_redis_setinfo
run_case "tls+tcp: redis: a connection moves between a tls:// and a tcp:// route" \
    case_redis_move_over tls tcp
run_case "postgres: pooled sessions come back between transactions" case_pg_failback
run_case "postgres: drain --deadline closes a LISTENing session last" case_pg_drain_listen
run_case "postgres: UNLISTEN * ends LISTEN: closed at the next idle point" case_pg_unlisten
finish
