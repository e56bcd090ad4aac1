#!/bin/sh
# check-resp-ro.sh: compare proto/redis/resp_ro_table.c (the Redis commands
# postern may re-send on a new route, issue 20) and resp_guard_table.c
# (what readonly = yes lets pass, issue 24) with the COMMAND reply of
# the redis-server (or valkey-server) installed here.  Fails when the
# table holds a command that server does not call read-only and free of
# side effects; lists the server's replayable commands the table lacks
# (never re-sent until regenerated: proto/redis/gen-resp-ro.py).  Skipped (77)
# without a server or python3.
#
# Environment: top_srcdir, exported by "make check".

set -u

me=check-resp-ro
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
server=$(command -v redis-server || command -v valkey-server) || {
	echo "$me: SKIP: no redis-server or valkey-server"; exit 77; }
py=$(command -v python3) || { echo "$me: SKIP: no python3"; exit 77; }
dir=$(mktemp -d) || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# A free loopback port: the kernel's choice, handed to the server.
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
	--dir "$dir" >"$dir/log" 2>&1 &
pid=$!
i=0
until "$py" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "$me: FAIL: $server did not start"; cat "$dir/log"; exit 1
	fi
	sleep 0.05
done
"$py" "$top_srcdir/proto/redis/gen-resp-ro.py" --check \
	"$top_srcdir/proto/redis/resp_ro_table.c" 127.0.0.1 "$port" ||
	{ echo "$me: FAIL"; exit 1; }
# readonly = yes (issue 24): nothing in the guard table may write.
"$py" "$top_srcdir/proto/redis/gen-resp-ro.py" --check-guard \
	"$top_srcdir/proto/redis/resp_guard_table.c" 127.0.0.1 "$port" ||
	{ echo "$me: FAIL (guard table)"; exit 1; }
echo "$me: ok"
