# shellcheck shell=bash disable=SC2034
# (SC2034: the settings and results set here are read by the scripts.)
#
# tests/bench/lib.sh: set-up shared by the benchmark scripts.
#
# A bench script sets its message tag and sources this file:
#
#	tag=bench-ssh
#	. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#	bench_outdir postern-bench-ssh		# optional: $out, $logs
#	bench_workdir postern-bench-ssh		# $work, the cleanup trap
#	bench_redis; pg_init; pg_start; pg_load 1
#
# Sourcing only defines functions and reads the common settings; nothing
# starts and no trap is set until bench_workdir, so failover.sh can source
# it next to the integration harness (tests/lib.sh), whose names it does
# not reuse.  Everything a script starts listens on 127.0.0.1, is recorded
# in $pids (by spawn) and is stopped by PID when the script exits.
#
# Environment read here: BENCH_QUICK, BENCH_ROUNDS, BENCH_FILTER,
# BENCH_OUT, BENCH_KEEP, BENCH_NO_BUILD, BENCH_NO_INSTALL, POSTERN.

set -u -o pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The servers' set-up, shared with the integration tests and the demo.
. "$top/tests/fixtures.sh"
: "${tag:=bench}"

# Common settings.  A quick run is a smoke run: one round unless told.
quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then rounds=${BENCH_ROUNDS:-1}; else rounds=${BENCH_ROUNDS:-3}; fi
filter=${BENCH_FILTER:-}
clk_tck=$(getconf CLK_TCK)

work=		# temporary dir, removed on exit unless BENCH_KEEP=1
out=		# results dir (bench_outdir), kept
logs=		# where set-up logs go: $out/logs, else $work
pids=()		# everything started with spawn, stopped by PID on exit
pgbin=		# PostgreSQL server binaries (find_pgbin)

# say MSG: progress on stderr, so that stdout holds only the figures.
say() { printf '[%s] %s\n' "$tag" "$*" >&2; }

# die MSG: a set-up failure; the EXIT trap cleans up.
die() { printf '[%s] FATAL: %s\n' "$tag" "$*" >&2; exit 1; }

# by_mode QUICK FULL: the figure for this run's mode (BENCH_QUICK).
by_mode() { if [ "$quick" = 1 ]; then echo "$1"; else echo "$2"; fi; }

# ------------------------------------------------------------ directories

# bench_outdir NAME: results in $BENCH_OUT, else /tmp/NAME-<date>; sets
# out and logs ($out/logs).  They outlive the run.
bench_outdir() {
	out=${BENCH_OUT:-/tmp/$1-$(date +%Y%m%d-%H%M%S)}
	logs=$out/logs
	mkdir -p "$logs" || die "cannot create $out"
}

# bench_workdir NAME: a fresh /tmp/NAME.XXXXXX as $work (also $logs when
# there is no results dir), and the traps that stop what the script
# started.  755: the postgres user must reach the cluster inside it.
bench_workdir() {
	work=$(mktemp -d "/tmp/$1.XXXXXX") || die "mktemp failed"
	chmod 755 "$work"
	[ -n "$logs" ] || logs=$work
	trap bench_cleanup EXIT
	trap 'say "interrupted"; exit 130' INT TERM HUP
}

# bench_cleanup: EXIT trap.  PostgreSQL first (pg_ctl, not our child),
# then SIGTERM to every spawned PID, up to 5 s for them to go, SIGKILL to
# the rest; logs are copied to the results dir before the work dir goes.
bench_cleanup() {
	local p
	trap - EXIT
	pg_stop
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 50); do
		any_alive "${pids[@]}" || break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	# Reaps only our children, all of them killed above: cannot block.
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" 2>/dev/null
	[ -n "$work" ] && [ -d "$work" ] || return 0
	if [ -n "$out" ]; then
		cp "$work"/*.log "$logs/" 2>/dev/null
		cp "$work/pg/server.log" "$logs/postgres.log" 2>/dev/null
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work dir kept: $work"; else rm -rf "$work"; fi
	return 0
}

# ---------------------------------------------------------------- tools

# find_pgbin: the newest PostgreSQL with initdb and pgbench into $pgbin;
# 1 when there is none.
find_pgbin() {
	local d
	d=$(fixture_pgbin)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pgbench" ]; then
		pgbin=$d
	elif command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
		pgbin=$(pg_config --bindir)
	fi
	[ -n "$pgbin" ]
}

# missing_tools SPEC...: the Debian packages lacking, into the array
# $missing.  SPEC is CMD[|CMD...]:PACKAGE (any one CMD will do), or "pg"
# for the PostgreSQL server binaries.
missing_tools() {
	local spec cmds pkg c ok
	missing=()
	for spec in "$@"; do
		if [ "$spec" = pg ]; then
			find_pgbin || missing+=(postgresql postgresql-contrib)
			continue
		fi
		cmds=${spec%%:*} pkg=${spec#*:} ok=0
		for c in ${cmds//|/ }; do command -v "$c" >/dev/null && { ok=1; break; }; done
		[ $ok = 1 ] && continue
		case " ${missing[*]} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
	done
}

# ensure_tools SPEC...: missing_tools, then apt-get install what is
# missing (as root, unless BENCH_NO_INSTALL=1), log in $logs/apt.log.
ensure_tools() {
	local policy=/usr/sbin/policy-rc.d made=0 rc
	missing_tools "$@"
	[ ${#missing[@]} -eq 0 ] && return 0
	say "missing: ${missing[*]}"
	[ "${BENCH_NO_INSTALL:-0}" = 1 ] && die "BENCH_NO_INSTALL=1 and tools are missing"
	[ "$(id -u)" = 0 ] || die "not root: install ${missing[*]} first"
	say "installing with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	# Keep the packages' own services (a PostgreSQL cluster, an HAProxy)
	# from starting: they would take CPU and ports from the runs.
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made=1
	fi
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
		>"$logs/apt.log" 2>&1
	rc=$?
	[ $made = 1 ] && rm -f "$policy"
	[ $rc = 0 ] || die "apt-get install ${missing[*]} failed (see $logs/apt.log)"
	missing_tools "$@"
	[ ${#missing[@]} -eq 0 ] || die "still missing after apt-get: ${missing[*]}"
}

# find_postern: $POSTERN, else _build/rel/postern, else ./postern, else an
# optimized build into _build/rel (log in $logs/build.log) unless
# BENCH_NO_BUILD=1.  Sets POSTERN, or clears it, sets postern_note to why
# and returns 1.
postern_note=
find_postern() {
	local c
	if [ -n "${POSTERN:-}" ]; then
		[ -x "$POSTERN" ] && return 0
		postern_note="POSTERN=$POSTERN is not executable"; POSTERN=
		return 1
	fi
	for c in "$top/_build/rel/postern" "$top/postern"; do
		[ -x "$c" ] && { POSTERN=$c; return 0; }
	done
	if [ "${BENCH_NO_BUILD:-0}" = 1 ]; then
		postern_note="no postern binary (BENCH_NO_BUILD=1)"
		return 1
	fi
	if [ ! -f "$top/proxy/main.c" ]; then
		postern_note="no postern binary and no sources to build one"
		return 1
	fi
	say "building an optimized postern in _build/rel (log: $logs/build.log)"
	if (cd "$top" && { [ -x configure ] || ./autogen.sh; } &&
		mkdir -p _build/rel && cd _build/rel &&
		{ [ -f Makefile ] || ../../configure CFLAGS="-O2 -g"; } &&
		make -j2 postern) >"$logs/build.log" 2>&1 &&
		[ -x "$top/_build/rel/postern" ]; then
		POSTERN=$top/_build/rel/postern
		return 0
	fi
	postern_note="building postern failed (see $logs/build.log)"
	return 1
}

# ------------------------------------------------------------ processes

# spawn LOG CMD...: run CMD in the background, stdin from /dev/null,
# stdout and stderr into LOG; its PID goes into $spawned and $pids.
spawn() {
	local log=$1
	shift
	"$@" </dev/null >"$log" 2>&1 &
	spawned=$!
	pids+=("$spawned")
}

# alive PID: true while PID runs (a zombie, which kill -0 still finds,
# counts as gone).
alive() { fixture_alive "$1"; }

# any_alive PID...: true while one of them runs.
any_alive() {
	local p
	for p in "$@"; do alive "$p" && return 0; done
	return 1
}

# cpu_ticks PID [IF-GONE]: utime+stime of PID, all threads, in clock
# ticks ($clk_tck a second); IF-GONE (default NA) when PID is gone.
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "${2:-NA}"; return; }
	s=${s##*) }	# fields after "comm)", which may hold spaces
	set -- $s
	echo $((${12} + ${13}))	# fields 14 and 15 of the full line
}

# ----------------------------------------------------------------- ports

# Ports come from the 10000 below the kernel's ephemeral range, so that the
# benchmark's own client connections cannot be holding them.
read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768
if [ "$eph_lo" -gt 12000 ]; then port_lo=$((eph_lo - 10000)) port_n=9999
else port_lo=50000 port_n=10000; fi
used_ports=" "

# pick_port VAR: set VAR to a loopback port unused in any TCP state and
# not handed out before in this run.  (Not tests/lib.sh's free_port,
# which prints its port and locks it across scripts.)
pick_port() {
	local p busy try
	busy=" $(ss -tanH 2>/dev/null | awk '{n = split($4, a, ":"); printf "%s ", a[n]}')"
	for try in $(seq 1000); do
		p=$((port_lo + RANDOM % port_n))
		case "$used_ports$busy" in *" $p "*) continue ;; esac
		used_ports="$used_ports$p "
		printf -v "$1" '%s' "$p"
		return 0
	done
	die "no free port in $port_lo-$((port_lo + port_n - 1))"
}

# port_up PORT: true when something listens on PORT.
port_up() { fixture_listening "$1"; }

# wait_port PORT [PID [SECONDS]]: wait (default 10 s) until PORT listens;
# 1 on time-out or as soon as PID (when given) is gone.
wait_port() {
	for _ in $(seq $((${3:-10} * 10))); do
		port_up "$1" && return 0
		[ -n "${2:-}" ] && ! alive "$2" && return 1
		sleep 0.1
	done
	return 1
}

# --------------------------------------------------------------- servers

# bench_redis [tls CERT KEY CA] [ARG...]: a redis-server without
# persistence on 127.0.0.1 (fixture_redis), log $work/redis.log; with
# "tls CERT KEY CA" it listens for TLS only.  Up to 3 ports are tried, in
# case another process takes one between pick_port and the bind.  Sets
# redis_port and redis_pid.
bench_redis() {
	local try
	local -a argv
	for try in 1 2 3; do
		pick_port redis_port
		fixture_redis argv 127.0.0.1 "$redis_port" "$work" "$work/redis.log" "$@"
		say "starting redis-server on 127.0.0.1:$redis_port"
		spawn /dev/null "${argv[@]}"
		redis_pid=$spawned
		wait_port "$redis_port" "$redis_pid" && return 0
		kill "$redis_pid" 2>/dev/null
	done
	die "redis-server did not start: $(tail -n 3 "$work/redis.log" 2>/dev/null)"
}

# bench_postern NAME BINARY PORT...: BINARY -c $work/NAME.conf (spawned,
# log $work/NAME.log), waited for until it is ready (fixture_postern_ready:
# its "ready:" line or, at log_level warn, every PORT listening); sets
# ppid.  0 when ready, else 1 and the log copied to $logs.
bench_postern() {
	local name=$1 bin=$2
	shift 2
	spawn "$work/$name.log" "$bin" -c "$work/$name.conf"
	ppid=$spawned
	fixture_postern_ready "$work/$name.log" "$ppid" 10 "$@" && return 0
	kill "$ppid" 2>/dev/null
	wait "$ppid" 2>/dev/null
	cp "$work/$name.log" "$logs/$name.log" 2>/dev/null
	return 1
}

# as_postgres CMD...: CMD as the postgres user when we are root (initdb
# refuses root).
as_postgres() { fixture_as_postgres "$@"; }

# pg_init [INITDB-ARG...]: a trust-auth cluster in $work/pg/data (its
# socket dir $work/pg/sock); files the caller put in $work/pg before go
# to the postgres user too.
pg_init() {
	find_pgbin || die "no PostgreSQL server binaries"
	say "creating PostgreSQL cluster (initdb) in $work/pg"
	mkdir -p "$work/pg/data" "$work/pg/sock"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$work/pg"
	fixture_pg_initdb "$pgbin" "$work/pg/data" "$@" >"$work/initdb.log" 2>&1 ||
		die "initdb failed: $(tail -n 3 "$work/initdb.log")"
}

# pg_start [SETTING...]: start the cluster on 127.0.0.1 (fsync off, 200
# connections; each SETTING a "-c name=value" for postgres), trying up to
# 3 ports; sets pg_port.  bench_cleanup stops it.
pg_start() {
	local try
	local -a argv
	for try in 1 2 3; do
		pick_port pg_port
		say "starting PostgreSQL on 127.0.0.1:$pg_port"
		fixture_pg_ctl_start argv "$pgbin" "$work/pg/data" "$work/pg/server.log" \
			127.0.0.1 "$pg_port" "$work/pg/sock" "-c max_connections=200 $*"
		as_postgres "${argv[@]}" >"$work/pg_ctl.log" 2>&1 && break
		[ $try = 3 ] && die "pg_ctl start failed: $(tail -n 3 "$work/pg/server.log" 2>/dev/null)"
	done
}

# pg_stop: stop the cluster in $work/pg if its postmaster runs (also one
# a failed pg_ctl -w left behind); immediate, since the data is thrown
# away; SIGKILL if pg_ctl does not manage in 30 s.
pg_stop() {
	[ -n "$work" ] || return 0
	fixture_pg_stop "$pgbin" "$work/pg/data"
}

# pg_load SCALE [CONNINFO...]: pgbench -i -s SCALE into database postgres
# through 127.0.0.1:$pg_port; CONNINFO words (e.g. sslmode=verify-full)
# are added to the connection string.
pg_load() {
	local scale=$1
	shift
	say "pgbench -i -s $scale"
	"$pgbin/pgbench" -i -q -s "$scale" \
		"host=127.0.0.1 port=$pg_port user=postgres dbname=postgres $*" \
		>"$work/pgbench-init.log" 2>&1 ||
		die "pgbench -i failed: $(tail -n 3 "$work/pgbench-init.log")"
}

# haproxy_head THREADS-LINE: the global and defaults sections every
# HAProxy here runs with (TCP mode, default buffers, no splicing).
haproxy_head() {
	printf '%s\n' global "    $1" "    maxconn 4096" defaults "    mode tcp" \
		"    timeout connect 5s" "    timeout client 5m" "    timeout server 5m"
}

# ----------------------------------------------------------- health checks

# check_settings INTERVAL FAST DOWN TIMEOUT FALL RISE CONNECT: the health
# check settings of failover.sh and faults.sh, each from BENCH_INTERVAL_MS,
# BENCH_FAST_MS, BENCH_DOWN_MS, BENCH_TIMEOUT_MS, BENCH_FALL, BENCH_RISE,
# BENCH_CONNECT_MS or the default given; sets IV FASTIV DOWNIV TMO FALL
# RISE CTMO, the service keys CHECK_KEYS, BOUND (the promise: fall x
# interval + timeout) and SCHED_BOUND (what the check schedule allows:
# the first check up to 1.1 x interval away, the next ones at the fast
# interval, each with its timeout).
check_settings() {
	IV=${BENCH_INTERVAL_MS:-$1} FASTIV=${BENCH_FAST_MS:-$2} DOWNIV=${BENCH_DOWN_MS:-$3}
	TMO=${BENCH_TIMEOUT_MS:-$4} FALL=${BENCH_FALL:-$5} RISE=${BENCH_RISE:-$6}
	CTMO=${BENCH_CONNECT_MS:-$7}
	CHECK_KEYS=("check_interval=${IV}ms" "check_fast_interval=${FASTIV}ms"
		"check_down_interval=${DOWNIV}ms" "check_timeout=${TMO}ms"
		"fall=$FALL" "rise=$RISE" "connect_timeout=${CTMO}ms")
	BOUND=$((FALL * IV + TMO))
	SCHED_BOUND=$((IV * 11 / 10 + TMO + (FALL - 1) * (FASTIV * 11 / 10 + TMO)))
}

# check_header: the check settings and bounds, as "# " lines.
check_header() {
	echo "# checks: ${CHECK_KEYS[*]} (jitter +-10%)"
	echo "# bound fall x interval + timeout = $BOUND ms"
	echo "# schedule bound 1.1 x interval + timeout + (fall-1) x (1.1 x fast + timeout) = $SCHED_BOUND ms"
}

# ---------------------------------------------------------------- figures

# two_dec X: X with two decimals, "-" when X is not a number.
two_dec() { awk -v x="$1" 'BEGIN { if (x ~ /^[0-9.eE+-]+$/) printf "%.2f", x; else printf "-" }'; }

# median [IF-NONE]: the median of the numbers on stdin (whitespace
# separated; other words are skipped), the lower of the two middle ones
# for an even count, so that it is always a figure that was measured;
# IF-NONE (default empty) when there is no number.
median() {
	tr -s ' \t' '\n' | grep -E '^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$' | sort -g |
		awk -v none="${1:-}" '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : none) }'
}

# paired A B [INVERT]: the median over rounds of A's figure divided by B's
# in the same round (A and B: figures in round order, as the scripts
# collect them; 0 and failed rounds skipped); INVERT=1 divides B by A
# (for costs and times, so that > 1 still means A did better).  NA when
# no round has both figures.  A ratio
# taken round by round survives a round the shared machine slowed down.
paired() {
	awk -v a="$1" -v b="$2" -v inv="${3:-0}" 'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++)
			if (x[i] ~ /^[0-9.]+$/ && y[i] ~ /^[0-9.]+$/ && x[i] > 0 && y[i] > 0)
				printf "%s ", (inv ? y[i] / x[i] : x[i] / y[i])
	}' | median NA
}

# bench_postern_conf FILE REDIS_LISTEN PG_LISTEN [PG_EXTRA]: the
# configuration the tcp:// benchmarks run postern with: one redis and one
# postgres service in front of $redis_port and $pg_port, quiet below
# warnings; PG_EXTRA: more lines for the postgres service.
bench_postern_conf() {
	cat >"$1" <<-EOF
	[postern]
	log_level = warn

	[service redis]
	listen = 127.0.0.1:$2
	protocol = redis
	route = direct tcp://127.0.0.1:$redis_port

	[service pg]
	listen = 127.0.0.1:$3
	protocol = postgres
	route = direct tcp://127.0.0.1:$pg_port
	${4:-}
	EOF
}
