/*
 * daemon_ctx.c: the one run-time context as the other modules see it:
 * accessors, and the lists of services and sessions it holds.  Nothing
 * here calls up into the modules that read it (daemon.c and
 * daemon_reload.c are the life that does).
 */
#include "config.h"

#include <stdint.h>

#include <event2/event.h>

#include "clock.h"
#include "daemon_ctx.h"
#include "daemon_int.h"
#include "memtrim.h"
#include "tls_reg.h"

unsigned int
daemon_nsessions(const struct postern *px)
{
	return (px->nsessions);
}

struct event_base *
daemon_base(struct postern *px)
{
	return (px->base);
}

const struct dial_env *
daemon_dial_env(struct postern *px)
{
	return (&px->dial_env);
}

uint64_t
daemon_next_session_id(struct postern *px)
{
	return (++px->next_id);
}

struct pg_cancel *
daemon_cancels(struct postern *px)
{
	return (px->cancels);
}

const struct service_list *
daemon_services(struct postern *px)
{
	return (&px->services);
}

const struct conf *
daemon_conf(struct postern *px)
{
	return (px->conf);
}

unsigned int
daemon_generation(struct postern *px)
{
	return (px->generation);
}

int
daemon_stopping(struct postern *px)
{
	return (px->stopping);
}

int64_t
daemon_uptime_ms(struct postern *px)
{
	return (clock_since(px->started));
}

const struct daemon_reload *
daemon_reload_status(struct postern *px)
{
	return (&px->reload);
}

struct session_list *
daemon_sessions(struct postern *px)
{
	return (&px->sessions);
}

void
daemon_session_count(struct postern *px, int delta)
{
	px->nsessions += delta;
	memtrim_touch(px->trim);
}

struct session_list *
daemon_reap_list(struct postern *px)
{
	return (&px->reap);
}

void
daemon_reap_soon(struct postern *px)
{
	event_active(px->reap_ev, EV_TIMEOUT, 0);
}

void
daemon_reaped(struct postern *px)
{
	/* The last session of an old generation may have gone. */
	tls_reg_purge(px->dial_env.tls, px->conf);
	if (px->draining && px->nsessions == 0)
		event_base_loopexit(px->base, NULL);
}

struct linger_list *
daemon_lingers(struct postern *px)
{
	return (&px->lingers);
}
