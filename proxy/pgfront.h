/*
 * pgfront.h: the PostgreSQL startup phase on the client side.
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

struct evbuffer;
struct event_base;
struct pgfront;

#define PG_SSLREQUEST_CODE	80877103u
#define PG_GSSENCREQUEST_CODE	80877104u
#define PG_CANCELREQUEST_CODE	80877102u
#define PG_MAX_STARTUP		10000	/* as the server's limit */

enum pgfront_kind {
	PGFRONT_NEED_MORE,	/* parse: not a whole packet yet */
	PGFRONT_SSL_REQUEST,
	PGFRONT_GSS_REQUEST,
	PGFRONT_STARTUP,	/* a StartupMessage (any protocol version) */
	PGFRONT_CANCEL,		/* a CancelRequest: pid and key */
	PGFRONT_BAD,		/* malformed: detail says why */
	PGFRONT_CLOSED,		/* callback: the client closed first */
	PGFRONT_TIMEOUT		/* callback: no startup in time */
};

struct pgfront_msg {
	enum pgfront_kind kind;
	size_t		 len;		/* bytes of the packet */
	uint32_t	 cancel_pid, cancel_key;
	const char	*detail;	/* PGFRONT_BAD */
};

/*
 * pgfront_parse(buf, len, msg): classify the packet at the start of buf.
 * Pure: reads only buf[0..len).  Returns msg->kind.
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
