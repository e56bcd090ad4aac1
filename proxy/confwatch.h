/*
 * confwatch.h: watch the configuration file for changes (watch_config =
 * yes): inotify on its directory, which sees an edit in place, an
 * editor's rename and a Kubernetes ConfigMap's atomic "..data" symlink
 * swap, plus a periodic stat() of the file as the fallback where
 * inotify is missing or full.  A change is debounced and reported only
 * when the file's bytes differ from the last ones reported.
 */
#ifndef POSTERN_CONFWATCH_H
#define POSTERN_CONFWATCH_H

struct event_base;
struct confwatch;

/* confwatch_cb(arg): the file's content changed; reload it. */
typedef void confwatch_cb(void *arg);

/*
 * confwatch_new(base, path, cb, arg): start watching path (what it
 * resolves to now is the reference).  Returns NULL (logged) when out of
 * memory; a missing inotify is logged and the periodic check serves
 * alone.  Free with confwatch_free().
 */
struct confwatch *confwatch_new(struct event_base *base, const char *path,
	    confwatch_cb *cb, void *arg);

/*
 * confwatch_update(w, base, path, on, cb, arg): follow a generation's
 * watch_config: start watching path (NULL: nothing to watch, -L mode)
 * when on and w is NULL, stop (freeing w) when off.  Returns the watch
 * now in effect (NULL: none).
 */
struct confwatch *confwatch_update(struct confwatch *w,
	    struct event_base *base, const char *path, int on,
	    confwatch_cb *cb, void *arg);

/*
 * confwatch_sync(w): the file was just read by someone else (SIGHUP):
 * take its present content as the reference.  NULL is a no-op.
 */
void	confwatch_sync(struct confwatch *w);

/* confwatch_free(w): stop watching.  NULL is a no-op. */
void	confwatch_free(struct confwatch *w);

#endif
