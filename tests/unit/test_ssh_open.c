/*
 * test_ssh_open.c: the bastion's channel-open queue (tunnel/ssh_open.c).
 *
 * libssh2 opens one channel at a time, so the order of the queue decides
 * who waits: the keepalive probe and the session channel go first, then
 * health checks (ssh_open_urgent), then sessions, each group in arrival
 * order.  The bastion here is not connected (SSH_IDLE), so nothing is
 * sent: only the queue is exercised.  The functions ssh_open.c calls in
 * other modules are stubs that fail the test if a queue operation ever
 * reaches them.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dial.h"
#include "log.h"
#include "ssh_int.h"

/* Stubs: the queue never needs a connection. */
void
ssh_kick(struct ssh_bastion *b)
{
	fail_msg("ssh_kick on a bastion that is not ready");
}

void
ssh_broken(struct ssh_bastion *b, const char *fmt, ...)
{
	fail_msg("ssh_broken called");
}

const char *
ssh_error(struct ssh_bastion *b, const char *what, int rc)
{
	fail_msg("ssh_error called");
	return ("");
}

int
ssh_fatal(int rc)
{
	fail_msg("ssh_fatal called");
	return (0);
}

struct ssh_chan *
ssh_chan_new(struct ssh_bastion *b, LIBSSH2_CHANNEL *ch, const char *target)
{
	fail_msg("ssh_chan_new called");
	return (NULL);
}

void
ssh_chan_release(struct ssh_bastion *b, LIBSSH2_CHANNEL *ch)
{
	fail_msg("ssh_chan_release called");
}

void
ssh_conns_slot_taken(struct ssh_bastion *b)
{
	fail_msg("ssh_conns_slot_taken called");
}

/* Reports of failed opens, in the order they came. */
struct reports {
	char	names[16][16];
	int	status[16];
	int	n;
};

/* An open's callback argument: where to report, and the open's name. */
struct tag {
	struct reports	*r;
	char		 name[16];
};

static void
record_cb(int status, const char *detail, struct link *link, void *arg)
{
	struct tag	*t = arg;
	struct reports	*r = t->r;

	assert_null(link);
	assert_true(r->n < 16);
	snprintf(r->names[r->n], sizeof(r->names[0]), "%s", t->name);
	r->status[r->n++] = status;
}

static struct ssh_open *
start(struct ssh_bastion *b, int kind, struct tag *t, struct reports *r,
    const char *name)
{
	struct ssh_open	*o;

	t->r = r;
	snprintf(t->name, sizeof(t->name), "%s", name);
	o = ssh_open_start(b, kind, kind == SSH_OPEN_DIRECT ? "10.0.0.1" :
	    NULL, 6379, kind == SSH_OPEN_DIRECT ? record_cb : NULL, t);
	assert_non_null(o);
	return (o);
}

/* The queue as "name,name,...": control opens are named by kind. */
static void
queue_is(struct ssh_bastion *b, const char *want)
{
	struct ssh_open	*o;
	char		 got[256] = "";
	size_t		 len = 0;

	TAILQ_FOREACH(o, &b->opens, entry) {
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
		    len > 0 ? "," : "", o->kind == SSH_OPEN_PROBE ? "probe" :
		    o->kind == SSH_OPEN_SESSION ? "session" :
		    ((struct tag *)o->arg)->name);
	}
	assert_string_equal(got, want);
}

static int
setup(void **state)
{
	struct ssh_bastion	*b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->state = SSH_IDLE;
	b->set.name = "b";
	TAILQ_INIT(&b->opens);
	TAILQ_INIT(&b->chans);
	TAILQ_INIT(&b->closing);
	*state = b;
	return (0);
}

static int
teardown(void **state)
{
	struct ssh_bastion	*b = *state;
	struct ssh_open		*o;

	while ((o = TAILQ_FIRST(&b->opens)) != NULL)
		ssh_open_cancel(o);
	free(b);
	return (0);
}

static void
test_arrival_order(void **state)
{
	struct ssh_bastion	*b = *state;
	struct reports		 r = { .n = 0 };
	struct tag		 t[3];

	start(b, SSH_OPEN_DIRECT, &t[0], &r, "s1");
	start(b, SSH_OPEN_DIRECT, &t[1], &r, "s2");
	start(b, SSH_OPEN_DIRECT, &t[2], &r, "s3");
	queue_is(b, "s1,s2,s3");
}

static void
test_checks_go_before_sessions(void **state)
{
	struct ssh_bastion	*b = *state;
	struct reports		 r = { .n = 0 };
	struct tag		 t[6];

	start(b, SSH_OPEN_DIRECT, &t[0], &r, "s1");
	start(b, SSH_OPEN_DIRECT, &t[1], &r, "s2");
	ssh_open_urgent(start(b, SSH_OPEN_DIRECT, &t[2], &r, "c1"));
	queue_is(b, "c1,s1,s2");
	/* A second check queues behind the first, still before sessions. */
	ssh_open_urgent(start(b, SSH_OPEN_DIRECT, &t[3], &r, "c2"));
	queue_is(b, "c1,c2,s1,s2");
	/* Control opens stay in front of everything. */
	start(b, SSH_OPEN_PROBE, &t[4], &r, "p");
	queue_is(b, "probe,c1,c2,s1,s2");
	ssh_open_urgent(start(b, SSH_OPEN_DIRECT, &t[5], &r, "c3"));
	queue_is(b, "probe,c1,c2,c3,s1,s2");
	/* Urgent twice changes nothing; a control open is never moved. */
	ssh_open_urgent(TAILQ_NEXT(TAILQ_FIRST(&b->opens), entry));
	queue_is(b, "probe,c1,c2,c3,s1,s2");
	ssh_open_urgent(TAILQ_FIRST(&b->opens));
	queue_is(b, "probe,c1,c2,c3,s1,s2");
}

static void
test_open_in_the_slot_stays(void **state)
{
	struct ssh_bastion	*b = *state;
	struct reports		 r = { .n = 0 };
	struct tag		 t[2];
	struct ssh_open		*o;

	o = start(b, SSH_OPEN_DIRECT, &t[0], &r, "s1");
	start(b, SSH_OPEN_DIRECT, &t[1], &r, "s2");
	/* s1 takes the slot, as ssh_open_step does. */
	TAILQ_REMOVE(&b->opens, o, entry);
	b->opening = o;
	ssh_open_urgent(o);
	assert_ptr_equal(b->opening, o);
	queue_is(b, "s2");
	/* Cancelled in the slot: kept for libssh2 to finish, no callback. */
	ssh_open_cancel(o);
	assert_ptr_equal(b->opening, o);
	assert_null(o->cb);
	b->opening = NULL;
	free(o->host);
	free(o);
}

static void
test_cancel_and_fail_all_in_order(void **state)
{
	struct ssh_bastion	*b = *state;
	struct reports		 r = { .n = 0 };
	struct tag		 t[4];
	struct ssh_open		*s2;

	start(b, SSH_OPEN_DIRECT, &t[0], &r, "s1");
	s2 = start(b, SSH_OPEN_DIRECT, &t[1], &r, "s2");
	start(b, SSH_OPEN_DIRECT, &t[2], &r, "s3");
	ssh_open_urgent(start(b, SSH_OPEN_DIRECT, &t[3], &r, "c1"));
	ssh_open_cancel(s2);
	queue_is(b, "c1,s1,s3");
	ssh_open_fail_all(b, "bastion b: connection lost");
	queue_is(b, "");
	assert_int_equal(r.n, 3);
	assert_string_equal(r.names[0], "c1");
	assert_string_equal(r.names[1], "s1");
	assert_string_equal(r.names[2], "s3");
	assert_int_equal(r.status[0], DIAL_SSH);
	assert_int_equal(r.status[2], DIAL_SSH);
}

/* Issue 20: the bastion's TCP connect met postern's own limit (EMFILE):
 * its opens fail as DIAL_LOCAL, which is never counted against a route. */
static void
test_fail_all_local_limit(void **state)
{
	struct ssh_bastion	*b = *state;
	struct reports		 r = { .n = 0 };
	struct tag		 t[2];

	start(b, SSH_OPEN_DIRECT, &t[0], &r, "s1");
	start(b, SSH_OPEN_DIRECT, &t[1], &r, "s2");
	b->local_fail = 1;
	ssh_open_fail_all(b, "TCP connect: Too many open files");
	assert_int_equal(r.n, 2);
	assert_int_equal(r.status[0], DIAL_LOCAL);
	assert_int_equal(r.status[1], DIAL_LOCAL);
	b->local_fail = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arrival_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fail_all_local_limit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_checks_go_before_sessions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_in_the_slot_stays,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_and_fail_all_in_order, setup, teardown),
	};

	log_init(LOG_LEVEL_ERROR, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
