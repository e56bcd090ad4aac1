#!/bin/bash
#
# 60-admin.sh: the admin HTTP endpoint and "postern ctl": /health (JSON
# shape, healthy, degraded, unhealthy), the probes, /metrics, route
# control (pin with expiry, drain, disable, enable), the status table,
# errors, a unix-socket admin address and reloads; and who may ask:
# cross-site requests, a foreign Host (DNS rebinding), the token on and
# off loopback (off loopback in a network namespace the case makes; it
# skips without root), and probes under a flood of idle connections.
#
# Needs jq, socat, curl and perl.  Health checks run every 200 ms with fall = rise =
# 2, so a dead route is noticed within about half a second; every wait is
# on a log line or an answer, never a bare sleep.

. "$(dirname "$0")/../lib.sh"

# ---------------------------------------------------------------------
# Local helpers

# setup_two_redis [KEY=VALUE...]: two redis-servers, "private" (first in
# priority) and "public", postern in front of them with an admin address
# and fast checks; the KEY=VALUEs go to [postern].  Waits until both
# routes are up.  Sets PRIV_PORT PRIV_PID PUB_PORT PUB_PID ADMIN_PORT
# LISTEN_PORT CONF.
setup_two_redis() {
	start_redis
	PRIV_PORT=$REDIS_PORT PRIV_PID=$REDIS_PID
	start_redis
	PUB_PORT=$REDIS_PORT PUB_PID=$REDIS_PID
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global "admin=$ADMIN" "$@"
		redis_service
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'redis/private: up \(check ok\)'
	expect_log 'redis/public: up \(check ok\)'
}

# redis_service: the [service redis] section of setup_two_redis.
redis_service() {
	conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
	    "private tcp://127.0.0.1:$PRIV_PORT" \
	    "public tcp://127.0.0.1:$PUB_PORT" -- \
	    check_interval=200ms check_timeout=200ms check_down_interval=200ms \
	    check_fast_interval=100ms fall=2 rise=2 hold_timeout=1s
}

# http_req METHOD PATH: one HTTP/1.0 request to $ADMIN over socat, as
# postern ctl sends it (Host: the admin address; a POST carries
# X-Postern-Request: 1); sets HTTP_CODE, HTTP_HEAD (status line and
# headers) and HTTP_BODY.
http_req() {
	local raw extra=
	[[ "$1" == POST ]] && extra=$'X-Postern-Request: 1\r\n'
	raw=$(printf '%s %s HTTP/1.0\r\nHost: %s\r\n%s\r\n' "$1" "$2" \
	    "$ADMIN" "$extra" | timeout 10 socat -t 5 - "TCP:$ADMIN") ||
	    fail_case "admin: $1 $2: no answer"
	[[ "$raw" == HTTP/1.?' '[0-9][0-9][0-9]* ]] ||
	    fail_case "admin: $1 $2: not an HTTP answer: $(_short "$raw")"
	HTTP_CODE=${raw:9:3}
	HTTP_HEAD=$raw HTTP_BODY=
	if [[ "$raw" == *$'\r\n\r\n'* ]]; then
		HTTP_HEAD=${raw%%$'\r\n\r\n'*}
		HTTP_BODY=${raw#*$'\r\n\r\n'}
	fi
}

# acurl PATH [CURL-ARGS...]: curl http://$ADMIN/PATH (run under the
# command words in the array IN_NS, if any); sets HTTP_CODE and HTTP_BODY.
IN_NS=()
acurl() {
	local path=$1 out
	shift
	out=$("${IN_NS[@]}" curl -sS --max-time 10 -w '\n%{http_code}' "$@" \
	    "http://$ADMIN$path" 2> "$T/curl.err") ||
	    fail_case "curl $path: $(< "$T/curl.err")"
	HTTP_CODE=${out##*$'\n'}
	HTTP_BODY=${out%$'\n'*}
	HTTP_BODY=${HTTP_BODY%$'\n'}
}

# expect_curl CODE PATH [CURL-ARGS...]: acurl and require the status.
expect_curl() {
	local code=$1
	shift
	acurl "$@"
	expect_eq "curl $*: HTTP status (body: $HTTP_BODY)" "$code" "$HTTP_CODE"
}

# expect_http METHOD PATH CODE: http_req and require the status code.
expect_http() {
	http_req "$1" "$2"
	expect_eq "$1 $2: HTTP status" "$3" "$HTTP_CODE"
}

# expect_json FILTER EXPECTED: jq -r FILTER on the last body.
expect_json() {
	local v
	v=$(jq -r "$1" <<< "$HTTP_BODY" 2>&1) ||
	    fail_case "jq '$1' failed on: $(_short "$HTTP_BODY"): $v"
	expect_eq "json $1" "$2" "$v"
}

# ctl ARGS: postern ctl against $ADMIN; sets CTL_RC, CTL_OUT, CTL_ERR.
ctl() {
	CTL_OUT=$(timeout 20 "$POSTERN" ctl -a "$ADMIN" "$@" 2> "$T/ctl.err")
	CTL_RC=$?
	CTL_ERR=$(< "$T/ctl.err")
}

# metric LINE-PREFIX: the value of the sample whose name and labels are
# exactly LINE-PREFIX, from the last body.
metric() {
	awk -v k="$1" 'index($0, k " ") == 1 { print substr($0, length(k) + 2) }' \
	    <<< "$HTTP_BODY"
}

# wait_postern_exit TIMEOUT_S: wait for $POSTERN_PID to exit and set
# EXIT_STATUS (or "running").  Not in a $(...) subshell: only the shell
# that started postern can reap it and read its status.
wait_postern_exit() {
	if ! wait_exit "$POSTERN_PID" "$1"; then
		EXIT_STATUS=running
		return 0
	fi
	wait "$POSTERN_PID"
	EXIT_STATUS=$?
}

# stop_postern_here: SIGTERM; require exit 0, "exiting" and no sanitizer
# report.
stop_postern_here() {
	kill -TERM "$POSTERN_PID"
	wait_postern_exit 15
	expect_eq "exit status after SIGTERM" 0 "$EXIT_STATUS"
	expect_log ' info: exiting$' 1
	check_sanitizers "$POSTERN_LOG"
}

need_jq() {
	command -v jq > /dev/null || skip_case "jq is not installed"
}

# ---------------------------------------------------------------------
# Cases

case_health_healthy() {
	need_jq
	setup_two_redis
	expect_http GET /health 200
	expect_match "content type" $'Content-Type: application/json' \
	    "$HTTP_HEAD"
	jq -e . > /dev/null <<< "$HTTP_BODY" ||
	    fail_case "/health is not JSON: $(_short "$HTTP_BODY")"
	expect_json .status healthy
	# Top-level keys do not depend on the configuration.
	expect_json 'keys | join(",")' \
	    bastions,config_generation,services,started,status,uptime_seconds,version
	expect_json .version "$("$POSTERN" -V | awk '{ print $2 }')"
	expect_json .config_generation 1
	expect_json '.started | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' true
	expect_json '.uptime_seconds | type' number
	expect_json '.services.redis.status' connected
	expect_json '.services.redis.route' private
	expect_json '.services.redis.preferred' private
	expect_json '.services.redis.pinned' null
	expect_json '.services.redis.failovers' 0
	expect_json '.services.redis.routes | keys | join(",")' private,public
	expect_json '.services.redis.routes.private.url' \
	    "tcp://127.0.0.1:$PRIV_PORT"
	expect_json '.services.redis.routes.public.url' \
	    "tcp://127.0.0.1:$PUB_PORT"
	expect_json '.services.redis.routes.private.state' up
	expect_json '.services.redis.routes.private.admin' enabled
	expect_json '.services.redis.routes.private.last_error' null
	expect_json '.services.redis.routes.private.check.result' ok
	expect_json '.services.redis.routes.private.check.latency_ms | type' \
	    number
	expect_json '.services.redis.routes.private.check.age_ms >= 0' true
	expect_json '.services.redis.routes.public.since_ms | type' number
	expect_json '.services.redis.routes.public.connect_failures' 0

	# A session shows in the counters.
	expect_eq "PING through postern" PONG "$(rcli "$LISTEN_PORT" PING)"
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: closed '
	http_req GET /health
	expect_json '.services.redis.sessions_total' 1
	expect_json '.services.redis.routes.private.sessions_total' 1
	expect_json '.services.redis.routes.private.sessions_active' 0

	expect_http GET /liveness 200
	expect_eq "/liveness body" ok "$HTTP_BODY"
	expect_http GET /readiness 200
	expect_http GET /startup 200
	expect_http HEAD /health 200
	expect_eq "HEAD /health body" "" "$HTTP_BODY"
}

case_health_degraded() {
	need_jq
	setup_two_redis
	kill -TERM "$PRIV_PID"
	expect_log 'redis/private: up -> down'
	expect_log 'service redis: new sessions go to public \(was private\)'
	expect_http GET /health 200
	expect_json .status degraded
	expect_json '.services.redis.status' connected
	expect_json '.services.redis.route' public
	expect_json '.services.redis.preferred' private
	expect_json '.services.redis.failovers' 1
	expect_json '.services.redis.routes.private.state' down
	expect_json '.services.redis.routes.private.check.result' \
	    "connection refused"
	expect_json '.services.redis.routes.private.last_error | test("refused")' \
	    true
	expect_json '.services.redis.routes.public.state' up
	http_req GET /metrics
	expect_eq "failovers_total after the served route died" 1 \
	    "$(metric 'postern_failovers_total{service="redis"}')"
	expect_eq "checks by result, snake_case" 1 \
	    "$(($(metric 'postern_checks_total{service="redis",route="private",result="connection_refused"}') >= 1))"
	expect_http GET /readiness 200
	ctl status
	expect_eq "ctl status exit (degraded)" 0 "$CTL_RC"
	expect_match "ctl status" 'degraded' "$CTL_OUT"
	expect_match "ctl status" 'last error: .*refused' "$CTL_OUT"
}

case_health_unhealthy() {
	need_jq
	setup_two_redis
	kill -TERM "$PRIV_PID" "$PUB_PID"
	expect_log 'redis/private: up -> down'
	expect_log 'redis/public: up -> down'
	expect_log 'service redis: no usable route'
	expect_http GET /health 503
	expect_json .status unhealthy
	expect_json '.services.redis.status' disconnected
	expect_json '.services.redis.route' null
	expect_json '.services.redis.routes.public.state' down
	expect_http GET /readiness 503
	expect_match "/readiness body" 'not ready: service redis has no usable route' \
	    "$HTTP_BODY"
	expect_http GET /liveness 200
	ctl status
	expect_eq "ctl status exit (unhealthy)" 1 "$CTL_RC"
	expect_match "ctl status" 'unhealthy' "$CTL_OUT"
	expect_match "ctl status" 'service redis: disconnected, route none' \
	    "$CTL_OUT"
	ctl health
	expect_eq "ctl health exit (503)" 1 "$CTL_RC"
	expect_match "ctl health prints the body" '"status":"unhealthy"' \
	    "$CTL_OUT"
}

case_readiness_shutdown() {
	setup_two_redis shutdown_delay=3s
	ctl readiness
	expect_eq "ctl readiness exit" 0 "$CTL_RC"
	expect_eq "ctl readiness output" ok "$CTL_OUT"
	kill -TERM "$POSTERN_PID"
	expect_log 'SIGTERM: readiness now failing; accepting for 3\.000s more'
	expect_http GET /readiness 503
	expect_eq "/readiness body" "shutting down" "$HTTP_BODY"
	ctl readiness
	expect_eq "ctl readiness exit while stopping" 1 "$CTL_RC"
	expect_http GET /liveness 200
	# Still accepting during shutdown_delay.
	expect_eq "PING during shutdown_delay" PONG "$(rcli "$LISTEN_PORT" PING)"
	wait_postern_exit 15
	expect_eq "exit status" 0 "$EXIT_STATUS"
	check_sanitizers "$POSTERN_LOG"
}

# A route whose server accepts and never answers keeps /startup at 503
# until its first check has timed out; a service with check = none does
# not count.
case_startup() {
	local hang hang_pid
	start_redis
	PRIV_PORT=$REDIS_PORT
	# A stopped redis-server: the kernel completes the handshake, nothing
	# answers PING.
	start_redis
	hang=$REDIS_PORT hang_pid=$REDIS_PID
	kill -STOP "$hang_pid"
	ADMIN_PORT=$(free_port) LISTEN_PORT=$(free_port)
	ADMIN=127.0.0.1:$ADMIN_PORT
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global "admin=$ADMIN"
		conf_service slow "127.0.0.1:$LISTEN_PORT" redis \
		    "hang tcp://127.0.0.1:$hang" -- check_interval=3s \
		    check_timeout=3s
		conf_service plain "127.0.0.1:$(free_port)" tcp \
		    "only tcp://127.0.0.1:$PRIV_PORT" -- check=none
	} > "$CONF"
	start_postern "$CONF"
	expect_http GET /startup 503
	expect_match "/startup body" 'starting: slow/hang not checked yet' \
	    "$HTTP_BODY"
	ctl startup
	expect_eq "ctl startup exit while starting" 1 "$CTL_RC"
	wait_until 10 "$POSTERN" ctl -a "$ADMIN" startup ||
	    fail_case "/startup never turned 200"
	expect_http GET /startup 200
	kill -CONT "$hang_pid"
}

case_metrics() {
	local fam line inf count prev v
	setup_two_redis
	expect_eq "PING through postern" PONG "$(rcli "$LISTEN_PORT" PING)"
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: closed '
	expect_http GET /metrics 200
	expect_match "content type" \
	    'Content-Type: text/plain; version=0\.0\.4' "$HTTP_HEAD"
	for fam in postern_build_info:gauge postern_config_generation:gauge \
	    process_start_time_seconds:gauge process_cpu_seconds_total:counter \
	    process_resident_memory_bytes:gauge process_open_fds:gauge \
	    process_max_fds:gauge postern_service_no_route_total:counter \
	    postern_sessions_active:gauge postern_sessions_total:counter \
	    postern_bytes_total:counter postern_connect_failures_total:counter \
	    postern_route_up:gauge postern_route_state:gauge \
	    postern_route_admin:gauge postern_checks_total:counter \
	    postern_check_duration_seconds:histogram \
	    postern_service_sessions_active:gauge \
	    postern_service_refused_total:counter postern_service_lingering:gauge \
	    postern_failovers_total:counter postern_service_pinned:gauge; do
		grep -qx "# TYPE ${fam%%:*} ${fam#*:}" <<< "$HTTP_BODY" ||
		    fail_case "/metrics lacks '# TYPE ${fam%%:*} ${fam#*:}'"
		grep -q "^# HELP ${fam%%:*} ." <<< "$HTTP_BODY" ||
		    fail_case "/metrics lacks '# HELP ${fam%%:*}'"
	done
	# Every other line is a well-formed sample.
	while IFS= read -r line; do
		[[ "$line" == '#'* || -z "$line" ]] && continue
		[[ "$line" =~ ^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\]|\\.)*\",?)*\})?\ (-?[0-9.]+(e[-+]?[0-9]+)?|\+Inf|NaN)$ ]] ||
		    fail_case "malformed sample line: $line"
	done <<< "$HTTP_BODY"
	expect_eq "config generation" 1 "$(metric postern_config_generation)"
	expect_eq "build info" 1 \
	    "$(metric "postern_build_info{version=\"$("$POSTERN" -V | awk '{ print $2 }')\"}")"
	# The process_* families hold this process's figures.
	v=$(metric process_start_time_seconds)
	(( v <= $(date +%s) && v > $(date +%s) - 600 )) || fail_case "process_start_time_seconds $v"
	# The scrape's own connection is open while it counts, not after;
	# each of the two routes' checks may hold a socket at one of the two
	# moments and not at the other.
	v=$(( $(metric process_open_fds) - $(ls "/proc/$POSTERN_PID/fd" | wc -l) ))
	((v >= -2 && v <= 3)) || fail_case "process_open_fds is off by $v"
	expect_eq "process_max_fds" "$(awk '/^Max open files/ { print $4 }' "/proc/$POSTERN_PID/limits")" \
	    "$(metric process_max_fds)"
	v=$(metric process_resident_memory_bytes)
	((v > 1000000)) || fail_case "process_resident_memory_bytes $v"
	[[ "$(metric process_cpu_seconds_total)" =~ ^[0-9]+\.[0-9]+$ ]] ||
	    fail_case "process_cpu_seconds_total '$(metric process_cpu_seconds_total)'"
	# No label value with a space: stable snake_case values.
	grep -E '^[a-z_]+\{.*="[^"]* [^"]*"' <<< "$HTTP_BODY" > "$T/spaces" &&
	    fail_case "label value with a space: $(head -n 1 "$T/spaces")"
	expect_eq "route up" 1 \
	    "$(metric 'postern_route_up{service="redis",route="private"}')"
	expect_eq "route state up" 1 \
	    "$(metric 'postern_route_state{service="redis",route="private",state="up"}')"
	expect_eq "route state down" 0 \
	    "$(metric 'postern_route_state{service="redis",route="private",state="down"}')"
	expect_eq "route admin" 1 \
	    "$(metric 'postern_route_admin{service="redis",route="private",admin="enabled"}')"
	expect_eq "sessions total" 1 \
	    "$(metric 'postern_sessions_total{service="redis",route="private"}')"
	# PING is "*1\r\n$4\r\nPING\r\n" (14 bytes); PONG "+PONG\r\n" (7).
	expect_eq "bytes up" 14 \
	    "$(metric 'postern_bytes_total{service="redis",route="private",direction="up"}')"
	expect_eq "bytes down" 7 \
	    "$(metric 'postern_bytes_total{service="redis",route="private",direction="down"}')"
	v=$(metric 'postern_checks_total{service="redis",route="private",result="ok"}')
	((v >= 1)) || fail_case "checks_total ok is '$v'"
	# The histogram is cumulative and ends at the number of checks.
	prev=0
	while read -r v; do
		((v >= prev)) || fail_case "histogram buckets decrease: $v < $prev"
		prev=$v
	done < <(grep '^postern_check_duration_seconds_bucket{service="redis",route="private",' \
	    <<< "$HTTP_BODY" | awk '{ print $2 }')
	inf=$(metric 'postern_check_duration_seconds_bucket{service="redis",route="private",le="+Inf"}')
	count=$(metric 'postern_check_duration_seconds_count{service="redis",route="private"}')
	[[ -n "$inf" ]] && ((inf == count && inf == prev)) ||
	    fail_case "histogram: +Inf $inf, count $count, last bucket $prev"
	expect_eq "service sessions active" 0 \
	    "$(metric 'postern_service_sessions_active{service="redis"}')"
	expect_eq "pinned" 0 "$(metric 'postern_service_pinned{service="redis"}')"
}

# postern_bytes_total grows while a session is open, not at its close.
case_metrics_bytes_live() {
	local big=$((2 * 1024 * 1024)) v
	setup_two_redis
	open_session s "TCP:127.0.0.1:$LISTEN_PORT"
	session_send s 'PING\r\n'
	wait_count "$T/s.out" PONG 1 10 || fail_case "no PONG"
	http_req GET /metrics
	# 'PING\r\n' (an inline command, 6 bytes) and '+PONG\r\n' (7).
	expect_eq "bytes up, session open" 6 \
	    "$(metric 'postern_bytes_total{service="redis",route="private",direction="up"}')"
	expect_eq "bytes down, session open" 7 \
	    "$(metric 'postern_bytes_total{service="redis",route="private",direction="down"}')"
	# 2 MiB down through the open session.
	head -c "$big" /dev/zero | tr '\0' x |
	    timeout 10 redis-cli -h 127.0.0.1 -p "$PRIV_PORT" -x SET big > /dev/null ||
	    fail_case "SET big failed"
	session_send s 'GET big\r\n'
	wait_until 10 eval '(( $(stat -c %s "$T/s.out") >= big ))' ||
	    fail_case "the 2 MiB value did not arrive"
	http_req GET /metrics
	v=$(metric 'postern_bytes_total{service="redis",route="private",direction="down"}')
	((v >= big)) || fail_case "bytes down with the session open: $v, want >= $big"
	session_close s
	wait_exit "$(session_pid s)" 10
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: closed '
	http_req GET /metrics
	expect_eq "bytes down after the close: counted once" "$v" \
	    "$(metric 'postern_bytes_total{service="redis",route="private",direction="down"}')"
}

# Clients answered "no healthy route" are counted, by reason; a start
# with the preferred route down is no failover.
case_metrics_no_route() {
	local p2 out
	start_redis
	PUB_PORT=$REDIS_PORT
	PRIV_PORT=$(free_port) || fail_case "no free port"
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	CONF=$T/case$_CASE_ID.conf
	p2=$(free_port) || fail_case "no free port"
	{
		conf_global "admin=$ADMIN"
		redis_service
		conf_service gone "127.0.0.1:$p2" redis \
		    "dead tcp://127.0.0.1:$PRIV_PORT" -- check=none fall=100 \
		    hold_timeout=0
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'service redis: new sessions go to public \(was private\)$'
	http_req GET /metrics
	expect_eq "failovers_total after a start with private down" 0 \
	    "$(metric 'postern_failovers_total{service="redis"}')"
	# Every route fails at connect, and no hold: the error at once.
	out=$(rcli "$p2" PING 2>&1)
	expect_match "client's error (gone)" '^ERR postern: no healthy route for service gone' "$out"
	http_req GET /metrics
	expect_eq "no_route_total no_healthy_route (gone)" 1 \
	    "$(metric 'postern_service_no_route_total{service="gone",reason="no_healthy_route"}')"
	# Both down: a held client waits hold_timeout (1s), then the error.
	kill -TERM "$REDIS_PID"
	expect_log 'service redis: no usable route'
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_match "client's error" '^ERR postern: no healthy route' "$out"
	http_req GET /metrics
	expect_eq "no_route_total hold_timeout" 1 \
	    "$(metric 'postern_service_no_route_total{service="redis",reason="hold_timeout"}')"
	expect_eq "no_route_total no_healthy_route" 0 \
	    "$(metric 'postern_service_no_route_total{service="redis",reason="no_healthy_route"}')"
}

case_pin_expiry() {
	need_jq
	setup_two_redis
	ctl pin redis public --for 2s
	expect_eq "ctl pin exit" 0 "$CTL_RC"
	expect_match "ctl pin output" 'pinned to public for 2s' "$CTL_OUT"
	expect_log 'admin: POST /routes/pin service=redis route=public for=2s from 127\.0\.0\.1:[0-9]+$'
	expect_log 'service redis: pinned to public until '
	http_req GET /health
	expect_json '.services.redis.pinned.route' public
	expect_json '.services.redis.pinned.until | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' \
	    true
	expect_json '.services.redis.route' public
	expect_json .status degraded
	expect_eq "PING while pinned" PONG "$(rcli "$LISTEN_PORT" PING)"
	expect_log ' -> public 127\.0\.0\.1:[0-9]+: closed '
	expect_log 'service redis: pin to public expired' 10
	expect_eq "PING after expiry" PONG "$(rcli "$LISTEN_PORT" PING)"
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: closed '
	http_req GET /health
	expect_json '.services.redis.pinned' null
	expect_json .status healthy

	# Without --for: until unpinned.
	ctl pin redis public
	expect_eq "ctl pin (no --for) exit" 0 "$CTL_RC"
	http_req GET /health
	expect_json '.services.redis.pinned.until' null
	ctl unpin redis
	expect_eq "ctl unpin exit" 0 "$CTL_RC"
	expect_log 'admin: POST /routes/unpin service=redis from 127\.0\.0\.1:'
	expect_log 'service redis: unpinned from public'
	ctl unpin redis
	expect_eq "ctl unpin when not pinned" 0 "$CTL_RC"
	expect_match "ctl unpin output" 'was not pinned' "$CTL_OUT"
}

case_drain_disable_enable() {
	need_jq
	setup_two_redis
	open_session s1 "TCP:127.0.0.1:$LISTEN_PORT"
	session_send s1 'PING\r\n'
	wait_until 10 grep -q PONG "$T/s1.out" || fail_case "s1: no PONG"

	ctl drain redis private
	expect_eq "ctl drain exit" 0 "$CTL_RC"
	expect_match "ctl drain output" \
	    'draining: no new sessions, 1 established leave at safe points' \
	    "$CTL_OUT"
	expect_log 'redis/private: enabled -> draining \(operator\)'
	http_req GET /health
	expect_json '.services.redis.routes.private.admin' draining
	expect_json '.services.redis.route' public
	expect_eq "PING while draining" PONG "$(rcli "$LISTEN_PORT" PING)"
	expect_log ' -> public 127\.0\.0\.1:[0-9]+: closed '
	# The established session, idle, leaves for public unseen.
	expect_log ' -> private 127\.0\.0\.1:[0-9]+: moved to public '
	session_send s1 'ECHO still-here\r\n'
	wait_until 10 grep -q still-here "$T/s1.out" ||
	    fail_case "s1 stopped working after it left private"
	# Enabled again, private ranks first: s1 moves back.
	ctl enable redis private
	expect_log ' -> public 127\.0\.0\.1:[0-9]+: moved to private '

	ctl disable redis private
	expect_eq "ctl disable exit" 0 "$CTL_RC"
	# on_route_down = move (the default): the idle session leaves at
	# once, unseen (issue 20).
	expect_match "ctl disable output" '1 session leaves now' "$CTL_OUT"
	expect_log 'redis/private: enabled -> disabled \(operator\)'
	wait_count "$POSTERN_LOG" ' -> private 127\.0\.0\.1:[0-9]+: moved to public ' 2 ||
	    fail_case "s1 did not leave the disabled route"
	session_send s1 'ECHO after-disable\r\n'
	wait_until 10 grep -q after-disable "$T/s1.out" ||
	    fail_case "s1 stopped working after private was disabled"
	expect_http GET /metrics 200
	expect_eq "admin metric" 1 \
	    "$(metric 'postern_route_admin{service="redis",route="private",admin="disabled"}')"

	ctl enable redis private
	expect_eq "ctl enable exit" 0 "$CTL_RC"
	expect_match "ctl enable output" 'new sessions go to private' "$CTL_OUT"
	expect_log 'redis/private: disabled -> enabled \(operator\)'
	expect_eq "PING after enable" PONG "$(rcli "$LISTEN_PORT" PING)"
	wait_count "$POSTERN_LOG" ' -> private 127\.0\.0\.1:[0-9]+: closed \(client closed\)' 1 ||
	    fail_case "no session to private after enable"
	http_req GET /health
	expect_json '.services.redis.routes.private.admin' enabled
}

case_ctl_status_and_errors() {
	need_jq
	setup_two_redis
	ctl status
	expect_eq "ctl status exit" 0 "$CTL_RC"
	expect_match "ctl status" 'healthy' "$CTL_OUT"
	expect_match "ctl status" 'service redis: connected, route private \(preferred private\)' \
	    "$CTL_OUT"
	expect_match "ctl status" $'\n  private +up [^\n]* enabled +ok ' "$CTL_OUT"
	expect_match "ctl status" $'\n  public +up ' "$CTL_OUT"
	# The address from the configuration file.
	CTL_OUT=$("$POSTERN" ctl -c "$CONF" status 2>&1)
	expect_eq "ctl -c status exit" 0 "$?"

	ctl pin nosuch public
	expect_eq "ctl pin unknown service exit" 1 "$CTL_RC"
	expect_match "ctl pin unknown service" "no service 'nosuch'" "$CTL_ERR"
	ctl drain redis nosuch
	expect_eq "ctl drain unknown route exit" 1 "$CTL_RC"
	expect_match "ctl drain unknown route" "has no route 'nosuch'" "$CTL_ERR"
	ctl pin redis public --for 2d
	expect_eq "ctl pin bad duration exit" 1 "$CTL_RC"
	expect_match "ctl pin bad duration" "bad duration" "$CTL_ERR"
	# Hours, as the completion offers them.
	ctl pin redis public --for 2h
	expect_eq "ctl pin --for 2h exit ($CTL_ERR)" 0 "$CTL_RC"
	ctl unpin redis
	expect_eq "ctl unpin exit" 0 "$CTL_RC"

	expect_http POST '/routes/pin?service=nosuch&route=public' 404
	expect_json .ok false
	expect_json .error "no service 'nosuch'"
	expect_http POST '/routes/enable?service=redis&route=nosuch' 404
	expect_http POST '/routes/pin?service=redis' 400
	expect_json .error "missing parameter 'route'"
	expect_http POST '/routes/drain?service=redis&route=public&bogus=1' 400
	expect_http POST '/routes/pin?service=redis&route=public&for=soon' 400
	expect_http GET '/routes/pin?service=redis&route=public' 405
	expect_match "Allow header" 'Allow: POST' "$HTTP_HEAD"
	expect_http POST /health 405
	expect_http GET /nope 404
	expect_http POST /routes/nope 404
	expect_no_log 'admin: POST /routes/pin service=nosuch'

	ctl bogus
	expect_eq "ctl unknown command exit" 2 "$CTL_RC"
	ctl pin redis
	expect_eq "ctl pin without route exit" 2 "$CTL_RC"
	CTL_OUT=$("$POSTERN" ctl 2>&1)
	expect_eq "ctl without command exit" 2 "$?"
	CTL_OUT=$("$POSTERN" ctl --help)
	expect_eq "ctl --help exit" 0 "$?"
	expect_match "ctl --help" 'usage: postern ctl' "$CTL_OUT"
	expect_match "ctl --help" 'pin SERVICE ROUTE \[--for D\]' "$CTL_OUT"

	local closed
	closed=$(free_port) || fail_case "no free port"
	CTL_OUT=$("$POSTERN" ctl -a "127.0.0.1:$closed" status 2>&1)
	expect_eq "ctl to a closed port exit" 1 "$?"
	expect_match "ctl to a closed port" \
	    "cannot connect to 127\.0\.0\.1:$closed: Connection refused \(is admin set in the config\?\)" \
	    "$CTL_OUT"
}

# unix:/path admin: a stale socket file is replaced, a live one is not,
# and the file goes when postern stops.
case_unix_socket() {
	local sock=$T/admin.sock pid first first_log conf2
	start_redis
	PRIV_PORT=$REDIS_PORT
	start_redis
	PUB_PORT=$REDIS_PORT
	socat "UNIX-LISTEN:$sock" - < /dev/null > /dev/null 2>&1 &
	pid=$!
	wait_until 10 test -S "$sock" || fail_case "socat made no socket"
	kill -KILL "$pid"
	wait "$pid" 2> /dev/null
	[[ -S "$sock" ]] || fail_case "the stale socket file went away"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=unix:$sock
	CONF=$T/case$_CASE_ID.conf
	{ conf_global "admin=$ADMIN"; redis_service; } > "$CONF"
	start_postern "$CONF"
	first=$POSTERN_PID first_log=$POSTERN_LOG
	expect_log "admin: listening on unix:$sock"
	ctl liveness
	expect_eq "ctl liveness over unix exit" 0 "$CTL_RC"
	expect_eq "ctl liveness over unix" ok "$CTL_OUT"
	CTL_OUT=$("$POSTERN" ctl -c "$CONF" readiness 2>&1)
	expect_eq "ctl -c readiness over unix" ok "$CTL_OUT"
	ctl pin redis public --for 30m
	expect_eq "ctl pin over unix exit" 0 "$CTL_RC"
	expect_log 'admin: POST /routes/pin service=redis route=public for=30m from unix$'

	# A second postern must not take the live socket over.
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	conf2=$T/case$_CASE_ID-2.conf
	{ conf_global "admin=$ADMIN"; redis_service; } > "$conf2"
	start_postern_args -c "$conf2"
	wait_postern_exit 10
	expect_eq "second postern exit status" 1 "$EXIT_STATUS"
	expect_log "cannot listen on unix:$sock: Address already in use"
	check_sanitizers "$POSTERN_LOG"
	[[ -S "$sock" ]] || fail_case "the second postern removed the live socket"
	CTL_OUT=$("$POSTERN" ctl -a "$ADMIN" liveness 2>&1)
	expect_eq "first postern still answers" ok "$CTL_OUT"

	POSTERN_PID=$first POSTERN_LOG=$first_log
	stop_postern_here
	[[ ! -e "$sock" ]] || fail_case "$sock left behind after exit"
}

# SIGHUP: the admin endpoint keeps serving; counters, generation and pin
# follow the new generation.
# A changed admin address takes effect on SIGHUP: bound anew, the old one
# closed; an address that cannot be bound keeps the running endpoint.
case_reload_admin_moves() {
	local old_port busy
	setup_two_redis
	expect_http GET /liveness 200
	old_port=$ADMIN_PORT
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	{ conf_global "admin=$ADMIN"; redis_service; } > "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log 'reload: configuration generation 2 loaded'
	expect_log "admin: listening on 127\.0\.0\.1:$ADMIN_PORT$"
	expect_http GET /liveness 200
	socat -T 2 - "TCP:127.0.0.1:$old_port" < /dev/null > /dev/null 2>&1 &&
	    fail_case "the old admin address still accepts connections"
	# An address in use: the endpoint stays where it is.
	busy=$PRIV_PORT	# redis-server holds it
	{ conf_global "admin=127.0.0.1:$busy"; redis_service; } > "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log 'reload: configuration generation 3 loaded'
	expect_log "error: reload: admin: .*; keeping the running endpoint$"
	expect_http GET /liveness 200
}

case_reload() {
	need_jq
	setup_two_redis
	ctl pin redis public
	expect_eq "ctl pin exit" 0 "$CTL_RC"
	expect_eq "PING" PONG "$(rcli "$LISTEN_PORT" PING)"
	expect_log ' -> public 127\.0\.0\.1:[0-9]+: closed '
	kill -HUP "$POSTERN_PID"
	expect_log 'reload: configuration generation 2 loaded'
	expect_http GET /metrics 200
	expect_eq "generation after reload" 2 "$(metric postern_config_generation)"
	expect_eq "sessions_total kept" 1 \
	    "$(metric 'postern_sessions_total{service="redis",route="public"}')"
	expect_eq "pinned kept" 1 "$(metric 'postern_service_pinned{service="redis"}')"
	http_req GET /health
	expect_json '.services.redis.pinned.route' public
	ctl unpin redis
	expect_eq "ctl unpin after reload" 0 "$CTL_RC"
}

# ---------------------------------------------------------------------
# Who may ask: cross-site requests, DNS rebinding, the token.

W=(-X POST -H 'X-Postern-Request: 1')	# a write as postern ctl sends it

# A browser's "simple" cross-origin POST needs no preflight: refused,
# and so is a write without the custom header; one log line per address.
case_cross_site() {
	need_jq
	setup_two_redis
	expect_curl 403 '/routes/disable?service=redis&route=private' \
	    -X POST -H 'Origin: http://evil.example' -H 'Content-Type: text/plain'
	expect_json .ok false
	expect_json '.error | test("cross-origin")' true
	expect_log "admin: refused POST /routes/disable from 127\\.0\\.0\\.1:[0-9]+: cross-origin request"
	# The header does not excuse an Origin.
	expect_curl 403 '/routes/disable?service=redis&route=private' "${W[@]}" \
	    -H 'Origin: http://127.0.0.1'
	expect_curl 403 '/routes/disable?service=redis&route=private' -X POST
	expect_json .error 'a write needs the header X-Postern-Request: 1 (postern ctl sends it)'
	expect_curl 403 /status -H 'Sec-Fetch-Site: cross-site'
	expect_match "/status body" 'cross-site' "$HTTP_BODY"
	expect_curl 403 /metrics -H 'Origin: http://evil.example'
	expect_eq "refusals logged once for 127.0.0.1" 1 \
	    "$(count_lines "$POSTERN_LOG" 'admin: refused ')"
	expect_no_log 'admin: POST /routes/disable'
	http_req GET /health
	expect_json '.services.redis.routes.private.admin' enabled
	# What postern ctl and a plain curl with the header do still works.
	expect_curl 200 /status -H 'Sec-Fetch-Site: none'
	expect_curl 200 '/routes/drain?service=redis&route=private' "${W[@]}"
	expect_json .ok true
	ctl enable redis private
	expect_eq "ctl enable exit" 0 "$CTL_RC"
	expect_log 'redis/private: draining -> enabled \(operator\)'
	# Asked for text (as ctl asks), the answer is the line ctl prints.
	expect_curl 403 '/routes/drain?service=redis&route=private' -X POST \
	    -H 'Accept: text/plain'
	expect_eq "refusal as text" \
	    'a write needs the header X-Postern-Request: 1 (postern ctl sends it)' \
	    "$HTTP_BODY"
	expect_curl 200 '/routes/drain?service=redis&route=private' "${W[@]}" \
	    -H 'Accept: text/plain'
	expect_match "message as text" '^redis/private draining: no new sessions, [0-9]+ established leave at safe points; new sessions go to public$' \
	    "$HTTP_BODY"
}

# DNS rebinding: a page under its own name reaches 127.0.0.1; its Host
# names it, so it is refused.  The address, localhost and [::1] pass.
case_host() {
	setup_two_redis
	expect_curl 421 /status -H "Host: evil.example:$ADMIN_PORT"
	expect_match "421 body" 'Host header names another server' "$HTTP_BODY"
	expect_curl 421 /health -H 'Host: evil.example'
	expect_curl 421 /readiness -H "Host: 127.0.0.1.nip.io:$ADMIN_PORT"
	expect_log "admin: refused GET /status Host evil\\.example:$ADMIN_PORT from 127\\.0\\.0\\.1:[0-9]+: the Host header"
	expect_curl 200 /status
	expect_curl 200 /status -H "Host: localhost:$ADMIN_PORT"
	expect_curl 200 /metrics -H 'Host: localhost'
	expect_curl 200 /readiness -H "Host: [::1]:$ADMIN_PORT"
	expect_curl 200 /liveness -H "Host: 127.0.0.1"
	# A unix-socket endpoint takes any Host; writes still need the header.
	local sock=$T/admin.sock
	{ conf_global "admin=unix:$sock"; redis_service; } > "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log "admin: listening on unix:$sock"
	HTTP_CODE=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \
	    --unix-socket "$sock" -H 'Host: evil.example' http://x/status)
	expect_eq "unix socket, foreign Host" 200 "$HTTP_CODE"
	HTTP_CODE=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \
	    --unix-socket "$sock" -X POST \
	    'http://x/routes/drain?service=redis&route=private')
	expect_eq "unix socket, write without the header" 403 "$HTTP_CODE"
	CTL_OUT=$("$POSTERN" ctl -c "$CONF" drain redis private 2>&1)
	expect_eq "ctl drain over unix exit" 0 "$?"
}

# token_file PATH MODE [TOKEN]: write a token file.
token_file() {
	printf '%s\n' "${3:-$TOKEN}" > "$1"
	chmod "$2" "$1"
}
TOKEN=0123456789abcdef0123456789abcdef

# A token on loopback: ctl -c sends it, ctl -a without it is refused, a
# wrong one too; admin_read_token puts the reads (not the probes) behind
# it.  A token file others may read is refused by -n and on reload.
case_token_loopback() {
	need_jq
	local tok=$T/token out
	token_file "$tok" 600
	setup_two_redis "admin_token_file=$tok"
	CTL_OUT=$("$POSTERN" ctl -c "$CONF" drain redis private 2>&1)
	expect_eq "ctl -c drain (token from the config) exit" 0 "$?"
	CTL_OUT=$("$POSTERN" ctl -a "$ADMIN" -t "$tok" enable redis private 2>&1)
	expect_eq "ctl -t enable exit" 0 "$?"
	ctl drain redis private
	expect_eq "ctl without the token exit" 1 "$CTL_RC"
	expect_match "ctl without the token" 'token required' "$CTL_ERR"
	expect_curl 401 '/routes/drain?service=redis&route=private' "${W[@]}" \
	    -H 'Authorization: Bearer 0123456789abcdef0123456789abcdeX'
	expect_json .error 'wrong token'
	expect_curl 200 '/routes/drain?service=redis&route=private' "${W[@]}" \
	    -H "Authorization: Bearer $TOKEN"
	expect_curl 200 /metrics
	ctl status
	expect_eq "ctl status without the token exit" 0 "$CTL_RC"

	# admin_read_token = yes
	{ conf_global "admin=$ADMIN" "admin_token_file=$tok" \
	    admin_read_token=yes; redis_service; } > "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log 'reload: configuration generation 2 loaded'
	expect_curl 401 /metrics
	expect_curl 401 /health
	expect_curl 200 /readiness
	expect_curl 200 /liveness
	expect_curl 200 /metrics -H "Authorization: Bearer $TOKEN"
	CTL_OUT=$("$POSTERN" ctl -c "$CONF" status 2>&1)
	expect_eq "ctl -c status with admin_read_token exit" 0 "$?"

	# Mode 644: -n refuses it with file:line, and so does a reload.
	chmod 644 "$tok"
	out=$("$POSTERN" -n -c "$CONF" 2>&1)
	expect_eq "postern -n exit with a mode-644 token file" 2 "$?"
	expect_match "postern -n" "$CONF:[0-9]+: admin_token_file $tok: mode 0644 lets others read or write it: chmod 600 it" "$out"
	kill -HUP "$POSTERN_PID"
	expect_log 'reload failed: keeping the running configuration \(generation 2\)'
	expect_log "admin_token_file $tok: mode 0644 lets others read or write it"
	expect_curl 200 /metrics -H "Authorization: Bearer $TOKEN"
}

# Off loopback (an address on the loopback device of a network namespace
# this case makes, so nothing on the host changes): reads open, writes
# refused without admin_token_file, then the token; a wildcard endpoint
# takes any IP literal as Host (a Kubernetes httpGet probe's pod IP).
NS_ADM=postern-adm-$$
case_token_off_loopback() {
	local ip tok=$T/token err real=$POSTERN port2
	((EUID == 0)) || skip_case "needs root for ip netns"
	trap '_rc=$?; netns_remove "$NS_ADM"; _with_status "$_rc"; _case_cleanup' EXIT
	err=$(ip netns add "$NS_ADM" 2>&1) ||
	    skip_case "ip netns add is not permitted here: $err"
	ip=10.200.$(($$ % 250)).1
	ip netns exec "$NS_ADM" ip link set lo up &&
	    ip netns exec "$NS_ADM" ip addr add "$ip/32" dev lo ||
	    fail_case "cannot put $ip on lo in $NS_ADM"
	IN_NS=(ip netns exec "$NS_ADM")
	ADMIN_PORT=$(free_port) && port2=$(free_port) &&
	    LISTEN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=$ip:$ADMIN_PORT
	CONF=$T/case$_CASE_ID.conf
	ns_conf() {
		conf_global "$@"
		conf_service s "127.0.0.1:$LISTEN_PORT" tcp \
		    "a tcp://127.0.0.1:1" "b tcp://127.0.0.1:2" -- check=none
	}
	ns_conf "admin=$ADMIN" > "$CONF"
	POSTERN=ip start_postern_args netns exec "$NS_ADM" "$real" -c "$CONF"
	wait_ready 10
	expect_log "admin: listening on $ip:$ADMIN_PORT \\(not loopback: route control needs admin_token_file\\)"
	expect_curl 200 /liveness
	expect_curl 200 /health
	expect_curl 200 /metrics
	expect_curl 421 /status -H "Host: evil.example:$ADMIN_PORT"
	expect_curl 403 '/routes/pin?service=s&route=b' "${W[@]}"
	expect_json .error 'writes on a non-loopback admin address need admin_token_file in [postern]'
	CTL_OUT=$("${IN_NS[@]}" "$real" ctl -c "$CONF" pin s b 2>&1)
	expect_eq "ctl pin without a token file exit" 1 "$?"
	expect_match "ctl pin without a token file" 'need admin_token_file' "$CTL_OUT"

	token_file "$tok" 600
	ns_conf "admin=$ADMIN" "admin_token_file=$tok" > "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log 'reload: configuration generation 2 loaded'
	CTL_OUT=$("${IN_NS[@]}" "$real" ctl -c "$CONF" pin s b 2>&1)
	expect_eq "ctl -c pin with the token exit ($CTL_OUT)" 0 "$?"
	expect_log "admin: POST /routes/pin service=s route=b from 10\\.200\\."
	expect_curl 401 '/routes/unpin?service=s' "${W[@]}"
	expect_curl 401 '/routes/unpin?service=s' "${W[@]}" \
	    -H "Authorization: Bearer ${TOKEN}0"
	expect_curl 200 '/routes/unpin?service=s' "${W[@]}" \
	    -H "Authorization: Bearer $TOKEN"

	# All interfaces, as in a pod: the pod IP is a fine Host, names not.
	ns_conf "admin=*:$port2" "admin_token_file=$tok" > "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log "admin: listening on \\*:$port2 \\(not loopback"
	ADMIN=$ip:$port2
	expect_curl 200 /readiness
	expect_curl 200 /readiness -H "Host: 10.9.8.7:$port2"
	expect_curl 421 /readiness -H "Host: pod.evil.example:$port2"
	CTL_OUT=$("${IN_NS[@]}" "$real" ctl -c "$CONF" drain s a 2>&1)
	expect_eq "ctl -c drain on *:port exit ($CTL_OUT)" 0 "$?"
	stop_postern
}

# Hostile clients cannot starve the probes: hundreds of idle connections
# held open, and /readiness still answers; postern keeps at most 64.
FLOOD_PL='
use strict;
use Socket;
my ($port, $n) = @ARGV;
my @s;
for (1 .. $n) {
	socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
	connect($s, sockaddr_in($port, inet_aton("127.0.0.1"))) or die "connect: $!\n";
	push @s, $s;
}
$| = 1;
print "held $n\n";
sleep 600;
'
case_flood() {
	local n
	setup_two_redis
	(_close_sess_fds; exec perl -e "$FLOOD_PL" "$ADMIN_PORT" 300) \
	    > "$T/flood.out" 2>&1 &
	track_client "$!"
	wait_log "$T/flood.out" 'held|:' 20 || fail_case "the flood did not start"
	grep -q 'held 300' "$T/flood.out" ||
	    fail_case "flood: $(head -c 200 "$T/flood.out")"
	expect_log 'admin: 64 connections open: closing the oldest, from 127\.0\.0\.1'
	expect_curl 200 /readiness
	expect_eq "/readiness under the flood" ok "$HTTP_BODY"
	ctl status
	expect_eq "ctl status under the flood" 0 "$CTL_RC"
	# postern keeps at most 64 admin connections of its own.
	wait_until 10 test "$(ss -tnH state established "( sport = :$ADMIN_PORT )" | wc -l)" -le 64 ||
	    fail_case "postern holds $(ss -tnH state established "( sport = :$ADMIN_PORT )" | wc -l) admin connections"
	expect_eq "connection limit logged once" 1 \
	    "$(count_lines "$POSTERN_LOG" 'connections open: closing the oldest')"
}

# Issue 22 item 1: an admin connection while descriptors are exhausted.
# evhttp owns the admin listener's callback argument; the accept error
# callback used to take it for ours and died in addr_format (ASan).  Now
# the admin pauses, answers once descriptors are free, and the proxy
# (a Redis session after it) lives on.
case_admin_emfile() {
	local real=$POSTERN flood
	start_redis
	PRIV_PORT=$REDIS_PORT
	start_redis
	PUB_PORT=$REDIS_PORT
	ADMIN_PORT=$(free_port) && LISTEN_PORT=$(free_port) ||
	    fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	CONF=$T/case$_CASE_ID.conf
	{ conf_global "admin=$ADMIN"; redis_service; } > "$CONF"
	POSTERN=prlimit start_postern_args --nofile=40 -- "$real" -c "$CONF"
	POSTERN=$real
	wait_ready 10
	expect_log 'redis/private: up \(check ok\)'
	(_close_sess_fds; exec perl -e "$FLOOD_PL" "$LISTEN_PORT" 40) \
	    > "$T/flood.out" 2>&1 &
	flood=$!
	track_client "$flood"
	wait_log "$T/flood.out" 'held|:' 20 || fail_case "the flood did not start"
	expect_log "127\\.0\\.0\\.1:$LISTEN_PORT: accept: Too many open files; pausing"
	(_close_sess_fds; exec curl -sS --max-time 20 "http://$ADMIN/liveness") \
	    > "$T/live.out" 2> "$T/live.err" &
	track_client "$!"
	expect_log "admin 127\\.0\\.0\\.1:$ADMIN_PORT: accept: Too many open files; pausing"
	_pid_running "$POSTERN_PID" ||
	    fail_case "postern died: $(grep -m1 -E "$SANITIZER_RE" "$POSTERN_LOG")"
	kill "$flood"
	wait_log "$T/live.out" '^ok$' 15 ||
	    fail_case "/liveness did not answer once descriptors were free: $(cat "$T/live.err")"
	expect_http GET /liveness 200
	wait_until 10 test "$(rcli "$LISTEN_PORT" PING)" = PONG ||
	    fail_case "no Redis session after the exhaustion"
	stop_postern
}

# TRICKLE_PL PORT GAP_S: send a request one byte every GAP_S seconds
# (at most 40 bytes) and print when the server closed the connection:
# "closed after B bytes in S s", or "still open after B bytes".
TRICKLE_PL='
use strict;
use Socket;
use Time::HiRes qw(time);
my ($port, $gap) = @ARGV;
socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
connect($s, sockaddr_in($port, inet_aton("127.0.0.1"))) or die "connect: $!\n";
$SIG{PIPE} = "IGNORE";
$| = 1;
my $req = "GET /liveness HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaa\r\n\r\n";
my $t0 = time;
print "started\n";
for my $i (0 .. length($req) - 1) {
	last if $i >= 40;
	if (!defined(send($s, substr($req, $i, 1), 0))) {
		printf "closed after %d bytes in %.1f s\n", $i, time - $t0;
		exit 0;
	}
	my $r = "";
	vec($r, fileno($s), 1) = 1;
	if (select($r, undef, undef, $gap) > 0) {
		my $n = sysread($s, my $buf, 4096);
		if (!$n) {
			printf "closed after %d bytes in %.1f s\n", $i + 1, time - $t0;
			exit 0;
		}
	}
}
print "still open after 40 bytes\n";
'

# Issue 22 item 7: one byte a second restarts the idle timeout each time;
# the request's absolute deadline (5 s from its first byte) closes it,
# and the probes keep answering meanwhile.
case_admin_slowloris() {
	local out secs
	setup_two_redis
	(_close_sess_fds; exec perl -e "$TRICKLE_PL" "$ADMIN_PORT" 1) \
	    > "$T/trickle.out" 2>&1 &
	track_client "$!"
	wait_log "$T/trickle.out" 'started|:' 10 || fail_case "the trickle did not start"
	expect_curl 200 /readiness
	wait_log "$T/trickle.out" 'closed|still|:' 45 ||
	    fail_case "the trickling client did not finish"
	out=$(< "$T/trickle.out")
	expect_match "trickling client" 'closed after [0-9]+ bytes in ([0-9.]+) s' "$out"
	secs=${BASH_REMATCH[1]%.*}
	((secs >= 4 && secs <= 7)) ||
	    fail_case "closed after $secs s, not at the 5 s deadline"
	expect_log 'admin: a request from 127\.0\.0\.1 not complete within 5000 ms: closed'
	expect_curl 200 /readiness
	expect_eq "/readiness after the trickle" ok "$HTTP_BODY"
}

# Issue 22 item 11: a unix admin socket is its owner's alone by default
# (mode 0600, from bind() on); admin_socket_mode and admin_socket_group
# open it to a group, also on reload; bad values are file:line errors.
# With admin_token_file, writes over the socket need the token as on
# loopback.
case_admin_socket_mode() {
	local sock=$T/admin.sock tok=$T/token out
	start_redis
	PRIV_PORT=$REDIS_PORT
	start_redis
	PUB_PORT=$REDIS_PORT
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=unix:$sock
	CONF=$T/case$_CASE_ID.conf
	{ conf_global "admin=$ADMIN"; redis_service; } > "$CONF"
	start_postern "$CONF"
	expect_log "admin: listening on unix:$sock"
	expect_eq "default socket mode" 600 "$(stat -c %a "$sock")"
	ctl liveness
	expect_eq "ctl liveness over a 0600 socket" ok "$CTL_OUT"

	# A group and 0660 on reload, applied to the socket kept.
	if ((EUID == 0)); then
		{ conf_global "admin=$ADMIN" admin_socket_mode=0660 \
		    admin_socket_group=nogroup; redis_service; } > "$CONF"
		kill -HUP "$POSTERN_PID"
		expect_log 'reload: configuration generation 2 loaded'
		expect_eq "mode and group after reload" "660 nogroup" \
		    "$(stat -c '%a %G' "$sock")"
	fi

	# The token applies over the unix socket too.
	token_file "$tok" 600
	{ conf_global "admin=$ADMIN" "admin_token_file=$tok"; redis_service; } > "$CONF"
	kill -HUP "$POSTERN_PID"
	wait_log "$POSTERN_LOG" "reload: configuration generation $( ((EUID == 0)) && echo 3 || echo 2) loaded" 10 ||
	    fail_case "the reload with admin_token_file did not load"
	expect_eq "mode back to the default" 600 "$(stat -c %a "$sock")"
	HTTP_CODE=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \
	    --unix-socket "$sock" -X POST -H 'X-Postern-Request: 1' \
	    'http://x/routes/drain?service=redis&route=private')
	expect_eq "unix socket, write without the token" 401 "$HTTP_CODE"
	HTTP_CODE=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \
	    --unix-socket "$sock" -X POST -H 'X-Postern-Request: 1' \
	    -H "Authorization: Bearer $TOKEN" \
	    'http://x/routes/drain?service=redis&route=private')
	expect_eq "unix socket, write with the token" 200 "$HTTP_CODE"

	# Bad values: file:line errors from postern -n.
	{ conf_global "admin=$ADMIN" admin_socket_mode=0400; redis_service; } > "$T/bad.conf"
	out=$("$POSTERN" -n -c "$T/bad.conf" 2>&1)
	expect_match "postern -n, mode 0400" "$T/bad.conf:[0-9]+: admin_socket_mode '0400': an octal mode from 0600 to 0777 \\(the owner must read and write\\)" "$out"
	{ conf_global "admin=$ADMIN" admin_socket_mode=rw; redis_service; } > "$T/bad.conf"
	out=$("$POSTERN" -n -c "$T/bad.conf" 2>&1)
	expect_match "postern -n, mode rw" "admin_socket_mode 'rw': an octal mode" "$out"
	{ conf_global admin=127.0.0.1:1 admin_socket_mode=0660; redis_service; } > "$T/bad.conf"
	out=$("$POSTERN" -n -c "$T/bad.conf" 2>&1)
	expect_match "postern -n, mode on an IP address" "$T/bad.conf:[0-9]+: admin_socket_mode applies to a unix:/path admin address only" "$out"
	{ conf_global "admin=$ADMIN" admin_socket_group=no-such-group-p; redis_service; } > "$T/bad.conf"
	out=$("$POSTERN" -n -c "$T/bad.conf" 2>&1)
	expect_match "postern -n, unknown group" "$T/bad.conf:[0-9]+: admin_socket_group no-such-group-p: no such group" "$out"
}

# Started as root with user = nobody: the unix admin socket, bound before
# the drop, is nobody's (0600), so postern ctl as that user works too.
case_admin_socket_user() {
	local sock=$T/admin.sock
	((EUID == 0)) || skip_case "needs root"
	getent passwd nobody > /dev/null || skip_case "no user nobody"
	# LeakSanitizer cannot trace a process that changed its uid.
	export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
	start_redis
	PRIV_PORT=$REDIS_PORT
	start_redis
	PUB_PORT=$REDIS_PORT
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=unix:$sock
	CONF=$T/case$_CASE_ID.conf
	{ conf_global "admin=$ADMIN" user=nobody; redis_service; } > "$CONF"
	chmod 644 "$CONF"
	start_postern "$CONF"
	expect_log 'running as user nobody'
	expect_eq "socket mode and owner" "600 nobody" "$(stat -c '%a %U' "$sock")"
	ctl liveness
	expect_eq "ctl liveness as root" ok "$CTL_OUT"
}

run_case "/health healthy with two redis routes" case_health_healthy
run_case "/health degraded when the preferred route is down" case_health_degraded
run_case "/health unhealthy and 503 with no route" case_health_unhealthy
run_case "/readiness fails during shutdown_delay" case_readiness_shutdown
run_case "/startup waits for every route's first check" case_startup
run_case "/metrics families and values" case_metrics
run_case "/metrics: bytes counted as they move" case_metrics_bytes_live
run_case "/metrics: no-route refusals counted; a start with private down is no failover" case_metrics_no_route
run_case "pin with expiry, then back to the preferred route" case_pin_expiry
run_case "drain, disable, enable" case_drain_disable_enable
run_case "ctl status and errors" case_ctl_status_and_errors
run_case "unix socket admin address" case_unix_socket
run_case "reload keeps the admin endpoint, counters and pin" case_reload
run_case "reload moves the admin endpoint; a bad address keeps it" case_reload_admin_moves
run_case "cross-site writes and writes without X-Postern-Request refused" case_cross_site
run_case "a foreign Host (DNS rebinding) refused; the address, localhost, [::1] pass" case_host
run_case "token on loopback, admin_read_token, a token file others may read" case_token_loopback
run_case "off loopback: writes need admin_token_file, then the token; *:port takes IP literals" case_token_off_loopback
run_case "probes answered under a flood of idle admin connections" case_flood
run_case "an admin connection during fd exhaustion pauses the admin, no crash" case_admin_emfile
run_case "a request trickling one byte a second is closed at its absolute deadline" case_admin_slowloris
run_case "unix admin socket: 0600 by default, admin_socket_mode and _group, the token over it" case_admin_socket_mode
run_case "unix admin socket bound as root belongs to user =" case_admin_socket_user
finish
