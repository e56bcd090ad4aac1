# shellcheck shell=bash
#
# tests/lib.sh: shared helpers for the integration tests.
#
# A test script sources this file, defines one function per case and runs
# each with run_case:
#
#	. "$(dirname "$0")/../lib.sh"
#	case_ping() {
#		start_redis
#		conf_redis "$REDIS_PORT" > "$T/c.conf"
#		start_postern "$T/c.conf"
#		expect_eq "PING reply" PONG "$(rcli "$LISTEN_PORT" PING)"
#	}
#	run_case "PING through postern" case_ping
#	finish
#
# Each case runs in its own subshell with a watchdog; whatever it started
# (redis-server, postgres, postern, clients) is stopped by PID when it ends,
# and every postern it started must exit 0 on SIGTERM with no sanitizer
# report in its log.  A helper that cannot do its job fails the case with a
# reason; the case's postern logs are shown under a failure.
#
# Environment: POSTERN (the binary), POSTERN_RESULTS (file that run.sh
# counts; one "PASS|FAIL|SKIP<TAB>name<TAB>why" line per case),
# POSTERN_CASE_TIMEOUT (seconds, default 120), POSTERN_KEEP_TMP=1 (keep
# the temp dir for debugging).

set -u -o pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$TESTS_DIR/.." && pwd)
: "${POSTERN:=$TOP/_build/san/postern}"
: "${POSTERN_CASE_TIMEOUT:=120}"
SCRIPT_NAME=$(basename "$0" .sh)
export POSTERN

# Sanitizer settings, in case the script runs without run.sh.
: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=0}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS UBSAN_OPTIONS

# The servers' set-up (PKI, redis-server, sshd, postern readiness),
# shared with the benchmarks and packaging/demo.sh.
. "$TESTS_DIR/fixtures.sh"

SANITIZER_RE='ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:'
PORT_LOCK_DIR=/tmp/postern-test-ports

T=$(mktemp -d /tmp/postern-test.XXXXXX) || exit 1
chmod 755 "$T"

_STANDALONE=0
if [[ -z "${POSTERN_RESULTS:-}" ]]; then
	_STANDALONE=1
	POSTERN_RESULTS=$T/results
fi
: > "$T/results.script"

_NPASS=0 _NFAIL=0 _NSKIP=0 _NCASE=0
_CASE_ID=0 _IN_CASE=0 _NPOSTERN=0 _CASE_PID=
# Processes started by the current scope (the script, or one case).
_CLIENT_PIDS=() _POSTERN_PIDS=() _SERVER_PIDS=() _PG_DIRS=()

PGBIN=$(fixture_pgbin)

# ---------------------------------------------------------------------
# Results

# pass NAME: record a passed case.
pass() {
	printf 'ok - %s\n' "$1"
	printf 'PASS\t%s\t\n' "$1" >> "$POSTERN_RESULTS"
	printf 'PASS\n' >> "$T/results.script"
}

# fail NAME WHY: record a failed case.
fail() {
	printf 'not ok - %s: %s\n' "$1" "$2"
	printf 'FAIL\t%s\t%s\n' "$1" "${2//$'\n'/ }" >> "$POSTERN_RESULTS"
	printf 'FAIL\n' >> "$T/results.script"
}

# skip NAME WHY: record a case that could not run here.
skip() {
	printf 'ok - %s # SKIP %s\n' "$1" "$2"
	printf 'SKIP\t%s\t%s\n' "$1" "${2//$'\n'/ }" >> "$POSTERN_RESULTS"
	printf 'SKIP\n' >> "$T/results.script"
}

# fail_case WHY: inside a case, stop it as failed.
fail_case() {
	if ((_IN_CASE)); then
		printf '%s\n' "$*" >> "$T/case$_CASE_ID.why"
		exit 1
	fi
	printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2
	exit 1
}

# skip_case WHY: inside a case, stop it as skipped (needs something the
# machine lacks).
skip_case() {
	printf '%s\n' "$*" >> "$T/case$_CASE_ID.why"
	exit 77
}

note() {
	printf '#   %s\n' "$*"
}

# run_case NAME FUNC [ARGS]: run FUNC in a subshell, bounded by
# POSTERN_CASE_TIMEOUT, and record its result.
run_case() {
	local name="$SCRIPT_NAME: $1" func=$2 cpid rc why f n
	shift 2
	if [[ -n "${POSTERN_ONLY:-}" && "$name" != *"$POSTERN_ONLY"* ]]; then
		return 0
	fi
	_CASE_ID=$((_CASE_ID + 1))
	_NCASE=$((_NCASE + 1))
	(
		_IN_CASE=1
		_CLIENT_PIDS=() _POSTERN_PIDS=() _SERVER_PIDS=() _PG_DIRS=()
		trap '_case_cleanup' EXIT
		trap 'printf "case timed out after %ss\n" "$POSTERN_CASE_TIMEOUT" >> "$T/case$_CASE_ID.why"; exit 124' TERM
		"$func" "$@"
	) &
	cpid=$!
	_CASE_PID=$cpid
	n=$((POSTERN_CASE_TIMEOUT * 10))
	while ((n-- > 0)) && _pid_running "$cpid"; do
		sleep 0.1
	done
	if _pid_running "$cpid"; then
		# The subshell runs its TERM trap once its foreground command
		# ends: end that command too.
		kill -TERM "$cpid" 2>/dev/null
		_kill_descendants "$cpid"
	fi
	wait "$cpid"
	rc=$?
	_CASE_PID=
	why=
	[[ -f "$T/case$_CASE_ID.why" ]] && why=$(paste -sd';' "$T/case$_CASE_ID.why")
	case $rc in
	0)
		if [[ -n "$why" ]]; then
			fail "$name" "$why"
			_NFAIL=$((_NFAIL + 1))
		else
			pass "$name"
			_NPASS=$((_NPASS + 1))
		fi
		return 0 ;;
	77)
		skip "$name" "$why"
		_NSKIP=$((_NSKIP + 1))
		return 0 ;;
	esac
	fail "$name" "${why:-case exited with status $rc}"
	_NFAIL=$((_NFAIL + 1))
	for f in "$T"/case"$_CASE_ID"-postern*.log; do
		[[ -f "$f" ]] || continue
		note "--- last lines of $(basename "$f"):"
		tail -n 25 "$f" | sed 's/^/#     /'
	done
	return 0
}

# pid_tree PID: PID and every process below it.
pid_tree() {
	local kid
	echo "$1"
	for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		pid_tree "$kid"
	done
}

# _kill_descendants PID: SIGTERM every process below PID (by PID).
_kill_descendants() {
	local kid
	for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		_kill_descendants "$kid"
		kill -TERM "$kid" 2>/dev/null
	done
}

# finish: end of a script; prints a summary when run alone and exits
# non-zero when a case failed.
finish() {
	if ((_STANDALONE)); then
		printf '%d passed, %d failed\n' "$_NPASS" "$_NFAIL"
	fi
	((_NFAIL == 0))
	exit $?
}

# ---------------------------------------------------------------------
# Processes

# _pid_running PID: true while PID exists and is not a zombie.
_pid_running() {
	fixture_alive "$1"
}

# wait_exit PID TIMEOUT_S: wait until PID has exited; true if it did.
wait_exit() {
	local pid=$1 n=$(( ${2:-10} * 10 ))
	while ((n-- > 0)); do
		_pid_running "$pid" || return 0
		sleep 0.1
	done
	! _pid_running "$pid"
}

# _stop_pids TIMEOUT PID...: SIGTERM, bounded wait, SIGKILL, reap.
_stop_pids() {
	local t=$1 pid
	shift
	for pid in "$@"; do
		_pid_running "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "$@"; do
		if ! wait_exit "$pid" "$t"; then
			kill -KILL "$pid" 2>/dev/null
			wait_exit "$pid" 5
		fi
		wait "$pid" 2>/dev/null
	done
	return 0
}

# track_client PID: a client process to kill when the scope ends.
track_client() {
	_CLIENT_PIDS+=("$1")
}

# track_server PID: a server process to kill when the scope ends.
track_server() {
	_SERVER_PIDS+=("$1")
}

_stop_postgres_dir() {
	fixture_pg_stop "$PGBIN" "$1/data"
}

# _case_cleanup: EXIT trap of a case subshell.  Clients go first so that
# postern does not wait out a drain for them; every postern must then exit
# cleanly; servers last.
_case_cleanup() {
	local rc=$? pid dir f st
	trap - TERM
	((${#_CLIENT_PIDS[@]})) && _stop_pids 2 "${_CLIENT_PIDS[@]}"
	for pid in "${_POSTERN_PIDS[@]}"; do
		_pid_running "$pid" || continue
		kill -TERM "$pid" 2>/dev/null
		if ! wait_exit "$pid" 15; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			printf 'postern %s did not exit within 15s of SIGTERM\n' "$pid" >> "$T/case$_CASE_ID.why"
			((rc == 0)) && rc=1
			continue
		fi
		wait "$pid" 2>/dev/null
		st=$?
		if [[ "$st" != 0 ]]; then
			printf 'postern exited %s on SIGTERM at the end of the case\n' "$st" >> "$T/case$_CASE_ID.why"
			((rc == 0)) && rc=1
		fi
	done
	for f in "$T"/case"$_CASE_ID"-postern*.log; do
		[[ -f "$f" ]] || continue
		if grep -Eq "$SANITIZER_RE" "$f"; then
			grep -qF "sanitizer report in $(basename "$f")" "$T/case$_CASE_ID.why" 2>/dev/null ||
			    printf 'sanitizer report in %s: %s\n' "$(basename "$f")" \
			    "$(grep -Em 1 "$SANITIZER_RE" "$f")" >> "$T/case$_CASE_ID.why"
			((rc == 0 || rc == 77)) && rc=1
		fi
	done
	((${#_SERVER_PIDS[@]})) && _stop_pids 5 "${_SERVER_PIDS[@]}"
	for dir in "${_PG_DIRS[@]}"; do
		_stop_postgres_dir "$dir"
	done
	exit "$rc"
}

# _script_cleanup: EXIT trap of the script.
_script_cleanup() {
	local rc=$? dir pid
	trap - EXIT INT TERM
	# Stopped in the middle of a case: let the case clean up after itself.
	if [[ -n "$_CASE_PID" ]] && _pid_running "$_CASE_PID"; then
		kill -TERM "$_CASE_PID" 2>/dev/null
		_kill_descendants "$_CASE_PID"
		wait_exit "$_CASE_PID" 30
		wait "$_CASE_PID" 2>/dev/null
	fi
	((${#_CLIENT_PIDS[@]})) && _stop_pids 2 "${_CLIENT_PIDS[@]}"
	((${#_POSTERN_PIDS[@]})) && _stop_pids 15 "${_POSTERN_PIDS[@]}"
	((${#_SERVER_PIDS[@]})) && _stop_pids 5 "${_SERVER_PIDS[@]}"
	for dir in "${_PG_DIRS[@]}"; do
		_stop_postgres_dir "$dir"
	done
	_release_ports
	if [[ "${POSTERN_KEEP_TMP:-0}" == 1 ]]; then
		printf '# kept %s\n' "$T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _script_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------
# Ports

# free_port: print a TCP port in 20000-60999 (outside the kernel's
# ephemeral range) that nothing uses, reserved for this script with a lock
# directory so that parallel test scripts cannot pick it too.
free_port() {
	local lo=20000 hi=60999 elo ehi p owner tries=500
	read -r elo ehi < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { elo=0 ehi=0; }
	mkdir -p "$PORT_LOCK_DIR" 2>/dev/null
	chmod 1777 "$PORT_LOCK_DIR" 2>/dev/null
	while ((tries-- > 0)); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		((p >= elo && p <= ehi)) && continue
		if ! mkdir "$PORT_LOCK_DIR/$p" 2>/dev/null; then
			owner=$(cat "$PORT_LOCK_DIR/$p/owner" 2>/dev/null) || continue
			[[ -n "$owner" ]] && ! kill -0 "$owner" 2>/dev/null || continue
			rm -rf "${PORT_LOCK_DIR:?}/${p:?}"
			mkdir "$PORT_LOCK_DIR/$p" 2>/dev/null || continue
		fi
		echo "$$" > "$PORT_LOCK_DIR/$p/owner"
		if [[ -n "$(ss -tanH "( sport = :$p or dport = :$p )" 2>/dev/null)" ]]; then
			rm -rf "${PORT_LOCK_DIR:?}/${p:?}"
			continue
		fi
		echo "$p"
		return 0
	done
	echo "free_port: no free port found" >&2
	return 1
}

_release_ports() {
	local d
	for d in "$PORT_LOCK_DIR"/*/; do
		[[ -f "$d/owner" && "$(cat "$d/owner" 2>/dev/null)" == "$$" ]] &&
		    rm -rf "$d"
	done
	return 0
}

# ---------------------------------------------------------------------
# Waiting

# wait_log FILE PATTERN [TIMEOUT_S]: poll grep -E every 0.1s; 1 on timeout.
wait_log() {
	local file=$1 pat=$2 n=$(( ${3:-10} * 10 ))
	while ((n-- > 0)); do
		grep -Eq -- "$pat" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	grep -Eq -- "$pat" "$file" 2>/dev/null
}

# wait_count FILE PATTERN N [TIMEOUT_S]: wait until PATTERN matches at
# least N lines of FILE.
wait_count() {
	local file=$1 pat=$2 want=$3 n=$(( ${4:-10} * 10 ))
	while ((n-- > 0)); do
		(($(count_lines "$file" "$pat") >= want)) && return 0
		sleep 0.1
	done
	(($(count_lines "$file" "$pat") >= want))
}

# port_listening PORT: something listens on TCP port PORT.
port_listening() {
	fixture_listening "$1"
}

# count_lines FILE PATTERN: number of lines matching PATTERN.
count_lines() {
	local c
	c=$(grep -Ec -- "$2" "$1" 2>/dev/null)
	echo "${c:-0}"
}

# log_ms PATTERN [N]: the time (ms since the epoch) of the Nth (default
# first) line of postern's log matching PATTERN; 1 when there is none.
log_ms() {
	local l
	l=$(grep -E -- "$1" "$POSTERN_LOG" | sed -n "${2:-1}p")
	[[ -n "$l" ]] || return 1
	date -d "${l%% *}" +%s%3N
}

# wait_until TIMEOUT_S CMD...: retry CMD every 0.1s until it succeeds.
wait_until() {
	# Not "n": a condition given as a string (eval) reads the caller's
	# variables, and a local n here would shadow a caller's n.
	local _wu_left=$(( $1 * 10 ))
	shift
	while ((_wu_left-- > 0)); do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" > /dev/null 2>&1
}

# wait_steady TIMEOUT_S SAMPLES CMD...: wait until CMD prints the same
# value, neither empty nor 0, SAMPLES more times in a row, 0.2 s apart
# (a byte counter that has stopped: the buffers it fills are full).
# Prints that value.
wait_steady() {
	local n=$(( $1 * 5 )) samples=$2 want=$2 a b=
	shift 2
	a=$("$@" 2> /dev/null)
	while ((n-- > 0)); do
		sleep 0.2
		b=$("$@" 2> /dev/null)
		if [[ -n "$a" && "$a" != 0 && "$a" == "$b" ]]; then
			((--want > 0)) || { printf '%s\n' "$b"; return 0; }
		else
			want=$samples
		fi
		a=$b
	done
	return 1
}

# ---------------------------------------------------------------------
# Expectations: each fails the case with a reason.

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[[ "$2" == "$3" ]] ||
	    fail_case "$1: expected '$(_short "$2")', got '$(_short "$3")'"
}

# expect_match WHAT REGEX ACTUAL
expect_match() {
	[[ "$3" =~ $2 ]] ||
	    fail_case "$1: '$(_short "$3")' does not match /$2/"
}

# expect_log PATTERN [TIMEOUT_S] [FILE]: wait for PATTERN in postern's log.
expect_log() {
	local file=${3:-$POSTERN_LOG}
	wait_log "$file" "$1" "${2:-10}" ||
	    fail_case "log $(basename "$file") never matched /$1/ within ${2:-10}s"
}

# expect_no_log PATTERN [FILE]: PATTERN must not be in postern's log.
expect_no_log() {
	local file=${2:-$POSTERN_LOG} l
	l=$(grep -Em 1 -- "$1" "$file" 2>/dev/null) &&
	    fail_case "log $(basename "$file") unexpectedly has: $l"
	return 0
}

_short() {
	local s=${1//$'\r'/\\r}
	s=${s//$'\n'/\\n}
	((${#s} > 200)) && s="${s:0:200}..."
	printf '%s' "$s"
}

# sha256_of FILE: the hex SHA-256 of FILE (or stdin when FILE is -).
sha256_of() {
	sha256sum "${1:--}" | cut -d' ' -f1
}

# ---------------------------------------------------------------------
# Certificates (make_pki, PKI) and OpenSSH bastions (start_sshd, keys,
# conf_bastion): their own files, sourced here so that every test file
# and benchmark has them.
. "$(dirname "${BASH_SOURCE[0]}")/lib-tls.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib-ssh.sh"
# ---------------------------------------------------------------------
# Servers

# start_redis [ARGS]: redis-server on 127.0.0.1 on a free port; sets
# REDIS_PORT, REDIS_PID and REDIS_DIR.
start_redis() {
	local port
	port=$(free_port) || fail_case "no free port for redis"
	start_redis_on "$port" "$@"
}

# start_redis_on PORT [ARGS]: the same, on a given port.  With
# REDIS_TLS_CERT set (a certificate from make_pki), TLS only (--port 0)
# with that certificate, client certificates not required.  REDIS_NETNS:
# run it in that network namespace, listening on REDIS_ADDR.
start_redis_on() {
	local port=$1 dir addr=${REDIS_ADDR:-127.0.0.1}
	local -a tls=() argv
	shift
	[[ -z "${REDIS_TLS_CERT:-}" ]] ||
	    tls=(tls "$REDIS_TLS_CERT" "$PKI/server.key" "$PKI/ca.crt")
	dir=$T/redis-$port
	mkdir -p "$dir"
	fixture_redis argv "$addr" "$port" "$dir" '' "${tls[@]}" "$@"
	(_close_sess_fds; exec ${REDIS_NETNS:+ip netns exec "$REDIS_NETNS"} "${argv[@]}") \
	    >> "$dir/log" 2>&1 &
	REDIS_PID=$! REDIS_PORT=$port REDIS_DIR=$dir
	track_server "$REDIS_PID"
	local n=100
	while ((n-- > 0)); do
		[[ "$(_redis_ping "$port" "$addr")" == PONG ]] && return 0
		_pid_running "$REDIS_PID" ||
		    fail_case "redis-server on port $port died: $(tail -n 3 "$dir/log")"
		sleep 0.1
	done
	fail_case "redis-server on port $port did not answer PING within 10s"
}

# _redis_ping PORT [ADDR]: PING; over TLS without verification (the
# certificate may be the expired one on purpose).
_redis_ping() {
	local addr=${2:-127.0.0.1}
	if [[ -n "${REDIS_TLS_CERT:-}" ]]; then
		timeout 5 redis-cli --tls --insecure --cert "$PKI/client.crt" \
		    --key "$PKI/client.key" -h "$addr" -p "$1" PING 2>/dev/null
	else
		timeout 2 redis-cli -h "$addr" -p "$1" PING 2>/dev/null
	fi
}

# rdirect PORT ARGS: redis-cli straight to a server start_redis started
# (over TLS with a client certificate when REDIS_TLS_CERT is set).
rdirect() {
	if [[ -n "${REDIS_TLS_CERT:-}" ]]; then
		tls_rcli "$@"
	else
		rcli "$@"
	fi
}

# start_redis_tls [CERT] [ARGS]: start_redis with TLS only and CERT
# (default server.crt).
start_redis_tls() {
	local REDIS_TLS_CERT=${1:-$PKI/server.crt}
	(($#)) && shift
	start_redis "$@"
}

# tls_rcli PORT ARGS: redis-cli over TLS straight to a server.
tls_rcli() {
	local port=$1
	shift
	timeout 30 redis-cli --tls --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" \
	    --key "$PKI/client.key" -h 127.0.0.1 -p "$port" "$@"
}

# rcli PORT ARGS: redis-cli to 127.0.0.1:PORT, bounded to 30s.
rcli() {
	local port=$1
	shift
	timeout 30 redis-cli -h 127.0.0.1 -p "$port" "$@"
}

_as_postgres() {
	fixture_as_postgres "$@"
}

# start_postgres: a fresh cluster (initdb -A trust --nosync) on
# 127.0.0.1; sets PG_PORT, PG_DIR, PG_SOCKDIR.  Stopped with pg_ctl -m
# immediate when the scope ends.
start_postgres() {	# PG_HBA: pg_hba.conf text; PG_OPTS: more -c settings
	local port dir
	[[ -x "$PGBIN/initdb" ]] || fail_case "no PostgreSQL server binaries under /usr/lib/postgresql"
	port=$(free_port) || fail_case "no free port for postgres"
	dir=$T/pg-$port
	mkdir -p "$dir/data" "$dir/sock"
	((EUID == 0)) && chown -R postgres:postgres "$dir"
	fixture_pg_initdb "$PGBIN" "$dir/data" > "$dir/initdb.log" 2>&1 ||
	    fail_case "initdb failed: $(tail -n 3 "$dir/initdb.log")"
	[[ -z "${PG_HBA:-}" ]] || printf '%s\n' "$PG_HBA" > "$dir/data/pg_hba.conf"
	_pg_ctl_start "$dir" "$port"
}

# _pg_ctl_start DIR PORT: start the cluster in DIR/data on 127.0.0.1:PORT
# (socket in DIR/sock; PG_OPTS: more -c settings), stopped when the scope
# ends; sets PG_PORT, PG_DIR, PG_SOCKDIR.
_pg_ctl_start() {
	local dir=$1 port=$2
	_PG_DIRS+=("$dir")
	PG_PORT=$port PG_DIR=$dir PG_SOCKDIR=$dir/sock
	restart_postgres
}

# restart_postgres: pg_ctl start the cluster of PG_DIR on PG_PORT (again,
# after a stop), with PG_OPTS; PG_NETNS: in that network namespace,
# listening on PG_ADDR (default 127.0.0.1).
restart_postgres() {
	local -a as=(_as_postgres) argv
	[[ -n "${PG_NETNS:-}" ]] && as=(ip netns exec "$PG_NETNS" runuser -u postgres --)
	fixture_pg_ctl_start argv "$PGBIN" "$PG_DIR/data" "$PG_DIR/log" \
	    "${PG_ADDR:-127.0.0.1}" "$PG_PORT" "$PG_SOCKDIR" "${PG_OPTS:-}"
	(_close_sess_fds; "${as[@]}" timeout 90 "${argv[@]}") > "$PG_DIR/pg_ctl.log" 2>&1 ||
	    fail_case "pg_ctl start failed: $(tail -n 3 "$PG_DIR/log")"
}

# start_pg_standby PRIMARY_PORT: a streaming standby (pg_basebackup -R)
# of the cluster on 127.0.0.1:PRIMARY_PORT, whose pg_hba.conf must trust
# postgres and replication from 127.0.0.1 (start_postgres's default does);
# returns once it streams.  Sets PG_PORT, PG_DIR, PG_SOCKDIR.
start_pg_standby() {
	local primary=$1 port dir
	port=$(free_port) || fail_case "no free port for the standby"
	dir=$T/pg-$port
	mkdir -p "$dir/sock"
	((EUID == 0)) && chown -R postgres:postgres "$dir"
	_as_postgres timeout 60 "$PGBIN/pg_basebackup" -h 127.0.0.1 \
	    -p "$primary" -U postgres -D "$dir/data" -R -X stream --no-sync --checkpoint=fast \
	    > "$dir/basebackup.log" 2>&1 ||
	    fail_case "pg_basebackup failed: $(tail -n 3 "$dir/basebackup.log")"
	_pg_ctl_start "$dir" "$port"
	wait_until 30 eval '[[ "$(timeout 10 psql "$(pg_conninfo "$primary")" -XAtc \
	    "SELECT count(*) FROM pg_stat_replication WHERE state = '"'streaming'"'")" == 1 ]]' ||
	    fail_case "the standby on port $port is not streaming from $primary"
}

# pg_conninfo PORT [EXTRA]: a libpq connection string for 127.0.0.1:PORT.
pg_conninfo() {
	printf 'host=127.0.0.1 port=%s user=postgres dbname=postgres connect_timeout=10 %s' "$1" "${2:-}"
}

# ---------------------------------------------------------------------
# postern

# start_postern_args ARGS: start "$POSTERN" ARGS in the background, a
# direct child of the calling shell, with its stdout and stderr in a log
# file; sets POSTERN_PID and POSTERN_LOG.  Does not wait for it to be ready.
start_postern_args() {
	_NPOSTERN=$((_NPOSTERN + 1))
	POSTERN_LOG=$T/case$_CASE_ID-postern$_NPOSTERN.log
	: > "$POSTERN_LOG"
	(_close_sess_fds; exec "$POSTERN" "$@") >> "$POSTERN_LOG" 2>&1 &
	POSTERN_PID=$!
	_POSTERN_STARTER=$BASHPID
	_POSTERN_PIDS+=("$POSTERN_PID")
}

# wait_ready [TIMEOUT_S]: wait for postern's "ready:" line; fails the case
# if postern exits first or the line does not come.
wait_ready() {
	local st
	fixture_postern_ready "$POSTERN_LOG" "$POSTERN_PID" "${1:-10}" && return 0
	if (($? == 1)); then
		wait "$POSTERN_PID"
		st=$?
		fail_case "postern exited with status $st before ready: $(tail -n 3 "$POSTERN_LOG" | paste -sd'|')"
	fi
	fail_case "postern logged no 'ready:' line within ${1:-10}s"
}

# start_postern CONFIGFILE [ARGS]: run postern -c CONFIGFILE, wait for ready.
start_postern() {
	local conf=$1
	shift
	start_postern_args -c "$conf" "$@"
	wait_ready 10
}

# postern_wait_exit [TIMEOUT_S]: wait for the last started postern to exit
# by itself and set POSTERN_STATUS to its exit status, or to "running" if
# it did not exit in time.  Call it from the shell that started postern
# (not inside $(...)): only that shell can collect the status.
postern_wait_exit() {
	if ! wait_exit "$POSTERN_PID" "${1:-10}"; then
		POSTERN_STATUS=running
		return 0
	fi
	wait "$POSTERN_PID"
	POSTERN_STATUS=$?
}

# postern_exit_status [TIMEOUT_S]: postern_wait_exit, printing the status.
# Inside $(...) the status is reliable only if the calling shell already
# collected it; prefer postern_wait_exit.
postern_exit_status() {
	postern_wait_exit "$@"
	if [[ "$BASHPID" != "${_POSTERN_STARTER:-}" ]] &&
	    [[ "$POSTERN_STATUS" == 127 || "$POSTERN_STATUS" == 255 || "$POSTERN_STATUS" == -1 ]]; then
		echo "unknown (postern_exit_status inside \$(...) could not collect it: use postern_wait_exit)"
		return
	fi
	echo "$POSTERN_STATUS"
}

# check_sanitizers LOG: fail the case if LOG holds a sanitizer report.
check_sanitizers() {
	local l
	l=$(grep -Em 1 "$SANITIZER_RE" "$1") &&
	    fail_case "sanitizer report in $(basename "$1"): $l"
	return 0
}

# stop_postern [TIMEOUT_S]: SIGTERM, wait, and require exit status 0, the
# "exiting" line and a log free of sanitizer reports.
stop_postern() {
	_pid_running "$POSTERN_PID" || fail_case "postern was no longer running before SIGTERM"
	kill -TERM "$POSTERN_PID"
	postern_wait_exit "${1:-15}"
	[[ "$POSTERN_STATUS" == running ]] && fail_case "postern still running ${1:-15}s after SIGTERM"
	check_sanitizers "$POSTERN_LOG"
	[[ "$POSTERN_STATUS" == 0 ]] || fail_case "postern exited with status $POSTERN_STATUS after SIGTERM"
	grep -Eq ' info: exiting$' "$POSTERN_LOG" ||
	    fail_case "postern did not log 'exiting'"
}

# conf_global [KEY=VALUE...]: a [postern] section; defaults log_level =
# info and drain_timeout = 2s (short, so that stopping is quick).
conf_global() {
	local kv lvl=info drain=2s
	local -a rest=()
	for kv in "$@"; do
		case $kv in
		log_level=*)		lvl=${kv#*=} ;;
		drain_timeout=*)	drain=${kv#*=} ;;
		*)			rest+=("$kv") ;;
		esac
	done
	printf '[postern]\nlog_level = %s\ndrain_timeout = %s\n' "$lvl" "$drain"
	for kv in "${rest[@]}"; do
		printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
	done
	printf '\n'
}

# conf_service NAME LISTEN PROTOCOL ROUTE... [-- KEY=VALUE...]: a
# [service] section; each ROUTE is "name url".
# shellcheck disable=SC2178,SC2128 # listen is an array in another function
conf_service() {
	local name=$1 listen=$2 proto=$3
	shift 3
	printf '[service %s]\nlisten = %s\nprotocol = %s\n' "$name" "$listen" "$proto"
	while (($#)) && [[ "$1" != -- ]]; do
		printf 'route = %s\n' "$1"
		shift
	done
	(($#)) && shift
	while (($#)); do
		printf '%s = %s\n' "${1%%=*}" "${1#*=}"
		shift
	done
	printf '\n'
}

# postern_service PROTOCOL ROUTE... [-- KEY=VALUE...]: write a config with
# one service (named after its protocol) listening on a free port to
# $T/caseN.conf and start postern on it; sets LISTEN_PORT and CONF.  The
# [postern] section gets the KEY=VALUE words in the array GLOBAL_OPTS;
# the text in CONF_EXTRA (a [bastion] section) follows it.
GLOBAL_OPTS=()
postern_service() {
	local proto=$1
	shift
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	{
		conf_global "${GLOBAL_OPTS[@]}"
		[[ -z "${CONF_EXTRA:-}" ]] || printf '%s\n\n' "$CONF_EXTRA"
		conf_service "$proto" "127.0.0.1:$LISTEN_PORT" "$proto" "$@"
	} > "$CONF"
	start_postern "$CONF"
}

# postern_redis [ROUTE...] [-- KEY=VALUE...]: postern_service redis; without
# ROUTEs, one: "private tcp://127.0.0.1:$REDIS_PORT".
postern_redis() {
	if (($# == 0)) || [[ "$1" == -- ]]; then
		set -- "private tcp://127.0.0.1:$REDIS_PORT" "$@"
	fi
	postern_service redis "$@"
}

# start_socat_server SOCAT-ADDRESS [tls]: a forking TCP server on
# 127.0.0.1 on a free port that connects each client to SOCAT-ADDRESS
# (e.g. "SYSTEM:sha256sum"), speaking TLS with make_pki's server
# certificate when asked; sets SERVER_PORT.
# shellcheck disable=SC2178,SC2128 # listen is an array in another function
start_socat_server() {
	local n=100 listen=TCP-LISTEN opts=
	SERVER_PORT=$(free_port) || fail_case "no free port"
	[[ "${2:-}" != tls ]] || { listen=OPENSSL-LISTEN; opts=",cert=$PKI/server.pem,verify=0"; }
	(_close_sess_fds; exec socat "$listen:$SERVER_PORT,bind=127.0.0.1,reuseaddr,fork$opts" "$1") \
	    > "$T/socat-$SERVER_PORT.log" 2>&1 &
	track_server "$!"
	while ((n-- > 0)); do
		[[ -n "$(ss -ltnH "sport = :$SERVER_PORT")" ]] && return 0
		_pid_running "$!" || fail_case "socat server died: $(head -c 200 "$T/socat-$SERVER_PORT.log")"
		sleep 0.1
	done
	fail_case "socat server not listening after 10s"
}

# ---------------------------------------------------------------------
# Clients

declare -A _SESS_FD _SESS_PID

# _close_sess_fds: in a child about to exec, close the write ends of the
# session pipes, so that a session's client sees EOF when the test closes
# it whatever was started after it.
_close_sess_fds() {
	local fd
	for fd in "${_SESS_FD[@]}"; do
		exec {fd}>&-
	done
	return 0
}
# open_session NAME SOCAT-ADDRESS: a long-lived client (socat) whose input
# is a pipe the test writes to with session_send and whose output goes to
# $T/NAME.out.  session_close NAME half-closes it.
open_session() {
	local name=$1 addr=$2 fd
	rm -f "$T/$name.in"
	mkfifo "$T/$name.in"
	: > "$T/$name.out"
	(_close_sess_fds; exec timeout 120 socat -t 10 STDIO "$addr") \
	    < "$T/$name.in" > "$T/$name.out" 2> "$T/$name.err" &
	_SESS_PID[$name]=$!
	track_client "$!"
	exec {fd}> "$T/$name.in"
	_SESS_FD[$name]=$fd
}

# session_send NAME DATA: write DATA (printf %b escapes) into the session.
session_send() {
	printf '%b' "$2" 1>&"${_SESS_FD[$1]}" 2>/dev/null ||
	    fail_case "session $1: cannot write (client gone)"
}

# session_ended NAME PORT TIMEOUT_S: postern closed session NAME (a
# client of 127.0.0.1:PORT): its socket reads EOF (CLOSE-WAIT: postern's
# FIN came; socat itself would end only after its -t 10 s, a wait that
# proves nothing more) or the client is gone, within TIMEOUT_S; then its
# input closes and it must end within 5 s.  Fails the case otherwise.
session_ended() {
	local pid port=$2
	pid=$(session_pid "$1")
	wait_until "$3" eval '[[ -n "$(ss -Htn state close-wait "dport = :$port")" ]] ||
	    ! _pid_running "$pid"' ||
	    fail_case "session $1: postern did not close the connection within $3s"
	session_close "$1"
	wait_exit "$pid" 5 || fail_case "session $1: the client did not end on EOF both ways"
}

# session_close NAME: close the client's input; socat half-closes.
session_close() {
	local fd=${_SESS_FD[$1]:-}
	[[ -n "$fd" ]] || return 0
	exec {fd}>&-
	unset '_SESS_FD[$1]'
}

# session_pid NAME
session_pid() {
	echo "${_SESS_PID[$1]}"
}

# session_out NAME: what the client received so far.
session_out() {
	cat "$T/$1.out"
}

# start_traffic PROTO PORT [ARG...]: tests/traffic.py run against
# 127.0.0.1:PORT (PROTO redis or pg; ARGs go to it, e.g. --new-ms 100
# --pool 2): new connections and pooled ones, every reply checked, one
# line per request in $TRAFFIC_OUT ("START_MS END_MS KIND ID STATUS
# SERVER").  Sets TRAFFIC_OUT, TRAFFIC_PID; stop_traffic ends it.
start_traffic() {
	local proto=$1 port=$2
	shift 2
	TRAFFIC_OUT=$T/traffic-$proto-$port.out
	TRAFFIC_STOP=$T/traffic-$proto-$port.stop
	rm -f "$TRAFFIC_STOP"
	: > "$TRAFFIC_OUT"
	(_close_sess_fds; exec python3 "$TESTS_DIR/traffic.py" run --proto "$proto" \
	    --port "$port" --out "$TRAFFIC_OUT" --stop "$TRAFFIC_STOP" "$@") \
	    >> "$TRAFFIC_OUT.err" 2>&1 &
	TRAFFIC_PID=$!
	track_client "$TRAFFIC_PID"
}

# stop_traffic: ask the traffic client to stop; it finishes its requests
# in flight (each bounded by its --timeout); SIGKILL after 15 s.
stop_traffic() {
	: > "$TRAFFIC_STOP"
	wait_exit "$TRAFFIC_PID" 15 || kill -KILL "$TRAFFIC_PID" 2>/dev/null
	wait "$TRAFFIC_PID" 2>/dev/null
	return 0
}

# traffic_count FROM_MS TO_MS KIND STATUS SERVER: requests in
# $TRAFFIC_OUT that started in [FROM_MS, TO_MS) (TO_MS 0: no end); KIND,
# STATUS (ok, err, wrong: the part before ":") and SERVER are exact
# values or "*".
traffic_count() {
	awk -v from="$1" -v to="$2" -v kind="$3" -v st="$4" -v srv="$5" '
		{ split($5, s, ":") }
		$1 >= from && (to == 0 || $1 < to) &&
		    (kind == "*" || $3 == kind) && (st == "*" || s[1] == st) &&
		    (srv == "*" || $6 == srv) { n++ }
		END { print n + 0 }' "$TRAFFIC_OUT"
}

# A listening socket whose accept queue is full and never drained: the
# kernel drops further SYNs, so a connect to it hangs until the caller's
# timeout, all on 127.0.0.1.  The helper checks that a probe connect does
# hang before it reports ready.
BLACKHOLE_PL='
use strict;
use Socket;
use IO::Select;
my $port = shift;
my $addr = sockaddr_in($port, inet_aton("127.0.0.1"));
sub nbconnect {
	socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
	my $fl = fcntl($s, 3, 0);
	fcntl($s, 4, $fl | 04000);	# F_SETFL O_NONBLOCK
	connect($s, $addr);
	return $s;
}
socket(my $l, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
setsockopt($l, SOL_SOCKET, SO_REUSEADDR, 1);
bind($l, $addr) or die "bind: $!\n";
listen($l, 0) or die "listen: $!\n";
my @fill = (nbconnect(), nbconnect());
select(undef, undef, undef, 0.3);
my $p = nbconnect();
if (IO::Select->new($p)->can_write(1.5)) {
	print "probe connected: no black hole here\n";
	exit 3;
}
close($p);
$| = 1;
print "blackhole ready\n";
sleep 600;
'
# start_blackhole: sets BLACKHOLE_PORT; skips the case where the kernel
# does not drop SYNs to a full accept queue.
start_blackhole() {
	BLACKHOLE_PORT=$(free_port) || fail_case "no free port"
	(_close_sess_fds; exec perl -e "$BLACKHOLE_PL" "$BLACKHOLE_PORT") \
	    > "$T/blackhole-$BLACKHOLE_PORT.out" 2>&1 &
	track_server "$!"
	wait_log "$T/blackhole-$BLACKHOLE_PORT.out" 'blackhole ready|probe connected|:' 10 ||
	    fail_case "black-hole listener did not start"
	grep -q 'blackhole ready' "$T/blackhole-$BLACKHOLE_PORT.out" ||
	    skip_case "cannot make a black-hole listener: $(head -c 200 "$T/blackhole-$BLACKHOLE_PORT.out")"
}

# A server that answers nothing: it listens on 127.0.0.1:PORT and either
# accepts every connection and keeps it open without a byte ("accept"),
# or never calls accept ("noaccept": the kernel completes handshakes
# until the backlog is full).
SILENT_PL='
use strict;
use Socket;
my ($mode, $addr, $port) = @ARGV;
socket(my $l, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
setsockopt($l, SOL_SOCKET, SO_REUSEADDR, 1);
bind($l, sockaddr_in($port, inet_aton($addr))) or die "bind: $!\n";
listen($l, 128) or die "listen: $!\n";
$| = 1;
print "silent ready\n";
my @held;
if ($mode eq "accept") {
	while (accept(my $c, $l)) { push @held, $c; }
}
sleep 600;
'
# start_silent PORT accept|noaccept [ADDR]: such a server on ADDR
# (127.0.0.1) PORT; sets SILENT_PID.  SILENT_NETNS: run it in that
# network namespace.
start_silent() {
	local out=$T/silent-$1.out
	(_close_sess_fds; exec ${SILENT_NETNS:+ip netns exec "$SILENT_NETNS"} \
	    perl -e "$SILENT_PL" "$2" "${3:-127.0.0.1}" "$1") > "$out" 2>&1 &
	SILENT_PID=$!
	track_server "$SILENT_PID"
	wait_log "$out" 'silent ready|:' 10 && grep -q 'silent ready' "$out" ||
	    fail_case "silent listener on port $1 did not start: $(head -c 200 "$out")"
}

# ---------------------------------------------------------------------
# Transports: a behaviour case runs on tcp://, ssh:// and tls:// routes
# with the transport as its parameter (15-matrix.sh).  The servers are
# the same; for ssh:// postern reaches them through a real sshd on
# loopback (ssh: the libssh2 engine; sshmux: the OpenSSH engine with
# mux_forward = proxy, whose channels are postern's own, like
# libssh2's), for tls:// they speak TLS themselves (socat OPENSSL-LISTEN,
# redis-server --tls-port) with make_pki's certificates.

TRANSPORTS=(tcp ssh sshmux tls)

# transport_socat TRANSPORT SOCAT-ADDRESS: start_socat_server for it.
transport_socat() {
	start_socat_server "$2" "$([[ $1 == tls ]] && echo tls)"
}

# transport_redis TRANSPORT [ARGS]: start_redis for it (TLS only for
# tls; rdirect then speaks TLS too).
transport_redis() {
	local t=$1
	shift
	[[ $t != tls ]] || REDIS_TLS_CERT=$PKI/server.crt
	start_redis "$@"
}

# transport_route TRANSPORT PORT: set ROUTE to a route "private URL" to
# 127.0.0.1:PORT over TRANSPORT; for ssh, start sshd (once per case) and
# put its [bastion b] section in CONF_EXTRA.
transport_route() {
	case $1 in
	tcp)	ROUTE="private tcp://127.0.0.1:$2" ;;
	tls)	ROUTE="private tls://127.0.0.1:$2 ca=$PKI/ca.crt" ;;
	ssh)	[[ -n "${SSHD_PORT:-}" ]] || start_sshd
		CONF_EXTRA=$(conf_bastion b)
		ROUTE="private ssh://b/127.0.0.1:$2" ;;
	sshmux)	[[ -n "${SSHD_PORT:-}" ]] || start_sshd
		: > "$T/ssh_config.empty"	# root's ~/.ssh/config stays out
		CONF_EXTRA=$(conf_bastion b engine=openssh mux_forward=proxy \
		    ssh_config="$T/ssh_config.empty")
		ROUTE="private ssh://b/127.0.0.1:$2" ;;
	*)	fail_case "transport_route: unknown transport '$1'" ;;
	esac
}

# postern_on TRANSPORT PROTOCOL PORT [-- KEY=VALUE...]: postern_service
# PROTOCOL with one route to 127.0.0.1:PORT over TRANSPORT; for ssh, waits
# until the bastion is connected.
postern_on() {
	local t=$1 proto=$2
	transport_route "$t" "$3"
	shift 3
	postern_service "$proto" "$ROUTE" "$@"
	[[ $t != ssh* ]] ||
	    expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in " 20
}

# ---------------------------------------------------------------------
# Network namespaces (75-blackhole.sh, 90-ssh.sh, bench/failover.sh)

# _with_status RC: return RC, so that a trap keeps the exit status it
# had before its clean-up ran.
_with_status() {
	return "$1"
}

# netns_remove NS...: kill what still runs in each namespace (it was
# started here), then delete it with its nft tables and veth ends.
# Idempotent.
netns_remove() {
	local ns pid
	for ns in "$@"; do
		ip netns list 2>/dev/null | grep -qw -- "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
			{ wait "$pid"; } 2> /dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# link_del IF...: delete the host-side links that exist.  Idempotent.
link_del() {
	local l
	for l in "$@"; do
		ip link show "$l" > /dev/null 2>&1 && ip link del "$l" 2>/dev/null
	done
	return 0
}

# netns_pair NS HOSTIF NSIF: namespace NS joined to this host by a veth
# pair (HOSTIF here, NSIF inside) with a link-local /30 of its own; sets
# NS_HOST_ADDR and NS_ADDR.  Prints why and returns 1 when it cannot (not
# root, no nft, namespaces not permitted); the caller removes NS and
# HOSTIF with netns_remove and link_del.
netns_pair() {
	local err net
	((EUID == 0)) || { echo "needs root for ip netns and nft"; return 1; }
	command -v nft > /dev/null || { echo "nft (nftables) is not installed"; return 1; }
	err=$(ip netns add "$1" 2>&1) || { echo "ip netns add is not permitted here: $err"; return 1; }
	pick_link_local net 200 || { echo "no unused 169.254.X.0/30 for the veth pair"; return 1; }
	NS_HOST_ADDR=$net.1 NS_ADDR=$net.2
	ip link add "$2" type veth peer name "$3" &&
	    ip link set "$3" netns "$1" &&
	    ip addr add "$NS_HOST_ADDR/30" dev "$2" &&
	    ip link set "$2" up &&
	    ip netns exec "$1" ip link set lo up &&
	    ip netns exec "$1" ip addr add "$NS_ADDR/30" dev "$3" &&
	    ip netns exec "$1" ip link set "$3" up ||
	    { echo "veth set-up failed"; return 1; }
}

# pick_link_local VAR FIRST: a 169.254.X (X from FIRST to FIRST+49, the
# start taken from the PID so that parallel runs differ) with no address
# in 169.254.X.0/24 and no route to 169.254.X.1 on this host; sets VAR to
# "169.254.X".  Returns 1 when all 50 are taken.
pick_link_local() {
	local x tries=50
	x=$(($$ % 50))
	while ((tries-- > 0)); do
		x=$(((x + 1) % 50))
		if [[ -z "$(ip -4 addr show to "169.254.$(($2 + x)).0/24" 2>/dev/null)" &&
		    -z "$(ip -4 route show to match "169.254.$(($2 + x)).1" 2>/dev/null | grep -v '^default')" ]]; then
			printf -v "$1" '169.254.%s' "$(($2 + x))"
			return 0
		fi
	done
	return 1
}
