/*
 * fuzz_resp_ro.c: libFuzzer harness for the replay check, which parses
 * the bytes a client sent (issue 20).  Invariant: once a prefix holds a
 * whole request that may not go again, no longer prefix may say that all
 * of them may (the verdict only ever turns from 1 to 0 as bytes come);
 * the name given always fits.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp_ro.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	name[32];
	size_t	n;
	int	refused = 0, ok;

	if (size > 4096)
		size = 4096;
	for (n = 0; n <= size; n++) {
		memset(name, 'x', sizeof(name));
		ok = resp_ro_replayable(data, n, name, sizeof(name));
		if (memchr(name, '\0', sizeof(name)) == NULL)
			abort();
		if (refused && ok)
			abort();
		refused |= !ok;
	}
	return (0);
}
