/*
 * conf_int.h: what conf.c shares with conf_route.c: the parser's state
 * and the helpers both use.  Not for other modules.
 */
#ifndef POSTERN_CONF_INT_H
#define POSTERN_CONF_INT_H

#include "conf.h"

#define CONF_MAX_SIZE	(4 * 1024 * 1024)
/*
 * conf_load() only, beyond CONF_CHECK_FILES: load tls:// routes' CAs,
 * certificates and keys (readable is not enough).  Kept out of conf.h's
 * flags so that conf_parse() callers keep their meaning.
 */
#define CONF_LOAD_TLS	0x100
#define CONF_MAX_ROUTES	32
#define CONF_MAX_LISTEN	32

struct conf_parser {
	struct conf		*conf;
	const char		*file;
	int			 flags;
	struct conf_errors	*errs;
	int			 section;	/* enum conf_section, or -1 */
	void			*object;	/* what keys are stored into */
	int			 seen[64];	/* line of each key, this section */
	/* line of the current section header; 0 before the first */
	int			 section_line;
	int			 global_line;	/* of [postern]; 0 if none yet */
	int			 global_seen[64]; /* seen[], for [postern] */
};

#define perr(p, line, ...) \
	conf_errors_add((p)->errs, (p)->file, (line), __VA_ARGS__)

/* conf_valid_name(s): letters, digits, '-', '_', '.'; at most 64. */
int	conf_valid_name(const char *s);

/* conf_check_file(p, line, what, path): report an unreadable file. */
void	conf_check_file(struct conf_parser *p, int line, const char *what,
	    const char *path);

/*
 * conf_parse_route(p, line, value, r): "NAME URL [key=value ...]" into r.
 * Returns 0, or -1 with errors reported; conf_route_clear(r) either way.
 */
int	conf_parse_route(struct conf_parser *p, int line, const char *value,
	    struct conf_route *r);

/* conf_route_clear(r): free what r holds (not r). */
void	conf_route_clear(struct conf_route *r);

/*
 * conf_validate_route(p, s, r): cross-checks once the file is read:
 * unique names, known bastion, options and their files; TLS material
 * loaded when the parser was asked to.
 */
void	conf_validate_route(struct conf_parser *p, struct conf_service *s,
	    struct conf_route *r);

#endif
