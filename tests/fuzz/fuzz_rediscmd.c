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

#include "resp_first.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			first[RESP_FIRST_NAME_MAX], name[RESP_FIRST_NAME_MAX];
	enum resp_first_status	st, settled = RESP_FIRST_MORE;
	size_t			n;

	if (size > 256)
		size = 256;
	for (n = 0; n <= size; n++) {
		st = resp_first_name(data, n, name);
		if (settled == RESP_FIRST_MORE) {
			settled = st;
			if (st == RESP_FIRST_NAME)
				memcpy(first, name, sizeof(first));
		} else if (st != settled)
			abort();
		else if (st == RESP_FIRST_NAME && strcmp(first, name) != 0)
			abort();
		if (st == RESP_FIRST_NAME && strlen(name) >= RESP_FIRST_NAME_MAX)
			abort();
	}
	if (settled == RESP_FIRST_NAME)
		(void)resp_first_prompt(first);
	return (0);
}
