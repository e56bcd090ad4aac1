/*
 * conf_secret.c: a configuration's secret files (conf_int.h): the first
 * line of check_password_file, identity_passphrase_file and
 * admin_token_file, a service's auth_file parsed whole, never logged and
 * wiped after use; and the one mode rule for secret files (secret.h)
 * checked on each once the whole file is read, at its key's line.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "authfile.h"
#include "conf.h"
#include "conf_int.h"
#include "secret.h"

void
conf_note_secret(struct conf_parser *p, int line, const char *what,
    const char *path, const char *why, const char *label)
{
	struct conf_secret_ref	*n, *r;
	char			 buf[1024];

	if (!(p->flags & CONF_CHECK_FILES))
		return;
	n = reallocarray(p->secrets, p->nsecrets + 1, sizeof(*n));
	if (n == NULL) {
		perr(p, line, "out of memory");
		return;
	}
	p->secrets = n;
	r = &n[p->nsecrets];
	snprintf(buf, sizeof(buf), "%s%s %s%s", label, what, path, why);
	r->line = line;
	r->what = strdup(buf);
	r->path = strdup(path);	/* what the check opens */
	if (r->what == NULL || r->path == NULL) {
		free(r->what);
		free(r->path);
		perr(p, line, "out of memory");
		return;
	}
	p->nsecrets++;
}

void
conf_check_secrets(struct conf_parser *p)
{
	struct conf_secret_ref	*r;
	struct stat		 st;
	char			 err[300];
	size_t			 i;
	int			 fd;

	for (i = 0; i < p->nsecrets; i++) {
		r = &p->secrets[i];
		/* An unreadable file was reported at its line already. */
		if ((fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK)) == -1)
			continue;
		if (fstat(fd, &st) == 0 && secret_mode_check(&st,
		    p->conf->user, err, sizeof(err)) != 0)
			perr(p, r->line, "%s: %s", r->what, err);
		close(fd);
	}
	for (i = 0; i < p->nsecrets; i++) {
		free(p->secrets[i].what);
		free(p->secrets[i].path);
	}
	free(p->secrets);
	p->secrets = NULL;
	p->nsecrets = 0;
}

int
conf_secret_read(const char *path, int private, char **out, char *err,
    size_t errlen)
{
	char	*buf;
	size_t	 len, n;
	int	 rc = -1;

	if (secret_load(path, private, NULL, &buf, &len, err, errlen) != 0)
		return (-1);
	n = strcspn(buf, "\r\n");
	if (n == 0)
		snprintf(err, errlen, "empty file");
	else if ((*out = strndup(buf, n)) == NULL)
		snprintf(err, errlen, "out of memory");
	else
		rc = 0;
	secret_free(buf, len);
	return (rc);
}

/*
 * The first line of a secret file (check_password_file,
 * identity_passphrase_file, admin_token_file) into *out; never logged.
 */
void
conf_read_secret_file(struct conf_parser *p, int line_no, const char *label,
    const char *key, const char *path, char **out)
{
	char	err[256];

	if (path == NULL || !(p->flags & CONF_CHECK_FILES))
		return;
	/* An unreadable file was reported at its key's line. */
	if (access(path, R_OK) != 0)
		return;
	if (conf_secret_read(path, 0, out, err, sizeof(err)) != 0)
		perr(p, line_no, "%s%s%s %s: %s", label, *label ? ": " : "",
		    key, path, err);
}

/*
 * The service's auth_file, whole, parsed into s->auth; errors at the
 * file's own line ("path:N: why").  Its mode follows the one rule for
 * secret files (secret.h), checked on the file opened; a file that breaks
 * it is not read (conf_check_secrets reports it at its key's line).  Read
 * as secret_load does, without stdio, but up to AUTHFILE_MAX_SIZE: a
 * userlist of many SCRAM secrets outgrows SECRET_MAX_SIZE.
 */
static void
conf_read_authfile(struct conf_parser *p, struct conf_service *s)
{
	struct stat	 st;
	char		*buf = NULL, err[256];
	size_t		 n = 0, cap = 0;
	ssize_t		 r;
	int		 fd;

	if (s->auth_file == NULL || !(p->flags & CONF_CHECK_FILES) ||
	    access(s->auth_file, R_OK) != 0)
		return;
	if ((fd = open(s->auth_file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return;
	if (fstat(fd, &st) != 0 || secret_mode_check(&st, p->conf->user, err,
	    sizeof(err)) != 0) {
		close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > AUTHFILE_MAX_SIZE) {
		perr(p, s->line, "[service %s]: auth_file %s: not a regular "
		    "file of at most %d bytes", s->name, s->auth_file,
		    AUTHFILE_MAX_SIZE);
		close(fd);
		return;
	}
	/* One buffer of the final size: growing it would leave copies. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) != NULL)
		while (n < cap) {
			r = read(fd, buf + n, cap - n);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			n += (size_t)r;
		}
	close(fd);
	if (buf == NULL)
		perr(p, s->line, "[service %s]: auth_file: out of memory",
		    s->name);
	else if (n == cap)
		perr(p, s->line, "[service %s]: auth_file %s: the file grew "
		    "while it was read", s->name, s->auth_file);
	else if (authfile_parse(buf, n, &s->auth, err, sizeof(err)) != 0) {
		/* "line N: why" -> "path:N: why", the file's own place */
		if (strncmp(err, "line ", 5) == 0)
			conf_errors_add(p->errs, s->auth_file, atoi(err + 5),
			    "%s", strchr(err, ':') != NULL ?
			    strchr(err, ':') + 2 : err);
		else
			perr(p, s->line, "[service %s]: auth_file %s: %s",
			    s->name, s->auth_file, err);
	}
	if (buf != NULL) {
		OPENSSL_cleanse(buf, cap);
		free(buf);
	}
}

void
conf_read_secret(struct conf_parser *p, struct conf_service *s)
{
	char	label[160];

	snprintf(label, sizeof(label), "[service %s]", s->name);
	conf_read_secret_file(p, s->line, label, "check_password_file",
	    s->check_password_file, &s->check_password);
	conf_read_authfile(p, s);
}
