/*
 * tmpdir.h: scratch files for unit tests that read real files (config
 * files, ~/.ssh/config, known_hosts).
 */
#ifndef POSTERN_TMPDIR_H
#define POSTERN_TMPDIR_H

#include <limits.h>
#include <stddef.h>

/* tmpdir_make(dir, len, tag): a new "$TMPDIR/postern-TAG-XXXXXX" in dir. */
void	tmpdir_make(char *dir, size_t len, const char *tag);

/* tmpdir_remove(dir): remove dir and everything below it. */
void	tmpdir_remove(const char *dir);

/* write_file(path, text): replace path's content with text. */
void	write_file(const char *path, const char *text);

/* A cmocka fixture: a scratch directory and one file's path in it. */
struct tmpdir_fixture {
	char	dir[256];
	char	path[PATH_MAX];		/* dir/NAME */
};

/*
 * tmpdir_fixture_new(state, tag, name): *state becomes a new fixture,
 * its directory made (tmpdir_make(tag)), path dir/name; returns 0 (a
 * cmocka setup's value).  tmpdir_fixture_free(state): remove the
 * directory and free it; 0.
 */
int	tmpdir_fixture_new(void **state, const char *tag, const char *name);
int	tmpdir_fixture_free(void **state);

#endif
