# shellcheck shell=bash
#
# tests/fixtures.sh: the throwaway servers, defined once for the
# integration harness (tests/lib.sh, lib-tls.sh, lib-ssh.sh), the
# benchmarks (tests/bench/lib.sh and the scripts) and packaging/demo.sh:
# the test CA and its certificates, how redis-server, PostgreSQL
# (initdb, pg_ctl) and sshd (host key, sshd_config, known_hosts) run and
# are stopped, and when a started postern counts as ready.
#
# Pure definitions: sourcing this file starts nothing, sets no trap and
# reads no setting; they hold under "set -euo pipefail" (the demo's).
# Nothing here knows how its caller picks ports, counts processes or
# reports errors: each function makes files or a command line and
# returns non-zero on failure, and the caller starts the command its own
# way (the harness with track_server and fail_case, the benchmarks with
# spawn and die, the demo with its pid list).

# fixture_pki DIR [DNS...]: a test CA in DIR, made with the openssl CLI
# (EC P-256 keys): ca.crt/ca.key; a server certificate server.crt/.key
# for the DNS names (default db.example.test and redis.example.test;
# CN the first) and 127.0.0.1, with server.pem (certificate and key);
# the same one expired, expired.crt/expired.pem (valid for a day in
# 2020, made with "openssl ca -startdate -enddate": OpenSSL 3.5's "x509
# -days -1" refuses an end date before the start); a client certificate
# client.crt/.key; a second, unrelated CA evil.crt/.key.  Does not
# change the caller's directory; openssl writes its progress to stderr.
fixture_pki() {
	local dir=$1 san='' d
	shift
	(($#)) || set -- db.example.test redis.example.test
	for d in "$@"; do
		san+="DNS:$d,"
	done
	mkdir -p "$dir" || return 1
	(
		ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
		cd "$dir" || exit 1
		printf 'subjectAltName=%sIP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" > server.ext
		printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
		openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 30 \
		    -subj "/CN=postern test CA" &&
		openssl req -x509 "${ec[@]}" -keyout evil.key -out evil.crt -days 30 \
		    -subj "/CN=some other CA" &&
		openssl req -new "${ec[@]}" -keyout server.key -out server.csr \
		    -subj "/CN=$1" &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -days 30 -extfile server.ext -out server.crt &&
		mkdir -p ca.db && : > ca.db/index.txt && echo 01 > ca.db/serial &&
		printf '[ca]\ndefault_ca = t\n[t]\ndatabase = ca.db/index.txt\nnew_certs_dir = ca.db\nserial = ca.db/serial\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n' > ca.cnf &&
		openssl ca -batch -notext -config ca.cnf -cert ca.crt -keyfile ca.key \
		    -in server.csr -startdate 20200101000000Z -enddate 20200102000000Z \
		    -extfile server.ext -out expired.crt &&
		openssl req -new "${ec[@]}" -keyout client.key -out client.csr \
		    -subj "/CN=postern client" &&
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -days 30 -extfile client.ext -out client.crt &&
		cat server.crt server.key > server.pem &&
		cat expired.crt server.key > expired.pem
	)
}

# fixture_redis VAR ADDR PORT DIR LOGFILE [tls CERT KEY CA] [ARG...]:
# set the array VAR to the command line of a throwaway redis-server on
# ADDR:PORT: in the foreground, no persistence, protected mode off,
# working directory DIR, log to LOGFILE ('' for stdout), then ARGs.
# With "tls CERT KEY CA" it takes TLS only on PORT (--port 0), with
# that certificate, client certificates not required.
fixture_redis() {
	local -n _fx_argv=$1
	local addr=$2 port=$3 dir=$4 log=$5
	local -a listen=(--port "$port")
	shift 5
	if [[ ${1:-} == tls ]]; then
		listen=(--port 0 --tls-port "$port" --tls-cert-file "$2"
			--tls-key-file "$3" --tls-ca-cert-file "$4" --tls-auth-clients no)
		shift 4
	fi
	_fx_argv=(redis-server "${listen[@]}" --bind "$addr" --protected-mode no
		--save '' --appendonly no --daemonize no --dir "$dir" --logfile "$log" "$@")
}

# fixture_sshd DIR ADDR PORT LOGLEVEL [LINE...]: an OpenSSH sshd's files
# in DIR for ADDR:PORT (made if missing): an ed25519 host key
# DIR/host_ed25519 (kept when it exists, so that a restart on the same
# port keeps its identity), DIR/sshd_config and DIR/known_hosts with that
# key for [ADDR]:PORT; and /run/sshd (privilege separation).  The
# config takes root by public key only, from DIR/authorized_keys, which
# the caller fills; no PAM, TCP forwarding on, LogLevel LOGLEVEL; the
# LINEs follow the defaults (sshd takes the first value of a keyword, so
# a LINE adds keywords and cannot change one set here).  Sets SSHD_ARGV to
# the command that runs it in the foreground, logging to stderr ($SSHD,
# default /usr/sbin/sshd).
fixture_sshd() {
	local dir=$1 addr=$2 port=$3 level=$4
	shift 4
	mkdir -p "$dir" || return 1
	mkdir -p /run/sshd 2>/dev/null || :
	chmod 755 /run/sshd 2>/dev/null || :
	[[ -f $dir/host_ed25519 ]] ||
	    ssh-keygen -q -t ed25519 -N '' -C host -f "$dir/host_ed25519" < /dev/null ||
	    return 1
	{
		printf 'Port %s\nListenAddress %s\n' "$port" "$addr"
		printf 'HostKey %s\nPidFile %s\n' "$dir/host_ed25519" "$dir/sshd.pid"
		printf 'AuthorizedKeysFile %s\n' "$dir/authorized_keys"
		printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\n'
		printf 'KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n'
		printf 'LogLevel %s\nAllowTcpForwarding yes\n' "$level"
		if (($#)); then
			printf '%s\n' "$@"
		fi
	} > "$dir/sshd_config" &&
	printf '[%s]:%s %s\n' "$addr" "$port" "$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" \
	    > "$dir/known_hosts" || return 1
	SSHD_ARGV=("${SSHD:-/usr/sbin/sshd}" -D -f "$dir/sshd_config" -e)
}

# fixture_alive PID: true while PID exists and is not a zombie (which
# kill -0 still finds).
fixture_alive() {
	local st
	[[ -r /proc/$1/stat ]] || return 1
	st=$(< "/proc/$1/stat") 2>/dev/null || return 1
	st=${st##*) }
	[[ "${st%% *}" != Z ]]
}

# fixture_listening PORT: something listens on TCP port PORT.
fixture_listening() {
	[[ -n "$(ss -ltnH "( sport = :$1 )" 2>/dev/null)" ]]
}

# fixture_postern_ready LOG PID TIMEOUT_S [PORT...]: wait, polling every
# 0.1 s, until the postern PID has logged its "ready:" line into LOG or,
# when PORTs are given (a log level above info hides that line), until
# every PORT listens.  0: ready; 1: PID exited first (the caller, its
# parent, collects the status); 2: TIMEOUT_S went by.
fixture_postern_ready() {
	local log=$1 pid=$2 n=$(($3 * 10)) p up
	shift 3
	while ((n-- > 0)); do
		grep -Eq ' info: ready: ' "$log" 2>/dev/null && return 0
		if (($#)); then
			up=1
			for p in "$@"; do
				fixture_listening "$p" || { up=0; break; }
			done
			((up)) && return 0
		fi
		fixture_alive "$pid" || return 1
		sleep 0.1
	done
	return 2
}

# fixture_as_postgres CMD...: CMD as the postgres user when we are root
# (initdb and postgres refuse to run as root).
fixture_as_postgres() {
	if ((EUID == 0)); then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# fixture_pgbin: print the newest PostgreSQL server binaries' directory
# (/usr/lib/postgresql/N/bin); nothing when there is none.
fixture_pgbin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		if [[ -d $d ]]; then
			printf '%s\n' "$d"
		fi
	done | sort -V | tail -n 1
}

# fixture_pg_initdb PGBIN DATA [ARG...]: a throwaway cluster in DATA
# (made, mode 700, owned by postgres when we are root): trust
# authentication, superuser postgres, no sync to disk, then initdb's
# ARGs.  initdb's output goes to stdout and stderr.
fixture_pg_initdb() {
	local bin=$1 data=$2
	shift 2
	mkdir -p "$data" || return 1
	if ((EUID == 0)); then
		chown postgres: "$data" || return 1
	fi
	chmod 700 "$data" &&
	fixture_as_postgres "$bin/initdb" -D "$data" -A trust -U postgres --no-sync "$@"
}

# fixture_pg_ctl_start VAR PGBIN DATA LOG ADDR PORT SOCKDIR [SETTINGS]:
# set the array VAR to the pg_ctl command that starts the cluster in
# DATA on ADDR:PORT and waits, 60 s at most, until it takes connections:
# its socket in SOCKDIR, its server log LOG, fsync off, then SETTINGS
# ("-c name=value ..." words for postgres).  Run it as postgres
# (fixture_as_postgres, or runuser inside a network namespace).
fixture_pg_ctl_start() {
	local -n _fx_pgargv=$1
	_fx_pgargv=("$2/pg_ctl" -w -t 60 -D "$3" -l "$4"
		-o "-p $6 -k $7 -c listen_addresses=$5 -c fsync=off ${8:-}" start)
}

# fixture_pg_stop PGBIN DATA: stop the cluster in DATA if its postmaster
# runs (also one that a failed "pg_ctl -w" left behind): immediate, as
# the data is thrown away; SIGKILL if pg_ctl does not manage in 30 s.
# Always 0.
fixture_pg_stop() {
	local pid
	[[ -f $2/postmaster.pid ]] || return 0
	pid=$(head -n 1 "$2/postmaster.pid")
	fixture_as_postgres timeout 30 "$1/pg_ctl" -D "$2" -m immediate stop > /dev/null 2>&1 || :
	if [[ -n $pid ]] && fixture_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
	fi
	return 0
}
