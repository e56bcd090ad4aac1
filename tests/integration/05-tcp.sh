#!/bin/bash
# The plain TCP relay: byte integrity both ways, half-close, flush before
# close, back-pressure and resets, against socat servers.
. "$(dirname "$0")/../lib.sh"

# The upstream answers only after it has read the client's EOF, so the
# reply arrives only if postern passes the half-close on and keeps the
# other direction open.
case_half_close_delayed_reply() {
	local out
	head -c 4M /dev/urandom > "$T/up"
	start_socat_server SYSTEM:sha256sum
	postern_service tcp "private tcp://127.0.0.1:$SERVER_PORT"
	out=$(timeout 30 socat -t 20 - "TCP:127.0.0.1:$LISTEN_PORT" < "$T/up")
	expect_eq "upstream's SHA-256 of what it read" "$(sha256_of "$T/up")  -" "$out"
	expect_log ": closed \(client closed\) after [0-9.]+s, 4194304 bytes up, 68 bytes down$"
}

# The upstream writes 16 MiB and closes at once: all of it must reach the
# client before postern closes the client side.
case_flush_before_close() {
	head -c 16M /dev/urandom > "$T/down"
	start_socat_server "OPEN:$T/down,rdonly"
	postern_service tcp "private tcp://127.0.0.1:$SERVER_PORT"
	timeout 30 socat -u "TCP:127.0.0.1:$LISTEN_PORT" - > "$T/got" ||
	    fail_case "client failed"
	expect_eq "bytes received" 16777216 "$(stat -c %s "$T/got")"
	expect_eq "SHA-256 received" "$(sha256_of "$T/down")" "$(sha256_of "$T/got")"
	expect_log ": closed \(server closed\) after [0-9.]+s, 0 bytes up, 16777216 bytes down$"
}

# A client that does not read for 3 s while the upstream pushes 512 MiB:
# postern must stop reading upstream instead of buffering it all.  Its RSS
# is sampled only while the client is not reading (the client creates a
# marker file when it starts); the peak afterwards is mostly
# AddressSanitizer's quarantine of freed buffers.
SLOW_PL='
use strict;
use IO::Socket::INET;
my ($port, $pause, $marker) = @ARGV;
$SIG{ALRM} = sub { die "timed out\n" };
alarm 120;
my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
    Proto => "tcp", Timeout => 10) or die "connect: $!\n";
select(undef, undef, undef, $pause);
open(my $m, ">", $marker) or die "marker: $!\n";
close($m);
my ($n, $buf, $r) = (0);
$n += $r while ($r = sysread($c, $buf, 1 << 20));
defined $r or die "read: $!\n";
print "$n\n";
'
rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

case_backpressure() {
	local cpid rss0 rss max=0 n=0 i
	start_socat_server "SYSTEM:head -c 536870912 /dev/zero"
	postern_service tcp "private tcp://127.0.0.1:$SERVER_PORT"
	rss0=$(rss_kb "$POSTERN_PID")
	[[ -n "$rss0" ]] || fail_case "cannot read postern's VmRSS"
	timeout 120 perl -e "$SLOW_PL" "$LISTEN_PORT" 3 "$T/reading" > "$T/slow.out" 2>&1 &
	cpid=$!
	track_client "$cpid"
	for i in $(seq 1 100); do
		sleep 0.2
		[[ -e "$T/reading" ]] && break
		rss=$(rss_kb "$POSTERN_PID")
		[[ -e "$T/reading" ]] && break
		n=$((n + 1))
		((rss > max)) && max=$rss
	done
	note "postern RSS: ${rss0} kB idle, at most ${max} kB in $n samples while the client did not read"
	((n >= 3)) || skip_case "only $n RSS samples before the client read (machine too slow?)"
	wait_exit "$cpid" 60 || fail_case "slow client did not finish within 60s"
	expect_eq "bytes read by the slow client" 536870912 "$(cat "$T/slow.out")"
	((max - rss0 < 64 * 1024)) ||
	    fail_case "postern's RSS grew by $((max - rss0)) kB while the client did not read"
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
	start_socat_server "SYSTEM:cat"
	postern_service tcp "private tcp://127.0.0.1:$SERVER_PORT"
	out=$(timeout 30 perl -e "$RST_PL" "$LISTEN_PORT" 2>&1)
	expect_eq "client" reset "$out"
	expect_log ": closed \(client error: [^)]+\) after "
	out=$(printf 'again\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT")
	expect_eq "echo after a reset" again "$out"
}

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

run_case "half-close passes on, reply still arrives" case_half_close_delayed_reply
run_case "server data flushed before close" case_flush_before_close
run_case "back-pressure on a slow client" case_backpressure
run_case "client reset" case_client_reset
run_case "200 sequential sessions, no fd leak" case_many_short_sessions
finish
