/*
 * log.h: logging to stderr (foreground; under journald with priorities)
 * or syslog (-d).
 *
 * The level and the destination are the one piece of process-wide state
 * outside struct postern: libevent's log callback carries no argument,
 * and every module logs.  See DESIGN.md.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>

/*
 * Who each level is for: error and warn, something is wrong (a route
 * down, no usable route); notice, the operator's normal events (a route
 * back up, new sessions going elsewhere, pins, reloads); info, one line
 * per session and per event of one session; debug, detail.
 */
enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/*
 * LOG_DETAIL_LEN: the size of every "why" string passed up the layers
 * into a log line (a dial's detail, a check's, a route's last error): an
 * SSH error with its file names fits, so nothing is cut on the way up.
 */
#define LOG_DETAIL_LEN	1536

/* log_s(n): "s" unless n is 1, for "%u session%s". */
#define log_s(n)	((n) == 1 ? "" : "s")

/*
 * log_init(level, use_syslog): set up; routes libevent's log into ours.
 * When standard error is the journal's stream ($JOURNAL_STREAM names
 * it), lines carry sd-daemon(3) "<N>" priority prefixes and no timestamp
 * or level text: the journal records both.
 */
void	log_init(int level, int use_syslog);

/*
 * log_set_brief(on): quick mode on a terminal: write only warnings,
 * errors and log_status() lines, without timestamp or level.
 */
void	log_set_brief(int on);

/* log_set_level(level): change the level (on reload). */
void	log_set_level(int level);

/* log_level(): the current level, for callers that skip formatting. */
int	log_level(void);

/*
 * log_last_error(): the text of the last log_error() line ("" before
 * any), kept whatever the level: the reload status quotes it.
 */
const char *log_last_error(void);

/*
 * log_clean(s): replace control characters in s (a peer's text bound for
 * a log line) by '?', in place; returns s.
 */
char	*log_clean(char *s);

/* log_warn(fmt, ...): warning with ": strerror(errno)" appended. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warnx(fmt, ...): warning without errno. */
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_error(fmt, ...): an error that does not stop the daemon. */
void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_notice(fmt, ...): an operator's event: route back up, failover. */
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_info(fmt, ...): one session's events. */
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_status(fmt, ...): an info line that brief mode shows too (up, back). */
void	log_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Tests the level before the arguments are evaluated or formatted. */
#define log_debug(...) do {					\
	if (log_level() >= LOG_LEVEL_DEBUG)			\
		log_debug_(__VA_ARGS__);			\
} while (0)

/* fatal(fmt, ...): log with errno and exit 1; start-up or broken invariant. */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
