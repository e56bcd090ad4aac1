/*
 * test_relay_bridge.c: relay_bridge(), a link served through a socketpair
 * for consumers that speak through a socket (health probes), against the
 * fake link provider of link_fixture.h.  The bridge frees itself (and
 * closes the link) from a loop event once both directions are done.
 */
#include "config.h"

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

/* cfd becomes the bridge's end; the fixture's relay is not used. */

static void
bridge(struct fx *x)
{
	close(x->rfd);			/* the relay's end is not used here */
	x->rfd = -1;
	close(x->cfd);
	assert_int_equal(relay_bridge(x->base, &x->fk->link, &x->cfd), 0);
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
		T(test_bridge_both_ways), T(test_bridge_link_eof_first),
		T(test_bridge_error), T(test_bridge_user_close),
		T(test_bridge_backpressure),
	};
#undef T

	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
