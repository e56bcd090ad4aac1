#!/usr/bin/env bash
# postern throughput/overhead benchmark.
#
# Runs redis-benchmark and pgbench directly against a private redis-server and
# PostgreSQL cluster, through HAProxy (mode tcp) and through postern, with the
# targets interleaved round by round, and prints each proxy's median
# throughput as a ratio to direct plus its CPU microseconds per request.
#
# This is a benchmark, not a test: it never asserts timings.  It exits non-zero
# only when the set-up fails or a run produced no figure.  Everything listens on
# 127.0.0.1 only.  See tests/bench/README.md for how to read the output.
#
# Environment (all optional):
#   POSTERN=path        postern binary (default: _build/rel/postern, ./postern,
#                       else build one into _build/rel)
#   BENCH_QUICK=1       ~1 minute smoke run: small counts, 1 round
#   BENCH_ROUNDS=N      rounds per workload (default 3; 1 when quick)
#   BENCH_HAPROXY_MT=0  drop the second HAProxy with default threads
#   BENCH_FILTER=ERE    run only workloads whose name matches ERE
#   BENCH_NO_BUILD=1    never build postern; skip its rows if there is none
#   BENCH_POSTERN_BASE=path  a second postern binary (an earlier build),
#                       run as target "postern base" in the same rounds, so
#                       that a change's cost is measured side by side
#   BENCH_NO_INSTALL=1  never apt-get install missing tools
#   BENCH_OUT=dir       where results go (default /tmp/postern-bench-results-*)
#   BENCH_KEEP=1        keep the temporary work dir (data, configs, logs)
#   BENCH_RUN_TIMEOUT=s per-run wall-clock cap for redis runs (default 120)
#   Workload sizes: BENCH_N (-c50 runs), BENCH_N_P16, BENCH_N_C1, BENCH_N_BIG,
#   BENCH_BIG_SIZE (bytes), BENCH_PG_SCALE, BENCH_PG_SECONDS.

tag=bench
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ----------------------------------------------------------------- settings
n_c50=${BENCH_N:-$(by_mode 10000 100000)}
n_p16=${BENCH_N_P16:-$(by_mode 20000 100000)}
n_c1=${BENCH_N_C1:-$(by_mode 2000 20000)}
n_big=${BENCH_N_BIG:-$(by_mode 20 200)}
pg_scale=${BENCH_PG_SCALE:-$(by_mode 1 5)}
pg_secs=${BENCH_PG_SECONDS:-$(by_mode 3 10)}
big_size=${BENCH_BIG_SIZE:-1000000}
want_mt=${BENCH_HAPROXY_MT:-1}
run_timeout=${BENCH_RUN_TIMEOUT:-120}

bench_outdir postern-bench-results
raw_tsv=$out/raw.tsv
sum_tsv=$out/summary.tsv

exit_how() {   # how a child we started ended: "exit status N" / "killed by SIGx"
	local st
	wait "$1" 2>/dev/null
	st=$?
	if [ "$st" -gt 128 ]; then
		echo "killed by SIG$(kill -l $((st - 128)) 2>/dev/null || echo $((st - 128)))"
	else
		echo "exit status $st"
	fi
}

# ------------------------------------------------------------------- set-up
ensure_tools redis-server:redis-server redis-benchmark:redis-tools redis-cli:redis-tools \
	haproxy:haproxy pg ss:iproute2 timeout:coreutils
bench_workdir postern-bench
# Without a postern the other columns are still measured.
find_postern

bench_redis
pg_init -E UTF8
pg_start
pg_load "$pg_scale"

# Targets: name, redis port, pg port, proxy pid ("" for direct).
targets=(direct)
declare -A t_rport t_pport t_pid t_label
t_rport[direct]=$redis_port; t_pport[direct]=$pg_port; t_pid[direct]=
t_label[direct]="direct"

start_haproxy() {   # start_haproxy NAME NBTHREAD_LINE
	local name=$1 threads=$2 rp pp cfg pid try
	for try in 1 2 3; do
		pick_port rp; pick_port pp
		cfg=$work/$name.cfg
		{
			haproxy_head "$threads"
			cat <<-EOF
			listen redis
			    bind 127.0.0.1:$rp
			    server redis 127.0.0.1:$redis_port
			listen pg
			    bind 127.0.0.1:$pp
			    server pg 127.0.0.1:$pg_port
			EOF
		} >"$cfg"
		spawn "$work/$name.log" haproxy -f "$cfg" -db
		pid=$spawned
		wait_port "$rp" "$pid" && wait_port "$pp" "$pid" && break
		kill "$pid" 2>/dev/null
		if [ $try = 3 ]; then
			say "$name did not start (see $logs/$name.log); skipping it"
			return 1
		fi
	done
	targets+=("$name")
	t_rport[$name]=$rp; t_pport[$name]=$pp; t_pid[$name]=$pid
	local n
	n=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
	t_label[$name]="haproxy ${n}t"
	say "$name (pid $pid, $n thread(s)) on redis :$rp pg :$pp"
}

start_haproxy haproxy "nbthread 1"
[ "$want_mt" = 1 ] && start_haproxy haproxy_mt "# nbthread: default (one per CPU)"

add_postern() {   # add_postern [NAME BINARY]: 0 when up on $rp and $pp
	local name=${1:-postern} bin=${2:-$POSTERN}
	pick_port rp; pick_port pp
	bench_postern_conf "$work/$name.conf" "$rp" "$pp"
	bench_postern "$name" "$bin" "$rp" "$pp"
}

if [ -n "${BENCH_POSTERN_BASE:-}" ] && add_postern postern_base "$BENCH_POSTERN_BASE"; then
	targets+=(postern_base)
	t_rport[postern_base]=$rp; t_pport[postern_base]=$pp; t_pid[postern_base]=$ppid
	t_label[postern_base]="postern base"
	say "postern base $BENCH_POSTERN_BASE (pid $ppid) on redis :$rp pg :$pp"
fi

if [ -n "${POSTERN:-}" ]; then
	for try in 1 2 3; do
		add_postern && break
		say "postern did not become ready (try $try/3): $(tail -n 2 "$work/postern.log" 2>/dev/null | tr '\n' ' ')"
	done
	if kill -0 "$ppid" 2>/dev/null; then
		targets+=(postern)
		t_rport[postern]=$rp; t_pport[postern]=$pp; t_pid[postern]=$ppid
		t_label[postern]="postern"
		say "postern (pid $ppid) on redis :$rp pg :$pp"
	else
		postern_note="postern did not become ready (log: $logs/postern.log):
$(tail -n 5 "$work/postern.log" 2>/dev/null)"
	fi
else
	: "${postern_note:=no postern binary}"
fi
[ -n "$postern_note" ] && say "SKIPPING postern rows: $postern_note"

# ---------------------------------------------------------------- workloads
# name | kind | client arguments (the target's host/port are added)
workloads=(
	"redis SET -c50|redis|-c 50 -n $n_c50 -t set"
	"redis GET -c50|redis|-c 50 -n $n_c50 -t get"
	"redis SET -c50 -P16|redis|-c 50 -n $n_p16 -P 16 -t set"
	"redis GET -c50 -P16|redis|-c 50 -n $n_p16 -P 16 -t get"
	"redis GET -c500|redis|-c 500 -n $n_c50 -t get"
	"redis SET -c1|redis|-c 1 -n $n_c1 -t set"
	"redis GET -c1|redis|-c 1 -n $n_c1 -t get"
	"redis SET 1MB -c4|redis|-c 4 -n $n_big -d $big_size -t set"
	"redis GET 1MB -c4|redis|-c 4 -n $n_big -d $big_size -t get"
	"pg -S -c8 -j2|pg|-S -c 8 -j 2 -T $pg_secs"
	"pg -S -C -c8|pg|-S -C -c 8 -T $pg_secs"
)

# run_one TARGET KIND ARGS LOGFILE -> prints "rps latency_ms requests p99_ms"
run_one() {
	local t=$1 kind=$2 args=$3 log=$4 rps lat req p99=NA
	if [ "$kind" = redis ]; then
		# shellcheck disable=SC2086
		timeout "$run_timeout" redis-benchmark -h 127.0.0.1 -p "${t_rport[$t]}" \
			$args --csv -q >"$log" 2>&1 || { echo "NA NA NA NA"; return 1; }
		# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
		# "p95_latency_ms","p99_latency_ms","max_latency_ms"
		read -r rps lat p99 < <(awk -F'","' 'NR > 1 && NF >= 7 {
			gsub(/"/, "", $2); gsub(/"/, "", $5); gsub(/"/, "", $7); print $2, $5, $7; exit }' "$log")
		req=$(sed -n 's/.*-n \([0-9]*\).*/\1/p' <<<"$args")
	else
		# shellcheck disable=SC2086
		timeout $((pg_secs * 3 + 60)) "$pgbin/pgbench" -n $args -h 127.0.0.1 \
			-p "${t_pport[$t]}" -U postgres postgres >"$log" 2>&1 ||
			{ echo "NA NA NA NA"; return 1; }
		rps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log" | head -n 1)
		lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$log" | head -n 1)
		req=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
	fi
	if [ -z "${rps:-}" ] || [ -z "${req:-}" ] || [ "$req" = 0 ]; then
		echo "NA NA NA NA"; return 1
	fi
	echo "$rps ${lat:-NA} $req ${p99:-NA}"
}

seed_value() {   # make key:__rand_int__ hold SIZE bytes before a GET workload
	head -c "$1" /dev/zero | tr '\0' x |
		redis-cli -h 127.0.0.1 -p "$redis_port" -x SET key:__rand_int__ >/dev/null
}

# ------------------------------------------------------------------- header
ver_redis=$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')
ver_haproxy=$(haproxy -v 2>/dev/null | head -n 1 | awk '{print $3}')
ver_pg=$("$pgbin/postgres" --version | awk '{print $3}')
ver_postern=NA
if [ -n "${POSTERN:-}" ]; then
	ver_postern=$("$POSTERN" --version 2>&1 | head -n 1)
	[ -n "$ver_postern" ] || ver_postern=unknown
fi
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
header() {
	echo "machine:  $(nproc) CPU(s), ${cpu_model:-unknown CPU}, $(uname -sr)"
	echo "peers:    redis-server $ver_redis, haproxy $ver_haproxy, PostgreSQL $ver_pg, $(redis-benchmark --version 2>/dev/null | head -n 1), pgbench $ver_pg"
	if [ -n "${POSTERN:-}" ]; then
		echo "postern:  $POSTERN ($ver_postern; built $(date -r "$POSTERN" '+%F %T'))"
		if ldd "$POSTERN" 2>/dev/null | grep -q 'libasan\|libubsan'; then
			echo "          WARNING: this postern is a sanitizer build; its figures are not representative"
		fi
	else
		echo "postern:  SKIPPED: $postern_note"
	fi
	echo "haproxy:  mode tcp, default buffers, no splicing; 'haproxy 1t' = nbthread 1 (like single-threaded postern)$( [ -n "${t_label[haproxy_mt]:-}" ] && echo "; '${t_label[haproxy_mt]}' = default threads")"
	echo "settings: $( [ "$quick" = 1 ] && echo 'BENCH_QUICK=1, ')rounds=$rounds, order rotated each round, figures are medians; CLK_TCK=$clk_tck"
}
header >&2

# ---------------------------------------------------------------------- run
printf 'workload\tround\ttarget\trps\tlatency_ms\trequests\tproxy_cpu_ticks\tproxy_us_per_req\tredis_us_per_req\tstatus\tp99_ms\n' >"$raw_tsv"

say "warm-up"
for t in "${targets[@]}"; do
	timeout 20 redis-benchmark -h 127.0.0.1 -p "${t_rport[$t]}" -c 10 -n 2000 -t ping -q \
		>/dev/null 2>&1 || say "warm-up: redis via $t failed"
done
timeout 30 "$pgbin/pgbench" -n -S -c 4 -T 1 -h 127.0.0.1 -p "$pg_port" -U postgres postgres \
	>/dev/null 2>&1 || say "warm-up: pgbench failed"

failed=0
declare -A dead
w=0
start_all=$(date +%s)
for spec in "${workloads[@]}"; do
	IFS='|' read -r wname kind args <<<"$spec"
	w=$((w + 1))
	if [ -n "$filter" ] && ! grep -Eq -- "$filter" <<<"$wname"; then
		continue
	fi
	case "$wname" in
	*GET*) size=3; case "$args" in *"-d "*) size=$big_size ;; esac
		seed_value "$size" || say "could not seed value for $wname" ;;
	esac
	for r in $(seq "$rounds"); do
		nt=${#targets[@]}
		shift_by=$(((r - 1 + w - 1) % nt))
		order=("${targets[@]:$shift_by}" "${targets[@]:0:$shift_by}")
		for t in "${order[@]}"; do
			[ -n "${dead[$t]:-}" ] && {
				printf '%s\t%s\t%s\tNA\tNA\tNA\tNA\tNA\tNA\tproxy-dead\n' "$wname" "$r" "$t" >>"$raw_tsv"
				continue; }
			pid=${t_pid[$t]}
			if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
				dead[$t]=1; failed=$((failed + 1))
				say "ERROR: $t (pid $pid) is gone ($(exit_how "$pid")); its remaining runs are skipped"
				printf '%s\t%s\t%s\tNA\tNA\tNA\tNA\tNA\tNA\tproxy-dead\n' "$wname" "$r" "$t" >>"$raw_tsv"
				continue
			fi
			log=$out/logs/$(tr -c 'A-Za-z0-9\n' '_' <<<"$wname")-r$r-$t.log
			c0=NA; [ -n "$pid" ] && c0=$(cpu_ticks "$pid")
			s0=$(cpu_ticks "$redis_pid")
			t0=$(date +%s.%N)
			status=ok
			read -r rps lat req p99 < <(run_one "$t" "$kind" "$args" "$log") || true
			[ "$rps" = NA ] && status=failed
			t1=$(date +%s.%N)
			c1=NA; [ -n "$pid" ] && c1=$(cpu_ticks "$pid")
			s1=$(cpu_ticks "$redis_pid")
			if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
				status=proxy-died; dead[$t]=1
				say "ERROR: $t (pid $pid) died during '$wname' ($(exit_how "$pid"))"
			fi
			[ "$status" = ok ] || failed=$((failed + 1))
			read -r ticks us sus < <(awk -v c0="$c0" -v c1="$c1" -v s0="$s0" \
				-v s1="$s1" -v req="$req" -v hz="$clk_tck" -v kind="$kind" 'BEGIN {
				if (c0 == "NA" || c1 == "NA" || req == "NA") { t = "NA"; u = "NA" }
				else { t = c1 - c0; u = sprintf("%.2f", t * 1e6 / hz / req) }
				if (kind != "redis" || req == "NA" || s0 == "NA" || s1 == "NA") su = "NA"
				else su = sprintf("%.2f", (s1 - s0) * 1e6 / hz / req)
				print t, u, su }')
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wname" "$r" "$t" \
				"$rps" "$lat" "$req" "$ticks" "$us" "$sus" "$status" "${p99:-NA}" >>"$raw_tsv"
			say "$(printf '%-22s r%d %-10s %12s rps  %8s us/req  %.1fs  %s' \
				"$wname" "$r" "$t" "$rps" "$us" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$status")"
		done
	done
done
elapsed=$(($(date +%s) - start_all))

# ------------------------------------------------------------------ summary
# Ratio = median over rounds of (proxy rps / direct rps in the same round).
labels=""
for t in "${targets[@]}"; do labels="$labels $t=${t_label[$t]// /_}"; done
awk -F'\t' -v targets="${targets[*]}" -v labels="$labels" -v sum="$sum_tsv" -v rounds="$rounds" '
function median(list,   a, n, i, j, x) {
	n = split(list, a, " ")
	if (n == 0) return "NA"
	for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] + 0 > x + 0; j--) a[j+1] = a[j]; a[j+1] = x }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
BEGIN {
	nt = split(targets, T, " ")
	split(labels, L, " "); for (i in L) { split(L[i], kv, "="); lab[kv[1]] = kv[2]; gsub(/_/, " ", lab[kv[1]]) }
}
NR == 1 { next }
{
	w = $1; r = $2; t = $3
	if (!(w in seen)) { seen[w] = 1; order[++nw] = w }
	if ($10 != "ok") { next }
	rps[w, r, t] = $4; wr[w, r] = 1
	R[w, t] = R[w, t] " " $4; L2[w, t] = L2[w, t] " " $5
	if ($8 != "NA") U[w, t] = U[w, t] " " $8
	if ($9 != "NA") S[w, t] = S[w, t] " " $9
}
END {
	for (i = 1; i <= nw; i++) for (k in wr) { split(k, kk, SUBSEP); if (kk[1] == order[i]) rl[order[i]] = rl[order[i]] " " kk[2] }
	hdr = sprintf("%-22s %12s", "workload", "direct rps")
	for (j = 2; j <= nt; j++) hdr = hdr sprintf("  %14s %7s", lab[T[j]] " ratio", "us/req")
	if (("postern" in lab) && ("haproxy" in lab)) hdr = hdr sprintf("  %12s", "pt/haproxy")
	print hdr
	print "workload\ttarget\tlabel\truns_ok\tmedian_rps\tratio_to_direct\tmedian_proxy_us_per_req\tmedian_latency_ms\tmedian_redis_us_per_req" > sum
	for (i = 1; i <= nw; i++) {
		w = order[i]
		line = sprintf("%-22s %12s", w, (R[w, "direct"] == "") ? "FAILED" : sprintf("%.0f", median(R[w, "direct"])))
		for (j = 1; j <= nt; j++) {
			t = T[j]; ratios = ""
			n = split(rl[w], rr, " ")
			for (q = 1; q <= n; q++)
				if ((w, rr[q], t) in rps && (w, rr[q], "direct") in rps && rps[w, rr[q], "direct"] > 0)
					ratios = ratios " " rps[w, rr[q], t] / rps[w, rr[q], "direct"]
			ok = split(R[w, t], tmp, " ")
			ratio = (ratios == "") ? "NA" : sprintf("%.3f", median(ratios))
			us = (U[w, t] == "") ? "NA" : sprintf("%.2f", median(U[w, t]))
			printf "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", w, t, lab[t], ok,
				(ok ? sprintf("%.1f", median(R[w, t])) : "NA"), ratio, us,
				(L2[w, t] == "" ? "NA" : median(L2[w, t])),
				(S[w, t] == "" ? "NA" : sprintf("%.2f", median(S[w, t]))) > sum
			if (j == 1) continue
			mark = (ok < rounds) ? "*" : ""
			line = line sprintf("  %14s %7s", (ratio == "NA") ? "FAILED" : sprintf("%.2f", ratio) mark, (us == "NA") ? "-" : sprintf("%.1f", us))
		}
		# postern against HAProxy 1t in the same round, median.
		if (("postern" in lab) && ("haproxy" in lab)) {
			ratios = ""
			n = split(rl[w], rr, " ")
			for (q = 1; q <= n; q++)
				if ((w, rr[q], "postern") in rps && (w, rr[q], "haproxy") in rps && rps[w, rr[q], "haproxy"] > 0)
					ratios = ratios " " rps[w, rr[q], "postern"] / rps[w, rr[q], "haproxy"]
			line = line sprintf("  %12s", (ratios == "") ? "NA" : sprintf("%.2f", median(ratios)))
		}
		print line
	}
}' "$raw_tsv" >"$out/table.txt"

[ -s "$out/table.txt" ] || { say "ERROR: summarising $raw_tsv failed"; failed=$((failed + 1)); }

# Added latency at -c 1: the proxy's p50 and p99 minus direct's, in the
# same round (redis-benchmark's percentiles, ms), median over rounds.
awk -F'\t' 'NR > 1 && $1 ~ /-c1$/ && $10 == "ok" { p50[$1, $2, $3] = $5; p99[$1, $2, $3] = $11
	if (!(($1, $3) in seen)) { seen[$1, $3] = 1; wt[++n] = $1 SUBSEP $3 } rounds[$1] = rounds[$1] " " $2 }
function median(list,   a, m, i, j, x) {
	m = split(list, a, " "); if (m == 0) return "NA"
	for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] + 0 > x + 0; j--) a[j+1] = a[j]; a[j+1] = x }
	return a[int((m + 1) / 2)]
}
END {
	printf "%-22s %-12s %14s %14s\n", "workload", "target", "+p50 ms", "+p99 ms"
	for (i = 1; i <= n; i++) {
		split(wt[i], k, SUBSEP); w = k[1]; t = k[2]
		if (t == "direct") continue
		a = ""; b = ""; m = split(rounds[w], rr, " ")
		for (q = 1; q <= m; q++) {
			r = rr[q]
			if (!((w, r, "direct") in p50) || !((w, r, t) in p50)) continue
			if (done[w, r, t]++) continue
			a = a " " p50[w, r, t] - p50[w, r, "direct"]
			if (p99[w, r, t] != "NA" && p99[w, r, "direct"] != "NA") b = b " " p99[w, r, t] - p99[w, r, "direct"]
		}
		printf "%-22s %-12s %14s %14s\n", w, t, median(a), median(b)
	}
}' "$raw_tsv" >"$out/latency.txt"

# Syscalls per request (perf's raw_syscalls tracepoint on the proxy, or
# strace -c without perf) during one redis GET -c1 run, and memory per
# idle session (N sessions held open, each having answered a PING).
# Separate runs after the rounds, so that tracing costs no figure above.
# One client: tracing slows every system call (on the project's VMs by
# two orders of magnitude), which would change how many requests each
# wake-up finds with more clients; with one there is nothing to batch.
n_idle=${BENCH_IDLE:-$(by_mode 200 1000)}
n_sc=${BENCH_N_SYSCALLS:-2000}
profile_target() {	# profile_target TARGET -> "syscalls/req bytes/idle-session"
	local t=$1 pid=${t_pid[$1]} f=$work/perf-$1.txt tp sc=NA idle
	if command -v perf >/dev/null; then
		perf stat -e raw_syscalls:sys_enter -x, -o "$f" -p "$pid" &
		tp=$!
		sleep 0.5
		timeout 300 redis-benchmark -h 127.0.0.1 -p "${t_rport[$t]}" -c 1 -n "$n_sc" -t get -q >/dev/null 2>&1
		kill -INT "$tp"; wait "$tp" 2>/dev/null
		sc=$(awk -F, -v n="$n_sc" '/raw_syscalls:sys_enter/ { printf "%.2f", $1 / n }' "$f")
	elif command -v strace >/dev/null; then
		strace -f -c -o "$f" -p "$pid" &
		tp=$!
		sleep 0.5
		timeout 300 redis-benchmark -h 127.0.0.1 -p "${t_rport[$t]}" -c 1 -n "$n_sc" -t get -q >/dev/null 2>&1
		kill -INT "$tp"; wait "$tp" 2>/dev/null
		sc=$(awk -v n="$n_sc" '$NF == "total" { printf "%.2f", $(NF-1) / n }' "$f")
	fi
	idle=$(timeout 120 python3 "$top/tests/bench/idle.py" "${t_rport[$t]}" "$n_idle" "$pid" 2>/dev/null | awk '{ print $4 }')
	echo "${sc:-NA} ${idle:-NA}"
}
if [ -z "$filter" ] || grep -Eq -- "$filter" <<<"profile"; then
	{
		printf '%-12s %18s %26s\n' target "syscalls/req" "RSS bytes/idle session"
		for t in "${targets[@]}"; do
			[ -n "${t_pid[$t]}" ] && [ -z "${dead[$t]:-}" ] || continue
			read -r sc idle < <(profile_target "$t")
			printf '%-12s %18s %26s\n' "${t_label[$t]}" "$sc" "$idle"
		done
		printf '(syscalls: redis GET -c1 -n %s under %s; %s idle redis sessions, each answered a PING)\n' \
			"$n_sc" "$(command -v perf >/dev/null && echo 'perf stat -e raw_syscalls:sys_enter -p PID' || echo 'strace -c -f -p PID')" "$n_idle"
	} >"$out/profile.txt"
fi
{
	echo
	echo "== postern benchmark ($(date '+%F %T'), ${elapsed}s of runs) =="
	header
	echo
	cat "$out/table.txt"
	echo
	echo "added latency at -c 1 (proxy minus direct, same round, median):"
	cat "$out/latency.txt"
	echo
	[ -s "$out/profile.txt" ] && cat "$out/profile.txt" && echo
	echo "ratio = proxy rps / direct rps (median of per-round ratios; 1.00 = no loss)."
	echo "pt/haproxy = postern rps / haproxy 1t rps in the same round (median; > 1: postern ahead)."
	echo "us/req = proxy process CPU (utime+stime) per request/transaction (median)."
	[ -n "$postern_note" ] && echo "postern rows SKIPPED: $postern_note"
	grep -q '[0-9]\*' "$out/table.txt" && echo "* = from fewer rounds than $rounds: some runs failed."
	[ $failed -gt 0 ] && echo "WARNING: $failed run(s) produced no figure; see $out/logs and the status column of raw.tsv"
	echo "TSV: $sum_tsv (summary), $raw_tsv (every run); logs: $out/logs"
}

[ $failed -gt 0 ] && exit 2
exit 0
