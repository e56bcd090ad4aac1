/*
 * test_ssh_mux_proxy.c: mux_forward = proxy's wire (tunnel/ssh_mux_wire.c):
 * our hello with MUX_C_PROXY and the master's MUX_S_PROXY; after it, our
 * CHANNEL_OPEN, DATA header, EOF, CLOSE and WINDOW_ADJUST byte for byte
 * (RFC 4254); each channel message the master relays parsed whole, a
 * prefix of one "more to come", malformed ones refused, what we write
 * read back with the same fields, and the DATA shortcut agreeing with
 * the parser.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssh_mux_wire.h"

/* Our hello, then MUX_C_PROXY with its request id. */
static void
test_encode_proxy(void **state)
{
	unsigned char	buf[64];
	static const unsigned char want[] = {
		0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4,		/* hello v4 */
		0, 0, 0, 8, 0x10, 0, 0, 0x0f,			/* PROXY */
		0x01, 0x02, 0x03, 0x04				/* rid */
	};

	(void)state;
	assert_int_equal(ssh_mux_encode_proxy(buf, sizeof(buf), 0x01020304),
	    sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ssh_mux_encode_proxy(buf, sizeof(want), 0x01020304),
	    sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ssh_mux_encode_proxy(buf, sizeof(want) - 1,
	    0x01020304), 0);
	assert_int_equal(ssh_mux_encode_proxy(buf, 0, 1), 0);
}

/* The master's answer to MUX_C_PROXY: MUX_S_PROXY with our rid. */
static void
test_parse_s_proxy(void **state)
{
	static const unsigned char reply[] = {
		0, 0, 0, 8, 0x80, 0, 0, 0x0f, 0, 0, 0, 11
	};
	struct ssh_mux_msg	 m;
	size_t			 cut;

	(void)state;
	for (cut = 0; cut < sizeof(reply); cut++)
		assert_int_equal(ssh_mux_parse(reply, cut, &m), 0);
	assert_int_equal(ssh_mux_parse(reply, sizeof(reply), &m),
	    sizeof(reply));
	assert_int_equal(m.type, MUX_S_PROXY);
	assert_int_equal(m.rid, 11);
}

/* CHANNEL_OPEN "direct-tcpip" (RFC 4254 7.2), from 127.0.0.1 port 0. */
static void
test_proxy_open(void **state)
{
	unsigned char	buf[128];
	static const unsigned char want[] = {
		0, 0, 0, 63,					/* length */
		0, 90,						/* pad, OPEN */
		0, 0, 0, 12, 'd', 'i', 'r', 'e', 'c', 't', '-', 't', 'c',
		'p', 'i', 'p',					/* type */
		0, 0, 0, 7,					/* our id */
		0, 0x20, 0, 0,					/* 2 MiB */
		0, 0, 0x80, 0,					/* max packet */
		0, 0, 0, 8, '1', '0', '.', '0', '.', '0', '.', '5',
		0, 0, 0x18, 0xeb,				/* 6379 */
		0, 0, 0, 9, '1', '2', '7', '.', '0', '.', '0', '.', '1',
		0, 0, 0, 0					/* port 0 */
	};
	static char	long_host[1100];

	(void)state;
	assert_int_equal(sizeof(want), 67);
	assert_int_equal(ssh_mux_proxy_open(buf, sizeof(buf), 7, 2097152,
	    32768, "10.0.0.5", 6379), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ssh_mux_proxy_open(buf, sizeof(want), 7, 2097152,
	    32768, "10.0.0.5", 6379), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* Too small a buffer: nothing. */
	assert_int_equal(ssh_mux_proxy_open(buf, sizeof(want) - 1, 7, 2097152,
	    32768, "10.0.0.5", 6379), 0);
	assert_int_equal(ssh_mux_proxy_open(buf, 0, 7, 2097152, 32768,
	    "10.0.0.5", 6379), 0);
	/* A host too long: nothing, whatever the buffer. */
	memset(long_host, 'h', sizeof(long_host) - 1);
	{
		static unsigned char big[2048];

		assert_int_equal(ssh_mux_proxy_open(big, sizeof(big), 7,
		    2097152, 32768, long_host, 6379), 0);
	}
}

/* The header before n bytes of CHANNEL_DATA to the server's channel. */
static void
test_proxy_data_hdr(void **state)
{
	unsigned char	buf[MUX_PROXY_DATA_HDR + 1];
	static const unsigned char want[] = {
		0, 0, 0, 16, 0, 94,				/* len, DATA */
		0x0a, 0x0b, 0x0c, 0x0d,				/* recipient */
		0, 0, 0, 6					/* string len */
	};

	(void)state;
	assert_int_equal(sizeof(want), MUX_PROXY_DATA_HDR);
	memset(buf, 0xee, sizeof(buf));
	ssh_mux_proxy_data_hdr(buf, 0x0a0b0c0d, 6);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[MUX_PROXY_DATA_HDR], 0xee);	/* no more */
}

/* EOF and CLOSE: the recipient only; WINDOW_ADJUST: and the bytes. */
static void
test_proxy_msg(void **state)
{
	unsigned char	buf[32];
	static const unsigned char eof[] = {
		0, 0, 0, 6, 0, 96, 0, 0, 0, 3
	};
	static const unsigned char close_[] = {
		0, 0, 0, 6, 0, 97, 0x80, 0, 0, 1
	};
	static const unsigned char adjust[] = {
		0, 0, 0, 10, 0, 93, 0, 0, 0, 3, 0, 1, 0x02, 0x03
	};

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ssh_mux_proxy_msg(buf, sizeof(buf),
	    SSH_MSG_CHANNEL_EOF, 3, 99), 10);
	assert_memory_equal(buf, eof, sizeof(eof));
	assert_int_equal(buf[10], 0xee);
	assert_int_equal(ssh_mux_proxy_msg(buf, sizeof(buf),
	    SSH_MSG_CHANNEL_CLOSE, 0x80000001, 0), 10);
	assert_memory_equal(buf, close_, sizeof(close_));
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ssh_mux_proxy_msg(buf, sizeof(buf),
	    SSH_MSG_CHANNEL_WINDOW_ADJUST, 3, 0x10203), 14);
	assert_memory_equal(buf, adjust, sizeof(adjust));
	assert_int_equal(buf[14], 0xee);
	/* Exactly enough room, then one byte short. */
	assert_int_equal(ssh_mux_proxy_msg(buf, 10, SSH_MSG_CHANNEL_EOF, 3,
	    0), 10);
	assert_int_equal(ssh_mux_proxy_msg(buf, 9, SSH_MSG_CHANNEL_EOF, 3,
	    0), 0);
	assert_int_equal(ssh_mux_proxy_msg(buf, 14,
	    SSH_MSG_CHANNEL_WINDOW_ADJUST, 3, 1), 14);
	assert_int_equal(ssh_mux_proxy_msg(buf, 13,
	    SSH_MSG_CHANNEL_WINDOW_ADJUST, 3, 1), 0);
}

/*
 * msg (whole, len bytes): every strict prefix is "more to come", the
 * whole is consumed, with data (if any) inside it.
 */
static void
check_whole(const unsigned char *msg, size_t len, struct ssh_mux_pmsg *m)
{
	size_t	cut;

	for (cut = 0; cut < len; cut++)
		assert_int_equal(ssh_mux_proxy_parse(msg, cut, m), 0);
	assert_int_equal(ssh_mux_proxy_parse(msg, len, m), (long)len);
	if (m->data != NULL) {
		assert_true(m->data >= msg + 6);
		assert_true(m->len <= len);
		assert_true(m->data + m->len <= msg + len);
	} else
		assert_int_equal(m->len, 0);
}

static void
test_proxy_parse_open_confirmation(void **state)
{
	static const unsigned char in[] = {
		0, 0, 0, 18, 0, 91,
		0, 0, 0, 7,					/* our id */
		0, 0, 0, 42,					/* theirs */
		0, 0x20, 0, 0,					/* window */
		0, 0, 0x80, 0					/* max packet */
	};
	struct ssh_mux_pmsg	 m;

	(void)state;
	check_whole(in, sizeof(in), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_OPEN_CONFIRMATION);
	assert_int_equal(m.chan, 7);
	assert_int_equal(m.peer, 42);
	assert_int_equal(m.window, 2097152);
	assert_int_equal(m.maxpkt, 32768);
	assert_null(m.data);
}

static void
test_proxy_parse_open_failure(void **state)
{
	static const unsigned char in[] = {
		0, 0, 0, 34, 0, 92,
		0, 0, 0, 7,					/* our id */
		0, 0, 0, 2,					/* code */
		0, 0, 0, 14, 'c', 'o', 'n', 'n', 'e', 'c', 't', ' ',
		'f', 'a', 'i', 'l', 'e', 'd',			/* text */
		0, 0, 0, 2, 'e', 'n'				/* language */
	};
	/* The same without the language tag (tolerated). */
	static const unsigned char nolang[] = {
		0, 0, 0, 28, 0, 92,
		0, 0, 0, 7,
		0, 0, 0, 1,					/* prohibited */
		0, 0, 0, 14, 'c', 'o', 'n', 'n', 'e', 'c', 't', ' ',
		'f', 'a', 'i', 'l', 'e', 'd'
	};
	struct ssh_mux_pmsg	 m;

	(void)state;
	check_whole(in, sizeof(in), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_OPEN_FAILURE);
	assert_int_equal(m.chan, 7);
	assert_int_equal(m.code, 2);
	assert_ptr_equal(m.data, in + 18);
	assert_int_equal(m.len, 14);
	assert_memory_equal(m.data, "connect failed", 14);

	check_whole(nolang, sizeof(nolang), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_OPEN_FAILURE);
	assert_int_equal(m.chan, 7);
	assert_int_equal(m.code, 1);
	assert_ptr_equal(m.data, nolang + 18);
	assert_int_equal(m.len, 14);
}

static void
test_proxy_parse_window_adjust(void **state)
{
	static const unsigned char in[] = {
		0, 0, 0, 10, 0, 93, 0, 0, 0, 7, 0x80, 0, 0, 1
	};
	struct ssh_mux_pmsg	 m;

	(void)state;
	check_whole(in, sizeof(in), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_WINDOW_ADJUST);
	assert_int_equal(m.chan, 7);
	assert_int_equal(m.window, 0x80000001U);
}

static void
test_proxy_parse_data(void **state)
{
	static const unsigned char in[] = {
		0, 0, 0, 17, 0, 94, 0, 0, 0, 7,
		0, 0, 0, 7, '+', 'P', 'O', 'N', 'G', '\r', '\n'
	};
	static const unsigned char empty[] = {
		0, 0, 0, 10, 0, 94, 0, 0, 0, 7, 0, 0, 0, 0
	};
	static const unsigned char ext[] = {
		0, 0, 0, 17, 0, 95, 0, 0, 0, 7,
		0, 0, 0, 1,					/* stderr */
		0, 0, 0, 3, 'e', 'r', 'r'
	};
	struct ssh_mux_pmsg	 m;

	(void)state;
	check_whole(in, sizeof(in), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_DATA);
	assert_int_equal(m.chan, 7);
	assert_ptr_equal(m.data, in + 14);
	assert_int_equal(m.len, 7);
	assert_memory_equal(m.data, "+PONG\r\n", 7);

	check_whole(empty, sizeof(empty), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_DATA);
	assert_int_equal(m.len, 0);

	check_whole(ext, sizeof(ext), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_EXTENDED_DATA);
	assert_int_equal(m.chan, 7);
	assert_int_equal(m.code, 1);
	assert_ptr_equal(m.data, ext + 18);
	assert_int_equal(m.len, 3);
	assert_memory_equal(m.data, "err", 3);
}

static void
test_proxy_parse_eof_close(void **state)
{
	static const unsigned char eof[] = {
		0, 0, 0, 6, 0, 96, 0, 0, 0, 7
	};
	static const unsigned char close_[] = {
		0, 0, 0, 6, 0, 97, 0xff, 0xff, 0xff, 0xfe
	};
	/* SUCCESS and FAILURE: the id only as well. */
	static const unsigned char success[] = {
		0, 0, 0, 6, 0, 99, 0, 0, 0, 5
	};
	static const unsigned char failure[] = {
		0, 0, 0, 6, 0, 100, 0, 0, 0, 5
	};
	struct ssh_mux_pmsg	 m;

	(void)state;
	check_whole(eof, sizeof(eof), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_EOF);
	assert_int_equal(m.chan, 7);
	check_whole(close_, sizeof(close_), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_CLOSE);
	assert_int_equal(m.chan, 0xfffffffeU);
	check_whole(success, sizeof(success), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_SUCCESS);
	assert_int_equal(m.chan, 5);
	check_whole(failure, sizeof(failure), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_FAILURE);
	assert_int_equal(m.chan, 5);
}

static void
test_proxy_parse_request(void **state)
{
	/* "exit-status", no reply wanted, then its uint32. */
	static const unsigned char status[] = {
		0, 0, 0, 26, 0, 98, 0, 0, 0, 7,
		0, 0, 0, 11, 'e', 'x', 'i', 't', '-', 's', 't', 'a', 't', 'u',
		's',
		0,						/* want_reply */
		0, 0, 0, 0
	};
	/* "keepalive@openssh.com", a reply wanted (any non-zero byte). */
	static const unsigned char keepalive[] = {
		0, 0, 0, 32, 0, 98, 0, 0, 0, 9,
		0, 0, 0, 21, 'k', 'e', 'e', 'p', 'a', 'l', 'i', 'v', 'e', '@',
		'o', 'p', 'e', 'n', 's', 's', 'h', '.', 'c', 'o', 'm',
		2
	};
	struct ssh_mux_pmsg	 m;

	(void)state;
	check_whole(status, sizeof(status), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_REQUEST);
	assert_int_equal(m.chan, 7);
	assert_ptr_equal(m.data, status + 14);
	assert_int_equal(m.len, 11);
	assert_memory_equal(m.data, "exit-status", 11);
	assert_int_equal(m.want_reply, 0);

	check_whole(keepalive, sizeof(keepalive), &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_REQUEST);
	assert_int_equal(m.chan, 9);
	assert_int_equal(m.len, 21);
	assert_memory_equal(m.data, "keepalive@openssh.com", 21);
	assert_int_equal(m.want_reply, 1);
}

/* Not a channel message we read: consumed whole, nothing else set. */
static void
test_proxy_parse_unknown(void **state)
{
	/* 80, SSH_MSG_GLOBAL_REQUEST "keepalive@openssh.com", want reply. */
	static const unsigned char global[] = {
		0, 0, 0, 28, 0, 80,
		0, 0, 0, 21, 'k', 'e', 'e', 'p', 'a', 'l', 'i', 'v', 'e', '@',
		'o', 'p', 'e', 'n', 's', 's', 'h', '.', 'c', 'o', 'm',
		1
	};
	/* A type alone, shorter than a channel id: still just skipped. */
	static const unsigned char bare[] = { 0, 0, 0, 2, 0, 80 };
	struct ssh_mux_pmsg	 m;

	(void)state;
	check_whole(global, sizeof(global), &m);
	assert_int_equal(m.type, 80);
	assert_int_equal(m.peer, 0);
	assert_int_equal(m.window, 0);
	assert_int_equal(m.maxpkt, 0);
	assert_int_equal(m.code, 0);
	assert_int_equal(m.want_reply, 0);
	assert_null(m.data);
	assert_int_equal(m.len, 0);

	check_whole(bare, sizeof(bare), &m);
	assert_int_equal(m.type, 80);
	assert_int_equal(m.chan, 0);
	assert_null(m.data);
}

static void
test_proxy_parse_malformed(void **state)
{
	struct ssh_mux_pmsg	 m;
	/* Lengths 0 and 1: no room for padding and type. */
	static const unsigned char len0[] = { 0, 0, 0, 0 };
	static const unsigned char len1[] = { 0, 0, 0, 1, 0 };
	/* One beyond MUX_PROXY_MSG_MAX: refused before it is all there. */
	static const unsigned char huge[] = {
		(MUX_PROXY_MSG_MAX + 1) >> 24 & 0xff,
		(MUX_PROXY_MSG_MAX + 1) >> 16 & 0xff,
		(MUX_PROXY_MSG_MAX + 1) >> 8 & 0xff,
		(MUX_PROXY_MSG_MAX + 1) & 0xff, 0, 94
	};
	static const unsigned char huger[] = { 0xff, 0xff, 0xff, 0xff, 0, 94 };
	/* Exactly MUX_PROXY_MSG_MAX: allowed, so not yet whole. */
	static const unsigned char max[] = {
		MUX_PROXY_MSG_MAX >> 24 & 0xff, MUX_PROXY_MSG_MAX >> 16 & 0xff,
		MUX_PROXY_MSG_MAX >> 8 & 0xff, MUX_PROXY_MSG_MAX & 0xff, 0, 94
	};
	/* A padding length other than 0. */
	static const unsigned char padded[] = {
		0, 0, 0, 6, 4, 96, 0, 0, 0, 7
	};
	/* Channel messages without a whole channel id. */
	static const unsigned char noid2[] = { 0, 0, 0, 2, 0, 96 };
	static const unsigned char noid5[] = { 0, 0, 0, 5, 0, 97, 0, 0, 0 };
	/* DATA: a string longer than the message; no string length. */
	static const unsigned char longdata[] = {
		0, 0, 0, 13, 0, 94, 0, 0, 0, 7, 0, 0, 0, 4, 'a', 'b', 'c'
	};
	static const unsigned char wrapdata[] = {
		0, 0, 0, 13, 0, 94, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff,
		'a', 'b', 'c'
	};
	static const unsigned char nodatalen[] = {
		0, 0, 0, 9, 0, 94, 0, 0, 0, 7, 0, 0, 0
	};
	/* OPEN_CONFIRMATION one byte short of its max packet. */
	static const unsigned char shortconf[] = {
		0, 0, 0, 17, 0, 91, 0, 0, 0, 7, 0, 0, 0, 42,
		0, 0x20, 0, 0, 0, 0, 0x80
	};
	/* WINDOW_ADJUST without a whole count. */
	static const unsigned char shortadj[] = {
		0, 0, 0, 9, 0, 93, 0, 0, 0, 7, 0, 0, 1
	};
	/* OPEN_FAILURE: no description; a language tag that overruns. */
	static const unsigned char nodesc[] = {
		0, 0, 0, 10, 0, 92, 0, 0, 0, 7, 0, 0, 0, 2
	};
	static const unsigned char longlang[] = {
		0, 0, 0, 20, 0, 92, 0, 0, 0, 7, 0, 0, 0, 2,
		0, 0, 0, 1, 'x', 0, 0, 0, 9, 'e'
	};
	/* EXTENDED_DATA without its data type; REQUEST without want_reply. */
	static const unsigned char noext[] = {
		0, 0, 0, 8, 0, 95, 0, 0, 0, 7, 0, 0
	};
	static const unsigned char noreply[] = {
		0, 0, 0, 13, 0, 98, 0, 0, 0, 7, 0, 0, 0, 3, 'e', 'o', 'w'
	};

	(void)state;
	assert_int_equal(ssh_mux_proxy_parse(len0, sizeof(len0), &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(len1, sizeof(len1), &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(huge, sizeof(huge), &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(huge, 4, &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(huger, sizeof(huger), &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(max, sizeof(max), &m), 0);
	assert_int_equal(ssh_mux_proxy_parse(padded, sizeof(padded), &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(noid2, sizeof(noid2), &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(noid5, sizeof(noid5), &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(longdata, sizeof(longdata), &m),
	    -1);
	assert_int_equal(ssh_mux_proxy_parse(wrapdata, sizeof(wrapdata), &m),
	    -1);
	assert_int_equal(ssh_mux_proxy_parse(nodatalen, sizeof(nodatalen),
	    &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(shortconf, sizeof(shortconf),
	    &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(shortadj, sizeof(shortadj), &m),
	    -1);
	assert_int_equal(ssh_mux_proxy_parse(nodesc, sizeof(nodesc), &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(longlang, sizeof(longlang), &m),
	    -1);
	assert_int_equal(ssh_mux_proxy_parse(noext, sizeof(noext), &m), -1);
	assert_int_equal(ssh_mux_proxy_parse(noreply, sizeof(noreply), &m),
	    -1);
}

/* Two messages in one read: one after the other. */
static void
test_proxy_parse_back_to_back(void **state)
{
	static const unsigned char in[] = {
		0, 0, 0, 10, 0, 93, 0, 0, 0, 7, 0, 0, 0x10, 0,	/* ADJUST */
		0, 0, 0, 13, 0, 94, 0, 0, 0, 7, 0, 0, 0, 3,	/* DATA */
		'a', 'b', 'c',
		0, 0, 0, 6, 0, 96				/* EOF, cut */
	};
	struct ssh_mux_pmsg	 m;
	long			 used;

	(void)state;
	used = ssh_mux_proxy_parse(in, sizeof(in), &m);
	assert_int_equal(used, 14);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_WINDOW_ADJUST);
	assert_int_equal(m.window, 4096);
	assert_int_equal(ssh_mux_proxy_parse(in + 14, sizeof(in) - 14, &m),
	    17);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_DATA);
	assert_int_equal(m.chan, 7);
	assert_ptr_equal(m.data, in + 14 + 14);
	assert_int_equal(m.len, 3);
	/* What is left is an EOF's first six bytes: more to come. */
	assert_int_equal(ssh_mux_proxy_parse(in + 31, sizeof(in) - 31, &m), 0);
}

/*
 * What we write reads back the same: we put the server's id where the
 * master puts ours, the recipient, which parse returns as chan.
 */
static void
test_proxy_round_trip(void **state)
{
	static const uint8_t types[] = {
		SSH_MSG_CHANNEL_EOF, SSH_MSG_CHANNEL_CLOSE,
		SSH_MSG_CHANNEL_SUCCESS, SSH_MSG_CHANNEL_FAILURE,
		SSH_MSG_CHANNEL_WINDOW_ADJUST
	};
	unsigned char		 buf[64];
	struct ssh_mux_pmsg	 m;
	size_t			 i, n;

	(void)state;
	for (i = 0; i < sizeof(types); i++) {
		n = ssh_mux_proxy_msg(buf, sizeof(buf), types[i], 0xdeadbeef,
		    0x00123456);
		assert_true(n == 10 || n == 14);
		check_whole(buf, n, &m);
		assert_int_equal(m.type, types[i]);
		assert_int_equal(m.chan, 0xdeadbeef);
		if (types[i] == SSH_MSG_CHANNEL_WINDOW_ADJUST)
			assert_int_equal(m.window, 0x00123456);
	}
	ssh_mux_proxy_data_hdr(buf, 42, 5);
	memcpy(buf + MUX_PROXY_DATA_HDR, "hello", 5);
	check_whole(buf, MUX_PROXY_DATA_HDR + 5, &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_DATA);
	assert_int_equal(m.chan, 42);
	assert_ptr_equal(m.data, buf + MUX_PROXY_DATA_HDR);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.data, "hello", 5);
	/* An empty DATA as well. */
	ssh_mux_proxy_data_hdr(buf, 42, 0);
	check_whole(buf, MUX_PROXY_DATA_HDR, &m);
	assert_int_equal(m.type, SSH_MSG_CHANNEL_DATA);
	assert_int_equal(m.len, 0);
}

/*
 * data_peek: a DATA header whose string fills its message is taken (the
 * bytes then move without a contiguous copy); anything else is left to
 * ssh_mux_proxy_parse, and agrees with it on chan and length.
 */
static void
test_proxy_data_peek(void **state)
{
	unsigned char		 buf[64];
	struct ssh_mux_pmsg	 m;
	uint32_t		 chan = 0, dlen = 0;

	(void)state;
	ssh_mux_proxy_data_hdr(buf, 7, 5);
	memcpy(buf + MUX_PROXY_DATA_HDR, "+OK\r\n", 5);
	assert_int_equal(ssh_mux_proxy_data_peek(buf, &chan, &dlen), 1);
	assert_int_equal(chan, 7);
	assert_int_equal(dlen, 5);
	assert_int_equal(ssh_mux_proxy_parse(buf, MUX_PROXY_DATA_HDR + 5, &m),
	    MUX_PROXY_DATA_HDR + 5);
	assert_int_equal(m.chan, chan);
	assert_int_equal(m.len, dlen);
	/* Empty data. */
	ssh_mux_proxy_data_hdr(buf, 1, 0);
	assert_int_equal(ssh_mux_proxy_data_peek(buf, &chan, &dlen), 1);
	assert_int_equal(dlen, 0);
	/* A string shorter than the message: the parser's. */
	ssh_mux_proxy_data_hdr(buf, 7, 5);
	buf[3]++;
	assert_int_equal(ssh_mux_proxy_data_peek(buf, &chan, &dlen), 0);
	/* Longer than the message. */
	ssh_mux_proxy_data_hdr(buf, 7, 5);
	buf[13]++;
	assert_int_equal(ssh_mux_proxy_data_peek(buf, &chan, &dlen), 0);
	/* Padding not 0, another type, a length past the bound. */
	ssh_mux_proxy_data_hdr(buf, 7, 5);
	buf[4] = 1;
	assert_int_equal(ssh_mux_proxy_data_peek(buf, &chan, &dlen), 0);
	ssh_mux_proxy_data_hdr(buf, 7, 5);
	buf[5] = SSH_MSG_CHANNEL_EXTENDED_DATA;
	assert_int_equal(ssh_mux_proxy_data_peek(buf, &chan, &dlen), 0);
	ssh_mux_proxy_data_hdr(buf, 7, MUX_PROXY_MSG_MAX);
	assert_int_equal(ssh_mux_proxy_data_peek(buf, &chan, &dlen), 0);
	ssh_mux_proxy_data_hdr(buf, 7, MUX_PROXY_MSG_MAX - 10);
	assert_int_equal(ssh_mux_proxy_data_peek(buf, &chan, &dlen), 1);
	/* Shorter than a DATA header's fields: never taken. */
	memcpy(buf, "\0\0\0\6\0\x5e\0\0\0\1\0\0\0\0", 14);
	assert_int_equal(ssh_mux_proxy_data_peek(buf, &chan, &dlen), 0);
}

static void
test_proxy_reason(void **state)
{
	(void)state;
	assert_string_equal(ssh_mux_proxy_reason(1),
	    "administratively prohibited");
	assert_string_equal(ssh_mux_proxy_reason(2), "connect failed");
	assert_string_equal(ssh_mux_proxy_reason(3), "unknown channel type");
	assert_string_equal(ssh_mux_proxy_reason(4), "resource shortage");
	assert_string_equal(ssh_mux_proxy_reason(0), "unknown reason");
	assert_string_equal(ssh_mux_proxy_reason(5), "unknown reason");
	assert_string_equal(ssh_mux_proxy_reason(0xffffffffU),
	    "unknown reason");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_proxy),
		cmocka_unit_test(test_parse_s_proxy),
		cmocka_unit_test(test_proxy_open),
		cmocka_unit_test(test_proxy_data_hdr),
		cmocka_unit_test(test_proxy_msg),
		cmocka_unit_test(test_proxy_parse_open_confirmation),
		cmocka_unit_test(test_proxy_parse_open_failure),
		cmocka_unit_test(test_proxy_parse_window_adjust),
		cmocka_unit_test(test_proxy_parse_data),
		cmocka_unit_test(test_proxy_parse_eof_close),
		cmocka_unit_test(test_proxy_parse_request),
		cmocka_unit_test(test_proxy_parse_unknown),
		cmocka_unit_test(test_proxy_parse_malformed),
		cmocka_unit_test(test_proxy_parse_back_to_back),
		cmocka_unit_test(test_proxy_round_trip),
		cmocka_unit_test(test_proxy_data_peek),
		cmocka_unit_test(test_proxy_reason),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
