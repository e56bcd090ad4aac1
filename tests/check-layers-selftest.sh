#!/bin/sh
# check-layers-selftest.sh: a layer check that cannot fail proves
# nothing.  Copy the source folders to a scratch tree, see
# tests/check-layers.sh pass on the copy, then plant one error at a time
# (a back edge, a file in a folder without a rank, an include of a
# header in a subfolder of a higher layer, a foreign private _int.h, an
# include of a header that does not exist) and expect the check to fail
# naming it.
#
# Environment: top_srcdir, exported by "make check".

set -u

me="check-layers-selftest"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
check="$top_srcdir/tests/check-layers.sh"
scratch=$(mktemp -d) || exit 1
trap 'rm -rf "$scratch"' EXIT

fresh() {
	rm -rf "$scratch/t"
	mkdir "$scratch/t" || exit 1
	for d in lib config proto ctl tunnel proxy; do
		[ -d "$top_srcdir/$d" ] && cp -R "$top_srcdir/$d" "$scratch/t/"
	done
}

# expect_fail NAME PATTERN: the check fails and says PATTERN.
expect_fail() {
	if top_srcdir="$scratch/t" sh "$check" >"$scratch/out" 2>&1; then
		echo "$me: $1: the check passed" >&2
		cat "$scratch/out" >&2
		exit 1
	fi
	if ! grep -q -- "$2" "$scratch/out"; then
		echo "$me: $1: the check failed without saying \"$2\"" >&2
		cat "$scratch/out" >&2
		exit 1
	fi
	echo "$me: $1: caught"
}

fresh
if ! top_srcdir="$scratch/t" sh "$check" >"$scratch/out" 2>&1; then
	echo "$me: the unchanged copy does not pass" >&2
	cat "$scratch/out" >&2
	exit 1
fi

# A lower layer includes a higher one.
fresh
printf '#include "session.h"\n' >>"$scratch/t/config/conf.c"
expect_fail "back edge" "config/conf.c (config/, rank 1) includes proxy/session.h"

# A subfolder nobody ranked.
fresh
mkdir "$scratch/t/lib/extra"
printf '#include "log.h"\n' >"$scratch/t/lib/extra/x.c"
expect_fail "unranked subfolder" "folder lib/extra/ has no rank"

# A file in a subfolder includes a header from a higher layer's subfolder.
fresh
printf '#include "admin.h"\n' >>"$scratch/t/proto/redis/resp_scan.c"
expect_fail "subfolder include" "proto/redis/resp_scan.c (proto/redis/, rank 2) includes proxy/admin/admin.h"

# A file of another folder includes a group's private header.
fresh
printf '#include "resp_int.h"\n' >>"$scratch/t/proxy/session.c"
expect_fail "foreign _int.h" "proxy/session.c includes proto/redis/resp_int.h, private to proto/redis/"

# An include of a file that does not exist.
fresh
printf '#include "nowhere.h"\n' >>"$scratch/t/tunnel/link.c"
expect_fail "missing header" "tunnel/link.c includes \"nowhere.h\", found in no folder"

# A module the family calls includes the family back: the loop grows.
fresh
printf '#include "session.h"\n' >>"$scratch/t/proxy/route.c"
expect_fail "include loop" "an include family outgrew"

echo "$me: the layer check catches each planted error"
