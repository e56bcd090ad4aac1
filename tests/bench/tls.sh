#!/usr/bin/env bash
# tls:// routes against stunnel (client mode) and HAProxy (ssl verify
# required): clients speak plaintext to a local proxy, the proxy speaks
# verified TLS to a TLS-only redis-server and a TLS-only PostgreSQL.
#
# Figures only, no assertions: it exits non-zero only when the set-up fails.
# Everything listens on 127.0.0.1; the script makes its own CA with the
# openssl CLI (tests/fixtures.sh) and kills what it started by PID on exit.
#
# Rows, each as ops/s and as a ratio to "direct" (the client speaking TLS
# to the server itself: redis-benchmark --tls, pgbench sslmode=require):
#   redis GET -c50        kept connections: the cost of the TLS relay
#   redis GET -c50 -k0    a new connection per request: handshakes/s
#   pg -S -c8             pgbench select-only, kept connections
#   pg -S -C -c8          a new connection per transaction: handshakes/s
#   redis SET/GET 1MB -c4 1 MB values, 4 connections: bulk encryption
#                         (SET: the proxy encrypts) and decryption (GET),
#                         printed as GB/s and as CPU ms per GB
# plus each proxy's CPU microseconds per operation (/proc, all threads).
#
# After the rounds, memory per idle TLS session: every proxy is restarted
# (a fresh process, so that what the allocator kept from the runs above
# does not hide or inflate the growth), then N sessions that each
# answered a PING are held open and the growth of its VmRSS is printed
# (idle.py), one proxy at a time; for postern also the growth of the heap
# in use (glibc malloc_info through gdb, when gdb is installed).
#
# PostgreSQL: postern sends the SSLRequest itself, so clients keep their
# default sslmode.  stunnel's "protocol = pgsql" needs clients to use
# sslmode=disable (its own SSLRequest; a client's would arrive inside
# TLS), which this script sets for its rows.  HAProxy cannot speak the
# SSLRequest: no PostgreSQL row for it.
#
# Environment: POSTERN (default _build/rel/postern, built if missing),
# POSTERN_BASE (a second postern binary, e.g. the main branch's, measured
# in the same rounds as target "base": before/after figures, paired),
# BENCH_QUICK=1 (short runs), BENCH_ROUNDS (default 3, 1 when quick),
# BENCH_FILTER (ERE on the workload names redis-get, redis-conn, pg-S,
# pg-C, big-set, big-get and idle), BENCH_IDLE (idle sessions, 200 quick,
# 1000 full), BENCH_NO_INSTALL=1, BENCH_KEEP=1 (keep the work dir).

tag='tls-bench'
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n_get=$(by_mode 20000 100000)
n_conn=$(by_mode 2000 10000)
n_big=$(by_mode 200 400)
big_size=1000000
pg_secs=$(by_mode 3 10)

bench_workdir postern-tls-bench
ensure_tools 'stunnel4|stunnel:stunnel4' haproxy:haproxy redis-server:redis-server \
	redis-benchmark:redis-tools pg
STUNNEL=$(command -v stunnel4 || command -v stunnel)
find_postern || die "$postern_note"

# ------------------------------------------------------------ PKI
# tests/fixtures.sh's CA in $work: ca.crt, server.crt/.key for
# db.example.test, redis.example.test and 127.0.0.1.
cd "$work" || die "cd"
fixture_pki "$work" >pki.log 2>&1 || die "openssl failed: $(tail -n 3 pki.log)"

# --------------------------------------------------------- servers
bench_redis tls "$work/server.crt" "$work/server.key" "$work/ca.crt"

say "PostgreSQL: initdb, ssl = on, hostssl only"
mkdir -p pg && cp server.crt server.key pg/ && chmod 600 pg/server.key
pg_init
printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n' >"$work/pg/data/pg_hba.conf"
pg_start -c ssl=on -c "ssl_cert_file=$work/pg/server.crt" -c "ssl_key_file=$work/pg/server.key"
PGSSLROOTCERT=$work/ca.crt pg_load 5 sslmode=verify-full

# ---------------------------------------------------------- proxies
declare -A rp pp pid

# start_target T: (re)start proxy T from its config file, on its ports
# (rp/pp); sets pid[T].  The idle-memory rows restart every proxy, so
# each config is written once and read again.
start_target() {
	local t=$1
	case $t in
	postern) bench_postern postern "$POSTERN" "${rp[$t]}" "${pp[$t]}" ||
			die "postern did not start: $(tail -n 3 "$work/postern.log" 2>/dev/null)" ;;
	base)    bench_postern base "$POSTERN_BASE" "${rp[$t]}" "${pp[$t]}" ||
			die "base did not start: $(tail -n 3 "$work/base.log" 2>/dev/null)" ;;
	stunnel) spawn stunnel.err "$STUNNEL" stunnel.conf ;;
	haproxy) spawn haproxy.log haproxy -f haproxy.cfg -db ;;
	esac
	pid[$t]=$spawned
	wait_port "${rp[$t]}" "${pid[$t]}" &&
		{ [ -z "${pp[$t]}" ] || wait_port "${pp[$t]}" "${pid[$t]}"; } ||
		die "$t did not start: $(tail -n 3 "$work/$t.log" 2>/dev/null)"
}

# stop_target T: SIGTERM, then wait (10 s at most) until it is gone and
# its redis listener is closed, so that a restart can bind it.
stop_target() {
	local t=$1
	kill -TERM "${pid[$t]}" 2>/dev/null
	for _ in $(seq 100); do
		alive "${pid[$t]}" || port_up "${rp[$t]}" || break
		sleep 0.1
	done
	return 0
}
targets=(direct postern stunnel haproxy)
rp[direct]=$redis_port; pp[direct]=$pg_port; pid[direct]=

pick_port a; pick_port b
cat >postern.conf <<EOF
[postern]
log_level = warn
[service redis]
listen = 127.0.0.1:$a
protocol = redis
route = public tls://127.0.0.1:$redis_port ca=$work/ca.crt name=redis.example.test
check = none
[service pg]
listen = 127.0.0.1:$b
protocol = postgres
route = public tls://127.0.0.1:$pg_port ca=$work/ca.crt name=db.example.test
check = none
EOF
rp[postern]=$a; pp[postern]=$b
start_target postern

if [ -n "${POSTERN_BASE:-}" ]; then
	pick_port c; pick_port d
	sed -e "s/127.0.0.1:$a\$/127.0.0.1:$c/" -e "s/127.0.0.1:$b\$/127.0.0.1:$d/" \
	    postern.conf >base.conf
	rp[base]=$c; pp[base]=$d
	start_target base
	targets+=(base)
fi

pick_port a; pick_port b
cat >stunnel.conf <<EOF
foreground = yes
pid =
debug = 3
output = $work/stunnel.log
[redis]
client = yes
accept = 127.0.0.1:$a
connect = 127.0.0.1:$redis_port
verifyChain = yes
CAfile = $work/ca.crt
checkHost = redis.example.test
sni = redis.example.test
[pg]
client = yes
accept = 127.0.0.1:$b
connect = 127.0.0.1:$pg_port
protocol = pgsql
verifyChain = yes
CAfile = $work/ca.crt
checkHost = db.example.test
EOF
rp[stunnel]=$a; pp[stunnel]=$b
start_target stunnel

pick_port a
{
	haproxy_head "nbthread 1"
	cat <<EOF
listen redis
    bind 127.0.0.1:$a
    server redis 127.0.0.1:$redis_port ssl verify required ca-file $work/ca.crt verifyhost redis.example.test sni str(redis.example.test)
EOF
} >haproxy.cfg
rp[haproxy]=$a; pp[haproxy]=
start_target haproxy

# Every path works before anything is measured.
for t in "${targets[@]}"; do
	if [ "$t" = direct ]; then
		r=$(timeout 10 redis-cli --tls --cacert ca.crt -h 127.0.0.1 -p "$redis_port" PING 2>&1)
	else
		r=$(timeout 10 redis-cli -h 127.0.0.1 -p "${rp[$t]}" PING 2>&1)
	fi
	[ "$r" = PONG ] || die "redis through $t: $r"
done

# ------------------------------------------------------------ runs
# run TARGET WORKLOAD -> "ops/s cpu_ticks"
run() {
	local t=$1 w=$2 c0 c1 out ops tls=() conn
	c0=$([ -n "${pid[$t]}" ] && cpu_ticks "${pid[$t]}" 0 || echo 0)
	[ "$t" = direct ] && tls=(--tls --cacert "$work/ca.crt")
	case $w in
	redis-get|redis-conn)
		if [ "$w" = redis-get ]; then
			out=$(timeout 300 redis-benchmark "${tls[@]}" -h 127.0.0.1 -p "${rp[$t]}" \
			    -c 50 -n "$n_get" -t get --csv -q 2>&1)
		else
			out=$(timeout 300 redis-benchmark "${tls[@]}" -h 127.0.0.1 -p "${rp[$t]}" \
			    -c 50 -n "$n_conn" -k 0 -t get --csv -q 2>&1)
		fi
		# -k 0 prints a warning first; the figure is on the "GET" line.
		ops=$(awk -F'","' '/^"GET"/ { gsub(/"/, "", $2); print $2; exit }' <<<"$out")
		;;
	big-set|big-get)
		local cmd=set
		[ "$w" = big-get ] && cmd="get"
		out=$(timeout 300 redis-benchmark "${tls[@]}" -h 127.0.0.1 -p "${rp[$t]}" \
		    -c 4 -n "$n_big" -d "$big_size" -t "$cmd" --csv -q 2>&1)
		ops=$(awk -F'","' '/^"(SET|GET)"/ { gsub(/"/, "", $2); print $2; exit }' <<<"$out")
		;;
	pg-S|pg-C)
		[ -z "${pp[$t]}" ] && { echo "NA 0"; return; }
		case $t in
		direct)  conn="host=127.0.0.1 port=${pp[$t]} sslmode=require" ;;
		stunnel) conn="host=127.0.0.1 port=${pp[$t]} sslmode=disable" ;;
		*)       conn="host=127.0.0.1 port=${pp[$t]}" ;;
		esac
		local args=(-n -S -c 8 -j 2 -T "$pg_secs")
		[ "$w" = pg-C ] && args+=(-C)
		out=$(timeout $((pg_secs * 3 + 60)) "$pgbin/pgbench" "${args[@]}" \
		    "$conn user=postgres dbname=postgres" 2>&1)
		ops=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n 1)
		;;
	esac
	c1=$([ -n "${pid[$t]}" ] && cpu_ticks "${pid[$t]}" 0 || echo 0)
	[ -n "$ops" ] || { say "$t $w produced no figure: $(tail -n 2 <<<"$out" | tr '\n' ' ')"; ops=NA; }
	echo "$ops $((c1 - c0))"
}

# seed SIZE: key:__rand_int__ (redis-benchmark's key) holds SIZE bytes,
# so that a GET workload reads values of that size.
seed() {
	head -c "$1" /dev/zero | tr '\0' x |
		timeout 30 redis-cli --tls --cacert "$work/ca.crt" -h 127.0.0.1 -p "$redis_port" \
		    -x SET key:__rand_int__ >/dev/null || say "could not seed a $1-byte value"
}

all_workloads=(redis-get redis-conn pg-S pg-C big-set big-get)
workloads=()
for w in "${all_workloads[@]}"; do
	[ -z "$filter" ] || grep -Eq -- "$filter" <<<"$w" && workloads+=("$w")
done
declare -A label=([redis-get]="redis GET -c50" [redis-conn]="redis GET -c50 -k0 (conn/s)"
	[pg-S]="pg -S -c8" [pg-C]="pg -S -C -c8 (conn/s)"
	[big-set]="redis SET 1MB -c4" [big-get]="redis GET 1MB -c4")
declare -A res cpu
for w in "${workloads[@]}"; do
	case $w in redis-get|redis-conn) seed 3 ;; big-get) seed "$big_size" ;; esac
	for ((r = 0; r < rounds; r++)); do
		# Rotate the order each round so drift falls on everyone alike.
		for ((i = 0; i < ${#targets[@]}; i++)); do
			t=${targets[$(((i + r) % ${#targets[@]}))]}
			read -r ops ticks < <(run "$t" "$w")
			say "$w $t round $((r + 1)): $ops ops/s"
			res[$w/$t]="${res[$w/$t]:-} $ops"
			cpu[$w/$t]="${cpu[$w/$t]:-} $ticks"
		done
	done
done

# Ratios are taken round by round (paired, lib.sh), then the median: a
# round the shared machine slowed down hits every target alike.
printf '\n# %s, %s CPUs, %s\n' "$(date -u +%F)" "$(nproc)" "$(uname -r)"
printf '%-28s %-8s %12s %9s %12s %10s %10s\n' workload target "ops/s" "vs direct" "cpu us/op" \
	"pt/haproxy" "pt/stunnel"
for w in "${workloads[@]}"; do
	d=$(median NA <<<"${res[$w/direct]}")
	for t in "${targets[@]}"; do
		m=$(median NA <<<"${res[$w/$t]}")
		if [ "$m" = NA ]; then
			printf '%-28s %-8s %12s %9s %12s\n' "${label[$w]}" "$t" n/a "" ""
			continue
		fi
		ratio=$(two_dec "$(paired "${res[$w/$t]}" "${res[$w/direct]}")")
		vs_h='' vs_s=''
		if [ "$t" = postern ] || [ "$t" = base ]; then
			vs_h=$(two_dec "$(paired "${res[$w/$t]}" "${res[$w/haproxy]:-}")")
			vs_s=$(two_dec "$(paired "${res[$w/$t]}" "${res[$w/stunnel]:-}")")
		fi
		us=NA
		if [ -n "${pid[$t]}" ]; then
			tk=$(median NA <<<"${cpu[$w/$t]}")
			case $w in pg-*) n=$(awk -v a="$m" -v s="$pg_secs" 'BEGIN { print a * s }') ;;
			redis-get) n=$n_get ;; big-*) n=$n_big ;; *) n=$n_conn ;; esac
			us=$(awk -v t="$tk" -v c="$clk_tck" -v n="$n" 'BEGIN { if (n > 0) printf "%.1f", t / c * 1e6 / n; else print "NA" }')
		fi
		printf '%-28s %-8s %12.0f %9s %12s %10s %10s\n' "${label[$w]}" "$t" "$m" "$ratio" "$us" \
			"$vs_h" "$vs_s"
	done
done
# 1 MB values: the same runs as GB/s and CPU per GB.
big_rows=
for w in "${workloads[@]}"; do case $w in big-*) big_rows+=" $w" ;; esac; done
if [ -n "$big_rows" ]; then
	printf '\n%-28s %-8s %8s %12s %10s %10s\n' workload target "GB/s" "cpu ms/GB" \
		"pt/haproxy" "pt/stunnel"
	for w in $big_rows; do
		for t in "${targets[@]}"; do
			m=$(median NA <<<"${res[$w/$t]}")
			[ "$m" = NA ] && continue
			gbs=$(awk -v o="$m" -v s="$big_size" 'BEGIN { printf "%.2f", o * s / 1e9 }')
			ms=NA vs_h='' vs_s=''
			if [ -n "${pid[$t]}" ]; then
				tk=$(median NA <<<"${cpu[$w/$t]}")
				ms=$(awk -v t="$tk" -v c="$clk_tck" -v n="$n_big" -v s="$big_size" \
				    'BEGIN { printf "%.0f", t / c * 1e3 / (n * s / 1e9) }')
			fi
			if [ "$t" = postern ] || [ "$t" = base ]; then
				vs_h=$(two_dec "$(paired "${res[$w/$t]}" "${res[$w/haproxy]:-}")")
				vs_s=$(two_dec "$(paired "${res[$w/$t]}" "${res[$w/stunnel]:-}")")
			fi
			printf '%-28s %-8s %8s %12s %10s %10s\n' "${label[$w]}" "$t" "$gbs" "$ms" "$vs_h" "$vs_s"
		done
	done
	printf '(%s values of %s bytes per run; cpu = the proxy process, all threads)\n' "$n_big" "$big_size"
fi

# Memory per idle session: each proxy is restarted first, so that the
# figure is a fresh process's (an allocator that served the runs above
# holds free memory that new sessions take without growing VmRSS), then
# VmRSS growth while N sessions that each answered one PING are held
# open (idle.py), one proxy at a time, read 3 s after the last PING (a
# postern TLS link frees its record buffers after 1-2 idle seconds).
# With gdb, also the growth of the heap in use (glibc malloc_stats,
# printed on the proxy's stderr).
if [ -z "$filter" ] || grep -Eq -- "$filter" <<<"idle"; then
	n_idle=${BENCH_IDLE:-$(by_mode 200 1000)}
	printf '\n%-10s %22s %22s\n' target "RSS bytes/idle session" "heap bytes/session"
	for t in postern base haproxy stunnel; do
		[ -n "${pid[$t]:-}" ] || continue
		stop_target "$t"
		start_target "$t"
		heapcmd='' errlog=$work/$t.log
		[ "$t" = stunnel ] && errlog=$work/stunnel.err
		if command -v gdb >/dev/null; then
			# A command line idle.py runs with sh -c, quotes and all.
			# shellcheck disable=SC2089
			heapcmd="timeout 60 gdb -p ${pid[$t]} -batch -ex 'call (void)malloc_stats()' >/dev/null 2>&1;
			    awk '/in use bytes/ { v = \$NF } END { print v }' '$errlog'"
		fi
		# shellcheck disable=SC2090 # one argument, for sh -c
		read -r _ _ _ idle heap < <(IDLE_SETTLE=3 timeout 300 python3 "$top/tests/bench/idle.py" "${rp[$t]}" \
		    "$n_idle" "${pid[$t]}" ${heapcmd:+"$heapcmd"} 2>/dev/null)
		printf '%-10s %22s %22s\n' "$t" "${idle:-NA}" "${heap:-NA}"
	done
	printf '(%s idle redis sessions over TLS, each answered a PING; each proxy a fresh process)\n' "$n_idle"
fi

printf '\nstunnel: %s; haproxy: %s; postern: %s\n' \
	"$("$STUNNEL" -version 2>&1 | grep -m 1 -o 'stunnel [0-9.]*')" \
	"$(haproxy -v 2>&1 | head -n 1)" "$POSTERN"
[ -z "${POSTERN_BASE:-}" ] || printf 'base: %s\n' "$POSTERN_BASE"
