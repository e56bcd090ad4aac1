/*
 * conf_fds.h: the descriptors a configuration may need at its caps, to
 * compare with RLIMIT_NOFILE at load (postern -n, start, reload): a cap
 * the limit cannot hold is no cap, and the sessions beyond what fits
 * meet EMFILE instead of a clear refusal.
 */
#ifndef POSTERN_CONF_FDS_H
#define POSTERN_CONF_FDS_H

#include <stddef.h>

struct conf;

/* Descriptors per session at most: the client and the upstream. */
#define CONF_FDS_PER_SESSION	2
/* The admin socket and the 64 connections proxy/admin.c keeps at most. */
#define CONF_FDS_ADMIN		65
/* stdio, the event loop, signals, DNS, the log, sd_notify, a dial. */
#define CONF_FDS_RESERVE	32

struct conf_fds {
	unsigned long	sessions;	/* the sessions cap (max_sessions, or
					   the sum of max_connections) */
	int		capped;		/* 1: by max_sessions */
	unsigned long	listeners;
	unsigned long	admin;
	unsigned long	checks;		/* one probe per checked route */
	unsigned long	ssh;		/* bastion connections at most */
	unsigned long	total;
};

/* conf_fds_need(c, f): fill f with what c may need at its caps. */
void	conf_fds_need(const struct conf *c, struct conf_fds *f);

/*
 * conf_fds_check(c, limit, msg, len): 0 when c's caps fit in limit
 * descriptors; otherwise -1 and a one-line warning in msg naming the
 * numbers and how many sessions do fit.
 */
int	conf_fds_check(const struct conf *c, unsigned long limit, char *msg,
	    size_t len);

#endif
