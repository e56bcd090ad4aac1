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

/*
 * priv_nodump(): no core dump and no ptrace by the same user: the process
 * holds the admin token, check passwords and private keys.  Sets
 * PR_SET_DUMPABLE to 0 and RLIMIT_CORE to 0, unless the environment has
 * POSTERN_CORE_DUMPS=1 (debugging: postern(8)).  Called at start and
 * again after priv_drop (a change of ids resets "dumpable" to
 * fs.suid_dumpable).  Returns 1 when dumps stay allowed, else 0;
 * failures are logged.
 */
int	priv_nodump(void);

#endif
