#!/bin/sh
# check-layers.sh: fail "make check" when the source tree breaks its
# layout (DESIGN.md, "Layout and modules").  Every folder that holds C
# sources has a rank; lowest first:
#
#   lib/ < config/ < proto/ (redis/, pg/) and ctl/ < tunnel/ < proxy/
#   (proxy/admin/, proxy/health/)
#
# A file may include a header of a lower rank, or of its own layer (the
# same top folder: proxy/ and its rooms, proto/redis/ and proto/pg/);
# never one of a higher rank, nor one of another layer of the same rank.
# A private header (NAME_int.h) is included only from its own folder.
# Folders are read recursively: a folder with sources and no rank, an
# include found in no folder, or a header name held by two folders (the
# compiler's -I list is flat) are errors too.  System and generated
# headers (config.h, <...>) are not ours.  tests/ is not checked: unit
# tests are white-box and may include a private header.
#
# Then the include cycles between modules (tests/include-cycles.sh): the
# largest family of modules that include each other around a loop is
# reported, and more than cycle_max modules in one family fail (DESIGN.md,
# "What calls what", says why the one family there is).
#
# Environment: top_srcdir, exported by "make check"; run by hand it
# defaults to the source tree that holds this script.
# tests/check-layers-selftest.sh plants each kind of error and expects
# this script to report it.

set -u

me=check-layers
here=$(cd "$(dirname "$0")" && pwd) || exit 1
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
cd "$top_srcdir" || exit 1

# Folder and rank, one a line.  A new folder of sources gets a line here.
ranks='lib 0
config 1
proto 2
proto/redis 2
proto/pg 2
ctl 2
tunnel 3
proxy 4
proxy/admin 4
proxy/health 4'

roots='lib config proto ctl tunnel proxy'
# The largest family of modules allowed to include each other in a loop.
cycle_max=5
list=$(mktemp) || exit 1
trap 'rm -f "$list"' EXIT
for r in $roots; do
	[ -d "$r" ] && find "$r" -type f \( -name '*.c' -o -name '*.h' \)
done | LC_ALL=C sort >"$list"

if [ ! -s "$list" ]; then
	echo "$me: no source files found under $top_srcdir" >&2
	exit 1
fi

# awk reads the rank table, then the file list, then each file's
# includes (printed as "FILE<TAB>HEADER" by sed below).
while read -r f; do
	sed -n "s|^#[ \t]*include[ \t]*\"\([^\"]*\)\".*|$f	\1|p" "$f"
done <"$list" | awk -v me="$me" -v ranks="$ranks" -v listf="$list" '
function dir(p) { sub(/\/[^\/]*$/, "", p); return p }
function base(p) { sub(/.*\//, "", p); return p }
function top(d) { sub(/\/.*/, "", d); return d }
BEGIN {
	FS = "\t"
	n = split(ranks, rl, "\n")
	for (i = 1; i <= n; i++) {
		split(rl[i], kv, " ")
		rank[kv[1]] = kv[2]
	}
	files = 0
	while ((getline f < listf) > 0) {
		files++
		d = dir(f)
		if (!(d in rank) && !(d in norank)) {
			norank[d] = 1
			printf "%s: folder %s/ has no rank (add it to the table in tests/check-layers.sh)\n", me, d > "/dev/stderr"
			bad = 1
		}
		if (f !~ /\.h$/)
			continue
		b = base(f)
		if (b in where) {
			printf "%s: header %s is in both %s/ and %s/\n", me, b, where[b], d > "/dev/stderr"
			bad = 1
		}
		where[b] = d
	}
}
{
	f = $1; h = $2
	if (h == "config.h")
		next
	d = dir(f)
	if (!(h in where)) {
		printf "%s: %s includes \"%s\", found in no folder\n", me, f, h > "/dev/stderr"
		bad = 1
		next
	}
	o = where[h]
	if (h ~ /_int\.h$/ && o != d) {
		printf "%s: %s includes %s/%s, private to %s/\n", me, f, o, h, o > "/dev/stderr"
		bad = 1
	}
	if (!(d in rank) || !(o in rank))
		next
	if (rank[o] > rank[d] || (rank[o] == rank[d] && top(o) != top(d))) {
		printf "%s: %s (%s/, rank %d) includes %s/%s (rank %d): a back edge\n", me, f, d, rank[d], o, h, rank[o] > "/dev/stderr"
		bad = 1
	}
}
END {
	if (!bad)
		printf "%s: %d files; lib < config < proto, ctl < tunnel < proxy hold; private headers stay home\n", me, files
	exit bad
}' || exit 1

export top_srcdir
fam=$(sh "$here/include-cycles.sh" -m "$cycle_max")
rc=$?
echo "$me: largest include family: ${fam%%
*}"
if [ "$rc" -ne 0 ]; then
	echo "$me: an include family outgrew $cycle_max modules (tests/include-cycles.sh -e shows its edges)" >&2
	exit 1
fi
