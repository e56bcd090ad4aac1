/*
 * pg_back.h: the server's side of a PostgreSQL startup, read as it passes
 * by (never copied, never held back), for one thing: the BackendKeyData
 * that a later CancelRequest must quote (a 4-byte key in protocol 3.0, 4
 * to 256 bytes from 3.2 on; a NegotiateProtocolVersion before it is one
 * more message that passes).  It stops at that message, at
 * ReadyForQuery or an ErrorResponse without one, at a malformed header,
 * or after PG_BACK_MAX bytes.
 */
#ifndef POSTERN_PGBACK_H
#define POSTERN_PGBACK_H

#include <stddef.h>
#include <stdint.h>

#include "pg_cancel.h"

#define PG_BACK_MAX	(64 * 1024)	/* server bytes looked at, at most */

enum pg_back_result {
	PG_BACK_MORE,		/* keep feeding */
	PG_BACK_KEY,		/* pid and key found */
	PG_BACK_NONE		/* no key will come: why says so */
};

struct pg_back {
	uint8_t		 hdr[5];	/* type and length of a message */
	size_t		 hlen;
	uint32_t	 left;		/* body bytes of it still to pass */
	uint8_t		 body[4 + PG_CANCEL_KEY_MAX]; /* BackendKeyData */
	size_t		 blen;
	size_t		 seen;
	enum pg_back_result result;
	uint32_t	 pid;
	size_t		 keylen;	/* PG_BACK_KEY: the key is body + 4 */
	const char	*why;		/* PG_BACK_NONE */
};

/* pg_back_init(b): ready for the first byte the server sends. */
void	pg_back_init(struct pg_back *b);

/* pg_back_wipe(b): wipe the key bytes (before b is freed or reused). */
void	pg_back_wipe(struct pg_back *b);

/*
 * pg_back_feed(b, buf, len): look at the next len bytes of the server's
 * stream.  Pure: reads only buf[0..len).  Returns b->result; once it is
 * not PG_BACK_MORE, further calls change nothing.
 */
int	pg_back_feed(struct pg_back *b, const uint8_t *buf, size_t len);

/*
 * pg_back_hide_plus(buf, len): buf holds the server's first bytes (whole
 * messages: NegotiateProtocolVersion may come first); when its
 * AuthenticationSASL offers both SCRAM-SHA-256-PLUS and SCRAM-SHA-256,
 * remove each -PLUS entry in place and fix the message's length.  Returns
 * the new length of buf (len when nothing changed: no such message, or
 * one cut or malformed).  Pure.  For a tls:// route: channel binding is
 * to postern's TLS, which the client's leg does not have, and libpq
 * refuses a -PLUS offer on a plain connection.
 */
size_t	pg_back_hide_plus(uint8_t *buf, size_t len);

#endif
