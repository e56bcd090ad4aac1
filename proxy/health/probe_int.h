/*
 * probe_int.h: what probe.c (the common part) shares with probe_redis.c
 * and probe_pg.c (the protocols).  Not for other modules.
 */
#ifndef POSTERN_PROBE_INT_H
#define POSTERN_PROBE_INT_H

#include <stddef.h>

#include "log.h"
#include "probe.h"
#include "resp_scan.h"

/*
 * The most bytes a check reads from the server, all replies together:
 * counted before they reach hiredis's reader (which would otherwise
 * buffer a "$1000000000" bulk string as it streams in).
 */
#define PROBE_MAX_REPLY		(64 * 1024)
#define PROBE_REDIS_STEPS	4	/* AUTH, PING, ROLE, GET */

struct evbuffer;
struct pg_auth;
struct redisReader;

struct probe {
	struct bufferevent	*bev;
	struct probe_params	 params;
	probe_cb		*cb;
	void			*arg;
	struct event		*defer;
	int			 result;	/* -1 until finished */
	char			 detail[LOG_DETAIL_LEN];
	char			 identity[PROBE_IDENTITY_MAX + 1];
	int			 has_identity;
	int			 flush_result;	/* after the output drains */
	char			 flush_detail[LOG_DETAIL_LEN];
	size_t			 consumed;	/* read and drained */

	/* Redis */
	struct redisReader	*reader;
	struct resp_scan	 scan;		/* fed to hiredis */
	int			 steps[PROBE_REDIS_STEPS];
	int			 nsteps, step;

	/* PostgreSQL */
	struct pg_auth		*auth;
	int			 pg_phase;	/* enum probe_pg_phase */
	char			 pg_role[8];	/* "t" or "f": in recovery */
};

/*
 * probe_finish(p, result, fmt, ...): the probe's end, once: stop I/O and
 * deliver from a zero-timeout event (never inside bev callbacks).
 */
void	probe_finish(struct probe *p, int result, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * probe_finish_flushed(p, result, fmt, ...): the same once what was
 * written has left (a Terminate message the server should read).
 */
void	probe_finish_flushed(struct probe *p, int result, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/* probe_clean(dst, len, src, n): printable copy of a server's text. */
void	probe_clean(char *dst, size_t len, const char *src, size_t n);

/* probe_set_identity(p, v, n): record what the server identified as. */
int	probe_set_identity(struct probe *p, const char *v, size_t n);

/*
 * Redis (probe_redis.c): probe_redis_send(p) queues the pipelined
 * commands; 0 or -1 (out of memory).  probe_redis_read(p, in) consumes
 * what arrived.  probe_redis_free(p): the reader probe_redis_send made.
 */
int	probe_redis_send(struct probe *p);
void	probe_redis_read(struct probe *p, struct evbuffer *in);
void	probe_redis_free(struct probe *p);

/*
 * PostgreSQL (probe_pg.c): probe_pg_start(p) sends the first message, or
 * finishes at once (a tls:// route without check_user); 0 or -1 (out of
 * memory).  probe_pg_read(p, in) consumes what arrived.
 */
int	probe_pg_start(struct probe *p);
void	probe_pg_read(struct probe *p, struct evbuffer *in);

/* probe_pg_free(p): what probe_pg_start allocated. */
void	probe_pg_free(struct probe *p);

#endif
