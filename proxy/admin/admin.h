/*
 * admin.h: the admin HTTP endpoint (libevent evhttp) on the [postern]
 * "admin" address: /health, /status, /metrics, the probes (/liveness,
 * /readiness, /startup) and route control (POST /routes/...).
 *
 * Every read-only page only reads state: nothing is dialed to answer it.
 */
#ifndef POSTERN_ADMIN_H
#define POSTERN_ADMIN_H

#include <stddef.h>

struct addr;
struct admin;
struct postern;

/*
 * admin_new(px, c, err, errlen): bind c's admin address (host:port or
 * unix:/path; a unix socket file left by a dead process is removed
 * first, a live one is not; a new one gets admin_socket_mode and
 * admin_socket_group) and serve the endpoint on px's loop.  Returns NULL
 * with "cannot listen on ADDR: reason" in err; nothing is left open
 * then.  The caller owns the result and frees it with admin_free(); px
 * must outlive it.  The address is copied; c need not outlive it.
 */
struct conf;
struct admin *admin_new(struct postern *px, const struct conf *c, char *err,
	    size_t errlen);

/*
 * admin_free(ad): close the socket and every admin connection; unlink a
 * unix socket path that admin_new() created.  NULL is a no-op.
 */
void	admin_free(struct admin *ad);

/*
 * admin_same_address(ad, c): 1 if generation c asks for the address ad is
 * bound to (the admin endpoint is not rebound on reload).
 */
int	admin_same_address(const struct admin *ad, const struct conf *c);

/*
 * admin_reconfigure(ad, c): a reload kept ad's address: apply c's
 * admin_socket_mode and admin_socket_group to it; a failure is logged
 * and changes nothing else.
 */
void	admin_reconfigure(struct admin *ad, const struct conf *c);

#endif
