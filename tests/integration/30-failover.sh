#!/bin/bash
# Routes in priority order: connect-time failover, connect timeouts, passive
# health (fall/check_interval) and the no-route close.  Active checks are
# off (check = none) so that each session's connect attempts are the ones
# logged.
. "$(dirname "$0")/../lib.sh"

# ms_now: milliseconds since the epoch.
ms_now() {
	date +%s%3N
}

# The operator's levels: at warn, killing the preferred server logs the
# route going down and the failover, and no session line; at notice (a
# reload), its recovery and the move back; info lines never.
case_log_levels() {
	local priv public
	start_redis
	public=$REDIS_PORT
	priv=$(free_port) || fail_case "no free port"
	start_redis_on "$priv"
	rcli "$priv" SET who private > /dev/null
	rcli "$public" SET who public > /dev/null
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/levels.conf
	{
		conf_global log_level=warn
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
		    "private tcp://127.0.0.1:$priv" "public tcp://127.0.0.1:$public" -- \
		    check=none fall=1 rise=1 check_interval=1s
	} > "$CONF"
	start_postern_args -c "$CONF"
	wait_until 10 eval '[[ "$(rcli "$LISTEN_PORT" GET who 2>/dev/null)" == private ]]' ||
	    fail_case "no GET through postern at log_level = warn"
	rcli "$priv" SHUTDOWN NOSAVE > /dev/null 2>&1
	wait_until 10 eval '! port_listening "$priv"' || fail_case "private redis still listening"
	expect_eq "GET after private died" public "$(rcli "$LISTEN_PORT" GET who 2>&1)"
	expect_log " warn: redis/private: (up|unknown) -> down \(1 failed connect; last: connection refused; "
	expect_log " warn: service redis: new sessions go to public \(was private\)$"
	expect_no_log "connect failed"
	expect_no_log " (notice|info): "
	sed -i 's/^log_level = warn$/log_level = notice/' "$CONF"
	kill -HUP "$POSTERN_PID"
	start_redis_on "$priv"
	rcli "$priv" SET who private > /dev/null
	wait_until 15 eval '[[ "$(rcli "$LISTEN_PORT" GET who 2>/dev/null)" == private ]]' ||
	    fail_case "sessions did not go back to private"
	expect_log " notice: redis/private: down -> up \(1 successful [a-z]+; "
	expect_log " notice: service redis: new sessions go to private \(was public\)$"
	expect_no_log " info: "
	kill -TERM "$POSTERN_PID"
	postern_wait_exit 10
	expect_eq "exit status" 0 "$POSTERN_STATUS"
	check_sanitizers "$POSTERN_LOG"
}

# The first route has nothing listening: the session fails over to the
# second at connect time, and both steps are logged under one session id.
case_dead_first_route() {
	local dead sid
	start_redis
	dead=$(free_port) || fail_case "no free port"
	postern_redis "private tcp://127.0.0.1:$dead" \
	    "public tcp://127.0.0.1:$REDIS_PORT" -- check=none
	expect_eq "PING through the second route" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_log " (s[0-9]+) redis 127\.0\.0\.1:[0-9]+ -> private 127\.0\.0\.1:$dead: connect failed: connection refused$"
	sid=$(grep -Eo " s[0-9]+ redis [^ ]+ -> private 127\.0\.0\.1:$dead: connect failed" "$POSTERN_LOG" | head -n 1 | awk '{print $1}')
	expect_log " $sid redis 127\.0\.0\.1:[0-9]+ -> public 127\.0\.0\.1:$REDIS_PORT: closed \(client closed\) after "
}

# After "fall" failed connects the route is marked down once, later
# sessions skip it, and after check_interval it is tried again and used
# once something listens there.
case_passive_fall_and_retry() {
	local dead i n
	start_redis
	local public=$REDIS_PORT
	dead=$(free_port) || fail_case "no free port"
	postern_redis "private tcp://127.0.0.1:$dead" \
	    "public tcp://127.0.0.1:$public" -- check=none fall=3 rise=1 \
	    check_interval=1s
	for i in 1 2 3; do
		expect_eq "PING $i" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	done
	# A route that never answered goes from "unknown" (DESIGN.md).
	expect_log ": redis/private: (up|unknown) -> down \(3 failed connects; last: connection refused[;)]"
	expect_eq "transitions logged" 1 "$(count_lines "$POSTERN_LOG" 'redis/private: [a-z]+ -> down')"
	n=$(count_lines "$POSTERN_LOG" "-> private 127\.0\.0\.1:$dead: connect failed")
	expect_eq "PING while private is down" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	wait_count "$POSTERN_LOG" "-> public 127\.0\.0\.1:$public: closed " 4 5 ||
	    fail_case "the 4th session was not logged on public"
	# Right after the transition the route rests: no new attempt on it.
	expect_eq "connect attempts on the down route" "$n" \
	    "$(count_lines "$POSTERN_LOG" "-> private 127\.0\.0\.1:$dead: connect failed")"
	start_redis_on "$dead"
	rcli "$dead" SET who private > /dev/null
	rcli "$public" SET who public > /dev/null
	wait_until 10 eval '[[ "$(rcli "$LISTEN_PORT" GET who 2>/dev/null)" == private ]]' ||
	    fail_case "sessions did not go back to private within 10s of it listening"
	expect_log "redis/private: down -> up"
}

# The first route's connect hangs (a full accept queue): after
# connect_timeout the session moves on to the second.
case_connect_timeout() {
	local t0 t1 out
	start_blackhole
	start_redis
	postern_redis "private tcp://127.0.0.1:$BLACKHOLE_PORT" \
	    "public tcp://127.0.0.1:$REDIS_PORT" -- check=none connect_timeout=1s
	t0=$(ms_now)
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	t1=$(ms_now)
	expect_eq "PING after a connect timeout" PONG "$out"
	expect_log " -> private 127\.0\.0\.1:$BLACKHOLE_PORT: connect failed: [^;]*tim"
	(( t1 - t0 >= 900 )) || fail_case "reply after $((t1 - t0)) ms: the timeout did not happen"
	(( t1 - t0 <= 3500 )) || fail_case "reply after $((t1 - t0)) ms with connect_timeout = 1s"
}

# Every route refuses and hold_timeout = 0: the client gets redis's own
# error at once and the one closing line names each route's failure.
case_all_routes_dead() {
	local d1 d2 t0 t1 out
	d1=$(free_port) && d2=$(free_port) || fail_case "no free port"
	postern_service redis "private tcp://127.0.0.1:$d1" \
	    "public tcp://127.0.0.1:$d2" -- check=none hold_timeout=0
	t0=$(ms_now)
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	t1=$(ms_now)
	expect_match "client's reply" \
	    '^ERR postern: no healthy route for service redis \(private: connection refused; public: connection refused\)$' "$out"
	(( t1 - t0 <= 2000 )) || fail_case "client answered after $((t1 - t0)) ms"
	expect_log " s[0-9]+ redis 127\.0\.0\.1:[0-9]+(: | -> [^ ]+ [^ ]+: )closed \(no route: private: connection refused; public: connection refused\) after "
	expect_eq "closing lines" 1 "$(count_lines "$POSTERN_LOG" ': closed \(')"
}

# Both routes time out: the client waits about two connect_timeouts, not
# longer, and the line names both timeouts.
case_all_routes_timeout() {
	local t0 t1 out bh1
	start_blackhole
	bh1=$BLACKHOLE_PORT
	start_blackhole
	postern_service redis "private tcp://127.0.0.1:$bh1" \
	    "public tcp://127.0.0.1:$BLACKHOLE_PORT" -- check=none \
	    connect_timeout=500ms hold_timeout=0
	t0=$(ms_now)
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	t1=$(ms_now)
	[[ "$out" == PONG ]] && fail_case "PONG with no route"
	(( t1 - t0 >= 900 && t1 - t0 <= 3000 )) ||
	    fail_case "client closed after $((t1 - t0)) ms with two 500 ms timeouts"
	expect_log ": closed \(no route: private: [^;]*tim[^;]*; public: [^)]*tim"
}

# No route works when the client arrives: it is held (hold_timeout) and
# served as soon as an active check finds the route up.
case_hold_until_route_up() {
	local dead cpid
	dead=$(free_port) || fail_case "no free port"
	postern_service redis "private tcp://127.0.0.1:$dead" -- check=redis \
	    fall=1 rise=1 check_interval=200ms check_down_interval=200ms \
	    check_fast_interval=100ms check_timeout=150ms hold_timeout=15s
	expect_log "redis/private: [a-z]+ -> down \("
	rcli "$LISTEN_PORT" PING > "$T/held.out" 2>&1 &
	cpid=$!
	track_client "$cpid"
	wait_until 10 eval '[[ -n "$(ss -tnH state established "( sport = :$LISTEN_PORT )")" ]]' ||
	    fail_case "the client never connected"
	_pid_running "$cpid" || fail_case "client finished while no route was up: $(cat "$T/held.out")"
	start_redis_on "$dead"
	wait_exit "$cpid" 10 || fail_case "held client not served 10s after the route came up"
	expect_eq "held client's reply" PONG "$(cat "$T/held.out")"
	expect_log " -> private 127\.0\.0\.1:$dead: closed \(client closed\)"
}

# hold_timeout expires: the client gets the error after about that long.
case_hold_timeout() {
	local dead t0 t1 out
	dead=$(free_port) || fail_case "no free port"
	postern_service redis "private tcp://127.0.0.1:$dead" -- check=none \
	    hold_timeout=1s
	t0=$(ms_now)
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	t1=$(ms_now)
	expect_match "client's reply" '^ERR postern: no healthy route for service redis' "$out"
	(( t1 - t0 >= 900 && t1 - t0 <= 3000 )) ||
	    fail_case "error after $((t1 - t0)) ms with hold_timeout = 1s"
	expect_log ": closed \(no route: private: connection refused\) after 1\.[0-9]{3}s"
}

# A stopped Redis still completes TCP handshakes, so connects prove
# nothing.  Without checks, the sessions' unanswered first commands
# (response_timeout) mark it down while clients keep connecting, one
# every 100 ms; a BLPOP that waits on a healthy server counts for nothing.
case_passive_hung_server() {
	local private public ppid i
	start_redis
	private=$REDIS_PORT ppid=$REDIS_PID
	start_redis
	public=$REDIS_PORT
	rcli "$private" SET who private > /dev/null
	rcli "$public" SET who public > /dev/null
	postern_redis "private tcp://127.0.0.1:$private" \
	    "public tcp://127.0.0.1:$public" -- check=none fall=2 rise=1 \
	    response_timeout=300ms check_interval=2s
	expect_eq "GET before the fault" private "$(rcli "$LISTEN_PORT" GET who)"
	expect_eq "BLPOP waiting 1 s" "" "$(rcli "$LISTEN_PORT" BLPOP nolist 1)"
	expect_no_log "no answer to BLPOP"
	kill -STOP "$ppid"
	(for ((i = 0; i < 100; i++)); do
		timeout 5 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" GET who \
		    >> "$T/clients.out" 2>&1 &
		sleep 0.1
	done; wait) &
	track_client $!
	expect_log ": s[0-9]+ redis [^ ]+ -> private 127\.0\.0\.1:$private: no answer to GET within 300 ms$"
	expect_log ": redis/private: up -> down \(2 failed requests; last: no answer to GET within 300 ms; " 15
	wait_until 10 eval '[[ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" GET who 2>&1)" == public ]]' ||
	    fail_case "new sessions did not move to public"
	kill -CONT "$ppid"
	wait_until 15 eval '[[ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" GET who 2>&1)" == private ]]' ||
	    fail_case "sessions did not return to private after SIGCONT"
	expect_log ": redis/private: down -> up \(1 successful request; "
}

# response_timeout runs for each session's first prompt request from one
# timer per service over a queue (session_watch.c): three sessions wait
# on a server that answers only the middle one; the first and the last
# are late, the answered one leaves the queue from its middle and is
# never reported.  A fake server logs each GET's key, which says when a
# request got through, so the three are queued in that order.
case_answer_queue() {
	local fake i k=0
	fake=$(free_port) || fail_case "no free port"
	/usr/bin/python3 - "$fake" "$T/fake" <<'PY' > /dev/null 2>&1 &
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(16)
srv.settimeout(60)
open(sys.argv[2] + ".ready", "w").close()
lock = threading.Lock()
def serve(c):
    got = b""
    while b"\r\nyes\r\n" not in got and b"\r\nno\r\n" not in got:
        d = c.recv(4096)
        if not d:
            return
        got += d
    key = "yes" if b"\r\nyes\r\n" in got else "no"
    if key == "yes":
        c.sendall(b"$-1\r\n")
    with lock, open(sys.argv[2] + ".log", "a") as f:
        f.write("got %s\n" % key)
    c.recv(1)    # held until postern closes it
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	track_server $!
	wait_until 10 test -e "$T/fake.ready" || fail_case "the fake server did not start"
	postern_redis "private tcp://127.0.0.1:$fake" -- check=none fall=10 \
	    response_timeout=300ms
	for i in no yes no; do
		k=$((k + 1))
		(exec 3<>"/dev/tcp/127.0.0.1/$LISTEN_PORT" &&
		printf '*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n' "${#i}" "$i" >&3 &&
		timeout 20 head -c 5 <&3 > "$T/client$k.out") &
		track_client $!
		wait_until 10 eval "[[ \$(grep -c . '$T/fake.log' 2>/dev/null) == $k ]]" ||
		    fail_case "request $k (GET $i) did not reach the server"
	done
	wait_until 10 grep -q '^\$-1' "$T/client2.out" ||
	    fail_case "the answered client got no reply"
	# The queue is in the order the sessions fall due: once the last
	# one is late, a wrongly kept middle one would be too.
	expect_log ": s3 redis [^ ]+ -> private 127\.0\.0\.1:$fake: no answer to GET within 300 ms$"
	expect_log ": s1 redis [^ ]+ -> private 127\.0\.0\.1:$fake: no answer to GET within 300 ms$"
	expect_no_log ": s2 redis .*no answer"
	expect_eq "late requests logged" 2 "$(grep -c 'no answer to GET' "$POSTERN_LOG")"
}

run_case "log_level = warn shows a failover, not sessions; notice adds recovery" case_log_levels
run_case "dead first route fails over at connect" case_dead_first_route
run_case "passive health: fall, rest, retry" case_passive_fall_and_retry
run_case "connect timeout fails over" case_connect_timeout
run_case "all routes dead closes the client" case_all_routes_dead
run_case "all routes time out" case_all_routes_timeout
run_case "held client served when a route comes up" case_hold_until_route_up
run_case "hold_timeout expires with the protocol's error" case_hold_timeout
run_case "passive: a hung server is left while clients connect" case_passive_hung_server
run_case "response_timeout: one queue per service; an answered session leaves it from the middle" case_answer_queue
finish
