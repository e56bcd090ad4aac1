/*
 * fuzz_rediscmd.c: libFuzzer harness for the first-command reader, which
 * reads untrusted bytes from any client.  Every prefix of the input is
 * parsed too (the session feeds what each read returned): once a prefix
 * has an answer, every longer one must give the same.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp_cmd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			first[REDISCMD_NAME_MAX], name[REDISCMD_NAME_MAX];
	enum rediscmd_status	st, settled = REDISCMD_MORE;
	size_t			n;

	if (size > 256)
		size = 256;
	for (n = 0; n <= size; n++) {
		st = rediscmd_name(data, n, name);
		if (settled == REDISCMD_MORE) {
			settled = st;
			if (st == REDISCMD_NAME)
				memcpy(first, name, sizeof(first));
		} else if (st != settled)
			abort();
		else if (st == REDISCMD_NAME && strcmp(first, name) != 0)
			abort();
		if (st == REDISCMD_NAME && strlen(name) >= REDISCMD_NAME_MAX)
			abort();
	}
	if (settled == REDISCMD_NAME)
		(void)rediscmd_prompt(first);
	return (0);
}
