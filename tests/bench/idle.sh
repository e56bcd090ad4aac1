#!/bin/bash
# tests/bench/idle.sh: memory per idle session, per protocol, postern
# against HAProxy (issue 27).
#
# For each protocol (tcp, redis, postgres over tcp://) and each target
# (postern; POSTERN_BASE, an earlier build, when given; HAProxy 1 thread,
# mode tcp, in front of the same server), a fresh proxy process gets N
# idle sessions (idle.py: each answered one PING, or for postgres ran one
# SELECT 1, then held open) and the growth of its VmRSS and of its heap in
# use (mallinfo2 through gdb) is divided by N.  One proxy at a time; R
# rounds, the targets' order rotated each round; the table gives the
# median of each cell and pt/haproxy, postern's RSS over HAProxy's in the
# same round (median): on a shared machine the RSS moves by a few hundred
# bytes per session between runs, and a ratio taken round by round
# survives that better than two medians.  Figures only: nothing judged.
#
#	tests/bench/idle.sh
#	BENCH_QUICK=1 tests/bench/idle.sh	# N 200 (postgres 100), 1 round
#
# Settings: BENCH_IDLE (N for tcp and redis: 2000, quick 200),
# BENCH_IDLE_PG (N for postgres: 600, quick 100: a backend each),
# BENCH_ROUNDS (3, quick 1), BENCH_FILTER (ERE on "tcp", "redis",
# "postgres"), POSTERN, POSTERN_BASE, BENCH_OUT, BENCH_KEEP; see lib.sh.
# Needs gdb for the heap column (NA without).
tag=bench-idle
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_outdir postern-bench-idle
bench_workdir postern-bench-idle
ensure_tools redis-server haproxy
find_postern || die "$postern_note"

n_idle=${BENCH_IDLE:-$(by_mode 200 2000)}
n_pg=${BENCH_IDLE_PG:-$(by_mode 100 600)}

bench_redis --maxclients $((n_idle + 100))
pg_init
pg_start "-c max_connections=$((n_pg * 2 + 20))"

targets=(postern)
[ -z "${POSTERN_BASE:-}" ] || targets+=(base)
targets+=(haproxy)
protos=()
for p in tcp redis postgres; do
	[ -z "$filter" ] || grep -Eq -- "$filter" <<<"$p" && protos+=("$p")
done

# start_target TARGET PROTO: a fresh proxy for PROTO on port $lport; sets
# tpid.
start_target() {
	local t=$1 proto=$2 up=$redis_port
	[ "$proto" = postgres ] && up=$pg_port
	pick_port lport
	case $t in
	postern|base)
		local bin=$POSTERN
		[ "$t" = base ] && bin=$POSTERN_BASE
		printf '[postern]\nlog_level = warn\n\n[service s]\nlisten = 127.0.0.1:%s\nprotocol = %s\nroute = direct tcp://127.0.0.1:%s\n' \
		    "$lport" "$proto" "$up" >"$work/$t.conf"
		bench_postern "$t" "$bin" "$lport" || die "$t did not start"
		tpid=$ppid
		;;
	haproxy)
		{
			haproxy_head "nbthread 1"
			printf '%s\n' "listen s" "    bind 127.0.0.1:$lport" \
			    "    server s 127.0.0.1:$up"
		} >"$work/haproxy.cfg"
		spawn "$work/haproxy.log" haproxy -db -f "$work/haproxy.cfg"
		tpid=$spawned
		wait_port "$lport" "$tpid" || die "haproxy did not start"
		;;
	esac
}

# A command line idle.py runs with sh -c: the heap in use, in bytes.
heapcmd() {
	command -v gdb >/dev/null || return 0
	echo "timeout 60 gdb -q -batch -p $1 -ex 'p mallinfo2().uordblks' 2>/dev/null | sed -n 's/^[\$]1 = //p'"
}

raw=$out/raw.tsv
printf 'round\tproto\ttarget\tn\trss_per_session\theap_per_session\n' >"$raw"
for ((round = 0; round < rounds; round++)); do
	for proto in "${protos[@]}"; do
		n=$n_idle
		[ "$proto" = postgres ] && n=$n_pg
		k=${#targets[@]}
		for ((i = 0; i < k; i++)); do
			t=${targets[$(((i + round) % k))]}
			start_target "$t" "$proto"
			say "round $((round + 1)): $proto through $t, $n idle sessions"
			read -r _ _ _ rss heap < <(IDLE_PROTO=$([ "$proto" = postgres ] && echo postgres) \
			    IDLE_SETTLE=2 timeout 600 python3 "$top/tests/bench/idle.py" \
			    "$lport" "$n" "$tpid" "$(heapcmd "$tpid")" 2>"$logs/idle-$t-$proto-$round.log")
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$proto" "$t" "$n" \
			    "${rss:-NA}" "${heap:-NA}" >>"$raw"
			kill "$tpid" 2>/dev/null
			wait "$tpid" 2>/dev/null
		done
	done
done

# The table: median RSS and heap per cell, and postern/HAProxy paired.
awk -F'\t' -v targets="${targets[*]}" '
function med(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	if (n == 0) return "NA"
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : int((a[n / 2] + a[n / 2 + 1]) / 2)
}
NR > 1 {
	if (!($2 in seen)) { seen[$2] = 1; order[++np] = $2; n[$2] = $4 }
	if ($5 != "NA") rss[$2, $3] = rss[$2, $3] " " $5
	if ($6 != "NA") heap[$2, $3] = heap[$2, $3] " " $6
	if ($3 == "postern") p[$2, $1] = $5
	if ($3 == "haproxy") h[$2, $1] = $5
	rounds[$1] = 1
}
END {
	nt = split(targets, tt, " ")
	printf "%-9s %6s", "protocol", "N"
	for (i = 1; i <= nt; i++) printf " %14s %10s", tt[i] " RSS", "heap"
	printf " %11s\n", "pt/haproxy"
	for (k = 1; k <= np; k++) {
		pr = order[k]
		printf "%-9s %6s", pr, n[pr]
		for (i = 1; i <= nt; i++)
			printf " %14s %10s", med(rss[pr, tt[i]]), med(heap[pr, tt[i]])
		r = ""
		for (x in rounds)
			if (p[pr, x] != "" && h[pr, x] > 0 && p[pr, x] != "NA")
				r = r " " sprintf("%.2f", p[pr, x] / h[pr, x])
		printf " %11s\n", med(r)
	}
}' "$raw" | tee "$out/table.txt"
printf '(bytes per idle session over tcp://, medians of %s round(s); pt/haproxy: RSS, paired per round)\n' "$rounds"
printf 'haproxy: %s; postern: %s\n' "$(haproxy -v 2>&1 | head -n 1)" "$POSTERN"
[ -z "${POSTERN_BASE:-}" ] || printf 'base: %s\n' "$POSTERN_BASE"
say "results in $out"
