#!/bin/bash
# A health check reads at most 64 KiB from a server, all its replies
# together, before anything is buffered: a server (compromised, or a man
# in the middle on a plain tcp:// path) that answers PING with a bulk
# header of a billion bytes (or an array of a hundred million elements)
# and streams, or a PostgreSQL stand-in that
# streams notices, fails the check ("reply larger than 65536 bytes") and
# postern's peak memory (VmHWM) stays where it was.  On every transport.
. "$(dirname "$0")/../lib.sh"

unset SSH_AUTH_SOCK SSH_AGENT_PID

# The filler each stand-in streams per connection: without the cap, one
# check alone would buffer this much.
STREAM_MB=256
# postern's peak RSS must stay under this (the sanitizer build runs at
# 15-30 MB here); the first check may run before it can be read, so it
# is an absolute bound, not a growth.
HWM_MAX_KB=$((80 * 1024))

# start_streamer KIND: tests/stream_reply.py KIND on a free port; sets
# STREAM_PORT.
start_streamer() {
	local out
	STREAM_PORT=$(free_port) || fail_case "no free port"
	out=$T/stream-$STREAM_PORT.out
	(_close_sess_fds; exec "$TOP/tests/stream_reply.py" "$STREAM_PORT" "$1" \
	    "$STREAM_MB") > "$out" 2>&1 &
	track_server "$!"
	wait_log "$out" 'ready|Error' 10 && grep -q ready "$out" ||
	    fail_case "stream_reply.py did not start: $(head -c 200 "$out")"
}

# hwm_kb: postern's peak resident set, in kB.
hwm_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$POSTERN_PID/status"
}

case_capped() {
	local t=$1 kind=$2 hwm port re
	start_streamer "$kind"
	port=$STREAM_PORT
	[[ $t != tls ]] || { start_socat_server "TCP:127.0.0.1:$STREAM_PORT" tls; port=$SERVER_PORT; }
	GLOBAL_OPTS=(log_level=debug)
	if [[ $kind == redis* ]]; then
		postern_on "$t" redis "$port" -- check=redis check_interval=2s check_timeout=2s
	else
		postern_on "$t" postgres "$port" -- check=postgres check_user=chk \
		    check_interval=2s check_timeout=2s
	fi
	re='debug: [a-z]+/private: check: bad reply \(reply larger than 65536 bytes'
	[[ $kind != redis-array ]] || re+=' \(an array of 100000000 elements\)'
	re+='\)'
	wait_count "$POSTERN_LOG" "$re" 2 30 ||
	    fail_case "no two checks failed with 'reply larger than 65536 bytes': $(grep -m 3 'check:' "$POSTERN_LOG" | paste -sd'|')"
	hwm=$(hwm_kb)
	note "VmHWM after two checks: $hwm kB"
	((hwm < HWM_MAX_KB)) ||
	    fail_case "postern's peak RSS reached $hwm kB (limit $HWM_MAX_KB kB)"
	stop_postern
}

(make_pki) > "$T/pki.log" 2>&1 || {
	fail "$SCRIPT_NAME: certificates" "openssl failed: $(tail -n 3 "$T/pki.log" | paste -sd'|')"
	finish
}

for t in "${TRANSPORTS[@]}"; do
	run_case "$t: redis check: a billion-byte PING reply is capped" case_capped "$t" redis
	run_case "$t: redis check: a hundred-million-element PING reply is capped" case_capped "$t" redis-array
	# tls:// to PostgreSQL needs a server that speaks its SSLRequest;
	# the cap is the same code for every transport.
	[[ $t == tls ]] ||
	    run_case "$t: postgres check: endless notices are capped" case_capped "$t" pg
done
finish
