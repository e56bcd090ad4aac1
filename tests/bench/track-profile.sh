#!/usr/bin/env bash
# tests/bench/track-profile.sh: what share of postern's CPU goes to
# session tracking (resp_track, pg_track and the relay taps that feed
# them), from cpu-clock samples taken with perf while redis-benchmark and
# pgbench run through a protocol = redis and a protocol = postgres
# service.  A benchmark, not a test: it prints figures and judges none.
#
# A sample's share does not depend on how busy the shared machine is,
# unlike throughput, so it is the steadiest figure for the tracker's cost.
#
#   tests/bench/track-profile.sh [POSTERN...]   (default: _build/rel/postern)
#
# For each binary and workload it prints the share of postern's samples
# whose stack holds relay_peek_run (relay_tap_run compiles to a jump to
# it, so it is not on the stacks; everything the taps cost: evbuffer
# peeks, session taps, follow, the trackers), and the share in the
# trackers' own functions (resp_*, pg_track*, pg_frame*, pg_server*,
# pg_client*).  Stacks come from DWARF unwinding (an -O2 build keeps no
# frame pointers).  perf.data and the reports stay in the results dir.
#
# Settings: BENCH_N (GET -c50 requests, 200000), BENCH_N_P16 (GET -P16
# requests, 1000000), BENCH_PG_SECONDS (10), BENCH_FILTER (ERE on the
# workload names), BENCH_OUT, BENCH_KEEP, BENCH_NO_INSTALL, PERF_FREQ
# (samples a second, 2000).

tag=track-profile
# shellcheck source=tests/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n_c50=${BENCH_N:-200000}
n_p16=${BENCH_N_P16:-1000000}
pg_secs=${BENCH_PG_SECONDS:-10}
freq=${PERF_FREQ:-2000}

bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
	find_postern || die "${postern_note:-no postern}"
	bins=("$POSTERN")
fi
command -v perf >/dev/null || die "perf is missing"

bench_outdir postern-track-profile
ensure_tools redis-server:redis-server redis-benchmark:redis-tools \
	redis-cli:redis-tools pg ss:iproute2
bench_workdir postern-track-profile
bench_redis
pg_init -E UTF8
pg_start
pg_load 5
head -c 3 /dev/zero | tr '\0' x |
	redis-cli -h 127.0.0.1 -p "$redis_port" -x SET key:__rand_int__ >/dev/null

workloads=(
	"GET -c50|redis|-c 50 -n $n_c50 -t get"
	"GET -c50 -P16|redis|-c 50 -n $n_p16 -P 16 -t get"
	"pg -S -c8 -j2|pg|-S -c 8 -j 2 -T $pg_secs"
)

rp='' pp=''
start_one() {   # start_one BINARY NAME: sets ppid rp pp
	pick_port rp; pick_port pp
	bench_postern_conf "$work/$2.conf" "$rp" "$pp"
	bench_postern "$2" "$1" "$rp" "$pp"
}

# share REPORT: the percentages perf printed for the symbols that match ERE.
share() {
	awk -v re="$2" '$1 ~ /%$/ && $NF ~ re { sub(/%/, "", $1); s += $1 }
		END { printf "%.1f", s }' "$1"
}

printf '%-16s %-14s %8s %12s %14s\n' binary workload samples "taps+track%" "trackers-self%"
i=0
for bin in "${bins[@]}"; do
	i=$((i + 1))
	start_one "$bin" "postern$i" || die "$bin did not start"
	for w in "${workloads[@]}"; do
		IFS='|' read -r name kind args <<<"$w"
		[ -n "$filter" ] && ! grep -Eq -- "$filter" <<<"$name" && continue
		slug=$i-$(tr -c 'A-Za-z0-9\n' _ <<<"$name")
		data=$out/$slug.perf.data
		perf record -q -e cpu-clock -F "$freq" --call-graph dwarf,16384 \
			-p "$ppid" -o "$data" >"$logs/$slug.perf.log" 2>&1 &
		perfpid=$!
		sleep 1		# perf attaches before the load starts
		if [ "$kind" = redis ]; then
			# shellcheck disable=SC2086
			redis-benchmark -h 127.0.0.1 -p "$rp" $args -q >"$logs/$slug.client" 2>&1
		else
			# shellcheck disable=SC2086
			"$pgbin/pgbench" -n $args -h 127.0.0.1 -p "$pp" -U postgres \
				postgres >"$logs/$slug.client" 2>&1
		fi
		kill -INT "$perfpid"
		wait "$perfpid"
		perf report -i "$data" --children --sort sym --stdio -g none \
			>"$out/$slug.children.txt" 2>/dev/null
		perf report -i "$data" --no-children --sort sym --stdio -g none \
			>"$out/$slug.self.txt" 2>/dev/null
		samples=$(sed -n 's/^# Samples: \([0-9.]*[KM]\?\).*/\1/p' "$out/$slug.self.txt" | head -n 1)
		printf '%-16s %-14s %8s %12s %14s\n' "postern$i" "$name" "$samples" \
			"$(share "$out/$slug.children.txt" '^relay_peek_run$')" \
			"$(share "$out/$slug.self.txt" '^(resp_|pg_track|pg_frame|pg_server|pg_client)')"
	done
	kill "$ppid"
	wait "$ppid" 2>/dev/null
done
for i in $(seq ${#bins[@]}); do echo "postern$i = ${bins[$((i - 1))]}"; done
say "results: $out"
