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

# Both sockets of a session have TCP keepalive (60 s idle) and
# TCP_USER_TIMEOUT: the client's from the listener, which Linux copies to
# accepted sockets, the server's set at connect.  ss shows the keepalive
# timer on both.
case_keepalive_both_sides() {
	local fd
	start_socat_server "SYSTEM:cat"
	postern_service tcp "private tcp://127.0.0.1:$SERVER_PORT"
	exec {fd}<> "/dev/tcp/127.0.0.1/$LISTEN_PORT" || fail_case "cannot connect"
	printf 'hi\n' >&"$fd"
	read -r -t 10 _ <&"$fd" || fail_case "no echo"
	ss -tnoH state established "( sport = :$LISTEN_PORT )" > "$T/ka-client.out"
	ss -tnoH state established "( dport = :$SERVER_PORT )" > "$T/ka-server.out"
	exec {fd}>&-
	grep -q 'timer:(keepalive,' "$T/ka-client.out" ||
	    fail_case "client socket without keepalive: $(cat "$T/ka-client.out")"
	grep -q 'timer:(keepalive,' "$T/ka-server.out" ||
	    fail_case "server socket without keepalive: $(cat "$T/ka-server.out")"
}

run_case "200 sequential sessions, no fd leak" case_many_short_sessions
run_case "keepalive on the client's socket (from the listener) and the server's" case_keepalive_both_sides
finish
