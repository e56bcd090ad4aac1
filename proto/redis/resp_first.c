/*
 * resp_first.c: the first command's name in a Redis client's bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "resp_first.h"

/* Copy a name of n bytes, upper-cased; BAD if too long or not a name. */
static enum resp_first_status
resp_first_copy(const uint8_t *p, size_t n, char *name)
{
	size_t	i;

	if (n == 0 || n >= RESP_FIRST_NAME_MAX)
		return (RESP_FIRST_BAD);
	for (i = 0; i < n; i++) {
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return (RESP_FIRST_BAD);
		name[i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 :
		    p[i]);
	}
	name[n] = '\0';
	return (RESP_FIRST_NAME);
}

/*
 * A decimal number after a type byte, ending in CRLF, at *pos; moves
 * *pos past the CRLF.  MORE when the bytes end first.
 */
static enum resp_first_status
resp_first_number(const uint8_t *buf, size_t len, size_t *pos, long *out)
{
	size_t	i = *pos;
	long	v = 0;
	int	digits = 0;

	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (++digits > 9)
			return (RESP_FIRST_BAD);
		v = v * 10 + (buf[i] - '0');
	}
	if (i >= len)
		return (RESP_FIRST_MORE);
	if (digits == 0 || buf[i] != '\r')
		return (RESP_FIRST_BAD);
	if (i + 1 >= len)
		return (RESP_FIRST_MORE);
	if (buf[i + 1] != '\n')
		return (RESP_FIRST_BAD);
	*pos = i + 2;
	*out = v;
	return (RESP_FIRST_NAME);
}

static enum resp_first_status
resp_first_resp(const uint8_t *buf, size_t len, char *name)
{
	enum resp_first_status	st;
	size_t			pos = 1;
	long			n;

	if ((st = resp_first_number(buf, len, &pos, &n)) != RESP_FIRST_NAME)
		return (st);
	if (n < 1)
		return (RESP_FIRST_BAD);
	if (pos >= len)
		return (RESP_FIRST_MORE);
	if (buf[pos++] != '$')
		return (RESP_FIRST_BAD);
	if ((st = resp_first_number(buf, len, &pos, &n)) != RESP_FIRST_NAME)
		return (st);
	if (n < 1 || n >= RESP_FIRST_NAME_MAX)
		return (RESP_FIRST_BAD);
	if (len - pos < (size_t)n)
		return (RESP_FIRST_MORE);
	return (resp_first_copy(buf + pos, (size_t)n, name));
}

enum resp_first_status
resp_first_name(const uint8_t *buf, size_t len, char *name)
{
	size_t	i;

	if (len == 0)
		return (RESP_FIRST_MORE);
	if (buf[0] == '*')
		return (resp_first_resp(buf, len, name));
	/*
	 * Inline: the first word, ended by a blank or the line's end.  A
	 * quote in it ("BLPOP", BL'POP') is one Redis removes (sdssplitargs):
	 * not named, rather than named wrong.
	 */
	for (i = 0; i < len && i < RESP_FIRST_NAME_MAX; i++) {
		if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
		    buf[i] == '\n')
			return (resp_first_copy(buf, i, name));
		if (buf[i] < ' ' || buf[i] >= 0x7f || buf[i] == '"' ||
		    buf[i] == '\'')
			return (RESP_FIRST_BAD);
	}
	return (i < RESP_FIRST_NAME_MAX ? RESP_FIRST_MORE : RESP_FIRST_BAD);
}

/* Sorted, for bsearch. */
static const char *const resp_first_slow[] = {
	"BLMOVE", "BLMPOP", "BLPOP", "BRPOP", "BRPOPLPUSH", "BZMPOP",
	"BZPOPMAX", "BZPOPMIN", "CLIENT", "DEBUG", "EVAL", "EVALSHA",
	"EVALSHA_RO", "EVAL_RO", "FCALL", "FCALL_RO", "PSYNC", "SHUTDOWN",
	"SYNC", "WAIT", "WAITAOF", "XREAD", "XREADGROUP"
};

static int
resp_first_cmp(const void *key, const void *elem)
{
	return (strcmp(key, *(const char *const *)elem));
}

int
resp_first_prompt(const char *name)
{
	return (bsearch(name, resp_first_slow, sizeof(resp_first_slow) /
	    sizeof(resp_first_slow[0]), sizeof(resp_first_slow[0]),
	    resp_first_cmp) == NULL);
}
