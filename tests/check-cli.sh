#!/bin/bash
# check-cli.sh: fail "make check" when "postern -h", "postern ctl --help",
# the bash completion and postern(8) disagree (check-keys.sh does the
# same for the key table, postern.conf(5) and the example):
#   - the options of "postern ctl --help" are those the completion offers
#     after "postern ctl -", and the short ones are all in the ctl line
#     of "postern -h";
#   - each ctl command's own option (pin --for, drain --deadline) is
#     offered by the completion after that command;
#   - the ctl commands of --help are those the completion offers;
#   - every option of both helps is in postern.8 (as .Fl X);
#   - every duration the completion offers is one postern accepts.
#
# Environment: POSTERN (the built binary) and top_srcdir, both exported
# by "make check"; run by hand they default to ./postern and the tree
# that holds this script.

set -u

me=check-cli
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${POSTERN:=./postern}"
comp=$top_srcdir/packaging/completion/postern
man8=$top_srcdir/packaging/man/postern.8
bad=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

complain() {
	echo "$me: $*" >&2
	bad=1
}

# The options (-x, --long) a text mentions, one per line, sorted.
opts_in() {
	grep -oE '(^|[][ ;,|(])--?[a-zA-Z][-a-zA-Z]*' |
	    sed -E 's/^[][ ;,|(]*//' | sort -u
}

# What the completion offers for the words given (the last is the one
# being completed), one per line, sorted.
complete_words() {
	PATH=$(dirname "$POSTERN"):$PATH bash -c '
		comp=$1
		shift
		. "$comp" || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_postern
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@" | sed '/^$/d' |
	    sort -u
}

"$POSTERN" -h > "$tmp/help" 2>&1 || complain "'$POSTERN -h' failed"
"$POSTERN" ctl --help > "$tmp/ctlhelp" 2>&1 ||
    complain "'$POSTERN ctl --help' failed"

# ctl's options: --help (before "Commands:") = the completion's.
sed '/^Commands:/,$d' "$tmp/ctlhelp" | opts_in > "$tmp/ctl.help"
complete_words postern ctl - > "$tmp/ctl.comp"
if ! cmp -s "$tmp/ctl.help" "$tmp/ctl.comp"; then
	complain "ctl options: --help has [$(paste -sd' ' "$tmp/ctl.help")]," \
	    "the completion offers [$(paste -sd' ' "$tmp/ctl.comp")]"
fi
# ... and the short ones are in the ctl synopsis of "postern -h".
grep -E '^ *(usage: )?postern ctl ' "$tmp/help" | opts_in > "$tmp/ctl.synopsis"
while read -r o; do
	[[ $o == -h ]] && continue
	grep -qx -- "$o" "$tmp/ctl.synopsis" ||
	    complain "ctl option $o is not in the 'postern ctl' line of postern -h"
done < <(grep -E '^-[a-zA-Z]$' "$tmp/ctl.help")

# Each command's own options, offered after that command.
sed -n '/^Commands:/,$p' "$tmp/ctlhelp" |
    grep -oE '^  [a-z]+ [^[]*\[--[a-z]+' |
    sed -E 's/^  ([a-z]+) .*\[(--[a-z]+)$/\1 \2/' > "$tmp/cmdopts"
[[ -s "$tmp/cmdopts" ]] || complain "no command options found in ctl --help"
while read -r cmd o; do
	complete_words postern ctl "$cmd" redis public - | grep -qx -- "$o" ||
	    complain "the completion does not offer $o after 'postern ctl $cmd'"
done < "$tmp/cmdopts"

# The commands: --help = the completion's.
sed -n '/^Commands:/,/^$/p' "$tmp/ctlhelp" | grep -E '^  [a-z]' |
    sed -E 's/^  //; s/  .*//; s/ [A-Z[].*//' | tr ' ,' '\n' | sed '/^$/d' |
    sort -u > "$tmp/cmds.help"
complete_words postern ctl "" > "$tmp/cmds.comp"
cmp -s "$tmp/cmds.help" "$tmp/cmds.comp" ||
    complain "ctl commands: --help has [$(paste -sd' ' "$tmp/cmds.help")]," \
	"the completion offers [$(paste -sd' ' "$tmp/cmds.comp")]"

# Every option of both helps is in postern.8.
for o in $(opts_in < "$tmp/help") $(cat "$tmp/ctl.help") \
    $(awk '{ print $2 }' "$tmp/cmdopts"); do
	grep -qE "(Fl|,) ${o#-}( |$)" "$man8" ||
	    complain "option $o (in --help) is not in postern.8"
done

# The durations the completion offers are accepted.
for d in $(complete_words postern ctl pin redis public --for ""); do
	printf '[postern]\ndrain_timeout = %s\n[service s]\nlisten = 7\nroute = d tcp://127.0.0.1:7\n' \
	    "$d" > "$tmp/d.conf"
	# As root, -n warns that no user = is set: not about the duration.
	out=$("$POSTERN" -n -c "$tmp/d.conf" 2>&1 |
	    grep -v '^postern: warning: running as root without user =')
	[[ $out == "configuration OK" ]] ||
	    complain "the completion offers --for $d, which postern rejects: $out"
done

exit "$bad"
