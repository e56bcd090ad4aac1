/*
 * link_fixture.c: the fake link provider and the relay fixture (see
 * link_fixture.h).
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
#include <event2/event.h>

#include "link_fixture.h"

/* ------------------------------------------------------------------ */
/* The fake provider. */

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
	if (io && f->failed)
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

struct fake *
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
void
prov_data(struct fake *f, const uint8_t *p, size_t n)
{
	assert_non_null(f->link.user);
	assert_int_equal(f->paused, 0);	/* a paused link holds its data */
	f->link.user->data(f->link.user_arg, p, n);
}

void
prov_eof(struct fake *f)
{
	assert_non_null(f->link.user);
	f->link.user->eof(f->link.user_arg);
}

void
prov_closed(struct fake *f)
{
	assert_non_null(f->link.user);
	f->failed = 1;			/* it takes nothing more */
	f->link.user->closed(f->link.user_arg);
}

void
prov_error(struct fake *f, const char *why)
{
	assert_non_null(f->link.user);
	f->failed = 1;			/* no I/O op may follow */
	f->link.user->error(f->link.user_arg, why);
}

void
prov_writable(struct fake *f)
{
	assert_non_null(f->link.user);
	f->link.user->writable(f->link.user_arg);
}

/* ------------------------------------------------------------------ */

int
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

int
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

void
start(struct fx *x, struct evbuffer *first)
{
	assert_int_equal(relay_start_link(&x->r, x->base, x->rfd,
	    &x->fk->link, first, on_done, x), 0);
	x->owned = 1;
	x->rfd = -1;			/* the relay's now */
}

void
spin(struct fx *x, int n)
{
	while (n-- > 0)
		event_base_loop(x->base, EVLOOP_NONBLOCK);
}

/* Read what the client end has; returns all it has read so far. */
size_t
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
int
client_eof(struct fx *x)
{
	client_read(x);
	return (x->rx_eof);
}

void
client_send(struct fx *x, const uint8_t *p, size_t n)
{
	assert_int_equal(send(x->cfd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Byte off of a stream: a prime period shows lost or swapped chunks. */
uint8_t
pat(size_t off)
{
	return ((uint8_t)(off % 251));
}

void
fill(uint8_t *p, size_t n, size_t off)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = pat(off + i);
}

/* buf from offset skip holds the pattern's first n bytes. */
void
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
size_t
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
