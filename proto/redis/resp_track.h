/*
 * resp_track.h: just enough of RESP, read in both directions as the bytes
 * pass, to know when a Redis session may move to another server without
 * its client noticing (a safe point), and what to replay there.
 *
 * Two layers.  resp_reader (resp_read.c) is a streaming reader of one
 * direction:
 * requests (RESP arrays of bulk strings, or inline lines) or replies
 * (every RESP2 and RESP3 type).  It reads type bytes and lengths and
 * skips payloads by count: nothing is copied per message except a
 * command's name and first argument (at most RESP_WORD_MAX bytes each),
 * and the whole of the few commands that set connection state.
 *
 * resp_track pairs a request reader and a reply reader: replies
 * outstanding, MULTI, WATCH, subscriptions (counted from the server's
 * confirmations until none is left, resp_sub.c), MONITOR, RESET, and
 * the last successful AUTH, HELLO, SELECT, CLIENT SETNAME, CLIENT
 * SETINFO and READONLY/READWRITE (each replayed on a new connection, in
 * the order they were sent).  A recorded command may hold a password: it lives
 * only here, is wiped when replaced or freed, and is never logged.
 *
 * Pure: no libevent, no I/O, no logging; allocation only to record a
 * state-setting command.
 */
#ifndef POSTERN_RESP_TRACK_H
#define POSTERN_RESP_TRACK_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define RESP_WORD_MAX	24	/* a command name or first argument kept */
#define RESP_CMD_MAX	1024	/* a state command recorded, at most */
#define RESP_LINE_MAX	48	/* a simple reply line kept */
#define RESP_PENDING	8	/* state commands awaiting their reply */

enum resp_dir {
	RESP_REQUESTS,		/* client to server */
	RESP_REPLIES		/* server to client */
};

/* The commands the tracker acts on (by name, upper case). */
enum resp_cmd {
	RESP_CMD_OTHER,
	RESP_CMD_AUTH,
	RESP_CMD_HELLO,
	RESP_CMD_SELECT,
	RESP_CMD_CLIENT,
	RESP_CMD_READONLY,	/* and READWRITE */
	RESP_CMD_MULTI,
	RESP_CMD_EXEC,		/* and DISCARD */
	RESP_CMD_WATCH,
	RESP_CMD_UNWATCH,
	RESP_CMD_MONITOR,
	RESP_CMD_RESET,
	RESP_CMD_REPL,		/* SYNC, PSYNC, REPLCONF */
	/* Pub/sub, in the order of enum resp_sub_kind (resp_sub.c). */
	RESP_CMD_SUBSCRIBE,
	RESP_CMD_PSUBSCRIBE,
	RESP_CMD_SSUBSCRIBE,
	RESP_CMD_UNSUBSCRIBE,
	RESP_CMD_PUNSUBSCRIBE,
	RESP_CMD_SUNSUBSCRIBE
};

/*
 * One direction's reader.  Zeroed then resp_reader_init().  A tracker's
 * two live in its resp_live part, made only while a message is being
 * read (struct resp_track): the wide fields first, the small states and
 * flags in bytes, so that no padding is left (issue 27).
 */
struct resp_reader {
	enum resp_dir	 dir;
	enum resp_cmd	 kind;		/* request: known once named */
	uint64_t	 num;
	uint64_t	 left;		/* payload bytes left, CRLF included */
	uint64_t	 elems;		/* elements left in the message */
	uint64_t	 argi;		/* index of the current element */
	uint64_t	 nargs;		/* request: the array's length */
	/*
	 * Requests: the whole command while capture is on, in RESP_CMD_MAX
	 * bytes allocated when a state command is named and freed (wiped)
	 * by the tracker once it is read: an idle session holds none.
	 */
	uint8_t		*raw;
	size_t		 rawlen;
	uint8_t		 state;		/* internal */
	uint8_t		 err;		/* not RESP: stuck for good */
	uint8_t		 type;		/* current element's type byte */
	uint8_t		 neg;
	uint8_t		 digits;	/* at most 18 */
	uint8_t		 inword;	/* inline request: where in a word */
	uint8_t		 ihex;		/* inline: a \xH escape's digit */
	uint8_t		 iblank;	/* inline: blanks (2: not just CR) */
	uint8_t		 blankline;	/* the last line: blanks, no word */
	uint8_t		 pubsub;	/* replies: keep pub/sub words */
	uint8_t		 inmsg;		/* inside a top-level message */
	uint8_t		 top;		/* its first type byte ('>': push) */
	uint8_t		 text;		/* keeping this line's text */
	uint8_t		 capture;
	uint8_t		 overflow;	/* did not fit in raw (or no memory) */
	uint8_t		 wlen[2];	/* at most RESP_WORD_MAX */
	uint8_t		 llen;		/* at most RESP_LINE_MAX */
	/*
	 * Captured: name and first argument (requests), upper case; with
	 * pubsub, a reply array's first bulk ("MESSAGE") in word[0] and
	 * its integer (a subscription count) in line.
	 */
	char		 word[2][RESP_WORD_MAX + 1];
	/* Replies: the top-level line of '+' / '-' ("OK", "NOAUTH ..."). */
	char		 line[RESP_LINE_MAX + 1];
};

/* resp_reader_init(rd, dir): ready for the first byte of dir. */
void	resp_reader_init(struct resp_reader *rd, enum resp_dir dir);

/*
 * resp_reader_feed(rd, buf, len, done): read from buf up to the end of
 * the next top-level message; *done says whether one ended there.
 * Returns the bytes read (len unless a message ended first).  Once
 * rd->err is set it reads everything and reports nothing.
 */
size_t	resp_reader_feed(struct resp_reader *rd, const uint8_t *buf,
	    size_t len, int *done);

/* resp_reader_idle(rd): between messages (and not in error). */
int	resp_reader_idle(const struct resp_reader *rd);

/* What a recorded command's reply was; a replay must get the same. */
struct resp_expect {
	uint8_t		 type;		/* '+', '%', '*'... */
	int		 any_body;	/* HELLO: id and version differ */
	char		 line[RESP_LINE_MAX + 1];
};

/* The kinds of recorded state, in no particular order. */
enum resp_slot {
	RESP_SLOT_AUTH,
	RESP_SLOT_HELLO,
	RESP_SLOT_SELECT,
	RESP_SLOT_SETNAME,
	RESP_SLOT_LIBNAME,
	RESP_SLOT_LIBVER,
	RESP_SLOT_READONLY,
	RESP_NSLOTS
};

struct resp_saved {
	uint8_t			*cmd;	/* NULL: nothing recorded; wiped */
	size_t			 len;
	uint64_t		 seq;	/* order sent, x4 (a HELLO is split) */
	struct resp_expect	 want;
};

struct resp_pending {
	uint64_t		 seq;
	enum resp_slot		 slot;
	uint8_t			*cmd;	/* owned until committed; wiped */
	size_t			 len;
};

/* Where a session stands for a move. */
enum resp_safe {
	RESP_BUSY,		/* wait: replies due, MULTI, WATCH, ... */
	RESP_SAFE,		/* may move now, replaying its state */
	RESP_SAFE_CLOSE,	/* idle, but its state cannot be replayed */
	RESP_LOST		/* cannot follow it: never safe */
};

/*
 * Subscriptions (RESP2), counted from the server's (un)subscribe replies
 * (resp_sub.c): a subscriber is back to normal when they reach zero.
 */
enum resp_sub_kind {
	RESP_SUB_CHANNEL,
	RESP_SUB_PATTERN,
	RESP_SUB_SHARD,
	RESP_SUB_KINDS
};

struct resp_sub {
	uint64_t		 n[RESP_SUB_KINDS];	/* subscribed to */
	uint64_t		 total;	/* channels + patterns, as last told */
	uint64_t		 until[RESP_SUB_KINDS];	/* changers answered */
	uint64_t		 resets;	/* RESETs not yet answered */
	uint64_t		 reset_seq;	/* the first one's reply */
	uint64_t		 open_at[RESP_SUB_KINDS]; /* open[]'s reply due */
	/* Flags in bytes: every Redis session holds one (issue 27). */
	uint8_t			 zeroed[RESP_SUB_KINDS]; /* last: all gone */
	uint8_t			 on;	/* replies read for pub/sub */
	uint8_t			 sticky; /* RESP3: not followed, to the end */
	uint8_t			 reset_ends;	/* 1: MONITOR, 2: sticky */
	uint8_t			 late;	/* the same, begun after RESET sent */
	/* An UNSUBSCRIBE of all whose count is unknown, of each kind. */
	uint8_t			 open[RESP_SUB_KINDS];
};

/*
 * What a tracker holds only while it is in use: the two readers while a
 * message is read piece by piece (or a state command recorded), the
 * subscription counts while subscribed or a (un)subscribe or RESET is
 * answered.  Made when first needed, freed once both readers are
 * between messages, nothing is recorded and the counts are all zero:
 * an idle session holds none (480 bytes, issue 27).  Plain requests and
 * replies read whole by the fast paths need none.
 */
struct resp_live {
	struct resp_reader	 req, rep;
	struct resp_sub		 sub;
};

struct resp_track {
	struct resp_live	*live;		/* NULL: at rest (see above) */
	uint64_t		 sent;		/* commands that get a reply */
	uint64_t		 answered;	/* top-level replies */
	uint64_t		 gen;		/* bumped when state changes */
	uint64_t		 multi_seq;	/* the MULTI's reply */
	uint64_t		 monitor_seq;	/* the MONITOR's reply */
	uint64_t		 unwatch_at;	/* EXEC/DISCARD's reply + 1; 0: none */
	const char		*unreplayable;	/* why; NULL: replayable */
	const char		*lost;		/* why; NULL: followed */
	/*
	 * Allocated when first needed, so that an idle session that never
	 * set state holds neither: pending (RESP_PENDING slots) while a
	 * state command awaits its reply, saved (RESP_NSLOTS) from the
	 * first one kept to the end.
	 */
	struct resp_pending	*pending;
	size_t			 npending;
	struct resp_saved	*saved;
	/* Flags in bytes, last: no padding between wide fields. */
	uint8_t			 multi, watch, subscribed, monitor;
	uint8_t			 resp3;
	uint8_t			 lib_unrecorded; /* RESET keeps what was lost */
};

/* resp_track_init(t): a new session's tracker. */
void	resp_track_init(struct resp_track *t);

/*
 * resp_track_clear(t): wipe and free what it recorded, and its live
 * part.
 */
void	resp_track_clear(struct resp_track *t);

/* resp_track_client(t, buf, len): bytes the client sent, as read. */
void	resp_track_client(struct resp_track *t, const uint8_t *buf,
	    size_t len);

/* resp_track_server(t, buf, len): bytes the server sent, as read. */
void	resp_track_server(struct resp_track *t, const uint8_t *buf,
	    size_t len);

/*
 * resp_track_between(t, dir): is direction dir between messages (and
 * not in error)?
 */
int	resp_track_between(const struct resp_track *t, enum resp_dir dir);

/* resp_track_safe(t): may the session move now? */
enum resp_safe resp_track_safe(const struct resp_track *t);

/*
 * resp_track_why(t): for RESP_BUSY, RESP_SAFE_CLOSE and RESP_LOST, a
 * short reason for logs ("inside MULTI"); never a command's arguments.
 */
const char *resp_track_why(const struct resp_track *t);

/*
 * resp_track_replay(t, out, want, nwant, names, nameslen): append the
 * recorded commands to out in the order they were sent, their expected
 * replies to want (room for RESP_NSLOTS), and their names to names
 * ("AUTH, SELECT", for logs).  Returns how many, or -1 when out of
 * memory.  Each command goes into out as a reference to its own copy,
 * which is wiped and freed once out has sent or dropped it: no
 * password is left behind in evbuffer memory.
 */
int	resp_track_replay(const struct resp_track *t, struct evbuffer *out,
	    struct resp_expect *want, char *names, size_t nameslen);

/* resp_expect_match(want, rd): does the reply rd just read match? */
int	resp_expect_match(const struct resp_expect *want,
	    const struct resp_reader *rd);

#endif
