/*
 * audit.h: one audit record per session (issue 24): who (the client's
 * local uid: SO_PEERCRED on a unix socket; on loopback TCP the owner of
 * the client's socket, asked of the kernel's socket diagnostics by the
 * connection's 4-tuple), when, service, route, bastion, bytes each way,
 * duration, requests a readonly guard refused, and how it ended.  As a
 * text line or a JSON object (audit = log | json), in postern's log or
 * appended to audit_file.
 */
#ifndef POSTERN_AUDIT_H
#define POSTERN_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct conf;

#define AUDIT_UID_UNKNOWN	(-1L)

/*
 * audit_peer_uid(fd): the uid owning the other end of the accepted
 * socket fd, or AUDIT_UID_UNKNOWN (not local, or the kernel would not
 * say).  Synchronous: one getsockopt, or one netlink round trip.
 */
long	audit_peer_uid(int fd);

/*
 * audit_begin(c, fd, wall_ms, uid): a new session on client socket fd:
 * note who (*uid) and when (*wall_ms), if generation c audits; else
 * *uid is AUDIT_UID_UNKNOWN and *wall_ms left as it is.
 */
void	audit_begin(const struct conf *c, int fd, int64_t *wall_ms,
	    long *uid);

/*
 * audit_format(json, ...): the record's text, for tests: fields as
 * audit_end writes them into buf (always NUL-terminated).
 */
struct audit_rec {
	uint64_t	 id;
	const char	*service, *route, *bastion, *client, *end;
	long		 uid;
	int64_t		 start_ms;	/* wall clock, ms since the epoch */
	int64_t		 duration_ms;
	uint64_t	 up, down, refused;
};

void	audit_format(int json, const struct audit_rec *r, char *buf,
	    size_t len);

/*
 * audit_end(c, r): a session closed: write its record r (filled by the
 * session, session.c) as generation c says; nothing when it does not
 * audit.  r and what it points to stay the caller's.
 */
void	audit_end(const struct conf *c, const struct audit_rec *r);

#endif
