#!/bin/bash
# Memory per idle session, a regression bound (issue 27): N sessions per
# protocol (tcp, redis, postgres; tracking on where there is any) are
# opened through postern, each does one request (PING, SELECT 1) and
# stays open, and the growth of postern's VmRSS divided by N must stay
# under a bound set from the measured figure with a margin.
#
# The sanitizer build the other cases run inflates every allocation
# (redzones, quarantine), so this case measures a release build: it
# configures and builds one in _build/rel (plain ./configure: -O2 -g, no
# sanitizer) when that is missing or older than the sources, and runs it
# as POSTERN.  RSS rather than the heap in use: it is what a container
# limit counts, and at N in the thousands it is steady to a few hundred
# bytes per session (tests/bench/README.md, "Memory per session").
. "$(dirname "$0")/../lib.sh"

# Bytes of RSS per idle session, at most (measured: tests/bench/README.md).
MEM_BOUND=${POSTERN_MEM_BOUND:-5120}
MEM_N=${POSTERN_MEM_N:-2000}		# redis and tcp sessions
MEM_NPG=${POSTERN_MEM_NPG:-300}	# postgres: a backend process each

REL=${POSTERN_REL_DIR:-$TOP/_build/rel}	# a release build tree

# rel_build: the release binary, built (or brought up to date) here.
rel_build() {
	mkdir -p "$REL"
	if [[ ! -f "$REL/Makefile" ]]; then
		(cd "$REL" && "$TOP/configure" > configure.log 2>&1) ||
		    fail_case "configure of the release build failed: see $REL/configure.log"
	fi
	make -C "$REL" -j2 postern > "$REL/build.log" 2>&1 ||
	    fail_case "release build failed: see $REL/build.log"
	POSTERN=$REL/postern
}

# idle_check LABEL N [IDLE_PROTO]: N idle sessions through LISTEN_PORT;
# the RSS growth per session against MEM_BOUND.
idle_check() {
	local label=$1 n=$2 out per
	out=$(IDLE_PROTO=${3:-} timeout 300 /usr/bin/python3 \
	    "$TOP/tests/bench/idle.py" "$LISTEN_PORT" "$n" "$POSTERN_PID" 2>&1) ||
	    fail_case "$label: idle.py failed: $(_short "$out")"
	per=$(awk '{ print $4 }' <<<"$out")
	[[ "$per" =~ ^-?[0-9]+$ ]] || fail_case "$label: no figure from idle.py: $(_short "$out")"
	echo "# 65-memory: $label: $n idle sessions, $per bytes of RSS each (bound $MEM_BOUND)"
	((per <= MEM_BOUND)) ||
	    fail_case "$label: $per bytes of RSS per idle session, above the bound of $MEM_BOUND"
}

case_idle_tcp() {
	rel_build
	start_redis --maxclients 20000
	postern_service tcp "private tcp://127.0.0.1:$REDIS_PORT"
	idle_check "tcp" "$MEM_N"
}

case_idle_redis() {
	rel_build
	start_redis --maxclients 20000
	postern_redis
	idle_check "redis" "$MEM_N"
}

case_idle_postgres() {
	rel_build
	PG_OPTS="-c max_connections=$((MEM_NPG + 20))" start_postgres
	postern_service postgres "private tcp://127.0.0.1:$PG_PORT"
	idle_check "postgres" "$MEM_NPG" postgres
}

run_case "idle tcp sessions: RSS per session under the bound" case_idle_tcp
run_case "idle redis sessions: RSS per session under the bound" case_idle_redis
run_case "idle postgres sessions: RSS per session under the bound" case_idle_postgres
finish
