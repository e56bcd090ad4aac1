/*
 * pg_sql.c: words of SQL text for a session's resume (pg_sql.h).
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "pg_sql.h"

/* A word's byte, lowered (ASCII letters, digits, '_'); 0: not one. */
static const uint8_t pg_sql_wordc[256] = {
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
	['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
	['_'] = '_',
	['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e',
	['f'] = 'f', ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j',
	['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o',
	['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
	['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y',
	['z'] = 'z',
	['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e',
	['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j',
	['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o',
	['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't',
	['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
	['Z'] = 'z'
};

/*
 * One whole word: may it make state a replay cannot make?  Most words
 * are none of the keywords: two letters decide before any compare.
 */
const char *
pg_sql_scan_end(struct pg_sql_scan *sc)
{
	static const char *const words[] = { "temp", "temporary", "hold" };
	static const char *const prefixes[] = { "pg_advisory",
	    "pg_try_advisory", "set_config", "dblink", "pg_temp" };
	const char	*why = NULL;
	size_t		 i;

	if (sc->wlen < 4)
		goto out;	/* no keyword is shorter */
	switch (sc->word[0]) {
	case 't':
	case 'h':
		break;
	case 'p':
	case 'd':
	case 's':
		if (sc->word[1] == 'g' || sc->word[1] == 'b' ||
		    sc->word[1] == 'e')
			break;
		goto out;
	default:
		goto out;
	}
	sc->word[sc->wlen < sizeof(sc->word) ? sc->wlen :
	    sizeof(sc->word) - 1] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (sc->wlen < sizeof(sc->word) &&
		    strcmp(sc->word, words[i]) == 0)
			why = "TEMP or WITH HOLD in a query (temporary "
			    "objects, cursors outlive a move)";
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(sc->word, prefixes[i], strlen(prefixes[i])) == 0)
			why = i < 2 ? "advisory locks" : i == 2 ?
			    "set_config()" : i == 3 ? "dblink" :
			    "temporary objects (pg_temp)";
out:
	sc->wlen = 0;
	return (why);
}

const char *
pg_sql_scan(struct pg_sql_scan *sc, const uint8_t *p, size_t n)
{
	const char	*why = NULL, *w;
	size_t		 i, k = sc->wlen;
	uint8_t		 c;

	for (i = 0; i < n; i++) {
		if ((c = pg_sql_wordc[p[i]]) != 0) {
			if (k < sizeof(sc->word) - 1)
				sc->word[k] = (char)c;
			if (k < sizeof(sc->word))
				k++;
		} else if (k > 0) {
			sc->wlen = k;
			if ((w = pg_sql_scan_end(sc)) != NULL && why == NULL)
				why = w;
			k = 0;
		}
	}
	sc->wlen = k;
	return (why);
}

/* The first nw words of a statement, lowered. */
static void
pg_sql_nwords(const uint8_t *p, size_t n, char (*w)[24], size_t nw)
{
	size_t	 i = 0, k, j;

	for (k = 0; k < nw; k++) {
		while (i < n && isspace(p[i]))
			i++;
		for (j = 0; i < n && (isalnum(p[i]) || p[i] == '_'); i++)
			if (j + 1 < sizeof(w[k]))
				w[k][j++] = (char)tolower(p[i]);
		w[k][j] = '\0';
	}
}

/* The first two words of a statement, lowered. */
static void
pg_sql_words(const uint8_t *p, size_t n, char *w1, char *w2, size_t wmax)
{
	char	*w[2] = { w1, w2 };
	size_t	 i = 0, k, j;

	w1[0] = w2[0] = '\0';
	for (k = 0; k < 2; k++) {
		while (i < n && isspace(p[i]))
			i++;
		for (j = 0; i < n && (isalnum(p[i]) || p[i] == '_'); i++)
			if (j + 1 < wmax)
				w[k][j++] = (char)tolower(p[i]);
		w[k][j] = '\0';
	}
}

/* w is the word kw (lowered, NUL-terminated, length wl). */
#define PG_SQL_IS(w, wl, kw) \
	((wl) == sizeof(kw) - 1 && memcmp((w), (kw), sizeof(kw) - 1) == 0)

enum pg_sql_stmt
pg_sql_classify(const uint8_t *p, size_t n)
{
	char	w1[16], w2[16];
	size_t	l1, l2;

	/* Most statements start with none of these letters. */
	while (n > 0 && isspace(*p)) {
		p++;
		n--;
	}
	if (n == 0 || strchr("sSrRdDpPlLuU", *p) == NULL)
		return (PG_SQL_OTHER);
	pg_sql_words(p, n, w1, w2, sizeof(w1));
	l1 = strlen(w1);
	l2 = strlen(w2);
	if (PG_SQL_IS(w1, l1, "set"))
		return (PG_SQL_IS(w2, l2, "local") ||
		    PG_SQL_IS(w2, l2, "transaction") ? PG_SQL_SET_LOCAL :
		    PG_SQL_SET);
	if (PG_SQL_IS(w1, l1, "reset"))
		return (PG_SQL_IS(w2, l2, "all") ? PG_SQL_RESET_ALL :
		    PG_SQL_RESET);
	if (PG_SQL_IS(w1, l1, "deallocate"))
		return (PG_SQL_DEALLOCATE);
	if (PG_SQL_IS(w1, l1, "discard") || PG_SQL_IS(w1, l1, "prepare") ||
	    PG_SQL_IS(w1, l1, "listen") || PG_SQL_IS(w1, l1, "unlisten") ||
	    PG_SQL_IS(w1, l1, "load"))
		return (PG_SQL_STATE);
	return (PG_SQL_OTHER);
}

int
pg_sql_role(const uint8_t *p, size_t n)
{
	char	w[3][24];
	size_t	i = 1;

	/* role and session_authorization are GUC_NO_RESET_ALL. */
	pg_sql_nwords(p, n, w, 3);
	if (strcmp(w[0], "set") != 0 && strcmp(w[0], "reset") != 0)
		return (0);
	if (strcmp(w[1], "session") == 0) {
		if (strcmp(w[2], "authorization") == 0)
			return (1);
		i = 2;			/* SET SESSION ROLE */
	}
	return (strcmp(w[i], "role") == 0 ||
	    strcmp(w[i], "session_authorization") == 0);
}

int
pg_sql_single(const uint8_t *p, size_t n)
{
	const uint8_t	*semi = memchr(p, ';', n);
	size_t		 i;

	if (semi == NULL)
		return (1);
	for (i = (size_t)(semi - p); i < n; i++)
		if (p[i] != ';' && !isspace(p[i]) && p[i] != '\0')
			return (0);
	return (1);
}

int
pg_sql_deallocate_name(const char *p, size_t len, char *name, size_t max)
{
	const char	*end = p + len;
	size_t		 n = 0;
	int		 skip;

	if (max == 0)
		return (-1);
	for (skip = 0; skip < 2; skip++) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
			p++;
		while (p < end && isspace((unsigned char)*p))
			p++;
		/* "DEALLOCATE PREPARE name": one more word to skip */
		if (skip == 0 && (end - p < 8 ||
		    strncasecmp(p, "prepare", 7) != 0 ||
		    isalnum((unsigned char)p[7]) || p[7] == '_'))
			break;
	}
	if (p < end && *p == '"') {
		for (p++; p < end && n + 1 < max; p++) {
			if (*p == '"' && (p + 1 >= end || p[1] != '"'))
				break;
			if (*p == '"')
				p++;
			name[n++] = *p;
		}
	} else
		for (; p < end && n + 1 < max &&
		    (isalnum((unsigned char)*p) || *p == '_' || *p == '$');
		    p++)
			name[n++] = (char)tolower((unsigned char)*p);
	name[n] = '\0';
	return (n == 0 ? -1 : 0);
}
