/*
 * tls_reg.c: TLS contexts per configuration generation (see tls_reg.h).
 */
#include "config.h"

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "tls_ctx.h"
#include "tls_reg.h"

struct tls_gen {
	TAILQ_ENTRY(tls_gen)	 entry;
	struct conf		*gen;		/* a reference */
	size_t			 n;
	const struct conf_route	**routes;
	struct tls_ctx		**ctx;
};

TAILQ_HEAD(tls_gen_list, tls_gen);

struct tls_reg {
	struct tls_gen_list	 gens;		/* newest first */
};

static void
tls_gen_free(struct tls_gen *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		tls_ctx_free(g->ctx[i]);
	free(g->ctx);
	free(g->routes);
	conf_unref(g->gen);
	free(g);
}

struct tls_reg *
tls_reg_new(void)
{
	struct tls_reg	*reg;

	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		return (NULL);
	TAILQ_INIT(&reg->gens);
	return (reg);
}

void
tls_reg_free(struct tls_reg *reg)
{
	struct tls_gen	*g;

	if (reg == NULL)
		return;
	while ((g = TAILQ_FIRST(&reg->gens)) != NULL) {
		TAILQ_REMOVE(&reg->gens, g, entry);
		tls_gen_free(g);
	}
	free(reg);
}

static size_t
tls_reg_count(const struct conf *c)
{
	size_t	i, j, n = 0;

	for (i = 0; i < c->nservices; i++)
		for (j = 0; j < c->services[i].nroutes; j++)
			n += c->services[i].routes[j].kind == ROUTE_TLS;
	return (n);
}

/*
 * Build the contexts of gen's tls:// routes into a new tls_gen (not
 * holding gen yet), each failure appended to errs.  NULL on failure.
 */
static struct tls_gen *
tls_gen_build(const struct conf *gen, struct conf_errors *errs)
{
	struct tls_gen			*g;
	const struct conf_service	*s;
	const struct conf_route		*r;
	const char			*file = gen->path ? gen->path : "-L";
	size_t				 i, j, n = tls_reg_count(gen);
	char				 err[512];
	int				 bad = 0;

	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->routes = calloc(n ? n : 1, sizeof(*g->routes))) == NULL ||
	    (g->ctx = calloc(n ? n : 1, sizeof(*g->ctx))) == NULL) {
		conf_errors_add(errs, file, 0, "out of memory");
		if (g != NULL)
			free(g->routes);
		free(g);
		return (NULL);
	}
	for (i = 0; i < gen->nservices; i++) {
		s = &gen->services[i];
		for (j = 0; j < s->nroutes; j++) {
			r = &s->routes[j];
			if (r->kind != ROUTE_TLS)
				continue;
			g->ctx[g->n] = tls_ctx_new(r, s->protocol, err,
			    sizeof(err));
			if (g->ctx[g->n] == NULL) {
				conf_errors_add(errs, file, r->line, "route "
				    "'%s': %s", r->name, err);
				bad = 1;
				continue;
			}
			g->routes[g->n++] = r;
		}
	}
	if (bad) {
		tls_gen_free(g);	/* no reference taken yet */
		return (NULL);
	}
	return (g);
}

int
tls_reg_check(const struct conf *gen, struct conf_errors *errs)
{
	struct tls_gen	*g;

	if ((g = tls_gen_build(gen, errs)) == NULL)
		return (-1);
	tls_gen_free(g);
	return (0);
}

int
tls_reg_load(struct tls_reg *reg, struct conf *gen, struct conf_errors *errs)
{
	struct tls_gen	*g;
	size_t		 i;

	if ((g = tls_gen_build(gen, errs)) == NULL)
		return (-1);
	if (g->n == 0) {
		tls_gen_free(g);
		return (0);
	}
	for (i = 0; i < g->n; i++) {
		if (!tls_ctx_verifies(g->ctx[i]))
			log_warnx("route '%s' (%s): verify = none: the "
			    "server's certificate is not checked",
			    g->routes[i]->name, g->routes[i]->url);
	}
	g->gen = conf_ref(gen);
	TAILQ_INSERT_HEAD(&reg->gens, g, entry);
	return (0);
}

void
tls_reg_forget(struct tls_reg *reg, const struct conf *gen)
{
	struct tls_gen	*g, *next;

	for (g = TAILQ_FIRST(&reg->gens); g != NULL; g = next) {
		next = TAILQ_NEXT(g, entry);
		if (g->gen == gen) {
			TAILQ_REMOVE(&reg->gens, g, entry);
			tls_gen_free(g);
		}
	}
}

struct tls_ctx *
tls_reg_find(const struct tls_reg *reg, const struct conf_route *cr)
{
	const struct tls_gen	*g;
	size_t			 i;

	if (reg == NULL)
		return (NULL);
	TAILQ_FOREACH(g, &reg->gens, entry) {
		for (i = 0; i < g->n; i++) {
			if (g->routes[i] == cr)
				return (g->ctx[i]);
		}
	}
	return (NULL);
}

void
tls_reg_purge(struct tls_reg *reg, const struct conf *current)
{
	struct tls_gen	*g, *next;

	for (g = TAILQ_FIRST(&reg->gens); g != NULL; g = next) {
		next = TAILQ_NEXT(g, entry);
		if (g->gen != current && g->gen->refs == 1) {
			TAILQ_REMOVE(&reg->gens, g, entry);
			tls_gen_free(g);
		}
	}
}
