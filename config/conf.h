/*
 * conf.h: the configuration model.  A struct conf is one immutable
 * generation: parsed and validated whole, then shared by reference.
 * Reload builds a new generation and swaps; sessions keep a reference to
 * the one they started under.
 */
#ifndef POSTERN_CONF_H
#define POSTERN_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "addr.h"

enum conf_proto {
	PROTO_TCP,
	PROTO_REDIS,
	PROTO_POSTGRES
};

enum conf_route_kind {
	ROUTE_TCP,		/* tcp://host:port */
	ROUTE_SSH,		/* ssh://bastion/host:port */
	ROUTE_TLS		/* tls://host:port */
};

enum conf_check {
	CHECK_DEFAULT,		/* follows the service's protocol */
	CHECK_NONE,
	CHECK_TCP,
	CHECK_REDIS,
	CHECK_POSTGRES
};

/*
 * check_role as written: Redis says master/replica, PostgreSQL
 * primary/standby; the parser refuses a word of the other protocol.
 */
enum conf_role {
	ROLE_ANY,
	ROLE_MASTER,
	ROLE_REPLICA,
	ROLE_PRIMARY,
	ROLE_STANDBY
};

enum conf_identity {
	IDENTITY_AUTO,		/* on when the check can read an identity */
	IDENTITY_OFF
};

/* audit: one record per session (proxy/audit.c). */
enum conf_audit {
	AUDIT_OFF,
	AUDIT_LOG,		/* a text line */
	AUDIT_JSON		/* a JSON object */
};

enum conf_on_down {
	ON_DOWN_KEEP,		/* established sessions stay */
	ON_DOWN_CLOSE,		/* sessions on a route marked down are closed */
	ON_DOWN_MOVE		/* they leave: moved, replayed or cut (follow.h) */
};

enum conf_on_failback {
	ON_FAILBACK_MOVE,	/* sessions on a lower route move back */
	ON_FAILBACK_KEEP	/* only new sessions go to the preferred route */
};

struct conf_opt {
	char		*key;
	char		*value;
};

struct conf_listen {
	struct addr	 addr;
	int		 line;
};

/* The options of a tls:// route, typed (keys in conf_keys.c, SECT_TLS). */
enum conf_tls_verify {
	TLS_VERIFY_FULL,	/* chain and name (the default) */
	TLS_VERIFY_NONE		/* explicit opt-out, logged */
};

enum conf_tls_version {
	TLS_MIN_1_2,
	TLS_MIN_1_3
};

enum conf_pg_negotiation {
	PG_NEG_POSTGRES,	/* SSLRequest, then TLS (the default) */
	PG_NEG_DIRECT		/* TLS first, ALPN "postgresql" (PG 17) */
};

struct conf_tls {
	char			*ca;		/* NULL: the system store */
	char			*name;		/* NULL: the URL's host */
	char			*cert, *key;	/* client certificate */
	char			*ciphers;
	enum conf_tls_verify	 verify;
	enum conf_tls_version	 min_version;
	enum conf_pg_negotiation sslnegotiation;
};

struct conf_route {
	char			*name;
	char			*url;		/* as written, for logs */
	enum conf_route_kind	 kind;
	struct addr		 target;	/* the endpoint traffic reaches */
	char			*bastion;	/* ssh: [bastion NAME] */
	struct conf_opt		*opts;		/* key=value after the URL */
	size_t			 nopts;
	struct conf_tls		 tls;		/* tls://: opts, typed */
	int			 line;
	/*
	 * sentinel=NAME (redis): the URL lists Sentinels, not the server;
	 * the server is the master they name (proxy/sentinel.h).
	 */
	char			*sentinel;	/* NULL: an ordinary route */
	struct addr		*sentinels;	/* target is the first */
	size_t			 nsentinels;
	/*
	 * The Sentinels' own AUTH (requirepass, or an ACL user): not the
	 * master's.  The password is the file's first line, wiped when freed.
	 */
	char			*sentinel_user;
	char			*sentinel_password_file;
	char			*sentinel_password;	/* never logged */
	/*
	 * A copy with another target (a Sentinel, the master) points at the
	 * configured route it stands for, whose TLS context it uses.
	 */
	const struct conf_route	*origin;	/* NULL: itself */
};

struct authfile;

struct conf_service {
	char			*name;
	char			*label;		/* -L: "7391 -> host:6379", logs */
	int			 line;
	struct conf_listen	*listen;
	size_t			 nlisten;
	enum conf_proto		 protocol;
	struct conf_route	*routes;	/* in priority order */
	size_t			 nroutes;
	enum conf_check		 check;
	int			 check_interval_ms;
	int			 check_timeout_ms;
	int			 connect_timeout_ms;
	int			 check_fast_interval_ms;
	int			 check_down_interval_ms;
	char			*check_user;
	char			*check_database;
	char			*check_password_file;
	char			*check_password;	/* read from the file */
	int			 check_allow_md5; /* md5 without TLS */
	char			*auth_file;	/* postgres resume (authfile.h) */
	struct authfile		*auth;		/* read from it */
	enum conf_role		 check_role;
	enum conf_identity	 identity;
	char			*identity_key;	/* redis: GET it */
	char			*identity_value; /* pinned reference */
	int			 identity_on;	/* derived: the guard runs */
	int			 hold_timeout_ms;
	int			 response_timeout_ms;	/* 0: off */
	int			 idle_timeout_ms;	/* 0: off */
	enum conf_on_down	 on_route_down;
	enum conf_on_failback	 on_failback;
	int			 rise;
	int			 fall;
	int			 max_connections;
	int			 readonly;	/* refuse writes (issue 24) */
	int			 cluster;	/* Redis Cluster (issue 23) */
	char			*cluster_ports;	/* "FIRST-LAST" as written */
	int			 cluster_port_first; /* parsed from it */
	int			 cluster_port_last;
	int			 cluster_ports_line;
};

enum conf_host_key_check {
	HOSTKEY_STRICT,		/* unknown or changed key: refuse */
	HOSTKEY_ACCEPT_NEW,	/* unknown: append to known_hosts; changed: refuse */
	HOSTKEY_ASK		/* unknown: ask at the terminal (else refuse) */
};

/* Who speaks SSH to a bastion (tunnel/ssh_mux.c for openssh). */
enum conf_ssh_engine {
	SSH_ENGINE_LIBSSH2,	/* in process */
	SSH_ENGINE_OPENSSH	/* an ssh(1) ControlMaster, channels by mux */
};

struct conf_bastion {
	char		*name;
	int		 line;
	struct addr	 address;
	char		*user;
	char		*identity;
	char		*identity_passphrase_file;
	char		*identity_passphrase;	/* read from the file */
	char		*known_hosts;	/* NULL: ~/.ssh/known_hosts */
	char		*host_key_sha256;	/* pinned; replaces known_hosts */
	enum conf_host_key_check strict_host_key_checking;
	int		 keepalive_interval_ms;
	int		 keepalive_count;
	int		 connect_timeout_ms;
	int		 connections;		/* SSH connections kept open */
	int		 max_connections;	/* grown up to it while opens queue */
	char		*session_command;	/* NULL: no session channel */
	char		*ciphers;	/* NULL: tunnel/'s default order */
	int		 ciphers_line;	/* of the key; the section's if unset */
	char		*host_key_algorithms; /* NULL: tunnel/'s default */
	int		 host_key_algorithms_line; /* as ciphers_line */
	int		 engine;	/* enum conf_ssh_engine */
	char		*control_path;	/* openssh: attach; NULL: run one */
	char		*ssh_config;	/* openssh: ssh -F; NULL: ssh's own */
	char		*ssh_destination; /* openssh: ssh's host argument */
	char		*proxy_jump;	/* openssh: ssh -J */
	int		 mux_forward;	/* openssh: 0 stdio, 1 listener, 2 client,
					   3 proxy */
};

struct conf {
	int			 refs;
	char			*path;		/* NULL for -L quick mode */
	struct addr		 admin;
	int			 has_admin;
	char			*admin_token_file;
	char			*admin_token;	/* read from the file; wiped
						   when freed */
	int			 admin_read_token; /* reads need it too */
	char			*admin_socket_mode;	/* octal text */
	int			 admin_socket_perm;	/* parsed from it */
	char			*admin_socket_group;	/* NULL: ours */
	enum conf_audit		 audit;
	char			*audit_file;	/* NULL: postern's log */
	int			 log_level;	/* enum log_level (lib/log.h) */
	int			 drain_timeout_ms;
	int			 shutdown_delay_ms;
	char			*user;		/* drop to it after binding */
	int			 watch_config;	/* reload when the file changes */
	struct addr		 resolver;	/* host "": resolv.conf's */
	int			 max_sessions;	/* across services; 0: none */
	struct conf_bastion	*bastions;
	size_t			 nbastions;
	struct conf_service	*services;
	size_t			 nservices;
};

/*
 * Errors collected while loading: every one of them, each formatted
 * "file:line: message".  conf_errors_free() releases the strings.
 */
struct conf_errors {
	char		**msg;
	size_t		  n;
};

void	conf_errors_add(struct conf_errors *e, const char *file, int line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	conf_errors_free(struct conf_errors *e);

/* Flags for conf_parse(). */
#define CONF_CHECK_FILES	0x1	/* stat files the config names */

/*
 * conf_parse(buf, len, name, flags, errs): parse and validate a whole
 * configuration.  Returns a new generation with one reference, or NULL
 * with every problem appended to errs.  name is used in messages.
 */
struct conf *conf_parse(const char *buf, size_t len, const char *name,
	    int flags, struct conf_errors *errs);

/*
 * conf_load(path, errs): read path and conf_parse() it with file checks.
 */
struct conf *conf_load(const char *path, struct conf_errors *errs);

/*
 * conf_from_forwards(specs, n, errs): build a generation from ssh-style
 * "-L [bind:]port:host:hostport" specs, one tcp service each.  Returns
 * NULL with errors in errs (file name "-L").
 */
struct conf *conf_from_forwards(char **specs, size_t n,
	    struct conf_errors *errs);

/*
 * conf_from_forwards_opts(specs, n, opts, nopts, errs): the same with
 * "-o key=value" service keys (readonly, protocol) for every forward;
 * readonly=yes without protocol takes it from a well-known target port
 * (6379, 6380: redis; 5432, 5433: postgres).  With -J, the jump's opts
 * do the same (conf_from_forwards_jump).
 */
struct conf *conf_from_forwards_opts(char **specs, size_t n, char **opts,
	    size_t nopts, struct conf_errors *errs);

/*
 * conf_forward_hint(s, buf, len): a ready-to-run client command for a
 * quick-mode forward's service ("redis-cli -h 127.0.0.1 -p 6380"; for a
 * tcp one, the candidates).
 */
void	conf_forward_hint(const struct conf_service *s, char *buf,
	    size_t len);

/*
 * The bastion of "-L ... -J": every forward goes through it.  host is
 * required; NULL or 0 fields are left out (the key's default applies).
 */
struct conf_jump {
	const char	*name;		/* [bastion NAME] and route name */
	const char	*host;
	unsigned int	 port;
	const char	*user;
	const char	*identity;
	const char	*known_hosts;
	char		**opts;		/* more [bastion] "key=value" (-o) */
	size_t		 nopts;
	const struct conf_jump *hops;	/* a chain's, nearest first */
	size_t		 nhops;
	const char	*proxy_jump;	/* their names, or NULL */
};

/*
 * conf_from_forwards_jump(specs, n, jump, errs): as conf_from_forwards,
 * with each forward's route an ssh:// route through jump (NULL: direct
 * tcp:// routes).
 */
struct conf *conf_from_forwards_jump(char **specs, size_t n,
	    const struct conf_jump *jump, struct conf_errors *errs);

/*
 * conf_secret_read(path, private, out, err, errlen): the first line of a
 * secret file (a password, passphrase or token) into *out, which the
 * caller frees after wiping it.  With private, the file's mode must
 * follow the rule of secret.h (checked on the opened file).  Read with
 * read(2) into a buffer that is wiped.  Returns 0, or -1 with a reason
 * (without the path) in err and *out untouched.
 */
int	conf_secret_read(const char *path, int private, char **out, char *err,
	    size_t errlen);

/* conf_ref(c): take a reference; returns c. */
struct conf *conf_ref(struct conf *c);

/* conf_unref(c): drop a reference; frees at zero.  NULL is a no-op. */
void	conf_unref(struct conf *c);

/* conf_route_opt(r, key): the value of a route option, or NULL. */
const char *conf_route_opt(const struct conf_route *r, const char *key);

/* conf_find_service(c, name): the service named name, or NULL. */
const struct conf_service *conf_find_service(const struct conf *c,
	    const char *name);

/* conf_find_bastion(c, name): the bastion named name, or NULL. */
const struct conf_bastion *conf_find_bastion(const struct conf *c,
	    const char *name);

/* Names for enum values, for logs and /health. */
const char *conf_proto_name(int proto);
const char *conf_route_kind_name(int kind);
const char *conf_check_name(int check);

/* conf_check_kind(cs): the check a service runs (DEFAULT resolved). */
enum conf_check conf_check_kind(const struct conf_service *cs);

/*
 * conf_keys_print(fp): print the key table (section, key, type, default,
 * doc), one key a line, tab-separated: used by the docs-sync check.
 */
void	conf_keys_print(FILE *fp);

#endif
