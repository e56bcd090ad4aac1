#!/bin/bash
# Redis through postern: real redis-server, real redis-cli.
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

# A 64 MiB value (base64 of 48 MiB of random bytes) goes up and comes
# back down through postern with the same SHA-256.
case_big_value() {
	local size=$((64 * 1024 * 1024)) want got
	head -c 48M /dev/urandom | base64 -w0 > "$T/big.in"
	expect_eq "value size" "$size" "$(stat -c %s "$T/big.in")"
	want=$(sha256_of "$T/big.in")
	start_redis
	postern_redis
	expect_eq "SET 64 MiB" OK "$(rcli "$LISTEN_PORT" -x SET big < "$T/big.in" 2>&1)"
	expect_eq "STRLEN in redis" "$size" "$(rcli "$REDIS_PORT" STRLEN big 2>&1)"
	rcli "$LISTEN_PORT" GET big > "$T/big.out" 2> "$T/big.err" ||
	    fail_case "GET failed: $(head -c 200 "$T/big.err")"
	# redis-cli ends the raw value with one newline.
	expect_eq "GET output size" "$((size + 1))" "$(stat -c %s "$T/big.out")"
	got=$(head -c "$size" "$T/big.out" | sha256_of -)
	expect_eq "SHA-256 after the round trip" "$want" "$got"
	rm -f "$T/big.in" "$T/big.out"
	expect_log " bytes up, [0-9]{8,} bytes down$"
	expect_log " [0-9]{8,} bytes up, [0-9]+ bytes down$"
}

# 500 sessions open at the same time: every one PINGs end to end while all
# are open (redis sees them all), then each INCRs once.
HOLD_PL='
use strict;
use IO::Socket::INET;
my ($port, $rport, $n) = @ARGV;
$SIG{ALRM} = sub { die "timed out\n" };
alarm 90;
my @s;
for my $i (1 .. $n) {
	my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
	    PeerPort => $port, Proto => "tcp", Timeout => 10)
	    or die "connect $i: $!\n";
	push @s, $c;
}
print $_ "PING\r\n" for @s;
for my $i (0 .. $#s) {
	my $l = readline($s[$i]);
	defined $l && $l eq "+PONG\r\n"
	    or die "session $i: PING got " . (defined $l ? $l : "EOF") . "\n";
}
my $r = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $rport)
    or die "redis: $!\n";
print $r "INFO clients\r\n";
my $h = readline($r);
$h =~ /^\$(\d+)/ or die "INFO: $h\n";
read($r, my $info, $1 + 2);
$info =~ /connected_clients:(\d+)/ or die "INFO: no connected_clients\n";
print "connected_clients=$1\n";
print $_ "INCR counter\r\n" for @s;
for my $i (0 .. $#s) {
	my $l = readline($s[$i]);
	defined $l && $l =~ /^:\d+\r\n$/
	    or die "session $i: INCR got " . (defined $l ? $l : "EOF") . "\n";
}
close($_) for @s;
print "done\n";
'
case_500_concurrent() {
	local out clients
	start_redis
	postern_redis
	out=$(timeout 120 perl -e "$HOLD_PL" "$LISTEN_PORT" "$REDIS_PORT" 500 2>&1) ||
	    fail_case "500 concurrent clients: $(_short "$out")"
	clients=$(sed -n 's/^connected_clients=//p' <<< "$out")
	((clients >= 501)) ||
	    fail_case "redis saw $clients clients while 500 sessions were open"
	expect_eq "counter after 500 INCRs" 500 "$(rcli "$REDIS_PORT" GET counter)"
	wait_count "$POSTERN_LOG" ': closed \(client closed\)' 500 20 ||
	    fail_case "$(count_lines "$POSTERN_LOG" ': closed \(client closed\)') of 500 sessions logged 'client closed'"
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

# A client that sends PING and shuts down its write side still reads the
# reply (checked against redis directly first).
case_half_close() {
	local out
	start_redis
	out=$(printf 'PING\r\n' | timeout 20 socat -t 5 - "TCP:127.0.0.1:$REDIS_PORT")
	expect_eq "direct half-closed PING (control)" $'+PONG\r' "$out"
	postern_redis
	out=$(printf 'PING\r\n' | timeout 20 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT")
	expect_eq "half-closed PING through postern" $'+PONG\r' "$out"
	expect_log ': closed \(client closed\) after .*, 6 bytes up, 7 bytes down$'
}

# redis dies under a blocked BLPOP: the client sees the close at once,
# postern logs "server closed", and serves again once redis is back.
case_upstream_dies() {
	local cpid port
	start_redis
	port=$REDIS_PORT
	postern_redis
	rcli "$LISTEN_PORT" BLPOP nolist 0 > "$T/blpop.out" 2>&1 &
	cpid=$!
	track_client "$cpid"
	wait_until 10 eval '[[ "$(rcli "$port" INFO clients)" == *blocked_clients:1* ]]' ||
	    fail_case "the BLPOP never reached redis"
	{ kill -KILL "$REDIS_PID"; wait "$REDIS_PID"; } 2>/dev/null
	wait_exit "$cpid" 10 ||
	    fail_case "client still connected 10s after redis died"
	expect_log " -> private 127\.0\.0\.1:$port: closed \(server closed\)"
	start_redis_on "$port"
	# The default redis check marks the route down meanwhile; it comes
	# back after "rise" good checks (check_down_interval apart).
	wait_until 20 eval '[[ "$(rcli "$LISTEN_PORT" PING 2>/dev/null)" == PONG ]]' ||
	    fail_case "no PONG through postern within 20s of redis coming back"
}

# Pipelined commands in one write, and a reply bigger than socket buffers.
case_pipeline() {
	local out
	start_redis
	postern_redis
	out=$( (for i in $(seq 1 2000); do printf 'INCR p\r\n'; done; printf 'GET p\r\n') |
	    timeout 20 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT" | tail -n 1)
	expect_eq "last reply of 2001 pipelined commands" $'2000\r' "$out"
}

run_case "SET/GET through postern" case_set_get
run_case "session closing line format" case_session_line
run_case "64 MiB value round-trips" case_big_value
run_case "500 concurrent sessions" case_500_concurrent
run_case "redis-benchmark -c 500" case_benchmark_500
run_case "half-closed client gets its reply" case_half_close
run_case "upstream dies mid-session" case_upstream_dies
run_case "pipelined commands" case_pipeline
finish
