/*
 * tmpdir.c: scratch directories and files for the unit tests.
 */
#include "config.h"

#include <sys/stat.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tmpdir.h"

void
tmpdir_make(char *dir, size_t len, const char *tag)
{
	const char	*base = getenv("TMPDIR");

	snprintf(dir, len, "%s/postern-%s-XXXXXX", base != NULL && *base !=
	    '\0' ? base : "/tmp", tag);
	assert_non_null(mkdtemp(dir));
}

static int
tmpdir_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	return (remove(path));
}

void
tmpdir_remove(const char *dir)
{
	assert_int_equal(nftw(dir, tmpdir_rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

void
write_file(const char *path, const char *text)
{
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

int
tmpdir_fixture_new(void **state, const char *tag, const char *name)
{
	struct tmpdir_fixture	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tmpdir_make(f->dir, sizeof(f->dir), tag);
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	*state = f;
	return (0);
}

int
tmpdir_fixture_free(void **state)
{
	struct tmpdir_fixture	*f = *state;

	tmpdir_remove(f->dir);
	free(f);
	return (0);
}
