/*
 * relay_int.h: what the relay's two engines (relay.c: bufferevents and
 * the shared close logic; relay_fd.c: file descriptors and links) share.
 * Not for other modules.
 */
#ifndef POSTERN_RELAY_INT_H
#define POSTERN_RELAY_INT_H

#include <stddef.h>

#include <event2/buffer.h>

#include "relay.h"

struct event_base;
struct evbuffer;

/* r's filter (relay_filter_set), or NULL. */
static inline const struct relay_filter *
relay_filter_of(const struct relay *r)
{
	return (r->hooks != NULL ? r->hooks->filter : NULL);
}

/* What r's filter holds of the client's bytes (0: none, no filter). */
static inline size_t
relay_filter_held(const struct relay *r)
{
	return (r->hooks != NULL && r->hooks->filter_in != NULL ?
	    evbuffer_get_length(r->hooks->filter_in) : 0);
}

/*
 * relay_note_end(r, idx, error, why): side idx ended (EOF, or an error
 * with why); the first end of the relay is what the close line reports.
 */
void	relay_note_end(struct relay *r, int idx, int error, const char *why);

/* relay_check_done(r): both directions done: call r->cb once. */
void	relay_check_done(struct relay *r);

/*
 * relay_tap_run(s, buf, off, n): show the n bytes at offset off of buf,
 * just read from side s, to s's tap (relay_tap()).
 */
void	relay_tap_run(struct relay_side *s, struct evbuffer *buf, size_t off,
	    size_t n);

/*
 * relay_peek_run(buf, off, n, cb, arg): show the n bytes at offset off of
 * buf to cb, piece by piece, until cb returns non-zero.
 */
void	relay_peek_run(struct evbuffer *buf, size_t off, size_t n,
	    relay_tap_cb *cb, void *arg);

/*
 * relay_fd_start(r, base, first): run r on the fd engine (sockets and
 * links) with the descriptors already in r's sides; first as for
 * relay_start().  Returns 0, or -1 when out of memory (the caller
 * releases).
 */
int	relay_fd_start(struct relay *r, struct event_base *base,
	    struct evbuffer *first);

/* relay_fd_idle(r): the fd engine's part of relay_idle(). */
int	relay_fd_idle(const struct relay *r);

/* relay_fd_hold(r, on): the fd engine's part of relay_hold(). */
void	relay_fd_hold(struct relay *r, int on);

/* relay_fd_stop(r): the fd engine's part of relay_stop(). */
void	relay_fd_stop(struct relay *r);

/*
 * relay_handoff_stop(r): a handed-off relay's relay_stop(): no more
 * events; cut short (not done yet), its sockets are shut down, which
 * ends the channel at the master too.
 */
void	relay_handoff_stop(struct relay *r);

/* relay_fd_release(r): the fd engine's part of relay_release(). */
void	relay_fd_release(struct relay *r);

#endif
