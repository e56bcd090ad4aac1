#!/bin/bash
# Redis through postern: real redis-server, real redis-cli.  The relay
# cases on every transport (64 MiB values, 500 sessions, half-close,
# pipelining, upstream death, ...) are in 15-matrix.sh.
. "$(dirname "$0")/../lib.sh"

# A session's one closing line, with its fixed prefix.
TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

case_set_get() {
	start_redis
	postern_redis
	expect_eq "SET through postern" OK "$(rcli "$LISTEN_PORT" SET greeting hello 2>&1)"
	expect_eq "GET through postern" hello "$(rcli "$LISTEN_PORT" GET greeting 2>&1)"
	expect_eq "GET from redis itself" hello "$(rcli "$REDIS_PORT" GET greeting 2>&1)"
	expect_log " s[0-9]+ redis 127\.0\.0\.1:[0-9]+ -> private 127\.0\.0\.1:$REDIS_PORT: closed \(client closed\)"
}

# One PING session from a client that sends 6 bytes, reads 7 and closes:
# exactly one line, with the prefix, reason, age and byte counts.
case_session_line() {
	start_redis
	postern_redis
	open_session s "TCP:127.0.0.1:$LISTEN_PORT"
	session_send s 'PING\r\n'
	wait_log "$T/s.out" '\+PONG' 10 || fail_case "no +PONG on the session"
	session_close s
	wait_exit "$(session_pid s)" 10 || fail_case "client not closed 10s after it half-closed"
	expect_log ': closed \('
	local want="$TS_RE info: s[0-9]+ redis 127\.0\.0\.1:[0-9]+ -> private 127\.0\.0\.1:$REDIS_PORT: closed \(client closed\) after [0-9]+\.[0-9]{3}s, 6 bytes up, 7 bytes down$"
	grep -Eq "$want" "$POSTERN_LOG" ||
	    fail_case "no session line like /$want/; got: $(grep -E ': closed \(' "$POSTERN_LOG")"
	expect_eq "closing lines for one session" 1 "$(count_lines "$POSTERN_LOG" ' s[0-9]+ redis .*: closed \(')"
}

# redis-benchmark with 500 clients: no request lost.
case_benchmark_500() {
	local out
	start_redis
	postern_redis
	out=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$LISTEN_PORT" -c 500 \
	    -n 10000 -t incr -q 2>&1) || fail_case "redis-benchmark failed: $(_short "$out")"
	[[ "$out" == *rror* ]] && fail_case "redis-benchmark reported: $(_short "$out")"
	expect_eq "counter after 10000 INCRs" 10000 \
	    "$(rcli "$REDIS_PORT" GET 'counter:__rand_int__')"
}

run_case "SET/GET through postern" case_set_get
run_case "session closing line format" case_session_line
run_case "redis-benchmark -c 500" case_benchmark_500
finish
