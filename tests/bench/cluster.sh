#!/usr/bin/env bash
# Redis Cluster through postern (cluster = yes) against the same cluster
# direct, paired in one run: a 3-master/3-replica cluster on 127.0.0.1
# (redis-cli --cluster create), postern with one seed listener and
# cluster_ports for the nodes, route = direct.  Each round runs every
# workload on both targets, in alternating order, so that both see the
# same machine load.
#
# Rows, as requests/s, the ratio to direct, and postern's CPU
# microseconds per request (/proc utime+stime, all threads):
#   cluster SET -c50      redis-benchmark --cluster -t set: replies with no
#                         address (the framing skip only)
#   cluster GET -c50      the same, -t get
#   CLUSTER SLOTS -c10    redis-benchmark to the seed: every reply held and
#                         rewritten (the cost of rewriting)
#
# Figures only, no assertions: it exits non-zero only when the set-up
# fails.  Environment: POSTERN (default _build/rel/postern, built if
# missing), BENCH_QUICK=1, BENCH_ROUNDS (default 3, 1 when quick),
# BENCH_KEEP=1.

tag='cluster-bench'
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n_req=$(by_mode 20000 100000)
n_slots=$(by_mode 5000 20000)

bench_workdir postern-bench-cluster
find_postern || die "$postern_note"
command -v redis-benchmark > /dev/null || die "no redis-benchmark"

# Six nodes; a node's bus port is its port + 10000.
nodes=()
for i in 1 2 3 4 5 6; do
	# not p: pick_port's own local.  The bus port (+10000) falls in
	# the ephemeral range: no socket at all may hold it, not only a
	# listener (a busy machine's outgoing connections took it).
	for _ in $(seq 50); do
		pick_port np
		((np + 10000 <= 65535)) &&
		    ! ss -tanH "( sport = :$((np + 10000)) )" | grep -q . && break
	done
	p=$np
	mkdir -p "$work/n$p"
	spawn "$work/n$p.log" redis-server --port "$p" --bind 127.0.0.1 \
		--save '' --appendonly no --daemonize no --dir "$work/n$p" \
		--cluster-enabled yes --cluster-config-file nodes.conf \
		--cluster-node-timeout 5000
	wait_port "$p" "$spawned" || die "node $p did not start"
	nodes+=("$p")
done
say "cluster create on ${nodes[*]}"
mapfile -t addrs < <(printf '127.0.0.1:%s\n' "${nodes[@]}")
timeout 60 redis-cli --cluster create "${addrs[@]}" \
	--cluster-replicas 1 --cluster-yes > "$logs/create.log" 2>&1 ||
	die "redis-cli --cluster create failed (see $logs/create.log)"
for p in "${nodes[@]}"; do
	for _ in $(seq 300); do
		redis-cli -p "$p" CLUSTER INFO | grep -q '^cluster_state:ok' && break
		sleep 0.1
	done
	redis-cli -p "$p" CLUSTER INFO | grep -q '^cluster_state:ok' ||
		die "node $p: no cluster_state:ok in 30 s"
done

# postern: the seed on $seed, the nodes on 8 free ports in a row.
pick_port seed
for _ in $(seq 100); do
	pick_port first
	ok=1
	for k in 1 2 3 4 5 6 7; do
		((first + k < port_lo + port_n)) && ! port_up $((first + k)) &&
		    [[ "$used_ports" != *" $((first + k)) "* ]] || ok=0
	done
	[ $ok = 1 ] && break
done
[ $ok = 1 ] || die "no 8 free ports in a row"
last=$((first + 7))
cat > "$work/postern.conf" <<EOF
[postern]
log_level = warn

[service rc]
listen = 127.0.0.1:$seed
protocol = redis
cluster = yes
cluster_ports = $first-$last
route = direct tcp://127.0.0.1:${nodes[0]}
EOF
spawn "$logs/postern.log" "$POSTERN" -c "$work/postern.conf"
ppid=$spawned
wait_port "$seed" "$ppid" || die "postern did not start (see $logs/postern.log)"
for _ in $(seq 200); do
	n=0
	for ((p = first; p <= last; p++)); do port_up "$p" && n=$((n + 1)); done
	[ "$n" -ge 6 ] && break
	sleep 0.1
done
[ "$n" -ge 6 ] || die "postern opened $n node listeners, not 6"
say "postern $POSTERN: seed 127.0.0.1:$seed, nodes on $first-$last"

# run WORKLOAD PORT: requests/s of one redis-benchmark run.
run() {
	local o
	case $1 in
	set) o=$(redis-benchmark --cluster -h 127.0.0.1 -p "$2" -c 50 \
		-n "$n_req" -t set -q 2>&1) ;;
	get) o=$(redis-benchmark --cluster -h 127.0.0.1 -p "$2" -c 50 \
		-n "$n_req" -t get -q 2>&1) ;;
	slots) o=$(redis-benchmark -h 127.0.0.1 -p "$2" -c 10 \
		-n "$n_slots" -q CLUSTER SLOTS 2>&1) ;;
	esac
	echo "$o" >> "$logs/runs.log"
	o=$(tr '\r' '\n' <<< "$o" | grep -Eo '[0-9.]+ requests per second' | tail -n 1)
	echo "${o%% *}"
}

declare -A sum cpu
for w in set get slots; do
	sum[$w.direct]=0 sum[$w.postern]=0 cpu[$w]=0
done
for ((r = 1; r <= rounds; r++)); do
	for w in set get slots; do
		n=$n_req
		[ $w = slots ] && n=$n_slots
		order="direct postern"
		((r % 2 == 0)) && order="postern direct"
		for t in $order; do
			if [ $t = direct ]; then
				rps=$(run $w "${nodes[0]}")
			else
				t0=$(cpu_ticks "$ppid")
				rps=$(run $w "$seed")
				t1=$(cpu_ticks "$ppid")
				cpu[$w]=$(awk -v a="${cpu[$w]}" -v d=$((t1 - t0)) \
				    -v hz="$clk_tck" -v n="$n" \
				    'BEGIN { printf "%.3f", a + d / hz * 1e6 / n }')
			fi
			[ -n "$rps" ] || die "$w on $t: no figure (see $logs/runs.log)"
			say "round $r $w $t: $rps req/s"
			sum[$w.$t]=$(awk -v a="${sum[$w.$t]}" -v b="$rps" 'BEGIN { print a + b }')
		done
	done
done

printf '%-20s %12s %12s %8s %16s\n' workload direct postern ratio "postern us/req"
for w in set get slots; do
	case $w in
	set) name="cluster SET -c50" ;;
	get) name="cluster GET -c50" ;;
	slots) name="CLUSTER SLOTS -c10" ;;
	esac
	awk -v n="$name" -v d="${sum[$w.direct]}" -v p="${sum[$w.postern]}" \
	    -v c="${cpu[$w]}" -v r="$rounds" 'BEGIN {
		printf "%-20s %12.0f %12.0f %8.2f %16.2f\n", n, d / r, p / r,
		    (d > 0 ? p / d : 0), c / r }'
done
