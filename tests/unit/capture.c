/*
 * capture.c: captured replies read from their data files, and the
 * whole-reply rewrite both cluster tests check them with.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"

char *
capture_read(const char *dir, const char *file)
{
	char	 path[4096], *buf = NULL;
	FILE	*fp;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fp = fopen(path, "rb")) == NULL) {
		print_error("%s: %s\n", path, strerror(errno));
		return (NULL);
	}
	/* a capture is never empty: 0 bytes is a truncated file */
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf == NULL)
		print_error("%s: cannot read it whole\n", path);
	fclose(fp);
	return (buf);
}

int
capture_load(const char *dir, const struct capture *caps, size_t n)
{
	char	file[256];
	size_t	i;

	for (i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%s.resp", caps[i].name);
		if ((*caps[i].text = capture_read(dir, file)) == NULL) {
			capture_free(caps, i);
			return (-1);
		}
	}
	return (0);
}

void
capture_free(const struct capture *caps, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(*caps[i].text);
		*caps[i].text = NULL;
	}
}

size_t
capture_count(const char *hay, size_t n, const char *needle)
{
	size_t	c = 0, k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		c += memcmp(hay + i, needle, k) == 0;
	return (c);
}

char *
capture_whole(enum cluster_rw_kind kind, const struct cluster_rw_map *map,
    const char *text, size_t *len, unsigned *unknown)
{
	struct cluster_rw_out	out = { NULL, 0, 0 };
	size_t			n = strlen(text), flen;

	*unknown = 0;
	assert_int_equal(cluster_rw_frame(text, n, &flen), 1);
	assert_int_equal(flen, n);
	assert_int_equal(cluster_rw_reply(kind, map, text, n, &out,
	    unknown), 0);
	*len = out.len;
	return (out.buf);
}
