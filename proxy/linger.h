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

#define LINGER_TIMEOUT_MS	2000

/*
 * linger_start(base, list, fd, msg): take fd and msg (both freed by the
 * linger) and say goodbye.  msg may be NULL: then just close gracefully.
 */
void	linger_start(struct event_base *base, struct linger_list *list, int fd,
	    struct evbuffer *msg);

/* linger_free_all(list): close every linger now (at exit). */
void	linger_free_all(struct linger_list *list);

#endif
