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

#define FWD_MAXFIELDS	4
#define FWD_BADCHARS	" \t\r\n\v\f#;"

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

/* Append "[service NAME]" text for one spec; returns 0 or -1. */
static int
conf_forward_one(const char *spec, size_t idx, const char *jump,
    char **text, struct conf_errors *errs)
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
	rc = 0;
out:
	free(copy);
	return (rc);
}

/* Append "key = value" for -J; the value becomes config text too. */
static void
conf_forward_kv(char **text, const char *key, const char *value,
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
}

/* "[bastion NAME]" text for -J. */
static void
conf_forward_jump(const struct conf_jump *j, char **text,
    struct conf_errors *errs)
{
	char	 addr[ADDR_STRLEN + 16], *eq, *key, *out;
	size_t	 i;
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
	snprintf(addr, sizeof(addr), "%s%s%s:%u", v6 ? "[" : "", j->host,
	    v6 ? "]" : "", j->port != 0 ? j->port : 22);
	conf_forward_kv(text, "address", addr, errs);
	conf_forward_kv(text, "user", j->user, errs);
	conf_forward_kv(text, "identity", j->identity, errs);
	conf_forward_kv(text, "known_hosts", j->known_hosts, errs);
	for (i = 0; i < j->nopts; i++) {
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
			conf_forward_kv(text, key, eq + 1, errs);
		free(key);
	}
}

struct conf *
conf_from_forwards_jump(char **specs, size_t n, const struct conf_jump *jump,
    struct conf_errors *errs)
{
	char		*text;
	size_t		 i, before = errs->n;
	struct conf	*c = NULL;

	if ((text = strdup("")) == NULL)
		return (NULL);
	if (jump != NULL)
		conf_forward_jump(jump, &text, errs);
	for (i = 0; i < n; i++)
		conf_forward_one(specs[i], i, jump != NULL ? jump->name : NULL,
		    &text, errs);
	if (errs->n == before)
		c = conf_parse(text, strlen(text), jump != NULL ? "-J" : "-L",
		    0, errs);
	free(text);
	return (c);
}

struct conf *
conf_from_forwards(char **specs, size_t n, struct conf_errors *errs)
{
	return (conf_from_forwards_jump(specs, n, NULL, errs));
}
