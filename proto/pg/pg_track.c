/*
 * pg_track.c: PostgreSQL framing followed both ways (pg_track.h).
 */
#include "config.h"

#include <string.h>

#include "pg_track.h"
#include "pg_state.h"

void
pg_track_init(struct pg_track *t)
{
	memset(t, 0, sizeof(*t));
}

void
pg_track_clear(struct pg_track *t)
{
	pg_listen_clear(&t->listen);
}

/*
 * Advance f over buf: complete the header, then pass the body.  Calls
 * nothing; returns the bytes taken; *header says a header just
 * completed; *body and *blen are the body bytes seen here.
 */
static size_t
pg_frame_step(struct pg_frame *f, const uint8_t *buf, size_t len,
    int *header, const uint8_t **body, size_t *blen, const char **bad)
{
	size_t		n;
	uint32_t	l;

	*header = 0;
	*blen = 0;
	if (f->hlen < 5) {
		n = 5 - f->hlen < len ? 5 - f->hlen : len;
		memcpy(f->hdr + f->hlen, buf, n);
		f->hlen += n;
		if (f->hlen < 5)
			return (n);
		l = (uint32_t)f->hdr[1] << 24 | (uint32_t)f->hdr[2] << 16 |
		    (uint32_t)f->hdr[3] << 8 | f->hdr[4];
		if (l < 4 || l > PG_TRACK_MAX_LEN) {
			*bad = "a message length out of bounds";
			return (len);
		}
		f->left = l - 4;
		f->off = 0;
		*header = 1;
		return (n);
	}
	n = f->left < len ? f->left : len;
	*body = buf;
	*blen = n;
	f->left -= (uint32_t)n;
	f->off += (uint32_t)n;
	return (n);
}

/*
 * The fast path: a whole message at buf, f between messages.  Its length
 * (header and body), or 0 when it is cut or its length is out of bounds:
 * then pg_frame_step takes it.  Nothing is copied: the header is read in
 * place, and the body is skipped by its length.
 */
static inline size_t
pg_frame_whole(const struct pg_frame *f, const uint8_t *buf, size_t len)
{
	uint32_t	l;

	if (f->hlen != 0 || len < 5)
		return (0);
	l = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
	    (uint32_t)buf[3] << 8 | buf[4];
	if (l < 4 || l > PG_TRACK_MAX_LEN || l - 4 > len - 5)
		return (0);
	return ((size_t)l + 1);
}

/*
 * A whole message for pg_state; once the session cannot be resumed (for
 * good), pg_state is not fed any more (whole or in pieces): nothing it
 * reads would change that, and the session pays no more for it.
 */
static void
pg_track_state(struct pg_track *t, int dir, const uint8_t *buf, size_t n)
{
	pg_state_msg(t->st, dir, buf[0], buf + 5, (uint32_t)(n - 5));
	if (t->st->why != NULL)
		t->st = NULL;
}

static void
pg_frame_next(struct pg_frame *f)
{
	if (f->hlen == 5 && f->left == 0)
		f->hlen = 0;
}

/* The client started message type, with len body bytes. */
static void
pg_client_msg(struct pg_track *t, uint8_t type, uint32_t len)
{
	if ((type == 'Q' || type == 'F') && t->batch) {
		/*
		 * Inside an extended batch: after an error there the server
		 * discards everything up to Sync, a query too (no
		 * ReadyForQuery for it), else runs it.  Which, the tracker
		 * cannot tell; libpq's pipeline mode never sends one.
		 */
		t->lost = "a simple query inside an extended-protocol batch";
		return;
	}
	if (type == 'X')
		t->bye = 1;	/* the server's end is expected now */
	switch (type) {
	case 'Q':		/* simple query: one ReadyForQuery */
		pg_listen_query(&t->listen, len, t->syncs == 0 && !t->batch,
		    t->status == 'I');
		t->syncs++;
		break;
	case 'F':		/* function call: one too */
		pg_listen_other(&t->listen);
		t->syncs++;
		break;
	case 'S':		/* Sync ends a batch */
		t->syncs++;
		t->batch = 0;
		break;
	case 'P': case 'B': case 'E': case 'D': case 'C': case 'H':
		pg_listen_other(&t->listen);
		t->batch = 1;
		break;
	default:		/* password, COPY data, Terminate */
		break;
	}
}

void
pg_track_client(struct pg_track *t, const uint8_t *buf, size_t len)
{
	const uint8_t	*body;
	size_t		 n, blen;
	int		 header;

	while (len > 0 && t->lost == NULL) {
		if ((n = pg_frame_whole(&t->c, buf, len)) > 0) {
			pg_client_msg(t, buf[0], (uint32_t)(n - 5));
			if (t->st != NULL &&
			    pg_state_types[PG_STATE_CLIENT][buf[0]])
				pg_track_state(t, PG_STATE_CLIENT, buf, n);
			if (buf[0] == 'Q') {
				pg_listen_text(&t->listen, buf + 5, n - 5);
				pg_listen_query_end(&t->listen);
			}
			buf += n;
			len -= n;
			continue;
		}
		n = pg_frame_step(&t->c, buf, len, &header, &body, &blen,
		    &t->lost);
		if (header)
			pg_client_msg(t, t->c.hdr[0], t->c.left);
		if (t->st != NULL && t->lost == NULL) {
			if (header)
				pg_state_begin(t->st, PG_STATE_CLIENT,
				    t->c.hdr[0], t->c.left);
			if (blen > 0)
				pg_state_body(t->st, PG_STATE_CLIENT, body, blen);
			if (t->c.hlen == 5 && t->c.left == 0) {
				pg_state_end(t->st, PG_STATE_CLIENT);
				if (t->st->why != NULL)
					t->st = NULL;	/* as above */
			}
		}
		if (t->c.hdr[0] == 'Q' && t->lost == NULL) {
			if (blen > 0)
				pg_listen_text(&t->listen, body, blen);
			if (t->c.hlen == 5 && t->c.left == 0)
				pg_listen_query_end(&t->listen);
		}
		pg_frame_next(&t->c);
		buf += n;
		len -= n;
	}
}

/* Body bytes of the server's message type, at offset off. */
static void
pg_server_body(struct pg_track *t, uint8_t type, uint32_t off,
    const uint8_t *p, size_t n)
{
	size_t	i;

	if (type == 'Z' && off == 0 && n > 0) {
		t->status = p[0];
		t->copy = 0;
		if (t->syncs > 0)
			t->syncs--;
		pg_listen_ready(&t->listen, p[0]);
	} else if (type == 'C') {
		for (i = 0; i < n && t->taglen < sizeof(t->tag) - 1; i++)
			t->tag[t->taglen++] = (char)p[i];
		t->tag[t->taglen] = '\0';
	}
}

/* The server's message type ended: what it said. */
static void
pg_server_end(struct pg_track *t, uint8_t type)
{
	if (type == 'C')
		pg_listen_tag(&t->listen, t->tag);
	else if (type == 'E')
		pg_listen_error(&t->listen);
	t->taglen = 0;
	t->tag[0] = '\0';
	t->last = type;
}

void
pg_track_server(struct pg_track *t, const uint8_t *buf, size_t len)
{
	const uint8_t	*body = NULL;
	size_t		 n, blen;
	uint32_t	 off;
	int		 header;
	uint8_t		 type;

	while (len > 0 && t->lost == NULL) {
		if ((n = pg_frame_whole(&t->s, buf, len)) > 0) {
			/* The same steps as below, for a whole message. */
			type = buf[0];
			if (type == 'G' || type == 'H' || type == 'W')
				t->copy = 1;
			if (n > 5)
				pg_server_body(t, type, 0, buf + 5, n - 5);
			pg_server_end(t, type);
			if (t->st != NULL && pg_state_types[PG_STATE_SERVER][type])
				pg_track_state(t, PG_STATE_SERVER, buf, n);
			buf += n;
			len -= n;
			continue;
		}
		off = t->s.off;
		n = pg_frame_step(&t->s, buf, len, &header, &body, &blen,
		    &t->lost);
		type = t->s.hdr[0];
		if (header && (type == 'G' || type == 'H' || type == 'W'))
			t->copy = 1;
		if (blen > 0)
			pg_server_body(t, type, off, body, blen);
		if (t->st != NULL && t->lost == NULL) {
			if (header)
				pg_state_begin(t->st, PG_STATE_SERVER, type,
				    t->s.left);
			if (blen > 0)
				pg_state_body(t->st, PG_STATE_SERVER, body, blen);
		}
		if (t->s.hlen == 5 && t->s.left == 0 && t->lost == NULL) {
			pg_server_end(t, type);
			if (t->st != NULL) {
				pg_state_end(t->st, PG_STATE_SERVER);
				if (t->st->why != NULL)
					t->st = NULL;
			}
		}
		pg_frame_next(&t->s);
		buf += n;
		len -= n;
	}
}

enum pg_safe
pg_track_safe(const struct pg_track *t)
{
	if (t->lost != NULL)
		return (PG_LOST);
	if (t->status != 'I' || t->syncs > 0 || t->batch || t->copy ||
	    t->c.hlen > 0 || t->s.hlen > 0)
		return (PG_BUSY);
	return (pg_listen_on(&t->listen) ? PG_LISTENING : PG_SAFE);
}

const char *
pg_track_why(const struct pg_track *t)
{
	if (t->lost != NULL)
		return (t->lost);
	if (t->status == 0)
		return ("starting up");
	if (t->copy)
		return ("in COPY");
	if (t->status != 'I')
		return ("inside a transaction");
	if (t->syncs > 0 || t->batch || t->c.hlen > 0 || t->s.hlen > 0)
		return ("a query is in progress");
	if (pg_listen_on(&t->listen))
		return ("LISTENing");
	return ("idle");
}
