/*
 * pgresume.h: a PostgreSQL session's next server, made ready before the
 * session moves to it (DESIGN.md, "Resume (PostgreSQL)"): dial the route
 * (any transport; tls:// does its SSLRequest), send the client's own
 * StartupMessage, log in as the session's user with its auth_file
 * secret, replay the state the session's tracker recorded (pg_state.h),
 * and check that the parameters the client saw are the same.  As for a
 * Redis move (move.h), the session swaps its server side only after
 * that, at a safe point; on any failure the new connection is dropped.
 *
 *   DIALING --connected--> HANDSHAKE (pg_rs_read.h) --ready--> READY
 *      |                       |
 *      +--failed---------------+--refused, differs, EOF, timeout--> FAILED
 */
#ifndef POSTERN_PGRESUME_H
#define POSTERN_PGRESUME_H

#include <stddef.h>
#include <stdint.h>

struct authfile;
struct bufferevent;
struct conf_route;
struct dial_env;
struct evbuffer;
struct link;
struct pg_auth;
struct pgresume;
struct pg_state;
struct sockaddr;

/* As move_cb: not to pgresume_free(r) from inside. */
typedef void pgresume_cb(struct pgresume *r, int ok, const char *why,
	    void *arg);

/*
 * pgresume_start(env, cr, connect_ms, reply_ms, startup, slen, auth,
 * replay, nz, st, cb, arg): dial cr, send the StartupMessage startup,
 * log in with auth (taken), send replay (emptied) expecting nz
 * ReadyForQuery, compare with st's parameters.  The callback always
 * comes later.  NULL when out of memory (auth freed, replay emptied).
 */
struct pgresume *pgresume_start(const struct dial_env *env,
	    const struct conf_route *cr, int connect_ms, int reply_ms,
	    const uint8_t *startup, size_t slen, struct pg_auth *auth,
	    struct evbuffer *replay, int nz, const struct pg_state *st,
	    pgresume_cb *cb, void *arg);

/*
 * pgresume_take(r, bev, link, pid, key, keylen): a READY resume hands over
 * its upstream as move_take() does, and the new backend's cancel key as
 * it came (4 bytes, or up to 256 from protocol 3.2 on; *key points into
 * r, valid until pgresume_free(r); *pid 0 when the server sent none).
 */
void	pgresume_take(struct pgresume *r, struct bufferevent **bev,
	    struct link **link, uint32_t *pid, const uint8_t **key,
	    size_t *keylen);

/*
 * pgresume_peer(r): the address of the server r connected to over TCP
 * (tcp://, tls://), or NULL (ssh://: the bastion knows; not connected
 * yet).  Owned by r.
 */
const struct sockaddr *pgresume_peer(const struct pgresume *r);

/* pgresume_free(r): cancel and close what r holds; NULL: no-op. */
void	pgresume_free(struct pgresume *r);

/*
 * pgresume_login(af, startup, slen, st, tls, allow_md5, ckey, have_ckey,
 * authp): the login a resume of the session makes (*authp, for
 * pgresume_start), or why it cannot: its user (from its StartupMessage
 * startup) must be in auth_file af, its state st resumable (pg_state_why),
 * and af's secret able to repeat its login.  SCRAM pass-through: the
 * client's ClientKey, recovered once from its own login and the
 * StoredKey (scram_client_key), goes into ckey (*have_ckey set; the
 * caller keeps it for the session's life and wipes it) and st's SCRAM
 * messages are wiped.  tls: the target is TLS; allow_md5: md5 without
 * TLS too (check_allow_md5).  NULL, or the reason.
 */
const char *pgresume_login(const struct authfile *af,
	    const uint8_t *startup, size_t slen, struct pg_state *st, int tls,
	    int allow_md5, unsigned char *ckey, int *have_ckey,
	    struct pg_auth **authp);

#endif
