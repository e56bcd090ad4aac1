/*
 * fuzz_conf.c: libFuzzer harness for the configuration parser, which reads
 * operator-written bytes: conf_parse() on the whole input, then
 * conf_from_forwards() on its lines as "-L" specs.
 *
 *   ./configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_conf
 *   ./tests/fuzz/fuzz_conf -max_total_time=60 tests/fuzz/corpus
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"

#define FUZZ_MAX_SPECS	16

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk a parsed generation the way the daemon does. */
static void
fuzz_walk(struct conf *c)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 buf[ADDR_STRLEN];
	size_t			 i, j;
	const struct conf_service *s;

	conf_unref(conf_ref(c));
	for (i = 0; i < c->nservices; i++) {
		s = &c->services[i];
		if (conf_find_service(c, s->name) != s)
			abort();
		for (j = 0; j < s->nlisten; j++) {
			addr_format(&s->listen[j].addr, buf, sizeof(buf));
			if (addr_is_literal(&s->listen[j].addr) &&
			    addr_sockaddr(&s->listen[j].addr, &ss, &sslen) != 0)
				abort();
		}
		for (j = 0; j < s->nroutes; j++) {
			addr_format(&s->routes[j].target, buf, sizeof(buf));
			(void)conf_route_opt(&s->routes[j], "ca");
			if (s->routes[j].kind == ROUTE_SSH &&
			    conf_find_bastion(c, s->routes[j].bastion) == NULL)
				abort();
		}
	}
}

/* Each line of the input (at most FUZZ_MAX_SPECS) as a -L spec. */
static void
fuzz_forwards(const uint8_t *data, size_t size)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*c;
	char			*text, *specs[FUZZ_MAX_SPECS], *p, *nl;
	size_t			 n = 0;

	if ((text = malloc(size + 1)) == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = text; n < FUZZ_MAX_SPECS; p = nl + 1) {
		specs[n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
	}
	c = conf_from_forwards(specs, n, &errs);
	if ((c == NULL) == (errs.n == 0))
		abort();
	if (c != NULL)
		fuzz_walk(c);
	conf_unref(c);
	conf_errors_free(&errs);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*c;

	c = conf_parse((const char *)data, size, "fuzz", 0, &errs);
	/* Exactly one of: a generation, or at least one error. */
	if ((c == NULL) == (errs.n == 0))
		abort();
	if (c != NULL)
		fuzz_walk(c);
	conf_unref(c);
	conf_errors_free(&errs);
	fuzz_forwards(data, size);
	return (0);
}
