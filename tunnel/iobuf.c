/*
 * iobuf.c: large reads into evbuffers.
 */
#include "config.h"

#include <sys/uio.h>

#include <errno.h>

#include <event2/buffer.h>

#include "iobuf.h"

ssize_t
iobuf_read(struct evbuffer *buf, int fd, size_t want)
{
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
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
	if ((got = readv(fd, iov, n)) <= 0) {
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
