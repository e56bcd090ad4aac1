#!/bin/sh
# check-layers.sh: fail "make check" when a file includes a header of a
# higher layer.  Layers, lowest first: lib/, config/, tunnel/, proxy/
# (STYLE.md): a lower layer never includes a higher one.  Headers are
# found by name in those folders; system and generated headers
# (config.h, <...>) are not ours.
#
# Environment: top_srcdir, exported by "make check"; run by hand it
# defaults to the source tree that holds this script.

set -u

me=check-layers
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1

rank() {
	case $1 in
	lib) echo 0 ;;
	config) echo 1 ;;
	tunnel) echo 2 ;;
	proxy) echo 3 ;;
	esac
}

bad=0
n=0
for dir in lib config tunnel proxy; do
	mine=$(rank "$dir")
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		for h in $(sed -n 's/^#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$f"); do
			[ "$h" = config.h ] && continue
			owner=
			for d in lib config tunnel proxy; do
				if [ -e "$d/$h" ]; then
					owner=$d
					break
				fi
			done
			if [ -z "$owner" ]; then
				echo "$me: $f includes \"$h\", found in no layer" >&2
				bad=1
			elif [ "$(rank "$owner")" -gt "$mine" ]; then
				echo "$me: $f ($dir/) includes $owner/$h: a lower layer includes a higher one" >&2
				bad=1
			fi
		done
	done
done
if [ "$n" -eq 0 ]; then
	echo "$me: no source files found under $top_srcdir" >&2
	exit 1
fi
[ "$bad" -eq 0 ] && echo "$me: $n files, layers lib < config < tunnel < proxy hold"
exit "$bad"
