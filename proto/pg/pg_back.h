/*
 * pg_back.h: the server's side of a PostgreSQL startup, read as it passes
 * by (never copied, never held back), for one thing: the BackendKeyData
 * that a later CancelRequest must quote (a 4-byte key in protocol 3.0, 4
 * to 256 bytes from 3.2 on; a NegotiateProtocolVersion before it is one
 * more message that passes).  It stops at that message, at
 * ReadyForQuery or an ErrorResponse without one, at a malformed header,
 * or after PGBACK_MAX bytes.
 */
#ifndef POSTERN_PGBACK_H
#define POSTERN_PGBACK_H

#include <stddef.h>
#include <stdint.h>

#include "pg_cancel.h"

#define PGBACK_MAX	(64 * 1024)	/* server bytes looked at, at most */

enum pgback_result {
	PGBACK_MORE,		/* keep feeding */
	PGBACK_KEY,		/* pid and key found */
	PGBACK_NONE		/* no key will come: why says so */
};

struct pgback {
	uint8_t		 hdr[5];	/* type and length of a message */
	size_t		 hlen;
	uint32_t	 left;		/* body bytes of it still to pass */
	uint8_t		 body[4 + PGCANCEL_KEY_MAX]; /* BackendKeyData */
	size_t		 blen;
	size_t		 seen;
	enum pgback_result result;
	uint32_t	 pid;
	size_t		 keylen;	/* PGBACK_KEY: the key is body + 4 */
	const char	*why;		/* PGBACK_NONE */
};

/* pgback_init(b): ready for the first byte the server sends. */
void	pgback_init(struct pgback *b);

/* pgback_wipe(b): wipe the key bytes (before b is freed or reused). */
void	pgback_wipe(struct pgback *b);

/*
 * pgback_feed(b, buf, len): look at the next len bytes of the server's
 * stream.  Pure: reads only buf[0..len).  Returns b->result; once it is
 * not PGBACK_MORE, further calls change nothing.
 */
int	pgback_feed(struct pgback *b, const uint8_t *buf, size_t len);

/*
 * pgback_hide_plus(buf, len): buf holds the server's first bytes (whole
 * messages: NegotiateProtocolVersion may come first); when its
 * AuthenticationSASL offers both SCRAM-SHA-256-PLUS and SCRAM-SHA-256,
 * remove the -PLUS one in place and fix the message's length.  Returns
 * the new length of buf (len when nothing changed: no such message, or
 * one cut or malformed).  Pure.  For a tls:// route: channel binding is
 * to postern's TLS, which the client's leg does not have, and libpq
 * refuses a -PLUS offer on a plain connection.
 */
size_t	pgback_hide_plus(uint8_t *buf, size_t len);

#endif
