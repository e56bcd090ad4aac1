/*
 * fuzz_authfile.c: libFuzzer harness for the auth_file parser: any
 * bytes parse or fail with a line number, and every entry parsed can be
 * found again by its user name.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authfile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authfile	*a = NULL;
	char		 err[256];
	size_t		 i;

	if (authfile_parse((const char *)data, size, &a, err,
	    sizeof(err)) != 0) {
		if (a != NULL || (strncmp(err, "line ", 5) != 0 &&
		    strcmp(err, "out of memory") != 0 &&
		    strncmp(err, "larger", 6) != 0))
			abort();
		return (0);
	}
	for (i = 0; i < a->n; i++)
		if (authfile_find(a, a->v[i].user) != &a->v[i] ||
		    (a->v[i].kind == AUTHFILE_SCRAM &&
		    (a->v[i].iterations <= 0 || a->v[i].salt_len == 0)))
			abort();
	authfile_free(a);
	return (0);
}
