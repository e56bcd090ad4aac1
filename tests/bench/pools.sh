#!/usr/bin/env bash
# shellcheck disable=SC2317
# (SC2317: the fault_*/undo_* functions and the trap's are called by
# computed name, which shellcheck takes for unreachable code.)
# tests/bench/pools.sh: real client pools under path faults (issue 20,
# item 5), measured.
#
# The incident postern exists for: the private path to Redis or
# PostgreSQL hangs, and the application must not hang with it.  This
# measures what an application on a real pool at the library's default
# settings (no socket or read timeout) sees:
#   redis  Debian's python3-redis ConnectionPool, redis.Redis(
#          connection_pool=...): 80 % GET, 20 % SET;
#   pg     Debian's python3-psycopg-pool ConnectionPool (min_size = the
#          thread count), short SELECT transactions;
# each with 8 worker threads doing an op every 5 ms (+-50 %), driven by
# tests/bench/pool_client.py (run with /usr/bin/python3).
#
# Servers (per client): "private" inside a network namespace this script
# creates (veth pair, link-local /30 of its own), "backup" on loopback;
# every GET (redis: r:N holds the server's name) and every SELECT
# (inet_server_port()) says which one answered.  postern serves three
# services, one per transport of the private route, each
#   route = private <transport>     through a forwarder F (socat on
#                                   127.0.0.1) standing for the private
#                                   network
#   route = backup tcp://127.0.0.1:BACKUP
#   check_interval 500ms, check_timeout 400ms, fall 2, rise 2,
#   on_failback move, identity off (the two servers differ on purpose);
#   pg also check_user postgres (so that a check logs in and sees a
#   server that does not accept connections).
# Transports of the private route:
#   tcp  postern -> F -> server
#   ssh  postern -> F -> sshd (tests/lib-ssh.sh's real sshd, bastion b)
#        -> server (direct-tcpip from sshd)
#   tls  postern -> F -> TLS terminator -> server: for redis socat's
#        OPENSSL-LISTEN with tests/lib-tls.sh's PKI in front of the plain
#        server; for pg the server's own TLS (ssl=on: PostgreSQL's
#        SSLRequest comes first, which a plain TLS terminator cannot do)
# Faults, each held POOLS_HOLD_S (6) seconds, then undone:
#   killed     F killed (SIGKILL, with its per-connection children);
#              undone by starting F again on its port
#   hung       F SIGSTOPped (and its children), then SIGCONT
#   sshd-hung  ssh only: sshd's per-connection processes (the session
#              children, not the listener) SIGSTOPped, then SIGCONT
#   blackhole  nftables drop of the server port, both directions, inside
#              the namespace (hits every transport's path); rule removed
#   loading    redis: DEBUG RELOAD on the private server with
#              key-load-delay set so that loading lasts HOLD_S: every
#              client (sessions kept) and every check gets -LOADING
#              until it ends by itself;
#              pg: the private cluster restarted as a standby
#              (standby.signal, hot_standby=off): sessions end with
#              57P01 at the stop, then every new connection and check
#              gets FATAL 57P03 "the database system is not accepting
#              connections" (before that, while it starts: "the database
#              system is starting up") until pg_ctl promote
# For each client x transport x fault, a fresh pool is warmed on the
# private route (every thread answered by private), the fault is held,
# undone, and the pool watched until every connection in use answers
# from private again (at most POOLS_RETURN_S, 20 s).  Figures:
#   errors     ops that raised an exception in the application, out of
#              all ops of the row (with the commonest kinds), as "F + R":
#              F ended before the undo, R after it (at the return, e.g.
#              PostgreSQL sessions that postern closes with 57P01 at a
#              safe point to send them back to private)
#   max wait   the longest single op, pool checkout included, ms
#   to backup  fault -> every pooled connection that was on private
#              has been served by backup (and not by private after
#              that), or is gone (closed with an error, or dropped by the
#              pool: then its last op counts); connections opened on
#              backup during the fault do not count (when none that
#              was on private did an op after the fault, the pool having
#              replaced them all unseen: the first answer from backup);
#              "never": some connection was still on private (or
#              waiting on it) when the fault was undone.  The fault's
#              time is taken at the act (the signal, the first nft rule,
#              the DEBUG RELOAD, the pg_ctl stop), after its preparations
#   to private undo -> every connection in use after the undo is served
#              by private again (one closed meanwhile counts as gone,
#              one the pool opened after the undo at its first answer);
#              "never": some were still on backup
#              POOLS_RETURN_S (20) seconds after the undo
# Printed: a Markdown table and one machine-readable line per row
# ("POOLS key=value ..."), also in $out/results.txt with the op logs.
# A benchmark: asserts nothing; exits non-zero only when set-up fails.
# Loopback and its own namespace only; everything it started is stopped
# by PID (and the namespace removed) on exit, Ctrl-C included.
#
# Environment (all optional):
#   POSTERN=path          the binary (default: lib.sh's find_postern:
#                         _build/rel/postern, built if missing)
#   POOLS_CLIENTS="redis pg"  POOLS_TRANSPORTS="tcp ssh tls"
#   POOLS_FAULTS="killed hung sshd-hung blackhole loading"
#   POOLS_HOLD_S=6        how long a fault lasts
#   POOLS_RETURN_S=20     how long to watch for the return to private
#   POOLS_THREADS=8 POOLS_OP_MS=5
#   POOLS_KEYS="on_route_down=keep ..."  service keys (KEY=VALUE words)
#                         that replace or add to the ones above
#   BENCH_OUT=dir         results dir (default /tmp/postern-pools-DATE)
# Full matrix (26 rows): about 6 minutes (351 s) on 2 shared cores.

_postern_arg=${POSTERN:-}
# The integration harness starts the servers and postern and waits on
# its log; the bench library adds die, find_postern and the outdir.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck disable=SC2034 # read by lib.sh's say
tag=pools
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
POSTERN=$_postern_arg
bench_outdir postern-pools
find_postern || die "$postern_note"
export POSTERN

CLIENTS=${POOLS_CLIENTS:-redis pg}
TRANSPORTS_=${POOLS_TRANSPORTS:-tcp ssh tls}
FAULTS=${POOLS_FAULTS:-killed hung sshd-hung blackhole loading}
HOLD_S=${POOLS_HOLD_S:-6}
RETURN_S=${POOLS_RETURN_S:-20}
THREADS=${POOLS_THREADS:-8}
OP_MS=${POOLS_OP_MS:-5}
PY=/usr/bin/python3
CLIENT_PY=$(cd "$(dirname "$0")" && pwd)/pool_client.py
KEYS=(check_interval=500ms check_timeout=400ms fall=2 rise=2 on_failback=move identity=off)
# POOLS_KEYS: KEY=VALUE words that replace or add to these.
for kv in ${POOLS_KEYS:-}; do
	for i in "${!KEYS[@]}"; do
		[[ ${KEYS[$i]%%=*} == "${kv%%=*}" ]] && unset 'KEYS[i]'
	done
	KEYS+=("$kv")
done
KEYS=("${KEYS[@]}")
T_START=$(date +%s)

$PY -c 'import redis, psycopg_pool' 2> /dev/null ||
    die "$PY lacks redis or psycopg_pool (Debian: python3-redis python3-psycopg-pool)"
"$PY" "$CLIENT_PY" selftest > /dev/null || die "pool_client.py selftest failed: the analysis is broken"

# --------------------------------------------------------------------
# Clean-up: resume what is stopped, end the bastion's processes, remove
# the namespace, then the harness's own clean-up (servers by PID).

NS=postern-pool-$$
VETH_HOST=ppl$$h
VETH_NS=ppl$$n
STOPPED=()
pools_exit() {
	local p
	for p in "${STOPPED[@]}"; do kill -CONT "$p" 2> /dev/null; done
	[[ -n ${CLIENT_PID:-} ]] && kill -KILL "$CLIENT_PID" 2> /dev/null
	_ssh_case_cleanup
	netns_remove "$NS"
	link_del "$VETH_HOST"
	cp "$T"/*.log "$T"/*.conf "$logs/" 2> /dev/null
}
set_trap() {
	# shellcheck disable=SC2154 # _rc is set inside the trap string
	trap '_rc=$?; pools_exit; _with_status "$_rc"; _script_cleanup' EXIT
}
set_trap

# stop_pids PID...: SIGSTOP, remembered for the clean-up.
stop_pids() {
	STOPPED+=("$@")
	kill -STOP "$@" 2> /dev/null
}

# tree ROOT: ROOT and every process below it, from one ps (pid_tree's
# ps per process takes half a second on a busy machine: the fault would
# start that much after its time is taken).
tree() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END { q[1] = root; n = 1
		      for (i = 1; i <= n; i++) { print q[i]; m = split(kids[q[i]], k, " ")
			  for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}

# tree_signal SIG PID: SIG to PID and every process below it.
tree_signal() {
	local -a p
	mapfile -t p < <(tree "$2")
	kill "-$1" "${p[@]}" 2> /dev/null
}

# begin: the fault starts now (FAULT_T0, ms), taken by each fault just
# before the act itself, after its preparations.
begin() { FAULT_T0=$(now_ms); }

nsnft() {
	ip netns exec "$NS" nft "$@" || die "nft $* failed"
}

now_ms() { date +%s%3N; }

# --------------------------------------------------------------------
# Forwarders: one socat per transport on a fixed 127.0.0.1 port, a
# process per connection (fork).

declare -A FWD_PORT FWD_TARGET FWD_PID
fwd_start() {
	local t=$1
	(exec socat "TCP-LISTEN:${FWD_PORT[$t]},bind=127.0.0.1,reuseaddr,fork,backlog=128" \
	    "TCP:${FWD_TARGET[$t]}") >> "$T/fwd-$t.log" 2>&1 &
	FWD_PID[$t]=$!
	track_server "$!"
	wait_until 10 port_listening "${FWD_PORT[$t]}" || die "forwarder $t did not listen"
}
fwd_kill() {
	local t=$1
	tree_signal KILL "${FWD_PID[$t]}"
	wait_exit "${FWD_PID[$t]}" 5
	wait "${FWD_PID[$t]}" 2> /dev/null
	return 0
}

# --------------------------------------------------------------------
# Servers: private (namespace) and backup (loopback) per client; PRIV_ID
# and BACK_ID are what pool_client.py gets back from each.

redis_setup() {
	REDIS_NETNS=$NS REDIS_ADDR=$NS_ADDR start_redis --enable-debug-command yes \
	    --loading-process-events-interval-bytes 1024
	PRIV_PORT=$REDIS_PORT
	$PY "$CLIENT_PY" load --host "$NS_ADDR" --port "$PRIV_PORT" --name private ||
	    die "cannot load the private redis"
	# The dataset that DEBUG RELOAD loads for HOLD_S seconds: 6000 more
	# keys at key-load-delay us each.
	REDIS_KEYS=6000
	timeout 30 redis-cli -h "$NS_ADDR" -p "$PRIV_PORT" DEBUG POPULATE "$REDIS_KEYS" > /dev/null ||
	    die "DEBUG POPULATE failed"
	start_redis
	BACK_PORT=$REDIS_PORT
	$PY "$CLIENT_PY" load --port "$BACK_PORT" --name backup || die "cannot load the backup redis"
	PRIV_ID=private BACK_ID=backup
	TLS_PORT=$(free_port) || die "no free port"
	(exec socat "OPENSSL-LISTEN:$TLS_PORT,bind=127.0.0.1,reuseaddr,fork,cert=$PKI/server.pem,verify=0" \
	    "TCP:$NS_ADDR:$PRIV_PORT") >> "$T/tls-term.log" 2>&1 &
	track_server "$!"
	wait_until 10 port_listening "$TLS_PORT" || die "TLS terminator did not listen"
}

pg_setup() {
	mkdir -p "$PKI/pg"
	cp "$PKI/server.crt" "$PKI/server.key" "$PKI/pg/"
	chmod 600 "$PKI/pg/server.key"
	chown -R postgres: "$PKI/pg"
	chmod 755 "$PKI"
	PG_HBA=$'local all all trust\nhost all all 0.0.0.0/0 trust' PG_NETNS=$NS PG_ADDR=$NS_ADDR \
	    PG_OPTS="-c ssl=on -c ssl_cert_file=$PKI/pg/server.crt -c ssl_key_file=$PKI/pg/server.key" \
	    start_postgres
	PRIV_PORT=$PG_PORT PRIV_DIR=$PG_DIR
	PG_NETNS='' PG_ADDR='' PG_OPTS='' start_postgres
	BACK_PORT=$PG_PORT
	PRIV_ID=$PRIV_PORT BACK_ID=$BACK_PORT
	TLS_PORT=$PRIV_PORT TLS_ADDR=$NS_ADDR
}

# pg_priv_restart [OPTS]: the private cluster started again (in the
# namespace, with TLS, and OPTS).
pg_priv_restart() {
	PG_DIR=$PRIV_DIR PG_PORT=$PRIV_PORT PG_SOCKDIR=$PRIV_DIR/sock PG_NETNS=$NS PG_ADDR=$NS_ADDR \
	    PG_OPTS="-c ssl=on -c ssl_cert_file=$PKI/pg/server.crt -c ssl_key_file=$PKI/pg/server.key ${1:-}" \
	    restart_postgres
}

# --------------------------------------------------------------------
# Faults on transport TR of client C: fault_NAME injects, undo_NAME
# removes; both return at once (except where said).

fault_killed() {
	local -a p
	mapfile -t p < <(tree "${FWD_PID[$TR]}")
	begin
	kill -KILL "${p[@]}" 2> /dev/null
	fwd_kill "$TR"
}
undo_killed() { fwd_start "$TR"; }

fault_hung() {
	local -a p
	mapfile -t p < <(tree "${FWD_PID[$TR]}")
	HUNG=("${p[@]}")
	begin
	stop_pids "${HUNG[@]}"
}
undo_hung() { kill -CONT "${HUNG[@]}" 2> /dev/null; }

fault_sshd-hung() {
	local -a p
	mapfile -t p < <(tree "$SSHD_PID" | grep -vx "$SSHD_PID")
	HUNG=("${p[@]}")
	((${#HUNG[@]})) || die "no sshd session process to stop"
	begin
	stop_pids "${HUNG[@]}"
}
undo_sshd-hung() { undo_hung; }

fault_blackhole() {
	nsnft add table inet pools
	nsnft add chain inet pools input '{ type filter hook input priority 0; policy accept; }'
	nsnft add chain inet pools output '{ type filter hook output priority 0; policy accept; }'
	begin
	nsnft add rule inet pools input tcp dport "$PRIV_PORT" drop
	nsnft add rule inet pools output tcp sport "$PRIV_PORT" drop
}
undo_blackhole() { nsnft delete table inet pools; }

# loading, redis: DEBUG RELOAD in the background; it blocks the server
# (answering -LOADING) for REDIS_KEYS x key-load-delay; undo waits for
# it to end by itself.
fault_loading_redis() {
	local d=$((HOLD_S * 1000000 / REDIS_KEYS))
	redis-cli -h "$NS_ADDR" -p "$PRIV_PORT" CONFIG SET key-load-delay "$d" > /dev/null ||
	    die "CONFIG SET key-load-delay failed"
	begin
	(exec timeout $((HOLD_S * 5)) redis-cli -h "$NS_ADDR" -p "$PRIV_PORT" DEBUG RELOAD) \
	    > "$T/reload.out" 2>&1 &
	RELOAD_PID=$!
	track_client "$RELOAD_PID"
}
undo_loading_redis() {
	wait "$RELOAD_PID"
	redis-cli -h "$NS_ADDR" -p "$PRIV_PORT" CONFIG SET key-load-delay 0 > /dev/null
	grep -q OK "$T/reload.out" || say "DEBUG RELOAD: $(head -c 200 "$T/reload.out")"
}
# loading, pg: stop (fast: sessions get 57P01), start as a standby that
# does not accept connections, promote at the undo.
fault_loading_pg() {
	begin
	_as_postgres timeout 30 "$PGBIN/pg_ctl" -D "$PRIV_DIR/data" -m fast -w stop > /dev/null 2>&1 ||
	    die "pg_ctl stop failed"
	_as_postgres touch "$PRIV_DIR/data/standby.signal"
	pg_priv_restart "-c hot_standby=off"
}
undo_loading_pg() {
	_as_postgres timeout 30 "$PGBIN/pg_ctl" -D "$PRIV_DIR/data" -w promote > "$T/promote.log" 2>&1 ||
	    die "pg_ctl promote failed: $(tail -n 2 "$T/promote.log")"
}
fault_loading() { "fault_loading_$C"; }
undo_loading() { "undo_loading_$C"; }

# --------------------------------------------------------------------
# postern: one service per transport, on the client's servers.

declare -A SVC_PORT
postern_start() {
	local proto=redis t keys=("${KEYS[@]}")
	[[ $C == pg ]] && { proto=postgres; keys+=(check_user=postgres); }
	for t in tcp ssh tls; do
		SVC_PORT[$t]=$(free_port) || die "no free port"
	done
	printf '[127.0.0.1]:%s %s\n' "${FWD_PORT[ssh]}" \
	    "$(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")" > "$T/known_fwd"
	CONF=$T/$C.conf
	{
		conf_global log_level=info
		conf_bastion b "address=127.0.0.1:${FWD_PORT[ssh]}" "known_hosts=$T/known_fwd"
		conf_service "$C-tcp" "127.0.0.1:${SVC_PORT[tcp]}" "$proto" \
		    "private tcp://127.0.0.1:${FWD_PORT[tcp]}" "backup tcp://127.0.0.1:$BACK_PORT" -- "${keys[@]}"
		conf_service "$C-ssh" "127.0.0.1:${SVC_PORT[ssh]}" "$proto" \
		    "private ssh://b/$NS_ADDR:$PRIV_PORT" "backup tcp://127.0.0.1:$BACK_PORT" -- "${keys[@]}"
		conf_service "$C-tls" "127.0.0.1:${SVC_PORT[tls]}" "$proto" \
		    "private tls://127.0.0.1:${FWD_PORT[tls]} ca=$PKI/ca.crt" \
		    "backup tcp://127.0.0.1:$BACK_PORT" -- "${keys[@]}"
	} > "$CONF"
	start_postern "$CONF"
	# Not fatal: the warm-up of each row (every thread served by private)
	# is the precondition; this only waits for the checks.
	all_up 20 || say "WARNING: private routes not seen up in the log: $(grep private "$POSTERN_LOG" | tail -n 3)"
}

# route_up SVC: the private route of SVC is up (its last state line,
# whatever its log level).
route_up() {
	grep -E " [a-z]+: $1/private: (up \\(check ok\\)|[a-z]+ -> [a-z]+ \\()" "$POSTERN_LOG" |
	    tail -n 1 | grep -Eq '(up \(check ok\)|-> up \()'
}

# all_up TIMEOUT_S: every private route of this postern up.
all_up() {
	wait_until "$1" all_up_now
}
all_up_now() {
	route_up "$C-tcp" && route_up "$C-ssh" && route_up "$C-tls"
}

# --------------------------------------------------------------------
# One row.

client_start() {
	OPLOG=$out/ops-$C-$TR-$F.log
	CLIENT_STOP=$T/client.stop
	rm -f "$CLIENT_STOP"
	: > "$OPLOG"
	(exec "$PY" "$CLIENT_PY" run --proto "$C" --port "${SVC_PORT[$TR]}" --out "$OPLOG" \
	    --stop "$CLIENT_STOP" --threads "$THREADS" --ms "$OP_MS" --max-seconds 120 \
	    --private "$PRIV_ID" --backup "$BACK_ID") > "$T/client.json" 2> "$T/client.err" &
	CLIENT_PID=$!
	track_client "$CLIENT_PID"
}
client_stop() {
	: > "$CLIENT_STOP"
	wait_exit "$CLIENT_PID" 15 || kill -KILL "$CLIENT_PID" 2> /dev/null
	wait "$CLIENT_PID" 2> /dev/null
	CLIENT_PID=
	cp "$T/client.json" "$out/summary-$C-$TR-$F.json"
}

# warm: every worker thread answered by private at least 5 times.
warm() {
	awk '$6 == "private" && $7 == "ok" { n[$3]++ }
		END { k = 0; for (t in n) if (n[t] >= 5) k++; exit !(k >= '"$THREADS"') }' "$OPLOG"
}

# field JSON KEY: one value of a flat JSON object.
field() {
	$PY -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print("never" if v is None else (" ".join("%s:%d" % kv for kv in sorted(v.items(), key=lambda kv: -kv[1])[:2]) or "-") if isinstance(v, dict) else v)' "$1" "$2"
}

row() {
	local t0 t1 tend res st
	say "$C $TR $F"
	all_up 30 || say "$C: some private route is not up before $F"
	client_start
	if ! wait_until 20 warm; then
		client_stop
		echo "POOLS client=$C transport=$TR fault=$F status=not-warm" | tee -a "$out/results.txt"
		TABLE+=("| $C | $TR | $F | pool not served by private before the fault: $(tail -c 200 "$T/client.err" | tr '\n|' '  ') | | | |")
		return 0
	fi
	FAULT_T0=
	"fault_$F"
	t0=$FAULT_T0
	while (($(now_ms) < t0 + HOLD_S * 1000)); do sleep 0.1; done
	"undo_$F"
	t1=$(now_ms)
	# Watched by the clock: each check is a Python start and a log read.
	st=not-all-returned
	while (($(now_ms) < t1 + RETURN_S * 1000)); do
		if "$PY" "$CLIENT_PY" analyze --log "$OPLOG" --fault-ms "$t0" --undo-ms "$t1" \
		    --check-return; then
			st=ok
			break
		fi
		sleep 0.2
	done
	tend=$(now_ms)
	client_stop
	res=$("$PY" "$CLIENT_PY" analyze --log "$OPLOG" --fault-ms "$t0" --undo-ms "$t1" --end-ms "$tend")
	local ops errs ef er kinds mw tb tp
	ops=$(field "$res" ops) errs=$(field "$res" errors) kinds=$(field "$res" error_kinds)
	ef=$(field "$res" errors_fault) er=$(field "$res" errors_return)
	mw=$(field "$res" max_wait_ms) tb=$(field "$res" backup_ms) tp=$(field "$res" return_ms)
	[[ $st == ok ]] || tp=never
	local tbt=$tb tpt=$tp
	[[ $tb == never ]] && tbt="never ($(field "$res" stuck_on_private) of $(field "$res" used_during_fault) on private)"
	[[ $tp == never ]] && tpt="never ($(field "$res" still_on_backup) of $(field "$res" used_after_return) on backup)"
	echo "POOLS client=$C transport=$TR fault=$F hold_s=$HOLD_S fault_ms=$t0 undo_ms=$t1 ops=$ops errors=$errs errors_fault=$ef errors_return=$er max_wait_ms=$mw backup_ms=$tb return_ms=$tp conns=$(field "$res" connections) stuck_on_private=$(field "$res" stuck_on_private) still_on_backup=$(field "$res" still_on_backup) error_kinds=${kinds// /,}" |
	    tee -a "$out/results.txt"
	echo "$res" >> "$out/analysis-$C-$TR-$F.json"
	TABLE+=("| $C | $TR | $F | $ef + $er / $ops | $mw | $tbt | $tpt | ${kinds} |")
}

# --------------------------------------------------------------------

# main: the whole run, in a function so that bash has read all of it
# before it starts (editing the script meanwhile cannot change a run).
main() {
	netns_pair "$NS" "$VETH_HOST" "$VETH_NS" > "$T/netns.why" 2>&1 ||
	    die "network namespace: $(paste -sd' ' "$T/netns.why")"
	(make_pki) > "$T/pki.log" 2>&1 || die "make_pki failed: $(tail -n 3 "$T/pki.log")"
	start_sshd
	set_trap

	commit=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
	{
		echo "# postern pools under path faults ($(basename "$0")), $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "# machine: $(nproc) CPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
		echo "# postern $("$POSTERN" -V 2>/dev/null | head -n 1) at commit $commit ($POSTERN, built $(date -u -r "$POSTERN" '+%F %T UTC'))"
		newer=$(find "$top/lib" "$top/config" "$top/tunnel" "$top/proxy" -name '*.[ch]' -newer "$POSTERN" 2>/dev/null | head -n 3 | paste -sd' ')
		[[ -z $newer ]] || echo "# WARNING: sources newer than this binary (stale build? make -C _build/rel postern): $newer"
		echo "# clients: $($PY -c 'import redis, psycopg, psycopg_pool, sys; print("python %s, redis-py %s, psycopg %s, psycopg_pool %s" % (sys.version.split()[0], redis.__version__, psycopg.__version__, psycopg_pool.__version__))'), $THREADS threads, an op every ${OP_MS} ms +-50 %"
		echo "# servers: $(redis-server --version | awk '{print $3}' | tr -d v=), PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), OpenSSH $(ssh -V 2>&1 | cut -d, -f1), socat $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/\1/p')"
		echo "# service: ${KEYS[*]}; faults held ${HOLD_S} s; return watched up to ${RETURN_S} s"
		echo "# issue 20's bound for one op on a hung route: fall x interval + check_timeout + 0.5 s = 1900 ms"
	} | tee "$out/results.txt"

	TABLE=()
	for C in $CLIENTS; do
		say "setting up $C"
		"${C}_setup"
		for TR in tcp ssh tls; do
			FWD_PORT[$TR]=$(free_port) || die "no free port"
		done
		FWD_TARGET[tcp]=$NS_ADDR:$PRIV_PORT
		FWD_TARGET[ssh]=127.0.0.1:$SSHD_PORT
		FWD_TARGET[tls]=${TLS_ADDR:-127.0.0.1}:$TLS_PORT
		for TR in tcp ssh tls; do fwd_start "$TR"; done
		postern_start
		for TR in $TRANSPORTS_; do
			for F in $FAULTS; do
				[[ $F == sshd-hung && $TR != ssh ]] && continue
				row
			done
		done
		stop_postern 15
		cp "$POSTERN_LOG" "$out/postern-$C.log"
		unset TLS_ADDR
	done

	{
		echo
		echo "| client | transport | fault | errors fault + return / ops | max wait ms | to backup ms | to private ms | errors seen |"
		echo "|---|---|---|---:|---:|---:|---:|---|"
		printf '%s\n' "${TABLE[@]}"
		echo
		echo "# total $(($(date +%s) - T_START)) s; results in $out"
	} | tee -a "$out/results.txt"
}

main "$@"; exit 0
