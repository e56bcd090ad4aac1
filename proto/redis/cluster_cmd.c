/*
 * cluster_cmd.c: the kinds of reply a client's commands will get
 * (cluster_cmd.h).  Only the first two words of a command matter; the
 * rest is skipped as it comes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster_cmd.h"

enum {
	CMD_START,		/* at a command's first byte */
	CMD_HEAD,		/* in "*N" or "$N", up to LF */
	CMD_ARG_TYPE,		/* at an element's '$' */
	CMD_BULK,		/* in an element and its CRLF */
	CMD_INLINE		/* in an inline command, up to LF */
};

static enum cluster_rw_kind
cmd_kind(const struct cluster_cmd *c)
{
	const char	*sub = c->word[1];
	size_t		 n = c->wlen[1];

	if (c->wlen[0] == 4 && strncasecmp(c->word[0], "ROLE", 4) == 0)
		return (CLUSTER_RW_ROLE);
	if (c->wlen[0] == 4 && strncasecmp(c->word[0], "INFO", 4) == 0)
		return (CLUSTER_RW_INFO);
	if (c->wlen[0] != 7 || strncasecmp(c->word[0], "CLUSTER", 7) != 0)
		return (CLUSTER_RW_REDIRECT);
	if (n == 5 && strncasecmp(sub, "SLOTS", 5) == 0)
		return (CLUSTER_RW_SLOTS);
	if (n == 6 && strncasecmp(sub, "SHARDS", 6) == 0)
		return (CLUSTER_RW_SHARDS);
	if ((n == 5 && strncasecmp(sub, "NODES", 5) == 0) ||
	    (n == 8 && strncasecmp(sub, "REPLICAS", 8) == 0) ||
	    (n == 6 && strncasecmp(sub, "SLAVES", 6) == 0))
		return (CLUSTER_RW_NODES);
	return (CLUSTER_RW_REDIRECT);
}

static int
is_word(const struct cluster_cmd *c, const char *w)
{
	size_t	n = strlen(w);

	return (c->wlen[0] == n && strncasecmp(c->word[0], w, n) == 0);
}

static int
cmd_push(struct cluster_cmd *c, enum cluster_rw_kind kind,
    enum cluster_cmd_place place)
{
	struct cluster_cmd_run	*nr, *last;
	size_t			 i, cap;

	if (c->len > 0) {
		last = &c->runs[(c->head + c->len - 1) % c->cap];
		if (last->kind == kind && last->place == place &&
		    last->count < UINT32_MAX) {
			last->count++;
			return (0);
		}
	}
	if (c->len == c->cap) {
		cap = c->cap ? c->cap * 2 : 4;
		if ((nr = calloc(cap, sizeof(*nr))) == NULL)
			return (-1);
		for (i = 0; i < c->len; i++)
			nr[i] = c->runs[(c->head + i) % c->cap];
		free(c->runs);
		c->runs = nr;
		c->cap = cap;
		c->head = 0;
	}
	c->runs[(c->head + c->len) % c->cap].kind = kind;
	c->runs[(c->head + c->len) % c->cap].place = place;
	c->runs[(c->head + c->len) % c->cap].count = 1;
	c->len++;
	return (0);
}

/* The server queued a command: keep its kind for EXEC's array. */
static int
cmd_queue(struct cluster_cmd *c, enum cluster_rw_kind kind)
{
	struct cluster_rw_tx	*tx = c->tx;
	enum cluster_rw_kind	*nk;
	size_t			 cap;

	if (tx == NULL && (tx = c->tx = calloc(1, sizeof(*tx))) == NULL)
		return (-1);
	if (tx->n == tx->cap) {
		cap = tx->cap ? tx->cap * 2 : 8;
		if ((nk = reallocarray(tx->kinds, cap, sizeof(*nk))) == NULL)
			return (-1);
		tx->kinds = nk;
		tx->cap = cap;
	}
	tx->kinds[tx->n++] = kind;
	c->tx_rw |= kind != CLUSTER_RW_REDIRECT;
	return (0);
}

/* The server's transaction ended: its kinds, when EXEC's reply needs them. */
static struct cluster_rw_tx *
cmd_tx_end(struct cluster_cmd *c, int exec)
{
	struct cluster_rw_tx	*tx = c->tx;
	int			 rw = c->tx_rw;

	c->tx = NULL;
	c->tx_rw = 0;
	c->srv_multi = 0;
	if (exec && rw)
		return (tx);
	cluster_rw_tx_free(tx);
	return (NULL);
}

static int
cmd_one(struct cluster_cmd *c)
{
	enum cluster_cmd_place	place = CLUSTER_CMD_PLAIN;

	if (is_word(c, "RESET") || (c->multi && is_word(c, "DISCARD")))
		place = CLUSTER_CMD_END;
	else if (c->multi && is_word(c, "EXEC"))
		place = CLUSTER_CMD_EXEC;
	else if (is_word(c, "MULTI"))
		place = CLUSTER_CMD_MULTI;
	else if (c->multi)
		place = CLUSTER_CMD_IN_TX;
	if (place == CLUSTER_CMD_MULTI)
		c->multi = 1;
	else if (place == CLUSTER_CMD_END || place == CLUSTER_CMD_EXEC)
		c->multi = 0;
	return (cmd_push(c, cmd_kind(c), place));
}

/* A command ended: queue its kind, get ready for the next. */
static int
cmd_end(struct cluster_cmd *c)
{
	int	empty = c->inline_cmd && c->wlen[0] == 0;
	int	rc = empty ? 0 : cmd_one(c);

	memset(c->word, 0, sizeof(c->word));
	c->wlen[0] = c->wlen[1] = 0;
	c->state = CMD_START;
	c->argi = 0;
	c->inline_cmd = 0;
	return (rc);
}

/* A byte of the element being read (the first two are kept). */
static void
cmd_keep(struct cluster_cmd *c, char ch)
{
	if (c->argi < 2 && c->wlen[c->argi] < sizeof(c->word[0]))
		c->word[c->argi][c->wlen[c->argi]++] = ch;
}

/* The LF of a header: "*N" opens a command, "$N" an element. */
static int
cmd_head(struct cluster_cmd *c, char type)
{
	if (type == '*') {
		c->args = c->num;
		if (c->args <= 0)
			return (cmd_end(c));
		c->state = CMD_ARG_TYPE;
		return (0);
	}
	c->left = c->num + 2;
	c->state = CMD_BULK;
	return (0);
}

int
cluster_cmd_feed(struct cluster_cmd *c, const char *b, size_t n)
{
	size_t	i = 0, take, k;
	char	ch;

	while (i < n) {
		ch = b[i];
		switch (c->state) {
		case CMD_START:
			if (ch == '*') {
				c->state = CMD_HEAD;
				c->num = 0;
				c->argi = -1;		/* the array's header */
				i++;
				break;
			}
			c->inline_cmd = 1;
			c->state = CMD_INLINE;
			break;
		case CMD_INLINE:
			i++;
			if (ch == '\n') {
				if (cmd_end(c) != 0)
					return (-1);
			} else if (ch == ' ' || ch == '\t' || ch == '\r') {
				if (c->argi < 2 && c->wlen[c->argi] > 0)
					c->argi++;
			} else
				cmd_keep(c, ch);
			break;
		case CMD_HEAD:
			i++;
			if (ch >= '0' && ch <= '9' && c->num < (1LL << 40))
				c->num = c->num * 10 + (ch - '0');
			else if (ch == '\n' && cmd_head(c, c->argi < 0 ?
			    '*' : '$') != 0)
				return (-1);
			break;
		case CMD_ARG_TYPE:
			i++;
			c->argi++;
			c->num = 0;
			c->state = CMD_HEAD;
			break;
		case CMD_BULK:
			take = (size_t)c->left < n - i ? (size_t)c->left : n - i;
			for (k = 0; k < take && c->left - (long long)k > 2; k++)
				cmd_keep(c, b[i + k]);
			i += take;
			c->left -= (long long)take;
			if (c->left == 0 && --c->args <= 0) {
				if (cmd_end(c) != 0)
					return (-1);
			} else if (c->left == 0)
				c->state = CMD_ARG_TYPE;
			break;
		}
	}
	return (0);
}

enum cluster_rw_kind
cluster_cmd_pop(struct cluster_cmd *c)
{
	struct cluster_rw_tx	*tx;
	enum cluster_rw_kind	 kind = cluster_cmd_pop_tx(c, &tx);

	cluster_rw_tx_free(tx);
	return (kind);
}

enum cluster_rw_kind
cluster_cmd_pop_tx(struct cluster_cmd *c, struct cluster_rw_tx **tx)
{
	return (cluster_cmd_pop_reply(c, '+', tx));
}

enum cluster_rw_kind
cluster_cmd_pop_reply(struct cluster_cmd *c, char first,
    struct cluster_rw_tx **tx)
{
	struct cluster_cmd_run	*r;
	enum cluster_rw_kind	 kind;
	enum cluster_cmd_place	 place;
	int			 refused = first == '-';

	*tx = NULL;
	if (c->len == 0)
		return (CLUSTER_RW_REDIRECT);
	r = &c->runs[c->head];
	kind = r->kind;
	place = r->place;
	if (--r->count == 0) {
		c->head = (c->head + 1) % c->cap;
		c->len--;
	}
	switch (place) {
	case CLUSTER_CMD_PLAIN:
		return (kind);
	case CLUSTER_CMD_MULTI:
		/* Nested: refused, the transaction goes on. */
		if (!refused && !c->srv_multi) {
			(void)cmd_tx_end(c, 0);
			c->srv_multi = 1;
		}
		return (CLUSTER_RW_REDIRECT);
	case CLUSTER_CMD_IN_TX:
		if (!c->srv_multi)
			return (kind);	/* no transaction: its own reply */
		/* +QUEUED; a refused one is not queued (EXECABORT). */
		if (!refused && cmd_queue(c, kind) != 0) {
			/* Out of memory: EXEC's elements pass unread. */
			cluster_rw_tx_free(c->tx);
			c->tx = NULL;
			c->tx_rw = 0;
		}
		return (CLUSTER_RW_REDIRECT);
	case CLUSTER_CMD_EXEC:
		if (!c->srv_multi)
			return (kind);	/* -ERR EXEC without MULTI */
		/* -EXECABORT, -MOVED for the whole: no array. */
		*tx = cmd_tx_end(c, !refused);
		return (*tx != NULL ? CLUSTER_RW_EXEC : CLUSTER_RW_REDIRECT);
	case CLUSTER_CMD_END:
		(void)cmd_tx_end(c, 0);
		return (kind);
	}
	return (kind);
}

void
cluster_cmd_clear(struct cluster_cmd *c)
{
	if (c == NULL)
		return;
	cluster_rw_tx_free(c->tx);
	free(c->runs);
	memset(c, 0, sizeof(*c));
}
