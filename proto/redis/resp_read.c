/*
 * resp_read.c: the RESP reader of resp_track.h, one direction at a time:
 * a byte-driven state machine over type bytes, header lines and counted
 * payloads, and a fast path for the common whole messages.  Nothing is
 * copied but a command's name, and the text of the few commands that set
 * connection state.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp_int.h"
#include "resp_track.h"

enum {
	RR_TYPE,		/* a type byte (or an inline request) */
	RR_LINE,		/* the rest of a header or simple line */
	RR_BULK,		/* a counted payload and its CRLF */
	RR_INLINE		/* an inline request, up to LF */
};

/* Longest element count believed: a header beyond it is not RESP. */
#define RESP_MAX_COUNT	((uint64_t)1 << 32)

void
resp_reader_init(struct resp_reader *rd, enum resp_dir dir)
{
	memset(rd, 0, sizeof(*rd));
	rd->dir = dir;
	rd->state = RR_TYPE;
}

int
resp_reader_idle(const struct resp_reader *rd)
{
	return (!rd->err && !rd->inmsg);
}

/* What a type byte starts (replies; requests use '*' and '$' only). */
enum {
	RT_BAD,
	RT_LINE,		/* + - : , # ( _ : a line */
	RT_BULK,		/* $ ! = : a counted payload */
	RT_AGG			/* * % ~ > | : elements */
};

static const uint8_t resp_class[256] = {
	['+'] = RT_LINE, ['-'] = RT_LINE, [':'] = RT_LINE, [','] = RT_LINE,
	['#'] = RT_LINE, ['('] = RT_LINE, ['_'] = RT_LINE,
	['$'] = RT_BULK, ['!'] = RT_BULK, ['='] = RT_BULK,
	['*'] = RT_AGG, ['%'] = RT_AGG, ['~'] = RT_AGG, ['>'] = RT_AGG,
	['|'] = RT_AGG
};

/* The commands the tracker acts on; everything else is RESP_CMD_OTHER. */
static const struct {
	const char	*name;
	size_t		 len;
	enum resp_cmd	 kind;
} resp_cmds[] = {
	{ "AUTH", 4, RESP_CMD_AUTH },
	{ "SYNC", 4, RESP_CMD_REPL },
	{ "PSYNC", 5, RESP_CMD_REPL },
	{ "REPLCONF", 8, RESP_CMD_REPL },
	{ "EXEC", 4, RESP_CMD_EXEC },
	{ "HELLO", 5, RESP_CMD_HELLO },
	{ "MULTI", 5, RESP_CMD_MULTI },
	{ "WATCH", 5, RESP_CMD_WATCH },
	{ "RESET", 5, RESP_CMD_RESET },
	{ "SELECT", 6, RESP_CMD_SELECT },
	{ "CLIENT", 6, RESP_CMD_CLIENT },
	{ "DISCARD", 7, RESP_CMD_EXEC },
	{ "UNWATCH", 7, RESP_CMD_UNWATCH },
	{ "MONITOR", 7, RESP_CMD_MONITOR },
	{ "READONLY", 8, RESP_CMD_READONLY },
	{ "READWRITE", 9, RESP_CMD_READONLY },
	{ "SUBSCRIBE", 9, RESP_CMD_SUBSCRIBE },
	{ "PSUBSCRIBE", 10, RESP_CMD_PSUBSCRIBE },
	{ "SSUBSCRIBE", 10, RESP_CMD_SSUBSCRIBE },
	{ "UNSUBSCRIBE", 11, RESP_CMD_UNSUBSCRIBE },
	{ "PUNSUBSCRIBE", 12, RESP_CMD_PUNSUBSCRIBE },
	{ "SUNSUBSCRIBE", 12, RESP_CMD_SUNSUBSCRIBE },
};

/*
 * The kind of the command named word (len bytes, any case: the fast path
 * passes the request's own bytes, uncopied).  Lengths no tracked name
 * has are answered before any comparison.
 */
enum resp_cmd
resp_cmd_kind(const char *word, size_t len)
{
	size_t	i, k;
	uint8_t	c;

	if (len < 4 || len > 12)
		return (RESP_CMD_OTHER);	/* GET, SET, ... at once */
	for (i = 0; i < sizeof(resp_cmds) / sizeof(resp_cmds[0]); i++) {
		if (resp_cmds[i].len != len)
			continue;
		for (k = 0; k < len; k++) {
			c = (uint8_t)word[k];
			if (c >= 'a' && c <= 'z')
				c = (uint8_t)(c - 'a' + 'A');
			if (c != (uint8_t)resp_cmds[i].name[k])
				break;
		}
		if (k == len)
			return (resp_cmds[i].kind);
	}
	return (RESP_CMD_OTHER);
}

/* Does this kind set state that a move replays (record its text)? */
int
resp_cmd_kept(enum resp_cmd kind)
{
	return (kind == RESP_CMD_AUTH || kind == RESP_CMD_HELLO ||
	    kind == RESP_CMD_SELECT || kind == RESP_CMD_CLIENT ||
	    kind == RESP_CMD_READONLY);
}

static void
resp_raw(struct resp_reader *rd, const uint8_t *p, size_t n)
{
	if (!rd->capture)
		return;
	if (rd->rawlen + n > RESP_CMD_MAX) {
		rd->overflow = 1;
		rd->capture = 0;
		return;
	}
	memcpy(rd->raw + rd->rawlen, p, n);
	rd->rawlen += n;
}

/* Keep word w (0: name, 1: first argument), upper case, bounded. */
static void
resp_word(struct resp_reader *rd, int w, const uint8_t *p, size_t n)
{
	size_t	i;
	char	c;

	for (i = 0; i < n && rd->wlen[w] < RESP_WORD_MAX; i++) {
		c = (char)p[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		rd->word[w][rd->wlen[w]++] = c;
	}
	rd->word[w][rd->wlen[w]] = '\0';
}

/*
 * The name is complete.  Most commands are not recorded: nothing of them
 * was copied but the name.  A state command is: its text is rebuilt from
 * the header and the name (upper case, which Redis does not mind), and
 * the rest is copied as it comes.
 */
static void
resp_named(struct resp_reader *rd)
{
	int	n;

	rd->kind = resp_cmd_kind(rd->word[0], rd->wlen[0]);
	if (!resp_cmd_kept(rd->kind))
		return;
	if (rd->raw == NULL && (rd->raw = malloc(RESP_CMD_MAX)) == NULL) {
		rd->overflow = 1;	/* not recorded: unreplayable */
		return;
	}
	if (rd->top == '*')
		n = snprintf((char *)rd->raw, RESP_CMD_MAX,
		    "*%llu\r\n$%u\r\n%s\r\n", (unsigned long long)rd->nargs,
		    (unsigned)rd->wlen[0], rd->word[0]);
	else
		n = snprintf((char *)rd->raw, RESP_CMD_MAX, "%s",
		    rd->word[0]);
	rd->rawlen = n > 0 ? (size_t)n : 0;
	rd->capture = 1;
}

static void
resp_msg_start(struct resp_reader *rd, uint8_t c)
{
	rd->rawlen = 0;		/* wiped by the tracker after each command */
	rd->overflow = 0;
	rd->capture = 0;
	rd->kind = RESP_CMD_OTHER;
	rd->wlen[0] = rd->wlen[1] = 0;
	rd->word[0][0] = rd->word[1][0] = '\0';
	rd->llen = 0;
	rd->line[0] = '\0';
	rd->inmsg = 1;
	rd->top = c;
	rd->elems = 1;
	rd->argi = 0;
	rd->inword = 0;
	rd->iblank = 0;
	rd->blankline = 0;
}

/* One element ended; 1 when that ended the message. */
static int
resp_elem_done(struct resp_reader *rd)
{
	rd->state = RR_TYPE;
	if (--rd->elems > 0)
		return (0);
	rd->inmsg = 0;
	return (1);
}

static void
resp_fail(struct resp_reader *rd)
{
	rd->err = 1;
	rd->inmsg = 1;		/* never idle again */
}

/* A header line ended: what follows it.  1 when the message ended. */
static int
resp_header_done(struct resp_reader *rd)
{
	uint64_t	n = rd->num;

	if (resp_class[rd->type] == RT_LINE)
		return (resp_elem_done(rd));
	if (rd->digits == 0 || n > RESP_MAX_COUNT) {
		resp_fail(rd);		/* "$?" streamed, or nonsense */
		return (0);
	}
	if (resp_class[rd->type] == RT_BULK) {
		if (rd->neg)
			return (resp_elem_done(rd));	/* null */
		rd->left = n + 2;
		rd->state = RR_BULK;
		return (0);
	}
	/* An aggregate: its elements replace it (attributes add). */
	if (rd->neg)
		n = 0;
	if (rd->type == '%' || rd->type == '|')
		n *= 2;
	if (rd->elems + n > RESP_MAX_COUNT * 4) {
		resp_fail(rd);
		return (0);
	}
	rd->state = RR_TYPE;
	if (rd->type == '|') {
		rd->elems += n;
		return (0);
	}
	if (rd->dir == RESP_REQUESTS)
		rd->nargs = n;
	rd->elems += n;
	return (resp_elem_done(rd));
}

/* A type byte.  Returns 0, or -1 when the stream is not RESP. */
static int
resp_type(struct resp_reader *rd, uint8_t c)
{
	int	top = !rd->inmsg;

	if (top)
		resp_msg_start(rd, c);
	if (rd->dir == RESP_REQUESTS) {
		if (top && c != '*') {
			rd->state = RR_INLINE;
			return (1);	/* the byte is the line's first */
		}
		if (!top && c != '$')
			return (-1);
	} else if (resp_class[c] == RT_BAD)
		return (-1);
	rd->type = c;
	rd->num = 0;
	rd->neg = 0;
	rd->digits = 0;
	/*
	 * A top-level simple reply's text is kept ("OK", "NOAUTH ..."), and
	 * for pub/sub an integer's (a subscription count).
	 */
	rd->text = ((c == '+' || c == '-') && top) || (c == ':' && rd->pubsub);
	if (c == ':' && rd->pubsub)
		rd->llen = 0;
	rd->state = RR_LINE;
	return (0);
}

/* Bytes of a header or simple line, up to LF; *end when it ended. */
static size_t
resp_line(struct resp_reader *rd, const uint8_t *buf, size_t len, int *end)
{
	const uint8_t	*nl;
	size_t		 i;
	uint8_t		 c;

	if (rd->text) {
		for (i = 0; i < len; i++) {
			if ((c = buf[i]) == '\n') {
				*end = 1;
				return (i + 1);
			}
			if (c != '\r' && rd->llen < RESP_LINE_MAX) {
				rd->line[rd->llen++] = (char)c;
				rd->line[rd->llen] = '\0';
			}
		}
		return (len);
	}
	if (resp_class[rd->type] == RT_LINE) {
		if ((nl = memchr(buf, '\n', len)) == NULL)
			return (len);
		*end = 1;
		return ((size_t)(nl - buf) + 1);
	}
	for (i = 0; i < len; i++) {
		c = buf[i];
		if ((unsigned)(c - '0') <= 9 && rd->digits < 18) {
			rd->num = rd->num * 10 + (uint64_t)(c - '0');
			rd->digits++;
		} else if (c == '\r')
			continue;
		else if (c == '\n') {
			*end = 1;
			return (i + 1);
		} else if (c == '-' && rd->digits == 0 && !rd->neg)
			rd->neg = 1;
		else {
			resp_fail(rd);
			return (len);
		}
	}
	return (len);
}

/*
 * Inline requests, split as Redis splits them (sdssplitargs): words
 * between blanks; in a word, "..." with \xHH, \n, \r, \t, \b, \a and
 * \<any> escapes, or '...' with only \' escaped, each closing quote
 * followed by a blank or the line's end.  So "MULTI", MU"LTI" and
 * "\x4dULTI" are MULTI.  What Redis refuses (an unbalanced quote, a
 * closing quote glued to a word) closes the connection, and a NUL byte
 * ends what Redis reads of a line: neither is followed (resp_fail).
 */
enum {
	IQ_BLANK,		/* between words */
	IQ_WORD,		/* in a word, unquoted */
	IQ_DQ,			/* in "..." */
	IQ_DQ_BS,		/* "...\ */
	IQ_DQ_X,		/* "...\x */
	IQ_DQ_XH,		/* "...\xH (the digit in rd->ihex) */
	IQ_SQ,			/* in '...' */
	IQ_SQ_BS,		/* '...\ */
	IQ_CLOSED		/* after a closing quote */
};

/* isspace() in the C locale, as sdssplitargs skips between words. */
static int
resp_inline_space(uint8_t c)
{
	return (c == ' ' || (c >= '\t' && c <= '\r'));
}

/* One byte of the current word, as Redis reads it. */
static void
resp_inline_byte(struct resp_reader *rd, uint8_t c)
{
	if (rd->argi == 0 || (rd->argi == 1 && rd->kind == RESP_CMD_CLIENT))
		resp_word(rd, (int)rd->argi, &c, 1);
}

/* The current word ended (at c, which is kept in the text). */
static void
resp_inline_end(struct resp_reader *rd)
{
	if (rd->argi++ == 0)
		resp_named(rd);
	rd->inword = IQ_BLANK;
}

/* Byte c of an inline line: 1 when the line ended, -1 when refused. */
static int
resp_inline_step(struct resp_reader *rd, uint8_t c)
{
	int	h;

	if (c == '\0')
		return (-1);
	switch (rd->inword) {
	case IQ_BLANK:
		if (resp_inline_space(c)) {
			/* A CR alone before LF is an empty line. */
			if (c != '\n' && rd->iblank < 2)
				rd->iblank += c == '\r' && rd->iblank == 0 ?
				    1 : 2;
			break;
		}
		rd->inword = IQ_WORD;
		/* FALLTHROUGH */
	case IQ_WORD:
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			resp_inline_end(rd);
		else if (c == '"')
			rd->inword = IQ_DQ;
		else if (c == '\'')
			rd->inword = IQ_SQ;
		else
			resp_inline_byte(rd, c);
		break;
	case IQ_DQ:
		if (c == '\\')
			rd->inword = IQ_DQ_BS;
		else if (c == '"')
			rd->inword = IQ_CLOSED;
		else if (c == '\n')
			return (-1);
		else
			resp_inline_byte(rd, c);
		break;
	case IQ_DQ_BS:
		if (c == '\n')
			return (-1);
		rd->inword = IQ_DQ;
		if (c == 'x') {
			rd->inword = IQ_DQ_X;
			break;
		}
		resp_inline_byte(rd, resp_args_esc(c));
		break;
	case IQ_DQ_X:
		if (resp_args_hex(c) >= 0) {
			rd->ihex = c;
			rd->inword = IQ_DQ_XH;
			break;
		}
		resp_inline_byte(rd, 'x');	/* \x<not hex>: an x */
		rd->inword = IQ_DQ;
		return (resp_inline_step(rd, c));
	case IQ_DQ_XH:
		if ((h = resp_args_hex(c)) >= 0) {
			resp_inline_byte(rd,
			    (uint8_t)(resp_args_hex(rd->ihex) * 16 + h));
			rd->inword = IQ_DQ;
			break;
		}
		resp_inline_byte(rd, 'x');
		resp_inline_byte(rd, rd->ihex);
		rd->inword = IQ_DQ;
		return (resp_inline_step(rd, c));
	case IQ_SQ:
		if (c == '\\')
			rd->inword = IQ_SQ_BS;
		else if (c == '\'')
			rd->inword = IQ_CLOSED;
		else if (c == '\n')
			return (-1);
		else
			resp_inline_byte(rd, c);
		break;
	case IQ_SQ_BS:
		rd->inword = IQ_SQ;
		if (c == '\'') {
			resp_inline_byte(rd, c);
			break;
		}
		resp_inline_byte(rd, '\\');
		return (resp_inline_step(rd, c));
	case IQ_CLOSED:
		if (!resp_inline_space(c))
			return (-1);
		resp_inline_end(rd);
		break;
	}
	return (c == '\n');
}

/*
 * An inline request's bytes, up to LF.  Only a recorded command's text
 * is copied (resp_raw), as it came, for a replay that Redis splits the
 * same way.
 */
static size_t
resp_inline(struct resp_reader *rd, const uint8_t *buf, size_t len,
    int *end)
{
	size_t	i;
	int	r;

	for (i = 0; i < len; i++) {
		r = resp_inline_step(rd, buf[i]);
		if (r == -1) {
			resp_fail(rd);
			return (len);
		}
		resp_raw(rd, buf + i, 1);
		if (r == 1) {
			rd->nargs = rd->argi;
			*end = 1;
			return (i + 1);
		}
	}
	return (i);
}

/* A counted payload's bytes (and CRLF); 1 when it ended. */
static size_t
resp_bulk(struct resp_reader *rd, const uint8_t *buf, size_t len, int *end)
{
	size_t	n = rd->left < len ? (size_t)rd->left : len;
	size_t	data;

	if (rd->dir == RESP_REQUESTS) {
		resp_raw(rd, buf, n);
		/* The payload less its CRLF, as far as it is in buf. */
		data = rd->left > 2 ? (size_t)(rd->left - 2) : 0;
		if (data > n)
			data = n;
		if (rd->argi == 0 || (rd->argi == 1 &&
		    rd->kind == RESP_CMD_CLIENT))
			resp_word(rd, (int)rd->argi, buf, data);
	} else if (rd->pubsub && rd->argi == 0 && rd->top == '*') {
		data = rd->left > 2 ? (size_t)(rd->left - 2) : 0;
		resp_word(rd, 0, buf, data < n ? data : n);
	}
	rd->left -= n;
	if (rd->left == 0)
		*end = 1;
	return (n);
}

size_t
resp_reader_feed(struct resp_reader *rd, const uint8_t *buf, size_t len,
    int *done)
{
	size_t	i = 0, n;
	int	end, r;

	*done = 0;
	while (i < len && !rd->err) {
		end = 0;
		switch (rd->state) {
		case RR_TYPE:
			if ((r = resp_type(rd, buf[i])) == -1) {
				resp_fail(rd);
				break;
			}
			if (r == 0) {
				resp_raw(rd, buf + i, 1);
				i++;
			}
			break;
		case RR_LINE:
			n = resp_line(rd, buf + i, len - i, &end);
			if (rd->capture)
				resp_raw(rd, buf + i, n);
			i += n;
			if (end && resp_header_done(rd)) {
				*done = rd->dir == RESP_REPLIES || rd->argi > 0;
				return (i);
			}
			break;
		case RR_BULK:
			i += resp_bulk(rd, buf + i, len - i, &end);
			if (!end)
				break;
			if (rd->argi++ == 0 && rd->dir == RESP_REQUESTS)
				resp_named(rd);
			if (resp_elem_done(rd)) {
				*done = 1;
				return (i);
			}
			break;
		case RR_INLINE:
			i += resp_inline(rd, buf + i, len - i, &end);
			if (end) {
				rd->state = RR_TYPE;
				rd->inmsg = 0;
				/* Blank: ignored; "" is a command, unknown. */
				*done = rd->argi > 0;
				rd->blankline = rd->argi == 0 &&
				    rd->iblank >= 2;
				return (i);
			}
			break;
		}
	}
	return (len);
}


/* ------------------------------------------------------------------ */
/*
 * The fast path: a number and its CRLF at buf[*i] (after a type byte),
 * at most 18 digits.  Returns 0 with *v, or -1 when incomplete or unusual
 * (then the reader takes the message from its start, byte by byte).
 * Inline, and summing in a local: a request is three of these.
 */
static inline int
resp_fast_num(const uint8_t *buf, size_t len, size_t *i, uint64_t *v)
{
	size_t		j = *i, end;
	uint64_t	n;
	unsigned	d;

	if (j >= len || (d = (unsigned)buf[j] - '0') > 9)
		return (-1);
	n = d;
	end = len - j > 18 ? j + 18 : len;
	for (j++; j < end && (d = (unsigned)buf[j] - '0') <= 9; j++)
		n = n * 10 + d;
	if (j + 1 >= len || buf[j] != '\r' || buf[j + 1] != '\n')
		return (-1);
	*v = n;
	*i = j + 2;
	return (0);
}

/*
 * resp_fast_num for the usual one- and two-digit counts and lengths
 * ("*2", "$3", "$16"): compared where they lie, no loop.
 */
static inline int
resp_fast_small(const uint8_t *buf, size_t len, size_t *i, uint64_t *v)
{
	size_t		j = *i;
	unsigned	d0, d1;

	if (len - j >= 4 && (d0 = (unsigned)buf[j] - '0') <= 9) {
		if (buf[j + 1] == '\r' && buf[j + 2] == '\n') {
			*v = d0;
			*i = j + 3;
			return (0);
		}
		if ((d1 = (unsigned)buf[j + 1] - '0') <= 9 &&
		    buf[j + 2] == '\r' && buf[j + 3] == '\n') {
			*v = d0 * 10 + d1;
			*i = j + 4;
			return (0);
		}
	}
	return (resp_fast_num(buf, len, i, v));
}

/*
 * A whole request of the common kind at buf: an array of bulk strings,
 * all in buf.  Returns its length with *kind, or 0: the reader does it.
 * A few comparisons per header, payloads skipped by their length, the
 * name compared in place (and only when its length is one of a tracked
 * command's).
 */
static inline size_t
resp_fast_one(const uint8_t *buf, size_t len, enum resp_cmd *kind)
{
	uint64_t	nargs, n, a;
	size_t		i = 1;

	if (resp_fast_small(buf, len, &i, &nargs) == -1 || nargs == 0 ||
	    nargs > 1024)
		return (0);
	for (a = 0; a < nargs; a++) {
		if (i >= len || buf[i++] != '$' ||
		    resp_fast_small(buf, len, &i, &n) == -1 || n + 2 > len - i)
			return (0);
		if (a == 0) {
			if (n > RESP_WORD_MAX)
				return (0);
			*kind = resp_cmd_kind((const char *)buf + i, (size_t)n);
		}
		i += (size_t)n + 2;
	}
	return (i);
}

/*
 * One such request, named by a command that records nothing (most
 * requests take this path, no copy).
 */
size_t
resp_fast_request(const uint8_t *buf, size_t len, enum resp_cmd *kind)
{
	size_t	n;

	if (buf[0] != '*' || (n = resp_fast_one(buf, len, kind)) == 0 ||
	    resp_cmd_kept(*kind))
		return (0);
	return (n);
}

size_t
resp_fast_plain(const uint8_t *buf, size_t len, uint64_t *count)
{
	enum resp_cmd	kind = RESP_CMD_OTHER;
	size_t		off = 0, n;

	*count = 0;
	while (off < len && buf[off] == '*' &&
	    (n = resp_fast_one(buf + off, len - off, &kind)) > 0 &&
	    kind == RESP_CMD_OTHER) {
		off += n;
		(*count)++;
	}
	return (off);
}

/* A whole $ bulk or : integer at buf: its length, or 0. */
static inline size_t
resp_fast_flat(const uint8_t *buf, size_t len)
{
	uint64_t	n;
	size_t		i = 1;

	if (buf[0] == ':') {
		if (len > 1 && buf[1] == '-')
			i++;
		return (resp_fast_num(buf, len, &i, &n) == 0 ? i : 0);
	}
	if (buf[0] != '$' || len < 4)
		return (0);
	if (buf[1] == '-') {	/* only $-1, the null */
		i = 2;
		return (buf[2] == '1' && buf[3] == '\r' &&
		    resp_fast_num(buf, len, &i, &n) == 0 ? i : 0);
	}
	if (resp_fast_small(buf, len, &i, &n) == -1 || n + 2 > len - i)
		return (0);
	return (i + (size_t)n + 2);
}

size_t
resp_fast_flats(const uint8_t *buf, size_t len, uint64_t *count,
    uint8_t *last)
{
	size_t	off = 0, n;

	*count = 0;
	while (off < len && (n = resp_fast_flat(buf + off, len - off)) > 0) {
		*last = buf[off];
		off += n;
		(*count)++;
	}
	return (off);
}

/*
 * A whole flat reply at buf: $ bulk, : integer, or a + / - line short
 * enough to keep (its text goes to rd->line, as the reader keeps it).
 * Returns its length with rd->top set, or 0: the reader does it.
 */
size_t
resp_fast_reply(struct resp_reader *rd, const uint8_t *buf, size_t len)
{
	size_t	i = 1, lim;

	if (buf[0] == '+' || buf[0] == '-') {
		/* Up to the first CR or LF: the reader keeps what is before. */
		lim = len < RESP_LINE_MAX + 2 ? len : RESP_LINE_MAX + 2;
		while (i < lim && buf[i] != '\r' && buf[i] != '\n')
			i++;
		if (i + 1 >= len || i - 1 > RESP_LINE_MAX ||
		    buf[i] != '\r' || buf[i + 1] != '\n')
			return (0);
		rd->top = buf[0];
		rd->llen = i - 1;
		memcpy(rd->line, buf + 1, rd->llen);
		rd->line[rd->llen] = '\0';
		return (i + 2);
	}
	/*
	 * With pubsub the reader keeps an integer's text too: it does
	 * those, or a reply's text would depend on how the bytes came in
	 * (fuzz_resp_track: a state command's recorded reply).
	 */
	if ((buf[0] == ':' && rd->pubsub) ||
	    (i = resp_fast_flat(buf, len)) == 0)
		return (0);
	rd->top = buf[0];
	rd->llen = 0;
	rd->line[0] = '\0';
	return (i);
}
