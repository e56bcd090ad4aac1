/*
 * resp_cmd.c: the first command's name in a Redis client's bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "resp_cmd.h"

/* Copy a name of n bytes, upper-cased; BAD if too long or not a name. */
static enum rediscmd_status
rediscmd_copy(const uint8_t *p, size_t n, char *name)
{
	size_t	i;

	if (n == 0 || n >= REDISCMD_NAME_MAX)
		return (REDISCMD_BAD);
	for (i = 0; i < n; i++) {
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return (REDISCMD_BAD);
		name[i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 :
		    p[i]);
	}
	name[n] = '\0';
	return (REDISCMD_NAME);
}

/*
 * A decimal number after a type byte, ending in CRLF, at *pos; moves
 * *pos past the CRLF.  MORE when the bytes end first.
 */
static enum rediscmd_status
rediscmd_number(const uint8_t *buf, size_t len, size_t *pos, long *out)
{
	size_t	i = *pos;
	long	v = 0;
	int	digits = 0;

	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (++digits > 9)
			return (REDISCMD_BAD);
		v = v * 10 + (buf[i] - '0');
	}
	if (i >= len)
		return (REDISCMD_MORE);
	if (digits == 0 || buf[i] != '\r')
		return (REDISCMD_BAD);
	if (i + 1 >= len)
		return (REDISCMD_MORE);
	if (buf[i + 1] != '\n')
		return (REDISCMD_BAD);
	*pos = i + 2;
	*out = v;
	return (REDISCMD_NAME);
}

static enum rediscmd_status
rediscmd_resp(const uint8_t *buf, size_t len, char *name)
{
	enum rediscmd_status	st;
	size_t			pos = 1;
	long			n;

	if ((st = rediscmd_number(buf, len, &pos, &n)) != REDISCMD_NAME)
		return (st);
	if (n < 1)
		return (REDISCMD_BAD);
	if (pos >= len)
		return (REDISCMD_MORE);
	if (buf[pos++] != '$')
		return (REDISCMD_BAD);
	if ((st = rediscmd_number(buf, len, &pos, &n)) != REDISCMD_NAME)
		return (st);
	if (n < 1 || n >= REDISCMD_NAME_MAX)
		return (REDISCMD_BAD);
	if (len - pos < (size_t)n)
		return (REDISCMD_MORE);
	return (rediscmd_copy(buf + pos, (size_t)n, name));
}

enum rediscmd_status
rediscmd_name(const uint8_t *buf, size_t len, char *name)
{
	size_t	i;

	if (len == 0)
		return (REDISCMD_MORE);
	if (buf[0] == '*')
		return (rediscmd_resp(buf, len, name));
	/*
	 * Inline: the first word, ended by a blank or the line's end.  A
	 * quote in it ("BLPOP", BL'POP') is one Redis removes (sdssplitargs):
	 * not named, rather than named wrong.
	 */
	for (i = 0; i < len && i < REDISCMD_NAME_MAX; i++) {
		if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
		    buf[i] == '\n')
			return (rediscmd_copy(buf, i, name));
		if (buf[i] < ' ' || buf[i] >= 0x7f || buf[i] == '"' ||
		    buf[i] == '\'')
			return (REDISCMD_BAD);
	}
	return (i < REDISCMD_NAME_MAX ? REDISCMD_MORE : REDISCMD_BAD);
}

/* Sorted, for bsearch. */
static const char *const rediscmd_slow[] = {
	"BLMOVE", "BLMPOP", "BLPOP", "BRPOP", "BRPOPLPUSH", "BZMPOP",
	"BZPOPMAX", "BZPOPMIN", "CLIENT", "DEBUG", "EVAL", "EVALSHA",
	"EVALSHA_RO", "EVAL_RO", "FCALL", "FCALL_RO", "PSYNC", "SHUTDOWN",
	"SYNC", "WAIT", "WAITAOF", "XREAD", "XREADGROUP"
};

static int
rediscmd_cmp(const void *key, const void *elem)
{
	return (strcmp(key, *(const char *const *)elem));
}

int
rediscmd_prompt(const char *name)
{
	return (bsearch(name, rediscmd_slow, sizeof(rediscmd_slow) /
	    sizeof(rediscmd_slow[0]), sizeof(rediscmd_slow[0]),
	    rediscmd_cmp) == NULL);
}
