/*
 * authfile.h: a service's auth_file, in PgBouncer's userlist.txt format:
 * one `"user" "secret"` a line (a '"' inside a field is written '""'),
 * blank lines and lines starting with ';' or '#' ignored.  The secret is
 * a plain password, an md5 hash as PostgreSQL stores it ("md5" and 32
 * hex digits: md5(password || user)), or a SCRAM-SHA-256 secret as
 * pg_authid holds it:
 *
 *   SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
 *
 * (salt and keys in base64).  postern uses it to authenticate a session
 * it resumes on another server (DESIGN.md, "Resume (PostgreSQL)").
 * Secrets are never logged, and wiped when the list is freed.
 */
#ifndef POSTERN_AUTHFILE_H
#define POSTERN_AUTHFILE_H

#include <stddef.h>

#define AUTHFILE_KEY_LEN	32	/* SHA-256 */
#define AUTHFILE_SALT_MAX	64
#define AUTHFILE_MAX_SIZE	(1024 * 1024)

enum authfile_kind {
	AUTHFILE_PLAIN,
	AUTHFILE_MD5,
	AUTHFILE_SCRAM
};

struct authfile_entry {
	char			*user;
	enum authfile_kind	 kind;
	char			*secret;	/* as written (plain, md5) */
	int			 iterations;	/* SCRAM */
	unsigned char		 salt[AUTHFILE_SALT_MAX];
	size_t			 salt_len;
	unsigned char		 stored_key[AUTHFILE_KEY_LEN];
	unsigned char		 server_key[AUTHFILE_KEY_LEN];
};

struct authfile {
	struct authfile_entry	*v;
	size_t			 n;
};

/*
 * authfile_parse(buf, len, out, err, errlen): parse a whole file.
 * Returns 0 with *out set (free with authfile_free), or -1 with "line N:
 * why" in err (never a secret).  A user named twice is an error.
 */
int	authfile_parse(const char *buf, size_t len, struct authfile **out,
	    char *err, size_t errlen);

/* authfile_find(a, user): the entry for user, or NULL (a may be NULL). */
const struct authfile_entry *authfile_find(const struct authfile *a,
	    const char *user);

/* authfile_free(a): wipe every secret and free; NULL is a no-op. */
void	authfile_free(struct authfile *a);

/* authfile_kind_name(k): "password", "md5", "SCRAM-SHA-256". */
const char *authfile_kind_name(enum authfile_kind k);

#endif
