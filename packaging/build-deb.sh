#!/bin/bash
# build-deb.sh: build the postern .deb from this source tree.
#
#   packaging/build-deb.sh [OUTDIR]      (default: _build/deb)
#
# Copies the tree (packaging/copy-tree.sh: the files git knows and
# untracked files it does not ignore; without git, everything but build
# products) to a temporary directory, puts packaging/debian there as
# ./debian, and runs "dpkg-buildpackage -b -uc -us" in it.  The .deb,
# .changes and .buildinfo land in OUTDIR, with the build log and
# "lintian" output (lintian.txt; the script fails on a lintian error).
# The source tree is not touched.  Needs, on Debian 12 or 13: dpkg-dev
# debhelper lintian and the Build-Depends of packaging/debian/control
# (dpkg-checkbuilddeps names any that are missing).
#
# Environment: DEB_BUILD_OPTIONS as usual (e.g. nocheck, parallel=2);
# POSTERN_KEEP_BUILD=1 keeps the temporary tree.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/_build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/postern-deb.XXXXXX)
cleanup() {
	if [[ "${POSTERN_KEEP_BUILD:-0}" == 1 ]]; then
		echo "build-deb: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

version=$(sed -n '1s/^postern (\([^)]*\)).*/\1/p' "$top/packaging/debian/changelog")
upstream=${version%-*}
src=$work/postern-$upstream
mkdir -p "$src"

# The tree, without build products or another build's output.
bash "$top/packaging/copy-tree.sh" "$top" "$src"
rm -rf "$src/debian"
cp -a "$top/packaging/debian" "$src/debian"

echo "build-deb: building postern $version in $src"
cd "$src"
dpkg-checkbuilddeps
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=$(nproc)}
if ! dpkg-buildpackage -b -uc -us > "$out/build.log" 2>&1; then
	echo "build-deb: dpkg-buildpackage failed; the end of $out/build.log:" >&2
	tail -n 40 "$out/build.log" >&2
	exit 1
fi

arch=$(dpkg --print-architecture)
rm -f "$out"/postern*_"$arch".deb "$out"/postern*.changes "$out"/postern*.buildinfo
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out/"
changes=$out/postern_${version}_${arch}.changes
echo "build-deb: $out/postern_${version}_${arch}.deb"

if command -v lintian >/dev/null; then
	lintian --info --display-info "$changes" \
	    > "$out/lintian.txt" 2>&1 || true
	if grep -q '^E: ' "$out/lintian.txt"; then
		echo "build-deb: lintian errors:" >&2
		grep '^E: ' "$out/lintian.txt" >&2
		exit 1
	fi
	echo "build-deb: lintian: $(grep -c '^E: ' "$out/lintian.txt") errors," \
	    "$(grep -c '^W: ' "$out/lintian.txt") warnings (see $out/lintian.txt)"
else
	echo "build-deb: lintian is not installed: not checked" >&2
fi
