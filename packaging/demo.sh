#!/usr/bin/env bash
# postern demo: throwaway Redis (two of them: "private" and "public") and
# PostgreSQL on loopback, postern in front of them with config/demo.conf,
# a few commands through it, and a failover when the private Redis dies.
#
#   packaging/demo.sh           run the demo, then keep serving until Ctrl-C
#   packaging/demo.sh --once    run the demo and exit (what CI does)
#
# Works as root on a fresh Debian 12: installs what it needs with apt-get
# and builds postern out of tree in _build/demo.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
once=0
[ "${1:-}" = "--once" ] && once=1
work=$(mktemp -d /tmp/postern-demo.XXXXXX)
chmod 755 "$work"
pids=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -f "$work/pg/postmaster.pid" ]; then
		runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
	fi
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need=()
for pkg in build-essential autoconf automake libtool pkg-config libevent-dev \
    libssl-dev libssh2-1-dev libhiredis-dev redis-server redis-tools \
    postgresql postgresql-client; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	[ "$(id -u)" = 0 ] || { echo "run as root to install packages" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

postern="$top/_build/demo/postern"
if [ ! -x "$postern" ] || [ -n "$(find "$top/proxy" "$top/tunnel" "$top/config" -newer "$postern" -name '*.[ch]' 2>/dev/null | head -n 1)" ]; then
	say "building postern"
	(cd "$top" && ./autogen.sh >/dev/null 2>&1)
	mkdir -p "$top/_build/demo"
	(cd "$top/_build/demo" && "$top/configure" -q CFLAGS="-O2 -g" >/dev/null && make -s -j"$(nproc)" postern >/dev/null)
fi

for port in 7379 7390 7432 17379 17380 17432; do
	if ss -ltnH "sport = :$port" | grep -q .; then
		echo "port $port is in use: the demo needs 7379 7390 7432 17379 17380 17432" >&2
		exit 1
	fi
done

wait_for() {	# wait_for SECONDS COMMAND...: poll until the command succeeds
	local t=$(( $1 * 10 )); shift
	while ! "$@" >/dev/null 2>&1; do
		t=$((t - 1)); [ "$t" -gt 0 ] || return 1; sleep 0.1
	done
}

start_redis() {	# start_redis PORT NAME
	redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
	    --dir "$work" --logfile "$work/redis-$2.log" &
	pids+=($!)
	eval "redis_$2=$!"
	wait_for 10 redis-cli -p "$1" ping
	redis-cli -p "$1" set whoami "$2 redis on port $1" >/dev/null
}

say "starting throwaway servers"
start_redis 17379 private
start_redis 17380 public
install -d -o postgres -m 700 "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -A trust -U postgres --no-sync >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -w -l "$work/pg/server.log" \
    -o "-p 17432 -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
echo "redis private 127.0.0.1:17379, redis public 127.0.0.1:17380, postgres 127.0.0.1:17432"

say "starting postern with config/demo.conf"
"$postern" -c "$top/config/demo.conf" 2> "$work/postern.log" &
pids+=($!)
wait_for 10 grep -q 'ready:' "$work/postern.log" || { cat "$work/postern.log"; exit 1; }
cat "$work/postern.log"

say "through postern"
echo "\$ redis-cli -p 7379 get whoami"
redis-cli -p 7379 get whoami
echo "\$ psql -h 127.0.0.1 -p 7432 -U postgres -c 'select version()'"
psql -h 127.0.0.1 -p 7432 -U postgres -Atc 'select version()'

ctl() { echo "\$ postern ctl -a 127.0.0.1:7390 $*"; "$postern" ctl -a 127.0.0.1:7390 "$@" || true; }
ctl status

say "failover: the private Redis dies"
kill "$redis_private"; wait "$redis_private" 2>/dev/null || true
wait_for 10 grep -q 'new sessions go to public' "$work/postern.log"
grep -E -- '-> down|new sessions go to public' "$work/postern.log" | tail -n 2
echo "\$ redis-cli -p 7379 get whoami"
redis-cli -p 7379 get whoami
ctl status

say "failback: the private Redis returns"
start_redis 17379 private
wait_for 10 grep -q 'new sessions go to private (was public)' "$work/postern.log"
grep -E -- '-> up|new sessions go to private' "$work/postern.log" | tail -n 2
echo "\$ redis-cli -p 7379 get whoami"
redis-cli -p 7379 get whoami

say "rollback drill: pin redis to the public route for 3 seconds"
ctl pin redis public --for 3s
echo "\$ redis-cli -p 7379 get whoami"
redis-cli -p 7379 get whoami
wait_for 10 grep -q 'pin to public expired' "$work/postern.log"
grep -E 'pinned|expired' "$work/postern.log" | tail -n 2
echo "\$ redis-cli -p 7379 get whoami"
redis-cli -p 7379 get whoami

cat <<MSG

postern is serving:
  redis-cli -p 7379                                  (Redis, private route first)
  psql -h 127.0.0.1 -p 7432 -U postgres              (PostgreSQL)
  curl -s 127.0.0.1:7390/health                      (health JSON; also /metrics,
                                                      /readiness, /liveness, /startup)
  $postern ctl -a 127.0.0.1:7390 status
  log: $work/postern.log
MSG
if [ "$once" = 1 ]; then
	exit 0
fi
echo "Ctrl-C stops postern and the throwaway servers."
wait "${pids[-1]}"
