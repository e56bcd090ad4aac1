/*
 * secret.c: the mode rule for files that hold secrets, and reading them
 * into memory that is wiped when freed (secret.h has the rule).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"

/* Is gid in the list? */
static int
secret_gid_in(gid_t gid, const gid_t *list, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (list[i] == gid)
			return (1);
	}
	return (0);
}

/* user's groups (root only: the files are read again as user). */
static int
secret_user_has(gid_t gid, const char *user)
{
	struct passwd	*pw;
	gid_t		*list;
	int		 n = 64, found = 0;

	if (user == NULL || geteuid() != 0 || (pw = getpwnam(user)) == NULL)
		return (0);
	if (pw->pw_gid == gid)
		return (1);
	if ((list = calloc((size_t)n, sizeof(*list))) == NULL)
		return (0);
	if (getgrouplist(user, pw->pw_gid, list, &n) == -1) {
		free(list);	/* n is now the number needed */
		if ((list = calloc((size_t)n, sizeof(*list))) == NULL ||
		    getgrouplist(user, pw->pw_gid, list, &n) == -1)
			n = 0;
	}
	if (list != NULL)
		found = secret_gid_in(gid, list, n);
	free(list);
	return (found);
}

/* Does the process (or the user it becomes) run with group gid? */
static int
secret_group_ok(gid_t gid, const char *user)
{
	gid_t	*list;
	int	 n, found = 0;

	if (gid == getegid() || gid == getgid())
		return (1);
	if ((n = getgroups(0, NULL)) > 0 &&
	    (list = calloc((size_t)n, sizeof(*list))) != NULL) {
		n = getgroups(n, list);
		found = n > 0 && secret_gid_in(gid, list, n);
		free(list);
	}
	return (found || secret_user_has(gid, user));
}

int
secret_mode_check(const struct stat *st, const char *user, char *err,
    size_t errlen)
{
	unsigned int	 mode = (unsigned int)(st->st_mode & 07777);
	struct group	*gr;
	char		 gname[64];

	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "not a regular file");
		return (-1);
	}
	if (mode & S_IRWXO) {
		snprintf(err, errlen, "mode %04o lets others read or write "
		    "it: chmod 600 it", mode);
		return (-1);
	}
	if (mode & (S_IWGRP | S_IXGRP)) {
		snprintf(err, errlen, "mode %04o lets its group write it: "
		    "chmod 600 it", mode);
		return (-1);
	}
	if (!(mode & S_IRGRP))
		return (0);
	if ((gr = getgrgid(st->st_gid)) != NULL)
		snprintf(gname, sizeof(gname), "%s", gr->gr_name);
	else
		snprintf(gname, sizeof(gname), "%lu",
		    (unsigned long)st->st_gid);
	if (st->st_uid != 0) {
		snprintf(err, errlen, "mode %04o lets group %s read it and "
		    "root does not own it: chmod 600 it (a group may read "
		    "only a root-owned file)", mode, gname);
		return (-1);
	}
	if (!secret_group_ok(st->st_gid, user)) {
		snprintf(err, errlen, "mode %04o lets group %s read it, which "
		    "is not a group postern runs with: chmod 600 it, or chgrp "
		    "it to postern's group", mode, gname);
		return (-1);
	}
	return (0);
}

int
secret_load(const char *path, int check, const char *user, char **out,
    size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 cap = 0, off = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	/* The mode of the file opened, not of a name that may change. */
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (check && secret_mode_check(&st, user, err, errlen) != 0)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size > SECRET_MAX_SIZE) {
		snprintf(err, errlen, "not a regular file of at most %d bytes",
		    SECRET_MAX_SIZE);
		goto out;
	}
	/* One buffer of the final size: growing it would leave copies. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (off < cap) {
		n = read(fd, buf + off, cap - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off == cap) {
		snprintf(err, errlen, "the file grew while it was read");
		goto out;
	}
	buf[off] = '\0';
	*out = buf;
	*len = off;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL)
		secret_free(buf, cap);
	close(fd);
	return (rc);
}

void
secret_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	explicit_bzero(buf, len + 1);
	free(buf);
}

void
secret_wipe_str(char *s)
{
	if (s != NULL)
		secret_free(s, strlen(s));
}
