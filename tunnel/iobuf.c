/*
 * iobuf.c: socket reads and writes straight between evbuffers and fds.
 *
 * recv()/sendmsg() rather than readv()/writev(): on a socket the vfs
 * path of readv/writev adds iovec import, access checks and fsnotify
 * hooks to every call, which at one small request per call is a
 * measurable share of the proxy's CPU (tests/bench/README.md, "CPU per
 * request against HAProxy").  A descriptor that is not a socket (a pipe
 * in a test) falls back to readv/writev.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>

#include <event2/buffer.h>

#include "iobuf.h"

/* How many chains one write gathers: a 16 KiB read fills at most two. */
#define IOBUF_WRITE_IOV	8

ssize_t
iobuf_read(struct evbuffer *buf, int fd, size_t want)
{
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	struct msghdr		 msg;
	ssize_t			 got, left;
	int			 i, n;

	if ((n = evbuffer_reserve_space(buf, (ssize_t)want, v, 2)) <= 0) {
		errno = ENOMEM;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	if (n == 1)
		got = recv(fd, iov[0].iov_base, iov[0].iov_len, 0);
	else {
		memset(&msg, 0, sizeof msg);
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n;
		got = recvmsg(fd, &msg, 0);
	}
	if (got == -1 && errno == ENOTSOCK)
		got = readv(fd, iov, n);
	if (got <= 0) {
		evbuffer_commit_space(buf, v, 0);
		return (got);
	}
	for (i = 0, left = got; i < n && left > 0; i++) {
		if ((size_t)left < v[i].iov_len)
			v[i].iov_len = (size_t)left;
		left -= (ssize_t)v[i].iov_len;
	}
	evbuffer_commit_space(buf, v, i);
	return (got);
}

ssize_t
iobuf_write(struct evbuffer *buf, int fd)
{
	struct evbuffer_iovec	 v[IOBUF_WRITE_IOV];
	struct iovec		 iov[IOBUF_WRITE_IOV];
	struct msghdr		 msg;
	ssize_t			 got;
	int			 i, n;

	if ((n = evbuffer_peek(buf, -1, NULL, v, IOBUF_WRITE_IOV)) <= 0)
		return (0);
	if (n > IOBUF_WRITE_IOV)
		n = IOBUF_WRITE_IOV;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	if (n == 1)
		got = send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
	else {
		memset(&msg, 0, sizeof msg);
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n;
		got = sendmsg(fd, &msg, MSG_NOSIGNAL);
	}
	if (got == -1 && errno == ENOTSOCK)
		got = writev(fd, iov, n);
	if (got > 0)
		evbuffer_drain(buf, (size_t)got);
	return (got);
}
