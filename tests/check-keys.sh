#!/bin/sh
# check-keys.sh: fail "make check" when the key table, postern.conf(5) and
# the example configuration disagree (PgBouncer's optscan.sh, in spirit).
#
# The table comes from "$POSTERN --keys" (section TAB key TAB type TAB
# default TAB doc).  Every key must be:
#   - in packaging/man/postern.conf.5 as an ".It Cm KEY" item inside the
#     list for its section, marked with the roff comments
#     '.\" keys: SECTION' and '.\" end keys';
#   - in config/postern.conf.example as "KEY =" or "# KEY =" under a
#     "[SECTION ...]" or "# [SECTION ...]" header.
# Keys documented in either file but absent from the table fail too.
# Section "tls" holds the options of a tls:// route (key=value after the
# URL); the example shows them, commented, under "# [tls ...]".
#
# Environment: POSTERN (the built binary) and top_srcdir, both exported by
# "make check"; run by hand, they default to ./postern and the source tree
# that holds this script.

set -u

me=check-keys
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${POSTERN:=./postern}"
man=$top_srcdir/packaging/man/postern.conf.5
example=$top_srcdir/config/postern.conf.example

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-keys.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

for f in "$man" "$example"; do
	if [ ! -r "$f" ]; then
		echo "$me: cannot read $f" >&2
		exit 1
	fi
done
if ! "$POSTERN" --keys >"$tmp/table" 2>"$tmp/stderr"; then
	echo "$me: '$POSTERN --keys' failed:" >&2
	head -n 20 "$tmp/table" "$tmp/stderr" >&2
	exit 1
fi

# The table: "section TAB key", after checking its shape.
awk -F '\t' -v me="$me" '
	NF != 5 || $2 == "" || $1 !~ /^(postern|bastion|service|tls|route)$/ {
		printf "%s: bad --keys line %d: %s\n", me, NR, $0 >"/dev/stderr"
		bad = 1
		next
	}
	{ print $1 "\t" $2 }
	END { exit bad }' "$tmp/table" >"$tmp/keys.unsorted" || exit 1
if [ ! -s "$tmp/keys.unsorted" ]; then
	echo "$me: '$POSTERN --keys' printed no keys" >&2
	exit 1
fi
sort -u "$tmp/keys.unsorted" >"$tmp/keys"

# The man page: ".It Cm KEY" items between the key-list markers.
awk -v me="$me" -v file="$man" '
	/^\.\\" keys: / {
		if (sect != "") {
			printf "%s: %s:%d: keys list inside another\n",
			    me, file, NR >"/dev/stderr"
			bad = 1
		}
		sect = $3
		lists++
		next
	}
	/^\.\\" end keys/ { sect = ""; next }
	sect != "" && /^\.It Cm / { print sect "\t" $3 }
	END {
		if (sect != "") {
			printf "%s: %s: keys list for %s not ended\n",
			    me, file, sect >"/dev/stderr"
			bad = 1
		}
		if (lists == 0) {
			printf "%s: %s: no key lists (.\\\" keys: SECTION)\n",
			    me, file >"/dev/stderr"
			bad = 1
		}
		exit bad
	}' "$man" >"$tmp/man.unsorted" || exit 1
sort -u "$tmp/man.unsorted" >"$tmp/man"

# The example: "KEY =" or "# KEY =" lines under their section header.
awk '
	{
		line = $0
		sub(/^[ \t]*[#;][ \t]*/, "", line)
	}
	line ~ /^\[[ \t]*(postern|bastion|service|tls|route)[] \t]/ {
		sub(/^\[[ \t]*/, "", line)
		sect = line
		sub(/[] \t].*/, "", sect)
		next
	}
	line ~ /^\[/ { sect = "?"; next }
	sect != "" && line ~ /^[A-Za-z_][A-Za-z0-9_]*[ \t]*=/ {
		sub(/[ \t]*=.*/, "", line)
		print sect "\t" line
	}' "$example" | sort -u >"$tmp/example"

status=0
# report FILE WHAT LIST [HINT]: one line per "section TAB key" in LIST;
# HINT may use SECT and KEY.
report() {
	while IFS='	' read -r sect key; do
		hint=${4:-}
		hint=$(printf '%s' "$hint" | sed "s/KEY/$key/g; s/SECT/$sect/g")
		echo "$me: $1: $2 [$sect] key '$key'$hint" >&2
		status=1
	done <"$3"
}
comm -23 "$tmp/keys" "$tmp/man" >"$tmp/out"
report postern.conf.5 missing "$tmp/out" \
    " (add '.It Cm KEY' to the SECT keys list)"
comm -13 "$tmp/keys" "$tmp/man" >"$tmp/out"
report postern.conf.5 "documents unknown" "$tmp/out"
comm -23 "$tmp/keys" "$tmp/example" >"$tmp/out"
report postern.conf.example missing "$tmp/out" \
    " (add 'KEY =' or '# KEY =' under a [SECT] header)"
comm -13 "$tmp/keys" "$tmp/example" >"$tmp/out"
report postern.conf.example "shows unknown" "$tmp/out"

if [ "$status" -eq 0 ]; then
	echo "$me: $(wc -l <"$tmp/keys") keys agree with postern.conf.5" \
	    "and postern.conf.example"
fi
exit "$status"
