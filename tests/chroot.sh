#!/bin/bash
#
# tests/chroot.sh: build and test postern on Debian 13 ("trixie"), or on
# Debian testing ("forky") for PostgreSQL 18, from a Debian 12 host, in a
# debootstrap chroot (run as root).
#
#   tests/chroot.sh [--suite SUITE]
#                            prints "ok - debian 13: ..." / "not ok - ..."
#                            lines; with POSTERN_RESULTS=FILE, also
#                            appends each case to FILE as tests/lib.sh
#                            does (tests/run.sh records them from there)
#
# SUITE is trixie (the default: the Debian 13 stage below) or forky
# (Debian testing: a small stage, the build, make check and the cases
# that need PostgreSQL 18 and its libpq, protocol 3.2; see
# tests/chroot-inside.sh).  Each suite has its own chroot, package list
# and debootstrap script (Debian 12's debootstrap has no forky script:
# testing bootstraps with sid's); a testing Release file may be past its
# Valid-Until date, so apt in that chroot does not check it.
#
# The chroot (variant minbase, from the Debian mirror this machine's apt
# uses) is kept under /var/cache/postern-ci/SUITE: a stamp file says
# the debootstrap finished, another lists the packages installed in it,
# so a rerun reuses it and only a changed package list costs an apt-get.  A copy of this tree goes
# to /build/postern inside, and tests/chroot-inside.sh runs there: builds
# with -Werror, make check, the .deb with lintian and an install, and the
# integration smoke against Debian 13's own servers.  /proc, /dev,
# /dev/pts and a /dev/shm are mounted for the run and unmounted in a
# trap; a policy-rc.d keeps packages' services from starting.  One run at
# a time per machine (flock); the port lock directory of tests/lib.sh is
# shared with the host so that ports cannot collide with host tests.
#
#   tests/chroot.sh [--suite SUITE] prepare
#                            only make (or update) the chroot
#
#   tests/chroot.sh bench-ssh-ciphers
#                            instead of the tests: tests/bench/ssh.sh in
#                            its cipher mode (BENCH_CIPHERS, default all)
#                            against Debian 13's libssh2 and OpenSSH;
#                            the summary goes to BENCH_OUT (default
#                            /tmp/postern-bench-ssh-debian13-DATE)
#
#   tests/chroot.sh bench-ssh
#                            instead of the tests: tests/bench/ssh.sh (the
#                            engine rows: both engines against ssh -N -L
#                            and a ControlMaster) against Debian 13's
#                            libssh2 and OpenSSH; BENCH_FILTER,
#                            BENCH_SSH_RTT_MS, BENCH_SSH_ENGINES,
#                            BENCH_SSH_MUX_FORWARD, BENCH_SSH_REDIS_PROTOCOL,
#                            BENCH_SSH_OPENSSH_CONF, BENCH_POSTERN_BASE (a
#                            path inside: /build/postern/_build/rel/postern
#                            is the release build the bench makes),
#                            BENCH_POSTERN_BASE_CONF, BENCH_BURST, BENCH_ROUNDS and
#                            BENCH_QUICK pass through;
#                            results as above
#
# Environment: POSTERN_CHROOT_DIR (default /var/cache/postern-ci/trixie),
# POSTERN_CHROOT_MIRROR (default: the host's Debian mirror, read from
# apt), POSTERN_CHROOT_TIMEOUT (seconds for the inside run, default 1200).

set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
SUITE=trixie
if [[ ${1:-} == --suite ]]; then
	SUITE=${2:-}
	shift 2
elif [[ ${1:-} == --suite=* ]]; then
	SUITE=${1#--suite=}
	shift
fi
# What the inside run needs; changing the list updates a kept chroot.
case $SUITE in
trixie)
	LABEL="debian 13"
	BOOTSTRAP_SCRIPT=trixie
	PACKAGES=(build-essential autoconf automake libtool pkg-config
		libevent-dev libssl-dev libssh2-1-dev libhiredis-dev libcmocka-dev
		libsystemd-dev debhelper dpkg-dev fakeroot lintian
		redis-server redis-tools valkey-server postgresql postgresql-client
		openssh-server openssh-client socat openssl procps iproute2 psmisc
		python3 python3-psycopg python3-psycopg-pool ca-certificates
		python3-redis curl nftables)
	;;
forky)
	LABEL="debian testing"
	BOOTSTRAP_SCRIPT=sid
	PACKAGES=(build-essential autoconf automake libtool pkg-config
		libevent-dev libssl-dev libssh2-1-dev libhiredis-dev libcmocka-dev
		libsystemd-dev postgresql-18 postgresql-client-18 python3-psycopg
		python3-psycopg-pool redis-server openssh-server openssh-client
		socat openssl procps iproute2 psmisc python3 ca-certificates)
	;;
*)
	printf 'tests/chroot.sh: unknown suite "%s" (trixie or forky)\n' "$SUITE" >&2
	exit 2
	;;
esac
ROOT=${POSTERN_CHROOT_DIR:-/var/cache/postern-ci/$SUITE}
STAMP=$ROOT/.postern-ci-stamp
INSIDE_TIMEOUT=${POSTERN_CHROOT_TIMEOUT:-1200}
PORT_LOCK_DIR=/tmp/postern-test-ports

MOUNTED=()

# ok NAME, not_ok NAME WHY: print the case, and append it to
# POSTERN_RESULTS when set (tests/lib.sh's format).
ok() {
	printf 'ok - %s: %s\n' "$LABEL" "$1"
	[[ -z ${POSTERN_RESULTS:-} ]] ||
	    printf 'PASS\t%s: %s\t\n' "$LABEL" "$1" >> "$POSTERN_RESULTS"
}
not_ok() {
	printf 'not ok - %s: %s: %s\n' "$LABEL" "$1" "$2"
	[[ -z ${POSTERN_RESULTS:-} ]] ||
	    printf 'FAIL\t%s: %s\t%s\n' "$LABEL" "$1" "$2" >> "$POSTERN_RESULTS"
}
say() { printf '# %s\n' "$*"; }

# host_mirror: the URI of this machine's main Debian archive (Origin and
# Label "Debian", the host's own release), as apt knows it.
host_mirror() {
	local codename
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' \
	    'Origin: Debian' 'Label: Debian' "Release: $codename" 2>/dev/null |
	    head -n 1
}

# in_root CMD...: run CMD in the chroot with a clean environment.
in_root() {
	chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    DEBIAN_FRONTEND=noninteractive "$@"
}

# mount_one TYPE-OR---bind SOURCE TARGET: mount unless already mounted
# (left by a run that was killed: the lock says none runs), and unmount
# it at the end either way.
mount_one() {
	local target=$ROOT$3
	mkdir -p "$target"
	if mountpoint -q "$target"; then
		[[ " ${MOUNTED[*]} " == *" $target "* ]] || MOUNTED+=("$target")
		return 0
	fi
	if [[ $1 == --bind ]]; then
		mount --bind "$2" "$target"
	else
		mount -t "$1" "$2" "$target"
	fi || return 1
	MOUNTED+=("$target")
}

# unmount_all: the processes still in the chroot (this run started them:
# the chroot is locked) are killed by PID, then the mounts go, last first.
unmount_all() {
	local i p
	for p in /proc/[0-9]*; do
		[[ "$(readlink "$p/root" 2>/dev/null)" == "$ROOT" ]] &&
		    kill -KILL "${p#/proc/}" 2>/dev/null
	done
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}"
	done
	MOUNTED=()
}

mount_all() {
	mkdir -p "$PORT_LOCK_DIR" && chmod 1777 "$PORT_LOCK_DIR"
	# The root a mount point: "ip netns exec" makes / rslave in its
	# mount namespace, which fails on a plain directory (76-cluster).
	mount_one --bind "$ROOT" / &&
	mount_one proc proc /proc &&
	mount_one --bind /dev /dev &&
	mount_one --bind /dev/pts /dev/pts &&
	mount_one tmpfs shm /dev/shm &&
	mount_one --bind "$PORT_LOCK_DIR" "$PORT_LOCK_DIR"
}

# make_root: debootstrap a fresh chroot, or reuse the kept one; install
# the packages the stamp does not list yet.
make_root() {
	local mirror t0=$SECONDS want
	want=$(printf '%s\n' "${PACKAGES[@]}" | sort)
	if [[ ! -f $STAMP ]]; then
		mirror=${POSTERN_CHROOT_MIRROR:-$(host_mirror)}
		if [[ -z $mirror ]]; then
			not_ok "chroot" "no Debian mirror in this machine's apt configuration"
			return 1
		fi
		command -v debootstrap > /dev/null || {
			not_ok "chroot" "debootstrap is not installed (apt-get install debootstrap)"
			return 1
		}
		# A half-made chroot goes; never with something mounted in
		# it (a bind-mounted /dev would go with it).
		if grep -q " $ROOT/" /proc/mounts; then
			not_ok "chroot" "mounts left under $ROOT: $(grep " $ROOT/" /proc/mounts | cut -d' ' -f2 | paste -sd' ')"
			return 1
		fi
		rm -rf --one-file-system "$ROOT"
		mkdir -p "$(dirname "$ROOT")"
		say "debootstrap --variant=minbase $SUITE $ROOT (the host's mirror, script $BOOTSTRAP_SCRIPT)"
		if ! debootstrap --variant=minbase "$SUITE" "$ROOT" "$mirror" \
		    "/usr/share/debootstrap/scripts/$BOOTSTRAP_SCRIPT" \
		    > "/tmp/postern-debootstrap-$SUITE.log" 2>&1; then
			not_ok "chroot: debootstrap $SUITE" "$(tail -n 3 "/tmp/postern-debootstrap-$SUITE.log" | paste -sd'|')"
			return 1
		fi
		printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
		# testing's Release file can be past its Valid-Until here.
		[[ $SUITE == trixie ]] ||
		    printf 'Acquire::Check-Valid-Until "false";\n' \
		    > "$ROOT/etc/apt/apt.conf.d/99postern-ci"
		chmod 755 "$ROOT/usr/sbin/policy-rc.d"
		: > "$ROOT/.postern-ci-packages"
		date -u +%FT%TZ > "$STAMP"
		ok "chroot: debootstrap $SUITE (minbase) in $((SECONDS - t0))s"
	fi
	if [[ "$(cat "$ROOT/.postern-ci-packages" 2>/dev/null)" != "$want" ]]; then
		# postgresql-common's postinst needs /proc.
		mount_all || { not_ok "chroot" "mounting /proc, /dev, /dev/pts, /dev/shm failed"; return 1; }
		cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
		t0=$SECONDS
		if ! in_root sh -c 'apt-get update -q && apt-get install -y -q \
		    --no-install-recommends "$@"' _ "${PACKAGES[@]}" \
		    > "$ROOT/var/log/postern-apt.log" 2>&1; then
			not_ok "chroot: apt-get install" "$(tail -n 3 "$ROOT/var/log/postern-apt.log" | paste -sd'|')"
			return 1
		fi
		printf '%s\n' "$want" > "$ROOT/.postern-ci-packages"
		ok "chroot: packages installed in $((SECONDS - t0))s"
	fi
}

# bench_ssh_ciphers: the SSH cipher benchmark inside, its results out.
bench_ssh_ciphers() {
	local dest=${BENCH_OUT:-/tmp/postern-bench-ssh-debian13-$(date +%Y%m%d-%H%M%S)} rc
	in_root BENCH_CIPHERS="${BENCH_CIPHERS:-all}" ${BENCH_ROUNDS:+BENCH_ROUNDS=$BENCH_ROUNDS} \
	    ${BENCH_QUICK:+BENCH_QUICK=$BENCH_QUICK} BENCH_OUT=/build/bench \
	    timeout -k 10 "$INSIDE_TIMEOUT" bash /build/postern/tests/bench/ssh.sh
	rc=$?
	mkdir -p "$dest" && cp -r "$ROOT/build/bench/." "$dest/"
	say "results in $dest"
	return "$rc"
}

# bench_ssh: the SSH engine benchmark inside, its results out.
bench_ssh() {
	local dest=${BENCH_OUT:-/tmp/postern-bench-ssh-debian13-$(date +%Y%m%d-%H%M%S)} rc
	in_root ${BENCH_ROUNDS:+BENCH_ROUNDS=$BENCH_ROUNDS} \
	    ${BENCH_QUICK:+BENCH_QUICK=$BENCH_QUICK} \
	    ${BENCH_FILTER:+"BENCH_FILTER=$BENCH_FILTER"} \
	    ${BENCH_SSH_RTT_MS:+BENCH_SSH_RTT_MS=$BENCH_SSH_RTT_MS} \
	    ${BENCH_SSH_ENGINES:+"BENCH_SSH_ENGINES=$BENCH_SSH_ENGINES"} \
	    ${BENCH_SSH_MUX_FORWARD:+"BENCH_SSH_MUX_FORWARD=$BENCH_SSH_MUX_FORWARD"} \
	    ${BENCH_SSH_REDIS_PROTOCOL:+"BENCH_SSH_REDIS_PROTOCOL=$BENCH_SSH_REDIS_PROTOCOL"} \
	    ${BENCH_SSH_OPENSSH_CONF:+"BENCH_SSH_OPENSSH_CONF=$BENCH_SSH_OPENSSH_CONF"} \
	    ${BENCH_BURST:+BENCH_BURST=$BENCH_BURST} \
	    ${BENCH_POSTERN_BASE:+"BENCH_POSTERN_BASE=$BENCH_POSTERN_BASE"} \
	    ${BENCH_POSTERN_BASE_CONF:+"BENCH_POSTERN_BASE_CONF=$BENCH_POSTERN_BASE_CONF"} \
	    BENCH_OUT=/build/bench \
	    timeout -k 10 "$INSIDE_TIMEOUT" bash /build/postern/tests/bench/ssh.sh
	rc=$?
	mkdir -p "$dest" && cp -r "$ROOT/build/bench/." "$dest/"
	say "results in $dest"
	return "$rc"
}

# ---------------------------------------------------------------------
MODE=${1:-test}
case $MODE in
test|bench-ssh-ciphers|bench-ssh|prepare) ;;
*) printf 'usage: tests/chroot.sh [--suite trixie|forky] [bench-ssh-ciphers|bench-ssh|prepare]\n' >&2; exit 2 ;;
esac
if ((EUID != 0)); then
	printf 'ok - %s # SKIP needs root (debootstrap, chroot, mount)\n' "$LABEL"
	[[ -z ${POSTERN_RESULTS:-} ]] ||
	    printf 'SKIP\t%s\tneeds root\n' "$LABEL" >> "$POSTERN_RESULTS"
	exit 0
fi
mkdir -p "$(dirname "$ROOT")"
exec {lock}> "$ROOT.lock"
if ! flock -w 1200 "$lock"; then
	not_ok "chroot" "another run held $ROOT.lock for 20 minutes"
	exit 1
fi
trap 'unmount_all' EXIT
trap 'exit 143' INT TERM

start=$SECONDS
make_root || exit 1
mount_all || { not_ok "chroot" "mounting /proc, /dev, /dev/pts, /dev/shm failed"; exit 1; }
ok "chroot ready: $(cat "$ROOT/etc/debian_version") ($((SECONDS - start))s)"
[[ $MODE == prepare ]] && exit 0

rm -rf "$ROOT/build"
if ! bash "$TOP/packaging/copy-tree.sh" "$TOP" "$ROOT/build/postern"; then
	not_ok "chroot" "cannot copy the source tree"
	exit 1
fi
if [[ $MODE == bench-ssh-ciphers ]]; then
	bench_ssh_ciphers
	exit
fi
if [[ $MODE == bench-ssh ]]; then
	bench_ssh
	exit
fi
in_root POSTERN_RESULTS=/build/results timeout -k 10 "$INSIDE_TIMEOUT" \
    bash /build/postern/tests/chroot-inside.sh "$LABEL" "$SUITE"
rc=$?
[[ -z ${POSTERN_RESULTS:-} ]] || cat "$ROOT/build/results" >> "$POSTERN_RESULTS"
((rc == 124 || rc == 137)) && not_ok "chroot" "stopped after ${INSIDE_TIMEOUT}s"
say "$LABEL stage took $((SECONDS - start))s"
exit "$rc"
