/*
 * conf_keys.c: the key table and its value syntax.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_keys.h"

static const char *const log_levels[] = {
	"error", "warn", "notice", "info", "debug", NULL
};
static const char *const protocols[] = { "tcp", "redis", "postgres", NULL };
/* In enum conf_role's order. */
static const char *const roles[] = {
	"any", "master", "replica", "primary", "standby", NULL
};
static const char *const identities[] = { "auto", "off", NULL };
static const char *const on_down[] = { "keep", "close", "move", NULL };
static const char *const on_failback[] = { "move", "keep", NULL };
static const char *const no_yes[] = { "no", "yes", NULL };
static const char *const audits[] = { "off", "log", "json", NULL };
static const char *const host_key_checks[] = { "yes", "accept-new", "ask",
	NULL };
static const char *const ssh_engines[] = { "libssh2", "openssh", NULL };
static const char *const mux_forwards[] = { "stdio", "listener", "client",
	"proxy", NULL };
static const char *const tls_verify[] = { "full", "none", NULL };
static const char *const tls_versions[] = { "tls1.2", "tls1.3", NULL };
static const char *const pg_negotiations[] = { "postgres", "direct", NULL };
static const char *const checks[] = {
	"default", "none", "tcp", "redis", "postgres", NULL
};

#define G(f)	offsetof(struct conf, f)
#define B(f)	offsetof(struct conf_bastion, f)
#define S(f)	offsetof(struct conf_service, f)
#define T(f)	offsetof(struct conf_tls, f)
#define R(f)	offsetof(struct conf_route, f)
#define DAY_MS	(24 * 3600 * 1000)

/* Sorted by section, then key. */
const struct conf_key conf_keys[] = {
	{ SECT_GLOBAL, "admin", TYPE_LISTEN, G(admin), NULL, 0, 0, NULL, 0,
	  "address of the admin HTTP endpoint (loopback or unix:/path); "
	  "none when unset" },
	{ SECT_GLOBAL, "admin_read_token", TYPE_ENUM, G(admin_read_token),
	  "no", 0, 0, no_yes, 0,
	  "yes: /health, /status and /metrics need the token too (the probes "
	  "never do); needs admin_token_file" },
	{ SECT_GLOBAL, "admin_socket_group", TYPE_STRING,
	  G(admin_socket_group), NULL, 0, 0, NULL, 0,
	  "unix:/path admin address: the group the socket belongs to "
	  "(with admin_socket_mode 0660, its members may use postern ctl); "
	  "unset: postern's" },
	{ SECT_GLOBAL, "admin_socket_mode", TYPE_STRING, G(admin_socket_mode),
	  "0600", 0, 0, NULL, 0,
	  "unix:/path admin address: the socket's permissions, in octal "
	  "(connecting needs write permission); at least 0600" },
	{ SECT_GLOBAL, "admin_token_file", TYPE_PATH, G(admin_token_file),
	  NULL, 0, 0, NULL, KEY_SECRET,
	  "file whose first line is the bearer token route control needs "
	  "(required for writes off loopback); a secret file "
	  "(postern.conf(5): mode 600, or 640 root-owned)" },
	{ SECT_GLOBAL, "audit", TYPE_ENUM, G(audit), "off", 0, 0, audits, 0,
	  "one record per session: who (the client's local uid), when, "
	  "service, route, bastion, bytes each way, duration, how it ended; "
	  "log: a text line, json: a JSON object; off: none" },
	{ SECT_GLOBAL, "audit_file", TYPE_STRING, G(audit_file), NULL, 0, 0,
	  NULL, 0,
	  "append audit records to this file (created 0600; opened for each "
	  "record, so it may be rotated) instead of postern's log" },
	{ SECT_GLOBAL, "drain_timeout", TYPE_DURATION, G(drain_timeout_ms),
	  "30s", 0, DAY_MS, NULL, 0,
	  "on SIGTERM, how long established sessions may finish before they "
	  "are closed" },
	{ SECT_GLOBAL, "log_level", TYPE_ENUM, G(log_level), "info", 0, 0,
	  log_levels, 0, "error, warn, notice, info or debug" },
	{ SECT_GLOBAL, "max_sessions", TYPE_INT, G(max_sessions), "0", 0,
	  1000000, NULL, 0,
	  "concurrent client sessions across all services (each service's "
	  "max_connections still applies); more are refused; 0: no cap "
	  "beyond the services' own" },
	{ SECT_GLOBAL, "resolver", TYPE_HOSTPORT, G(resolver), NULL, 0, 0,
	  NULL, 0,
	  "IP:port of the DNS server that resolves route and bastion names, "
	  "instead of /etc/resolv.conf's nameservers (its search list "
	  "stays); unset: /etc/resolv.conf" },
	{ SECT_GLOBAL, "shutdown_delay", TYPE_DURATION, G(shutdown_delay_ms),
	  "0", 0, 3600 * 1000, NULL, 0,
	  "on SIGTERM, how long to keep accepting new connections (readiness "
	  "already failing) before the drain starts" },
	{ SECT_GLOBAL, "user", TYPE_USER, G(user), NULL, 0, 0, NULL, 0,
	  "after binding, switch to this user and its groups (starts as root "
	  "outside systemd); none when unset" },
	{ SECT_GLOBAL, "watch_config", TYPE_ENUM, G(watch_config), "no", 0, 0,
	  no_yes, 0,
	  "yes: reload when the configuration file changes (inotify on its "
	  "directory, a Kubernetes ConfigMap's ..data swap included, and a "
	  "check every 2s), as SIGHUP does" },

	{ SECT_BASTION, "address", TYPE_HOSTPORT, B(address), NULL, 0, 0,
	  NULL, KEY_REQUIRED, "host:port of the SSH bastion" },
	{ SECT_BASTION, "ciphers", TYPE_NAMES, B(ciphers), NULL, 0, 0, NULL,
	  0, "SSH ciphers to offer, in preference order, comma-separated "
	  "(each one this libssh2 supports, checked on load); unset: "
	  "chacha20-poly1305@openssh.com, aes128-gcm@openssh.com, "
	  "aes256-gcm@openssh.com, aes128-ctr, aes256-ctr, aes192-ctr, "
	  "those the library has" },
	{ SECT_BASTION, "connect_timeout", TYPE_DURATION,
	  B(connect_timeout_ms), "10s", 100, 3600 * 1000, NULL, 0,
	  "time to connect to the bastion: TCP, SSH handshake and "
	  "authentication" },
	{ SECT_BASTION, "connections", TYPE_INT, B(connections), "1", 1, 16,
	  NULL, 0,
	  "SSH connections kept open to the bastion, each opening its own "
	  "channels (libssh2 opens one at a time per connection)" },
	{ SECT_BASTION, "control_path", TYPE_PATH, B(control_path), NULL, 0,
	  0, NULL, KEY_CREATABLE, "engine = openssh: the control socket of a running ssh "
	  "ControlMaster to open channels through instead of starting one "
	  "(its host key checks are its own)" },
	{ SECT_BASTION, "engine", TYPE_ENUM, B(engine), "libssh2", 0, 0,
	  ssh_engines, 0, "libssh2: SSH in postern's process; openssh: "
	  "postern runs and supervises an ssh(1) ControlMaster (with the "
	  "user's ssh configuration) and opens each channel through its "
	  "multiplexing socket" },
	{ SECT_BASTION, "host_key_algorithms", TYPE_NAMES,
	  B(host_key_algorithms), NULL, 0, 0, NULL, 0,
	  "SSH host key algorithms to accept, in preference order, "
	  "comma-separated (each one this libssh2 supports, checked on "
	  "load); unset: ssh-ed25519, ecdsa-sha2-nistp256/384/521, "
	  "rsa-sha2-512, rsa-sha2-256, those the library has: not ssh-rsa "
	  "(SHA-1 signatures), which OpenSSH refuses too" },
	{ SECT_BASTION, "host_key_sha256", TYPE_STRING, B(host_key_sha256),
	  NULL, 0, 0, NULL, 0,
	  "pinned SHA-256 fingerprint of the bastion's host key "
	  "(SHA256:base64, as ssh-keygen -l prints it); replaces known_hosts" },
	{ SECT_BASTION, "identity", TYPE_PATH, B(identity), NULL, 0, 0, NULL,
	  KEY_SECRET, "private key file for authentication (ed25519, ecdsa or "
	  "rsa); without it, the ssh-agent at SSH_AUTH_SOCK" },
	{ SECT_BASTION, "identity_passphrase_file", TYPE_PATH,
	  B(identity_passphrase_file), NULL, 0, 0, NULL, KEY_SECRET,
	  "file whose first line is the passphrase of the identity" },
	{ SECT_BASTION, "keepalive_count", TYPE_INT, B(keepalive_count), "3",
	  1, 100, NULL, 0,
	  "keepalive intervals without any answer from the bastion after "
	  "which its connection is declared dead" },
	{ SECT_BASTION, "keepalive_interval", TYPE_DURATION,
	  B(keepalive_interval_ms), "15s", 100, 3600 * 1000, NULL, 0,
	  "how often an idle bastion connection is probed" },
	{ SECT_BASTION, "known_hosts", TYPE_PATH, B(known_hosts), NULL, 0, 0,
	  NULL, KEY_CREATABLE, "OpenSSH known_hosts file that verifies the bastion's "
	  "host key (default: ~/.ssh/known_hosts)" },
	{ SECT_BASTION, "max_connections", TYPE_INT, B(max_connections), "4",
	  1, 16, NULL, 0,
	  "connections grown while channel opens queue or one is stuck, "
	  "closed again when idle (at least connections; 1: never more)" },
	{ SECT_BASTION, "mux_forward", TYPE_ENUM, B(mux_forward), "stdio", 0,
	  0, mux_forwards, 0, "engine = openssh: how sessions reach the "
	  "master: stdio, one stdio forward each (a refused open is the "
	  "session's dial error, sessions drain on reload); listener, "
	  "through a listener the master opens per target, as ssh -O "
	  "forward -L (faster bursts; a refused open closes the session, a "
	  "reload that changes the bastion cuts its sessions); client, the "
	  "client's own socket handed to the master for protocol = tcp "
	  "sessions from TCP clients (no hop through postern; byte counts "
	  "from the kernel; such sessions never move), stdio for the rest; "
	  "proxy, postern's own channels through a few connections to the "
	  "master (MUX_C_PROXY: no descriptor passed per session, the "
	  "master relays packets)" },
	{ SECT_BASTION, "proxy_jump", TYPE_STRING, B(proxy_jump), NULL, 0, 0,
	  NULL, 0, "hops before the bastion: engine = openssh: given to "
	  "ssh -J (host1,user@host2:port...); engine = libssh2: the "
	  "[bastion] sections of the hops, nearest first (a,b)" },
	{ SECT_BASTION, "session_command", TYPE_STRING, B(session_command),
	  NULL, 0, 0, NULL, 0,
	  "command run in a session channel while connected (e.g. sleep "
	  "2147483647): makes OpenSSH's sshd turn Nagle off; none when unset" },
	{ SECT_BASTION, "ssh_config", TYPE_PATH, B(ssh_config), NULL, 0, 0,
	  NULL, 0, "engine = openssh: the ssh configuration file given to "
	  "ssh -F (unset: ssh's own, ~/.ssh/config)" },
	{ SECT_BASTION, "ssh_destination", TYPE_STRING, B(ssh_destination),
	  NULL, 0, 0, NULL, 0, "engine = openssh: the destination given to "
	  "ssh as typed (an ssh_config alias, [user@]host[:port]) instead of "
	  "address and user, so that ssh's Host and Match blocks see it" },
	{ SECT_BASTION, "strict_host_key_checking", TYPE_ENUM,
	  B(strict_host_key_checking), "yes", 0, 0, host_key_checks, 0,
	  "yes: refuse unknown and changed host keys; accept-new: add an "
	  "unknown host's key to known_hosts, refuse changed ones; ask: show "
	  "an unknown key's fingerprint on the terminal and add it if the "
	  "user answers yes (without a terminal: as yes; the -J default on "
	  "a terminal)" },
	{ SECT_BASTION, "user", TYPE_STRING, B(user), NULL, 0, 0, NULL,
	  KEY_REQUIRED, "user name on the bastion" },

	{ SECT_SERVICE, "auth_file", TYPE_PATH, S(auth_file), NULL, 0, 0,
	  NULL, KEY_SECRET,
	  "postgres: PgBouncer-style userlist (\"user\" \"secret\" a line; "
	  "SCRAM-SHA-256 secrets as pg_authid holds them, md5 or plain) "
	  "with which postern resumes a session on another route (failback, "
	  "pin, drain, route down); a secret file (postern.conf(5): mode "
	  "600, or 640 root-owned)" },
	{ SECT_SERVICE, "check", TYPE_ENUM, S(check), "default", 0, 0, checks,
	  0, "health check: default (follows protocol), none, tcp, redis or "
	  "postgres" },
	{ SECT_SERVICE, "check_allow_md5", TYPE_ENUM, S(check_allow_md5), "no",
	  0, 0, no_yes, 0, "postgres check: yes lets it answer a server's md5 "
	  "request on a route without TLS (a man in the middle could crack "
	  "the hash); no: refused" },
	{ SECT_SERVICE, "check_database", TYPE_STRING, S(check_database),
	  NULL, 0, 0, NULL, 0,
	  "postgres check: database to log in to (default: check_user)" },
	{ SECT_SERVICE, "check_down_interval", TYPE_DURATION,
	  S(check_down_interval_ms), "5s", 100, DAY_MS, NULL, 0,
	  "time between health checks of a route that is down" },
	{ SECT_SERVICE, "check_fast_interval", TYPE_DURATION,
	  S(check_fast_interval_ms), "500ms", 50, DAY_MS, NULL, 0,
	  "time between health checks while a route's state is changing" },
	{ SECT_SERVICE, "check_interval", TYPE_DURATION, S(check_interval_ms),
	  "2s", 100, DAY_MS, NULL, 0,
	  "time between health checks of a route that is up; with check = "
	  "none, how long a route marked down by failed connects rests "
	  "before a session tries it again" },
	{ SECT_SERVICE, "check_password_file", TYPE_PATH,
	  S(check_password_file), NULL, 0, 0, NULL, KEY_SECRET,
	  "file whose first line is the check's password (redis: AUTH; "
	  "postgres: SCRAM-SHA-256; md5 or cleartext over TLS only); a "
	  "secret file (postern.conf(5): mode 600, or 640 root-owned)" },
	{ SECT_SERVICE, "check_role", TYPE_ENUM, S(check_role), "any", 0, 0,
	  roles, 0, "the server's role a check accepts: any; redis: master "
	  "or replica (ROLE); postgres: primary or standby "
	  "(pg_is_in_recovery(), needs check_user)" },
	{ SECT_SERVICE, "check_timeout", TYPE_DURATION, S(check_timeout_ms),
	  "1s", 10, 3600 * 1000, NULL, 0,
	  "time a health check may take, connect included" },
	{ SECT_SERVICE, "check_user", TYPE_STRING, S(check_user), NULL, 0, 0,
	  NULL, 0, "redis check: ACL user for AUTH; postgres check: user "
	  "that logs in and runs one query (without it, an SSLRequest "
	  "probe)" },
	{ SECT_SERVICE, "cluster", TYPE_ENUM, S(cluster), "no", 0, 0, no_yes,
	  0, "redis: yes when the routes reach Redis Cluster seed nodes; "
	  "each node gets a local port from cluster_ports and the addresses "
	  "in redirects and CLUSTER replies are rewritten to those" },
	{ SECT_SERVICE, "cluster_ports", TYPE_STRING, S(cluster_ports), NULL,
	  0, 0, NULL, 0, "cluster = yes: FIRST-LAST, the local ports the "
	  "nodes' listeners take (one per node ID, stable for the process's "
	  "life); listen stays the seed address" },
	{ SECT_SERVICE, "connect_timeout", TYPE_DURATION,
	  S(connect_timeout_ms), "4s", 10, 3600 * 1000, NULL, 0,
	  "time to establish an upstream connection before the next route "
	  "is tried" },
	{ SECT_SERVICE, "fall", TYPE_INT, S(fall), "3", 1, 100, NULL, 0,
	  "consecutive failures that mark a route down" },
	{ SECT_SERVICE, "hold_timeout", TYPE_DURATION, S(hold_timeout_ms),
	  "2s", 0, 3600 * 1000, NULL, 0,
	  "when no route is up, how long a new client waits for one before "
	  "it gets the protocol's error" },
	{ SECT_SERVICE, "identity", TYPE_ENUM, S(identity), "auto", 0, 0,
	  identities, 0,
	  "auto: refuse a route whose server holds another dataset than the "
	  "preferred route's (or identity_value), when checks can tell: "
	  "postgres with check_user and check_password_file, redis with "
	  "identity_key; off: never" },
	{ SECT_SERVICE, "identity_key", TYPE_STRING, S(identity_key), NULL, 0,
	  0, NULL, 0,
	  "redis check: key whose value identifies the dataset (GET on each "
	  "check); none when unset" },
	{ SECT_SERVICE, "identity_value", TYPE_STRING, S(identity_value), NULL,
	  0, 0, NULL, 0,
	  "the identity every route must report (postgres: the "
	  "system_identifier; redis: identity_key's value) instead of the "
	  "preferred route's" },
	{ SECT_SERVICE, "idle_timeout", TYPE_DURATION, S(idle_timeout_ms),
	  "0", 0, DAY_MS, NULL, 0,
	  "close an established session after this long without a byte "
	  "either way (a blocked command or a quiet subscriber too); 0: "
	  "off" },
	{ SECT_SERVICE, "listen", TYPE_LISTEN, S(listen), NULL, 0, 0, NULL,
	  KEY_REQUIRED | KEY_REPEAT,
	  "local address to accept clients on: host:port, [v6]:port, port "
	  "(127.0.0.1), *:port (all interfaces) or unix:/path; repeatable" },
	{ SECT_SERVICE, "max_connections", TYPE_INT, S(max_connections),
	  "4096", 1, 1000000, NULL, 0,
	  "concurrent client sessions, and closed clients' sockets still "
	  "lingering (up to 2 s); more are refused" },
	{ SECT_SERVICE, "on_failback", TYPE_ENUM, S(on_failback), "move",
	  0, 0, on_failback, 0,
	  "move: when a higher route is up again, sessions on lower routes "
	  "move to it at a safe point; keep: they stay" },
	{ SECT_SERVICE, "on_route_down", TYPE_ENUM, S(on_route_down), "move",
	  0, 0, on_down, 0,
	  "move: sessions leave a route marked down (moved, their reads "
	  "replayed, or closed at once); keep: they stay; close: they are "
	  "closed" },
	{ SECT_SERVICE, "protocol", TYPE_ENUM, S(protocol), "tcp", 0, 0,
	  protocols, 0, "tcp, redis or postgres" },
	{ SECT_SERVICE, "readonly", TYPE_ENUM, S(readonly), "no", 0, 0,
	  no_yes, 0,
	  "redis: yes refuses writing commands, scripts that may write and "
	  "unknown commands with -NOPERM; postgres: sessions run with "
	  "default_transaction_read_only=on and turning it off is refused "
	  "(a guard against mistakes; the server's ACLs are the boundary)" },
	{ SECT_SERVICE, "response_timeout", TYPE_DURATION,
	  S(response_timeout_ms), "5s", 0, 3600 * 1000, NULL, 0,
	  "redis and postgres: a server that has not answered a session's "
	  "first request (a command that does not block; the startup "
	  "message) within this time counts as a failure of its route, as a "
	  "failed check does; 0: off" },
	{ SECT_SERVICE, "rise", TYPE_INT, S(rise), "2", 1, 100, NULL, 0,
	  "consecutive successes that mark a route up again" },
	{ SECT_SERVICE, "route", TYPE_ROUTE, S(routes), NULL, 0, 0, NULL,
	  KEY_REQUIRED | KEY_REPEAT,
	  "NAME URL [key=value ...]: an upstream, in priority order; URL is "
	  "tcp://host:port, ssh://bastion/host:port or tls://host:port" },

	/*
	 * Options of a tls:// route, after its URL as key=value.  Defaults
	 * are the first value of each enum, so a zeroed struct holds them.
	 */
	{ SECT_TLS, "ca", TYPE_PATH, T(ca), NULL, 0, 0, NULL, 0,
	  "CA certificates that verify the server: a PEM file or a hashed "
	  "directory; the system store when unset" },
	{ SECT_TLS, "cert", TYPE_PATH, T(cert), NULL, 0, 0, NULL, 0,
	  "client certificate (PEM) to present; its private key is key=, "
	  "or in this file when key is unset" },
	{ SECT_TLS, "ciphers", TYPE_STRING, T(ciphers), NULL, 0, 0, NULL, 0,
	  "OpenSSL cipher list for TLS 1.2; OpenSSL's default when unset" },
	{ SECT_TLS, "key", TYPE_PATH, T(key), NULL, 0, 0, NULL, KEY_SECRET,
	  "private key (PEM, unencrypted) of cert" },
	{ SECT_TLS, "min_version", TYPE_ENUM, T(min_version), "tls1.2", 0, 0,
	  tls_versions, 0, "lowest protocol version: tls1.2 or tls1.3" },
	{ SECT_TLS, "name", TYPE_STRING, T(name), NULL, 0, 0, NULL, 0,
	  "host name (or IP) the certificate must be for, also sent in SNI; "
	  "the URL's host when unset" },
	{ SECT_TLS, "sslnegotiation", TYPE_ENUM, T(sslnegotiation),
	  "postgres", 0, 0, pg_negotiations, 0,
	  "protocol = postgres: postgres (an SSLRequest, then TLS) or "
	  "direct (TLS first, ALPN postgresql: PostgreSQL 17)" },
	{ SECT_TLS, "verify", TYPE_ENUM, T(verify), "full", 0, 0, tls_verify,
	  0, "full (chain and name) or none (no check: logged as a "
	  "warning)" },

	/* Options of any route (redis). */
	{ SECT_ROUTE, "sentinel", TYPE_STRING, R(sentinel), NULL, 0, 0, NULL,
	  0, "redis: the master's name as the Sentinels know it; the URL then "
	  "lists Sentinels, host:port,host:port,... (postern.conf(5), "
	  "Sentinel routes)" },
	{ SECT_ROUTE, "sentinel_password_file", TYPE_PATH,
	  R(sentinel_password_file), NULL, 0, 0, NULL, KEY_SECRET,
	  "redis, with sentinel=: file whose first line is the password the "
	  "Sentinels ask for (AUTH; their requirepass, or sentinel_user's); "
	  "a secret file (postern.conf(5): mode 600, or 640 root-owned)" },
	{ SECT_ROUTE, "sentinel_user", TYPE_STRING, R(sentinel_user), NULL, 0,
	  0, NULL, 0,
	  "redis, with sentinel=: the ACL user the Sentinels know postern "
	  "as (AUTH user password); needs sentinel_password_file" },
};
const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);
_Static_assert(sizeof(conf_keys) / sizeof(conf_keys[0]) <= CONF_MAX_KEYS,
    "CONF_MAX_KEYS is too small for the key table");

/* Levenshtein distance of a and b, capped: keys are short. */
static size_t
conf_keys_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, prev, tmp, best;
	size_t	row[64];

	if (la >= 64 || lb >= 64)
		return ((size_t)-1);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return (row[lb]);
}

const char *
conf_keys_suggest(enum conf_section section, const char *name)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = 3;

	for (i = 0; i < conf_nkeys; i++) {
		if (conf_keys[i].section != section)
			continue;
		d = conf_keys_distance(name, conf_keys[i].name);
		if (d < bestd && d * 2 < strlen(name)) {
			bestd = d;
			best = conf_keys[i].name;
		}
	}
	return (best);
}

const struct conf_key *
conf_keys_find(enum conf_section section, const char *name)
{
	size_t	i;

	for (i = 0; i < conf_nkeys; i++) {
		if (conf_keys[i].section == section &&
		    strcmp(conf_keys[i].name, name) == 0)
			return (&conf_keys[i]);
	}
	return (NULL);
}

const char *
conf_keys_section_name(int section)
{
	switch (section) {
	case SECT_GLOBAL:
		return ("postern");
	case SECT_BASTION:
		return ("bastion");
	case SECT_SERVICE:
		return ("service");
	case SECT_TLS:
		return ("tls");
	case SECT_ROUTE:
		return ("route");
	}
	return ("?");
}

int
conf_keys_parse_duration(const char *s, int *ms)
{
	unsigned long long	 v;
	char			*end;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || v > DAY_MS)
		return (-1);
	if (strcmp(end, "ms") == 0)
		;
	else if (strcmp(end, "s") == 0)
		v *= 1000;
	else if (strcmp(end, "m") == 0)
		v *= 60 * 1000;
	else if (strcmp(end, "h") == 0)		/* v <= DAY_MS: no overflow */
		v *= 3600 * 1000;
	else if (*end == '\0' && v == 0)
		;
	else
		return (-1);
	if (v > DAY_MS)
		return (-1);
	*ms = (int)v;
	return (0);
}

int
conf_keys_enum_index(const struct conf_key *k, const char *s)
{
	int	i;

	for (i = 0; k->values[i] != NULL; i++) {
		if (strcmp(k->values[i], s) == 0)
			return (i);
	}
	return (-1);
}

static const char *
conf_keys_type_name(int type)
{
	switch (type) {
	case TYPE_STRING:
		return ("string");
	case TYPE_PATH:
		return ("path");
	case TYPE_HOSTPORT:
		return ("host:port");
	case TYPE_LISTEN:
		return ("address");
	case TYPE_DURATION:
		return ("duration");
	case TYPE_INT:
		return ("integer");
	case TYPE_ENUM:
		return ("enum");
	case TYPE_ROUTE:
		return ("route");
	case TYPE_USER:
		return ("user");
	case TYPE_NAMES:
		return ("list");
	}
	return ("?");
}

void
conf_keys_print(FILE *fp)
{
	size_t	i;

	for (i = 0; i < conf_nkeys; i++) {
		fprintf(fp, "%s\t%s\t%s\t%s\t%s\n",
		    conf_keys_section_name(conf_keys[i].section),
		    conf_keys[i].name, conf_keys_type_name(conf_keys[i].type),
		    conf_keys[i].def != NULL ? conf_keys[i].def : "-",
		    conf_keys[i].doc);
	}
}
