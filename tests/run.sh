#!/bin/bash
#
# tests/run.sh: the whole test suite, from a fresh Debian 12 (run as root).
#
#   tests/run.sh                          everything
#   tests/run.sh tests/integration/10-redis.sh [...]
#                                         build, then only these files
#   POSTERN_NO_BUILD=1 tests/run.sh ...   reuse _build/san as it is
#   POSTERN_SKIP_DISTCHECK=1 tests/run.sh skip make distcheck
#   POSTERN_SKIP_FUZZ=1 tests/run.sh      skip the short fuzzer runs
#   POSTERN_SKIP_INSTALL=1 tests/run.sh   do not look for missing packages
#   POSTERN_ONLY=substring                run only the integration cases
#                                         whose name contains it
#   POSTERN_SKIP_CHROOT=1 tests/run.sh    skip the chroot stages (Debian 13,
#                                         Debian testing)
#   POSTERN_JOBS=N                        integration files run N at a time
#                                         (default 2; 1 runs them in turn)
#
# Steps: install missing Debian packages; ./autogen.sh; configure and build
# with sanitizers in _build/san; make check (each automake test is a case);
# each tests/integration/*.sh in sorted order (each of its cases is a
# case); short fuzzer runs and a longer differential run (55-diff.sh);
# the releases stage: a -Werror build on this
# host, then Debian 13 in a chroot (tests/chroot.sh: build, make check,
# .deb and lintian, smoke integration; each part a case), then Debian
# testing in another (tests/chroot.sh --suite forky: build, make check,
# PostgreSQL 18's protocol 3.2); make distcheck
# in _build/dist (one case).  Both chroots are made or updated (debootstrap,
# apt-get) in the background from the start of a full run.  Ends with the line
# "N passed, N failed" and a non-zero status when anything failed.

set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1

PACKAGES=(build-essential autoconf automake libtool pkg-config libevent-dev
	libssl-dev libssh2-1-dev libhiredis-dev libcmocka-dev clang
	libclang-rt-14-dev redis-server redis-tools postgresql
	postgresql-contrib haproxy socat openssh-server openssh-client nftables
	iproute2 mandoc procps iputils-ping coreutils jq curl
	libsystemd-dev systemd debhelper lintian fakeroot python3 python3-yaml
	debootstrap redis-sentinel)
# The real client pools of tests/bench/pools.sh (Debian's python3, not a
# pyenv one): redis-py's ConnectionPool and psycopg_pool.
PACKAGES+=(python3-redis python3-psycopg python3-psycopg-pool)
# tests/check-shell.sh (make check) runs it over tests/ and packaging/.
PACKAGES+=(shellcheck)
# 65-memory reads postern's heap in use through gdb (mallinfo2 needs
# glibc's debug information).
PACKAGES+=(gdb libc6-dbg)
# 76-cluster's third cluster client, ioredis (npm ci from
# tests/node/package-lock.json into _build/npm: node_modules below).  A
# nodejs from elsewhere may carry its own npm: then Debian's is not
# asked for (it would replace that nodejs).
PACKAGES+=(nodejs npm)

# One integration file may take this long before it is stopped.
SCRIPT_TIMEOUT=${POSTERN_SCRIPT_TIMEOUT:-900}

SAN=$TOP/_build/san
DIST=$TOP/_build/dist
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

NPASS=0 NFAIL=0 NSKIP=0 CHILD=
RESULTS=$(mktemp /tmp/postern-results.XXXXXX)
LANES=$(mktemp -d /tmp/postern-lanes.XXXXXX)
PREP=$(mktemp -d /tmp/postern-prep.XXXXXX)
declare -A LANE_FILE=() LANE_T0=() PREP_PID=() PREP_T0=()
# A background chroot preparation still running (the run ended early)
# is stopped.
trap 'kill -TERM "${PREP_PID[@]}" 2>/dev/null; rm -rf "$RESULTS" "$LANES" "$PREP"' EXIT
# Stopped: the running test files clean up (each kills what it started).
on_signal() {
	local pid
	for pid in $CHILD "${!LANE_FILE[@]}" "${PREP_PID[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $CHILD "${!LANE_FILE[@]}" "${PREP_PID[@]}"; do
		wait "$pid" 2>/dev/null
	done
	record FAIL "tests/run.sh" "interrupted by a signal"
	summary
}
trap on_signal INT TERM

say() {
	printf '# %s\n' "$*"
}

record() {		# record PASS|FAIL|SKIP NAME [WHY]
	case $1 in
	PASS)	NPASS=$((NPASS + 1)); printf 'ok - %s\n' "$2" ;;
	SKIP)	NSKIP=$((NSKIP + 1)); printf 'ok - %s # SKIP %s\n' "$2" "${3:-}" ;;
	*)	NFAIL=$((NFAIL + 1)); printf 'not ok - %s: %s\n' "$2" "${3:-}" ;;
	esac
}

summary() {
	if [[ -s "$RESULTS" ]]; then
		NPASS=$((NPASS + $(grep -c '^PASS' "$RESULTS")))
		NFAIL=$((NFAIL + $(grep -c '^FAIL' "$RESULTS")))
		NSKIP=$((NSKIP + $(grep -c '^SKIP' "$RESULTS")))
		if grep -q '^FAIL' "$RESULTS"; then
			say "failed cases:"
			grep '^FAIL' "$RESULTS" | cut -f2,3 | sed 's/\t/: /; s/^/#   /'
		fi
	fi
	((NSKIP > 0)) && say "$NSKIP skipped (see '# SKIP' above)"
	printf '%d passed, %d failed\n' "$NPASS" "$NFAIL"
	((NFAIL == 0))
	exit $?
}

# tail_file FILE [N]: show the end of a file under a failure.
tail_file() {
	tail -n "${2:-30}" "$1" 2>/dev/null | sed 's/^/#   /'
}

# ---------------------------------------------------------------------
install_packages() {
	local missing=() p st
	for p in "${PACKAGES[@]}"; do
		[[ $p == npm ]] && command -v npm > /dev/null && continue
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
		[[ "$st" == installed ]] || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	say "installing: ${missing[*]}"
	if ((EUID != 0)); then
		say "not root: cannot install the packages above"
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Keep the packages' services (redis, postgresql, ssh) from starting:
	# the tests run their own servers on free ports.
	local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
	if [[ ! -e "$policy" ]]; then
		printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" &&
		    made_policy=1
	fi
	apt-get update -q > /tmp/postern-apt.log 2>&1 &&
	    apt-get install -y -q --no-install-recommends "${missing[@]}" \
	    >> /tmp/postern-apt.log 2>&1 || rc=1
	((made_policy)) && rm -f "$policy"
	if ((rc)); then
		say "apt-get failed:"
		tail_file /tmp/postern-apt.log 20
	fi
	return $rc
}

# ---------------------------------------------------------------------
build() {
	local log=$SAN/build.log
	if [[ ! -x configure || configure -ot configure.ac || configure -ot Makefile.am ]]; then
		say "autogen"
		./autogen.sh > /tmp/postern-autogen.log 2>&1 || {
			record FAIL build "./autogen.sh failed"
			tail_file /tmp/postern-autogen.log
			return 1
		}
	fi
	mkdir -p "$SAN"
	if [[ ! -f "$SAN/config.status" || "$SAN/config.status" -ot configure ]]; then
		say "configure --enable-sanitizers --enable-debug in _build/san"
		(cd "$SAN" && ../../configure --enable-sanitizers --enable-debug) \
		    > "$SAN/configure.log" 2>&1 || {
			record FAIL build "configure failed"
			tail_file "$SAN/configure.log"
			return 1
		}
	fi
	say "make -j2"
	make -C "$SAN" -j2 > "$log" 2>&1 || {
		record FAIL build "make failed"
		grep -E 'error|Error' "$log" | head -n 30 | sed 's/^/#   /'
		tail_file "$log" 10
		return 1
	}
	if grep -E ': warning: ' "$log" > /dev/null; then
		say "compiler warnings:"
		grep -E ': warning: ' "$log" | sort -u | head -n 20 | sed 's/^/#   /'
	fi
	return 0
}

# make check: each automake test (its .trs file) is one case.
make_check() {
	local trs res name n=0
	say "make check"
	find "$SAN" -name '*.trs' -delete 2>/dev/null
	make -C "$SAN" -j2 check > "$SAN/check.log" 2>&1
	local rc=$?
	while IFS= read -r trs; do
		n=$((n + 1))
		name=${trs#"$SAN"/}
		name=${name%.trs}
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
		case $res in
		PASS|XFAIL)
			record PASS "make check: $name" ;;
		SKIP)
			record SKIP "make check: $name" "skipped by the test" ;;
		*)
			record FAIL "make check: $name" "${res:-no result}"
			tail_file "$SAN/$name.log" 30 ;;
		esac
	done < <(find "$SAN" -name '*.trs' | sort)
	if ((n == 0 || (rc != 0 && NFAIL == 0))); then
		record FAIL "make check" "exit status $rc, $n test results"
		tail_file "$SAN/check.log" 30
	fi
}

# Each integration file prints its own ok/not ok lines and appends them to
# $RESULTS; a file that dies without recording a failure counts as one.
run_integration() {
	local f=$1 before after rc t0=$SECONDS
	before=$(grep -c '^FAIL' "$RESULTS")
	say "integration: $f"
	POSTERN=$SAN/postern POSTERN_RESULTS=$RESULTS \
	    timeout -k 10 "$SCRIPT_TIMEOUT" bash "$f" < /dev/null &
	CHILD=$!
	wait "$CHILD"
	rc=$?
	CHILD=
	after=$(grep -c '^FAIL' "$RESULTS")
	if ((rc == 124 || rc == 137)); then
		record FAIL "$f" "stopped after ${SCRIPT_TIMEOUT}s"
	elif ((rc != 0 && after == before)); then
		record FAIL "$f" "exited with status $rc without recording a failure"
	fi
	stage_time "$f" "$t0"
}

# run_integration_files FILE...: the integration files, POSTERN_JOBS of
# them at a time (2 by default: most of a file's time is spent waiting
# for servers, health checks and deadlines, not on the CPU).  Files are
# independent: ports come from free_port's lock directory, namespaces and
# link-local nets are picked per PID.  Each file's output is held and
# printed whole when it ends, so the log reads as if they ran in turn.
JOBS=${POSTERN_JOBS:-2}
run_integration_files() {
	local f i=0 pid
	for f in "$@"; do
		while ((${#LANE_FILE[@]} >= JOBS)); do
			lane_reap
		done
		i=$((i + 1))
		: > "$LANES/$i.results"
		POSTERN=$SAN/postern POSTERN_RESULTS=$LANES/$i.results \
		    timeout -k 10 "$SCRIPT_TIMEOUT" bash "$f" < /dev/null \
		    > "$LANES/$i.out" 2>&1 &
		pid=$!
		LANE_FILE[$pid]="$i $f"
		LANE_T0[$pid]=$SECONDS
	done
	while ((${#LANE_FILE[@]} > 0)); do
		lane_reap
	done
}

# lane_reap: wait for one running file, then print and record it.
lane_reap() {
	local pid rc i f
	wait -n -p pid "${!LANE_FILE[@]}"
	rc=$?
	[[ -n "${pid:-}" && -n "${LANE_FILE[$pid]:-}" ]] || return 0
	read -r i f <<< "${LANE_FILE[$pid]}"
	say "integration: $f"
	cat "$LANES/$i.out"
	cat "$LANES/$i.results" >> "$RESULTS"
	if ((rc == 124 || rc == 137)); then
		record FAIL "$f" "stopped after ${SCRIPT_TIMEOUT}s"
	elif ((rc != 0)) && ! grep -q '^FAIL' "$LANES/$i.results"; then
		record FAIL "$f" "exited with status $rc without recording a failure"
	fi
	stage_time "$f" "${LANE_T0[$pid]}"
	unset "LANE_FILE[$pid]" "LANE_T0[$pid]"
	rm -f "$LANES/$i.out" "$LANES/$i.results"
}

# stage_time LABEL T0: one line of the time table printed at the end (the
# 30-minute budget of .ci/run is kept by reading it).
TIMES=()
stage_time() {
	TIMES+=("$(printf '%5d s  %s' $((SECONDS - $2)) "$1")")
}

# fuzz: build the libFuzzer harnesses with clang and run each briefly on
# its seed corpus (new inputs go to a scratch directory, not the seeds).
# A crash, leak or sanitizer report fails the case.
FUZZ=$TOP/_build/fuzz
FUZZ_SECONDS=${POSTERN_FUZZ_SECONDS:-10}
fuzz() {
	local h seeds scratch
	say "fuzzers in _build/fuzz (${FUZZ_SECONDS}s each)"
	mkdir -p "$FUZZ"
	if ! (cd "$FUZZ" && ../../configure --enable-fuzzing CC=clang \
	    > configure.log 2>&1 && make -j2 tests/fuzz/fuzz_conf \
	    tests/fuzz/fuzz_pgfront tests/fuzz/fuzz_pgback \
	    tests/fuzz/fuzz_rediscmd tests/fuzz/fuzz_pgauth \
	    tests/fuzz/fuzz_resp_track tests/fuzz/fuzz_pg_track \
	    tests/fuzz/fuzz_resp_scan tests/fuzz/fuzz_resp_ro \
	    tests/fuzz/fuzz_resp_guard tests/fuzz/fuzz_pg_guard \
	    tests/fuzz/fuzz_authfile tests/fuzz/fuzz_pgrs_read \
	    tests/fuzz/fuzz_ssh_mux tests/fuzz/fuzz_cluster_rw \
	    tests/fuzz/fuzz_cluster_cmd \
	    > build.log 2>&1); then
		record FAIL "fuzz: build" "see _build/fuzz/build.log"
		tail_file "$FUZZ/build.log" 20
		return
	fi
	# JOBS harnesses at a time: each is one process on one core.
	local names=(conf pgfront pgback rediscmd pgauth resp_track pg_track
	    resp_scan resp_ro resp_guard pg_guard authfile pgrs_read ssh_mux
	    cluster_rw cluster_cmd) pid
	# Its own processes only: the chroots' preparations run beside.
	local -A running=()
	for h in "${names[@]}"; do
		if ((${#running[@]} >= JOBS)); then
			wait -n -p pid "${!running[@]}"
			unset "running[$pid]"
		fi
		# One seed directory for all: a harness takes another's seeds
		# as plain inputs (cluster_rw's are cluster-*.resp).
		seeds=$TOP/tests/fuzz/corpus
		scratch=$(mktemp -d /tmp/postern-fuzz.XXXXXX)
		rm -f "$FUZZ/fuzz_$h.rc"
		(
			"$FUZZ/tests/fuzz/fuzz_$h" -max_total_time="$FUZZ_SECONDS" \
			    "$scratch" $seeds > "$FUZZ/fuzz_$h.log" 2>&1
			echo $? > "$FUZZ/fuzz_$h.rc"
			rm -rf "$scratch"
		) &
		running[$!]=1
	done
	((${#running[@]} == 0)) || wait "${!running[@]}"
	for h in "${names[@]}"; do
		if [[ "$(cat "$FUZZ/fuzz_$h.rc" 2>/dev/null)" == 0 ]]; then
			record PASS "fuzz: $h (${FUZZ_SECONDS}s, no crash)"
		else
			record FAIL "fuzz: $h" "see _build/fuzz/fuzz_$h.log"
			tail_file "$FUZZ/fuzz_$h.log" 30
		fi
	done
	# The trackers' differential tests against real servers
	# (tests/integration/55-diff.sh): another fixed seed, longer.
	POSTERN_DIFF_SEED=77 POSTERN_DIFF_STREAMS=90 \
	    POSTERN_DIFF_SECONDS=$((FUZZ_SECONDS * 4)) \
	    POSTERN_DIFF_LABEL=" (fuzz stage, $((FUZZ_SECONDS * 4))s)" \
	    POSTERN_CASE_TIMEOUT=$((FUZZ_SECONDS * 4 + 120)) \
	    run_integration tests/integration/55-diff.sh
}

# releases: the -Werror build (-O2) on this host, then the Debian 13
# stage, tests/chroot.sh; each case it reports is recorded here.
WERR=$TOP/_build/werror
releases() {
	local rel t0=$SECONDS
	rel="debian $(cut -d. -f1 /etc/debian_version 2>/dev/null)"
	say "$rel: -Werror build in _build/werror"
	mkdir -p "$WERR"
	if (cd "$WERR" && ../../configure --enable-werror > configure.log 2>&1 &&
	    make -j2 > build.log 2>&1); then
		record PASS "$rel: build -Werror -O2"
	else
		record FAIL "$rel: build -Werror -O2" "see _build/werror/build.log"
		grep -E 'error|warning' "$WERR/build.log" | head -n 10 | sed 's/^/#   /'
	fi
	if [[ "${POSTERN_SKIP_CHROOT:-0}" == 1 ]]; then
		record SKIP "debian 13 (chroot)" "POSTERN_SKIP_CHROOT=1"
		record SKIP "debian testing (chroot)" "POSTERN_SKIP_CHROOT=1"
		return
	fi
	chroot_stage trixie "debian 13"
	# PostgreSQL 18 and libpq 18 (protocol 3.2): build, make check and
	# tests/integration/22-pg32.sh only.
	chroot_stage forky "debian testing"
	say "releases stage took $((SECONDS - t0))s"
}

# chroot_stage SUITE LABEL: tests/chroot.sh --suite SUITE, each case it
# reports recorded here.
chroot_stage() {
	local tsv st name why
	chroot_prepare_wait "$1"
	say "$2 in a chroot (tests/chroot.sh --suite $1)"
	tsv=$(mktemp /tmp/postern-chroot.XXXXXX)
	POSTERN_RESULTS=$tsv bash tests/chroot.sh --suite "$1" < /dev/null |
	    grep --line-buffered -vE '^(not )?ok - '
	while IFS=$'\t' read -r st name why; do
		record "$st" "$name" "$why"
	done < "$tsv"
	grep -q . "$tsv" || record FAIL "$2 (chroot)" "tests/chroot.sh --suite $1 reported nothing"
	rm -f "$tsv"
}

# chroot_prepare_start: make (or update) both chroots in the background
# (tests/chroot.sh --suite SUITE prepare: debootstrap and apt-get, mostly
# download and disk, niced) while this host builds and tests; each
# chroot_stage waits for its own.  Nothing is run in a chroot meanwhile:
# only its preparation overlaps the host's work, never two test runs.
chroot_prepare_start() {
	local suite
	for suite in trixie forky; do
		POSTERN_RESULTS=$PREP/$suite.tsv timeout -k 10 1500 \
		    nice -n 19 bash tests/chroot.sh --suite "$suite" prepare \
		    < /dev/null > "$PREP/$suite.out" 2>&1 &
		PREP_PID[$suite]=$!
		PREP_T0[$suite]=$(date +%s)
	done
}

# chroot_prepare_wait SUITE: wait for SUITE's background preparation and
# record what it did (the debootstrap, the packages installed: the cases
# the stage itself would have recorded).  Its "chroot ready" line is not
# recorded: the stage says it again.  When the preparation failed, its
# failure is shown here and the stage (which makes the chroot again from
# where it stopped) records it, as it would have without the background
# run.
chroot_prepare_wait() {
	local pid=${PREP_PID[$1]:-} rc st name why
	[[ -n $pid ]] || return 0
	wait "$pid"
	rc=$?
	unset "PREP_PID[$1]"
	# Its log's last write is about when it ended (it may be long done).
	say "chroot $1 prepared in the background (exit status $rc, in about $(($(stat -c %Y "$PREP/$1.out") - PREP_T0[$1]))s)"
	while IFS=$'\t' read -r st name why; do
		[[ $st == PASS && $name != *": chroot ready: "* ]] &&
		    record "$st" "$name" "$why"
	done < "$PREP/$1.tsv"
	if ((rc != 0)); then
		say "the background preparation of $1 failed; the stage tries again:"
		tail_file "$PREP/$1.out" 10
	fi
}

distcheck() {
	say "make distcheck in _build/dist"
	rm -rf "$DIST"
	mkdir -p "$DIST"
	if (cd "$DIST" && ../../configure > configure.log 2>&1 &&
	    make -j2 distcheck > distcheck.log 2>&1); then
		record PASS "make distcheck"
	else
		record FAIL "make distcheck" "see _build/dist/distcheck.log"
		tail_file "$DIST/configure.log" 5
		tail_file "$DIST/distcheck.log" 30
	fi
}

# node_modules: the pinned Node.js clients of tests/node (ioredis) in
# _build/npm, installed again only when the lock file changed; exports
# POSTERN_NODE_MODULES for the tests.
node_modules() {
	local dir=$TOP/_build/npm
	mkdir -p "$dir" || return 1
	if ! cmp -s tests/node/package-lock.json "$dir/package-lock.json" ||
	    [[ ! -d "$dir/node_modules/ioredis" ]]; then
		say "npm ci (tests/node: ioredis) in _build/npm"
		cp tests/node/package.json tests/node/package-lock.json "$dir/" &&
		    (cd "$dir" && timeout 300 npm ci --no-audit --no-fund) \
		    > "$dir/npm.log" 2>&1 || {
			tail_file "$dir/npm.log" 10
			return 1
		}
	fi
	export POSTERN_NODE_MODULES=$dir/node_modules
}

# ---------------------------------------------------------------------
FILES=("$@")
for f in "${FILES[@]}"; do
	[[ -f "$f" ]] || { say "no such test file: $f"; exit 2; }
done

start=$SECONDS
if [[ "${POSTERN_SKIP_INSTALL:-0}" != 1 ]]; then
	install_packages || { record FAIL install "missing packages"; summary; }
fi
node_modules || record FAIL "npm ci" "tests/node's clients are not installed (see _build/npm/npm.log)"
if (($# == 0)) && [[ "${POSTERN_NO_BUILD:-0}" != 1 && "${POSTERN_SKIP_CHROOT:-0}" != 1 ]]; then
	chroot_prepare_start
fi

if [[ "${POSTERN_NO_BUILD:-0}" == 1 ]]; then
	say "POSTERN_NO_BUILD=1: using $SAN/postern as built"
	[[ -x "$SAN/postern" ]] || { record FAIL build "$SAN/postern is missing"; summary; }
else
	t0=$SECONDS
	build || summary
	stage_time "build" "$t0"
	if ((${#FILES[@]} == 0)); then
		t0=$SECONDS
		make_check
		stage_time "make check" "$t0"
	fi
fi

if ((${#FILES[@]} == 0)); then
	mapfile -t FILES < <(ls tests/integration/*.sh 2>/dev/null | sort)
fi
run_integration_files "${FILES[@]}"

if (($# == 0)) && [[ "${POSTERN_NO_BUILD:-0}" != 1 ]]; then
	t0=$SECONDS
	[[ "${POSTERN_SKIP_FUZZ:-0}" == 1 ]] || fuzz
	stage_time "fuzz stage" "$t0"
	t0=$SECONDS
	releases
	stage_time "releases stage (Debian 13, testing)" "$t0"
	t0=$SECONDS
	[[ "${POSTERN_SKIP_DISTCHECK:-0}" == 1 ]] || distcheck
	stage_time "make distcheck" "$t0"
fi

if ((${#TIMES[@]} > 1)); then
	say "slowest parts:"
	printf '%s\n' "${TIMES[@]}" | sort -rn | head -n 12 | sed 's/^/#   /'
fi
say "took $((SECONDS - start))s"
summary
