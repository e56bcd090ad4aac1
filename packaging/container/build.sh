#!/bin/bash
# build.sh: the build steps of the postern container image, kept in one
# script so that the Dockerfile runs them and packaging/container/check.sh
# can run the same steps on a Debian 12 machine without a container engine.
#
#   build.sh deps                  install the build dependencies (apt)
#   build.sh build SRC STAGE       build SRC out of tree; install into
#                                  STAGE/root; list the runtime packages
#                                  in STAGE/runtime-packages
#   build.sh runtime LIST          install the packages in LIST and create
#                                  the user postern (uid and gid 10001)
#
# POSTERN_IMAGE_BUILD=1 (the Dockerfile): remove apt's lists after
# installing.  POSTERN_CHECK=1 (check.sh): "runtime" only simulates
# apt-get and prints the user it would create, so that the machine is not
# changed; "deps" installs what is missing, as tests/run.sh would, and
# keeps apt's lists.
set -euo pipefail

BUILD_DEPS=(ca-certificates build-essential dpkg-dev autoconf automake
	libtool pkg-config libevent-dev libssl-dev libssh2-1-dev libhiredis-dev)
POSTERN_UID=10001
check=${POSTERN_CHECK:-0}

# apt_install [-s] PACKAGE...: install what is missing (-s: simulate).
apt_install() {
	local missing=() p sim=0
	[[ "$1" == -s ]] && { sim=1; shift; }
	for p in "$@"; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null |
		    grep -qx installed || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	if ((sim)); then
		apt-get install -s -q --no-install-recommends "${missing[@]}"
		return
	fi
	apt-get install -y -q --no-install-recommends "${missing[@]}"
	# In an image build, keep the layer small.
	[[ "${POSTERN_IMAGE_BUILD:-0}" == 1 && "$check" != 1 ]] &&
	    rm -rf /var/lib/apt/lists/*
	return 0
}

# The Debian package that holds a shared library (usrmerge: the path
# dpkg knows may lack or have the /usr prefix).
lib_package() {
	local p
	for p in "$1" "${1#/usr}" "/usr$1"; do
		dpkg-query -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1 && return
	done
	echo "build.sh: no package holds $1" >&2
	return 1
}

step_deps() {
	apt_install "${BUILD_DEPS[@]}"
}

step_build() {
	local src=$1 stage=$2 b lib
	b=$(mktemp -d /tmp/postern-build.XXXXXX)
	(cd "$src" && ./autogen.sh)
	# Debian's hardening flags, as the .deb has them.
	eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags \
	    --export=sh)"
	# No libsystemd in the image: there is no service manager to notify.
	(cd "$b" && "$src/configure" --prefix=/usr --sysconfdir=/etc \
	    --without-systemd)
	make -C "$b" -j"$(nproc)" postern
	mkdir -p "$stage/root"
	make -C "$b" install-sbinPROGRAMS DESTDIR="$stage/root"
	strip --strip-unneeded "$stage/root/usr/sbin/postern"
	"$stage/root/usr/sbin/postern" -V
	# Config and keys are mounted here; nothing else is written.
	install -d -m 0755 "$stage/root/etc/postern"
	for lib in $(ldd "$stage/root/usr/sbin/postern" |
	    awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
		lib_package "$lib"
	done | grep -vx -e libc6 | sort -u > "$stage/runtime-packages"
	echo ca-certificates >> "$stage/runtime-packages"
	echo "runtime packages: $(tr '\n' ' ' < "$stage/runtime-packages")"
	rm -rf "$b"
}

step_runtime() {
	local list=$1
	mapfile -t pkgs < "$list"
	if [[ "$check" == 1 ]]; then
		apt_install -s "${pkgs[@]}"
		echo "would run: groupadd --system --gid $POSTERN_UID postern;" \
		    "useradd --system --uid $POSTERN_UID --gid $POSTERN_UID" \
		    "--home-dir /nonexistent --no-create-home" \
		    "--shell /usr/sbin/nologin postern"
		return
	fi
	apt_install "${pkgs[@]}"
	groupadd --system --gid "$POSTERN_UID" postern
	useradd --system --uid "$POSTERN_UID" --gid "$POSTERN_UID" \
	    --home-dir /nonexistent --no-create-home \
	    --shell /usr/sbin/nologin postern
}

case ${1:-} in
deps)		step_deps ;;
build)		[[ $# == 3 ]] || { echo "usage: build.sh build SRC STAGE" >&2; exit 2; }
		step_build "$(cd "$2" && pwd)" "$3" ;;
runtime)	[[ $# == 2 ]] || { echo "usage: build.sh runtime LIST" >&2; exit 2; }
		step_runtime "$2" ;;
*)		echo "usage: build.sh deps | build SRC STAGE | runtime LIST" >&2
		exit 2 ;;
esac
