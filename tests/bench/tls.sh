#!/usr/bin/env bash
# tls:// routes against stunnel (client mode) and HAProxy (ssl verify
# required): clients speak plaintext to a local proxy, the proxy speaks
# verified TLS to a TLS-only redis-server and a TLS-only PostgreSQL.
#
# Figures only, no assertions: it exits non-zero only when the set-up fails.
# Everything listens on 127.0.0.1; the script makes its own CA with the
# openssl CLI and kills what it started by PID on exit.
#
# Rows, each as ops/s and as a ratio to "direct" (the client speaking TLS
# to the server itself: redis-benchmark --tls, pgbench sslmode=require):
#   redis GET -c50        kept connections: the cost of the TLS relay
#   redis GET -c50 -k0    a new connection per request: handshakes/s
#   pg -S -c8             pgbench select-only, kept connections
#   pg -S -C -c8          a new connection per transaction: handshakes/s
# plus each proxy's CPU microseconds per operation (/proc, all threads).
#
# PostgreSQL: postern sends the SSLRequest itself, so clients keep their
# default sslmode.  stunnel's "protocol = pgsql" needs clients to use
# sslmode=disable (its own SSLRequest; a client's would arrive inside
# TLS), which this script sets for its rows.  HAProxy cannot speak the
# SSLRequest: no PostgreSQL row for it.
#
# Environment: POSTERN (default _build/rel/postern, built if missing),
# BENCH_QUICK=1 (short runs), BENCH_ROUNDS (default 3, 1 when quick),
# BENCH_NO_INSTALL=1, BENCH_KEEP=1 (keep the work dir).

set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

say() { printf '[tls-bench] %s\n' "$*" >&2; }
die() { printf '[tls-bench] FATAL: %s\n' "$*" >&2; exit 1; }

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
	rounds=${BENCH_ROUNDS:-1}; n_get=20000; n_conn=2000; pg_secs=3
else
	rounds=${BENCH_ROUNDS:-3}; n_get=100000; n_conn=10000; pg_secs=10
fi
clk_tck=$(getconf CLK_TCK)

# ------------------------------------------------------------ tools
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
ensure_tools() {
	local missing=()
	command -v stunnel4 >/dev/null || command -v stunnel >/dev/null ||
		missing+=(stunnel4)
	command -v haproxy >/dev/null || missing+=(haproxy)
	command -v redis-server >/dev/null || missing+=(redis-server)
	command -v redis-benchmark >/dev/null || missing+=(redis-tools)
	[ -x "$pgbin/initdb" ] || missing+=(postgresql postgresql-contrib)
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "${BENCH_NO_INSTALL:-0}" = 1 ] && die "missing: ${missing[*]}"
	[ "$(id -u)" = 0 ] || die "not root: install ${missing[*]} first"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Keep the packages' own services from starting.
	local policy=/usr/sbin/policy-rc.d made=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made=1
	fi
	apt-get update -qq >/dev/null 2>&1
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1
	local rc=$?
	[ $made = 1 ] && rm -f "$policy"
	[ $rc = 0 ] || die "apt-get install ${missing[*]} failed"
	pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
}
ensure_tools
STUNNEL=$(command -v stunnel4 || command -v stunnel)

if [ -z "${POSTERN:-}" ]; then
	POSTERN=$top/_build/rel/postern
	if [ ! -x "$POSTERN" ]; then
		say "building an optimized postern in _build/rel"
		(cd "$top" && { [ -x configure ] || ./autogen.sh; } &&
		    mkdir -p _build/rel && cd _build/rel &&
		    { [ -f Makefile ] || ../../configure CFLAGS="-O2 -g"; } &&
		    make -j2 postern) >/dev/null 2>&1 || die "building postern failed"
	fi
fi
[ -x "$POSTERN" ] || die "no postern binary at $POSTERN"

# ------------------------------------------------------- processes
work=$(mktemp -d /tmp/postern-tls-bench.XXXXXX) || die "mktemp"
chmod 755 "$work"
pids=()
pgdata=
cleanup() {
	local p
	[ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ] &&
		runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

used=" "
read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768
free_port() {	# free_port VAR
	local p busy
	busy=" $(ss -tanH 2>/dev/null | awk '{n = split($4, a, ":"); printf "%s ", a[n]}')"
	while :; do
		p=$((eph_lo - 10000 + RANDOM % 9999))
		case "$used$busy" in *" $p "*) continue ;; esac
		used="$used$p "
		printf -v "$1" '%s' "$p"
		return
	done
}
wait_port() {	# wait_port PORT PID
	local i
	for i in $(seq 100); do
		ss -ltnH "sport = :$1" 2>/dev/null | grep -q . && return 0
		[ -n "$2" ] && ! kill -0 "$2" 2>/dev/null && return 1
		sleep 0.1
	done
	return 1
}
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}

# ------------------------------------------------------------ PKI
cd "$work" || die "cd"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
{
	openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 7 -subj "/CN=bench CA" &&
	openssl req -new "${ec[@]}" -keyout server.key -out server.csr -subj /CN=db.example.test &&
	printf 'subjectAltName=DNS:db.example.test,DNS:redis.example.test,IP:127.0.0.1\n' >ext &&
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	    -days 7 -extfile ext -out server.crt
} >pki.log 2>&1 || die "openssl failed: $(tail -n 3 pki.log)"

# --------------------------------------------------------- servers
free_port rport
redis-server --port 0 --tls-port "$rport" --bind 127.0.0.1 --tls-cert-file server.crt \
	--tls-key-file server.key --tls-ca-cert-file ca.crt --tls-auth-clients no \
	--save '' --appendonly no --daemonize no --logfile "$work/redis.log" &
pids+=($!)
wait_port "$rport" $! || die "redis-server did not start"

say "PostgreSQL: initdb, ssl = on, hostssl only"
mkdir -p pg/sock && cp server.crt server.key pg/ && chmod 600 pg/server.key
chown -R postgres pg
pgdata=$work/pg/data
runuser -u postgres -- "$pgbin/initdb" -A trust --nosync -U postgres -D "$pgdata" >/dev/null 2>&1 ||
	die "initdb failed"
printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n' >"$pgdata/pg_hba.conf"
free_port pport
runuser -u postgres -- "$pgbin/pg_ctl" -w -D "$pgdata" -l "$work/pg/log" -o "-p $pport \
-k $work/pg/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c ssl=on \
-c ssl_cert_file=$work/pg/server.crt -c ssl_key_file=$work/pg/server.key" start >/dev/null 2>&1 ||
	die "pg_ctl start failed: $(tail -n 3 "$work/pg/log")"
PGSSLROOTCERT=$work/ca.crt "$pgbin/pgbench" -i -q -s 5 \
	"host=127.0.0.1 port=$pport user=postgres dbname=postgres sslmode=verify-full" \
	>pgbench-init.log 2>&1 || die "pgbench -i failed: $(tail -n 3 pgbench-init.log)"

# ---------------------------------------------------------- proxies
declare -A rp pp pid
targets=(direct postern stunnel haproxy)
rp[direct]=$rport; pp[direct]=$pport; pid[direct]=

free_port a; free_port b
cat >postern.conf <<EOF
[postern]
log_level = warn
[service redis]
listen = 127.0.0.1:$a
protocol = redis
route = public tls://127.0.0.1:$rport ca=$work/ca.crt name=redis.example.test
check = none
[service pg]
listen = 127.0.0.1:$b
protocol = postgres
route = public tls://127.0.0.1:$pport ca=$work/ca.crt name=db.example.test
check = none
EOF
"$POSTERN" -c postern.conf 2>postern.log &
pid[postern]=$!; pids+=($!); rp[postern]=$a; pp[postern]=$b
wait_port "$a" "${pid[postern]}" && wait_port "$b" "${pid[postern]}" ||
	die "postern did not start: $(tail -n 3 postern.log)"

free_port a; free_port b
cat >stunnel.conf <<EOF
foreground = yes
pid =
debug = 3
output = $work/stunnel.log
[redis]
client = yes
accept = 127.0.0.1:$a
connect = 127.0.0.1:$rport
verifyChain = yes
CAfile = $work/ca.crt
checkHost = redis.example.test
sni = redis.example.test
[pg]
client = yes
accept = 127.0.0.1:$b
connect = 127.0.0.1:$pport
protocol = pgsql
verifyChain = yes
CAfile = $work/ca.crt
checkHost = db.example.test
EOF
"$STUNNEL" stunnel.conf >/dev/null 2>&1 &
pid[stunnel]=$!; pids+=($!); rp[stunnel]=$a; pp[stunnel]=$b
wait_port "$a" "${pid[stunnel]}" || die "stunnel did not start: $(tail -n 3 stunnel.log)"

free_port a
cat >haproxy.cfg <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 5m
    timeout server 5m
listen redis
    bind 127.0.0.1:$a
    server redis 127.0.0.1:$rport ssl verify required ca-file $work/ca.crt verifyhost redis.example.test sni str(redis.example.test)
EOF
haproxy -f haproxy.cfg -db >haproxy.log 2>&1 &
pid[haproxy]=$!; pids+=($!); rp[haproxy]=$a; pp[haproxy]=
wait_port "$a" "${pid[haproxy]}" || die "haproxy did not start: $(tail -n 3 haproxy.log)"

# Every path works before anything is measured.
for t in "${targets[@]}"; do
	if [ "$t" = direct ]; then
		r=$(timeout 10 redis-cli --tls --cacert ca.crt -h 127.0.0.1 -p "$rport" PING 2>&1)
	else
		r=$(timeout 10 redis-cli -h 127.0.0.1 -p "${rp[$t]}" PING 2>&1)
	fi
	[ "$r" = PONG ] || die "redis through $t: $r"
done

# ------------------------------------------------------------ runs
# run TARGET WORKLOAD -> "ops/s cpu_ticks"
run() {
	local t=$1 w=$2 c0 c1 out ops tls=() conn
	c0=$([ -n "${pid[$t]}" ] && cpu_ticks "${pid[$t]}" || echo 0)
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
	c1=$([ -n "${pid[$t]}" ] && cpu_ticks "${pid[$t]}" || echo 0)
	[ -n "$ops" ] || { say "$t $w produced no figure: $(tail -n 2 <<<"$out" | tr '\n' ' ')"; ops=NA; }
	echo "$ops $((c1 - c0))"
}

workloads=(redis-get redis-conn pg-S pg-C)
declare -A label=([redis-get]="redis GET -c50" [redis-conn]="redis GET -c50 -k0 (conn/s)"
	[pg-S]="pg -S -c8" [pg-C]="pg -S -C -c8 (conn/s)")
declare -A res cpu
for w in "${workloads[@]}"; do
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

median() { tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk '{a[NR] = $1} END { if (NR) print a[int((NR + 1) / 2)]; else print "NA" }'; }

printf '\n%-28s %-8s %12s %9s %12s\n' workload target "ops/s" "vs direct" "cpu us/op"
for w in "${workloads[@]}"; do
	d=$(median <<<"${res[$w/direct]}")
	for t in "${targets[@]}"; do
		m=$(median <<<"${res[$w/$t]}")
		if [ "$m" = NA ]; then
			printf '%-28s %-8s %12s %9s %12s\n' "${label[$w]}" "$t" n/a "" ""
			continue
		fi
		ratio=$(awk -v a="$m" -v b="$d" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "NA" }')
		us=NA
		if [ -n "${pid[$t]}" ]; then
			tk=$(median <<<"${cpu[$w/$t]}")
			case $w in pg-*) n=$(awk -v a="$m" -v s="$pg_secs" 'BEGIN { print a * s }') ;;
			redis-get) n=$n_get ;; *) n=$n_conn ;; esac
			us=$(awk -v t="$tk" -v c="$clk_tck" -v n="$n" 'BEGIN { if (n > 0) printf "%.1f", t / c * 1e6 / n; else print "NA" }')
		fi
		printf '%-28s %-8s %12.0f %9s %12s\n' "${label[$w]}" "$t" "$m" "$ratio" "$us"
	done
done
printf '\nstunnel: %s; haproxy: %s; postern: %s\n' \
	"$("$STUNNEL" -version 2>&1 | grep -m 1 -o 'stunnel [0-9.]*')" \
	"$(haproxy -v 2>&1 | head -n 1)" "$POSTERN"
