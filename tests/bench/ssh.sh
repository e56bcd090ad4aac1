#!/usr/bin/env bash
# postern's ssh:// route against OpenSSH port forwarding, through one sshd.
#
# One redis-server, one PostgreSQL cluster and one OpenSSH sshd on
# 127.0.0.1.  The same workloads run, round by round and interleaved,
# through four tunnels to the same sshd:
#
#   ssh -N -L        OpenSSH client, forwarding only (sshd leaves Nagle on)
#   ssh -T -L sleep  OpenSSH client running a command (sshd turns Nagle off)
#   postern          an ssh:// route (direct-tcpip channels only)
#   postern+cmd      the same with session_command = sleep 2147483647
#
# and prints each one's median requests/s (connections/s for pgbench -C)
# with postern's ratio to the matching OpenSSH mode.  Figures only: it
# never judges them, and exits non-zero only when the set-up fails.
#
# Environment (optional): POSTERN (default _build/rel/postern, built if
# missing), BENCH_QUICK=1 (a short run), BENCH_ROUNDS, BENCH_OUT (results
# dir), BENCH_KEEP=1 (keep the work dir), BENCH_FILTER=ERE (workloads).

set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

say()  { printf '[bench-ssh] %s\n' "$*" >&2; }
die()  { printf '[bench-ssh] FATAL: %s\n' "$*" >&2; exit 1; }

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
	rounds=${BENCH_ROUNDS:-1} n_c50=10000 n_p16=40000 n_c1=2000 n_big=40
	pg_secs=3
else
	rounds=${BENCH_ROUNDS:-3} n_c50=50000 n_p16=200000 n_c1=10000 n_big=200
	pg_secs=8
fi
filter=${BENCH_FILTER:-}
out=${BENCH_OUT:-/tmp/postern-bench-ssh-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/logs" || die "cannot create $out"

[ "$(id -u)" = 0 ] || die "run as root (sshd with privilege separation, root login)"
for t in redis-server redis-benchmark redis-cli ssh ssh-keygen /usr/sbin/sshd ss; do
	command -v "$t" >/dev/null || die "missing $t (redis-server redis-tools openssh-client openssh-server iproute2)"
done
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbin/pgbench" ] || die "no PostgreSQL binaries under /usr/lib/postgresql"

# ---------------------------------------------------------------- processes
work=$(mktemp -d /tmp/postern-bench-ssh.XXXXXX) || die "mktemp failed"
chmod 755 "$work"
pids=()
pg_started=0
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	[ "$pg_started" = 1 ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" \
		-m immediate stop >/dev/null 2>&1
	wait 2>/dev/null
	cp "$work"/*.log "$out/logs/" 2>/dev/null
	cp "$work/pg/server.log" "$out/logs/postgres.log" 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM HUP

read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768
used=" "
free_port() {	# free_port VAR
	local p busy
	busy=" $(ss -tanH | awk '{n = split($4, a, ":"); printf "%s ", a[n]}')"
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
		ss -ltnH "sport = :$1" | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ------------------------------------------------------------------ postern
POSTERN=${POSTERN:-$top/_build/rel/postern}
if [ ! -x "$POSTERN" ]; then
	say "building an optimized postern in _build/rel"
	(cd "$top" && { [ -x configure ] || ./autogen.sh; } && mkdir -p _build/rel &&
	    cd _build/rel && { [ -f Makefile ] || ../../configure CFLAGS="-O2 -g"; } &&
	    make -j2 postern) >"$out/logs/build.log" 2>&1 || die "build failed (see $out/logs/build.log)"
fi

# ----------------------------------------------------------------- servers
free_port redis_port
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --logfile "$work/redis.log" --dir "$work" &
pids+=($!)
wait_port "$redis_port" $! || die "redis-server did not start"

mkdir -p "$work/pg/data" && chown -R postgres: "$work/pg" && chmod 700 "$work/pg/data"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg/data" -A trust -U postgres --no-sync \
	>"$work/initdb.log" 2>&1 || die "initdb failed"
free_port pg_port
runuser -u postgres -- "$pgbin/pg_ctl" -w -t 60 -D "$work/pg/data" -l "$work/pg/server.log" \
	-o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
	start >/dev/null 2>&1 || die "pg_ctl start failed"
pg_started=1
"$pgbin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$pg_port" -U postgres postgres \
	>"$work/pgbench-init.log" 2>&1 || die "pgbench -i failed"

mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/host" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$work/user" </dev/null
cp "$work/user.pub" "$work/authorized_keys"
free_port ssh_port
cat >"$work/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $work/host
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
MaxStartups 100:30:200
LogLevel ERROR
EOF
/usr/sbin/sshd -D -f "$work/sshd_config" -e 2>"$work/sshd.log" &
pids+=($!)
wait_port "$ssh_port" $! || die "sshd did not start (see $out/logs/sshd.log)"
printf '[127.0.0.1]:%s %s\n' "$ssh_port" "$(cut -d' ' -f1,2 "$work/host.pub")" >"$work/known_hosts"

# ----------------------------------------------------------------- tunnels
targets=() ; declare -A t_rport t_pport t_label t_pid
ssh_opts=(-o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$work/known_hosts"
	-o ExitOnForwardFailure=yes -o ServerAliveInterval=15 -i "$work/user" -p "$ssh_port")

start_ssh() {	# start_ssh NAME LABEL ARGS...
	local name=$1 label=$2 rp pp pid
	shift 2
	free_port rp; free_port pp
	ssh "${ssh_opts[@]}" -L "$rp:127.0.0.1:$redis_port" -L "$pp:127.0.0.1:$pg_port" \
		"$@" </dev/null >"$work/$name.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_port "$rp" "$pid" && wait_port "$pp" "$pid" || die "$label did not start (see $out/logs/$name.log)"
	targets+=("$name"); t_rport[$name]=$rp; t_pport[$name]=$pp; t_label[$name]=$label; t_pid[$name]=$pid
}

start_postern() {	# start_postern NAME LABEL [BASTION LINE]
	local name=$1 label=$2 rp pp pid
	free_port rp; free_port pp
	cat >"$work/$name.conf" <<-EOF
	[postern]
	log_level = warn
	[bastion b]
	address = 127.0.0.1:$ssh_port
	user = root
	identity = $work/user
	known_hosts = $work/known_hosts
	${3:-}
	[service redis]
	listen = 127.0.0.1:$rp
	protocol = redis
	route = via ssh://b/127.0.0.1:$redis_port
	check = none
	[service pg]
	listen = 127.0.0.1:$pp
	protocol = postgres
	route = via ssh://b/127.0.0.1:$pg_port
	check = none
	max_connections = 1000
	EOF
	"$POSTERN" -c "$work/$name.conf" 2>"$work/$name.log" &
	pid=$!
	pids+=("$pid")
	wait_port "$rp" "$pid" && wait_port "$pp" "$pid" || die "$label did not start (see $out/logs/$name.log)"
	for _ in $(seq 50); do
		redis-cli -p "$rp" PING 2>/dev/null | grep -q PONG && break
		sleep 0.1
	done
	targets+=("$name"); t_rport[$name]=$rp; t_pport[$name]=$pp; t_label[$name]=$label; t_pid[$name]=$pid
}

start_ssh sshN "ssh -N -L" -N root@127.0.0.1
start_ssh sshT "ssh -T -L sleep" -T root@127.0.0.1 sleep 2147483647
start_postern postern "postern"
start_postern posternc "postern+cmd" "session_command = sleep 2147483647"
say "ssh negotiates: $(ssh "${ssh_opts[@]}" -v -T root@127.0.0.1 true 2>&1 | grep -m1 -o 'cipher: [^ ]* MAC: [^ ]*' || echo '?'); postern: aes128-ctr, hmac-sha2-256"

# --------------------------------------------------------------- workloads
# name | command (RPORT/PPORT replaced) | how to read the figure
workloads=(
	"redis SET -c50|redis-benchmark -q -c 50 -n $n_c50 -t set -p RPORT|rb"
	"redis GET -c50|redis-benchmark -q -c 50 -n $n_c50 -t get -p RPORT|rb"
	"redis SET -c50 -P16|redis-benchmark -q -c 50 -P 16 -n $n_p16 -t set -p RPORT|rb"
	"redis GET -c50 -P16|redis-benchmark -q -c 50 -P 16 -n $n_p16 -t get -p RPORT|rb"
	"redis GET -c1|redis-benchmark -q -c 1 -n $n_c1 -t get -p RPORT|rb"
	"redis SET 1MB -c4|redis-benchmark -q -c 4 -n $n_big -d 1000000 -t set -p RPORT|rb"
	"redis GET 1MB -c4|redis-benchmark -q -c 4 -n $n_big -d 1000000 -t get -p RPORT|rb"
	"pg -S -C -c8 (conn/s)|$pgbin/pgbench -n -S -C -c 8 -j 2 -T $pg_secs -h 127.0.0.1 -p PPORT -U postgres postgres|pg"
)

figure() {	# figure KIND FILE
	case $1 in
	rb) awk '/requests per second/ { for (i = 1; i <= NF; i++) if ($i == "requests") { print $(i-1); exit } }' "$2" ;;
	pg) sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$2" | head -n 1 ;;
	esac
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

# CPU seconds (user + system) a process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
tck=$(getconf CLK_TCK)

# How many requests (pg: transactions, i.e. connections) a run made.
requests() {	# requests KIND CMD FILE
	case $1 in
	rb) printf '%s\n' "$2" | sed -n 's/.* -n \([0-9]*\) .*/\1/p' ;;
	pg) sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$3" ;;
	esac
}

declare -A res m cpu c
for w in "${workloads[@]}"; do
	IFS='|' read -r wname wcmd wkind <<<"$w"
	[ -n "$filter" ] && ! [[ $wname =~ $filter ]] && continue
	for r in $(seq "$rounds"); do
		for t in "${targets[@]}"; do
			cmd=${wcmd//RPORT/${t_rport[$t]}}
			cmd=${cmd//PPORT/${t_pport[$t]}}
			f=$work/run.out
			c0=$(cpu_ticks "${t_pid[$t]}")
			timeout 180 $cmd >"$f" 2>&1
			c1=$(cpu_ticks "${t_pid[$t]}")
			v=$(figure "$wkind" "$f")
			[ -n "$v" ] || { say "$wname via ${t_label[$t]}: no figure: $(tail -c 200 "$f")"; v=0; }
			res["$wname|$t"]+="$v "
			# The tunnel process's CPU per request, in microseconds.
			nreq=$(requests "$wkind" "$cmd" "$f")
			u=$(awk -v a="$c0" -v b="$c1" -v n="${nreq:-0}" -v tk="$tck" \
				'BEGIN { print (n > 0 ? (b - a) / tk * 1e6 / n : 0) }')
			cpu["$wname|$t"]+="$u "
			say "$wname via ${t_label[$t]} round $r: $v (tunnel CPU $u us/request)"
		done
	done
done

# ------------------------------------------------------------------- table
{
	printf '\n%-24s %12s %14s %12s %12s %10s %12s\n' workload "ssh -N -L" "ssh -T sleep" postern \
		"postern+cmd" "vs -N -L" "+cmd vs -T"
	for w in "${workloads[@]}"; do
		IFS='|' read -r wname _ _ <<<"$w"
		[ -n "${res["$wname|sshN"]:-}" ] || continue
		for t in "${targets[@]}"; do
			m[$t]=$(printf '%s\n' ${res["$wname|$t"]} | median)
		done
		printf '%-24s %12.0f %14.0f %12.0f %12.0f %9.2fx %11.2fx\n' "$wname" \
			"${m[sshN]}" "${m[sshT]}" "${m[postern]}" "${m[posternc]}" \
			"$(awk -v a="${m[postern]}" -v b="${m[sshN]}" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
			"$(awk -v a="${m[posternc]}" -v b="${m[sshT]}" 'BEGIN { print (b > 0 ? a / b : 0) }')"
	done
	printf '\nrequests/s (pg: connections/s), median of %s round(s); %s\n' "$rounds" \
		"ratios > 1: postern faster.  Everything on one machine ($(nproc) CPUs), loopback."
	printf '\n%-24s %12s %14s %12s %12s %10s %12s\n' "tunnel CPU us/request" "ssh -N -L" \
		"ssh -T sleep" postern "postern+cmd" "vs -N -L" "+cmd vs -T"
	for w in "${workloads[@]}"; do
		IFS='|' read -r wname _ _ <<<"$w"
		[ -n "${cpu["$wname|sshN"]:-}" ] || continue
		for t in "${targets[@]}"; do
			c[$t]=$(printf '%s\n' ${cpu["$wname|$t"]} | median)
		done
		printf '%-24s %12.1f %14.1f %12.1f %12.1f %9.2fx %11.2fx\n' "$wname" \
			"${c[sshN]}" "${c[sshT]}" "${c[postern]}" "${c[posternc]}" \
			"$(awk -v a="${c[postern]}" -v b="${c[sshN]}" 'BEGIN { print (a > 0 ? b / a : 0) }')" \
			"$(awk -v a="${c[posternc]}" -v b="${c[sshT]}" 'BEGIN { print (a > 0 ? b / a : 0) }')"
	done
	printf '\nCPU of the tunnel process only (ssh client or postern; not sshd), %s\n' \
		"median; ratios > 1: postern uses less."
} | tee "$out/summary.txt"
