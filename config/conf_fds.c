/*
 * conf_fds.c: the descriptor budget of a configuration (conf_fds.h).
 */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "conf_fds.h"

void
conf_fds_need(const struct conf *c, struct conf_fds *f)
{
	const struct conf_service	*s;
	size_t				 i;

	f->sessions = f->listeners = f->checks = f->ssh = 0;
	for (i = 0; i < c->nservices; i++) {
		s = &c->services[i];
		f->sessions += (unsigned long)s->max_connections;
		f->listeners += s->nlisten;
		if (conf_check_kind(s) != CHECK_NONE)
			f->checks += s->nroutes;
	}
	f->capped = c->max_sessions > 0 &&
	    (unsigned long)c->max_sessions < f->sessions;
	if (f->capped)
		f->sessions = (unsigned long)c->max_sessions;
	for (i = 0; i < c->nbastions; i++)
		f->ssh += (unsigned long)c->bastions[i].max_connections;
	f->admin = c->has_admin ? CONF_FDS_ADMIN : 0;
	f->total = f->sessions * CONF_FDS_PER_SESSION + f->listeners +
	    f->admin + f->checks + f->ssh + CONF_FDS_RESERVE;
}

int
conf_fds_check(const struct conf *c, unsigned long limit, char *msg,
    size_t len)
{
	struct conf_fds	f;
	unsigned long	fixed, fit;

	conf_fds_need(c, &f);
	if (f.total <= limit)
		return (0);
	fixed = f.total - f.sessions * CONF_FDS_PER_SESSION;
	fit = limit > fixed ? (limit - fixed) / CONF_FDS_PER_SESSION : 0;
	snprintf(msg, len, "RLIMIT_NOFILE is %lu, but the caps may need %lu "
	    "descriptors: %lu sessions (%s) x %d + %lu listeners + %lu admin "
	    "+ %lu health checks + %lu SSH connections + %d reserve; %lu "
	    "sessions fit: lower max_connections or set max_sessions, or "
	    "raise the limit (LimitNOFILE=, ulimit -n)", limit, f.total,
	    f.sessions, f.capped ? "max_sessions" : "the services' "
	    "max_connections", CONF_FDS_PER_SESSION, f.listeners, f.admin,
	    f.checks, f.ssh, CONF_FDS_RESERVE, fit);
	return (-1);
}
