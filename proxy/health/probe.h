/*
 * probe.h: the protocol part of a health check, spoken over an upstream
 * that the dial step already connected (so a check takes the same path as
 * the traffic: TCP, TLS or an SSH channel).
 */
#ifndef POSTERN_PROBE_H
#define POSTERN_PROBE_H

#include "conf.h"	/* enum conf_check */

struct bufferevent;
struct probe;

/* Results of a check; health.c has the names. */
enum probe_result {
	PROBE_OK,
	PROBE_REFUSED,		/* connect refused */
	PROBE_CONNECT_TIMEOUT,
	PROBE_RESOLVE,
	PROBE_UNREACHABLE,
	PROBE_CONNECT_ERROR,
	PROBE_TLS,		/* TLS handshake or verification */
	PROBE_SSH,		/* bastion or channel */
	PROBE_TIMEOUT,		/* connected, no complete answer in time */
	PROBE_CLOSED,		/* connected, then closed on us */
	PROBE_REPLY,		/* an answer that means "not serving" */
	PROBE_AUTH,		/* authentication failed or missing */
	PROBE_ROLE,		/* serving, in the role we do not want */
	PROBE_IDENTITY,		/* the dataset's identity could not be read */
	PROBE_NRESULTS
};

/* The role a check wants: Redis master/replica, PostgreSQL's names. */
enum probe_role {
	PROBE_ROLE_ANY,
	PROBE_ROLE_PRIMARY,	/* Redis master, PostgreSQL not in recovery */
	PROBE_ROLE_STANDBY	/* Redis replica, PostgreSQL in recovery */
};

struct probe_params {
	enum conf_check	 kind;		/* not DEFAULT */
	const char	*user;
	const char	*password;
	const char	*database;
	enum probe_role	 role;
	const char	*identity_key;	/* redis: GET it; NULL: not */
	int		 identity;	/* postgres: read system_identifier */
	int		 allow_md5;	/* postgres: md5 without TLS */
};

/* The longest identity a probe reports (a Redis value; bytes). */
#define PROBE_IDENTITY_MAX	100

/*
 * probe_cb(result, detail, identity, arg): the one completion, from the
 * loop.  identity: what the server said identifies its dataset (the
 * system_identifier's digits, the identity key's value), NULL when it
 * was not asked or not read; valid during the call.
 */
typedef void probe_cb(int result, const char *detail, const char *identity,
	    void *arg);

/*
 * probe_start(bev, params, cb, arg): talk the check's protocol on bev,
 * which the probe takes over and frees.  For CHECK_TCP the answer is
 * immediate success (deferred to the loop).  Returns NULL when out of
 * memory (bev is then freed too).  The caller bounds the time.
 */
struct probe *probe_start(struct bufferevent *bev,
	    const struct probe_params *params, probe_cb *cb, void *arg);

/* probe_cancel(p): abandon; no callback follows.  NULL is a no-op. */
void	probe_cancel(struct probe *p);

/* probe_result_name(result): "ok", "connection refused", ... */
const char *probe_result_name(int result);

#endif
