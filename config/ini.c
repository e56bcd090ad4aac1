/*
 * ini.c: INI lexer with line numbers (see ini.h for why not libinih).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ini.h"

#define INI_MAX_LINE	8192

static char *
ini_trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return (s);
}

/* Cut an inline comment: '#' or ';' preceded by white space. */
static void
ini_strip_comment(char *s)
{
	char	*p;

	for (p = s + 1; *p != '\0'; p++) {
		if ((*p == '#' || *p == ';') && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static int
ini_line(char *line, int lineno, const struct ini_handler *h, void *arg)
{
	char		*s, *eq, *end, *rest;
	const char	*msg;

	s = ini_trim(line);
	if (*s == '\0' || *s == '#' || *s == ';')
		return (0);
	if (*s == '[') {
		end = strchr(s, ']');
		msg = NULL;
		if (end == NULL)
			msg = "section header without ']'";
		else {
			*end = '\0';
			rest = ini_trim(end + 1);
			s = ini_trim(s + 1);
			if (*rest != '\0' && *rest != '#' && *rest != ';')
				msg = "text after section header";
			else if (*s == '\0')
				msg = "empty section header";
		}
		if (msg != NULL) {
			/* Keys under a broken header are skipped, not misfiled. */
			h->error(arg, lineno, msg);
			h->section(arg, lineno, INI_BAD_SECTION);
			return (1);
		}
		h->section(arg, lineno, s);
		return (0);
	}
	eq = strchr(s, '=');
	if (eq == NULL) {
		h->error(arg, lineno, "expected 'key = value'");
		return (1);
	}
	*eq = '\0';
	ini_strip_comment(eq);
	s = ini_trim(s);
	if (*s == '\0') {
		h->error(arg, lineno, "missing key before '='");
		return (1);
	}
	h->pair(arg, lineno, s, ini_trim(eq + 1));
	return (0);
}

/* Does a line that cannot be read look like a section header? */
static int
ini_is_header(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	return (i < n && s[i] == '[');
}

int
ini_parse(const char *buf, size_t len, const struct ini_handler *h, void *arg)
{
	char		 line[INI_MAX_LINE];
	const char	*msg;
	size_t		 i, start, n;
	int		 lineno = 0, errors = 0;

	start = 0;
	/* Skip a UTF-8 byte order mark. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	for (i = start; start < len; i++) {
		if (i < len && buf[i] != '\n')
			continue;
		lineno++;
		n = i - start;
		msg = NULL;
		if (n >= sizeof(line))
			msg = "line too long";
		else if (memchr(buf + start, '\0', n) != NULL)
			msg = "NUL byte in line";
		if (msg != NULL) {
			h->error(arg, lineno, msg);
			/* A broken header: keys below it must not be misfiled. */
			if (ini_is_header(buf + start, n))
				h->section(arg, lineno, INI_BAD_SECTION);
			errors++;
		} else {
			memcpy(line, buf + start, n);
			line[n] = '\0';
			errors += ini_line(line, lineno, h, arg);
		}
		start = i + 1;
	}
	return (errors);
}
