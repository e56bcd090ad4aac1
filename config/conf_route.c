/*
 * conf_route.c: routes as written, "NAME URL [key=value ...]": parsing,
 * the options each kind accepts, and their validation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

void
conf_route_clear(struct conf_route *r)
{
	size_t	i;

	free(r->name);
	free(r->url);
	free(r->bastion);
	for (i = 0; i < r->nopts; i++) {
		free(r->opts[i].key);
		free(r->opts[i].value);
	}
	free(r->opts);
	free(r->tls.ca);
	free(r->tls.name);
	free(r->tls.cert);
	free(r->tls.key);
	free(r->tls.ciphers);
	free(r->sentinel);
	free(r->sentinels);
	free(r->sentinel_user);
	free(r->sentinel_password_file);
	if (r->sentinel_password != NULL) {
		explicit_bzero(r->sentinel_password,
		    strlen(r->sentinel_password));
		free(r->sentinel_password);
	}
}

/*
 * A Sentinel route's URL lists its Sentinels, "host:port,host:port,...";
 * the first is also the route's target.  Returns 0, or -1 with err set.
 */
static int
conf_parse_sentinels(const char *rest, struct conf_route *r, char *err,
    size_t errlen)
{
	char		*list, *tok, *next;
	struct addr	*a;
	int		 rc = -1;

	if ((list = strdup(rest)) == NULL)
		return (-1);
	/* strsep, not strtok: "a:1,,b:2" has an empty (bad) address. */
	for (next = list; (tok = strsep(&next, ",")) != NULL;) {
		if ((a = reallocarray(r->sentinels, r->nsentinels + 1,
		    sizeof(*a))) == NULL)
			goto out;
		r->sentinels = a;
		if (addr_parse_hostport(tok, &a[r->nsentinels], err,
		    errlen) != 0)
			goto out;
		r->nsentinels++;
	}
	if (r->nsentinels == 0) {
		snprintf(err, errlen, "no address in '%s'", rest);
		goto out;
	}
	r->target = r->sentinels[0];
	rc = 0;
out:
	free(list);
	return (rc);
}

/*
 * Route URL: tcp://host:port, tls://host:port, ssh://bastion/host:port,
 * followed by key=value options.
 */
int
conf_parse_route(struct conf_parser *p, int line, const char *value,
    struct conf_route *r)
{
	char		*copy, *tok, *save, *url, *rest, *slash, err[512];
	struct conf_opt	*o;
	int		 rc = -1;

	memset(r, 0, sizeof(*r));
	r->line = line;
	if ((copy = strdup(value)) == NULL)
		return (-1);
	tok = strtok_r(copy, " \t", &save);
	url = strtok_r(NULL, " \t", &save);
	if (tok == NULL || url == NULL) {
		perr(p, line, "route needs a name and a URL: "
		    "route = NAME tcp://host:port");
		goto out;
	}
	if (!conf_valid_name(tok)) {
		perr(p, line, "bad route name '%s' (letters, digits, '-', "
		    "'_', '.')", tok);
		goto out;
	}
	r->name = strdup(tok);
	r->url = strdup(url);
	if (strncmp(url, "tcp://", 6) == 0) {
		r->kind = ROUTE_TCP;
		rest = url + 6;
	} else if (strncmp(url, "tls://", 6) == 0) {
		r->kind = ROUTE_TLS;
		rest = url + 6;
	} else if (strncmp(url, "ssh://", 6) == 0) {
		r->kind = ROUTE_SSH;
		slash = strchr(url + 6, '/');
		if (slash == NULL || slash == url + 6) {
			perr(p, line, "route '%s': expected "
			    "ssh://BASTION/host:port", r->name);
			goto out;
		}
		r->bastion = strndup(url + 6, (size_t)(slash - (url + 6)));
		rest = slash + 1;
	} else {
		perr(p, line, "route '%s': unknown scheme in '%s' (expected "
		    "tcp://, ssh:// or tls://)", r->name, url);
		goto out;
	}
	if (strchr(rest, ',') != NULL) {
		if (conf_parse_sentinels(rest, r, err, sizeof(err)) != 0) {
			perr(p, line, "route '%s': %s", r->name, err);
			goto out;
		}
	} else if (addr_parse_hostport(rest, &r->target, err,
	    sizeof(err)) != 0) {
		perr(p, line, "route '%s': %s", r->name, err);
		goto out;
	}
	if (strcmp(r->target.host, "*") == 0) {
		perr(p, line, "route '%s': '*' is not a destination", r->name);
		goto out;
	}
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		char *eq = strchr(tok, '=');

		if (eq == NULL || eq == tok || eq[1] == '\0') {
			perr(p, line, "route '%s': option '%s' is not "
			    "key=value", r->name, tok);
			goto out;
		}
		o = reallocarray(r->opts, r->nopts + 1, sizeof(*o));
		if (o == NULL)
			goto out;
		r->opts = o;
		o = &r->opts[r->nopts++];
		o->key = strndup(tok, (size_t)(eq - tok));
		o->value = strdup(eq + 1);
	}
	rc = 0;
out:
	free(copy);
	return (rc);
}

/*
 * sentinel=NAME: a redis route whose server is the master that its
 * Sentinels (the URL's addresses) name.
 */
static void
conf_validate_sentinel(struct conf_parser *p, struct conf_service *s,
    struct conf_route *r)
{
	char	label[96];

	if (s->protocol != PROTO_REDIS) {
		perr(p, r->line, "route '%s': sentinel is for protocol = "
		    "redis", r->name);
		return;
	}
	if (!conf_valid_name(r->sentinel)) {
		perr(p, r->line, "route '%s': bad Sentinel master name '%s' "
		    "(letters, digits, '-', '_', '.')", r->name, r->sentinel);
		return;
	}
	if (r->nsentinels == 0) {
		if ((r->sentinels = calloc(1, sizeof(*r->sentinels))) == NULL)
			return;
		r->sentinels[0] = r->target;
		r->nsentinels = 1;
	}
	if (r->sentinel_user != NULL && r->sentinel_password_file == NULL)
		perr(p, r->line, "route '%s': sentinel_user needs "
		    "sentinel_password_file (AUTH user password)", r->name);
	snprintf(label, sizeof(label), "route '%s'", r->name);
	conf_read_secret_file(p, r->line, label, "sentinel_password_file",
	    r->sentinel_password_file, &r->sentinel_password);
}

void
conf_validate_route(struct conf_parser *p, struct conf_service *s,
    struct conf_route *r)
{
	const struct conf_key	*key;
	size_t			 i, j;
	const char		*k, *v;
	char			 label[96];

	for (j = 0; j < (size_t)(r - s->routes); j++) {
		if (strcmp(s->routes[j].name, r->name) == 0)
			perr(p, r->line, "route name '%s' used twice in "
			    "[service %s]", r->name, s->name);
	}
	if (r->kind == ROUTE_SSH && conf_find_bastion(p->conf,
	    r->bastion) == NULL)
		perr(p, r->line, "route '%s': unknown bastion '%s' (no "
		    "[bastion %s] section)", r->name, r->bastion, r->bastion);
	snprintf(label, sizeof(label), "route '%s': ", r->name);
	for (i = 0; i < r->nopts; i++) {
		k = r->opts[i].key;
		v = r->opts[i].value;
		if (conf_route_opt(r, k) != v) {
			perr(p, r->line, "route '%s': option '%s' given twice",
			    r->name, k);
			continue;
		}
		if ((key = conf_keys_find(SECT_ROUTE, k)) != NULL) {
			p->label = label;
			conf_store(p, key, r->line, v, r);
			p->label = "";
			continue;
		}
		if (r->kind != ROUTE_TLS ||
		    (key = conf_keys_find(SECT_TLS, k)) == NULL) {
			perr(p, r->line, "route '%s': unknown option '%s' for "
			    "a %s route", r->name, k,
			    conf_route_kind_name(r->kind));
			continue;
		}
		p->label = label;
		conf_store(p, key, r->line, v, &r->tls);
		p->label = "";
	}
	/* Without key=, the certificate's file holds the key too. */
	if (r->tls.cert != NULL && r->tls.key == NULL)
		conf_note_secret(p, r->line, "cert", r->tls.cert,
		    " (without key=, it holds the key)", label);
	if (r->sentinel != NULL)
		conf_validate_sentinel(p, s, r);
	else if (r->sentinel_user != NULL || r->sentinel_password_file != NULL)
		perr(p, r->line, "route '%s': sentinel_user and "
		    "sentinel_password_file are for a Sentinel route "
		    "(sentinel=NAME)", r->name);
	else if (r->nsentinels > 0)
		perr(p, r->line, "route '%s': several addresses are Sentinels: "
		    "name the master with sentinel=NAME", r->name);
	if (r->tls.sslnegotiation != PG_NEG_POSTGRES &&
	    s->protocol != PROTO_POSTGRES)
		perr(p, r->line, "route '%s': sslnegotiation is for "
		    "protocol = postgres", r->name);
}

const char *
conf_route_opt(const struct conf_route *r, const char *key)
{
	size_t	i;

	for (i = 0; i < r->nopts; i++) {
		if (strcmp(r->opts[i].key, key) == 0)
			return (r->opts[i].value);
	}
	return (NULL);
}

const char *
conf_route_kind_name(int kind)
{
	static const char *const names[] = { "tcp", "ssh", "tls" };

	return (kind >= 0 && kind <= ROUTE_TLS ? names[kind] : "?");
}
