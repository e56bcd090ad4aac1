/*
 * follow_cap.c: what a following Redis session keeps of its client's
 * unanswered requests, to send them again on a new route when its own
 * goes down under them (follow.c decides when; resp_ro.h says which
 * requests may go again).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <openssl/crypto.h>

#include "follow.h"
#include "follow_int.h"
#include "resp_ro.h"
#include "resp_track.h"

/*
 * The client bytes of a Redis session's unanswered requests are kept
 * while they fit in this (and only while requests are outstanding: an
 * idle session holds none), to be re-sent on a new route when its own
 * goes down with them unanswered and they are all reads (resp_ro.h).
 */
#define FOLLOW_REPLAY_MAX	(16 * 1024)
#define FOLLOW_REPLAY_MIN	256

/* Forget the unanswered requests' bytes (they may hold a password). */
void
follow_cap_drop(struct follow *f)
{
	if (f->cap != NULL) {
		explicit_bzero(f->cap, f->capsize);
		free(f->cap);
	}
	f->cap = NULL;
	f->caplen = f->capsize = 0;
}

/* Nothing outstanding and no request begun: nothing to re-send. */
int
follow_quiet(const struct resp_track *t)
{
	return (t->sent == t->answered &&
	    resp_track_between(t, RESP_REQUESTS));
}

/*
 * The client's bytes, before the tracker reads them: from a quiet point
 * on, kept until every request among them is answered, unless they
 * outgrow FOLLOW_REPLAY_MAX (then not replayable until the next quiet
 * point).  Grown by doubling: a GET costs one small allocation.
 */
void
follow_cap_add(struct follow *f, const uint8_t *buf, size_t len)
{
	struct resp_track	*t = f->resp;
	uint8_t			*p;
	size_t			 size, keep;

	if (follow_quiet(t)) {
		f->caplen = 0;
		f->cap_over = 0;
		f->cap_answered = t->answered;
	}
	if (f->cap_over || t->subscribed || t->monitor || t->lost != NULL)
		return;
	if (len > FOLLOW_REPLAY_MAX - f->caplen) {
		follow_cap_drop(f);
		f->cap_over = 1;
		return;
	}
	if (f->caplen + len > f->capsize) {
		size = f->capsize > 0 ? f->capsize : FOLLOW_REPLAY_MIN;
		while (size < f->caplen + len)
			size *= 2;
		if (size > FOLLOW_REPLAY_MAX)
			size = FOLLOW_REPLAY_MAX;
		if ((p = malloc(size)) == NULL) {
			follow_cap_drop(f);
			f->cap_over = 1;
			return;
		}
		if ((keep = f->caplen) > 0)
			memcpy(p, f->cap, keep);
		follow_cap_drop(f);	/* wipes the old copy */
		f->cap = p;
		f->caplen = keep;
		f->capsize = size;
	}
	memcpy(f->cap + f->caplen, buf, len);
	f->caplen += len;
}

/*
 * May the unanswered requests go again on the new route?  Only when
 * every one was kept (FOLLOW_REPLAY_MAX), none has been answered even in
 * part, the session's state replays, and each is a read free of side
 * effects (resp_ro.h).  name: the first request's, or the one that may
 * not go again.
 */
int
follow_replayable(const struct follow *f, char *name, size_t namelen)
{
	const struct resp_track	*t = f->resp;

	snprintf(name, namelen, "%s", t != NULL ? resp_track_why(t) : "");
	if (t == NULL || f->cap == NULL)
		return (0);
	return (resp_ro_replayable(f->cap, f->caplen, name, namelen) &&
	    !f->cap_over && t->answered == f->cap_answered &&
	    resp_track_between(t, RESP_REPLIES) && !t->multi && !t->watch &&
	    !t->subscribed && !t->monitor && t->unreplayable == NULL &&
	    t->npending == 0 && t->lost == NULL);
}
