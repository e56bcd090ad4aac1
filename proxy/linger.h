/*
 * linger.h: the last words to a client.  Write a final message, shut the
 * write side, and read (discarding) until the client closes or a short
 * timeout passes, so that the kernel never answers the client's unread
 * request with a reset that destroys the message before it is read.
 */
#ifndef POSTERN_LINGER_H
#define POSTERN_LINGER_H

#include <sys/queue.h>

struct evbuffer;
struct event_base;
struct linger_conn;

TAILQ_HEAD(linger_list, linger_conn);

/* From the start of the linger, whatever the client sends meanwhile. */
#define LINGER_TIMEOUT_MS	2000

/* Called once when a linger ends (closed, deadline, failure or exit). */
typedef void linger_done_fn(void *arg);

/*
 * linger_start(base, list, fd, msg, done, arg): take fd and msg (both
 * freed by the linger) and say goodbye.  msg may be NULL: then just close
 * gracefully.  done(arg), if done is not NULL, runs exactly once when the
 * linger ends, on failure here too: the caller counts lingers with it.
 */
void	linger_start(struct event_base *base, struct linger_list *list, int fd,
	    struct evbuffer *msg, linger_done_fn *done, void *arg);

/* linger_free_all(list): close every linger now (at exit). */
void	linger_free_all(struct linger_list *list);

#endif
