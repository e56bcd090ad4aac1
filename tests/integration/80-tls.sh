#!/bin/bash
# tls:// routes: Redis with TLS from byte 0, PostgreSQL's SSLRequest
# upgrade and direct TLS (PostgreSQL 17), verification errors, client
# certificates, session resumption, CancelRequest routing, and
# configuration checks (the relay's behaviour over TLS, half-close
# included: 15-matrix.sh).  The script makes its own CA and certificates with
# the openssl CLI; servers are real (redis-server --tls-port, a PostgreSQL
# cluster with ssl = on and hostssl-only pg_hba, openssl s_server, socat).
. "$(dirname "$0")/../lib.sh"

FAST=(check_interval=300ms check_fast_interval=100ms check_down_interval=200ms
	check_timeout=300ms fall=2 rise=2)

# ---------------------------------------------------------------------
# Servers

# start_pg_tls: a cluster with ssl = on that refuses connections without
# TLS (hostssl trust, hostnossl reject); local socket for the test's own
# queries.  Sets PG_PORT, PG_DIR, PG_SOCKDIR.
start_pg_tls() {
	local k=$T/pgtls
	mkdir -p "$k"
	cp "$PKI/server.crt" "$PKI/server.key" "$k/"
	chmod 600 "$k/server.key"
	((EUID == 0)) && chown -R postgres:postgres "$k"
	PG_HBA=$'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject' \
	PG_OPTS="-c ssl=on -c ssl_cert_file=$k/server.crt -c ssl_key_file=$k/server.key" \
	    start_postgres
}

# pg_local SQL: a query on the server itself, over its Unix socket.
pg_local() {
	timeout 30 psql "host=$PG_SOCKDIR port=$PG_PORT user=postgres dbname=postgres" \
	    -X -Atc "$1" 2>&1
}

# psql_at PORT SQL [CONNINFO-EXTRA]: one statement through postern.
psql_at() {
	timeout 60 psql "$(pg_conninfo "$1" "${3:-}")" -X -v ON_ERROR_STOP=1 \
	    -tAc "$2" 2>&1
}

# start_s_server NAME PORT ARGS: openssl s_server (not quiet: it prints
# the ALPN it selects and what it receives) with the server certificate;
# its stdin is a pipe the case holds open (on EOF it would stop).
start_s_server() {
	local name=$1 port=$2 fd n=100
	shift 2
	mkfifo "$T/$name.in"
	(_close_sess_fds; exec openssl s_server -accept "127.0.0.1:$port" \
	    -cert "$PKI/server.crt" -key "$PKI/server.key" "$@") \
	    < "$T/$name.in" > "$T/$name.log" 2>&1 &
	track_server "$!"
	exec {fd}> "$T/$name.in"
	while ((n-- > 0)); do
		grep -q ACCEPT "$T/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail_case "openssl s_server $name did not start: $(head -c 300 "$T/$name.log")"
}

# ---------------------------------------------------------------------
# Redis

# redis-cli in clear -> postern -> TLS Redis: commands, a 64 MiB value
# that comes back identical, the health check (PING over TLS), and the
# second connection resuming the first one's session.
case_redis_tls() {
	local out
	start_redis_tls
	GLOBAL_OPTS=(log_level=debug)
	postern_redis "public tls://127.0.0.1:$REDIS_PORT ca=$PKI/ca.crt name=redis.example.test" -- \
	    "${FAST[@]}"
	expect_log 'notice: redis/public: up \(check ok\)$'
	expect_eq "SET through postern" OK "$(rcli "$LISTEN_PORT" SET k v 2>&1)"
	expect_eq "GET through postern" v "$(rcli "$LISTEN_PORT" GET k 2>&1)"
	expect_log " s[0-9]+ redis 127\.0\.0\.1:[0-9]+ -> public 127\.0\.0\.1:$REDIS_PORT: connected in [0-9]+ ms \(TLSv1\.3 [A-Z0-9_]+, resumed\)$"
	head -c 50331648 /dev/urandom | base64 -w0 > "$T/big"
	expect_eq "big value size" 67108864 "$(stat -c %s "$T/big")"
	out=$(timeout 120 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" -x SET big < "$T/big" 2>&1)
	expect_eq "SET of 64 MiB through postern" OK "$out"
	expect_eq "STRLEN on the server" 67108864 "$(tls_rcli "$REDIS_PORT" STRLEN big 2>&1)"
	timeout 120 redis-cli -h 127.0.0.1 -p "$LISTEN_PORT" --raw GET big 2> "$T/get.err" |
	    head -c 67108864 > "$T/big.out"
	expect_eq "SHA-256 of the 64 MiB value read back" "$(sha256_of "$T/big")" "$(sha256_of "$T/big.out")"
	expect_log ": closed \(client closed\) after [0-9.]+s, [0-9]+ bytes up, 67108[0-9]{3} bytes down$"
}

# cert= and key=: a Redis that requires client certificates takes the
# route that presents one and refuses the route that does not, with the
# server's alert in the error.
case_client_cert() {
	start_redis_tls "$PKI/server.crt" --tls-auth-clients yes
	LISTEN_PORT=$(free_port) && L2=$(free_port) || fail_case "no free port"
	CONF=$T/mtls.conf
	{ conf_global
	  conf_service mtls "127.0.0.1:$LISTEN_PORT" redis \
	      "public tls://127.0.0.1:$REDIS_PORT ca=$PKI/ca.crt cert=$PKI/client.crt key=$PKI/client.key" -- \
	      "${FAST[@]}"
	  conf_service nocert "127.0.0.1:$L2" redis \
	      "public tls://127.0.0.1:$REDIS_PORT ca=$PKI/ca.crt" -- "${FAST[@]}"
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: mtls/public: up \(check ok\)$'
	expect_eq "PING with a client certificate" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
	# TLS 1.3: the server checks the client's certificate after the
	# client's handshake is done, so the refusal comes as an alert on
	# the first read: the check reports it as a TLS error all the same.
	expect_log 'warn: nocert/public: unknown -> down \(2 failed checks; last: tls: [^;]*certificate required'
}

# Verification: each failure says which check failed, in the health line
# and in the session's connect error; the good route behind them serves.
case_verify_errors() {
	local good out
	start_redis_tls
	good=$REDIS_PORT
	start_redis_tls "$PKI/expired.crt"
	EXPIRED_PORT=$REDIS_PORT
	S12_PORT=$(free_port) || fail_case "no free port"
	start_s_server tls12 "$S12_PORT" -tls1_2 -rev
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	local -a ports=()
	for i in 1 2 3 4; do
		ports+=("$(free_port)")
		[[ -n "${ports[-1]}" ]] || fail_case "no free port"
	done
	CONF=$T/verify.conf
	{ conf_global log_level=debug
	  conf_service wrongca "127.0.0.1:${ports[0]}" redis \
	      "public tls://127.0.0.1:$good ca=$PKI/evil.crt" -- "${FAST[@]}"
	  conf_service wrongname "127.0.0.1:${ports[1]}" redis \
	      "public tls://127.0.0.1:$good ca=$PKI/ca.crt name=wrong.example.test" -- "${FAST[@]}"
	  conf_service expired "127.0.0.1:${ports[2]}" redis \
	      "public tls://127.0.0.1:$EXPIRED_PORT ca=$PKI/ca.crt" -- "${FAST[@]}"
	  conf_service version "127.0.0.1:${ports[3]}" tcp \
	      "public tls://127.0.0.1:$S12_PORT ca=$PKI/ca.crt min_version=tls1.3" -- "${FAST[@]}" check=tcp
	  # No checks: the session tries every route in order and says why.
	  conf_service chain "127.0.0.1:$LISTEN_PORT" redis \
	      "wrongca tls://127.0.0.1:$good ca=$PKI/evil.crt" \
	      "wrongname tls://127.0.0.1:$good ca=$PKI/ca.crt name=wrong.example.test" \
	      "expired tls://127.0.0.1:$EXPIRED_PORT ca=$PKI/ca.crt" \
	      "good tls://127.0.0.1:$good ca=$PKI/ca.crt" -- check=none
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'warn: wrongca/public: unknown -> down \(2 failed checks; last: tls: unknown CA: [^;]*(self-signed certificate in certificate chain|unable to get local issuer certificate)'
	expect_log "warn: wrongname/public: unknown -> down \(2 failed checks; last: tls: name mismatch: certificate is for DNS:db\.example\.test, DNS:redis\.example\.test, IP:127\.0\.0\.1, CN=db\.example\.test, not 'wrong\.example\.test'"
	expect_log 'warn: expired/public: unknown -> down \(2 failed checks; last: tls: certificate has expired: CN=db\.example\.test \(notAfter '
	expect_log 'warn: version/public: unknown -> down \(2 failed checks; last: tls: protocol version: [^;]*\(min_version tls1\.3\)'
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_eq "PING through the route that verifies (IP SAN 127.0.0.1)" PONG "$out"
	expect_log ' -> wrongca 127\.0\.0\.1:[0-9]+: connect failed: tls: unknown CA: '
	expect_log " -> wrongname 127\.0\.0\.1:[0-9]+: connect failed: tls: name mismatch: certificate is for .* not 'wrong\.example\.test'$"
	expect_log " -> expired 127\.0\.0\.1:$EXPIRED_PORT: connect failed: tls: certificate has expired: "
	expect_log " -> good 127\.0\.0\.1:$good: closed \(client closed\)"
	expect_no_log 'up \(check ok\)$'
}

# name= lets a route dial an address and verify the certificate's name;
# SNI carries it (s_server prints the servername it got).
case_name_option() {
	local out l2
	# The default certificate is the expired one; a client whose SNI is
	# db.example.test gets the good one (-servername, -cert2).
	SNI_PORT=$(free_port) || fail_case "no free port"
	start_s_server sni "$SNI_PORT" -cert "$PKI/expired.crt" \
	    -servername db.example.test -cert2 "$PKI/server.crt" \
	    -key2 "$PKI/server.key" -rev
	LISTEN_PORT=$(free_port) && l2=$(free_port) || fail_case "no free port"
	CONF=$T/sni.conf
	{ conf_global log_level=debug
	  conf_service db "127.0.0.1:$LISTEN_PORT" tcp \
	      "db tls://127.0.0.1:$SNI_PORT ca=$PKI/ca.crt name=db.example.test" -- check=none
	  conf_service other "127.0.0.1:$l2" tcp \
	      "redis tls://127.0.0.1:$SNI_PORT ca=$PKI/ca.crt name=redis.example.test" -- check=none
	} > "$CONF"
	start_postern "$CONF"
	out=$(printf 'hello\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT" 2>&1)
	expect_eq "reply through a route verifying db.example.test at 127.0.0.1" olleh "$out"
	expect_log " -> db 127\.0\.0\.1:$SNI_PORT: connected in [0-9]+ ms \(TLSv1\.3 "
	# Another name (one the certificate also has) gets s_server's default,
	# expired, certificate: the SNI is what chose.
	printf 'hello\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$l2" > /dev/null 2>&1
	expect_log " -> redis 127\.0\.0\.1:$SNI_PORT: connect failed: tls: certificate has expired: "
}

# A server that accepts and says nothing: the handshake (or the SSLRequest)
# times out within connect_timeout, and says so.
case_handshake_timeout() {
	local l2
	start_socat_server "SYSTEM:sleep 30"
	LISTEN_PORT=$(free_port) && l2=$(free_port) || fail_case "no free port"
	CONF=$T/hang.conf
	{ conf_global
	  conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
	      "mute tls://127.0.0.1:$SERVER_PORT ca=$PKI/ca.crt" -- check=none \
	      connect_timeout=500ms hold_timeout=1s
	  conf_service pg "127.0.0.1:$l2" postgres \
	      "mute tls://127.0.0.1:$SERVER_PORT ca=$PKI/ca.crt" -- check=none \
	      connect_timeout=500ms hold_timeout=1s
	  # Its check's deadline and the dial's are the same: whichever
	  # fires first, the check names the TLS stage, not "connect".
	  conf_service chk "127.0.0.1:$(free_port)" redis \
	      "mute tls://127.0.0.1:$SERVER_PORT ca=$PKI/ca.crt" -- \
	      check_timeout=500ms check_interval=1s
	} > "$CONF"
	start_postern "$CONF"
	out=$(rcli "$LISTEN_PORT" PING 2>&1)
	expect_match "redis client's error" 'no healthy route for service redis \(mute: tls: handshake timeout after 500 ms\)' "$out"
	expect_log " redis 127\.0\.0\.1:[0-9]+ -> mute 127\.0\.0\.1:$SERVER_PORT: connect failed: tls: handshake timeout after 500 ms$"
	out=$(timeout 10 psql "$(pg_conninfo "$l2")" -Atc 'select 1' 2>&1)
	expect_match "psql's error" 'mute: tls: no answer to the SSLRequest within 500 ms' "$out"
	expect_log "warn: chk/mute: unknown -> down \\([0-9]+ failed checks; last: tls: handshake timeout after 500 ms; " 15
}

# ---------------------------------------------------------------------
# PostgreSQL

# psql (default sslmode) and pgbench through postern to a cluster that
# takes TLS only; the server sees TLS; the health check goes through
# SSLRequest and the handshake.
case_pg_tls() {
	local out
	start_pg_tls
	out=$(timeout 10 psql "$(pg_conninfo "$PG_PORT" sslmode=disable)" -Atc 'select 1' 2>&1)
	expect_match "the cluster refuses clear connections" 'no encryption' "$out"
	GLOBAL_OPTS=(log_level=debug)
	postern_service postgres "public tls://127.0.0.1:$PG_PORT ca=$PKI/ca.crt name=db.example.test" -- \
	    "${FAST[@]}"
	expect_log "debug: postgres/public: check: ok \(TLS handshake completed \(TLSv1\.3\)\)"
	expect_log 'notice: postgres/public: up \(check ok\)$'
	expect_eq "psql with the default sslmode" 1 "$(psql_at "$LISTEN_PORT" 'select 1')"
	expect_eq "the server sees TLS" "t|TLSv1.3" \
	    "$(psql_at "$LISTEN_PORT" 'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()')"
	out=$(timeout 120 pgbench -i -s 1 -q -h 127.0.0.1 -p "$LISTEN_PORT" -U postgres postgres 2>&1) ||
	    fail_case "pgbench -i failed: $(_short "$(tail -n 3 <<< "$out")")"
	out=$(timeout 120 pgbench -n -c 4 -j 2 -t 100 -h 127.0.0.1 -p "$LISTEN_PORT" -U postgres postgres 2>&1) ||
	    fail_case "pgbench run failed: $(_short "$(tail -n 5 <<< "$out")")"
	expect_match "pgbench transactions" 'number of transactions actually processed: 400/400' "$out"
	expect_eq "accounts loaded" 100000 "$(pg_local 'select count(*) from pgbench_accounts')"
	expect_log " -> public 127\.0\.0\.1:$PG_PORT: connected in [0-9]+ ms \(TLSv1\.3 "
	expect_log " -> public 127\.0\.0\.1:$PG_PORT: backend pid [0-9]+, 4-byte cancel key$"
	expect_no_log 'SSL error|could not accept SSL' "$PG_DIR/log"
}

# A cluster without TLS behind a tls:// route: its 'N' is a refusal.
case_pg_refuses_tls() {
	start_postgres
	postern_service postgres "public tls://127.0.0.1:$PG_PORT ca=$PKI/ca.crt" -- "${FAST[@]}"
	expect_log "warn: postgres/public: unknown -> down \(2 failed checks; last: tls: the server does not accept TLS \(SSLRequest answered 'N'\)"
}

# pg_major: the major version of the PostgreSQL server binaries (PGBIN).
pg_major() {
	"$PGBIN/postgres" -V 2>/dev/null | sed -E 's/.* ([0-9]+)[.a-z].*/\1/'
}

# PostgreSQL 17 direct TLS (sslnegotiation=direct) against a real
# PostgreSQL 17 that takes TLS only: TLS from the first byte with ALPN
# "postgresql".  A socat in the middle records the bytes postern sends:
# the first must be a TLS handshake record (0x16 0x03), not an
# SSLRequest.  psql, the health check and a cancel go that way.
case_pg_direct() {
	local v mid
	v=$(pg_major)
	[[ -n "$v" ]] && ((v >= 17)) ||
	    skip_case "PostgreSQL ${v:-?} here: direct TLS needs 17 (the Debian 13 stage of tests/run.sh runs this case)"
	start_pg_tls
	mid=$(free_port) || fail_case "no free port"
	(_close_sess_fds; exec socat -x "TCP-LISTEN:$mid,bind=127.0.0.1,reuseaddr,fork" \
	    "TCP:127.0.0.1:$PG_PORT") 2> "$T/wire.log" &
	track_server "$!"
	wait_until 10 port_listening "$mid" || fail_case "socat did not listen"
	GLOBAL_OPTS=(log_level=debug)
	postern_service postgres "direct tls://127.0.0.1:$mid ca=$PKI/ca.crt name=db.example.test sslnegotiation=direct" -- \
	    "${FAST[@]}"
	expect_log 'notice: postgres/direct: up \(check ok\)$'
	expect_eq "psql through a direct TLS route" 1 "$(psql_at "$LISTEN_PORT" 'select 1')"
	expect_eq "the server sees TLS" "t|TLSv1.3" \
	    "$(psql_at "$LISTEN_PORT" 'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()')"
	expect_log " -> direct 127\.0\.0\.1:$mid: connected in [0-9]+ ms \(TLSv1\.3 [A-Z0-9_]+, (full handshake|resumed), ALPN postgresql\)$"
	# socat -x: "> date length=N from=0 to=N-1" then the hex; each
	# connection's first bytes from postern start with "16 03".
	awk '/^> .*from=0 /{ getline; print substr($0, 1, 6) }' "$T/wire.log" | sort -u > "$T/first"
	expect_eq "first bytes of each connection to the server" " 16 03" "$(cat "$T/first")"
	expect_cancel direct "$mid"
}

# A server that selects no ALPN (openssl s_server without -alpn; a real
# PostgreSQL 17 always selects it) is refused on a direct route.
case_pg_direct_noalpn() {
	local p2 out
	p2=$(free_port) || fail_case "no free port"
	start_s_server noalpn "$p2"
	postern_service postgres "noalpn tls://127.0.0.1:$p2 ca=$PKI/ca.crt sslnegotiation=direct" -- \
	    check=none hold_timeout=1s
	out=$(timeout 10 psql "$(pg_conninfo "$LISTEN_PORT")" -Atc 'select 1' 2>&1)
	expect_match "psql's error through a server without ALPN" \
	    "noalpn: tls: the server did not select ALPN 'postgresql'" "$out"
}

# sleeping_backend: the pid of the backend running pg_sleep, or nothing.
sleeping_backend() {
	pg_local "select pid from pg_stat_activity where query like 'select pg_sleep(30)%' and state = 'active'"
}

backend_sleeping() {
	[[ -n "$(sleeping_backend)" ]]
}

# expect_cancel ROUTE [PORT]: psql -c 'select pg_sleep(30)' through
# postern (ROUTE dials 127.0.0.1:PORT, default PG_PORT), SIGINT
# (psql sends a CancelRequest to postern's port); the backend must stop
# within a second, per pg_stat_activity on the server.
expect_cancel() {
	local pid bpid t0 n=0
	# Not under timeout(1): a background job starts with SIGINT ignored,
	# and coreutils 9.10's timeout then passes none on to psql.
	psql "$(pg_conninfo "$LISTEN_PORT")" -X -c 'select pg_sleep(30)' > "$T/sleep.out" 2>&1 &
	pid=$!
	track_client "$pid"
	wait_until 10 backend_sleeping || fail_case "pg_sleep never showed up on the server"
	bpid=$(sleeping_backend)
	t0=$(date +%s%N)
	kill -INT "$pid"
	while [[ -n "$(sleeping_backend)" ]]; do
		(($(date +%s%N) - t0 < 1000000000)) ||
		    fail_case "backend $bpid still running pg_sleep 1s after SIGINT to psql"
		sleep 0.05
	done
	wait_exit "$pid" 10 || fail_case "psql did not end after the cancel"
	expect_match "psql's output" 'canceling statement due to user request' "$(cat "$T/sleep.out")"
	expect_log " cancel request for backend pid $bpid \\(4-byte key\\) goes to route $1$"
	expect_log " s[0-9]+ postgres 127\.0\.0\.1:[0-9]+ -> $1 127\.0\.0\.1:${2:-$PG_PORT}: closed \(server closed\) after [0-9.]+s, 16 bytes up, 0 bytes down$"
}

case_cancel_plain() {
	start_postgres
	GLOBAL_OPTS=(log_level=debug)
	postern_service postgres "private tcp://127.0.0.1:$PG_PORT" -- "${FAST[@]}"
	expect_cancel private
	# A key nobody has: logged and closed, nothing dialed.
	printf '\000\000\000\020\004\322\026\056\000\000\000\001\000\000\000\002' |
	    timeout 10 socat -t 2 - "TCP:127.0.0.1:$LISTEN_PORT" > /dev/null 2>&1
	expect_log " s[0-9]+ postgres 127\.0\.0\.1:[0-9]+: closed \(client: cancel request for an unknown backend \(pid 1\)\)"
}

case_cancel_tls() {
	start_pg_tls
	GLOBAL_OPTS=(log_level=debug)
	postern_service postgres "public tls://127.0.0.1:$PG_PORT ca=$PKI/ca.crt name=db.example.test" -- \
	    "${FAST[@]}"
	expect_cancel public
}

# ---------------------------------------------------------------------
# Failover and configuration

# The preferred route is plain TCP, the fallback TLS (a provider's public
# endpoint): when private dies, a new client is served through TLS as if
# nothing happened.
case_failover_tcp_to_tls() {
	start_redis
	PRIV_PORT=$REDIS_PORT PRIV_PID=$REDIS_PID
	expect_eq "SET who on private" OK "$(rcli "$PRIV_PORT" SET who private 2>&1)"
	start_redis_tls
	PUB_PORT=$REDIS_PORT
	expect_eq "SET who on public" OK "$(tls_rcli "$PUB_PORT" SET who public 2>&1)"
	postern_redis "private tcp://127.0.0.1:$PRIV_PORT" \
	    "public tls://127.0.0.1:$PUB_PORT ca=$PKI/ca.crt name=redis.example.test" -- "${FAST[@]}"
	expect_log 'notice: redis/private: up \(check ok\)$'
	expect_log 'notice: redis/public: up \(check ok\)$'
	expect_eq "GET who before" private "$(rcli "$LISTEN_PORT" GET who 2>&1)"
	kill -KILL "$PRIV_PID"
	{ wait "$PRIV_PID"; } 2> /dev/null
	expect_log 'warn: redis/private: up -> down \(2 failed checks; last: connection refused; '
	expect_log 'warn: service redis: new sessions go to public \(was private\)$'
	expect_eq "GET who after" public "$(rcli "$LISTEN_PORT" GET who 2>&1)"
	expect_log " -> public 127\.0\.0\.1:$PUB_PORT: closed \(client closed\)"
}

# postern -n loads what tls:// routes name: a CA file without
# certificates, a key that is not the certificate's, an encrypted key,
# each "file:line: route 'name': why".  A reload with such a file keeps
# the running generation.
case_config_errors() {
	local out st
	printf 'not a certificate\n' > "$T/bad.pem"
	openssl pkey -in "$PKI/server.key" -aes256 -passout pass:secret -out "$T/enc.key" 2> /dev/null ||
	    fail_case "cannot make an encrypted key"
	cat > "$T/bad.conf" <<-EOF
	[service pg]
	listen = 127.0.0.1:1
	protocol = postgres
	route = public tls://127.0.0.1:2 ca=$T/bad.pem
	route = mtls tls://127.0.0.1:2 ca=$PKI/ca.crt cert=$PKI/server.crt key=$PKI/client.key
	route = enc tls://127.0.0.1:2 cert=$PKI/server.crt key=$T/enc.key
	route = neg tls://127.0.0.1:2 sslnegotiation=direct verify=none
	EOF
	out=$("$POSTERN" -n -c "$T/bad.conf" < /dev/null 2>&1)
	st=$?
	expect_eq "postern -n exit status" 2 "$st"
	expect_match "bad CA" "bad\.conf:4: route 'public': cannot load CA file $T/bad\.pem: " "$out"
	expect_match "mismatch" "bad\.conf:5: route 'mtls': certificate $PKI/server\.crt and key $PKI/client\.key do not match" "$out"
	expect_match "encrypted key" "bad\.conf:6: route 'enc': key $T/enc\.key is encrypted" "$out"
	[[ "$out" == *"'neg'"* ]] && fail_case "route neg is valid, yet: $out"

	start_redis_tls
	cp "$PKI/ca.crt" "$T/ca-live.crt"
	postern_redis "public tls://127.0.0.1:$REDIS_PORT ca=$T/ca-live.crt verify=full" -- "${FAST[@]}"
	expect_log 'notice: redis/public: up \(check ok\)$'
	cp "$T/bad.pem" "$T/ca-live.crt"
	kill -HUP "$POSTERN_PID"
	expect_log "error: $CONF:[0-9]+: route 'public': cannot load CA file $T/ca-live\.crt: "
	expect_log 'error: reload failed: keeping the running configuration'
	expect_eq "PING after the failed reload" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

# verify=none: allowed, and warned about at start.
case_verify_none() {
	start_redis_tls "$PKI/expired.crt"
	postern_redis "public tls://127.0.0.1:$REDIS_PORT verify=none" -- "${FAST[@]}"
	expect_log "warn: route 'public' \(tls://127\.0\.0\.1:$REDIS_PORT\): verify = none: the server's certificate is not checked$"
	expect_log 'notice: redis/public: up \(check ok\)$'
	expect_eq "PING with verify=none" PONG "$(rcli "$LISTEN_PORT" PING 2>&1)"
}

cd "$T" || exit 1
make_pki > "$T/pki.log" 2>&1 || {
	fail "$SCRIPT_NAME: certificates" "openssl failed: $(tail -n 3 "$T/pki.log" | paste -sd'|')"
	finish
}
cd "$T" || exit 1

run_case "redis over TLS: commands, 64 MiB value, resumption" case_redis_tls
run_case "client certificate: accepted with cert/key, refused without" case_client_cert
run_case "verification errors: unknown CA, name mismatch, expired, protocol version" case_verify_errors
run_case "name= dials 127.0.0.1 and verifies db.example.test (SNI)" case_name_option
run_case "handshake and SSLRequest timeouts within connect_timeout" case_handshake_timeout
run_case "postgres TLS-only: psql default sslmode, pgbench, TLS health check" case_pg_tls
run_case "postgres without TLS behind tls://: 'N' is a refusal" case_pg_refuses_tls
run_case "postgres 17 direct TLS: sslnegotiation=direct, ALPN postgresql, cancel" case_pg_direct
run_case "postgres direct TLS: a server without ALPN is refused" case_pg_direct_noalpn
run_case "cancel: pg_sleep cancelled through postern on a plaintext route" case_cancel_plain
run_case "cancel: pg_sleep cancelled through postern on a TLS route" case_cancel_tls
run_case "failover from tcp:// to tls:// is transparent to a new client" case_failover_tcp_to_tls
run_case "config: CA, key mismatch, encrypted key; reload keeps running" case_config_errors
run_case "verify=none: warned at start, works" case_verify_none
finish
