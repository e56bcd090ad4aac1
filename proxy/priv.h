/*
 * priv.h: privilege drop for starts outside systemd (the [postern] key
 * "user").  The daemon binds its listeners and admin endpoint as the
 * user that started it, then becomes the configured user for good: its
 * uid, its primary group and its supplementary groups.
 */
#ifndef POSTERN_PRIV_H
#define POSTERN_PRIV_H

#include <stddef.h>

/*
 * priv_check(user, err, errlen): whether this process can become user:
 * the user exists and this process is root or already runs as it.
 * Returns 0, or -1 with a message in err.  Changes nothing.
 */
int	priv_check(const char *user, char *err, size_t errlen);

/*
 * priv_drop(user, err, errlen): become user for good (initgroups,
 * setresgid, setresuid; then check that root cannot be regained).  A
 * no-op when the process already runs as user and its group.  Returns 0,
 * or -1 with a message in err (the process may then hold a mix of ids:
 * the caller must exit).
 */
int	priv_drop(const char *user, char *err, size_t errlen);

#endif
