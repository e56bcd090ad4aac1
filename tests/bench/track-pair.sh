#!/usr/bin/env bash
# tests/bench/track-pair.sh: two postern builds side by side, at the same
# time: each round runs one client through each (same workload, same
# redis-server or PostgreSQL, started together), so that whatever else
# the shared machine does falls on both alike, and compares their CPU per
# request (utime+stime from /proc, in clock ticks).  bench.sh runs its
# targets one after another, and on a loaded 2-core machine a round's CPU
# per request swings by 20-30 % with the load of the moment; run at once,
# the two builds see the same load.  A benchmark, not a test.
#
#   tests/bench/track-pair.sh NEW BASE
#
# BASE may be the word "haproxy": HAProxy in TCP mode with nbthread 1
# (bench.sh's "haproxy 1t") in place of a second postern, so that
# postern's CPU per request is paired against HAProxy's under the same
# load, which bench.sh's one-after-another rounds cannot do.
#
# Prints, per workload, NEW's CPU per request over BASE's in each round
# and their median (below 1: NEW is cheaper), with each one's median
# us/req.  Both processes and both clients share the 2 CPUs: absolute
# figures are higher than bench.sh's, the ratio is the point.  Settings:
# BENCH_ROUNDS (9), BENCH_N (GET -c 50 requests, 200000), BENCH_N_P16
# (2000000), BENCH_PG_SECONDS (10), BENCH_FILTER, BENCH_OUT, BENCH_KEEP,
# BENCH_NO_INSTALL, BENCH_NEW_PG (more lines for NEW's postgres service:
# "auth_file = FILE" turns PostgreSQL resume tracking on), BENCH_BASE_PLAIN
# (1: BASE's services are protocol = tcp, no tracking: NEW and BASE the
# same binary then measure what tracking costs).

tag=track-pair
# shellcheck source=tests/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ $# -ne 2 ] || [ ! -x "$1" ] || { [ "$2" != haproxy ] && [ ! -x "$2" ]; }; then
	die "usage: $0 NEW BASE (two postern binaries, or BASE = haproxy)"
fi
rounds=${BENCH_ROUNDS:-9}
n_c50=${BENCH_N:-200000}
n_p16=${BENCH_N_P16:-2000000}
pg_secs=${BENCH_PG_SECONDS:-10}

bench_outdir postern-track-pair
ensure_tools redis-server:redis-server redis-benchmark:redis-tools \
	redis-cli:redis-tools pg ss:iproute2
bench_workdir postern-track-pair
bench_redis
pg_init -E UTF8
pg_start
pg_load 5
head -c 3 /dev/zero | tr '\0' x |
	redis-cli -h 127.0.0.1 -p "$redis_port" -x SET key:__rand_int__ >/dev/null

declare -A rp pp pid
start_one() {   # start_one NAME BINARY [PG_EXTRA]
	local one_r one_p	# not pick_port's own locals (p)
	pick_port one_r; pick_port one_p
	bench_postern_conf "$work/$1.conf" "$one_r" "$one_p" "${3:-}"
	# BENCH_BASE_PLAIN=1: BASE's services relay without a tracker
	if [ "$1" = base ] && [ "${BENCH_BASE_PLAIN:-0}" = 1 ]; then
		sed -i 's/^protocol = .*/protocol = tcp/' "$work/$1.conf"
	fi
	bench_postern "$1" "$2" "$one_r" "$one_p" ||
		die "$2 did not start: $(tail -n 3 "$work/$1.log")"
	pid[$1]=$ppid rp[$1]=$one_r pp[$1]=$one_p
}
start_haproxy() {   # start_haproxy NAME: HAProxy 1t on the same backends
	local one_r one_p cfg=$work/$1.cfg
	pick_port one_r; pick_port one_p
	{
		haproxy_head "nbthread 1"
		printf '%s\n' "listen redis" "    bind 127.0.0.1:$one_r" \
			"    server redis 127.0.0.1:$redis_port" "listen pg" \
			"    bind 127.0.0.1:$one_p" "    server pg 127.0.0.1:$pg_port"
	} >"$cfg"
	spawn "$work/$1.log" haproxy -f "$cfg" -db
	wait_port "$one_r" "$spawned" && wait_port "$one_p" "$spawned" ||
		die "haproxy did not start: $(tail -n 3 "$work/$1.log")"
	pid[$1]=$spawned rp[$1]=$one_r pp[$1]=$one_p
}
start_one new "$1" "${BENCH_NEW_PG:-}"
if [ "$2" = haproxy ]; then
	ensure_tools haproxy:haproxy
	start_haproxy base
else
	start_one base "$2"
fi
say "new $1 (pid ${pid[new]}), base $2 (pid ${pid[base]})"

workloads=(
	"GET -c50|redis|-c 50 -n $n_c50 -t get"
	"GET -c50 -P16|redis|-c 50 -n $n_p16 -P 16 -t get"
	"GET -c500|redis|-c 500 -n $n_c50 -t get"
	"pg -S -c8 -j2|pg|-S -c 8 -j 2 -T $pg_secs"
	"pg -S -M prepared -c8|pg|-S -M prepared -c 8 -j 2 -T $pg_secs"
)

client() {   # client NAME KIND ARGS LOG: one run through NAME's postern
	if [ "$2" = redis ]; then
		# shellcheck disable=SC2086
		redis-benchmark -h 127.0.0.1 -p "${rp[$1]}" $3 -q >"$4" 2>&1
	else
		# shellcheck disable=SC2086
		"$pgbin/pgbench" -n $3 -h 127.0.0.1 -p "${pp[$1]}" -U postgres \
			postgres >"$4" 2>&1
	fi
}

requests() {   # requests KIND ARGS LOG: how many the run made
	if [ "$1" = redis ]; then
		sed -n 's/.*-n \([0-9]*\).*/\1/p' <<<"$2"
	else
		sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$3"
	fi
}

printf '%-16s %6s %10s %10s   %s\n' workload median "new us/req" "base us/req" "new/base per round"
for w in "${workloads[@]}"; do
	IFS='|' read -r name kind args <<<"$w"
	[ -n "$filter" ] && ! grep -Eq -- "$filter" <<<"$name" && continue
	ratios="" nus="" bus=""
	for r in $(seq "$rounds"); do
		n0=$(cpu_ticks "${pid[new]}"); b0=$(cpu_ticks "${pid[base]}")
		client new "$kind" "$args" "$logs/$r-new.client" & cn=$!
		client base "$kind" "$args" "$logs/$r-base.client" & cb=$!
		wait "$cn" "$cb"
		n1=$(cpu_ticks "${pid[new]}"); b1=$(cpu_ticks "${pid[base]}")
		qn=$(requests "$kind" "$args" "$logs/$r-new.client")
		qb=$(requests "$kind" "$args" "$logs/$r-base.client")
		read -r nu bu ra < <(awk -v n=$((n1 - n0)) -v b=$((b1 - b0)) -v qn="$qn" \
			-v qb="$qb" -v hz="$clk_tck" 'BEGIN {
			if (qn > 0 && qb > 0 && n > 0 && b > 0)
				printf "%.3f %.3f %.3f\n", n * 1e6 / hz / qn, b * 1e6 / hz / qb, (n / qn) / (b / qb)
			else print "NA NA NA" }')
		ratios="$ratios $ra" nus="$nus $nu" bus="$bus $bu"
	done
	printf '%-16s %6s %10s %10s  %s\n' "$name" "$(echo "$ratios" | median NA)" \
		"$(echo "$nus" | median NA)" "$(echo "$bus" | median NA)" "$ratios"
done
say "results: $out"
