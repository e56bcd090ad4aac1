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
conf_forward_one(const char *spec, size_t idx, char **text,
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
	    "route = direct tcp://%s:%s\n", *text, idx + 1,
	    bind != NULL ? bind : "", bind != NULL ? ":" : "", f[n - 3],
	    f[n - 2], f[n - 1]) == -1)
		goto out;
	free(*text);
	*text = out;
	rc = 0;
out:
	free(copy);
	return (rc);
}

struct conf *
conf_from_forwards(char **specs, size_t n, struct conf_errors *errs)
{
	char		*text;
	size_t		 i, before = errs->n;
	struct conf	*c = NULL;

	if ((text = strdup("")) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		conf_forward_one(specs[i], i, &text, errs);
	if (errs->n == before)
		c = conf_parse(text, strlen(text), "-L", 0, errs);
	free(text);
	return (c);
}
