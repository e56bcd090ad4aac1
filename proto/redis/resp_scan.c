/*
 * resp_scan.c: follow RESP framing to see aggregate headers (see
 * resp_scan.h).  Types: '$' and '=' and '!' (RESP3 verbatim and blob
 * error) are bulk, followed by their length and CRLF; '*', '~', '>' are
 * aggregates of N, '%' (and '|', attributes) of N pairs; anything else
 * is one line.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>

#include "resp_scan.h"

enum resp_scan_state {
	SCAN_TYPE,		/* a value's type byte comes next */
	SCAN_LINE,		/* its header line, up to LF */
	SCAN_BULK		/* a bulk string's bytes and CRLF */
};

/* A complete header line: 0, or -1 for too many elements. */
static int
resp_scan_header(struct resp_scan *s, long long max, long long *count)
{
	long long	 v;
	char		*end;

	s->line[s->len] = '\0';
	v = strtoll(s->line, &end, 10);
	if (end == s->line)
		return (0);	/* not a number: the reader says so */
	switch (s->type) {
	case '$':
	case '=':
	case '!':
		if (v >= 0 && v < LLONG_MAX - 2) {
			s->skip = v + 2;
			s->state = SCAN_BULK;
		}
		return (0);
	case '%':
	case '|':
		/* Negative (a null map) counts nothing; no overflow either way. */
		v = v < 0 ? v : v > LLONG_MAX / 2 ? LLONG_MAX : v * 2;
		/* FALLTHROUGH */
	case '*':
	case '~':
	case '>':
		if (v > max) {
			*count = v;
			return (-1);
		}
		return (0);
	}
	return (0);
}

int
resp_scan_feed(struct resp_scan *s, const unsigned char *b, size_t n,
    long long max, long long *count)
{
	size_t	i, step;

	for (i = 0; i < n; i += step) {
		step = 1;
		switch (s->state) {
		case SCAN_BULK:
			step = (long long)(n - i) < s->skip ? n - i :
			    (size_t)s->skip;
			if ((s->skip -= (long long)step) == 0)
				s->state = SCAN_TYPE;
			break;
		case SCAN_TYPE:
			s->type = (char)b[i];
			s->len = 0;
			s->state = SCAN_LINE;
			break;
		case SCAN_LINE:
			if (b[i] != '\n') {
				if (b[i] != '\r' &&
				    s->len + 1 < sizeof(s->line))
					s->line[s->len++] = (char)b[i];
				break;
			}
			s->state = SCAN_TYPE;
			if (resp_scan_header(s, max, count) != 0)
				return (-1);
			break;
		}
	}
	return (0);
}
