#!/bin/bash
# Differential tests of the session trackers (issue 22): random and
# adversarial command streams go to a real redis-server and a real
# PostgreSQL, and every byte each way is fed to the tracker in the pieces
# it was sent and read (tests/diff/drive, tests/diff/diff.py).  After
# each step the tracker's verdict (in MULTI, subscribed and to what,
# MONITOR, protocol, replies owed, may move) is compared with the
# server's own view read over a second connection (CLIENT LIST; for
# PostgreSQL pg_stat_activity and pg_listening_channels()); where the
# tracker would move a Redis session, its replay on a fresh connection
# must give the same user, name, db, protocol and library.  Any
# disagreement fails the case and prints the stream.
#
# Bounded by time and count: POSTERN_DIFF_SECONDS (default 25, each of
# Redis and PostgreSQL), POSTERN_DIFF_STREAMS (default 80);
# POSTERN_DIFF_SEED replays a seed (default 149358141; "random": a new
# one, printed).  CI runs fixed seeds over a fixed number of streams, so
# that its verdict does not depend on the machine's speed or on luck:
# a disagreement a random seed finds is for a developer to chase (and
# to turn into a unit test, tests/unit/test_resp_diff.c), not for CI to
# flake on.  The fuzz stage of tests/run.sh runs another seed
# (POSTERN_DIFF_LABEL names it).  POSTERN_DIFF_DEEP=1: Redis streams of
# 30 steps without what ends a stream early (diff.py --deep), for a
# developer's search.
. "$(dirname "$0")/../lib.sh"

DIFF_SECONDS=${POSTERN_DIFF_SECONDS:-25}
DIFF_STREAMS=${POSTERN_DIFF_STREAMS:-80}
DIFF_SEED=${POSTERN_DIFF_SEED:-149358141}
[[ $DIFF_SEED == random ]] && DIFF_SEED=$((RANDOM * 32768 + RANDOM))
DIFF_LABEL=${POSTERN_DIFF_LABEL:-}
DRIVE=$(dirname "$POSTERN")/tests/diff/drive

# run_diff PROTO ARGS: diff.py, its counts noted; fails on any
# disagreement (or a tracker that did not exit cleanly).
run_diff() {
	local proto=$1 rc counts
	shift
	if [[ ! -x "$DRIVE" ]]; then
		make -C "$(dirname "$POSTERN")" tests/diff/drive > "$T/drive-build.log" 2>&1 ||
		    fail_case "cannot build tests/diff/drive: $(tail -n 3 "$T/drive-build.log")"
	fi
	(_close_sess_fds; exec timeout $((DIFF_SECONDS + 60)) /usr/bin/python3 \
	    "$TESTS_DIR/diff/diff.py" "$proto" --drive "$DRIVE" \
	    --seed "$DIFF_SEED" --streams "$DIFF_STREAMS" \
	    --seconds "$DIFF_SECONDS" "$@") > "$T/diff-$proto.out" 2>&1
	rc=$?
	counts=$(grep -E '^[a-z]+: seed [0-9]+, streams tried' "$T/diff-$proto.out" | tail -n 1)
	note "${counts:-no counts}"
	if ((rc != 0)); then
		grep -A 40 -m 3 'DISAGREEMENT' "$T/diff-$proto.out" | head -n 120 | sed 's/^/#     /'
		tail -n 5 "$T/diff-$proto.out" | sed 's/^/#     /'
		fail_case "$proto: tracker and server disagree (exit $rc): $counts"
	fi
	expect_match "$proto: counts" 'streams tried [1-9][0-9]*, steps [1-9][0-9]*, .*disagreements 0$' "$counts"
}

# ACL users for AUTH and HELLO AUTH (alice), channels allowed (Redis 7's
# users start without).
case_diff_redis() {
	start_redis --user default on nopass '~*' '&*' '+@all' \
	    --user alice on '>pw' '~*' '&*' '+@all'
	local -a deep=()
	[[ -z ${POSTERN_DIFF_DEEP:-} ]] || deep=(--deep --steps 30)
	run_diff redis --port "$REDIS_PORT" "${deep[@]}"
}

case_diff_pg() {
	start_postgres
	run_diff pg --port "$PG_PORT" --user postgres
}

run_case "redis: the RESP tracker agrees with redis-server ($(redis-server --version | grep -o 'v=[0-9.]*'))$DIFF_LABEL" case_diff_redis
run_case "postgres: the PostgreSQL tracker agrees with the server$DIFF_LABEL" case_diff_pg
finish
