#!/bin/bash
# The OpenSSH engine (engine = openssh): postern runs ssh(1) as a
# ControlMaster per bastion and opens every channel through its control
# socket (PROTOCOL.mux, MUX_C_NEW_STDIO_FWD).  Real sshd, redis-server and
# PostgreSQL; ssh's own configuration (ssh_config = FILE, ssh -F) brings
# ProxyJump chains, Include and Match.  Proves traffic, host key refusal
# with ssh's message surfaced, a bastion that dies and one that hangs
# under traffic (the master restarted with back-off, the route down and
# back), and that no ssh process outlives postern.
. "$(dirname "$0")/../lib.sh"

FAST=(check_interval=500ms check_fast_interval=100ms check_down_interval=200ms
	check_timeout=500ms fall=2 rise=2)

# ssh_cfg [LINE...]: an ssh configuration file $T/ssh_config.N (so that
# root's ~/.ssh/config never leaks into a case); prints its path.
ssh_cfg() {
	local f=$T/ssh_config.$_CASE_ID.$RANDOM
	printf '%s\n' "$@" > "$f"
	printf '%s\n' "$f"
}

# postern_via PROTO TARGET_PORT [KEY=VALUE...]: postern with service PROTO
# through bastion b (engine = openssh, keys also from BASTION_OPTS);
# sets LISTEN_PORT, CONF.
BASTION_OPTS=() GLOBAL_OPTS=()
postern_via() {
	local proto=$1 tport=$2 cfg
	shift 2
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/case$_CASE_ID.conf
	cfg=$(ssh_cfg)
	{
		conf_global "${GLOBAL_OPTS[@]}"
		conf_bastion b engine=openssh ssh_config="$cfg" "${BASTION_OPTS[@]}"
		conf_service "$proto" "127.0.0.1:$LISTEN_PORT" "$proto" \
		    "via ssh://b/127.0.0.1:$tport" -- "$@"
	} > "$CONF"
	start_postern "$CONF"
}

# mconnected_re NAME: bastion NAME's first "connected" line (OpenSSH).
mconnected_re() {
	printf 'info: bastion %s \\(root@127\\.0\\.0\\.1:%s\\): connected in [0-9]+ ms \\(OpenSSH ControlMaster pid [0-9]+\\)$' \
	    "$1" "$SSHD_PORT"
}

# ssh_children: ssh processes whose parent is postern.
ssh_children() {
	pgrep -P "$POSTERN_PID" -x ssh | wc -l
}

# master_dirs: the postern private directories its ssh masters run
# with (-S DIR/...), read while postern runs; masters_left DIRS: ssh
# processes still running with -S in one of them after it exited (any
# parent).  By directory, not machine-wide: another postern on the
# machine has masters of its own.
master_dirs() {
	local p
	for p in $(pgrep -P "$POSTERN_PID" -x ssh); do
		tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null |
		    grep -A1 -x -- -S | tail -n 1 | xargs -r dirname
	done | sort -u
}
masters_left() {
	local d n=0
	for d in "$@"; do
		n=$((n + $(pgrep -f -- "-S $d/" | wc -l)))
	done
	echo "$n"
}

# session_command with the OpenSSH engine: the master runs it as a mux
# session (sshd and the master then turn Nagle off), its output is
# logged, its end and a refused session are logged and leave the
# bastion up, and cat (the documented command) ends with the master:
# no process is left on the bastion.  label: the bastion's log prefix.
case_session_command() {
	local label pid cmd='echo postern-cmd-says-hi; exec cat'
	start_redis
	start_sshd
	label="bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\)"
	BASTION_OPTS=(session_command="$cmd")
	postern_via redis "$REDIS_PORT"
	expect_log "$(mconnected_re b)"
	expect_log "info: $label: session_command '$(re_escape "$cmd")' running$"
	expect_log "info: $label: session_command says: postern-cmd-says-hi$"
	wait_until 10 sshd_child_pid cat || fail_case "no 'cat' under sshd"
	pid=$(sshd_child_pid cat)
	expect_eq "PING with the session running" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "one ssh master" 1 "$(ssh_children)"
	stop_postern
	wait_exit "$pid" 10 || fail_case "the session's cat (pid $pid) outlived the master"
	# A command that ends: its last words, its status; the bastion stays.
	BASTION_OPTS=(session_command='echo bye; exit 3')
	postern_via redis "$REDIS_PORT"
	expect_log "info: $label: session_command says: bye$"
	expect_log "warn: $label: session_command 'echo bye; exit 3' ended \\(exit status 3\\)$"
	expect_eq "PING after the command ended" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_no_log 'notice: redis/via: up -> down'
	stop_postern
	# A bastion that allows no session: refused, said, forwarding goes on.
	start_sshd 'MaxSessions 0'
	label="bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\)"
	BASTION_OPTS=(session_command=cat)
	postern_via redis "$REDIS_PORT"
	expect_log "warn: $label: session_command 'cat': the ssh master refused the session: .* \\(Nagle stays on at the bastion\\)$"
	expect_eq "PING with the session refused" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

# ---------------------------------------------------------------------
# Traffic

case_redis() {
	start_redis
	start_sshd
	postern_via redis "$REDIS_PORT"
	expect_log "$(mconnected_re b)"
	expect_log 'notice: redis/via: (up \(check ok\)|down -> up)'
	expect_eq "PING through the master" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "SET through the master" OK "$(rcli "$LISTEN_PORT" SET k v 2>&1)"
	expect_eq "GET directly" v "$(rcli "$REDIS_PORT" GET k 2>&1)"
	expect_eq "one ssh master" 1 "$(ssh_children)"
	expect_eq "SSH connections to sshd" 1 "$(sshd_connections)"
	local dirs
	mapfile -t dirs < <(master_dirs)
	expect_eq "the master's private directory" 1 "${#dirs[@]}"
	expect_eq "the master found by its directory" 1 "$(masters_left "${dirs[@]}")"
	stop_postern
	expect_eq "no ssh process left after postern exits" 0 "$(masters_left "${dirs[@]}")"
}

# /health names the bastion's host key with the OpenSSH engine too (from
# the master's VisualHostKey line, whose randomart box is no error line).
case_health_hostkey() {
	local admin h
	start_redis
	start_sshd
	admin=$(free_port) || fail_case "no free port"
	GLOBAL_OPTS=(admin="127.0.0.1:$admin")
	postern_via redis "$REDIS_PORT"
	expect_log "$(mconnected_re b)"
	expect_log 'notice: redis/via: (up \(check ok\)|down -> up)'
	h=$(curl -sf "http://127.0.0.1:$admin/health") || fail_case "GET /health failed"
	expect_eq "/health bastion up" true "$(jq -r '.bastions.b.up' <<< "$h")"
	expect_eq "/health host key" "$SSHD_FP" "$(jq -r '.bastions.b.host_key' <<< "$h")"
	sshd_signal KILL
	wait_exit "$SSHD_PID" 10 || fail_case "sshd survived SIGKILL"
	expect_log "connection lost: ssh exited with status 255: " 20
	expect_no_log "connection lost: ssh exited with status 255: [+|]"
}

case_postgres() {
	local out
	command -v psql > /dev/null || skip_case "no psql"
	start_postgres
	start_sshd
	postern_via postgres "$PG_PORT"
	expect_log "$(mconnected_re b)"
	expect_log 'notice: postgres/via: (up \(check ok\)|down -> up)'
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -tAc 'select 6 * 7' 2>&1)
	expect_eq "psql through the master" 42 "$out"
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -tAc \
	    "select count(*) from generate_series(1, 100000)" 2>&1)
	expect_eq "psql count through the master" 100000 "$out"
}

# 100 sessions opened at once: opens pipeline through the control socket
# (ARGS: PROTO, then the bastion's keys).  mux_forward = proxy: all
# through the proxy connections; client with PROTO tcp: all handed to
# the master, none relayed.
case_burst() {
	local proto=$1
	shift
	start_redis
	start_sshd
	BASTION_OPTS=("$@")
	GLOBAL_OPTS=(log_level=debug)
	postern_via "$proto" "$REDIS_PORT" check=none
	expect_log "$(mconnected_re b)"
	/usr/bin/python3 - "$LISTEN_PORT" <<'PY' || fail_case "burst failed"
import socket, sys, concurrent.futures as cf
port = int(sys.argv[1])
def one(i):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b"PING\r\n")
    r = s.recv(16)
    s.close()
    return r
with cf.ThreadPoolExecutor(100) as ex:
    res = list(ex.map(one, range(100)))
bad = [r for r in res if r != b"+PONG\r\n"]
if bad:
    print("bad replies:", bad[:3]); sys.exit(1)
PY
	expect_eq "SSH connections to sshd" 1 "$(sshd_connections)"
	local proxied
	proxied=$(count_lines "$POSTERN_LOG" "via root@127\\.0\\.0\\.1:$SSHD_PORT \\(OpenSSH mux proxy\\)\\)$")
	case " $* " in
	*" mux_forward=proxy "*)
		expect_eq "sessions through the proxy connections" 100 "$proxied" ;;
	*" mux_forward=client "*)
		expect_eq "sessions handed to the master" 100 "$(handed)"
		expect_eq "sessions through the proxy connections" 0 "$proxied" ;;
	*)
		expect_eq "sessions through the proxy connections" 0 "$proxied" ;;
	esac
}

# ---------------------------------------------------------------------
# Host keys

case_hostkey_unknown() {
	local kh out
	start_redis
	start_sshd
	kh=$T/empty_known_hosts
	: > "$kh"
	BASTION_OPTS=(known_hosts="$kh")
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)ssh exited with status 255: Host key verification failed\\.; retrying in "
	# The checks may time out before a loaded machine's ssh says why.
	expect_log "warn: redis/via: unknown -> down \\(2 failed checks; last: (ssh: bastion b|connect timeout after )"
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	# Between attempts (back-off) or while ssh starts again (its dial
	# waits, then times out): the reason either way.
	expect_match "client's error" "^ERR postern: no healthy route for service redis \\(via: (ssh: bastion b: |connect timeout after [0-9]+ ms \\(bastion b: ssh master not connected yet; (last attempt|ssh): ).*(Host key verification failed|host key is known for)" "$out"
	expect_eq "known_hosts untouched" 0 "$(wc -c < "$kh")"
	expect_eq "logins at sshd" 0 "$(count_lines "$SSHD_LOG" 'Accepted publickey')"
}

# Quick mode on a terminal (strict_host_key_checking = ask, its default
# there): an unknown key is ssh's own question on the terminal, as with
# ssh -J.  "yes": ssh records the key and the tunnel comes up.
case_tty_ask_yes() {
	local kh=$T/tty$_CASE_ID-known_hosts
	start_redis
	start_sshd
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	pty_postern yes -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J root@127.0.0.1 \
	    -o engine=openssh -F /dev/null -p "$SSHD_PORT" -i "$USER_KEY" -o "known_hosts=$kh"
	wait_log "$PTY_OUT" '^forwarding ' 20 ||
	    fail_case "no forwarding line on the terminal: $(tr '\r\n' '||' < "$PTY_OUT")"
	grep -q "The authenticity of host '\[127\.0\.0\.1\]:$SSHD_PORT .*' can't be established\." "$PTY_OUT" ||
	    fail_case "no question: $(tr '\r\n' '||' < "$PTY_OUT")"
	grep -qF "ED25519 key fingerprint is $SSHD_FP." "$PTY_OUT" ||
	    fail_case "the question shows no fingerprint $SSHD_FP"
	grep -qF "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")" "$kh" ||
	    fail_case "known_hosts after yes: $(cat "$kh" 2>/dev/null)"
	expect_eq "PING through the tunnel" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	kill -TERM "$PTY_PID"
	wait_exit "$PTY_PID" 15 || fail_case "postern on the pty did not stop on SIGTERM"
	wait "$PTY_PID"
	expect_eq "exit status" 0 "$?"
	check_sanitizers "$PTY_OUT"
}

# "no": nothing recorded, ssh's reason, postern exits 255 (ssh's status).
case_tty_ask_no() {
	local kh=$T/tty$_CASE_ID-known_hosts
	start_sshd
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	pty_postern no -L "$LISTEN_PORT:127.0.0.1:9" -J root@127.0.0.1 \
	    -o engine=openssh -F /dev/null -p "$SSHD_PORT" -i "$USER_KEY" -o "known_hosts=$kh"
	wait_exit "$PTY_PID" 20 || fail_case "postern still running after 'no': $(tr '\r\n' '||' < "$PTY_OUT")"
	wait "$PTY_PID"
	expect_eq "exit status after no" 255 "$?"
	[[ -s $kh ]] && fail_case "known_hosts written after no: $(cat "$kh")"
	grep -q "(yes/no/\[fingerprint\])? " "$PTY_OUT" || fail_case "no question: $(tr '\r\n' '||' < "$PTY_OUT")"
	grep -q "Host key verification failed\.; not retrying" "$PTY_OUT" ||
	    fail_case "no refusal line: $(tr '\r\n' '||' < "$PTY_OUT")"
	expect_eq "logins at sshd" 0 "$(count_lines "$SSHD_LOG" 'Accepted publickey')"
	check_sanitizers "$PTY_OUT"
}

# ---------------------------------------------------------------------
# Supervision under traffic

# load_bg SECONDS: redis-py pool at default settings hammering postern in
# the background; writes ok/err counts to $T/load.out at the end.
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
	(($(rcli "$REDIS_PORT" GET n) > $1))
}

# sshd killed under traffic: the master exits, postern says why, the
# route goes down, the master is started again with back-off once sshd
# is back, the route comes up and the pool's commands pass again.
# With PROTO tcp and mux_forward = client (the second form), the pool's
# sessions are handed to the master: they end with it, and the pool's
# new connections are handed to the next master.
case_dies() {
	local before proto=${1:-redis}
	start_redis
	start_sshd
	BASTION_OPTS=("${@:2}")
	GLOBAL_OPTS=(log_level=debug)
	postern_via "$proto" "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(mconnected_re b)"
	expect_log "notice: $proto/via: (up \\(check ok\\)|down -> up)"
	load_bg 25		# past the recovery on a loaded machine
	wait_until 10 incr_grew 0 || fail_case "the pool's INCRs do not pass"
	sshd_signal KILL
	wait_exit "$SSHD_PID" 10 || fail_case "sshd survived SIGKILL"
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connection lost: ssh exited with status 255: .*reconnecting in "
	expect_log "warn: $proto/via: up -> down"
	expect_log "$(cannot_re b)ssh exited with status 255: .*; retrying in "
	start_sshd_on "$SSHD_PORT" 127.0.0.1
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected again after [0-9]+\\.[0-9]{3}s \\(OpenSSH\\)$" 30
	expect_log "notice: $proto/via: down -> up"
	before=$(rcli "$REDIS_PORT" GET n)
	wait_until 10 incr_grew "$before" ||
	    fail_case "the pool's INCRs do not pass after the recovery"
	wait "$LOAD_PID"
	note "pool under the loss: $(cat "$T/load.out")"
	expect_eq "one ssh master" 1 "$(ssh_children)"
	if [[ " ${*:2} " == *" mux_forward=client "* ]]; then
		expect_log " $proto 127\\.0\\.0\\.1:[0-9]+ -> via .*handed to the master"
		(($(grep -c 'handed to the master' "$POSTERN_LOG") >= 2)) ||
		    fail_case "the pool's sessions were not handed to both masters"
		expect_no_log "connected in [0-9]+ ms \\(via root@127\\.0\\.0\\.1:$SSHD_PORT \\(OpenSSH\\)\\)$"
	fi
}

# A hung bastion (SIGSTOP on sshd and its connection processes) under
# traffic: the master's ServerAlive counter ends it, postern restarts it
# with back-off; after SIGCONT the route comes back.
case_hangs() {
	start_redis
	start_sshd
	BASTION_OPTS=(keepalive_interval=1s keepalive_count=2 connect_timeout=2s "$@")
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(mconnected_re b)"
	expect_log 'notice: redis/via: (up \(check ok\)|down -> up)'
	load_bg 20
	sshd_signal STOP
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connection lost: ssh exited with status 255: .*(Timeout|timeout).*reconnecting in " 20
	expect_log 'warn: redis/via: up -> down'
	sshd_signal CONT
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected again after " 30
	expect_log 'notice: redis/via: down -> up' 15
	wait "$LOAD_PID"
	note "pool under the hang: $(cat "$T/load.out")"
}

# ---------------------------------------------------------------------
# mux_forward = client: the client's own socket handed to the master

# handed: sessions whose socket went to the master whole.
handed() {
	count_lines "$POSTERN_LOG" "connected in [0-9]+ ms \\(via root@127\\.0\\.0\\.1:$SSHD_PORT \\(OpenSSH, the client's socket handed to the master\\)\\)"
}

# channel_clients: Redis clients other than this one (the bastion's
# direct-tcpip connections and redis-cli's own do not both count: the
# CLIENT LIST is asked over a direct connection, which is one of them).
channel_clients() {
	rcli "$REDIS_PORT" CLIENT LIST | grep -vc "cmd=client"
}

# A protocol = tcp service through a master that takes the client's
# socket: the bytes never pass through postern, yet the audit line has
# them exactly (the kernel's TCP_INFO counts of the client's socket:
# redis-cli's PING is 14 bytes, +PONG 7), the end says who closed, a
# redis-py pool moves 256 KiB values right, a server that drops its
# client ends the session ("server closed", the client gets EOF), and
# idle_timeout still cuts a handed session (the client gets EOF, the
# channel is gone at the server).  No session is ever relayed.
case_mux_client() {
	local fd line
	start_redis
	start_sshd "PermitOpen 127.0.0.1:$REDIS_PORT"
	BASTION_OPTS=(mux_forward=client)
	GLOBAL_OPTS=(log_level=debug audit=log)
	postern_via tcp "$REDIS_PORT" check=none idle_timeout=3s
	expect_log "$(mconnected_re b)"
	expect_eq "PING" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "the session handed to the master" 1 "$(handed)"
	expect_log "info: audit: s[0-9]+ uid=0 user=root service=tcp route=via bastion=b client=127\\.0\\.0\\.1:[0-9]+ start=20[0-9-]{8}T[0-9:.]{12}Z duration=[0-9]+\\.[0-9]{3}s up=14 down=7 refused=0 end=\"client closed\"$"
	expect_eq "redis-py pool, 256 KiB values" ok "$(pool_run 8 200)"
	(($(handed) >= 4)) || fail_case "the pool's sessions were not handed ($(handed))"
	expect_eq "sessions relayed by postern" 0 \
	    "$(count_lines "$POSTERN_LOG" "via root@127\\.0\\.0\\.1:$SSHD_PORT \\(OpenSSH\\)\\)$")"
	# The server drops the client.
	exec {fd}<> "/dev/tcp/127.0.0.1/$LISTEN_PORT" || fail_case "cannot connect"
	printf 'PING\r\n' >&"$fd"
	read -r -t 10 line <&"$fd" || fail_case "no answer"
	expect_eq "PING on a held session" "+PONG" "${line%$'\r'}"
	rcli "$REDIS_PORT" CLIENT KILL TYPE normal > /dev/null
	read -r -t 10 line <&"$fd"
	(($? == 1)) || fail_case "the client got no EOF after the server dropped it"
	exec {fd}>&-
	expect_log "closed \\(server closed\\) after [0-9.]+s, 6 bytes up, 7 bytes down$"
	# idle_timeout cuts one.
	exec {fd}<> "/dev/tcp/127.0.0.1/$LISTEN_PORT" || fail_case "cannot connect"
	printf 'PING\r\n' >&"$fd"
	read -r -t 10 line <&"$fd" || fail_case "no answer"
	read -r -t 15 line <&"$fd"
	(($? == 1)) || fail_case "the client got no EOF at idle_timeout"
	exec {fd}>&-
	expect_log "closed \\(idle: no byte either way for 3\\.000s \\(idle_timeout\\)\\) after [0-9.]+s, 6 bytes up, 7 bytes down$"
	wait_until 10 eval '(($(channel_clients) == 0))' ||
	    fail_case "the channel outlived its session: $(rcli "$REDIS_PORT" CLIENT LIST)"
	expect_eq "one ssh master" 1 "$(ssh_children)"
}

# Sessions that need their bytes (protocol = redis) still go through
# postern on a mux_forward = client bastion, by stdio forwards.
case_mux_client_protocol() {
	start_redis
	start_sshd
	BASTION_OPTS=(mux_forward=client)
	GLOBAL_OPTS=(log_level=debug)
	postern_via redis "$REDIS_PORT" check=none
	expect_log "$(mconnected_re b)"
	expect_eq "PING" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "handed sessions" 0 "$(handed)"
	expect_eq "stdio forwards" 1 \
	    "$(count_lines "$POSTERN_LOG" "via root@127\\.0\\.0\\.1:$SSHD_PORT \\(OpenSSH\\)\\)$")"
}

# ---------------------------------------------------------------------
# Developer mode: ssh's configuration, as ssh -J would use it

# fwd_start ARGS...: quick mode (-L to Redis) with ARGS; sets LISTEN_PORT.
fwd_start() {
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	start_postern_args -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" "$@"
	wait_ready 10
}

# -J a,b: ssh makes the chain (two sshd); hop a forwards to hop b, each
# with its own host key check and login.
case_chain() {
	local pa pb known_a log_a log_b cfg
	start_redis
	SSHD_LOG_LEVEL=DEBUG1 start_sshd
	pa=$SSHD_PORT known_a=$SSHD_KNOWN log_a=$SSHD_LOG
	start_sshd
	pb=$SSHD_PORT log_b=$SSHD_LOG
	cat "$known_a" >> "$SSHD_KNOWN"
	cfg=$(ssh_cfg "Host hopa" "  HostName 127.0.0.1" "  Port $pa" \
	    "Host hopb" "  HostName 127.0.0.1" "  Port $pb" \
	    "Host *" "  User root" "  IdentityFile $USER_KEY" \
	    "  UserKnownHostsFile $SSHD_KNOWN")
	fwd_start -J hopa,hopb -F "$cfg"
	expect_log "info: forwarding 127\\.0\\.0\\.1:$LISTEN_PORT -> 127\\.0\\.0\\.1:$REDIS_PORT via hopa,hopb \\(OpenSSH\\)$"
	expect_eq "PING through hopa,hopb" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "logins at hop a" 1 "$(count_lines "$log_a" 'Accepted publickey for root')"
	expect_eq "logins at hop b" 1 "$(count_lines "$log_b" 'Accepted publickey for root')"
	grep -Eq "direct-tcpip.*(127\\.0\\.0\\.1|hopb) port $pb|target 127\\.0\\.0\\.1 port $pb" "$log_a" ||
	    fail_case "hop a forwarded nothing to hop b's port $pb"
}

# -J a,b with hop a's host key unknown: hop a's ssh -W says "Host key
# verification failed." on the stderr it shares with the master, and the
# master's own last line ("Connection closed by UNKNOWN port 65535")
# follows it: the hop's line is the reason, and quick mode stops (255).
case_chain_hop_unknown() {
	local pa pb cfg
	start_redis
	start_sshd
	pa=$SSHD_PORT
	start_sshd
	pb=$SSHD_PORT			# $SSHD_KNOWN: hop b's key only
	cfg=$(ssh_cfg "Host hopa" "  HostName 127.0.0.1" "  Port $pa" \
	    "Host hopb" "  HostName 127.0.0.1" "  Port $pb" \
	    "Host *" "  User root" "  IdentityFile $USER_KEY" \
	    "  UserKnownHostsFile $SSHD_KNOWN")
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	start_postern_args -L "$LISTEN_PORT:127.0.0.1:$REDIS_PORT" -J hopa,hopb -F "$cfg"
	postern_wait_exit 30
	expect_eq "exit status" 255 "$POSTERN_STATUS"
	expect_log "error: bastion hopb \\(hopa,hopb\\): cannot connect: ssh exited with status 255: Host key verification failed\\.; not retrying"
	expect_eq "logins at sshd" 0 "$(count_lines "$SSHD_LOG" 'Accepted publickey')"
}

# -J user@host -p PORT -i KEY -o known_hosts=FILE, no ssh config: the
# command line alone reaches the bastion (as packaging/demo.sh does).
case_jump_cli() {
	start_redis
	start_sshd
	fwd_start -J root@127.0.0.1 -p "$SSHD_PORT" -i "$USER_KEY" \
	    -o "known_hosts=$SSHD_KNOWN" -F /dev/null -v
	expect_log "info: forwarding 127\\.0\\.0\\.1:$LISTEN_PORT -> 127\\.0\\.0\\.1:$REDIS_PORT via root@127\\.0\\.0\\.1:$SSHD_PORT \\(OpenSSH\\)$"
	expect_eq "PING through -J user@host -p -i" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	# Quick mode's plain forward: the socket goes to the master whole.
	expect_eq "sessions handed to the master" 1 "$(handed)"
}

# -F FILE with an Include'd file holding a Match block: ssh applies both.
case_include_match() {
	local inc cfg
	start_redis
	start_sshd
	inc=$T/inc$_CASE_ID.conf
	printf '%s\n' "Match originalhost prod-db-bastion" "  HostName 127.0.0.1" \
	    "  Port $SSHD_PORT" "  User root" "  IdentityFile $USER_KEY" \
	    "  UserKnownHostsFile $SSHD_KNOWN" > "$inc"
	cfg=$(ssh_cfg "Include $inc" "Host *" "  User nobody")
	fwd_start -J prod-db-bastion -F "$cfg"
	expect_eq "PING through the Match'd alias" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "logins at sshd as root (Match won)" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root')"
	expect_eq "one ssh master" 1 "$(ssh_children)"
}

# ---------------------------------------------------------------------
# Certificates: ssh checks them

# host_cert CA: sign the sshd host key (principal 127.0.0.1) with CA;
# prints the sshd_config line.
host_cert() {
	ssh-keygen -q -s "$T/keys/$1" -h -I host -n 127.0.0.1 "$SSHD_DIR/host_ed25519.pub" ||
	    fail_case "ssh-keygen -s (host) failed"
}

case_host_cert() {
	local kh out
	start_redis
	make_key ca1 ed25519
	make_key ca2 ed25519
	start_sshd
	kh=$T/ca$_CASE_ID-known_hosts
	printf '@cert-authority * %s\n' "$(cut -d' ' -f1,2 "$T/keys/ca1.pub")" > "$kh"
	# Signed by ca1, trusted: accepted.
	host_cert ca1
	kill "$SSHD_PID"; wait_exit "$SSHD_PID" 10 || fail_case "sshd did not stop"
	start_sshd_on "$SSHD_PORT" 127.0.0.1 "HostCertificate $SSHD_DIR/host_ed25519-cert.pub"
	BASTION_OPTS=(known_hosts="$kh")
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(mconnected_re b)"
	expect_eq "PING via a certified host" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	stop_postern
	# Signed by ca2, not trusted: refused, ssh's reason surfaced.
	host_cert ca2
	kill "$SSHD_PID"; wait_exit "$SSHD_PID" 10 || fail_case "sshd did not stop"
	start_sshd_on "$SSHD_PORT" 127.0.0.1 "HostCertificate $SSHD_DIR/host_ed25519-cert.pub"
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(cannot_re b)ssh exited with status 255: Host key verification failed\\.; retrying in "
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_match "client's error" "Host key verification failed" "$out"
	expect_eq "known_hosts untouched" 1 "$(wc -l < "$kh")"
}

# A user certificate (the key itself is not in authorized_keys).
case_user_cert() {
	start_redis
	make_key uca ed25519
	make_key ucert ed25519
	ssh-keygen -q -s "$T/keys/uca" -I dev -n root "$T/keys/ucert.pub" ||
	    fail_case "ssh-keygen -s (user) failed"
	start_sshd "TrustedUserCAKeys $T/keys/uca.pub"
	BASTION_OPTS=(identity="$T/keys/ucert")
	postern_via redis "$REDIS_PORT"
	expect_log "$(mconnected_re b)"
	expect_eq "PING with a user certificate" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "certificate logins" 1 "$(count_lines "$SSHD_LOG" 'Accepted publickey for root .*CERT')"
}

# control_path: postern attaches to the user's own ControlMaster, opens
# through it, leaves it running at exit; a master that goes away is
# found by the alive check.
case_control_path() {
	local sock=$T/cm$_CASE_ID.sock mpid
	start_redis
	start_sshd
	ssh -M -N -S "$sock" -o ControlPersist=no -o BatchMode=yes \
	    -o "UserKnownHostsFile=$SSHD_KNOWN" -i "$USER_KEY" -p "$SSHD_PORT" \
	    -F /dev/null root@127.0.0.1 > "$T/cm.log" 2>&1 &
	mpid=$!
	track_server "$mpid"
	wait_until 10 test -S "$sock" || fail_case "the user's master made no socket: $(cat "$T/cm.log")"
	BASTION_OPTS=(control_path="$sock" keepalive_interval=300ms keepalive_count=2)
	postern_via redis "$REDIS_PORT" check=none
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected in [0-9]+ ms \\(OpenSSH ControlMaster at $(re_escape "$sock")\\)$"
	expect_eq "PING through the user's master" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "no master of postern's own" 0 "$(ssh_children)"
	kill "$mpid"
	# The next alive check finds no socket, or the one in flight when the
	# master died reads its end: either names the control connection.
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connection lost: ssh master: (control socket: |the ssh master closed the control|Connection reset by peer)" 20
}

# A channel the bastion refuses (PermitOpen): the open fails with the
# master's reason (mux_forward = proxy: the server's own, with RFC 4254's
# name for its code); the master stays up.  ARGS: the bastion's keys.
case_open_refused() {
	start_redis
	start_sshd "PermitOpen 127.0.0.1:1"
	BASTION_OPTS=("$@")
	postern_via redis "$REDIS_PORT" check=none
	expect_log "$(mconnected_re b)"
	rcli "$LISTEN_PORT" PING > "$T/ping.out" 2>&1
	if [[ " $* " == *" mux_forward=proxy "* ]]; then
		expect_log "bastion b: channel open failed: administratively prohibited: open failed$" 10
		expect_eq "the client's error" "ERR postern: no healthy route for service redis (via: bastion b: channel open failed: administratively prohibited: open failed)" "$(cat "$T/ping.out")"
	fi
	expect_log "bastion b: channel open failed: " 10
	expect_no_log "connection lost"
	expect_eq "one ssh master" 1 "$(ssh_children)"
}

# ---------------------------------------------------------------------
# mux_forward = listener

# listens_re PORT: the debug line saying the master listens for Redis at
# PORT on a socket in postern's private directory (its path: group 1).
listens_re() {
	printf 'debug: bastion b \\(root@127\\.0\\.0\\.1:%s\\): the master listens for 127\\.0\\.0\\.1:%s at (/[^ ]*/postern-ssh\\.[A-Za-z0-9]+/f0)$' \
	    "$SSHD_PORT" "$1"
}

# listener_path N: the socket path of the Nth "the master listens" line.
listener_path() {
	grep -E -- "$(listens_re "$REDIS_PORT")" "$POSTERN_LOG" |
	    sed -n "${1}s/.* at //p"
}

# through_listener: sessions that went through the master's listener.
through_listener() {
	count_lines "$POSTERN_LOG" "a session to 127\\.0\\.0\\.1:$REDIS_PORT through the master's listener"
}

# pool_run THREADS N: a redis-py ConnectionPool at its default settings,
# THREADS threads sharing it, each N INCRs and a 256 KiB SET/GET of its
# own; prints "ok" when every reply was right (else what went wrong).
pool_run() {
	/usr/bin/python3 - "$LISTEN_PORT" "$1" "$2" <<'PY'
import os, redis, sys, threading
port, threads, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pool = redis.ConnectionPool(host="127.0.0.1", port=port)
r = redis.Redis(connection_pool=pool)
errs = []
start = threading.Barrier(threads)
def one(i):
    try:
        start.wait()
        val = os.urandom(256 * 1024)
        for _ in range(n):
            r.incr("pool")
        r.set("big%d" % i, val)
        if r.get("big%d" % i) != val:
            errs.append("value %d differs" % i)
    except Exception as e:
        errs.append(repr(e))
ts = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
got = int(r.get("pool"))
if got != threads * n:
    errs.append("INCR count %d, want %d" % (got, threads * n))
print("ok" if not errs else "; ".join(errs[:3]))
PY
}

# Once ready, the master is asked for a listener per target of the
# bastion's routes, a unix socket in postern's private 0700 directory,
# before any session; sessions (one, then a redis-py pool of 8 threads)
# connect there and relay every reply right.  The bastion permits only
# Redis (PermitOpen), so they did reach it through the SSH connection.
# The directory is gone at exit.
case_mux_listener() {
	local path dir
	start_redis
	start_sshd "PermitOpen 127.0.0.1:$REDIS_PORT"
	BASTION_OPTS=(mux_forward=listener)
	GLOBAL_OPTS=(log_level=debug)
	postern_via redis "$REDIS_PORT" check=none
	expect_log "$(mconnected_re b)"
	expect_log "$(listens_re "$REDIS_PORT")"
	path=$(listener_path 1) dir=${path%/*}
	[[ -S $path ]] || fail_case "no socket at $path"
	expect_eq "the private directory's mode" "700 root" "$(stat -c '%a %U' "$dir")"
	expect_eq "PING through the listener" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "the first session through the listener" 1 "$(through_listener)"
	expect_eq "redis-py pool through the listener" ok "$(pool_run 8 200)"
	(($(through_listener) >= 3)) ||
	    fail_case "the pool's sessions did not go through the listener ($(through_listener))"
	expect_eq "stdio forwards" 0 \
	    "$(count_lines "$POSTERN_LOG" "via root@127\\.0\\.0\\.1:$SSHD_PORT \\(OpenSSH\\)\\)$")"
	expect_eq "one ssh master" 1 "$(ssh_children)"
	expect_eq "the master found by its directory" 1 "$(masters_left "$dir")"
	expect_eq "SSH connections to sshd" 1 "$(sshd_connections)"
	stop_postern
	expect_eq "no ssh process left after postern exits" 0 "$(masters_left "$dir")"
	[[ -e $dir ]] && fail_case "$dir left after exit: $(ls -la "$dir")"
	return 0
}

# PostgreSQL through the listener: the client speaks first (postern
# reads the startup packet before it dials), and a result of 100000
# rows comes back whole.
case_mux_listener_pg() {
	local out
	command -v psql > /dev/null || skip_case "no psql"
	start_postgres
	start_sshd
	BASTION_OPTS=(mux_forward=listener)
	GLOBAL_OPTS=(log_level=debug)
	postern_via postgres "$PG_PORT" check=none
	expect_log "$(mconnected_re b)"
	expect_log "the master listens for 127\\.0\\.0\\.1:$PG_PORT at "
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -tAc 'select 6 * 7' 2>&1)
	expect_eq "psql through the listener" 42 "$out"
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -tAc \
	    "select count(*) from generate_series(1, 100000)" 2>&1)
	expect_eq "psql count through the listener" 100000 "$out"
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -tAc \
	    "select sum(length(repeat('x', g))) from generate_series(1, 2000) g" 2>&1)
	expect_eq "psql through the listener again" 2001000 "$out"
	expect_eq "sessions through the listener" 3 \
	    "$(count_lines "$POSTERN_LOG" "a session to 127\\.0\\.0\\.1:$PG_PORT through the master's listener")"
}

# A reload that adds a route to a new target through the same bastion
# keeps the master and asks it for the new target's listener at once;
# the new service's sessions go through it.
case_mux_listener_reload() {
	local r1 port2
	start_redis
	r1=$REDIS_PORT
	start_redis
	start_sshd
	BASTION_OPTS=(mux_forward=listener)
	GLOBAL_OPTS=(log_level=debug)
	postern_via redis "$r1" check=none
	expect_log "$(mconnected_re b)"
	expect_log "the master listens for 127\\.0\\.0\\.1:$r1 at /[^ ]*/f0$"
	port2=$(free_port) || fail_case "no free port"
	conf_service redis2 "127.0.0.1:$port2" redis \
	    "via ssh://b/127.0.0.1:$REDIS_PORT" -- check=none >> "$CONF"
	kill -HUP "$POSTERN_PID"
	expect_log 'info: reload: configuration generation 2 loaded$'
	expect_log "the master listens for 127\\.0\\.0\\.1:$REDIS_PORT at /[^ ]*/f1$"
	expect_eq "PING on the new service" PONG "$(rcli "$port2" PING 2>&1)"
	expect_eq "its session through the listener" 1 \
	    "$(count_lines "$POSTERN_LOG" "a session to 127\\.0\\.0\\.1:$REDIS_PORT through the master's listener")"
	expect_eq "the same ssh master" 1 "$(ssh_children)"
	expect_no_log "section changed"
}

# The trade-off of mux_forward = listener: an open the bastion refuses
# through the listener only closes the session (no dial error, no next
# route): the master's line says why, as a warning.
case_mux_listener_refused() {
	local out
	start_redis
	start_sshd "PermitOpen 127.0.0.1:1"
	BASTION_OPTS=(mux_forward=listener)
	GLOBAL_OPTS=(log_level=debug)
	postern_via redis "$REDIS_PORT" check=none
	expect_log "$(mconnected_re b)"
	expect_log "$(listens_re "$REDIS_PORT")"
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	[[ $out != PONG ]] || fail_case "a refused open answered PONG"
	expect_log "a session to 127\\.0\\.0\\.1:$REDIS_PORT through the master's listener"
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): ssh: channel [0-9]+: open failed: administratively prohibited: open failed \\(a session through the master's listener is closed\\)$"
	expect_log "info: s1 redis [0-9.:]+ -> via 127\\.0\\.0\\.1:$REDIS_PORT: closed \\(server (error|closed)[^)]*\\) after [0-9.]+s, [0-9]+ bytes up, 0 bytes down$"
	expect_no_log "connection lost"
	expect_eq "one ssh master" 1 "$(ssh_children)"
}

# Health checks of a target the bastion refuses (stdio forwards): each
# refusal is the check's error with the master's reason; the master's
# "open failed" lines stay at debug, not one warning per check.
case_mux_listener_refused_checks() {
	start_redis
	start_sshd "PermitOpen 127.0.0.1:1"
	BASTION_OPTS=(mux_forward=listener)
	GLOBAL_OPTS=(log_level=debug)
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(mconnected_re b)"
	expect_log "warn: redis/via: unknown -> down \\(2 failed checks; last: ssh: bastion b: channel open failed: "
	wait_count "$POSTERN_LOG" "debug: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): ssh: channel [0-9]+: open failed: " 4 10 ||
	    fail_case "fewer than 4 refused checks"
	expect_no_log "a session through the master's listener is closed"
}

# Health checks keep stdio forwards (their failure carries the master's
# reason) while sessions go through the listener.
case_mux_listener_checks() {
	local checks
	start_redis
	start_sshd
	BASTION_OPTS=(mux_forward=listener)
	GLOBAL_OPTS=(log_level=debug)
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(mconnected_re b)"
	expect_log 'notice: redis/via: (up \(check ok\)|down -> up)'
	expect_log "$(listens_re "$REDIS_PORT")"
	expect_eq "PING through the listener" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	checks=$(count_lines "$POSTERN_LOG" "a stdio forward to 127\\.0\\.0\\.1:$REDIS_PORT \\(a check\\)$")
	wait_count "$POSTERN_LOG" "a stdio forward to 127\\.0\\.0\\.1:$REDIS_PORT \\(a check\\)$" $((checks + 3)) 10 ||
	    fail_case "no checks by stdio after the listener was ready"
	expect_eq "PING through the listener again" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "sessions through the listener" 2 "$(through_listener)"
	expect_no_log "redis/via: up -> down"
}

# The listener is the master's, for its life: sshd killed under a
# redis-py pool's traffic ends the master; postern removes its private
# directory (the listener's socket with it), and the next master gets a
# new directory and is asked again; sessions go through the new one.  A
# session never tries the dead master's path.
case_mux_listener_restart() {
	local p1 p2 before
	start_redis
	start_sshd
	BASTION_OPTS=(mux_forward=listener)
	GLOBAL_OPTS=(log_level=debug)
	postern_via redis "$REDIS_PORT" "${FAST[@]}"
	expect_log "$(mconnected_re b)"
	expect_log 'notice: redis/via: (up \(check ok\)|down -> up)'
	expect_log "$(listens_re "$REDIS_PORT")"
	expect_eq "PING through the listener" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	p1=$(listener_path 1)
	load_bg 25
	sshd_signal KILL
	wait_exit "$SSHD_PID" 10 || fail_case "sshd survived SIGKILL"
	expect_log "warn: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connection lost: ssh exited with status 255: "
	[[ -e ${p1%/*} ]] && fail_case "the dead master's directory ${p1%/*} is still there"
	start_sshd_on "$SSHD_PORT" 127.0.0.1
	expect_log "info: bastion b \\(root@127\\.0\\.0\\.1:$SSHD_PORT\\): connected again after " 30
	expect_log 'notice: redis/via: down -> up'
	before=$(rcli "$REDIS_PORT" GET n)
	wait_until 10 incr_grew "$before" ||
	    fail_case "the pool's INCRs do not pass after the recovery"
	wait_count "$POSTERN_LOG" "$(listens_re "$REDIS_PORT")" 2 10 ||
	    fail_case "the new master was not asked for a listener"
	p2=$(listener_path 2)
	[[ ${p2%/*} != "${p1%/*}" ]] || fail_case "the new master's listener is in the old directory"
	before=$(through_listener)
	expect_eq "PING through the new listener" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	expect_eq "one more session through the listener" $((before + 1)) "$(through_listener)"
	expect_no_log "listener $(re_escape "$p1"): .*; by stdio"
	wait "$LOAD_PID"
	note "pool under the loss: $(cat "$T/load.out")"
	expect_eq "one ssh master" 1 "$(ssh_children)"
}

run_case "redis through an engine = openssh bastion; no ssh left after exit" case_redis
run_case "mux_forward = listener: sessions through the master's listener" case_mux_listener
run_case "mux_forward = listener: psql through the master's listener" case_mux_listener_pg
run_case "mux_forward = listener: a reload's new target is asked for at once" case_mux_listener_reload
run_case "mux_forward = listener: a refused open closes the session" case_mux_listener_refused
run_case "mux_forward = listener: refused checks stay at debug" case_mux_listener_refused_checks
run_case "mux_forward = listener: health checks keep stdio forwards" case_mux_listener_checks
run_case "mux_forward = listener: a new master is asked again" case_mux_listener_restart
run_case "mux_forward = client: the client's socket handed to the master" case_mux_client
run_case "mux_forward = client: protocol = redis sessions keep stdio" case_mux_client_protocol
run_case "/health shows the bastion's host key (engine = openssh)" case_health_hostkey
run_case "psql through an engine = openssh bastion" case_postgres
run_case "100 new sessions at once: opens pipeline on one SSH connection" case_burst redis
run_case "mux_forward = proxy: 100 new sessions at once, postern's channels" case_burst redis mux_forward=proxy
run_case "mux_forward = client: a burst of 100, every session handed" case_burst tcp mux_forward=client
run_case "unknown host key refused by ssh, its message surfaced" case_hostkey_unknown
run_case "quick mode on a terminal: ssh asks about an unknown key, yes" case_tty_ask_yes
run_case "quick mode on a terminal: ssh asks about an unknown key, no" case_tty_ask_no
run_case "bastion killed under traffic: master restarted, route down and back" case_dies
run_case "mux_forward = client: bastion killed under a pool's traffic: handed sessions end, the next master gets the new ones" case_dies tcp mux_forward=client
run_case "mux_forward = proxy: bastion killed under traffic: channels end, master restarted, back" case_dies redis mux_forward=proxy
run_case "bastion hung under traffic: ServerAlive ends the master, back" case_hangs
run_case "mux_forward = proxy: bastion hung under traffic: ServerAlive ends the master, back" case_hangs mux_forward=proxy
run_case "-J user@host -p -i -o known_hosts: the command line alone" case_jump_cli
run_case "-J a,b -F: ssh makes the two-hop chain" case_chain
run_case "-J a,b with hop a's key unknown: the hop's reason, quick mode stops" case_chain_hop_unknown
run_case "-F with Include and Match: ssh applies them" case_include_match
run_case "host certificate: @cert-authority CA accepted, another CA refused" case_host_cert
run_case "user certificate login" case_user_cert
run_case "control_path: attach to the user's ControlMaster" case_control_path
run_case "a channel the bastion refuses: the master's reason" case_open_refused
run_case "mux_forward = proxy: a channel the bastion refuses: the server's reason" case_open_refused mux_forward=proxy
run_case "session_command: a mux session of the master; its output, end and refusal logged" case_session_command
finish
