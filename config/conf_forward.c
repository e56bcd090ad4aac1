/*
 * conf_forward.c: "-L [bind:]port:host:hostport" quick mode.  Each spec
 * becomes the text of one [service] section, and the text goes through
 * conf_parse() so that quick mode and files share every check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_keys.h"

#define FWD_MAXFIELDS	4
#define FWD_BADCHARS	" \t\r\n\v\f#;"

/*
 * What produced each line of the generated text ("-L 6379:h:6379", "-o
 * keepalive_count=0"), so that an error names the argument, not a line
 * of text the user never saw.
 */
struct fwd_origins {
	char	**line;		/* [n - 1]: origin of line n */
	size_t	  n;
};

static void
fwd_origin(struct fwd_origins *o, const char *what, const char *arg)
{
	char	**grown, *s;

	if (asprintf(&s, "%s %s", what, arg) == -1)
		return;
	if ((grown = reallocarray(o->line, o->n + 1, sizeof(*grown))) ==
	    NULL) {
		free(s);
		return;
	}
	o->line = grown;
	o->line[o->n++] = s;
}

static void
fwd_origins_free(struct fwd_origins *o)
{
	size_t	i;

	for (i = 0; i < o->n; i++)
		free(o->line[i]);
	free(o->line);
}

static const char *
fwd_origin_of(const struct fwd_origins *o, long line)
{
	return (line >= 1 && (size_t)line <= o->n ? o->line[line - 1] : NULL);
}

/* Move from's message i, unchanged, to the end of `to`. */
static void
fwd_errors_keep(struct conf_errors *to, struct conf_errors *from, size_t i)
{
	char	**grown;

	if ((grown = reallocarray(to->msg, to->n + 1, sizeof(*grown))) ==
	    NULL)
		return;		/* stays in from, freed with it */
	to->msg = grown;
	to->msg[to->n++] = from->msg[i];
	from->msg[i] = NULL;
}

/*
 * "-J:6: msg (also at line 2)" -> "-L 6379:h:1: msg (also -L 7000:h:2)";
 * messages without a line number pass unchanged.
 */
static void
fwd_errors_map(const struct fwd_origins *o, const char *name,
    struct conf_errors *from, struct conf_errors *to)
{
	const char	*msg, *who, *also_who;
	char		*end, *also, *rest;
	size_t		 i, nl = strlen(name);
	long		 line, also_line;

	for (i = 0; i < from->n; i++) {
		if ((msg = from->msg[i]) == NULL)
			continue;
		line = -1;
		if (strncmp(msg, name, nl) == 0 && msg[nl] == ':') {
			line = strtol(msg + nl + 1, &end, 10);
			if (end == msg + nl + 1 || strncmp(end, ": ", 2) != 0)
				line = -1;
		}
		if ((who = fwd_origin_of(o, line)) == NULL) {
			fwd_errors_keep(to, from, i);
			continue;
		}
		rest = end + 2;
		also = strstr(rest, " (also at line ");
		also_who = NULL;
		if (also != NULL) {
			also_line = strtol(also + 15, &end, 10);
			if (strcmp(end, ")") == 0)
				also_who = fwd_origin_of(o, also_line);
		}
		if (also_who != NULL)
			conf_errors_add(to, who, 0, "%.*s (also %s)",
			    (int)(also - rest), rest, also_who);
		else
			conf_errors_add(to, who, 0, "%s", rest);
	}
}

/* Split on ':' outside brackets; brackets are kept. */
static int
conf_forward_split(char *s, char **f)
{
	int	 n = 0, depth = 0;
	char	*p;

	f[n++] = s;
	for (p = s; *p != '\0'; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		else if (*p == ':' && depth == 0) {
			if (n == FWD_MAXFIELDS)
				return (-1);
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return (n);
}

static void	conf_forward_kv(char **, const char *, const char *,
		    struct fwd_origins *, const char *, const char *,
		    struct conf_errors *);

/*
 * An -o that belongs to each forward's [service] (readonly, protocol):
 * a service key that is not also a bastion key.  *klen: the key's length.
 */
static int
fwd_service_opt(const char *opt, size_t *klen)
{
	char	key[64];
	size_t	n = strcspn(opt, "=");

	if (n == 0 || n >= sizeof(key) || opt[n] != '=')
		return (0);
	memcpy(key, opt, n);
	key[n] = '\0';
	*klen = n;
	return (conf_keys_find(SECT_SERVICE, key) != NULL &&
	    conf_keys_find(SECT_BASTION, key) == NULL);
}

/*
 * The forward's service keys from -o; with readonly = yes and no
 * protocol, the protocol of a well-known target port (readonly needs
 * one postern reads).
 */
static void
conf_forward_svc_opts(const char *spec, const char *port, char **opts,
    size_t nopts, char **text, struct fwd_origins *o,
    struct conf_errors *errs)
{
	char		*key;
	size_t		 i, kl;
	int		 ro = 0, proto = 0, cl = 0;
	long		 p = strtol(port, NULL, 10);

	for (i = 0; i < nopts; i++) {
		if (!fwd_service_opt(opts[i], &kl) ||
		    (key = strndup(opts[i], kl)) == NULL)
			continue;
		ro |= strcmp(key, "readonly") == 0 &&
		    strcmp(opts[i] + kl + 1, "yes") == 0;
		proto |= strcmp(key, "protocol") == 0;
		cl |= strcmp(key, "cluster") == 0 &&
		    strcmp(opts[i] + kl + 1, "yes") == 0;
		conf_forward_kv(text, key, opts[i] + kl + 1, o, "-o", opts[i],
		    errs);
		free(key);
	}
	if (cl && !proto)	/* a Redis Cluster is Redis, whatever the port */
		conf_forward_kv(text, "protocol", "redis", o, "-L", spec, errs);
	else if (ro && !proto && (p == 6379 || p == 6380))
		conf_forward_kv(text, "protocol", "redis", o, "-L", spec, errs);
	else if (ro && !proto && (p == 5432 || p == 5433))
		conf_forward_kv(text, "protocol", "postgres", o, "-L", spec,
		    errs);
}

/*
 * Append "[service NAME]" text for one spec; returns 0 or -1.  *label
 * gets what the developer typed, "7391 -> redis.internal:6379": the name
 * the logs give the tunnel (service names cannot hold it).
 */
static int
conf_forward_one(const char *spec, size_t idx, const char *jump,
    char **opts, size_t nopts, char **text, struct fwd_origins *o,
    char **label,
    struct conf_errors *errs)
{
	char	*copy, *f[FWD_MAXFIELDS], *bind = NULL, *out;
	int	 n, rc = -1;

	/* The spec becomes config text: no spaces, comments or new lines. */
	if (spec[strcspn(spec, FWD_BADCHARS)] != '\0') {
		conf_errors_add(errs, "-L", 0, "'%s': white space, '#' or ';' "
		    "in a forward", spec);
		return (-1);
	}
	if ((copy = strdup(spec)) == NULL)
		return (-1);
	n = conf_forward_split(copy, f);
	if (n == 4)
		bind = f[0];
	else if (n != 3) {
		conf_errors_add(errs, "-L", 0, "'%s': expected "
		    "[bind_address:]port:host:hostport", spec);
		goto out;
	}
	if (bind != NULL && *bind == '\0')
		bind = NULL;
	if (asprintf(&out, "%s[service L%zu]\nlisten = %s%s%s\n"
	    "route = %s %s%s%s%s:%s\n", *text, idx + 1,
	    bind != NULL ? bind : "", bind != NULL ? ":" : "", f[n - 3],
	    jump != NULL ? jump : "direct", jump != NULL ? "ssh://" : "tcp://",
	    jump != NULL ? jump : "", jump != NULL ? "/" : "", f[n - 2],
	    f[n - 1]) == -1)
		goto out;
	free(*text);
	*text = out;
	if (asprintf(label, "%s%s%s -> %s:%s", bind != NULL ? bind : "",
	    bind != NULL ? ":" : "", f[n - 3], f[n - 2], f[n - 1]) == -1)
		*label = NULL;
	fwd_origin(o, "-L", spec);	/* [service], listen, route */
	fwd_origin(o, "-L", spec);
	fwd_origin(o, "-L", spec);
	conf_forward_svc_opts(spec, f[n - 1], opts, nopts, text, o, errs);
	rc = 0;
out:
	free(copy);
	return (rc);
}

/* Append "key = value" for -J; the value becomes config text too. */
static void
conf_forward_kv(char **text, const char *key, const char *value,
    struct fwd_origins *o, const char *what, const char *arg,
    struct conf_errors *errs)
{
	char	*out;

	if (value == NULL)
		return;
	if (*value == '\0' || value[strcspn(value, "\r\n#;")] != '\0') {
		conf_errors_add(errs, "-J", 0, "%s '%s': empty, or a new line, "
		    "'#' or ';' in it", key, value);
		return;
	}
	if (asprintf(&out, "%s%s = %s\n", *text, key, value) == -1)
		return;
	free(*text);
	*text = out;
	fwd_origin(o, what, arg);
}

/* "[bastion NAME]" text for -J. */
static void
conf_forward_jump(const struct conf_jump *j, char **text,
    struct fwd_origins *o, struct conf_errors *errs)
{
	char	 addr[ADDR_STRLEN + 16], *eq, *key, *out;
	size_t	 i, kl;
	int	 v6 = strchr(j->host, ':') != NULL;

	/* The name is checked by conf_parse like any section name. */
	if (j->name[strcspn(j->name, FWD_BADCHARS "[]")] != '\0') {
		conf_errors_add(errs, "-J", 0, "bad bastion name '%s'",
		    j->name);
		return;
	}
	if (asprintf(&out, "%s[bastion %s]\n", *text, j->name) == -1)
		return;
	free(*text);
	*text = out;
	fwd_origin(o, "-J", j->name);
	snprintf(addr, sizeof(addr), "%s%s%s:%u", v6 ? "[" : "", j->host,
	    v6 ? "]" : "", j->port != 0 ? j->port : 22);
	conf_forward_kv(text, "address", addr, o, "-J", j->name, errs);
	conf_forward_kv(text, "user", j->user, o, "-J", j->name, errs);
	conf_forward_kv(text, "identity", j->identity, o, "-J", j->name,
	    errs);
	conf_forward_kv(text, "known_hosts", j->known_hosts, o, "-J",
	    j->name, errs);
	conf_forward_kv(text, "proxy_jump", j->proxy_jump, o, "-J", j->name,
	    errs);
	for (i = 0; i < j->nopts; i++) {
		if (fwd_service_opt(j->opts[i], &kl))
			continue;	/* each [service]'s */
		if ((eq = strchr(j->opts[i], '=')) == NULL || eq ==
		    j->opts[i]) {
			conf_errors_add(errs, "-o", 0, "'%s': expected "
			    "key=value", j->opts[i]);
			continue;
		}
		if ((key = strndup(j->opts[i], (size_t)(eq - j->opts[i]))) ==
		    NULL)
			continue;
		if (key[strcspn(key, " \t[]=#;")] != '\0')
			conf_errors_add(errs, "-o", 0, "'%s': bad key",
			    j->opts[i]);
		else
			conf_forward_kv(text, key, eq + 1, o, "-o",
			    j->opts[i], errs);
		free(key);
	}
}

/* The generation of -L specs (through jump if not NULL), with -o opts. */
static struct conf *
conf_forward_build(char **specs, size_t n, const struct conf_jump *jump,
    char **opts, size_t nopts, struct conf_errors *errs)
{
	struct fwd_origins	 o = { NULL, 0 };
	struct conf_errors	 perrs = { NULL, 0 };
	const char		*name = jump != NULL ? "-J" : "-L";
	char			*text, **labels;
	size_t			 i, kl, before = errs->n;
	struct conf		*c = NULL;

	if ((text = strdup("")) == NULL)
		return (NULL);
	if ((labels = calloc(n ? n : 1, sizeof(*labels))) == NULL) {
		free(text);
		return (NULL);
	}
	/* A chain: each hop's [bastion] section, then the bastion's. */
	for (i = 0; jump != NULL && i < jump->nhops; i++)
		conf_forward_jump(&jump->hops[i], &text, &o, errs);
	if (jump != NULL)
		conf_forward_jump(jump, &text, &o, errs);
	for (i = 0; jump == NULL && i < nopts; i++)
		if (!fwd_service_opt(opts[i], &kl))
			conf_errors_add(errs, "-o", 0, "'%s': not a key of a "
			    "forward's service (without -J, -o takes readonly "
			    "and protocol)", opts[i]);
	for (i = 0; n > 1 && i < nopts; i++)
		if (strcmp(opts[i], "cluster=yes") == 0)
			conf_errors_add(errs, "-o", 0, "'%s': one -L only "
			    "(each forward would take the same cluster_ports)",
			    opts[i]);
	for (i = 0; i < n; i++)
		conf_forward_one(specs[i], i, jump != NULL ? jump->name : NULL,
		    opts, nopts, &text, &o, &labels[i], errs);
	if (errs->n == before) {
		c = conf_parse(text, strlen(text), name, 0, &perrs);
		fwd_errors_map(&o, name, &perrs, errs);
		conf_errors_free(&perrs);
	}
	/* Service i is -L i (conf_forward_one wrote them in order). */
	for (i = 0; c != NULL && i < n && i < c->nservices; i++) {
		c->services[i].label = labels[i];
		labels[i] = NULL;
	}
	for (i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
	fwd_origins_free(&o);
	free(text);
	return (c);
}

struct conf *
conf_from_forwards_jump(char **specs, size_t n, const struct conf_jump *jump,
    struct conf_errors *errs)
{
	return (conf_forward_build(specs, n, jump, jump != NULL ? jump->opts :
	    NULL, jump != NULL ? jump->nopts : 0, errs));
}

struct conf *
conf_from_forwards_opts(char **specs, size_t n, char **opts, size_t nopts,
    struct conf_errors *errs)
{
	return (conf_forward_build(specs, n, NULL, opts, nopts, errs));
}

struct conf *
conf_from_forwards(char **specs, size_t n, struct conf_errors *errs)
{
	return (conf_forward_build(specs, n, NULL, NULL, 0, errs));
}

/* The client command for one quick-mode forward (conf.h). */
void
conf_forward_hint(const struct conf_service *s, char *buf, size_t len)
{
	const struct addr	*a = &s->listen[0].addr;
	const char		*h = a->host;
	enum conf_proto		 p = s->protocol;
	unsigned int		 tp = s->nroutes > 0 ? s->routes[0].target.port :
				    0;

	if (h[0] == '\0' || strcmp(h, "*") == 0 || strcmp(h, "0.0.0.0") == 0)
		h = "127.0.0.1";
	else if (strcmp(h, "::") == 0)
		h = "::1";
	/* A plain forward: the client its target's port suggests. */
	if (p == PROTO_TCP && (tp == 6379 || tp == 6380))
		p = PROTO_REDIS;
	else if (p == PROTO_TCP && (tp == 5432 || tp == 5433))
		p = PROTO_POSTGRES;
	switch (p) {
	case PROTO_REDIS:
		snprintf(buf, len, "redis-cli -h %s -p %u", h, a->port);
		break;
	case PROTO_POSTGRES:
		snprintf(buf, len, "psql \"host=%s port=%u\"", h, a->port);
		break;
	case PROTO_TCP:
		snprintf(buf, len, "nc %s %u", h, a->port);
		break;
	}
}
