#!/bin/bash
# Checks that know which server they reached: authenticated PostgreSQL
# checks (SCRAM-SHA-256, md5 and cleartext only inside TLS unless
# check_allow_md5, SCRAM-SHA-256-PLUS
# with channel binding on a tls:// route), check_role = primary | standby
# across a real promotion (a streaming standby made with pg_basebackup -R),
# and the identity guard (an unrelated cluster behind a route; a Redis
# identity key).  Servers are real; log lines are the contract, waited
# for with a bound.
. "$(dirname "$0")/../lib.sh"

# An authenticated check costs a SCRAM key derivation (4096 PBKDF2
# rounds), slow under AddressSanitizer on a loaded machine: a 300 ms
# timeout failed first checks in CI, so 1 s.
FAST=(check_interval=1s check_fast_interval=200ms check_down_interval=300ms
	check_timeout=1s fall=2 rise=2)

# The check users and their passwords (never in postern's log).
PW_SCRAM="scram-Pw-0001"
PW_MD5="md5-Pw-0002"
PW_CLEAR="clear-Pw-0003"

# pg_hba.conf of the clusters: the check users by method, the test's own
# connections (postgres, replication) trusted.
HBA_TCP=$'local all all trust\nlocal replication all trust
host replication all 127.0.0.1/32 trust
host all postgres 127.0.0.1/32 trust
host all chk_md5 127.0.0.1/32 md5
host all chk_clear 127.0.0.1/32 password
host all all 127.0.0.1/32 scram-sha-256'

# ---------------------------------------------------------------------
# Helpers

# psql_sock DIR PORT SQL: a query on a cluster over its Unix socket.
psql_sock() {
	timeout 30 psql "host=$1/sock port=$2 user=postgres dbname=postgres" \
	    -X -Atc "$3" 2>&1
}

# start_cluster NAME: start_postgres with HBA_TCP (or PG_HBA when set)
# and the check users; sets NAME_PORT and NAME_DIR.
start_cluster() {
	local name=$1 out
	PG_HBA=${PG_HBA:-$HBA_TCP} start_postgres
	printf -v "${name}_PORT" '%s' "$PG_PORT"
	printf -v "${name}_DIR" '%s' "$PG_DIR"
	out=$(psql_sock "$PG_DIR" "$PG_PORT" "
	    SET password_encryption = 'scram-sha-256';
	    CREATE ROLE chk_scram LOGIN PASSWORD '$PW_SCRAM';
	    CREATE ROLE chk_clear LOGIN PASSWORD '$PW_CLEAR';
	    SET password_encryption = 'md5';
	    CREATE ROLE chk_md5 LOGIN PASSWORD '$PW_MD5';") ||
	    fail_case "cannot create the check users: $out"
}

# sysid NAME: the cluster's system_identifier.
sysid() {
	local dir=${1}_DIR port=${1}_PORT
	psql_sock "${!dir}" "${!port}" 'SELECT system_identifier FROM pg_control_system()'
}

# start_standby NAME PRIMARY: start_pg_standby of cluster PRIMARY; sets
# NAME_PORT and NAME_DIR.
start_standby() {
	local pport=${2}_PORT
	start_pg_standby "${!pport}"
	printf -v "${1}_PORT" '%s' "$PG_PORT"
	printf -v "${1}_DIR" '%s' "$PG_DIR"
}

# pw_file NAME PASSWORD: $T/NAME.pw, mode 600; prints its path.
pw_file() {
	printf '%s\n' "$2" > "$T/$1.pw"
	chmod 600 "$T/$1.pw"
	printf '%s' "$T/$1.pw"
}

# pg_checked NAME ROUTE... -- KEY=VALUE...: a postgres service section
# on a free port with the FAST checks.
pg_checked() {
	local name=$1
	shift
	conf_service "$name" "127.0.0.1:$(free_port)" postgres "$@" "${FAST[@]}"
}

# expect_no_secrets: no password in postern's log.
expect_no_secrets() {
	expect_no_log "$PW_SCRAM|$PW_MD5|$PW_CLEAR|wrong-Pw"
}

# ---------------------------------------------------------------------
# Authentication methods over tcp://

case_auth_methods() {
	local scram md5 bad clear out
	start_cluster A
	scram=$(pw_file scram "$PW_SCRAM")
	md5=$(pw_file md5 "$PW_MD5")
	bad=$(pw_file bad wrong-Pw-0004)
	clear=$(pw_file clear "$PW_CLEAR")
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/auth.conf
	{ conf_global log_level=debug
	  conf_service scram "127.0.0.1:$LISTEN_PORT" postgres "a tcp://127.0.0.1:$A_PORT" -- \
	      "${FAST[@]}" check_user=chk_scram check_database=postgres "check_password_file=$scram"
	  pg_checked md5 "a tcp://127.0.0.1:$A_PORT" -- check_user=chk_md5 \
	      check_database=postgres "check_password_file=$md5" check_allow_md5=yes
	  pg_checked md5no "a tcp://127.0.0.1:$A_PORT" -- check_user=chk_md5 \
	      check_database=postgres "check_password_file=$md5"
	  pg_checked badpw "a tcp://127.0.0.1:$A_PORT" -- check_user=chk_scram \
	      check_database=postgres "check_password_file=$bad"
	  pg_checked clear "a tcp://127.0.0.1:$A_PORT" -- check_user=chk_clear \
	      check_database=postgres "check_password_file=$clear"
	  pg_checked nopw "a tcp://127.0.0.1:$A_PORT" -- check_user=chk_scram \
	      check_database=postgres
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'debug: scram/a: check: ok \(authenticated \(SCRAM-SHA-256\); primary\)'
	expect_log 'notice: scram/a: up \(check ok\)$'
	expect_log 'debug: md5/a: check: ok \(authenticated \(md5\); primary\)'
	# md5 over tcp:// without check_allow_md5: a downgrade from SCRAM
	# would hand the hash to whoever is on the path; refused.
	expect_log 'warn: md5no/a: unknown -> down \(2 failed checks; last: '
	expect_log 'debug: md5no/a: check: authentication \(auth failed \(the server asks for an md5 password hash on a connection without TLS; refused: whoever is on the path could have downgraded SCRAM to crack it \(use a tls:// route, scram-sha-256 in pg_hba\.conf, or check_allow_md5 = yes\)\)\)'
	# Down, and why: the check's own line (the transition names the last
	# of its two failures, which a loaded machine can make a timeout).
	expect_log 'warn: badpw/a: unknown -> down \(2 failed checks; last: '
	expect_log 'debug: badpw/a: check: authentication \(auth failed \(28P01: password authentication failed for user "chk_scram"\)\)'
	expect_log 'warn: clear/a: unknown -> down \(2 failed checks; last: '
	expect_log 'debug: clear/a: check: authentication \(auth failed \(the server asks for the password in cleartext on a connection without TLS; refused \(use a tls:// route, or scram-sha-256 in pg_hba\.conf\)\)\)'
	# Without a password the old liveness check remains.
	expect_log 'debug: nopw/a: check: ok \(authentication requested\)'
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -Atc 'SELECT 6 * 7' 2>&1)
	expect_eq "psql through the scram service" 42 "$out"
	wait_count "$POSTERN_LOG" 'debug: scram/a: check: ok' 5 10 ||
	    fail_case "fewer than 5 successful SCRAM checks"
	expect_no_secrets
	# The checks end their sessions with Terminate: no EOF complaints.
	grep -q 'unexpected EOF' "$A_DIR/log" &&
	    fail_case "the server logged: $(grep -m 1 'unexpected EOF' "$A_DIR/log")"
	return 0
}

# ---------------------------------------------------------------------
# TLS: SCRAM-SHA-256-PLUS (tls-server-end-point), cleartext allowed

case_tls_plus() {
	local k=$T/pki scram clear md5
	mkdir -p "$k"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$k/server.key" -out "$k/server.crt" -days 30 \
	    -subj "/CN=db.example.test" \
	    -addext "subjectAltName=DNS:db.example.test,IP:127.0.0.1" \
	    > "$k/openssl.log" 2>&1 || fail_case "openssl req: $(tail -n 3 "$k/openssl.log")"
	chmod 600 "$k/server.key"
	((EUID == 0)) && chown -R postgres:postgres "$k"
	PG_HBA=$'local all all trust\nhostssl all chk_clear 127.0.0.1/32 password
hostssl all chk_md5 127.0.0.1/32 md5
hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject' \
	PG_OPTS="-c ssl=on -c ssl_cert_file=$k/server.crt -c ssl_key_file=$k/server.key" \
	    start_cluster A
	scram=$(pw_file scram "$PW_SCRAM")
	clear=$(pw_file clear "$PW_CLEAR")
	md5=$(pw_file md5 "$PW_MD5")
	CONF=$T/tls.conf
	{ conf_global log_level=debug
	  pg_checked plus "a tls://127.0.0.1:$A_PORT ca=$k/server.crt name=db.example.test" -- \
	      check_user=chk_scram check_database=postgres "check_password_file=$scram"
	  pg_checked clear "a tls://127.0.0.1:$A_PORT ca=$k/server.crt name=db.example.test" -- \
	      check_user=chk_clear check_database=postgres "check_password_file=$clear"
	  pg_checked md5tls "a tls://127.0.0.1:$A_PORT ca=$k/server.crt name=db.example.test" -- \
	      check_user=chk_md5 check_database=postgres "check_password_file=$md5"
	} > "$CONF"
	start_postern "$CONF"
	# The server checks the binding: a wrong certificate hash would fail.
	expect_log 'debug: plus/a: check: ok \(authenticated \(SCRAM-SHA-256-PLUS\); primary\)'
	expect_log 'notice: plus/a: up \(check ok\)$'
	expect_log 'debug: clear/a: check: ok \(authenticated \(password\); primary\)'
	expect_log 'notice: clear/a: up \(check ok\)$'
	# md5 inside TLS needs no check_allow_md5.
	expect_log 'debug: md5tls/a: check: ok \(authenticated \(md5\); primary\)'
	expect_no_secrets
}

# ---------------------------------------------------------------------
# Roles and a promotion; an unrelated cluster; a pinned identity

case_roles_identity() {
	local scram ida idc out
	start_cluster A
	start_standby B A
	start_cluster C		# unrelated: its own initdb
	ida=$(sysid A)
	idc=$(sysid C)
	[[ "$ida" =~ ^[0-9]+$ && "$(sysid B)" == "$ida" && "$idc" != "$ida" ]] ||
	    fail_case "system identifiers: A=$ida B=$(sysid B) C=$idc"
	scram=$(pw_file scram "$PW_SCRAM")
	ADMIN=127.0.0.1:$(free_port)
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/roles.conf
	{ conf_global log_level=debug "admin=$ADMIN"
	  conf_service pg "127.0.0.1:$LISTEN_PORT" postgres \
	      "a tcp://127.0.0.1:$A_PORT" "b tcp://127.0.0.1:$B_PORT" \
	      "c tcp://127.0.0.1:$C_PORT" -- "${FAST[@]}" check_role=primary \
	      check_user=chk_scram check_database=postgres "check_password_file=$scram"
	  pg_checked ro "b tcp://127.0.0.1:$B_PORT" "a tcp://127.0.0.1:$A_PORT" -- \
	      check_role=standby check_user=chk_scram check_database=postgres \
	      "check_password_file=$scram"
	  pg_checked pinned "c tcp://127.0.0.1:$C_PORT" "a tcp://127.0.0.1:$A_PORT" -- \
	      check_user=chk_scram check_database=postgres \
	      "check_password_file=$scram" "identity_value=$ida"
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: pg/a: up \(check ok\)$'
	expect_log 'warn: pg/b: unknown -> down \(2 failed checks; last: role: standby, wanted primary; '
	expect_log "warn: pg/c: identity mismatch: system $idc but a has system $ida; route refused$"
	# c may be up for a moment (it answered before a did: not verified
	# then, which is no failure of its own); it goes down either way.
	expect_log "warn: pg/c: (unknown|up) -> down \\(2 failed checks; last: identity mismatch: system $idc but a has system $ida; "
	expect_log 'notice: ro/b: up \(check ok\)$'
	expect_log 'warn: ro/a: unknown -> down \(2 failed checks; last: role: primary, wanted standby; '
	expect_log "warn: pinned/c: identity mismatch: system $idc but identity_value is system $ida; route refused$"
	# c is refused before the service's first choice (its checks are set up
	# with the service), so new sessions go to a from the start.
	expect_log 'notice: service pinned: new sessions go to a( \(was c\))?$'
	# /health and ctl status say why c is not used.
	out=$(timeout 10 curl -fsS "http://$ADMIN/health") || fail_case "GET /health failed"
	expect_match "/health: pg/c refused" 'identity mismatch: system' \
	    "$(jq -r '.services.pg.routes.c.refused' <<< "$out")"
	expect_eq "/health: pg/a identity" "$ida" "$(jq -r '.services.pg.routes.a.identity' <<< "$out")"
	out=$(timeout 20 "$POSTERN" ctl -a "$ADMIN" status 2>&1)
	expect_match "ctl status" "refused: identity mismatch: system $idc but a has system $ida" "$out"
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -Atc 'SELECT pg_is_in_recovery()' 2>&1)
	expect_eq "pg serves from the primary" f "$out"
	# Failover: promote the standby, stop the old primary.
	_as_postgres timeout 60 "$PGBIN/pg_ctl" -w -D "$B_DIR/data" promote > "$T/promote.log" 2>&1 ||
	    fail_case "pg_ctl promote failed: $(cat "$T/promote.log")"
	_as_postgres timeout 60 "$PGBIN/pg_ctl" -w -D "$A_DIR/data" -m fast stop > /dev/null 2>&1
	expect_log 'notice: pg/b: down -> up \(2 successful checks; ' 15
	expect_log 'warn: pg/a: up -> down \(2 failed checks; last: connection refused; ' 15
	# (Whether a goes down before b comes up is a race; c, refused, never
	# fills the gap.)
	expect_log '(notice|warn): service pg: new sessions go to b( \(was a\))?$' 15
	expect_log 'warn: ro/b: up -> down \(2 failed checks; last: role: primary, wanted standby; ' 15
	out=$(timeout 30 psql "$(pg_conninfo "$LISTEN_PORT")" -Atc 'SELECT pg_is_in_recovery()' 2>&1)
	expect_eq "pg serves from the promoted standby" f "$out"
	# The unrelated cluster stays refused, up or not.
	expect_no_log 'pg/c: identity verified'
	expect_no_log ' s[0-9]+ pg 127\.0\.0\.1:[0-9]+ -> c '
	expect_no_secrets
}

# ---------------------------------------------------------------------
# Configuration errors, all at once, with file:line

case_config_errors() {
	local pw out rc
	pw=$T/open.pw
	printf 'x\n' > "$pw"
	chmod 644 "$pw"
	cat > "$T/bad.conf" <<-EOF
	[service pg]
	listen = 127.0.0.1:$(free_port)
	protocol = postgres
	route = a tcp://127.0.0.1:1
	check_user = chk
	check_password_file = $pw
	check_role = master
	identity_key = postern:identity

	[service r]
	listen = 127.0.0.1:$(free_port)
	protocol = redis
	route = a tcp://127.0.0.1:1
	check_role = standby
	identity_value = prod

	[service t]
	listen = 127.0.0.1:$(free_port)
	route = a tcp://127.0.0.1:1
	check_role = primary
	EOF
	out=$(timeout 20 "$POSTERN" -n -c "$T/bad.conf" 2>&1)
	rc=$?
	expect_eq "exit status of -n" 2 "$rc"
	expect_match "-n" "bad\\.conf:6: check_password_file $pw: mode 0644 lets others read or write it: chmod 600 it" "$out"
	expect_match "-n" "bad\\.conf:7: check_role = master is a Redis role; a postgres check takes any, primary or standby" "$out"
	expect_match "-n" "bad\\.conf:8: identity_key is for redis checks \\(this service's is postgres\\)" "$out"
	expect_match "-n" "bad\\.conf:14: check_role = standby is a PostgreSQL role; a redis check takes any, master or replica" "$out"
	expect_match "-n" "bad\\.conf:15: identity_value needs identity_key" "$out"
	expect_match "-n" "bad\\.conf:20: check_role = primary needs a redis or postgres check \\(this service's is tcp\\)" "$out"
	chmod 600 "$pw"
	sed -i '/check_role = \(master\|standby\|primary\)/d; /identity_/d' "$T/bad.conf"
	out=$(timeout 20 "$POSTERN" -n -c "$T/bad.conf" 2>&1 | grep -v ': warning: ')
	expect_eq "-n once fixed" "configuration OK" "$out"
	# Root-owned and readable by a group postern runs with (a Kubernetes
	# Secret with fsGroup): accepted, as for every secret file.
	chown 0:0 "$pw"
	chmod 640 "$pw"
	out=$(timeout 20 "$POSTERN" -n -c "$T/bad.conf" 2>&1 | grep -v ': warning: ')
	expect_eq "-n with a root:root 0640 password file" "configuration OK" "$out"
	# A reload refuses the file once its group may write it, and the
	# running configuration stays.
	start_postern "$T/bad.conf"
	chmod 660 "$pw"
	kill -HUP "$POSTERN_PID"
	expect_log "error: .*bad\\.conf:6: check_password_file $pw: mode 0660 lets its group write it: chmod 600 it"
	expect_log 'error: reload failed: keeping the running configuration \(generation 1\)$'
	stop_postern
}

# ---------------------------------------------------------------------
# Redis: the identity key

case_redis_identity() {
	local pa pb out
	start_redis
	pa=$REDIS_PORT
	start_redis
	pb=$REDIS_PORT
	expect_eq "SET on a" OK "$(rcli "$pa" SET postern:identity prod 2>&1)"
	expect_eq "SET on b" OK "$(rcli "$pb" SET postern:identity prod 2>&1)"
	expect_eq "SET who on b" OK "$(rcli "$pb" SET who b 2>&1)"
	LISTEN_PORT=$(free_port) || fail_case "no free port"
	CONF=$T/redis.conf
	{ conf_global log_level=debug
	  conf_service redis "127.0.0.1:$LISTEN_PORT" redis \
	      "a tcp://127.0.0.1:$pa" "b tcp://127.0.0.1:$pb" -- "${FAST[@]}" \
	      identity_key=postern:identity hold_timeout=1s
	  conf_service plain "127.0.0.1:$(free_port)" redis \
	      "a tcp://127.0.0.1:$pa" "b tcp://127.0.0.1:$pb" -- "${FAST[@]}"
	} > "$CONF"
	start_postern "$CONF"
	expect_log 'notice: redis/a: up \(check ok\)$'
	expect_log 'notice: redis/b: up \(check ok\)$'
	expect_log 'notice: redis/b: identity verified; route accepted$'
	# b now holds another dataset: refused at its next check.
	expect_eq "SET on b" OK "$(rcli "$pb" SET postern:identity staging 2>&1)"
	expect_log "warn: redis/b: identity mismatch: postern:identity 'staging' but a has postern:identity 'prod'; route refused$"
	# With a gone, b is not a resort: the client gets the error.
	rcli "$pa" SHUTDOWN NOSAVE > /dev/null 2>&1
	expect_log 'warn: redis/a: up -> down \(2 failed checks; last: connection refused; '
	out=$(rcli "$LISTEN_PORT" GET who 2>&1)
	expect_match "GET with a down and b refused" '^ERR postern: no healthy route for service redis' "$out"
	# The service without the guard still uses b.
	expect_log 'warn: service plain: new sessions go to b \(was a\)$'
	# b comes back to the right dataset: accepted again, serves.
	expect_eq "SET on b" OK "$(rcli "$pb" SET postern:identity prod 2>&1)"
	expect_log 'notice: redis/b: identity verified; route accepted$' 10
	wait_count "$POSTERN_LOG" 'notice: redis/b: identity verified; route accepted$' 2 10 ||
	    fail_case "b was not accepted again"
	expect_log '(notice|warn): service redis: new sessions go to b' 10
	expect_eq "GET who through postern" b "$(rcli "$LISTEN_PORT" GET who 2>&1)"
	# Without the key: the check fails and says so.
	expect_eq "DEL on b" 1 "$(rcli "$pb" DEL postern:identity 2>&1)"
	expect_log "warn: redis/b: up -> down \\(2 failed checks; last: identity: key 'postern:identity' is not set; " 10
}

run_case "SCRAM, md5 (refused without TLS unless allowed), wrong password, cleartext refused without TLS" case_auth_methods
run_case "tls://: SCRAM-SHA-256-PLUS, cleartext and md5 inside TLS" case_tls_plus
run_case "check_role primary/standby, promotion, identity guard" case_roles_identity
run_case "configuration errors for roles, identity, password file mode; reload" case_config_errors
run_case "redis identity_key: mismatch refused, never a resort" case_redis_identity
finish
