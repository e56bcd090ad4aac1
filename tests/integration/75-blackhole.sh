#!/bin/bash
# A black-holed route: redis-server in a network namespace this test
# creates, reached from postern over a veth pair whose two link-local
# addresses exist only on that pair; an nftables rule inside the
# namespace drops the redis port, so checks time out instead of being
# refused.  Needs root (ip netns, nft); skips with the reason otherwise.
. "$(dirname "$0")/../lib.sh"

FAST=(check_interval=300ms check_fast_interval=100ms check_down_interval=200ms
	check_timeout=300ms fall=2 rise=2)

# Names carry the script's PID ($$ is the same in every case subshell).
NS=postern-bh-$$
VETH_HOST=pbh$$h
VETH_NS=pbh$$n
NS_ADDR='' HOST_ADDR=''

# netns_cleanup: remove the namespace (and with it the nft table and the
# veth end inside it) and the host end; idempotent.
netns_cleanup() {
	netns_remove "$NS"
	link_del "$VETH_HOST"
}

# The script's own exit also removes them (a case killed by its
# watchdog runs its trap too, but be sure).
trap '_rc=$?; netns_cleanup; _with_status "$_rc"; _script_cleanup' EXIT

# setup_netns: namespace + veth pair, /30 between them.  Skips the case
# when namespaces are not permitted here.
setup_netns() {
	trap '_rc=$?; netns_cleanup; _with_status "$_rc"; _case_cleanup' EXIT
	netns_pair "$NS" "$VETH_HOST" "$VETH_NS" > "$T/netns.why" ||
	    skip_case "$(cat "$T/netns.why")"
	HOST_ADDR=$NS_HOST_ADDR
	note "netns $NS: $HOST_ADDR ($VETH_HOST) <-> $NS_ADDR ($VETH_NS)"
}

# start_ns_redis: redis-server inside the namespace on NS_ADDR; sets
# NSR_PORT.  It answers PING from the host side across the veth.
start_ns_redis() {
	REDIS_NETNS=$NS REDIS_ADDR=$NS_ADDR start_redis
	NSR_PORT=$REDIS_PORT
}

# expect_served_by ROUTE ADDR PORT: a new redis-cli session reads
# who=ROUTE and postern logs its end on ROUTE ADDR:PORT.
expect_served_by() {
	local route=$1 addr=${2//./\\.} port=$3 re before
	re=" s[0-9]+ redis 127\\.0\\.0\\.1:[0-9]+ -> $route $addr:$port: closed \\("
	before=$(count_lines "$POSTERN_LOG" "$re")
	expect_eq "new session's GET who" "$route" "$(rcli "$LISTEN_PORT" GET who 2>&1)"
	wait_count "$POSTERN_LOG" "$re" $((before + 1)) 10 ||
	    fail_case "no new session line on $route $2:$port"
}

# nft drop for the redis port, inside the namespace only.
blackhole_on() {
	ip netns exec "$NS" nft add table inet bh &&
	    ip netns exec "$NS" nft add chain inet bh input \
	    '{ type filter hook input priority 0; policy accept; }' &&
	    ip netns exec "$NS" nft add rule inet bh input tcp dport "$NSR_PORT" drop ||
	    fail_case "nft rule in $NS failed"
}

blackhole_off() {
	ip netns exec "$NS" nft delete table inet bh ||
	    fail_case "nft delete table in $NS failed"
}

# Dropped SYNs: the check times out (connect timeout), the route goes down
# after fall=2, new sessions go to public; the rule goes: failback.
# (How long detection takes is measured by tests/bench/failover.sh,
# scenario "blackhole", with these check settings: a test only asserts.)
case_blackhole() {
	setup_netns
	start_ns_redis
	expect_eq "SET who on private" OK "$(timeout 10 redis-cli -h "$NS_ADDR" -p "$NSR_PORT" SET who private 2>&1)"
	start_redis
	PUB_PORT=$REDIS_PORT
	expect_eq "SET who on public" OK "$(rcli "$PUB_PORT" SET who public 2>&1)"
	postern_redis "private tcp://$NS_ADDR:$NSR_PORT" "public tcp://127.0.0.1:$PUB_PORT" -- \
	    "${FAST[@]}"
	expect_log 'notice: redis/private: up \(check ok\)$'
	expect_log 'notice: redis/public: up \(check ok\)$'
	expect_served_by private "$NS_ADDR" "$NSR_PORT"

	blackhole_on
	# Control: the drop works (a direct connect now times out).
	timeout 2 redis-cli -h "$NS_ADDR" -p "$NSR_PORT" PING > /dev/null 2>&1 &&
	    fail_case "redis in $NS still answers with the drop rule in place"
	expect_log "warn: redis/private: up -> down \(2 failed checks; last: [^;]*timeout[^;]*; was up for [0-9]+\.[0-9]{3}s\)$"
	expect_log 'warn: service redis: new sessions go to public \(was private\)$'
	expect_served_by public 127.0.0.1 "$PUB_PORT"

	blackhole_off
	expect_log "notice: redis/private: down -> up \(2 successful checks; was down for [0-9]+\.[0-9]{3}s\)$"
	expect_log 'notice: service redis: new sessions go to private \(was public\)$'
	expect_served_by private "$NS_ADDR" "$NSR_PORT"
	# The wording of the cause, checked last so that a wording slip does
	# not hide the behaviour above (DESIGN.md: "last: connect timeout
	# after 1000 ms").
	expect_log "warn: redis/private: up -> down \(2 failed checks; last: (connect timeout after 300 ms|timeout: no answer within 300 ms); was up for " 0
}

run_case "black-holed route (nft drop in a netns): timeout, failover, failback" case_blackhole
finish
