/*
 * fuzz_pgrs_read.c: libFuzzer harness for the reader of a resume's
 * handshake (pg_rs_read.h), which reads untrusted bytes from the new
 * server: authentication requests (answered with SCRAM keys, an md5
 * hash or a password, as the first byte picks), parameters, the replay's
 * replies.  Fed whole and in chunks, it must end the same way, with the
 * same bytes to send.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "pg_auth.h"
#include "pg_rs_read.h"
#include "pg_state.h"
#include "scram.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
run(const uint8_t *data, size_t size, size_t step, int kind,
    struct evbuffer *out, char *err, size_t errlen)
{
	static const unsigned char	 salt[16] = "0123456789abcdef";
	struct pg_auth_params		 ap;
	struct scram_keys		 k;
	struct pg_state			 st;
	struct pg_rs			 r;
	struct evbuffer			*replay = evbuffer_new();
	size_t				 off, n;
	int				 rc = PG_RS_MORE;

	memset(&ap, 0, sizeof(ap));
	memset(&k, 0x5a, sizeof(k));
	k.salt = salt;
	k.salt_len = sizeof(salt);
	k.iterations = 4096;
	ap.user = "app";
	ap.nonce = "fixednonce";
	if (kind == 0)
		ap.keys = &k;
	else if (kind == 1)
		ap.md5_hash = "md5c84f3e3e66f641cb95824ca607c25dec";
	else
		ap.password = "pencil";
	pg_state_init(&st);
	memcpy(st.param[4], "UTC", 4);
	st.have[4] = 1;
	if (replay == NULL)
		abort();
	evbuffer_add(replay, "Q\0\0\0\x0dSET a=1\0", 14);
	if (pg_rs_init(&r, pg_auth_new(&ap), replay, 1, &st) != 0)
		abort();
	for (off = 0; off < size && rc == PG_RS_MORE; off += n) {
		n = size - off < step ? size - off : step;
		rc = pg_rs_feed(&r, data + off, n, out);
	}
	if (rc == PG_RS_FAIL && r.error[0] == '\0')
		abort();
	memcpy(err, r.error, errlen < sizeof(r.error) ? errlen :
	    sizeof(r.error));
	pg_rs_clear(&r);
	pg_state_free(&st);
	evbuffer_free(replay);
	return (rc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer	*a = evbuffer_new(), *b = evbuffer_new();
	char		 ea[256], eb[256];
	int		 ra, rb, kind;
	size_t		 step;

	if (a == NULL || b == NULL)
		abort();
	if (size < 1) {
		evbuffer_free(a);
		evbuffer_free(b);
		return (0);
	}
	kind = data[0] % 3;
	step = (size_t)data[0] / 3 % 17 + 1;
	data++;
	size--;
	ra = run(data, size, size + 1, kind, a, ea, sizeof(ea));
	rb = run(data, size, step, kind, b, eb, sizeof(eb));
	/* SCRAM nonces are fixed: the same bytes to send either way. */
	if (ra != rb || evbuffer_get_length(a) != evbuffer_get_length(b) ||
	    (evbuffer_get_length(a) > 0 && memcmp(evbuffer_pullup(a, -1),
	    evbuffer_pullup(b, -1), evbuffer_get_length(a)) != 0) ||
	    (ra == PG_RS_FAIL && strcmp(ea, eb) != 0))
		abort();
	evbuffer_free(a);
	evbuffer_free(b);
	return (0);
}
