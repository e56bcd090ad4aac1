/*
 * session_int.h: private to the session group: session.c (the life) and
 * session_watch.c (what a relaying session watches).
 */
#ifndef POSTERN_SESSION_INT_H
#define POSTERN_SESSION_INT_H

struct session;

/*
 * session_watch_start(s): s has just started relaying: tap its bytes for
 * the server's first one, the answer a request waits for, its follower,
 * a PostgreSQL cancel key, Cluster rewriting.  What it sets up is freed
 * with s (session_free).
 */
void	session_watch_start(struct session *s);

/*
 * session_watch_close(s, reason): s closes: stop response_timeout, and
 * report a server that ended before answering a request as the route's
 * failure (a client that leaves first says nothing).
 */
void	session_watch_close(struct session *s, int reason);

#endif
