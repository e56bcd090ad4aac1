# shellcheck shell=bash
#
# tests/lib-ssh.sh: OpenSSH bastions for the tests, sourced by
# tests/lib.sh, so every test file and benchmark has them.  A real sshd
# (Debian's openssh-server) per call on a loopback port, its host key and
# sshd_config made by fixture_sshd (tests/fixtures.sh, shared with the
# benchmarks and packaging/demo.sh), user keys made here by ssh-keygen;
# helpers to signal it, to write a [bastion] section for it and to match
# postern's bastion log lines.

SSHD=/usr/sbin/sshd
# libssh2 1.10 leaks two BIGNUMs each time it reads an OpenSSH-format
# ECDSA key (openssl.c, fixed in 1.11): not ours, and bounded by the
# number of logins.  Everything else stays checked.  (The case with ECDSA
# keys turns on full stack unwinding so that the suppression can see the
# libssh2 frame through libcrypto.)
printf 'leak:libssh2_userauth_publickey_fromfile_ex\n' > "$T/lsan.supp"
# libssh2 1.11.1 also leaks two 48-byte blocks per key exchange with
# the AES-GCM ciphers; postern's default order puts chacha20-poly1305
# first and no case asks for GCM, so nothing is suppressed for it.
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# The agent case sets its own; no other case may find one.
unset SSH_AUTH_SOCK SSH_AGENT_PID

# re_escape STRING: STRING as a literal in an extended regex.
re_escape() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

# ---------------------------------------------------------------------
# Keys and sshd

# ssh_prereqs: skip the case where sshd cannot run.
ssh_prereqs() {
	[[ -x $SSHD ]] || skip_case "no $SSHD (Debian package openssh-server)"
	command -v ssh-keygen > /dev/null || skip_case "no ssh-keygen (openssh-client)"
	((EUID == 0)) || skip_case "sshd needs root here (privilege separation, root login)"
	mkdir -p /run/sshd 2>/dev/null
	chmod 755 /run/sshd 2>/dev/null
}

# make_key NAME TYPE [PASSPHRASE [FORMAT]]: a key pair $T/keys/NAME(.pub)
# unless it exists; prints nothing.
make_key() {
	local f=$T/keys/$1
	mkdir -p "$T/keys"
	[[ -f $f ]] && return 0
	ssh-keygen -q -t "$2" -N "${3:-}" -C "$1@postern-test" ${4:+-m "$4"} \
	    -f "$f" < /dev/null > "$T/keys/$1.err" 2>&1 ||
	    fail_case "ssh-keygen -t $2 failed: $(head -c 200 "$T/keys/$1.err")"
}

# fp_of PUBFILE: its SHA256:... fingerprint.
fp_of() {
	ssh-keygen -lf "$1" | awk '{ print $2 }'
}

# The user key every bastion accepts unless told otherwise.
USER_KEY=$T/keys/user

_SSHD_MASTERS=()

# _ssh_case_cleanup: resume hung sshds and end their connection
# processes (by PID), so that nothing outlives the case.
_ssh_case_cleanup() {
	local m p
	for m in "${_SSHD_MASTERS[@]}"; do
		for p in $(pid_tree "$m"); do
			kill -CONT "$p" 2>/dev/null
			[[ $p != "$m" ]] && kill -TERM "$p" 2>/dev/null
		done
	done
	return 0
}

# start_sshd [SSHD_CONFIG_LINE...]: sshd on 127.0.0.1, a free port; its
# host key is ed25519; authorized_keys holds USER_KEY.pub and any
# $T/keys/*.pub listed in SSHD_AUTHORIZED.  Sets SSHD_PORT, SSHD_PID,
# SSHD_DIR, SSHD_KNOWN (a known_hosts file with its key), SSHD_FP, SSHD_LOG.
# SSHD_LOG_LEVEL: its LogLevel, VERBOSE when unset (sshd takes the first
# LogLevel line, so an extra line cannot raise it).
SSHD_AUTHORIZED=()
start_sshd() {
	local port
	port=$(free_port) || fail_case "no free port for sshd"
	start_sshd_on "$port" 127.0.0.1 "$@"
}

# start_sshd_on PORT ADDRESS [LINE...]: the same on a given port; reuses
# the directory (and host key) of an earlier sshd on that port.
start_sshd_on() {
	local port=$1 addr=$2 dir k n=100
	shift 2
	ssh_prereqs
	make_key user ed25519
	dir=$T/sshd-$port
	fixture_sshd "$dir" "$addr" "$port" "${SSHD_LOG_LEVEL:-VERBOSE}" "$@" ||
	    fail_case "sshd set-up in $dir failed"
	cat "$USER_KEY.pub" > "$dir/authorized_keys"
	for k in "${SSHD_AUTHORIZED[@]}"; do
		cat "$T/keys/$k.pub" >> "$dir/authorized_keys"
	done
	(_close_sess_fds; exec ${SSHD_NETNS:+ip netns exec "$SSHD_NETNS"} "${SSHD_ARGV[@]}") \
	    >> "$dir/log" 2>&1 &
	SSHD_PID=$! SSHD_PORT=$port SSHD_DIR=$dir SSHD_LOG=$dir/log
	track_server "$SSHD_PID"
	_SSHD_MASTERS+=("$SSHD_PID")
	trap '_rc=$?; _ssh_case_cleanup; _with_status "$_rc"; _case_cleanup' EXIT
	while ((n-- > 0)); do
		grep -q "Server listening on $addr port $port" "$dir/log" 2>/dev/null && break
		_pid_running "$SSHD_PID" || fail_case "sshd died: $(tail -n 3 "$dir/log" | paste -sd'|')"
		sleep 0.1
	done
	((n >= 0)) || fail_case "sshd not listening on $addr:$port after 10s: $(tail -n 3 "$dir/log" | paste -sd'|')"
	SSHD_KNOWN=$dir/known_hosts
	SSHD_FP=$(fp_of "$dir/host_ed25519.pub")
}

# sshd_signal SIG: send SIG to sshd and every process of its connections.
sshd_signal() {
	local p
	for p in $(pid_tree "$SSHD_PID"); do
		kill "-$1" "$p" 2>/dev/null
	done
}

# sshd_child_pid COMM: the pid of a process named COMM under the running
# sshd (a session's command); false when there is none.
sshd_child_pid() {
	local p
	for p in $(pid_tree "$SSHD_PID"); do
		if [[ $(cat "/proc/$p/comm" 2>/dev/null) == "$1" ]]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# sshd_connections: ESTABLISHED TCP connections to the sshd port.
sshd_connections() {
	ss -tnH state established "( dport = :$SSHD_PORT )" | wc -l
}

# ---------------------------------------------------------------------
# postern

# conf_bastion NAME [KEY=VALUE...]: a [bastion] section for the running
# sshd: root, USER_KEY, SSHD_KNOWN; KEY= (empty) drops a key.
conf_bastion() {
	local name=$1 kv k
	shift
	local -A o=([address]=127.0.0.1:$SSHD_PORT [user]=root
		[identity]=$USER_KEY [known_hosts]=$SSHD_KNOWN)
	for kv in "$@"; do
		o[${kv%%=*}]=${kv#*=}
	done
	printf '[bastion %s]\n' "$name"
	for k in "${!o[@]}"; do
		[[ -n ${o[$k]} ]] && printf '%s = %s\n' "$k" "${o[$k]}"
	done
	printf '\n'
}

# connected_re NAME: the "connected" line of bastion NAME on SSHD_PORT.
connected_re() {
	printf 'info: bastion %s \\(root@127\\.0\\.0\\.1:%s\\): connected in [0-9]+ ms \\(host key ssh-ed25519 %s; [a-z0-9@.-]+, [A-Za-z0-9@.-]+\\)$' \
	    "$1" "$SSHD_PORT" "$(re_escape "$SSHD_FP")"
}

# cannot_re NAME: the start of a failed-attempt line of bastion NAME.
cannot_re() {
	printf 'error: bastion %s \\(root@127\\.0\\.0\\.1:%s\\): cannot connect: ' "$1" "$SSHD_PORT"
}

# ---------------------------------------------------------------------
# Quick mode on a terminal (90-ssh.sh, 92-openssh-engine.sh)

# PTY_PY ANSWER OUT ARGV...: run ARGV on a new pty, copy its output to OUT;
# when the host key question comes, type ANSWER.  On SIGTERM, pass it on.
# Exits with ARGV's status.
PTY_PY='
import os, pty, select, signal, sys
answer, out, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
	os.execvp(argv[0], argv)
signal.signal(signal.SIGTERM, lambda *a: os.kill(pid, signal.SIGTERM))
log, seen, asked = open(out, "wb", buffering=0), b"", False
while True:
	try:
		r = select.select([fd], [], [], 0.1)[0]
		data = os.read(fd, 4096) if r else b""
	except InterruptedError:
		continue
	except OSError:
		break
	if r and not data:
		break
	log.write(data)
	seen += data
	if not asked and b"(yes/no/[fingerprint])? " in seen:
		os.write(fd, answer.encode() + b"\n")
		asked = True
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
'

# pty_postern ANSWER ARGS: postern ARGS on a pty answering ANSWER; sets
# PTY_PID and PTY_OUT.
pty_postern() {
	local answer=$1
	shift
	command -v python3 > /dev/null || skip_case "no python3"
	PTY_OUT=$T/pty$_CASE_ID.out
	(_close_sess_fds; exec python3 -c "$PTY_PY" "$answer" "$PTY_OUT" "$POSTERN" "$@") &
	PTY_PID=$!
	track_client "$PTY_PID"
}
