/*
 * test_relay_swap.c: relay_swap_server, relay_take_client and
 * relay_hold between
 * links and plain sockets, with the fake link provider (link_fixture.h) and socketpairs
 * as upstreams: only an idle relay changes, the old upstream is closed,
 * the client side, byte counts and taps go on.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "link_fixture.h"

static size_t	tapped[2];

static int
tap(const uint8_t *buf, size_t len, void *arg)
{
	tapped[*(int *)arg] += len;
	return (0);
}

/* An upstream socketpair: *bevp for the relay, the test's end returned. */
static int
upstream(struct fx *x, struct bufferevent **bevp)
{
	int	sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sp), 0);
	assert_non_null(*bevp = bufferevent_socket_new(x->base, sp[0],
	    BEV_OPT_CLOSE_ON_FREE));
	return (sp[1]);
}

/* n bytes from fd, within the loop's bound. */
static void
expect_read(struct fx *x, int fd, const char *want)
{
	char	buf[256];
	size_t	got = 0, n = strlen(want);
	ssize_t	r;
	int	i;

	for (i = 0; i < LOOP_MAX && got < n; i++) {
		event_base_loop(x->base, EVLOOP_NONBLOCK);
		if ((r = read(fd, buf + got, sizeof(buf) - got)) > 0)
			got += (size_t)r;
	}
	assert_int_equal(got, n);
	assert_memory_equal(buf, want, n);
}

static void
expect_client(struct fx *x, const char *want)
{
	size_t	before = evbuffer_get_length(x->rx);

	LOOP_UNTIL(x, client_read(x) >= before + strlen(want));
	assert_memory_equal(evbuffer_pullup(x->rx, -1) + before, want,
	    strlen(want));
}

/* link -> link -> plain socket -> plain socket -> link. */
static void
test_swap_every_engine(void **state)
{
	static int		 idx[2] = { RELAY_CLIENT, RELAY_SERVER };
	struct fx		*x = *state;
	struct fake		*b = fake_new(), *c = fake_new();
	struct bufferevent	*bev;
	int			 fd, fd2;

	start(x, NULL);
	relay_tap(&x->r, RELAY_CLIENT, tap, &idx[0]);
	relay_tap(&x->r, RELAY_SERVER, tap, &idx[1]);
	tapped[0] = tapped[1] = 0;
	client_send(x, (const uint8_t *)"get a", 5);
	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) == 5);
	prov_data(x->fk, (const uint8_t *)"one", 3);
	expect_client(x, "one");
	assert_true(relay_idle(&x->r));

	/* To another link: the first one is closed, data goes to b. */
	assert_int_equal(relay_swap_server(&x->r, x->base, NULL, &b->link),
	    0);
	assert_int_equal(x->fk->closes, 1);
	assert_int_equal(b->paused, 0);
	client_send(x, (const uint8_t *)"get b", 5);
	LOOP_UNTIL(x, evbuffer_get_length(b->got) == 5);
	assert_int_equal(evbuffer_get_length(x->fk->got), 5);
	prov_data(b, (const uint8_t *)"two", 3);
	expect_client(x, "two");

	/* To a plain socket (the fd engine takes its descriptor). */
	fd = upstream(x, &bev);
	assert_int_equal(relay_swap_server(&x->r, x->base, bev, NULL), 0);
	assert_int_equal(b->closes, 1);
	client_send(x, (const uint8_t *)"get c", 5);
	expect_read(x, fd, "get c");
	assert_int_equal(write(fd, "three", 5), 5);
	expect_client(x, "three");

	/* To another plain socket: the first one is closed. */
	fd2 = upstream(x, &bev);
	assert_int_equal(relay_swap_server(&x->r, x->base, bev, NULL), 0);
	expect_read(x, fd, "");		/* the old one is closed: */
	assert_int_equal(read(fd, (char[1]){ 0 }, 1), 0);
	close(fd);
	client_send(x, (const uint8_t *)"get d", 5);
	expect_read(x, fd2, "get d");
	assert_int_equal(write(fd2, "four", 4), 4);
	expect_client(x, "four");

	/* Back to a link. */
	assert_int_equal(relay_swap_server(&x->r, x->base, NULL, &c->link),
	    0);
	assert_int_equal(read(fd2, (char[1]){ 0 }, 1), 0);
	close(fd2);
	client_send(x, (const uint8_t *)"get e", 5);
	LOOP_UNTIL(x, evbuffer_get_length(c->got) == 5);
	prov_data(c, (const uint8_t *)"five", 4);
	expect_client(x, "five");

	/* Counts and taps went on through every swap. */
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, 25);
	assert_int_equal(x->r.side[RELAY_SERVER].bytes, 19);
	assert_int_equal(tapped[0], 25);
	assert_int_equal(tapped[1], 19);
	assert_int_equal(x->dones, 0);
	relay_release(&x->r);		/* c is the relay's: closed here */
	relay_init(&x->r);
	assert_int_equal(c->closes, 1);
	evbuffer_free(b->got);
	free(b);
	evbuffer_free(c->got);
	free(c);
}

/* Not idle: bytes wait for the upstream; nothing changes. */
static void
test_swap_refused_when_busy(void **state)
{
	struct fx	*x = *state;
	struct fake	*b = fake_new();

	start(x, NULL);
	x->fk->pending = 10;		/* the link has not sent them yet */
	assert_false(relay_idle(&x->r));
	assert_int_equal(relay_swap_server(&x->r, x->base, NULL, &b->link),
	    -1);
	assert_int_equal(x->fk->closes, 0);
	assert_null(b->link.user);
	x->fk->pending = 0;
	assert_true(relay_idle(&x->r));
	/* A finished direction is not idle either. */
	prov_eof(x->fk);
	spin(x, 2);
	assert_false(relay_idle(&x->r));
	assert_int_equal(relay_take_client(&x->r), -1);
	evbuffer_free(b->got);
	free(b);
}

/* The client socket comes back; the upstream is closed. */
static void
test_take_client(void **state)
{
	struct fx	*x = *state;
	int		 fd;

	start(x, NULL);
	client_send(x, (const uint8_t *)"q", 1);
	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) == 1);
	assert_true((fd = relay_take_client(&x->r)) >= 0);
	assert_int_equal(x->fk->closes, 1);
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, 1);
	assert_int_equal(write(fd, "bye", 3), 3);
	expect_client(x, "bye");
	close(fd);
	assert_int_equal(client_eof(x), 1);
	relay_release(&x->r);		/* still safe */
}

/*
 * Issue 20: the old upstream owes a reply (it hung) and holds bytes it
 * never sent: relay_resend_server drops them, and the new upstream gets
 * the kept request first, then what the client sends next; its reply
 * reaches the client.  Refused while bytes wait for the client.
 */
static void
test_resend_busy(void **state)
{
	struct fx		*x = *state;
	struct bufferevent	*bev;
	struct evbuffer		*first;
	int			 fd;

	start(x, NULL);
	client_send(x, (const uint8_t *)"GET k", 5);
	LOOP_UNTIL(x, evbuffer_get_length(x->fk->got) == 5);
	x->fk->pending = 10;		/* stuck toward the hung server */
	assert_false(relay_idle(&x->r));
	assert_true(relay_resend_ok(&x->r));
	assert_non_null(first = evbuffer_new());
	evbuffer_add(first, "GET k", 5);
	fd = upstream(x, &bev);
	assert_int_equal(relay_resend_server(&x->r, x->base, bev, NULL,
	    first), 0);
	assert_int_equal(evbuffer_get_length(first), 0);
	evbuffer_free(first);
	assert_int_equal(x->fk->closes, 1);
	expect_read(x, fd, "GET k");
	client_send(x, (const uint8_t *)"GET j", 5);
	expect_read(x, fd, "GET j");
	assert_int_equal(write(fd, "vk", 2), 2);
	expect_client(x, "vk");
	/* Bytes waiting for the client: not now. */
	assert_null(x->r.side[RELAY_CLIENT].fdio.out);	/* none: no buffer */
	assert_non_null(x->r.side[RELAY_CLIENT].fdio.out = evbuffer_new());
	evbuffer_add(x->r.side[RELAY_CLIENT].fdio.out, "x", 1);
	assert_false(relay_resend_ok(&x->r));
	assert_int_equal(relay_resend_server(&x->r, x->base, NULL, NULL,
	    NULL), -1);
	evbuffer_drain(x->r.side[RELAY_CLIENT].fdio.out, 1);
	relay_release(&x->r);
	relay_init(&x->r);
	close(fd);
}

/*
 * Issue 21: a held client is not read (its bytes wait in its socket) and
 * the relay stays idle; the swap reads it again, so the new upstream gets
 * what the client sent meanwhile and the old one nothing.  relay_hold(r,
 * 0) alone lets go too.
 */
static void
test_hold(void **state)
{
	struct fx		*x = *state;
	struct bufferevent	*bev;
	char			 c;
	int			 fd;

	start(x, NULL);
	relay_hold(&x->r, 1);
	client_send(x, (const uint8_t *)"Q1", 2);
	spin(x, 5);
	assert_int_equal(evbuffer_get_length(x->fk->got), 0);
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, 0);
	assert_true(relay_idle(&x->r));
	fd = upstream(x, &bev);
	assert_int_equal(relay_swap_server(&x->r, x->base, bev, NULL), 0);
	assert_int_equal(x->fk->closes, 1);
	expect_read(x, fd, "Q1");
	assert_int_equal(evbuffer_get_length(x->fk->got), 0);
	relay_hold(&x->r, 1);
	client_send(x, (const uint8_t *)"Q2", 2);
	spin(x, 5);
	assert_int_equal(read(fd, &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	relay_hold(&x->r, 0);
	expect_read(x, fd, "Q2");
	relay_release(&x->r);
	relay_init(&x->r);
	close(fd);
}

static int	lost_calls, lost_answer;

static int
lost(struct relay *r, void *arg)
{
	lost_calls++;
	return (lost_answer);
}

/*
 * Issue 21, the crashed path: the server side ends (EOF, then an error)
 * and relay_lost_cb takes it over: the client is neither shut nor read,
 * the relay is not done, asked once; relay_resend_server goes on with a
 * new upstream, which gets what the client sent meanwhile.  Declined,
 * the end reaches the client as before.  relay_edit_server rewrites the
 * next server read once.
 */
static size_t
edit(void *arg, struct evbuffer *buf, size_t off, size_t n)
{
	(*(int *)arg)++;
	evbuffer_drain(buf, evbuffer_get_length(buf));
	evbuffer_add(buf, "ED", 2);
	return (2);
}

static void
test_server_lost(void **state)
{
	struct fx		*x = *state;
	struct bufferevent	*bev;
	int			 fd, edits = 0;

	start(x, NULL);
	relay_edit_server(&x->r, edit, &edits);
	prov_data(x->fk, (const uint8_t *)"hello", 5);
	expect_client(x, "ED");
	prov_data(x->fk, (const uint8_t *)"more", 4);
	expect_client(x, "more");
	assert_int_equal(edits, 1);
	lost_calls = 0;
	lost_answer = 1;
	relay_on_server_lost(&x->r, lost, NULL);
	prov_eof(x->fk);
	prov_error(x->fk, "reset");
	spin(x, 5);
	assert_int_equal(lost_calls, 1);
	assert_int_equal(client_eof(x), 0);
	assert_int_equal(x->dones, 0);
	client_send(x, (const uint8_t *)"Q1", 2);
	spin(x, 5);
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, 0);
	relay_hold(&x->r, 0);		/* no upstream to read for: still held */
	spin(x, 5);
	assert_int_equal(x->r.side[RELAY_CLIENT].bytes, 0);
	assert_true(relay_resend_ok(&x->r));
	fd = upstream(x, &bev);
	assert_int_equal(relay_resend_server(&x->r, x->base, bev, NULL, NULL),
	    0);
	expect_read(x, fd, "Q1");
	assert_int_equal(write(fd, "Z", 1), 1);
	expect_client(x, "Z");
	/* The new upstream's end, declined: the client sees it. */
	lost_answer = 0;
	close(fd);
	LOOP_UNTIL(x, client_eof(x) == 1);
	assert_int_equal(lost_calls, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_swap_every_engine, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_swap_refused_when_busy,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_resend_busy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_take_client, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_lost, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
