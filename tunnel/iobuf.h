/*
 * iobuf.h: reading a socket straight into an evbuffer, writing one out.
 */
#ifndef POSTERN_IOBUF_H
#define POSTERN_IOBUF_H

#include <sys/types.h>

#include <stddef.h>

struct evbuffer;

/*
 * iobuf_read(buf, fd, want): one recv() of up to want bytes into buf's
 * free space.  Returns what read() returns (errno set on -1; ENOMEM when
 * no space could be reserved).  Not evbuffer_read(): libevent 2.1 caps it
 * at 4096 bytes a call, which made a 1 MB value cost 256 wake-ups.
 */
ssize_t	iobuf_read(struct evbuffer *buf, int fd, size_t want);

/*
 * iobuf_write(buf, fd): one send() of what buf holds (up to 8 chains),
 * drained by what the kernel took.  Returns what send() returns, 0 when
 * buf is empty.  Not evbuffer_write(): that is writev(), the vfs path.
 */
ssize_t	iobuf_write(struct evbuffer *buf, int fd);

#endif
