/*
 * conf_int.h: what conf.c shares with conf_route.c: the parser's state
 * and the helpers both use.  Not for other modules.
 */
#ifndef POSTERN_CONF_INT_H
#define POSTERN_CONF_INT_H

#include "conf.h"
#include "conf_keys.h"

#define CONF_MAX_SIZE	(4 * 1024 * 1024)
#define CONF_MAX_ROUTES	32
#define CONF_MAX_LISTEN	32
/* The longest list of algorithm names (TYPE_NAMES). */
#define CONF_NAMES_MAX	400

struct conf_parser {
	struct conf		*conf;
	const char		*file;
	int			 flags;
	struct conf_errors	*errs;
	enum conf_section	 section;
	void			*object;	/* what keys are stored into */
	const char		*label;		/* before a key in errors */
	int			 seen[CONF_MAX_KEYS];	/* line of each key */
	/* line of the current section header; 0 before the first */
	int			 section_line;
	int			 global_line;	/* of [postern]; 0 if none yet */
	int			 global_seen[CONF_MAX_KEYS]; /* for [postern] */
	/* Files of KEY_SECRET keys: their modes are checked at the end. */
	struct conf_secret_ref	*secrets;
	size_t			 nsecrets;
};

/* A secret file as given: "label key path" at line. */
struct conf_secret_ref {
	int	 line;
	char	*what;		/* "label key path", as in errors */
	char	*path;
};

#define perr(p, line, ...) \
	conf_errors_add((p)->errs, (p)->file, (line), __VA_ARGS__)

/*
 * conf_store(p, k, line, value, object): parse value as key k wants and
 * store it into object (the struct of k's section), or report why not,
 * with p->label ahead of the key's name.
 */
void	conf_store(struct conf_parser *p, const struct conf_key *k, int line,
	    const char *value, void *object);

/* conf_valid_name(s): letters, digits, '-', '_', '.'; at most 64. */
int	conf_valid_name(const char *s);

/*
 * conf_validate_role(p, s, kind), conf_validate_identity(p, s, kind):
 * a service's check_role and identity keys against its check kind, at
 * the end of its section (conf_validate.c).
 */
void	conf_validate_role(struct conf_parser *p,
	    const struct conf_service *s, int kind);
void	conf_validate_identity(struct conf_parser *p, struct conf_service *s,
	    int kind);

/*
 * conf_validate_cluster(p, s): cluster = yes on a redis service with
 * cluster_ports FIRST-LAST (parsed into s) and no Sentinel route.
 */
void	conf_validate_cluster(struct conf_parser *p, struct conf_service *s);

/* conf_validate_readonly(p, s): readonly = yes only where it works. */
void	conf_validate_readonly(struct conf_parser *p,
	    const struct conf_service *s);

/*
 * conf_validate(p): the cross-checks once the whole file is read
 * (conf_validate.c): routes, checks against protocols, secrets read,
 * bastions, the admin endpoint, listeners used once.
 */
void	conf_validate(struct conf_parser *p);

/*
 * conf_read_secret(p, s): read s's check_password_file and auth_file
 * (conf_secret.c).
 */
void	conf_read_secret(struct conf_parser *p, struct conf_service *s);

/*
 * conf_read_secret_file(p, line, label, key, path, out): read the first
 * line of path into *out (the caller frees it, wiped); errors at line,
 * as "label: key path: why" (conf_secret.c).  The file's mode is checked at its
 * key's line (conf_check_secrets).
 */
void	conf_read_secret_file(struct conf_parser *p, int line_no,
	    const char *label, const char *key, const char *path, char **out);

/*
 * conf_note_secret(p, line, what, path, why, label): path holds a secret
 * (KEY_SECRET): its mode is checked by conf_check_secrets, once the
 * whole file is read ("user =" may come later); errors read "label what
 * path why: ...".
 */
void	conf_note_secret(struct conf_parser *p, int line, const char *what,
	    const char *path, const char *why, const char *label);

/*
 * conf_check_secrets(p): every file of a KEY_SECRET key against the rule
 * of secret.h, each wrong one an error at its key's line (so that
 * "postern -n" lists them all); then frees the list (conf_secret.c).
 */
void	conf_check_secrets(struct conf_parser *p);

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
 * unique names, known bastion; a tls:// route's options parsed into
 * r->tls through the key table (SECT_TLS), their files checked.  The
 * TLS material itself is loaded by tunnel/ (tls_reg), once per load.
 */
void	conf_validate_route(struct conf_parser *p, struct conf_service *s,
	    struct conf_route *r);

#endif
