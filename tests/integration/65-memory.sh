#!/bin/bash
# Memory per idle session, a regression bound (issue 27): N sessions per
# protocol (tcp, redis, postgres; tracking on where there is any) are
# opened through postern, each does one request (PING, SELECT 1) and
# stays open, and two figures per session must stay under bounds set
# from the measured ones with a margin: the growth of postern's VmRSS
# divided by N, and the growth of its heap in use (mallinfo2 through
# gdb) divided by N.
#
# The sanitizer build the other cases run inflates every allocation
# (redzones, quarantine), so this case measures a release build: it
# configures and builds one in _build/rel (plain ./configure: -O2 -g, no
# sanitizer) when that is missing or older than the sources, and runs it
# as POSTERN.  RSS is what a container limit counts, but it moves with
# what glibc keeps after the burst of connects (a few hundred bytes per
# session between runs on a loaded machine); the heap in use is steady
# to a few bytes, so its bound is the tight one that catches a field or
# an allocation added to every session (tests/bench/README.md, "Memory
# per idle session").
# 65-memory.sh --heap PID: PID's heap in use in bytes (main arena), for
# idle.py's HEAPCMD.
if [[ "${1:-}" == --heap ]]; then
	timeout 60 gdb -q -batch -p "$2" -ex 'p mallinfo2().uordblks' 2>/dev/null |
	    sed -n 's/^[$]1 = //p'
	exit 0
fi
. "$(dirname "$0")/../lib.sh"

# Bytes per idle session, at most: RSS and heap in use, per protocol
# (measured: tests/bench/README.md; POSTERN_MEM_BOUND overrides every
# RSS bound).
MEM_RSS_TCP=${POSTERN_MEM_BOUND:-1472}	# measured 1120-1206
MEM_RSS_REDIS=${POSTERN_MEM_BOUND:-1920}	# measured 1449-1503
MEM_RSS_PG=${POSTERN_MEM_BOUND:-2048}	# measured 1665-1686 (600)
MEM_HEAP_TCP=1312			# measured 1105-1118
MEM_HEAP_REDIS=1680			# measured 1425-1429
MEM_HEAP_PG=1824			# measured 1553-1571
MEM_N=${POSTERN_MEM_N:-2000}		# redis and tcp sessions
# postgres: a backend process each; at 300 the fixed costs (epoll and
# fd tables that grow in steps) still showed, 400 bytes per session more.
MEM_NPG=${POSTERN_MEM_NPG:-600}

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

# idle_check LABEL N PROTO RSS_BOUND HEAP_BOUND: N idle sessions through
# LISTEN_PORT (IDLE_PROTO=PROTO for idle.py); the RSS and heap growth per
# session against their bounds.
idle_check() {
	local label=$1 n=$2 proto=$3 rbound=$4 hbound=$5 out per heap
	command -v gdb > /dev/null || fail_case "no gdb to read the heap (tests/run.sh installs it)"
	# IDLE_SETTLE 2: postern trims its heap at most a second after the
	# last session began (lib/memtrim.h); RSS is read after that.
	out=$(IDLE_PROTO=$proto IDLE_SETTLE=2 timeout 300 /usr/bin/python3 \
	    "$TOP/tests/bench/idle.py" "$LISTEN_PORT" "$n" "$POSTERN_PID" \
	    "$TOP/tests/integration/65-memory.sh --heap $POSTERN_PID" 2>&1) ||
	    fail_case "$label: idle.py failed: $(_short "$out")"
	per=$(awk '{ print $4 }' <<<"$out")
	heap=$(awk '{ print $5 }' <<<"$out")
	[[ "$per" =~ ^-?[0-9]+$ ]] || fail_case "$label: no figure from idle.py: $(_short "$out")"
	[[ "$heap" =~ ^-?[0-9]+$ ]] ||
	    fail_case "$label: no heap figure (gdb, libc6-dbg?): $(_short "$out")"
	echo "# 65-memory: $label: $n idle sessions, $per bytes of RSS (bound $rbound) and $heap of heap (bound $hbound) each"
	((per <= rbound)) ||
	    fail_case "$label: $per bytes of RSS per idle session, above the bound of $rbound"
	((heap <= hbound)) ||
	    fail_case "$label: $heap bytes of heap per idle session, above the bound of $hbound"
}

case_idle_tcp() {
	rel_build
	start_redis --maxclients 20000
	postern_service tcp "private tcp://127.0.0.1:$REDIS_PORT"
	idle_check "tcp" "$MEM_N" "" "$MEM_RSS_TCP" "$MEM_HEAP_TCP"
}

case_idle_redis() {
	rel_build
	start_redis --maxclients 20000
	postern_redis
	idle_check "redis" "$MEM_N" "" "$MEM_RSS_REDIS" "$MEM_HEAP_REDIS"
}

case_idle_postgres() {
	rel_build
	PG_OPTS="-c max_connections=$((MEM_NPG + 20))" start_postgres
	postern_service postgres "private tcp://127.0.0.1:$PG_PORT"
	idle_check "postgres" "$MEM_NPG" postgres "$MEM_RSS_PG" "$MEM_HEAP_PG"
}

run_case "idle tcp sessions: RSS and heap per session under the bounds" case_idle_tcp
run_case "idle redis sessions: RSS and heap per session under the bounds" case_idle_redis
run_case "idle postgres sessions: RSS and heap per session under the bounds" case_idle_postgres
finish
