#!/bin/bash
# Redis Cluster through postern (issue 23): a real 3-master/3-replica
# cluster made by "redis-cli --cluster create" in a network namespace this
# test creates, its nodes announcing their address there; the clients run
# in a second namespace that reaches postern's listeners (over a veth
# pair of its own) but not the nodes: an address a reply leaks is an
# error the client sees.  postern reaches the nodes over tcp:// (the
# first veth pair) and ssh:// (an sshd inside the cluster's namespace
# as the bastion).  Needs root (ip netns); skips with the reason otherwise.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-ssh.sh"

PY=/usr/bin/python3
NS=postern-cl-$$	# the cluster (and the bastion)
VETH_HOST=pcl$$h
VETH_NS=pcl$$n
CNS=postern-cc-$$	# the clients
CVETH_HOST=pcc$$h
CVETH_NS=pcc$$n
NNODES=6

cleanup_ns() {
	netns_remove "$NS" "$CNS"
	link_del "$VETH_HOST" "$CVETH_HOST"
}
trap '_rc=$?; cleanup_ns; _with_status "$_rc"; _script_cleanup' EXIT

# setup_ns: CL_ADDR (the nodes, in NS), C_ADDR (the client, in CNS),
# C_HOST (this host's end of the client's pair: postern listens there).
setup_ns() {
	trap '_rc=$?; cleanup_ns; _with_status "$_rc"; _case_cleanup' EXIT
	netns_pair "$NS" "$VETH_HOST" "$VETH_NS" > "$T/netns.why" ||
	    skip_case "$(cat "$T/netns.why")"
	CL_ADDR=$NS_ADDR
	netns_pair "$CNS" "$CVETH_HOST" "$CVETH_NS" > "$T/netns.why" ||
	    skip_case "$(cat "$T/netns.why")"
	C_ADDR=$NS_ADDR C_HOST=$NS_HOST_ADDR
	note "cluster in $NS on $CL_ADDR; clients in $CNS ($C_ADDR) -> postern on $C_HOST"
}

# node_port: a free port whose cluster bus port (+10000) exists.
node_port() {
	local p tries=50
	while ((tries-- > 0)); do
		p=$(free_port) || return 1
		((p <= 55000)) && { echo "$p"; return 0; }
	done
	return 1
}

# With CLUSTER_TLS set, the nodes speak TLS only, the cluster bus and
# replication too (tls-cluster yes; the bus always asks for a client
# certificate: client.crt).
CLUSTER_TLS=

# ncli PORT ARGS: redis-cli to a node, from this host (the certificate
# names 127.0.0.1, not CL_ADDR: --insecure for these control
# connections only; postern's routes verify the name).
ncli() {
	local p=$1
	shift
	timeout 5 redis-cli ${CLUSTER_TLS:+--tls --insecure} -h "$CL_ADDR" -p "$p" "$@"
}

# start_cluster: six nodes in NS, joined by redis-cli --cluster create
# with one replica each; waits until every node says cluster_state:ok
# and knows all six.  Sets NODE_PORTS.
start_cluster() {
	local p i
	local -a tls addrs
	NODE_PORTS=()
	for ((i = 0; i < NNODES; i++)); do
		p=$(node_port) || fail_case "no free port for a node"
		tls=()
		[[ -z "$CLUSTER_TLS" ]] ||
		    tls=(--tls-cluster yes --tls-replication yes
			--tls-client-cert-file "$PKI/client.crt"
			--tls-client-key-file "$PKI/client.key")
		REDIS_NETNS=$NS REDIS_ADDR=$CL_ADDR \
		    REDIS_TLS_CERT=${CLUSTER_TLS:+$PKI/server.crt} start_redis_on "$p" \
		    --cluster-enabled yes --cluster-config-file nodes.conf \
		    --cluster-node-timeout 5000 --cluster-announce-ip "$CL_ADDR" \
		    "${tls[@]}"
		NODE_PORTS+=("$p")
		addrs+=("$CL_ADDR:$p")
	done
	ip netns exec "$NS" timeout 60 redis-cli ${CLUSTER_TLS:+--tls --insecure} \
	    --cluster create \
	    "${addrs[@]}" --cluster-replicas 1 \
	    --cluster-yes > "$T/create.log" 2>&1 ||
	    fail_case "redis-cli --cluster create: $(tail -n 3 "$T/create.log" | paste -sd'|')"
	for p in "${NODE_PORTS[@]}"; do
		wait_until 30 cluster_ok "$p" ||
		    fail_case "node $p: no cluster_state:ok with $NNODES nodes in 30s"
	done
	# Replicas appear in CLUSTER SLOTS once their sync is done.
	wait_until 30 all_online ||
	    fail_case "CLUSTER SHARDS: not all $NNODES nodes online in 30s"
}

all_online() {
	(($(ncli "${NODE_PORTS[0]}" CLUSTER SHARDS |
	    grep -cx online) == NNODES))
}

cluster_ok() {
	local info
	info=$(ncli "$1" CLUSTER INFO) || return 1
	[[ "$info" == *cluster_state:ok* && "$info" == *cluster_known_nodes:$NNODES* ]] &&
	    (($(ncli "$1" CLUSTER NODES |
	    grep -c 'slave') == NNODES / 2))
}

# ccli ARGS: redis-cli in the clients' namespace, to postern.
ccli() {
	ip netns exec "$CNS" timeout 30 redis-cli -h "$C_HOST" "$@"
}

# port_range N: FIRST-LAST, N free ports in a row (sets FIRST, LAST).
port_range() {
	local n=$1 p k tries=50 ok
	while ((tries-- > 0)); do
		p=$(free_port) || break
		((p + n < 61000)) || continue
		ok=1
		for ((k = 1; k < n; k++)); do
			port_listening $((p + k)) && ok=0
		done
		((ok)) && { FIRST=$p LAST=$((p + n - 1)); return 0; }
	done
	fail_case "no $n free ports in a row"
}

# port_outside_range: a free port not in FIRST-LAST (port_range locks
# only its first port: the next free_port may fall inside the range,
# which postern refuses as the service's own listen port).
port_outside_range() {
	local p tries=50
	while ((tries-- > 0)); do
		p=$(free_port) || break
		((p < FIRST || p > LAST)) && { echo "$p"; return 0; }
	done
	return 1
}

# start_cluster_postern ROUTE [CONF_TEXT]: postern with service rc on
# C_HOST, cluster = yes, the range from port_range, the routes in
# MORE_ROUTES after ROUTE, the KEY=VALUE words of EXTRA_KEYS; waits for
# a listener per node.
RANGE_N=8
MORE_ROUTES=()
EXTRA_KEYS=()
start_cluster_postern() {
	port_range "$RANGE_N"
	LISTEN_PORT=$(port_outside_range) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	ADMIN_PORT=$(port_outside_range) || fail_case "no free port"
	{
		conf_global admin="127.0.0.1:$ADMIN_PORT"
		[[ -z "${2:-}" ]] || printf '%s\n\n' "$2"
		conf_service rc "$C_HOST:$LISTEN_PORT" redis "$1" \
		    "${MORE_ROUTES[@]}" -- cluster=yes cluster_ports="$FIRST-$LAST" \
		    "${EXTRA_KEYS[@]}"
	} > "$CONF"
	start_postern "$CONF"
	wait_count "$POSTERN_LOG" "notice: service rc: cluster node [0-9a-f]{40} .*: listening on $C_HOST:" \
	    "$((RANGE_N < NNODES ? RANGE_N : NNODES))" 20 ||
	    fail_case "no listener for each of the $NNODES nodes in 20s"
}

# health_nodes_ok MAPPED UNMAPPED: /health shows every node of the
# cluster under services.rc.cluster: MAPPED listening on C_HOST in the
# range, announced on CL_ADDR, their current route up; UNMAPPED without
# a port, and nodes_unmapped says so.  Prints why not on stdout.
health_nodes_ok() {
	curl -sf "http://127.0.0.1:$ADMIN_PORT/health" > "$T/health.json" ||
	    { echo "no /health"; return 1; }
	"$PY" - "$T/health.json" "$CL_ADDR" "$C_HOST" "$FIRST" "$LAST" "$1" "$2" <<'EOF_PY'
import json, re, sys
doc, cl, ch, first, last, mapped, unmapped = sys.argv[1:]
c = json.load(open(doc))["services"]["rc"].get("cluster")
def no(why):
    print(why)
    sys.exit(1)
if c is None:
    no("no cluster object under services.rc")
m = [n for n in c["nodes"] if n["state"] == "listening"]
u = [n for n in c["nodes"] if n["state"] == "unmapped"]
if len(m) != int(mapped) or len(u) != int(unmapped) or c["nodes_unmapped"] != int(unmapped):
    no("nodes: %d listening, %d unmapped, nodes_unmapped %s" % (len(m), len(u), c["nodes_unmapped"]))
if c["ports"] != "%s-%s" % (first, last):
    no("ports " + str(c["ports"]))
for n in c["nodes"]:
    if not re.fullmatch("[0-9a-f]{40}", n["id"] or "") or not n["announced"].startswith(cl + ":"):
        no("node id/announced: %r" % n)
for n in m:
    lh, lp = n["local"].rsplit(":", 1)
    if lh != ch or not int(first) <= int(lp) <= int(last) or int(lp) != n["port"]:
        no("local: %r" % n["local"])
    if n["route"] is None or n["routes"][n["route"]]["state"] != "up":
        no("node %s: route %s not up" % (n["id"], n["route"]))
for n in u:
    if n["local"] is not None or n["port"] != 0 or n["routes"]:
        no("unmapped node has a listener: %r" % n)
EOF_PY
}

# expect_admin_nodes MAPPED UNMAPPED: the nodes in /health (waiting for
# their checks), /metrics and /status (what "postern ctl status" prints),
# and their route lines in the log name the node, not the seed.
expect_admin_nodes() {
	local mapped=$1 unmapped=$2 out n
	wait_until 20 health_nodes_ok "$mapped" "$unmapped" > /dev/null ||
	    fail_case "/health: $(health_nodes_ok "$mapped" "$unmapped")"
	out=$(curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics") || fail_case "no /metrics"
	n=$(grep -Ec "^postern_cluster_node_up\{service=\"rc\",node=\"[0-9a-f]{40}\",announced=\"${CL_ADDR//./\\.}:[0-9]+\",local_port=\"[1-9][0-9]*\"\} 1$" <<< "$out")
	expect_eq "postern_cluster_node_up series at 1" "$mapped" "$n"
	grep -qx "postern_cluster_nodes_unmapped{service=\"rc\"} $unmapped" <<< "$out" ||
	    fail_case "/metrics: no postern_cluster_nodes_unmapped $unmapped: $(grep nodes_unmapped <<< "$out")"
	n=$(grep -c '^postern_cluster_node_sessions_active{service="rc"' <<< "$out")
	expect_eq "postern_cluster_node_sessions_active series" "$((mapped + unmapped))" "$n"
	out=$(curl -sf "http://127.0.0.1:$ADMIN_PORT/status") || fail_case "no /status"
	[[ "$out" == *"cluster nodes (cluster_ports $FIRST-$LAST)"* ]] ||
	    fail_case "/status: no cluster nodes block: $out"
	n=$(grep -Ec "^    node [0-9a-f]{12} ${CL_ADDR//./\\.}:[0-9]+ -> ${C_HOST//./\\.}:[0-9]+: listening, route [a-z]+ \(up\)" <<< "$out")
	expect_eq "/status nodes listening" "$mapped" "$n"
	if ((unmapped > 0)); then
		[[ "$out" == *"RANGE FULL"* && "$out" == *"$unmapped node(s) without a port"* ]] ||
		    fail_case "/status does not say the range is full: $out"
	fi
	wait_count "$POSTERN_LOG" "notice: rc/[a-z]+ node [0-9a-f]{12} ${CL_ADDR//./\\.}:[0-9]+: up \(check ok\)$" \
	    "$mapped" 10 || fail_case "no route line naming each node"
	n=$(grep -Ec "notice: rc/[a-z]+: up \(check ok\)$" "$POSTERN_LOG")
	expect_eq "route up lines that read like the seed's" 1 "$n"
}

# expect_local_only WHAT TEXT: TEXT names no node address, and its
# addresses are postern's.
expect_local_only() {
	[[ "$2" == *"$CL_ADDR"* ]] && fail_case "$1 names a node address: $CL_ADDR"
	[[ "$2" == *"$C_HOST"* ]] || fail_case "$1 names no postern address: $(head -c 300 <<< "$2")"
	local p
	for p in "${NODE_PORTS[@]}"; do
		grep -Eq "(^|[^0-9])$p([^0-9]|$)" <<< "$2" &&
		    fail_case "$1 names node port $p"
	done
	[[ "$2" != *tls-port* ]] || fail_case "$1 names a tls-port"
	return 0
}

# ioredis_case: ioredis's Cluster client (no natMap) through the seed;
# every node it learned is one of postern's listeners.  tests/run.sh
# installs ioredis (tests/node/package-lock.json) and sets
# POSTERN_NODE_MODULES; elsewhere (the Debian 13 stage) it is noted
# as not run.
ioredis_case() {
	local out
	if [[ -z "${POSTERN_NODE_MODULES:-}" ]]; then
		note "ioredis: not run (POSTERN_NODE_MODULES unset: not under tests/run.sh)"
		return 0
	fi
	[[ -d "$POSTERN_NODE_MODULES/ioredis" ]] ||
	    fail_case "ioredis: not in $POSTERN_NODE_MODULES"
	out=$(ip netns exec "$CNS" env NODE_PATH="$POSTERN_NODE_MODULES" \
	    timeout 120 node "$TOP/tests/cluster_ioredis.js" "$C_HOST" \
	    "$LISTEN_PORT" "$FIRST" "$LAST" 2>&1) ||
	    fail_case "ioredis Cluster: $(tail -n 5 <<< "$out" | paste -sd'|')"
	[[ "$out" == "ok ops=600 nodes="* ]] || fail_case "ioredis Cluster: $out"
	note "ioredis $(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$POSTERN_NODE_MODULES/ioredis/package.json"): $out"
}

# exercise: what the clients see through postern.
exercise() {
	local out i moved master c

	# Control: the clients cannot reach a node themselves.
	ip netns exec "$CNS" timeout 3 redis-cli -h "$CL_ADDR" -p "${NODE_PORTS[0]}" PING \
	    > /dev/null 2>&1 && fail_case "the clients' namespace reaches a node directly"

	for c in SLOTS SHARDS NODES; do
		out=$(ccli -p "$LISTEN_PORT" CLUSTER "$c" 2>&1) ||
		    fail_case "CLUSTER $c: $out"
		expect_local_only "CLUSTER $c" "$out"
		out=$(ccli -3 -p "$LISTEN_PORT" CLUSTER "$c" 2>&1) ||
		    fail_case "CLUSTER $c (RESP3): $out"
		expect_local_only "CLUSTER $c (RESP3)" "$out"
	done
	# A transaction's EXEC array: the CLUSTER SLOTS queued inside.
	out=$(printf 'MULTI\nCLUSTER SLOTS\nPING\nEXEC\n' | ccli -p "$LISTEN_PORT" 2>&1)
	[[ "$out" == *QUEUED*PONG* ]] || fail_case "MULTI/CLUSTER SLOTS/EXEC: $out"
	expect_local_only "CLUSTER SLOTS inside MULTI/EXEC" "$out"
	# Refused transactions (the server, not the client, says whether
	# one runs): a MULTI with an argument starts none, so the CLUSTER
	# SLOTS after it answers as itself; a -MOVED inside one is not
	# queued and EXEC is refused; RESET ends one.  Every reply is read
	# as what it is: all addresses are postern's.
	out=$(printf '%s\n' 'MULTI x' 'CLUSTER SLOTS' 'EXEC' 'MULTI' \
	    'SET {rf}a 1' 'SET {zz}b 1' 'CLUSTER NODES' 'EXEC' 'MULTI' \
	    'CLUSTER SHARDS' 'RESET' 'CLUSTER SHARDS' 'CLUSTER SLOTS' |
	    ccli -p "$LISTEN_PORT" 2>&1)
	[[ "$out" == *"wrong number of arguments"*EXECABORT*RESET* ]] ||
	    fail_case "refused MULTI, -MOVED inside MULTI, RESET: $out"
	expect_local_only "replies after a refused MULTI, -MOVED inside MULTI and RESET" "$out"
	master=$(ccli -p "$LISTEN_PORT" CLUSTER NODES | awk '$3 ~ /slave/ { print $4; exit }')
	[[ -n "$master" ]] || fail_case "CLUSTER NODES shows no replica"
	out=$(ccli -p "$LISTEN_PORT" CLUSTER REPLICAS "$master" 2>&1)
	expect_local_only "CLUSTER REPLICAS" "$out"
	out=$(ccli -p "$LISTEN_PORT" CLUSTER SLAVES "$master" 2>&1)
	expect_local_only "CLUSTER SLAVES" "$out"

	# ROLE and INFO replication of the seed (a master): its replica.
	out=$(ccli -p "$LISTEN_PORT" ROLE 2>&1)
	expect_local_only "ROLE" "$out"
	out=$(ccli -p "$LISTEN_PORT" INFO replication 2>&1)
	[[ "$out" == *slave0:ip=* ]] || fail_case "INFO replication: no slave0 line: $out"
	expect_local_only "INFO replication" "$out"

	# A raw redirect names a listener of postern in the range.
	moved=
	for ((i = 0; i < 50; i++)); do
		out=$(ccli -p "$LISTEN_PORT" GET "k$i" 2>&1)
		[[ "$out" == MOVED* ]] && { moved=$out; break; }
	done
	[[ -n "$moved" ]] || fail_case "no MOVED among 50 keys from the seed"
	[[ "$moved" =~ ^MOVED\ [0-9]+\ ${C_HOST//./\\.}:([0-9]+)$ ]] ||
	    fail_case "redirect not rewritten: $moved"
	((BASH_REMATCH[1] >= FIRST && BASH_REMATCH[1] <= LAST)) ||
	    fail_case "redirect outside cluster_ports: $moved"

	# redis-cli -c follows redirects to postern's listeners.
	for ((i = 0; i < 30; i++)); do
		out=$(ccli -c -p "$LISTEN_PORT" SET "rc:$i" "v$i" 2>&1)
		[[ "$out" == OK ]] || fail_case "redis-cli -c SET rc:$i: $out"
	done
	for ((i = 0; i < 30; i++)); do
		out=$(ccli -c -p "$LISTEN_PORT" GET "rc:$i" 2>&1)
		[[ "$out" == "v$i" ]] || fail_case "redis-cli -c GET rc:$i: $out"
	done

	# redis-py's RedisCluster, no address map.
	out=$(ip netns exec "$CNS" timeout 120 "$PY" "$TOP/tests/cluster_client.py" \
	    "$C_HOST" "$LISTEN_PORT" 2000 "$C_HOST" "$FIRST" "$LAST" 2>&1) ||
	    fail_case "RedisCluster: $(tail -n 5 <<< "$out" | paste -sd'|')"
	[[ "$out" == "ok 2000 nodes=$NNODES masters=3" ]] ||
	    fail_case "RedisCluster: $out"
	# ioredis's Cluster, no natMap.
	ioredis_case
	# A 6 MiB value through a node listener: replies that carry no
	# address pass as they came (moved chain by chain, never held).
	out=$(ip netns exec "$CNS" timeout 60 "$PY" - "$C_HOST" "$LISTEN_PORT" <<'EOF_PY' 2>&1
import os, sys
from redis.cluster import RedisCluster
rc = RedisCluster(host=sys.argv[1], port=int(sys.argv[2]))
v = os.urandom(6 << 20)
rc.set("big:{b}", v)
print("same" if rc.get("big:{b}") == v else "differs")
rc.delete("big:{b}")
EOF_PY
	)
	[[ "$out" == same ]] || fail_case "a 6 MiB value through RedisCluster: $out"
	expect_no_log "has no listener for"
	[[ -z "${ADMIN_PORT:-}" ]] || expect_admin_nodes "$NNODES" 0
}

case_tcp() {
	setup_ns
	start_cluster
	start_cluster_postern "direct tcp://$CL_ADDR:${NODE_PORTS[0]}"
	exercise
	stop_postern
}

case_ssh() {
	setup_ns
	start_cluster
	SSHD_NETNS=$NS start_sshd_on "$(free_port)" "$CL_ADDR"
	# start_sshd_on set its own EXIT trap: the namespaces go too.
	trap '_rc=$?; _ssh_case_cleanup; cleanup_ns; _with_status "$_rc"; _case_cleanup' EXIT
	start_cluster_postern "via ssh://b/$CL_ADDR:${NODE_PORTS[0]}" \
	    "$(conf_bastion b address="$CL_ADDR:$SSHD_PORT")"
	exercise
	stop_postern
}

# The developer mode: postern -L seed -J bastion -o cluster=yes
# -o cluster_ports=FIRST-LAST (no configuration file, no admin endpoint).
case_devmode() {
	local out
	setup_ns
	start_cluster
	SSHD_NETNS=$NS start_sshd_on "$(free_port)" "$CL_ADDR"
	trap '_rc=$?; _ssh_case_cleanup; cleanup_ns; _with_status "$_rc"; _case_cleanup' EXIT
	port_range "$RANGE_N"
	LISTEN_PORT=$(port_outside_range) || fail_case "no free port"
	ADMIN_PORT=
	start_postern_args -L "$C_HOST:$LISTEN_PORT:$CL_ADDR:${NODE_PORTS[0]}" \
	    -J "root@$CL_ADDR" -p "$SSHD_PORT" -i "$USER_KEY" \
	    -o "known_hosts=$SSHD_KNOWN" -o engine=libssh2 \
	    -o cluster=yes -o "cluster_ports=$FIRST-$LAST"
	wait_ready 10
	out=$("$POSTERN" -n -L "$C_HOST:$LISTEN_PORT:$CL_ADDR:${NODE_PORTS[0]}" \
	    -L "$C_HOST:$((LISTEN_PORT + 1)):$CL_ADDR:${NODE_PORTS[1]}" \
	    -o cluster=yes -o "cluster_ports=$FIRST-$LAST" 2>&1) &&
	    fail_case "two -L with -o cluster=yes accepted: $out"
	[[ "$out" == *"-o: 'cluster=yes': one -L only"* ]] ||
	    fail_case "two -L with -o cluster=yes: $out"
	wait_count "$POSTERN_LOG" "notice: service .*: cluster node [0-9a-f]{40} .*: listening on $C_HOST:" \
	    "$NNODES" 20 || fail_case "no listener for each of the $NNODES nodes in 20s"
	exercise
	stop_postern
}

case_tls() {
	setup_ns
	make_pki > "$T/pki.log" 2>&1 || fail_case "make_pki failed"
	CLUSTER_TLS=1
	start_cluster
	start_cluster_postern "direct tls://$CL_ADDR:${NODE_PORTS[0]} ca=$PKI/ca.crt name=redis.example.test"
	exercise
	stop_postern
}

# round: the traffic's round as key tr:0 holds it, read from the nodes.
round() {
	local v
	v=$(ip netns exec "$NS" timeout 5 redis-cli -c -h "$CL_ADDR" \
	    -p "${NODE_PORTS[0]}" GET tr:0 2>/dev/null) || { echo 0; return; }
	[[ "$v" =~ ^0:([0-9]+)$ ]] && echo "${BASH_REMATCH[1]}" || echo 0
}

# wait_rounds N: the traffic goes N rounds further (bounded: 60 s).
wait_rounds() {
	local want=$(($(round) + $1)) n=600
	while ((n-- > 0)); do
		(($(round) >= want)) && return 0
		sleep 0.1
	done
	fail_case "traffic did not go $1 rounds further in 60s (client: $(tail -n 5 "$T/traffic.out" 2>/dev/null | paste -sd'|'))"
}

# master_id PORT, replica_of ID: from CLUSTER NODES on the nodes.
master_id() {
	ncli "$1" CLUSTER MYID
}
replica_of() {
	ncli "${NODE_PORTS[0]}" CLUSTER NODES |
	    awk -v m="$1" '$3 ~ /slave/ && $4 == m { split($2, a, "[:@]"); print a[2]; exit }'
}

case_reshard() {
	local stop tpid from to rport out m
	setup_ns
	start_cluster
	start_cluster_postern "direct tcp://$CL_ADDR:${NODE_PORTS[0]}"
	stop=$T/traffic-$_CASE_ID.stop	# T is the script's: one per case
	ip netns exec "$CNS" "$PY" "$TOP/tests/cluster_traffic.py" "$C_HOST" \
	    "$LISTEN_PORT" "$stop" > "$T/traffic.out" 2>&1 &
	tpid=$!
	track_client "$tpid"
	wait_rounds 3

	# Resharding under traffic: keys move slot by slot (ASK redirects).
	for m in "${NODE_PORTS[@]}"; do
		[[ "$(ncli "$m" ROLE | head -n 1)" == master ]] || continue
		if [[ -z "${from:-}" ]]; then from=$(master_id "$m")
		elif [[ -z "${to:-}" ]]; then to=$(master_id "$m"); fi
	done
	ip netns exec "$NS" timeout 120 redis-cli --cluster reshard \
	    "$CL_ADDR:${NODE_PORTS[0]}" --cluster-from "$from" \
	    --cluster-to "$to" --cluster-slots 3000 --cluster-yes \
	    > "$T/reshard.log" 2>&1 ||
	    fail_case "reshard: $(tail -n 3 "$T/reshard.log" | paste -sd'|')"
	wait_rounds 3

	# ASK under traffic, for sure: the slot of a key the traffic uses
	# is left migrating with its keys moved, so the client gets -ASK
	# (rewritten, counted) until the slot is given to the new node.
	ask_step tr:5
	wait_rounds 3

	# A manual failover under traffic: a replica of `to` takes over.
	rport=$(replica_of "$to")
	[[ -n "$rport" ]] || fail_case "no replica of $to"
	out=$(ncli "$rport" CLUSTER FAILOVER)
	[[ "$out" == OK ]] || fail_case "CLUSTER FAILOVER: $out"
	wait_until 30 failed_over "$rport" ||
	    fail_case "node $rport did not become master in 30s"
	wait_rounds 3

	touch "$stop"
	wait "$tpid"
	out=$(cat "$T/traffic.out")
	while read -r l; do note "client: $l"; done <<< "$out"
	[[ "$out" =~ ops=([0-9]+)\ wrong=0\  ]] ||
	    fail_case "wrong values or no summary: $(tail -n 3 <<< "$out" | paste -sd'|')"
	((BASH_REMATCH[1] > 0)) || fail_case "no operation went through"
	expect_no_log "has no listener for"
	out=$(redirects) || fail_case "no redirect counts in /health"
	note "redirects passed on to the clients (MOVED ASK): $out"
	[[ "$out" =~ ^[0-9]+\ ([0-9]+)$ ]] && ((BASH_REMATCH[1] > 0)) ||
	    fail_case "no -ASK reached the clients: $out"
	curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" |
	    grep -Eq "^postern_cluster_redirects_total\{service=\"rc\",kind=\"ask\"\} ${BASH_REMATCH[1]}$" ||
	    fail_case "/metrics: postern_cluster_redirects_total ask is not ${BASH_REMATCH[1]}"
	stop_postern
}

# redirects: "MOVED ASK" postern passed on, from /health.
redirects() {
	curl -sf "http://127.0.0.1:$ADMIN_PORT/health" | "$PY" -c '
import json, sys
c = json.load(sys.stdin)["services"]["rc"]["cluster"]
print(c["redirects_moved"], c["redirects_ask"])'
}

asked() {
	local r
	r=$(redirects) || return 1
	[[ "$r" =~ ^[0-9]+\ ([0-9]+)$ ]] && ((BASH_REMATCH[1] > 0))
}

# ask_step KEY: KEY's slot set migrating from its master to another one,
# its keys MIGRATEd, until postern has passed an -ASK on (20 s at most);
# then the slot is the new node's.
ask_step() {
	local slot p src='' dst='' sid did keys
	slot=$(ncli "${NODE_PORTS[0]}" CLUSTER KEYSLOT "$1")
	for p in "${NODE_PORTS[@]}"; do
		[[ "$(ncli "$p" ROLE | head -n 1)" == master ]] || continue
		if [[ "$(ncli "$p" CLUSTER COUNTKEYSINSLOT "$slot")" != 0 ]]; then
			src=$p
		elif [[ -z "$dst" ]]; then
			dst=$p
		fi
	done
	[[ -n "$src" && -n "$dst" ]] || fail_case "ask_step: no owner or no other master for slot $slot"
	sid=$(master_id "$src") did=$(master_id "$dst")
	expect_eq "IMPORTING" OK "$(ncli "$dst" CLUSTER SETSLOT "$slot" IMPORTING "$sid")"
	expect_eq "MIGRATING" OK "$(ncli "$src" CLUSTER SETSLOT "$slot" MIGRATING "$did")"
	mapfile -t keys < <(ncli "$src" CLUSTER GETKEYSINSLOT "$slot" 1000)
	expect_eq "MIGRATE" OK "$(ncli "$src" MIGRATE "$CL_ADDR" "$dst" "" 0 5000 KEYS "${keys[@]}")"
	wait_until 20 asked || fail_case "no -ASK passed on in 20s with slot $slot migrating"
	expect_eq "SETSLOT NODE (new)" OK "$(ncli "$dst" CLUSTER SETSLOT "$slot" NODE "$did")"
	expect_eq "SETSLOT NODE (old)" OK "$(ncli "$src" CLUSTER SETSLOT "$slot" NODE "$did")"
}

# A node added and one removed under RedisCluster traffic: add-node (a
# listener opens for it), 500 slots resharded onto it (traffic reaches
# it through that listener), resharded away, del-node (its listener
# closes); no wrong value.
case_addnode() {
	local stop tpid new nid out m to=
	setup_ns
	start_cluster
	start_cluster_postern "direct tcp://$CL_ADDR:${NODE_PORTS[0]}"
	stop=$T/traffic-$_CASE_ID.stop	# T is the script's: one per case
	ip netns exec "$CNS" "$PY" "$TOP/tests/cluster_traffic.py" "$C_HOST" \
	    "$LISTEN_PORT" "$stop" > "$T/traffic.out" 2>&1 &
	tpid=$!
	track_client "$tpid"
	wait_rounds 3

	new=$(node_port) || fail_case "no free port for a node"
	REDIS_NETNS=$NS REDIS_ADDR=$CL_ADDR start_redis_on "$new" \
	    --cluster-enabled yes --cluster-config-file nodes.conf \
	    --cluster-node-timeout 5000 --cluster-announce-ip "$CL_ADDR"
	ip netns exec "$NS" timeout 60 redis-cli --cluster add-node \
	    "$CL_ADDR:$new" "$CL_ADDR:${NODE_PORTS[0]}" > "$T/add.log" 2>&1 ||
	    fail_case "add-node: $(tail -n 3 "$T/add.log" | paste -sd'|')"
	nid=$(master_id "$new")
	wait_log "$POSTERN_LOG" "notice: service rc: cluster node $nid ${CL_ADDR//./\\.}:$new: listening on $C_HOST:[0-9]+$" 30 ||
	    fail_case "no listener for the added node $nid in 30s"
	ip netns exec "$NS" timeout 120 redis-cli --cluster reshard \
	    "$CL_ADDR:${NODE_PORTS[0]}" --cluster-from all --cluster-to "$nid" \
	    --cluster-slots 500 --cluster-yes > "$T/reshard1.log" 2>&1 ||
	    fail_case "reshard onto the new node: $(tail -n 3 "$T/reshard1.log" | paste -sd'|')"
	wait_rounds 3
	(($(ncli "$new" DBSIZE) > 0)) || fail_case "the traffic wrote nothing on the new node"

	for m in "${NODE_PORTS[@]}"; do
		[[ "$(ncli "$m" ROLE | head -n 1)" == master ]] && { to=$(master_id "$m"); break; }
	done
	ip netns exec "$NS" timeout 120 redis-cli --cluster reshard \
	    "$CL_ADDR:${NODE_PORTS[0]}" --cluster-from "$nid" --cluster-to "$to" \
	    --cluster-slots 500 --cluster-yes > "$T/reshard2.log" 2>&1 ||
	    fail_case "reshard off the new node: $(tail -n 3 "$T/reshard2.log" | paste -sd'|')"
	wait_rounds 3
	ip netns exec "$NS" timeout 60 redis-cli --cluster del-node \
	    "$CL_ADDR:${NODE_PORTS[0]}" "$nid" > "$T/del.log" 2>&1 ||
	    fail_case "del-node: $(tail -n 3 "$T/del.log" | paste -sd'|')"
	wait_log "$POSTERN_LOG" "notice: service rc: cluster node $nid left the topology$" 30 ||
	    fail_case "the removed node's listener did not close in 30s"
	wait_rounds 3

	touch "$stop"
	wait "$tpid"
	out=$(cat "$T/traffic.out")
	while read -r l; do note "client: $l"; done <<< "$out"
	[[ "$out" =~ ops=([0-9]+)\ wrong=0\  ]] ||
	    fail_case "wrong values or no summary: $(tail -n 3 <<< "$out" | paste -sd'|')"
	((BASH_REMATCH[1] > 0)) || fail_case "no operation went through"
	out=$(curl -sf "http://127.0.0.1:$ADMIN_PORT/health" | "$PY" -c '
import json, sys
c = json.load(sys.stdin)["services"]["rc"]["cluster"]
print(" ".join("%s:%s:%s" % (n["id"], n["state"], n["in_topology"]) for n in c["nodes"]))')
	[[ " $out " == *" $nid:closed:False "* ]] ||
	    fail_case "/health: the removed node is not closed: $out"
	expect_no_log "has no listener for"
	stop_postern
}

# cluster_ports smaller than the cluster: the nodes left out are said,
# at start and in every reply that names them; the rest still work.
case_full() {
	local out
	setup_ns
	start_cluster
	RANGE_N=4
	start_cluster_postern "direct tcp://$CL_ADDR:${NODE_PORTS[0]}"
	expect_log "warn: service rc: cluster_ports $FIRST-$LAST is full: node [0-9a-f]{40} ${CL_ADDR//./\\.}:[0-9]+ gets no listener$"
	out=$(ccli -p "$LISTEN_PORT" CLUSTER SLOTS 2>&1)
	[[ "$out" == *"$CL_ADDR"* ]] || fail_case "CLUSTER SLOTS: the unmapped nodes are not in it: $out"
	wait_log "$POSTERN_LOG" "warn: s[0-9]+ rc .*: the reply names 2 cluster node\\(s\\) postern has no listener for \\(left as the server wrote them; 2 so far\\)$" 10 ||
	    fail_case "no report of the 2 unmapped nodes"
	expect_admin_nodes 4 2
	stop_postern
}

# A reload (SIGHUP) starts the cluster again: node listeners close and
# reopen, each node ID on the port it had; clients go on.
case_reload() {
	local i out re before after
	setup_ns
	start_cluster
	RANGE_N=10
	start_cluster_postern "direct tcp://$CL_ADDR:${NODE_PORTS[0]}"
	FIRST=$((FIRST + 2))
	sed -i "s/^cluster_ports = .*/cluster_ports = $FIRST-$LAST/" "$CONF"
	kill -HUP "$POSTERN_PID"
	wait_count "$POSTERN_LOG" "notice: service rc: cluster node [0-9a-f]{40} .*: listening on $C_HOST:" \
	    $((2 * NNODES)) 20 || fail_case "the node listeners did not reopen after SIGHUP"
	re="notice: service rc: cluster node ([0-9a-f]{40}) .*: listening on $C_HOST:([0-9]+)$"
	before=$(grep -E "$re" "$POSTERN_LOG" | tail -n "$NNODES" |
	    sed -E "s/.*$re/\1 \2/" | sort)
	# The range grows downwards: fresh assignments would start at the
	# new first port; the nodes must keep theirs.
	sed -i "s/^cluster_ports = .*/cluster_ports = $((FIRST - 2))-$LAST/" "$CONF"
	kill -HUP "$POSTERN_PID"
	wait_count "$POSTERN_LOG" "$re" $((3 * NNODES)) 20 ||
	    fail_case "the node listeners did not reopen after SIGHUP"
	after=$(grep -E "$re" "$POSTERN_LOG" | tail -n "$NNODES" |
	    sed -E "s/.*$re/\1 \2/" | sort)
	expect_eq "node ID -> port after the reload" "$before" "$after"
	out=$(ccli -p "$LISTEN_PORT" CLUSTER SLOTS 2>&1)
	expect_local_only "CLUSTER SLOTS after reload" "$out"
	for ((i = 0; i < 20; i++)); do
		out=$(ccli -c -p "$LISTEN_PORT" SET "rl:$i" "v$i" 2>&1)
		[[ "$out" == OK ]] || fail_case "redis-cli -c SET rl:$i after reload: $out"
	done
	stop_postern
}

# nodes_on ROUTE: in /health, the seed and every listening node take
# ROUTE for new sessions, no session of theirs is on another route, and
# some are on ROUTE.  Prints what it saw.
nodes_on() {
	curl -sf "http://127.0.0.1:$ADMIN_PORT/health" > "$T/health.json" ||
	    { echo "no /health"; return 1; }
	"$PY" - "$T/health.json" "$1" <<'EOF_PY'
import json, sys
doc, want = sys.argv[1:]
rc = json.load(open(doc))["services"]["rc"]
nodes = [n for n in rc["cluster"]["nodes"] if n["state"] == "listening"]
on = {r: 0 for r in rc["routes"]}
bad = []
for n in nodes:
    if n["route"] != want:
        bad.append("node %.8s takes %s" % (n["id"], n["route"]))
    for r, v in n["routes"].items():
        on[r] += v["sessions_active"]
for r, v in rc["routes"].items():
    on[r] += v["sessions_active"]
print("; ".join(bad + ["%s: %d sessions" % (r, k) for r, k in on.items()]))
sys.exit(0 if not bad and on[want] > 0 and sum(on.values()) == on[want] else 1)
EOF_PY
}

# ctl_rc VERB ROUTE: postern ctl VERB rc ROUTE.
ctl_rc() {
	timeout 20 "$POSTERN" ctl -a "127.0.0.1:$ADMIN_PORT" "$1" rc "$2" \
	    > "$T/ctl.out" 2>&1 || fail_case "ctl $1 rc $2: $(cat "$T/ctl.out")"
}

# Two routes to the cluster (a: tcp://, b: ssh:// through a bastion in
# the cluster's namespace) under RedisCluster traffic: the seed's route
# failover takes every node's connections along at once, and back.
# First the operator's (ctl disable a: the node routes a are still up,
# only the seed says so), then a route going down (nft drops what
# reaches the nodes from this host but not the bastion's connections).
case_routefail() {
	local stop tpid out veth=$VETH_NS
	setup_ns
	start_cluster
	SSHD_NETNS=$NS start_sshd_on "$(free_port)" "$CL_ADDR"
	trap '_rc=$?; _ssh_case_cleanup; cleanup_ns; _with_status "$_rc"; _case_cleanup' EXIT
	MORE_ROUTES=("b ssh://b/$CL_ADDR:${NODE_PORTS[0]}")
	start_cluster_postern "a tcp://$CL_ADDR:${NODE_PORTS[0]}" \
	    "$(conf_bastion b address="$CL_ADDR:$SSHD_PORT")"
	MORE_ROUTES=()
	stop=$T/traffic-$_CASE_ID.stop	# T is the script's: one per case
	ip netns exec "$CNS" "$PY" "$TOP/tests/cluster_traffic.py" "$C_HOST" \
	    "$LISTEN_PORT" "$stop" > "$T/traffic.out" 2>&1 &
	tpid=$!
	track_client "$tpid"
	wait_rounds 3
	wait_until 20 nodes_on a > /dev/null ||
	    fail_case "before: not all on route a: $(nodes_on a)"

	ctl_rc disable a
	wait_until 20 nodes_on b > /dev/null ||
	    fail_case "ctl disable a: the nodes did not all follow to b in 20s: $(nodes_on b)"
	wait_rounds 3
	ctl_rc enable a
	wait_until 20 nodes_on a > /dev/null ||
	    fail_case "ctl enable a: the nodes did not all come back to a in 20s: $(nodes_on a)"
	wait_rounds 3

	ip netns exec "$NS" nft add table inet rf &&
	    ip netns exec "$NS" nft add chain inet rf input \
	    '{ type filter hook input priority 0; }' &&
	    ip netns exec "$NS" nft add rule inet rf input iifname "$veth" \
	    tcp dport != "$SSHD_PORT" drop ||
	    fail_case "nft rule in $NS failed"
	wait_until 40 nodes_on b > /dev/null ||
	    fail_case "route a down: the nodes did not all follow to b in 40s: $(nodes_on b)"
	wait_rounds 3
	expect_log "warn: service rc: new sessions go to b \(was a\)"

	touch "$stop"
	wait "$tpid"
	out=$(cat "$T/traffic.out")
	while read -r l; do note "client: $l"; done <<< "$out"
	[[ "$out" =~ ops=([0-9]+)\ wrong=0\  ]] ||
	    fail_case "wrong values or no summary: $(tail -n 3 <<< "$out" | paste -sd'|')"
	((BASH_REMATCH[1] > 0)) || fail_case "no operation went through"
	ip netns exec "$NS" nft delete table inet rf
	stop_postern
}

# max_connections holds per node: each node listener is a service of
# its own; two clients on node X fill it (a third is refused, logged
# with the node's label) while node Y and the seed still take two each.
case_maxconn() {
	local ports out
	setup_ns
	start_cluster
	EXTRA_KEYS=(max_connections=2)
	start_cluster_postern "direct tcp://$CL_ADDR:${NODE_PORTS[0]}"
	EXTRA_KEYS=()
	ports=$(curl -sf "http://127.0.0.1:$ADMIN_PORT/health" | "$PY" -c '
import json, sys
c = json.load(sys.stdin)["services"]["rc"]["cluster"]
print(" ".join(str(n["port"]) for n in c["nodes"] if n["state"] == "listening"))')
	read -r -a ports <<< "$ports"
	((${#ports[@]} == NNODES)) || fail_case "/health: ${#ports[@]} listening nodes"
	out=$(ip netns exec "$CNS" timeout 30 "$PY" - "$C_HOST" "${ports[0]}" \
	    "${ports[1]}" "$LISTEN_PORT" <<'EOF_PY'
import socket, sys
host, x, y, seed = sys.argv[1], *map(int, sys.argv[2:])
def conn(port):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"PING\r\n")
    try:
        return s, s.recv(64)
    except OSError as e:
        return s, repr(e).encode()
held = []
for port in (x, x, y, y, seed, seed):
    s, r = conn(port)
    held.append(s)
    print(port, r)
s, r = conn(x)
print("third", r)
EOF_PY
	)
	note "$out"
	(($(grep -c '+PONG' <<< "$out") == 6)) ||
	    fail_case "two clients on each of node X, node Y, the seed: not all answered: $out"
	[[ "$out" == *"third b''"* || "$out" == *third*ConnectionResetError* ]] ||
	    fail_case "a third client on node X was not refused: $out"
	wait_log "$POSTERN_LOG" "warn: service rc node ${CL_ADDR//./\\.}:[0-9]+: .*: refused: max_connections reached \\(2; 1 refused so far\\)$" 10 ||
	    fail_case "no refusal logged with the node's label"
	stop_postern
}

failed_over() {
	[[ "$(ncli "$1" ROLE | head -n 1)" == master ]]
}

run_case "cluster over tcp://: redirects and CLUSTER replies name postern's listeners; redis-cli -c and RedisCluster work; nodes in /health, /metrics, /status" case_tcp
run_case "cluster over ssh:// (bastion in the cluster's namespace): the same" case_ssh
run_case "cluster over tcp:// under RedisCluster traffic: resharding, a slot left migrating (-ASK rewritten, counted), manual failover; no wrong value" case_reshard
run_case "cluster over tcp:// under RedisCluster traffic: a node added (listener opened, slots resharded onto it) and removed (listener closed); no wrong value" case_addnode
run_case "cluster_ports full: unmapped nodes logged at start and in each reply, counted in /health, /metrics and /status" case_full
run_case "cluster: SIGHUP reopens the node listeners on the same ports; redis-cli -c goes on" case_reload
run_case "cluster in the developer mode: -L seed -J bastion -o cluster=yes -o cluster_ports=...: the same" case_devmode
run_case "cluster over tls:// (TLS-only nodes, tls-cluster yes): the same" case_tls
run_case "cluster: max_connections holds per node listener (a third client on one node refused and logged with its label; another node and the seed take theirs)" case_maxconn
run_case "cluster, routes a (tcp://) and b (ssh://) under RedisCluster traffic: ctl disable a, enable a, then a black-holed: every node's sessions follow the seed's route at once; no wrong value" case_routefail
finish
