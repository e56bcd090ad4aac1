/*
 * audit.c: a session's audit record (audit.h).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "conf.h"
#include "log.h"

#define AUDIT_LINE	2048

/* Is the peer address on this host's loopback? */
static int
audit_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*in = (const void *)ss;
	const struct sockaddr_in6	*in6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return ((ntohl(in->sin_addr.s_addr) >> 24) == 127);
	if (ss->ss_family == AF_INET6)
		return (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		    in6->sin6_addr.s6_addr[12] == 127));
	return (0);
}

/* Fill a sock_diag id's address and port from a sockaddr. */
static void
audit_diag_addr(const struct sockaddr_storage *ss, __be16 *port,
    __be32 *addr)
{
	const struct sockaddr_in	*in = (const void *)ss;
	const struct sockaddr_in6	*in6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		*port = in->sin_port;
		memcpy(addr, &in->sin_addr, 4);
	} else {
		*port = in6->sin6_port;
		memcpy(addr, &in6->sin6_addr, 16);
	}
}

/*
 * The client's socket is the other end of ours: its source is our peer,
 * its destination our local address.  An exact lookup (no dump) by that
 * 4-tuple; its owner is idiag_uid.
 */
static long
audit_diag_uid(const struct sockaddr_storage *local,
    const struct sockaddr_storage *peer)
{
	struct {
		struct nlmsghdr		nh;
		struct inet_diag_req_v2	req;
	} q;
	struct sockaddr_nl	 nl = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr	nh;
		uint8_t		buf[8192];
	} a;
	struct inet_diag_msg	*m;
	struct timeval		 tv = { 1, 0 };
	ssize_t			 n;
	long			 uid = AUDIT_UID_UNKNOWN;
	int			 fd;

	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST;
	q.req.sdiag_family = (uint8_t)peer->ss_family;
	q.req.sdiag_protocol = IPPROTO_TCP;
	q.req.idiag_states = ~0U;
	audit_diag_addr(peer, &q.req.id.idiag_sport, q.req.id.idiag_src);
	audit_diag_addr(local, &q.req.id.idiag_dport, q.req.id.idiag_dst);
	q.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	q.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return (uid);
	/* The kernel answers at once; bounded all the same. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &q, sizeof(q), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) != (ssize_t)sizeof(q))
		goto out;
	n = recv(fd, &a, sizeof(a), 0);
	if (n < (ssize_t)(NLMSG_HDRLEN + sizeof(*m)) ||
	    !NLMSG_OK(&a.nh, (size_t)n) ||
	    a.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto out;
	m = NLMSG_DATA(&a.nh);
	uid = (long)m->idiag_uid;
out:
	close(fd);
	return (uid);
}

long
audit_peer_uid(int fd)
{
	struct sockaddr_storage	 local, peer;
	socklen_t		 ll = sizeof(local), pl = sizeof(peer);
	struct ucred		 cr;
	socklen_t		 cl = sizeof(cr);

	if (getsockname(fd, (struct sockaddr *)&local, &ll) == -1 ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) == -1)
		return (AUDIT_UID_UNKNOWN);
	if (local.ss_family == AF_UNIX)
		return (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) ==
		    0 ? (long)cr.uid : AUDIT_UID_UNKNOWN);
	if (!audit_loopback(&peer) || local.ss_family != peer.ss_family)
		return (AUDIT_UID_UNKNOWN);
	return (audit_diag_uid(&local, &peer));
}

void
audit_begin(const struct conf *c, int fd, int64_t *wall_ms, long *uid)
{
	struct timespec	ts;

	*uid = AUDIT_UID_UNKNOWN;
	if (c->audit == AUDIT_OFF)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	*wall_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	*uid = audit_peer_uid(fd);
}

/* A JSON string's body: quotes, backslashes and controls escaped. */
static size_t
audit_json_str(char *buf, size_t len, const char *v)
{
	size_t	k = 0;

	for (; v != NULL && *v != '\0' && k + 7 < len; v++) {
		if (*v == '"' || *v == '\\') {
			buf[k++] = '\\';
			buf[k++] = *v;
		} else if ((unsigned char)*v < 0x20)
			k += (size_t)snprintf(buf + k, len - k, "\\u%04x",
			    (unsigned char)*v);
		else
			buf[k++] = *v;
	}
	buf[k] = '\0';
	return (k);
}

/* "2026-12-07T01:40:00.123Z" */
static void
audit_time(int64_t ms, char *buf, size_t len)
{
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	size_t		n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

void
audit_format(int json, const struct audit_rec *r, char *buf, size_t len)
{
	char	when[32], uid[24], user[64], f[5][300];
	struct passwd	pw, *pp = NULL;
	char	pwbuf[1024];

	audit_time(r->start_ms, when, sizeof(when));
	user[0] = '\0';
	if (r->uid == AUDIT_UID_UNKNOWN)
		snprintf(uid, sizeof(uid), json ? "null" : "-");
	else {
		snprintf(uid, sizeof(uid), "%ld", r->uid);
		if (getpwuid_r((uid_t)r->uid, &pw, pwbuf, sizeof(pwbuf),
		    &pp) == 0 && pp != NULL)
			snprintf(user, sizeof(user), "%s", pp->pw_name);
	}
	if (!json) {
		snprintf(buf, len, "audit: s%llu uid=%s user=%s service=%s "
		    "route=%s bastion=%s client=%s start=%s duration=%lld.%03llds "
		    "up=%llu down=%llu refused=%llu end=\"%s\"",
		    (unsigned long long)r->id, uid, user[0] ? user : "-",
		    r->service, r->route ? r->route : "-",
		    r->bastion ? r->bastion : "-", r->client, when,
		    (long long)(r->duration_ms / 1000),
		    (long long)(r->duration_ms % 1000),
		    (unsigned long long)r->up, (unsigned long long)r->down,
		    (unsigned long long)r->refused, r->end);
		return;
	}
	audit_json_str(f[0], sizeof(f[0]), r->service);
	audit_json_str(f[1], sizeof(f[1]), r->route);
	audit_json_str(f[2], sizeof(f[2]), r->bastion);
	audit_json_str(f[3], sizeof(f[3]), r->client);
	audit_json_str(f[4], sizeof(f[4]), r->end);
	snprintf(buf, len, "{\"session\":%llu,\"uid\":%s,\"user\":%s%s%s,"
	    "\"service\":\"%s\",\"route\":%s%s%s,\"bastion\":%s%s%s,"
	    "\"client\":\"%s\",\"start\":\"%s\",\"duration_ms\":%lld,"
	    "\"bytes_up\":%llu,\"bytes_down\":%llu,\"refused\":%llu,"
	    "\"end\":\"%s\"}", (unsigned long long)r->id, uid,
	    user[0] ? "\"" : "null", user, user[0] ? "\"" : "", f[0],
	    r->route ? "\"" : "null", f[1], r->route ? "\"" : "",
	    r->bastion ? "\"" : "null", f[2], r->bastion ? "\"" : "", f[3],
	    when, (long long)r->duration_ms, (unsigned long long)r->up,
	    (unsigned long long)r->down, (unsigned long long)r->refused, f[4]);
}

/* Append a line to the file, opened for it (rotation needs no signal). */
static void
audit_append(const char *path, const char *line)
{
	char	buf[AUDIT_LINE + 2];
	size_t	n;
	int	fd;

	n = (size_t)snprintf(buf, sizeof(buf), "%s\n", line);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		log_warn("audit_file %s", path);
		return;
	}
	if (write(fd, buf, n) != (ssize_t)n)
		log_warn("audit_file %s: write", path);
	close(fd);
}

void
audit_end(const struct conf *c, const struct audit_rec *r)
{
	char	line[AUDIT_LINE];

	if (c->audit == AUDIT_OFF)
		return;
	audit_format(c->audit == AUDIT_JSON, r, line, sizeof(line));
	if (c->audit_file != NULL)
		audit_append(c->audit_file, line);
	else
		log_info("%s", line);
}
