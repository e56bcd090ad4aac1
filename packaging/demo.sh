#!/usr/bin/env bash
# postern demo: throwaway servers on loopback and postern in front of them
# with config/demo.conf.  Redis has the three kinds of route: "private"
# (tcp://), "bastion" (ssh:// through a throwaway OpenSSH sshd) and
# "public" (tls:// to a TLS-only redis-server, with a CA the script
# makes); PostgreSQL has one.  The demo sends commands through postern,
# walks the Redis failover down all three routes and back up, runs a
# developer tunnel (postern -L ... -J through the same bastion, with a
# throwaway known_hosts) and pins a route as an operator would.
#
#   packaging/demo.sh           run the demo, then keep serving until Ctrl-C
#   packaging/demo.sh --once    run the demo and exit (what CI does)
#
# Works as root on a fresh Debian 12 or 13: installs what it needs with
# apt-get and builds postern out of tree in _build/demo.  Files go to
# /tmp/postern-demo (the paths config/demo.conf names), removed on exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# The servers are set up as the tests set theirs up (tests/fixtures.sh:
# fixture_redis, fixture_pg_*, fixture_pki, fixture_sshd); this script
# keeps its fixed ports and its own process list.
# shellcheck source=tests/fixtures.sh
. "$top/tests/fixtures.sh"
once=0
[ "${1:-}" = "--once" ] && once=1
work=/tmp/postern-demo
pids=()
ports=(7379 7390 7432 7391 17022 17379 17380 17381 17432)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# kill_tree PID: PID and the processes below it (sshd's connections).
kill_tree() {
	local kid
	for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		kill_tree "$kid"
	done
	kill "$1" 2>/dev/null || true
}

cleanup() {
	local p
	for p in "${pids[@]}"; do kill_tree "$p"; done
	fixture_pg_stop "$pgbin" "$work/pg"
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}

need=()
for pkg in build-essential autoconf automake libtool pkg-config libevent-dev \
    libssl-dev libssh2-1-dev libhiredis-dev redis-server redis-tools \
    postgresql postgresql-client openssh-server openssh-client openssl \
    procps iproute2; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	[ "$(id -u)" = 0 ] || { echo "run as root to install packages" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	# Keep the packages' own services (redis, postgresql, ssh) from
	# starting: the demo runs its own on other ports.
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	[ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
fi
[ "$(id -u)" = 0 ] || { echo "run as root: sshd and PostgreSQL run as throwaway servers" >&2; exit 1; }
pgbin=$(fixture_pgbin)

postern="$top/_build/demo/postern"
if [ ! -x "$postern" ] || [ -n "$(find "$top/proxy" "$top/tunnel" "$top/config" -newer "$postern" -name '*.[ch]' 2>/dev/null | head -n 1)" ]; then
	say "building postern"
	(cd "$top" && ./autogen.sh >/dev/null 2>&1)
	mkdir -p "$top/_build/demo"
	(cd "$top/_build/demo" && "$top/configure" -q CFLAGS="-O2 -g" >/dev/null && make -s -j"$(nproc)" postern >/dev/null)
fi

for port in "${ports[@]}"; do
	if ss -ltnH "sport = :$port" | grep -q .; then
		echo "port $port is in use: the demo needs ${ports[*]}" >&2
		exit 1
	fi
done
# The ports are free, so no other demo runs: what is in $work is stale.
rm -rf "$work"
mkdir -p "$work/ssh" "$work/pki"
chmod 755 "$work"
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {	# wait_for SECONDS COMMAND...: poll until the command succeeds
	local t=$(( $1 * 10 )); shift
	while ! "$@" >/dev/null 2>&1; do
		t=$((t - 1)); [ "$t" -gt 0 ] || return 1; sleep 0.1
	done
}

# start_redis PORT NAME [tls CERT KEY CA] [ARGS]: redis-server,
# remembered as redis_NAME
start_redis() {
	local port=$1 name=$2
	local -a argv
	shift 2
	fixture_redis argv 127.0.0.1 "$port" "$work" "$work/redis-$name.log" "$@"
	"${argv[@]}" &
	pids+=($!)
	eval "redis_$name=$!"
}

rcli() { redis-cli -p "$1" "${@:2}"; }
tls_rcli() { redis-cli --tls --cacert "$work/pki/ca.crt" -p "$1" "${@:2}"; }

# The public endpoint's CA and certificate (for redis.demo.test).
make_pki() {
	fixture_pki "$work/pki" redis.demo.test && chmod 644 "$work/pki/server.key"
}

# The bastion: sshd on 127.0.0.1:17022 with its own host key, taking the
# demo's user key for root; known_hosts for postern.
start_sshd() {
	local d=$work/ssh
	ssh-keygen -q -t ed25519 -N '' -C postern-demo -f "$d/id_ed25519" </dev/null
	fixture_sshd "$d" 127.0.0.1 17022 INFO
	cp "$d/id_ed25519.pub" "$d/authorized_keys"
	"${SSHD_ARGV[@]}" 2> "$d/sshd.log" &
	pids+=($!)
	wait_for 10 grep -q 'Server listening' "$d/sshd.log"
}

# show PATTERN: the last log line of postern that matches.
show() { grep -E -- "$1" "$work/postern.log" | tail -n 1; }

# expect_route ROUTE WAS: wait until new Redis sessions go to ROUTE
# instead of WAS, then show the switch and a GET through postern.
expect_route() {
	wait_for 15 grep -q "service redis: new sessions go to $1 (was $2)" "$work/postern.log" ||
	    { echo "postern did not switch to $1:"; tail -n 20 "$work/postern.log"; exit 1; }
	show ' -> (down|up)'
	show "new sessions go to $1 \\(was $2\\)"
	echo "\$ redis-cli -p 7379 get whoami"
	rcli 7379 get whoami
}

say "starting throwaway servers"
make_pki >/dev/null 2>&1
start_redis 17379 private
start_redis 17380 bastion
start_redis 17381 public tls "$work/pki/server.crt" "$work/pki/server.key" "$work/pki/ca.crt"
start_sshd
wait_for 10 rcli 17379 ping && wait_for 10 rcli 17380 ping && wait_for 10 tls_rcli 17381 ping
rcli 17379 set whoami "private redis on 127.0.0.1:17379 (tcp://)" >/dev/null
rcli 17380 set whoami "redis behind the bastion, 127.0.0.1:17380 (ssh:// via 127.0.0.1:17022)" >/dev/null
tls_rcli 17381 set whoami "public redis, TLS only, 127.0.0.1:17381 (tls://)" >/dev/null
fixture_pg_initdb "$pgbin" "$work/pg" >/dev/null
fixture_pg_ctl_start pg_start "$pgbin" "$work/pg" "$work/pg/server.log" 127.0.0.1 17432 "$work/pg"
fixture_as_postgres "${pg_start[@]}" >/dev/null
echo "redis private 127.0.0.1:17379; bastion sshd 127.0.0.1:17022 -> redis 127.0.0.1:17380;"
echo "redis public (TLS only) 127.0.0.1:17381; postgres 127.0.0.1:17432"

say "starting postern with config/demo.conf"
"$postern" -c "$top/config/demo.conf" 2> "$work/postern.log" &
postern_pid=$!
pids+=($!)
fixture_postern_ready "$work/postern.log" "$postern_pid" 15 || { cat "$work/postern.log"; exit 1; }
cat "$work/postern.log"

say "through postern"
echo "\$ redis-cli -p 7379 get whoami"
rcli 7379 get whoami
echo "\$ psql -h 127.0.0.1 -p 7432 -U postgres -c 'select version()'"
psql -h 127.0.0.1 -p 7432 -U postgres -Atc 'select version()'

ctl() { echo "\$ postern ctl -a 127.0.0.1:7390 $*"; "$postern" ctl -a 127.0.0.1:7390 "$@" || true; }
wait_for 10 grep -q 'redis/public: up' "$work/postern.log"
ctl status

say "failover 1: the private Redis dies; the bastion route takes over"
kill "$redis_private"; wait "$redis_private" 2>/dev/null || true
expect_route bastion private

say "failover 2: the Redis behind the bastion dies; the public TLS endpoint takes over"
kill "$redis_bastion"; wait "$redis_bastion" 2>/dev/null || true
expect_route public bastion
ctl status

say "failback 1: the Redis behind the bastion returns"
start_redis 17380 bastion
wait_for 10 rcli 17380 ping
rcli 17380 set whoami "redis behind the bastion, 127.0.0.1:17380 (ssh:// via 127.0.0.1:17022)" >/dev/null
expect_route bastion public

say "failback 2: the private Redis returns"
start_redis 17379 private
wait_for 10 rcli 17379 ping
rcli 17379 set whoami "private redis on 127.0.0.1:17379 (tcp://)" >/dev/null
expect_route private bastion

say "a developer tunnel: postern -L 7391:127.0.0.1:17380 -J root@127.0.0.1 -p 17022"
# A throwaway known_hosts that does not know the bastion yet: accept-new
# records its key on first use, as "ssh -o StrictHostKeyChecking=accept-new".
# engine=libssh2: postern's own SSH client, which says what it accepted
# (with ssh installed, -J runs ssh as a ControlMaster by default).
echo "\$ postern -L 7391:127.0.0.1:17380 -J root@127.0.0.1 -p 17022 -i $work/ssh/id_ed25519 -o known_hosts=$work/ssh/dev_known_hosts -o strict_host_key_checking=accept-new -o engine=libssh2"
"$postern" -L 7391:127.0.0.1:17380 -J root@127.0.0.1 -p 17022 -i "$work/ssh/id_ed25519" \
    -o "known_hosts=$work/ssh/dev_known_hosts" -o strict_host_key_checking=accept-new \
    -o engine=libssh2 \
    2> "$work/tunnel.log" &
pids+=($!)
wait_for 15 grep -q 'forwarding ' "$work/tunnel.log" || { cat "$work/tunnel.log"; exit 1; }
grep -E 'accepted the new|forwarding ' "$work/tunnel.log"
echo "\$ redis-cli -p 7391 get whoami"
rcli 7391 get whoami

say "rollback drill: pin redis to the public route for 3 seconds"
ctl pin redis public --for 3s
echo "\$ redis-cli -p 7379 get whoami"
rcli 7379 get whoami
wait_for 10 grep -q 'pin to public expired' "$work/postern.log"
grep -E 'pinned|expired' "$work/postern.log" | tail -n 2
echo "\$ redis-cli -p 7379 get whoami"
rcli 7379 get whoami

cat <<MSG

postern is serving:
  redis-cli -p 7379                                  (Redis: private, bastion, public)
  psql -h 127.0.0.1 -p 7432 -U postgres              (PostgreSQL)
  redis-cli -p 7391                                  (the developer tunnel)
  curl -s 127.0.0.1:7390/health                      (health JSON; also /metrics,
                                                      /readiness, /liveness, /startup)
  $postern ctl -a 127.0.0.1:7390 status
  logs: $work/postern.log $work/tunnel.log
MSG
if [ "$once" = 1 ]; then
	exit 0
fi
echo "Ctrl-C stops postern and the throwaway servers."
wait "$postern_pid"
