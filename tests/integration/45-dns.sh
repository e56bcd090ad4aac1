#!/bin/bash
# Endpoints that move by DNS (route names, not literals).  A tiny
# authoritative DNS server (tests/dns_server.py) on loopback answers for
# db.example.test from a zone file the test rewrites; postern asks it
# through "resolver =".  Route names resolve on every connect and every
# check, never cached; when the name stops pointing at the server a
# session uses, the session leaves at a safe point (a Redis session is
# moved, its redis-py pool seeing no error; a PostgreSQL one is closed at
# an idle point with 57P01); a flip to a server holding another dataset is
# caught by the identity guard and moves nobody; an ssh:// route's name
# goes to the bastion unresolved.  Redis servers listen on one port on
# 127.0.0.2, .3 and .4, so only the address changes, as with a managed
# endpoint.
. "$(dirname "$0")/../lib.sh"

unset SSH_AUTH_SOCK SSH_AGENT_PID
NAME=db.example.test
FAST=(check_interval=300ms check_fast_interval=300ms check_down_interval=300ms
	check_timeout=300ms fall=2 rise=2)

# start_dns ADDR [PORT]: dns_server.py on ADDR (port 0: any), serving
# $T/zone$_CASE_ID$DNS_TAG; sets ZONE, DNS_PORT, DNS_LOG.  DNS_NETNS:
# in that network namespace.
start_dns() {
	local n=100
	ZONE=$T/zone$_CASE_ID${DNS_TAG:-} DNS_LOG=$T/dns$_CASE_ID${DNS_TAG:-}.log
	: > "$DNS_LOG"
	[[ -f "$ZONE" ]] || : > "$ZONE"
	rm -f "$T/dns.port"
	(_close_sess_fds; exec ${DNS_NETNS:+ip netns exec "$DNS_NETNS"} \
	    python3 "$TESTS_DIR/dns_server.py" --addr "$1" --port "${2:-0}" \
	    --zone "$ZONE" --port-file "$T/dns.port" --log "$DNS_LOG" \
	    ${DNS_SILENT:+--silent}) \
	    2> "$T/dns.err" &
	track_server "$!"
	while ((n-- > 0)) && [[ ! -s "$T/dns.port" ]]; do
		sleep 0.1
	done
	DNS_PORT=$(cat "$T/dns.port" 2>/dev/null) ||
	    fail_case "dns_server.py did not start: $(tail -n 3 "$T/dns.err")"
}

# zone ADDR [TTL]: db.example.test now has the one A record ADDR (none
# without ADDR), swapped in atomically.
zone() {
	if [[ -n "${1:-}" ]]; then
		printf '%s A %s %s\n' "$NAME" "$1" "${2:-5}" > "$ZONE.new"
	else
		: > "$ZONE.new"
	fi
	mv -f "$ZONE.new" "$ZONE"
}

# three_redis TRANSPORT: redis-servers on 127.0.0.2, .3, .4, one port
# (RPORT), who = a, b, c; identity prod, prod, staging.
three_redis() {
	local t=$1 ip who id
	RPORT=$(free_port) || fail_case "no free port"
	[[ $t != tls ]] || REDIS_TLS_CERT=$PKI/server.crt
	for ip in 2 3 4; do
		REDIS_ADDR=127.0.0.$ip start_redis_on "$RPORT"
		who=$(printf '%s' "abc" | cut -c$((ip - 1)))
		id=prod
		((ip == 4)) && id=staging
		on 127.0.0.$ip SET who "$who" > /dev/null
		on 127.0.0.$ip SET postern:identity "$id" > /dev/null
	done
}

# on ADDR ARGS: redis-cli straight to the server on ADDR:RPORT.
on() {
	local a=$1
	shift
	if [[ -n "${REDIS_TLS_CERT:-}" ]]; then
		timeout 10 redis-cli --tls --cacert "$PKI/ca.crt" -h "$a" \
		    -p "$RPORT" "$@"
	else
		timeout 10 redis-cli -h "$a" -p "$RPORT" "$@"
	fi
}

# sessions_gone ADDR: no connection left on ADDR but this redis-cli's
# (health checks follow the name too, so none goes there any more).
sessions_gone() {
	[[ "$(on "$1" CLIENT LIST 2>/dev/null | grep -vc 'cmd=client|list')" == 0 ]]
}

# redis_route TRANSPORT: ROUTE for db.example.test:RPORT over TRANSPORT.
redis_route() {
	case $1 in
	tcp)	ROUTE="main tcp://$NAME:$RPORT" ;;
	tls)	ROUTE="main tls://$NAME:$RPORT ca=$PKI/ca.crt" ;;
	esac
}

health() {
	curl -sS --max-time 5 "http://$ADMIN/health" 2>/dev/null | jq -r "$1" 2>/dev/null
}

dns_metric() {
	curl -sS --max-time 5 "http://$ADMIN/metrics" 2>/dev/null |
	    awk '$1 ~ /^postern_route_dns_addresses\{.*route="main"/ { print $2 }'
}

health_is() {
	[[ "$(health "$1")" == "$2" ]]
}

start_pool() {
	: > "$T/pool.out"
	rm -f "$T/pool.stop"
	(_close_sess_fds; exec /usr/bin/python3 "$TESTS_DIR/redis_pool_client.py" \
	    --port "$LISTEN_PORT" --out "$T/pool.out" --stop "$T/pool.stop" \
	    --threads 4) 2> "$T/pool.err" &
	POOL_PID=$!
	track_client "$POOL_PID"
}

stop_pool() {
	: > "$T/pool.stop"
	wait_exit "$POOL_PID" 15 || fail_case "pool client did not stop"
	expect_eq "pool errors (first: $(grep -m 1 ' err ' "$T/pool.out"))" 0 \
	    "$(grep -c ' err ' "$T/pool.out")"
}

# postern_dns [KEY=VALUE...]: service redis over ROUTE, admin, resolver.
postern_dns() {
	ADMIN=127.0.0.1:$(free_port) || fail_case "no free port"
	GLOBAL_OPTS=("admin=$ADMIN" "resolver=127.0.0.1:$DNS_PORT")
	postern_service redis "$ROUTE" -- "$@"
}

now_ms() {
	date +%s%3N
}

# The record moves from a to b under a redis-py pool: every pooled
# session is moved to b at a safe point, the pool sees no error; the
# time from the change to the last session off a is reported.  Then the
# name stops resolving: sessions stay where they are.
case_flip_redis() {
	local t=$1 t0 t1 moved
	start_dns 127.0.0.1
	zone 127.0.0.2
	three_redis "$t"
	redis_route "$t"
	postern_dns "${FAST[@]}" check=redis
	expect_log "names resolve through 127\.0\.0\.1:$DNS_PORT"
	expect_log 'notice: redis/main: up \(check ok\)$'
	wait_until 10 health_is '.services.redis.routes.main.dns.addresses[0]' 127.0.0.2 ||
	    fail_case "no dns answer in /health: $(health .services.redis.routes.main)"
	start_pool
	wait_until 10 grep -q ' ok a ' "$T/pool.out" ||
	    fail_case "pool: no reply from a: $(tail -n 2 "$T/pool.out")"
	wait_until 10 eval '(( $(grep -c " ok a " "$T/pool.out") > 40 ))'
	t0=$(now_ms)
	zone 127.0.0.3
	wait_until 20 sessions_gone 127.0.0.2 ||
	    fail_case "sessions still on a: $(on 127.0.0.2 CLIENT LIST | head -n 5)"
	t1=$(now_ms)
	note "$t: record change to every session on the new address: $((t1 - t0)) ms (check_interval 300ms)"
	(( t1 - t0 < 5000 )) || fail_case "took $((t1 - t0)) ms (bound 5000)"
	expect_log "redis/main: $NAME resolves to 127\.0\.0\.3 \(was 127\.0\.0\.2; ttl 5s\)"
	expect_log "$NAME no longer points at this server; leaves at a safe point"
	moved=$(grep -c "moved to main $NAME:$RPORT at 127\.0\.0\.3 " "$POSTERN_LOG")
	((moved >= 1)) || fail_case "no session moved"
	wait_until 10 grep -q ' ok b ' "$T/pool.out" || fail_case "pool never served by b"
	# Every reply after the move came from b.
	local after
	wait_until 10 eval '(( $(awk -v t="$t1" '"'"'$1 > t + 100'"'"' "$T/pool.out" | wc -l) > 20 ))' ||
	    fail_case "the pool stopped after the move"
	after=$(awk -v t="$t1" '$1 > t + 100 && $2 == "ok" { print $3 }' "$T/pool.out" | sort -u | paste -sd,)
	expect_eq "servers answering after the move" b "$after"
	expect_eq "new sessions" b "$(rcli "$LISTEN_PORT" GET who 2>/dev/null)"
	expect_match "/status" "dns: $NAME: 127\.0\.0\.3 \(ttl 5s\)" \
	    "$(curl -sS --max-time 5 "http://$ADMIN/status" 2>&1)"
	expect_eq "postern_route_dns_addresses" 1 "$(dns_metric)"

	# No answer at all: nothing is judged, nobody moves.
	zone
	wait_until 10 health_is '.services.redis.routes.main.dns.error' NXDOMAIN ||
	    fail_case "NXDOMAIN not shown: $(health .services.redis.routes.main.dns)"
	expect_log "redis/main: $NAME does not resolve \(NXDOMAIN\); sessions stay"
	expect_eq "postern_route_dns_addresses, NXDOMAIN" 0 "$(dns_metric)"
	wait_until 10 eval '(( $(grep -c " ok b " "$T/pool.out") > 200 ))'
	sessions_gone 127.0.0.3 && fail_case "the pool's sessions left b on NXDOMAIN"
	stop_pool
	stop_postern
}

# Each connect resolves: with checks a minute apart, a new connection
# after the change goes to the new address at once (TTL 300 s: postern
# keeps no cache, so the record's next answer is the one used).  A
# reload that changes "resolver" takes effect for the next connect.
case_per_connect() {
	start_dns 127.0.0.1
	zone 127.0.0.2 300
	three_redis tcp
	redis_route tcp
	postern_dns check_interval=60s check=redis
	expect_eq "before" a "$(rcli "$LISTEN_PORT" GET who 2>/dev/null)"
	zone 127.0.0.3 300
	expect_eq "right after the change" b "$(rcli "$LISTEN_PORT" GET who 2>/dev/null)"
	(( $(grep -c "^$NAME A$" "$DNS_LOG") >= 2 )) || fail_case "postern did not ask again"
	# A reload that names another resolver: the next connect asks it.
	DNS_TAG=-2 start_dns 127.0.0.1
	zone 127.0.0.4
	sed -i "s/^resolver = .*/resolver = 127.0.0.1:$DNS_PORT/" "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log "names resolve through 127\.0\.0\.1:$DNS_PORT"
	expect_eq "after the reload" c "$(rcli "$LISTEN_PORT" GET who 2>/dev/null)"
	stop_postern
}

# A flip to a server with another dataset (identity_value pinned: the
# guard's reference): the route is refused, sessions stay on a, the pool
# sees no error.
case_flip_identity() {
	start_dns 127.0.0.1
	zone 127.0.0.2
	three_redis tcp
	redis_route tcp
	postern_dns "${FAST[@]}" check=redis identity_key=postern:identity identity_value=prod
	expect_log 'notice: redis/main: up \(check ok\)$'
	start_pool
	wait_until 10 grep -q ' ok a ' "$T/pool.out" ||
	    fail_case "pool: no reply from a: $(tail -n 2 "$T/pool.out")"
	zone 127.0.0.4
	expect_log "redis/main: identity mismatch: .*route refused" 10
	wait_until 10 eval '[[ -n "$(health .services.redis.routes.main.refused | grep -v null)" ]]' ||
	    fail_case "refusal not in /health"
	expect_no_log 'leaves at a safe point'
	expect_no_log 'moved to main'
	local n
	n=$(grep -c ' ok a ' "$T/pool.out")
	wait_until 10 eval '(( $(grep -c " ok a " "$T/pool.out") > n + 100 ))' ||
	    fail_case "the pool stopped being served by a"
	stop_pool
	(( $(grep -c ' ok c ' "$T/pool.out") == 0 )) || fail_case "the pool reached c"
	stop_postern
}

# A flip to a server that fails its check while the route is still up
# (a replica, check_role = master, fall = 100): the answer is not the
# route's until a check passes on it, so nobody moves to the replica.
case_flip_failing_check() {
	start_dns 127.0.0.1
	zone 127.0.0.2
	three_redis tcp
	on 127.0.0.4 REPLICAOF 127.0.0.2 "$RPORT" > /dev/null
	redis_route tcp
	GLOBAL_OPTS=(log_level=debug)
	ADMIN=127.0.0.1:$(free_port) || fail_case "no free port"
	GLOBAL_OPTS+=("admin=$ADMIN" "resolver=127.0.0.1:$DNS_PORT")
	postern_service redis "$ROUTE" -- check_interval=200ms \
	    check_fast_interval=200ms check_timeout=200ms fall=100 check=redis \
	    check_role=master
	expect_log 'notice: redis/main: up \(check ok\)$'
	start_pool
	wait_until 10 grep -q ' ok a ' "$T/pool.out" ||
	    fail_case "pool: no reply from a: $(tail -n 2 "$T/pool.out")"
	zone 127.0.0.4
	wait_until 15 eval '(( $(grep -c "redis/main: check: role" "$POSTERN_LOG") >= 8 ))' ||
	    fail_case "the replica's checks did not fail 8 times"
	# A connect resolves anew, so a session opened now lands on the
	# replica; a move would dial the name and land there again: it is
	# not stale while the name's answer is unproven (once a loop of
	# moves, each tick, when the pool grew after the flip).
	(_close_sess_fds; exec redis-cli -p "$LISTEN_PORT" -r 1000 -i 0.02 PING) \
	    > "$T/late.out" 2>&1 &
	local late=$!
	track_client "$late"
	wait_until 10 eval '(( $(grep -c PONG "$T/late.out") >= 5 ))' ||
	    fail_case "late client: no reply: $(tail -n 2 "$T/late.out")"
	wait_until 15 eval '(( $(grep -c "redis/main: check: role" "$POSTERN_LOG") >= 16 ))' ||
	    fail_case "the replica's checks did not fail 16 times"
	kill "$late" 2>/dev/null
	expect_eq "route still up" up "$(health .services.redis.routes.main.state)"
	expect_eq "the route's answer" 127.0.0.2 "$(health '.services.redis.routes.main.dns.addresses[0]')"
	expect_no_log 'leaves at a safe point'
	expect_no_log 'moved to main'
	sessions_gone 127.0.0.2 && fail_case "sessions left a"
	stop_pool
	stop_postern
}

# pg_on ADDR PORT: a fresh cluster listening on ADDR:PORT only.
pg_on() {
	local dir=$T/pg-$1-$2
	mkdir -p "$dir/data" "$dir/sock"
	((EUID == 0)) && chown -R postgres:postgres "$dir"
	_as_postgres "$PGBIN/initdb" -A trust --nosync -U postgres \
	    -D "$dir/data" > "$dir/initdb.log" 2>&1 ||
	    fail_case "initdb failed: $(tail -n 3 "$dir/initdb.log")"
	PG_ADDR=$1 _pg_ctl_start "$dir" "$2"
}

# PostgreSQL: the record moves; each session is closed at an idle point
# with FATAL 57P01 (never inside a transaction), reconnects, and lands on
# the new server.
case_flip_pg() {
	local t0 t1 port bad
	[[ -x "$PGBIN/initdb" ]] || skip_case "no PostgreSQL server binaries"
	start_dns 127.0.0.1
	zone 127.0.0.2
	port=$(free_port) || fail_case "no free port"
	pg_on 127.0.0.2 "$port"
	pg_on 127.0.0.3 "$port"
	for a in 127.0.0.2 127.0.0.3; do
		timeout 10 psql "host=$a port=$port user=postgres dbname=postgres" \
		    -XAtqc 'CREATE TABLE moved (n int)' > /dev/null ||
		    fail_case "create table on $a"
	done
	ROUTE="main tcp://$NAME:$port"
	ADMIN=127.0.0.1:$(free_port) || fail_case "no free port"
	GLOBAL_OPTS=("admin=$ADMIN" "resolver=127.0.0.1:$DNS_PORT")
	postern_service postgres "$ROUTE" -- "${FAST[@]}"
	expect_log 'notice: postgres/main: up \(check ok\)$'
	for c in q tx; do
		local -a tx=()
		[[ $c == tx ]] && tx=(--tx)
		: > "$T/$c.out"
		rm -f "$T/$c.stop"
		(_close_sess_fds; exec python3 "$TESTS_DIR/move_client.py" pg \
		    --port "$LISTEN_PORT" --out "$T/$c.out" --stop "$T/$c.stop" \
		    --who 'SELECT host(inet_server_addr())' \
		    ${tx[@]+"${tx[@]}"} --ms 20) 2> "$T/$c.err" &
		track_client "$!"
	done
	wait_until 10 grep -q ' ok 127.0.0.2$' "$T/q.out" ||
	    fail_case "no reply from .2: $(tail -n 2 "$T/q.out")"
	wait_until 10 grep -q ' ok ' "$T/tx.out" || fail_case "tx client: $(tail -n 2 "$T/tx.out")"
	t0=$(now_ms)
	zone 127.0.0.3
	wait_until 20 eval '[[ "$(timeout 10 psql "host=127.0.0.2 port=$port user=postgres dbname=postgres" \
	    -XAtqc "SELECT count(*) FROM pg_stat_activity WHERE client_port IS NOT NULL AND pid <> pg_backend_pid()")" == 0 ]]' ||
	    fail_case "sessions still on .2"
	t1=$(now_ms)
	note "postgres: record change to every session on the new address: $((t1 - t0)) ms (check_interval 300ms)"
	wait_until 10 grep -q ' ok 127.0.0.3$' "$T/q.out" ||
	    fail_case "the client never reached .3: $(tail -n 2 "$T/q.out")"
	expect_log 'closed \(safe point: for route main: idle\)'
	: > "$T/q.stop"
	: > "$T/tx.stop"
	wait_until 15 eval '! pgrep -f "move_client.py pg --port $LISTEN_PORT" > /dev/null'
	bad=$(grep ' err ' "$T/q.out" "$T/tx.out" | grep -v '57P01' | head -n 3)
	expect_eq "errors other than 57P01 at an idle point" "" "$bad"
	expect_eq "57P01 inside a transaction" 0 "$(grep -c ' err intx' "$T/tx.out")"
	(( $(cat "$T/q.out" "$T/tx.out" | grep -c '57P01:terminating_connection:_postern_moves_this_session') >= 2 )) ||
	    fail_case "the clients were not told why: $(grep ' err ' "$T/q.out" | head -n 2)"
	stop_postern
}

# ssh://: the name goes to the bastion as written and the bastion
# resolves it.  The bastion (sshd), its DNS server and two redis-servers
# live in a network namespace whose /etc/resolv.conf (ip netns exec's
# /etc/netns/NS/resolv.conf) names that DNS server; postern's own
# resolver, on the host, is never asked for the name.  When the record
# moves, new sessions reach the new server at once.
DNS_NS='' DNS_HIF=''
_dns_ns_cleanup() {
	[[ -n "$DNS_NS" ]] || return 0
	netns_remove "$DNS_NS"
	link_del "$DNS_HIF"
	rm -rf "/etc/netns/${DNS_NS:?}"
}

case_ssh_bastion_resolves() {
	local ns=pdns$$ nif=pdn$$ port a
	# Globals: the EXIT trap runs after this function's locals are gone.
	DNS_NS=$ns DNS_HIF=pdh$$
	trap '_rc=$?; _ssh_case_cleanup; _dns_ns_cleanup; _with_status "$_rc"; _case_cleanup' EXIT
	netns_pair "$ns" "$DNS_HIF" "$nif" > "$T/netns.err" || skip_case "$(cat "$T/netns.err")"
	mkdir -p "/etc/netns/$ns" &&
	    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' > "/etc/netns/$ns/resolv.conf" ||
	    fail_case "cannot write /etc/netns/$ns/resolv.conf"
	DNS_TAG=-host start_dns 127.0.0.1
	HOST_DNS_PORT=$DNS_PORT HOST_DNS_LOG=$DNS_LOG
	DNS_NETNS=$ns DNS_TAG=-ns start_dns 127.0.0.1 53
	zone 127.0.0.2
	port=$(free_port) || fail_case "no free port"
	for a in 2 3; do
		mkdir -p "$T/nsredis$a"
		(_close_sess_fds; exec ip netns exec "$ns" redis-server --port "$port" \
		    --bind "127.0.0.$a" --protected-mode no --save '' --appendonly no \
		    --daemonize no --dir "$T/nsredis$a" --logfile '') >> "$T/nsredis$a/log" 2>&1 &
		track_server "$!"
		wait_until 10 eval '[[ "$(ip netns exec "$ns" timeout 2 redis-cli -h 127.0.0.$a -p "$port" PING 2>/dev/null)" == PONG ]]' ||
		    fail_case "redis on 127.0.0.$a in $ns: $(tail -n 3 "$T/nsredis$a/log")"
		ip netns exec "$ns" redis-cli -h "127.0.0.$a" -p "$port" SET who "$(printf ab | cut -c$((a - 1)))" > /dev/null
	done
	SSHD_NETNS=$ns
	start_sshd_on "$(free_port)" "$NS_ADDR"
	SSHD_NETNS=
	# start_sshd_on set its own trap: ours again, with its clean-up.
	trap '_rc=$?; _ssh_case_cleanup; _dns_ns_cleanup; _with_status "$_rc"; _case_cleanup' EXIT
	CONF_EXTRA=$(conf_bastion b address="$NS_ADDR:$SSHD_PORT")
	ADMIN=127.0.0.1:$(free_port) || fail_case "no free port"
	GLOBAL_OPTS=("admin=$ADMIN" "resolver=127.0.0.1:$HOST_DNS_PORT")
	postern_service redis "main ssh://b/$NAME:$port" -- "${FAST[@]}" check=redis
	expect_log 'notice: redis/main: up \(check ok\)$' 20
	expect_eq "through the bastion" a "$(rcli "$LISTEN_PORT" GET who 2>/dev/null)"
	zone 127.0.0.3
	wait_until 10 eval '[[ "$(rcli "$LISTEN_PORT" GET who 2>/dev/null)" == b ]]' ||
	    fail_case "new sessions do not follow the record at the bastion"
	grep -q "$NAME" "$DNS_LOG" || fail_case "the bastion never asked its DNS server"
	expect_eq "postern's own resolver asked for $NAME" 0 "$(grep -c "$NAME" "$HOST_DNS_LOG")"
	expect_eq "/health dns of an ssh:// route" null "$(health .services.redis.routes.main.dns)"
	stop_postern
}

# A name the hosts file has (localhost here; a Kubernetes hostAlias in a
# pod) and DNS does not: connects use the hosts file, and so does the
# check's answer, so the route is not "unresolvable" and its sessions
# are judged by 127.0.0.1.
case_hosts_file() {
	start_dns 127.0.0.1
	start_redis
	ROUTE="main tcp://localhost:$REDIS_PORT"
	postern_dns "${FAST[@]}" check=redis
	wait_until 10 eval '[[ "$(health ".services.redis.routes.main.dns.addresses | index(\"127.0.0.1\")")" =~ ^[0-9]+$ ]]' ||
	    fail_case "localhost not in the answer: $(health .services.redis.routes.main.dns)"
	expect_no_log 'does not resolve'
	expect_eq "through localhost" PONG "$(rcli "$LISTEN_PORT" PING 2>/dev/null)"
	stop_postern
}

# A resolver that never answers: every check gives up mid-resolution
# (its dial cancelled), the route goes down with the dial's own words, and
# the cancelled resolutions come back into nothing (the regression: evdns
# calls back after evdns_getaddrinfo_cancel, and tcp_connect.c wrote into
# the freed request; ASan saw it at the next stop).
case_resolver_hangs() {
	DNS_SILENT=1 start_dns 127.0.0.1
	RPORT=$(free_port) || fail_case "no free port"
	redis_route tcp
	postern_dns check_interval=200ms check_fast_interval=200ms \
	    check_down_interval=200ms check_timeout=150ms fall=2 check=redis
	expect_log 'redis/main: unknown -> down \(2 failed checks; last: connect timeout after 150 ms' 10
	wait_until 10 eval '(( $(grep -c "^$NAME A$" "$DNS_LOG") >= 6 ))' ||
	    fail_case "too few queries: $(wc -l < "$DNS_LOG")"
	stop_postern
}

run_case "tcp: a DNS flip moves a redis-py pool's sessions, no error" case_flip_redis tcp
(make_pki) > "$T/pki.log" 2>&1 || fail "make_pki failed: $(tail -n 3 "$T/pki.log")"
run_case "tls: a DNS flip moves a redis-py pool's sessions, no error" case_flip_redis tls
run_case "each connect resolves: no cache" case_per_connect
run_case "a flip to a server failing its check (replica) moves nobody" case_flip_failing_check
run_case "a flip to another dataset: refused by the identity guard" case_flip_identity
run_case "postgres: a DNS flip closes sessions at idle with 57P01" case_flip_pg
run_case "ssh://: the bastion resolves the name; new sessions follow it" case_ssh_bastion_resolves
run_case "a name in the hosts file: connects and checks agree" case_hosts_file
run_case "a resolver that never answers: cancelled lookups, clean stop" case_resolver_hangs
finish
