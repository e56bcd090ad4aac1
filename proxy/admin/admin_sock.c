/*
 * admin_sock.c: the admin endpoint's socket: bound by listener_socket(),
 * and on a unix:/path address given its mode and group.  The mode is set
 * by the umask around bind(), so the socket is never reachable with
 * wider permissions, even for an instant; chmod() then makes it exact
 * (a umask only removes bits).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "admin_int.h"
#include "conf.h"
#include "listener.h"

int
admin_sock_perm(const struct conf *c, char *why, size_t whylen)
{
	const char	*path = c->admin.path;
	struct group	*gr;
	struct passwd	*pw;
	uid_t		 uid = (uid_t)-1;
	gid_t		 gid = (gid_t)-1;

	if (c->admin.kind != ADDR_UNIX)
		return (0);
	if (chmod(path, (mode_t)c->admin_socket_perm) == -1) {
		snprintf(why, whylen, "chmod %04o %s: %s",
		    c->admin_socket_perm, path, strerror(errno));
		return (-1);
	}
	if (c->admin_socket_group != NULL) {
		if ((gr = getgrnam(c->admin_socket_group)) == NULL) {
			snprintf(why, whylen, "admin_socket_group %s: no such "
			    "group", c->admin_socket_group);
			return (-1);
		}
		gid = gr->gr_gid;
	}
	/* Bound as root before dropping to user: the socket is user's. */
	if (geteuid() == 0 && c->user != NULL &&
	    (pw = getpwnam(c->user)) != NULL)
		uid = pw->pw_uid;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(path, uid, gid) == -1) {
		snprintf(why, whylen, "chown %s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

int
admin_sock_listen(const struct conf *c, char *why, size_t whylen)
{
	mode_t	old;
	int	fd;

	if (c->admin.kind != ADDR_UNIX)
		return (listener_socket(&c->admin, why, whylen));
	old = umask((mode_t)(~c->admin_socket_perm & 0777));
	fd = listener_socket(&c->admin, why, whylen);
	umask(old);
	if (fd != -1 && admin_sock_perm(c, why, whylen) != 0) {
		close(fd);
		unlink(c->admin.path);
		return (-1);
	}
	return (fd);
}
