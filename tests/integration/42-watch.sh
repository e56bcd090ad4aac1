#!/bin/bash
# watch_config = yes: the configuration follows its file as a Kubernetes
# ConfigMap mount changes it.  The directory is laid out as kubelet lays
# it out (a timestamped directory, "..data" pointing at it, the file a
# symlink through "..data") and swapped as kubelet swaps it (a new
# directory, "..data_tmp" renamed over "..data", the old one removed),
# while a redis-py ConnectionPool works through postern.  A bad file keeps
# the running generation, with file:line in /health and the log; the
# periodic check reloads alone when inotify is missing (debug fault
# point); watch_config = no reloads nothing.  Waits poll /health.
. "$(dirname "$0")/../lib.sh"

# health FILTER: jq -r FILTER on /health (JSON); "" when unreachable.
health() {
	curl -sS --max-time 5 "http://$ADMIN/health" 2>/dev/null | jq -r "$1" 2>/dev/null
}

# health_is FILTER VALUE: does /health say so?
health_is() {
	[[ "$(health "$1")" == "$2" ]]
}

# metric NAME_WITH_LABELS: its value in /metrics.
metric() {
	curl -sS --max-time 5 "http://$ADMIN/metrics" 2>/dev/null |
	    awk -v k="$1" '$1 == k { print $2 }'
}

# write_conf FILE TARGET_PORT [EXTRA_PORT] [BAD]: admin, watch_config,
# service redis -> TARGET_PORT; with EXTRA_PORT a second service "extra"
# listening there; with BAD an unknown key on a line of its own.
write_conf() {
	{
		conf_global "admin=$ADMIN" "watch_config=${WATCH:-yes}"
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
		    "main tcp://127.0.0.1:$2" -- check_interval=300ms
		[[ -z "${3:-}" ]] || conf_service extra "127.0.0.1:$3" redis \
		    "main tcp://127.0.0.1:$2"
		[[ -z "${4:-}" ]] || printf '[service broken]\nno_such_key = 1\n'
	} > "$1"
}

# cm_init DIR: kubelet's layout around $T/new.conf; CM_DIR is its file.
cm_init() {
	CM=$1 CM_N=0
	mkdir -p "$CM"
	cm_swap
	ln -s ..data/postern.conf "$CM/postern.conf"
	CM_FILE=$CM/postern.conf
}

# cm_swap: $T/new.conf becomes the ConfigMap's content, atomically.
cm_swap() {
	local old new
	old=$(readlink "$CM/..data" 2>/dev/null)
	CM_N=$((CM_N + 1))
	new=..2026_12_07_00_0${CM_N}_00.$((100 + CM_N))
	mkdir "$CM/$new"
	cp "$T/new.conf" "$CM/$new/postern.conf"
	ln -s "$new" "$CM/..data_tmp"
	mv -T "$CM/..data_tmp" "$CM/..data"
	[[ -z "$old" ]] || rm -rf "${CM:?}/$old"
}

start_pool() {
	: > "$T/pool.out"
	rm -f "$T/pool.stop"
	(_close_sess_fds; exec /usr/bin/python3 "$TESTS_DIR/redis_pool_client.py" \
	    --port "$LISTEN_PORT" --out "$T/pool.out" --stop "$T/pool.stop") \
	    2> "$T/pool.err" &
	POOL_PID=$!
	track_client "$POOL_PID"
}

stop_pool() {
	: > "$T/pool.stop"
	wait_exit "$POOL_PID" 15 || fail_case "pool client did not stop"
}

not_listening() {
	! port_listening "$1"
}

# serves PORT NAME: a new connection through PORT reaches NAME's server.
serves() {
	[[ "$(rcli "$1" GET who 2>/dev/null)" == "$2" ]]
}

setup() {
	start_redis
	A_PORT=$REDIS_PORT
	rcli "$A_PORT" SET who a > /dev/null
	start_redis
	B_PORT=$REDIS_PORT
	rcli "$B_PORT" SET who b > /dev/null
	ADMIN=127.0.0.1:$(free_port) || fail_case "no free port"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	EXTRA_PORT=$(free_port) || fail_case "no free port"
}

# The kubelet swap under a redis-py pool: a changed route and a new
# service take effect, a bad file is refused with its line, a good one
# after it is taken again; the pool sees no error.
case_configmap_swap() {
	local g bad errs
	setup
	write_conf "$T/new.conf" "$A_PORT"
	cm_init "$T/cm$_CASE_ID"
	start_postern "$CM_FILE"
	expect_log "watch: following $CM_FILE \(inotify on $T/cm$_CASE_ID\)"
	wait_until 10 health_is .config_generation 1 || fail_case "no /health"
	start_pool
	wait_until 10 grep -q ' ok a ' "$T/pool.out" ||
	    fail_case "pool: no reply from a: $(tail -n 2 "$T/pool.out")"

	# A changed route and a new service.
	write_conf "$T/new.conf" "$B_PORT" "$EXTRA_PORT"
	cm_swap
	wait_until 10 health_is .config_generation 2 ||
	    fail_case "generation 2 not loaded: $(health .config)"
	expect_eq "last reload" "ok watch" \
	    "$(health '.config.last_reload | "\(.result) \(.trigger)"')"
	wait_until 10 serves "$LISTEN_PORT" b ||
	    fail_case "new sessions do not reach b"
	wait_until 10 serves "$EXTRA_PORT" b ||
	    fail_case "the new service does not serve"
	expect_log 'reload \(watch\): reading '
	expect_log 'reload: configuration generation 2 loaded'
	# The pool's connections stay on a: sessions finish on the generation
	# they started with (DESIGN.md, "Configuration generations").

	# A bad file: refused with its line, the running generation serves.
	write_conf "$T/new.conf" "$A_PORT" "" bad
	bad=$(grep -n 'no_such_key' "$T/new.conf" | cut -d: -f1)
	cm_swap
	wait_until 10 health_is .config.last_reload.result error ||
	    fail_case "bad file not reported: $(health .config)"
	expect_match "error in /health" \
	    "^$CM_FILE:$bad: .*no_such_key" "$(health .config.last_reload.error)"
	expect_eq "generation kept" 2 "$(health .config_generation)"
	expect_log "reload failed: keeping the running configuration \(generation 2\)"
	serves "$LISTEN_PORT" b || fail_case "the running generation stopped serving"
	serves "$EXTRA_PORT" b || fail_case "the running generation lost a service"
	expect_match "/status" "last reload failed \(watch\): $CM_FILE:$bad: " \
	    "$(curl -sS --max-time 5 "http://$ADMIN/status" 2>&1)"
	expect_eq "reloads ok" 1 "$(metric 'postern_config_reloads_total{result="ok"}')"
	expect_eq "reloads failed" 1 "$(metric 'postern_config_reloads_total{result="error"}')"
	expect_eq "last reload success" 0 "$(metric postern_config_last_reload_success)"
	expect_eq "generation metric" 2 "$(metric postern_config_generation)"
	[[ "$(metric postern_config_last_reload_timestamp_seconds)" -ge $(( $(date +%s) - 60 )) ]] ||
	    fail_case "last reload timestamp not recent"

	# Fixed: the next good swap is taken (back to a, service extra gone).
	write_conf "$T/new.conf" "$A_PORT"
	cm_swap
	wait_until 10 health_is .config_generation 3 ||
	    fail_case "generation 3 not loaded: $(health .config)"
	wait_until 10 serves "$LISTEN_PORT" a || fail_case "new sessions do not reach a"
	wait_until 10 not_listening "$EXTRA_PORT" ||
	    fail_case "the removed service still listens"
	expect_eq "last reload success" 1 "$(metric postern_config_last_reload_success)"
	g=$(grep -c 'watch: .* changed; reloading' "$POSTERN_LOG")
	expect_eq "reloads for three swaps" 3 "$g"

	stop_pool
	errs=$(grep -c ' err ' "$T/pool.out")
	expect_eq "pool errors (first: $(grep -m 1 ' err ' "$T/pool.out"))" 0 "$errs"
	(( $(grep -c ' ok ' "$T/pool.out") > 50 )) || fail_case "pool: too few replies"
	stop_postern
}

# No inotify (fault point): the periodic check alone reloads the swap;
# a touch or a swap to the same bytes reloads nothing.
case_poll_fallback() {
	setup
	: > "$T/faults"
	echo watch.inotify > "$T/faults"
	write_conf "$T/new.conf" "$A_PORT"
	cm_init "$T/cm$_CASE_ID"
	POSTERN_FAULT_FILE=$T/faults start_postern "$CM_FILE"
	expect_log "watch: inotify; checking $CM_FILE every 2s only"
	wait_until 10 health_is .config_generation 1 || fail_case "no /health"
	cm_swap			# the same bytes
	touch -h "$CM_FILE"
	write_conf "$T/new.conf" "$B_PORT"
	cm_swap
	wait_until 10 health_is .config_generation 2 ||
	    fail_case "the periodic check did not reload: $(health .config)"
	wait_until 10 serves "$LISTEN_PORT" b || fail_case "new sessions do not reach b"
	expect_eq "reloads" 1 "$(grep -c 'watch: .* changed; reloading' "$POSTERN_LOG")"
	stop_postern
}

# watch_config = no (the default): a swap is not followed; SIGHUP still
# reloads, and a reload that turns the watch on starts it.
case_watch_off() {
	setup
	WATCH=no write_conf "$T/new.conf" "$A_PORT"
	cm_init "$T/cm$_CASE_ID"
	start_postern "$CM_FILE"
	expect_no_log 'watch: following'
	WATCH=no write_conf "$T/new.conf" "$B_PORT"
	cm_swap
	# A swap the watch would take within 2.2 s: give it 3 s, then SIGHUP
	# must be what loads it.  (Bounded wait for an absence.)
	wait_until 3 health_is .config_generation 2 &&
	    fail_case "reloaded without watch_config"
	kill -HUP "$POSTERN_PID"
	wait_until 10 health_is .config_generation 2 || fail_case "SIGHUP did not reload"
	expect_eq "trigger" SIGHUP "$(health .config.last_reload.trigger)"
	write_conf "$T/new.conf" "$A_PORT"
	cm_swap
	kill -HUP "$POSTERN_PID"
	wait_until 10 health_is .config_generation 3 || fail_case "SIGHUP did not reload"
	expect_log "watch: following $CM_FILE"
	write_conf "$T/new.conf" "$B_PORT"
	cm_swap
	wait_until 10 health_is .config_generation 4 ||
	    fail_case "the watch started by a reload does not follow"
	stop_postern
}

run_case "ConfigMap ..data swap under a redis-py pool; bad file kept out" case_configmap_swap
run_case "watch_config: the periodic check alone (no inotify)" case_poll_fallback
run_case "watch_config = no follows nothing; a reload turns it on" case_watch_off
finish
