/*
 * resp_track.c: RESP followed as it passes (resp_track.h).  The reader
 * is a byte-driven state machine over type bytes, header lines and
 * counted payloads; the tracker pairs requests with replies by count,
 * which RESP guarantees (one reply per command) outside the states it
 * refuses to follow (subscriptions, MONITOR, CLIENT REPLY).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "resp_track.h"

enum {
	RR_TYPE,		/* a type byte (or an inline request) */
	RR_LINE,		/* the rest of a header or simple line */
	RR_BULK,		/* a counted payload and its CRLF */
	RR_INLINE		/* an inline request, up to LF */
};

/* Longest element count believed: a header beyond it is not RESP. */
#define RESP_MAX_COUNT	((uint64_t)1 << 32)

static void
resp_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

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

static int
resp_line_type(uint8_t t)
{
	return (t == '+' || t == '-' || t == ':' || t == ',' || t == '#' ||
	    t == '(' || t == '_');
}

static int
resp_bulk_type(uint8_t t)
{
	return (t == '$' || t == '!' || t == '=');
}

static int
resp_agg_type(uint8_t t)
{
	return (t == '*' || t == '%' || t == '~' || t == '>' || t == '|');
}

/* Is this command's whole text worth recording (state it sets)? */
static int
resp_keep_name(const char *name)
{
	static const char *const keep[] = { "AUTH", "HELLO", "SELECT",
	    "CLIENT", "READONLY", "READWRITE", NULL };
	size_t	i;

	for (i = 0; keep[i] != NULL; i++) {
		if (strcmp(name, keep[i]) == 0)
			return (1);
	}
	return (0);
}

static void
resp_raw(struct resp_reader *rd, const uint8_t *p, size_t n)
{
	if (!rd->capture)
		return;
	if (rd->rawlen + n > sizeof(rd->raw)) {
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

/* The name is complete: keep recording this command or stop. */
static void
resp_named(struct resp_reader *rd)
{
	if (rd->capture && !resp_keep_name(rd->word[0])) {
		resp_wipe(rd->raw, rd->rawlen);
		rd->rawlen = 0;
		rd->capture = 0;
	}
}

static void
resp_msg_start(struct resp_reader *rd, uint8_t c)
{
	resp_wipe(rd->raw, rd->rawlen);		/* may have been an AUTH */
	rd->rawlen = 0;
	rd->overflow = 0;
	rd->capture = rd->dir == RESP_REQUESTS;
	rd->wlen[0] = rd->wlen[1] = 0;
	rd->word[0][0] = rd->word[1][0] = '\0';
	rd->llen = 0;
	rd->line[0] = '\0';
	rd->inmsg = 1;
	rd->top = c;
	rd->elems = 1;
	rd->argi = 0;
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

	if (resp_line_type(rd->type))
		return (resp_elem_done(rd));
	if (rd->digits == 0 || n > RESP_MAX_COUNT) {
		resp_fail(rd);		/* "$?" streamed, or nonsense */
		return (0);
	}
	if (resp_bulk_type(rd->type)) {
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
	} else if (!resp_line_type(c) && !resp_bulk_type(c) &&
	    !resp_agg_type(c))
		return (-1);
	rd->type = c;
	rd->num = 0;
	rd->neg = 0;
	rd->digits = 0;
	rd->state = RR_LINE;
	return (0);
}

/* Bytes of a header or simple line, up to LF; 1 when it ended. */
static size_t
resp_line(struct resp_reader *rd, const uint8_t *buf, size_t len, int *end)
{
	size_t	i;
	uint8_t	c;
	int	text = (rd->type == '+' || rd->type == '-') &&
		    rd->type == rd->top && rd->elems == 1;

	for (i = 0; i < len; i++) {
		c = buf[i];
		if (c == '\n') {
			*end = 1;
			return (i + 1);
		}
		if (c == '\r')
			continue;
		if (text) {
			if (rd->llen < RESP_LINE_MAX)
				rd->line[rd->llen++] = (char)c;
			rd->line[rd->llen] = '\0';
		} else if (resp_line_type(rd->type))
			continue;
		else if (c == '-' && rd->digits == 0 && !rd->neg)
			rd->neg = 1;
		else if (c >= '0' && c <= '9' && rd->digits < 18) {
			rd->num = rd->num * 10 + (uint64_t)(c - '0');
			rd->digits++;
		} else {
			resp_fail(rd);
			return (len);
		}
	}
	return (len);
}

/* An inline request's bytes, up to LF; words split on blanks. */
static size_t
resp_inline(struct resp_reader *rd, const uint8_t *buf, size_t len,
    int *end)
{
	size_t	i;
	uint8_t	c;

	for (i = 0; i < len; i++) {
		c = buf[i];
		if (c == '\n') {
			*end = 1;
			i++;
			break;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			if (rd->argi == 0 && rd->wlen[0] > 0) {
				rd->argi = 1;
				resp_named(rd);
			} else if (rd->argi == 1 && rd->wlen[1] > 0)
				rd->argi = 2;
			continue;
		}
		if (rd->argi == 0 || (rd->argi == 1 &&
		    strcmp(rd->word[0], "CLIENT") == 0))
			resp_word(rd, (int)rd->argi, &c, 1);
	}
	resp_raw(rd, buf, i);
	if (*end && rd->argi == 0)
		resp_named(rd);
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
		    strcmp(rd->word[0], "CLIENT") == 0))
			resp_word(rd, (int)rd->argi, buf, data);
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
			if (rd->dir == RESP_REQUESTS)
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
			if (rd->dir == RESP_REQUESTS && rd->argi++ == 0)
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
				*done = rd->wlen[0] > 0;  /* blank: ignored */
				return (i);
			}
			break;
		}
	}
	return (len);
}

/* ------------------------------------------------------------------ */
/* The tracker. */

static const char *const resp_slot_names[RESP_NSLOTS] = {
	"AUTH", "HELLO", "SELECT", "CLIENT SETNAME", "CLIENT SETINFO",
	"CLIENT SETINFO", "READONLY"
};

void
resp_track_init(struct resp_track *t)
{
	memset(t, 0, sizeof(*t));
	resp_reader_init(&t->req, RESP_REQUESTS);
	resp_reader_init(&t->rep, RESP_REPLIES);
}

static void
resp_forget(uint8_t **cmd, size_t *len)
{
	resp_wipe(*cmd, *len);
	free(*cmd);
	*cmd = NULL;
	*len = 0;
}

static void
resp_forget_saved(struct resp_track *t)
{
	size_t	i;

	for (i = 0; i < RESP_NSLOTS; i++)
		resp_forget(&t->saved[i].cmd, &t->saved[i].len);
}

void
resp_track_clear(struct resp_track *t)
{
	size_t	i;

	resp_forget_saved(t);
	for (i = 0; i < t->npending; i++)
		resp_forget(&t->pending[i].cmd, &t->pending[i].len);
	t->npending = 0;
	resp_wipe(t->req.raw, sizeof(t->req.raw));
	t->req.rawlen = 0;
}

/* Which slot a state command fills; -1: none.  May mark the session. */
static int
resp_classify(struct resp_track *t, const char *name, const char *arg)
{
	if (strcmp(name, "AUTH") == 0)
		return (RESP_SLOT_AUTH);
	if (strcmp(name, "HELLO") == 0)
		return (RESP_SLOT_HELLO);
	if (strcmp(name, "SELECT") == 0)
		return (RESP_SLOT_SELECT);
	if (strcmp(name, "READONLY") == 0 || strcmp(name, "READWRITE") == 0)
		return (RESP_SLOT_READONLY);
	if (strcmp(name, "CLIENT") != 0)
		return (-1);
	if (strcmp(arg, "SETNAME") == 0)
		return (RESP_SLOT_SETNAME);
	if (strcmp(arg, "SETINFO") == 0)
		return (t->req.rawlen > 0 && memmem(t->req.raw, t->req.rawlen,
		    "LIB-VER", 7) == NULL && memmem(t->req.raw, t->req.rawlen,
		    "lib-ver", 7) == NULL ? RESP_SLOT_LIBNAME :
		    RESP_SLOT_LIBVER);
	if (strcmp(arg, "REPLY") == 0)
		t->lost = "CLIENT REPLY (replies cannot be counted)";
	else if (strcmp(arg, "TRACKING") == 0 || strcmp(arg, "CACHING") == 0)
		t->unreplayable = "CLIENT TRACKING (push state)";
	else if (strcmp(arg, "NO-EVICT") == 0 ||
	    strcmp(arg, "NO-TOUCH") == 0)
		t->unreplayable = "an unknown state-changing CLIENT command";
	return (-1);
}

/* A state command was sent: keep it until its reply says it held. */
static void
resp_pend(struct resp_track *t, int slot)
{
	struct resp_pending	*p;

	if (t->multi) {
		t->unreplayable = "state set inside MULTI";
		return;
	}
	if (t->req.overflow || t->req.rawlen == 0) {
		t->unreplayable = "a state command too long to record";
		return;
	}
	if (t->npending == RESP_PENDING) {
		t->unreplayable = "too many state commands pipelined";
		return;
	}
	p = &t->pending[t->npending];
	if ((p->cmd = malloc(t->req.rawlen)) == NULL) {
		t->unreplayable = "out of memory";
		return;
	}
	memcpy(p->cmd, t->req.raw, t->req.rawlen);
	p->len = t->req.rawlen;
	p->seq = t->sent;
	p->slot = (enum resp_slot)slot;
	t->npending++;
}

static void
resp_request(struct resp_track *t)
{
	const char	*name = t->req.word[0], *arg = t->req.word[1];
	int		 slot;

	if (strcmp(name, "MULTI") == 0)
		t->multi = 1;
	else if (strcmp(name, "EXEC") == 0 || strcmp(name, "DISCARD") == 0)
		t->multi = t->watch = 0;
	else if (strcmp(name, "WATCH") == 0)
		t->watch = 1;
	else if (strcmp(name, "UNWATCH") == 0)
		t->watch = 0;
	else if (strcmp(name, "SUBSCRIBE") == 0 ||
	    strcmp(name, "PSUBSCRIBE") == 0 ||
	    strcmp(name, "SSUBSCRIBE") == 0)
		t->subscribed = 1;
	else if (strcmp(name, "MONITOR") == 0)
		t->monitor = 1;
	else if (strcmp(name, "RESET") == 0) {
		/* Back to a new connection's state; subscriptions stay. */
		resp_forget_saved(t);
		t->multi = t->watch = t->resp3 = 0;
		t->gen++;
	} else if ((slot = resp_classify(t, name, arg)) != -1)
		resp_pend(t, slot);
	t->sent++;
	/* Done with the text: it may have been a password. */
	resp_wipe(t->req.raw, t->req.rawlen);
	t->req.rawlen = 0;
}

static void
resp_reply(struct resp_track *t)
{
	struct resp_pending	*p = &t->pending[0];
	struct resp_saved	*sv;
	uint64_t		 seq = t->answered;

	if (t->rep.top == '>')
		return;		/* a RESP3 push is no reply */
	if (t->answered < t->sent)
		t->answered++;
	if (t->npending == 0 || p->seq != seq)
		return;
	if (t->rep.top == '-' || t->rep.top == '!') {
		resp_forget(&p->cmd, &p->len);	/* refused: nothing changed */
	} else {
		sv = &t->saved[p->slot];
		resp_forget(&sv->cmd, &sv->len);
		sv->cmd = p->cmd;
		sv->len = p->len;
		sv->seq = p->seq;
		memset(&sv->want, 0, sizeof(sv->want));
		sv->want.type = t->rep.top;
		memcpy(sv->want.line, t->rep.line, sizeof(sv->want.line));
		sv->want.any_body = p->slot == RESP_SLOT_HELLO;
		if (p->slot == RESP_SLOT_HELLO)
			t->resp3 = t->rep.top == '%';
		t->gen++;
	}
	memmove(&t->pending[0], &t->pending[1],
	    (t->npending - 1) * sizeof(t->pending[0]));
	t->npending--;
	memset(&t->pending[t->npending], 0, sizeof(t->pending[0]));
}

void
resp_track_client(struct resp_track *t, const uint8_t *buf, size_t len)
{
	size_t	n;
	int	done;

	while (len > 0 && t->lost == NULL) {
		n = resp_reader_feed(&t->req, buf, len, &done);
		if (t->req.err)
			t->lost = "the client's bytes are not RESP";
		else if (done)
			resp_request(t);
		buf += n;
		len -= n;
	}
}

void
resp_track_server(struct resp_track *t, const uint8_t *buf, size_t len)
{
	size_t	n;
	int	done;

	while (len > 0 && t->lost == NULL) {
		n = resp_reader_feed(&t->rep, buf, len, &done);
		if (t->rep.err)
			t->lost = "the server's bytes are not RESP";
		else if (done)
			resp_reply(t);
		buf += n;
		len -= n;
	}
}

enum resp_safe
resp_track_safe(const struct resp_track *t)
{
	if (t->lost != NULL)
		return (RESP_LOST);
	if (t->sent != t->answered || !resp_reader_idle(&t->req) ||
	    !resp_reader_idle(&t->rep) || t->multi || t->watch ||
	    t->subscribed || t->monitor)
		return (RESP_BUSY);
	return (t->unreplayable != NULL ? RESP_SAFE_CLOSE : RESP_SAFE);
}

const char *
resp_track_why(const struct resp_track *t)
{
	if (t->lost != NULL)
		return (t->lost);
	if (t->subscribed)
		return ("subscribed");
	if (t->monitor)
		return ("in MONITOR");
	if (t->multi)
		return ("inside MULTI");
	if (t->watch)
		return ("WATCHing keys");
	if (t->sent != t->answered || !resp_reader_idle(&t->req) ||
	    !resp_reader_idle(&t->rep))
		return ("a reply is outstanding");
	if (t->unreplayable != NULL)
		return (t->unreplayable);
	return ("idle");
}

static void
resp_wipe_cleanup(const void *data, size_t len, void *arg)
{
	resp_wipe((void *)(uintptr_t)data, len);
	free((void *)(uintptr_t)data);
}

int
resp_track_replay(const struct resp_track *t, struct evbuffer *out,
    struct resp_expect *want, char *names, size_t nameslen)
{
	const struct resp_saved	*order[RESP_NSLOTS], *tmp;
	uint8_t			*copy;
	size_t			 i, j, n = 0;

	for (i = 0; i < RESP_NSLOTS; i++) {
		if (t->saved[i].cmd != NULL)
			order[n++] = &t->saved[i];
	}
	for (i = 1; i < n; i++) {	/* in the order they were sent */
		for (j = i; j > 0 && order[j - 1]->seq > order[j]->seq; j--) {
			tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	}
	if (nameslen > 0)
		names[0] = '\0';
	for (i = 0; i < n; i++) {
		if ((copy = malloc(order[i]->len)) == NULL)
			return (-1);
		memcpy(copy, order[i]->cmd, order[i]->len);
		if (evbuffer_add_reference(out, copy, order[i]->len,
		    resp_wipe_cleanup, NULL) != 0) {
			resp_wipe_cleanup(copy, order[i]->len, NULL);
			return (-1);
		}
		want[i] = order[i]->want;
		if (i > 0)
			strncat(names, ", ", nameslen - strlen(names) - 1);
		strncat(names, resp_slot_names[order[i] - t->saved],
		    nameslen - strlen(names) - 1);
	}
	return ((int)n);
}

int
resp_expect_match(const struct resp_expect *want,
    const struct resp_reader *rd)
{
	if (rd->top != want->type)
		return (0);
	return (want->any_body || strcmp(want->line, rd->line) == 0);
}
