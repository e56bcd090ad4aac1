/*
 * test_relay_link.c: the relay's fd engine driving an in-process upstream
 * (relay_start_link), and link.c's socketpair bridge (link_fd_new), both
 * against a fake link provider.
 *
 * The fake records every op and never calls back from inside one; the
 * test plays the provider's loop and calls the user's callbacks between
 * event loop runs, as ssh_channel.c does.  The client is a real AF_UNIX
 * socketpair and the loop a real event_base, run with EVLOOP_NONBLOCK a
 * bounded number of times: a unix socket's bytes are in the peer's
 * buffer when write() returns, so nothing here waits on a clock.
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

#include "dial.h"
#include "link.h"
#include "relay.h"

/* Loop runs before a condition counts as never met. */
#define LOOP_MAX	1000

/*
 * relay.c's bufferevent engine calls these (tunnel/dial.c, which pulls in
 * TLS and SSH).  The link path never does: the test fails if it ever does.
 */
int
dial_shutdown_write(struct bufferevent *bev)
{
	fail_msg("dial_shutdown_write called on the link path");
	return (-1);
}

int
dial_bev_error(struct bufferevent *bev, int err, char *buf, size_t len)
{
	fail_msg("dial_bev_error called on the link path");
	return (0);
}

/* ------------------------------------------------------------------ */
/* The fake provider. */

struct fake {
	struct link	 link;		/* first: the ops get &f->link */
	struct evbuffer	*got;		/* every byte write() took */
	int		 writes;	/* write() calls that carried bytes */
	size_t		 pending;	/* what pending() answers */
	size_t		 block_at;	/* non-zero: a write sets pending to it */
	int		 shutdowns;
	size_t		 got_at_shutdown;
	int		 paused;	/* the last pause() */
	int		 pauses[2];	/* pause(0) and pause(1) calls */
	int		 closes;
	int		 after_close;	/* contract breaches, all must stay 0 */
	int		 after_error;
	int		 write_after_shut;
};

static struct fake *
fake_of(const struct link *l)
{
	return ((struct fake *)(uintptr_t)l);
}

/* Any op after close(); write/pending/shutdown once error() is due. */
static void
fake_enter(struct fake *f, int io)
{
	if (f->closes > 0)
		f->after_close++;
	if (io && f->link.failed)
		f->after_error++;
}

static int
fake_write(struct link *l, struct evbuffer *buf)
{
	struct fake	*f = fake_of(l);

	fake_enter(f, 1);
	if (evbuffer_get_length(buf) > 0) {
		f->writes++;
		if (f->shutdowns > 0)
			f->write_after_shut++;
	}
	evbuffer_add_buffer(f->got, buf);	/* takes all, as link.h says */
	if (f->block_at != 0)
		f->pending = f->block_at;
	return (0);
}

static size_t
fake_pending(const struct link *l)
{
	fake_enter(fake_of(l), 1);
	return (fake_of(l)->pending);
}

static void
fake_shutdown(struct link *l)
{
	struct fake	*f = fake_of(l);

	fake_enter(f, 1);
	f->shutdowns++;
	f->got_at_shutdown = evbuffer_get_length(f->got);
}

static void
fake_pause(struct link *l, int on)
{
	struct fake	*f = fake_of(l);

	fake_enter(f, 0);
	f->paused = on;
	f->pauses[on != 0]++;
}

static void
fake_close(struct link *l)
{
	struct fake	*f = fake_of(l);

	fake_enter(f, 0);
	f->closes++;
	f->link.user = NULL;		/* no callback after close */
}

static const struct link_ops fake_ops = {
	fake_write, fake_pending, fake_shutdown, fake_pause, fake_close
};

static struct fake *
fake_new(void)
{
	struct fake	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->got = evbuffer_new());
	f->link.ops = &fake_ops;
	f->paused = 1;			/* as ssh_chan_new: until attached */
	return (f);
}

/* The provider's side: callbacks from "its loop", to an attached user. */
static void
prov_data(struct fake *f, const uint8_t *p, size_t n)
{
	assert_non_null(f->link.user);
	assert_int_equal(f->paused, 0);	/* a paused link holds its data */
	f->link.user->data(f->link.user_arg, p, n);
}

static void
prov_eof(struct fake *f)
{
	assert_non_null(f->link.user);
	f->link.user->eof(f->link.user_arg);
}

static void
prov_error(struct fake *f, const char *why)
{
	assert_non_null(f->link.user);
	f->link.failed = 1;		/* as ssh_chan_close_all does first */
	f->link.user->error(f->link.user_arg, why);
}

static void
prov_writable(struct fake *f)
{
	assert_non_null(f->link.user);
	f->link.user->writable(f->link.user_arg);
}

/* ------------------------------------------------------------------ */
/* Fixture: a base, a fake, a client socketpair, a relay. */

struct fx {
	struct event_base	*base;
	struct fake		*fk;
	struct relay		 r;
	int			 owned;		/* the link was handed over */
	int			 cfd;		/* the test's end: "the client" */
	int			 rfd;		/* the relay's end until started */
	struct evbuffer		*rx;		/* what cfd has read */
	int			 rx_eof;	/* 1: read 0, 2: reset */
	int			 dones;
	int			 end_at_done;
	int			 attached_at_done;
};

static int
setup(void **state)
{
	struct fx	*x = calloc(1, sizeof(*x));
	int		 sp[2];

	assert_non_null(x);
	assert_non_null(x->base = event_base_new());
	assert_non_null(x->rx = evbuffer_new());
	x->fk = fake_new();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sp), 0);
	x->cfd = sp[0];
	x->rfd = sp[1];
	relay_init(&x->r);
	*state = x;
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*x = *state;

	relay_release(&x->r);		/* idempotent; safe when idle */
	if (x->owned)			/* whoever took it closed it, once */
		assert_int_equal(x->fk->closes, 1);
	assert_int_equal(x->fk->after_close, 0);
	assert_int_equal(x->fk->after_error, 0);
	assert_int_equal(x->fk->write_after_shut, 0);
	if (x->rfd != -1)
		close(x->rfd);
	if (x->cfd != -1)
		close(x->cfd);
	evbuffer_free(x->fk->got);
	free(x->fk);
	evbuffer_free(x->rx);
	event_base_free(x->base);
	free(x);
	return (0);
}

static void
on_done(struct relay *r, void *arg)
{
	struct fx	*x = arg;

	x->dones++;
	x->end_at_done = r->first_end;
	x->attached_at_done = x->fk->link.user != NULL;
}

static void
start(struct fx *x, struct evbuffer *first)
{
	assert_int_equal(relay_start_link(&x->r, x->base, x->rfd,
	    &x->fk->link, first, on_done, x), 0);
	x->owned = 1;
	x->rfd = -1;			/* the relay's now */
}

static void
spin(struct fx *x, int n)
{
	while (n-- > 0)
		event_base_loop(x->base, EVLOOP_NONBLOCK);
}

/* Run the loop until cond holds (it may read the client), or fail. */
#define LOOP_UNTIL(x, cond) do {					\
	int	i_;							\
	for (i_ = 0; i_ < LOOP_MAX && !(cond); i_++)			\
		event_base_loop((x)->base, EVLOOP_NONBLOCK);		\
	assert_true(cond);						\
} while (0)

/* Read what the client end has; returns all it has read so far. */
static size_t
client_read(struct fx *x)
{
	uint8_t	buf[65536];
	ssize_t	n = -1;

	while (!x->rx_eof && (n = read(x->cfd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			assert_int_equal(errno, ECONNRESET);
			x->rx_eof = 2;
			break;
		}
		assert_int_equal(evbuffer_add(x->rx, buf, (size_t)n), 0);
	}
	if (n == 0)
		x->rx_eof = 1;
	return (evbuffer_get_length(x->rx));
}

/* 1 once the client end has read EOF, 2 for a reset, else 0. */
static int
client_eof(struct fx *x)
{
	client_read(x);
	return (x->rx_eof);
}

static void
client_send(struct fx *x, const uint8_t *p, size_t n)
{
	assert_int_equal(send(x->cfd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Byte off of a stream: a prime period shows lost or swapped chunks. */
static uint8_t
pat(size_t off)
{
	return ((uint8_t)(off % 251));
}

static void
fill(uint8_t *p, size_t n, size_t off)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = pat(off + i);
}

/* buf from offset skip holds the pattern's first n bytes. */
static void
assert_pattern(struct evbuffer *buf, size_t skip, size_t n)
{
	const uint8_t	*p;
	size_t		 i;

	assert_int_equal(evbuffer_get_length(buf), skip + n);
	assert_non_null(p = evbuffer_pullup(buf, -1));
	for (i = 0; i < n; i++)
		if (p[skip + i] != pat(i))
			fail_msg("byte %zu: %u, want %u", i, p[skip + i],
			    pat(i));
}

/* Hand the user chunks until it pauses the link; returns the bytes fed. */
static size_t
feed_until_paused(struct fx *x)
{
	static uint8_t	chunk[16384];
	size_t		fed = 0;
	int		i;

	/* 8 MB at most: far more than the marks let anyone queue. */
	for (i = 0; i < 512 && !x->fk->paused; i++) {
		fill(chunk, sizeof(chunk), fed);
		prov_data(x->fk, chunk, sizeof(chunk));
		fed += sizeof(chunk);
		spin(x, 1);		/* the provider's loop turns */
	}
	assert_int_equal(x->fk->paused, 1);
	return (fed);
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

	relay_release(&x->r);
	assert_int_equal(x->fk->closes, 1);
	/* The relay's end is closed (unread bytes in it: maybe a reset). */
	assert_int_equal(send(x->cfd, up, 1, MSG_NOSIGNAL), -1);
	assert_true(errno == EPIPE || errno == ECONNRESET);
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
	assert_int_equal(x->r.side[RELAY_CLIENT].reading, 0);

	/* Sent now, it must stay in the relay's socket, EOF behind it. */
	client_send(x, up + 1000, 3000);
	assert_int_equal(shutdown(x->cfd, SHUT_WR), 0);
	spin(x, 50);
	assert_int_equal(x->fk->writes, 1);
	assert_int_equal(x->fk->shutdowns, 0);
	assert_int_equal(evbuffer_get_length(x->fk->got), 1000);
	assert_int_equal(ioctl(x->r.side[RELAY_CLIENT].fd, FIONREAD, &queued),
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

/* ------------------------------------------------------------------ */
/* link_fd_new(): the socketpair bridge.  cfd becomes the bridge's end. */

static void
bridge(struct fx *x)
{
	close(x->rfd);			/* the relay's end is not used here */
	x->rfd = -1;
	close(x->cfd);
	assert_int_equal(link_fd_new(x->base, &x->fk->link, &x->cfd), 0);
	x->owned = 1;
	assert_non_null(x->fk->link.user);
	assert_int_equal(x->fk->paused, 0);
}

/* Bytes and EOF both ways; the bridge closes the link when both end. */
static void
test_bridge_both_ways(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[3000], down[5000];

	fill(up, sizeof(up), 0);
	fill(down, sizeof(down), 0);
	bridge(x);
	client_send(x, up, sizeof(up));
	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) >= sizeof(up));
	assert_pattern(x->fk->got, 0, sizeof(up));

	prov_data(x->fk, down, 2000);
	assert_int_equal(shutdown(x->cfd, SHUT_WR), 0);
	LOOP_UNTIL(x, x->fk->shutdowns > 0);
	assert_int_equal(x->fk->got_at_shutdown, sizeof(up));

	/* Half-closed: data and then EOF still come down. */
	prov_data(x->fk, down + 2000, 3000);
	prov_eof(x->fk);
	LOOP_UNTIL(x, client_eof(x) == 1);
	assert_pattern(x->rx, 0, sizeof(down));
	LOOP_UNTIL(x, x->fk->closes > 0);	/* freed from a later event */
	assert_int_equal(x->fk->closes, 1);
	assert_int_equal(x->fk->shutdowns, 1);
	spin(x, 5);
	assert_int_equal(x->fk->closes, 1);
}

/* Link EOF first; the user may still send until it shuts. */
static void
test_bridge_link_eof_first(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[200], down[1000];

	fill(up, sizeof(up), 0);
	fill(down, sizeof(down), 0);
	bridge(x);
	prov_data(x->fk, down, sizeof(down));
	prov_eof(x->fk);
	LOOP_UNTIL(x, client_eof(x) == 1);
	assert_pattern(x->rx, 0, sizeof(down));
	spin(x, 5);
	assert_int_equal(x->fk->closes, 0);	/* upstream way still open */

	client_send(x, up, sizeof(up));
	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) >= sizeof(up));
	assert_pattern(x->fk->got, 0, sizeof(up));
	assert_int_equal(shutdown(x->cfd, SHUT_WR), 0);
	LOOP_UNTIL(x, x->fk->closes > 0);
	assert_int_equal(x->fk->shutdowns, 1);
}

/* error() closes the bridge's end and then the link. */
static void
test_bridge_error(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[10];

	fill(up, sizeof(up), 0);
	bridge(x);
	client_send(x, up, sizeof(up));
	LOOP_UNTIL(x, x->fk->writes > 0);
	prov_error(x->fk, "channel failed");
	assert_null(x->fk->link.user);		/* detached at once */
	LOOP_UNTIL(x, x->fk->closes > 0);
	assert_int_equal(client_eof(x), 1);
	assert_int_equal(x->fk->shutdowns, 0);
	assert_int_equal(send(x->cfd, up, 1, MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EPIPE);
}

/* The user closing its end (no shutdown first) ends the bridge too. */
static void
test_bridge_user_close(void **state)
{
	struct fx	*x = *state;

	bridge(x);
	close(x->cfd);
	x->cfd = -1;
	LOOP_UNTIL(x, x->fk->closes > 0);
	assert_int_equal(x->fk->shutdowns, 1);
}

/* Watermarks: pending() stops reading the fd; a full fd pauses the link. */
static void
test_bridge_backpressure(void **state)
{
	struct fx	*x = *state;
	uint8_t		 up[3000];
	size_t		 fed;

	fill(up, sizeof(up), 0);
	bridge(x);
	x->fk->block_at = LINK_HIGH_WATER;
	client_send(x, up, 1000);
	LOOP_UNTIL(x, x->fk->writes == 1);
	client_send(x, up + 1000, 2000);
	spin(x, 50);
	assert_int_equal(evbuffer_get_length(x->fk->got), 1000);
	x->fk->block_at = 0;
	x->fk->pending = 0;
	prov_writable(x->fk);
	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) >= sizeof(up));
	assert_pattern(x->fk->got, 0, sizeof(up));

	fed = feed_until_paused(x);
	LOOP_UNTIL(x, client_read(x) >= fed);
	assert_int_equal(x->fk->paused, 0);
	assert_pattern(x->rx, 0, fed);
	close(x->cfd);
	x->cfd = -1;
	LOOP_UNTIL(x, x->fk->closes > 0);
}

int
main(void)
{
#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_bytes_both_ways), T(test_client_eof_half_close),
		T(test_link_eof_first), T(test_link_error),
		T(test_link_error_flushes_backlog), T(test_client_reset),
		T(test_backpressure_up), T(test_backpressure_down),
		T(test_stop_detaches), T(test_bridge_both_ways),
		T(test_bridge_link_eof_first), T(test_bridge_error),
		T(test_bridge_user_close), T(test_bridge_backpressure),
	};
#undef T

	/* As the daemon does (daemon.c): a closed peer is an EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
