#!/bin/bash
# SSH bastion routes: a real OpenSSH sshd per case (Debian's
# openssh-server) on a free loopback port, with host and user keys made
# here by ssh-keygen; redis-server and PostgreSQL behind it.  Proves the
# ssh:// transport end to end: traffic, 200 sessions on one SSH
# connection, flow control with a client that does not read,
# host key and user key refusals, channel open failures with their
# cause, loss and reconnect, the keepalive counter against a hung
# bastion, reloads, the developer command line (-L/-J with an ssh_config
# alias) and a network-namespace topology where Redis is reachable only
# from the bastion.  Log lines are the contract; every wait is bounded.
# The relay's behaviour over ssh:// (64 MiB values, half-close, ...) is
# in 15-matrix.sh.
. "$(dirname "$0")/../lib.sh"

FAST=(check_interval=300ms check_fast_interval=100ms check_down_interval=200ms
	check_timeout=300ms fall=2 rise=2)

# ---------------------------------------------------------------------
# postern

# postern_via PROTO TARGET_PORT [KEY=VALUE...]: postern with service PROTO
# (one route "via ssh://b/127.0.0.1:TARGET_PORT") and bastion b, whose
# keys come from the array BASTION_OPTS; sets LISTEN_PORT, CONF.
BASTION_OPTS=()
postern_via() {
	local proto=$1 tport=$2
	shift 2
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global
		conf_bastion b "${BASTION_OPTS[@]}"
		conf_service "$proto" "127.0.0.1:$LISTEN_PORT" "$proto" \
		    "via ssh://b/127.0.0.1:$tport" -- "$@"
	} > "$CONF"
	start_postern "$CONF"
}

# session_re ROUTE ADDR PORT: a session's closing line on that route.
session_re() {
	printf ' s[0-9]+ [A-Za-z0-9_.-]+ 127\\.0\\.0\\.1:[0-9]+ -> %s %s:%s: closed \\(' \
	    "$1" "$(re_escape "$2")" "$3"
}

# ---------------------------------------------------------------------
# Traffic

case_redis() {
	start_redis
	start_sshd
	postern_via redis "$REDIS_PORT"
	expect_log "$(connected_re b)"
	expect_log 'notice: redis/via: up \(check ok\)$'
	expect_eq "PING through the bastion" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "SET through the bastion" OK "$(rcli "$LISTEN_PORT" SET k v 2>&1)"
	expect_eq "GET directly" v "$(rcli "$REDIS_PORT" GET k 2>&1)"
	wait_count "$POSTERN_LOG" "$(session_re via 127.0.0.1 "$REDIS_PORT")client closed\\)" 2 10 ||
	    fail_case "no 'closed (client closed)' session lines on route via"
	expect_eq "SSH connections to sshd" 1 "$(sshd_connections)"
	expect_eq "logins at sshd" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root')"
}

case_postgres() {
	local out
	command -v psql > /dev/null || skip_case "no psql"
	start_postgres
	start_sshd
	postern_via postgres "$PG_PORT"
	expect_log "$(connected_re b)"
	expect_log 'notice: postgres/via: up \(check ok\)$'
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -tAc 'select 6 * 7' 2>&1)
	expect_eq "psql through the bastion" 42 "$out"
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -tAc \
	    "select count(*) from generate_series(1, 100000)" 2>&1)
	expect_eq "psql count through the bastion" 100000 "$out"
	wait_count "$POSTERN_LOG" "$(session_re via 127.0.0.1 "$PG_PORT")client closed\\)" 2 10 ||
	    fail_case "no 'closed (client closed)' session lines for psql"
}

# A postgres check that logs in (SCRAM-SHA-256) and asks for the role
# through the channel, as through any transport: no TLS there, so no
# channel binding, and the password never in the log.
case_postgres_scram() {
	local pw=$T/chk.pw out
	command -v psql > /dev/null || skip_case "no psql"
	PG_HBA=$'local all all trust\nhost all postgres 127.0.0.1/32 trust
host all chk_md5 127.0.0.1/32 md5
host all all 127.0.0.1/32 scram-sha-256' start_postgres
	out=$(timeout 30 psql "host=$PG_SOCKDIR port=$PG_PORT user=postgres dbname=postgres" \
	    -XAtc "CREATE ROLE chk LOGIN PASSWORD 'chk-Pw-9';
	    SET password_encryption = 'md5';
	    CREATE ROLE chk_md5 LOGIN PASSWORD 'chk-Pw-9'" 2>&1) ||
	    fail_case "CREATE ROLE: $out"
	printf 'chk-Pw-9\n' > "$pw"
	chmod 600 "$pw"
	start_sshd
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/scram.conf
	{ conf_global log_level=debug
	  conf_bastion b
	  conf_service postgres "127.0.0.1:$LISTEN_PORT" postgres \
	      "via ssh://b/127.0.0.1:$PG_PORT" -- check_user=chk \
	      check_database=postgres "check_password_file=$pw" check_role=primary
	  # md5 over ssh://: the hop from the bastion is plain TCP, so the
	  # hash is refused without check_allow_md5, as on tcp://.
	  conf_service md5 "127.0.0.1:$(free_port)" postgres \
	      "via ssh://b/127.0.0.1:$PG_PORT" -- check_user=chk_md5 \
	      check_database=postgres "check_password_file=$pw"
	  conf_service md5ok "127.0.0.1:$(free_port)" postgres \
	      "via ssh://b/127.0.0.1:$PG_PORT" -- check_user=chk_md5 \
	      check_database=postgres "check_password_file=$pw" check_allow_md5=yes
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'debug: postgres/via: check: ok \(authenticated \(SCRAM-SHA-256\); primary\)'
	expect_log 'notice: postgres/via: up \(check ok\)$'
	expect_log 'debug: md5/via: check: authentication \(auth failed \(the server asks for an md5 password hash on a connection without TLS; refused: '
	expect_log 'debug: md5ok/via: check: ok \(authenticated \(md5\); primary\)'
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -tAc 'select 6 * 7' 2>&1)
	expect_eq "psql through the bastion" 42 "$out"
	expect_no_log 'chk-Pw-9'
}

# 200 sessions at once, all on the one SSH connection (max_connections=1:
# no connection grown for the burst).
case_200_sessions() {
	local i n pids=() bad=0
	start_redis
	start_sshd
	BASTION_OPTS=(max_connections=1)
	postern_via redis "$REDIS_PORT" max_connections=1000
	expect_log "$(connected_re b)"
	for i in $(seq 200); do
		(_close_sess_fds; exec timeout 60 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" BLPOP q 50) \
		    > "$T/c$i.out" 2>&1 &
		pids+=("$!")
		track_client "$!"
	done
	wait_until 30 eval '(($(ss -tnH state established "( sport = :$LISTEN_PORT )" | wc -l) >= 200))' ||
	    fail_case "200 clients did not all connect: $(ss -tnH state established "( sport = :$LISTEN_PORT )" | wc -l)"
	# Each BLPOP is at redis once its channel is open.
	wait_until 30 eval '[[ "$(rcli "$REDIS_PORT" INFO clients | tr -d "\r" | grep blocked_clients)" == blocked_clients:200 ]]' ||
	    fail_case "redis does not see 200 blocked clients: $(rcli "$REDIS_PORT" INFO clients | tr -d '\r' | grep blocked_clients)"
	expect_eq "SSH connections to sshd with 200 sessions open" 1 "$(sshd_connections)"
	expect_eq "logins at sshd" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root')"
	rcli "$REDIS_PORT" RPUSH q $(seq 200) > /dev/null
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || bad=$((bad + 1))
	done
	((bad == 0)) || fail_case "$bad of 200 clients failed, e.g. $(head -c 200 "$T/c1.out")"
	n=$(cat "$T"/c*.out | grep -cvx q)
	expect_eq "values received by the 200 clients" 200 "$n"
	expect_eq "distinct values" 200 "$(cat "$T"/c*.out | grep -vx q | sort -u | wc -l)"
	wait_count "$POSTERN_LOG" "$(session_re via 127.0.0.1 "$REDIS_PORT")client closed\\)" 200 20 ||
	    fail_case "not 200 'client closed' lines"
}

# 100 new sessions at once through one bastion: all served, on the
# connections the burst grew (connections=1, max_connections=4).
case_burst() {
	local out
	start_redis
	start_sshd
	postern_via redis "$REDIS_PORT" check=none max_connections=1000
	expect_log "$(connected_re b)"
	out=$(timeout 60 python3 "$TESTS_DIR/burst.py" "$LISTEN_PORT" 100) || fail_case "burst client failed: $out"
	expect_eq "sessions of the burst served" 100 "${out% *}"
	note "100 at once: all served in ${out#* } ms on $(sshd_connections) SSH connection(s); $(count_lines "$POSTERN_LOG" 'opening connection') grown"
	(($(sshd_connections) <= 4)) || fail_case "more than max_connections: $(sshd_connections)"
	# Three fixed connections: channels spread over them.
	stop_postern
	BASTION_OPTS=(connections=3 max_connections=3)
	postern_via redis "$REDIS_PORT" check=none max_connections=1000
	wait_count "$POSTERN_LOG" "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\)( \\[connection [23]\\])?: connected in " 3 10 ||
	    fail_case "not 3 connections up"
	out=$(timeout 60 python3 "$TESTS_DIR/burst.py" "$LISTEN_PORT" 100) || fail_case "burst client failed: $out"
	expect_eq "sessions of the burst served on 3 connections" 100 "${out% *}"
	note "100 at once on 3 connections: all served in ${out#* } ms"
	expect_eq "SSH connections" 3 "$(sshd_connections)"
}

# connections=2: a killed extra connection fails its own channel only;
# the main one keeps serving, and the extra reconnects.
case_extra_lost() {
	local port pids p admin m
	start_redis
	start_sshd
	admin=$(free_port) && LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global log_level=debug "admin=127.0.0.1:$admin"
		conf_bastion b connections=2
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
		    "via ssh://b/127.0.0.1:$REDIS_PORT" -- check=none
	} > "$CONF"
	start_postern "$CONF"
	expect_log "$(connected_re b)"
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\) \\[connection 2\\]: connected in [0-9]+ ms"
	m=$(curl -sf "http://127.0.0.1:$admin/metrics") || fail_case "GET /metrics failed"
	expect_match "two connections" '(^|'$'\n'')postern_bastion_connections\{bastion="b"\} 2('$'\n''|$)' "$m"
	# The first session goes to the main connection, the second to the
	# one with fewer channels.
	open_session one "TCP:127.0.0.1:$LISTEN_PORT"
	session_send one 'PING\r\n'
	wait_log "$T/one.out" PONG 10 || fail_case "first session got no PONG"
	open_session two "TCP:127.0.0.1:$LISTEN_PORT"
	session_send two 'PING\r\n'
	wait_log "$T/two.out" PONG 10 || fail_case "second session got no PONG"
	port=$(sed -n 's/.*\[connection 2\]: TCP connected from 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$POSTERN_LOG" | tail -n 1)
	[[ -n $port ]] || fail_case "no 'TCP connected from' line for connection 2"
	pids=$(ss -tnpH state established "( sport = :$SSHD_PORT and dport = :$port )" |
	    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
	[[ -n $pids ]] || fail_case "no sshd process for connection 2 (port $port)"
	for p in $pids; do kill -KILL "$p"; done
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\) \\[connection 2\\]: connection lost: the bastion closed the connection; 1 channel closed; reconnecting in [0-9]\\.[0-9]s$"
	expect_log "$(session_re via 127.0.0.1 "$REDIS_PORT")server error: bastion b: the bastion closed the connection\\)"
	expect_eq "sessions ended by the loss" 1 "$(count_lines "$POSTERN_LOG" 'server error: bastion b')"
	session_send one 'ECHO still\r\n'
	wait_log "$T/one.out" still 10 || fail_case "the session on the main connection stopped"
	expect_eq "PING while connection 2 is down" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\) \\[connection 2\\]: connected again after [0-9]+\\.[0-9]{3}s" 15
	expect_no_log "bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connection lost"
	expect_eq "SSH connections after the reconnect" 2 "$(sshd_connections)"
	session_close one
}

# A client that asks for 64 MiB and does not read: postern holds about a
# channel window, not the value (libssh2 only reopens the window as we
# read; the relay stops reading the channel's socket at its high mark).
# The proof is at redis: most of the reply has not left it (INFO stats
# total_net_output_bytes).  (postern's RSS is reported, not judged:
# under ASan, freed memory stays resident in the quarantine.)
SLOW_PL='
use strict; use IO::Socket::INET; use Digest::SHA;
my ($port, $go, $size) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port) or die "connect: $!\n";
print $s "GET big\r\n";
$| = 1; print "sent\n";
for (1 .. 600) { last if -e $go; select(undef, undef, undef, 0.1); }
my $want = $size + length("\$$size\r\n") + 2;
my ($buf, $got, $sha) = ("", 0, Digest::SHA->new(256));
my $head = "";
while ($got < $want) {
	my $n = sysread($s, $buf, 1 << 20) or last;
	$got += $n;
	$sha->add($buf);
}
print "got $got\n";
'
net_out() {
	rcli "$REDIS_PORT" INFO stats | tr -d '\r' | sed -n 's/^total_net_output_bytes://p'
}
# reply_left: the bytes of the GET reply still in redis' output buffer.
reply_left() {
	rcli "$REDIS_PORT" CLIENT LIST | sed -n 's/.* omem=\([0-9]*\) .*cmd=get .*/\1/p'
}

case_slow_client() {
	local size=$((64 * 1024 * 1024)) rss0 rss1 out0 out1 left
	start_redis
	start_sshd
	head -c "$size" /dev/urandom > "$T/big"
	expect_eq "SET 64 MiB at redis" OK "$(timeout 60 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -x SET big < "$T/big" 2>&1)"
	postern_via redis "$REDIS_PORT"
	expect_log "$(connected_re b)"
	rcli "$LISTEN_PORT" PING > /dev/null
	rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$POSTERN_PID/status")
	out0=$(net_out)
	(_close_sess_fds; exec timeout 150 perl -e "$SLOW_PL" "$LISTEN_PORT" "$T/go" "$size") > "$T/slow.out" 2>&1 &
	track_client "$!"
	wait_log "$T/slow.out" '^sent$' 10 || fail_case "slow client did not start: $(head -c 200 "$T/slow.out")"
	# The client reads nothing until $T/go exists: wait until redis has
	# stopped sending (1 s without progress), the buffers full.
	wait_steady 60 5 reply_left > /dev/null ||
	    fail_case "redis' reply did not stop leaving it: $(reply_left) bytes left"
	out1=$(net_out)
	rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$POSTERN_PID/status")
	left=$(((out1 - out0) / 1024 / 1024))
	note "stalled 64 MiB reply: $left MiB left redis (kernel buffers, window, postern), postern RSS +$(((rss1 - rss0) / 1024)) MiB"
	((left < 24)) || fail_case "$left MiB of a stalled 64 MiB reply left redis (want < 24): something buffers the stream"
	touch "$T/go"
	wait_log "$T/slow.out" '^got ' 60 || fail_case "slow client did not finish"
	expect_eq "bytes the slow client read" "got $((size + 13))" "$(grep '^got' "$T/slow.out")"
}

# ---------------------------------------------------------------------
# Host keys and user keys

case_hostkey_unknown() {
	local kh out
	start_redis
	start_sshd
	# A long path: the route's line and the client's error carry it whole.
	kh=$T/$(printf 'long%.0s' {1..60})/empty_known_hosts
	mkdir -p "${kh%/*}"
	: > "$kh"
	BASTION_OPTS=(known_hosts="$kh")
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)host key verification failed: the ssh-ed25519 key $(re_escape "$SSHD_FP") of \\[127\\.0\\.0\\.1\\]:$SSHD_PORT is unknown: not in $(re_escape "$kh") \\(check the fingerprint"
	expect_log "warn: redis/via: unknown -> down \\(2 failed checks; last: ssh: bastion b: .*host key verification failed: .* is unknown: not in $(re_escape "$kh"); was unknown for [0-9.]+s\\)$"
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_match "client's error" "^ERR postern: no healthy route for service redis \\(via: ssh: bastion b: .*is unknown: not in $(re_escape "$kh")\\)$" "$out"
	expect_no_log 'connected in'
	expect_eq "logins at sshd" 0 "$(count_lines "$SSHD_LOG" 'Accepted publickey')"
	# A service user (home /nonexistent) with the default known_hosts:
	# the hint says which key to set, not to add a key to that file.
	stop_postern
	BASTION_OPTS=(known_hosts=)
	HOME=$T/nonexistent postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)host key verification failed: .* is unknown: not in $(re_escape "$T/nonexistent/.ssh/known_hosts") \\(no such file\\) \\(its directory does not exist: set known_hosts in \\[bastion b\\] to a file this user can read, such as /etc/postern/known_hosts"
}

case_hostkey_changed() {
	local kh other
	start_redis
	start_sshd
	make_key impostor ed25519
	other=$(fp_of "$T/keys/impostor.pub")
	kh=$T/changed_known_hosts
	printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$T/keys/impostor.pub")" > "$kh"
	BASTION_OPTS=(known_hosts="$kh")
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)host key verification failed: the ssh-ed25519 key $(re_escape "$SSHD_FP") of \\[127\\.0\\.0\\.1\\]:$SSHD_PORT does not match $(re_escape "$kh") line 1 \\(which has $(re_escape "$other")\\): the host key changed, or someone is intercepting the connection \\(if the change is expected, remove the old key with: ssh-keygen -f '$(re_escape "$kh")' -R '\\[127\\.0\\.0\\.1\\]:$SSHD_PORT'\\); retrying in "
	# accept-new does not accept a changed key either.
	stop_postern
	BASTION_OPTS=(known_hosts="$kh" strict_host_key_checking=accept-new)
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)host key verification failed: .* does not match $(re_escape "$kh") line 1"
	expect_eq "known_hosts lines after accept-new met a changed key" 1 "$(wc -l < "$kh")"
	expect_eq "logins at sshd" 0 "$(count_lines "$SSHD_LOG" 'Accepted publickey')"
}

# A wrong pin is refused; the right one, after a reload, connects.
case_hostkey_pin() {
	local other
	start_redis
	start_sshd
	make_key impostor ed25519
	other=$(fp_of "$T/keys/impostor.pub")
	BASTION_OPTS=(known_hosts= host_key_sha256="$other")
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)host key verification failed: the ssh-ed25519 key $(re_escape "$SSHD_FP") of 127\\.0\\.0\\.1 does not match the pinned host_key_sha256 $(re_escape "$other")"
	sed -i "s|^host_key_sha256 = .*|host_key_sha256 = $SSHD_FP|" "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log 'info: reload: configuration generation 2 loaded$'
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): its \\[bastion\\] section changed: closing it$"
	expect_log "$(connected_re b)"
	expect_log 'notice: redis/via: (up \(check ok\)|(unknown|down) -> up)'
	expect_eq "PING with the pinned key" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

# Hashed known_hosts entries match; accept-new adds an unknown host.
case_hostkey_hashed_accept_new() {
	local kh
	start_redis
	start_sshd
	kh=$T/hashed_known_hosts
	printf 'otherhost ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n' > "$kh"
	cat "$SSHD_KNOWN" >> "$kh"
	ssh-keygen -q -H -f "$kh" > /dev/null 2>&1 || fail_case "ssh-keygen -H failed"
	grep -q "^\\[127" "$kh" && fail_case "ssh-keygen -H left a plain entry"
	BASTION_OPTS=(known_hosts="$kh")
	postern_via redis "$REDIS_PORT"
	expect_log "$(connected_re b)"
	expect_eq "PING (hashed known_hosts)" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	stop_postern
	kh=$T/new/known_hosts		# its directory does not exist yet
	BASTION_OPTS=(known_hosts="$kh" strict_host_key_checking=accept-new)
	postern_via redis "$REDIS_PORT"
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): accepted the new ssh-ed25519 key $(re_escape "$SSHD_FP") of \\[127\\.0\\.0\\.1\\]:$SSHD_PORT into $(re_escape "$kh") \\(strict_host_key_checking = accept-new\\)$"
	expect_log "$(connected_re b)"
	expect_eq "known_hosts after accept-new" "$(cat "$SSHD_KNOWN")" "$(cat "$kh")"
	stop_postern
	BASTION_OPTS=(known_hosts="$kh")
	postern_via redis "$REDIS_PORT"
	expect_log "$(connected_re b)"
	expect_eq "PING (the accepted key)" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

# A bastion that signs its host key with ssh-rsa (SHA-1) only: refused
# by default, as OpenSSH 8.8 and later do, and the log names ssh-rsa;
# host_key_algorithms with ssh-rsa accepts it (with libssh2 1.10 the
# only RSA host key signature there is).
case_hostkey_sha1() {
	local kh
	start_redis
	ssh-keygen -q -t rsa -b 2048 -N '' -C host -f "$T/host_rsa" < /dev/null ||
	    fail_case "ssh-keygen -t rsa failed"
	start_sshd "HostKey $T/host_rsa" "HostKeyAlgorithms ssh-rsa"
	kh=$T/rsa_known_hosts
	printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$T/host_rsa.pub")" > "$kh"
	BASTION_OPTS=(known_hosts="$kh")
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)SSH handshake failed: host key negotiation failed: the bastion offers ssh-rsa, we accept [a-z0-9,-]+: ssh-rsa signs with SHA-1, refused by default as OpenSSH 8\\.8 and later do; give the bastion an ed25519 or ecdsa host key \\(or rsa-sha2-256 with libssh2 1\\.11\\), or accept SHA-1 with host_key_algorithms = \\.\\.\\.,ssh-rsa; retrying in "
	expect_no_log 'connected in'
	expect_eq "logins at sshd" 0 "$(count_lines "$SSHD_LOG" 'Accepted publickey')"
	stop_postern
	# shellcheck disable=SC2054 # commas inside one value (a list key)
	BASTION_OPTS=(known_hosts="$kh" host_key_algorithms=ssh-ed25519,ssh-rsa)
	postern_via redis "$REDIS_PORT"
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in [0-9]+ ms \\(host key ssh-rsa $(re_escape "$(fp_of "$T/host_rsa.pub")");"
	expect_eq "PING (ssh-rsa allowed)" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

# A bastion with ed25519 and ecdsa host keys: the key type known_hosts
# holds is asked for first (as ssh does), so a host recorded with its
# ecdsa key is not asked for ed25519 (which would be "unknown").
case_hostkey_prefer_known() {
	local kh
	start_redis
	ssh-keygen -q -t ecdsa -N '' -C host -f "$T/host_ecdsa" < /dev/null ||
	    fail_case "ssh-keygen -t ecdsa failed"
	start_sshd "HostKey $T/host_ecdsa"
	kh=$T/ecdsa_known_hosts
	printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$T/host_ecdsa.pub")" > "$kh"
	BASTION_OPTS=(known_hosts="$kh")
	postern_via redis "$REDIS_PORT"
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in [0-9]+ ms \\(host key ecdsa-sha2-nistp256 $(re_escape "$(fp_of "$T/host_ecdsa.pub")");"
	expect_eq "PING (ecdsa host key)" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	stop_postern
	# The ed25519 key recorded: ed25519 (the default order's first).
	BASTION_OPTS=(known_hosts="$SSHD_KNOWN")
	postern_via redis "$REDIS_PORT"
	expect_log "$(connected_re b)"
}

# An @cert-authority line covers the bastion: libssh2 cannot check a host
# certificate, so accept-new refuses the host (with the line) instead of
# trusting its key on first use, and writes nothing.
case_hostkey_cert_authority() {
	local kh
	start_redis
	start_sshd
	make_key ca ed25519
	kh=$T/ca_known_hosts
	printf '# the fleet CA\n@cert-authority * %s\n' "$(cut -d' ' -f1,2 "$T/keys/ca.pub")" > "$kh"
	cp "$kh" "$kh.before"
	BASTION_OPTS=(known_hosts="$kh" strict_host_key_checking=accept-new)
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)host key verification failed: $(re_escape "$kh") line 2 says @cert-authority for \\[127\\.0\\.0\\.1\\]:$SSHD_PORT, and libssh2 cannot verify host certificates: its ssh-ed25519 key $(re_escape "$SSHD_FP") is not trusted on first use; add the host's own key \\(ssh-keyscan\\) or pin host_key_sha256"
	expect_no_log 'accepted the new'
	expect_no_log 'connected in'
	expect_eq "known_hosts unchanged" "$(cat "$kh.before")" "$(cat "$kh")"
	stop_postern
	# The host's own key listed too: that key is checked, and used.
	cat "$SSHD_KNOWN" >> "$kh"
	postern_via redis "$REDIS_PORT"
	expect_log "$(connected_re b)"
	expect_eq "PING (own key next to the CA)" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

case_userkey_wrong() {
	local fp
	start_redis
	start_sshd
	make_key stranger ed25519
	fp=$(fp_of "$T/keys/stranger.pub")
	BASTION_OPTS=(identity="$T/keys/stranger")
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)authentication as root failed: the bastion refused identity ssh-ed25519 $(re_escape "$fp") \\($(re_escape "$T/keys/stranger")\\); no ssh-agent \\(SSH_AUTH_SOCK is not set\\); retrying in "
	expect_log "warn: redis/via: unknown -> down \\(2 failed checks; last: ssh: bastion b: .*authentication as root failed"
	expect_eq "logins at sshd" 0 "$(count_lines "$SSHD_LOG" 'Accepted publickey')"
}

# ed25519 (OpenSSH format), ecdsa with a passphrase, RSA in PEM format
# with a passphrase: one bastion each, all on the same sshd; and a wrong
# passphrase.
case_key_types() {
	local t
	make_key k_ed ed25519
	make_key k_ec ecdsa 'ec secret'
	make_key k_rsa rsa 'rsa secret' PEM
	make_key k_bad ecdsa 'right'
	printf 'ec secret\n' > "$T/keys/k_ec.pass"
	printf 'rsa secret\n' > "$T/keys/k_rsa.pass"
	printf 'wrong\n' > "$T/keys/k_bad.pass"
	# Secret files (postern.conf(5)): owner only.
	chmod 600 "$T"/keys/*.pass
	SSHD_AUTHORIZED=(k_ed k_ec k_rsa k_bad)
	export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
	start_redis
	start_sshd
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global
		conf_bastion bed identity="$T/keys/k_ed"
		conf_bastion bec identity="$T/keys/k_ec" identity_passphrase_file="$T/keys/k_ec.pass"
		conf_bastion brsa identity="$T/keys/k_rsa" identity_passphrase_file="$T/keys/k_rsa.pass"
		conf_bastion bbad identity="$T/keys/k_bad" identity_passphrase_file="$T/keys/k_bad.pass"
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
		    "ed ssh://bed/127.0.0.1:$REDIS_PORT" "ec ssh://bec/127.0.0.1:$REDIS_PORT" \
		    "rsa ssh://brsa/127.0.0.1:$REDIS_PORT" "bad ssh://bbad/127.0.0.1:$REDIS_PORT"
	} > "$CONF"
	start_postern "$CONF"
	for t in bed bec brsa; do
		expect_log "$(connected_re "$t")"
	done
	expect_log "$(cannot_re bbad)authentication as root failed: identity ecdsa-sha2-nistp256 $(re_escape "$(fp_of "$T/keys/k_bad.pub")") \\($(re_escape "$T/keys/k_bad")\\) cannot be used: wrong passphrase"
	for t in ed ec rsa; do
		expect_log "notice: redis/$t: up \\(check ok\\)$"
	done
	expect_eq "logins at sshd" 3 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root')"
	expect_eq "RSA login" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root .* RSA SHA256')"
	expect_eq "ECDSA login" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root .* ECDSA SHA256')"
}

# No identity: the keys of the ssh-agent at SSH_AUTH_SOCK.
case_agent() {
	command -v ssh-agent > /dev/null || skip_case "no ssh-agent"
	start_redis
	start_sshd
	(_close_sess_fds; exec ssh-agent -D -a "$T/agent.sock") > "$T/agent.log" 2>&1 &
	track_server "$!"
	wait_until 10 test -S "$T/agent.sock" || fail_case "ssh-agent did not start"
	SSH_AUTH_SOCK=$T/agent.sock ssh-add "$USER_KEY" > "$T/ssh-add.log" 2>&1 ||
	    fail_case "ssh-add failed: $(head -c 200 "$T/ssh-add.log")"
	export SSH_AUTH_SOCK=$T/agent.sock
	BASTION_OPTS=(identity=)
	postern_via redis "$REDIS_PORT"
	expect_log "$(connected_re b)"
	expect_eq "PING (agent key)" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "logins at sshd" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root')"
}

# An ssh-agent that accepts and never answers: libssh2 asks it
# synchronously, so the wait is bounded (5 s) and the error says so; the
# daemon goes on serving (its listener answers) and retries later.
case_agent_hung() {
	local out
	# postern retries after the agent's timeout, and SIGTERM at the end
	# may free a session in the middle of its key exchange, where
	# libssh2 leaks its curve25519 key pair (libssh2 issue 282: the
	# exchange state is freed only when the exchange ends).  Suppressed
	# by the exported frame, which only full unwinding reaches.
	{ cat "$T/lsan.supp"; printf 'leak:libssh2_session_handshake\n'; } \
	    > "$T/lsan-agent.supp"
	export LSAN_OPTIONS="suppressions=$T/lsan-agent.supp:print_suppressions=0"
	export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
	start_redis
	start_sshd
	(_close_sess_fds; exec socat UNIX-LISTEN:"$T/hung.sock",fork SYSTEM:'sleep 60') \
	    > "$T/hung.log" 2>&1 &
	track_server "$!"
	wait_until 10 test -S "$T/hung.sock" || fail_case "the fake agent did not start"
	export SSH_AUTH_SOCK=$T/hung.sock
	BASTION_OPTS=(identity=)
	postern_via redis "$REDIS_PORT" check=none hold_timeout=0s
	expect_log "error: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): cannot connect: .*the ssh-agent at $(re_escape "$T/hung.sock") did not answer within 5 s" 20
	out=$(timeout 10 redis-cli -p "$LISTEN_PORT" PING 2>&1)
	expect_match "PING while the bastion is down" 'no healthy route|bastion b' "$out"
}

# ---------------------------------------------------------------------
# Channel open failures

# PermitOpen lets only a closed port through: that one is "connect
# failed", redis (not permitted) is "administratively prohibited".
case_open_failures() {
	local closed out
	start_redis
	closed=$(free_port) || fail_case "no free port"
	start_sshd "PermitOpen 127.0.0.1:$closed"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global
		conf_bastion b
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
		    "policy ssh://b/127.0.0.1:$REDIS_PORT" "closed ssh://b/127.0.0.1:$closed" -- \
		    "${FAST[@]}"
	} > "$CONF"
	start_postern "$CONF"
	expect_log "$(connected_re b)"
	expect_log "warn: redis/policy: unknown -> down \\(2 failed checks; last: ssh: bastion b: channel to 127\\.0\\.0\\.1:$REDIS_PORT: administratively prohibited \\(the bastion's policy refuses this destination\\); was unknown"
	expect_log "warn: redis/closed: unknown -> down \\(2 failed checks; last: ssh: bastion b: channel to 127\\.0\\.0\\.1:$closed: connect failed \\(the bastion cannot reach the destination\\); was unknown"
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_match "client's error" "administratively prohibited.*; closed: ssh: bastion b: channel to 127\\.0\\.0\\.1:$closed: connect failed" "$out"
	expect_log "$(session_re policy 127.0.0.1 "$REDIS_PORT" | sed 's/closed \\($//')connect failed: bastion b: channel to 127\\.0\\.0\\.1:$REDIS_PORT: administratively prohibited"
	# The connection itself is fine: one login, still up.
	expect_eq "logins at sshd" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root')"
	expect_no_log 'connection lost'
}

# ---------------------------------------------------------------------
# Supervision

# sshd killed (with its connections) and restarted: postern reconnects on
# its own, listeners stay, new sessions work.
case_restart() {
	local t0
	start_redis
	start_sshd
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(connected_re b)"
	expect_log 'notice: redis/via: up \(check ok\)$'
	open_session held "TCP:127.0.0.1:$LISTEN_PORT"
	session_send held 'PING\r\n'
	wait_log "$T/held.out" PONG 10 || fail_case "held session got no PONG"
	sshd_signal KILL
	wait_exit "$SSHD_PID" 10 || fail_case "sshd survived SIGKILL"
	t0=$(date +%s%3N)
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connection lost: (the bastion closed the connection|Connection reset by peer); [0-9]+ channels? closed; reconnecting in [0-9]\\.[0-9]s$"
	start_sshd_on "$SSHD_PORT" 127.0.0.1
	# The held session ended with its channel, saying why (socat then
	# waits out -t).
	expect_log "$(session_re via 127.0.0.1 "$REDIS_PORT")server error: bastion b: the bastion closed the connection\\)" 15
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected again after [0-9]+\\.[0-9]{3}s \\(host key ssh-ed25519 $(re_escape "$SSHD_FP")\\)$" 30
	note "sshd killed -> connected again in $(($(log_ms 'connected again') - t0)) ms"
	expect_log 'notice: redis/via: down -> up'
	expect_eq "PING after the restart" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "listener kept" 1 "$(count_lines "$POSTERN_LOG" 'service redis: listening on')"
	expect_eq "loss lines" 1 "$(count_lines "$POSTERN_LOG" 'connection lost')"
	expect_eq "recovery lines" 1 "$(count_lines "$POSTERN_LOG" 'connected again')"
}

# The identity is a secret file read at each connection: made readable
# by others after the start, it is refused when the bastion reconnects
# (logged, the agent tried next), and used again once chmod 600.
case_identity_mode_runtime() {
	local key=$T/keys/rt
	start_redis
	make_key rt ed25519
	SSHD_AUTHORIZED=(rt)
	start_sshd
	BASTION_OPTS=(identity="$key")
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(connected_re b)"
	chmod 644 "$key"
	sshd_signal KILL
	wait_exit "$SSHD_PID" 10 || fail_case "sshd survived SIGKILL"
	start_sshd_on "$SSHD_PORT" 127.0.0.1
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): identity $(re_escape "$key"): mode 0644 lets others read or write it: chmod 600 it$" 30
	expect_log "$(cannot_re b)authentication as root failed: identity $(re_escape "$key"): mode 0644 lets others read or write it: chmod 600 it; no ssh-agent"
	expect_eq "logins at sshd with the 0644 key" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey')"
	chmod 600 "$key"
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected again after " 30
	expect_eq "PING after chmod 600" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

# The admin endpoint shows each bastion: /metrics, /health and /status,
# before and after a loss.
case_admin_bastion() {
	local admin m
	start_redis
	start_sshd
	admin=$(free_port) && LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global "admin=127.0.0.1:$admin"
		conf_bastion b
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
		    "via ssh://b/127.0.0.1:$REDIS_PORT" -- check=none
	} > "$CONF"
	start_postern "$CONF"
	expect_log "$(connected_re b)"
	open_session held "TCP:127.0.0.1:$LISTEN_PORT"
	session_send held 'PING\r\n'
	wait_log "$T/held.out" PONG 10 || fail_case "held session got no PONG"
	m=$(curl -sf "http://127.0.0.1:$admin/metrics") || fail_case "GET /metrics failed"
	expect_match "bastion up" '(^|'$'\n'')postern_bastion_up\{bastion="b"\} 1('$'\n''|$)' "$m"
	expect_match "one channel" '(^|'$'\n'')postern_bastion_channels\{bastion="b"\} 1('$'\n''|$)' "$m"
	expect_match "no loss yet" '(^|'$'\n'')postern_bastion_losses_total\{bastion="b"\} 0('$'\n''|$)' "$m"
	expect_eq "/health bastion up" true "$(curl -sf "http://127.0.0.1:$admin/health" | jq -r '.bastions.b.up')"
	expect_match "one connection" '(^|'$'\n'')postern_bastion_connections\{bastion="b"\} 1('$'\n''|$)' "$m"
	expect_match "/status line" "bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): ready, 1 connection, 1 channel, 0 opens waiting, 0 losses" \
	    "$(curl -sf "http://127.0.0.1:$admin/status")"
	sshd_signal KILL
	wait_exit "$SSHD_PID" 10 || fail_case "sshd survived SIGKILL"
	expect_log "connection lost: "
	m=$(curl -sf "http://127.0.0.1:$admin/metrics") || fail_case "GET /metrics failed"
	expect_match "bastion down" '(^|'$'\n'')postern_bastion_up\{bastion="b"\} 0('$'\n''|$)' "$m"
	expect_match "one loss" '(^|'$'\n'')postern_bastion_losses_total\{bastion="b"\} 1('$'\n''|$)' "$m"
	expect_eq "/health bastion state" backoff "$(curl -sf "http://127.0.0.1:$admin/health" | jq -r '.bastions.b.state')"
}

# A hung bastion (SIGSTOP) is found by the keepalive counter alone: no
# health checks, keepalive 300ms x 3.
case_sigstop() {
	local t0 t1
	start_redis
	start_sshd
	BASTION_OPTS=(keepalive_interval=300ms keepalive_count=3 connect_timeout=2s)
	postern_via redis "$REDIS_PORT" check=none
	expect_log "$(connected_re b)"
	expect_eq "PING" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	# Idle: the session is over, only keepalives go to the bastion now.
	expect_log "$(session_re via 127.0.0.1 "$REDIS_PORT")client closed\\)"
	t0=$(date +%s%3N)
	sshd_signal STOP
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connection lost: no answer to 3 keepalives in 0\\.900s; 0 channels closed; reconnecting in " 10
	t1=$(log_ms 'connection lost: no answer')
	# The figure is for the reader; what proves the counter found it is
	# the log line above (a timed bound would flake on a loaded machine).
	note "SIGSTOP -> dead in $((t1 - t0)) ms (keepalive 300 ms x 3)"
	expect_log "$(cannot_re b)timeout after 2000 ms in the SSH handshake; retrying in " 15
	sshd_signal CONT
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected again after " 30
	expect_eq "PING after SIGCONT" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

# Reload: an unchanged bastion keeps its connection; a changed one gets a
# new connection while an established session finishes on the old one.
case_reload() {
	start_redis
	start_sshd
	postern_via redis "$REDIS_PORT"
	expect_log "$(connected_re b)"
	open_session held "TCP:127.0.0.1:$LISTEN_PORT"
	session_send held 'PING\r\n'
	wait_log "$T/held.out" PONG 10 || fail_case "held session got no PONG"
	kill -HUP "$POSTERN_PID"
	expect_log 'info: reload: configuration generation 2 loaded$'
	expect_eq "logins after an unchanged reload" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root')"
	expect_no_log 'closing it'
	sed -i 's/^\[bastion b\]$/[bastion b]\nkeepalive_interval = 5s/' "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log 'info: reload: configuration generation 3 loaded$'
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): its \\[bastion\\] section changed: closing it once its 1 channel is done$"
	wait_count "$POSTERN_LOG" "$(connected_re b)" 2 10 || fail_case "no second connection after the changed reload"
	expect_eq "SSH connections during the change" 2 "$(sshd_connections)"
	session_send held 'ECHO old\r\n'
	wait_log "$T/held.out" old 10 || fail_case "the held session stopped working after the reload"
	expect_eq "PING on the new connection" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	session_close held
	wait_until 10 eval '(($(sshd_connections) == 1))' ||
	    fail_case "old SSH connection not closed after its last channel: $(sshd_connections) connections"
}

# session_command runs a command in a session channel (sshd then turns
# Nagle off); the documented one, cat, ends with the connection: no
# process is left on the bastion.
case_session_command() {
	local pid
	start_redis
	start_sshd
	BASTION_OPTS=(session_command=cat)
	postern_via redis "$REDIS_PORT"
	expect_log "$(connected_re b)"
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): session_command 'cat' running$"
	wait_until 10 sshd_child_pid cat || fail_case "no 'cat' under sshd"
	pid=$(sshd_child_pid cat)
	expect_eq "PING" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	stop_postern
	wait_exit "$pid" 10 || fail_case "the session's cat (pid $pid) outlived the connection"
	# A command that ends: its last words, its status; the bastion stays.
	BASTION_OPTS=(session_command='echo bye; exit 3')
	postern_via redis "$REDIS_PORT"
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): session_command says: bye$"
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): session_command 'echo bye; exit 3' ended \\(exit status 3\\)$"
	expect_eq "PING after the command ended" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	stop_postern
	# A bastion that allows no session: refused, said, forwarding goes on
	# (92-openssh-engine has the same for the OpenSSH engine).
	start_sshd 'MaxSessions 0'
	postern_via redis "$REDIS_PORT"
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): session_command: the bastion refused a session channel: .* \\(Nagle stays on at the bastion\\)$"
	expect_eq "PING with the session refused" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

# The bastion allows one cipher (sshd Ciphers): a matching `ciphers`
# list connects with it (both ends say so), a list without it fails with
# both lists named, and postern -n refuses a name libssh2 lacks.
case_ciphers() {
	local out
	start_redis
	SSHD_LOG_LEVEL=DEBUG start_sshd 'Ciphers aes256-ctr'
	# shellcheck disable=SC2054 # commas inside one value (a list key)
	BASTION_OPTS=(ciphers=aes192-ctr,aes256-ctr)
	postern_via redis "$REDIS_PORT" check=none
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in [0-9]+ ms \\(host key ssh-ed25519 $(re_escape "$SSHD_FP"); aes256-ctr, hmac-sha2-256\\)$"
	expect_log 'kex: client->server cipher: aes256-ctr MAC: hmac-sha2-256' 10 "$SSHD_LOG"
	expect_log 'kex: server->client cipher: aes256-ctr MAC: hmac-sha2-256' 10 "$SSHD_LOG"
	expect_eq "SET through the bastion" OK "$(rcli "$LISTEN_PORT" SET k v 2>&1)"
	expect_eq "GET through the bastion" v "$(rcli "$LISTEN_PORT" GET k 2>&1)"
	stop_postern
	# shellcheck disable=SC2054 # commas inside one value (a list key)
	BASTION_OPTS=(ciphers=aes128-ctr,aes192-ctr)
	postern_via redis "$REDIS_PORT" check=none
	expect_log "$(cannot_re b)SSH handshake failed: cipher negotiation failed: no cipher in common: we offer aes128-ctr,aes192-ctr \\(ciphers\\), the bastion accepts aes256-ctr; retrying in "
	expect_log 'no matching cipher found' 10 "$SSHD_LOG"
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_match "client's error" "^ERR postern: .*cipher negotiation failed" "$out"
	stop_postern
	out=$(sed 's/^ciphers = .*/ciphers = aes128-ctr,no-such-cipher/' "$CONF" > "$T/bad.conf"
	    "$POSTERN" -n -c "$T/bad.conf" 2>&1)
	expect_match "postern -n" "^$(re_escape "$T/bad.conf"):[0-9]+: \\[bastion b\\]: ciphers: this libssh2 \\([0-9.]+\\) does not support 'no-such-cipher'; it supports [a-z0-9@.,-]*aes128-ctr" "$out"
}

# Without `ciphers`, the default order filtered to this libssh2: against
# sshd's defaults, chacha20-poly1305 where the library has it (1.11),
# else aes128-ctr (1.10).  postern -n says which it has.
case_ciphers_default() {
	local want=aes128-ctr
	start_redis
	SSHD_LOG_LEVEL=DEBUG start_sshd
	postern_via redis "$REDIS_PORT"
	printf '[bastion b]\naddress = h:22\nuser = u\nciphers = chacha20-poly1305@openssh.com\n' \
	    > "$T/cc.conf"
	printf '[service s]\nlisten = 1\nroute = r ssh://b/h:1\n' >> "$T/cc.conf"
	"$POSTERN" -n -c "$T/cc.conf" > /dev/null 2>&1 && want=chacha20-poly1305@openssh.com
	note "libssh2 $(grep -o 'libssh2 [0-9.]*' "$POSTERN_LOG" | head -n 1 | cut -d' ' -f2): expecting $want"
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in [0-9]+ ms \\(host key ssh-ed25519 $(re_escape "$SSHD_FP"); $(re_escape "$want"), [A-Za-z0-9@.-]+\\)$"
	expect_log "kex: client->server cipher: $(re_escape "$want") " 10 "$SSHD_LOG"
	expect_log 'notice: redis/via: up \(check ok\)$'
	expect_eq "SET through the bastion" OK "$(rcli "$LISTEN_PORT" SET k v 2>&1)"
	expect_eq "GET through the bastion" v "$(rcli "$LISTEN_PORT" GET k 2>&1)"
}

# ---------------------------------------------------------------------
# The developer command line

case_jump_alias() {
	local fwd_re l2 out
	start_redis
	start_sshd
	mkdir -p "$T/home/.ssh"
	cat > "$T/home/.ssh/config" <<-EOF
	# like a developer's
	Host other
	    HostName 192.0.2.1
	Host prod-bastion
	    HostName 127.0.0.1
	    Port $SSHD_PORT
	    User root
	    IdentityFile $USER_KEY
	    UserKnownHostsFile $SSHD_KNOWN
	Host *
	    User nobody
	EOF
	export HOME=$T/home
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	start_postern_args -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J prod-bastion -o engine=libssh2
	wait_ready 10
	fwd_re="info: forwarding 127\\.0\\.0\\.1:$LISTEN_PORT -> 127\\.0\\.0\\.1:$REDIS_PORT via root@127\\.0\\.0\\.1:$SSHD_PORT \\(host key $(re_escape "$SSHD_FP")\\)$"
	expect_log "$fwd_re"
	expect_eq "forwarding lines" 1 "$(count_lines "$POSTERN_LOG" 'forwarding ')"
	expect_eq "PING through -L/-J prod-bastion" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	# Named by the forward: the client, then the tunnel it went through.
	expect_log " s[0-9]+ 127\\.0\\.0\\.1:[0-9]+ -> $LISTEN_PORT -> 127\\.0\\.0\\.1:$REDIS_PORT \\(via prod-bastion\\): closed \\(client closed\\)"
	expect_log " notice: $LISTEN_PORT -> 127\\.0\\.0\\.1:$REDIS_PORT \\(via prod-bastion\\): up \\((check|connect) ok\\)$"
	expect_log " notice: service $LISTEN_PORT -> 127\\.0\\.0\\.1:$REDIS_PORT: new sessions go via prod-bastion$"
	# The same without the alias: user@host, -p, -i, -o known_hosts=.
	l2=$(free_port) || fail_case "no free port"
	start_postern_args -L "127.0.0.1:$l2:127.0.0.1:$REDIS_PORT" -J root@127.0.0.1 -o engine=libssh2 \
	    -p "$SSHD_PORT" -i "$USER_KEY" -o "known_hosts=$SSHD_KNOWN" -o keepalive_interval=5s
	wait_ready 10
	expect_log "info: forwarding 127\\.0\\.0\\.1:$l2 -> 127\\.0\\.0\\.1:$REDIS_PORT via root@127\\.0\\.0\\.1:$SSHD_PORT \\(host key $(re_escape "$SSHD_FP")\\)$"
	expect_eq "PING through -J user@host -p -i -o" PONG "$(rcli "$l2" PING 2>&1)"
	# A mistyped alias is said to be one (-n: no name is looked up).
	out=$(timeout 10 "$POSTERN" -n -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J prod-bastoin 2>&1 |
	    grep -v '^postern: warning: running as root without user =')
	expect_eq "-n -J prod-bastoin" "postern: -J prod-bastoin: no Host block of $T/home/.ssh/config gives prod-bastoin a HostName: using it as a host name (a mistyped alias?)
configuration OK" "$out"
	out=$(timeout 10 "$POSTERN" -n -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J prod-bastion 2>&1 |
	    grep -v '^postern: warning: running as root without user =')
	expect_eq "-n -J prod-bastion" "configuration OK" "$out"
}

# jump_exit WHAT STATUS ARGS: postern -L ... -J root@127.0.0.1 -p SSHD_PORT
# ARGS must exit by itself with STATUS (ssh's 255 for a permanent error).
jump_exit() {
	local what=$1 want=$2
	shift 2
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	start_postern_args -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J root@127.0.0.1 \
	    -p "$SSHD_PORT" "$@"
	postern_wait_exit 30
	expect_eq "$what: exit status" "$want" "$POSTERN_STATUS"
	check_sanitizers "$POSTERN_LOG"
}

# -L/-J: an error that no retry mends, before the tunnel ever worked, ends
# it with ssh's status 255 and says why; a transient one (the bastion not
# up yet) keeps retrying as before.
case_jump_permanent() {
	local kh=$T/changed_known_hosts other
	start_redis
	start_sshd
	make_key impostor ed25519
	make_key stranger ed25519
	other=$(fp_of "$T/keys/impostor.pub")
	printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$T/keys/impostor.pub")" > "$kh"
	jump_exit "changed host key" 255 -i "$USER_KEY" -o "known_hosts=$kh" -o engine=libssh2
	expect_log "error: bastion 127\\.0\\.0\\.1 \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): cannot connect: host key verification failed: the ssh-ed25519 key $(re_escape "$SSHD_FP") of \\[127\\.0\\.0\\.1\\]:$SSHD_PORT does not match $(re_escape "$kh") line 1 \\(which has $(re_escape "$other")\\): .* \\(if the change is expected, remove the old key with: ssh-keygen -f '$(re_escape "$kh")' -R '\\[127\\.0\\.0\\.1\\]:$SSHD_PORT'\\); not retrying"
	jump_exit "missing -i file" 255 -i "$T/keys/nosuch" -o "known_hosts=$SSHD_KNOWN" -o engine=libssh2
	expect_log "cannot connect: authentication as root failed: identity $(re_escape "$T/keys/nosuch"): No such file or directory; no ssh-agent"
	expect_no_log "needs a passphrase"
	jump_exit "refused key" 255 -i "$T/keys/stranger" -o "known_hosts=$SSHD_KNOWN" -o engine=libssh2
	expect_log "cannot connect: authentication as root failed: the bastion refused identity ssh-ed25519 .*; not retrying"
	expect_eq "logins at sshd" 0 "$(count_lines "$SSHD_LOG" 'Accepted publickey')"
	expect_no_log "retrying in"
	# The OpenSSH engine (the default with ssh installed) stops likewise
	# on what ssh exits 255 for.
	jump_exit "changed host key (engine=openssh)" 255 -i "$USER_KEY" \
	    -o "known_hosts=$kh" -o engine=openssh
	# ssh's help is kept: the offending line and the ssh-keygen -R command.
	expect_log "Host key verification failed\\. \\(Offending [A-Z0-9]+ key in $(re_escape "$kh"):1; if the change is expected, remove the old key with: ssh-keygen -f .?$(re_escape "$kh").? -R .?\\[127\\.0\\.0\\.1\\]:$SSHD_PORT.?\\); not retrying"
	jump_exit "refused key (engine=openssh)" 255 -i "$T/keys/stranger" \
	    -o "known_hosts=$SSHD_KNOWN" -o engine=openssh
	expect_log "cannot connect: ssh exited with status 255: .*Permission denied.*; not retrying"
	jump_exit "missing -i file (engine=openssh)" 255 -i "$T/keys/nosuch" \
	    -o "known_hosts=$SSHD_KNOWN" -o engine=openssh
	expect_log "cannot connect: ssh exited with status 255: .*Permission denied.* \\(Identity file $(re_escape "$T/keys/nosuch") not accessible: No such file or directory\\.?\\); not retrying"
	# Transient: nothing listens on the port yet; postern waits for it.
	sshd_signal KILL
	wait_exit "$SSHD_PID" 10 || fail_case "sshd survived SIGKILL"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	start_postern_args -v -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J root@127.0.0.1 \
	    -p "$SSHD_PORT" -i "$USER_KEY" -o "known_hosts=$SSHD_KNOWN" -o engine=libssh2
	expect_log "cannot connect \\(attempt 2\\): .*connection refused.*; retrying in " 20
	start_sshd_on "$SSHD_PORT" 127.0.0.1
	expect_log "forwarding 127\\.0\\.0\\.1:$LISTEN_PORT -> " 30
	expect_eq "PING once the bastion is up" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	stop_postern
}

# A bastion name the DNS says does not exist: ssh exits 255 on it, and so
# does -L/-J before the first connection, with either engine; a daemon
# (a config file) keeps supervising with back-off, for its operator to
# fix; a resolver that does not answer is transient in -L/-J too.
# postern, its ssh(1) and the DNS server run in a network namespace of
# their own (loopback only), whose /etc/resolv.conf names that server, so
# no name is ever asked of the machine's resolver.
NX_NS=''
_nx_cleanup() {
	[[ -n "$NX_NS" ]] || return 0
	netns_remove "$NX_NS"
	rm -rf "/etc/netns/${NX_NS:?}"
}

# nx_postern ARGS: postern ARGS inside NX_NS, as start_postern_args.
nx_postern() {
	local real=$POSTERN
	POSTERN=ip start_postern_args netns exec "$NX_NS" "$real" "$@"
}

case_jump_no_such_name() {
	local engine=$1 ns=pnx$$ n=100 port conf=$T/case$_CASE_ID.conf name=nosuch.example.test
	NX_NS=$ns
	trap '_rc=$?; _nx_cleanup; _with_status "$_rc"; _case_cleanup' EXIT
	((EUID == 0)) || skip_case "needs root for ip netns"
	ip netns add "$ns" 2> "$T/netns.err" || skip_case "ip netns add: $(cat "$T/netns.err")"
	ip -n "$ns" link set lo up || fail_case "lo in $ns"
	mkdir -p "/etc/netns/$ns" &&
	    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "/etc/netns/$ns/resolv.conf" ||
	    fail_case "cannot write /etc/netns/$ns/resolv.conf"
	# An empty zone: NXDOMAIN for every name.
	: > "$T/nx.zone"
	rm -f "$T/nx.port"
	: > "$T/nx-dns.log"
	(_close_sess_fds; exec ip netns exec "$ns" python3 "$TESTS_DIR/dns_server.py" \
	    --addr 127.0.0.1 --port 53 --zone "$T/nx.zone" --port-file "$T/nx.port" \
	    --log "$T/nx-dns.log") 2> "$T/nx-dns.err" &
	local dns_pid=$!
	track_server "$dns_pid"
	while ((n-- > 0)) && [[ ! -s "$T/nx.port" ]]; do
		sleep 0.1
	done
	[[ -s "$T/nx.port" ]] || fail_case "dns_server.py did not start: $(tail -n 3 "$T/nx-dns.err")"
	make_key nxuser ed25519
	: > "$T/nx_known_hosts"
	# -L/-J: ends at once with 255, naming the name.
	nx_postern -L "$(free_port):127.0.0.1:6379" -J "root@$name" \
	    -i "$T/keys/nxuser" -o "known_hosts=$T/nx_known_hosts" -o "engine=$engine"
	postern_wait_exit 30
	expect_eq "-J to a name that does not exist: exit status" 255 "$POSTERN_STATUS"
	check_sanitizers "$POSTERN_LOG"
	if [[ $engine == libssh2 ]]; then
		expect_log "error: bastion $name \\(root@$name:22\\): cannot connect: cannot resolve $name: no such host name; not retrying: this error does not go away by itself$"
	else
		expect_log "error: bastion $name \\(.*\\): cannot connect: ssh exited with status 255: .*Could not resolve hostname $name: .*; not retrying: this error does not go away by itself$"
	fi
	expect_no_log "retrying in"
	grep -q "$name" "$T/nx-dns.log" || fail_case "the DNS server in $ns was never asked"
	# A daemon keeps supervising the same bastion with back-off.
	port=$(free_port) || fail_case "no free port"
	{
		conf_global log_level=debug
		printf '[bastion b]\naddress = %s:22\nuser = root\nidentity = %s\nknown_hosts = %s\nengine = %s\n\n' \
		    "$name" "$T/keys/nxuser" "$T/nx_known_hosts" "$engine"
		conf_service redis "127.0.0.1:$port" redis "via ssh://b/127.0.0.1:6379" -- check=none
	} > "$conf"
	nx_postern -c "$conf"
	wait_log "$POSTERN_LOG" "bastion b \\(.*\\): cannot connect \\(attempt 2\\): .*$name" 30 ||
	    fail_case "the daemon did not try again: $(tail -n 3 "$POSTERN_LOG" | paste -sd'|')"
	_pid_running "$POSTERN_PID" || fail_case "the daemon exited"
	expect_no_log "not retrying"
	stop_postern
	# A resolver that does not answer (none listening): -L/-J retries.
	kill "$dns_pid" && wait_exit "$dns_pid" 10 || fail_case "dns_server.py did not stop"
	nx_postern -v -L "$(free_port):127.0.0.1:6379" -J "root@$name" \
	    -i "$T/keys/nxuser" -o "known_hosts=$T/nx_known_hosts" -o "engine=$engine"
	wait_log "$POSTERN_LOG" "cannot connect \\(attempt 2\\): " 40 ||
	    fail_case "-J gave up on a resolver that did not answer: $(tail -n 3 "$POSTERN_LOG" | paste -sd'|')"
	_pid_running "$POSTERN_PID" || fail_case "-J exited on a transient resolver failure"
	expect_no_log "not retrying"
	stop_postern
}

# ~/.ssh/config as a company ships it: an Include of conf.d/*.conf
# (relative to ~/.ssh) whose Match block completes the alias; what the
# libssh2 engine cannot honour (a ProxyCommand, Match exec) is refused
# naming it, never skipped.
case_jump_include_match() {
	local out
	start_redis
	start_sshd
	mkdir -p "$T/home/.ssh/conf.d"
	cat > "$T/home/.ssh/config" <<-EOF
	Include conf.d/*.conf
	Host *
	    User nobody
	EOF
	cat > "$T/home/.ssh/conf.d/50-prod.conf" <<-EOF
	Host prod-*
	    UserKnownHostsFile $SSHD_KNOWN
	Match originalhost prod-bastion localuser $(id -un)
	    HostName 127.0.0.1
	    Port $SSHD_PORT
	    User root
	    IdentityFile $USER_KEY
	Host chained
	    ProxyJump prod-bastion
	Host runs
	    HostName 127.0.0.1
	Match originalhost runs exec "true"
	    User root
	Host piped
	    ProxyCommand nc %h %p
	EOF
	export HOME=$T/home
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	start_postern_args -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J prod-bastion \
	    -o engine=libssh2
	wait_ready 10
	expect_log "info: forwarding 127\\.0\\.0\\.1:$LISTEN_PORT -> 127\\.0\\.0\\.1:$REDIS_PORT via root@127\\.0\\.0\\.1:$SSHD_PORT \\(host key $(re_escape "$SSHD_FP")\\)$"
	expect_eq "PING through the Included Match" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	# Chains are taken (93-ssh-chain.sh runs them); a command is not.
	out=$("$POSTERN" -n -L "1:127.0.0.1:2" -J chained -o engine=libssh2 2>&1)
	expect_match "ProxyJump in a block that applies" "configuration OK" "$out"
	out=$("$POSTERN" -n -L "1:127.0.0.1:2" -J piped -o engine=libssh2 2>&1)
	expect_match "ProxyCommand in a block that applies" "50-prod\\.conf:15: ProxyCommand: a command is not a bastion the libssh2 engine can use; use engine = openssh" "$out"
	out=$("$POSTERN" -n -L "1:127.0.0.1:2" -J runs -o engine=libssh2 2>&1)
	expect_match "Match exec" "50-prod\\.conf:12: Match exec: postern runs no commands" "$out"
	# A FIDO key (its .pub says sk-...): refused by name, not tried.
	cp "$USER_KEY" "$T/home/.ssh/id_sk"
	printf 'sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t me\n' \
	    > "$T/home/.ssh/id_sk.pub"
	out=$("$POSTERN" -n -L "1:127.0.0.1:2" -J prod-bastion -i "$T/home/.ssh/id_sk" -o engine=libssh2 2>&1)
	expect_match "FIDO identity" "identity .*/id_sk is a FIDO key \\(sk-ssh-ed25519@openssh\\.com\\): libssh2 cannot use a security key; use engine = openssh" "$out"
}

# ---------------------------------------------------------------------
# Quick mode on a terminal: postern runs on a pty (python3's pty module)
# that answers the host key question; the pty's output is the user's.

# PTY_PY and pty_postern: tests/lib-ssh.sh.

# "yes": the key is shown with its fingerprint, recorded in the
# known_hosts file, the tunnel comes up; the output is status lines
# (up, lost, back) without timestamps or levels.
case_tty_ask_yes() {
	local kh=$T/tty$_CASE_ID-known_hosts st
	start_redis
	start_sshd
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	pty_postern yes -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J root@127.0.0.1 -o engine=libssh2 \
	    -p "$SSHD_PORT" -i "$USER_KEY" -o "known_hosts=$kh"
	wait_log "$PTY_OUT" '^forwarding ' 15 ||
	    fail_case "no forwarding line on the terminal: $(tr '\r\n' '||' < "$PTY_OUT")"
	grep -q "^The authenticity of host '\[127\.0\.0\.1\]:$SSHD_PORT' can't be established\." "$PTY_OUT" ||
	    fail_case "no question: $(tr '\r\n' '||' < "$PTY_OUT")"
	grep -qF "ED25519 key fingerprint is $SSHD_FP." "$PTY_OUT" ||
	    fail_case "the question shows no fingerprint $SSHD_FP"
	expect_eq "known_hosts after yes" "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")" \
	    "$(cat "$kh" 2>/dev/null)"
	expect_eq "PING through the tunnel" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	sshd_signal KILL
	wait_exit "$SSHD_PID" 10 || fail_case "sshd survived SIGKILL"
	wait_log "$PTY_OUT" '^bastion .*: connection lost: ' 15 || fail_case "no 'connection lost' line"
	start_sshd_on "$SSHD_PORT" 127.0.0.1
	wait_log "$PTY_OUT" '^bastion .*: connected again after ' 30 || fail_case "no 'connected again' line"
	kill -TERM "$PTY_PID"
	wait_exit "$PTY_PID" 15 || fail_case "postern on the pty did not stop on SIGTERM"
	wait "$PTY_PID"
	st=$?
	expect_eq "exit status" 0 "$st"
	# Status lines only: no timestamp, no level, no info chatter.
	grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T|^(info|warn|error|debug): | info: ' "$PTY_OUT" > "$T/noise" &&
	    fail_case "log lines on the terminal: $(head -n 3 "$T/noise" | tr '\r\n' '||')"
	grep -q 'added the ssh-ed25519 key' "$PTY_OUT" || fail_case "no 'added the key' line"
	check_sanitizers "$PTY_OUT"
}

# "no": nothing is recorded, postern says why and exits 1, like ssh.
# -v on a terminal keeps the full log.
case_tty_ask_no() {
	local kh=$T/tty$_CASE_ID-known_hosts st
	start_sshd
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	pty_postern no -v -L "$LISTEN_PORT:127.0.0.1:9" -J root@127.0.0.1 -o engine=libssh2 \
	    -p "$SSHD_PORT" -i "$USER_KEY" -o "known_hosts=$kh"
	wait_exit "$PTY_PID" 20 || fail_case "postern still running after 'no': $(tr '\r\n' '||' < "$PTY_OUT")"
	wait "$PTY_PID"
	st=$?
	expect_eq "exit status after no" 1 "$st"
	[[ -s $kh ]] && fail_case "known_hosts written after no: $(cat "$kh")"
	grep -Eq " error: bastion 127\.0\.0\.1 \(root@127\.0\.0\.1:$SSHD_PORT\): cannot connect: host key verification failed: the ssh-ed25519 key $(re_escape "$SSHD_FP") of \[127\.0\.0\.1\]:$SSHD_PORT is unknown: not accepted at the prompt" "$PTY_OUT" ||
	    fail_case "no refusal line: $(tr '\r\n' '||' < "$PTY_OUT")"
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (info|debug): ' "$PTY_OUT" ||
	    fail_case "-v on a terminal: no full log lines"
	check_sanitizers "$PTY_OUT"
}

# Ctrl-C on a terminal with a client connected: the terminal says that
# it waits and how to stop waiting; a second Ctrl-C exits at once.
case_tty_ctrl_c() {
	local st pid
	start_redis
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	pty_postern no -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT"
	wait_until 10 port_listening "$LISTEN_PORT" || fail_case "-L port not listening"
	open_session s "TCP:127.0.0.1:$LISTEN_PORT"
	session_send s 'PING\r\n'
	wait_count "$T/s.out" PONG 1 10 || fail_case "no PONG through the tunnel"
	pid=$(pgrep -P "$PTY_PID") || fail_case "no postern under the pty"
	kill -INT "$pid"
	wait_log "$PTY_OUT" '^waiting up to 30\.000s for 1 open session to finish; Ctrl-C again closes it now' 10 ||
	    fail_case "no draining line on the terminal: $(tr '\r\n' '||' < "$PTY_OUT")"
	_pid_running "$pid" || fail_case "postern exited before the second Ctrl-C"
	kill -INT "$pid"
	wait_exit "$PTY_PID" 5 || fail_case "still running 5 s after the second Ctrl-C"
	wait "$PTY_PID"
	st=$?
	expect_eq "exit status" 0 "$st"
	grep -q readiness "$PTY_OUT" && fail_case "readiness mentioned without an admin endpoint"
	check_sanitizers "$PTY_OUT"
}

# ---------------------------------------------------------------------
# Topology: redis in a private namespace reachable only from the
# bastion's namespace; postern on the host reaches it only through sshd.

NS_B=postern-ssh-b-$$
NS_P=postern-ssh-p-$$
VETH_H=psh$$h VETH_B=psh$$b VETH_B2=psh$$c VETH_P=psh$$p

netns_cleanup() {
	netns_remove "$NS_B" "$NS_P"
	link_del "$VETH_H"
}
trap '_rc=$?; netns_cleanup; _with_status "$_rc"; _script_cleanup' EXIT

# pick_subnets: a 169.254.X.0/24 that this host does not use: X.1 host,
# X.2 bastion (first /30), X.5 bastion, X.6 private (second /30).
pick_subnets() {
	pick_link_local NET 100
}

case_netns_topology() {
	local err port dir n=100 bh hole l2 out
	((EUID == 0)) || skip_case "needs root for ip netns"
	ssh_prereqs
	trap '_rc=$?; _ssh_case_cleanup; netns_cleanup; _with_status "$_rc"; _case_cleanup' EXIT
	err=$(ip netns add "$NS_B" 2>&1) || skip_case "ip netns add is not permitted here: $err"
	ip netns add "$NS_P" || fail_case "ip netns add $NS_P failed"
	pick_subnets || fail_case "no unused 169.254.X.0/24"
	ip link add "$VETH_H" type veth peer name "$VETH_B" &&
	    ip link set "$VETH_B" netns "$NS_B" &&
	    ip addr add "$NET.1/30" dev "$VETH_H" && ip link set "$VETH_H" up &&
	    ip netns exec "$NS_B" ip link set lo up &&
	    ip netns exec "$NS_B" ip addr add "$NET.2/30" dev "$VETH_B" &&
	    ip netns exec "$NS_B" ip link set "$VETH_B" up &&
	    ip netns exec "$NS_B" ip link add "$VETH_B2" type veth peer name "$VETH_P" &&
	    ip netns exec "$NS_B" ip link set "$VETH_P" netns "$NS_P" &&
	    ip netns exec "$NS_B" ip addr add "$NET.5/30" dev "$VETH_B2" &&
	    ip netns exec "$NS_B" ip link set "$VETH_B2" up &&
	    ip netns exec "$NS_P" ip link set lo up &&
	    ip netns exec "$NS_P" ip addr add "$NET.6/30" dev "$VETH_P" &&
	    ip netns exec "$NS_P" ip link set "$VETH_P" up ||
	    fail_case "veth set-up failed"
	note "host $NET.1 <-> $NET.2 bastion ($NS_B) $NET.5 <-> $NET.6 redis ($NS_P)"
	# redis in the private namespace
	port=$(free_port) || fail_case "no free port"
	dir=$T/nsredis
	mkdir -p "$dir"
	(_close_sess_fds; exec ip netns exec "$NS_P" redis-server --port "$port" \
	    --bind "$NET.6" --protected-mode no --save '' --appendonly no \
	    --daemonize no --dir "$dir" --logfile '') >> "$dir/log" 2>&1 &
	track_server "$!"
	while ((n-- > 0)); do
		[[ "$(ip netns exec "$NS_B" timeout 2 redis-cli -h "$NET.6" -p "$port" PING 2>/dev/null)" == PONG ]] && break
		sleep 0.1
	done
	((n >= 0)) || fail_case "redis in $NS_P does not answer the bastion: $(tail -n 3 "$dir/log")"
	ip netns exec "$NS_B" redis-cli -h "$NET.6" -p "$port" SET where private > /dev/null
	# Not reachable from the host.
	if timeout 3 redis-cli -h "$NET.6" -p "$port" PING > "$T/direct.out" 2>&1 &&
	    grep -q PONG "$T/direct.out"; then
		fail_case "redis in $NS_P answers the host directly: the test proves nothing"
	fi
	# sshd in the bastion namespace
	SSHD_NETNS=$NS_B
	start_sshd_on "$(free_port)" "$NET.2"
	SSHD_NETNS=
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global
		conf_bastion b address="$NET.2:$SSHD_PORT"
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis "private ssh://b/$NET.6:$port"
	} > "$CONF"
	start_postern "$CONF"
	expect_log "info: bastion b \\(root@$(re_escape "$NET.2"):$SSHD_PORT\\): connected in [0-9]+ ms \\(host key ssh-ed25519 $(re_escape "$SSHD_FP");"
	expect_log 'notice: redis/private: up \(check ok\)$'
	expect_eq "GET through the bastion" private "$(rcli "$LISTEN_PORT" GET where 2>&1)"
	expect_log "$(session_re private "$NET.6" "$port")client closed\\)"
	# sshd saw the channel to the private address.
	expect_eq "logins at the bastion" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root')"

	# A target behind the bastion that drops SYNs: sshd waits out its own
	# connect timeout (about 2 minutes), and libssh2 opens one channel at
	# a time, so opens for every route queue behind that one.  A dial
	# that times out there says so; after 1s the bastion opens a second
	# connection for the opens behind it; another open to the dark
	# target fails at once.
	bh=$(free_port) && hole=$(free_port) && l2=$(free_port) ||
	    fail_case "no free port"
	ip netns exec "$NS_P" nft -f - <<-EOF || fail_case "nft failed in $NS_P"
	table inet postern_test {
		chain input { type filter hook input priority 0; tcp dport $bh drop; }
	}
	EOF
	stop_postern
	{
		conf_global
		conf_bastion b address="$NET.2:$SSHD_PORT"
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis "private ssh://b/$NET.6:$port" -- \
		    check=none connect_timeout=500ms hold_timeout=0s
		conf_service redis2 "127.0.0.1:$l2" redis "private ssh://b/$NET.6:$port" -- \
		    check=none connect_timeout=10s hold_timeout=0s
		conf_service hole "127.0.0.1:$hole" tcp "dark ssh://b/$NET.6:$bh" -- \
		    check=none connect_timeout=60s hold_timeout=0s
	} > "$CONF"
	start_postern "$CONF"
	expect_log "info: bastion b \\(root@$(re_escape "$NET.2"):$SSHD_PORT\\): connected in [0-9]+ ms"
	open_session dark "TCP:127.0.0.1:$hole"
	# The open is in the slot once sshd is trying to connect for it.
	wait_until 10 ip netns exec "$NS_B" sh -c "ss -tnH state syn-sent dst $NET.6 | grep -q ':$bh'" ||
	    fail_case "sshd never tried $NET.6:$bh"
	rcli "$LISTEN_PORT" GET where > "$T/queued.out" 2>&1
	expect_log " redis 127\\.0\\.0\\.1:[0-9]+ -> private $(re_escape "$NET.6"):$port: connect failed: connect timeout after 500 ms \\(queued behind a channel open to $(re_escape "$NET.6"):$bh unanswered for 0\\.[0-9]s; libssh2 opens one channel at a time\\)$"
	expect_eq "GET through the second connection" private "$(rcli "$l2" GET where 2>&1)"
	expect_log "warn: bastion b \\(root@$(re_escape "$NET.2"):$SSHD_PORT\\): the channel open to $(re_escape "$NET.6"):$bh has had no answer for [0-9]+\\.[0-9]s; opening connection 2 for the opens behind it \\(libssh2 opens one channel at a time\\)$"
	expect_log "info: bastion b \\(root@$(re_escape "$NET.2"):$SSHD_PORT\\) \\[connection 2\\]: connected in [0-9]+ ms"
	expect_log "\\[connection 2\\]: took over 1 waiting open$"
	expect_log " redis2 127\\.0\\.0\\.1:[0-9]+ -> private $(re_escape "$NET.6"):$port: closed \\(client closed\\)"
	# A second open to the dark target is refused at once.
	out=$(timeout 10 socat -T 5 STDIO "TCP:127.0.0.1:$hole" < /dev/null 2>&1)
	expect_log " hole 127\\.0\\.0\\.1:[0-9]+ -> dark $(re_escape "$NET.6"):$bh: connect failed: bastion b: an open to $(re_escape "$NET.6"):$bh has had no answer for [0-9]+\\.[0-9]s \\(the bastion cannot reach it\\?\\); not queueing another$"
	note "GET behind a black-holed open: $(tr -d '\r' < "$T/queued.out" | head -c 100)"
	session_close dark
}

run_case "redis-cli through an ssh:// route" case_redis
run_case "psql through an ssh:// route" case_postgres
run_case "postgres check with SCRAM through an ssh:// route; md5 refused unless allowed" case_postgres_scram
run_case "200 concurrent sessions share one SSH connection" case_200_sessions
run_case "100 new sessions at once through one bastion: all served" case_burst
run_case "a killed extra connection: its channel fails, the others serve, it reconnects" case_extra_lost
run_case "a client that does not read: postern buffers a window, not the stream" case_slow_client
run_case "unknown host key refused (type, fingerprint, file)" case_hostkey_unknown
run_case "changed host key refused, also under accept-new" case_hostkey_changed
run_case "pinned host_key_sha256: wrong refused, right one after reload" case_hostkey_pin
run_case "hashed known_hosts; accept-new adds an unknown host" case_hostkey_hashed_accept_new
run_case "ssh-rsa (SHA-1) host key signatures refused, named; allowed by host_key_algorithms" case_hostkey_sha1
run_case "@cert-authority covering the host: refused under accept-new" case_hostkey_cert_authority
run_case "host key algorithms: the type known_hosts holds is asked for first" case_hostkey_prefer_known
run_case "wrong user key refused (type, fingerprint, file)" case_userkey_wrong
run_case "ed25519, ecdsa+passphrase, RSA PEM+passphrase; wrong passphrase" case_key_types
run_case "ssh-agent authentication" case_agent
run_case "a hung ssh-agent: bounded wait, clear error" case_agent_hung
run_case "PermitOpen: administratively prohibited vs connect failed" case_open_failures
run_case "sshd killed and restarted: reconnects, new sessions work" case_restart
run_case "identity made readable by others after the start: refused at reconnect" case_identity_mode_runtime
run_case "SIGSTOP'd bastion found by the keepalive counter" case_sigstop
run_case "admin shows the bastion: metrics, /health, /status" case_admin_bastion
run_case "reload keeps an unchanged bastion, replaces a changed one" case_reload
run_case "session_command runs in a session channel, ends with postern; its end and a refusal are said" case_session_command
run_case "ciphers: the one sshd allows is used; none in common fails, named" case_ciphers
run_case "ciphers unset: the measured order, filtered to this libssh2" case_ciphers_default
run_case "-L/-J with an ssh_config alias, and with -p -i -o" case_jump_alias
run_case "-L/-J: permanent errors end the tunnel with 255; transient ones retry" case_jump_permanent
for e in libssh2 openssh; do
	run_case "-L/-J ($e): a name that does not exist ends with 255; a daemon retries; no answer retries" case_jump_no_such_name "$e"
done
run_case "-J through an Included ssh_config with a Match; a chain taken, ProxyCommand and exec refused" case_jump_include_match
run_case "-J on a terminal: unknown host key, 'yes' records it; status lines" case_tty_ask_yes
run_case "-J on a terminal: 'no' records nothing, exits 1; -v keeps the log" case_tty_ask_no
run_case "-L on a terminal: Ctrl-C says it drains; a second Ctrl-C exits now" case_tty_ctrl_c
run_case "netns topology: redis reachable only from the bastion" case_netns_topology
finish
