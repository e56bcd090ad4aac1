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

struct event_base;
struct pg_front;

#define PG_SSLREQUEST_CODE	80877103u
#define PG_GSSENCREQUEST_CODE	80877104u
#define PG_CANCELREQUEST_CODE	80877102u
#define PG_MAX_STARTUP		10000	/* as the server's limit */
/* A CancelRequest: length, code, pid, then the key (4 bytes in 3.0). */
#define PG_CANCEL_MIN		(12 + PG_CANCEL_KEY_MIN)
#define PG_CANCEL_MAX		(12 + PG_CANCEL_KEY_MAX)

enum pg_front_kind {
	PG_FRONT_NEED_MORE,	/* parse: not a whole packet yet */
	PG_FRONT_SSL_REQUEST,
	PG_FRONT_GSS_REQUEST,
	PG_FRONT_STARTUP,	/* a StartupMessage (any 2.x or 3.x version) */
	PG_FRONT_CANCEL,		/* a CancelRequest: pid and key (3.0, 3.2) */
	PG_FRONT_BAD,		/* malformed: detail says why */
	PG_FRONT_CLOSED,		/* callback: the client closed first */
	PG_FRONT_TIMEOUT		/* callback: no startup in time */
};

struct pg_front_msg {
	enum pg_front_kind kind;
	size_t		 len;		/* bytes of the packet */
	uint32_t	 cancel_pid;
	uint8_t		 cancel_key[PG_CANCEL_KEY_MAX];	/* a secret */
	size_t		 cancel_keylen;
	const char	*detail;	/* PG_FRONT_BAD */
};

/*
 * pg_front_parse(buf, len, msg): classify the packet at the start of buf,
 * framed by its length word (a CancelRequest is 16 bytes in protocol
 * 3.0, up to PG_CANCEL_MAX from 3.2 on; a StartupMessage of any 3.x
 * minor version passes: the server, not postern, negotiates the minor
 * version with NegotiateProtocolVersion).  Pure: reads only
 * buf[0..len).  Returns msg->kind; for PG_FRONT_CANCEL, msg holds a copy
 * of the key, which the caller wipes.
 */
int	pg_front_parse(const uint8_t *buf, size_t len, struct pg_front_msg *msg);

/*
 * pg_front_cb(msg, bytes, len, arg): the one completion.  For STARTUP and
 * CANCEL, bytes[0..len) holds the packet (and any bytes that followed
 * it), valid until pg_front_free.  Other kinds: the session ends.
 */
typedef void pg_front_cb(const struct pg_front_msg *msg,
	    const uint8_t *bytes, size_t len, void *arg);

/*
 * The startup reader lives in memory its caller gives, PG_FRONT_MEM
 * bytes: it lasts from the accept to the connect, and a pool that
 * connects at once reads every startup before any dial ends, so from
 * malloc its objects (the reader, its event, the bytes) left holes
 * below the sessions' lasting ones that no later allocation filled
 * (issue 27).  The caller takes it from a mapping of its own
 * (lib/pagemem.h).  A startup longer than what fits in it goes to a
 * buffer of PG_MAX_STARTUP from malloc.
 */
#define PG_FRONT_MEM		4096

/*
 * pg_front_start(base, fd, mem, timeout_ms, cb, arg): read the startup
 * phase from fd (not owned: the caller closes it) in mem (PG_FRONT_MEM
 * bytes, owned by the caller, who frees it after pg_front_free).
 * Returns the reader (at mem), or NULL when the event cannot be added.
 */
struct pg_front *pg_front_start(struct event_base *base, int fd, void *mem,
	    int timeout_ms, pg_front_cb *cb, void *arg);

/*
 * pg_front_bytes(p, len): the bytes read so far (after any SSLRequest
 * answered), as the callback saw them; *len their count.  Valid until
 * pg_front_free.
 */
const uint8_t *pg_front_bytes(const struct pg_front *p, size_t *len);

/* pg_front_stop(p): no more reading or callbacks. */
void	pg_front_stop(struct pg_front *p);

/*
 * pg_front_free(p): stop, and free what p made (not its memory, the
 * caller's); NULL is a no-op.  Not from inside the callback.
 */
void	pg_front_free(struct pg_front *p);

#endif
