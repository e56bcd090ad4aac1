/*
 * conf_check.h: helpers shared by the configuration unit tests: parse a
 * text and expect it valid, or expect exactly these "file:line: message"
 * errors.
 */
#ifndef POSTERN_CONF_CHECK_H
#define POSTERN_CONF_CHECK_H

#include <stddef.h>

struct addr;
struct conf;
struct conf_errors;

/* The example from the configuration contract (see postern.conf(5)). */
extern const char example[];

/* A service that is valid on its own, to append bad lines to. */
#define SVC	"[service s]\nlisten = 7000\nroute = direct tcp://127.0.0.1:6379\n"

/* Log level indexes in the log_level enum: error, warn, notice, info, debug. */
#define LEVEL_INFO	3
#define LEVEL_DEBUG	4

/* EXPECT_ERRORS(text, flags, "t.conf:N: message", ...): exactly these. */
#define EXPECT_ERRORS(text, flags, ...)					\
	expect_errors_buf((text), strlen(text), (flags),		\
	    (const char *const[]){ __VA_ARGS__, NULL })

/* The parse errors of forwards specs, exactly. */
#define EXPECT_FWD_ERRORS(specs, ...) do {				\
	struct conf_errors	 e_ = { NULL, 0 };			\
	char			*s_[] = specs;				\
									\
	check_errors(conf_from_forwards(s_, sizeof(s_) / sizeof(s_[0]),	\
	    &e_), &e_, (const char *const[]){ __VA_ARGS__, NULL });	\
} while (0)

#define SPECS(...)	{ __VA_ARGS__ }

/* parse_buf(buf, len, flags, e): conf_parse() under the name "t.conf". */
struct conf *parse_buf(const char *buf, size_t len, int flags,
	    struct conf_errors *e);
/* dump_errors(what, e): print e's messages on a failure. */
void	dump_errors(const char *what, const struct conf_errors *e);
/* parse_ok_buf / parse_ok: parse a text that must be valid; caller unrefs. */
struct conf *parse_ok_buf(const char *buf, size_t len, int flags);
struct conf *parse_ok(const char *text);
/* check_errors(c, e, want): c must be NULL and e exactly want (NULL-ended). */
void	check_errors(struct conf *c, struct conf_errors *e,
	    const char *const *want);
void	expect_errors_buf(const char *buf, size_t len, int flags,
	    const char *const *want);
/* check_example(c): c holds exactly the contract example. */
void	check_example(const struct conf *c);
/* fmt(a): addr_format into a static buffer. */
const char *fmt(const struct addr *a);

#endif
