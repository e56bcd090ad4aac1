/*
 * pgback.h: the server's side of a PostgreSQL startup, read as it passes
 * by (never copied, never held back), for one thing: the BackendKeyData
 * that a later CancelRequest must quote.  It stops at that message, at
 * ReadyForQuery or an ErrorResponse without one, at a malformed header,
 * or after PGBACK_MAX bytes.
 */
#ifndef POSTERN_PGBACK_H
#define POSTERN_PGBACK_H

#include <stddef.h>
#include <stdint.h>

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
	uint8_t		 body[8];	/* BackendKeyData: pid, key */
	size_t		 blen;
	size_t		 seen;
	enum pgback_result result;
	uint32_t	 pid, key;
	const char	*why;		/* PGBACK_NONE */
};

/* pgback_init(b): ready for the first byte the server sends. */
void	pgback_init(struct pgback *b);

/*
 * pgback_feed(b, buf, len): look at the next len bytes of the server's
 * stream.  Pure: reads only buf[0..len).  Returns b->result; once it is
 * not PGBACK_MORE, further calls change nothing.
 */
int	pgback_feed(struct pgback *b, const uint8_t *buf, size_t len);

#endif
