#!/usr/bin/env bash
# tests/bench/faults.sh: the fault matrix under load, measured.
#
# The product promise: "when the preferred path hangs, traffic leaves it
# within fall x interval + timeout, and clients never hang".  For Redis
# and for PostgreSQL, postern runs three two-route services, each with a
# preferred route "private" and a backup "public" (tcp://127.0.0.1):
#   P      private tcp:// to a server inside a network namespace this
#          script creates (veth pair, link-local addresses of its own);
#   P-ssh  private ssh:// through a harness sshd bastion on loopback;
#   P-tls  private tls:// to a TLS server with a CA the script makes.
# Through the service under test, tests/traffic.py keeps steady traffic:
# a new connection every 75 ms doing one request, and 3 pooled
# connections doing a request every 20 ms, every reply checked byte for
# byte (redis: MGET of a 512-byte patterned value plus an ECHO of a
# unique payload; pg: SELECT of a unique payload and its md5 computed by
# the server).  Each fault is injected on the preferred route, held for
# BENCH_HOLD_S (at least 3 s past detection) and removed:
#   refused         the server is killed (pg: immediate shutdown)
#   hung            the server is SIGSTOPped (pg: postmaster and backends)
#   silent-accept   replaced by a listener that accepts and never answers
#   silent-noaccept replaced by a listener that never calls accept
#   blackhole       nftables drop of the server port in the namespace
#   rst             nftables "reject with tcp reset": RST mid-stream
#   slow            netem delay of BENCH_DELAY_MS on the server's side
#                   (without netem in the kernel: the server stalls,
#                   SIGSTOP BENCH_DELAY_MS out of every +200 ms)
#   flapping        nftables drop 1 s on / 1 s off, five times
#   bastion-killed  the sshd of the ssh:// route killed (then restarted)
#   bastion-hung    that sshd and its connection processes SIGSTOPped
#   tls-badcert     the TLS server restarted with a certificate of
#                   another CA (verification fails), then with its own
# It prints one Markdown table per protocol:
#   detect ms   fault -> "SVC/private: ... -> down" in postern's log, next
#               to the bound fall x interval + timeout ("none": not
#               marked down while the fault lasted)
#   new err     new connections that got no complete reply (refused,
#               reset, eof, timeout, server error such as postern's "no
#               healthy route"), out of all new connections in the run
#   pool err    the same for the pooled connections' requests (a pooled
#               session on the broken route is expected to die once)
#   late        new connections started from 1 s after "down" to the
#               repair that were not served by public
#   wrong       complete replies with wrong bytes: must be 0
#   slowest ms  the longest request (every client operation is bounded
#               at 10 s: 10000 means a client hung until its timeout)
#   failback ms repair -> "service SVC: new sessions go to private" ("-":
#               the route was not down at the repair)
#   moves       route transitions of private while the fault lasted
# and the date and machine line.  It asserts nothing (a benchmark); it
# exits non-zero only when the set-up fails.  Loopback and its own
# network namespace only; everything it started is stopped by PID.
#
# Environment (all optional):
#   POSTERN=path        the binary (default: tests/bench/lib.sh's
#                       find_postern: _build/rel/postern, built if missing)
#   BENCH_PROTOS="redis pg"  BENCH_FAULTS="refused hung ..." (the list above)
#   BENCH_HOLD_S=6      how long a fault lasts at least
#   BENCH_DELAY_MS=1000 the netem delay of "slow"
#   BENCH_INTERVAL_MS=500 BENCH_FAST_MS=200 BENCH_DOWN_MS=500
#   BENCH_TIMEOUT_MS=500 BENCH_FALL=2 BENCH_RISE=2 BENCH_CONNECT_MS=1000
#   BENCH_RESPONSE_MS=1000  response_timeout, when this postern has it

_postern_arg=${POSTERN:-}
# The integration harness starts the servers and postern and waits on
# its log; the bench library adds die, find_postern and median.
. "$(dirname "$0")/../lib.sh"
tag=faults
. "$(dirname "$0")/lib.sh"
POSTERN=$_postern_arg logs=$T
find_postern || die "$postern_note"
export POSTERN

PROTOS=${BENCH_PROTOS:-redis pg}
FAULTS=${BENCH_FAULTS:-refused hung silent-accept silent-noaccept blackhole rst slow flapping bastion-killed bastion-hung tls-badcert}
HOLD_S=${BENCH_HOLD_S:-6}
DELAY_MS=${BENCH_DELAY_MS:-1000}
check_settings 500 200 500 500 2 2 1000
RESP=${BENCH_RESPONSE_MS:-1000}

# --------------------------------------------------------------------
# Clean-up: resume what is stopped, end the bastion's processes, remove
# the namespace, then the harness's own clean-up (servers by PID).

NS=postern-flt-$$
VETH_HOST=pflt$$h
VETH_NS=pflt$$n
_STOPPED=()
bench_exit() {
	local p
	for p in "${_STOPPED[@]}"; do kill -CONT "$p" 2>/dev/null; done
	_ssh_case_cleanup
	netns_remove "$NS"
	link_del "$VETH_HOST"
}
set_trap() {
	trap '_rc=$?; bench_exit; _with_status "$_rc"; _script_cleanup' EXIT
}
set_trap

# stop_pids PID...: SIGSTOP, remembered for the clean-up.
stop_pids() {
	_STOPPED+=("$@")
	kill -STOP "$@" 2>/dev/null
}

# nsnft CMD...: nft inside the namespace.
nsnft() {
	ip netns exec "$NS" nft "$@" || die "nft $* failed"
}

# --------------------------------------------------------------------
# Servers.  Per protocol: PRIV (in the namespace), PUB (loopback), ALT
# (loopback, plain and TLS: the target of the ssh:// and tls:// routes).
# PRIV_ID, ALT_ID, PUB_ID: what traffic.py reports as SERVER for each.

# redis_load HOST PORT NAME: the keys, saved in the server's dump.rdb,
# which a restart in the same directory loads before it answers.
redis_load() {
	python3 "$TESTS_DIR/traffic.py" load --proto redis --host "$1" --port "$2" --name "$3" ||
	    die "cannot load redis $1:$2"
}

redis_priv_start() {
	REDIS_NETNS=$NS REDIS_ADDR=$NS_ADDR start_redis_on "$PRIV_PORT"
	PRIV_PID=$REDIS_PID
	[[ -f $REDIS_DIR/dump.rdb ]] || redis_load "$NS_ADDR" "$PRIV_PORT" private
}
redis_priv_stop() {
	kill -KILL "$PRIV_PID"
	wait "$PRIV_PID" 2>/dev/null
}
redis_priv_pids() { echo "$PRIV_PID"; }

# redis_alt_start CERT KEY: plain ALT_PORT and TLS ALT_TLS_PORT.
redis_alt_start() {
	start_redis_on "$ALT_PORT" --tls-port "$ALT_TLS_PORT" --tls-cert-file "$1" \
	    --tls-key-file "$2" --tls-ca-cert-file "$PKI/ca.crt" --tls-auth-clients no
	ALT_PID=$REDIS_PID
	[[ -f $REDIS_DIR/dump.rdb ]] || redis_load 127.0.0.1 "$ALT_PORT" private
}
redis_alt_stop() {
	kill -KILL "$ALT_PID"
	wait "$ALT_PID" 2>/dev/null
}

redis_setup() {
	PRIV_PORT=$(free_port) && ALT_PORT=$(free_port) && ALT_TLS_PORT=$(free_port) ||
	    die "no free port"
	redis_priv_start
	start_redis
	PUB_PORT=$REDIS_PORT
	redis_load 127.0.0.1 "$PUB_PORT" public
	redis_alt_start "$PKI/server.crt" "$PKI/server.key"
	PRIV_ID=private ALT_ID=private PUB_ID=public
}

# pg_use priv|alt: point start_postgres's variables at that cluster.
pg_use() {
	if [[ $1 == priv ]]; then
		PG_DIR=$PRIV_DIR PG_PORT=$PRIV_PORT PG_SOCKDIR=$PRIV_DIR/sock
		PG_NETNS=$NS PG_ADDR=$NS_ADDR PG_OPTS=
	else
		PG_DIR=$ALT_DIR PG_PORT=$ALT_PORT PG_SOCKDIR=$ALT_DIR/sock
		PG_NETNS='' PG_ADDR='' PG_OPTS="-c ssl=on -c ssl_cert_file=$PKI/pg/$2.crt -c ssl_key_file=$PKI/pg/$2.key"
	fi
}

pg_stop_dir() {
	_as_postgres timeout 30 "$PGBIN/pg_ctl" -D "$1/data" -m immediate stop > /dev/null 2>&1
}

pg_priv_start() { pg_use priv; restart_postgres; }
pg_priv_stop() { pg_stop_dir "$PRIV_DIR"; }
pg_priv_pids() { pid_tree "$(head -n 1 "$PRIV_DIR/data/postmaster.pid")"; }
pg_alt_start() { pg_use alt "$1"; restart_postgres; }
pg_alt_stop() { pg_stop_dir "$ALT_DIR"; }

pg_setup() {
	# Certificates the postgres user may read: its own and the other CA's.
	mkdir -p "$PKI/pg"
	cp "$PKI/server.crt" "$PKI/pg/good.crt"
	cp "$PKI/server.key" "$PKI/pg/good.key"
	cp "$PKI/evil.crt" "$PKI/pg/evil.crt"
	cp "$PKI/evil.key" "$PKI/pg/evil.key"
	chmod 600 "$PKI/pg"/*.key
	chown -R postgres: "$PKI/pg"
	chmod 755 "$PKI"
	PG_HBA=$'local all all trust\nhost all all 0.0.0.0/0 trust' PG_NETNS=$NS PG_ADDR=$NS_ADDR \
	    start_postgres
	PRIV_DIR=$PG_DIR PRIV_PORT=$PG_PORT
	PG_NETNS='' PG_ADDR='' start_postgres
	PUB_PORT=$PG_PORT
	PG_OPTS="-c ssl=on -c ssl_cert_file=$PKI/pg/good.crt -c ssl_key_file=$PKI/pg/good.key" \
	    start_postgres
	ALT_DIR=$PG_DIR ALT_PORT=$PG_PORT ALT_TLS_PORT=$PG_PORT
	PRIV_ID=$PRIV_PORT ALT_ID=$ALT_PORT PUB_ID=$PUB_PORT
}

# --------------------------------------------------------------------
# Faults: fault_NAME injects, repair_NAME removes.  P is the protocol.

fault_refused() { "${P}_priv_stop"; }
repair_refused() { "${P}_priv_start"; }

# shellcheck disable=SC2046 # a list of PIDs, one word each
fault_hung() { stop_pids $("${P}_priv_pids"); }
# shellcheck disable=SC2046 # a list of PIDs, one word each
repair_hung() { kill -CONT $("${P}_priv_pids") 2>/dev/null; }

silent() {
	"${P}_priv_stop"
	SILENT_NETNS=$NS start_silent "$PRIV_PORT" "$1" "$NS_ADDR"
}
unsilent() {
	kill -KILL "$SILENT_PID"
	wait "$SILENT_PID" 2>/dev/null
	"${P}_priv_start"
}
fault_silent-accept() { silent accept; }
repair_silent-accept() { unsilent; }
fault_silent-noaccept() { silent noaccept; }
repair_silent-noaccept() { unsilent; }

# nft_rule VERDICT: one rule on the server port, in table inet flt.
nft_rule() {
	nsnft add table inet flt
	nsnft add chain inet flt input '{ type filter hook input priority 0; policy accept; }'
	nsnft add rule inet flt input tcp dport "$PRIV_PORT" "$@"
}
nft_clear() { nsnft delete table inet flt; }

fault_blackhole() { nft_rule drop; }
repair_blackhole() { nft_clear; }
fault_rst() { nft_rule reject with tcp reset; }
repair_rst() { nft_clear; }

# slow: netem delays every packet from the server by DELAY_MS; where
# the kernel has no netem, the server stalls instead: SIGSTOP for
# DELAY_MS out of every DELAY_MS + 200 ms (SLOW_HOW says which).
fault_slow() {
	local pids
	if [[ $SLOW_HOW == netem ]]; then
		ip netns exec "$NS" tc qdisc add dev "$VETH_NS" root netem delay "${DELAY_MS}ms" ||
		    die "tc netem failed"
		return 0
	fi
	pids=$("${P}_priv_pids")
	# shellcheck disable=SC2206 # a list of PIDs, one word each
	_STOPPED+=($pids)
	(for _ in $(seq 300); do
		kill -STOP $pids 2>/dev/null
		sleep "$(awk -v d="$DELAY_MS" 'BEGIN { print d / 1000 }')"
		kill -CONT $pids 2>/dev/null
		sleep 0.2
	done) &
	STALL_PID=$!
	STALL_PIDS=$pids
}
repair_slow() {
	if [[ $SLOW_HOW == netem ]]; then
		ip netns exec "$NS" tc qdisc del dev "$VETH_NS" root
		return 0
	fi
	kill -KILL "$STALL_PID" 2>/dev/null
	wait "$STALL_PID" 2>/dev/null
	kill -CONT $STALL_PIDS 2>/dev/null
}

# flapping: the whole fault happens here (10 s); the repair is the end.
fault_flapping() {
	local i
	for i in 1 2 3 4 5; do
		nft_rule drop
		sleep 1
		nft_clear
		sleep 1
	done
}
repair_flapping() { :; }

fault_bastion-killed() {
	pid_signal KILL "$SSHD_PID"
	wait_exit "$SSHD_PID" 10
	{ wait "$SSHD_PID"; } 2> /dev/null
}
repair_bastion-killed() {
	start_sshd_on "$SSHD_PORT" 127.0.0.1
	set_trap
}
# shellcheck disable=SC2046 # a list of PIDs, one word each
fault_bastion-hung() { stop_pids $(pid_tree "$SSHD_PID"); }
repair_bastion-hung() { pid_signal CONT "$SSHD_PID"; }

fault_tls-badcert() {
	"${P}_alt_stop"
	if [[ $P == redis ]]; then "${P}_alt_start" "$PKI/evil.crt" "$PKI/evil.key"; else "${P}_alt_start" evil; fi
}
repair_tls-badcert() {
	"${P}_alt_stop"
	if [[ $P == redis ]]; then "${P}_alt_start" "$PKI/server.crt" "$PKI/server.key"; else "${P}_alt_start" good; fi
}

# pid_signal SIG PID: SIG to PID and every process below it.
pid_signal() {
	local p
	for p in $(pid_tree "$2"); do kill "-$1" "$p" 2>/dev/null; done
}

# fault_service FAULT: the service whose private route the fault hits,
# and what traffic.py reports for that route (SVC, SVC_PRIV_ID).
fault_service() {
	case $1 in
	bastion-*)	SVC=$P-ssh SVC_PRIV_ID=$ALT_ID ;;
	tls-*)		SVC=$P-tls SVC_PRIV_ID=$ALT_ID ;;
	*)		SVC=$P SVC_PRIV_ID=$PRIV_ID ;;
	esac
	SVC_PORT=${SVC_PORTS[$SVC]}
}

# --------------------------------------------------------------------
# postern: the three services with the check settings.

declare -A SVC_PORTS
postern_start() {
	local proto=redis svc keys=() tlsname=
	[[ $P == pg ]] && proto=postgres
	# shellcheck disable=SC2206 # RESP_KEY: one word, or none
	keys=("${CHECK_KEYS[@]}" $RESP_KEY)
	for svc in "$P" "$P-ssh" "$P-tls"; do
		SVC_PORTS[$svc]=$(free_port) || die "no free port"
	done
	CONF=$T/$P.conf
	{
		conf_global log_level=info
		conf_bastion b keepalive_interval=300ms keepalive_count=3 connect_timeout=2s
		conf_service "$P" "127.0.0.1:${SVC_PORTS[$P]}" "$proto" \
		    "private tcp://$NS_ADDR:$PRIV_PORT" "public tcp://127.0.0.1:$PUB_PORT" -- "${keys[@]}"
		conf_service "$P-ssh" "127.0.0.1:${SVC_PORTS[$P-ssh]}" "$proto" \
		    "private ssh://b/127.0.0.1:$ALT_PORT" "public tcp://127.0.0.1:$PUB_PORT" -- "${keys[@]}"
		conf_service "$P-tls" "127.0.0.1:${SVC_PORTS[$P-tls]}" "$proto" \
		    "private tls://127.0.0.1:$ALT_TLS_PORT ca=$PKI/ca.crt" \
		    "public tcp://127.0.0.1:$PUB_PORT" -- "${keys[@]}"
	} > "$CONF"
	start_postern "$CONF"
	for svc in "$P" "$P-ssh" "$P-tls"; do
		wait_log "$POSTERN_LOG" "notice: $svc/private: up \\(check ok\\)$" 20 ||
		    die "$svc/private never up: $(grep "$svc/private" "$POSTERN_LOG" | tail -n 2)"
	done
}

# --------------------------------------------------------------------
# One fault: prints its table row.

now_ms() { date +%s%3N; }

# wait_served ID SINCE_MS KIND TIMEOUT_S: a KIND request started at or
# after SINCE_MS answered by ID.
wait_served() {
	wait_until "$4" eval "(( \$(traffic_count $2 0 $3 ok $1) > 0 ))"
}

run_fault() {
	local f=$1 t0 t_start t_down='' t_fix t_back='' downs backs moves0 detect=none failback=none
	local hold_until stats was_down
	fault_service "$f"
	downs=$(count_lines "$POSTERN_LOG" "warn: $SVC/private: [a-z]+ -> down")
	backs=$(count_lines "$POSTERN_LOG" "notice: service $SVC: new sessions go to private \\(was")
	moves0=$(count_lines "$POSTERN_LOG" "(warn|notice): $SVC/private: [a-z]+ -> [a-z]+ \\(")
	say "$P $f: traffic on $SVC"
	t_start=$(now_ms)
	start_traffic "$P" "$SVC_PORT" --new-ms 75 --pool 3 --pool-ms 20 --timeout 10
	if ! wait_served "$SVC_PRIV_ID" "$t_start" new 20 || ! wait_served "$SVC_PRIV_ID" "$t_start" pool 10; then
		stop_traffic
		printf '| %s | not served by private before the fault: %s |\n' "$f" \
		    "$(tail -n 1 "$TRAFFIC_OUT")"
		return 0
	fi
	sleep 0.5
	t0=$(now_ms)
	say "$P $f: inject"
	"fault_$f"
	if wait_count "$POSTERN_LOG" "warn: $SVC/private: [a-z]+ -> down" $((downs + 1)) 20; then
		t_down=$(log_ms "warn: $SVC/private: [a-z]+ -> down" $((downs + 1)))
		detect=$((t_down - t0))
		hold_until=$((t_down + 3000))
	else
		hold_until=0
	fi
	((hold_until < t0 + HOLD_S * 1000)) && hold_until=$((t0 + HOLD_S * 1000))
	while (($(now_ms) < hold_until)); do sleep 0.2; done
	# Failback: from the repair to the next "go to private", when the
	# route was down at the repair ("-": it was not).
	backs=$(count_lines "$POSTERN_LOG" "notice: service $SVC: new sessions go to private \\(was")
	was_down=0
	grep -E "(warn|notice): $SVC/private: [a-z]+ -> [a-z]+ \\(" "$POSTERN_LOG" | tail -n 1 |
	    grep -q -- '-> down' && was_down=1
	t_fix=$(now_ms)
	say "$P $f: repair"
	"repair_$f"
	if [[ -z $t_down ]]; then
		:
	elif ((!was_down)); then
		failback=-
	else
		if wait_count "$POSTERN_LOG" "notice: service $SVC: new sessions go to private \\(was" $((backs + 1)) 30; then
			t_back=$(log_ms "notice: service $SVC: new sessions go to private \\(was" $((backs + 1)))
			failback=$((t_back - t_fix))
			wait_served "$SVC_PRIV_ID" "$t_back" new 10
		fi
	fi
	sleep 1
	stop_traffic
	cp "$TRAFFIC_OUT" "$T/$P-$f.traffic"
	# new err, pool err, late, wrong, slowest
	stats=$(awk -v from=$((${t_down:-0} + 1000)) -v to="$t_fix" -v down="${t_down:-}" -v pub="$PUB_ID" '
		{ split($5, s, ":"); lat = $2 - $1; if (lat > max) max = lat }
		$3 == "new" { nn++ } $3 == "pool" { np++ }
		s[1] == "err" && $3 == "new" { en++ }
		s[1] == "err" && $3 == "pool" { ep++ }
		s[1] == "wrong" { w++ }
		down != "" && $3 == "new" && $1 >= from && $1 < to && !(s[1] == "ok" && $6 == pub) { late++ }
		END { printf "%d/%d|%d/%d|%s|%d|%d", en, nn, ep, np, (down == "" ? "-" : late + 0), w, max }' "$TRAFFIC_OUT")
	printf '| %s | %s | %s | %s | %s | %s |\n' "$f" "$detect" "$BOUND" "${stats//|/ | }" \
	    "$failback" "$(($(count_lines "$POSTERN_LOG" "(warn|notice): $SVC/private: [a-z]+ -> [a-z]+ \\(") - moves0))"
	# Errors seen, for the reader: the commonest statuses.
	awk '$5 != "ok" { print $3, $5 }' "$TRAFFIC_OUT" | sort | uniq -c | sort -rn | head -n 4 |
	    sed "s/^ */[faults]     $P $f: /" >&2
}

# --------------------------------------------------------------------

netns_pair "$NS" "$VETH_HOST" "$VETH_NS" > "$T/netns.why" 2>&1 ||
    die "network namespace: $(paste -sd' ' "$T/netns.why")"
SLOW_HOW=stall
ip netns exec "$NS" tc qdisc add dev lo root netem delay 1ms > /dev/null 2>&1 &&
    ip netns exec "$NS" tc qdisc del dev lo root && SLOW_HOW=netem
(make_pki) > "$T/pki.log" 2>&1 || die "make_pki failed: $(tail -n 3 "$T/pki.log")"
start_sshd
set_trap

# response_timeout (issue 10) when this postern knows it.
RESP_KEY=
{ conf_global; conf_service probe 127.0.0.1:1 redis "a tcp://127.0.0.1:2" -- "response_timeout=${RESP}ms"; } > "$T/probe.conf"
"$POSTERN" -n -c "$T/probe.conf" > "$T/probe.out" 2>&1 && RESP_KEY=response_timeout=${RESP}ms

commit=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
echo "# postern fault matrix ($(basename "$0")), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) CPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "# postern $("$POSTERN" -V 2>/dev/null | head -n 1) at commit $commit ($POSTERN)"
check_header
echo "# ${RESP_KEY:-no response_timeout in this postern}; traffic: a new connection every 75 ms, 3 pooled connections at 20 ms; faults held ${HOLD_S} s (3 s past detection at least)"
if [[ $SLOW_HOW == netem ]]; then
	echo "# slow: netem delay ${DELAY_MS} ms on the server's side of the veth"
else
	echo "# slow: no netem in this kernel; the server stalls instead (SIGSTOP ${DELAY_MS} ms, SIGCONT 200 ms, repeated)"
fi

for P in $PROTOS; do
	say "setting up $P"
	"${P}_setup"
	postern_start
	echo
	echo "### $P"
	echo
	echo "| fault | detect ms | bound ms | new err | pool err | late | wrong | slowest ms | failback ms | moves |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for f in $FAULTS; do
		run_fault "$f"
	done
	stop_postern
	cp "$POSTERN_LOG" "$T/postern-$P.log"
done
exit 0
