/*
 * conf.c: load, validate and free configuration generations.
 *
 * The INI lexer hands us sections and pairs in file order; the key table
 * (conf_keys.c) says how to store each value.  Every error is collected
 * with its line and parsing goes on, so that one run of "postern -n"
 * shows them all.  Cross-checks (names that must resolve, duplicate
 * listeners, files that must exist) run once the whole file is read.
 * Secret files are read in conf_secret.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "authfile.h"
#include "conf.h"
#include "conf_keys.h"
#include "conf_int.h"
#include "ini.h"

void
conf_errors_add(struct conf_errors *e, const char *file, int line,
    const char *fmt, ...)
{
	va_list	  ap;
	char	 *msg, *full, **n;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	if (line > 0) {
		if (asprintf(&full, "%s:%d: %s", file, line, msg) == -1)
			full = NULL;
	} else if (asprintf(&full, "%s: %s", file, msg) == -1)
		full = NULL;
	free(msg);
	if (full == NULL)
		return;
	n = reallocarray(e->msg, e->n + 1, sizeof(*e->msg));
	if (n == NULL) {
		free(full);
		return;
	}
	e->msg = n;
	e->msg[e->n++] = full;
}

void
conf_errors_free(struct conf_errors *e)
{
	size_t	i;

	for (i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = 0;
}

static void
conf_free(struct conf *c)
{
	size_t			 i, j;
	struct conf_service	*s;
	struct conf_bastion	*b;

	for (i = 0; i < c->nservices; i++) {
		s = &c->services[i];
		free(s->name);
		free(s->label);
		free(s->listen);
		free(s->check_user);
		free(s->check_database);
		free(s->check_password_file);
		free(s->auth_file);
		authfile_free(s->auth);
		free(s->identity_key);
		free(s->identity_value);
		free(s->cluster_ports);
		if (s->check_password != NULL) {
			explicit_bzero(s->check_password,
			    strlen(s->check_password));
			free(s->check_password);
		}
		for (j = 0; j < s->nroutes; j++)
			conf_route_clear(&s->routes[j]);
		free(s->routes);
	}
	free(c->services);
	for (i = 0; i < c->nbastions; i++) {
		b = &c->bastions[i];
		free(b->name);
		free(b->user);
		free(b->identity);
		free(b->identity_passphrase_file);
		if (b->identity_passphrase != NULL) {
			explicit_bzero(b->identity_passphrase,
			    strlen(b->identity_passphrase));
			free(b->identity_passphrase);
		}
		free(b->known_hosts);
		free(b->host_key_sha256);
		free(b->session_command);
		free(b->ciphers);
		free(b->host_key_algorithms);
		free(b->control_path);
		free(b->ssh_config);
		free(b->ssh_destination);
		free(b->proxy_jump);
	}
	free(c->bastions);
	free(c->admin_token_file);
	free(c->admin_socket_mode);
	free(c->admin_socket_group);
	free(c->audit_file);
	if (c->admin_token != NULL) {
		OPENSSL_cleanse(c->admin_token, strlen(c->admin_token));
		free(c->admin_token);
	}
	free(c->user);
	free(c->path);
	free(c);
}

struct conf *
conf_ref(struct conf *c)
{
	c->refs++;
	return (c);
}

void
conf_unref(struct conf *c)
{
	if (c != NULL && --c->refs == 0)
		conf_free(c);
}

int
conf_valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return (0);
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return (0);
	}
	return (1);
}

/*
 * A TYPE_NAMES value: names of letters, digits and "@.-_" separated by
 * single commas, none twice.  Which names exist is the library's to say
 * (tunnel/ checks them on load); 0 or -1 with why in err.
 */
static int
conf_check_names(const char *v, char *err, size_t len)
{
	const char	*n, *m;
	size_t		 l, ml;

	if (*v == '\0') {
		snprintf(err, len, "empty value");
		return (-1);
	}
	if (strlen(v) > CONF_NAMES_MAX) {
		snprintf(err, len, "longer than %d characters", CONF_NAMES_MAX);
		return (-1);
	}
	for (n = v; ; n += l + 1) {
		l = strcspn(n, ",");
		if (l == 0) {
			snprintf(err, len, "'%s': an empty name (names are "
			    "separated by single commas, without spaces)", v);
			return (-1);
		}
		if (strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
		    "XYZ0123456789@.-_") < l) {
			snprintf(err, len, "'%.*s' is not an algorithm name "
			    "(letters, digits, '@', '.', '-', '_')", (int)l, n);
			return (-1);
		}
		for (m = v; m < n; m += ml + 1) {
			ml = strcspn(m, ",");
			if (ml == l && strncmp(m, n, l) == 0) {
				snprintf(err, len, "'%.*s' is listed twice",
				    (int)l, n);
				return (-1);
			}
		}
		if (n[l] == '\0')
			return (0);
	}
}

void
conf_check_file(struct conf_parser *p, int line, const char *what,
    const char *path)
{
	if (path == NULL || !(p->flags & CONF_CHECK_FILES))
		return;
	if (access(path, R_OK) != 0)
		perr(p, line, "%s %s: %s", what, path, strerror(errno));
}

static void
conf_check_user(struct conf_parser *p, int line, const char *what,
    const char *user)
{
	if (!(p->flags & CONF_CHECK_FILES))
		return;
	errno = 0;
	if (getpwnam(user) == NULL)
		perr(p, line, "%s %s: %s", what, user, errno != 0 ?
		    strerror(errno) : "no such user");
}

/* Store one value according to its key's type. */
void
conf_store(struct conf_parser *p, const struct conf_key *k, int line,
    const char *value, void *object)
{
	char		 *base = object, err[512];
	long		  v;
	char		 *end;
	int		  ms, idx;
	struct addr	  a;
	struct conf_service *s = p->object;

	switch (k->type) {
	case TYPE_STRING:
	case TYPE_PATH:
	case TYPE_USER:
		if (*value == '\0') {
			perr(p, line, "%s%s: empty value", p->label,
			    k->name);
			return;
		}
		free(*(char **)(base + k->offset));
		*(char **)(base + k->offset) = strdup(value);
		if (k->type == TYPE_PATH && !(k->flags & KEY_CREATABLE))
			conf_check_file(p, line, k->name, value);
		if (k->flags & KEY_SECRET)
			conf_note_secret(p, line, k->name, value, "",
			    p->label);
		else if (k->type == TYPE_USER)
			conf_check_user(p, line, k->name, value);
		break;
	case TYPE_NAMES:
		if (conf_check_names(value, err, sizeof(err)) != 0) {
			perr(p, line, "%s%s: %s", p->label, k->name, err);
			return;
		}
		free(*(char **)(base + k->offset));
		*(char **)(base + k->offset) = strdup(value);
		break;
	case TYPE_HOSTPORT:
	case TYPE_LISTEN:
		if ((k->type == TYPE_HOSTPORT ?
		    addr_parse_hostport(value, &a, err, sizeof(err)) :
		    addr_parse_listen(value, &a, err, sizeof(err))) != 0) {
			perr(p, line, "%s%s: %s", p->label, k->name, err);
			return;
		}
		if (k->type == TYPE_HOSTPORT && strcmp(a.host, "*") == 0) {
			perr(p, line, "%s%s: '*' is not a destination",
			    p->label, k->name);
			return;
		}
		if (k->flags & KEY_REPEAT) {	/* service listen */
			struct conf_listen *l;

			if (s->nlisten >= CONF_MAX_LISTEN) {
				perr(p, line, "more than %d listen addresses",
				    CONF_MAX_LISTEN);
				return;
			}
			l = reallocarray(s->listen, s->nlisten + 1,
			    sizeof(*l));
			if (l == NULL)
				return;
			s->listen = l;
			l[s->nlisten].addr = a;
			l[s->nlisten++].line = line;
		} else
			*(struct addr *)(base + k->offset) = a;
		break;
	case TYPE_DURATION:
		if (conf_keys_parse_duration(value, &ms) != 0) {
			perr(p, line, "%s%s: '%s' is not a duration (write it "
			    "as 250ms, 2s, 1m or 1h)", p->label, k->name, value);
			return;
		}
		if (ms < k->min || ms > k->max) {
			perr(p, line, "%s%s: %s is out of range (%d ms to "
			    "%d ms)", p->label, k->name, value, k->min,
			    k->max);
			return;
		}
		*(int *)(base + k->offset) = ms;
		break;
	case TYPE_INT:
		errno = 0;
		v = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0) {
			perr(p, line, "%s%s: '%s' is not a number",
			    p->label, k->name, value);
			return;
		}
		if (v < k->min || v > k->max) {
			perr(p, line, "%s%s: %ld is out of range (%d to %d)",
			    p->label, k->name, v, k->min, k->max);
			return;
		}
		*(int *)(base + k->offset) = (int)v;
		break;
	case TYPE_ENUM:
		if ((idx = conf_keys_enum_index(k, value)) == -1) {
			char	 list[256];
			int	 i, n = 0;

			list[0] = '\0';
			for (i = 0; k->values[i] != NULL && n >= 0 &&
			    (size_t)n < sizeof(list); i++)
				n += snprintf(list + n, sizeof(list) - (size_t)n,
				    "%s%s", i ? ", " : "", k->values[i]);
			perr(p, line, "%s%s: '%s' is not one of: %s",
			    p->label, k->name, value, list);
			return;
		}
		*(int *)(base + k->offset) = idx;
		break;
	case TYPE_ROUTE: {
		struct conf_route	 r, *rs;

		if (s->nroutes >= CONF_MAX_ROUTES) {
			perr(p, line, "more than %d routes", CONF_MAX_ROUTES);
			return;
		}
		if (conf_parse_route(p, line, value, &r) != 0) {
			conf_route_clear(&r);
			return;
		}
		rs = reallocarray(s->routes, s->nroutes + 1, sizeof(*rs));
		if (rs == NULL) {
			conf_route_clear(&r);
			return;
		}
		s->routes = rs;
		rs[s->nroutes++] = r;
		break;
	}
	}
}

/* Apply the defaults of every key of the current section. */
static void
conf_defaults(struct conf_parser *p)
{
	size_t	i;

	for (i = 0; i < conf_nkeys; i++) {
		if (conf_keys[i].section == p->section &&
		    conf_keys[i].def != NULL)
			conf_store(p, &conf_keys[i], 0, conf_keys[i].def,
			    p->object);
	}
}

/* Report required keys missing from the section that just ended. */
static void
conf_section_end(struct conf_parser *p)
{
	size_t		 i;
	const char	*name = "";

	if (p->section == SECT_BASTION) {
		struct conf_bastion	*b = p->object;
		const struct conf_key	*k;

		name = b->name;
		k = conf_keys_find(SECT_BASTION, "ciphers");
		b->ciphers_line = p->seen[k - conf_keys] ?
		    p->seen[k - conf_keys] : p->section_line;
		k = conf_keys_find(SECT_BASTION, "host_key_algorithms");
		b->host_key_algorithms_line = p->seen[k - conf_keys] ?
		    p->seen[k - conf_keys] : p->section_line;
		/* ssh(1) runs in batch mode: nobody to type a passphrase. */
		if (b->engine == SSH_ENGINE_OPENSSH && (b->host_key_sha256 !=
		    NULL || b->identity_passphrase_file != NULL))
			perr(p, p->section_line, "[bastion %s]: engine = openssh "
			    "does not take %s", b->name, b->host_key_sha256 !=
			    NULL ? "host_key_sha256 (ssh has no pinned "
			    "fingerprint: use known_hosts)" :
			    "identity_passphrase_file (ssh runs without a "
			    "terminal to type it: use the ssh-agent)");
		/* known_hosts: accept-new may create it. */
		k = conf_keys_find(SECT_BASTION, "known_hosts");
		if (b->strict_host_key_checking != HOSTKEY_ACCEPT_NEW)
			conf_check_file(p, p->seen[k - conf_keys], k->name,
			    b->known_hosts);
	}
	else if (p->section == SECT_SERVICE) {
		struct conf_service	*s = p->object;
		const struct conf_key	*k;

		name = s->name;
		/* The default timeout never exceeds a shorter interval. */
		k = conf_keys_find(SECT_SERVICE, "check_timeout");
		if (!p->seen[k - conf_keys] &&
		    s->check_timeout_ms > s->check_interval_ms)
			s->check_timeout_ms = s->check_interval_ms;
		conf_validate_role(p, s, conf_check_kind(s));
		conf_validate_identity(p, s, conf_check_kind(s));
		conf_validate_readonly(p, s);
		conf_validate_cluster(p, s);
	}
	for (i = 0; i < conf_nkeys && p->section != SECT_NONE; i++) {
		if (conf_keys[i].section != p->section ||
		    !(conf_keys[i].flags & KEY_REQUIRED) || p->seen[i])
			continue;
		perr(p, p->section_line, "[%s %s]: missing required key '%s'",
		    conf_keys_section_name(p->section), name,
		    conf_keys[i].name);
	}
	p->section = SECT_NONE;
	p->object = NULL;
}

static void
conf_on_section(void *arg, int line, const char *header)
{
	struct conf_parser	*p = arg;
	struct conf		*c = p->conf;
	char			 kind[32], name[128], extra[8];
	int			 n;
	void			*grown;

	conf_section_end(p);
	p->section_line = line;
	if (strcmp(header, INI_BAD_SECTION) == 0)
		return;
	n = sscanf(header, "%31s %127s %7s", kind, name, extra);
	memset(p->seen, 0, sizeof(p->seen));
	if (n == 1 && strcmp(kind, "postern") == 0) {
		if (p->global_line != 0) {
			perr(p, line, "duplicate [postern] (first at line %d)",
			    p->global_line);
			return;
		}
		p->global_line = line;
		p->section = SECT_GLOBAL;
		p->object = c;
		return;
	}
	if (n != 2 || (strcmp(kind, "bastion") != 0 &&
	    strcmp(kind, "service") != 0)) {
		perr(p, line, "unknown section [%s] (expected [postern], "
		    "[bastion NAME] or [service NAME])", header);
		return;
	}
	if (!conf_valid_name(name)) {
		perr(p, line, "bad name '%s' (letters, digits, '-', '_', '.')",
		    name);
		return;
	}
	if (strcmp(kind, "bastion") == 0) {
		if (conf_find_bastion(c, name) != NULL) {
			perr(p, line, "duplicate [bastion %s]", name);
			return;
		}
		grown = reallocarray(c->bastions, c->nbastions + 1,
		    sizeof(*c->bastions));
		if (grown == NULL)
			return;
		c->bastions = grown;
		memset(&c->bastions[c->nbastions], 0, sizeof(*c->bastions));
		c->bastions[c->nbastions].name = strdup(name);
		c->bastions[c->nbastions].line = line;
		p->object = &c->bastions[c->nbastions++];
		p->section = SECT_BASTION;
	} else {
		if (conf_find_service(c, name) != NULL) {
			perr(p, line, "duplicate [service %s]", name);
			return;
		}
		grown = reallocarray(c->services, c->nservices + 1,
		    sizeof(*c->services));
		if (grown == NULL)
			return;
		c->services = grown;
		memset(&c->services[c->nservices], 0, sizeof(*c->services));
		c->services[c->nservices].name = strdup(name);
		c->services[c->nservices].line = line;
		p->object = &c->services[c->nservices++];
		p->section = SECT_SERVICE;
	}
	conf_defaults(p);
}

static void
conf_on_pair(void *arg, int line, const char *key, const char *value)
{
	struct conf_parser	*p = arg;
	const struct conf_key	*k;
	size_t			 idx;

	if (p->section == SECT_NONE) {
		if (p->section_line == 0)
			perr(p, line, "'%s' is outside any section (start "
			    "with [postern] or [service NAME])", key);
		return;		/* else under a bad header: reported */
	}
	if ((k = conf_keys_find(p->section, key)) == NULL) {
		const char *near = conf_keys_suggest(p->section, key);

		perr(p, line, "unknown key '%s' in [%s] section%s%s%s", key,
		    conf_keys_section_name(p->section), near != NULL ?
		    " (did you mean '" : "", near != NULL ? near : "",
		    near != NULL ? "'?)" : "");
		return;
	}
	idx = (size_t)(k - conf_keys);
	if (p->seen[idx] && !(k->flags & KEY_REPEAT)) {
		perr(p, line, "'%s' given twice in this section", key);
		return;
	}
	p->seen[idx] = line > 0 ? line : 1;
	if (p->section == SECT_GLOBAL)
		p->global_seen[idx] = p->seen[idx];
	if (p->section == SECT_GLOBAL && strcmp(key, "admin") == 0)
		p->conf->has_admin = 1;
	conf_store(p, k, line, value, p->object);
}

static void
conf_on_error(void *arg, int line, const char *msg)
{
	struct conf_parser	*p = arg;

	perr(p, line, "%s", msg);
}

struct conf *
conf_parse(const char *buf, size_t len, const char *name, int flags,
    struct conf_errors *errs)
{
	struct conf_parser	 p;
	struct conf		*c;
	size_t			 before = errs->n;
	static const struct ini_handler h = {
		conf_on_section, conf_on_pair, conf_on_error
	};

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		conf_errors_add(errs, name, 0, "out of memory");
		return (NULL);
	}
	c->refs = 1;
	memset(&p, 0, sizeof(p));
	p.label = "";
	p.conf = c;
	p.file = name;
	p.flags = flags;
	p.errs = errs;
	p.section = SECT_GLOBAL;
	p.object = c;
	conf_defaults(&p);
	p.section = SECT_NONE;		/* keys before any header are an error */
	p.object = NULL;

	ini_parse(buf, len, &h, &p);
	conf_section_end(&p);
	conf_validate(&p);
	if (errs->n != before) {
		conf_free(c);
		return (NULL);
	}
	return (c);
}

struct conf *
conf_load(const char *path, struct conf_errors *errs)
{
	struct conf	*c = NULL;
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		conf_errors_add(errs, path, 0, "%s", strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONF_MAX_SIZE) {
		conf_errors_add(errs, path, 0, "not a regular file of at most "
		    "%d bytes", CONF_MAX_SIZE);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			conf_errors_add(errs, path, 0, "read: %s",
			    n == 0 ? "short read" : strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if ((c = conf_parse(buf, off, path, CONF_CHECK_FILES,
	    errs)) != NULL)
		c->path = strdup(path);
out:
	free(buf);
	close(fd);
	return (c);
}

const struct conf_service *
conf_find_service(const struct conf *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nservices; i++) {
		if (strcmp(c->services[i].name, name) == 0)
			return (&c->services[i]);
	}
	return (NULL);
}

const struct conf_bastion *
conf_find_bastion(const struct conf *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nbastions; i++) {
		if (strcmp(c->bastions[i].name, name) == 0)
			return (&c->bastions[i]);
	}
	return (NULL);
}

const char *
conf_proto_name(int proto)
{
	static const char *const names[] = { "tcp", "redis", "postgres" };

	return (proto >= 0 && proto <= PROTO_POSTGRES ? names[proto] : "?");
}

enum conf_check
conf_check_kind(const struct conf_service *cs)
{
	if (cs->check != CHECK_DEFAULT)
		return (cs->check);
	switch (cs->protocol) {
	case PROTO_REDIS:
		return (CHECK_REDIS);
	case PROTO_POSTGRES:
		return (CHECK_POSTGRES);
	case PROTO_TCP:
		break;
	}
	return (CHECK_TCP);
}

const char *
conf_check_name(int check)
{
	static const char *const names[] = {
		"default", "none", "tcp", "redis", "postgres"
	};

	return (check >= 0 && check <= CHECK_POSTGRES ? names[check] : "?");
}
