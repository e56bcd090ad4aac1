/*
 * identity.h: the identity guard.  Each check that reads an identity
 * (PostgreSQL's system_identifier, a Redis identity_key's value) records
 * it in its route; a route whose identity differs from the reference is
 * refused: route_usable() and the last resort skip it.  The reference is
 * identity_value when pinned, else the last identity the preferred route
 * (the first configured) reported, kept while that route is down.  Before
 * the preferred route has ever reported, the other routes are refused
 * (not verified): serving an unverified dataset is what the guard is for.
 * DESIGN.md, "Identity guard", has the reasons.
 */
#ifndef POSTERN_IDENTITY_H
#define POSTERN_IDENTITY_H

#include <stddef.h>

struct conf_service;
struct route;

/*
 * identity_report(routes, n, cs, r, observed): r's check read observed
 * (NULL: it read nothing this time; r keeps its last identity).  Judges
 * every route of the service again (the reference may have moved), logs
 * each change of verdict once and calls the notify hook of each route
 * whose usability changed.  Returns 1 when r itself is refused because
 * its identity differs (the check counts as failed), else 0.  routes are
 * the service's routes in configured order; nothing is kept.
 */
int	identity_report(struct route **routes, size_t n,
	    const struct conf_service *cs, struct route *r,
	    const char *observed);

/*
 * identity_judge(routes, n, cs): judge every route again without a new
 * observation (a new service over carried-over routes, after a reload).
 */
void	identity_judge(struct route **routes, size_t n,
	    const struct conf_service *cs);

#endif
