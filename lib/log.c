/*
 * log.c: one line per event, UTC timestamp with milliseconds, level.  In
 * brief mode (quick mode on a terminal) only warnings, errors and status
 * lines are written, as plain text.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

static struct {
	int	level;
	int	use_syslog;
	int	brief;
	char	last_error[512];	/* for the reload status */
	int	journal;	/* stderr is the journal's stream */
} log_state = { LOG_LEVEL_INFO, 0, 0, "", 0 };

static const char *const log_names[] = {
	"error", "warn", "notice", "info", "debug"
};
/* syslog(3) priorities, also sd-daemon(3)'s "<N>" prefixes. */
static const int log_prio[] = {
	LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
};

static void
log_vwrite(int level, const char *fmt, va_list ap, const char *suffix,
    int status)
{
	char		 buf[2048], *msg = buf, ts[32];
	const char	*sep = suffix != NULL ? ": " : "";
	struct timeval	 tv;
	struct tm	 tm;
	va_list		 again;
	int		 n;

	if (level == LOG_LEVEL_ERROR) {
		va_list	aq;

		va_copy(aq, ap);
		vsnprintf(log_state.last_error, sizeof(log_state.last_error),
		    fmt, aq);
		va_end(aq);
	}
	if (level > log_state.level)
		return;
	if (log_state.brief && level >= LOG_LEVEL_NOTICE && !status)
		return;
	if (suffix == NULL)
		suffix = "";
	/* A long line is written whole, never cut. */
	va_copy(again, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf) && vasprintf(&msg, fmt, again) == -1)
		msg = buf;	/* out of memory: the cut line, marked */
	va_end(again);
	if (msg == buf && n >= (int)sizeof(buf))
		memcpy(buf + sizeof(buf) - 5, "[...]", 5);
	if (log_state.brief)
		fprintf(stderr, "%s%s%s\n", msg, sep, suffix);
	else if (log_state.use_syslog)
		syslog(log_prio[level], "%s%s%s", msg, sep, suffix);
	else if (log_state.journal)
		fprintf(stderr, "<%d>%s%s%s\n", log_prio[level], msg, sep,
		    suffix);
	else {
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s: %s%s%s\n", ts,
		    (long)tv.tv_usec / 1000, log_names[level], msg, sep,
		    suffix);
	}
	if (msg != buf)
		free(msg);
}

/*
 * Is standard error the journal's stream?  systemd sets JOURNAL_STREAM
 * to its "device:inode"; a child whose stderr was redirected elsewhere
 * inherits the variable, hence the comparison.
 */
static int
log_journal_stream(void)
{
	const char		*js = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return (0);
	return ((unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino);
}

static void
log_event_cb(int severity, const char *msg)
{
	int	level;

	switch (severity) {
	case EVENT_LOG_DEBUG:
		level = LOG_LEVEL_DEBUG;
		break;
	case EVENT_LOG_MSG:
		level = LOG_LEVEL_INFO;
		break;
	case EVENT_LOG_WARN:
		level = LOG_LEVEL_WARN;
		break;
	default:
		level = LOG_LEVEL_ERROR;
		break;
	}
	if (level <= log_state.level)
		log_info("libevent: %s", msg);
}

void
log_init(int level, int use_syslog)
{
	log_state.level = level;
	log_state.use_syslog = use_syslog;
	log_state.journal = !use_syslog && log_journal_stream();
	if (use_syslog)
		openlog("postern", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else
		setvbuf(stderr, NULL, _IOLBF, 0);
	event_set_log_callback(log_event_cb);
}

void
log_set_brief(int on)
{
	log_state.brief = on;
}

void
log_set_level(int level)
{
	log_state.level = level;
}

int
log_level(void)
{
	return (log_state.level);
}

const char *
log_last_error(void)
{
	return (log_state.last_error);
}

char *
log_clean(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return (s);
}

#define LOG_BODY_(level, suffix, status) do {		\
	va_list	ap;					\
	va_start(ap, fmt);				\
	log_vwrite((level), fmt, ap, (suffix), (status));	\
	va_end(ap);					\
} while (0)
#define LOG_BODY(level, suffix)	LOG_BODY_(level, suffix, 0)

void
log_warn(const char *fmt, ...)
{
	const char	*e = strerror(errno);

	LOG_BODY(LOG_LEVEL_WARN, e);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, NULL);
}

void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, NULL);
}

void
log_notice(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_NOTICE, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, NULL);
}

void
log_status(const char *fmt, ...)
{
	LOG_BODY_(LOG_LEVEL_INFO, NULL, 1);
}

void
log_debug_(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, NULL);
}

void
fatal(const char *fmt, ...)
{
	const char	*e = strerror(errno);

	LOG_BODY(LOG_LEVEL_ERROR, e);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, NULL);
	exit(1);
}
