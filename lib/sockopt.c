/*
 * sockopt.c: per-connection TCP options.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>

#include "log.h"
#include "sockopt.h"

void
sockopt_tcp(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 on = 1, idle = SOCKOPT_KEEPIDLE;
	int			 intvl = SOCKOPT_KEEPINTVL, cnt = SOCKOPT_KEEPCNT;
	unsigned int		 utmo;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return;
	utmo = (unsigned int)(idle + intvl * cnt) * 1000;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &utmo,
	    sizeof(utmo)) == -1)
		log_debug("setsockopt on fd %d: %s", fd, strerror(errno));
}
