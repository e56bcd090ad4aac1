#!/bin/bash
# Sentinel-aware Redis routes (route option sentinel=NAME, the URL lists
# the Sentinels): real redis-sentinel processes (3 Sentinels, quorum 2),
# a master and a replica.  The route's server is the master a quorum of
# Sentinels names, confirmed by ROLE; SENTINEL FAILOVER under a redis-py
# pool's writes (each confirmed by WAIT 1) moves the sessions to the new
# master and loses no acknowledged write; a restarted old master that
# still says master (its REPLICAOF renamed away, so the Sentinels cannot
# demote it) is never used; +switch-master alone starts a round.
# Through tcp://, ssh:// (the Sentinels and the master reached through
# the bastion) and tls:// (every server and Sentinel on a TLS port only).
. "$(dirname "$0")/../lib.sh"

unset SSH_AUTH_SOCK SSH_AGENT_PID
FAST=(check_interval=300ms check_fast_interval=100ms check_down_interval=200ms
	check_timeout=300ms fall=2 rise=1)

# cli PORT ARGS: redis-cli to a server or Sentinel of the case, over TLS
# when the case's transport (XPORT) is tls.
XPORT=tcp
cli() {
	if [[ $XPORT == tls ]]; then
		tls_rcli "$@"
	else
		rcli "$@"
	fi
}

# sentinel_cmd: redis-sentinel, or redis-server in Sentinel mode.
sentinel_cmd() {
	if command -v redis-sentinel > /dev/null; then
		echo redis-sentinel
	else
		echo "redis-server"
	fi
}

# start_sentinels MASTER_PORT: three Sentinels watching mymaster on
# 127.0.0.1:MASTER_PORT, with the lines of SENTINEL_CONF added (AUTH);
# quorum 2, down after 1 s; sets S1 S2 S3 and
# SENTINELS ("127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3"); returns when each
# knows the replica and the two other Sentinels.
start_sentinels() {
	local port dir cmd
	cmd=$(sentinel_cmd)
	SENTINEL_PORTS=()
	for _ in 1 2 3; do
		port=$(free_port) || fail_case "no free port for a Sentinel"
		dir=$T/sentinel-$port
		mkdir -p "$dir"
		if [[ $XPORT == tls ]]; then
			cat > "$dir/sentinel.conf" <<-EOF
			port 0
			tls-port $port
			tls-cert-file $PKI/server.crt
			tls-key-file $PKI/server.key
			tls-ca-cert-file $PKI/ca.crt
			tls-auth-clients no
			tls-replication yes
			EOF
		else
			printf 'port %s\n' "$port" > "$dir/sentinel.conf"
		fi
		cat >> "$dir/sentinel.conf" <<-EOF
		bind 127.0.0.1
		protected-mode no
		daemonize no
		dir $dir
		sentinel monitor mymaster 127.0.0.1 $1 2
		sentinel down-after-milliseconds mymaster 1000
		sentinel failover-timeout mymaster 10000
		sentinel parallel-syncs mymaster 1
		EOF
		[[ -z "${SENTINEL_CONF:-}" ]] ||
		    printf '%s\n' "$SENTINEL_CONF" >> "$dir/sentinel.conf"
		if [[ $cmd == redis-server ]]; then
			(_close_sess_fds; exec redis-server "$dir/sentinel.conf" --sentinel) > "$dir/log" 2>&1 &
		else
			(_close_sess_fds; exec redis-sentinel "$dir/sentinel.conf") > "$dir/log" 2>&1 &
		fi
		track_server "$!"
		SENTINEL_PORTS+=("$port")
	done
	S1=${SENTINEL_PORTS[0]} S2=${SENTINEL_PORTS[1]} S3=${SENTINEL_PORTS[2]}
	SENTINELS="127.0.0.1:$S1,127.0.0.1:$S2,127.0.0.1:$S3"
	for port in "${SENTINEL_PORTS[@]}"; do
		wait_until 30 sentinel_ready "$port" ||
		    fail_case "Sentinel $port never saw the replica and 2 other Sentinels: $(sentinel_field "$port" num-slaves) replicas, $(sentinel_field "$port" num-other-sentinels) Sentinels"
	done
}

# sentinel_field PORT FIELD: a field of SENTINEL MASTER mymaster.
sentinel_field() {
	cli "$1" SENTINEL MASTER mymaster 2>/dev/null | paste - - |
	    awk -v f="$2" -F'\t' '$1 == f { print $2 }'
}
sentinel_ready() {
	[[ "$(sentinel_field "$1" num-slaves)" == 1 &&
	    "$(sentinel_field "$1" num-other-sentinels)" == 2 ]]
}

# role PORT: ROLE's first word on a server.
role() {
	cli "$1" ROLE 2>/dev/null | head -n 1
}

PAIR_ARGS=()
# start_pair [ARGS]: a master (ARGS: more redis-server arguments) and a
# replica of it; sets M and R.
start_pair() {
	local -a tls=()
	[[ $XPORT != tls ]] || tls=(--tls-replication yes)
	# PAIR_ARGS (sentinel_auth): both servers'.
	tls+=("${PAIR_ARGS[@]}")
	start_redis "${tls[@]}" "$@"
	M=$REDIS_PORT
	start_redis "${tls[@]}" --replicaof 127.0.0.1 "$M"
	R=$REDIS_PORT
	wait_until 20 eval '[[ "$(cli "$M" INFO replication | tr -d "\r" | grep -c "^slave0:.*state=online")" == 1 ]]' ||
	    fail_case "the replica on $R never came online"
}

# transport TRANSPORT: the case's transport (XPORT); for tls, the
# servers and Sentinels speak TLS only (REDIS_TLS_CERT for start_redis).
transport() {
	XPORT=$1
	[[ $1 != tls ]] || REDIS_TLS_CERT=$PKI/server.crt
}

# sentinel_route TRANSPORT: ROUTE for the Sentinels over TRANSPORT.
sentinel_route() {
	case $1 in
	tls)	ROUTE="main tls://$SENTINELS sentinel=mymaster ca=$PKI/ca.crt" ;;
	tcp)	ROUTE="main tcp://$SENTINELS sentinel=mymaster" ;;
	ssh)	[[ -n "${SSHD_PORT:-}" ]] || start_sshd
		CONF_EXTRA=$(conf_bastion b)
		ROUTE="main ssh://b/$SENTINELS sentinel=mymaster" ;;
	esac
}

llen_at() {
	cli "$1" LLEN writes 2>/dev/null
}
llen_above() {
	local n
	n=$(llen_at "$1")
	[[ -n "$n" ]] && ((n > $2))
}

# health_master ADMIN_PORT: the master /health shows for route main.
health_master() {
	curl -s --max-time 10 "http://127.0.0.1:$1/health" |
	    jq -r '.services.redis.routes.main.master'
}

# sentinel_auth MODE: for MODE password or acl, every server and Sentinel
# asks for a password (REDISCLI_AUTH, exported: redis-cli, start_redis's
# PING and the writer's pool send it); the Sentinels' default user has it
# (requirepass), and for acl postern logs in to them as an ACL user
# "postern" with another password and only the commands it needs.  Sets
# PAIR_ARGS, SENTINEL_CONF, ROUTE_AUTH (route options) and SVC_AUTH
# (service keys: the check's password, also sent before ROLE).
sentinel_auth() {
	PAIR_ARGS=() SENTINEL_CONF='' ROUTE_AUTH='' SVC_AUTH=()
	[[ $1 != none ]] || return 0
	export REDISCLI_AUTH=pw-$$-$RANDOM
	SENT_PW=$REDISCLI_AUTH
	[[ $1 != acl ]] || SENT_PW=ppw-$$-$RANDOM
	printf '%s\n' "$REDISCLI_AUTH" > "$T/pw$_CASE_ID"
	printf '%s\n' "$SENT_PW" > "$T/spw$_CASE_ID"
	chmod 600 "$T/pw$_CASE_ID" "$T/spw$_CASE_ID"
	PAIR_ARGS=(--requirepass "$REDISCLI_AUTH" --masterauth "$REDISCLI_AUTH")
	SENTINEL_CONF="requirepass $REDISCLI_AUTH
sentinel auth-pass mymaster $REDISCLI_AUTH"
	ROUTE_AUTH=" sentinel_password_file=$T/spw$_CASE_ID"
	if [[ $1 == acl ]]; then
		SENTINEL_CONF+="
user postern on >$SENT_PW resetchannels &+switch-master -@all +auth +sentinel|get-master-addr-by-name +subscribe"
		ROUTE_AUTH+=" sentinel_user=postern"
	fi
	SVC_AUTH=("check_password_file=$T/pw$_CASE_ID")
}

# SENTINEL FAILOVER while a redis-py pool writes through postern: the
# route follows the new master (its log says so, with the vote), the
# pool's connections move to it, writes go on there, and every write
# that the master acknowledged with WAIT 1 is on the new master.
case_failover_under_traffic() {
	local out=$T/writer$_CASE_ID.out stop=$T/stop$_CASE_ID pid base acked lost admin
	transport "$1"
	sentinel_auth "${2:-none}"
	start_pair
	start_sentinels "$M"
	sentinel_route "$1"
	admin=$(free_port) || fail_case "no free port"
	GLOBAL_OPTS=(log_level=debug "admin=127.0.0.1:$admin")
	postern_service redis "$ROUTE$ROUTE_AUTH" -- "${FAST[@]}" "${SVC_AUTH[@]}"
	[[ $1 != ssh ]] ||
	    expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in " 20
	expect_log "notice: redis/main: sentinel: master mymaster is 127\\.0\\.0\\.1:$M \\(3 of 3 Sentinels, ROLE master; was none\\)$" 20
	expect_log "redis/main: .*up" 20
	expect_eq "/health: the route's master" "127.0.0.1:$M" "$(health_master "$admin")"
	[[ ${2:-none} == none ]] || expect_no_log "AUTH refused|NOAUTH|NOPERM|WRONGPASS|$REDISCLI_AUTH|$SENT_PW"
	/usr/bin/python3 "$TOP/tests/sentinel_writer.py" "$LISTEN_PORT" "$out" "$stop" > "$out.log" 2>&1 &
	pid=$!
	track_client "$pid"
	wait_until 20 llen_above "$M" 100 || fail_case "no writes reached the master: $(cat "$out.log")"
	expect_eq "SENTINEL FAILOVER" OK "$(cli "$S1" SENTINEL FAILOVER mymaster)"
	expect_log "notice: redis/main: sentinel: master mymaster is 127\\.0\\.0\\.1:$R \\([23] of 3 Sentinels, ROLE master; was 127\\.0\\.0\\.1:$M\\)$" 30
	wait_until 20 eval '[[ "$(role "$R")" == master ]]' || fail_case "the replica never became master"
	expect_eq "/health: the route's master" "127.0.0.1:$R" "$(health_master "$admin")"
	base=$(llen_at "$R")
	wait_until 30 llen_above "$R" "$((base + 200))" ||
	    fail_case "writes did not go on on the new master ($(llen_at "$R") after $base)"
	expect_log " moved to main 127\\.0\\.0\\.1:$R " 20
	touch "$stop"
	wait_exit "$pid" 30 || fail_case "the writer did not stop"
	grep -q '^acked ' "$out" || fail_case "the writer failed: $(tail -n 5 "$out.log")"
	acked=$(sed -n 's/^acked \([0-9]*\) .*/\1/p' "$out")
	note "$(grep -E '^(acked|error) ' "$out" | paste -sd';')"
	((acked > 300)) || fail_case "only $acked writes acknowledged"
	cli "$R" LRANGE writes 0 -1 | sort > "$T/have$_CASE_ID"
	grep -E '^[0-9]+-[0-9]+$' "$out" | sort > "$T/acked$_CASE_ID"
	lost=$(comm -23 "$T/acked$_CASE_ID" "$T/have$_CASE_ID" | wc -l)
	expect_eq "acknowledged writes missing on the new master" 0 "$lost"
	# Secrets are never logged, nor refused along the way.
	[[ ${2:-none} == none ]] || expect_no_log "AUTH refused|NOAUTH|NOPERM|WRONGPASS|$REDISCLI_AUTH|$SENT_PW"
}

# Sentinels that ask for a password postern lacks, or refuse the one it
# has: a warning per Sentinel naming the refusal and the key to set (once,
# not every round), no master, the password never logged; with the right
# file after a reload the master is found.
case_sentinel_auth_refused() {
	local wrong=$T/wrong$_CASE_ID
	transport tcp
	sentinel_auth acl
	printf 'not-%s\n' "$SENT_PW" > "$wrong"
	chmod 600 "$wrong"
	start_pair
	start_sentinels "$M"
	sentinel_route tcp
	GLOBAL_OPTS=(log_level=debug)
	postern_service redis "$ROUTE" -- "${FAST[@]}" "${SVC_AUTH[@]}"
	expect_log "warn: redis/main: sentinel 127\\.0\\.0\\.1:$S1: (SUBSCRIBE|SENTINEL get-master-addr-by-name): NOAUTH Authentication required\\. \\(sentinel_password_file\\)$" 20
	wait_count "$POSTERN_LOG" "sentinel: no quorum for master mymaster \\(0 of 3" 5 20 ||
	    fail_case "fewer than 5 rounds without AUTH"
	expect_eq "NOAUTH lines for Sentinel $S1 over 5 rounds" 1 \
	    "$(count_lines "$POSTERN_LOG" "sentinel 127\\.0\\.0\\.1:$S1: .*NOAUTH")"
	stop_postern
	postern_service redis "$ROUTE sentinel_user=postern sentinel_password_file=$wrong" -- "${FAST[@]}" "${SVC_AUTH[@]}"
	expect_log "warn: redis/main: sentinel 127\\.0\\.0\\.1:$S2: AUTH refused: WRONGPASS invalid username-password pair or user is disabled\\.$" 20
	wait_count "$POSTERN_LOG" "sentinel: no quorum for master mymaster" 5 20 ||
	    fail_case "fewer than 5 rounds"
	expect_eq "AUTH refused lines for Sentinel $S2 over 5 rounds" 1 \
	    "$(count_lines "$POSTERN_LOG" "sentinel 127\\.0\\.0\\.1:$S2: AUTH refused")"
	expect_no_log "$SENT_PW|$REDISCLI_AUTH"
	# The right file, by a reload.
	sed -i "s|sentinel_password_file=$wrong|sentinel_password_file=$T/spw$_CASE_ID|" "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log "notice: redis/main: sentinel: master mymaster is 127\\.0\\.0\\.1:$M \\(3 of 3 Sentinels, ROLE master; was none\\)$" 20
	expect_eq "SET through postern" OK "$(rcli "$LISTEN_PORT" SET k v 2>/dev/null)"
	expect_no_log "$SENT_PW|$REDISCLI_AUTH"
	stop_postern
}

# The master is killed; the Sentinels fail over to the replica; the old
# master comes back on its port with REPLICAOF and SLAVEOF renamed away,
# so it still says master and the Sentinels cannot demote it (a
# split-brain that a check of role:master alone would walk into).
# postern keeps the master the quorum names: its writes land there.
case_old_master_restarted() {
	local n port
	transport "$1"
	local -a stubborn=(--rename-command REPLICAOF postern-test-replicaof
		--rename-command SLAVEOF postern-test-slaveof)
	start_pair "${stubborn[@]}"
	start_sentinels "$M"
	sentinel_route "$1"
	GLOBAL_OPTS=(log_level=debug)
	postern_service redis "$ROUTE" -- "${FAST[@]}"
	expect_log "sentinel: master mymaster is 127\\.0\\.0\\.1:$M " 20
	cli "$M" SHUTDOWN NOSAVE > /dev/null 2>&1
	expect_log "notice: redis/main: sentinel: master mymaster is 127\\.0\\.0\\.1:$R \\([23] of 3 Sentinels, ROLE master; was 127\\.0\\.0\\.1:$M\\)$" 60
	# The Sentinels' 1 s down-after once marked the new master down
	# right after its promotion (their fresh links to it had no PING
	# answer yet) and failed over again, to the old master, which says
	# master and so looked promoted: then they name it, and postern is
	# right to use it.  The case is about a master nobody names, so the
	# Sentinels are made patient before it comes back.
	for port in "${SENTINEL_PORTS[@]}"; do
		expect_eq "SENTINEL SET on $port" OK \
		    "$(cli "$port" SENTINEL SET mymaster down-after-milliseconds 30000)"
	done
	# Back, as a master nobody names.
	start_redis_on "$M" "${stubborn[@]}"
	expect_eq "the old master's ROLE" master "$(role "$M")"
	n=$(grep -c "sentinel: master mymaster still 127\\.0\\.0\\.1:$R " "$POSTERN_LOG")
	wait_until 20 eval '(($(grep -c "sentinel: master mymaster still 127\\.0\\.0\\.1:$R " "$POSTERN_LOG") >= n + 3))' ||
	    fail_case "no three Sentinel rounds after the old master came back"
	expect_eq "SET through postern" OK "$(rcli "$LISTEN_PORT" SET probe here)"
	expect_eq "the key on the master the Sentinels name" here "$(cli "$R" GET probe)"
	expect_eq "the key on the old master" "" "$(cli "$M" GET probe)"
	expect_eq "the old master's ROLE, still" master "$(role "$M")"
	expect_no_log "sentinel: master mymaster is 127\\.0\\.0\\.1:$M .*was 127\\.0\\.0\\.1:$R"
}

# With check_interval = 60s no periodic round comes during the case: the
# +switch-master a Sentinel publishes (postern subscribes on each) is
# what starts the round that finds the new master.
case_switch_master_message() {
	transport "$1"
	start_pair
	start_sentinels "$M"
	sentinel_route "$1"
	GLOBAL_OPTS=(log_level=debug)
	postern_service redis "$ROUTE" -- check_interval=60s check_timeout=1s
	expect_log "notice: redis/main: sentinel: master mymaster is 127\\.0\\.0\\.1:$M " 20
	expect_log "redis/main: .*up" 20
	expect_eq "SET through postern" OK "$(rcli "$LISTEN_PORT" SET before x)"
	expect_eq "SENTINEL FAILOVER" OK "$(cli "$S2" SENTINEL FAILOVER mymaster)"
	expect_log "notice: redis/main: sentinel: \\+switch-master mymaster 127\\.0\\.0\\.1 $M 127\\.0\\.0\\.1 $R$" 30
	expect_log "notice: redis/main: sentinel: master mymaster is 127\\.0\\.0\\.1:$R \\([23] of 3 Sentinels, ROLE master; was 127\\.0\\.0\\.1:$M\\)$" 20
	expect_eq "SET through postern after the switch" OK "$(rcli "$LISTEN_PORT" SET after y)"
	expect_eq "the key on the new master" y "$(cli "$R" GET after)"
}

# A reload (SIGHUP) with the route unchanged keeps its master (the new
# watcher's first round finds it "still" there, no "was none"), and
# the session opened before it goes on.
case_reload() {
	local fd line
	transport "$1"
	start_pair
	start_sentinels "$M"
	sentinel_route "$1"
	GLOBAL_OPTS=(log_level=debug)
	postern_service redis "$ROUTE" -- "${FAST[@]}"
	expect_log "sentinel: master mymaster is 127\\.0\\.0\\.1:$M \\(3 of 3 Sentinels, ROLE master; was none\\)$" 20
	expect_log "redis/main: .*up" 20
	exec {fd}<> "/dev/tcp/127.0.0.1/$LISTEN_PORT" || fail_case "cannot connect"
	printf 'SET k 1\r\n' >&"$fd"
	read -r -t 10 line <&"$fd" || fail_case "no answer before the reload"
	expect_eq "SET before the reload" "+OK" "${line%$'\r'}"
	kill -HUP "$POSTERN_PID"
	expect_log "reload: configuration generation 2 loaded" 20
	expect_log "sentinel: master mymaster still 127\\.0\\.0\\.1:$M " 20
	[[ $(grep -c "master mymaster is 127\\.0\\.0\\.1:$M " "$POSTERN_LOG") == 1 ]] ||
	    fail_case "the master was looked for anew after a reload that kept the route"
	printf 'GET k\r\n' >&"$fd"
	read -r -t 10 line <&"$fd" && read -r -t 10 line <&"$fd" ||
	    fail_case "the session opened before the reload got no answer"
	expect_eq "GET on the session opened before the reload" 1 "${line%$'\r'}"
	exec {fd}>&-
}

# Configuration: the checks -n makes.
case_config_errors() {
	local out
	printf '[service r]\nlisten = 127.0.0.1:1\nprotocol = redis\nroute = a tcp://127.0.0.1:1,127.0.0.1:2\n' > "$T/c1.conf"
	out=$("$POSTERN" -n -c "$T/c1.conf" 2>&1)
	expect_match "a list without sentinel=" "c1\\.conf:4: .*route 'a': several addresses are Sentinels: name the master with sentinel=NAME" "$out"
	printf '[service p]\nlisten = 127.0.0.1:1\nprotocol = postgres\nroute = a tcp://127.0.0.1:1 sentinel=m\n' > "$T/c2.conf"
	out=$("$POSTERN" -n -c "$T/c2.conf" 2>&1)
	expect_match "sentinel= on postgres" "c2\\.conf:4: .*route 'a': sentinel is for protocol = redis" "$out"
	printf '[service r]\nlisten = 127.0.0.1:1\nprotocol = redis\nroute = a tcp://127.0.0.1:1,127.0.0.1:2 sentinel=mymaster\n' > "$T/c3.conf"
	out=$("$POSTERN" -n -c "$T/c3.conf" 2>&1)
	expect_match "a good one" "configuration OK" "$out"
	printf 's3cret\n' > "$T/spw"
	chmod 644 "$T/spw"
	printf '[service r]\nlisten = 127.0.0.1:1\nprotocol = redis\nroute = a tcp://127.0.0.1:1,127.0.0.1:2 sentinel=m sentinel_user=u\nroute = b tcp://127.0.0.1:3 sentinel_password_file=%s\nroute = c tcp://127.0.0.1:1,127.0.0.1:2 sentinel=m sentinel_password_file=%s\n' "$T/spw" "$T/spw" > "$T/c4.conf"
	out=$("$POSTERN" -n -c "$T/c4.conf" 2>&1)
	expect_match "sentinel_user alone" "c4\\.conf:4: .*route 'a': sentinel_user needs sentinel_password_file" "$out"
	expect_match "sentinel_password_file without sentinel=" "c4\\.conf:5: .*route 'b': sentinel_user and sentinel_password_file are for a Sentinel route" "$out"
	expect_match "a secret file readable by all" "c4\\.conf:6: .*sentinel_password_file .*spw" "$out"
	[[ "$out" != *s3cret* ]] || fail_case "the password is in -n's output"
	chmod 600 "$T/spw"
	printf '[service r]\nlisten = 127.0.0.1:1\nprotocol = redis\nroute = c tcp://127.0.0.1:1,127.0.0.1:2 sentinel=m sentinel_user=u sentinel_password_file=%s\n' "$T/spw" > "$T/c5.conf"
	out=$("$POSTERN" -n -c "$T/c5.conf" 2>&1)
	expect_match "sentinel_user and a 600 password file" "configuration OK" "$out"
}

(make_pki) > "$T/pki.log" 2>&1 || {
	fail "$SCRIPT_NAME: certificates" "openssl failed: $(tail -n 3 "$T/pki.log" | paste -sd'|')"
	finish
}
run_case "config: sentinel= checks" case_config_errors
for t in tcp ssh tls; do
	run_case "$t: SENTINEL FAILOVER under a redis-py pool: sessions follow, no acknowledged write lost" case_failover_under_traffic "$t"
	run_case "$t: a restarted old master that still says master is not used" case_old_master_restarted "$t"
	run_case "$t: +switch-master starts a round (no periodic one due)" case_switch_master_message "$t"
	run_case "$t: a reload keeps the route's master and its sessions" case_reload "$t"
done
run_case "tcp: Sentinels with requirepass: AUTH, FAILOVER under a redis-py pool" case_failover_under_traffic tcp password
run_case "tcp: Sentinels with an ACL user: AUTH user password, FAILOVER under a redis-py pool" case_failover_under_traffic tcp acl
run_case "ssh: Sentinels with an ACL user: AUTH user password, FAILOVER under a redis-py pool" case_failover_under_traffic ssh acl
run_case "tls: Sentinels with requirepass: AUTH, FAILOVER under a redis-py pool" case_failover_under_traffic tls password
run_case "Sentinel AUTH missing or refused: one warning per Sentinel, the key to set; right after a reload" case_sentinel_auth_refused
finish
