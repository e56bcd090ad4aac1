/*
 * pg_back.c: find BackendKeyData in the server's startup messages.
 */
#include "config.h"

#include <arpa/inet.h>

#include <string.h>

#include "pg_back.h"

static uint32_t
pg_back_get32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return (ntohl(v));
}

void
pg_back_init(struct pg_back *b)
{
	memset(b, 0, sizeof(*b));
	b->result = PG_BACK_MORE;
}

void
pg_back_wipe(struct pg_back *b)
{
	explicit_bzero(b->body, sizeof(b->body));
}

static int
pg_back_stop(struct pg_back *b, int result, const char *why)
{
	b->result = result;
	b->why = why;
	return (result);
}

/* A whole header is in: decide what to do with the body. */
static int
pg_back_header(struct pg_back *b)
{
	uint32_t	len = pg_back_get32(b->hdr + 1);

	if (len < 4 || len > PG_BACK_MAX)
		return (pg_back_stop(b, PG_BACK_NONE, "bad message length"));
	b->left = len - 4;
	b->blen = 0;
	switch (b->hdr[0]) {
	case 'K':
		/* A pid, then the key: 4 bytes (3.0) to 256 (3.2). */
		if (b->left < 4 + PG_CANCEL_KEY_MIN ||
		    b->left > 4 + PG_CANCEL_KEY_MAX)
			return (pg_back_stop(b, PG_BACK_NONE, "BackendKeyData "
			    "with a key shorter than 4 or longer than 256 "
			    "bytes"));
		break;
	case 'Z':
		return (pg_back_stop(b, PG_BACK_NONE, "ReadyForQuery without "
		    "BackendKeyData"));
	case 'E':
		return (pg_back_stop(b, PG_BACK_NONE, "the server refused the "
		    "session"));
	}
	return (PG_BACK_MORE);
}

int
pg_back_feed(struct pg_back *b, const uint8_t *buf, size_t len)
{
	size_t	i = 0, take;

	while (i < len && b->result == PG_BACK_MORE) {
		if (b->seen >= PG_BACK_MAX)
			return (pg_back_stop(b, PG_BACK_NONE, "no "
			    "BackendKeyData in the first 64 KiB"));
		if (b->hlen < sizeof(b->hdr)) {
			take = sizeof(b->hdr) - b->hlen;
			if (take > len - i)
				take = len - i;
			memcpy(b->hdr + b->hlen, buf + i, take);
			b->hlen += take;
			b->seen += take;
			i += take;
			if (b->hlen == sizeof(b->hdr) &&
			    pg_back_header(b) != PG_BACK_MORE)
				break;
			if (b->hlen < sizeof(b->hdr) || b->left > 0)
				continue;
		} else {
			take = b->left;
			if (take > len - i)
				take = len - i;
			if (b->hdr[0] == 'K')
				memcpy(b->body + b->blen, buf + i, take);
			b->blen += take;
			b->left -= (uint32_t)take;
			b->seen += take;
			i += take;
			if (b->left > 0)
				continue;
		}
		/* A message ended. */
		if (b->hdr[0] == 'K') {
			b->pid = pg_back_get32(b->body);
			b->keylen = b->blen - 4;
			return (pg_back_stop(b, PG_BACK_KEY, NULL));
		}
		b->hlen = 0;
	}
	return (b->result);
}

/* A message's length field (4 bytes, big-endian, counting itself). */
static uint32_t
pg_back_len(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

size_t
pg_back_hide_plus(uint8_t *buf, size_t len)
{
	static const char	 plus[] = "SCRAM-SHA-256-PLUS";
	size_t			 at = 0, end, i, e, drop = 0, m;
	uint32_t		 n;
	int			 plain = 0;

	/* NegotiateProtocolVersion messages first; then the 'R'. */
	for (;;) {
		if (len - at < 9)
			return (len);
		n = pg_back_len(buf + at + 1);
		if (n < 8 || n > len - at - 1)
			return (len);
		if (buf[at] != 'v')
			break;
		at += 1 + n;
	}
	if (buf[at] != 'R' || pg_back_len(buf + at + 5) != 10)
		return (len);		/* not AuthenticationSASL */
	end = at + 1 + n;
	for (i = at + 9; i < end && buf[i] != '\0'; i = e + 1) {
		for (e = i; e < end && buf[e] != '\0'; e++)
			;
		if (e == end)
			return (len);	/* malformed */
		if (e - i == sizeof(plus) - 1 &&
		    memcmp(buf + i, plus, e - i) == 0)
			drop = 1;
		else if (e - i == sizeof(plus) - 6 &&
		    memcmp(buf + i, plus, e - i) == 0)
			plain = 1;
	}
	if (!drop || !plain)
		return (len);
	/* Every -PLUS entry goes (a server may name it twice): compact. */
	m = at + 9;
	for (i = at + 9; i < end && buf[i] != '\0'; i = e + 1) {
		for (e = i; buf[e] != '\0'; e++)
			;
		if (e - i == sizeof(plus) - 1 &&
		    memcmp(buf + i, plus, e - i) == 0)
			continue;
		memmove(buf + m, buf + i, e + 1 - i);
		m += e + 1 - i;
	}
	drop = i - m;			/* the bytes the names took */
	memmove(buf + m, buf + i, len - i);
	n -= (uint32_t)drop;
	buf[at + 1] = (uint8_t)(n >> 24);
	buf[at + 2] = (uint8_t)(n >> 16);
	buf[at + 3] = (uint8_t)(n >> 8);
	buf[at + 4] = (uint8_t)n;
	return (len - drop);
}
