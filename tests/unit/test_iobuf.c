/*
 * test_iobuf.c: iobuf_read()/iobuf_write() move bytes between evbuffers
 * and descriptors with recv()/send() on sockets and readv()/writev() on
 * anything else, keeping what the kernel did not take.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "iobuf.h"

static void
nonblock(int fd)
{
	assert_int_not_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) |
	    O_NONBLOCK), -1);
}

/* A buffer of several chains, through fds[1] and back out of fds[0]. */
static void
round_trip(int fds[2])
{
	struct evbuffer	*out = evbuffer_new(), *in = evbuffer_new();
	char		 chunk[1000], got[8000];
	ssize_t		 n;
	int		 i;

	nonblock(fds[0]);
	nonblock(fds[1]);
	for (i = 0; i < 6; i++) {
		struct evbuffer	*piece = evbuffer_new();

		memset(chunk, 'a' + i, sizeof chunk);
		evbuffer_add(piece, chunk, sizeof chunk);
		evbuffer_add_buffer(out, piece);
		evbuffer_free(piece);
	}
	assert_true(evbuffer_peek(out, -1, NULL, NULL, 0) >= 2);
	assert_int_equal(iobuf_write(out, fds[1]), 6000);
	assert_int_equal(evbuffer_get_length(out), 0);
	assert_int_equal(iobuf_write(out, fds[1]), 0);	/* nothing left */

	n = iobuf_read(in, fds[0], 6000);
	assert_int_equal(n, 6000);
	assert_int_equal(evbuffer_remove(in, got, sizeof got), 6000);
	for (i = 0; i < 6000; i++)
		assert_int_equal(got[i], 'a' + i / 1000);

	n = iobuf_read(in, fds[0], 100);		/* empty: EAGAIN */
	assert_int_equal(n, -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(evbuffer_get_length(in), 0);

	close(fds[1]);					/* EOF reads 0 */
	assert_int_equal(iobuf_read(in, fds[0], 100), 0);
	close(fds[0]);
	evbuffer_free(in);
	evbuffer_free(out);
}

static void
test_socket(void **state)
{
	int	fds[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	round_trip(fds);
}

static void
test_pipe(void **state)
{
	int	fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	round_trip(fds);
}

/* A full socket takes part: the rest stays in the buffer, in order. */
static void
test_partial_write(void **state)
{
	struct evbuffer	*out = evbuffer_new(), *in = evbuffer_new();
	static char	 big[1 << 20];
	int		 fds[2], sz = 4096, i;
	ssize_t		 n, total = 0, got = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	nonblock(fds[0]);
	nonblock(fds[1]);
	(void)setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	for (i = 0; i < (int)sizeof big; i++)
		big[i] = (char)(i % 251);
	evbuffer_add(out, big, sizeof big);
	n = iobuf_write(out, fds[1]);
	assert_true(n > 0 && n < (ssize_t)sizeof big);
	assert_int_equal(evbuffer_get_length(out), sizeof big - (size_t)n);
	total = n;
	for (i = 0; i < 100000 && got < (ssize_t)sizeof big; i++) {
		if ((n = iobuf_read(in, fds[0], 65536)) > 0)
			got += n;
		if (evbuffer_get_length(out) > 0 &&
		    (n = iobuf_write(out, fds[1])) > 0)
			total += n;
	}
	assert_int_equal(total, sizeof big);
	assert_int_equal(got, sizeof big);
	assert_memory_equal(evbuffer_pullup(in, -1), big, sizeof big);
	close(fds[0]);
	close(fds[1]);
	evbuffer_free(in);
	evbuffer_free(out);
}

/* A peer that closed: EPIPE, and no SIGPIPE kills the test. */
static void
test_closed_peer(void **state)
{
	struct evbuffer	*out = evbuffer_new();
	int		 fds[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	close(fds[0]);
	evbuffer_add(out, "x", 1);
	assert_int_equal(iobuf_write(out, fds[1]), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(evbuffer_get_length(out), 1);
	close(fds[1]);
	evbuffer_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_partial_write),
		cmocka_unit_test(test_closed_peer),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
