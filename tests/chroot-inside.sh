#!/bin/bash
#
# tests/chroot-inside.sh LABEL [SUITE]: the Debian 13 stage's work (SUITE
# trixie, the default), or the Debian testing one (SUITE forky: the build
# with sanitizers, make check, and tests/integration/22-pg32.sh against
# PostgreSQL 18 and its libpq, protocol 3.2, plus the direct TLS resume
# of 56-pgresume.sh; only what needs 17+, so that the stage stays
# short), run by tests/chroot.sh inside the chroot, in a copy of the
# source tree (as root).  Debian 13's parts: each part is a
# case (tests/lib.sh): the build with -Werror
# (-O2, and with sanitizers), each make check test, the .deb with
# lintian, its installation with apt (Depends resolve), and a smoke run
# of integration cases (tests/integration/*.sh, picked by name) against
# this release's redis-server, valkey-server, PostgreSQL and OpenSSH,
# through tcp://, ssh:// and tls:// routes, PostgreSQL 17's direct TLS
# included, the moves of 50-move.sh that need Redis 7.2+ (CLIENT
# SETINFO replayed), and the trackers' differential tests (55-diff.sh).  Prints ok/not ok lines and appends each result to
# POSTERN_RESULTS (tests/lib.sh's format); exits non-zero when one failed.
. "$(dirname "$0")/lib.sh"
SCRIPT_NAME=${1:-chroot}
SUITE=${2:-trixie}

SAN=$TOP/_build/san

# versions: the libraries and compiler the build uses.
versions() {
	printf 'gcc %s, libssh2 %s, OpenSSL %s, hiredis %s, libevent %s' \
	    "$(gcc -dumpfullversion)" "$(pkg-config --modversion libssh2)" \
	    "$(pkg-config --modversion openssl)" "$(pkg-config --modversion hiredis)" \
	    "$(pkg-config --modversion libevent_core)"
}

# build_in DIR CONFIGURE-ARGS...: configure and make -j2 in DIR; fails
# the case with the first errors (a warning is an error here).
build_in() {
	local dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && "$TOP/configure" "$@") > "$dir/configure.log" 2>&1 ||
	    fail_case "configure $*: $(tail -n 3 "$dir/configure.log" | paste -sd'|')"
	make -C "$dir" -j2 > "$dir/build.log" 2>&1 ||
	    fail_case "make: $(grep -E 'error|warning' "$dir/build.log" | head -n 5 | paste -sd'|')"
}

case_build_san() {
	build_in "$SAN" --enable-werror --enable-sanitizers --enable-debug
}

# make check in _build/san: each automake test is a case of its own.
run_make_check() {
	local trs res name n=0
	make -C "$SAN" -j2 check > "$SAN/check.log" 2>&1
	while IFS= read -r trs; do
		n=$((n + 1))
		name=${trs#"$SAN"/}
		name="$SCRIPT_NAME: make check: ${name%.trs}"
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
		case $res in
		PASS|XFAIL) pass "$name" ;;
		SKIP) skip "$name" "skipped by the test" ;;
		*) fail "$name" "${res:-no result}"; _NFAIL=$((_NFAIL + 1)) ;;
		esac
	done < <(find "$SAN" -name '*.trs' | sort)
	if ((n == 0)); then
		fail "$SCRIPT_NAME: make check" "no test results: $(tail -n 3 "$SAN/check.log" | paste -sd'|')"
		_NFAIL=$((_NFAIL + 1))
	fi
}

# The .deb: builds, lintian has nothing to say (no error, no warning).
DEB_OUT=$TOP/_build/deb
# It is also this stage's -O2 build (with the hardening flags): a compiler
# warning in its log fails the case.  make check ran in _build/san, so the
# package build skips it.
case_deb_lintian() {
	DEB_BUILD_OPTIONS="nocheck parallel=2" \
	    bash "$TOP/packaging/build-deb.sh" "$DEB_OUT" > "$T/build-deb.log" 2>&1 ||
	    fail_case "build-deb.sh: $(tail -n 8 "$T/build-deb.log" | paste -sd'|')"
	grep -E '^[^ :]+\.[ch]:[0-9]+:([0-9]+:)? warning: ' "$DEB_OUT/build.log" | sort -u > "$T/warnings"
	[[ -s "$T/warnings" ]] && fail_case "compiler warnings in the -O2 build: $(head -n 5 "$T/warnings" | paste -sd'|')"
	[[ -f "$DEB_OUT/lintian.txt" ]] || fail_case "no lintian output"
	grep -E '^[EW]: ' "$DEB_OUT/lintian.txt" > "$T/lintian.bad"
	[[ -s "$T/lintian.bad" ]] && fail_case "lintian: $(paste -sd'|' "$T/lintian.bad")"
	note "lintian $(dpkg-query -W -f='${Version}' lintian): $(grep -c '^[IN]: ' "$DEB_OUT/lintian.txt") info/notes"
}

# ... installs with apt, which resolves Depends (${shlibs:Depends}: the
# t64 library names of this release); the units are under
# /usr/lib/systemd/system; the binary runs; purge leaves nothing.
case_deb_install() {
	local deb
	deb=$(ls "$DEB_OUT"/postern_*.deb 2>/dev/null | head -n 1)
	[[ -f "$deb" ]] || fail_case "no .deb (the build case failed)"
	note "Depends: $(dpkg-deb -f "$deb" Depends)"
	apt-get install -y -q --no-install-recommends "$deb" > "$T/apt.log" 2>&1 ||
	    fail_case "apt-get install: $(tail -n 5 "$T/apt.log" | paste -sd'|')"
	trap '_rc=$?; dpkg --purge postern > /dev/null 2>&1; _with_status "$_rc"; _case_cleanup' EXIT
	for f in /usr/lib/systemd/system/postern.service /usr/lib/systemd/system/postern@.service; do
		dpkg -S "$f" > /dev/null 2>&1 || fail_case "$f is not in the package"
	done
	expect_match "postern -V" '^postern [0-9.]+$' "$(/usr/sbin/postern -V 2>&1)"
	dpkg --purge postern > "$T/purge.log" 2>&1 ||
	    fail_case "dpkg --purge: $(tail -n 3 "$T/purge.log" | paste -sd'|')"
	[[ -e /usr/sbin/postern ]] && fail_case "/usr/sbin/postern left after purge"
	return 0
}

# smoke LABEL FILE CASE-NAME-PART...: run the cases of FILE whose names
# contain a part, one run each; their names get "LABEL: " in front.
smoke() {
	local label=$1 fname=$2 only pre
	shift 2
	pre="$SCRIPT_NAME: ${label:+$label: }"
	for only in "$@"; do
		: > "$T/smoke.tsv"
		POSTERN=$SAN/postern POSTERN_RESULTS=$T/smoke.tsv \
		    POSTERN_ONLY=$only timeout -k 10 600 \
		    bash "$TOP/tests/integration/$fname" < /dev/null |
		    sed -u "s/^\(not \)\{0,1\}ok - /&$pre/"
		grep -q . "$T/smoke.tsv" ||
		    printf 'FAIL\t%s: %s\tno case ran\n' "$fname" "$only" >> "$T/smoke.tsv"
		awk -v pre="$pre" 'BEGIN { FS = OFS = "\t" } { $2 = pre $2; print }' \
		    "$T/smoke.tsv" >> "$POSTERN_RESULTS"
		_NFAIL=$((_NFAIL + $(grep -c '^FAIL' "$T/smoke.tsv")))
	done
}

# ---------------------------------------------------------------------
cd "$TOP" || exit 1
./autogen.sh > "$T/autogen.log" 2>&1 || {
	fail "$SCRIPT_NAME: autogen" "$(tail -n 3 "$T/autogen.log" | paste -sd'|')"
	finish
}
if [[ $SUITE == forky ]]; then
	POSTERN_CASE_TIMEOUT=600
	run_case "build -Werror with sanitizers ($(versions))" case_build_san
	run_make_check
	POSTERN_CASE_TIMEOUT=120
	note "PostgreSQL $("$PGBIN/postgres" -V | awk '{ print $3 }'), $(psql -V | awk '{ print "libpq (psql) " $3 }'), $(ssh -V 2>&1 | cut -d, -f1)"
	smoke "" 22-pg32.sh ""
	smoke "" 80-tls.sh "cancel: pg_sleep cancelled through postern on a TLS route"
	smoke "" 56-pgresume.sh "direct TLS route"
	finish
fi
POSTERN_CASE_TIMEOUT=600
run_case "build -Werror with sanitizers ($(versions))" case_build_san
run_make_check
run_case ".deb builds (-O2, hardening flags) with no compiler warning, lintian clean (no error or warning)" case_deb_lintian
run_case ".deb installs with apt (Depends resolve), units in /usr/lib/systemd/system, purge" case_deb_install
POSTERN_CASE_TIMEOUT=120

note "smoke: redis-server $(redis-server --version | grep -o 'v=[0-9.]*'), $(valkey-server --version | grep -o 'v=[0-9.]*') valkey," \
    "PostgreSQL $("$PGBIN/postgres" -V | awk '{ print $3 }'), $(ssh -V 2>&1 | cut -d, -f1)"
smoke "" 10-redis.sh "SET/GET through postern"
smoke "" 20-postgres.sh "psql select 1 (sslmode=prefer)"
smoke "" 70-health.sh "default check follows protocol" "redis check AUTH" \
    "postgres checks: SSLRequest" "kill preferred redis: failover, failback"
smoke "" 80-tls.sh "redis over TLS" "postgres TLS-only" "postgres 17 direct TLS" \
    "cancel: pg_sleep cancelled through postern on a TLS route" \
    "verification errors"
smoke "" 15-matrix.sh "half-close passes on" "redis 64 MiB value"
smoke "" 56-pgresume.sh "direct TLS route"
smoke "" 50-move.sh "CLIENT SETINFO lib-name, lib-ver replayed on the move" \
    "a subscriber that unsubscribes from all" "UNLISTEN * ends LISTEN" \
    "tls: redis: a connection moves both ways" "HELLO 3 AUTH then HELLO 3" \
    "inline \"MULTI\""
# The trackers' differential tests against this release's servers.
POSTERN_DIFF_SECONDS=15 smoke "" 55-diff.sh "the RESP tracker agrees" \
    "the PostgreSQL tracker agrees"
smoke "" 90-ssh.sh "redis-cli through an ssh:// route" "psql through an ssh:// route" \
    "-L/-J with an ssh_config alias" "-J on a terminal" "ciphers: the one sshd allows" \
    "ciphers unset"
# Redis Cluster (issue 23) on Redis 8: redis-cli -c, RedisCluster,
# resharding and failover under traffic.
smoke "" 76-cluster.sh "cluster over tcp://: redirects" \
    "cluster over tcp:// under RedisCluster traffic: resharding"
# The same Redis cases against valkey-server, under redis-server's name.
mkdir -p "$T/valkey-bin"
ln -s "$(command -v valkey-server)" "$T/valkey-bin/redis-server"
PATH=$T/valkey-bin:$PATH smoke valkey 10-redis.sh "SET/GET through postern"
PATH=$T/valkey-bin:$PATH smoke valkey 70-health.sh "default check follows protocol" \
    "redis check AUTH"
PATH=$T/valkey-bin:$PATH smoke valkey 80-tls.sh "redis over TLS"
PATH=$T/valkey-bin:$PATH smoke valkey 50-move.sh \
    "CLIENT SETINFO lib-name, lib-ver replayed on the move" \
    "a subscriber that unsubscribes from all" "HELLO 3 AUTH then HELLO 3"
PATH=$T/valkey-bin:$PATH POSTERN_DIFF_SECONDS=15 smoke valkey 55-diff.sh \
    "the RESP tracker agrees"
PATH=$T/valkey-bin:$PATH smoke valkey 90-ssh.sh "redis-cli through an ssh:// route"
# valkey-cli --cluster create under redis-cli's name too: a Valkey cluster.
ln -s "$(command -v valkey-cli)" "$T/valkey-bin/redis-cli"
PATH=$T/valkey-bin:$PATH smoke valkey 76-cluster.sh "cluster over tcp://: redirects" \
    "cluster over tcp:// under RedisCluster traffic: resharding"
finish
