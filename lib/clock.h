/*
 * clock.h: the one source of time for durations and deadlines.
 *
 * Ages, deadlines, rest periods, hold timeouts and check schedules are
 * differences of clock_ms(), which is CLOCK_MONOTONIC: an NTP step or a
 * suspended VM's catch-up does not move it, so it cannot mark a route
 * down, expire a hold early or stall a check.  The wall clock is read
 * only to print a date (log lines, a pin's expiry).
 *
 * Unit tests freeze the clock with clock_fake() and move it by hand.
 */
#ifndef POSTERN_CLOCK_H
#define POSTERN_CLOCK_H

#include <sys/time.h>

#include <stdint.h>

/* clock_ms(): monotonic milliseconds; only differences mean anything. */
int64_t	clock_ms(void);

/* clock_since(then): milliseconds from the clock_ms() value then to now. */
int64_t	clock_since(int64_t then);

/*
 * clock_wall(mono): the Unix time (seconds) at which the monotonic
 * instant mono happens or happened, for display only.
 */
time_t	clock_wall(int64_t mono);

/* clock_tv(ms): a duration as a struct timeval, for event timers. */
struct timeval clock_tv(int64_t ms);

/*
 * clock_fake(ms): tests only: clock_ms() returns ms from now on (and
 * clock_wall() counts from a fixed epoch); -1 returns to the real clock.
 */
void	clock_fake(int64_t ms);

#endif
