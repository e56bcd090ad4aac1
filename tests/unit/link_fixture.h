/*
 * link_fixture.h: what test_relay_link.c and test_relay_bridge.c share: a
 * fake link provider, a fixture with a real event loop and a client
 * socketpair, and helpers to drive both.
 *
 * The fake records every op and never calls back from inside one; the
 * test plays the provider's loop and calls the user's callbacks between
 * event loop runs, as ssh_channel.c does.  The loop is a real
 * event_base, run with EVLOOP_NONBLOCK a bounded number of times: a unix
 * socket's bytes are in the peer's buffer when write() returns, so
 * nothing here waits on a clock.
 */
#ifndef POSTERN_LINK_FIXTURE_H
#define POSTERN_LINK_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "relay.h"

struct event_base;
struct evbuffer;

/* Loop runs before a condition counts as never met. */
#define LOOP_MAX	1000

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
	int		 failed;	/* prov_error() or _closed() ran */
};

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

/* Run the loop until cond holds (it may read the client), or fail. */
#define LOOP_UNTIL(x, cond) do {					\
	int	i_;							\
	for (i_ = 0; i_ < LOOP_MAX && !(cond); i_++)			\
		event_base_loop((x)->base, EVLOOP_NONBLOCK);		\
	assert_true(cond);						\
} while (0)

struct fake	*fake_new(void);

/* The provider's side: callbacks from "its loop", to an attached user. */
void	prov_data(struct fake *f, const uint8_t *p, size_t n);
void	prov_eof(struct fake *f);
void	prov_closed(struct fake *f);
void	prov_error(struct fake *f, const char *why);
void	prov_writable(struct fake *f);

/* cmocka setup/teardown: a base, a fake, a client socketpair, a relay. */
int	setup(void **state);
int	teardown(void **state);

/* start(x, first): relay_start_link on the fixture's relay end. */
void	start(struct fx *x, struct evbuffer *first);
/* spin(x, n): n non-blocking loop runs. */
void	spin(struct fx *x, int n);
/* client_read(x): read what the client end has; all read so far. */
size_t	client_read(struct fx *x);
/* client_eof(x): 1 once the client end read EOF, 2 for a reset, else 0. */
int	client_eof(struct fx *x);
void	client_send(struct fx *x, const uint8_t *p, size_t n);

/* A test stream: byte off is pat(off); a prime period shows lost chunks. */
uint8_t	pat(size_t off);
void	fill(uint8_t *p, size_t n, size_t off);
/* assert_pattern(buf, skip, n): buf from skip holds pat(0..n-1). */
void	assert_pattern(struct evbuffer *buf, size_t skip, size_t n);
/* feed_until_paused(x): data() chunks until the user pauses; bytes fed. */
size_t	feed_until_paused(struct fx *x);

#endif
