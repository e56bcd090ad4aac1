#!/usr/bin/env bash
# postern's ssh:// route against OpenSSH port forwarding, through one sshd.
#
# One redis-server, one PostgreSQL cluster and one OpenSSH sshd on
# 127.0.0.1.  The same workloads run, round by round and interleaved,
# through these tunnels to the same sshd:
#
#   ssh -N -L        OpenSSH client, forwarding only (sshd leaves Nagle on)
#   ssh ControlMaster  a master (-o ControlMaster=yes -N) whose forwards
#                    were added by a second client (-O forward -L)
#   ssh -T -L sleep  OpenSSH client running a command (sshd turns Nagle off):
#                    a loop of sleeps that ends once it cannot write
#                    (after the connection), not a sleep that would
#                    outlive it
#   postern 1conn    an ssh:// route, max_connections = 1 (one connection)
#   postern          an ssh:// route, defaults (grows up to 4 connections)
#   postern 8conn    connections = 8 kept open, max_connections = 16
#   postern+cmd      the defaults with session_command = cat
#   postern openssh  an ssh:// route through a bastion with engine = openssh:
#                    postern's own ssh ControlMaster, one mux stdio
#                    forward per channel (its CPU: postern's plus the
#                    master's)
#
# BENCH_SSH_ENGINES (default "libssh2 openssh") picks which postern
# engines run: libssh2 (the four postern rows above) and/or openssh.
# BENCH_SSH_VIA_CM=1 adds "postern->cm" (see below).
# BENCH_SSH_MUX_FORWARD=listener|stdio|client|proxy sets "postern openssh"'s
# mux_forward (not postern base's: an earlier binary may lack the key).
# BENCH_POSTERN_BASE=PATH adds "postern base", an earlier postern binary
# with engine = openssh, paired round by round with "postern openssh"
# (posterno/posternb): a change to the engine measured in one run.
# BENCH_SSH_OPENSSH_CONF and BENCH_POSTERN_BASE_CONF add [bastion] lines
# (newline-separated) to "postern openssh" and "postern base", e.g.
# "mux_forward = listener" for both when the two binaries differ in that
# mode, or a setting for one only: measured against the other in one run.
# BENCH_SSH_REDIS_PROTOCOL (default redis) sets the redis service's
# protocol for every postern target (tcp: no protocol awareness).
#
# Odd rounds run the tunnels in the order above, even rounds in reverse.
#
# and prints each one's median requests/s (connections/s for pgbench -C,
# milliseconds until the last is served for "100 at once"), then
# postern's ratio to its OpenSSH peer taken round by round (median over
# rounds, so a round the shared machine slowed down hits both alike).
# Figures only: it never judges them, and exits non-zero only when the
# set-up fails.  Each round's line of a postern with a master (openssh)
# gives postern's own CPU too ("postern alone"; the tables count both).
#
# BENCH_SSH_RTT_MS=N puts tests/bench/delay.py between every tunnel and
# sshd, adding N ms of round trip (N/2 each way) on the bastion path, as
# for a distant bastion (this kernel has no netem qdisc).  The relay is
# a Python process: use it for the connection rows (BENCH_FILTER='pg|at
# once'), not for bulk throughput.
#
# BENCH_CIPHERS=all (or a space-separated list) runs the cipher mode
# instead: for each cipher both ends offer (postern's libssh2, checked
# with postern -n; OpenSSH's ssh -Q cipher), one postern with `ciphers =`
# that cipher and its paired peer, ssh -N -L -c that cipher; bulk
# transfer only (1 MB redis values, SET and GET, 4 clients); MB/s and the
# tunnel process's CPU per MB, each cipher's postern/ssh ratio and its
# CPU against postern's aes128-ctr, round by round.  Default 5 rounds.
#
# Environment (optional): POSTERN (default _build/rel/postern, built if
# missing), BENCH_QUICK=1 (a short run), BENCH_BURST=N (connections of
# the "at once" row, default 100), BENCH_ROUNDS, BENCH_OUT (results
# dir), BENCH_KEEP=1 (keep the work dir), BENCH_FILTER=ERE (workloads),
# BENCH_SSH_RTT_MS (added round trip, default 0), BENCH_CIPHERS,
# BENCH_SSH_LOG_LEVEL (postern's log_level, default warn; debug logs each
# channel open with its time in the slot: the timeline of a burst, in the
# results dir), BENCH_SSH_TRACE=ERE (strace -tt each run of the targets
# it matches, e.g. 'postern1$', into the results dir: the timeline on the
# wire; its figures are then the traced process's, slower).

tag=bench-ssh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n_c50=$(by_mode 10000 50000)
n_p16=$(by_mode 40000 200000)
n_c1=$(by_mode 2000 10000)
n_big=$(by_mode 40 200)
n_burst=${BENCH_BURST:-100}
[[ $n_burst =~ ^[1-9][0-9]{0,3}$ ]] || die "BENCH_BURST=$n_burst: a count from 1 to 9999"
n_bulk=$(by_mode 40 300)	# the cipher mode's: enough CPU ticks a run
ciphers_mode=${BENCH_CIPHERS:-}
[ -n "$ciphers_mode" ] && [ -z "${BENCH_ROUNDS:-}" ] && [ "$quick" != 1 ] && rounds=5
pg_secs=$(by_mode 3 8)
bench_outdir postern-bench-ssh

[ "$(id -u)" = 0 ] || die "run as root (sshd with privilege separation, root login)"
# The cipher mode moves Redis values only: no PostgreSQL.
need_pg=pg
[ -n "$ciphers_mode" ] && need_pg=
missing_tools redis-server:redis-server redis-benchmark:redis-tools redis-cli:redis-tools \
	ssh:openssh-client ssh-keygen:openssh-client /usr/sbin/sshd:openssh-server ss:iproute2 $need_pg
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"

bench_workdir postern-bench-ssh
find_postern || die "$postern_note"

# ----------------------------------------------------------------- servers
bench_redis
if [ -n "$need_pg" ]; then
	pg_init
	pg_start
	pg_load 1
else
	pg_port=$redis_port	# the tunnels' second forward: unused here
fi

# sshd's files in $work (fixture_sshd): host_ed25519, sshd_config,
# known_hosts; authorized_keys holds the user key.
pick_port ssh_port
fixture_sshd "$work" 127.0.0.1 "$ssh_port" ERROR "MaxStartups 100:30:200" ||
	die "sshd set-up failed"
ssh-keygen -q -t ed25519 -N '' -f "$work/user" </dev/null
cp "$work/user.pub" "$work/authorized_keys"
spawn "$work/sshd.log" "${SSHD_ARGV[@]}"
wait_port "$ssh_port" "$spawned" || die "sshd did not start (see $logs/sshd.log)"
rtt=${BENCH_SSH_RTT_MS:-0}
bastion_port=$ssh_port
if [ "$rtt" != 0 ]; then
	pick_port bastion_port
	spawn "$work/delay.log" python3 "$top/tests/bench/delay.py" "$bastion_port" "$ssh_port" \
		"$(awk -v r="$rtt" 'BEGIN { print r / 2 }')"
	wait_port "$bastion_port" "$spawned" || die "delay.py did not start (see $logs/delay.log)"
	printf '[127.0.0.1]:%s %s\n' "$bastion_port" "$(cut -d' ' -f1,2 "$work/host_ed25519.pub")" >>"$work/known_hosts"
	say "bastion path: +$rtt ms round trip (delay.py on $bastion_port)"
fi

# ----------------------------------------------------------------- tunnels
targets=() ; declare -A t_rport t_pport t_label t_pid t_pid2
engines=${BENCH_SSH_ENGINES:-libssh2 openssh}
ssh_opts=(-o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$work/known_hosts"
	-o ExitOnForwardFailure=yes -o ServerAliveInterval=15 -i "$work/user" -p "$bastion_port")

start_ssh() {	# start_ssh NAME LABEL ARGS...
	local name=$1 label=$2 rp pp pid
	shift 2
	pick_port rp; pick_port pp
	spawn "$work/$name.log" ssh "${ssh_opts[@]}" -L "$rp:127.0.0.1:$redis_port" \
		-L "$pp:127.0.0.1:$pg_port" "$@"
	pid=$spawned
	wait_port "$rp" "$pid" && wait_port "$pp" "$pid" || die "$label did not start (see $logs/$name.log)"
	targets+=("$name"); t_rport[$name]=$rp; t_pport[$name]=$pp; t_label[$name]=$label; t_pid[$name]=$pid
}

# start_cm NAME LABEL: an OpenSSH ControlMaster; a second client adds the
# forwards to it (-O forward), so the master relays them.
start_cm() {
	local name=$1 label=$2 rp pp pid cm=$work/cm.sock
	pick_port rp; pick_port pp
	spawn "$work/$name.log" ssh "${ssh_opts[@]}" -o ControlMaster=yes -o "ControlPath=$cm" \
		-N root@127.0.0.1
	pid=$spawned
	for _ in $(seq 100); do [ -S "$cm" ] && break; sleep 0.1; done
	ssh "${ssh_opts[@]}" -o "ControlPath=$cm" -O forward -L "$rp:127.0.0.1:$redis_port" \
		-L "$pp:127.0.0.1:$pg_port" root@127.0.0.1 >>"$work/$name.log" 2>&1 ||
		die "$label: -O forward failed (see $logs/$name.log)"
	wait_port "$rp" "$pid" && wait_port "$pp" "$pid" || die "$label did not start (see $logs/$name.log)"
	targets+=("$name"); t_rport[$name]=$rp; t_pport[$name]=$pp; t_label[$name]=$label; t_pid[$name]=$pid
}

add_postern() {	# add_postern NAME LABEL [BASTION LINE] [BINARY]
	local name=$1 label=$2 rp pp pid bin=${4:-$POSTERN}
	pick_port rp; pick_port pp
	cat >"$work/$name.conf" <<-EOF
	[postern]
	log_level = ${BENCH_SSH_LOG_LEVEL:-warn}
	[bastion b]
	address = 127.0.0.1:$bastion_port
	user = root
	identity = $work/user
	known_hosts = $work/known_hosts
	${3:-}
	[service redis]
	listen = 127.0.0.1:$rp
	protocol = ${BENCH_SSH_REDIS_PROTOCOL:-redis}
	route = via ssh://b/127.0.0.1:$redis_port
	check = none
	[service pg]
	listen = 127.0.0.1:$pp
	protocol = postgres
	route = via ssh://b/127.0.0.1:$pg_port
	check = none
	max_connections = 1000
	EOF
	bench_postern "$name" "$bin" "$rp" "$pp" || die "$label did not start (see $logs/$name.log)"
	pid=$ppid
	for _ in $(seq 50); do
		redis-cli -p "$rp" PING 2>/dev/null | grep -q PONG && break
		sleep 0.1
	done
	targets+=("$name"); t_rport[$name]=$rp; t_pport[$name]=$pp; t_label[$name]=$label; t_pid[$name]=$pid
	# engine = openssh: the ssh master postern runs does the crypto.
	t_pid2[$name]=$(pgrep -P "$pid" -x ssh | head -n 1)
}

# tunnel_cpu T: CPU ticks of target T's processes (postern and its ssh).
tunnel_cpu() {
	local a b=0
	a=$(cpu_ticks "${t_pid[$1]}" 0)
	[ -n "${t_pid2[$1]:-}" ] && b=$(cpu_ticks "${t_pid2[$1]}" 0)
	echo $((a + b))
}

# ------------------------------------------------------------ cipher mode
cipher_candidates="aes128-ctr aes192-ctr aes256-ctr aes128-gcm@openssh.com aes256-gcm@openssh.com chacha20-poly1305@openssh.com"

# postern_has_cipher C: does postern's libssh2 offer C?  (postern -n
# checks a bastion's ciphers against the library.)
postern_has_cipher() {
	cat >"$work/probe.conf" <<-EOF
	[bastion b]
	address = 127.0.0.1:$bastion_port
	user = root
	identity = $work/user
	known_hosts = $work/known_hosts
	ciphers = $1
	[service s]
	listen = 127.0.0.1:1
	route = r ssh://b/127.0.0.1:1
	EOF
	"$POSTERN" -n -c "$work/probe.conf" >/dev/null 2>&1
}

cipher_bench() {
	local c i=0 r w t wname wcmd cmd f v u c0 c1 order
	local -a ciphers=() names=()
	local ctr=
	local -A res cpu
	if [ "$ciphers_mode" = all ]; then set -- $cipher_candidates; else set -- $ciphers_mode; fi
	for c in "$@"; do
		postern_has_cipher "$c" || { say "postern's libssh2 lacks $c: skipped"; continue; }
		ssh -Q cipher | grep -qx -- "$c" || { say "ssh lacks $c: skipped"; continue; }
		ciphers+=("$c")
	done
	[ ${#ciphers[@]} -gt 0 ] || die "no cipher both ends offer"
	for c in "${ciphers[@]}"; do
		i=$((i + 1))
		# postern's MAC (for the non-AEAD ciphers): the cipher is
		# the difference.
		start_ssh "s$i" "ssh $c" -N -c "$c" -m hmac-sha2-256 root@127.0.0.1
		add_postern "p$i" "postern $c" "ciphers = $c"
		names+=("$i")
		[ "$c" = aes128-ctr ] && ctr=$i
		say "$c: ssh negotiates $(ssh "${ssh_opts[@]}" -c "$c" -m hmac-sha2-256 -v -T root@127.0.0.1 true 2>&1 |
			grep -m1 -o 'cipher: [^ ]* MAC: [^ ]*' || echo '?')"
	done
	local -a cw=(
		"redis SET 1MB -c4|redis-benchmark -q -c 4 -n $n_bulk -d 1000000 -t set -p RPORT"
		"redis GET 1MB -c4|redis-benchmark -q -c 4 -n $n_bulk -d 1000000 -t get -p RPORT"
	)
	for r in $(seq "$rounds"); do
		for w in "${cw[@]}"; do
			IFS='|' read -r wname wcmd <<<"$w"
			[ -n "$filter" ] && ! [[ $wname =~ $filter ]] && continue
			for i in "${names[@]}"; do
				# Which of the pair goes first alternates by round.
				if [ $((r % 2)) = 1 ]; then order="p$i s$i"; else order="s$i p$i"; fi
				for t in $order; do
					cmd=${wcmd//RPORT/${t_rport[$t]}}
					f=$work/run.out
					c0=$(cpu_ticks "${t_pid[$t]}" 0)
					timeout 180 $cmd >"$f" 2>&1
					c1=$(cpu_ticks "${t_pid[$t]}" 0)
					v=$(awk '/requests per second/ { for (i = 1; i <= NF; i++) if ($i == "requests") { print $(i-1); exit } }' "$f")
					[ -n "$v" ] || { say "$wname via ${t_label[$t]}: no figure: $(tail -c 200 "$f")"; v=0; }
					# 1 MB a request: requests/s is MB/s; CPU ms per MB.
					u=$(awk -v a="$c0" -v b="$c1" -v n="$n_bulk" -v tk="$clk_tck" \
						'BEGIN { print (b - a) / tk * 1e3 / n }')
					res["$wname|$t"]+="$v "
					cpu["$wname|$t"]+="$u "
					say "$wname via ${t_label[$t]} round $r: $v MB/s, tunnel CPU $u ms/MB"
				done
			done
		done
	done
	{
		echo "# $(date -u +%Y-%m-%d) $(nproc) CPUs, $(uname -r); postern $("$POSTERN" -V 2>/dev/null | head -n 1), $(ldd "$POSTERN" | grep -o 'libssh2[^ ]*' | head -n 1) ($(dpkg-query -W -f '${Version}' libssh2-1 libssh2-1t64 2>/dev/null)), $(ssh -V 2>&1)"
		for w in "${cw[@]}"; do
			IFS='|' read -r wname _ <<<"$w"
			[ -n "${res["$wname|p${names[0]}"]:-}" ] || continue
			printf '\n%-30s %9s %9s %7s %11s %11s %7s %9s\n' "$wname" "postern" "ssh" "ratio" \
				"postern" "ssh" "ratio" "vs ctr"
			printf '%-30s %9s %9s %7s %11s %11s %7s %9s\n' "cipher" "MB/s" "MB/s" "" \
				"CPU ms/MB" "CPU ms/MB" "" "CPU"
			for i in "${names[@]}"; do
				printf '%-30s %9.0f %9.0f %6sx %11.2f %11.2f %6sx %8sx\n' "${ciphers[$((i - 1))]}" \
					"$(median 0 <<<"${res["$wname|p$i"]}")" "$(median 0 <<<"${res["$wname|s$i"]}")" \
					"$(two_dec "$(paired "${res["$wname|p$i"]}" "${res["$wname|s$i"]}" 0)")" \
					"$(median 0 <<<"${cpu["$wname|p$i"]}")" "$(median 0 <<<"${cpu["$wname|s$i"]}")" \
					"$(two_dec "$(paired "${cpu["$wname|p$i"]}" "${cpu["$wname|s$i"]}" 1)")" \
					"$( [ -n "$ctr" ] && two_dec "$(paired "${cpu["$wname|p$i"]}" "${cpu["$wname|p$ctr"]}" 1)" || echo -)"
			done
		done
		printf '\nmedians of %s rounds; ratios per round, then the median: postern/ssh (MB/s: > 1 postern\n' "$rounds"
		printf 'faster; CPU: > 1 postern cheaper) and postern against its own aes128-ctr (> 1: cheaper).\n'
		printf 'CPU: the tunnel process only (postern or the ssh client; not sshd, redis or the client).\n'
		printf 'ssh runs with -m hmac-sha2-256, postern'"'"'s MAC (the AEAD ciphers have none).\n'
	} | tee "$out/summary.txt"
}

if [ -n "$ciphers_mode" ]; then
	cipher_bench
	exit 0
fi

start_ssh sshN "ssh -N -L" -N root@127.0.0.1
start_cm cm "ssh ControlMaster"
start_ssh sshT "ssh -T -L sleep" -T root@127.0.0.1 'while sleep 5; do echo || exit; done'
if [[ " $engines " == *" libssh2 "* ]]; then
	add_postern postern1 "postern 1conn" "max_connections = 1"
	add_postern postern "postern"
	add_postern postern8 "postern 8conn" "connections = 8
	max_connections = 16"
	add_postern posternc "postern+cmd" "session_command = cat"
fi
if [[ " $engines " == *" openssh "* ]]; then
	add_postern posterno "postern openssh" "engine = openssh
	ssh_config = /dev/null${BENCH_SSH_MUX_FORWARD:+
	mux_forward = $BENCH_SSH_MUX_FORWARD}${BENCH_SSH_OPENSSH_CONF:+
	$BENCH_SSH_OPENSSH_CONF}"
	[ -n "${t_pid2[posterno]}" ] || die "postern openssh: no ssh master (see $logs/posterno.log)"
	if [ -n "${BENCH_POSTERN_BASE:-}" ]; then
		[ -x "$BENCH_POSTERN_BASE" ] || die "BENCH_POSTERN_BASE=$BENCH_POSTERN_BASE is not executable"
		add_postern posternb "postern base" "engine = openssh
	ssh_config = /dev/null${BENCH_POSTERN_BASE_CONF:+
	$BENCH_POSTERN_BASE_CONF}" "$BENCH_POSTERN_BASE"
		[ -n "${t_pid2[posternb]}" ] || die "postern base: no ssh master (see $logs/posternb.log)"
	fi
fi
# BENCH_SSH_VIA_CM=1: "postern->cm", postern's tcp:// route to the
# ControlMaster's forward port: what the OpenSSH engine would cost if its
# sessions went through a listener of its master (MUX_C_OPEN_FWD) rather
# than one stdio forward each (tests/bench/README.md, "The burst again").
if [ "${BENCH_SSH_VIA_CM:-0}" = 1 ]; then
	pick_port rp; pick_port pp
	cat >"$work/posternx.conf" <<-EOF
	[postern]
	log_level = ${BENCH_SSH_LOG_LEVEL:-warn}
	[service redis]
	listen = 127.0.0.1:$rp
	protocol = redis
	route = via tcp://127.0.0.1:${t_rport[cm]}
	check = none
	[service pg]
	listen = 127.0.0.1:$pp
	protocol = postgres
	route = via tcp://127.0.0.1:${t_pport[cm]}
	check = none
	max_connections = 1000
	EOF
	bench_postern posternx "$POSTERN" "$rp" "$pp" || die "postern->cm did not start"
	targets+=(posternx); t_rport[posternx]=$rp; t_pport[posternx]=$pp
	t_label[posternx]="postern->cm"; t_pid[posternx]=$ppid
fi
# postern's default order starts with chacha20-poly1305 where its libssh2
# has it.
pc="aes128-ctr, hmac-sha2-256"
postern_has_cipher chacha20-poly1305@openssh.com && pc=chacha20-poly1305@openssh.com
say "ssh negotiates: $(ssh "${ssh_opts[@]}" -v -T root@127.0.0.1 true 2>&1 | grep -m1 -o 'cipher: [^ ]* MAC: [^ ]*' || echo '?'); postern: $pc"

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
	"redis $n_burst at once (ms)|python3 $top/tests/burst.py RPORT $n_burst 60|burst"
)

figure() {	# figure KIND FILE
	case $1 in
	rb) awk '/requests per second/ { for (i = 1; i <= NF; i++) if ($i == "requests") { print $(i-1); exit } }' "$2" ;;
	pg) sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$2" | head -n 1 ;;
	burst) awk -v n="$n_burst" 'NR == 1 && $1 == n { print $2 }' "$2" ;;
	esac
}

# How many requests (pg: transactions, i.e. connections) a run made.
requests() {	# requests KIND CMD FILE
	case $1 in
	rb) printf '%s\n' "$2" | sed -n 's/.* -n \([0-9]*\) .*/\1/p' ;;
	pg) sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$3" ;;
	burst) echo "$n_burst" ;;
	esac
}

declare -A res cpu
for w in "${workloads[@]}"; do
	IFS='|' read -r wname wcmd wkind <<<"$w"
	[ -n "$filter" ] && ! [[ $wname =~ $filter ]] && continue
	for r in $(seq "$rounds"); do
		# Even rounds run the targets in reverse: no target always
		# runs right after the same one (an A/B pair's first ran
		# slower in both orders before).
		order=("${targets[@]}")
		if ((r % 2 == 0)); then
			order=()
			for ((i = ${#targets[@]} - 1; i >= 0; i--)); do
				order+=("${targets[$i]}")
			done
		fi
		for t in "${order[@]}"; do
			cmd=${wcmd//RPORT/${t_rport[$t]}}
			cmd=${cmd//PPORT/${t_pport[$t]}}
			f=$work/run.out
			c0=$(tunnel_cpu "$t")
			o0=$(cpu_ticks "${t_pid[$t]}" 0)
			tracer=
			if [ -n "${BENCH_SSH_TRACE:-}" ] && [[ $t =~ $BENCH_SSH_TRACE ]]; then
				strace -f -tt -e trace=network,read,write,readv,writev \
				    -o "$out/trace-$t-$(tr -c 'A-Za-z0-9\n' _ <<<"$wname")-r$r.txt" \
				    -p "${t_pid[$t]}" 2>/dev/null &
				tracer=$!
				sleep 1	# strace attaches (a benchmark, not a test)
			fi
			timeout 180 $cmd >"$f" 2>&1
			[ -z "$tracer" ] || { kill -INT "$tracer"; wait "$tracer"; }
			c1=$(tunnel_cpu "$t")
			o1=$(cpu_ticks "${t_pid[$t]}" 0)
			v=$(figure "$wkind" "$f")
			[ -n "$v" ] || { say "$wname via ${t_label[$t]}: no figure: $(tail -c 200 "$f")"; v=0; }
			res["$wname|$t"]+="$v "
			# The tunnel process's CPU per request, in microseconds.
			nreq=$(requests "$wkind" "$cmd" "$f")
			u=$(awk -v a="$c0" -v b="$c1" -v n="${nreq:-0}" -v tk="$clk_tck" \
				'BEGIN { print (n > 0 ? (b - a) / tk * 1e6 / n : 0) }')
			cpu["$wname|$t"]+="$u "
			# With a master (postern openssh): postern's own share too.
			own=
			[ -z "${t_pid2[$t]:-}" ] || [[ $t != postern* ]] ||
				own=$(awk -v a="$o0" -v b="$o1" -v n="${nreq:-0}" \
				-v tk="$clk_tck" 'BEGIN { printf ", postern alone %g",
				(n > 0 ? (b - a) / tk * 1e6 / n : 0) }')
			say "$wname via ${t_label[$t]} round $r: $v (tunnel CPU $u us/request$own)"
		done
	done
done

# ------------------------------------------------------------------- table
# Each postern variant against its OpenSSH peer: "postern|peer".
pairs=()
for p in "postern1|sshN" "postern|sshN" "postern8|sshN" "postern|cm" "posternc|sshT" \
    "posterno|sshN" "posterno|cm" "posterno|postern" "posterno|posternb" \
    "posternx|sshN" "posternx|posterno"; do
	[ -n "${t_label[${p%|*}]:-}" ] && [ -n "${t_label[${p#*|}]:-}" ] && pairs+=("$p")
done

# table TITLE FIGURES DECIMALS COST: the medians of the array FIGURES
# ("workload|target" -> figures, in round order), one row a workload,
# then each pair's ratio taken round by round (paired, lib.sh).  COST=1
# (CPU) and the "burst" rows (a time) turn the ratio over, so that > 1
# always means postern did better.
table() {
	local -n figs=$2
	local dec=$3 cost=$4 w wname wkind t p a b inv
	printf '\n%-24s' "$1"
	for t in "${targets[@]}"; do printf ' %14s' "${t_label[$t]}"; done
	for p in "${pairs[@]}"; do printf ' %15s' "${p%|*}/${p#*|}"; done
	printf '\n'
	for w in "${workloads[@]}"; do
		IFS='|' read -r wname _ wkind <<<"$w"
		[ -n "${figs["$wname|sshN"]:-}" ] || continue
		printf '%-24s' "$wname"
		for t in "${targets[@]}"; do
			printf ' %14.*f' "$dec" "$(median 0 <<<"${figs["$wname|$t"]}")"
		done
		inv=$cost
		[ "$wkind" = burst ] && [ "$cost" = 0 ] && inv=1
		for p in "${pairs[@]}"; do
			a=${p%|*} b=${p#*|}
			printf ' %14sx' "$(two_dec "$(paired "${figs["$wname|$a"]}" "${figs["$wname|$b"]}" "$inv")")"
		done
		printf '\n'
	done
}

{
	echo "# $(date -u +%Y-%m-%d) $(nproc) CPUs, $(uname -r), bastion path +${rtt} ms RTT"
	table workload res 0 0
	printf '\nrequests/s (pg: connections/s; "at once": ms until all 100 served), median of %s round(s);\n%s\n' \
		"$rounds" "ratios: per round, median; > 1: postern better.  One machine, loopback."
	table "tunnel CPU us/request" cpu 1 1
	printf '\nCPU of the tunnel process only (ssh client or master, or postern; not sshd), %s\n' \
		"median; ratios > 1: postern uses less."
} | tee "$out/summary.txt"
