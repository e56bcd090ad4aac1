#!/bin/bash
#
# 62-limits.sh: resource bounds (issue 22 items 6 and 12): lingering
# sockets have an absolute deadline and count toward max_connections;
# idle_timeout on every transport; max_sessions across services; the
# descriptor budget against RLIMIT_NOFILE in postern -n.
#
# Every wait is on a log line, an answer or a client's own report.
. "$(dirname "$0")/../lib.sh"

# TRICKLE_PL PORT GAP_S [N]: connect, then send one byte every GAP_S
# seconds (at most N, default 40), reading meanwhile; prints "reply: LINE" for what comes
# back, "eof" at the server's half-close, and "closed after S s" (from
# connect) once a byte can no longer be sent (the server closed: its
# reset came back), or "still open after N bytes".
TRICKLE_PL='
use strict;
use Socket;
use Time::HiRes qw(time sleep);
my ($port, $gap, $max) = @ARGV;
$max ||= 40;
socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
connect($s, sockaddr_in($port, inet_aton("127.0.0.1"))) or die "connect: $!\n";
$SIG{PIPE} = "IGNORE";
$| = 1;
my $t0 = time;
my $eof = 0;
print "started\n";
for my $i (1 .. $max) {
	if (!defined(send($s, "x", 0))) {
		printf "closed after %.1f s\n", time - $t0;
		exit 0;
	}
	my $until = time + $gap;
	while (!$eof && (my $left = $until - time) > 0) {
		my $r = "";
		vec($r, fileno($s), 1) = 1;
		last if select($r, undef, undef, $left) <= 0;
		my $n = sysread($s, my $buf, 4096);
		if (!defined($n)) {
			printf "closed after %.1f s\n", time - $t0;
			exit 0;
		}
		if ($n == 0) {
			print "eof\n";
			$eof = 1;
			last;
		}
		$buf =~ s/\r?\n$//;
		print "reply: $buf\n";
	}
	my $left = $until - time;
	sleep($left) if $left > 0;
}
print "still open after $max bytes\n";
'

# metric NAME{LABELS}: the value of one sample of /metrics on $ADMIN.
metric_now() {
	curl -sS --max-time 10 "http://$ADMIN/metrics" |
	    awk -v k="$1" 'index($0, k " ") == 1 { print substr($0, length(k) + 2) }'
}

# A client refused (no route) gets its error, then its socket lingers:
# a byte every 0.5 s used to restart the 2 s linger timeout for ever.
# Now the deadline is absolute, and the lingering socket counts toward
# max_connections: a second client meanwhile is refused by the cap.
case_linger_deadline_and_cap() {
	local dead out secs
	dead=$(free_port) || fail_case "no free port"
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	GLOBAL_OPTS=("admin=$ADMIN")
	postern_redis "private tcp://127.0.0.1:$dead" -- check=none \
	    hold_timeout=0 max_connections=1
	(_close_sess_fds; exec perl -e "$TRICKLE_PL" "$LISTEN_PORT" 0.5) \
	    > "$T/trickle.out" 2>&1 &
	track_client "$!"
	wait_log "$T/trickle.out" 'reply:|closed|:' 10 ||
	    fail_case "the trickling client got nothing"
	grep -q '^reply: -ERR postern: no healthy route' "$T/trickle.out" ||
	    fail_case "trickling client: $(head -c 300 "$T/trickle.out")"
	# While it lingers, it is counted, and the cap (1) is reached.
	expect_eq "lingering sockets" 1 \
	    "$(metric_now 'postern_service_lingering{service="redis"}')"
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	[[ "$out" != *'no healthy route'* ]] ||
	    fail_case "a second client was not refused by the cap: $out"
	expect_log 'service redis: 127\.0\.0\.1:[0-9]+: refused: max_connections reached \(1; 1 refused so far\)'
	wait_log "$T/trickle.out" 'closed after|still open|^(connect|socket):' 30 ||
	    fail_case "the trickling client did not finish"
	out=$(< "$T/trickle.out")
	expect_match "trickling client" 'closed after ([0-9.]+) s' "$out"
	secs=${BASH_REMATCH[1]}
	secs=${secs/./}
	((secs >= 18 && secs <= 38)) ||
	    fail_case "closed after ${BASH_REMATCH[1]} s, not at the 2 s deadline"
	expect_eq "lingering sockets after the deadline" 0 \
	    "$(metric_now 'postern_service_lingering{service="redis"}')"
}

# idle_timeout = 1s: a quiet session is closed with the reason in its one
# closing line, 1 to 1.25 s after its last byte (the check runs every
# quarter); a session that talks every 0.3 s for 3 s is not.
case_idle_timeout() {
	local t=$1 age
	transport_socat "$t" "SYSTEM:cat"
	postern_on "$t" tcp "$SERVER_PORT" -- idle_timeout=1s
	open_session quiet "TCP:127.0.0.1:$LISTEN_PORT"
	session_send quiet 'hello\n'
	wait_until 10 grep -q hello "$T/quiet.out" || fail_case "no echo"
	(_close_sess_fds; exec perl -e "$TRICKLE_PL" "$LISTEN_PORT" 0.3 10) \
	    > "$T/busy.out" 2>&1 &
	track_client "$!"
	expect_log ': closed \(idle: no byte either way for 1\.000s \(idle_timeout\)\) after [0-9.]+s, 6 bytes up, 6 bytes down' 10
	age=$(grep -Eo 'idle_timeout\)\) after [0-9.]+s' "$POSTERN_LOG" | head -n 1 | grep -Eo '[0-9]+\.[0-9]+')
	age=${age/./}
	((10#$age >= 1000 && 10#$age <= 2500)) ||
	    fail_case "the quiet session was closed after ${age} ms"
	wait_log "$T/busy.out" 'closed after|still open|^(connect|socket):' 20 ||
	    fail_case "the busy client did not finish"
	expect_eq "busy client" "still open after 10 bytes" "$(tail -n 1 "$T/busy.out")"
	expect_eq "idle closes" 1 "$(count_lines "$POSTERN_LOG" '\(idle: ')"
	session_close quiet
}

# A real pool (redis-py's ConnectionPool, default settings): a pooled
# connection closed by idle_timeout while unused is replaced on its next
# use; the application sees no error.
POOL_PY='
import os, sys, time, redis
port, go = int(sys.argv[1]), sys.argv[2]
r = redis.Redis(connection_pool=redis.ConnectionPool(host="127.0.0.1", port=port))
r.set("k", "v")
print("first ok", flush=True)
for _ in range(300):
    if os.path.exists(go):
        break
    time.sleep(0.1)
print("second", r.get("k").decode(), flush=True)
'
case_idle_timeout_pool() {
	start_redis
	postern_redis -- idle_timeout=1s
	(_close_sess_fds; exec /usr/bin/python3 -c "$POOL_PY" "$LISTEN_PORT" "$T/go") \
	    > "$T/pool.out" 2>&1 &
	track_client "$!"
	wait_log "$T/pool.out" 'first ok|Error' 20 || fail_case "the pool did not start"
	expect_log ': closed \(idle: no byte either way for 1\.000s'
	: > "$T/go"
	wait_log "$T/pool.out" 'second|Error' 40 || fail_case "no second answer"
	expect_eq "the pool's second command" "second v" "$(tail -n 1 "$T/pool.out")"
}

# max_sessions = 2 across two services: the third session, whichever
# service it comes to, is refused, logged, and counted.
case_max_sessions() {
	local p2
	start_socat_server "SYSTEM:cat"
	p2=$(free_port) || fail_case "no free port"
	ADMIN_PORT=$(free_port) || fail_case "no free port"
	ADMIN=127.0.0.1:$ADMIN_PORT
	CONF_EXTRA=$(conf_service two "127.0.0.1:$p2" tcp \
	    "private tcp://127.0.0.1:$SERVER_PORT" -- check=none)
	GLOBAL_OPTS=("admin=$ADMIN" max_sessions=2)
	postern_service tcp "private tcp://127.0.0.1:$SERVER_PORT" -- check=none
	open_session a "TCP:127.0.0.1:$LISTEN_PORT"
	session_send a 'a\n'
	open_session b "TCP:127.0.0.1:$p2"
	session_send b 'b\n'
	wait_until 10 grep -q a "$T/a.out" || fail_case "no echo on a"
	wait_until 10 grep -q b "$T/b.out" || fail_case "no echo on b"
	open_session c "TCP:127.0.0.1:$p2"
	session_send c 'c\n'
	expect_log "service two: 127\\.0\\.0\\.1:[0-9]+: refused: max_sessions reached \\(2 across services; 1 refused so far\\)"
	expect_eq "refused counted" 1 \
	    "$(metric_now 'postern_service_refused_total{service="two"}')"
	# One leaves: a new one is served.
	session_close a
	wait_count "$POSTERN_LOG" ': closed \(' 1 10 || fail_case "a did not close"
	open_session d "TCP:127.0.0.1:$LISTEN_PORT"
	session_send d 'd\n'
	wait_until 10 grep -q d "$T/d.out" || fail_case "no echo on d after a left"
	session_close b
	session_close d
}

# The caps against RLIMIT_NOFILE: postern -n warns (the hard limit, which
# the daemon raises to) with the numbers and what fits, still exits 0;
# max_sessions that fits silences it; the daemon logs it at start.
case_rlimit_check() {
	local conf=$T/fds.conf out rc
	conf_global > "$conf"
	conf_service s "127.0.0.1:$(free_port)" tcp "a tcp://127.0.0.1:1" -- \
	    check=none >> "$conf"
	out=$(prlimit --nofile=1024:1024 -- "$POSTERN" -n -c "$conf" 2>&1)
	rc=$?
	expect_eq "postern -n exit" 0 "$rc"
	expect_match "postern -n" "^$conf: warning: RLIMIT_NOFILE is 1024, but the caps may need 8225 descriptors: 4096 sessions \\(the services' max_connections\\) x 2 \\+ 1 listeners \\+ 0 admin \\+ 0 health checks \\+ 0 SSH connections \\+ 32 reserve; 495 sessions fit: lower max_connections or set max_sessions, or raise the limit \\(LimitNOFILE=, ulimit -n\\)" "$out"
	expect_match "postern -n" 'configuration OK$' "$out"
	conf_global admin=127.0.0.1:1 max_sessions=400 > "$conf"
	conf_service s "127.0.0.1:$(free_port)" redis "a tcp://127.0.0.1:1" \
	    "b tcp://127.0.0.1:2" >> "$conf"
	out=$(prlimit --nofile=1024:1024 -- "$POSTERN" -n -c "$conf" 2>&1)
	expect_eq "postern -n, max_sessions = 400" "configuration OK" "$out"
	conf_global admin=127.0.0.1:1 max_sessions=600 > "$conf"
	conf_service s "127.0.0.1:$(free_port)" redis "a tcp://127.0.0.1:1" \
	    "b tcp://127.0.0.1:2" >> "$conf"
	out=$(prlimit --nofile=1024:1024 -- "$POSTERN" -n -c "$conf" 2>&1)
	expect_match "postern -n, max_sessions = 600" "need 1300 descriptors: 600 sessions \\(max_sessions\\) x 2 \\+ 1 listeners \\+ 65 admin \\+ 2 health checks \\+ 0 SSH connections \\+ 32 reserve; 462 sessions fit" "$out"
	# The daemon says it at start, in its log.
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{ conf_global; conf_service s "127.0.0.1:$LISTEN_PORT" tcp \
	    "a tcp://127.0.0.1:1" -- check=none; } > "$CONF"
	local real=$POSTERN
	POSTERN=prlimit start_postern_args --nofile=1024:1024 -- "$real" -c "$CONF"
	POSTERN=$real
	wait_ready 10
	expect_log 'warn: RLIMIT_NOFILE is 1024, but the caps may need 8225 descriptors'
}

(make_pki) > "$T/pki.log" 2>&1 || {
	fail "$SCRIPT_NAME: certificates" "openssl failed: $(tail -n 3 "$T/pki.log" | paste -sd'|')"
	finish
}

run_case "a lingering socket: absolute 2 s deadline, counted toward max_connections" case_linger_deadline_and_cap
for t in "${TRANSPORTS[@]}"; do
	run_case "$t: idle_timeout closes a quiet session, not a busy one" case_idle_timeout "$t"
done
run_case "redis-py pool: a connection closed by idle_timeout is replaced unseen" case_idle_timeout_pool
run_case "max_sessions caps sessions across services" case_max_sessions
run_case "postern -n and the start warn when the caps exceed RLIMIT_NOFILE" case_rlimit_check
finish
