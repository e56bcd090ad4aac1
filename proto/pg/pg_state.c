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

#define PG_STATE_QUERY_MAX	4096	/* a SET's text kept */
#define PG_STATE_PARSE_MAX	65536	/* a named Parse kept */

const char *const pg_state_param_names[PG_STATE_NPARAMS] = {
	"server_encoding", "client_encoding", "DateStyle", "IntervalStyle",
	"TimeZone", "integer_datetimes", "standard_conforming_strings",
	"server_version"
};

const uint8_t pg_state_types[2][256] = {
	[PG_STATE_CLIENT] = { ['Q'] = 1, ['P'] = 1, ['C'] = 1, ['p'] = 1,
	    ['E'] = 1, ['S'] = 1, ['F'] = 1 },
	[PG_STATE_SERVER] = { ['R'] = 1, ['S'] = 1, ['C'] = 1, ['Z'] = 1,
	    ['I'] = 1, ['s'] = 1, ['E'] = 1, ['1'] = 1, ['3'] = 1 }
};


void
pg_state_init(struct pg_state *st)
{
	memset(st, 0, sizeof(*st));
	TAILQ_INIT(&st->items);
	TAILQ_INIT(&st->pending);
}

static void
pg_state_item_free(struct pg_state_item *it)
{
	if (it != NULL) {
		OPENSSL_cleanse(it->data, it->len);
		free(it);
	}
}

static struct pg_state_item *
pg_state_item_new(enum pg_state_kind kind, const uint8_t *p, size_t n)
{
	struct pg_state_item	*it;

	if ((it = calloc(1, sizeof(*it) + n + 1)) == NULL)
		return (NULL);
	it->kind = kind;
	it->len = n;
	memcpy(it->data, p, n);
	return (it);
}

static void
pg_state_items_clear(struct pg_state *st, struct pg_state_items *l, int kind)
{
	struct pg_state_item	*it, *next;

	for (it = TAILQ_FIRST(l); it != NULL; it = next) {
		next = TAILQ_NEXT(it, entry);
		if (kind >= 0 && it->kind != (enum pg_state_kind)kind)
			continue;
		TAILQ_REMOVE(l, it, entry);
		if (l == &st->items) {
			st->nitems--;
			st->bytes -= it->len;
		}
		pg_state_item_free(it);
	}
}

void
pg_state_scram_wipe(struct pg_state *st)
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
pg_state_free(struct pg_state *st)
{
	int	i;

	pg_state_items_clear(st, &st->items, -1);
	pg_state_items_clear(st, &st->pending, -1);
	pg_state_item_free(st->unnamed);
	st->unnamed = NULL;
	while (st->nops > 0) {
		pg_state_item_free(st->fifo[st->head].text);
		st->head = (st->head + 1) % PG_STATE_FIFO;
		st->nops--;
	}
	pg_state_scram_wipe(st);
	for (i = 0; i < 2; i++) {
		if (st->m[i].buf != NULL)
			OPENSSL_cleanse(st->m[i].buf, st->m[i].bcap);
		free(st->m[i].buf);
		st->m[i].buf = NULL;
	}
}

static void
pg_state_lose(struct pg_state *st, const char *why)
{
	if (st->why == NULL)
		st->why = why;
}

const char *
pg_state_why(const struct pg_state *st)
{
	if (st->why != NULL)
		return (st->why);
	if (!st->ready)
		return ("starting up");
	if (st->login == PG_STATE_LOGIN_OTHER)
		return ("it logged in with a method postern cannot repeat");
	if (!TAILQ_EMPTY(&st->pending))
		return ("a SET is not committed yet");
	return (NULL);
}

const char *
pg_state_param(const struct pg_state *st, size_t i)
{
	return (i < PG_STATE_NPARAMS && st->have[i] ? st->param[i] : NULL);
}

/* A word of a query said the session cannot be resumed. */
static void
pg_state_scan(struct pg_state *st, struct pg_state_msg *m, const uint8_t *p,
    size_t n)
{
	const char	*why = pg_sql_scan(&m->scan, p, n);

	if (why != NULL)
		pg_state_lose(st, why);
}

/* A text worth keeping for its tag: a SET, RESET or DEALLOCATE alone. */
static struct pg_state_item *
pg_state_text(const uint8_t *p, size_t n)
{
	enum pg_sql_stmt	k;

	if (n > 0 && p[n - 1] == '\0')
		n--;
	if (n > PG_STATE_QUERY_MAX)
		return (NULL);
	k = pg_sql_classify(p, n);
	if (k == PG_SQL_OTHER || k == PG_SQL_STATE || memchr(p, '\0', n) != NULL ||
	    !pg_sql_single(p, n))
		return (NULL);
	return (pg_state_item_new(PG_STATE_SET, p, n));
}

static struct pg_state_op *
pg_state_push(struct pg_state *st, uint8_t op)
{
	struct pg_state_op	*o;

	if (st->nops == PG_STATE_FIFO) {
		pg_state_lose(st, "too many messages in flight to follow");
		return (NULL);
	}
	o = &st->fifo[(st->head + st->nops++) % PG_STATE_FIFO];
	memset(o, 0, sizeof(*o));
	o->op = op;
	return (o);
}

static struct pg_state_op *
pg_state_head(struct pg_state *st)
{
	return (st->nops > 0 ? &st->fifo[st->head] : NULL);
}

static void
pg_state_pop(struct pg_state *st)
{
	if (st->nops == 0)
		return;
	pg_state_item_free(st->fifo[st->head].text);
	st->fifo[st->head].text = NULL;
	st->head = (st->head + 1) % PG_STATE_FIFO;
	st->nops--;
}

static void
pg_state_record(struct pg_state *st, struct pg_state_item *it)
{
	if (st->nitems >= PG_STATE_MAX_ITEMS ||
	    st->bytes + it->len > PG_STATE_MAX_BYTES) {
		pg_state_item_free(it);
		pg_state_lose(st, "more session state than postern records");
		return;
	}
	TAILQ_INSERT_TAIL(&st->items, it, entry);
	st->nitems++;
	st->bytes += it->len;
	st->gen++;
}

/* The named statement's Parse, or NULL. */
static struct pg_state_item *
pg_state_find(struct pg_state *st, const char *name)
{
	struct pg_state_item	*it;

	TAILQ_FOREACH(it, &st->items, entry)
		if (it->kind == PG_STATE_PARSE &&
		    strcmp((const char *)it->data, name) == 0)
			return (it);
	return (NULL);
}

static void
pg_state_forget(struct pg_state *st, const char *name)
{
	struct pg_state_item	*it;

	if ((it = pg_state_find(st, name)) == NULL)
		return;
	TAILQ_REMOVE(&st->items, it, entry);
	st->nitems--;
	st->bytes -= it->len;
	pg_state_item_free(it);
	st->gen++;
}

/* DEALLOCATE [PREPARE] name: name as the server folds it. */
static void
pg_state_deallocate(struct pg_state *st, const struct pg_state_item *t)
{
	char	name[128];

	if (pg_sql_deallocate_name((const char *)t->data, t->len, name,
	    sizeof(name)) != 0) {
		pg_state_lose(st, "a DEALLOCATE postern cannot read");
		return;
	}
	pg_state_forget(st, name);
}

/* CommandComplete: what the statement it answers did. */
static void
pg_state_tag(struct pg_state *st, const char *tag)
{
	struct pg_state_op	*o = pg_state_head(st);
	struct pg_state_item	*t = NULL, *it;
	enum pg_sql_stmt	 k = PG_SQL_OTHER;

	/* Tags of state start with S, R, D, P or L; most are SELECT. */
	if ((tag[0] != 'S' && tag[0] != 'R' && tag[0] != 'D' &&
	    tag[0] != 'P' && tag[0] != 'L') || strncmp(tag, "SELECT", 6) == 0)
		goto out;
	if (o != NULL && (o->op == 'Q' || o->op == 'E'))
		t = o->text;
	if (t != NULL)
		k = pg_sql_classify(t->data, t->len);
	if (strcmp(tag, "SET") == 0 || strcmp(tag, "RESET") == 0) {
		if (k == PG_SQL_SET_LOCAL)
			;
		else if (k == PG_SQL_RESET_ALL) {
			if ((it = pg_state_item_new(PG_STATE_SET, t->data,
			    t->len)) != NULL) {
				it->reset_all = 1;
				TAILQ_INSERT_TAIL(&st->pending, it, entry);
			}
		} else if (k == PG_SQL_SET || k == PG_SQL_RESET) {
			if ((it = pg_state_item_new(PG_STATE_SET, t->data,
			    t->len)) != NULL)
				TAILQ_INSERT_TAIL(&st->pending, it, entry);
			else
				pg_state_lose(st, "out of memory");
		} else
			pg_state_lose(st, "a SET among other statements, or "
			    "one postern could not read");
	} else if (strcmp(tag, "DISCARD ALL") == 0) {
		pg_state_items_clear(st, &st->items, -1);
		pg_state_items_clear(st, &st->pending, -1);
		st->gen++;
	} else if (strcmp(tag, "DEALLOCATE ALL") == 0) {
		pg_state_items_clear(st, &st->items, PG_STATE_PARSE);
		st->gen++;
	} else if (strcmp(tag, "DEALLOCATE") == 0) {
		if (k == PG_SQL_DEALLOCATE)
			pg_state_deallocate(st, t);
		else
			pg_state_lose(st, "a DEALLOCATE among other "
			    "statements");
	} else if (strcmp(tag, "DO") == 0)
		/* Its body runs as plpgsql: a SET there is the session's,
		 * as are a LISTEN or an EXECUTE 'PREPARE ...', none of which
		 * a tag or the word scan tells. */
		pg_state_lose(st, "a DO block (it may SET, LISTEN or "
		    "PREPARE inside)");
	else if (strcmp(tag, "PREPARE") == 0)
		pg_state_lose(st, "SQL PREPARE (not recorded)");
	else if (strcmp(tag, "LOAD") == 0)
		pg_state_lose(st, "LOAD");
	else if (strncmp(tag, "ROLLBACK", 8) == 0)
		st->txrollback = 1;
	else if (strcmp(tag, "SAVEPOINT") == 0 || strcmp(tag, "RELEASE") == 0)
		st->txsavepoint = 1;
out:
	if (o != NULL && o->op == 'E')
		pg_state_pop(st);
}

/*
 * RESET ALL committed: every SET goes but those of the role and the
 * session authorization, which PostgreSQL keeps (a session that dropped
 * privileges with SET ROLE, then RESET ALL, must not get them back on
 * the new backend).
 */
static void
pg_state_reset_all(struct pg_state *st)
{
	struct pg_state_item	*it, *next;

	for (it = TAILQ_FIRST(&st->items); it != NULL; it = next) {
		next = TAILQ_NEXT(it, entry);
		if (it->kind != PG_STATE_SET || pg_sql_role(it->data, it->len))
			continue;
		TAILQ_REMOVE(&st->items, it, entry);
		st->nitems--;
		st->bytes -= it->len;
		pg_state_item_free(it);
	}
}

/* ReadyForQuery: the Sync or query at the head is answered. */
static void
pg_state_ready(struct pg_state *st, uint8_t status)
{
	struct pg_state_op	*o;
	struct pg_state_item	*it;
	uint8_t			 op = 0;

	st->ready = 1;
	while ((o = pg_state_head(st)) != NULL && op != 'S' && op != 'Q' &&
	    op != 'F') {
		op = o->op;
		pg_state_pop(st);
	}
	if (status != 'I')
		return;
	if (!TAILQ_EMPTY(&st->pending)) {
		if (st->txsavepoint)
			pg_state_lose(st, "a SET in a transaction with "
			    "savepoints");
		else if (st->txerr || st->txrollback)
			pg_state_items_clear(st, &st->pending, -1);
		while ((it = TAILQ_FIRST(&st->pending)) != NULL) {
			TAILQ_REMOVE(&st->pending, it, entry);
			if (it->reset_all) {
				pg_state_reset_all(st);
				st->gen++;
				pg_state_item_free(it);
			} else
				pg_state_record(st, it);
		}
	}
	st->txerr = st->txrollback = st->txsavepoint = 0;
}

/* The login, as the startup passes (the messages kept for SCRAM). */
static void
pg_state_keep(struct pg_state *st, int i, const uint8_t *p, size_t n)
{
	if (n > PG_STATE_SCRAM_MAX || st->scram[i] != NULL ||
	    (st->scram[i] = malloc(n + 1)) == NULL) {
		st->login = PG_STATE_LOGIN_OTHER;
		return;
	}
	memcpy(st->scram[i], p, n);
	st->scram[i][n] = '\0';
	st->scram_len[i] = n;
}

static void
pg_state_auth_server(struct pg_state *st, const uint8_t *p, size_t n)
{
	uint32_t	code;

	if (n < 4)
		return;
	memcpy(&code, p, 4);
	code = ntohl(code);
	switch (code) {
	case 0:
		if (st->auth == 12 && st->scram_ok)
			st->login = PG_STATE_LOGIN_SCRAM;
		else if (st->auth == 5)
			st->login = PG_STATE_LOGIN_MD5;
		else if (st->auth == 3)
			st->login = PG_STATE_LOGIN_PASSWORD;
		else if (st->auth == 0)
			st->login = PG_STATE_LOGIN_TRUST;
		else
			st->login = PG_STATE_LOGIN_OTHER;
		return;
	case 11:
		pg_state_keep(st, 1, p + 4, n - 4);
		break;
	case 12:
		st->scram_ok = st->scram[0] != NULL && st->scram[1] != NULL &&
		    st->scram[2] != NULL;
		break;
	}
	st->auth = code;
}

static void
pg_state_auth_client(struct pg_state *st, const uint8_t *p, size_t n)
{
	const uint8_t	*z;
	uint32_t	 len;

	if (st->auth == 10) {		/* SASLInitialResponse */
		if ((z = memchr(p, '\0', n)) == NULL ||
		    strcmp((const char *)p, "SCRAM-SHA-256") != 0 ||
		    (size_t)(z + 5 - p) > n) {
			st->login = PG_STATE_LOGIN_OTHER;
			return;
		}
		memcpy(&len, z + 1, 4);
		len = ntohl(len);
		if (len != n - (size_t)(z + 5 - p)) {
			st->login = PG_STATE_LOGIN_OTHER;
			return;
		}
		pg_state_keep(st, 0, z + 5, len);
	} else if (st->auth == 11)	/* SASLResponse */
		pg_state_keep(st, 2, p, n);
}

/* ParameterStatus: name, value. */
static void
pg_state_param_status(struct pg_state *st, const uint8_t *p, size_t n)
{
	const uint8_t	*z;
	size_t		 i, vlen;

	if ((z = memchr(p, '\0', n)) == NULL)
		return;
	for (i = 0; i < PG_STATE_NPARAMS; i++) {
		if (strcmp((const char *)p, pg_state_param_names[i]) != 0)
			continue;
		vlen = strnlen((const char *)z + 1, n - (size_t)(z + 1 - p));
		if (vlen >= PG_STATE_VALUE_MAX)
			vlen = PG_STATE_VALUE_MAX - 1;
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
pg_state_client(struct pg_state *st, uint8_t type, const uint8_t *p,
    size_t n, uint32_t len)
{
	struct pg_state_op	*o;
	const uint8_t		*z, *q;
	size_t			 qn, l;

	switch (type) {
	case 'p':
		if (!st->ready)
			pg_state_auth_client(st, p, n);
		return;
	case 'Q':
		if ((o = pg_state_push(st, 'Q')) != NULL && n == len)
			o->text = pg_state_text(p, n);
		return;
	case 'F':
		pg_state_lose(st, "a function call message");
		(void)pg_state_push(st, 'F');
		return;
	case 'S':
		(void)pg_state_push(st, 'S');
		return;
	case 'E':
		if ((o = pg_state_push(st, 'E')) != NULL && st->unnamed != NULL)
			o->text = pg_state_item_new(PG_STATE_SET,
			    st->unnamed->data, st->unnamed->len);
		return;
	case 'C':
		if ((o = pg_state_push(st, 'C')) == NULL)
			return;
		if (n != len || n < 2 || memchr(p + 1, '\0', n - 1) == NULL) {
			pg_state_lose(st, "a Close postern cannot read");
			return;
		}
		o->stmt = p[0] == 'S' && p[1] != '\0';
		if (o->stmt)
			o->text = pg_state_item_new(PG_STATE_PARSE, p + 1,
			    strlen((const char *)p + 1));
		return;
	case 'P':
		break;
	default:
		return;
	}
	/* Parse: name, query, parameter types. */
	if ((o = pg_state_push(st, 'P')) == NULL)
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
		pg_state_lose(st, "a malformed Parse");
		return;
	}
	if (p[0] == '\0') {
		pg_state_item_free(st->unnamed);
		st->unnamed = pg_state_text(q, l);
		return;
	}
	switch (pg_sql_classify(q, l)) {
	case PG_SQL_OTHER:
	case PG_SQL_SET_LOCAL:
		o->text = pg_state_item_new(PG_STATE_PARSE, p, n);
		return;
	default:
		pg_state_lose(st, "a named prepared SET, DEALLOCATE or "
		    "DISCARD");
		return;
	}
}

/* A server message, whole (or its first bytes). */
static void
pg_state_server(struct pg_state *st, uint8_t type, const uint8_t *p,
    size_t n)
{
	struct pg_state_op	*o = pg_state_head(st);
	char			 tag[32];

	switch (type) {
	case 'R':
		if (!st->ready)
			pg_state_auth_server(st, p, n);
		return;
	case 'S':
		pg_state_param_status(st, p, n);
		return;
	case 'Z':
		if (n >= 1)
			pg_state_ready(st, p[0]);
		return;
	case 'C':
		n = strnlen((const char *)p, n < sizeof(tag) - 1 ? n :
		    sizeof(tag) - 1);
		memcpy(tag, p, n);
		tag[n] = '\0';
		pg_state_tag(st, tag);
		return;
	case 'I':
	case 's':
		if (o != NULL && o->op == 'E')
			pg_state_pop(st);
		return;
	case 'E':
		st->txerr = 1;
		if (o != NULL && o->op == 'Q')
			o->err = 1;
		return;
	case '1':
		if (o == NULL || o->op != 'P') {
			pg_state_lose(st, "a ParseComplete postern did not "
			    "expect");
			return;
		}
		if (o->toolong)
			pg_state_lose(st, "a prepared statement too long to "
			    "record");
		else if (o->text != NULL) {
			pg_state_record(st, o->text);
			o->text = NULL;
		}
		pg_state_pop(st);
		return;
	case '3':
		if (o == NULL || o->op != 'C') {
			pg_state_lose(st, "a CloseComplete postern did not "
			    "expect");
			return;
		}
		if (o->text != NULL)
			pg_state_forget(st, (const char *)o->text->data);
		pg_state_pop(st);
		return;
	}
}

/* Which messages are read, and how much of them is kept. */
static size_t
pg_state_keep_max(int dir, uint8_t type, int ready)
{
	if (dir == PG_STATE_CLIENT)
		switch (type) {
		case 'Q':
			return (PG_STATE_QUERY_MAX + 1);
		case 'P':
			return (PG_STATE_PARSE_MAX);
		case 'C':
			return (256);
		case 'p':
			return (ready ? 0 : PG_STATE_SCRAM_MAX + 64);
		case 'E': case 'S': case 'F':
			return (1);
		default:
			return (0);
		}
	switch (type) {
	case 'R':
		return (ready ? 0 : PG_STATE_SCRAM_MAX + 4);
	case 'S':
		return (PG_STATE_VALUE_MAX + 64);
	case 'C':
		return (32);
	case 'Z': case 'I': case 's': case 'E': case '1': case '3':
		return (8);
	default:
		return (0);
	}
}

void
pg_state_begin(struct pg_state *st, int dir, uint8_t type, uint32_t len)
{
	struct pg_state_msg	*m = &st->m[dir];

	m->type = type;
	m->len = len;
	m->blen = 0;
	m->scan.wlen = 0;
	m->direct = NULL;
	m->bmax = pg_state_keep_max(dir, type, st->ready);
	m->want = m->bmax > 0;
}

void
pg_state_body(struct pg_state *st, int dir, const uint8_t *p, size_t n)
{
	struct pg_state_msg	*m = &st->m[dir];
	size_t			 k, cap;
	uint8_t			*b;

	if (!m->want)
		return;
	if (dir == PG_STATE_CLIENT && (m->type == 'Q' || m->type == 'P'))
		pg_state_scan(st, m, p, n);
	k = m->bmax - m->blen < n ? m->bmax - m->blen : n;
	if (k == 0)
		return;
	if (m->blen + k > m->bcap) {
		cap = m->bcap == 0 ? 256 : m->bcap;
		while (cap < m->blen + k)
			cap *= 2;
		if ((b = malloc(cap)) == NULL) {
			pg_state_lose(st, "out of memory");
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
pg_state_end(struct pg_state *st, int dir)
{
	struct pg_state_msg	*m = &st->m[dir];
	static const uint8_t	 none[1];
	const uint8_t		*p = m->direct != NULL ? m->direct :
				     m->buf != NULL ? m->buf : none;
	size_t			 n = m->direct != NULL ? m->len : m->blen;
	const char		*w;

	if (!m->want)
		return;
	if (dir == PG_STATE_CLIENT) {
		if ((w = pg_sql_scan_end(&m->scan)) != NULL)
			pg_state_lose(st, w);
		pg_state_client(st, m->type, p, n, m->len);
	} else
		pg_state_server(st, m->type, p, n);
	if (m->blen > 0)
		OPENSSL_cleanse(m->buf, m->blen);
	m->blen = 0;
	m->direct = NULL;
}

void
pg_state_msg(struct pg_state *st, int dir, uint8_t type, const uint8_t *body,
    uint32_t len)
{
	struct pg_state_msg	*m = &st->m[dir];

	pg_state_begin(st, dir, type, len);
	if (!m->want)
		return;
	if (len <= m->bmax) {
		if (dir == PG_STATE_CLIENT && (type == 'Q' || type == 'P'))
			pg_state_scan(st, m, body, len);
		m->direct = body;
	} else
		pg_state_body(st, dir, body, len);
	pg_state_end(st, dir);
}

/* One protocol message into out. */
static void
pg_state_put(struct evbuffer *out, uint8_t type, const void *p, size_t n,
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
pg_state_replay(const struct pg_state *st, struct evbuffer *out, char *names,
    size_t nlen)
{
	const struct pg_state_item	*it;
	int				 nz = 0, nset = 0, nparse = 0;

	TAILQ_FOREACH(it, &st->items, entry) {
		if (it->kind == PG_STATE_SET) {
			pg_state_put(out, 'Q', it->data, it->len, 1);
			nset++;
		} else {
			pg_state_put(out, 'P', it->data, it->len, 0);
			pg_state_put(out, 'S', NULL, 0, 0);
			nparse++;
		}
		nz++;
	}
	snprintf(names, nlen, "%d SET, %d prepared statement%s", nset,
	    nparse, nparse == 1 ? "" : "s");
	return (nz);
}
