#!/bin/sh
# check-shell.sh: shellcheck over the shell scripts of tests/ and
# packaging/, at severity warning.  Skipped (77) without shellcheck.
#
# Not checked, for every file: SC1090/SC1091 (a sourced file shellcheck
# is not told to follow), SC2034/SC2154 (variables the test helpers share
# across sourced files: following them with -x takes minutes and still
# misreads them).  A warning a script means is silenced where it stands,
# with a "# shellcheck disable=SCnnnn # reason" comment.
#
# Environment: top_srcdir, exported by "make check".

set -u

me=check-shell
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
if ! command -v shellcheck >/dev/null 2>&1; then
	echo "$me: shellcheck is not installed; skipped" >&2
	exit 77
fi
cd "$top_srcdir" || exit 1
files=$(find tests packaging -name '*.sh' -type f | LC_ALL=C sort)
if [ -z "$files" ]; then
	echo "$me: no shell scripts under $top_srcdir" >&2
	exit 1
fi
# shellcheck disable=SC2086 # one word per file name (none has a space)
if ! shellcheck -S warning -e SC1090,SC1091,SC2034,SC2154 -f gcc $files; then
	echo "$me: shellcheck found the warnings above" >&2
	exit 1
fi
echo "$me: $(echo "$files" | wc -l) scripts, no warning"
