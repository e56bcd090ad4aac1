/*
 * resp_int.h: what resp_read.c gives resp_track.c beyond resp_track.h.
 * Not for other modules.
 */
#ifndef POSTERN_RESP_INT_H
#define POSTERN_RESP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "resp_track.h"

/* resp_cmd_kind(word, len): the kind of the command named word (any case). */
enum resp_cmd resp_cmd_kind(const char *word, size_t len);

/* resp_cmd_kept(kind): does it set state that a move replays? */
int	resp_cmd_kept(enum resp_cmd kind);

/*
 * resp_fast_request(buf, len, kind): a whole request at buf, an array of
 * bulk strings named by a command that records nothing: its length, with
 * *kind; 0 when the reader must take it byte by byte.
 */
size_t	resp_fast_request(const uint8_t *buf, size_t len, enum resp_cmd *kind);

/*
 * resp_fast_plain(buf, len, count): the whole requests at the start of
 * buf named by a command the tracker ignores (RESP_CMD_OTHER), as many
 * as there are: their length, and how many in *count.
 */
size_t	resp_fast_plain(const uint8_t *buf, size_t len, uint64_t *count);

/*
 * resp_fast_flats(buf, len, count, last): the whole $ bulk and : integer
 * replies at the start of buf: their length, how many in *count, and the
 * last one's type byte in *last (set when *count > 0).
 */
size_t	resp_fast_flats(const uint8_t *buf, size_t len, uint64_t *count,
	    uint8_t *last);

/*
 * resp_fast_reply(rd, buf, len): a whole flat reply at buf ($, :, or a
 * short + / - line): its length, with rd->top and rd->line set as the
 * reader would; 0 when the reader must take it.
 */
size_t	resp_fast_reply(struct resp_reader *rd, const uint8_t *buf,
	    size_t len);

/*
 * resp_sub_cmd(kind): a (un)subscribe command of any kind?  Inline: the
 * tracker asks it of every request.
 */
static inline int
resp_sub_cmd(enum resp_cmd kind)
{
	return (kind >= RESP_CMD_SUBSCRIBE && kind <= RESP_CMD_SUNSUBSCRIBE);
}

/*
 * resp_sub_request(t): t->req is a (un)subscribe command: the replies
 * it gets (units; resp_sub.c); may set t->lost.
 */
uint64_t resp_sub_request(struct resp_track *t);

/*
 * resp_sub_idle(t): t's counts say no more than all zeros would (no
 * subscription, nothing open or due): its live part may go.
 */
int	resp_sub_idle(const struct resp_track *t);

/* resp_sub_reset(t): t->req is RESET, sent. */
void	resp_sub_reset(struct resp_track *t);

/*
 * resp_sub_reply(t): t->rep ended a top-level message: 1 when it is a
 * reply, 0 when a published message.  Follows the counts.
 */
int	resp_sub_reply(struct resp_track *t);

/* resp_sub_settle(t): after a reply: back to normal when all is done. */
void	resp_sub_settle(struct resp_track *t);

/* A recorded command's arguments (resp_args.c). */
#define RESP_ARGS_MAX	64

struct resp_args {
	int		 n;
	const uint8_t	*v[RESP_ARGS_MAX];
	size_t		 l[RESP_ARGS_MAX];
};

/*
 * resp_args_split(cmd, len, buf, a): the arguments of a recorded command
 * (an array of bulk strings, or an inline line split as Redis splits
 * it) into a, decoded into buf (RESP_CMD_MAX bytes).  0, or -1 when it
 * cannot be read exactly.
 */
int	resp_args_split(const uint8_t *cmd, size_t len, uint8_t *buf,
	    struct resp_args *a);

/* resp_args_hex(c): the value of hex digit c, or -1. */
int	resp_args_hex(uint8_t c);

/* resp_args_esc(c): the byte a "..." escape \c stands for (c not x). */
uint8_t	resp_args_esc(uint8_t c);

/* resp_args_is(a, k, word): argument k is word (any case)? */
int	resp_args_is(const struct resp_args *a, int k, const char *word);

/*
 * What a successful HELLO changed, each as a command of its own to
 * replay (NULL: not changed): HELLO <protover>, AUTH <user> <pass>,
 * CLIENT SETNAME <name>.  Wiped by resp_args_hello_free().
 */
struct resp_args_hello {
	uint8_t		*hello, *auth, *setname;
	size_t		 hello_len, auth_len, setname_len;
};

/*
 * resp_args_hello(cmd, len, h): split a HELLO that succeeded.  0 (all
 * NULL for a HELLO without arguments), or -1 when it cannot be read (an
 * option it does not know, out of memory): then nothing is set.
 */
int	resp_args_hello(const uint8_t *cmd, size_t len,
	    struct resp_args_hello *h);

void	resp_args_hello_free(struct resp_args_hello *h);

#endif
