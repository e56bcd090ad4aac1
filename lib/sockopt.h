/*
 * sockopt.h: socket options every proxied TCP connection gets.
 */
#ifndef POSTERN_SOCKOPT_H
#define POSTERN_SOCKOPT_H

/*
 * Keepalive probes start after 60 s idle, every 15 s, 4 of them; and
 * TCP_USER_TIMEOUT drops a connection whose sent data stays unacknowledged
 * as long (120 s), so a dead peer is noticed with data in flight too.
 */
#define SOCKOPT_KEEPIDLE	60
#define SOCKOPT_KEEPINTVL	15
#define SOCKOPT_KEEPCNT		4

/*
 * sockopt_tcp(fd): TCP_NODELAY, keepalive and user timeout on a TCP
 * socket; a no-op on other families.  Failures are logged at debug level
 * and ignored: the connection works without them.
 */
void	sockopt_tcp(int fd);

#endif
