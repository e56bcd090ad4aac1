/*
 * ini.h: a small INI lexer that reports line numbers.
 *
 * We do not use the packaged libinih: Debian builds it with
 * INI_HANDLER_LINENO=0 (no line numbers for "file:line: message" errors),
 * INI_MAX_LINE=200 (longer lines are silently truncated) and
 * INI_ALLOW_MULTILINE=1 (an indented line silently continues the previous
 * value).  All three lose an operator's input without a word.
 */
#ifndef POSTERN_INI_H
#define POSTERN_INI_H

#include <stddef.h>

/* The section name passed for keys that follow a malformed header. */
#define INI_BAD_SECTION	"!"

struct ini_handler {
	/* A "[name]" header; name is trimmed and non-empty. */
	void	(*section)(void *arg, int line, const char *name);
	/* A "key = value" line; both trimmed, key non-empty. */
	void	(*pair)(void *arg, int line, const char *key,
		    const char *value);
	/* A line the lexer cannot read. */
	void	(*error)(void *arg, int line, const char *msg);
};

/*
 * ini_parse(buf, len, h, arg): lex the buffer, calling h's callbacks in
 * file order; keeps going after errors so that all are reported.
 * Comments are lines starting with '#' or ';', and " #" or " ;" after a
 * value.  The buffer need not be NUL-terminated and may hold any bytes (a
 * NUL byte is an error for its line).  After a malformed section header,
 * section() is called with INI_BAD_SECTION so that the keys below it are
 * not filed under the previous section.  Returns the number of lexical
 * errors.  Nothing allocated outlives the call.
 */
int	ini_parse(const char *buf, size_t len, const struct ini_handler *h,
	    void *arg);

#endif
