/*
 * pg_guard.c: readonly = yes for PostgreSQL (pg_guard.h): the startup
 * parameter, a small SQL scanner (comments, strings, quoted identifiers
 * and dollar quotes skipped as the server's lexer does), and the client
 * direction's message filter.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "pg_guard.h"

#define SQL_WORD	40	/* a word kept; longer ones are cut */
#define SQL_WORDS	4	/* a statement's first words kept */
#define RO_GUC		"default_transaction_read_only"
#define TRO		"transaction_read_only"

enum sql_tok {
	TK_END,
	TK_WORD,
	TK_STRING,	/* '...', E'...' */
	TK_DOLLAR,	/* $tag$ ... $tag$ */
	TK_SEMI,
	TK_PUNCT
};

struct sql_scan {
	const char	*p;
	size_t		 len, i;
	int		 tro;		/* the last string named TRO */
};

/* Does p[0..n) contain TRO, any case? */
static int
sql_names_tro(const char *p, size_t n)
{
	size_t	i, k, m = sizeof(TRO) - 1;

	for (i = 0; i + m <= n; i++) {
		for (k = 0; k < m && tolower((unsigned char)p[i + k]) ==
		    TRO[k]; k++)
			;
		if (k == m)
			return (1);
	}
	return (0);
}

static int
sql_ident_start(unsigned char c)
{
	return (isalpha(c) || c == '_' || c >= 0x80);
}

static int
sql_ident(unsigned char c)
{
	return (isalnum(c) || c == '_' || c == '$' || c >= 0x80);
}

/* Past a comment at i (-- or nested slash-star); 0 when none. */
static int
sql_comment(struct sql_scan *sc)
{
	const char	*p = sc->p;
	size_t		 i = sc->i, n = sc->len;
	int		 depth = 0;

	if (i + 1 < n && p[i] == '-' && p[i + 1] == '-') {
		while (i < n && p[i] != '\n')
			i++;
		sc->i = i;
		return (1);
	}
	if (!(i + 1 < n && p[i] == '/' && p[i + 1] == '*'))
		return (0);
	do {
		if (i + 1 < n && p[i] == '/' && p[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (i + 1 < n && p[i] == '*' && p[i + 1] == '/') {
			depth--;
			i += 2;
		} else
			i++;
	} while (depth > 0 && i < n);
	sc->i = i;
	return (1);
}

/* A quoted run from i (at the opening quote q) to past its close. */
static void
sql_quoted(struct sql_scan *sc, char q, int backslash, char *w, size_t wlen)
{
	const char	*p = sc->p;
	size_t		 i = sc->i + 1, s = i, k = 0;

	while (i < sc->len) {
		if (backslash && p[i] == '\\' && i + 1 < sc->len) {
			i += 2;
			continue;
		}
		if (p[i] == q) {
			if (i + 1 < sc->len && p[i + 1] == q) {
				i += 2;
				continue;
			}
			break;
		}
		i++;
	}
	sc->tro = sql_names_tro(p + s, i - s);
	for (k = 0; k + 1 < wlen && s + k < i; k++)
		w[k] = (char)tolower((unsigned char)p[s + k]);
	w[k] = '\0';
	sc->i = i < sc->len ? i + 1 : i;
}

/* A dollar quote at i: $tag$ ... $tag$.  0 when it is not one ($1). */
static int
sql_dollar(struct sql_scan *sc)
{
	const char	*p = sc->p, *end;
	size_t		 i = sc->i + 1, tl;

	if (i < sc->len && isdigit((unsigned char)p[i]))
		return (0);
	while (i < sc->len && p[i] != '$' && sql_ident((unsigned char)p[i]))
		i++;
	if (i >= sc->len || p[i] != '$')
		return (0);
	tl = i - sc->i + 1;		/* "$tag$" */
	end = memmem(p + i + 1, sc->len - i - 1, p + sc->i, tl);
	if (end == NULL) {
		sc->tro = sql_names_tro(p + i + 1, sc->len - i - 1);
		sc->i = sc->len;
	} else {
		sc->tro = sql_names_tro(p + i + 1, (size_t)(end - p) - i - 1);
		sc->i = (size_t)(end - p) + tl;
	}
	return (1);
}

/* The next token; words lower-cased into w (cut to wlen - 1). */
static enum sql_tok
sql_next(struct sql_scan *sc, char *w, size_t wlen)
{
	const char	*p = sc->p;
	size_t		 s, k;
	unsigned char	 c;

	w[0] = '\0';
	for (;;) {
		while (sc->i < sc->len && isspace((unsigned char)p[sc->i]))
			sc->i++;
		if (sc->i >= sc->len)
			return (TK_END);
		if (!sql_comment(sc))
			break;
	}
	c = (unsigned char)p[sc->i];
	if ((c == 'e' || c == 'E') && sc->i + 1 < sc->len &&
	    p[sc->i + 1] == '\'') {
		sc->i++;
		sql_quoted(sc, '\'', 1, w, wlen);
		return (TK_STRING);
	}
	if (c == '\'') {
		sql_quoted(sc, '\'', 0, w, wlen);
		return (TK_STRING);
	}
	if (c == '"') {
		sql_quoted(sc, '"', 0, w, wlen);
		return (TK_WORD);
	}
	if (c == '$' && sql_dollar(sc))
		return (TK_DOLLAR);
	if (sql_ident_start(c)) {
		for (s = sc->i; sc->i < sc->len &&
		    sql_ident((unsigned char)p[sc->i]); sc->i++)
			;
		for (k = 0; k + 1 < wlen && s + k < sc->i; k++)
			w[k] = (char)tolower((unsigned char)p[s + k]);
		w[k] = '\0';
		return (TK_WORD);
	}
	sc->i++;
	return (c == ';' ? TK_SEMI : TK_PUNCT);
}

/* One statement's words, as far as the checks need them. */
struct sql_stmt {
	char	w[SQL_WORDS][SQL_WORD];
	int	nw;
	int	prev_read;	/* the last word was READ */
	int	rw;		/* READ WRITE seen */
	int	set_config;	/* the word set_config seen */
	int	tro_string;	/* a string naming transaction_read_only */
	int	tro_dollar;	/* a dollar-quoted body naming it */
};

static int
sql_is(const struct sql_stmt *st, int i, const char *word)
{
	return (i < st->nw && strcmp(st->w[i], word) == 0);
}

/* The verdict on a whole statement: what it tries, or NULL. */
static const char *
sql_verdict(const struct sql_stmt *st)
{
	int	j = 1;

	if (sql_is(st, 0, "set")) {
		if (sql_is(st, 1, "local") || (sql_is(st, 1, "session") &&
		    !sql_is(st, 2, "characteristics") &&
		    !sql_is(st, 2, "authorization")))
			j = 2;
		if (sql_is(st, j, RO_GUC))
			return ("SET " RO_GUC);
		if (sql_is(st, j, TRO))
			return ("SET " TRO);
		if (sql_is(st, 1, "session") && sql_is(st, 2,
		    "characteristics") && st->rw)
			return ("SET SESSION CHARACTERISTICS AS TRANSACTION "
			    "READ WRITE");
		if (sql_is(st, 1, "transaction") && st->rw)
			return ("SET TRANSACTION READ WRITE");
	}
	if (sql_is(st, 0, "begin") && st->rw)
		return ("BEGIN READ WRITE");
	if (sql_is(st, 0, "start") && st->rw)
		return ("START TRANSACTION READ WRITE");
	if (st->set_config && st->tro_string)
		return ("set_config of " TRO);
	if (st->tro_dollar)
		return ("a dollar-quoted body naming " TRO);
	return (NULL);
}

int
pg_guard_sql(const char *sql, size_t len, char *what, size_t whatlen)
{
	struct sql_scan	 sc = { sql, len, 0, 0 };
	struct sql_stmt	 st;
	char		 w[SQL_WORD];
	const char	*v;
	enum sql_tok	 t;

	memset(&st, 0, sizeof(st));
	do {
		t = sql_next(&sc, w, sizeof(w));
		switch (t) {
		case TK_WORD:
			if (st.nw < SQL_WORDS)
				snprintf(st.w[st.nw++], SQL_WORD, "%s", w);
			if (st.prev_read && strcmp(w, "write") == 0)
				st.rw = 1;
			st.prev_read = strcmp(w, "read") == 0;
			if (strcmp(w, "set_config") == 0)
				st.set_config = 1;
			break;
		case TK_STRING:
			st.tro_string |= sc.tro;
			st.prev_read = 0;
			break;
		case TK_DOLLAR:
			st.tro_dollar |= sc.tro;
			st.prev_read = 0;
			break;
		case TK_PUNCT:
			st.prev_read = 0;
			break;
		case TK_SEMI:
		case TK_END:
			if ((v = sql_verdict(&st)) != NULL) {
				snprintf(what, whatlen, "%s", v);
				return (1);
			}
			memset(&st, 0, sizeof(st));
			break;
		}
	} while (t != TK_END);
	return (0);
}

/* ------------------------------------------------------------------ */
/* The startup packet. */

static uint32_t
pg_get32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return (ntohl(v));
}

int
pg_guard_startup(const uint8_t *buf, size_t len, struct evbuffer *out)
{
	struct evbuffer	*b;
	size_t		 i = 8, kl, vl;
	uint32_t	 n;
	int		 rc = -1;

	if (len < 9 || pg_get32(buf) != len || (pg_get32(buf + 4) >> 16) != 3 ||
	    buf[len - 1] != '\0' || (b = evbuffer_new()) == NULL)
		return (-1);
	evbuffer_add(b, "\0\0\0\0", 4);
	evbuffer_add(b, buf + 4, 4);
	while (i < len - 1) {
		/* key NUL value NUL, both before the list's final NUL */
		kl = strnlen((const char *)buf + i, len - 1 - i);
		if (i + kl >= len - 1)
			goto out;
		vl = strnlen((const char *)buf + i + kl + 1, len - 2 - i - kl);
		if (i + kl + 1 + vl >= len - 1)
			goto out;
		if (strcmp((const char *)buf + i, RO_GUC) != 0)
			evbuffer_add(b, buf + i, kl + vl + 2);
		i += kl + vl + 2;
	}
	evbuffer_add(b, RO_GUC "\0on\0", sizeof(RO_GUC) + 3);
	evbuffer_add(b, "\0", 1);
	n = htonl((uint32_t)evbuffer_get_length(b));
	memcpy(evbuffer_pullup(b, 4), &n, 4);
	rc = evbuffer_add_buffer(out, b);
out:
	evbuffer_free(b);
	return (rc);
}

/* ------------------------------------------------------------------ */
/* The client's messages. */

int
pg_guard_init(struct pg_guard *g, const char *service)
{
	memset(g, 0, sizeof(*g));
	g->service = service;
	return ((g->msg = evbuffer_new()) == NULL ? -1 : 0);
}

void
pg_guard_clear(struct pg_guard *g)
{
	if (g->msg != NULL)
		evbuffer_free(g->msg);
	g->msg = NULL;
}

/*
 * The statement a refused one becomes: the server raises 25006
 * (read_only_sql_transaction) with postern's message, and answers it in
 * place as any failed statement.
 */
static int
pg_guard_raise(const struct pg_guard *g, const char *what,
    struct evbuffer *out)
{
	char	svc[128];
	size_t	i, k;

	for (i = k = 0; g->service[i] != '\0' && k + 2 < sizeof(svc); i++) {
		if (g->service[i] == '\'')
			svc[k++] = '\'';
		/* An -L label is typed text: no "$postern$" ends the body. */
		svc[k++] = g->service[i] == '$' ? '?' : g->service[i];
	}
	svc[k] = '\0';
	return (evbuffer_add_printf(out, "DO $postern$BEGIN RAISE EXCEPTION "
	    "USING ERRCODE = '25006', MESSAGE = 'postern: readonly service "
	    "%s refuses %s'; END$postern$", svc, what) < 0 ? -1 : 0);
}

/* A whole Q or P (header included) in g->msg: pass it or its stand-in. */
static int
pg_guard_message(struct pg_guard *g, struct evbuffer *to_server, int big)
{
	size_t		 len = evbuffer_get_length(g->msg), nl, ql;
	uint8_t		*m;
	char		 what[96];
	struct evbuffer	*b;
	uint32_t	 n;
	int		 rc = -1;

	m = evbuffer_pullup(g->msg, -1);
	if (m == NULL || len < 5)
		return (-1);
	nl = ql = 0;
	if (big)
		snprintf(what, sizeof(what), "a query over %d bytes it cannot "
		    "check", PG_GUARD_MAX);
	else {
		nl = m[0] == 'P' ? strnlen((char *)m + 5, len - 5) + 1 : 0;
		if (5 + nl >= len)
			return (-1);
		ql = strnlen((char *)m + 5 + nl, len - 5 - nl);
		if (!pg_guard_sql((char *)m + 5 + nl, ql, what, sizeof(what)))
			return (evbuffer_add_buffer(to_server, g->msg));
	}
	g->refusals++;
	if ((b = evbuffer_new()) == NULL)
		return (-1);
	evbuffer_add(b, m, 5 + nl);		/* type, length, name */
	if (big && m[0] == 'P')
		evbuffer_add(b, "", 1);		/* the name went unread */
	if (pg_guard_raise(g, what, b) == -1)
		goto out;
	evbuffer_add(b, "", 1);
	if (m[0] == 'P' && !big && 5 + nl + ql + 1 <= len)
		evbuffer_add(b, m + 5 + nl + ql + 1, len - 5 - nl - ql - 1);
	else if (m[0] == 'P')
		evbuffer_add(b, "\0\0", 2);	/* no parameter types */
	n = htonl((uint32_t)evbuffer_get_length(b) - 1);
	memcpy(evbuffer_pullup(b, 5) + 1, &n, 4);
	evbuffer_drain(g->msg, len);
	rc = evbuffer_add_buffer(to_server, b);
out:
	evbuffer_free(b);
	return (rc);
}

int
pg_guard_client(struct pg_guard *g, struct evbuffer *in,
    struct evbuffer *to_server, struct evbuffer *to_client)
{
	size_t		 n, avail;
	uint32_t	 len;

	(void)to_client;
	while ((avail = evbuffer_get_length(in)) > 0) {
		if (g->hlen < 5) {
			n = 5 - g->hlen < avail ? 5 - g->hlen : avail;
			evbuffer_remove(in, g->hdr + g->hlen, n);
			if ((g->hlen += n) < 5)
				return (0);
			len = pg_get32(g->hdr + 1);
			if (len < 4 || len > (1U << 30))
				return (-1);
			g->left = len - 4;
			g->collect = g->hdr[0] == 'Q' || g->hdr[0] == 'P';
			/* Too long to check: collect the header alone. */
			if (g->collect && g->left > PG_GUARD_MAX)
				g->collect = 2;
			if (evbuffer_add(g->collect ? g->msg : to_server, g->hdr,
			    5) == -1)
				return (-1);
			continue;
		}
		n = g->left < avail ? g->left : avail;
		if (g->collect == 2)
			evbuffer_drain(in, n);
		else if (evbuffer_remove_buffer(in, g->collect ? g->msg :
		    to_server, n) != (int)n)
			return (-1);
		g->left -= (uint32_t)n;
		if (g->left > 0)
			continue;
		if (g->collect && pg_guard_message(g, to_server,
		    g->collect == 2) == -1)
			return (-1);
		g->hlen = 0;
		g->collect = 0;
	}
	return (0);
}
