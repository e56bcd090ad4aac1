/*
 * pg_front.h: the PostgreSQL startup phase on the client side.
 *
 * postern reads only what it must of the wire protocol: SSLRequest and
 * GSSENCRequest are answered 'N' (the client's leg is loopback; TLS, if
 * any, is postern's business upstream), and the StartupMessage (or a
 * CancelRequest) is captured.  Then the session dials and relays bytes
 * untouched, the captured message first.
 */
#ifndef POSTERN_PGFRONT_H
#define POSTERN_PGFRONT_H

#include <stddef.h>
#include <stdint.h>

#include "pg_cancel.h"

struct evbuffer;
struct event_base;
struct pgfront;

#define PG_SSLREQUEST_CODE	80877103u
#define PG_GSSENCREQUEST_CODE	80877104u
#define PG_CANCELREQUEST_CODE	80877102u
#define PG_MAX_STARTUP		10000	/* as the server's limit */
/* A CancelRequest: length, code, pid, then the key (4 bytes in 3.0). */
#define PG_CANCEL_MIN		(12 + PGCANCEL_KEY_MIN)
#define PG_CANCEL_MAX		(12 + PGCANCEL_KEY_MAX)

enum pgfront_kind {
	PGFRONT_NEED_MORE,	/* parse: not a whole packet yet */
	PGFRONT_SSL_REQUEST,
	PGFRONT_GSS_REQUEST,
	PGFRONT_STARTUP,	/* a StartupMessage (any 2.x or 3.x version) */
	PGFRONT_CANCEL,		/* a CancelRequest: pid and key (3.0, 3.2) */
	PGFRONT_BAD,		/* malformed: detail says why */
	PGFRONT_CLOSED,		/* callback: the client closed first */
	PGFRONT_TIMEOUT		/* callback: no startup in time */
};

struct pgfront_msg {
	enum pgfront_kind kind;
	size_t		 len;		/* bytes of the packet */
	uint32_t	 cancel_pid;
	uint8_t		 cancel_key[PGCANCEL_KEY_MAX];	/* a secret */
	size_t		 cancel_keylen;
	const char	*detail;	/* PGFRONT_BAD */
};

/*
 * pgfront_parse(buf, len, msg): classify the packet at the start of buf,
 * framed by its length word (a CancelRequest is 16 bytes in protocol
 * 3.0, up to PG_CANCEL_MAX from 3.2 on; a StartupMessage of any 3.x
 * minor version passes: the server, not postern, negotiates the minor
 * version with NegotiateProtocolVersion).  Pure: reads only
 * buf[0..len).  Returns msg->kind; for PGFRONT_CANCEL, msg holds a copy
 * of the key, which the caller wipes.
 */
int	pgfront_parse(const uint8_t *buf, size_t len, struct pgfront_msg *msg);

/*
 * pgfront_cb(msg, packet, arg): the one completion.  For STARTUP and
 * CANCEL, packet holds its bytes (and any that followed); the callee may
 * take them with evbuffer_add_buffer.  Other kinds: the session ends.
 */
typedef void pgfront_cb(const struct pgfront_msg *msg,
	    struct evbuffer *packet, void *arg);

/*
 * pgfront_start(base, fd, timeout_ms, cb, arg): read the startup phase
 * from fd (not owned: the caller closes it).  Returns NULL when out of
 * memory.
 */
struct pgfront *pgfront_start(struct event_base *base, int fd,
	    int timeout_ms, pgfront_cb *cb, void *arg);

/* pgfront_stop(p): no more reading or callbacks. */
void	pgfront_stop(struct pgfront *p);

/* pgfront_free(p): stop and free; NULL is a no-op.  Not from inside the
 * callback. */
void	pgfront_free(struct pgfront *p);

#endif
