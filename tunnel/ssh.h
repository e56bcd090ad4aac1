/*
 * ssh.h: SSH bastions: supervised SSH connections per [bastion] section
 * (`connections`, grown up to `max_connections`), shared by every ssh://
 * route (sessions and health checks), each use a direct-tcpip channel.
 */
#ifndef POSTERN_SSH_H
#define POSTERN_SSH_H

struct conf;
struct conf_errors;
struct dial;
struct event_base;
struct evdns_base;
struct ssh_pool;

/*
 * ssh_pool_new(base, dns): an empty set of bastions; dns may be NULL
 * (literal addresses only).  Returns NULL when out of memory.  Free with
 * ssh_pool_free().
 */
struct ssh_pool *ssh_pool_new(struct event_base *base,
	    struct evdns_base *dns);

/*
 * ssh_pool_prepare(pool, conf): allocate the bastions conf's ssh://
 * routes need that are not running with the same settings, without
 * starting them.  Returns 0, or -1 (logged) with nothing prepared.
 */
int	ssh_pool_prepare(struct ssh_pool *pool, const struct conf *conf);

/*
 * ssh_pool_commit(pool, conf): after ssh_pool_prepare(pool, conf): make
 * the running bastions those that conf uses; cannot fail.  A bastion
 * whose section is unchanged keeps its connection and channels; a
 * changed or unused one stops taking new channels and is closed once its
 * channels are done.  New ones start connecting at once.
 */
void	ssh_pool_commit(struct ssh_pool *pool, const struct conf *conf);

/*
 * ssh_algs_check(conf, errs): each bastion's ciphers against the linked
 * libssh2's, each name it lacks appended to errs as "file:line:
 * [bastion B]: ciphers: ... does not support 'X'; it supports ...".
 * Returns 0, or -1.
 */
int	ssh_algs_check(const struct conf *conf, struct conf_errors *errs);

/* ssh_pool_abort(pool): free what ssh_pool_prepare() prepared. */
void	ssh_pool_abort(struct ssh_pool *pool);

/*
 * ssh_pool_free(pool): close every bastion connection (with an SSH
 * disconnect) and free the pool.  Dials through it must have ended.
 * NULL is a no-op.
 */
void	ssh_pool_free(struct ssh_pool *pool);

/*
 * ssh_pool_on_refused(pool, cb, arg): cb(arg, status) when quick mode
 * (-L/-J) must stop, as ssh(1) does: status 1 once the user answered
 * "no" when asked at the terminal about a bastion's unknown host key
 * (strict_host_key_checking = ask); status 255 (ssh's) on a permanent
 * error before the bastion was ever connected (host key verification,
 * authentication, an identity file missing).  The bastion does not retry.
 */
void	ssh_pool_on_refused(struct ssh_pool *pool, void (*cb)(void *, int),
	    void *arg);

/* What the admin endpoint shows of a bastion (ssh_pool_info). */
struct ssh_info {
	const char		*name;
	const char		*via;		/* "user@host:port" */
	const char		*state;		/* "ready", "connecting", ... */
	int			 up;		/* a connection is authenticated */
	unsigned int		 connections;	/* SSH connections up */
	unsigned int		 channels;	/* open, on every connection */
	unsigned int		 waiting;	/* channel opens not answered */
	int			 spare;		/* a grown connection is open */
	unsigned long long	 losses;	/* ready connections lost */
	const char		*fingerprint;	/* host key, "" before */
	const char		*last_error;	/* "" when none */
};

typedef void ssh_info_cb(const struct ssh_info *info, void *arg);

/* ssh_pool_info(pool, cb, arg): cb for each live bastion, as configured. */
void	ssh_pool_info(struct ssh_pool *pool, ssh_info_cb *cb, void *arg);

/*
 * ssh_dial_begin(d): the ssh:// transport of the dial step: open a
 * direct-tcpip channel through the route's bastion; reports through
 * dial_finish() with a socket bufferevent whose other end the channel
 * pump serves, or DIAL_SSH and the cause.
 */
void	ssh_dial_begin(struct dial *d);

/*
 * ssh_dial_timeout(d): the dial's deadline passed while its channel open
 * waited: put in d->detail what it waited for (the bastion connecting,
 * its answer to this open, an earlier open holding libssh2's one open
 * slot for at least half the wait, which is logged once as a warning, or
 * else the number of opens ahead of it: a burst).
 */
void	ssh_dial_timeout(struct dial *d);

/* ssh_dial_cleanup(d): abandon the channel open, if any. */
void	ssh_dial_cleanup(struct dial *d);

#endif
