/*
 * tmpdir.h: scratch files for unit tests that read real files (config
 * files, ~/.ssh/config, known_hosts).
 */
#ifndef POSTERN_TMPDIR_H
#define POSTERN_TMPDIR_H

#include <stddef.h>

/* tmpdir_make(dir, len, tag): a new "$TMPDIR/postern-TAG-XXXXXX" in dir. */
void	tmpdir_make(char *dir, size_t len, const char *tag);

/* tmpdir_remove(dir): remove dir and everything below it. */
void	tmpdir_remove(const char *dir);

/* write_file(path, text): replace path's content with text. */
void	write_file(const char *path, const char *text);

#endif
