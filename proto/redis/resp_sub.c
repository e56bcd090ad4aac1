/*
 * resp_sub.c: subscriptions followed for resp_track.c, so that a
 * subscriber that unsubscribed from everything (or sent RESET) is an
 * ordinary connection again, one that may move.
 *
 * In RESP2 a subscribed connection breaks the one-reply-per-command rule
 * the tracker pairs by: SUBSCRIBE a b c gets three replies, UNSUBSCRIBE
 * with no argument one per channel it had (or one when it had none), and
 * published messages arrive in between.  So while pub/sub is on, the
 * tracker counts replies in units: a (un)subscribe confirmation or any
 * other reply is one; a message is none.  The server's confirmations
 * carry the subscription count: ["unsubscribe", channel, count], where
 * count covers channels and patterns together and shard channels apart.
 *
 * An UNSUBSCRIBE of everything pipelined behind commands that change the
 * count it will report is *open*: one reply expected, and one more each
 * time a confirmation of it leaves some of its kind (later sequence
 * numbers shift by one); one open per kind.  What is not followed stays
 * busy (never the unsafe way): in RESP3, confirmations are pushes and a
 * subscription holds the session until RESET or the end; an UNSUBSCRIBE
 * of all behind an open one and another change of its kind loses the
 * stream.
 */
#include "config.h"

#include <string.h>

#include "resp_int.h"
#include "resp_track.h"

/* A pub/sub command's kind of subscription (enum resp_cmd order). */
static enum resp_sub_kind
resp_sub_kind(enum resp_cmd cmd)
{
	return ((enum resp_sub_kind)((cmd - RESP_CMD_SUBSCRIBE) %
	    RESP_SUB_KINDS));
}

/* A HELLO not yet answered may switch the protocol. */
static int
resp_sub_resp3(const struct resp_track *t)
{
	size_t	i;

	if (t->resp3)
		return (1);
	for (i = 0; i < t->npending; i++) {
		if (t->pending[i].slot == RESP_SLOT_HELLO)
			return (1);
	}
	return (0);
}

static void
resp_sub_set(struct resp_track *t, int on)
{
	t->live->sub.on = on;
	t->live->rep.pubsub = on;
	t->subscribed = on || t->live->sub.sticky;
}

uint64_t
resp_sub_request(struct resp_track *t)
{
	struct resp_sub		*sub = &t->live->sub;
	enum resp_sub_kind	 k = resp_sub_kind(t->live->req.kind);
	uint64_t		 args, units;

	if (resp_sub_resp3(t)) {
		/* Confirmations are pushes: hold on until the end. */
		sub->sticky = 1;
		if (sub->resets > 0)
			sub->late |= 2;	/* RESET's reply ends not this */
		resp_sub_set(t, sub->on);
		return (1);
	}
	args = t->live->req.nargs > 0 ? t->live->req.nargs - 1 : 0;
	if (args > 0)
		units = args;		/* one confirmation each */
	else if (t->live->req.kind < RESP_CMD_UNSUBSCRIBE)
		units = 1;		/* an arity error */
	else if (t->answered >= sub->until[k])
		units = sub->n[k] > 0 ? sub->n[k] : 1;
	else if (sub->zeroed[k])
		units = 1;		/* all gone by then: "none" */
	else if (!sub->open[k]) {
		sub->open[k] = 1;	/* counted as its replies come */
		sub->open_at[k] = t->sent;
		units = 1;
	} else {
		t->lost = "UNSUBSCRIBEs of all pipelined behind others";
		return (1);
	}
	sub->until[k] = t->sent + units;
	sub->zeroed[k] = args == 0 && t->live->req.kind >= RESP_CMD_UNSUBSCRIBE;
	resp_sub_set(t, 1);
	return (units);
}

int
resp_sub_idle(const struct resp_track *t)
{
	const struct resp_sub	*sub = &t->live->sub;
	int			 k;

	if (sub->on || sub->sticky || sub->resets > 0 || sub->total > 0 ||
	    sub->late != 0 || sub->reset_ends != 0)
		return (0);
	for (k = 0; k < RESP_SUB_KINDS; k++) {
		/* zeroed[k] and open_at[k] count only before until[k]. */
		if (sub->n[k] > 0 || sub->open[k] ||
		    sub->until[k] > t->answered)
			return (0);
	}
	return (1);
}

void
resp_sub_reset(struct resp_track *t)
{
	struct resp_sub	*sub = &t->live->sub;
	int		 k;

	if (sub->resets == 0) {
		sub->reset_seq = t->sent;
		sub->reset_ends = (t->monitor ? 1 : 0) | (sub->sticky ? 2 : 0);
	} else if (t->monitor || sub->sticky)
		t->lost = "RESETs pipelined where replies are not counted";
	sub->resets++;
	for (k = 0; k < RESP_SUB_KINDS; k++) {
		sub->until[k] = t->sent + 1;
		sub->zeroed[k] = 1;
	}
}

/* The subscription count in a confirmation; -1 when there is none. */
static int64_t
resp_sub_count(const struct resp_reader *rd)
{
	uint64_t	v = 0;
	size_t		i;

	if (rd->llen == 0 || rd->llen > 18)
		return (-1);
	for (i = 0; i < rd->llen; i++) {
		if ((unsigned)(rd->line[i] - '0') > 9)
			return (-1);
		v = v * 10 + (uint64_t)(rd->line[i] - '0');
	}
	return ((int64_t)v);
}

/* A confirmation of kind k with count c: what it changed. */
static void
resp_sub_told(struct resp_sub *sub, enum resp_sub_kind k, uint64_t c)
{
	if (k == RESP_SUB_SHARD) {
		sub->n[k] = c;
		return;
	}
	/* One channel or pattern comes or goes (or none: known, unknown). */
	if (c > sub->total)
		sub->n[k] += c - sub->total;
	else if (sub->total - c <= sub->n[k])
		sub->n[k] -= sub->total - c;
	else
		sub->n[k] = 0;
	sub->total = c;
}

enum {
	RESP_SUB_MESSAGE,	/* published: no reply */
	RESP_SUB_ADDED,		/* a subscribe confirmation */
	RESP_SUB_REMOVED	/* an unsubscribe confirmation */
};

static const struct {
	const char		*word;
	enum resp_sub_kind	 kind;
	int			 what;
} resp_sub_words[] = {
	{ "MESSAGE", RESP_SUB_CHANNEL, RESP_SUB_MESSAGE },
	{ "PMESSAGE", RESP_SUB_PATTERN, RESP_SUB_MESSAGE },
	{ "SMESSAGE", RESP_SUB_SHARD, RESP_SUB_MESSAGE },
	{ "SUBSCRIBE", RESP_SUB_CHANNEL, RESP_SUB_ADDED },
	{ "UNSUBSCRIBE", RESP_SUB_CHANNEL, RESP_SUB_REMOVED },
	{ "PSUBSCRIBE", RESP_SUB_PATTERN, RESP_SUB_ADDED },
	{ "PUNSUBSCRIBE", RESP_SUB_PATTERN, RESP_SUB_REMOVED },
	{ "SSUBSCRIBE", RESP_SUB_SHARD, RESP_SUB_ADDED },
	{ "SUNSUBSCRIBE", RESP_SUB_SHARD, RESP_SUB_REMOVED },
};

/*
 * The open UNSUBSCRIBE of kind k gets one more reply, after the one due
 * now: later sequence numbers shift.
 */
static void
resp_sub_more(struct resp_track *t, enum resp_sub_kind k)
{
	struct resp_sub	*sub = &t->live->sub;
	uint64_t	 from = sub->open_at[k] + 1;
	size_t		 i;

	for (i = 0; i < t->npending; i++) {
		if (t->pending[i].seq >= from)
			t->pending[i].seq++;
	}
	for (i = 0; i < RESP_SUB_KINDS; i++) {
		if (sub->until[i] >= from)
			sub->until[i]++;
		if (sub->open[i] && sub->open_at[i] >= from)
			sub->open_at[i]++;
	}
	if (sub->resets > 0 && sub->reset_seq >= from)
		sub->reset_seq++;
	if (t->multi_seq >= from)
		t->multi_seq++;
	if (t->monitor_seq >= from)
		t->monitor_seq++;
	if (t->unwatch_at > from)
		t->unwatch_at++;
	t->sent++;
	sub->open_at[k]++;
}

/* The open UNSUBSCRIBE whose reply is the one read now, or -1. */
static int
resp_sub_due(const struct resp_track *t)
{
	int	k;

	for (k = 0; k < RESP_SUB_KINDS; k++) {
		if (t->live->sub.open[k] && t->live->sub.open_at[k] == t->answered)
			return (k);
	}
	return (-1);
}

int
resp_sub_reply(struct resp_track *t)
{
	struct resp_sub		*sub = &t->live->sub;
	const struct resp_reader *rd = &t->live->rep;
	int64_t			 c;
	size_t			 i;
	int			 k;

	if (rd->top == '+' && sub->resets > 0 &&
	    strcmp(rd->line, "RESET") == 0) {
		/* RESET: no subscription, no MONITOR, RESP2. */
		sub->resets--;
		for (k = 0; k < RESP_SUB_KINDS; k++) {
			/* Those sent after RESET stay open (pipelined). */
			if (sub->open[k] && sub->open_at[k] < sub->reset_seq)
				sub->open[k] = 0;
		}
		memset(sub->n, 0, sizeof(sub->n));
		sub->total = 0;
		/*
		 * A MONITOR or RESP3 subscription begun after the RESET was
		 * sent is still on (pipelined behind it).
		 */
		if ((sub->reset_ends & 1) && !(sub->late & 1))
			t->monitor = 0;
		if ((sub->reset_ends & 2) && !(sub->late & 2))
			sub->sticky = 0;
		sub->late = 0;
		if (sub->reset_ends != 0) {
			/*
			 * What MONITOR printed was no reply, and RESP3
			 * confirmations none that was counted: every
			 * command before RESET is done, count anew.
			 */
			t->answered = sub->reset_seq;
			sub->reset_ends = 0;
		}
		resp_sub_set(t, sub->on);
		return (1);
	}
	if (!sub->on)
		return (1);
	for (i = 0; rd->top == '*' &&
	    i < sizeof(resp_sub_words) / sizeof(resp_sub_words[0]); i++) {
		if (strcmp(rd->word[0], resp_sub_words[i].word) == 0)
			break;
	}
	if (rd->top != '*' || i == sizeof(resp_sub_words) /
	    sizeof(resp_sub_words[0])) {
		if ((k = resp_sub_due(t)) != -1)
			sub->open[k] = 0;	/* an error: its one reply */
		return (1);
	}
	if (resp_sub_words[i].what == RESP_SUB_MESSAGE)	/* no reply */
		return (sub->n[0] + sub->n[1] + sub->n[2] == 0);
	if ((c = resp_sub_count(rd)) >= 0)
		resp_sub_told(sub, resp_sub_words[i].kind, (uint64_t)c);
	if ((k = resp_sub_due(t)) != -1) {
		if (resp_sub_words[i].what == RESP_SUB_REMOVED &&
		    resp_sub_words[i].kind == (enum resp_sub_kind)k &&
		    c >= 0 && sub->n[k] > 0)
			resp_sub_more(t, (enum resp_sub_kind)k); /* more due */
		else
			sub->open[k] = 0;
	}
	return (1);
}

/*
 * Not in MONITOR, nor in RESP3 pub/sub: there answered is no count (a
 * MONITOR line passes for a reply, a push for none), and a subscription
 * made there, or pipelined behind the RESET that ends them, would be
 * taken for settled before its confirmations came (tests/diff, seed
 * 374442320).  RESET's reply counts anew and settles it.
 */
void
resp_sub_settle(struct resp_track *t)
{
	struct resp_sub	*sub = &t->live->sub;

	if (sub->on && !t->monitor && !sub->sticky &&
	    sub->n[0] + sub->n[1] + sub->n[2] == 0 && t->answered == t->sent)
		resp_sub_set(t, 0);
}
