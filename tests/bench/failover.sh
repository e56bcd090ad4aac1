#!/usr/bin/env bash
# tests/bench/failover.sh: how long a route's death takes to reach clients.
#
# For two kinds of death of the preferred route "private" (backup:
# "public", both redis-server):
#   refusal    redis-server is killed (SIGKILL): connects are refused;
#   blackhole  an nftables drop inside a network namespace this script
#              creates (redis there, reached over a veth pair with
#              link-local addresses of its own): connects time out.
# and two kinds of load:
#   idle       no client during the failure: detection by checks alone;
#   traffic    a client starts a new session every 10 ms (each on its own,
#              so one stuck client does not delay the others).
# it prints, per repetition and as medians:
#   detect     death -> "redis/private: up -> down" in postern's log;
#   serve      death -> the first reply from public (traffic only);
#   max wait   the longest any session started after the death waited for
#              its reply (traffic only: e.g. connect_timeout when a session
#              was sent to the black hole before the route was down).
# alongside the check settings and the theoretical bounds.  The route is
# restored (and failback awaited) between repetitions.
#
# This is a benchmark: it prints figures and asserts nothing; it exits
# non-zero only when the set-up fails.  Loopback and its own namespace only.
#
# Environment (all optional):
#   POSTERN=path           the binary (default _build/san/postern)
#   BENCH_REPS=N           repetitions per scenario and load (default 5)
#   BENCH_SCENARIOS="refusal blackhole"
#   BENCH_INTERVAL_MS=300 BENCH_FAST_MS=100 BENCH_DOWN_MS=200
#   BENCH_TIMEOUT_MS=300 BENCH_FALL=2 BENCH_RISE=2 BENCH_CONNECT_MS=1000

# The integration harness starts the servers and postern and waits on
# its log; the bench library adds die and median.
. "$(dirname "$0")/../lib.sh"
tag=failover
. "$(dirname "$0")/lib.sh"

REPS=${BENCH_REPS:-5}
SCENARIOS=${BENCH_SCENARIOS:-refusal blackhole}
check_settings 300 100 200 300 2 2 1000

[[ -x "$POSTERN" ]] || die "no postern binary at $POSTERN (set POSTERN=)"

# --------------------------------------------------------------------
# Network namespace for the black hole (named after this script's PID).

NS=postern-fo-$$
VETH_HOST=pfo$$h
VETH_NS=pfo$$n
NS_ADDR=

netns_cleanup() {
	netns_remove "$NS"
	link_del "$VETH_HOST"
}
trap '_rc=$?; netns_cleanup; _with_status "$_rc"; _script_cleanup' EXIT

# netns_setup: prints why when it cannot.
netns_setup() {
	netns_pair "$NS" "$VETH_HOST" "$VETH_NS"
}

# --------------------------------------------------------------------
# Servers and postern

# priv_start: (re)start the private redis (host loopback or namespace) on
# PRIV_PORT and store who=private.
priv_start() {
	local n=100 dir=$T/priv-$PRIV_PORT
	mkdir -p "$dir"
	if [[ $SCEN == blackhole ]]; then
		(exec ip netns exec "$NS" redis-server --port "$PRIV_PORT" \
		    --bind "$NS_ADDR" --protected-mode no --save '' \
		    --appendonly no --daemonize no --dir "$dir" --logfile '') \
		    >> "$dir/log" 2>&1 &
	else
		(exec redis-server --port "$PRIV_PORT" --bind 127.0.0.1 \
		    --save '' --appendonly no --daemonize no --dir "$dir" \
		    --logfile '') >> "$dir/log" 2>&1 &
	fi
	PRIV_PID=$!
	track_server "$PRIV_PID"
	while ((n-- > 0)); do
		[[ "$(timeout 2 redis-cli -h "$PRIV_ADDR" -p "$PRIV_PORT" SET who private 2>/dev/null)" == OK ]] &&
		    return 0
		sleep 0.1
	done
	die "private redis on $PRIV_ADDR:$PRIV_PORT did not start: $(tail -n 3 "$dir/log")"
}

# kill_route / restore_route: the death and the repair, per scenario.
kill_route() {
	if [[ $SCEN == blackhole ]]; then
		ip netns exec "$NS" nft add table inet bh &&
		    ip netns exec "$NS" nft add chain inet bh input \
		    '{ type filter hook input priority 0; policy accept; }' &&
		    ip netns exec "$NS" nft add rule inet bh input tcp dport "$PRIV_PORT" drop ||
		    die "nft failed"
	else
		kill -KILL "$PRIV_PID"
		{ wait "$PRIV_PID"; } 2> /dev/null
	fi
}

restore_route() {
	if [[ $SCEN == blackhole ]]; then
		ip netns exec "$NS" nft delete table inet bh || die "nft delete failed"
	else
		priv_start
	fi
}

start_bench_postern() {
	LISTEN_PORT=$(free_port) || die "no free port"
	CONF=$T/$SCEN.conf
	{ conf_global
	  conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
	      "private tcp://$PRIV_ADDR:$PRIV_PORT" "public tcp://127.0.0.1:$PUB_PORT" -- \
	      "${CHECK_KEYS[@]}"
	} > "$CONF"
	start_postern "$CONF"
	wait_log "$POSTERN_LOG" 'redis/private: up \(check ok\)' 10 ||
	    die "private never up: $(tail -n 5 "$POSTERN_LOG")"
	wait_log "$POSTERN_LOG" 'redis/public: up \(check ok\)' 10 ||
	    die "public never up"
}

# --------------------------------------------------------------------
# The client: a new session every 10 ms, each in its own process, each
# line "start_ms end_ms reply" (reply: private, public, or what failed).

POLL_PL='
use strict;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
my ($port, $stop, $max) = @ARGV;
$| = 1;
my $end = time + $max;
my $n = 0;
while (time < $end && ! -e $stop) {
	my $pid = fork();
	if (defined $pid && $pid == 0) {
		my $t = time;
		my $r = "connect failed";
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $port, Timeout => 10);
		if ($s) {
			$r = "no reply";
			eval {
				local $SIG{ALRM} = sub { die "t\n" };
				alarm 15;
				print $s "*2\r\n\$3\r\nGET\r\n\$3\r\nwho\r\n";
				my $h = <$s>;
				my $v = <$s>;
				alarm 0;
				$r = defined $v ? $v : (defined $h ? $h : "eof");
			};
			$r =~ s/[\r\n]//g;
			$r =~ s/ /_/g;
		}
		syswrite(STDOUT, sprintf("%.0f %.0f %s\n", $t * 1000, time * 1000, $r));
		exit 0;
	}
	while (waitpid(-1, 1) > 0) { }
	sleep 0.01;
}
while (waitpid(-1, 0) > 0) { }
'

# --------------------------------------------------------------------
# One repetition: sets DETECT SERVE MAXWAIT ("-" when not measured).

one_rep() {
	local load=$1 downs ups t0 t_down poll_pid out=$T/poll.out
	downs=$(count_lines "$POSTERN_LOG" 'redis/private: up -> down')
	ups=$(count_lines "$POSTERN_LOG" 'service redis: new sessions go to private')
	DETECT=- SERVE=- MAXWAIT=-
	rm -f "$T/poll.stop"
	if [[ $load == traffic ]]; then
		: > "$out"
		perl -e "$POLL_PL" "$LISTEN_PORT" "$T/poll.stop" 60 > "$out" &
		poll_pid=$!
		track_client "$poll_pid"
		# Traffic flows (to private) before the death.
		wait_until 10 grep -q ' private$' "$out" || die "poller got no reply from private"
	fi
	t0=$(date +%s%3N)
	kill_route
	wait_count "$POSTERN_LOG" 'redis/private: up -> down' $((downs + 1)) 30 ||
	    die "private not down 30s after its death"
	t_down=$(log_ms 'redis/private: up -> down' $((downs + 1)))
	DETECT=$((t_down - t0))
	if [[ $load == traffic ]]; then
		wait_until 30 grep -q ' public$' "$out" || die "no reply from public within 30s"
		# Let the sessions started so far finish (bounded by the
		# client's own 15 s alarm), then stop the client.
		sleep 0.2
		: > "$T/poll.stop"
		wait_exit "$poll_pid" 20 || kill -KILL "$poll_pid" 2>/dev/null
		{ wait "$poll_pid"; } 2> /dev/null
		read -r SERVE MAXWAIT < <(awk -v t0="$t0" '
			$3 == "public" && (first == "" || $2 < first) { first = $2 }
			$1 >= t0 && $2 - $1 > mw { mw = $2 - $1 }
			END { printf "%d %d\n", first - t0, mw }' "$out")
		grep -Ev ' (private|public)$' "$out" | head -n 3 | sed 's/^/#   failed session: /'
	fi
	restore_route
	wait_count "$POSTERN_LOG" 'service redis: new sessions go to private' $((ups + 1)) 30 ||
	    die "no failback 30s after the route was restored"
}

# --------------------------------------------------------------------
echo "# postern failover benchmark: $("$POSTERN" -V 2>/dev/null | head -n 1)"
check_header
echo "# (both for detection by checks alone; traffic adds passive reports)"
printf '%-10s %-8s %4s %10s %10s %12s\n' scenario load rep detect_ms serve_ms max_wait_ms

PUB_PORT=
start_redis
PUB_PORT=$REDIS_PORT
[[ "$(rcli "$PUB_PORT" SET who public)" == OK ]] || die "cannot SET who on public"

declare -A RESULTS
for SCEN in $SCENARIOS; do
	case $SCEN in
	refusal)
		PRIV_ADDR=127.0.0.1 ;;
	blackhole)
		if ! netns_setup > "$T/netns.why" 2>&1; then
			echo "# blackhole: skipped: $(paste -sd' ' "$T/netns.why")"
			continue
		fi
		PRIV_ADDR=$NS_ADDR ;;
	*)
		die "unknown scenario $SCEN" ;;
	esac
	PRIV_PORT=$(free_port) || die "no free port"
	priv_start
	start_bench_postern
	for load in idle traffic; do
		for ((rep = 1; rep <= REPS; rep++)); do
			one_rep "$load"
			printf '%-10s %-8s %4d %10s %10s %12s\n' "$SCEN" "$load" "$rep" \
			    "$DETECT" "$SERVE" "$MAXWAIT"
			RESULTS[$SCEN.$load.detect]+="$DETECT "
			RESULTS[$SCEN.$load.serve]+="$SERVE "
			RESULTS[$SCEN.$load.maxwait]+="$MAXWAIT "
		done
	done
	stop_postern
done

echo
echo "# medians over $REPS repetitions (ms)"
printf '%-10s %-8s %10s %10s %12s\n' scenario load detect serve max_wait
for SCEN in $SCENARIOS; do
	for load in idle traffic; do
		[[ -n "${RESULTS[$SCEN.$load.detect]:-}" ]] || continue
		printf '%-10s %-8s %10s %10s %12s\n' "$SCEN" "$load" \
		    "$(median - <<< "${RESULTS[$SCEN.$load.detect]}")" \
		    "$(median - <<< "${RESULTS[$SCEN.$load.serve]}")" \
		    "$(median - <<< "${RESULTS[$SCEN.$load.maxwait]}")"
	done
done
exit 0
