#!/bin/bash
# The plain TCP relay: what is particular to tcp:// routes.  The relay's
# behaviour on every transport (half-close, flush before close,
# back-pressure, resets, ...) is in 15-matrix.sh.
. "$(dirname "$0")/../lib.sh"

# Many short sessions one after the other: one closing line each, and
# postern's descriptors do not grow.
case_many_short_sessions() {
	local i fds0 fds1 out
	start_socat_server "SYSTEM:cat"
	postern_service tcp "private tcp://127.0.0.1:$SERVER_PORT"
	fds0=$(ls "/proc/$POSTERN_PID/fd" | wc -l)
	for i in $(seq 1 200); do
		out=$(printf '%s\n' "$i" | timeout 10 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT")
		[[ "$out" == "$i" ]] || fail_case "session $i echoed '$out'"
	done
	wait_count "$POSTERN_LOG" ': closed \(' 200 10 ||
	    fail_case "$(count_lines "$POSTERN_LOG" ': closed \(') closing lines for 200 sessions"
	fds1=$(ls "/proc/$POSTERN_PID/fd" | wc -l)
	((fds1 <= fds0)) || fail_case "postern had $fds0 fds before 200 sessions and $fds1 after"
}

run_case "200 sequential sessions, no fd leak" case_many_short_sessions
finish
