/*
 * pg_guard.h: readonly = yes for a PostgreSQL service (issue 24).  The
 * startup packet gets default_transaction_read_only=on (the client's own
 * value of it, if any, dropped), so the server refuses writes itself
 * ("cannot execute INSERT in a read-only transaction"); and the
 * statements that would turn that off are refused by postern:
 *
 *   SET [SESSION|LOCAL] default_transaction_read_only | transaction_read_only
 *   SET SESSION CHARACTERISTICS AS TRANSACTION ... READ WRITE
 *   SET TRANSACTION ... READ WRITE, BEGIN / START TRANSACTION ... READ WRITE
 *   set_config('default_transaction_read_only' | 'transaction_read_only', ...)
 *   any string or dollar-quoted body naming transaction_read_only
 *
 * in a simple Query (every statement of it) or an extended-protocol
 * Parse.  A refused message is rewritten into a statement that raises
 * SQLSTATE 25006 with "postern: readonly service NAME refuses ...": the
 * server answers it as it answers any failing statement (ErrorResponse,
 * the transaction aborted, ReadyForQuery in place), so the client gets
 * exactly the replies it expects, in order.  A query too long to check
 * (PG_GUARD_MAX) is refused the same way.
 *
 * A guard against mistakes, not a boundary: dynamic SQL built from parts
 * gets past a text check; the server's roles and grants are the boundary.
 */
#ifndef POSTERN_PG_GUARD_H
#define POSTERN_PG_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define PG_GUARD_MAX	(1024 * 1024)	/* a Query or Parse checked, at most */

/*
 * pg_guard_sql(sql, len, what, whatlen): does the SQL text (one or more
 * statements) try to turn read-only off?  1 yes, with a short name of
 * the attempt in what ("SET default_transaction_read_only"); 0 no.
 * Pure.
 */
int	pg_guard_sql(const char *sql, size_t len, char *what, size_t whatlen);

/*
 * pg_guard_startup(buf, len, out): buf holds a StartupMessage (protocol
 * 3) of len bytes; append to out the same message with
 * default_transaction_read_only=on last (any of the client's dropped).
 * Returns 0, or -1 when it is not a well-formed protocol 3 startup or
 * out of memory (out then unchanged in meaning: the caller ends the
 * session).
 */
int	pg_guard_startup(const uint8_t *buf, size_t len, struct evbuffer *out);

struct pg_guard {
	const char	*service;	/* not owned */
	uint8_t		 hdr[5];
	size_t		 hlen;
	uint32_t	 left;		/* body bytes of the message to go */
	int		 collect;	/* a Q or P message kept whole */
	struct evbuffer	*msg;		/* ... here */
	uint64_t	 refusals;
};

/* pg_guard_init(g, service): -1 when out of memory. */
int	pg_guard_init(struct pg_guard *g, const char *service);

/* pg_guard_clear(g): free what it holds. */
void	pg_guard_clear(struct pg_guard *g);

/*
 * pg_guard_client(g, in, to_server, to_client): as a relay filter's
 * client() (relay.h): the messages the client sends after its startup
 * packet.  Returns 0, or -1 on bytes that are not messages.
 */
int	pg_guard_client(struct pg_guard *g, struct evbuffer *in,
	    struct evbuffer *to_server, struct evbuffer *to_client);

#endif
