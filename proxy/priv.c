/*
 * priv.c: become the configured user after binding (relayd and
 * PgBouncer do the same after their listeners are open).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

/* The passwd entry of user, or NULL with a message in err. */
static struct passwd *
priv_lookup(const char *user, char *err, size_t errlen)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		snprintf(err, errlen, "user '%s' %s", user, errno != 0 ?
		    strerror(errno) : "does not exist");
	return (pw);
}

static int
priv_is(const struct passwd *pw)
{
	return (geteuid() == pw->pw_uid && getuid() == pw->pw_uid &&
	    getegid() == pw->pw_gid && getgid() == pw->pw_gid);
}

int
priv_check(const char *user, char *err, size_t errlen)
{
	struct passwd	*pw;

	if ((pw = priv_lookup(user, err, errlen)) == NULL)
		return (-1);
	if (priv_is(pw) || geteuid() == 0)
		return (0);
	snprintf(err, errlen, "user = %s: cannot switch to it from uid %ld "
	    "(start as root, or as that user)", user, (long)geteuid());
	return (-1);
}

int
priv_drop(const char *user, char *err, size_t errlen)
{
	struct passwd	*pw;
	uid_t		 uid;
	gid_t		 gid;

	if ((pw = priv_lookup(user, err, errlen)) == NULL)
		return (-1);
	if (priv_is(pw))
		return (0);
	/* pw points into static storage that initgroups may reuse. */
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (initgroups(user, gid) == -1) {
		snprintf(err, errlen, "user = %s: initgroups: %s", user,
		    strerror(errno));
		return (-1);
	}
	if (setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "user = %s: cannot switch ids: %s", user,
		    strerror(errno));
		return (-1);
	}
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		snprintf(err, errlen, "user = %s: root could be regained",
		    user);
		return (-1);
	}
	return (0);
}

int
priv_nodump(void)
{
	const char	*v = getenv("POSTERN_CORE_DUMPS");
	struct rlimit	 rl = { 0, 0 };

	if (v != NULL && strcmp(v, "1") == 0)
		return (1);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_DUMPABLE)");
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_CORE)");
	return (0);
}
