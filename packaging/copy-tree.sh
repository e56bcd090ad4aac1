#!/bin/bash
# copy-tree.sh: copy a postern source tree without build products.
#
#   packaging/copy-tree.sh SRC DEST
#
# In a git work tree: the files git knows and untracked files it does not
# ignore (files deleted but not yet committed are skipped); without git,
# everything but _build, .git and autotools/compiler output.  DEST is
# made if missing.  Used by build-deb.sh, container/check.sh and
# tests/chroot.sh.
set -euo pipefail

src=$1 dest=$2
mkdir -p "$dest"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
	    while IFS= read -r -d '' f; do
		[[ -e "$f" ]] && printf '%s\0' "$f"
	    done | tar --null -T - -cf -) | (cd "$dest" && tar -xf -)
else
	(cd "$src" && tar --exclude=./_build --exclude=./.git \
	    --exclude=./autom4te.cache --exclude='*.o' --exclude='*.a' \
	    --exclude=./config.status --exclude=./config.log -cf - .) |
	    (cd "$dest" && tar -xf -)
fi
