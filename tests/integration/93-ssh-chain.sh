#!/bin/bash
# Bastion chains (-J a,b, ProxyJump) on both engines, the engine a
# parameter.  Two real sshd: hop a may open channels only to hop b's port
# and hop b only to Redis (sshd's PermitOpen), so the target is reached
# through both hops or not at all.  Each hop checks its own host key
# (its own known_hosts entry) and logs in on its own.  libssh2 runs each
# next SSH session over a direct-tcpip channel of the previous one;
# OpenSSH makes the chain itself.  Under traffic (a redis-py pool at
# default settings): hop b killed, and hop b hung; the tunnel reconnects
# with back-off and the pool's commands pass again.
. "$(dirname "$0")/../lib.sh"

# ssh_cfg [LINE...]: an ssh configuration file; prints its path.
ssh_cfg() {
	local f=$T/ssh_config.$_CASE_ID.$RANDOM
	printf '%s\n' "$@" > "$f"
	printf '%s\n' "$f"
}

# chain_setup [HOPB_KNOWN]: Redis, hop a and hop b (PermitOpen as above);
# sets PA PB LOG_A LOG_B PID_B KNOWN (a known_hosts file with both keys,
# or with hop a's alone when HOPB_KNOWN is "no") and CFG (hopa, hopb).
chain_setup() {
	local known_a
	start_redis
	PB=$(free_port) || fail_case "no free port"
	SSHD_LOG_LEVEL=DEBUG1 start_sshd "PermitOpen 127.0.0.1:$PB"
	PA=$SSHD_PORT LOG_A=$SSHD_LOG known_a=$SSHD_KNOWN
	start_sshd_on "$PB" 127.0.0.1 "PermitOpen 127.0.0.1:$REDIS_PORT"
	LOG_B=$SSHD_LOG PID_B=$SSHD_PID
	KNOWN=$T/known$_CASE_ID
	cat "$known_a" > "$KNOWN"
	[[ ${1:-yes} == no ]] || cat "$SSHD_KNOWN" >> "$KNOWN"
	CFG=$(ssh_cfg "Host hopa" "  HostName 127.0.0.1" "  Port $PA" \
	    "Host hopb" "  HostName 127.0.0.1" "  Port $PB" \
	    "Host *" "  User root" "  IdentityFile $USER_KEY" \
	    "  UserKnownHostsFile $KNOWN")
}

# chain_start ENGINE [ARGS...]: quick mode to Redis through hopa,hopb.
chain_start() {
	local engine=$1
	shift
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	start_postern_args -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" \
	    -J hopa,hopb -F "$CFG" -o "engine=$engine" "$@"
}

# load_bg SECONDS: redis-py pool at default settings INCRing through
# postern in the background; "ok N err N" into $T/load.out at the end.
load_bg() {
	/usr/bin/python3 - "$LISTEN_PORT" "$1" > "$T/load.out" 2>&1 <<'PY' &
import redis, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
pool = redis.ConnectionPool(host="127.0.0.1", port=port)
r = redis.Redis(connection_pool=pool)
ok = err = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    try:
        r.incr("n"); ok += 1
    except Exception:
        err += 1
        time.sleep(0.02)
print("ok", ok, "err", err)
PY
	LOAD_PID=$!
	track_client "$LOAD_PID"
}

# incr_grew N: the load's counter in Redis is above N.
incr_grew() {
	(($(rcli "$REDIS_PORT" GET n 2>/dev/null || echo 0) > $1))
}

# hopb_re: how the logs name the bastion (hop b) for either engine.
hopb_re() {
	printf 'bastion hopb \\((root@127\\.0\\.0\\.1:%s|hopa,hopb)\\)' "$PB"
}

# -J a,b: the target is reachable only through both hops; one login at
# each, hop a forwarded to hop b's port.
case_chain() {
	local engine=$1
	chain_setup
	chain_start "$engine"
	wait_ready 20
	expect_eq "PING through hopa,hopb" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "logins at hop a" 1 "$(count_lines "$LOG_A" 'Accepted publickey for root')"
	expect_eq "logins at hop b" 1 "$(count_lines "$LOG_B" 'Accepted publickey for root')"
	grep -Eq "direct-tcpip.*(127\\.0\\.0\\.1|hopb) port $PB|target 127\\.0\\.0\\.1 port $PB" "$LOG_A" ||
	    fail_case "hop a forwarded nothing to hop b's port $PB"
	if [[ $engine == libssh2 ]]; then
		expect_log "info: bastion hopa \\(root@127\\.0\\.0\\.1:$PA; hop 1 of hopb\\): connected in [0-9]+ ms \\(host key ssh-ed25519 "
		expect_log "info: $(hopb_re): connected in [0-9]+ ms \\(host key ssh-ed25519 $(re_escape "$SSHD_FP");"
	fi
}

# The same chain from a ProxyJump line of hop b's Host block (-J hopb).
case_proxyjump_line() {
	local engine=$1
	chain_setup
	CFG=$(ssh_cfg "Host hopb" "  ProxyJump hopa" "  HostName 127.0.0.1" \
	    "  Port $PB" "Host hopa" "  HostName 127.0.0.1" "  Port $PA" \
	    "Host *" "  User root" "  IdentityFile $USER_KEY" \
	    "  UserKnownHostsFile $KNOWN")
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	start_postern_args -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J hopb \
	    -F "$CFG" -o "engine=$engine"
	wait_ready 20
	expect_eq "PING through ProxyJump hopa" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "logins at hop a" 1 "$(count_lines "$LOG_A" 'Accepted publickey for root')"
	expect_eq "logins at hop b" 1 "$(count_lines "$LOG_B" 'Accepted publickey for root')"
}

# Hop b's host key is not in known_hosts (hop a's is): hop a logs in,
# hop b is refused before any login, the message names hop b's key and
# the file (libssh2; ssh says it its own way), quick mode stops (255).
case_hop2_key_refused() {
	local engine=$1
	chain_setup no
	chain_start "$engine"
	postern_wait_exit 30
	expect_eq "exit status" 255 "$POSTERN_STATUS"
	if [[ $engine == libssh2 ]]; then
		expect_log "error: $(hopb_re): cannot connect: host key verification failed: the ssh-ed25519 key $(re_escape "$SSHD_FP") of \\[127\\.0\\.0\\.1\\]:$PB .*$(re_escape "$KNOWN").*not retrying"
		expect_eq "logins at hop a" 1 "$(count_lines "$LOG_A" 'Accepted publickey for root')"
	else
		expect_log "error: $(hopb_re): cannot connect: ssh exited with status 255: .*(Host key verification failed|host key is known for)"
	fi
	expect_eq "logins at hop b" 0 "$(count_lines "$LOG_B" 'Accepted publickey')"
	expect_eq "known_hosts untouched (hop a's line)" 1 "$(wc -l < "$KNOWN")"
}

# chain_under_load ENGINE: the chain up, with the pool running.
chain_under_load() {
	chain_start "$1" -o keepalive_interval=1s -o keepalive_count=2 \
	    -o connect_timeout=2s
	wait_ready 20
	expect_eq "PING through the chain" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	load_bg "$2"
	wait_until 10 incr_grew 10 || fail_case "the pool's INCRs do not pass"
}

# after_recovery: the pool's INCRs pass again; its error count noted.
after_recovery() {
	local before
	expect_log "info: $(hopb_re): connected again after [0-9]+\\.[0-9]{3}s" 30
	before=$(rcli "$REDIS_PORT" GET n)
	wait_until 10 incr_grew "$before" ||
	    fail_case "the pool's INCRs do not pass after the recovery"
	wait "$LOAD_PID"
	note "pool: $(cat "$T/load.out")"
	grep -Eq '^ok [0-9]+ err [0-9]+$' "$T/load.out" ||
	    fail_case "the pool client failed: $(tail -n 2 "$T/load.out" | paste -sd'|')"
}

# Hop b killed under traffic: the tunnel is lost and retried with
# back-off (hop a stays up with libssh2); hop b back on its port: up.
case_hop2_dies() {
	local engine=$1
	chain_setup
	chain_under_load "$engine" 25
	sshd_signal KILL
	wait_exit "$PID_B" 10 || fail_case "hop b survived SIGKILL"
	expect_log "warn: $(hopb_re): connection lost: .*reconnecting in " 15
	expect_log "error: $(hopb_re): cannot connect: .*retrying in " 15
	# libssh2: the reason names the hop that could not reach hop b.
	[[ $engine == libssh2 ]] &&
	    expect_log "error: $(hopb_re): cannot connect: via bastion hopa \\(root@127\\.0\\.0\\.1:$PA; hop 1 of hopb\\): bastion hopa: channel to 127\\.0\\.0\\.1:$PB: connect failed"
	start_sshd_on "$PB" 127.0.0.1 "PermitOpen 127.0.0.1:$REDIS_PORT"
	after_recovery
	[[ $engine == libssh2 ]] && expect_no_log "bastion hopa .*connection lost"
	return 0
}

# Hop b hung (SIGSTOP) under traffic: its keepalives go unanswered, the
# tunnel is lost; attempts time out in the handshake (the hung sshd's
# kernel still accepts) until SIGCONT; then up again.
case_hop2_hangs() {
	local engine=$1
	chain_setup
	chain_under_load "$engine" 25
	sshd_signal STOP
	expect_log "warn: $(hopb_re): connection lost: .*(keepalives|Timeout|timeout).*reconnecting in " 20
	sshd_signal CONT
	after_recovery
	[[ $engine == libssh2 ]] && expect_no_log "bastion hopa .*connection lost"
	return 0
}

# proxy_jump in a file (libssh2): each hop a [bastion] section, checked.
case_proxy_jump_errors() {
	local conf=$T/pj$_CASE_ID.conf out
	cat > "$conf" <<-EOF
	[bastion a]
	address = 127.0.0.1:22
	user = root
	proxy_jump = b
	[bastion c]
	address = 127.0.0.1:22
	user = root
	engine = openssh
	[bastion d]
	address = 127.0.0.1:22
	user = root
	proxy_jump = zz,c,d,a
	[service s]
	listen = 127.0.0.1:1
	route = r ssh://d/127.0.0.1:6379
	EOF
	out=$("$POSTERN" -n -c "$conf" 2>&1)
	expect_match "missing hop" "pj$_CASE_ID\\.conf:1: \\[bastion a\\]: proxy_jump: no \\[bastion b\\] section" "$out"
	expect_match "openssh hop" "conf:9: \\[bastion d\\]: proxy_jump: hop c has engine = openssh" "$out"
	expect_match "itself" "conf:9: \\[bastion d\\]: proxy_jump: a bastion cannot be its own hop" "$out"
	expect_match "nested" "conf:9: \\[bastion d\\]: proxy_jump: hop a has a proxy_jump of its own" "$out"
}

run_case "proxy_jump (libssh2): hops are [bastion] sections, checked" case_proxy_jump_errors
for engine in libssh2 openssh; do
	run_case "-J a,b ($engine): the target only through both hops" case_chain "$engine"
	run_case "ProxyJump line ($engine): the same chain from -J hopb" case_proxyjump_line "$engine"
	run_case "-J a,b ($engine): hop b's host key unknown: refused, named" case_hop2_key_refused "$engine"
	run_case "-J a,b ($engine): hop b killed under traffic: back" case_hop2_dies "$engine"
	run_case "-J a,b ($engine): hop b hung under traffic: back" case_hop2_hangs "$engine"
done
finish
