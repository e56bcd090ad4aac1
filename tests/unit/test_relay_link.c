/*
 * test_relay_link.c: the relay's fd engine driving an in-process upstream
 * (relay_start_link) against a fake link provider (link_fixture.h), with
 * a real AF_UNIX socketpair as the client.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "link_fixture.h"

/*
 * relay_release closes the link once and the relay's end of the client:
 * a send from the client fails (unread bytes in that end: maybe a reset).
 */
static void
release_closes(struct fx *x)
{
	relay_release(&x->r);
	assert_int_equal(x->fk->closes, 1);
	assert_int_equal(send(x->cfd, "x", 1, MSG_NOSIGNAL), -1);
	assert_true(errno == EPIPE || errno == ECONNRESET);
}

/* ------------------------------------------------------------------ */
/* The relay with a link upstream. */

/* first goes out before the client's bytes; bytes flow both ways. */
static void
test_bytes_both_ways(void **state)
{
	struct fx	*x = *state;
	struct evbuffer	*first = evbuffer_new();
	uint8_t		 up[5000], down[12000];
	size_t		 off;

	/* Already waiting when the relay starts: first must still lead. */
	fill(up, sizeof(up), 0);
	client_send(x, up, sizeof(up));
	assert_non_null(first);
	evbuffer_add(first, "HELLO ", 6);
	start(x, first);
	assert_int_equal(evbuffer_get_length(first), 0);	/* taken */
	assert_int_equal(evbuffer_get_length(x->fk->got), 6);	/* at once */
	evbuffer_free(first);
	assert_int_equal(x->fk->paused, 0);	/* attached and reading */
	assert_ptr_not_equal(x->fk->link.user, NULL);

	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) >= 6 + sizeof(up));
	assert_memory_equal(evbuffer_pullup(x->fk->got, 6), "HELLO ", 6);
	assert_pattern(x->fk->got, 6, sizeof(up));

	fill(down, sizeof(down), 0);
	for (off = 0; off < sizeof(down); off += 4000) {
		prov_data(x->fk, down + off, 4000);
		spin(x, 1);
	}
	LOOP_UNTIL(x, client_read(x) >= sizeof(down));
	assert_pattern(x->rx, 0, sizeof(down));

	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, 6 + sizeof(up));
	assert_int_equal(x->r.side[RELAY_SERVER].bytes, sizeof(down));
	assert_int_equal(x->fk->shutdowns, 0);
	assert_int_equal(x->dones, 0);
	assert_false(x->rx_eof);
}

/* Client EOF shuts the link once; the other way goes on, then ends. */
static void
test_client_eof_half_close(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[100], down[3000];

	fill(up, sizeof(up), 0);
	fill(down, sizeof(down), 0);
	start(x, NULL);
	client_send(x, up, sizeof(up));
	assert_int_equal(shutdown(x->cfd, SHUT_WR), 0);
	LOOP_UNTIL(x, x->fk->shutdowns > 0);
	assert_int_equal(x->fk->got_at_shutdown, sizeof(up)); /* data first */
	assert_pattern(x->fk->got, 0, sizeof(up));

	/* Half-closed: the link's data still reaches the client. */
	prov_data(x->fk, down, 1000);
	spin(x, 5);
	prov_data(x->fk, down + 1000, 2000);
	LOOP_UNTIL(x, client_read(x) >= sizeof(down));
	assert_pattern(x->rx, 0, sizeof(down));
	assert_false(x->rx_eof);
	assert_int_equal(x->dones, 0);

	prov_eof(x->fk);
	LOOP_UNTIL(x, client_eof(x) == 1);
	assert_int_equal(evbuffer_get_length(x->rx), sizeof(down));
	assert_int_equal(x->dones, 1);
	assert_int_equal(x->end_at_done, RELAY_END_CLIENT_EOF);
	assert_int_equal(x->r.first_end, RELAY_END_CLIENT_EOF);
	assert_false(x->attached_at_done);	/* stopped before the cb */
	assert_int_equal(x->fk->paused, 1);
	spin(x, 10);
	assert_int_equal(x->dones, 1);
	assert_int_equal(x->fk->shutdowns, 1);
	assert_int_equal(x->fk->closes, 0);	/* release closes, not done */
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, sizeof(up));
	assert_int_equal(x->r.side[RELAY_SERVER].bytes, sizeof(down));
}

/* Link EOF first: the client gets all data then EOF, and may still send. */
static void
test_link_eof_first(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[500], down[2000];

	fill(up, sizeof(up), 0);
	fill(down, sizeof(down), 0);
	start(x, NULL);
	prov_data(x->fk, down, sizeof(down));
	prov_eof(x->fk);
	assert_int_equal(x->fk->paused, 1);	/* nothing more to read */
	LOOP_UNTIL(x, client_eof(x) == 1);
	assert_pattern(x->rx, 0, sizeof(down));

	client_send(x, up, sizeof(up));
	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) >= sizeof(up));
	assert_pattern(x->fk->got, 0, sizeof(up));
	assert_int_equal(x->fk->shutdowns, 0);
	assert_int_equal(x->dones, 0);

	close(x->cfd);				/* a full close, not a shutdown */
	x->cfd = -1;
	LOOP_UNTIL(x, x->dones > 0);
	assert_int_equal(x->dones, 1);
	assert_int_equal(x->fk->shutdowns, 1);
	assert_int_equal(x->r.first_end, RELAY_END_SERVER_EOF);
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, sizeof(up));
	assert_int_equal(x->r.side[RELAY_SERVER].bytes, sizeof(down));
}

/*
 * The server answers and closes while the client is still writing (a
 * Redis "-ERR Protocol error" to a request that never ends): with the
 * link's window used up, the client's bytes wait behind back-pressure
 * after the link's EOF; closed() drops them, and the client gets the
 * answer and EOF and the relay ends, instead of waiting for ever.
 */
static void
test_link_closed_while_client_writes(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[4000], down[45];
	int		 queued = -1;

	fill(up, sizeof(up), 0);
	fill(down, sizeof(down), 0);
	start(x, NULL);
	x->fk->block_at = RELAY_HIGH_WATER;	/* the window is used up */
	client_send(x, up, 1000);
	LOOP_UNTIL(x, x->fk->writes == 1);
	assert_int_equal(x->r.side[RELAY_CLIENT].fdio.reading, 0);
	client_send(x, up + 1000, 3000);	/* waits in the socket */

	prov_data(x->fk, down, sizeof(down));
	prov_eof(x->fk);
	LOOP_UNTIL(x, client_eof(x) == 1);	/* answer, then half-close */
	assert_pattern(x->rx, 0, sizeof(down));
	spin(x, 20);
	assert_int_equal(x->dones, 0);		/* the upstream may still read */

	prov_closed(x->fk);
	assert_int_equal(x->dones, 1);
	assert_int_equal(x->r.first_end, RELAY_END_SERVER_EOF);
	assert_int_equal(x->fk->writes, 1);	/* nothing after closed() */
	assert_int_equal(x->fk->shutdowns, 0);
	assert_false(x->attached_at_done);
	assert_int_equal(ioctl(x->r.side[RELAY_CLIENT].fdio.fd, FIONREAD, &queued),
	    0);
	assert_true(queued >= 0);
	release_closes(x);
}

/*
 * closed() while the answer still waits for the client and the client is
 * busy sending: its bytes are read and dropped (it never blocks on us)
 * until the answer is out, and the relay ends then.
 */
static void
test_link_closed_drains_client(void **state)
{
	struct fx	*x = *state;
	static uint8_t	 up[8192], down[16384];
	size_t		 fed = 0;
	int		 i, queued = -1;

	start(x, NULL);
	x->fk->block_at = RELAY_HIGH_WATER;
	client_send(x, up, 1000);
	LOOP_UNTIL(x, x->fk->writes == 1);
	/*
	 * The client's socket is full: part of the answer waits in out
	 * (which exists only while something waits in it).
	 */
	while (x->r.side[RELAY_CLIENT].fdio.out == NULL) {
		fill(down, sizeof(down), fed);
		prov_data(x->fk, down, sizeof(down));
		fed += sizeof(down);
		assert_true(fed < 4 * 1024 * 1024);
	}
	for (i = 0; i < 8; i++)
		client_send(x, up, sizeof(up));
	prov_closed(x->fk);			/* EOF implied */
	assert_int_equal(x->r.side[RELAY_CLIENT].fdio.reading, 1);	/* resumed */
	spin(x, 20);
	assert_int_equal(x->dones, 0);		/* the answer is not out */
	assert_int_equal(ioctl(x->r.side[RELAY_CLIENT].fdio.fd, FIONREAD, &queued),
	    0);
	assert_int_equal(queued, 0);		/* read and dropped */
	LOOP_UNTIL(x, client_eof(x) == 1);
	assert_pattern(x->rx, 0, fed);
	assert_int_equal(x->dones, 1);
	assert_int_equal(x->r.first_end, RELAY_END_SERVER_EOF);
	assert_int_equal(x->fk->writes, 1);
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, 1000 + 8 * sizeof(up));
}

/* error(): done at once, the client gets what was sent then EOF. */
static void
test_link_error(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[100], down[300];
	int		 writes;

	fill(up, sizeof(up), 0);
	fill(down, sizeof(down), 0);
	start(x, NULL);
	client_send(x, up, sizeof(up));
	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) >= sizeof(up));
	writes = x->fk->writes;

	prov_data(x->fk, down, sizeof(down));
	prov_error(x->fk, "bastion b1: connection lost");
	assert_int_equal(x->dones, 1);
	assert_int_equal(x->r.first_end, RELAY_END_SERVER_ERROR);
	assert_non_null(strstr(x->r.error, "connection lost"));
	assert_null(x->fk->link.user);

	/* What the link sent before failing still arrives, then EOF. */
	LOOP_UNTIL(x, client_eof(x) == 1);
	assert_pattern(x->rx, 0, sizeof(down));

	/* The client's further bytes go nowhere: no op but pause. */
	client_send(x, up, sizeof(up));
	spin(x, 20);
	assert_int_equal(x->fk->writes, writes);
	assert_int_equal(x->fk->shutdowns, 0);
	assert_int_equal(x->dones, 1);
	assert_int_equal(x->fk->closes, 0);

	release_closes(x);
}

/* error() while the client is behind: its backlog still goes out first. */
static void
test_link_error_flushes_backlog(void **state)
{
	struct fx	*x = *state;
	size_t		 fed;

	start(x, NULL);
	fed = feed_until_paused(x);
	prov_error(x->fk, "channel closed by server");
	spin(x, 10);
	assert_int_equal(x->dones, 0);		/* bytes wait for the client */
	assert_int_equal(x->fk->paused, 1);	/* a dead link stays paused */

	LOOP_UNTIL(x, client_eof(x) == 1);
	assert_pattern(x->rx, 0, fed);		/* all of it, then EOF */
	assert_int_equal(x->dones, 1);
	assert_int_equal(x->r.first_end, RELAY_END_SERVER_ERROR);
	assert_string_equal(x->r.error, "channel closed by server");
	assert_int_equal(x->fk->paused, 1);
}

/* A client reset ends the relay: the link is shut, the error noted. */
static void
test_client_reset(void **state)
{
	struct fx	*x = *state;
	uint8_t		 down[100];

	fill(down, sizeof(down), 0);
	start(x, NULL);
	prov_data(x->fk, down, sizeof(down));
	/* Closing with unread bytes: AF_UNIX resets the relay's end. */
	close(x->cfd);
	x->cfd = -1;
	LOOP_UNTIL(x, x->dones > 0);
	assert_int_equal(x->r.first_end, RELAY_END_CLIENT_ERROR);
	assert_non_null(strstr(x->r.error, "reset"));
	assert_int_equal(x->fk->shutdowns, 1);
	assert_false(x->attached_at_done);
}

/* pending() at the high mark stops the client; writable() resumes it. */
static void
test_backpressure_up(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[4000];
	int		 queued = -1;

	fill(up, sizeof(up), 0);
	start(x, NULL);
	x->fk->block_at = RELAY_HIGH_WATER;
	client_send(x, up, 1000);
	LOOP_UNTIL(x, x->fk->writes == 1);
	assert_int_equal(x->r.side[RELAY_CLIENT].fdio.reading, 0);

	/* Sent now, it must stay in the relay's socket, EOF behind it. */
	client_send(x, up + 1000, 3000);
	assert_int_equal(shutdown(x->cfd, SHUT_WR), 0);
	spin(x, 50);
	assert_int_equal(x->fk->writes, 1);
	assert_int_equal(x->fk->shutdowns, 0);
	assert_int_equal(evbuffer_get_length(x->fk->got), 1000);
	assert_int_equal(ioctl(x->r.side[RELAY_CLIENT].fdio.fd, FIONREAD, &queued),
	    0);
	assert_int_equal(queued, 3000);

	/* The provider sent its backlog: below the low mark, writable(). */
	x->fk->block_at = 0;
	x->fk->pending = RELAY_LOW_WATER - 1;
	prov_writable(x->fk);
	LOOP_UNTIL(x, x->fk->shutdowns > 0);
	assert_int_equal(x->fk->got_at_shutdown, sizeof(up));
	assert_pattern(x->fk->got, 0, sizeof(up));
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, sizeof(up));
	assert_int_equal(x->dones, 0);		/* the link has not ended */
}

/* A client that does not read pauses the link; reading resumes it. */
static void
test_backpressure_down(void **state)
{
	struct fx	*x = *state;
	uint8_t		 chunk[16384];
	size_t		 fed;
	int		 on, off;

	start(x, NULL);
	on = x->fk->pauses[1];			/* start's own pause calls */
	off = x->fk->pauses[0];
	fed = feed_until_paused(x);
	assert_int_equal(x->fk->pauses[1], on + 1);
	/* Bounded: the socket's buffer, the high mark and a chunk. */
	assert_true(fed < 4 * 1024 * 1024);

	spin(x, 20);				/* nobody reads: still paused */
	assert_int_equal(x->fk->paused, 1);

	LOOP_UNTIL(x, client_read(x) >= fed);
	assert_int_equal(x->fk->paused, 0);	/* resumed once drained */
	assert_int_equal(x->fk->pauses[0], off + 1);

	fill(chunk, sizeof(chunk), fed);
	prov_data(x->fk, chunk, sizeof(chunk));
	fed += sizeof(chunk);
	LOOP_UNTIL(x, client_read(x) >= fed);
	assert_pattern(x->rx, 0, fed);
	assert_int_equal(x->r.side[RELAY_SERVER].bytes, fed);
}

/* relay_stop() detaches the link; relay_release() closes it once. */
static void
test_stop_detaches(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[30];

	fill(up, sizeof(up), 0);
	start(x, NULL);
	client_send(x, up, 10);
	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) >= 10);

	relay_stop(&x->r);
	assert_null(x->fk->link.user);
	assert_null(x->fk->link.user_arg);
	assert_int_equal(x->fk->paused, 1);
	client_send(x, up + 10, 20);
	spin(x, 20);
	assert_int_equal(evbuffer_get_length(x->fk->got), 10);
	assert_int_equal(x->dones, 0);
	assert_int_equal(x->fk->closes, 0);

	relay_release(&x->r);
	assert_int_equal(x->fk->closes, 1);
	relay_release(&x->r);			/* twice: still one close */
	assert_int_equal(x->fk->closes, 1);
	assert_true(client_eof(x));		/* the relay's end is closed */
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, 10);
}

int
main(void)
{
#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_bytes_both_ways), T(test_client_eof_half_close),
		T(test_link_eof_first), T(test_link_error),
		T(test_link_error_flushes_backlog), T(test_client_reset),
		T(test_link_closed_while_client_writes),
		T(test_link_closed_drains_client),
		T(test_backpressure_up), T(test_backpressure_down),
		T(test_stop_detaches),
	};
#undef T

	/* As the daemon does (daemon.c): a closed peer is an EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
