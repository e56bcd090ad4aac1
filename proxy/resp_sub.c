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
 * What is not followed stays busy (never the unsafe way): in RESP3,
 * confirmations are pushes and a subscription holds the session until it
 * ends; an UNSUBSCRIBE of everything pipelined behind commands that may
 * change the count it would report loses the stream.
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

int
resp_sub_cmd(enum resp_cmd cmd)
{
	return (cmd >= RESP_CMD_SUBSCRIBE && cmd <= RESP_CMD_SUNSUBSCRIBE);
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
	t->sub.on = on;
	t->rep.pubsub = on;
	t->subscribed = on || t->sub.sticky;
}

uint64_t
resp_sub_request(struct resp_track *t)
{
	struct resp_sub		*sub = &t->sub;
	enum resp_sub_kind	 k = resp_sub_kind(t->req.kind);
	uint64_t		 args, units;

	if (resp_sub_resp3(t)) {
		/* Confirmations are pushes: hold on until the end. */
		sub->sticky = 1;
		resp_sub_set(t, sub->on);
		return (1);
	}
	args = t->req.nargs > 0 ? t->req.nargs - 1 : 0;
	if (args > 0)
		units = args;		/* one confirmation each */
	else if (t->req.kind < RESP_CMD_UNSUBSCRIBE)
		units = 1;		/* an arity error */
	else if (t->answered >= sub->until[k])
		units = sub->n[k] > 0 ? sub->n[k] : 1;
	else if (sub->zeroed[k])
		units = 1;		/* all gone by then: "none" */
	else {
		t->lost = "an UNSUBSCRIBE of all pipelined behind others";
		return (1);
	}
	sub->until[k] = t->sent + units;
	sub->zeroed[k] = args == 0 && t->req.kind >= RESP_CMD_UNSUBSCRIBE;
	resp_sub_set(t, 1);
	return (units);
}

void
resp_sub_reset(struct resp_track *t)
{
	struct resp_sub	*sub = &t->sub;
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

static const struct {
	const char		*word;
	enum resp_sub_kind	 kind;
	int			 message;
} resp_sub_words[] = {
	{ "MESSAGE", RESP_SUB_CHANNEL, 1 },
	{ "PMESSAGE", RESP_SUB_PATTERN, 1 },
	{ "SMESSAGE", RESP_SUB_SHARD, 1 },
	{ "SUBSCRIBE", RESP_SUB_CHANNEL, 0 },
	{ "UNSUBSCRIBE", RESP_SUB_CHANNEL, 0 },
	{ "PSUBSCRIBE", RESP_SUB_PATTERN, 0 },
	{ "PUNSUBSCRIBE", RESP_SUB_PATTERN, 0 },
	{ "SSUBSCRIBE", RESP_SUB_SHARD, 0 },
	{ "SUNSUBSCRIBE", RESP_SUB_SHARD, 0 },
};

int
resp_sub_reply(struct resp_track *t)
{
	struct resp_sub		*sub = &t->sub;
	const struct resp_reader *rd = &t->rep;
	int64_t			 c;
	size_t			 i;

	if (rd->top == '+' && sub->resets > 0 &&
	    strcmp(rd->line, "RESET") == 0) {
		/* RESET: no subscription, no MONITOR, RESP2. */
		sub->resets--;
		memset(sub->n, 0, sizeof(sub->n));
		sub->total = 0;
		if (sub->reset_ends & 1)
			t->monitor = 0;
		if (sub->reset_ends & 2)
			sub->sticky = 0;
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
	if (!sub->on || rd->top != '*')
		return (1);
	for (i = 0; i < sizeof(resp_sub_words) / sizeof(resp_sub_words[0]);
	    i++) {
		if (strcmp(rd->word[0], resp_sub_words[i].word) != 0)
			continue;
		if (resp_sub_words[i].message)	/* pushed, no reply */
			return (sub->n[0] + sub->n[1] + sub->n[2] == 0);
		if ((c = resp_sub_count(rd)) >= 0)
			resp_sub_told(sub, resp_sub_words[i].kind,
			    (uint64_t)c);
		return (1);
	}
	return (1);
}

void
resp_sub_settle(struct resp_track *t)
{
	struct resp_sub	*sub = &t->sub;

	if (sub->on && sub->n[0] + sub->n[1] + sub->n[2] == 0 &&
	    t->answered == t->sent)
		resp_sub_set(t, 0);
}
