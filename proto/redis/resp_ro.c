/*
 * resp_ro.c: the replayable-request check (resp_ro.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp_ro.h"

#define RESP_RO_WORD	32	/* longer names are in no table */

static int
resp_ro_cmp(const void *key, const void *elem)
{
	return (strcmp(key, *(const char *const *)elem));
}

int
resp_ro_known(const char *name, const char *sub)
{
	char	key[2 * RESP_RO_WORD + 2];

	if (sub != NULL && sub[0] != '\0') {
		snprintf(key, sizeof(key), "%s|%s", name, sub);
		if (bsearch(key, resp_ro_table, resp_ro_count,
		    sizeof(resp_ro_table[0]), resp_ro_cmp) != NULL)
			return (1);
	}
	return (bsearch(name, resp_ro_table, resp_ro_count,
	    sizeof(resp_ro_table[0]), resp_ro_cmp) != NULL);
}

/*
 * A decimal after a type byte, up to CRLF: its value, and *pos past it.
 * -1: not whole yet (*pos unchanged); -2: bad.
 */
static long long
resp_ro_num(const uint8_t *buf, size_t len, size_t *pos, uint8_t type)
{
	size_t		i = *pos;
	long long	n = 0;
	int		digits = 0;

	if (i >= len)
		return (-1);
	if (buf[i++] != type)
		return (-2);
	for (; i < len && isdigit(buf[i]); i++, digits++) {
		if (digits > 9)
			return (-2);
		n = n * 10 + (buf[i] - '0');
	}
	if (i + 1 >= len)
		return (-1);
	if (digits == 0 || buf[i] != '\r' || buf[i + 1] != '\n')
		return (-2);
	*pos = i + 2;
	return (n);
}

/* Copy an argument upper-cased (truncated to fit: then no match). */
static void
resp_ro_word(char *dst, const uint8_t *src, long long n)
{
	long long	i;

	if (n >= RESP_RO_WORD)
		n = RESP_RO_WORD - 1;
	for (i = 0; i < n; i++)
		dst[i] = (char)toupper(src[i]);
	dst[n] = '\0';
}

int
resp_ro_replayable(const uint8_t *buf, size_t len, char *first,
    size_t firstlen)
{
	char		 word[2][RESP_RO_WORD];
	size_t		 pos = 0;
	long long	 nargs, blen, a;
	int		 named = 0;

	if (firstlen > 0)
		snprintf(first, firstlen, "?");
	while (pos < len) {
		if ((nargs = resp_ro_num(buf, len, &pos, '*')) == -1)
			return (1);	/* cut short: never ran */
		if (nargs < 1)
			return (0);	/* inline, bad, or empty */
		word[0][0] = word[1][0] = '\0';
		for (a = 0; a < nargs; a++) {
			if ((blen = resp_ro_num(buf, len, &pos, '$')) == -1)
				return (1);
			if (blen < 0)
				return (0);
			if (a < 2 && pos + (size_t)blen <= len)
				resp_ro_word(word[a], buf + pos, blen);
			if (len - pos < (size_t)blen + 2)
				return (1);	/* the rest never arrived */
			if (buf[pos + (size_t)blen] != '\r' ||
			    buf[pos + (size_t)blen + 1] != '\n')
				return (0);
			pos += (size_t)blen + 2;
			if (a == 0 && !named++ && firstlen > 0)
				snprintf(first, firstlen, "%s", word[0]);
		}
		if (!resp_ro_known(word[0], nargs > 1 ? word[1] : NULL)) {
			if (firstlen > 0)
				snprintf(first, firstlen, "%s", word[0]);
			return (0);
		}
	}
	return (1);
}
