/*
 * pg_state.c: a PostgreSQL session's replayable state (pg_state.h).
 *
 * Answers come in the order of the client's messages, so one FIFO pairs
 * them: a Parse gets ParseComplete, a Close CloseComplete, an Execute one
 * of CommandComplete, EmptyQueryResponse or PortalSuspended, a Sync or a
 * simple query its ReadyForQuery (the query's CommandCompletes come
 * before).  An ErrorResponse skips the rest up to the Sync: the Sync's
 * ReadyForQuery drops what was not answered.
 */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "pg_sql.h"
#include "pg_state.h"

#define PGSTATE_QUERY_MAX	4096	/* a SET's text kept */
#define PGSTATE_PARSE_MAX	65536	/* a named Parse kept */

const char *const pgstate_param_names[PGSTATE_NPARAMS] = {
	"server_encoding", "client_encoding", "DateStyle", "IntervalStyle",
	"TimeZone", "integer_datetimes", "standard_conforming_strings",
	"server_version"
};

const uint8_t pgstate_types[2][256] = {
	[PGSTATE_CLIENT] = { ['Q'] = 1, ['P'] = 1, ['C'] = 1, ['p'] = 1,
	    ['E'] = 1, ['S'] = 1, ['F'] = 1 },
	[PGSTATE_SERVER] = { ['R'] = 1, ['S'] = 1, ['C'] = 1, ['Z'] = 1,
	    ['I'] = 1, ['s'] = 1, ['E'] = 1, ['1'] = 1, ['3'] = 1 }
};


void
pgstate_init(struct pgstate *st)
{
	memset(st, 0, sizeof(*st));
	TAILQ_INIT(&st->items);
	TAILQ_INIT(&st->pending);
}

static void
pgstate_item_free(struct pgstate_item *it)
{
	if (it != NULL) {
		OPENSSL_cleanse(it->data, it->len);
		free(it);
	}
}

static struct pgstate_item *
pgstate_item_new(enum pgstate_kind kind, const uint8_t *p, size_t n)
{
	struct pgstate_item	*it;

	if ((it = calloc(1, sizeof(*it) + n + 1)) == NULL)
		return (NULL);
	it->kind = kind;
	it->len = n;
	memcpy(it->data, p, n);
	return (it);
}

static void
pgstate_items_clear(struct pgstate *st, struct pgstate_items *l, int kind)
{
	struct pgstate_item	*it, *next;

	for (it = TAILQ_FIRST(l); it != NULL; it = next) {
		next = TAILQ_NEXT(it, entry);
		if (kind >= 0 && it->kind != (enum pgstate_kind)kind)
			continue;
		TAILQ_REMOVE(l, it, entry);
		if (l == &st->items) {
			st->nitems--;
			st->bytes -= it->len;
		}
		pgstate_item_free(it);
	}
}

void
pgstate_scram_wipe(struct pgstate *st)
{
	int	i;

	for (i = 0; i < 3; i++) {
		if (st->scram[i] != NULL) {
			OPENSSL_cleanse(st->scram[i], st->scram_len[i]);
			free(st->scram[i]);
		}
		st->scram[i] = NULL;
		st->scram_len[i] = 0;
	}
}

void
pgstate_free(struct pgstate *st)
{
	int	i;

	pgstate_items_clear(st, &st->items, -1);
	pgstate_items_clear(st, &st->pending, -1);
	pgstate_item_free(st->unnamed);
	st->unnamed = NULL;
	while (st->nops > 0) {
		pgstate_item_free(st->fifo[st->head].text);
		st->head = (st->head + 1) % PGSTATE_FIFO;
		st->nops--;
	}
	pgstate_scram_wipe(st);
	for (i = 0; i < 2; i++) {
		if (st->m[i].buf != NULL)
			OPENSSL_cleanse(st->m[i].buf, st->m[i].bcap);
		free(st->m[i].buf);
		st->m[i].buf = NULL;
	}
}

static void
pgstate_lose(struct pgstate *st, const char *why)
{
	if (st->why == NULL)
		st->why = why;
}

const char *
pgstate_why(const struct pgstate *st)
{
	if (st->why != NULL)
		return (st->why);
	if (!st->ready)
		return ("starting up");
	if (st->login == PGSTATE_LOGIN_OTHER)
		return ("it logged in with a method postern cannot repeat");
	if (!TAILQ_EMPTY(&st->pending))
		return ("a SET is not committed yet");
	return (NULL);
}

const char *
pgstate_param(const struct pgstate *st, size_t i)
{
	return (i < PGSTATE_NPARAMS && st->have[i] ? st->param[i] : NULL);
}

/* A word of a query said the session cannot be resumed. */
static void
pgstate_scan(struct pgstate *st, struct pgstate_msg *m, const uint8_t *p,
    size_t n)
{
	const char	*why = pgsql_scan(&m->scan, p, n);

	if (why != NULL)
		pgstate_lose(st, why);
}

/* A text worth keeping for its tag: a SET, RESET or DEALLOCATE alone. */
static struct pgstate_item *
pgstate_text(const uint8_t *p, size_t n)
{
	enum pgsql_stmt	k;

	if (n > 0 && p[n - 1] == '\0')
		n--;
	if (n > PGSTATE_QUERY_MAX)
		return (NULL);
	k = pgsql_classify(p, n);
	if (k == PGSQL_OTHER || k == PGSQL_STATE || memchr(p, '\0', n) != NULL ||
	    !pgsql_single(p, n))
		return (NULL);
	return (pgstate_item_new(PGSTATE_SET, p, n));
}

static struct pgstate_op *
pgstate_push(struct pgstate *st, uint8_t op)
{
	struct pgstate_op	*o;

	if (st->nops == PGSTATE_FIFO) {
		pgstate_lose(st, "too many messages in flight to follow");
		return (NULL);
	}
	o = &st->fifo[(st->head + st->nops++) % PGSTATE_FIFO];
	memset(o, 0, sizeof(*o));
	o->op = op;
	return (o);
}

static struct pgstate_op *
pgstate_head(struct pgstate *st)
{
	return (st->nops > 0 ? &st->fifo[st->head] : NULL);
}

static void
pgstate_pop(struct pgstate *st)
{
	if (st->nops == 0)
		return;
	pgstate_item_free(st->fifo[st->head].text);
	st->fifo[st->head].text = NULL;
	st->head = (st->head + 1) % PGSTATE_FIFO;
	st->nops--;
}

static void
pgstate_record(struct pgstate *st, struct pgstate_item *it)
{
	if (st->nitems >= PGSTATE_MAX_ITEMS ||
	    st->bytes + it->len > PGSTATE_MAX_BYTES) {
		pgstate_item_free(it);
		pgstate_lose(st, "more session state than postern records");
		return;
	}
	TAILQ_INSERT_TAIL(&st->items, it, entry);
	st->nitems++;
	st->bytes += it->len;
	st->gen++;
}

/* The named statement's Parse, or NULL. */
static struct pgstate_item *
pgstate_find(struct pgstate *st, const char *name)
{
	struct pgstate_item	*it;

	TAILQ_FOREACH(it, &st->items, entry)
		if (it->kind == PGSTATE_PARSE &&
		    strcmp((const char *)it->data, name) == 0)
			return (it);
	return (NULL);
}

static void
pgstate_forget(struct pgstate *st, const char *name)
{
	struct pgstate_item	*it;

	if ((it = pgstate_find(st, name)) == NULL)
		return;
	TAILQ_REMOVE(&st->items, it, entry);
	st->nitems--;
	st->bytes -= it->len;
	pgstate_item_free(it);
	st->gen++;
}

/* DEALLOCATE [PREPARE] name: name as the server folds it. */
static void
pgstate_deallocate(struct pgstate *st, const struct pgstate_item *t)
{
	char	name[128];

	if (pgsql_deallocate_name((const char *)t->data, t->len, name,
	    sizeof(name)) != 0) {
		pgstate_lose(st, "a DEALLOCATE postern cannot read");
		return;
	}
	pgstate_forget(st, name);
}

/* CommandComplete: what the statement it answers did. */
static void
pgstate_tag(struct pgstate *st, const char *tag)
{
	struct pgstate_op	*o = pgstate_head(st);
	struct pgstate_item	*t = NULL, *it;
	enum pgsql_stmt	 k = PGSQL_OTHER;

	/* Tags of state start with S, R, D, P or L; most are SELECT. */
	if ((tag[0] != 'S' && tag[0] != 'R' && tag[0] != 'D' &&
	    tag[0] != 'P' && tag[0] != 'L') || strncmp(tag, "SELECT", 6) == 0)
		goto out;
	if (o != NULL && (o->op == 'Q' || o->op == 'E'))
		t = o->text;
	if (t != NULL)
		k = pgsql_classify(t->data, t->len);
	if (strcmp(tag, "SET") == 0 || strcmp(tag, "RESET") == 0) {
		if (k == PGSQL_SET_LOCAL)
			;
		else if (k == PGSQL_RESET_ALL) {
			if ((it = pgstate_item_new(PGSTATE_SET, t->data,
			    t->len)) != NULL) {
				it->reset_all = 1;
				TAILQ_INSERT_TAIL(&st->pending, it, entry);
			}
		} else if (k == PGSQL_SET || k == PGSQL_RESET) {
			if ((it = pgstate_item_new(PGSTATE_SET, t->data,
			    t->len)) != NULL)
				TAILQ_INSERT_TAIL(&st->pending, it, entry);
			else
				pgstate_lose(st, "out of memory");
		} else
			pgstate_lose(st, "a SET among other statements, or "
			    "one postern could not read");
	} else if (strcmp(tag, "DISCARD ALL") == 0) {
		pgstate_items_clear(st, &st->items, -1);
		pgstate_items_clear(st, &st->pending, -1);
		st->gen++;
	} else if (strcmp(tag, "DEALLOCATE ALL") == 0) {
		pgstate_items_clear(st, &st->items, PGSTATE_PARSE);
		st->gen++;
	} else if (strcmp(tag, "DEALLOCATE") == 0) {
		if (k == PGSQL_DEALLOCATE)
			pgstate_deallocate(st, t);
		else
			pgstate_lose(st, "a DEALLOCATE among other "
			    "statements");
	} else if (strcmp(tag, "PREPARE") == 0)
		pgstate_lose(st, "SQL PREPARE (not recorded)");
	else if (strcmp(tag, "LOAD") == 0)
		pgstate_lose(st, "LOAD");
	else if (strncmp(tag, "ROLLBACK", 8) == 0)
		st->txrollback = 1;
	else if (strcmp(tag, "SAVEPOINT") == 0 || strcmp(tag, "RELEASE") == 0)
		st->txsavepoint = 1;
out:
	if (o != NULL && o->op == 'E')
		pgstate_pop(st);
}

/* ReadyForQuery: the Sync or query at the head is answered. */
static void
pgstate_ready(struct pgstate *st, uint8_t status)
{
	struct pgstate_op	*o;
	struct pgstate_item	*it;
	uint8_t			 op = 0;

	st->ready = 1;
	while ((o = pgstate_head(st)) != NULL && op != 'S' && op != 'Q' &&
	    op != 'F') {
		op = o->op;
		pgstate_pop(st);
	}
	if (status != 'I')
		return;
	if (!TAILQ_EMPTY(&st->pending)) {
		if (st->txsavepoint)
			pgstate_lose(st, "a SET in a transaction with "
			    "savepoints");
		else if (st->txerr || st->txrollback)
			pgstate_items_clear(st, &st->pending, -1);
		while ((it = TAILQ_FIRST(&st->pending)) != NULL) {
			TAILQ_REMOVE(&st->pending, it, entry);
			if (it->reset_all) {
				pgstate_items_clear(st, &st->items,
				    PGSTATE_SET);
				st->gen++;
				pgstate_item_free(it);
			} else
				pgstate_record(st, it);
		}
	}
	st->txerr = st->txrollback = st->txsavepoint = 0;
}

/* The login, as the startup passes (the messages kept for SCRAM). */
static void
pgstate_keep(struct pgstate *st, int i, const uint8_t *p, size_t n)
{
	if (n > PGSTATE_SCRAM_MAX || st->scram[i] != NULL ||
	    (st->scram[i] = malloc(n + 1)) == NULL) {
		st->login = PGSTATE_LOGIN_OTHER;
		return;
	}
	memcpy(st->scram[i], p, n);
	st->scram[i][n] = '\0';
	st->scram_len[i] = n;
}

static void
pgstate_auth_server(struct pgstate *st, const uint8_t *p, size_t n)
{
	uint32_t	code;

	if (n < 4)
		return;
	memcpy(&code, p, 4);
	code = ntohl(code);
	switch (code) {
	case 0:
		if (st->auth == 12 && st->scram_ok)
			st->login = PGSTATE_LOGIN_SCRAM;
		else if (st->auth == 5)
			st->login = PGSTATE_LOGIN_MD5;
		else if (st->auth == 3)
			st->login = PGSTATE_LOGIN_PASSWORD;
		else if (st->auth == 0)
			st->login = PGSTATE_LOGIN_TRUST;
		else
			st->login = PGSTATE_LOGIN_OTHER;
		return;
	case 11:
		pgstate_keep(st, 1, p + 4, n - 4);
		break;
	case 12:
		st->scram_ok = st->scram[0] != NULL && st->scram[1] != NULL &&
		    st->scram[2] != NULL;
		break;
	}
	st->auth = code;
}

static void
pgstate_auth_client(struct pgstate *st, const uint8_t *p, size_t n)
{
	const uint8_t	*z;
	uint32_t	 len;

	if (st->auth == 10) {		/* SASLInitialResponse */
		if ((z = memchr(p, '\0', n)) == NULL ||
		    strcmp((const char *)p, "SCRAM-SHA-256") != 0 ||
		    (size_t)(z + 5 - p) > n) {
			st->login = PGSTATE_LOGIN_OTHER;
			return;
		}
		memcpy(&len, z + 1, 4);
		len = ntohl(len);
		if (len != n - (size_t)(z + 5 - p)) {
			st->login = PGSTATE_LOGIN_OTHER;
			return;
		}
		pgstate_keep(st, 0, z + 5, len);
	} else if (st->auth == 11)	/* SASLResponse */
		pgstate_keep(st, 2, p, n);
}

/* ParameterStatus: name, value. */
static void
pgstate_param_status(struct pgstate *st, const uint8_t *p, size_t n)
{
	const uint8_t	*z;
	size_t		 i, vlen;

	if ((z = memchr(p, '\0', n)) == NULL)
		return;
	for (i = 0; i < PGSTATE_NPARAMS; i++) {
		if (strcmp((const char *)p, pgstate_param_names[i]) != 0)
			continue;
		vlen = strnlen((const char *)z + 1, n - (size_t)(z + 1 - p));
		if (vlen >= PGSTATE_VALUE_MAX)
			vlen = PGSTATE_VALUE_MAX - 1;
		if (!st->have[i] || strlen(st->param[i]) != vlen ||
		    memcmp(st->param[i], z + 1, vlen) != 0)
			st->gen++;
		memcpy(st->param[i], z + 1, vlen);
		st->param[i][vlen] = '\0';
		st->have[i] = 1;
	}
}

/* A client message, whole (or its first m->blen bytes). */
static void
pgstate_client(struct pgstate *st, uint8_t type, const uint8_t *p,
    size_t n, uint32_t len)
{
	struct pgstate_op	*o;
	const uint8_t		*z, *q;
	size_t			 qn, l;

	switch (type) {
	case 'p':
		if (!st->ready)
			pgstate_auth_client(st, p, n);
		return;
	case 'Q':
		if ((o = pgstate_push(st, 'Q')) != NULL && n == len)
			o->text = pgstate_text(p, n);
		return;
	case 'F':
		pgstate_lose(st, "a function call message");
		(void)pgstate_push(st, 'F');
		return;
	case 'S':
		(void)pgstate_push(st, 'S');
		return;
	case 'E':
		if ((o = pgstate_push(st, 'E')) != NULL && st->unnamed != NULL)
			o->text = pgstate_item_new(PGSTATE_SET,
			    st->unnamed->data, st->unnamed->len);
		return;
	case 'C':
		if ((o = pgstate_push(st, 'C')) == NULL)
			return;
		if (n != len || n < 2 || memchr(p + 1, '\0', n - 1) == NULL) {
			pgstate_lose(st, "a Close postern cannot read");
			return;
		}
		o->stmt = p[0] == 'S' && p[1] != '\0';
		if (o->stmt)
			o->text = pgstate_item_new(PGSTATE_PARSE, p + 1,
			    strlen((const char *)p + 1));
		return;
	case 'P':
		break;
	default:
		return;
	}
	/* Parse: name, query, parameter types. */
	if ((o = pgstate_push(st, 'P')) == NULL)
		return;
	if (n < len || (z = memchr(p, '\0', n)) == NULL) {
		/* Too long to keep: named (or cut) is not resumable. */
		if (n == 0 || p[0] != '\0')
			o->toolong = 1;
		return;
	}
	q = z + 1;
	qn = n - (size_t)(q - p);
	if ((l = strnlen((const char *)q, qn)) == qn) {
		pgstate_lose(st, "a malformed Parse");
		return;
	}
	if (p[0] == '\0') {
		pgstate_item_free(st->unnamed);
		st->unnamed = pgstate_text(q, l);
		return;
	}
	switch (pgsql_classify(q, l)) {
	case PGSQL_OTHER:
	case PGSQL_SET_LOCAL:
		o->text = pgstate_item_new(PGSTATE_PARSE, p, n);
		return;
	default:
		pgstate_lose(st, "a named prepared SET, DEALLOCATE or "
		    "DISCARD");
		return;
	}
}

/* A server message, whole (or its first bytes). */
static void
pgstate_server(struct pgstate *st, uint8_t type, const uint8_t *p,
    size_t n)
{
	struct pgstate_op	*o = pgstate_head(st);
	char			 tag[32];

	switch (type) {
	case 'R':
		if (!st->ready)
			pgstate_auth_server(st, p, n);
		return;
	case 'S':
		pgstate_param_status(st, p, n);
		return;
	case 'Z':
		if (n >= 1)
			pgstate_ready(st, p[0]);
		return;
	case 'C':
		n = strnlen((const char *)p, n < sizeof(tag) - 1 ? n :
		    sizeof(tag) - 1);
		memcpy(tag, p, n);
		tag[n] = '\0';
		pgstate_tag(st, tag);
		return;
	case 'I':
	case 's':
		if (o != NULL && o->op == 'E')
			pgstate_pop(st);
		return;
	case 'E':
		st->txerr = 1;
		if (o != NULL && o->op == 'Q')
			o->err = 1;
		return;
	case '1':
		if (o == NULL || o->op != 'P') {
			pgstate_lose(st, "a ParseComplete postern did not "
			    "expect");
			return;
		}
		if (o->toolong)
			pgstate_lose(st, "a prepared statement too long to "
			    "record");
		else if (o->text != NULL) {
			pgstate_record(st, o->text);
			o->text = NULL;
		}
		pgstate_pop(st);
		return;
	case '3':
		if (o == NULL || o->op != 'C') {
			pgstate_lose(st, "a CloseComplete postern did not "
			    "expect");
			return;
		}
		if (o->text != NULL)
			pgstate_forget(st, (const char *)o->text->data);
		pgstate_pop(st);
		return;
	}
}

/* Which messages are read, and how much of them is kept. */
static size_t
pgstate_keep_max(int dir, uint8_t type, int ready)
{
	if (dir == PGSTATE_CLIENT)
		switch (type) {
		case 'Q':
			return (PGSTATE_QUERY_MAX + 1);
		case 'P':
			return (PGSTATE_PARSE_MAX);
		case 'C':
			return (256);
		case 'p':
			return (ready ? 0 : PGSTATE_SCRAM_MAX + 64);
		case 'E': case 'S': case 'F':
			return (1);
		default:
			return (0);
		}
	switch (type) {
	case 'R':
		return (ready ? 0 : PGSTATE_SCRAM_MAX + 4);
	case 'S':
		return (PGSTATE_VALUE_MAX + 64);
	case 'C':
		return (32);
	case 'Z': case 'I': case 's': case 'E': case '1': case '3':
		return (8);
	default:
		return (0);
	}
}

void
pgstate_begin(struct pgstate *st, int dir, uint8_t type, uint32_t len)
{
	struct pgstate_msg	*m = &st->m[dir];

	m->type = type;
	m->len = len;
	m->blen = 0;
	m->scan.wlen = 0;
	m->direct = NULL;
	m->bmax = pgstate_keep_max(dir, type, st->ready);
	m->want = m->bmax > 0;
}

void
pgstate_body(struct pgstate *st, int dir, const uint8_t *p, size_t n)
{
	struct pgstate_msg	*m = &st->m[dir];
	size_t			 k, cap;
	uint8_t			*b;

	if (!m->want)
		return;
	if (dir == PGSTATE_CLIENT && (m->type == 'Q' || m->type == 'P'))
		pgstate_scan(st, m, p, n);
	k = m->bmax - m->blen < n ? m->bmax - m->blen : n;
	if (k == 0)
		return;
	if (m->blen + k > m->bcap) {
		cap = m->bcap == 0 ? 256 : m->bcap;
		while (cap < m->blen + k)
			cap *= 2;
		if ((b = malloc(cap)) == NULL) {
			pgstate_lose(st, "out of memory");
			m->want = 0;
			return;
		}
		if (m->buf != NULL) {
			memcpy(b, m->buf, m->blen);
			OPENSSL_cleanse(m->buf, m->bcap);
			free(m->buf);
		}
		m->buf = b;
		m->bcap = cap;
	}
	memcpy(m->buf + m->blen, p, k);
	m->blen += k;
}

void
pgstate_end(struct pgstate *st, int dir)
{
	struct pgstate_msg	*m = &st->m[dir];
	static const uint8_t	 none[1];
	const uint8_t		*p = m->direct != NULL ? m->direct :
				     m->buf != NULL ? m->buf : none;
	size_t			 n = m->direct != NULL ? m->len : m->blen;
	const char		*w;

	if (!m->want)
		return;
	if (dir == PGSTATE_CLIENT) {
		if ((w = pgsql_scan_end(&m->scan)) != NULL)
			pgstate_lose(st, w);
		pgstate_client(st, m->type, p, n, m->len);
	} else
		pgstate_server(st, m->type, p, n);
	if (m->blen > 0)
		OPENSSL_cleanse(m->buf, m->blen);
	m->blen = 0;
	m->direct = NULL;
}

void
pgstate_msg(struct pgstate *st, int dir, uint8_t type, const uint8_t *body,
    uint32_t len)
{
	struct pgstate_msg	*m = &st->m[dir];

	pgstate_begin(st, dir, type, len);
	if (!m->want)
		return;
	if (len <= m->bmax) {
		if (dir == PGSTATE_CLIENT && (type == 'Q' || type == 'P'))
			pgstate_scan(st, m, body, len);
		m->direct = body;
	} else
		pgstate_body(st, dir, body, len);
	pgstate_end(st, dir);
}

/* One protocol message into out. */
static void
pgstate_put(struct evbuffer *out, uint8_t type, const void *p, size_t n,
    int nul)
{
	uint32_t	len = htonl((uint32_t)(4 + n + (nul ? 1 : 0)));

	evbuffer_add(out, &type, 1);
	evbuffer_add(out, &len, 4);
	evbuffer_add(out, p, n);
	if (nul)
		evbuffer_add(out, "", 1);
}

int
pgstate_replay(const struct pgstate *st, struct evbuffer *out, char *names,
    size_t nlen)
{
	const struct pgstate_item	*it;
	int				 nz = 0, nset = 0, nparse = 0;

	TAILQ_FOREACH(it, &st->items, entry) {
		if (it->kind == PGSTATE_SET) {
			pgstate_put(out, 'Q', it->data, it->len, 1);
			nset++;
		} else {
			pgstate_put(out, 'P', it->data, it->len, 0);
			pgstate_put(out, 'S', NULL, 0, 0);
			nparse++;
		}
		nz++;
	}
	snprintf(names, nlen, "%d SET, %d prepared statement%s", nset,
	    nparse, nparse == 1 ? "" : "s");
	return (nz);
}
