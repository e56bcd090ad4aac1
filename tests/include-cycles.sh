#!/bin/sh
# include-cycles.sh: list the include cycles between modules (DESIGN.md,
# "What calls what").  A module is a header NAME.h together with the .c
# files that implement it: NAME.c, and any other .c that defines a
# function NAME.h declares (daemon_reload.c implements daemon.h).  A
# .c that implements no header is a module of its own (main.c).  A
# group's private NAME_int.h belongs to module NAME.  A header that
# declares no function (types only) is implemented by nothing, and
# including it makes no edge.  Module
# A uses module B when a file of A (its header or one of its .c files)
# includes B.h.  Modules that use each other, directly or around a loop,
# form a family: one strongly connected component of that graph.
#
# Prints each family of two or more modules, largest first, one a line:
# "N: a b c"; nothing when there is none.  With -e, each family is
# followed by its edges, "  a -> b (file)", to show where to cut.  With
# -m MAX, exits 1 when a family has more than MAX modules (make check
# runs it so: see tests/check-layers.sh).
#
# Environment: top_srcdir, as for check-layers.sh.

set -u

me=include-cycles
max=0
edges=0
while [ $# -gt 0 ]; do
	case $1 in
	-m)	max=${2:?"$me: -m needs a number"}; shift 2 ;;
	-e)	edges=1; shift ;;
	*)	echo "usage: $me [-e] [-m MAX]" >&2; exit 2 ;;
	esac
done
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1

list=$(find lib config proto ctl tunnel proxy -type f \
    \( -name '*.c' -o -name '*.h' \) 2>/dev/null | LC_ALL=C sort)
[ -n "$list" ] || { echo "$me: no sources under $top_srcdir" >&2; exit 1; }

# Three kinds of records for awk, tab-separated:
#   D FILE NAME   FILE.h declares (or FILE.c defines at column 0) NAME()
#   I FILE HEADER FILE includes "HEADER"
# Generated tables (resp_ro_table.c and the like) only add definitions.
for f in $list; do
	case $f in
	*.h)	sed -n 's|^[A-Za-z_].*[	 *]\([A-Za-z_][A-Za-z0-9_]*\)(.*|D	'"$f"'	\1|p' "$f" ;;
	*.c)	sed -n 's|^\([A-Za-z_][A-Za-z0-9_]*\)(.*|D	'"$f"'	\1|p' "$f" ;;
	esac
	sed -n 's|^#[ 	]*include[ 	]*"\([^"]*\)".*|I	'"$f"'	\1|p' "$f"
done | awk -v me="$me" -v max="$max" -v edges="$edges" '
function base(p) { sub(/.*\//, "", p); sub(/\.[ch]$/, "", p); sub(/_int$/, "", p); return p }
BEGIN { FS = "\t" }
$1 == "D" && $2 ~ /\.h$/ {
	decl[$3] = base($2); hdr[base($2)] = 1
	h = $2; sub(/.*\//, "", h); implemented[h] = 1
	next
}
$1 == "D" { defs[$2] = defs[$2] " " $3; next }
$1 == "I" { inc[++ni] = $2 SUBSEP $3; files[$2] = 1; next }
END {
	# Which modules each file belongs to.
	for (f in files) {
		b = base(f)
		if (f ~ /\.h$/ || (b in hdr)) {
			mods[f] = b
		} else {
			mods[f] = ""
		}
		if (f ~ /\.c$/) {
			n = split(defs[f], dl, " ")
			for (i = 1; i <= n; i++) {
				if ((dl[i] in decl) && index(" " mods[f] " ", " " decl[dl[i]] " ") == 0)
					mods[f] = mods[f] " " decl[dl[i]]
			}
			if (mods[f] ~ /^ *$/)
				mods[f] = b
		}
	}
	for (k = 1; k <= ni; k++) {
		split(inc[k], p, SUBSEP)
		# A header of types only is implemented by nothing: no edge.
		if (!(p[2] in implemented))
			continue
		p[2] = base(p[2])
		n = split(mods[p[1]], ml, " ")
		for (i = 1; i <= n; i++) {
			if (ml[i] == p[2] || ((ml[i], p[2]) in edge))
				continue
			edge[ml[i], p[2]] = p[1]
			out[ml[i]] = out[ml[i]] " " p[2]
			node[ml[i]] = 1
			node[p[2]] = 1
		}
	}
	# Reachability from every node (a few hundred modules: cheap).
	for (a in node) {
		delete seen
		delete stack
		sp = 0
		stack[++sp] = a
		while (sp > 0) {
			x = stack[sp--]
			n = split(out[x], ol, " ")
			for (i = 1; i <= n; i++) {
				if (!(ol[i] in seen)) {
					seen[ol[i]] = 1
					reach[a, ol[i]] = 1
					stack[++sp] = ol[i]
				}
			}
		}
	}
	nf = 0
	for (a in node) {
		if (a in done)
			continue
		fam = a
		size = 1
		done[a] = 1
		for (b in node) {
			if (b != a && ((a, b) in reach) && ((b, a) in reach)) {
				fam = fam " " b
				size++
				done[b] = 1
			}
		}
		if (size < 2)
			continue
		# Sort the family by name (insertion sort: families are small).
		n = split(fam, fl, " ")
		for (i = 2; i <= n; i++) {
			v = fl[i]
			for (j = i - 1; j >= 1 && fl[j] > v; j--)
				fl[j + 1] = fl[j]
			fl[j + 1] = v
		}
		fam = fl[1]
		for (i = 2; i <= n; i++)
			fam = fam " " fl[i]
		famv[++nf] = size ": " fam
		fams[nf] = size
		if (edges) {
			for (i = 1; i <= n; i++)
				for (j = 1; j <= n; j++)
					if ((fl[i], fl[j]) in edge)
						famv[nf] = famv[nf] "\n  " fl[i] " -> " fl[j] " (" edge[fl[i], fl[j]] ")"
		}
	}
	# Largest first.
	for (i = 2; i <= nf; i++) {
		v = famv[i]; s = fams[i]
		for (j = i - 1; j >= 1 && fams[j] < s; j--) {
			famv[j + 1] = famv[j]; fams[j + 1] = fams[j]
		}
		famv[j + 1] = v; fams[j + 1] = s
	}
	bad = 0
	for (i = 1; i <= nf; i++) {
		print famv[i]
		if (max > 0 && fams[i] > max)
			bad = 1
	}
	if (bad)
		printf "%s: a family of more than %d modules includes itself around a loop\n", me, max > "/dev/stderr"
	exit bad
}'
