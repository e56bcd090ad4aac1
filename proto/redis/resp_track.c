/*
 * resp_track.c: RESP followed as it passes (resp_track.h).  The tracker
 * pairs requests with replies by count, which RESP guarantees (one reply
 * per command) outside the states it refuses to follow (MONITOR until
 * RESET, CLIENT REPLY); subscriptions are counted in units (resp_sub.c);
 * the reader is resp_read.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "resp_int.h"
#include "resp_track.h"

static void
resp_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}


/* ------------------------------------------------------------------ */
/* The tracker. */

static const char *const resp_slot_names[RESP_NSLOTS] = {
	"AUTH", "HELLO", "SELECT", "CLIENT SETNAME", "CLIENT SETINFO",
	"CLIENT SETINFO", "READONLY"
};

void
resp_track_init(struct resp_track *t)
{
	memset(t, 0, sizeof(*t));
}

/* The live part, made when first needed; NULL when out of memory. */
static struct resp_live *
resp_live_get(struct resp_track *t)
{
	if (t->live != NULL)
		return (t->live);
	if ((t->live = calloc(1, sizeof(*t->live))) == NULL)
		return (NULL);
	resp_reader_init(&t->live->req, RESP_REQUESTS);
	resp_reader_init(&t->live->rep, RESP_REPLIES);
	return (t->live);
}

/*
 * Free the live part once it holds nothing a later byte needs: both
 * readers between messages with nothing recorded (a reader's fields are
 * set anew at each message's start), and counts that a new zeroed part
 * reads the same way (resp_sub_idle).  A lost tracker reads nothing
 * more.
 */
static void
resp_live_rest(struct resp_track *t)
{
	struct resp_live	*l = t->live;

	if (l == NULL)
		return;
	if (t->lost == NULL && (!resp_reader_idle(&l->req) ||
	    !resp_reader_idle(&l->rep) || l->req.raw != NULL ||
	    !resp_sub_idle(t)))
		return;
	if (l->req.raw != NULL) {
		explicit_bzero(l->req.raw, RESP_CMD_MAX);
		free(l->req.raw);
	}
	free(l);
	t->live = NULL;
}

int
resp_track_between(const struct resp_track *t, enum resp_dir dir)
{
	if (t->live == NULL)
		return (1);
	return (resp_reader_idle(dir == RESP_REQUESTS ? &t->live->req :
	    &t->live->rep));
}

static void
resp_forget(uint8_t **cmd, size_t *len)
{
	resp_wipe(*cmd, *len);
	free(*cmd);
	*cmd = NULL;
	*len = 0;
}

static void
resp_forget_saved(struct resp_track *t)
{
	size_t	i;

	if (t->saved == NULL)
		return;
	for (i = 0; i < RESP_NSLOTS; i++)
		resp_forget(&t->saved[i].cmd, &t->saved[i].len);
	free(t->saved);
	t->saved = NULL;
}

/* The recording buffer, done with: it may have held a password. */
static void
resp_raw_free(struct resp_reader *rd)
{
	if (rd->raw != NULL) {
		resp_wipe(rd->raw, RESP_CMD_MAX);
		free(rd->raw);
		rd->raw = NULL;
	}
	rd->rawlen = 0;
	rd->capture = 0;
}

/* No state command awaits its reply: the pending slots go. */
static void
resp_pending_drop(struct resp_track *t)
{
	if (t->npending == 0) {
		free(t->pending);
		t->pending = NULL;
	}
}

static int
resp_slot_lib(enum resp_slot slot)
{
	return (slot == RESP_SLOT_LIBNAME || slot == RESP_SLOT_LIBVER);
}

/*
 * RESET was sent: the connection is as new (RESP2, db 0, the default
 * user, no name, no MULTI, WATCH, tracking or MONITOR; subscriptions end
 * with its reply), but for CLIENT SETINFO, which it keeps.  State
 * commands sent before it and not yet answered are forgotten too.
 */
static void
resp_reset(struct resp_track *t)
{
	size_t	i, kept = 0;

	for (i = 0; t->saved != NULL && i < RESP_NSLOTS; i++) {
		if (!resp_slot_lib((enum resp_slot)i))
			resp_forget(&t->saved[i].cmd, &t->saved[i].len);
	}
	for (i = 0; i < t->npending; i++) {
		if (resp_slot_lib(t->pending[i].slot))
			t->pending[kept++] = t->pending[i];
		else
			resp_forget(&t->pending[i].cmd, &t->pending[i].len);
	}
	for (i = kept; i < t->npending; i++)
		memset(&t->pending[i], 0, sizeof(t->pending[i]));
	t->npending = kept;
	resp_pending_drop(t);
	if (!t->lib_unrecorded)
		t->unreplayable = NULL;
	t->multi = t->watch = t->resp3 = 0;
	t->unwatch_at = 0;
	resp_sub_reset(t);
	t->gen++;
}

void
resp_track_clear(struct resp_track *t)
{
	size_t	i;

	resp_forget_saved(t);
	for (i = 0; i < t->npending; i++)
		resp_forget(&t->pending[i].cmd, &t->pending[i].len);
	t->npending = 0;
	resp_pending_drop(t);
	if (t->live != NULL) {
		resp_raw_free(&t->live->req);
		free(t->live);
		t->live = NULL;
	}
}

/*
 * Which slot CLIENT SETINFO fills: by its attribute (argv[2], any case);
 * -1 with t marked for one the tracker does not know.
 */
static int
resp_setinfo_slot(struct resp_track *t)
{
	struct resp_args	a;
	uint8_t			buf[RESP_CMD_MAX];
	int			slot = -1;

	if (resp_args_split(t->live->req.raw, t->live->req.rawlen, buf, &a) == 0) {
		if (resp_args_is(&a, 2, "LIB-NAME"))
			slot = RESP_SLOT_LIBNAME;
		else if (resp_args_is(&a, 2, "LIB-VER"))
			slot = RESP_SLOT_LIBVER;
	}
	explicit_bzero(buf, sizeof(buf));
	if (slot == -1 && !t->live->req.overflow) {
		t->unreplayable = "an unknown CLIENT SETINFO attribute";
		t->lib_unrecorded = 1;
	} else if (slot == -1)
		slot = RESP_SLOT_LIBNAME;	/* resp_pend: too long */
	return (slot);
}

/* Which slot a CLIENT subcommand fills; -1: none.  May mark t. */
static int
resp_client_slot(struct resp_track *t, const char *arg)
{
	if (strcmp(arg, "SETNAME") == 0)
		return (RESP_SLOT_SETNAME);
	if (strcmp(arg, "SETINFO") == 0)
		return (resp_setinfo_slot(t));
	if (strcmp(arg, "REPLY") == 0)
		t->lost = "CLIENT REPLY (replies cannot be counted)";
	else if (strcmp(arg, "TRACKING") == 0 || strcmp(arg, "CACHING") == 0)
		t->unreplayable = "CLIENT TRACKING (push state)";
	else if (strcmp(arg, "NO-EVICT") == 0 ||
	    strcmp(arg, "NO-TOUCH") == 0)
		t->unreplayable = "an unknown state-changing CLIENT command";
	return (-1);
}

/*
 * Will the reply to a command sent now be told from the others?  Not in
 * MONITOR or RESP3 pub/sub, unless a RESET on its way ends them first
 * (its reply restarts the count) and neither began again after it.
 */
static int
resp_counted(const struct resp_track *t)
{
	const struct resp_sub	*sub = &t->live->sub;
	int			 on;

	on = (t->monitor ? 1 : 0) | (sub->sticky ? 2 : 0);
	return (on == 0 || (sub->resets > 0 && (sub->reset_ends & on) == on &&
	    (sub->late & on) == 0));
}

/* A state command was sent: keep it until its reply says it held. */
static void
resp_pend(struct resp_track *t, int slot)
{
	struct resp_pending	*p;
	const char		*why = NULL;

	if (t->multi)
		why = "state set inside MULTI";
	else if (!resp_counted(t))
		/*
		 * Replies are not counted there (RESP3 pushes, MONITOR's
		 * lines): its reply cannot be told.  RESET forgets all but
		 * CLIENT SETINFO, which stays unrecorded.
		 */
		why = "state set where replies are not counted";
	else if (t->live->req.overflow || t->live->req.rawlen == 0)
		why = "a state command too long to record";
	else if (t->npending == RESP_PENDING)
		why = "too many state commands pipelined";
	else if (t->pending == NULL && (t->pending = calloc(RESP_PENDING,
	    sizeof(*t->pending))) == NULL)
		why = "out of memory";
	else if ((t->pending[t->npending].cmd = malloc(t->live->req.rawlen)) == NULL)
		why = "out of memory";
	if (why != NULL) {
		t->unreplayable = why;
		/* RESET keeps CLIENT SETINFO: it cannot make this right. */
		t->lib_unrecorded |= resp_slot_lib((enum resp_slot)slot);
		resp_pending_drop(t);
		return;
	}
	p = &t->pending[t->npending];
	memcpy(p->cmd, t->live->req.raw, t->live->req.rawlen);
	p->len = t->live->req.rawlen;
	p->seq = t->sent;
	p->slot = (enum resp_slot)slot;
	t->npending++;
}

/*
 * An AUTH, or a HELLO with an AUTH clause (or one too long to read),
 * sent where its reply may never come: Redis 7.2 to 8 (and Valkey 8.1)
 * send no error for an AUTH that fails while the client has replies not
 * yet written (addAuthErrReply() gives up on clientHasPendingReplies(),
 * a guard meant for module auth: redis#15640), and one reply short,
 * every later one would be taken for the one before.  Whether it fails
 * is not known when it is sent.  Replies not yet read here may not be
 * written yet (pipelined), and inside MULTI it runs under EXEC's array.
 * With all read, none is pending: RESP2 pub/sub refuses AUTH and HELLO
 * with a plain error, RESP3 pub/sub and MONITOR do not count replies.
 */
static int
resp_auth_unanswerable(const struct resp_track *t)
{
	struct resp_args	a;
	uint8_t			buf[RESP_CMD_MAX];
	int			k, auth = 0;

	if (t->live->req.kind != RESP_CMD_AUTH && t->live->req.kind != RESP_CMD_HELLO)
		return (0);
	if (!t->multi && (t->sent == t->answered || !resp_counted(t)))
		return (0);
	if (t->live->req.kind == RESP_CMD_AUTH || t->live->req.overflow ||
	    t->live->req.raw == NULL || t->live->req.rawlen == 0)
		return (1);
	if (resp_args_split(t->live->req.raw, t->live->req.rawlen, buf, &a) == -1)
		auth = 1;
	/* Its options as helloCommand reads them: SETNAME takes a value. */
	for (k = 2; !auth && k < a.n; k++) {
		auth = resp_args_is(&a, k, "AUTH");
		if (resp_args_is(&a, k, "SETNAME"))
			k++;
	}
	explicit_bzero(buf, sizeof(buf));
	return (auth);
}

static void
resp_request(struct resp_track *t)
{
	uint64_t	units = 1;	/* replies it gets */
	int		slot = -1;

	if (resp_auth_unanswerable(t)) {
		t->lost = "AUTH pipelined behind replies or inside MULTI "
		    "(a failed one may get no reply: Redis 7.2 to 8)";
		resp_raw_free(&t->live->req);
		return;
	}

	/*
	 * Inside MULTI a command is queued (one reply, +QUEUED) and runs at
	 * EXEC: a (un)subscribe's confirmations then come inside and after
	 * EXEC's array (Redis 7 declares one element per command), MONITOR
	 * and HELLO change how replies are read from an EXEC on.  None of
	 * that is followed.
	 */
	if (t->multi && (resp_sub_cmd(t->live->req.kind) ||
	    t->live->req.kind == RESP_CMD_MONITOR || t->live->req.kind == RESP_CMD_HELLO)) {
		t->lost = "pub/sub, MONITOR or HELLO inside MULTI";
		return;
	}
	switch (t->live->req.kind) {
	case RESP_CMD_OTHER:
		break;
	case RESP_CMD_MULTI:
		if (!t->multi)
			t->multi_seq = t->sent;	/* refused: no MULTI */
		t->multi = 1;
		break;
	case RESP_CMD_EXEC:
		/*
		 * EXEC and DISCARD without MULTI are refused and leave the
		 * WATCHed keys watched (Redis 7.0 to 8).  Whether the MULTI
		 * they close was begun is known at their reply (one
		 * pipelined behind a subscription is refused, and so are
		 * they: tests/diff, seed 22709912 on Redis 8.0): the keys
		 * are unwatched there (resp_unwatched).
		 */
		if (t->multi && t->watch)
			t->unwatch_at = t->sent + 1;
		t->multi = 0;
		break;
	case RESP_CMD_WATCH:
		t->watch = 1;
		t->unwatch_at = 0;	/* a later EXEC's reply ends it */
		break;
	case RESP_CMD_UNWATCH:
		/*
		 * Inside MULTI it is queued: the keys stay watched until
		 * EXEC or DISCARD (CLIENT LIST's watch= from Redis 7.4).
		 * Subscribed, RESP2 refuses it: kept watched too (RESP3:
		 * held until RESET anyway).
		 */
		if (!t->multi && !t->live->sub.on)
			t->watch = t->unwatch_at = 0;
		break;
	case RESP_CMD_SUBSCRIBE:
	case RESP_CMD_PSUBSCRIBE:
	case RESP_CMD_SSUBSCRIBE:
	case RESP_CMD_UNSUBSCRIBE:
	case RESP_CMD_PUNSUBSCRIBE:
	case RESP_CMD_SUNSUBSCRIBE:
		units = resp_sub_request(t);
		break;
	case RESP_CMD_MONITOR:
		/*
		 * Its reply is told (refused: none) unless it is sent in
		 * MONITOR, where it gets none; the first behind a RESET
		 * that ends MONITOR runs after it, and gets one.
		 */
		if (!t->monitor || (t->live->sub.resets > 0 &&
		    (t->live->sub.reset_ends & 1) && !(t->live->sub.late & 1)))
			t->monitor_seq = t->sent;
		t->monitor = 1;
		if (t->live->sub.resets > 0)
			t->live->sub.late |= 1;	/* RESET's reply ends not this */
		break;
	case RESP_CMD_RESET:
		resp_reset(t);
		break;
	case RESP_CMD_REPL:
		/*
		 * After SYNC/PSYNC the server streams an RDB and then the
		 * commands it runs, none a reply; REPLCONF is only sent by
		 * replicas.  Such a session is never followed.
		 */
		t->lost = "a replication stream (SYNC, PSYNC, REPLCONF)";
		break;
	case RESP_CMD_AUTH:
		slot = RESP_SLOT_AUTH;
		break;
	case RESP_CMD_HELLO:
		slot = RESP_SLOT_HELLO;
		break;
	case RESP_CMD_SELECT:
		slot = RESP_SLOT_SELECT;
		break;
	case RESP_CMD_READONLY:
		slot = RESP_SLOT_READONLY;
		break;
	case RESP_CMD_CLIENT:
		slot = resp_client_slot(t, t->live->req.word[1]);
		break;
	}
	if (slot != -1)
		resp_pend(t, slot);
	t->sent += units;
	/* Done with the text: it may have been a password. */
	if (t->live->req.raw != NULL)
		resp_raw_free(&t->live->req);
}

/*
 * Slot slot now holds cmd (taken), sent in the order given, whose reply
 * was the one just read (or, with ok, +OK).
 */
static void
resp_save(struct resp_track *t, enum resp_slot slot, uint8_t *cmd,
    size_t len, uint64_t order, int ok)
{
	struct resp_saved	*sv;

	if (t->saved == NULL && (t->saved = calloc(RESP_NSLOTS,
	    sizeof(*t->saved))) == NULL) {
		resp_forget(&cmd, &len);
		t->unreplayable = "out of memory";
		return;
	}
	sv = &t->saved[slot];
	resp_forget(&sv->cmd, &sv->len);
	sv->cmd = cmd;
	sv->len = len;
	sv->seq = order;
	memset(&sv->want, 0, sizeof(sv->want));
	if (ok) {
		sv->want.type = '+';
		strcpy(sv->want.line, "OK");
		return;
	}
	sv->want.type = t->live->rep.top;
	memcpy(sv->want.line, t->live->rep.line, sizeof(sv->want.line));
	sv->want.any_body = slot == RESP_SLOT_HELLO;
}

/*
 * A HELLO succeeded: its protocol version, its AUTH and its SETNAME are
 * kept apart (a later HELLO 3 does not undo an AUTH), replayed in the
 * order the server applied them (AUTH, SETNAME, protocol).  A HELLO
 * without arguments changes nothing; one that cannot be read makes the
 * session unreplayable.
 */
static void
resp_hello_done(struct resp_track *t, struct resp_pending *p)
{
	struct resp_args_hello	h;

	t->resp3 = t->live->rep.top == '%';
	if (resp_args_hello(p->cmd, p->len, &h) == -1) {
		t->unreplayable = "a HELLO the tracker cannot read";
		return;
	}
	if (h.auth != NULL)
		resp_save(t, RESP_SLOT_AUTH, h.auth, h.auth_len, p->seq * 4, 1);
	if (h.setname != NULL)
		resp_save(t, RESP_SLOT_SETNAME, h.setname, h.setname_len,
		    p->seq * 4 + 1, 1);
	if (h.hello != NULL)
		resp_save(t, RESP_SLOT_HELLO, h.hello, h.hello_len,
		    p->seq * 4 + 2, 0);
	t->gen++;
}

static void	resp_commit(struct resp_track *, struct resp_pending *);

/*
 * The reply of the EXEC or DISCARD that may end WATCH: it did unless
 * refused (no MULTI begun; EXECABORT discards and unwatches too).
 */
static void
resp_unwatched(struct resp_track *t)
{
	if (t->live->rep.top != '-' || strncmp(t->live->rep.line, "EXECABORT", 9) == 0)
		t->watch = 0;
	t->unwatch_at = 0;
}

/*
 * How far answered may go.  Before the reply of a RESET that ends
 * MONITOR or RESP3 pub/sub, what comes is no count (MONITOR's lines,
 * confirmations of a subscription taken for RESP3 that was not): it
 * must not reach the commands pipelined behind the RESET, which are
 * counted from its reply, or one of those lines would be taken for
 * their reply (a CLIENT SETNAME "answered" by a confirmation: tests/diff,
 * seed 348483894).
 */
static uint64_t
resp_counted_to(const struct resp_track *t)
{
	if (t->live->sub.resets > 0 && t->live->sub.reset_ends != 0)
		return (t->live->sub.reset_seq);
	return (t->sent);
}

static void
resp_reply(struct resp_track *t)
{
	struct resp_pending	*p;
	uint64_t		 seq = t->answered;

	if (t->live->rep.top == '>')
		return;		/* a RESP3 push is no reply */
	if (t->live->sub.on || t->live->sub.resets > 0) {
		if (!resp_sub_reply(t))
			return;	/* a published message */
		seq = t->answered;
	}
	if (t->live->rep.top == '-' && !t->live->sub.sticky) {
		/*
		 * MULTI or MONITOR refused (subscribed, ...): not begun.  Not
		 * where replies are not counted (RESP3 pub/sub, MONITOR's
		 * lines): there the error may be another command's.
		 */
		if (t->multi && !t->monitor && seq == t->multi_seq)
			t->multi = 0;
		if (t->monitor && seq == t->monitor_seq)
			t->monitor = 0;
	}
	if (t->unwatch_at != 0 && seq + 1 == t->unwatch_at)
		resp_unwatched(t);
	if (t->answered < resp_counted_to(t))
		t->answered++;
	if (t->live->sub.on)
		resp_sub_settle(t);
	if (t->npending == 0 || (p = &t->pending[0])->seq != seq)
		return;
	resp_commit(t, p);
}

/*
 * The reply to the first pending state command came: keep or drop it.
 * Kept out of resp_reply, which every reply goes through: inlined, it
 * made resp_reply's prologue dearer for all (tests/bench/track.sh).
 */
static void __attribute__((noinline))
resp_commit(struct resp_track *t, struct resp_pending *p)
{
	if (t->live->rep.top == '-' || t->live->rep.top == '!') {
		resp_forget(&p->cmd, &p->len);	/* refused: nothing changed */
	} else if (p->slot == RESP_SLOT_HELLO) {
		resp_hello_done(t, p);
		resp_forget(&p->cmd, &p->len);
	} else {
		resp_save(t, p->slot, p->cmd, p->len, p->seq * 4 + 2, 0);
		p->cmd = NULL;
		p->len = 0;
		t->gen++;
	}
	memmove(&t->pending[0], &t->pending[1],
	    (t->npending - 1) * sizeof(t->pending[0]));
	t->npending--;
	memset(&t->pending[t->npending], 0, sizeof(t->pending[0]));
	resp_pending_drop(t);
}

/*
 * The hot path: a run of whole plain requests (or replies) is counted in
 * one go.  Only in a plain session (nothing pending, not subscribed, no
 * RESET on its way, not in MONITOR, no EXEC's reply awaited for WATCH),
 * where resp_request and resp_reply do nothing else for
 * them than count; other messages go to those one at a time.
 */
static int
resp_plain(const struct resp_track *t)
{
	return (t->npending == 0 && !t->subscribed && !t->monitor &&
	    (t->live == NULL || (!t->live->sub.on &&
	    t->live->sub.resets == 0)) && t->unwatch_at == 0);
}

/* The length of the array at buf, a whole request the fast path read. */
static uint64_t
resp_fast_nargs(const uint8_t *buf, size_t len)
{
	uint64_t	n = 0;
	size_t		i;

	for (i = 1; i < len && i < 20 && (unsigned)(buf[i] - '0') <= 9; i++)
		n = n * 10 + (uint64_t)(buf[i] - '0');
	return (n);
}

void
resp_track_client(struct resp_track *t, const uint8_t *buf, size_t len)
{
	enum resp_cmd	kind = RESP_CMD_OTHER;
	uint64_t	count;
	size_t		n;
	int		done;

	while (len > 0 && t->lost == NULL) {
		if ((t->live == NULL || !t->live->req.inmsg) &&
		    resp_plain(t) &&
		    (n = resp_fast_plain(buf, len, &count)) > 0) {
			if (t->live != NULL)
				t->live->req.kind = RESP_CMD_OTHER;
			t->sent += count;
		} else if (resp_live_get(t) == NULL) {
			t->lost = "out of memory";
			break;
		} else if (!t->live->req.inmsg &&
		    (n = resp_fast_request(buf, len, &kind)) > 0) {
			t->live->req.kind = kind;
			t->live->req.rawlen = 0;
			if (resp_sub_cmd(kind)) {
				/* Replies are counted by arguments. */
				t->live->req.top = '*';
				t->live->req.nargs = resp_fast_nargs(buf, len);
			}
			resp_request(t);
		} else {
			n = resp_reader_feed(&t->live->req, buf, len, &done);
			if (t->live->req.err)
				t->lost = "the client's bytes are not RESP";
			else if (done)
				resp_request(t);
			else if (t->live->req.blankline)
				/*
				 * Valkey 8.1 then reads the next command
				 * inline, "*1" and all (Redis: as RESP);
				 * an empty line is ignored by both.
				 */
				t->lost = "a line of blanks (Valkey 8.1 reads "
				    "the next command inline)";
		}
		buf += n;
		len -= n;
	}
	resp_live_rest(t);
}

void
resp_track_server(struct resp_track *t, const uint8_t *buf, size_t len)
{
	uint64_t	count;
	size_t		n;
	int		done;
	uint8_t		top;

	while (len > 0 && t->lost == NULL) {
		if ((t->live == NULL || !t->live->rep.inmsg) &&
		    resp_plain(t) &&
		    (n = resp_fast_flats(buf, len, &count, &top)) > 0) {
			/* No push among them: each answers a request. */
			t->answered = t->sent - t->answered > count ?
			    t->answered + count : t->sent;
			if (t->live != NULL) {
				t->live->rep.top = top;
				t->live->rep.llen = 0;
				t->live->rep.line[0] = '\0';
			}
		} else if (resp_live_get(t) == NULL) {
			t->lost = "out of memory";
			break;
		} else if (!t->live->rep.inmsg &&
		    (n = resp_fast_reply(&t->live->rep, buf, len)) > 0) {
			resp_reply(t);
		} else {
			n = resp_reader_feed(&t->live->rep, buf, len, &done);
			if (t->live->rep.err)
				t->lost = "the server's bytes are not RESP";
			else if (done)
				resp_reply(t);
		}
		buf += n;
		len -= n;
	}
	resp_live_rest(t);
}

enum resp_safe
resp_track_safe(const struct resp_track *t)
{
	if (t->lost != NULL)
		return (RESP_LOST);
	if (t->sent != t->answered || !resp_track_between(t, RESP_REQUESTS) ||
	    !resp_track_between(t, RESP_REPLIES) || t->multi || t->watch ||
	    t->subscribed || t->monitor)
		return (RESP_BUSY);
	return (t->unreplayable != NULL ? RESP_SAFE_CLOSE : RESP_SAFE);
}

const char *
resp_track_why(const struct resp_track *t)
{
	if (t->lost != NULL)
		return (t->lost);
	if (t->subscribed)
		return ("subscribed");
	if (t->monitor)
		return ("in MONITOR");
	if (t->multi)
		return ("inside MULTI");
	if (t->watch)
		return ("WATCHing keys");
	if (t->sent != t->answered || !resp_track_between(t, RESP_REQUESTS) ||
	    !resp_track_between(t, RESP_REPLIES))
		return ("a reply is outstanding");
	if (t->unreplayable != NULL)
		return (t->unreplayable);
	return ("idle");
}

static void
resp_wipe_cleanup(const void *data, size_t len, void *arg)
{
	resp_wipe((void *)(uintptr_t)data, len);
	free((void *)(uintptr_t)data);
}

int
resp_track_replay(const struct resp_track *t, struct evbuffer *out,
    struct resp_expect *want, char *names, size_t nameslen)
{
	const struct resp_saved	*order[RESP_NSLOTS], *tmp;
	uint8_t			*copy;
	size_t			 i, j, n = 0;

	for (i = 0; t->saved != NULL && i < RESP_NSLOTS; i++) {
		if (t->saved[i].cmd != NULL)
			order[n++] = &t->saved[i];
	}
	for (i = 1; i < n; i++) {	/* in the order they were sent */
		for (j = i; j > 0 && order[j - 1]->seq > order[j]->seq; j--) {
			tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	}
	if (nameslen > 0)
		names[0] = '\0';
	for (i = 0; i < n; i++) {
		if ((copy = malloc(order[i]->len)) == NULL)
			return (-1);
		memcpy(copy, order[i]->cmd, order[i]->len);
		if (evbuffer_add_reference(out, copy, order[i]->len,
		    resp_wipe_cleanup, NULL) != 0) {
			resp_wipe_cleanup(copy, order[i]->len, NULL);
			return (-1);
		}
		want[i] = order[i]->want;
		if (i > 0)
			strncat(names, ", ", nameslen - strlen(names) - 1);
		strncat(names, resp_slot_names[order[i] - t->saved],
		    nameslen - strlen(names) - 1);
	}
	return ((int)n);
}

int
resp_expect_match(const struct resp_expect *want,
    const struct resp_reader *rd)
{
	if (rd->top != want->type)
		return (0);
	return (want->any_body || strcmp(want->line, rd->line) == 0);
}
