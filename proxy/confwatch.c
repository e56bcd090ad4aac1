/*
 * confwatch.c: see confwatch.h.
 *
 * kubelet updates a mounted ConfigMap by writing a new timestamped
 * directory, pointing a "..data_tmp" symlink at it and renaming that over
 * "..data"; the file we were given is a symlink through "..data".  So the
 * directory of the path as given is watched (the resolved file's inode is
 * replaced, never written), and any event naming the file or "..data"
 * starts the debounce.  Whatever woke us, the verdict is the content: a
 * SHA-256 of the bytes, so a swap that changes another key of the
 * ConfigMap, or a touch, reloads nothing.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "clock.h"
#include "confwatch.h"
#include "fault.h"
#include "log.h"

#define CONFWATCH_POLL_MS	2000	/* the fallback's period */
#define CONFWATCH_SETTLE_MS	200	/* debounce: quiet this long first */
#define CONFWATCH_MAX_BYTES	(16 * 1024 * 1024)

struct confwatch {
	struct event_base	*base;
	char			*path;
	char			*dir, *name;	/* of path as given */
	int			 ifd;		/* inotify, or -1 */
	struct event		*iev, *poll, *settle;
	struct stat		 st;		/* last stat() of path */
	int			 have_st;
	unsigned char		 sum[EVP_MAX_MD_SIZE]; /* last content */
	unsigned int		 sumlen;
	confwatch_cb		*cb;
	void			*arg;
};

/* The SHA-256 of path's bytes into sum; -1 when it cannot be read. */
static int
confwatch_hash(const char *path, unsigned char *sum, unsigned int *len)
{
	EVP_MD_CTX	*md;
	char		 buf[8192];
	ssize_t		 n;
	size_t		 total = 0;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto done;
	while ((n = read(fd, buf, sizeof(buf))) > 0 &&
	    (total += (size_t)n) <= CONFWATCH_MAX_BYTES)
		EVP_DigestUpdate(md, buf, (size_t)n);
	if (n == 0 && EVP_DigestFinal_ex(md, sum, len) == 1)
		rc = 0;
done:
	EVP_MD_CTX_free(md);
	close(fd);
	return (rc);
}

static int
confwatch_same_stat(const struct stat *a, const struct stat *b)
{
	return (a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec);
}

/* Take the file as it is now as the reference; 0 if it changed. */
static int
confwatch_take(struct confwatch *w)
{
	unsigned char	sum[EVP_MAX_MD_SIZE];
	unsigned int	len = 0;

	w->have_st = stat(w->path, &w->st) == 0;
	if (confwatch_hash(w->path, sum, &len) != 0)
		return (-1);	/* mid-swap or gone: keep the old verdict */
	if (len == w->sumlen && memcmp(sum, w->sum, len) == 0)
		return (-1);
	memcpy(w->sum, sum, len);
	w->sumlen = len;
	return (0);
}

/* Quiet for CONFWATCH_SETTLE_MS: compare the content, maybe reload. */
static void
confwatch_settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct confwatch	*w = arg;

	if (confwatch_take(w) != 0)
		return;
	log_info("watch: %s changed; reloading", w->path);
	w->cb(w->arg);
}

/* Something moved: (re)start the quiet period. */
static void
confwatch_kick(struct confwatch *w)
{
	struct timeval	tv = clock_tv(CONFWATCH_SETTLE_MS);

	evtimer_add(w->settle, &tv);
}

static void
confwatch_inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct confwatch		*w = arg;
	char				 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 n;
	char				*p;
	int				 hit = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if ((ev->mask & IN_Q_OVERFLOW) || ev->len == 0 ||
			    strcmp(ev->name, w->name) == 0 ||
			    strcmp(ev->name, "..data") == 0)
				hit = 1;
		}
	}
	if (hit)
		confwatch_kick(w);
}

/* The fallback: a stat() every CONFWATCH_POLL_MS. */
static void
confwatch_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct confwatch	*w = arg;
	struct stat		 st;

	if (stat(w->path, &st) != 0)
		return;		/* mid-swap or gone: the next one sees */
	if (!w->have_st || !confwatch_same_stat(&st, &w->st))
		confwatch_kick(w);
}

/* Split path into the directory to watch and the name in it. */
static int
confwatch_split(struct confwatch *w, const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL) {
		w->dir = strdup(".");
		w->name = strdup(path);
	} else {
		w->dir = slash == path ? strdup("/") :
		    strndup(path, (size_t)(slash - path));
		w->name = strdup(slash + 1);
	}
	return (w->dir != NULL && w->name != NULL ? 0 : -1);
}

static void
confwatch_inotify(struct confwatch *w)
{
	/* The tests' way to see the fallback serve alone. */
	if (fault_at("watch.inotify")) {
		errno = ENOSYS;
		w->ifd = -1;
	} else
		w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd == -1) {
		log_warn("watch: inotify; checking %s every %ds only",
		    w->path, CONFWATCH_POLL_MS / 1000);
		return;
	}
	if (inotify_add_watch(w->ifd, w->dir, IN_CREATE | IN_MOVED_TO |
	    IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE | IN_ATTRIB |
	    IN_ONLYDIR) == -1) {
		log_warn("watch: inotify on %s; checking %s every %ds only",
		    w->dir, w->path, CONFWATCH_POLL_MS / 1000);
		close(w->ifd);
		w->ifd = -1;
		return;
	}
	w->iev = event_new(w->base, w->ifd, EV_READ | EV_PERSIST,
	    confwatch_inotify_cb, w);
	if (w->iev == NULL || event_add(w->iev, NULL) != 0)
		log_warnx("watch: no inotify event; checking every %ds only",
		    CONFWATCH_POLL_MS / 1000);
}

struct confwatch *
confwatch_new(struct event_base *base, const char *path, confwatch_cb *cb,
    void *arg)
{
	struct confwatch	*w;
	struct timeval		 tv = clock_tv(CONFWATCH_POLL_MS);

	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto fail;
	w->base = base;
	w->ifd = -1;
	w->cb = cb;
	w->arg = arg;
	if ((w->path = strdup(path)) == NULL || confwatch_split(w, path) != 0)
		goto fail;
	w->poll = event_new(base, -1, EV_PERSIST, confwatch_poll_cb, w);
	w->settle = evtimer_new(base, confwatch_settle_cb, w);
	if (w->poll == NULL || w->settle == NULL)
		goto fail;
	confwatch_take(w);
	confwatch_inotify(w);
	event_add(w->poll, &tv);
	log_info("watch: following %s (inotify on %s%s)", w->path, w->dir,
	    w->ifd == -1 ? " unavailable" : "");
	return (w);
fail:
	log_error("watch: out of memory");
	confwatch_free(w);
	return (NULL);
}

struct confwatch *
confwatch_update(struct confwatch *w, struct event_base *base,
    const char *path, int on, confwatch_cb *cb, void *arg)
{
	if (on && path != NULL)
		return (w != NULL ? w : confwatch_new(base, path, cb, arg));
	if (w != NULL) {
		log_info("watch: stopped (watch_config = no)");
		confwatch_free(w);
	}
	return (NULL);
}

void
confwatch_sync(struct confwatch *w)
{
	if (w != NULL)
		confwatch_take(w);
}

void
confwatch_free(struct confwatch *w)
{
	if (w == NULL)
		return;
	if (w->iev != NULL)
		event_free(w->iev);
	if (w->ifd != -1)
		close(w->ifd);
	if (w->poll != NULL)
		event_free(w->poll);
	if (w->settle != NULL)
		event_free(w->settle);
	free(w->path);
	free(w->dir);
	free(w->name);
	free(w);
}
