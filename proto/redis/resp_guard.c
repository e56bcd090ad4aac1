/*
 * resp_guard.c: readonly = yes for Redis (resp_guard.h).  A streaming
 * reader of requests that keeps each request's head (its array and
 * length lines, name and first argument: a few dozen bytes) until the
 * table decides, then passes or drops the rest as it comes: a refused
 * 100 MB SET is never held whole.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "resp_guard.h"

enum guard_state {
	ST_START,		/* a request's first byte */
	ST_COUNT,		/* "*N" digits */
	ST_DOLLAR,		/* an argument's '$' */
	ST_LEN,			/* "$L" digits */
	ST_ARG,			/* payload and CRLF */
	ST_INLINE		/* an inline line, up to '\n' */
};

#define GUARD_DIGITS	18

static int
guard_cmp(const void *key, const void *elem)
{
	return (strcmp(key, *(const char *const *)elem));
}

static int
guard_found(const char *key)
{
	return (bsearch(key, resp_guard_table, resp_guard_count,
	    sizeof(resp_guard_table[0]), guard_cmp) != NULL);
}

/* Does the table hold "NAME|..." entries? (Sorted: look where it goes.) */
static int
guard_has_subs(const char *name)
{
	size_t	lo = 0, hi = resp_guard_count, mid, n = strlen(name);

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(resp_guard_table[mid], name) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < resp_guard_count && strncmp(resp_guard_table[lo], name,
	    n) == 0 && resp_guard_table[lo][n] == '|');
}

int
resp_guard_allowed(const char *name, const char *sub)
{
	char	key[2 * RESP_GUARD_WORD + 2];

	if (sub != NULL) {
		snprintf(key, sizeof(key), "%s|%s", name, sub);
		if (guard_found(key))
			return (1);
	}
	if (guard_found(name))
		return (1);
	if (guard_has_subs(name))
		return (sub != NULL ? 0 : -1);
	return (0);
}

void
resp_guard_init(struct resp_guard *g, const char *service)
{
	memset(g, 0, sizeof(*g));
	g->service = service;
	resp_track_init(&g->track);
}

void
resp_guard_clear(struct resp_guard *g)
{
	resp_track_clear(&g->track);
}

int
resp_guard_waiting(const struct resp_guard *g)
{
	return (g->owed || g->holdlen > 0);
}

void
resp_guard_server(struct resp_guard *g, const uint8_t *buf, size_t len)
{
	resp_track_server(&g->track, buf, len);
}

/* Bytes that pass: to the server, and through the tracker. */
static int
guard_pass(struct resp_guard *g, struct evbuffer *out, const uint8_t *p,
    size_t n)
{
	if (n == 0)
		return (0);
	if (evbuffer_add(out, p, n) == -1)
		return (-1);
	resp_track_client(&g->track, p, n);
	return (0);
}

/* Keep a head byte (or pass it on, once decided). */
static int
guard_byte(struct resp_guard *g, struct evbuffer *out, uint8_t c)
{
	switch (g->mode) {
	case RESP_GUARD_PASS:
		return (guard_pass(g, out, &c, 1));
	case RESP_GUARD_DROP:
		return (0);
	case RESP_GUARD_UNDECIDED:
		break;
	}
	if (g->holdlen >= sizeof(g->hold))
		return (-1);
	g->hold[g->holdlen++] = c;
	return (0);
}

/* A word of a request, kept upper-case; too long: "?" (no match). */
static void
guard_word(struct resp_guard *g, int i, const uint8_t *p, size_t n)
{
	size_t	k;

	if (g->wlen[i] + n > RESP_GUARD_WORD) {
		snprintf(g->word[i], sizeof(g->word[i]), "?");
		g->wlen[i] = RESP_GUARD_WORD + 1;
		return;
	}
	for (k = 0; k < n; k++)
		g->word[i][g->wlen[i] + k] = (char)toupper(p[k]);
	g->wlen[i] += n;
	g->word[i][g->wlen[i]] = '\0';
}

/*
 * Decide when the words allow it (final: no more arguments come).  Pass:
 * the kept head goes on.  Refuse: it is dropped, and an error is owed
 * once every request before it is answered.
 */
static int
guard_decide(struct resp_guard *g, struct evbuffer *out, int have_sub,
    int final)
{
	int	a;

	if (g->mode != RESP_GUARD_UNDECIDED)
		return (0);
	a = resp_guard_allowed(g->word[0], have_sub ? g->word[1] : NULL);
	if (a == -1 && !final)
		return (0);
	if (a == 1) {
		g->mode = RESP_GUARD_PASS;
		if (guard_pass(g, out, g->hold, g->holdlen) == -1)
			return (-1);
	} else {
		g->mode = RESP_GUARD_DROP;
		g->owed = 1;
		g->due = g->track.sent;
		g->refusals++;
		snprintf(g->refused, sizeof(g->refused), "%s%s%s", g->word[0],
		    have_sub && a == 0 && guard_has_subs(g->word[0]) ? "|" :
		    "", have_sub && a == 0 && guard_has_subs(g->word[0]) ?
		    g->word[1] : "");
	}
	g->holdlen = 0;
	return (0);
}

/* The request ended: ready for the next one. */
static void
guard_end(struct resp_guard *g)
{
	g->state = ST_START;
	g->mode = RESP_GUARD_UNDECIDED;
	g->nargs = g->argi = 0;
	g->wlen[0] = g->wlen[1] = 0;
	g->word[0][0] = g->word[1][0] = '\0';
	g->inl = 0;
}

/* A whole inline line is in hold[]: split its first two words. */
static int
guard_inline(struct resp_guard *g, struct evbuffer *out)
{
	size_t	i = 0, n = g->holdlen, s;
	int	w;

	for (w = 0; w < 2; w++) {
		while (i < n && (g->hold[i] == ' ' || g->hold[i] == '\t' ||
		    g->hold[i] == '\r' || g->hold[i] == '\n'))
			i++;
		s = i;
		while (i < n && g->hold[i] != ' ' && g->hold[i] != '\t' &&
		    g->hold[i] != '\r' && g->hold[i] != '\n')
			i++;
		if (i == s)
			break;
		guard_word(g, w, g->hold + s, i - s);
	}
	if (w == 0) {		/* an empty line: the server skips it */
		g->mode = RESP_GUARD_PASS;
		if (guard_pass(g, out, g->hold, g->holdlen) == -1)
			return (-1);
		g->holdlen = 0;
		return (0);
	}
	return (guard_decide(g, out, w == 2, 1));
}

/* A length line's digit, or its end. 1: the number is whole. */
static int
guard_num(struct resp_guard *g, uint8_t c)
{
	if (isdigit(c)) {
		if (++g->digits > GUARD_DIGITS)
			return (-1);
		g->num = g->num * 10 + (uint64_t)(c - '0');
		return (0);
	}
	if (c == '\r' && g->digits > 0)
		return (0);
	if (c == '\n' && g->digits > 0)
		return (1);
	return (-1);
}

/* An argument's length is known: decide early when it cannot match. */
static int
guard_arg_start(struct resp_guard *g, struct evbuffer *out)
{
	g->left = g->num + 2;
	g->state = ST_ARG;
	if (g->mode != RESP_GUARD_UNDECIDED || g->argi > 1 ||
	    g->num <= RESP_GUARD_WORD)
		return (0);
	guard_word(g, (int)g->argi, (const uint8_t *)"", RESP_GUARD_WORD + 1);
	return (g->argi == 0 ? guard_decide(g, out, 0, 1) :
	    guard_decide(g, out, 1, 1));
}

/* Payload bytes of the current argument. */
static int
guard_payload(struct resp_guard *g, struct evbuffer *out, const uint8_t *p,
    size_t n)
{
	size_t	data;

	data = g->left > 2 ? (size_t)(g->left - 2) : 0;
	if (data > n)
		data = n;
	if (g->argi < 2 && g->mode == RESP_GUARD_UNDECIDED)
		guard_word(g, (int)g->argi, p, data);
	g->left -= n;
	switch (g->mode) {
	case RESP_GUARD_PASS:
		return (guard_pass(g, out, p, n));
	case RESP_GUARD_DROP:
		return (0);
	case RESP_GUARD_UNDECIDED:
		break;
	}
	if (g->holdlen + n > sizeof(g->hold))
		return (-1);
	memcpy(g->hold + g->holdlen, p, n);
	g->holdlen += n;
	return (0);
}

/* The current argument ended. 1: so did the request. */
static int
guard_arg_end(struct resp_guard *g, struct evbuffer *out)
{
	g->argi++;
	if (g->argi <= 2 && guard_decide(g, out, g->argi == 2,
	    g->argi == g->nargs) == -1)
		return (-1);
	if (g->argi == g->nargs)
		return (1);
	g->state = ST_DOLLAR;
	return (0);
}

/*
 * Read from p: returns the bytes used (up to the end of a request while
 * an error is owed), or -1 on bytes that are not requests.
 */
static ssize_t
guard_scan(struct resp_guard *g, struct evbuffer *out, const uint8_t *p,
    size_t len)
{
	size_t	i = 0, n;
	int	r;

	while (i < len) {
		switch (g->state) {
		case ST_START:
			if (g->owed)
				return ((ssize_t)i);	/* wait for the error */
			g->num = 0;
			g->digits = 0;
			if (p[i] == '*') {
				g->state = ST_COUNT;
				if (guard_byte(g, out, p[i++]) == -1)
					return (-1);
			} else {
				g->inl = 1;
				g->state = ST_INLINE;
			}
			break;
		case ST_COUNT:
		case ST_LEN:
			if ((r = guard_num(g, p[i])) == -1 ||
			    guard_byte(g, out, p[i++]) == -1)
				return (-1);
			if (r == 0)
				break;
			if (g->state == ST_LEN) {
				if (guard_arg_start(g, out) == -1)
					return (-1);
				break;
			}
			g->nargs = (int64_t)g->num;
			g->state = ST_DOLLAR;
			if (g->nargs == 0) {	/* the server skips it */
				g->mode = RESP_GUARD_PASS;
				if (guard_pass(g, out, g->hold, g->holdlen) ==
				    -1)
					return (-1);
				g->holdlen = 0;
				guard_end(g);
			}
			break;
		case ST_DOLLAR:
			if (p[i] != '$' || guard_byte(g, out, p[i]) == -1)
				return (-1);
			i++;
			g->num = 0;
			g->digits = 0;
			g->state = ST_LEN;
			break;
		case ST_ARG:
			n = len - i < g->left ? len - i : (size_t)g->left;
			if (guard_payload(g, out, p + i, n) == -1)
				return (-1);
			i += n;
			if (g->left > 0)
				break;
			if ((r = guard_arg_end(g, out)) == -1)
				return (-1);
			if (r == 1)
				guard_end(g);
			break;
		case ST_INLINE:
			if (g->holdlen >= sizeof(g->hold))
				return (-1);	/* too long to read */
			g->hold[g->holdlen++] = p[i];
			if (p[i++] != '\n')
				break;
			if (guard_inline(g, out) == -1)
				return (-1);
			guard_end(g);
			break;
		}
	}
	return ((ssize_t)i);
}

/* The owed error, once every request before it is answered. */
static int
guard_owed(struct resp_guard *g, struct evbuffer *to_client)
{
	if (!g->owed || g->track.answered < g->due)
		return (0);
	if (evbuffer_add_printf(to_client, "-NOPERM postern: readonly "
	    "service %s refuses %s\r\n", g->service, g->refused) == -1)
		return (-1);
	g->owed = 0;
	return (0);
}

int
resp_guard_client(struct resp_guard *g, struct evbuffer *in,
    struct evbuffer *to_server, struct evbuffer *to_client)
{
	struct evbuffer_iovec	v;
	ssize_t			n;

	for (;;) {
		if (guard_owed(g, to_client) == -1)
			return (-1);
		if (g->track.lost != NULL && g->owed)
			return (-1);	/* replies can no longer be counted */
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			return (0);
		if ((n = guard_scan(g, to_server, v.iov_base, v.iov_len)) ==
		    -1)
			return (-1);
		if (n == 0)
			return (0);	/* waits for replies */
		evbuffer_drain(in, (size_t)n);
	}
}
