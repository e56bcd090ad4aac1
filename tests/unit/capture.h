/*
 * capture.h: captured server replies for the unit tests, kept as data
 * files (tests/unit/captures/SERVER/NAME.resp, the bytes as the server
 * wrote them), and the checks the cluster rewriter's tests apply to
 * them (test_cluster_rw.c, test_cluster_caps.c).
 */
#ifndef POSTERN_CAPTURE_H
#define POSTERN_CAPTURE_H

#include <stddef.h>

#include "cluster_rw.h"

/* One capture of a table: file NAME.resp, read into *text. */
struct capture {
	const char	*name;
	char		**text;
};

/*
 * capture_read(dir, file): DIR/FILE read whole and NUL-terminated, to
 * free by the caller; NULL, said why on stderr, when it is missing,
 * empty or cannot be read whole.
 */
char	*capture_read(const char *dir, const char *file);

/*
 * capture_load(dir, caps, n): *caps[i].text = DIR/NAME.resp for each of
 * the n captures; 0, or -1 at the first that cannot be read, with
 * those read before it freed (a group setup returns it: a missing
 * capture fails the run).  After 0, capture_free frees them.
 */
int	 capture_load(const char *dir, const struct capture *caps, size_t n);

/* capture_free(caps, n): free each *caps[i].text, set it NULL. */
void	 capture_free(const struct capture *caps, size_t n);

/* capture_count(hay, n, needle): needle's occurrences in hay[0..n). */
size_t	 capture_count(const char *hay, size_t n, const char *needle);

/*
 * capture_whole(kind, map, text, len, unknown): text (one complete
 * reply, NUL-terminated) rewritten whole with map; asserts it frames
 * and is taken.  The result is the caller's to free, *len its length,
 * *unknown the nodes map did not know.
 */
char	*capture_whole(enum cluster_rw_kind kind,
	    const struct cluster_rw_map *map, const char *text, size_t *len,
	    unsigned *unknown);

#endif
