/*
 * link.c: the link calls (link.h), dispatched to the provider's ops.
 */
#include "config.h"

#include <stddef.h>

#include "link.h"

void
link_attach(struct link *l, const struct link_user *user, void *arg)
{
	l->user = user;
	l->user_arg = arg;
	/* Data flows once the user resumes it (link_pause); not after. */
	if (user == NULL)
		l->ops->pause(l, 1);
}

int
link_write(struct link *l, struct evbuffer *buf)
{
	return (l->ops->write(l, buf));
}

size_t
link_pending(const struct link *l)
{
	return (l->ops->pending(l));
}

void
link_shutdown(struct link *l)
{
	l->ops->shutdown(l);
}

void
link_pause(struct link *l, int on)
{
	l->ops->pause(l, on);
}

void
link_close(struct link *l)
{
	if (l != NULL)
		l->ops->close(l);
}
