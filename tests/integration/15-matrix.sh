#!/bin/bash
# The relay's behaviour, the same on every transport: each case takes the
# transport (tcp, ssh, sshmux, tls: lib.sh's TRANSPORTS) as its parameter and runs
# once per transport, so that a behaviour that holds on one and not on
# another fails a case.  Half-close, flush before close, a server that
# answers and closes while the client is still writing, back-pressure on
# a slow client, client reset, upstream death, 64 MiB values, pipelining
# and 500 concurrent sessions, against socat servers and a real
# redis-server.  tcp-only checks (fd leaks, the log line's format,
# redis-benchmark) stay in 05-tcp.sh and 10-redis.sh.
. "$(dirname "$0")/../lib.sh"

# The agent case of 90-ssh.sh sets its own; none may be found here.
unset SSH_AUTH_SOCK SSH_AGENT_PID

# A session's closing line on the route to 127.0.0.1:PORT.
closed_re() {
	printf ' -> private 127\\.0\\.0\\.1:%s: closed \\(%s' "$1" "$2"
}

# ---------------------------------------------------------------------
# Generic servers (socat)

# The upstream answers only after it has read the client's EOF, so the
# reply arrives only if postern passes the half-close on and keeps the
# other direction open (TLS: close_notify, then the TCP FIN; SSH: channel
# EOF).
case_half_close_delayed_reply() {
	local out
	head -c 4M /dev/urandom > "$T/up"
	transport_socat "$1" SYSTEM:sha256sum
	postern_on "$1" tcp "$SERVER_PORT" -- check=none
	out=$(timeout 30 socat -t 20 - "TCP:127.0.0.1:$LISTEN_PORT" < "$T/up")
	expect_eq "upstream's SHA-256 of what it read" "$(sha256_of "$T/up")  -" "$out"
	expect_log "$(closed_re "$SERVER_PORT" 'client closed\)') after [0-9.]+s, 4194304 bytes up, 68 bytes down$"
}

# The upstream writes 16 MiB and closes at once: all of it must reach the
# client before postern closes the client side.
case_flush_before_close() {
	head -c 16M /dev/urandom > "$T/down"
	transport_socat "$1" "OPEN:$T/down,rdonly"
	postern_on "$1" tcp "$SERVER_PORT" -- check=none
	timeout 30 socat -u "TCP:127.0.0.1:$LISTEN_PORT" - > "$T/got" ||
	    fail_case "client failed"
	expect_eq "bytes received" 16777216 "$(stat -c %s "$T/got")"
	expect_eq "SHA-256 received" "$(sha256_of "$T/down")" "$(sha256_of "$T/got")"
	expect_log "$(closed_re "$SERVER_PORT" 'server closed\)') after [0-9.]+s, 0 bytes up, 16777216 bytes down$"
}

# A client that writes without pause and reads what comes back, until its
# connection is closed both ways: reading ended (EOF or reset) and
# writing failed (or the reset ended both).  It prints the first line it
# got, how reading ended, and the seconds from that line to the close.
# ARGV: port, "nul" to start with a NUL byte (Redis: an inline request
# that never ends).
WRITER_PL='
use strict;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);
my ($port, $first) = @ARGV;
$SIG{PIPE} = "IGNORE";
my ($got, $answered, $closed, $end, $sent) = ("", 0, 0, "open", 0);
my ($rdone, $wdone) = (0, 0);
$SIG{ALRM} = sub {
	my ($line) = split /\r?\n/, $got;
	printf "answer=%s\nend=still open after 60s: reading %s, %d bytes " .
	    "sent\n", $line // "", $end, $sent;
	exit 0;
};
alarm 60;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
    Proto => "tcp", Timeout => 10) or die "connect: $!\n";
$s->blocking(0);
my $out = $first eq "nul" ? "\0" : "";
my $sel = IO::Select->new($s);
while (!$rdone || !$wdone) {
	my ($r, $w) = IO::Select->select($rdone ? undef : $sel,
	    $wdone ? undef : $sel, undef, 1);
	if ($r && @$r) {
		my $n = sysread($s, my $buf, 65536);
		if (!defined $n) {
			next if $!{EAGAIN};
			($end, $rdone, $wdone) = ("read error: $!", 1, 1);
		} elsif ($n == 0) {
			($end, $rdone) = ("eof", 1);
		} else {
			$got .= $buf;
			$answered ||= time if $got =~ /\n/;
		}
	}
	if (!$wdone && $w && @$w) {
		$out .= "x" x 65536 if length($out) < 65536;
		my $n = syswrite($s, $out);
		if (defined $n) {
			substr($out, 0, $n) = "";
			$sent += $n;
		} elsif (!$!{EAGAIN}) {
			$wdone = 1;		# read on: the answer may be there
		}
	}
	$closed = time if $rdone && $wdone && !$closed;
}
my ($line) = split /\r?\n/, $got;
printf "answer=%s\nend=%s\nwait=%.3f\n", $line // "", $end,
    $answered ? ($closed > $answered ? $closed - $answered : 0) : -1;
'

# writer_check OUT WANT: the answer is WANT, and the connection was closed
# both ways within 5 s of it.
writer_check() {
	local wait
	expect_eq "the client's first line" "answer=$2" "$(grep '^answer=' "$1")"
	grep -q '^end=\(eof\|read error: .*\)$' "$1" ||
	    fail_case "the client's connection was not closed: $(grep '^end=' "$1")"
	wait=$(sed -n 's/^wait=//p' "$1")
	[[ -n "$wait" ]] && awk -v w="$wait" 'BEGIN { exit !(w >= 0 && w < 5) }' ||
	    fail_case "the client's connection was closed ${wait}s after the answer (want < 5s)"
}

# The server reads 64 KiB, answers with an error line and closes while
# the client goes on writing: the client gets the line, and then its
# connection ends (a write error, an EOF or a reset) at once, whatever
# the transport; the session is closed and logged.
case_answer_and_close() {
	# The server is socat and a shell: the shell stays a moment after its
	# answer, or socat may fail writing to it before it has passed the
	# answer on (socat stops at the first EPIPE).
	printf '%s\n' 'head -c 65536 > /dev/null' 'printf -- "-ERR too big\r\n"' \
	    'sleep 0.2' > "$T/answer.sh"
	transport_socat "$1" "SYSTEM:sh $T/answer.sh"
	postern_on "$1" tcp "$SERVER_PORT" -- check=none
	timeout 90 perl -e "$WRITER_PL" "$LISTEN_PORT" x > "$T/writer$_CASE_ID.out" 2>&1 ||
	    fail_case "writer failed: $(head -c 300 "$T/writer$_CASE_ID.out")"
	writer_check "$T/writer$_CASE_ID.out" "-ERR too big"
	expect_log "$(closed_re "$SERVER_PORT" '(server closed|server error: [^)]+)\)')"
}

# TLS only: the server answers, sends close_notify and keeps its TCP
# connection open, reading and dropping whatever comes.  No write ever
# fails, so only the close_notify says the upstream is gone (libevent's
# OpenSSL bufferevent stops writing at it): the client must get the
# answer and then be closed, not left blocked behind back-pressure.
NOTIFY_PY='
import socket, ssl, sys, time
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(16)
print("ready", flush=True)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    c, _ = ls.accept()
    try:
        s = ctx.wrap_socket(c, server_side=True)
        s.recv(65536)
        s.sendall(b"-ERR bye\r\n")
        s.settimeout(0.5)
        try:
            s.unwrap()          # close_notify; TCP stays open
        except (OSError, ssl.SSLError):
            pass
        c.settimeout(1)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                if not c.recv(65536):
                    break
            except socket.timeout:
                continue
    except (OSError, ssl.SSLError):
        pass
    c.close()
'
case_tls_close_notify_only() {
	local port
	port=$(free_port) || fail_case "no free port"
	python3 -c "$NOTIFY_PY" "$port" "$PKI/server.crt" "$PKI/server.key" \
	    > "$T/notify$_CASE_ID.out" 2>&1 &
	track_server $!
	wait_log "$T/notify$_CASE_ID.out" '^ready' 10 ||
	    fail_case "TLS server did not start: $(head -c 300 "$T/notify$_CASE_ID.out")"
	postern_on tls tcp "$port" -- check=none
	timeout 90 perl -e "$WRITER_PL" "$LISTEN_PORT" x > "$T/writer$_CASE_ID.out" 2>&1 ||
	    fail_case "writer failed: $(head -c 300 "$T/writer$_CASE_ID.out")"
	writer_check "$T/writer$_CASE_ID.out" "-ERR bye"
	expect_log "$(closed_re "$port" '(server closed|server error: [^)]+)\)')"
}

# Back-pressure: the upstream pushes 128 MiB to a client that reads
# nothing until told to.  Once the upstream is blocked, every byte it has
# written and the client has not read sits in a socket queue (measured:
# ss's Recv-Q and Send-Q of every connection on the path), in postern, or
# for ssh:// in sshd's channel buffer.  What is left for postern must be
# within what its high-water mark allows: RELAY_HIGH_WATER (256 KiB,
# relay.h) plus two reads of RELAY_READ_CHUNK (64 KiB); for ssh:// also
# the channel window (2 MiB) libssh2 may hold and at most as much again
# in sshd (it reads its target only while its buffer is below the
# window); for tls:// a few TLS records.  A mark raised to a few MiB
# fails the case; RSS would not tell (allocator and sanitizer noise).
PUSH_PY='
import socket, ssl, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(1)
print("ready", flush=True)
c, _ = ls.accept()
if len(sys.argv) > 3:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    c = ctx.wrap_socket(c, server_side=True)
chunk, sent = b"\0" * 65536, 0
while sent < size:
    c.sendall(chunk)
    sent += len(chunk)
    print(sent, flush=True)
c.close()
'
# The client: connects, reads nothing until the file ARGV[1] exists (or
# 120 s), then reads to EOF and prints the byte count.
SLOW_PL='
use strict;
use IO::Socket::INET;
my ($port, $go) = @ARGV;
$SIG{ALRM} = sub { die "timed out\n" };
alarm 240;
my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
    Proto => "tcp", Timeout => 10) or die "connect: $!\n";
for (1 .. 1200) { last if -e $go; select(undef, undef, undef, 0.1); }
my ($n, $buf, $r) = (0);
$n += $r while ($r = sysread($c, $buf, 1 << 20));
defined $r or die "read: $!\n";
print "$n\n";
'
# pushed: what the upstream has written so far.
pushed() {
	tail -n 1 "$T/push$_CASE_ID.out" 2>/dev/null | grep -E '^[0-9]+$' || echo 0
}
# queued PORT...: the bytes in the socket queues of every established
# connection from or to these ports.
queued() {
	local f='' p
	for p in "$@"; do
		f+="${f:+ or }sport = :$p or dport = :$p"
	done
	ss -tnH state established "( $f )" | awk '{ n += $1 + $2 } END { print n + 0 }'
}
case_backpressure() {
	local port cpid up q held allowed size=$((128 * 1024 * 1024)) tls=()
	local kib=1024 ports
	port=$(free_port) || fail_case "no free port"
	[[ $1 != tls ]] || tls=("$PKI/server.crt" "$PKI/server.key")
	python3 -c "$PUSH_PY" "$port" "$size" "${tls[@]}" > "$T/push$_CASE_ID.out" 2>&1 &
	track_server $!
	wait_log "$T/push$_CASE_ID.out" '^ready' 10 ||
	    fail_case "upstream did not start: $(head -c 300 "$T/push$_CASE_ID.out")"
	postern_on "$1" tcp "$port" -- check=none
	allowed=$((256 * kib + 2 * 64 * kib))
	case $1 in
	ssh*)	allowed=$((allowed + 2 * 2048 * kib)) ;;
	tls)	allowed=$((allowed + 4 * 16 * kib)) ;;
	esac
	timeout 300 perl -e "$SLOW_PL" "$LISTEN_PORT" "$T/go$_CASE_ID" > "$T/slow$_CASE_ID.out" 2>&1 &
	cpid=$!
	track_client "$cpid"
	# Blocked for 1 s: the client reads nothing, so only back-pressure
	# (or nothing left to send) stops the upstream.
	up=$(wait_steady 60 5 pushed) || fail_case "the upstream never stalled (pushed $(pushed) bytes)"
	ports=("$port" "$LISTEN_PORT")
	[[ $1 != ssh* ]] || ports+=("$SSHD_PORT")
	q=$(queued "${ports[@]}")
	[[ "$(pushed)" == "$up" ]] || fail_case "the upstream moved again while measured"
	((up < size)) || fail_case "the upstream wrote all $size bytes: the path buffers more than the case assumes"
	held=$((up - q))
	note "$1: upstream wrote $((up / kib)) KiB, socket queues hold $((q / kib)) KiB: $((held / kib)) KiB elsewhere (allowed $((allowed / kib)) KiB)"
	touch "$T/go$_CASE_ID"
	wait_exit "$cpid" 240 || fail_case "slow client did not finish within 240s"
	expect_eq "bytes read by the slow client" "$size" "$(cat "$T/slow$_CASE_ID.out")"
	((held <= allowed)) ||
	    fail_case "$((held / kib)) KiB held outside the socket queues while the client did not read (allowed $((allowed / kib)) KiB)"
}

# A client that resets its connection: the session ends with a client
# error and postern goes on.
RST_PL='
use strict;
use IO::Socket::INET;
use Socket;
my ($port) = @ARGV;
my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
    Proto => "tcp", Timeout => 10) or die "connect: $!\n";
print $c "hello\n";
my $l = readline($c);
$l eq "hello\n" or die "echo: $l\n";
setsockopt($c, SOL_SOCKET, SO_LINGER, pack("ii", 1, 0)) or die "linger: $!\n";
close($c);
print "reset\n";
'
case_client_reset() {
	local out
	transport_socat "$1" SYSTEM:cat
	postern_on "$1" tcp "$SERVER_PORT" -- check=none
	out=$(timeout 30 perl -e "$RST_PL" "$LISTEN_PORT" 2>&1)
	expect_eq "client" reset "$out"
	expect_log "$(closed_re "$SERVER_PORT" 'client error: [^)]+\)') after "
	out=$(printf 'again\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT")
	expect_eq "echo after a reset" again "$out"
}

# ---------------------------------------------------------------------
# Redis

# Redis' own protocol desync: an inline request that never ends.  Redis
# answers "-ERR Protocol error: too big inline request" and closes while
# the client is still writing; the client must get the line and see its
# connection end, as it does straight to Redis (checked first).
case_redis_answer_and_close() {
	transport_redis "$1"
	if [[ $1 != tls ]]; then
		timeout 90 perl -e "$WRITER_PL" "$REDIS_PORT" nul > "$T/direct$_CASE_ID.out" 2>&1 ||
		    fail_case "writer failed: $(head -c 300 "$T/direct$_CASE_ID.out")"
		writer_check "$T/direct$_CASE_ID.out" "-ERR Protocol error: too big inline request"
	fi
	postern_on "$1" redis "$REDIS_PORT"
	timeout 90 perl -e "$WRITER_PL" "$LISTEN_PORT" nul > "$T/writer$_CASE_ID.out" 2>&1 ||
	    fail_case "writer failed: $(head -c 300 "$T/writer$_CASE_ID.out")"
	writer_check "$T/writer$_CASE_ID.out" "-ERR Protocol error: too big inline request"
	expect_log "$(closed_re "$REDIS_PORT" '(server closed|server error: [^)]+)\)')"
	expect_eq "PING after it" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

# A client that sends PING and shuts down its write side still reads the
# reply.
case_redis_half_close() {
	local out
	transport_redis "$1"
	postern_on "$1" redis "$REDIS_PORT"
	out=$(printf 'PING\r\n' | timeout 20 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT")
	expect_eq "half-closed PING through postern" $'+PONG\r' "$out"
	expect_log "$(closed_re "$REDIS_PORT" 'client closed\)') after .*, 6 bytes up, 7 bytes down$"
}

# redis dies under a blocked BLPOP: the client sees the close at once,
# postern logs "server closed", and serves again once redis is back.
case_redis_upstream_dies() {
	local cpid port
	transport_redis "$1"
	port=$REDIS_PORT
	postern_on "$1" redis "$port"
	rcli "$LISTEN_PORT" BLPOP nolist 0 > "$T/blpop.out" 2>&1 &
	cpid=$!
	track_client "$cpid"
	wait_until 10 eval '[[ "$(rdirect "$port" INFO clients)" == *blocked_clients:1* ]]' ||
	    fail_case "the BLPOP never reached redis"
	{ kill -KILL "$REDIS_PID"; wait "$REDIS_PID"; } 2>/dev/null
	wait_exit "$cpid" 10 ||
	    fail_case "client still connected 10s after redis died"
	expect_log "$(closed_re "$port" 'server closed\)')"
	start_redis_on "$port"
	# The default redis check marks the route down meanwhile; it comes
	# back after "rise" good checks (check_down_interval apart).
	wait_until 30 eval '[[ "$(rcli "$LISTEN_PORT" PING 2>/dev/null)" == PONG ]]' ||
	    fail_case "no PONG through postern within 30s of redis coming back"
}

# A 64 MiB value (base64 of 48 MiB of random bytes) goes up and comes
# back down through postern with the same SHA-256.
case_redis_big_value() {
	local size=$((64 * 1024 * 1024)) want got
	head -c 48M /dev/urandom | base64 -w0 > "$T/big.in"
	want=$(sha256_of "$T/big.in")
	transport_redis "$1"
	postern_on "$1" redis "$REDIS_PORT"
	expect_eq "SET 64 MiB" OK "$(timeout 60 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" -x SET big < "$T/big.in" 2>&1)"
	expect_eq "STRLEN in redis" "$size" "$(rdirect "$REDIS_PORT" STRLEN big 2>&1)"
	timeout 60 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" --raw GET big > "$T/big.out" 2> "$T/big.err" ||
	    fail_case "GET failed: $(head -c 200 "$T/big.err")"
	# redis-cli ends the raw value with one newline.
	expect_eq "GET output size" "$((size + 1))" "$(stat -c %s "$T/big.out")"
	got=$(head -c "$size" "$T/big.out" | sha256_of -)
	expect_eq "SHA-256 after the round trip" "$want" "$got"
	rm -f "$T/big.in" "$T/big.out"
	expect_log " bytes up, [0-9]{8,} bytes down$"
	expect_log " [0-9]{8,} bytes up, [0-9]+ bytes down$"
}

# Pipelined commands in one write, and a reply bigger than socket buffers.
case_redis_pipeline() {
	local out
	transport_redis "$1"
	postern_on "$1" redis "$REDIS_PORT"
	out=$( (for i in $(seq 1 2000); do printf 'INCR p\r\n'; done; printf 'GET p\r\n') |
	    timeout 20 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT" | tail -n 1)
	expect_eq "last reply of 2001 pipelined commands" $'2000\r' "$out"
}

# 500 sessions open at the same time: every one PINGs end to end while all
# are open (redis sees them all: the test asks it once the client says
# "pinged" and answers by creating the file "go"), then each INCRs once.
HOLD_PL='
use strict;
use IO::Socket::INET;
my ($port, $n, $go) = @ARGV;
$SIG{ALRM} = sub { die "timed out\n" };
alarm 90;
$| = 1;
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
print "pinged\n";
select(undef, undef, undef, 0.05) until -e $go;
print $_ "INCR counter\r\n" for @s;
for my $i (0 .. $#s) {
	my $l = readline($s[$i]);
	defined $l && $l =~ /^:\d+\r\n$/
	    or die "session $i: INCR got " . (defined $l ? $l : "EOF") . "\n";
}
close($_) for @s;
print "done\n";
'
case_redis_500_concurrent() {
	local cpid clients
	transport_redis "$1"
	postern_on "$1" redis "$REDIS_PORT"
	timeout 120 perl -e "$HOLD_PL" "$LISTEN_PORT" 500 "$T/go$_CASE_ID" > "$T/hold$_CASE_ID.out" 2>&1 &
	cpid=$!
	track_client "$cpid"
	wait_log "$T/hold$_CASE_ID.out" '^pinged$|:' 90 ||
	    fail_case "500 sessions did not all PING within 90s"
	grep -q '^pinged$' "$T/hold$_CASE_ID.out" ||
	    fail_case "500 concurrent clients: $(head -c 200 "$T/hold$_CASE_ID.out")"
	clients=$(rdirect "$REDIS_PORT" INFO clients | tr -d '\r' | sed -n 's/^connected_clients://p')
	touch "$T/go$_CASE_ID"
	((clients >= 501)) ||
	    fail_case "redis saw $clients clients while 500 sessions were open"
	wait_exit "$cpid" 60 || fail_case "500 clients did not finish within 60s"
	grep -q '^done$' "$T/hold$_CASE_ID.out" ||
	    fail_case "500 concurrent clients: $(head -c 200 "$T/hold$_CASE_ID.out")"
	expect_eq "counter after 500 INCRs" 500 "$(rdirect "$REDIS_PORT" GET counter)"
	wait_count "$POSTERN_LOG" "$(closed_re "$REDIS_PORT" 'client closed\)')" 500 30 ||
	    fail_case "$(count_lines "$POSTERN_LOG" "$(closed_re "$REDIS_PORT" 'client closed\)')") of 500 sessions logged 'client closed'"
}

# ---------------------------------------------------------------------

(make_pki) > "$T/pki.log" 2>&1 || {
	fail "$SCRIPT_NAME: certificates" "openssl failed: $(tail -n 3 "$T/pki.log" | paste -sd'|')"
	finish
}

for t in "${TRANSPORTS[@]}"; do
	run_case "$t: half-close passes on, reply still arrives" case_half_close_delayed_reply "$t"
	run_case "$t: server data flushed before close" case_flush_before_close "$t"
	run_case "$t: server answers and closes while the client writes" case_answer_and_close "$t"
	run_case "$t: back-pressure on a slow client" case_backpressure "$t"
	run_case "$t: client reset" case_client_reset "$t"
	run_case "$t: redis answers and closes while the client writes (inline request)" case_redis_answer_and_close "$t"
	run_case "$t: redis half-closed client gets its reply" case_redis_half_close "$t"
	run_case "$t: redis dies mid-session" case_redis_upstream_dies "$t"
	run_case "$t: redis 64 MiB value round-trips" case_redis_big_value "$t"
	run_case "$t: redis pipelined commands" case_redis_pipeline "$t"
	run_case "$t: redis 500 concurrent sessions" case_redis_500_concurrent "$t"
done
run_case "tls: close_notify with TCP kept open: the client is closed" case_tls_close_notify_only
finish
