/*
 * cluster_rw_skip.c: find where a reply ends without holding it.  Most
 * replies carry no address; they pass through as they come (a 100 MB
 * GET is not held), and this only follows the framing so that the next
 * reply's first byte is known.  Malformed framing is not judged here:
 * skipped bytes pass unchanged, so a confused skip costs at most a
 * redirect left unrewritten (and cluster_rw_frame, which is strict,
 * judges the replies that are rewritten).
 */
#include "config.h"

#include <string.h>

#include "cluster_rw.h"
#include "cluster_rw_int.h"

enum {
	SKIP_TYPE,		/* at a value's type byte */
	SKIP_LINE,		/* in a line value, up to its LF */
	SKIP_HEAD,		/* in a bulk or aggregate header */
	SKIP_BULK		/* in a bulk payload and its CRLF */
};

/* A value ended: 1 when it was the reply's last. */
static int
skip_done(struct cluster_rw_skip *k)
{
	k->state = SKIP_TYPE;
	while (k->depth > 0) {
		if (--k->rem[k->depth - 1] > 0)
			return (0);
		k->depth--;
	}
	return (1);
}

/* The header's LF: 1 when the value (and the reply) ended. */
static int
skip_head(struct cluster_rw_skip *k)
{
	long long	kids;

	/* An attribute, even an empty one, comes before the value it is of. */
	if (k->neg || (k->num == 0 && k->type != '|')) {
		if (strchr("$!=", k->type) != NULL && !k->neg) {
			k->left = 2;
			k->state = SKIP_BULK;
			return (0);
		}
		return (skip_done(k));
	}
	if (strchr("$!=", k->type) != NULL) {
		k->left = k->num + 2;
		k->state = SKIP_BULK;
		return (0);
	}
	kids = k->type == '%' ? k->num * 2 : k->type == '|' ?
	    k->num * 2 + 1 : k->num;
	if (k->depth >= CLUSTER_RW_DEPTH)	/* too deep: the rest of it */
		return (-1);
	k->rem[k->depth++] = kids;
	k->state = SKIP_TYPE;
	return (0);
}

int
cluster_rw_skip_feed(struct cluster_rw_skip *k, const char *b, size_t n,
    size_t *used)
{
	size_t	i = 0, take;
	int	r = 0;

	while (i < n && r == 0) {
		switch (k->state) {
		case SKIP_TYPE:
			k->type = b[i++];
			k->num = 0;
			k->neg = 0;
			switch (k->type) {	/* not strchr: per value */
			case '$': case '!': case '=': case '*': case '~':
			case '>': case '%': case '|':
				k->state = SKIP_HEAD;
				break;
			default:
				k->state = SKIP_LINE;
			}
			break;
		case SKIP_LINE:
			if (b[i++] == '\n')
				r = skip_done(k);
			break;
		case SKIP_HEAD:
			if (b[i] == '-')
				k->neg = 1;
			else if (b[i] >= '0' && b[i] <= '9' &&
			    k->num < CLUSTER_RW_MAX * 1024LL)
				k->num = k->num * 10 + (b[i] - '0');
			else if (b[i] == '\n')
				r = skip_head(k);
			i++;
			break;
		case SKIP_BULK:
			take = (size_t)k->left < n - i ? (size_t)k->left :
			    n - i;
			i += take;
			if ((k->left -= (long long)take) == 0)
				r = skip_done(k);
			break;
		}
	}
	*used = i;
	if (r != 0)
		memset(k, 0, sizeof(*k));
	return (r);
}
