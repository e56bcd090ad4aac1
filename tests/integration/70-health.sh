#!/bin/bash
# Route health: active checks per protocol, rise/fall hysteresis, failover
# and failback, hold with protocol-native errors, on_route_down, SIGTERM
# with shutdown_delay.  Real redis-server and PostgreSQL; faults are
# injected with SIGKILL/SIGSTOP, a per-connection "flapper" (socat) and a
# PostgreSQL stand-in that answers 57P03.  Log lines are the contract:
# every case waits for them with a bound, never for a fixed time.
. "$(dirname "$0")/../lib.sh"

# Fast checks for every case.  check_timeout may not exceed
# check_interval (the config rejects it), hence 300ms for both.
FAST=(check_interval=300ms check_fast_interval=100ms check_down_interval=200ms
	check_timeout=300ms fall=2 rise=2)

_STOPPED=()

# ---------------------------------------------------------------------
# Helpers

# conf_head [KEY=VALUE...]: a [postern] section; the arguments replace
# lib.sh's defaults (log_level = info, drain_timeout = 2s).
conf_head() {
	local -A kv=([log_level]=info [drain_timeout]=2s)
	local a k
	for a in "$@"; do
		kv[${a%%=*}]=${a#*=}
	done
	printf '[postern]\n'
	for k in "${!kv[@]}"; do
		printf '%s = %s\n' "$k" "${kv[$k]}"
	done
	printf '\n'
}

# start_pair: two redis-servers, "private" and "public", each holding
# who=<its name>; sets PRIV_PORT PRIV_PID PUB_PORT.
start_pair() {
	start_redis
	PRIV_PORT=$REDIS_PORT PRIV_PID=$REDIS_PID
	expect_eq "SET who on private" OK "$(rcli "$PRIV_PORT" SET who private 2>&1)"
	start_redis
	PUB_PORT=$REDIS_PORT
	expect_eq "SET who on public" OK "$(rcli "$PUB_PORT" SET who public 2>&1)"
}

# postern_pair [KEY=VALUE...]: postern with service redis, routes private
# and public (start_pair's servers), FAST checks plus the arguments; waits
# until both routes are up.
postern_pair() {
	postern_redis "private tcp://127.0.0.1:$PRIV_PORT" \
	    "public tcp://127.0.0.1:$PUB_PORT" -- "${FAST[@]}" "$@"
	expect_log 'notice: redis/private: up \(check ok\)$'
	expect_log 'notice: redis/public: up \(check ok\)$'
}

# session_re ROUTE PORT: the start of a session's closing line on a route.
session_re() {
	printf ' s[0-9]+ redis 127\\.0\\.0\\.1:[0-9]+ -> %s 127\\.0\\.0\\.1:%s: closed \\(' "$1" "$2"
}

# expect_served_by ROUTE PORT: a new redis-cli session through postern
# reads who=ROUTE, and postern logs its end on ROUTE 127.0.0.1:PORT.
expect_served_by() {
	local route=$1 port=$2 re before
	re=$(session_re "$route" "$port")
	before=$(count_lines "$POSTERN_LOG" "$re")
	expect_eq "new session's GET who" "$route" "$(rcli "$LISTEN_PORT" GET who 2>&1)"
	wait_count "$POSTERN_LOG" "$re" $((before + 1)) 10 ||
	    fail_case "no new session line on $route 127.0.0.1:$port (want /$re/)"
}

# line_no PATTERN: the line number of the first matching log line (0: none).
line_no() {
	local n
	n=$(grep -Enm 1 -- "$1" "$POSTERN_LOG" | cut -d: -f1)
	echo "${n:-0}"
}

# stop_server PID: SIGSTOP a server; the case's exit trap sends SIGCONT
# first, so that the cleanup can stop it.
stop_server() {
	_STOPPED+=("$1")
	trap '_rc=$?; for _p in "${_STOPPED[@]}"; do kill -CONT "$_p" 2>/dev/null; done; _with_status "$_rc"; _case_cleanup' EXIT
	kill -STOP "$1" || fail_case "cannot SIGSTOP $1"
}

# ---------------------------------------------------------------------
# Failover and failback

# The preferred redis dies (refusal): down after fall=2 checks, new
# sessions go to public; it comes back on the same port: up after rise=2,
# new sessions go back to private.
# (How long detection takes is measured by tests/bench/failover.sh,
# scenario "refusal", with these check settings: a test only asserts.)
case_kill_failover() {
	start_pair
	postern_pair
	expect_served_by private "$PRIV_PORT"
	kill -KILL "$PRIV_PID"
	{ wait "$PRIV_PID"; } 2> /dev/null
	expect_log "warn: redis/private: up -> down \(2 failed checks; last: connection refused; was up for [0-9]+\.[0-9]{3}s\)$"
	expect_log 'warn: service redis: new sessions go to public \(was private\)$'
	expect_served_by public "$PUB_PORT"
	start_redis_on "$PRIV_PORT"
	expect_eq "SET who on the new private" OK "$(rcli "$PRIV_PORT" SET who private 2>&1)"
	expect_log "notice: redis/private: down -> up \(2 successful checks; was down for [0-9]+\.[0-9]{3}s\)$"
	expect_log 'notice: service redis: new sessions go to private \(was public\)$'
	expect_served_by private "$PRIV_PORT"
	expect_eq "failovers logged" 2 "$(count_lines "$POSTERN_LOG" 'service redis: new sessions go to .* \(was ')"
}

# The preferred redis hangs (SIGSTOP): connects succeed, PING gets no
# answer: down with "timeout: no answer within 300 ms"; SIGCONT: failback.
case_hang_failover() {
	start_pair
	postern_pair
	expect_served_by private "$PRIV_PORT"
	stop_server "$PRIV_PID"
	expect_log "warn: redis/private: up -> down \(2 failed checks; last: timeout: no answer within 300 ms; was up for [0-9]+\.[0-9]{3}s\)$"
	expect_log 'warn: service redis: new sessions go to public \(was private\)$'
	expect_served_by public "$PUB_PORT"
	kill -CONT "$PRIV_PID"
	expect_log "notice: redis/private: down -> up \(2 successful checks; was down for [0-9]+\.[0-9]{3}s\)$"
	expect_log 'notice: service redis: new sessions go to private \(was public\)$'
	expect_served_by private "$PRIV_PORT"
}

# ---------------------------------------------------------------------
# Flapping

# start_flapper TARGET_PORT PATTERN: a socat front on a free port that
# decides the fate of each new connection by the next letter of
# $T/flap/pattern (cyclic, by connection number; the file may be
# rewritten at any time): O forwards the connection to
# 127.0.0.1:TARGET_PORT, F closes it at once.  Each connection appends
# "N LETTER" to $T/flap/trace.  Sets FLAP_PORT.
start_flapper() {
	mkdir -p "$T/flap"
	printf '%s\n' "$2" > "$T/flap/pattern"
	: > "$T/flap/trace"
	cat > "$T/flap/one.sh" <<-'EOF'
	exec 9>> "$FLAP_DIR/lock"
	flock 9
	n=$(($(wc -l < "$FLAP_DIR/trace") + 1))
	pat=$(< "$FLAP_DIR/pattern")
	c=${pat:$(((n - 1) % ${#pat})):1}
	echo "$n $c" >> "$FLAP_DIR/trace"
	exec 9>&-
	[[ $c == O ]] && exec socat - "TCP:127.0.0.1:$FLAP_TARGET"
	exit 0
	EOF
	FLAP_PORT=$(free_port) || fail_case "no free port for the flapper"
	(_close_sess_fds; FLAP_DIR=$T/flap FLAP_TARGET=$1 exec socat \
	    "TCP-LISTEN:$FLAP_PORT,bind=127.0.0.1,reuseaddr,fork,backlog=64" \
	    "EXEC:bash $T/flap/one.sh") 2>> "$T/flap/socat.err" &
	track_server "$!"
	wait_until 10 port_listening "$FLAP_PORT" ||
	    fail_case "flapper did not listen on $FLAP_PORT"
}

flap_conns() {
	wc -l < "$T/flap/trace"
}

# flap_window N: let N more connections reach the flapper.
flap_window() {
	local want=$(($(flap_conns) + $1))
	wait_until 30 eval '(($(flap_conns) >= want))' ||
	    fail_case "the flapper saw $(flap_conns) connections, want $want within 30s"
}

# A route whose checks fail two times out of three never reaches fall=3
# failures in a row (it stays up), and a down route whose checks succeed
# two times out of three never reaches rise=3 (it stays down): no
# transition and no "new sessions go to" line in either window.  Then a
# steady pattern moves it, which shows that the windows could have.
# Counts are exact: they depend only on the letters, not on timing.
# (check_timeout 500ms: the forwarded path forks bash and socat.)
case_flapping() {
	local go fails0 fails
	local ok_re='(warn|notice): redis/private: (up|down) -> '
	start_pair
	# Steady until the first "up": on a loaded machine the first check
	# can time out, and O F F from there is down for good.
	start_flapper "$PRIV_PORT" O
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/flap.conf
	{ conf_head log_level=debug
	  conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
	      "private tcp://127.0.0.1:$FLAP_PORT" "public tcp://127.0.0.1:$PUB_PORT" -- \
	      check_interval=500ms check_fast_interval=100ms \
	      check_down_interval=200ms check_timeout=500ms fall=3 rise=3
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: redis/private: up \(check ok\)$'
	printf 'OFF\n' > "$T/flap/pattern"
	go=$(count_lines "$POSTERN_LOG" 'new sessions go to')
	fails0=$(count_lines "$POSTERN_LOG" 'debug: redis/private: check: closed')

	# Window 1: up, pattern O F F.
	flap_window 15
	fails=$(($(count_lines "$POSTERN_LOG" 'debug: redis/private: check: closed') - fails0))
	((fails >= 8)) || fail_case "window 1: postern saw $fails failed checks of private, want >= 8"
	expect_no_log "$ok_re"
	expect_eq "'new sessions go to' lines in window 1" "$go" "$(count_lines "$POSTERN_LOG" 'new sessions go to')"

	printf 'F\n' > "$T/flap/pattern"
	expect_log 'warn: redis/private: up -> down \(3 failed checks; last: (closed by the server|closed: connection lost: [^;]+); was up for [0-9.]+s\)$'
	expect_log 'warn: service redis: new sessions go to public \(was private\)$'
	go=$(count_lines "$POSTERN_LOG" 'new sessions go to')

	# Window 2: down, pattern O O F.
	printf 'OOF\n' > "$T/flap/pattern"
	flap_window 15
	expect_eq "'down -> up' lines in window 2" 0 "$(count_lines "$POSTERN_LOG" 'redis/private: down -> up')"
	expect_eq "'new sessions go to' lines in window 2" "$go" "$(count_lines "$POSTERN_LOG" 'new sessions go to')"
	expect_served_by public "$PUB_PORT"

	printf 'O\n' > "$T/flap/pattern"
	expect_log 'notice: redis/private: down -> up \(3 successful checks; was down for [0-9.]+s\)$'
	expect_log 'notice: service redis: new sessions go to private \(was public\)$'
	expect_eq "transitions of private in all" 2 "$(count_lines "$POSTERN_LOG" "$ok_re")"
}

# ---------------------------------------------------------------------
# All routes down: hold, then the protocol's own error

# both_down_conf PROTO NAME: a config for service NAME whose two routes
# point at reserved ports where nothing listens; sets LISTEN_PORT,
# DEAD1, DEAD2 and CONF.
both_down_conf() {
	local proto=$1 name=$2
	shift 2
	DEAD1=$(free_port) && DEAD2=$(free_port) && LISTEN_PORT=$(free_port) ||
	    fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{ conf_head
	  conf_service "$name" "127.0.0.1:$LISTEN_PORT" "$proto" \
	      "private tcp://127.0.0.1:$DEAD1" "public tcp://127.0.0.1:$DEAD2" -- \
	      "${FAST[@]}" "$@"
	} > "$CONF"
}

# wait_both_down NAME
wait_both_down() {
	expect_log "warn: $1/private: unknown -> down \(2 failed checks; last: connection refused; "
	expect_log "warn: $1/public: unknown -> down \(2 failed checks; last: connection refused; "
	expect_log "warn: service $1: no usable route \(was (private|public)\)$"
}

# age_of_line PATTERN: the "after N.NNNs" of the first matching line, in ms.
age_of_line() {
	local l
	l=$(grep -Em 1 -- "$1" "$POSTERN_LOG") || return 1
	[[ "$l" =~ \ after\ ([0-9]+)\.([0-9]{3})s, ]] || return 1
	echo $((10#${BASH_REMATCH[1]} * 1000 + 10#${BASH_REMATCH[2]}))
}

case_all_down_redis() {
	local out ms want='ERR postern: no healthy route for service redis (private: connection refused; public: connection refused)'
	both_down_conf redis redis hold_timeout=500ms
	start_postern "$CONF"
	wait_both_down redis
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_eq "redis-cli reply with no route" "$want" "$out"
	expect_log ' s[0-9]+ redis 127\.0\.0\.1:[0-9]+: closed \(no route: private: connection refused; public: connection refused\) after '
	ms=$(age_of_line ': closed \(no route: ')
	# Held for hold_timeout (500ms) from accept; a few ms of slack for
	# the loop's cached clock.
	((ms >= 450 && ms < 5000)) || fail_case "no-route session lasted $ms ms, want about 500 (hold_timeout)"
}

case_all_down_pg() {
	local out ms
	both_down_conf postgres pg hold_timeout=500ms
	start_postern "$CONF"
	wait_both_down pg
	out=$(env -u PGSSLMODE timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -Atc 'SELECT 1' 2>&1)
	expect_match "psql (sslmode=prefer) error with no route" \
	    'FATAL:  postern: no healthy route for service pg \(private: connection refused; public: connection refused\)' "$out"
	expect_log ' s[0-9]+ pg 127\.0\.0\.1:[0-9]+: closed \(no route: private: connection refused; public: connection refused\) after '
	ms=$(age_of_line ' pg .*: closed \(no route: ')
	((ms >= 450 && ms < 5000)) || fail_case "no-route session lasted $ms ms, want about 500 (hold_timeout)"
}

# A client that arrives while every route is down is held, and served as
# soon as a route comes up within hold_timeout.
case_hold_served() {
	local cpid out
	both_down_conf redis redis hold_timeout=5s
	start_postern "$CONF"
	wait_both_down redis
	rcli "$LISTEN_PORT" PING > "$T/held.out" 2>&1 &
	cpid=$!
	track_client "$cpid"
	# The client is connected to postern (and so held) before a route
	# comes up.
	wait_until 5 eval '[[ -n "$(ss -tnH state established "( dport = :$LISTEN_PORT )")" ]]' ||
	    fail_case "the client never connected to postern"
	_pid_running "$cpid" || fail_case "client ended before any route came up: $(cat "$T/held.out")"
	start_redis_on "$DEAD1"
	expect_log 'notice: redis/private: down -> up \(2 successful checks; '
	wait_exit "$cpid" 10 || fail_case "held client not answered 10s after private came up"
	wait "$cpid"
	expect_eq "held client's reply" PONG "$(cat "$T/held.out")"
	expect_log "$(session_re private "$DEAD1")client closed\)"
	(($(line_no 'redis/private: down -> up') < $(line_no ' -> private .*: closed \('))) ||
	    fail_case "the session closed before private came up"
	expect_no_log ': closed \(no route'
}

# Without active checks nothing announces that a failed route may be
# tried again: a held client is retried when the route's rest
# (check_interval since its last failure) ends, not left to hold_timeout.
case_hold_passive() {
	local cpid dead
	dead=$(free_port) && LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{ conf_head
	  conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
	      "private tcp://127.0.0.1:$dead" -- check=none check_interval=1s \
	      hold_timeout=30s
	} > "$CONF"
	start_postern "$CONF"
	rcli "$LISTEN_PORT" PING > "$T/held.out" 2>&1 &
	cpid=$!
	track_client "$cpid"
	# Its first try failed: it is held now.
	expect_log " -> private 127\.0\.0\.1:$dead: connect failed: connection refused$"
	_pid_running "$cpid" || fail_case "client ended at the first failure: $(cat "$T/held.out")"
	start_redis_on "$dead"
	wait_exit "$cpid" 20 || fail_case "held client not served 20s after the route came back"
	wait "$cpid"
	expect_eq "held client's reply" PONG "$(cat "$T/held.out")"
	expect_log "$(session_re private "$dead")client closed\)"
	expect_no_log ': closed \(no route'
}

# ---------------------------------------------------------------------
# Check flavours: AUTH and ACL users, ROLE, PostgreSQL

case_redis_auth() {
	local rp
	# requirepass after the start: start_redis waits for an unauthenticated
	# PING.
	start_redis
	rp=$REDIS_PORT
	expect_eq "CONFIG SET requirepass" OK "$(rcli "$rp" CONFIG SET requirepass s3cret 2>&1)"
	expect_eq "ACL SETUSER alice" OK "$(rcli "$rp" --no-auth-warning -a s3cret ACL SETUSER alice on '>alicepw' '~*' '&*' '+@all' 2>&1)"
	expect_eq "ACL SETUSER bob" OK "$(rcli "$rp" --no-auth-warning -a s3cret ACL SETUSER bob on '>bobpw' '-@all' 2>&1)"
	printf 's3cret\n' > "$T/pw.good"
	printf 'wrong\n' > "$T/pw.bad"
	printf 'alicepw\n' > "$T/pw.alice"
	printf 'bobpw\n' > "$T/pw.bob"
	# Secret files: not readable by group or others (the config refuses).
	chmod 600 "$T"/pw.*
	CONF=$T/auth.conf
	{ conf_head log_level=debug
	  conf_service good "127.0.0.1:$(free_port)" redis "private tcp://127.0.0.1:$rp" -- \
	      "${FAST[@]}" "check_password_file=$T/pw.good"
	  conf_service noauth "127.0.0.1:$(free_port)" redis "private tcp://127.0.0.1:$rp" -- \
	      "${FAST[@]}"
	  conf_service badpw "127.0.0.1:$(free_port)" redis "private tcp://127.0.0.1:$rp" -- \
	      "${FAST[@]}" "check_password_file=$T/pw.bad"
	  conf_service acl "127.0.0.1:$(free_port)" redis "private tcp://127.0.0.1:$rp" -- \
	      "${FAST[@]}" check_user=alice "check_password_file=$T/pw.alice"
	  conf_service noperm "127.0.0.1:$(free_port)" redis "private tcp://127.0.0.1:$rp" -- \
	      "${FAST[@]}" check_user=bob "check_password_file=$T/pw.bob"
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: good/private: up \(check ok\)$'
	expect_log 'notice: acl/private: up \(check ok\)$'
	expect_log 'warn: noauth/private: unknown -> down \(2 failed checks; last: authentication: NOAUTH Authentication required\.; was unknown for '
	expect_log 'warn: badpw/private: unknown -> down \(2 failed checks; last: authentication: AUTH refused: WRONGPASS '
	expect_log 'warn: noperm/private: unknown -> down \(2 failed checks; last: authentication: NOPERM '
	# The passing checks go on passing (at least 5 more of each).
	wait_count "$POSTERN_LOG" 'debug: good/private: check: ok \(PONG\)' 6 10 ||
	    fail_case "good/private: fewer than 6 successful checks"
	wait_count "$POSTERN_LOG" 'debug: acl/private: check: ok \(PONG\)' 6 10 ||
	    fail_case "acl/private: fewer than 6 successful checks"
	expect_no_log '(good|acl)/private: .*-> down'
	expect_no_log 's3cret|alicepw|bobpw'
}

# check_role = master: a replica answers PING but is down with "role:
# replica, wanted master"; the same replica is up under check_role = any.
# Last resort: the only route fails its check (the check's password is
# wrong) but serves; a client still gets through, and a route whose
# server is gone still gives the protocol error after the hold.
case_last_resort() {
	local rp out
	start_redis
	rp=$REDIS_PORT
	printf 'not-the-password\n' > "$T/pw.wrong"
	chmod 600 "$T/pw.wrong"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/lastresort.conf
	{ conf_head log_level=debug
	  conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
	      "only tcp://127.0.0.1:$rp" -- "${FAST[@]}" \
	      "check_password_file=$T/pw.wrong" hold_timeout=1s
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'warn: redis/only: unknown -> down \(2 failed checks; last: authentication: AUTH refused: '
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_eq "PING through a route whose check fails" PONG "$out"
	expect_log 'debug: s[0-9]+ redis: every route is down: trying them anyway$'
	expect_log "$(session_re only "$rp")client closed\\)"
	# Passive success does not revive it: only checks do.
	expect_no_log 'redis/only: down -> up'
	kill -KILL "$REDIS_PID"
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_eq "PING when the only server is gone" \
	    "ERR postern: no healthy route for service redis (only: connection refused)" "$out"
}

case_redis_role() {
	local mp rp
	start_redis
	mp=$REDIS_PORT
	start_redis --replicaof 127.0.0.1 "$mp"
	rp=$REDIS_PORT
	wait_until 15 eval '[[ "$(rcli "$rp" INFO replication)" == *master_link_status:up* ]]' ||
	    fail_case "replica never linked to its master"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/role.conf
	{ conf_head
	  conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
	      "private tcp://127.0.0.1:$rp" "public tcp://127.0.0.1:$mp" -- \
	      "${FAST[@]}" check_role=master
	  conf_service any "127.0.0.1:$(free_port)" redis "private tcp://127.0.0.1:$rp" -- \
	      "${FAST[@]}"
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: redis/public: up \(check ok\)$'
	expect_log 'warn: redis/private: unknown -> down \(2 failed checks; last: role: replica, wanted master; was unknown for '
	expect_log 'warn: service redis: new sessions go to public \(was private\)$'
	expect_log 'notice: any/private: up \(check ok\)$'
	expect_eq "ROLE through postern" master "$(rcli "$LISTEN_PORT" ROLE 2>&1 | head -n 1)"
	expect_log "$(session_re public "$mp")"
}

# The default check follows the protocol: protocol = tcp only connects, so
# a hung (SIGSTOPped) redis stays up for the tcp service while the redis
# service's PING check takes the same server down; a port where nothing
# listens is down for both.
case_tcp_check() {
	local rp dead ok0
	start_redis
	rp=$REDIS_PORT
	dead=$(free_port) || fail_case "no free port"
	CONF=$T/tcp.conf
	{ conf_head log_level=debug
	  conf_service plain "127.0.0.1:$(free_port)" tcp \
	      "private tcp://127.0.0.1:$rp" "dead tcp://127.0.0.1:$dead" -- "${FAST[@]}"
	  conf_service redis "127.0.0.1:$(free_port)" redis "private tcp://127.0.0.1:$rp" -- \
	      "${FAST[@]}"
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: plain/private: up \(check ok\)$'
	expect_log 'debug: plain/private: check: ok \(connected\)'
	expect_log 'warn: plain/dead: unknown -> down \(2 failed checks; last: connection refused; '
	expect_log 'notice: redis/private: up \(check ok\)$'
	expect_log 'debug: redis/private: check: ok \(PONG\)'
	stop_server "$REDIS_PID"
	expect_log 'warn: redis/private: up -> down \(2 failed checks; last: timeout: no answer within 300 ms; '
	ok0=$(count_lines "$POSTERN_LOG" 'debug: plain/private: check: ok')
	wait_count "$POSTERN_LOG" 'debug: plain/private: check: ok' $((ok0 + 5)) 10 ||
	    fail_case "tcp checks of a hung server stopped succeeding"
	expect_no_log 'plain/private: up -> down'
}

# A PostgreSQL stand-in that answers an SSLRequest with 'N' and a
# StartupMessage with FATAL 57P03 "the database system is starting up",
# like a postmaster still in recovery.
PG_STARTING_PL='
use strict;
use IO::Socket::INET;
my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
    Listen => 16, ReuseAddr => 1) or die "listen: $!\n";
my $b = "SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0" .
    "Fpostmaster.c\0\0";
my $err = "E" . pack("N", 4 + length($b)) . $b;
sub rd { my ($c, $n) = @_; my $buf = ""; while (length($buf) < $n) {
	my $r = sysread($c, $buf, $n - length($buf), length($buf));
	return undef unless $r; } return $buf; }
for (1 .. 100000) {
	my $c = $l->accept or next;
	eval {
		local $SIG{ALRM} = sub { die "slow client\n" };
		alarm 5;
		for (1 .. 3) {
			my $h = rd($c, 4) // last;
			my $len = unpack("N", $h);
			last if $len < 8 || $len > 10000;
			my $body = rd($c, $len - 4) // last;
			my $code = unpack("N", $body);
			if ($code == 80877103 || $code == 80877104) {
				syswrite($c, "N");
				next;
			}
			syswrite($c, $err);
			last;
		}
		alarm 0;
	};
	close($c);
}
'

case_pg_checks() {
	local sp pssl puser pstart out
	start_postgres
	sp=$(free_port) || fail_case "no free port"
	(_close_sess_fds; exec perl -e "$PG_STARTING_PL" "$sp") 2> "$T/standin.err" &
	track_server "$!"
	wait_until 10 port_listening "$sp" || fail_case "stand-in did not listen: $(cat "$T/standin.err")"
	pssl=$(free_port) && puser=$(free_port) && pstart=$(free_port) ||
	    fail_case "no free port"
	CONF=$T/pg.conf
	{ conf_head log_level=debug
	  conf_service pgssl "127.0.0.1:$pssl" postgres "private tcp://127.0.0.1:$PG_PORT" -- \
	      "${FAST[@]}"
	  conf_service pguser "127.0.0.1:$puser" postgres "private tcp://127.0.0.1:$PG_PORT" -- \
	      "${FAST[@]}" check_user=postgres check_database=postgres
	  conf_service starting "127.0.0.1:$pstart" postgres \
	      "private tcp://127.0.0.1:$sp" "public tcp://127.0.0.1:$PG_PORT" -- \
	      "${FAST[@]}" check_user=postgres check_database=postgres
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: pgssl/private: up \(check ok\)$'
	expect_log "debug: pgssl/private: check: ok \(SSLRequest answered '[SN]'\)"
	expect_log 'notice: pguser/private: up \(check ok\)$'
	expect_log 'debug: pguser/private: check: ok \((authentication requested|ready for query; primary)\)'
	expect_log 'warn: starting/private: unknown -> down \(2 failed checks; last: bad reply: FATAL 57P03: the database system is starting up; was unknown for '
	expect_log 'notice: starting/public: up \(check ok\)$'
	expect_log 'warn: service starting: new sessions go to public \(was private\)$'
	out=$(timeout 30 psql "$(pg_conninfo "$pssl")" -Atc 'SELECT 40 + 2' 2>&1)
	expect_eq "psql through pgssl" 42 "$out"
	out=$(timeout 30 psql "$(pg_conninfo "$pstart")" -Atc 'SELECT 6 * 7' 2>&1)
	expect_eq "psql through starting (served by public)" 42 "$out"
	expect_log " s[0-9]+ starting 127\.0\.0\.1:[0-9]+ -> public 127\.0\.0\.1:$PG_PORT: closed \("
}

# check_database names a database the cluster does not have: the server
# accepts the user (AuthenticationOk under trust) and then refuses the
# database with FATAL 3D000; the route must be down with that error, not
# up because an authentication message came first.
case_pg_baddb() {
	start_postgres
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/baddb.conf
	{ conf_head log_level=debug
	  conf_service baddb "127.0.0.1:$LISTEN_PORT" postgres "private tcp://127.0.0.1:$PG_PORT" -- \
	      "${FAST[@]}" check_user=postgres check_database=nosuchdb
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'warn: baddb/private: unknown -> down \(2 failed checks; last: bad reply: FATAL 3D000: database "nosuchdb" does not exist; '
	expect_no_log 'notice: baddb/private: up'
}

# ---------------------------------------------------------------------
# Established sessions when their route goes down

# open_private_session: a long-lived client through postern that has read
# who=private.
open_private_session() {
	open_session s "TCP:127.0.0.1:$LISTEN_PORT"
	session_send s 'GET who\r\n'
	wait_log "$T/s.out" '^private' 10 || fail_case "session did not read who=private: $(session_out s)"
}

# on_route_down = close: private hangs (SIGSTOP: its connections stay
# open, so only postern can end the session) -> the session is closed
# with reason "route: route down".
case_route_down_close() {
	start_pair
	postern_pair on_route_down=close
	open_private_session
	stop_server "$PRIV_PID"
	expect_log 'warn: redis/private: up -> down \(2 failed checks; last: timeout: '
	expect_log "$(session_re private "$PRIV_PORT")route: route down\) after "
	(($(line_no 'redis/private: up -> down') < $(line_no ': closed \(route: route down\)'))) ||
	    fail_case "session closed before the route went down"
	session_ended s "$LISTEN_PORT" 10
	expect_served_by public "$PUB_PORT"
}

# on_route_down = keep: the session stays through the route's down
# time, works again once private answers, and ends when private dies.
# (The default, move, is tests/integration/36-routedown.sh's.)
case_route_down_keep() {
	start_pair
	postern_pair on_route_down=keep
	open_private_session
	stop_server "$PRIV_PID"
	expect_log 'warn: redis/private: up -> down \(2 failed checks; last: timeout: '
	expect_log 'warn: service redis: new sessions go to public \(was private\)$'
	expect_served_by public "$PUB_PORT"
	expect_no_log "$(session_re private "$PRIV_PORT")"
	_pid_running "$(session_pid s)" || fail_case "client gone after its route went down (keep)"
	kill -CONT "$PRIV_PID"
	session_send s 'INCR kept\r\n'
	wait_log "$T/s.out" '^:1' 10 || fail_case "kept session did not work after SIGCONT: $(session_out s)"
	expect_no_log "$(session_re private "$PRIV_PORT")"
	kill -KILL "$PRIV_PID"
	{ wait "$PRIV_PID"; } 2> /dev/null
	expect_log "$(session_re private "$PRIV_PORT")server closed\)"
	session_ended s "$LISTEN_PORT" 10
}

# ---------------------------------------------------------------------
# SIGTERM for sidecars

case_sigterm_delay() {
	local out st t_term t_down
	start_redis
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/term.conf
	{ conf_head shutdown_delay=2s
	  conf_service redis "127.0.0.1:$LISTEN_PORT" redis "private tcp://127.0.0.1:$REDIS_PORT" -- \
	      "${FAST[@]}"
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: redis/private: up \(check ok\)$'
	kill -TERM "$POSTERN_PID"
	# No admin endpoint here: no readiness to speak of.
	expect_log 'info: SIGTERM: accepting for 2\.000s more \(shutdown_delay\)$' 5
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_eq "PING during shutdown_delay" PONG "$out"
	expect_log "$(session_re private "$REDIS_PORT")client closed\)" 5
	expect_log 'info: shutting down: [0-9]+ sessions? to drain' 10
	(($(line_no ' -> private .*: closed \(client closed\)') < $(line_no 'shutting down:'))) ||
	    fail_case "the session during the delay ended after 'shutting down:'"
	t_term=$(log_ms 'SIGTERM: accepting for')
	t_down=$(log_ms 'shutting down:')
	((t_down - t_term >= 1900)) ||
	    fail_case "'shutting down:' came $((t_down - t_term)) ms after SIGTERM, want >= 2000 (shutdown_delay)"
	postern_wait_exit 10
	expect_eq "exit status after SIGTERM" 0 "$POSTERN_STATUS"
	check_sanitizers "$POSTERN_LOG"
	expect_log 'info: exiting$'
}

# GET /readiness answers 503 during shutdown_delay (the admin endpoint's
# own tests are elsewhere; this only ties it to SIGTERM).
case_sigterm_readiness() {
	local ap code
	start_redis
	ap=$(free_port) && LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/ready.conf
	{ conf_head shutdown_delay=2s "admin=127.0.0.1:$ap"
	  conf_service redis "127.0.0.1:$LISTEN_PORT" redis "private tcp://127.0.0.1:$REDIS_PORT" -- \
	      "${FAST[@]}"
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: redis/private: up \(check ok\)$'
	code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ap/readiness")
	[[ "$code" == 000 ]] && ! port_listening "$ap" &&
	    skip_case "admin endpoint not built: nothing listens on admin = 127.0.0.1:$ap"
	expect_eq "GET /readiness before SIGTERM" 200 "$code"
	kill -TERM "$POSTERN_PID"
	expect_log 'SIGTERM: readiness now failing' 5
	code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ap/readiness")
	expect_eq "GET /readiness during shutdown_delay" 503 "$code"
	expect_no_log 'shutting down:'
	postern_wait_exit 10
	expect_eq "exit status after SIGTERM" 0 "$POSTERN_STATUS"
}

run_case "kill preferred redis: failover, failback" case_kill_failover
run_case "SIGSTOP preferred redis: timeout, failover, failback" case_hang_failover
run_case "flapping route: no bounce with rise=3 fall=3" case_flapping
run_case "all routes down: redis ERR after hold_timeout" case_all_down_redis
run_case "all routes down: psql FATAL after hold_timeout" case_all_down_pg
run_case "held client served when a route comes up" case_hold_served
run_case "held client retried when a passive route's rest ends" case_hold_passive
run_case "default check follows protocol: tcp connects, redis PINGs" case_tcp_check
run_case "redis check AUTH: password, NOAUTH, WRONGPASS, ACL user, NOPERM" case_redis_auth
run_case "redis check_role = master: replica is down" case_redis_role
run_case "last resort: every route down, traffic still tried" case_last_resort
run_case "postgres checks: SSLRequest, startup, 57P03 stand-in" case_pg_checks
run_case "postgres check_database that does not exist: down (3D000)" case_pg_baddb
run_case "on_route_down = close closes established sessions" case_route_down_close
run_case "on_route_down = keep keeps established sessions" case_route_down_keep
run_case "SIGTERM: shutdown_delay keeps accepting, then exit 0" case_sigterm_delay
run_case "SIGTERM: /readiness 503 during shutdown_delay" case_sigterm_readiness
finish
