/*
 * test_pgwire.c: PostgreSQL's pre-startup packets (pgfront: the parser,
 * and the reader over a socketpair in its caller's memory), the
 * BackendKeyData sniffer (pgback) and the cancel map (pgcancel), with
 * protocol 3.0's 4-byte keys and 3.2's longer ones (PostgreSQL 18 sends
 * 32 bytes; 4 to 256 are allowed).  Every stream is also fed split at
 * every byte boundary, as reads may cut it anywhere.
 */
#include "config.h"

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include "pg_back.h"
#include "pg_cancel.h"
#include "pg_front.h"

static size_t
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return (4);
}

/* A CancelRequest with a keylen-byte key of bytes seed, seed+1, ... */
static size_t
cancel_packet(uint8_t *buf, uint32_t pid, size_t keylen, uint8_t seed)
{
	size_t	i, n = 0;

	n += put32(buf + n, (uint32_t)(12 + keylen));
	n += put32(buf + n, PG_CANCELREQUEST_CODE);
	n += put32(buf + n, pid);
	for (i = 0; i < keylen; i++)
		buf[n++] = (uint8_t)(seed + i);
	return (n);
}

static void
test_front_cancel_lengths(void **state)
{
	static const size_t	 ok[] = { 4, 5, 32, 255, 256 };
	uint8_t			 buf[512], key[PG_CANCEL_KEY_MAX];
	struct pg_front_msg	 msg;
	size_t			 i, j, n, cut;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = cancel_packet(buf, 4242, ok[i], 7);
		for (j = 0; j < ok[i]; j++)
			key[j] = (uint8_t)(7 + j);
		/* Every prefix: more is needed, nothing is refused. */
		for (cut = 0; cut < n; cut++)
			assert_int_equal(pg_front_parse(buf, cut, &msg),
			    PG_FRONT_NEED_MORE);
		assert_int_equal(pg_front_parse(buf, n, &msg), PG_FRONT_CANCEL);
		assert_int_equal(msg.len, n);
		assert_int_equal(msg.cancel_pid, 4242);
		assert_int_equal(msg.cancel_keylen, ok[i]);
		assert_memory_equal(msg.cancel_key, key, ok[i]);
		/* Bytes after it (pipelined) are not its. */
		memset(buf + n, 'x', 20);
		assert_int_equal(pg_front_parse(buf, n + 20, &msg),
		    PG_FRONT_CANCEL);
		assert_int_equal(msg.len, n);
	}
	/* Shorter than a 4-byte key, longer than a 256-byte one. */
	n = cancel_packet(buf, 1, 4, 0);
	put32(buf, 15);
	assert_int_equal(pg_front_parse(buf, n, &msg), PG_FRONT_BAD);
	assert_string_equal(msg.detail, "invalid cancel request length");
	n = cancel_packet(buf, 1, 257, 0);
	assert_int_equal(pg_front_parse(buf, n, &msg), PG_FRONT_BAD);
	/* Refused from the header alone: no waiting for 269 bytes. */
	assert_int_equal(pg_front_parse(buf, 8, &msg), PG_FRONT_BAD);
}

/* A StartupMessage for protocol version major.minor, user only. */
static size_t
startup_packet(uint8_t *buf, uint32_t major, uint32_t minor)
{
	static const char	 params[] = "user\0postgres\0\0";
	size_t			 n = 8;

	memcpy(buf + n, params, sizeof(params) - 1);
	n += sizeof(params) - 1;
	put32(buf, (uint32_t)n);
	put32(buf + 4, major << 16 | minor);
	return (n);
}

static void
test_front_startup_versions(void **state)
{
	/* 3.99: what PostgreSQL 19's libpq sends to test negotiation. */
	static const uint32_t	 minors[] = { 0, 1, 2, 3, 99, 0xffff };
	uint8_t			 buf[128];
	struct pg_front_msg	 msg;
	size_t			 i, n, cut;

	(void)state;
	for (i = 0; i < sizeof(minors) / sizeof(minors[0]); i++) {
		n = startup_packet(buf, 3, minors[i]);
		for (cut = 0; cut < n; cut++)
			assert_int_equal(pg_front_parse(buf, cut, &msg),
			    PG_FRONT_NEED_MORE);
		assert_int_equal(pg_front_parse(buf, n, &msg), PG_FRONT_STARTUP);
		assert_int_equal(msg.len, n);
	}
	n = startup_packet(buf, 4, 0);
	assert_int_equal(pg_front_parse(buf, n, &msg), PG_FRONT_BAD);
	assert_string_equal(msg.detail, "unsupported frontend protocol");
	/* SSLRequest then a 3.2 startup, framed one after the other. */
	put32(buf, 8);
	put32(buf + 4, PG_SSLREQUEST_CODE);
	n = startup_packet(buf + 8, 3, 2);
	assert_int_equal(pg_front_parse(buf, 8 + n, &msg), PG_FRONT_SSL_REQUEST);
	assert_int_equal(msg.len, 8);
	assert_int_equal(pg_front_parse(buf + 8, n, &msg), PG_FRONT_STARTUP);
	assert_int_equal(msg.len, n);
}

/*
 * The startup reader over a socketpair, in the memory its caller gives
 * (PG_FRONT_MEM): what the callback sees, and the bytes it holds.
 */
struct front_run {
	struct event_base	*base;
	struct pg_front		*p;
	void			*mem;
	int			 sv[2];		/* [0] the client's end */
	int			 done;
	enum pg_front_kind	 kind;
	uint8_t			 got[PG_MAX_STARTUP + 64];
	size_t			 gotlen;
};

static void
front_cb(const struct pg_front_msg *msg, const uint8_t *bytes, size_t len,
    void *arg)
{
	struct front_run	*r = arg;
	size_t			 have;

	r->done++;
	r->kind = msg->kind;
	r->gotlen = len;
	if (len <= sizeof(r->got))
		memcpy(r->got, bytes, len);
	/* What the accessor gives is what the callback got. */
	assert_ptr_equal(pg_front_bytes(r->p, &have), bytes);
	assert_int_equal(have, len);
}

static void
front_open(struct front_run *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, r->sv), 0);
	assert_non_null(r->base = event_base_new());
	assert_non_null(r->mem = calloc(1, PG_FRONT_MEM));
	assert_non_null(r->p = pg_front_start(r->base, r->sv[1], r->mem,
	    5000, front_cb, r));
}

/* Send n bytes from the client's end, then run the loop until the
 * reader has read what is there (bounded). */
static void
front_send(struct front_run *r, const uint8_t *b, size_t n)
{
	int	i;

	if (n > 0)
		assert_int_equal(write(r->sv[0], b, n), (ssize_t)n);
	for (i = 0; i < 64 && !r->done; i++)
		event_base_loop(r->base, EVLOOP_NONBLOCK);
}

static void
front_close(struct front_run *r)
{
	pg_front_free(r->p);
	pg_front_free(NULL);
	free(r->mem);
	event_base_free(r->base);
	close(r->sv[0]);
	close(r->sv[1]);
}

/* SSLRequest answered 'N'; the startup and what followed it, whole. */
static void
test_front_reader_ssl(void **state)
{
	uint8_t			 buf[256], n1;
	struct front_run	 r;
	size_t			 n;

	(void)state;
	front_open(&r);
	put32(buf, 8);
	put32(buf + 4, PG_SSLREQUEST_CODE);
	n = 8 + startup_packet(buf + 8, 3, 0);
	memcpy(buf + n, "Q\0\0\0\x05x", 6);	/* sent before any answer */
	front_send(&r, buf, n + 6);
	assert_int_equal(read(r.sv[0], &n1, 1), 1);
	assert_int_equal(n1, 'N');
	assert_int_equal(r.done, 1);
	assert_int_equal(r.kind, PG_FRONT_STARTUP);
	assert_int_equal(r.gotlen, n - 8 + 6);
	assert_memory_equal(r.got, buf + 8, n - 8 + 6);
	front_close(&r);
}

/*
 * A startup in pieces of 3 bytes, and one of 9,000 bytes (past what the
 * caller's memory holds in place: a spill buffer) in pieces of 1,000.
 */
static void
test_front_reader_pieces(void **state)
{
	static uint8_t		 buf[9000];
	static const size_t	 sizes[] = { 64, 9000 }, steps[] = { 3, 1000 };
	struct front_run	 r;
	size_t			 i, off, k, n;

	(void)state;
	for (i = 0; i < 2; i++) {
		n = sizes[i];
		memset(buf, 0, sizeof(buf));
		put32(buf, (uint32_t)n);
		put32(buf + 4, 3 << 16);
		for (k = 8; k < n - 2; k++)
			buf[k] = (uint8_t)('a' + k % 26);
		front_open(&r);
		for (off = 0; off < n; off += k) {
			k = n - off < steps[i] ? n - off : steps[i];
			assert_int_equal(r.done, 0);
			front_send(&r, buf + off, k);
		}
		assert_int_equal(r.done, 1);
		assert_int_equal(r.kind, PG_FRONT_STARTUP);
		assert_int_equal(r.gotlen, n);
		assert_memory_equal(r.got, buf, n);
		front_close(&r);
	}
}

/* A bad length, and a client that leaves halfway. */
static void
test_front_reader_ends(void **state)
{
	uint8_t			 buf[64];
	struct front_run	 r;

	(void)state;
	front_open(&r);
	put32(buf, PG_MAX_STARTUP + 1);
	put32(buf + 4, 3 << 16);
	front_send(&r, buf, 8);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.kind, PG_FRONT_BAD);
	front_close(&r);

	front_open(&r);
	startup_packet(buf, 3, 0);
	front_send(&r, buf, 10);
	assert_int_equal(r.done, 0);
	shutdown(r.sv[0], SHUT_WR);
	front_send(&r, NULL, 0);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.kind, PG_FRONT_CLOSED);
	front_close(&r);
}

/* A server's startup in protocol 3.2: keylen-byte key. */
static size_t
server_startup(uint8_t *buf, size_t keylen, int negotiate)
{
	static const char	 ps[] = "server_version\00018.1\0";
	size_t			 n = 0, i;

	if (negotiate) {
		/* NegotiateProtocolVersion: newest minor 2, no options. */
		buf[n++] = 'v';
		n += put32(buf + n, 12);
		n += put32(buf + n, 3 << 16 | 2);
		n += put32(buf + n, 0);
	}
	buf[n++] = 'R';
	n += put32(buf + n, 8);
	n += put32(buf + n, 0);
	buf[n++] = 'S';
	n += put32(buf + n, (uint32_t)(4 + sizeof(ps) - 1));
	memcpy(buf + n, ps, sizeof(ps) - 1);
	n += sizeof(ps) - 1;
	buf[n++] = 'K';
	n += put32(buf + n, (uint32_t)(8 + keylen));
	n += put32(buf + n, 31337);
	for (i = 0; i < keylen; i++)
		buf[n++] = (uint8_t)(0xa0 + i);
	buf[n++] = 'Z';
	n += put32(buf + n, 5);
	buf[n++] = 'I';
	return (n);
}

static void
expect_key(const struct pg_back *b, size_t keylen)
{
	size_t	i;

	assert_int_equal(b->result, PG_BACK_KEY);
	assert_int_equal(b->pid, 31337);
	assert_int_equal(b->keylen, keylen);
	for (i = 0; i < keylen; i++)
		assert_int_equal(b->body[4 + i], (uint8_t)(0xa0 + i));
}

static void
test_back_key_lengths(void **state)
{
	static const size_t	 lens[] = { 4, 32, 256 };
	uint8_t			 buf[1024];
	struct pg_back		 b;
	size_t			 i, n, cut, k;
	int			 neg;

	(void)state;
	for (neg = 0; neg <= 1; neg++) {
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			n = server_startup(buf, lens[i], neg);
			pg_back_init(&b);
			assert_int_equal(pg_back_feed(&b, buf, n), PG_BACK_KEY);
			expect_key(&b, lens[i]);
			/* Split in two at every byte. */
			for (cut = 0; cut <= n; cut++) {
				pg_back_init(&b);
				if (pg_back_feed(&b, buf, cut) == PG_BACK_MORE)
					(void)pg_back_feed(&b, buf + cut,
					    n - cut);
				expect_key(&b, lens[i]);
			}
			/* A byte at a time. */
			pg_back_init(&b);
			for (k = 0; k < n; k++)
				(void)pg_back_feed(&b, buf + k, 1);
			expect_key(&b, lens[i]);
			pg_back_wipe(&b);
			for (k = 0; k < sizeof(b.body); k++)
				assert_int_equal(b.body[k], 0);
		}
	}
}

static void
test_back_bad_keys(void **state)
{
	uint8_t		 buf[1024];
	struct pg_back	 b;
	size_t		 n;

	(void)state;
	/* A 3-byte key and a 257-byte one: no key, and why. */
	n = server_startup(buf, 3, 1);
	pg_back_init(&b);
	assert_int_equal(pg_back_feed(&b, buf, n), PG_BACK_NONE);
	assert_non_null(strstr(b.why, "BackendKeyData"));
	n = server_startup(buf, 257, 0);
	pg_back_init(&b);
	assert_int_equal(pg_back_feed(&b, buf, n), PG_BACK_NONE);
	/* ReadyForQuery first: none will come. */
	pg_back_init(&b);
	assert_int_equal(pg_back_feed(&b, (const uint8_t *)"Z\0\0\0\5I", 6),
	    PG_BACK_NONE);
}

/* A tls:// route's AuthenticationSASL goes on without -PLUS. */
static void
test_back_hide_plus(void **state)
{
	static const uint8_t	both[] = "R\0\0\0\x2a\0\0\0\x0a"
	    "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0";	/* and the final NUL */
	static const uint8_t	want[] = "R\0\0\0\x17\0\0\0\x0a"
	    "SCRAM-SHA-256\0";
	static const uint8_t	nego[] = "v\0\0\0\x0c\0\x03\0\0\0\0\0\0";
	uint8_t			buf[128];
	size_t			n;

	(void)state;
	/* The message whole: 42 bytes of length, 43 in all. */
	memcpy(buf, both, sizeof(both));
	n = pg_back_hide_plus(buf, sizeof(both));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* Again: nothing to hide. */
	assert_int_equal(pg_back_hide_plus(buf, n), n);
	/* After a NegotiateProtocolVersion (13 bytes). */
	memcpy(buf, nego, 13);
	memcpy(buf + 13, both, sizeof(both));
	n = pg_back_hide_plus(buf, 13 + sizeof(both));
	assert_int_equal(n, 13 + sizeof(want));
	assert_memory_equal(buf, nego, 13);
	assert_memory_equal(buf + 13, want, sizeof(want));
	/* Cut: unchanged. */
	memcpy(buf, both, sizeof(both));
	assert_int_equal(pg_back_hide_plus(buf, sizeof(both) - 1),
	    sizeof(both) - 1);
	/* -PLUS alone: unchanged (the client fails as it would). */
	memcpy(buf, "R\0\0\0\x1c\0\0\0\x0aSCRAM-SHA-256-PLUS\0", 29);
	assert_int_equal(pg_back_hide_plus(buf, 29), 29);
	/* Not SASL (md5, code 5): unchanged. */
	memcpy(buf, "R\0\0\0\x0c\0\0\0\x05salt", 13);
	assert_int_equal(pg_back_hide_plus(buf, 13), 13);
	/* -PLUS named twice, around the plain one: both go, in one pass
	 * (the fuzzer found the second left for a second pass). */
	memcpy(buf, "R\0\0\0\x3d\0\0\0\x0aSCRAM-SHA-256-PLUS\0"
	    "SCRAM-SHA-256\0SCRAM-SHA-256-PLUS\0", 62);
	n = pg_back_hide_plus(buf, 62);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void
test_cancel_map(void **state)
{
	struct pg_cancel		*m;
	struct pg_cancel_entry	*e4, *e32, *many[300];
	struct route		*r4 = (struct route *)0x40;
	struct route		*r32 = (struct route *)0x320;
	uint8_t			 k32[32], k4[4] = { 1, 2, 3, 4 }, other[32];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(k32); i++)
		k32[i] = (uint8_t)(1 + i);	/* starts as k4 does */
	assert_non_null(m = pg_cancel_new());
	/* Same pid on two servers, one on 3.0, one on 3.2. */
	assert_non_null(e4 = pg_cancel_add(m, 77, k4, sizeof(k4), r4));
	assert_non_null(e32 = pg_cancel_add(m, 77, k32, sizeof(k32), r32));
	assert_ptr_equal(pg_cancel_find(m, 77, k4, 4), r4);
	assert_ptr_equal(pg_cancel_find(m, 77, k32, 32), r32);
	/* Whole keys only: a prefix, a longer one, one byte off. */
	assert_null(pg_cancel_find(m, 77, k32, 31));
	assert_null(pg_cancel_find(m, 77, k32, 5));
	memcpy(other, k32, sizeof(other));
	other[31] ^= 1;
	assert_null(pg_cancel_find(m, 77, other, 32));
	other[31] ^= 1;
	other[0] ^= 0x80;
	assert_null(pg_cancel_find(m, 77, other, 32));
	assert_null(pg_cancel_find(m, 78, k32, 32));
	/* Out of bounds: not added. */
	assert_null(pg_cancel_add(m, 1, k32, 3, r4));
	assert_null(pg_cancel_add(m, 1, k32, PG_CANCEL_KEY_MAX + 1, r4));
	/* Grows past its first buckets and still finds every key. */
	for (i = 0; i < 300; i++) {
		other[0] = (uint8_t)i;
		assert_non_null(many[i] = pg_cancel_add(m, (uint32_t)(1000 + i),
		    other, 32, r32));
	}
	assert_int_equal(pg_cancel_count(m), 302);
	for (i = 0; i < 300; i++) {
		other[0] = (uint8_t)i;
		assert_ptr_equal(pg_cancel_find(m, (uint32_t)(1000 + i), other,
		    32), r32);
	}
	pg_cancel_del(m, e32);
	assert_null(pg_cancel_find(m, 77, k32, 32));
	assert_ptr_equal(pg_cancel_find(m, 77, k4, 4), r4);
	pg_cancel_del(m, e4);
	pg_cancel_del(m, NULL);
	for (i = 0; i < 150; i++)
		pg_cancel_del(m, many[i]);
	assert_int_equal(pg_cancel_count(m), 150);
	pg_cancel_free(m);	/* the rest */
	pg_cancel_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_front_cancel_lengths),
		cmocka_unit_test(test_front_startup_versions),
		cmocka_unit_test(test_front_reader_ssl),
		cmocka_unit_test(test_front_reader_pieces),
		cmocka_unit_test(test_front_reader_ends),
		cmocka_unit_test(test_back_key_lengths),
		cmocka_unit_test(test_back_bad_keys),
		cmocka_unit_test(test_back_hide_plus),
		cmocka_unit_test(test_cancel_map),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
