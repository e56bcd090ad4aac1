/*
 * pg_listen.c: LISTEN and UNLISTEN followed (pg_listen.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pg_listen.h"

#define PG_NAME_MAX	63	/* NAMEDATALEN - 1: longer ones are cut */

/* Done with the query's text. */
static void
pg_listen_drop_q(struct pg_listen *l)
{
	free(l->q);
	l->q = NULL;
	l->qlen = 0;
	l->capture = 0;
}

void
pg_listen_query(struct pg_listen *l, uint32_t len, int alone, int idle)
{
	pg_listen_drop_q(l);
	l->stmt = PG_STMT_UNKNOWN;
	l->capture = alone && len <= PG_LISTEN_QMAX;
	l->qidle = idle;
}

/* Can a query that starts with c be one of ours? */
static int
pg_listen_first(uint8_t c)
{
	switch (c) {
	case 'L': case 'l': case 'U': case 'u': case 'D': case 'd':
	case ' ': case '\t': case '\n': case '\r': case '\f': case '\v':
		return (1);
	default:
		return (0);
	}
}

void
pg_listen_text(struct pg_listen *l, const uint8_t *p, size_t n)
{
	if (!l->capture)
		return;
	/* SELECT, INSERT...: not ours, nothing copied. */
	if (l->qlen == 0 && n > 0 && !pg_listen_first(p[0])) {
		l->capture = 0;
		return;
	}
	if (n > PG_LISTEN_QMAX - (size_t)l->qlen) {
		pg_listen_drop_q(l);	/* cannot happen: len was checked */
		return;
	}
	if (l->q == NULL && (l->q = malloc(PG_LISTEN_QMAX)) == NULL) {
		l->capture = 0;		/* not parsed: "unknown" */
		return;
	}
	memcpy(l->q + l->qlen, p, n);
	l->qlen += n;
}

void
pg_listen_other(struct pg_listen *l)
{
	l->stmt = PG_STMT_UNKNOWN;
	pg_listen_drop_q(l);
}

/* ------------------------------------------------------------------ */
/* The parser: one statement, or nothing. */

static int
pg_space(uint8_t c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v');
}

static int
pg_ident_char(uint8_t c, int first)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    c == '_' || c >= 0x80 || (!first && ((c >= '0' && c <= '9') ||
	    c == '$')));
}

static uint64_t
pg_fnv(uint64_t h, uint8_t c)
{
	return ((h ^ c) * 1099511628211ULL);
}

/* Skip blanks from *i; 1 when there were some. */
static int
pg_skip(const uint8_t *q, size_t n, size_t *i)
{
	size_t	start = *i;

	while (*i < n && pg_space(q[*i]))
		(*i)++;
	return (*i > start);
}

/* A keyword at *i (upper case kw), not followed by an identifier byte. */
static int
pg_keyword(const uint8_t *q, size_t n, size_t *i, const char *kw)
{
	size_t	k, len = strlen(kw);
	uint8_t	c;

	if (n - *i < len)
		return (0);
	for (k = 0; k < len; k++) {
		c = q[*i + k];
		if (c >= 'a' && c <= 'z')
			c = (uint8_t)(c - 'a' + 'A');
		if (c != (uint8_t)kw[k])
			return (0);
	}
	if (*i + len < n && pg_ident_char(q[*i + len], 0))
		return (0);
	*i += len;
	return (1);
}

/*
 * A channel name at *i, as the server names it (unquoted: ASCII folded
 * to lower case; quoted: as written, "" for "): its hash; -1 when not
 * one, or too long to be sure how the server cuts it.
 */
static int
pg_name(const uint8_t *q, size_t n, size_t *i, uint64_t *hash)
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		len = 0;
	uint8_t		c;

	if (*i < n && q[*i] == '"') {
		for ((*i)++; *i < n; (*i)++) {
			if (q[*i] == '"') {
				if (*i + 1 < n && q[*i + 1] == '"')
					(*i)++;
				else
					break;
			}
			h = pg_fnv(h, q[*i]);
			len++;
		}
		if (*i >= n || len == 0 || len > PG_NAME_MAX)
			return (-1);
		(*i)++;		/* the closing quote */
	} else {
		for (; *i < n && pg_ident_char(q[*i], len == 0); (*i)++) {
			c = q[*i];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			h = pg_fnv(h, c);
			len++;
		}
		if (len == 0 || len > PG_NAME_MAX)
			return (-1);
	}
	*hash = h;
	return (0);
}

/* What the query q (n bytes, its NUL gone) is, when one statement. */
static enum pg_stmt
pg_parse(const uint8_t *q, size_t n, uint64_t *hash)
{
	enum pg_stmt	stmt;
	size_t		i = 0;

	pg_skip(q, n, &i);
	if (pg_keyword(q, n, &i, "LISTEN"))
		stmt = PG_STMT_LISTEN;
	else if (pg_keyword(q, n, &i, "UNLISTEN"))
		stmt = PG_STMT_UNLISTEN;
	else if (pg_keyword(q, n, &i, "DISCARD"))
		stmt = PG_STMT_DISCARD_ALL;
	else
		return (PG_STMT_UNKNOWN);
	pg_skip(q, n, &i);
	if (stmt == PG_STMT_DISCARD_ALL) {
		if (!pg_keyword(q, n, &i, "ALL"))
			return (PG_STMT_UNKNOWN);
	} else if (stmt == PG_STMT_UNLISTEN && i < n && q[i] == '*') {
		stmt = PG_STMT_UNLISTEN_ALL;
		i++;
	} else if (pg_name(q, n, &i, hash) == -1)
		return (PG_STMT_UNKNOWN);
	pg_skip(q, n, &i);
	if (i < n && q[i] == ';') {
		i++;
		pg_skip(q, n, &i);
	}
	return (i == n ? stmt : PG_STMT_UNKNOWN);
}

void
pg_listen_query_end(struct pg_listen *l)
{
	if (!l->capture || l->q == NULL) {
		pg_listen_drop_q(l);
		return;
	}
	/* The text ends in its one NUL. */
	if (l->qlen > 0 && l->q[l->qlen - 1] == '\0' &&
	    memchr(l->q, '\0', l->qlen - 1) == NULL)
		l->stmt = pg_parse(l->q, l->qlen - 1, &l->qhash);
	pg_listen_drop_q(l);
}

/* ------------------------------------------------------------------ */
/* The server's side. */

static void
pg_listen_add(struct pg_listen *l, uint64_t h)
{
	size_t	i;

	for (i = 0; i < l->nchan; i++) {
		if (l->chan[i] == h)
			return;		/* LISTEN twice: listening once */
	}
	if (l->chan == NULL &&
	    (l->chan = calloc(PG_LISTEN_SET, sizeof(*l->chan))) == NULL)
		l->unknown = 1;		/* no memory: saturate */
	else if (l->nchan == PG_LISTEN_SET)
		l->unknown = 1;		/* full: saturate */
	else
		l->chan[l->nchan++] = h;
}

static void
pg_listen_remove(struct pg_listen *l, uint64_t h)
{
	size_t	i;

	for (i = 0; i < l->nchan; i++) {
		if (l->chan[i] == h) {
			l->chan[i] = l->chan[--l->nchan];
			break;
		}
	}
}

void
pg_listen_tag(struct pg_listen *l, const char *tag)
{
	if (strcmp(tag, "LISTEN") == 0) {
		/* Even inside a transaction that may roll back: listening. */
		if (l->stmt == PG_STMT_LISTEN)
			pg_listen_add(l, l->qhash);
		else
			l->unknown = 1;
	} else if (strcmp(tag, "UNLISTEN") == 0) {
		if (l->qidle && (l->stmt == PG_STMT_UNLISTEN ||
		    l->stmt == PG_STMT_UNLISTEN_ALL))
			l->effect = l->stmt;
	} else if (strcmp(tag, "DISCARD ALL") == 0) {
		if (l->qidle && l->stmt == PG_STMT_DISCARD_ALL)
			l->effect = l->stmt;
	}
}

void
pg_listen_error(struct pg_listen *l)
{
	l->effect = PG_STMT_UNKNOWN;	/* it did not commit */
}

void
pg_listen_ready(struct pg_listen *l, uint8_t status)
{
	if (status == 'I') {
		switch (l->effect) {
		case PG_STMT_UNLISTEN:
			pg_listen_remove(l, l->qhash);
			break;
		case PG_STMT_UNLISTEN_ALL:
		case PG_STMT_DISCARD_ALL:
			l->nchan = 0;
			l->unknown = 0;
			break;
		case PG_STMT_UNKNOWN:
		case PG_STMT_LISTEN:
			break;
		}
		if (l->nchan == 0) {
			free(l->chan);	/* none left: the set goes */
			l->chan = NULL;
		}
	}
	l->effect = PG_STMT_UNKNOWN;
	l->stmt = PG_STMT_UNKNOWN;	/* that query is done */
}

int
pg_listen_on(const struct pg_listen *l)
{
	return (l->unknown || l->nchan > 0);
}

void
pg_listen_clear(struct pg_listen *l)
{
	pg_listen_drop_q(l);
	free(l->chan);
	l->chan = NULL;
	l->nchan = 0;
}
