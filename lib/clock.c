/*
 * clock.c: monotonic time (see clock.h).
 */
#include "config.h"

#include <time.h>

#include "clock.h"

/*
 * The one piece of process-wide state here, for unit tests: a frozen
 * clock.  The daemon never sets it.
 */
static int64_t	clock_frozen = -1;

int64_t
clock_ms(void)
{
	struct timespec	ts;

	if (clock_frozen >= 0)
		return (clock_frozen);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
clock_since(int64_t then)
{
	return (clock_ms() - then);
}

time_t
clock_wall(int64_t mono)
{
	int64_t	delta = mono - clock_ms();

	if (clock_frozen >= 0)
		return ((time_t)(1700000000 + mono / 1000));
	return (time(NULL) + (time_t)(delta / 1000));
}

struct timeval
clock_tv(int64_t ms)
{
	struct timeval	tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return (tv);
}

void
clock_fake(int64_t ms)
{
	clock_frozen = ms;
}
