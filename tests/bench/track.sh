#!/usr/bin/env bash
# tests/bench/track.sh: the trackers' cost per request/reply pair
# (tests/bench/track.c), for this tree and, side by side, for the trackers
# of earlier commits.  A benchmark, not a test: figures only.
#
#   tests/bench/track.sh [REV...]      e.g. tests/bench/track.sh main
#
# This tree's build is _build/rel (configured with CFLAGS="-O2 -g" when
# missing, as bench.sh does); each REV's resp_read.c, resp_track.c and
# pg_track.c (with their headers) are taken with git show and compiled
# with the same flags against the same track.c.  TRACK_MS (default 300)
# is how long each case runs, five times; the best is printed.
set -eu -o pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ms=${TRACK_MS:-300}
tmp=$(mktemp -d /tmp/postern-track.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cd "$top"
[ -x configure ] || ./autogen.sh >"$tmp/autogen.log" 2>&1
mkdir -p _build/rel
(cd _build/rel && { [ -f Makefile ] || ../../configure CFLAGS="-O2 -g" >"$tmp/configure.log"; } &&
	make tests/bench/track >"$tmp/make.log" 2>&1) || { cat "$tmp/make.log" >&2; exit 1; }
if ldd _build/rel/tests/bench/track | grep -q 'libasan\|libubsan'; then
	echo "track.sh: _build/rel is a sanitizer build; its figures mean nothing" >&2
fi

names=("this tree")
bins=("$top/_build/rel/tests/bench/track")
cflags=$(sed -n 's/^CFLAGS = //p' _build/rel/Makefile)
for rev in "$@"; do
	d=$tmp/$(git rev-parse --short "$rev")
	mkdir -p "$d/proxy"
	srcs=()
	# resp_sub.c and pg_listen.c came with the subscription and LISTEN
	# tracking, resp_args.c with issue 22; older revisions lack them.
	for f in resp_read.c resp_track.c resp_track.h resp_int.h pg_track.c \
	    pg_track.h resp_sub.c resp_args.c pg_listen.c pg_listen.h; do
		# proxy/ before the codecs moved to proto/ (issue 25).
		for dir in proto/redis proto/pg proxy; do
			git cat-file -e "$rev:$dir/$f" 2>/dev/null || continue
			git show "$rev:$dir/$f" >"$d/proxy/$f"
			[[ $f == *.c ]] && srcs+=("$d/proxy/$f")
			break
		done
	done
	# shellcheck disable=SC2086,SC2046
	cc $cflags -I"$d/proxy" -I_build/rel -Iproto/redis -Iproto/pg -Iproxy -o "$d/track" tests/bench/track.c \
		"${srcs[@]}" $(pkg-config --cflags --libs libevent)
	names+=("$rev ($(git rev-parse --short "$rev"))")
	bins+=("$d/track")
done

echo "machine: $(nproc) CPU(s), $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo); ns per request/reply pair, best of 5 runs of ${ms} ms of CPU time"
for i in "${!bins[@]}"; do
	"${bins[$i]}" "$ms" >"$tmp/out.$i"
done
# One column per build: the case and bytes from the first, ns/pair from each.
{
	printf '%-20s %10s' case bytes/pair
	for n in "${names[@]}"; do printf ' %22s' "$n"; done
	printf '\n'
	tail -n +2 "$tmp/out.0" | while IFS= read -r line; do
		c=${line:0:20}
		printf '%-20s %10s' "$c" "$(awk '{print $(NF-1)}' <<<"$line")"
		for i in "${!bins[@]}"; do
			printf ' %22s' "$(grep -F "$c" "$tmp/out.$i" | awk '{print $NF}')"
		done
		printf '\n'
	done
}
