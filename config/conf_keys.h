/*
 * conf_keys.h: the table of configuration keys.  One sorted table feeds
 * the parser, "postern --keys", the example config and postern.conf(5)
 * (tests/check-keys.sh fails "make check" when they disagree).
 */
#ifndef POSTERN_CONF_KEYS_H
#define POSTERN_CONF_KEYS_H

#include <stddef.h>

enum conf_section {
	SECT_NONE = -1,		/* the parser: before any header, or a bad one */
	SECT_GLOBAL,		/* [postern] */
	SECT_BASTION,		/* [bastion NAME] */
	SECT_SERVICE,		/* [service NAME] */
	SECT_TLS		/* options of a tls:// route */
};

enum conf_type {
	TYPE_STRING,
	TYPE_PATH,		/* a file that must exist (checked on load) */
	TYPE_HOSTPORT,		/* host:port or [v6]:port */
	TYPE_LISTEN,		/* host:port, [v6]:port, port or unix:/path */
	TYPE_DURATION,		/* 250ms, 2s, 1m */
	TYPE_INT,
	TYPE_ENUM,
	TYPE_ROUTE,		/* NAME URL [key=value ...] */
	TYPE_USER,		/* a user name that must exist (checked on load) */
	TYPE_NAMES		/* name,name,...: algorithm names, in order */
};

#define KEY_REQUIRED	0x1
#define KEY_REPEAT	0x2	/* may be given more than once */
#define KEY_CREATABLE	0x4	/* a path that may not exist yet: checked later */
#define KEY_SECRET	0x8	/* a secret's file: secret.h's rule */

struct conf_key {
	enum conf_section	 section;
	const char		*name;
	enum conf_type		 type;
	size_t			 offset;	/* into the section's struct */
	const char		*def;		/* default, parsed like input */
	int			 min, max;	/* for ints and durations (ms) */
	const char *const	*values;	/* for enums, NULL-terminated */
	int			 flags;
	const char		*doc;
};

/* At most this many keys in the table (the parser's per-key arrays). */
#define CONF_MAX_KEYS	96

extern const struct conf_key	conf_keys[];
extern const size_t		conf_nkeys;

/*
 * conf_keys_suggest(section, name): the key of section closest to an
 * unknown name (at most 2 edits, and fewer than half its letters), for
 * "did you mean"; NULL if none is that close.
 */
const char *conf_keys_suggest(enum conf_section section, const char *name);

/* conf_keys_find(section, name): the table entry, or NULL. */
const struct conf_key *conf_keys_find(enum conf_section section,
	    const char *name);

/*
 * conf_keys_section_name(section): "postern", "bastion", "service" or
 * "tls" (route options).
 */
const char *conf_keys_section_name(int section);

/* conf_keys_parse_duration(s, ms): "250ms", "2s", "1m" or "0"; 0 or -1. */
int	conf_keys_parse_duration(const char *s, int *ms);

/* conf_keys_enum_index(k, s): the index of s in k->values, or -1. */
int	conf_keys_enum_index(const struct conf_key *k, const char *s);

#endif
