/*
 * cluster_rw_int.h: the parsed reply shared by cluster_rw.c (framing,
 * tree, output) and cluster_rw_node.c (what changes in each reply).
 * Included by those two files only.
 */
#ifndef POSTERN_CLUSTER_RW_INT_H
#define POSTERN_CLUSTER_RW_INT_H

#include <stddef.h>

#define CLUSTER_RW_DEPTH	16	/* CLUSTER SHARDS nests 5 deep */

/*
 * One value of a reply.  Strings point into the input until replaced
 * (own, freed with the tree).  An attribute ('|') holds its 2n entries
 * and then the value it annotates.
 */
struct crw_val {
	char		 type;		/* the RESP type byte */
	const char	*s;		/* line or bulk payload; NULL: null */
	size_t		 slen;
	char		*own;		/* a replacement for s, or NULL */
	struct crw_val	*kid;		/* aggregate elements */
	size_t		 nkid;
	int		 drop;		/* left out of the output */
};

/* crw_str_is(v, lit): is v a string equal to lit (case-insensitive)? */
int	crw_str_is(const struct crw_val *v, const char *lit);

/* crw_set(v, s, len): replace v's payload with a copy; -1 on ENOMEM. */
int	crw_set(struct crw_val *v, const char *s, size_t len);

/* crw_set_port(v, port): replace v's payload with port in decimal. */
int	crw_set_port(struct crw_val *v, long port);

/* crw_long(v, out): v's payload as a number; -1 when it is not one. */
int	crw_long(const struct crw_val *v, long *out);

/* crw_is_agg(v): is v an array, set, push or map? */
int	crw_is_agg(const struct crw_val *v);

/* crw_role(map, v, unknown), crw_info(...): cluster_rw_repl.c. */
int	crw_role(const struct cluster_rw_map *map, struct crw_val *v,
	    unsigned *unknown);
int	crw_info(const struct cluster_rw_map *map, struct crw_val *v,
	    unsigned *unknown);

/*
 * crw_exec(tx, map, v, unknown): an EXEC reply: each element of v's
 * array as its command's kind (tx NULL: REDIRECT).
 */
int	crw_exec(const struct cluster_rw_tx *tx,
	    const struct cluster_rw_map *map, struct crw_val *v,
	    unsigned *unknown);

/*
 * crw_rewrite(kind, map, v, unknown): change the addresses in the
 * reply's tree (cluster_rw_node.c).  -1 on ENOMEM, or on a reply that is
 * not what kind says (e.g. CLUSTER SLOTS without node arrays).
 */
int	crw_rewrite(int kind, const struct cluster_rw_map *map,
	    struct crw_val *v, unsigned *unknown);

#endif
