#!/bin/bash
# Packaging and operator integration: man pages (mandoc lint), systemd
# units (systemd-analyze verify), every configuration the README shows
# (postern -n), sd_notify readiness, privilege drop (user =), bash
# completion, the Debian package (build, lintian, install, layout,
# purge), the container recipe (packaging/container/check.sh) and the
# demo (packaging/demo.sh --once).
#
# POSTERN_SKIP_PACKAGE=1 skips the three slow cases (the .deb, the
# container build and the demo); each takes well under a minute on 2
# cores.
. "$(dirname "$0")/../lib.sh"

# need_cmds CMD...: skip the case unless every command exists.
need_cmds() {
	local c missing=()
	for c in "$@"; do
		command -v "$c" > /dev/null || missing+=("$c")
	done
	((${#missing[@]} == 0)) ||
	    skip_case "missing ${missing[*]} (tests/run.sh installs them)"
}

skip_slow() {
	[[ "${POSTERN_SKIP_PACKAGE:-0}" == 1 ]] &&
	    skip_case "POSTERN_SKIP_PACKAGE=1"
	return 0
}

# ---------------------------------------------------------------------
# Man pages: no warning or error from mandoc.  Its style notes are
# shown too, except two that depend on this machine's manual database
# ("referenced manual not found", "outdated mandoc.db"): the pages
# cross-reference each other and pages that may not be installed.
case_mandoc_lint() {
	local out
	need_cmds mandoc
	mandoc -T lint -W warning "$TOP"/packaging/man/* > "$T/lint" 2>&1 ||
	    fail_case "mandoc -T lint -W warning: $(paste -sd'|' "$T/lint")"
	out=$(mandoc -T lint -W style "$TOP"/packaging/man/* 2>&1 |
	    grep -v -e 'referenced manual not found' -e 'outdated mandoc.db')
	expect_eq "mandoc style messages" "" "$out"
}

# ---------------------------------------------------------------------
# systemd units: systemd-analyze verify, with ExecStart pointing at the
# binary under test (the installed units are verified as they are in
# the package case), and the hardening the issue asks for.
case_units_verify() {
	local u f out
	need_cmds systemd-analyze
	mkdir -p "$T/units"
	for u in postern.service postern@.service; do
		f=$TOP/packaging/systemd/$u
		[[ -f "$f" ]] || fail_case "no $f"
		sed "s|/usr/sbin/postern|$POSTERN|g" "$f" > "$T/units/${u/@/@test}"
		for want in '^Type=notify$' '^ExecReload=/bin/kill -HUP \$MAINPID$' \
		    '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' \
		    '^ProtectHome=yes$' '^PrivateTmp=yes$' '^CapabilityBoundingSet=$' \
		    '^#CapabilityBoundingSet=CAP_NET_BIND_SERVICE$' \
		    '^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$' \
		    '^SystemCallFilter=@system-service$' '^User=postern$'; do
			grep -Eq "$want" "$f" || fail_case "$u lacks /$want/"
		done
	done
	grep -q '^ExecStart=/usr/sbin/postern -c /etc/postern/%i.conf$' \
	    "$TOP/packaging/systemd/postern@.service" ||
	    fail_case "postern@.service does not run /etc/postern/%i.conf"
	out=$(cd "$T/units" && systemd-analyze verify --man=no \
	    ./postern.service ./postern@test.service 2>&1)
	expect_eq "systemd-analyze verify" "" "$out"
}

# ---------------------------------------------------------------------
# Every ```ini block of README.md and doc/guide.md, and the shipped example
# configurations, through postern -n.  The rule: "configuration OK", or
# else exit status 2 where EVERY error is a file that the example names
# under DIR (/etc/postern/; /tmp/postern-demo/ for config/demo.conf,
# whose files packaging/demo.sh makes) and that does not exist on this
# machine, i.e. of the form
#     FILE:LINE: KEY DIR...: No such file or directory
# (keys, known_hosts and passwords are the reader's own).  Anything else
# (an unknown key, a bad value, a missing file elsewhere) fails.
check_example() {	# check_example FILE LABEL [DIR]
	local f=$1 what=$2 dir=${3:-/etc/postern/} rc bad
	timeout 20 "$POSTERN" -n -c "$f" > "$T/n.out" 2> "$T/n.err"
	rc=$?
	check_sanitizers "$T/n.err"
	if ((rc == 0)); then
		expect_eq "$what: stdout" "configuration OK" "$(cat "$T/n.out")"
		return
	fi
	((rc == 2)) || fail_case "$what: postern -n exited $rc: $(paste -sd'|' "$T/n.err")"
	[[ -s "$T/n.err" ]] || fail_case "$what: exit status 2 and no error"
	bad=$(grep -Ev "^$(printf '%s' "$f" | sed 's/[][\.*^$/]/\\&/g'):[0-9]+: [a-z_]+ $(printf '%s' "$dir" | sed 's/[][\.*^$/]/\\&/g')[^ :]+: No such file or directory$" "$T/n.err")
	[[ -z "$bad" ]] || fail_case "$what: $(printf '%s' "$bad" | paste -sd'|')"
	note "$what: only missing $dir files: $(grep -oE "${dir}[^ :]+" "$T/n.err" | sort -u | paste -sd' ')"
}

case_readme_configs() {
	local n=0 f doc
	# README.md and the guide it sends readers to (doc/guide.md).
	for doc in README.md doc/guide.md; do
		awk -v dir="$T" -v tag="$(basename "$doc" .md)" '
			/^```ini[ \t]*$/ { n++; f = dir "/readme-" tag "-" n ".conf"; next }
			/^```/ { f = ""; next }
			f != "" { print > f }' "$TOP/$doc"
		ls "$T"/readme-"$(basename "$doc" .md)"-*.conf > /dev/null 2>&1 ||
			fail_case "$doc has no \`\`\`ini block"
	done
	for f in "$T"/readme-*.conf; do
		[[ -f "$f" ]] || continue
		n=$((n + 1))
		check_example "$f" "ini block $(basename "$f" .conf | cut -d- -f2-)"
	done
	note "$n README and guide configurations checked"
}

case_example_configs() {
	check_example "$TOP/config/postern.conf.example" "config/postern.conf.example"
	check_example "$TOP/config/demo.conf" "config/demo.conf" /tmp/postern-demo/
}

# ---------------------------------------------------------------------
# sd_notify: READY=1 only after the first health check ran (here a
# check that times out after 1s), RELOADING=1 then READY=1 on SIGHUP,
# STOPPING=1 on SIGTERM.
NOTIFY_PY='
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
t0 = time.monotonic()
while True:
	msg = s.recv(4096).decode()
	out.write("%.3f %s\n" % (time.monotonic() - t0, msg.replace("\n", " ")))
'
# A build without libsystemd under a NOTIFY_SOCKET says that it cannot
# notify (a Type=notify unit would time out); the other build is tested
# by case_sd_notify.  POSTERN_NOSD: such a build to test here as well.
case_notify_without_libsystemd() {
	local bin=${POSTERN_NOSD:-$POSTERN}
	# Through a file: under pipefail, grep -q closing the pipe early
	# would make ldd die of SIGPIPE and the test run on the wrong build.
	ldd "$bin" > "$T/ldd.nosd" 2>&1
	grep -q libsystemd "$T/ldd.nosd" &&
	    skip_case "postern built with libsystemd (case_sd_notify tests it; POSTERN_NOSD=a build --without-systemd)"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	{
		conf_global
		conf_service t "127.0.0.1:$LISTEN_PORT" tcp \
		    "private tcp://127.0.0.1:$(free_port)" -- check=none
	} > "$T/nosd.conf"
	POSTERN=$bin NOTIFY_SOCKET=$T/nowhere.sock start_postern "$T/nosd.conf"
	expect_log " warn: NOTIFY_SOCKET is set, but this postern was built without libsystemd and cannot notify systemd: a Type=notify unit will time out \\(rebuild with libsystemd-dev, or use Type=simple\\)$"
	stop_postern
}

case_sd_notify() {
	local t_ready t_notify
	ldd "$POSTERN" > "$T/ldd" 2>&1
	grep -q libsystemd "$T/ldd" ||
	    skip_case "postern built without libsystemd (apt-get install libsystemd-dev, reconfigure)"
	need_cmds python3
	start_socat_server "SYSTEM:sleep 30"	# accepts, never answers
	(_close_sess_fds; exec python3 -c "$NOTIFY_PY" "$T/notify.sock" "$T/notify.log") \
	    2> "$T/notify.err" &
	track_server "$!"
	wait_until 5 test -S "$T/notify.sock" || fail_case "no notify socket"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	{
		conf_global
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
		    "private tcp://127.0.0.1:$SERVER_PORT" -- check_timeout=1s \
		    check_interval=2s
	} > "$T/c.conf"
	NOTIFY_SOCKET=$T/notify.sock start_postern_args -c "$T/c.conf"
	wait_ready 10
	# The listeners are bound, the first check is still waiting.
	expect_log 'STATUS=waiting for the first health checks' 10 "$T/notify.log"
	expect_no_log 'READY=1' "$T/notify.log"
	expect_log 'READY=1 STATUS=serving 1 service \(configuration generation 1\)' 10 "$T/notify.log"
	t_notify=$(grep -m1 'READY=1' "$T/notify.log" | cut -d' ' -f1)
	t_ready=$(grep -m1 'STATUS=waiting for the first health checks' "$T/notify.log" | cut -d' ' -f1)
	[[ -n "$t_ready" ]] || fail_case "no 'waiting for the first health checks' status"
	awk -v a="$t_ready" -v b="$t_notify" 'BEGIN { exit !(b - a >= 0.8) }' ||
	    fail_case "READY=1 came ${t_notify}s, only $(awk -v a="$t_ready" -v b="$t_notify" 'BEGIN { print b - a }')s after the listeners: before the 1s check ended"
	kill -HUP "$POSTERN_PID"
	expect_log 'RELOADING=1 MONOTONIC_USEC=[0-9]+ STATUS=reloading' 10 "$T/notify.log"
	wait_count "$T/notify.log" 'READY=1 STATUS=serving 1 service \(configuration generation 2\)' 1 10 ||
	    fail_case "no READY=1 after the reload: $(paste -sd'|' "$T/notify.log")"
	stop_postern
	expect_log 'STOPPING=1' 5 "$T/notify.log"
	[[ "$(grep -c 'READY=1' "$T/notify.log")" == 2 ]] ||
	    fail_case "READY=1 sent $(grep -c 'READY=1' "$T/notify.log") times, want 2"
}

# ---------------------------------------------------------------------
# user = : bind as root, then run as the user; a missing user is a
# configuration error; a start as another user cannot switch.
case_user_drop() {
	local uid gid groups st
	((EUID == 0)) || skip_case "needs root"
	getent passwd nobody > /dev/null || skip_case "no user nobody"
	# LeakSanitizer cannot trace a process that changed its uid.
	export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
	start_redis
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	{
		conf_global user=nobody
		conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
		    "private tcp://127.0.0.1:$REDIS_PORT"
	} > "$T/u.conf"
	chmod 644 "$T/u.conf"
	start_postern "$T/u.conf"
	expect_log 'running as user nobody \(uid [0-9]+, gid [0-9]+\)'
	uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$POSTERN_PID/status")
	gid=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$POSTERN_PID/status")
	groups=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$POSTERN_PID/status")
	local n; n=$(id -u nobody)
	expect_eq "real, effective, saved, fs uid" "$n $n $n $n" "$uid"
	n=$(id -g nobody)
	expect_eq "gids" "$n $n $n $n" "$gid"
	expect_eq "supplementary groups" "$(id -G nobody | tr ' ' '\n' | sort -n | paste -sd' ')" \
	    "$(printf '%s' "$groups" | tr ' ' '\n' | grep . | sort -n | paste -sd' ')"
	expect_eq "PING through postern" PONG "$(rcli "$LISTEN_PORT" PING)"
	kill -HUP "$POSTERN_PID"
	expect_log 'reload: configuration generation 2 loaded'
	stop_postern

	# A user that does not exist: postern -n says so, exit status 2.
	sed 's/^user = nobody$/user = postern-no-such-user/' "$T/u.conf" > "$T/bad.conf"
	"$POSTERN" -n -c "$T/bad.conf" > /dev/null 2> "$T/bad.err"
	st=$?
	expect_eq "exit status of -n with an unknown user" 2 "$st"
	expect_eq "error" "$T/bad.conf:$(grep -n '^user = ' "$T/bad.conf" | cut -d: -f1): user postern-no-such-user: no such user" \
	    "$(cat "$T/bad.err")"

	# Started as nobody with user = daemon: cannot switch, exit status 1.
	sed 's/^user = nobody$/user = daemon/' "$T/u.conf" > "$T/d.conf"
	chmod 644 "$T/d.conf"
	timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$POSTERN" -c "$T/d.conf" > "$T/d.log" 2>&1
	st=$?
	expect_eq "exit status as nobody with user = daemon" 1 "$st"
	grep -q 'user = daemon: cannot switch to it from uid' "$T/d.log" ||
	    fail_case "no 'cannot switch' error: $(tail -n 3 "$T/d.log" | paste -sd'|')"
	grep -q ' ready: ' "$T/d.log" && fail_case "ready although it could not switch"
	return 0
}

# ---------------------------------------------------------------------
# --help and postern.8 agree: every option "postern -h" and "postern ctl
# --help" mention is in postern.8 (as .Fl X), and every ctl command (as
# .Cm NAME).  PENDING_DOCS: options whose man page text is still being
# written with the feature (the SSH work: -J -i -o -p); they are noted,
# not failed.  Empty it once postern.8 documents them.
PENDING_DOCS=""
case_help_matches_man() {
	local man=$TOP/packaging/man/postern.8 o f missing=() cmd
	"$POSTERN" -h > "$T/help" 2>&1 || fail_case "postern -h failed"
	"$POSTERN" ctl --help > "$T/ctlhelp" 2>&1 || fail_case "postern ctl --help failed"
	for o in $(grep -ohE '(^|[][ ;,])--?[a-zA-Z][-a-zA-Z]*' "$T/help" "$T/ctlhelp" |
	    sed 's/^[][ ;,]*//' | sort -u); do
		f=${o#-}
		grep -qE "(Fl|,) $f( |$)" "$man" && continue
		if [[ " $PENDING_DOCS " == *" $o "* ]]; then
			note "$o: not in postern.8 yet (PENDING_DOCS)"
			continue
		fi
		missing+=("$o")
	done
	for cmd in $(sed -n '/^Commands:/,/^$/p' "$T/ctlhelp" |
	    grep -E '^  [a-z]' | sed -E 's/^  //; s/  .*//; s/ [A-Z[].*//' | tr ',' ' '); do
		grep -qE "^\.It Cm $cmd( |$)|^\.It Cm [a-z]+ , $cmd( |,|$)|, $cmd( ,|$)" "$man" ||
		    missing+=("ctl $cmd")
	done
	((${#missing[@]} == 0)) ||
	    fail_case "in --help but not in postern.8: ${missing[*]}"
}

# ---------------------------------------------------------------------
# Bash completion: options, ctl commands, service and route names from
# the -c file.
case_completion() {
	local out
	out=$(PATH=$(dirname "$POSTERN"):$PATH bash -c '
		. "$1/packaging/completion/postern" || exit 1
		c() {
			COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMPREPLY=(); _postern; echo "${COMPREPLY[*]}"
		}
		complete -p postern
		c postern --k
		c postern ctl ""
		c postern ctl -c "$1/config/postern.conf.example" pin ""
		c postern ctl -c "$1/config/postern.conf.example" drain redis p
		c postern ctl pin redis public -
	' _ "$TOP" 2>&1)
	expect_eq "completion" "complete -F _postern postern
--keys
status health metrics liveness readiness startup pin unpin drain enable disable
redis postgres
private public
--for" "$out"
}

# ---------------------------------------------------------------------
# The Debian package: build it from a copy of the tree, lintian without
# errors, install it with dpkg, check the layout, purge it.
case_deb() {
	local out=$T/deb deb f units
	skip_slow
	((EUID == 0)) || skip_case "needs root (dpkg -i)"
	need_cmds dpkg-buildpackage dh lintian fakeroot
	if dpkg-query -W -f='${db:Status-Status}' postern 2>/dev/null | grep -qx installed; then
		skip_case "a postern package is installed on this machine already"
	fi
	# Read by the EXIT trap below, after this function returned.
	DEB_HAD_USER=0
	getent passwd postern > /dev/null && DEB_HAD_USER=1
	bash "$TOP/packaging/build-deb.sh" "$out" > "$T/build-deb.log" 2>&1 ||
	    fail_case "build-deb.sh failed: $(tail -n 15 "$T/build-deb.log" | paste -sd'|')"
	deb=$(ls "$out"/postern_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -n 1)
	[[ -f "$deb" ]] || fail_case "no .deb in $out"
	grep -q '^E: ' "$out/lintian.txt" &&
	    fail_case "lintian errors: $(grep '^E: ' "$out/lintian.txt" | paste -sd'|')"
	note "lintian: $(grep -c '^W: ' "$out/lintian.txt") warnings"
	grep -q 'libsystemd' <(dpkg-deb -f "$deb" Depends) ||
	    fail_case "the package does not depend on libsystemd0 (built without sd_notify)"

	# From here on the package is installed: purge it whatever happens.
	# (The user stays after a purge, as Debian packages do; the test
	# removes it if it made it.)
	trap '_deb_rc=$?
	    dpkg --purge postern > /dev/null 2>&1
	    ((DEB_HAD_USER)) || { userdel postern; groupdel postern; } > /dev/null 2>&1
	    (exit "$_deb_rc"); _case_cleanup' EXIT
	DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" > "$T/dpkg-i.log" 2>&1 ||
	    fail_case "dpkg -i failed: $(tail -n 5 "$T/dpkg-i.log" | paste -sd'|')"
	# The units go where this release's debhelper puts them:
	# /usr/lib/systemd/system (Debian 13), /lib/systemd/system (Debian
	# 12, whose dh_installsystemd knows no other place).
	units=/lib/systemd/system
	grep -q 'usr/lib/systemd/system' "$(command -v dh_installsystemd)" &&
	    units=/usr/lib/systemd/system
	expect_eq "unit files in the package" \
	    "$units/postern.service $units/postern@.service" \
	    "$(dpkg-deb -c "$deb" | awk '{ print substr($6, 2) }' |
	    grep -E '/systemd/system/.+\.service$' | sort | paste -sd' ')"
	for f in /usr/sbin/postern /etc/postern/postern.conf \
	    $units/postern.service $units/postern@.service \
	    /usr/share/man/man8/postern.8.gz /usr/share/man/man5/postern.conf.5.gz \
	    /usr/share/bash-completion/completions/postern \
	    /usr/share/doc/postern/copyright /usr/share/doc/postern/README.Debian; do
		[[ -e "$f" ]] || fail_case "$f is not installed"
	done
	expect_eq "conffiles" "/etc/postern/postern.conf" \
	    "$(cat /var/lib/dpkg/info/postern.conffiles)"
	cmp -s /etc/postern/postern.conf "$TOP/config/postern.conf.example" ||
	    fail_case "/etc/postern/postern.conf is not config/postern.conf.example"
	getent passwd postern > /dev/null || fail_case "no postern user"
	expect_eq "/etc/postern" "root:postern 750" "$(stat -c '%U:%G %a' /etc/postern)"
	expect_match "postern -V" '^postern [0-9.]+$' "$(/usr/sbin/postern -V)"
	expect_eq "man postern" "/usr/share/man/man8/postern.8.gz" "$(man -w postern 2>&1)"
	# The installed units, with their man pages there to be found.
	out=$(systemd-analyze verify $units/postern.service \
	    $units/postern@.service 2>&1)
	expect_eq "systemd-analyze verify (installed)" "" "$out"
	if command -v systemctl > /dev/null; then
		expect_eq "enabled after install" disabled \
		    "$(systemctl is-enabled postern.service 2>/dev/null)"
	fi
	# The shipped config, read as the user the unit runs as.
	runuser -u postern -- /usr/sbin/postern -n -c /etc/postern/postern.conf \
	    > "$T/n.out" 2> "$T/n.err"
	grep -Ev '^/etc/postern/postern.conf:[0-9]+: [a-z_]+ /etc/postern/[^ :]+: No such file or directory$' \
	    "$T/n.err" > "$T/n.bad"
	[[ -s "$T/n.bad" ]] && fail_case "postern -n as user postern: $(paste -sd'|' "$T/n.bad")"
	# ctl without -a or -c asks the daemon of the installed
	# configuration, on that configuration's admin port; a user who may
	# not read /etc/postern is told why and what to do.
	local ap lp dpid rc
	ap=$(free_port) && lp=$(free_port) || fail_case "no free port"
	cp /etc/postern/postern.conf "$T/shipped.conf"
	printf '[postern]\nadmin = 127.0.0.1:%s\n\n[service t]\nlisten = 127.0.0.1:%s\nroute = direct tcp://127.0.0.1:%s\ncheck = none\n' \
	    "$ap" "$lp" "$lp" > /etc/postern/postern.conf
	(_close_sess_fds; exec /usr/sbin/postern -c /etc/postern/postern.conf) > "$T/pkgd.log" 2>&1 &
	dpid=$!
	track_server "$dpid"
	wait_until 10 port_listening "$ap" || fail_case "the packaged postern did not listen on $ap"
	out=$(timeout 10 /usr/sbin/postern ctl liveness 2>&1)
	rc=$?
	expect_eq "ctl liveness without -a/-c (admin $ap): status, output '$out'" 0 "$rc"
	out=$(timeout 10 runuser -u nobody -- /usr/sbin/postern ctl liveness 2>&1)
	rc=$?
	expect_eq "ctl as nobody: status" 2 "$rc"
	expect_match "ctl as nobody" '^postern ctl: /etc/postern/postern\.conf: Permission denied: run as root or as a member of its group \(adduser USER postern\), or give -a ADDRESS$' "$out"
	kill -TERM "$dpid"
	wait_exit "$dpid" 10 || fail_case "the packaged postern did not stop"
	cp "$T/shipped.conf" /etc/postern/postern.conf

	dpkg --purge postern > "$T/purge.log" 2>&1 ||
	    fail_case "dpkg --purge failed: $(tail -n 5 "$T/purge.log" | paste -sd'|')"
	for f in /usr/sbin/postern /etc/postern $units/postern.service; do
		[[ -e "$f" ]] && fail_case "$f is left after purge"
	done
	return 0
}

# ---------------------------------------------------------------------
# packaging/demo.sh --once: the three kinds of route, the failover down
# all three and back up, the developer tunnel, and an exit.  It uses
# fixed ports (config/demo.conf): skipped where one is taken.
case_demo() {
	local p out=$T/demo.out
	skip_slow
	((EUID == 0)) || skip_case "needs root (sshd, PostgreSQL)"
	for p in 7379 7390 7391 7432 17022 17379 17380 17381 17432; do
		[[ -z "$(ss -ltnH "sport = :$p")" ]] || skip_case "port $p is in use"
	done
	timeout 120 bash "$TOP/packaging/demo.sh" --once > "$out" 2>&1 ||
	    fail_case "demo.sh --once failed: $(tail -n 8 "$out" | paste -sd'|')"
	for p in 'new sessions go to bastion \(was private\)' \
	    'new sessions go to public \(was bastion\)' \
	    'new sessions go to bastion \(was public\)' \
	    'new sessions go to private \(was bastion\)' \
	    '^public redis, TLS only' '^redis behind the bastion' \
	    'accepted the new ssh-ed25519 key' 'forwarding 127\.0\.0\.1:7391 -> 127\.0\.0\.1:17380 via root@127\.0\.0\.1:17022' \
	    'pin to public expired'; do
		grep -Eq -- "$p" "$out" || fail_case "demo output lacks /$p/"
	done
	[[ -e /tmp/postern-demo ]] && fail_case "/tmp/postern-demo left behind"
	return 0
}

# ---------------------------------------------------------------------
# The container image recipe and the Kubernetes example.
case_container() {
	local ports
	skip_slow
	need_cmds python3 socat
	((EUID == 0)) || skip_case "needs root (apt-get, setpriv)"
	ports="$(free_port) $(free_port) $(free_port)" || fail_case "no free port"
	POSTERN_CHECK_PORTS=$ports bash "$TOP/packaging/container/check.sh" \
	    "$T/container" > "$T/container.log" 2>&1 ||
	    fail_case "$(grep '^not ok' "$T/container.log" | paste -sd'|'; tail -n 3 "$T/container.log" | paste -sd'|')"
	note "$(grep -c '^ok' "$T/container.log") container checks passed"
}

run_case "man pages: mandoc -T lint clean" case_mandoc_lint
run_case "systemd units: systemd-analyze verify and hardening" case_units_verify
run_case "every README config passes postern -n (or misses only /etc/postern files)" case_readme_configs
run_case "example configs pass postern -n (or miss only /etc/postern files)" case_example_configs
run_case "sd_notify: READY after the first checks, RELOADING/READY, STOPPING" case_sd_notify
run_case "without libsystemd under NOTIFY_SOCKET: a warning" case_notify_without_libsystemd
run_case "user =: bind as root, then run as the user" case_user_drop
run_case "postern -h and postern ctl --help match postern.8" case_help_matches_man
run_case "bash completion for postern and postern ctl" case_completion
POSTERN_CASE_TIMEOUT=600 run_case "Debian package: build, lintian, install, layout, purge" case_deb
POSTERN_CASE_TIMEOUT=600 run_case "container: Dockerfile steps, k8s manifest, probes" case_container
POSTERN_CASE_TIMEOUT=180 run_case "packaging/demo.sh --once: tcp://, ssh://, tls:// failover and back, tunnel" case_demo
finish
