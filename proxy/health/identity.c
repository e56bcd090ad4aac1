/*
 * identity.c: the identity guard's verdicts.
 *
 * A verdict is a string in the route ("" when accepted); only this file
 * writes it.  Verdicts are recomputed for every route whenever any route
 * reports, because the preferred route's report moves the reference for
 * all of them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "identity.h"
#include "log.h"
#include "route.h"

/* "system 7312..." or "postern:identity 'prod-eu'", for log lines. */
static void
identity_show(const struct conf_service *cs, const char *v, char *buf,
    size_t len)
{
	if (conf_check_kind(cs) == CHECK_POSTGRES)
		snprintf(buf, len, "system %s", v);
	else
		snprintf(buf, len, "%.40s '%.100s'", cs->identity_key, v);
}

/* Why route i may not be used, or "" when it may. */
static void
identity_verdict(struct route **routes, size_t i,
    const struct conf_service *cs, char *why, size_t len)
{
	const struct route	*r = routes[i], *pref = routes[0];
	const char		*ref = cs->identity_value;
	char			 mine[160], theirs[160];

	why[0] = '\0';
	if (!cs->identity_on || (ref == NULL && i == 0))
		return;		/* the preferred route is the reference */
	if (ref == NULL && pref->identity[0] == '\0') {
		snprintf(why, len, "identity not verified: %s, the preferred "
		    "route, has not reported its identity yet (pin "
		    "identity_value to accept routes without it)",
		    pref->cr->name);
		return;
	}
	if (r->identity[0] == '\0') {
		snprintf(why, len, "identity not verified yet");
		return;
	}
	if (strcmp(r->identity, ref != NULL ? ref : pref->identity) == 0)
		return;
	identity_show(cs, r->identity, mine, sizeof(mine));
	identity_show(cs, ref != NULL ? ref : pref->identity, theirs,
	    sizeof(theirs));
	if (ref != NULL)
		snprintf(why, len, "identity mismatch: %.100s but "
		    "identity_value is %.100s", mine, theirs);
	else
		snprintf(why, len, "identity mismatch: %.100s but %.64s has "
		    "%.100s", mine, pref->cr->name, theirs);
}

/* Set route i's verdict; log and notify when it changed. */
static void
identity_apply(struct route **routes, size_t i,
    const struct conf_service *cs)
{
	struct route	*r = routes[i];
	char		 why[sizeof(r->refused)];

	identity_verdict(routes, i, cs, why, sizeof(why));
	if (strcmp(why, r->refused) == 0)
		return;
	if (why[0] == '\0')
		log_notice("%s: identity verified; route accepted", r->label);
	else if (strncmp(why, "identity mismatch", 17) == 0)
		log_warnx("%s: %s; route refused", r->label, why);
	else
		log_notice("%s: %s; route refused", r->label, why);
	snprintf(r->refused, sizeof(r->refused), "%s", why);
	if (r->notify != NULL)
		r->notify(r, r->notify_arg);
}

void
identity_judge(struct route **routes, size_t n,
    const struct conf_service *cs)
{
	size_t	i;

	for (i = 0; i < n; i++)
		identity_apply(routes, i, cs);
}

int
identity_report(struct route **routes, size_t n,
    const struct conf_service *cs, struct route *r, const char *observed)
{
	char	was[160], now[160];

	if (!cs->identity_on)
		return (0);
	if (observed != NULL && strcmp(observed, r->identity) != 0) {
		if (r->identity[0] != '\0') {
			identity_show(cs, r->identity, was, sizeof(was));
			identity_show(cs, observed, now, sizeof(now));
			log_warnx("%s: identity changed: %s (was %s)",
			    r->label, now, was);
		}
		snprintf(r->identity, sizeof(r->identity), "%s", observed);
	}
	identity_judge(routes, n, cs);
	return (strncmp(r->refused, "identity mismatch", 17) == 0);
}
