#!/bin/bash
# Secrets at rest and in a crash: every file that holds a secret follows
# one mode rule (postern.conf(5), "Files that hold secrets") and
# "postern -n" reports each wrong one at its line; a Kubernetes Secret
# mounted with fsGroup (root-owned, mode 0640, group = postern's) is
# accepted.  postern makes itself non-dumpable with RLIMIT_CORE 0 unless
# POSTERN_CORE_DUMPS=1, and warns when it runs as root without user =.
. "$(dirname "$0")/../lib.sh"

# A process that changed its uid cannot be traced by LeakSanitizer
# (95-packaging.sh's case_user_drop says the same); only the cases that
# run postern as nobody turn it off.
no_leak_check() {
	export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
}

# tcp_conf FILE [KEY=VALUE...]: a [postern] section with the arguments
# and one tcp service on a free port (its route need not be up).
tcp_conf() {
	local f=$1
	shift
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	{ conf_global "$@"
	  conf_service tcp "127.0.0.1:$LISTEN_PORT" tcp "a tcp://127.0.0.1:$(free_port)"
	} > "$f"
	chmod 644 "$f"
}

# expect_line WHAT REGEX TEXT: some line of TEXT matches REGEX.
expect_line() {
	grep -Eq -- "$2" <<< "$3" ||
	    fail_case "$1: no line matches /$2/ in: $(head -c 600 <<< "$3" | paste -sd'|')"
}

# core_limit: postern's "Max core file size" soft and hard limits.
core_limit() {
	awk '/^Max core file size/ { print $5, $6 }' "/proc/$POSTERN_PID/limits"
}

# start_as_nobody CONF [ENV...]: postern -c CONF as user nobody (not
# through user =: no change of ids inside postern).
start_as_nobody() {
	local conf=$1 real=$POSTERN
	shift
	# shellcheck disable=SC2209 # POSTERN=env: run postern through env(1)
	POSTERN=env start_postern_args "$@" setpriv --reuid=nobody \
	    --regid="$(id -g nobody)" --clear-groups "$real" -c "$conf"
	POSTERN=$real
	wait_ready 10
}

# ---------------------------------------------------------------------

# Non-dumpable: /proc/PID of a non-dumpable process belongs to root, even
# when the process runs as nobody; RLIMIT_CORE 0.
case_nodump() {
	((EUID == 0)) || skip_case "needs root"
	getent passwd nobody > /dev/null || skip_case "no user nobody"
	command -v setpriv > /dev/null || skip_case "no setpriv"
	no_leak_check
	chmod 755 "$T"
	tcp_conf "$T/n.conf"
	ulimit -c unlimited		# this case's subshell only
	start_as_nobody "$T/n.conf"
	expect_eq "owner of /proc/PID/status (non-dumpable: root)" root \
	    "$(stat -c %U "/proc/$POSTERN_PID/status")"
	expect_eq "RLIMIT_CORE" "0 0" "$(core_limit)"
	expect_no_log 'POSTERN_CORE_DUMPS'
	kill -TERM "$POSTERN_PID"
	wait_exit "$POSTERN_PID" 15 || fail_case "postern did not exit"

	# POSTERN_CORE_DUMPS=1: both left as they were, and a warning.
	start_as_nobody "$T/n.conf" POSTERN_CORE_DUMPS=1
	expect_eq "owner of /proc/PID/status with POSTERN_CORE_DUMPS=1" nobody \
	    "$(stat -c %U "/proc/$POSTERN_PID/status")"
	# (AddressSanitizer sets the soft limit to 0 itself: the hard one.)
	expect_eq "RLIMIT_CORE hard limit with POSTERN_CORE_DUMPS=1" unlimited "$(core_limit | cut -d' ' -f2)"
	expect_log 'warn: POSTERN_CORE_DUMPS=1: core dumps and ptrace allowed'
	kill -TERM "$POSTERN_PID"
	wait_exit "$POSTERN_PID" 15 || fail_case "postern did not exit"
	return 0
}

# Root without user =: one warning line, and postern -n says it too.
case_root_warning() {
	local out
	((EUID == 0)) || skip_case "needs root"
	getent passwd nobody > /dev/null || skip_case "no user nobody"
	tcp_conf "$T/r.conf"
	out=$("$POSTERN" -n -c "$T/r.conf" 2>&1)
	expect_eq "postern -n exit status as root without user =" 0 "$?"
	expect_line "postern -n" '^postern: warning: running as root without user =: ' "$out"
	expect_line "postern -n" '^configuration OK$' "$out"
	start_postern "$T/r.conf"
	expect_eq "RLIMIT_CORE as root" "0 0" "$(core_limit)"
	expect_eq "root warnings" 1 "$(count_lines "$POSTERN_LOG" 'warn: running as root without user =: every session, check and bastion runs with root.s rights; set user =')"
	stop_postern

	# With user = nobody: no warning.
	no_leak_check
	tcp_conf "$T/u.conf" user=nobody
	out=$("$POSTERN" -n -c "$T/u.conf" 2>&1)
	expect_eq "postern -n with user = nobody" "configuration OK" "$out"
	start_postern "$T/u.conf"
	expect_log 'running as user nobody'
	expect_no_log 'running as root without user'
	stop_postern
}

# Every secret key with mode 0644: each reported at its line, all of
# them; the Kubernetes fsGroup layout (root:GROUP 0640, GROUP = the
# group of user =) accepted; a group postern does not run with refused.
case_secret_modes() {
	local d=$T/sec f out st ng line
	((EUID == 0)) || skip_case "needs root"
	getent passwd nobody > /dev/null || skip_case "no user nobody"
	(make_pki) > "$T/pki.log" 2>&1 || fail_case "make_pki failed"
	mkdir -p "$d" && chmod 755 "$T" "$d"
	printf '0123456789abcdef0123\n' > "$d/token"
	printf 'pw-not-logged\n' > "$d/pw"
	printf 'pass-not-logged\n' > "$d/pass"
	ssh-keygen -q -t ed25519 -N '' -f "$d/id" || fail_case "ssh-keygen failed"
	cp "$PKI/client.key" "$d/key"
	cat "$PKI/client.crt" "$PKI/client.key" > "$d/certkey"
	: > "$d/known_hosts"
	ng=$(id -g nobody)
	cat > "$T/s.conf" <<-CONF
	[postern]
	user = nobody
	admin = 127.0.0.1:$(free_port)
	admin_token_file = $d/token

	[bastion b]
	address = 127.0.0.1:22
	user = u
	known_hosts = $d/known_hosts
	identity = $d/id
	identity_passphrase_file = $d/pass

	[service s]
	listen = 127.0.0.1:$(free_port)
	protocol = postgres
	route = t tls://127.0.0.1:5433 ca=$PKI/ca.crt cert=$PKI/client.crt key=$d/key
	route = u tls://127.0.0.1:5434 ca=$PKI/ca.crt cert=$d/certkey
	route = b ssh://b/127.0.0.1:5432
	check_user = chk
	check_password_file = $d/pw
	CONF
	chmod 644 "$T/s.conf"
	# The Kubernetes Secret: root-owned, group = user nobody's, 0640.
	for f in token pw pass id key certkey; do
		chown "0:$ng" "$d/$f" && chmod 640 "$d/$f"
	done
	out=$("$POSTERN" -n -c "$T/s.conf" 2>&1)
	expect_eq "postern -n with root:$ng 0640 secrets" "configuration OK" "$out"
	# 0644: every one of them, at its line.
	chmod 644 "$d"/{token,pw,pass,id,key,certkey}
	out=$("$POSTERN" -n -c "$T/s.conf" 2>&1)
	st=$?
	expect_eq "postern -n exit status with 0644 secrets" 2 "$st"
	for f in "admin_token_file $d/token" "identity $d/id" \
	    "identity_passphrase_file $d/pass" "route 't': key $d/key" \
	    "route 'u': cert $d/certkey \\(without key=, it holds the key\\)" \
	    "check_password_file $d/pw"; do
		line=$(grep -n -- "${f%% *}" "$T/s.conf" | head -n 1 | cut -d: -f1)
		[[ $f == route* ]] && line=$(grep -n "route = ${f:7:1} " "$T/s.conf" | cut -d: -f1)
		expect_line "postern -n" "^$T/s\\.conf:$line: $f: mode 0644 lets others read or write it: chmod 600 it$" "$out"
	done
	expect_eq "errors reported" 6 "$(grep -c 'mode 0644' <<< "$out")"
	# Group-readable by a group postern does not run with: refused.
	chmod 600 "$d"/{token,pw,pass,id,certkey}
	chown 0:54321 "$d/key" && chmod 640 "$d/key"
	id -G | tr ' ' '\n' | grep -qx 54321 && skip_case "root is in group 54321"
	out=$("$POSTERN" -n -c "$T/s.conf" 2>&1)
	expect_line "postern -n" "route 't': key $d/key: mode 0640 lets group 54321 read it, which is not a group postern runs with" "$out"
	# Owned by nobody, group-readable: refused (only root's may be).
	chown "nobody:$ng" "$d/key"
	out=$("$POSTERN" -n -c "$T/s.conf" 2>&1)
	expect_line "postern -n" "key $d/key: mode 0640 lets group [a-z]+ read it and root does not own it" "$out"
	chmod 600 "$d/key"
	out=$("$POSTERN" -n -c "$T/s.conf" 2>&1)
	expect_eq "postern -n once fixed" "configuration OK" "$out"
}

run_case "non-dumpable and RLIMIT_CORE 0; POSTERN_CORE_DUMPS=1 leaves them" case_nodump
run_case "root without user =: one warning, and postern -n says it" case_root_warning
run_case "secret files: one mode rule, every wrong one at its line, fsGroup accepted" case_secret_modes
finish
