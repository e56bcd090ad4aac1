/*
 * fuzz_resp_scan.c: libFuzzer harness for the RESP framing scan that a
 * Redis check runs over a server's bytes before hiredis reads them.  The
 * first input byte picks a chunk size and the element limit; fed whole
 * and in chunks, the verdict and the count must agree (the scan carries
 * its state across reads).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp_scan.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
scan(const uint8_t *b, size_t n, size_t step, long long max, long long *count)
{
	struct resp_scan	s;
	size_t			off, k;

	memset(&s, 0, sizeof(s));
	*count = 0;
	for (off = 0; off < n; off += k) {
		k = n - off < step ? n - off : step;
		if (resp_scan_feed(&s, b + off, k, max, count) != 0)
			return (-1);
	}
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long long	max, c1, c2;
	size_t		step;
	int		r1, r2;

	if (size < 1)
		return (0);
	step = (size_t)(data[0] & 15) + 1;
	max = (data[0] & 16) ? 16384 : 3;
	r1 = scan(data + 1, size - 1, size, max, &c1);
	r2 = scan(data + 1, size - 1, step, max, &c2);
	if (r1 != r2 || (r1 != 0 && c1 != c2))
		abort();
	if (r1 != 0 && c1 <= max)
		abort();
	return (0);
}
