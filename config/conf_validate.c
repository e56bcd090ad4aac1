/*
 * conf_validate.c: the cross-checks that run once a file is read: the
 * check's role and identity keys against the protocol, bastions, the
 * admin endpoint, listeners used once, secrets read.  Each error is
 * "file:line: message", at the line of the key it is about.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "conf_keys.h"

/* The line of key name in the current section, or the section's. */
static int
conf_key_line(const struct conf_parser *p, const char *name)
{
	const struct conf_key	*k = conf_keys_find(p->section, name);

	return (k != NULL && p->seen[k - conf_keys] ? p->seen[k - conf_keys] :
	    p->section_line);
}

/* check_role: the word must be one of the check's protocol. */
void
conf_validate_role(struct conf_parser *p, const struct conf_service *s,
    int kind)
{
	static const char *const words[] = {
		"any", "master", "replica", "primary", "standby"
	};
	int		 line = conf_key_line(p, "check_role");
	const char	*w = words[s->check_role];

	if (s->check_role == ROLE_ANY)
		return;
	if (kind == CHECK_REDIS && (s->check_role == ROLE_PRIMARY ||
	    s->check_role == ROLE_STANDBY))
		perr(p, line, "check_role = %s is a PostgreSQL role; a redis "
		    "check takes any, master or replica", w);
	else if (kind == CHECK_POSTGRES && (s->check_role == ROLE_MASTER ||
	    s->check_role == ROLE_REPLICA))
		perr(p, line, "check_role = %s is a Redis role; a postgres "
		    "check takes any, primary or standby", w);
	else if (kind != CHECK_REDIS && kind != CHECK_POSTGRES)
		perr(p, line, "check_role = %s needs a redis or postgres "
		    "check (this service's is %s)", w, conf_check_name(kind));
	else if (kind == CHECK_POSTGRES && s->check_user == NULL)
		perr(p, line, "check_role = %s needs check_user: the check "
		    "must log in to ask pg_is_in_recovery()", w);
}

/*
 * identity, identity_key, identity_value: they must fit the check; then
 * decide whether the guard runs (identity_on).
 */
void
conf_validate_identity(struct conf_parser *p, struct conf_service *s,
    int kind)
{
	int	kl = conf_key_line(p, "identity_key");
	int	vl = conf_key_line(p, "identity_value");
	int	auth = s->check_user != NULL && s->check_password_file != NULL;

	if (s->identity == IDENTITY_OFF && (s->identity_key != NULL ||
	    s->identity_value != NULL))
		perr(p, conf_key_line(p, "identity"), "identity = off "
		    "contradicts identity_key and identity_value");
	if (s->identity_key != NULL && kind != CHECK_REDIS)
		perr(p, kl, "identity_key is for redis checks (this "
		    "service's is %s)", conf_check_name(kind));
	if (s->identity_value != NULL) {
		if (kind == CHECK_REDIS && s->identity_key == NULL)
			perr(p, vl, "identity_value needs identity_key (the "
			    "key whose value identifies the dataset)");
		else if (kind == CHECK_POSTGRES && s->check_user == NULL)
			perr(p, vl, "identity_value needs check_user: only a "
			    "check that logs in reads system_identifier");
		else if (kind == CHECK_POSTGRES && (strspn(s->identity_value,
		    "0123456789") != strlen(s->identity_value) ||
		    strlen(s->identity_value) > 20))
			perr(p, vl, "identity_value '%s' is not a "
			    "system_identifier (digits, as SELECT "
			    "system_identifier FROM pg_control_system() "
			    "shows it)", s->identity_value);
		else if (kind != CHECK_REDIS && kind != CHECK_POSTGRES)
			perr(p, vl, "identity_value needs a redis or postgres "
			    "check (this service's is %s)",
			    conf_check_name(kind));
	}
	if (kind == CHECK_POSTGRES && s->check_password_file != NULL &&
	    s->check_user == NULL)
		perr(p, conf_key_line(p, "check_password_file"),
		    "check_password_file needs check_user for a postgres "
		    "check");
	s->identity_on = s->identity == IDENTITY_AUTO &&
	    (s->identity_value != NULL ||
	    (kind == CHECK_REDIS && s->identity_key != NULL) ||
	    (kind == CHECK_POSTGRES && auth));
}

/* readonly = yes: only where postern reads the protocol's commands. */
void
conf_validate_readonly(struct conf_parser *p, const struct conf_service *s)
{
	if (s->readonly && s->protocol == PROTO_TCP)
		perr(p, conf_key_line(p, "readonly"), "readonly = yes is for "
		    "protocol = redis or postgres services");
}

/* A port of cluster_ports: 1-65535, digits only. */
static int
conf_cluster_port(const char *s, size_t n)
{
	int	v = 0;
	size_t	i;

	if (n == 0 || n > 5)
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v >= 1 && v <= 65535 ? v : -1);
}

/*
 * cluster = yes: a redis service whose nodes get local ports from
 * cluster_ports; the seed stays on listen, so listen is outside it.
 */
void
conf_validate_cluster(struct conf_parser *p, struct conf_service *s)
{
	const char	*r = s->cluster_ports, *dash;
	int		 line = conf_key_line(p, "cluster_ports");
	size_t		 i;

	if (!s->cluster) {
		if (r != NULL)
			perr(p, line, "cluster_ports needs cluster = yes");
		return;
	}
	line = conf_key_line(p, "cluster");
	if (s->protocol != PROTO_REDIS)
		perr(p, line, "cluster = yes is for protocol = redis services");
	for (i = 0; i < s->nroutes; i++)
		if (s->routes[i].sentinel != NULL)
			perr(p, line, "cluster = yes: route %s names a Sentinel "
			    "(a cluster has no Sentinel)", s->routes[i].name);
	if (r == NULL) {
		perr(p, line, "cluster = yes needs cluster_ports = FIRST-LAST");
		return;
	}
	line = conf_key_line(p, "cluster_ports");
	s->cluster_ports_line = line;
	if ((dash = strchr(r, '-')) == NULL ||
	    (s->cluster_port_first = conf_cluster_port(r,
	    (size_t)(dash - r))) < 0 ||
	    (s->cluster_port_last = conf_cluster_port(dash + 1,
	    strlen(dash + 1))) < 0 ||
	    s->cluster_port_first > s->cluster_port_last) {
		perr(p, line, "cluster_ports: want FIRST-LAST, two ports "
		    "1-65535 with FIRST <= LAST, not '%s'", r);
		s->cluster_port_first = s->cluster_port_last = 0;
		return;
	}
	for (i = 0; i < s->nlisten; i++)
		if (s->listen[i].addr.port >= s->cluster_port_first &&
		    s->listen[i].addr.port <= s->cluster_port_last)
			perr(p, line, "cluster_ports %s holds the listen port "
			    "%d (the seed's)", r, s->listen[i].addr.port);
}

/* "SHA256:" + 43 base64 characters (32 bytes), '=' padding allowed. */
static int
conf_valid_sha256(const char *v)
{
	size_t	n;

	if (strncmp(v, "SHA256:", 7) == 0)
		v += 7;
	n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/");
	return (n == 43 && (v[n] == '\0' || strcmp(v + n, "=") == 0));
}

/*
 * A FIDO key (sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@...)
 * needs the authenticator's middleware, which libssh2 lacks: told by
 * the type of the public key beside it (IDENTITY.pub), as ssh-keygen
 * writes it.
 */
static void
conf_validate_fido(struct conf_parser *p, const struct conf_bastion *b)
{
	char	pub[4096], type[64];
	FILE	*fp;

	if (b->identity == NULL || (size_t)snprintf(pub, sizeof(pub),
	    "%s.pub", b->identity) >= sizeof(pub) ||
	    (fp = fopen(pub, "re")) == NULL)
		return;
	if (fscanf(fp, "%63s", type) == 1 && strncmp(type, "sk-", 3) == 0)
		perr(p, b->line, "[bastion %s]: identity %s is a FIDO key "
		    "(%s): libssh2 cannot use a security key; use engine = "
		    "openssh", b->name, b->identity, type);
	fclose(fp);
}

/*
 * engine = libssh2: proxy_jump names the [bastion] sections of the hops,
 * nearest first; each connects straight (a chain is written in full on
 * the bastion that uses it) and is a libssh2 one.
 */
static void
conf_validate_hops(struct conf_parser *p, const struct conf_bastion *b)
{
	const struct conf	*c = p->conf;
	char			*copy, *name, *save = NULL;
	size_t			 i, n = 0;

	if (b->proxy_jump == NULL || b->engine == SSH_ENGINE_OPENSSH ||
	    (copy = strdup(b->proxy_jump)) == NULL)
		return;
	for (name = strtok_r(copy, ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save), n++) {
		for (i = 0; i < c->nbastions; i++)
			if (strcmp(c->bastions[i].name, name) == 0)
				break;
		if (strcmp(name, b->name) == 0)
			perr(p, b->line, "[bastion %s]: proxy_jump: a bastion "
			    "cannot be its own hop", b->name);
		else if (i == c->nbastions)
			perr(p, b->line, "[bastion %s]: proxy_jump: no "
			    "[bastion %s] section (with engine = libssh2 each "
			    "hop is a [bastion] section of its own)", b->name,
			    name);
		else if (c->bastions[i].engine == SSH_ENGINE_OPENSSH)
			perr(p, b->line, "[bastion %s]: proxy_jump: hop %s "
			    "has engine = openssh; a libssh2 chain has libssh2 "
			    "hops", b->name, name);
		else if (c->bastions[i].proxy_jump != NULL)
			perr(p, b->line, "[bastion %s]: proxy_jump: hop %s "
			    "has a proxy_jump of its own; list the whole chain "
			    "here (proxy_jump = a,b)", b->name, name);
	}
	if (n == 0 || n > 8)
		perr(p, b->line, "[bastion %s]: proxy_jump: from 1 to 8 "
		    "hops, not %zu", b->name, n);
	free(copy);
}

static void
conf_validate_bastion(struct conf_parser *p, struct conf_bastion *b)
{
	char	label[160];

	snprintf(label, sizeof(label), "[bastion %s]", b->name);
	conf_read_secret_file(p, b->line, label, "identity_passphrase_file",
	    b->identity_passphrase_file, &b->identity_passphrase);
	if (b->identity_passphrase_file != NULL && b->identity == NULL)
		perr(p, b->line, "[bastion %s]: identity_passphrase_file "
		    "without identity", b->name);
	if (b->host_key_sha256 != NULL && !conf_valid_sha256(
	    b->host_key_sha256))
		perr(p, b->line, "[bastion %s]: host_key_sha256 '%s' is not "
		    "a SHA-256 fingerprint (SHA256: and 43 base64 characters, "
		    "as ssh-keygen -l prints it)", b->name, b->host_key_sha256);
	if (b->host_key_sha256 != NULL && b->strict_host_key_checking ==
	    HOSTKEY_ACCEPT_NEW)
		perr(p, b->line, "[bastion %s]: strict_host_key_checking = "
		    "accept-new and host_key_sha256 contradict each other",
		    b->name);
	conf_validate_fido(p, b);
	conf_validate_hops(p, b);
}

static int
conf_validate_literal(const char *host)
{
	unsigned char	raw[16];

	return (inet_pton(AF_INET, host, raw) == 1 ||
	    inet_pton(AF_INET6, host, raw) == 1);
}

/*
 * [postern]: the unix admin socket's mode and group.  Anyone who may
 * connect to it may read the status, and without admin_token_file also
 * change routing, so the default is the owner alone.
 */
static void
conf_validate_admin_socket(struct conf_parser *p)
{
	struct conf		*c = p->conf;
	const struct conf_key	*mk, *gk;
	const char		*s = c->admin_socket_mode;
	char			*end;
	long			 mode;
	int			 mline, gline;

	mk = conf_keys_find(SECT_GLOBAL, "admin_socket_mode");
	gk = conf_keys_find(SECT_GLOBAL, "admin_socket_group");
	mline = p->global_seen[mk - conf_keys];
	gline = p->global_seen[gk - conf_keys];
	errno = 0;
	mode = s != NULL && s[0] >= '0' && s[0] <= '7' ? strtol(s, &end, 8) :
	    -1;
	if (mode < 0 || errno != 0 || *end != '\0' || mode > 0777 ||
	    (mode & 0600) != 0600) {
		perr(p, mline, "admin_socket_mode '%s': an octal mode from "
		    "0600 to 0777 (the owner must read and write)",
		    s != NULL ? s : "");
		mode = 0600;
	}
	c->admin_socket_perm = (int)mode;
	if ((mline != 0 || gline != 0) && c->has_admin &&
	    c->admin.kind != ADDR_UNIX)
		perr(p, mline != 0 ? mline : gline, "%s applies to a "
		    "unix:/path admin address only", mline != 0 ?
		    "admin_socket_mode" : "admin_socket_group");
	if (c->admin_socket_group == NULL ||
	    !(p->flags & CONF_CHECK_FILES))
		return;
	errno = 0;
	if (getgrnam(c->admin_socket_group) == NULL)
		perr(p, gline, "admin_socket_group %s: %s",
		    c->admin_socket_group, errno != 0 ? strerror(errno) :
		    "no such group");
}

/*
 * [postern]: the admin token.  A short token or one with spaces would be
 * guessable or never match a header, so both are refused here.
 */
static void
conf_validate_admin(struct conf_parser *p)
{
	struct conf		*c = p->conf;
	const struct conf_key	*k;
	const char		*t;
	int			 line;

	k = conf_keys_find(SECT_GLOBAL, "admin_token_file");
	line = p->global_seen[k - conf_keys];
	conf_read_secret_file(p, line, "", k->name, c->admin_token_file,
	    &c->admin_token);
	for (t = c->admin_token; t != NULL && *t != '\0'; t++) {
		if (!isgraph((unsigned char)*t)) {
			perr(p, line, "admin_token_file %s: the token has "
			    "spaces or control characters",
			    c->admin_token_file);
			break;
		}
	}
	if (c->admin_token != NULL && strlen(c->admin_token) < 16)
		perr(p, line, "admin_token_file %s: the token is shorter than "
		    "16 characters (try: openssl rand -hex 32)",
		    c->admin_token_file);
	k = conf_keys_find(SECT_GLOBAL, "admin_read_token");
	if (c->admin_read_token && c->admin_token_file == NULL)
		perr(p, p->global_seen[k - conf_keys], "admin_read_token = "
		    "yes needs admin_token_file");
	/* The resolver cannot resolve its own name. */
	k = conf_keys_find(SECT_GLOBAL, "resolver");
	if (c->resolver.host[0] != '\0' && !conf_validate_literal(
	    c->resolver.host))
		perr(p, p->global_seen[k - conf_keys], "resolver %s: an IP "
		    "address is needed, not a name", c->resolver.host);
	conf_validate_admin_socket(p);
}

/* audit_file: an absolute path in a directory that exists. */
static void
conf_validate_audit(struct conf_parser *p)
{
	struct conf		*c = p->conf;
	const struct conf_key	*k = conf_keys_find(SECT_GLOBAL, "audit_file");
	int			 line = p->global_seen[k - conf_keys];
	char			*dir, *slash;
	struct stat		 st;

	if (c->audit_file == NULL)
		return;
	if (c->audit == AUDIT_OFF)
		perr(p, line, "audit_file needs audit = log or json");
	if (c->audit_file[0] != '/') {
		perr(p, line, "audit_file %s: not an absolute path",
		    c->audit_file);
		return;
	}
	if ((dir = strdup(c->audit_file)) == NULL)
		return;
	slash = strrchr(dir, '/');
	*(slash == dir ? slash + 1 : slash) = '\0';
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		perr(p, line, "audit_file %s: no directory %s", c->audit_file,
		    dir);
	free(dir);
}

/* One listener per address across all services and the admin endpoint. */
static void
conf_validate_listeners(struct conf_parser *p)
{
	struct conf		*c = p->conf;
	struct conf_service	*s, *t;
	size_t			 i, j, k, l;
	char			 buf[ADDR_STRLEN];

	for (i = 0; i < c->nservices; i++) {
		s = &c->services[i];
		for (j = 0; j < s->nlisten; j++) {
			if (c->has_admin &&
			    addr_equal(&s->listen[j].addr, &c->admin))
				perr(p, s->listen[j].line, "listen %s is also "
				    "the admin address", addr_format(
				    &c->admin, buf, sizeof(buf)));
			for (k = 0; k <= i; k++) {
				t = &c->services[k];
				for (l = 0; l < t->nlisten; l++) {
					if (k == i && l >= j)
						break;
					if (!addr_equal(&s->listen[j].addr,
					    &t->listen[l].addr))
						continue;
					perr(p, s->listen[j].line, "duplicate "
					    "listener %s (also at line %d)",
					    addr_format(&s->listen[j].addr,
					    buf, sizeof(buf)),
					    t->listen[l].line);
				}
			}
		}
	}
}

/* Could listeners on a and b take the same port: a same or wildcard host. */
static int
conf_hosts_meet(const struct addr *a, const struct addr *b)
{
	static const char *const any[] = { "", "0.0.0.0", "::" };
	size_t	i;

	for (i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		if (strcmp(a->host, any[i]) == 0 ||
		    strcmp(b->host, any[i]) == 0)
			return (1);
	return (strcmp(a->host, b->host) == 0);
}

/*
 * A node listener binds its seed's listen host on a port of
 * cluster_ports: no other service's range, listener or the admin
 * endpoint may take one of them there (the node would find its port
 * taken, or take another's).  Said at the later cluster_ports line.
 */
static void
conf_validate_cluster_ports(struct conf_parser *p)
{
	struct conf		*c = p->conf;
	struct conf_service	*s, *t;
	size_t			 i, k, l;
	char			 buf[ADDR_STRLEN];

	for (i = 0; i < c->nservices; i++) {
		s = &c->services[i];
		if (!s->cluster || s->cluster_port_first == 0 || s->nlisten == 0)
			continue;
		if (c->has_admin && c->admin.port >= s->cluster_port_first &&
		    c->admin.port <= s->cluster_port_last &&
		    conf_hosts_meet(&s->listen[0].addr, &c->admin))
			perr(p, s->cluster_ports_line, "cluster_ports %s holds "
			    "the admin address %s", s->cluster_ports,
			    addr_format(&c->admin, buf, sizeof(buf)));
		for (k = 0; k < c->nservices; k++) {
			t = &c->services[k];
			if (k == i)
				continue;
			for (l = 0; l < t->nlisten; l++)
				if (t->listen[l].addr.port >=
				    s->cluster_port_first &&
				    t->listen[l].addr.port <=
				    s->cluster_port_last &&
				    conf_hosts_meet(&s->listen[0].addr,
				    &t->listen[l].addr))
					perr(p, s->cluster_ports_line,
					    "cluster_ports %s holds listen %s "
					    "of service %s (line %d)",
					    s->cluster_ports, addr_format(
					    &t->listen[l].addr, buf,
					    sizeof(buf)), t->name,
					    t->listen[l].line);
			if (k < i && t->cluster && t->cluster_port_first != 0 &&
			    t->nlisten > 0 &&
			    t->cluster_port_first <= s->cluster_port_last &&
			    s->cluster_port_first <= t->cluster_port_last &&
			    conf_hosts_meet(&s->listen[0].addr,
			    &t->listen[0].addr))
				perr(p, s->cluster_ports_line, "cluster_ports "
				    "%s overlaps cluster_ports %s of service "
				    "%s (line %d)", s->cluster_ports,
				    t->cluster_ports, t->name,
				    t->cluster_ports_line);
		}
	}
}

void
conf_validate(struct conf_parser *p)
{
	struct conf		*c = p->conf;
	struct conf_service	*s;
	size_t			 i, j;

	for (i = 0; i < c->nservices; i++) {
		s = &c->services[i];
		for (j = 0; j < s->nroutes; j++)
			conf_validate_route(p, s, &s->routes[j]);
		if ((s->check == CHECK_REDIS && s->protocol == PROTO_POSTGRES) ||
		    (s->check == CHECK_POSTGRES && s->protocol == PROTO_REDIS))
			perr(p, s->line, "[service %s]: check = %s does not "
			    "fit protocol = %s", s->name,
			    conf_check_name(s->check),
			    conf_proto_name(s->protocol));
		conf_read_secret(p, s);
		if (s->auth_file != NULL && s->protocol != PROTO_POSTGRES)
			perr(p, s->line, "[service %s]: auth_file is for "
			    "protocol = postgres", s->name);
		if (s->check_timeout_ms > s->check_interval_ms)
			perr(p, s->line, "[service %s]: check_timeout is "
			    "longer than check_interval", s->name);
	}
	for (i = 0; i < c->nbastions; i++)
		conf_validate_bastion(p, &c->bastions[i]);
	conf_validate_admin(p);
	conf_validate_audit(p);
	if (c->nservices == 0)
		perr(p, 0, "no [service NAME] section: nothing to do");
	conf_validate_listeners(p);
	conf_validate_cluster_ports(p);
	conf_check_secrets(p);
}

