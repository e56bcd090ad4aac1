/*
 * link.h: an upstream connection that lives in this process.
 *
 * An SSH direct-tcpip channel is one: its bytes arrive and leave through
 * the bastion's connection, never through a socket of its own.  A link
 * lets the relay move them with function calls instead of a socketpair
 * hop (a write, an epoll wake-up and a read per message and direction).
 *
 * Two parties, and either may end first:
 *
 * - the provider (ssh_channel.c) implements struct link_ops and calls the
 *   user's struct link_user callbacks, always from the event loop, never
 *   from inside a link_ops call;
 * - the user (the relay: proxy/relay_fd.c, also behind relay_bridge()
 *   for consumers that want a socket) calls the ops.  link_close() ends the user's part: no callback
 *   follows, and the provider frees its state later, from its own loop.
 *   The provider never frees a link the user has not closed.
 *
 * Flow control: the user takes every byte data() hands it and calls
 * pause(1) when its buffer is full; the provider then stops reading (for
 * SSH: stops enlarging the channel's window).  In the other direction the
 * user stops writing while pending() is at or above LINK_HIGH_WATER; the
 * provider calls writable() once it drops below LINK_LOW_WATER after a
 * write left it at or above that mark (so any stop mark of the user's at
 * or above LINK_LOW_WATER is safe).
 */
#ifndef POSTERN_LINK_H
#define POSTERN_LINK_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct link;

#define LINK_HIGH_WATER		(256 * 1024)
#define LINK_LOW_WATER		(64 * 1024)

struct link_user {
	/* Bytes from upstream; they must not be kept. */
	void	(*data)(void *arg, const uint8_t *buf, size_t len);
	/* Upstream finished sending (after all its data). */
	void	(*eof)(void *arg);
	/*
	 * Upstream is closed both ways, normally (SSH: the server closed
	 * the channel), after eof(): it takes nothing more, and pending()
	 * bytes are dropped.  Only link_close() remains to do.
	 */
	void	(*closed)(void *arg);
	/* The link is broken both ways; only link_close() remains to do. */
	void	(*error)(void *arg, const char *why);
	/* pending() dropped below LINK_LOW_WATER (see above). */
	void	(*writable)(void *arg);
	/*
	 * Optional, both or neither: a provider that decrypts (tls_link.c)
	 * may put the bytes straight into the user's buffer, sink() (NULL:
	 * use data()), and then call appended() with the length the buffer
	 * had before and the bytes added: one copy of the plaintext fewer.
	 */
	struct evbuffer	*(*sink)(void *arg);
	void	(*appended)(void *arg, size_t before, size_t len);
};

struct link_ops {
	int	(*write)(struct link *, struct evbuffer *);
	size_t	(*pending)(const struct link *);
	void	(*shutdown)(struct link *);
	void	(*pause)(struct link *, int);
	void	(*close)(struct link *);
};

struct link {
	const struct link_ops	*ops;
	const struct link_user	*user;		/* NULL: not attached */
	void			*user_arg;
};

/*
 * link_attach(l, user, arg): receive l's callbacks (NULL: none, and the
 * link is paused).  A new link starts paused: data flows once the
 * attached user calls link_pause(l, 0).
 */
void	link_attach(struct link *l, const struct link_user *user, void *arg);

/*
 * link_write(l, buf): queue all of buf (it is emptied) toward upstream.
 * Returns 0, or -1 once the link has failed (buf is emptied anyway).
 */
int	link_write(struct link *l, struct evbuffer *buf);

/* link_pending(l): bytes queued toward upstream, not yet taken. */
size_t	link_pending(const struct link *l);

/* link_shutdown(l): end the upstream direction once pending is sent. */
void	link_shutdown(struct link *l);

/* link_pause(l, on): stop (1) or resume (0) data() callbacks. */
void	link_pause(struct link *l, int on);

/* link_close(l): the user is done with l; NULL is a no-op. */
void	link_close(struct link *l);

#endif
