#!/bin/bash
# tests/bench/busy.sh: memory per busy session, postern against HAProxy
# (issue 27, item 3).
#
# Two workloads, each on a fresh proxy process (so that what the
# allocator kept from the one before does not hide the growth), for each
# target in the same run, the targets' order rotated each round:
#
#   blpop  N sessions (2000) over tcp:// to a plain redis-server, each
#          answered a PING and then sent BLPOP on a key nobody pushes: a
#          request in flight that the server holds, as a pool's workers
#          waiting on a queue are.  VmRSS growth per session, read
#          BUSY_SETTLE (2) seconds after the last BLPOP went out.
#   tls    M sessions (200) through a tls:// route to a TLS-only
#          redis-server, all at once, each SETs its own 1 MB value and
#          GETs it back 3 times (BENCH_BUSY_GETS): VmRSS growth per session, median and peak
#          of samples every 50 ms while they move, and the proxy's CPU ms
#          per GB moved (both directions' bytes at the client).
#
# Targets: postern (protocol redis, tracking on; POSTERN), HAProxy 2.6 (1
# thread, mode tcp; ssl verify required toward the TLS server), and any
# extra postern binaries as BUSY_BINS="label=/path label=/path" (e.g.
# builds with another TLS read-ahead, -DTLS_LINK_RBUF_RECORDS=N: see
# README.md, "Busy sessions").  Figures only, nothing judged.
#
#	tests/bench/busy.sh
#	BENCH_QUICK=1 tests/bench/busy.sh	# 200 blpop, 50 tls, 1 round
#
# Settings: BENCH_BUSY (2000, quick 200), BENCH_BUSY_TLS (200, quick 50),
# BENCH_BUSY_GETS (3),
# BENCH_ROUNDS (3, quick 1), BENCH_FILTER (ERE on "blpop", "tls"),
# BUSY_BINS, POSTERN, BENCH_OUT, BENCH_KEEP; see lib.sh.
tag=bench-busy
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_outdir postern-bench-busy
bench_workdir postern-bench-busy
ensure_tools redis-server haproxy
find_postern || die "$postern_note"

n_blpop=${BENCH_BUSY:-$(by_mode 200 2000)}
n_tls=${BENCH_BUSY_TLS:-$(by_mode 50 200)}
big_rounds=${BENCH_BUSY_GETS:-3}
big_size=1000000

cd "$work" || die "cd"
fixture_pki "$work" >pki.log 2>&1 || die "openssl failed: $(tail -n 3 pki.log)"
bench_redis --maxclients $((n_blpop + 100))
plain_port=$redis_port
bench_redis tls "$work/server.crt" "$work/server.key" "$work/ca.crt" \
    --maxclients $((n_tls + 100))
tls_port=$redis_port

declare -A bin
targets=(postern)
bin[postern]=$POSTERN
for b in ${BUSY_BINS:-}; do
	[ -x "${b#*=}" ] || die "BUSY_BINS: ${b#*=} is not executable"
	targets+=("${b%%=*}")
	bin[${b%%=*}]=${b#*=}
done
targets+=(haproxy)
loads=()
for l in blpop tls; do
	[ -z "$filter" ] || grep -Eq -- "$filter" <<<"$l" && loads+=("$l")
done

# start_target TARGET LOAD: a fresh proxy for LOAD on port $lport; sets
# tpid.
start_target() {
	local t=$1 load=$2
	pick_port lport
	case $t in
	haproxy)
		{
			haproxy_head "nbthread 1"
			printf '%s\n' "listen s" "    bind 127.0.0.1:$lport"
			if [ "$load" = tls ]; then
				echo "    server s 127.0.0.1:$tls_port ssl verify required ca-file $work/ca.crt verifyhost redis.example.test sni str(redis.example.test)"
			else
				echo "    server s 127.0.0.1:$plain_port"
			fi
		} >"$work/haproxy.cfg"
		spawn "$work/haproxy.log" haproxy -db -f "$work/haproxy.cfg"
		tpid=$spawned
		wait_port "$lport" "$tpid" || die "haproxy did not start"
		;;
	*)
		{
			printf '[postern]\nlog_level = warn\n\n[service s]\nlisten = 127.0.0.1:%s\nprotocol = redis\ncheck = none\n' "$lport"
			if [ "$load" = tls ]; then
				echo "route = public tls://127.0.0.1:$tls_port ca=$work/ca.crt name=redis.example.test"
			else
				echo "route = direct tcp://127.0.0.1:$plain_port"
			fi
		} >"$work/$t.conf"
		bench_postern "$t" "${bin[$t]}" "$lport" || die "$t did not start"
		tpid=$ppid
		;;
	esac
}

raw=$out/raw.tsv
printf 'round\tload\ttarget\tn\trss_per_session\tpeak_per_session\tcpu_ms_per_gb\tsecs\n' >"$raw"
for ((round = 0; round < rounds; round++)); do
	for load in "${loads[@]}"; do
		k=${#targets[@]}
		for ((i = 0; i < k; i++)); do
			t=${targets[$(((i + round) % k))]}
			start_target "$t" "$load"
			if [ "$load" = blpop ]; then
				n=$n_blpop
				say "round $((round + 1)): $n BLPOP sessions through $t"
				read -r _ _ _ rss < <(timeout 600 /usr/bin/python3 "$top/tests/bench/busy.py" \
				    blpop "$lport" "$n" "$tpid" 2>"$logs/busy-$t-$load-$round.log")
				peak=$rss cpu=NA secs=NA
			else
				n=$n_tls
				say "round $((round + 1)): $n TLS sessions moving 1 MB values through $t"
				read -r _ _ rss peak cpu secs < <(timeout 900 /usr/bin/python3 "$top/tests/bench/busy.py" \
				    big "$lport" "$n" "$tpid" "$big_rounds" "$big_size" \
				    2>"$logs/busy-$t-$load-$round.log")
			fi
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$load" "$t" "$n" \
			    "${rss:-NA}" "${peak:-NA}" "${cpu:-NA}" "${secs:-NA}" >>"$raw"
			kill "$tpid" 2>/dev/null
			wait "$tpid" 2>/dev/null
		done
	done
done

# The table: medians per cell, and postern/HAProxy paired per round.
awk -F'\t' -v targets="${targets[*]}" '
function med(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	if (n == 0) return "NA"
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : int((a[n / 2] + a[n / 2 + 1]) / 2)
}
NR > 1 {
	if (!($2 in seen)) { seen[$2] = 1; order[++nl] = $2; n[$2] = $4 }
	if ($5 != "NA") rss[$2, $3] = rss[$2, $3] " " $5
	if ($6 != "NA") peak[$2, $3] = peak[$2, $3] " " $6
	if ($7 != "NA") cpu[$2, $3] = cpu[$2, $3] " " $7
	if ($3 == "postern") p[$2, $1] = $5
	if ($3 == "haproxy") h[$2, $1] = $5
	rounds[$1] = 1
}
END {
	nt = split(targets, tt, " ")
	printf "%-6s %5s %-9s %10s %10s %10s\n", "load", "N", "target", "RSS", "peak", "CPU ms/GB"
	for (k = 1; k <= nl; k++) {
		ld = order[k]
		for (i = 1; i <= nt; i++)
			printf "%-6s %5s %-9s %10s %10s %10s\n", ld, n[ld], tt[i],
			    med(rss[ld, tt[i]]), med(peak[ld, tt[i]]), med(cpu[ld, tt[i]])
		r = ""
		for (x in rounds)
			if (p[ld, x] != "" && h[ld, x] > 0 && p[ld, x] != "NA")
				r = r " " sprintf("%.2f", p[ld, x] / h[ld, x])
		printf "%-6s %5s %-9s %10s\n", ld, n[ld], "pt/hap", med(r)
	}
}' "$raw" | tee "$out/table.txt"
printf '(bytes per busy session: RSS growth, medians of %s round(s); blpop over tcp://, tls over tls:// with 1 MB values; pt/hap: RSS, paired per round)\n' "$rounds"
printf 'haproxy: %s; postern: %s\n' "$(haproxy -v 2>&1 | head -n 1)" "$POSTERN"
for t in "${targets[@]}"; do
	[ "$t" = postern ] || [ "$t" = haproxy ] || printf '%s: %s\n' "$t" "${bin[$t]}"
done
say "results in $out"
