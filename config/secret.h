/*
 * secret.h: files that hold a secret (a password, a passphrase, the
 * admin token, an SSH or TLS private key): the one rule for their mode,
 * and reading them without leaving copies behind.
 *
 * The rule (postern.conf(5), FILES THAT HOLD SECRETS), as OpenSSH's for
 * private keys with libpq's allowance for root-owned keys:
 *   - others may not read, write or execute it (mode & 007 == 0);
 *   - its group may not write or execute it (mode & 030 == 0);
 *   - its group may read it (mode & 040) only when root owns the file
 *     and the group is one postern runs with: its own group or one of
 *     its supplementary groups (and, when it starts as root with
 *     user =, that user's).  That is a Kubernetes Secret mounted with
 *     fsGroup (root:fsGroup 0640), or Debian's root:ssl-cert 0640 keys.
 * So 0600 and 0400 always do; 0640 as above; 0644 never.
 */
#ifndef POSTERN_SECRET_H
#define POSTERN_SECRET_H

#include <stddef.h>

struct stat;

/* The largest secret file read (a 16384-bit RSA key is under 13 KiB). */
#define SECRET_MAX_SIZE	(64 * 1024)

/*
 * secret_mode_check(st, user, err, errlen): 0 when a file with status st
 * may hold a secret, else -1 with the reason and the fix in err.  user:
 * the configured "user =" (NULL: none); its groups count too while the
 * process runs as root (it reads the files again after switching).
 */
int	secret_mode_check(const struct stat *st, const char *user, char *err,
	    size_t errlen);

/*
 * secret_load(path, check, user, out, len, err, errlen): the whole file
 * into a new buffer *out of *len bytes plus a NUL, with open(2) and
 * read(2) (no stdio buffer keeps a copy); the mode of the opened file is
 * checked first when check is set.  0, or -1 with err set.  The caller
 * frees *out with secret_free(*out, *len), which wipes it.
 */
int	secret_load(const char *path, int check, const char *user,
	    char **out, size_t *len, char *err, size_t errlen);

/* secret_free(buf, len): wipe len + 1 bytes and free.  NULL: no-op. */
void	secret_free(char *buf, size_t len);

/* secret_wipe_str(s): wipe and free a NUL-terminated secret. */
void	secret_wipe_str(char *s);

#endif
