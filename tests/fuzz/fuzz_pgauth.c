/*
 * fuzz_pgauth.c: libFuzzer harness for the authentication exchange, which
 * parses what any upstream (or anything pretending to be one) sends in
 * its Authentication messages: mechanism lists, SCRAM server-first and
 * server-final messages, md5 salts.  The first byte sets TLS (with a
 * certificate hash) and the nonce's length; the rest is a sequence of
 * message bodies, each after a 2-byte length.  SCRAM iterations are
 * capped low so that an input costs microseconds, not PBKDF2 at 4096.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_auth.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char	 hash[32] = { 1 };
	struct pg_auth_params		 p;
	struct pg_auth			*a;
	const unsigned char		*r;
	size_t				 n, len;
	int				 st = PG_AUTH_MORE;

	if (size < 1)
		return (0);
	memset(&p, 0, sizeof(p));
	p.user = "check";
	p.password = "pencil";
	p.tls = data[0] & 1;
	p.cbind = p.tls ? hash : NULL;
	p.cbind_len = p.tls ? sizeof(hash) : 0;
	p.nonce = (data[0] & 2) ? "n" : "rOprNGfwEbeRWgbNEkqO";
	p.allow_md5 = (data[0] & 4) != 0;	/* md5 without TLS too */
	p.max_iterations = 4;
	data++;
	size--;
	if ((a = pg_auth_new(&p)) == NULL)
		return (0);
	while (size >= 2 && st == PG_AUTH_MORE) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		st = pg_auth_step(a, data, len);
		data += len;
		size -= len;
		r = pg_auth_reply(a, &n);
		if ((r == NULL) != (n == 0))
			abort();
		if (st == PG_AUTH_MORE && r != NULL && (r[0] != 'p' || n < 5))
			abort();
		if (st == PG_AUTH_FAIL && pg_auth_error(a)[0] == '\0')
			abort();
		/* The password never reaches an error message. */
		if (strstr(pg_auth_error(a), "pencil") != NULL)
			abort();
	}
	pg_auth_free(a);
	return (0);
}
