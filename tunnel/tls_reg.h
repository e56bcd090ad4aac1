/*
 * tls_reg.h: the daemon's TLS contexts, one per tls:// route of each
 * configuration generation still in use.
 *
 * A generation's contexts are built when it is applied (tls_reg_load):
 * one failure and nothing of it is kept.  They stay while anything else
 * holds the generation (a session of the old configuration, a route
 * carried over) and are dropped by tls_reg_purge once only the registry
 * does.  Dials find a route's context by its conf_route.
 */
#ifndef POSTERN_TLS_REG_H
#define POSTERN_TLS_REG_H

struct conf;
struct conf_errors;
struct conf_route;
struct tls_ctx;
struct tls_reg;

/* tls_reg_new(): an empty registry; NULL when out of memory. */
struct tls_reg *tls_reg_new(void);

/* tls_reg_free(reg): drop every context and generation.  NULL: no-op. */
void	tls_reg_free(struct tls_reg *reg);

/*
 * tls_reg_check(gen, errs): build and drop a context for every tls://
 * route of gen, as tls_reg_load() would (postern -n).  Returns 0, or -1
 * with each failure appended to errs.
 */
int	tls_reg_check(const struct conf *gen, struct conf_errors *errs);

/*
 * tls_reg_load(reg, gen, errs): build a context for every tls:// route of
 * gen, each failure appended to errs as "file:line: route 'R': why" (a
 * CA that does not load, a key that does not match its certificate).  On success the registry holds a reference to gen and logs
 * a warning for each route with verify = none; returns 0.  On failure
 * nothing is kept; returns -1.
 */
int	tls_reg_load(struct tls_reg *reg, struct conf *gen,
	    struct conf_errors *errs);

/* tls_reg_forget(reg, gen): drop gen's contexts (an apply that failed). */
void	tls_reg_forget(struct tls_reg *reg, const struct conf *gen);

/*
 * tls_reg_find(reg, cr): the context of route cr (borrowed: valid while
 * cr's generation is), or NULL.
 */
struct tls_ctx *tls_reg_find(const struct tls_reg *reg,
	    const struct conf_route *cr);

/*
 * tls_reg_purge(reg, current): drop the generations other than current
 * that nothing but the registry references any more.
 */
void	tls_reg_purge(struct tls_reg *reg, const struct conf *current);

#endif
