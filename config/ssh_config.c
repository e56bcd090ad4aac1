/*
 * ssh_config.c: enough of ssh_config(5) for "-J prod-bastion": Host
 * blocks with '*' and '?' wildcards and negation, Match blocks, Include,
 * and the keywords that say where and as whom to connect.  First value
 * wins, as in ssh(1).  ProxyJump chains become a [bastion] section per
 * hop.  What the libssh2 engine cannot honour (ProxyCommand,
 * CertificateFile, Match exec) is an error naming it, not
 * skipped: skipping would connect somewhere else, or as someone else.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "ssh_config.h"

int
ssh_config_parse_jump(const char *spec, struct ssh_config_host *h, char *err,
    size_t errlen)
{
	const char	*at, *host, *colon, *end;
	char		*p;
	unsigned long	 port;
	size_t		 n;

	if ((at = strrchr(spec, '@')) != NULL) {
		if (at == spec || (size_t)(at - spec) >= sizeof(h->user)) {
			snprintf(err, errlen, "-J %s: bad user name", spec);
			return (-1);
		}
		memcpy(h->user, spec, (size_t)(at - spec));
		h->user[at - spec] = '\0';
		host = at + 1;
	} else
		host = spec;
	if (*host == '[') {
		if ((end = strchr(host, ']')) == NULL) {
			snprintf(err, errlen, "-J %s: missing ']'", spec);
			return (-1);
		}
		if (end[1] != '\0' && end[1] != ':') {
			snprintf(err, errlen, "-J %s: junk after ']'", spec);
			return (-1);
		}
		colon = end[1] == ':' ? end + 1 : NULL;
		host++;
	} else {
		colon = strchr(host, ':');
		end = colon != NULL ? colon : host + strlen(host);
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			snprintf(err, errlen, "-J %s: write an IPv6 address "
			    "in brackets: [v6]:port", spec);
			return (-1);
		}
	}
	n = (size_t)(end - host);
	if (n == 0 || n >= sizeof(h->alias)) {
		snprintf(err, errlen, "-J %s: no host", spec);
		return (-1);
	}
	memcpy(h->alias, host, n);
	h->alias[n] = '\0';
	if (colon != NULL) {
		errno = 0;
		port = strtoul(colon + 1, &p, 10);
		if (colon[1] == '\0' || *p != '\0' || errno != 0 || port == 0 ||
		    port > 65535) {
			snprintf(err, errlen, "-J %s: bad port", spec);
			return (-1);
		}
		h->port = (unsigned int)port;
	}
	return (0);
}

/* '*' and '?' wildcards, case-insensitive (ssh's match_pattern). */
int
ssh_config_wild(const char *p, const char *s)
{
	for (; *p != '\0'; p++, s++) {
		if (*p == '*') {
			while (p[1] == '*')
				p++;
			if (p[1] == '\0')
				return (1);
			for (; *s != '\0'; s++) {
				if (ssh_config_wild(p + 1, s))
					return (1);
			}
			return (0);
		}
		if (*s == '\0' || (*p != '?' && tolower((unsigned char)*p) !=
		    tolower((unsigned char)*s)))
			return (0);
	}
	return (*s == '\0');
}

int
ssh_config_match_list(char *list, const char *seps, const char *name)
{
	char	*p, *save = NULL;
	int	 hit = 0;

	for (p = strtok_r(list, seps, &save); p != NULL;
	    p = strtok_r(NULL, seps, &save)) {
		if (*p == '!') {
			if (ssh_config_wild(p + 1, name))
				return (0);
		} else if (ssh_config_wild(p, name))
			hit = 1;
	}
	return (hit);
}

static const char *
ssh_config_home(void)
{
	const char	*home = getenv("HOME");
	struct passwd	*pw;

	if ((home == NULL || *home == '\0') && (pw = getpwuid(getuid())) !=
	    NULL)
		home = pw->pw_dir;
	return (home != NULL ? home : "/");
}

void
ssh_config_expand(const char *in, const struct ssh_config_host *h, char *out,
    size_t len)
{
	const char	*lu = getenv("USER");
	struct passwd	*pw;
	size_t		 n = 0;
	char		 port[16];

	if (lu == NULL && (pw = getpwuid(getuid())) != NULL)
		lu = pw->pw_name;
	snprintf(port, sizeof(port), "%u", h->port != 0 ? h->port : 22);
	out[0] = '\0';
	if (in[0] == '~' && in[1] == '/') {
		n = (size_t)snprintf(out, len, "%s", ssh_config_home());
		in++;
	}
	for (; *in != '\0' && n + 1 < len; in++) {
		const char *t = NULL;

		if (*in == '%' && in[1] != '\0') {
			switch (in[1]) {
			case 'd': t = ssh_config_home(); break;
			case 'u': t = lu != NULL ? lu : ""; break;
			case 'h': t = h->host[0] ? h->host : h->alias; break;
			case 'r': t = h->user; break;
			case 'p': t = port; break;
			case '%': t = "%"; break;
			}
		}
		if (t != NULL) {
			n += (size_t)snprintf(out + n, len - n, "%s", t);
			in++;
		} else
			out[n++] = *in, out[n] = '\0';
		if (n >= len)
			n = len - 1;
	}
}

/*
 * Cut a trailing comment: since OpenSSH 8.7 a '#' starting a word outside
 * quotes ends the line ("HostName h # prod"); without this the comment
 * became part of the value, or a Host pattern.
 */
static void
ssh_config_uncomment(char *val)
{
	char	*p;
	int	 quoted = 0;

	for (p = val; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted && (p == val || p[-1] == ' ' ||
		    p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static void
ssh_config_set(char *field, size_t len, const char *value)
{
	if (field[0] == '\0')
		snprintf(field, len, "%s", value);
}

/* What one reading of the configuration carries through its Includes. */
struct ssh_config_read {
	struct ssh_config_host	*h;
	int			 matched;	/* Host or Match blocks */
	char			*err;		/* the first error */
	size_t			 errlen;
};

static int	ssh_config_file(const char *, struct ssh_config_read *, int,
		    int *);

#define SSH_CONFIG_DEPTH	16	/* Include nesting, as OpenSSH's */

static void
ssh_config_fail(struct ssh_config_read *rd, const char *path, int line,
    const char *fmt, const char *arg)
{
	char	msg[256];

	if (rd->err[0] != '\0')
		return;
	snprintf(msg, sizeof(msg), fmt, arg);
	snprintf(rd->err, rd->errlen, "%s:%d: %s", path, line, msg);
}

static const char *
ssh_config_local_user(void)
{
	const char	*lu = getenv("USER");
	struct passwd	*pw;

	if ((lu == NULL || *lu == '\0') && (pw = getpwuid(getuid())) != NULL)
		lu = pw->pw_name;
	return (lu != NULL ? lu : "");
}

/*
 * "Match" criteria, each possibly negated ("!user root"): all, canonical
 * and final (one pass here: both true), host (HostName's value once
 * set, else the name given), originalhost, user (the remote user, once
 * set, else the local one), localuser.  exec is refused: postern runs no
 * commands from a configuration.  1 match, 0 not, -1 error.
 */
static int
ssh_config_match(char *val, struct ssh_config_read *rd, const char *path,
    int line)
{
	struct ssh_config_host	*h = rd->h;
	char			*save = NULL, *w, *arg, list[SSH_CONFIG_STRLEN];
	const char		*subject;
	int			 neg, hit, all = 1;

	for (w = strtok_r(val, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if ((neg = *w == '!'))
			w++;
		if (strcasecmp(w, "all") == 0 || strcasecmp(w, "final") == 0 ||
		    strcasecmp(w, "canonical") == 0) {
			hit = 1;
			goto next;
		}
		if (strcasecmp(w, "exec") == 0 && !all) {
			/* As OpenSSH: not run once a criterion failed. */
			if (strtok_r(NULL, " \t", &save) == NULL)
				break;
			continue;
		}
		if (strcasecmp(w, "exec") == 0) {
			ssh_config_fail(rd, path, line, "Match exec: postern "
			    "runs no commands from ssh_config (use engine = "
			    "openssh, or a Host block)%s", "");
			return (-1);
		}
		if (strcasecmp(w, "host") == 0)
			subject = h->host[0] != '\0' ? h->host : h->alias;
		else if (strcasecmp(w, "originalhost") == 0)
			subject = h->alias;
		else if (strcasecmp(w, "user") == 0)
			subject = h->user[0] != '\0' ? h->user :
			    ssh_config_local_user();
		else if (strcasecmp(w, "localuser") == 0)
			subject = ssh_config_local_user();
		else {
			ssh_config_fail(rd, path, line, "Match %s: criterion "
			    "not supported (all, canonical, final, host, "
			    "originalhost, user, localuser)", w);
			return (-1);
		}
		if ((arg = strtok_r(NULL, " \t", &save)) == NULL) {
			ssh_config_fail(rd, path, line, "Match %s: missing "
			    "argument", w);
			return (-1);
		}
		snprintf(list, sizeof(list), "%s", arg);
		hit = ssh_config_match_list(list, ",", subject);
next:
		if (hit == neg)
			all = 0;	/* every criterion is read all the same */
	}
	return (all);
}

/*
 * "Include": globs, relative to ~/.ssh, each file read in place with the
 * enclosing block's state (an Include in a block that does not apply is
 * not read at all, as OpenSSH reads it never matching).
 */
static int
ssh_config_include(char *val, struct ssh_config_read *rd, const char *path,
    int line, int depth, int *active)
{
	char		*save = NULL, *w, pat[SSH_CONFIG_STRLEN];
	glob_t		 g;
	size_t		 i;
	int		 rc, outer = *active;

	if (depth >= SSH_CONFIG_DEPTH) {
		ssh_config_fail(rd, path, line, "Include nested too deeply "
		    "(a loop?)%s", "");
		return (-1);
	}
	for (w = strtok_r(val, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (w[0] == '~' && w[1] == '/')
			snprintf(pat, sizeof(pat), "%s%s", ssh_config_home(),
			    w + 1);
		else if (w[0] != '/')
			snprintf(pat, sizeof(pat), "%s/.ssh/%s",
			    ssh_config_home(), w);
		else
			snprintf(pat, sizeof(pat), "%s", w);
		if ((rc = glob(pat, 0, NULL, &g)) == GLOB_NOMATCH)
			continue;
		if (rc != 0) {
			ssh_config_fail(rd, path, line, "Include %s: cannot "
			    "expand", w);
			return (-1);
		}
		for (i = 0; i < g.gl_pathc && rd->err[0] == '\0'; i++) {
			if (ssh_config_file(g.gl_pathv[i], rd, depth + 1,
			    active) == -1 && rd->err[0] == '\0')
				ssh_config_fail(rd, g.gl_pathv[i], 0, "%s",
				    strerror(errno));
			*active = outer;	/* the block goes on */
		}
		globfree(&g);
		if (rd->err[0] != '\0')
			return (-1);
	}
	return (0);
}

/* A keyword of an applying block. */
static void
ssh_config_keyword(struct ssh_config_read *rd, const char *key, char *val,
    const char *path, int line)
{
	struct ssh_config_host	*h = rd->h;
	unsigned long		 p;
	char			*end;

	if (strcasecmp(key, "HostName") == 0)
		ssh_config_set(h->host, sizeof(h->host), val);
	else if (strcasecmp(key, "User") == 0)
		ssh_config_set(h->user, sizeof(h->user), val);
	else if (strcasecmp(key, "IdentityFile") == 0)
		ssh_config_set(h->identity, sizeof(h->identity), val);
	else if (strcasecmp(key, "UserKnownHostsFile") == 0) {
		/* Several files may follow: the first is used. */
		val[strcspn(val, " \t")] = '\0';
		ssh_config_set(h->known_hosts, sizeof(h->known_hosts), val);
	} else if (strcasecmp(key, "Port") == 0 && h->port == 0) {
		p = strtoul(val, &end, 10);
		if (*end == '\0' && p > 0 && p <= 65535)
			h->port = (unsigned int)p;
	} else if (strcasecmp(key, "ProxyJump") == 0)
		ssh_config_set(h->proxy_jump, sizeof(h->proxy_jump), val);
	else if (strcasecmp(key, "ProxyCommand") == 0 &&
	    strcasecmp(val, "none") != 0)
		/* Connecting straight would reach another network. */
		ssh_config_fail(rd, path, line, "%s: a command is not a "
		    "bastion the libssh2 engine can use; use engine = "
		    "openssh", key);
	else if (strcasecmp(key, "CertificateFile") == 0)
		ssh_config_fail(rd, path, line, "CertificateFile: libssh2 "
		    "cannot present an OpenSSH certificate; use engine = "
		    "openssh%s", "");
}

/* Read one file; -1 with errno when it cannot be opened (not ENOENT). */
static int
ssh_config_file(const char *path, struct ssh_config_read *rd, int depth,
    int *active)
{
	FILE		*fp;
	char		*line = NULL, *key, *val, *end;
	size_t		 cap = 0;
	int		 n = 0, m;

	if ((fp = fopen(path, "re")) == NULL)
		return (errno == ENOENT ? 0 : -1);
	while (rd->err[0] == '\0' && getline(&line, &cap, fp) != -1) {
		n++;
		key = line + strspn(line, " \t");
		key[strcspn(key, "\r\n")] = '\0';
		if (*key == '\0' || *key == '#')
			continue;
		val = key + strcspn(key, " \t=");
		if (*val != '\0')
			*val++ = '\0';
		val += strspn(val, " \t=");
		ssh_config_uncomment(val);
		end = val + strlen(val);
		while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*val == '"' && end > val + 1 && end[-1] == '"') {
			val++;
			*--end = '\0';
		}
		if (strcasecmp(key, "Host") == 0) {
			*active = ssh_config_match_list(val, " \t",
			    rd->h->alias);
			rd->matched += *active;
		} else if (strcasecmp(key, "Match") == 0) {
			if ((m = ssh_config_match(val, rd, path, n)) == -1)
				break;
			*active = m;
			rd->matched += m;
		} else if (strcasecmp(key, "Include") == 0) {
			if (*active)
				ssh_config_include(val, rd, path, n, depth,
				    active);
		} else if (*active)
			ssh_config_keyword(rd, key, val, path, n);
	}
	free(line);
	fclose(fp);
	return (0);
}

int
ssh_config_apply_err(const char *path, struct ssh_config_host *h, char *err,
    size_t errlen)
{
	struct ssh_config_read	rd = { h, 0, err, errlen };
	int			active = 1;

	err[0] = '\0';
	if (ssh_config_file(path, &rd, 0, &active) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	return (err[0] != '\0' ? -1 : rd.matched);
}

int
ssh_config_apply(const char *path, struct ssh_config_host *h)
{
	char	err[512];

	return (ssh_config_apply_err(path, h, err, sizeof(err)));
}

/* -o: OpenSSH's names for the [bastion] keys they match. */
static const struct {
	const char	*ssh, *key, *unit;
} ssh_config_aliases[] = {
	{ "UserKnownHostsFile", "known_hosts", "" },
	{ "StrictHostKeyChecking", "strict_host_key_checking", "" },
	{ "IdentityFile", "identity", "" },
	{ "ServerAliveInterval", "keepalive_interval", "s" },
	{ "ServerAliveCountMax", "keepalive_count", "" },
	{ "ConnectTimeout", "connect_timeout", "s" },
	{ "User", "user", "" },
	{ "Ciphers", "ciphers", "" },	/* a plain list: no +, - or ^ */
};

/* One -o: into h (known_hosts, identity, user) or opts; 0 or -1. */
static int
ssh_config_opt(const char *o, struct ssh_config_host *h,
    char opts[][SSH_CONFIG_STRLEN], size_t *nopts, struct conf_errors *errs)
{
	const char	*eq = strchr(o, '='), *key, *val, *unit = "";
	char		 k[64];
	size_t		 i;

	if (eq == NULL || eq == o || (size_t)(eq - o) >= sizeof(k)) {
		conf_errors_add(errs, "-o", 0, "'%s': expected key=value", o);
		return (-1);
	}
	memcpy(k, o, (size_t)(eq - o));
	k[eq - o] = '\0';
	key = k;
	val = eq + 1;
	for (i = 0; i < sizeof(ssh_config_aliases) /
	    sizeof(ssh_config_aliases[0]); i++) {
		if (strcasecmp(k, ssh_config_aliases[i].ssh) == 0) {
			key = ssh_config_aliases[i].key;
			unit = ssh_config_aliases[i].unit;
		}
	}
	if (strcmp(key, "strict_host_key_checking") == 0 &&
	    strcasecmp(val, "accept-new") != 0)
		val = strcasecmp(val, "yes") == 0 ? "yes" : val;
	if (strcmp(key, "known_hosts") == 0)
		snprintf(h->known_hosts, sizeof(h->known_hosts), "%s", val);
	else if (strcmp(key, "identity") == 0)
		snprintf(h->identity, sizeof(h->identity), "%s", val);
	else if (strcmp(key, "user") == 0)
		snprintf(h->user, sizeof(h->user), "%s", val);
	else if (*nopts == SSH_CONFIG_MAXOPTS) {
		conf_errors_add(errs, "-o", 0, "too many -o options");
		return (-1);
	} else
		snprintf(opts[(*nopts)++], SSH_CONFIG_STRLEN, "%s=%s%s", key,
		    val, unit);
	return (0);
}

/* A [bastion] name from the alias: letters, digits, '-', '_', '.'. */
static void
ssh_config_name(const char *alias, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; alias[i] != '\0' && i + 1 < len && i < 64; i++)
		buf[i] = isalnum((unsigned char)alias[i]) || alias[i] == '-' ||
		    alias[i] == '_' || alias[i] == '.' ? alias[i] : '_';
	buf[i] = '\0';
	if (i == 0)
		snprintf(buf, len, "bastion");
}

int
ssh_config_alias_note(const char *jump, char *msg, size_t len)
{
	struct ssh_config_host	h;
	char			path[SSH_CONFIG_STRLEN], err[300];

	memset(&h, 0, sizeof(h));
	if (strrchr(jump, ',') != NULL)		/* a chain: its bastion */
		jump = strrchr(jump, ',') + 1;
	if (ssh_config_parse_jump(jump, &h, err, sizeof(err)) != 0 ||
	    strpbrk(h.alias, ".:") != NULL ||
	    strspn(h.alias, "0123456789") == strlen(h.alias) ||
	    strcasecmp(h.alias, "localhost") == 0)
		return (0);
	snprintf(path, sizeof(path), "%s/.ssh/config", ssh_config_home());
	if (ssh_config_apply(path, &h) == -1 || h.host[0] != '\0')
		return (0);
	snprintf(msg, len, "-J %s: no Host block of %s gives %s a HostName: "
	    "using it as a host name (a mistyped alias?)", h.alias, path,
	    h.alias);
	return (1);
}

/*
 * Complete h (the alias, and what the command line gave) from path as
 * ssh would: HostName (with %h), User, IdentityFile, UserKnownHostsFile.
 */
static void
ssh_config_resolve(const char *path, const char *what,
    struct ssh_config_host *h, struct conf_errors *errs)
{
	char		 tmp[SSH_CONFIG_STRLEN], err[300];
	const char	*lu;
	struct passwd	*pw;
	size_t		 i;

	if (ssh_config_apply_err(path, h, err, sizeof(err)) == -1)
		conf_errors_add(errs, what, 0, "%s", err);
	if (h->host[0] != '\0') {	/* HostName may say %h */
		snprintf(tmp, sizeof(tmp), "%s", h->host);
		h->host[0] = '\0';
		ssh_config_expand(tmp, h, h->host, sizeof(h->host));
	} else
		snprintf(h->host, sizeof(h->host), "%s", h->alias);
	if (h->user[0] == '\0') {
		if ((lu = getenv("USER")) == NULL && (pw = getpwuid(getuid())) !=
		    NULL)
			lu = pw->pw_name;
		snprintf(h->user, sizeof(h->user), "%s", lu != NULL ? lu :
		    "root");
	}
	if (h->identity[0] != '\0') {
		snprintf(tmp, sizeof(tmp), "%s", h->identity);
		ssh_config_expand(tmp, h, h->identity, sizeof(h->identity));
	} else if (getenv("SSH_AUTH_SOCK") == NULL) {
		/* ssh's defaults, when there is no agent to ask. */
		static const char *const def[] = {
			"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa",
			NULL
		};
		for (i = 0; def[i] != NULL && h->identity[0] == '\0'; i++) {
			ssh_config_expand(def[i], h, tmp, sizeof(tmp));
			if (access(tmp, R_OK) == 0)
				snprintf(h->identity, sizeof(h->identity), "%s",
				    tmp);
		}
	}
	if (h->known_hosts[0] != '\0') {
		snprintf(tmp, sizeof(tmp), "%s", h->known_hosts);
		ssh_config_expand(tmp, h, h->known_hosts,
		    sizeof(h->known_hosts));
	}
}

/* A [bastion] section for resolved h, named after its alias. */
static void
ssh_config_jump(const struct ssh_config_host *h, char *name, size_t len,
    struct conf_jump *j)
{
	ssh_config_name(h->alias, name, len);
	memset(j, 0, sizeof(*j));
	j->name = name;
	j->host = h->host;
	j->port = h->port;
	j->user = h->user;
	j->identity = h->identity[0] != '\0' ? h->identity : NULL;
	j->known_hosts = h->known_hosts[0] != '\0' ? h->known_hosts : NULL;
}

/* Most hops in a chain (conf_validate allows 8). */
#define SSH_CONFIG_MAXHOPS	8

struct ssh_config_chain {
	struct ssh_config_host	 h[SSH_CONFIG_MAXHOPS];
	struct conf_jump	 j[SSH_CONFIG_MAXHOPS];
	char			 name[SSH_CONFIG_MAXHOPS][80];
	char			 list[SSH_CONFIG_STRLEN];
	size_t			 n;
};

/*
 * The hops of list ("a,user@b:2222"), each completed from path; the
 * known_hosts of -o (kh) applies to every hop.  Names stay unique.
 */
static void
ssh_config_hops(struct ssh_config_chain *ch, const char *list,
    const char *path, const char *kh, const char *dest,
    struct conf_errors *errs)
{
	char	*copy, *spec, *save = NULL, err[300];
	size_t	 i, k, len;

	if ((copy = strdup(list)) == NULL)
		return;
	for (spec = strtok_r(copy, ",", &save); spec != NULL;
	    spec = strtok_r(NULL, ",", &save)) {
		if (ch->n == SSH_CONFIG_MAXHOPS) {
			conf_errors_add(errs, "-J", 0, "'%s': more than %d "
			    "hops", list, SSH_CONFIG_MAXHOPS);
			break;
		}
		i = ch->n;
		memset(&ch->h[i], 0, sizeof(ch->h[i]));
		if (ssh_config_parse_jump(spec, &ch->h[i], err,
		    sizeof(err)) != 0) {
			conf_errors_add(errs, "-J", 0, "%s", err);
			continue;
		}
		snprintf(ch->h[i].known_hosts, sizeof(ch->h[i].known_hosts),
		    "%s", kh);
		ssh_config_resolve(path, "-J", &ch->h[i], errs);
		if (i == 0 && ch->h[0].proxy_jump[0] != '\0' &&
		    strcasecmp(ch->h[0].proxy_jump, "none") != 0)
			conf_errors_add(errs, "-J", 0, "%s: its own ProxyJump "
			    "(%s): a chain before the first hop; use engine = "
			    "openssh", ch->h[0].alias, ch->h[0].proxy_jump);
		ssh_config_jump(&ch->h[i], ch->name[i], sizeof(ch->name[i]),
		    &ch->j[i]);
		/* -J a,a, or a hop named as the bastion: another name. */
		for (k = 0; k <= i; k++) {
			if (strcmp(ch->name[i], k < i ? ch->name[k] : dest) !=
			    0)
				continue;
			len = strlen(ch->name[i]);
			snprintf(ch->name[i] + (len < 60 ? len : 60),
			    sizeof(ch->name[i]) - (len < 60 ? len : 60),
			    "-hop%zu", i + 1);
			break;
		}
		len = strlen(ch->list);
		snprintf(ch->list + len, sizeof(ch->list) - len, "%s%s",
		    i > 0 ? "," : "", ch->name[i]);
		ch->n++;
	}
	free(copy);
}

struct conf *
ssh_config_conf(char **specs, size_t n, const char *jump, const char *file,
    const char *identity, const char *port, char **opts, size_t nopts,
    struct conf_errors *errs)
{
	struct ssh_config_host	 h;
	struct conf_jump	 j;
	struct ssh_config_chain	*ch;
	char			 o[SSH_CONFIG_MAXOPTS][SSH_CONFIG_STRLEN];
	char			*ov[SSH_CONFIG_MAXOPTS], path[SSH_CONFIG_STRLEN];
	char			 name[80], err[300], kh[SSH_CONFIG_STRLEN];
	char			 hops[SSH_CONFIG_STRLEN];
	const char		*last;
	size_t			 i, no = 0, before = errs->n;
	unsigned long		 p;
	char			*end;
	struct conf		*c = NULL;

	memset(&h, 0, sizeof(h));
	hops[0] = '\0';
	if ((last = strrchr(jump, ',')) != NULL) {
		/* -J a,b: the bastion is b, reached through a. */
		snprintf(hops, sizeof(hops), "%.*s", (int)(last - jump), jump);
		jump = last + 1;
	}
	if (ssh_config_parse_jump(jump, &h, err, sizeof(err)) != 0) {
		conf_errors_add(errs, "-J", 0, "%s", err);
		return (NULL);
	}
	if (port != NULL) {
		p = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || p == 0 || p > 65535) {
			conf_errors_add(errs, "-p", 0, "'%s': bad port", port);
			return (NULL);
		}
		h.port = (unsigned int)p;
	}
	if (identity != NULL)
		snprintf(h.identity, sizeof(h.identity), "%s", identity);
	for (i = 0; i < nopts; i++)
		ssh_config_opt(opts[i], &h, o, &no, errs);
	if (errs->n != before)
		return (NULL);
	snprintf(kh, sizeof(kh), "%s", h.known_hosts);	/* -o's, if any */
	if (file != NULL)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/.ssh/config",
		    ssh_config_home());
	ssh_config_resolve(path, "-J", &h, errs);
	/* -J's hops win over the destination's ProxyJump, as in ssh. */
	if (hops[0] == '\0' && h.proxy_jump[0] != '\0' &&
	    strcasecmp(h.proxy_jump, "none") != 0)
		snprintf(hops, sizeof(hops), "%s", h.proxy_jump);
	if (errs->n != before || (ch = calloc(1, sizeof(*ch))) == NULL)
		return (NULL);
	ssh_config_name(h.alias, name, sizeof(name));
	if (hops[0] != '\0')
		ssh_config_hops(ch, hops, path, kh, name, errs);
	if (errs->n == before) {
		for (i = 0; i < no; i++)
			ov[i] = o[i];
		ssh_config_jump(&h, name, sizeof(name), &j);
		j.opts = ov;
		j.nopts = no;
		for (i = 0; i < ch->n; i++) {
			ch->j[i].opts = ov;
			ch->j[i].nopts = no;
		}
		j.hops = ch->j;
		j.nhops = ch->n;
		j.proxy_jump = ch->n > 0 ? ch->list : NULL;
		c = conf_from_forwards_jump(specs, n, &j, errs);
	}
	free(ch);
	return (c);
}
