/*
 * test_conf_syntax.c: the INI layer as the parser sees it: malformed
 * lines, headers, keys outside sections, long lines, NUL bytes, CRLF and
 * BOM, and error collection.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "conf.h"
#include "conf_keys.h"
#include "conf_check.h"

/* Tolerated layouts: comments, blank lines, white space, CRLF, a BOM. */
static void
test_syntax(void **state)
{
	struct conf	*c;
	char		*crlf, *p;
	const char	*q;
	size_t		 n;

	c = parse_ok(
	    "# a comment\n"
	    "; another\n"
	    "   # indented comment\n"
	    "\t\n"
	    "  [ service   s ]   # trailing comment\n"
	    "\tlisten=7000\t\n"
	    "route = direct tcp://h:1 # primary\n"
	    "rise = 3 ; three\n"
	    "fall=4\t#tab before it\n");
	assert_string_equal(c->services[0].name, "s");
	assert_int_equal(c->services[0].routes[0].nopts, 0);
	assert_int_equal(c->services[0].rise, 3);
	assert_int_equal(c->services[0].fall, 4);
	conf_unref(c);
	/* '#' or ';' without white space before it is part of the value. */
	EXPECT_ERRORS(SVC "fall=4#x\n", 0,
	    "t.conf:4: fall: '4#x' is not a number");
	EXPECT_ERRORS(SVC "fall = 4;x\n", 0,
	    "t.conf:4: fall: '4;x' is not a number");

	/* The whole example with CRLF line endings. */
	crlf = malloc(2 * strlen(example) + 1);
	assert_non_null(crlf);
	for (p = crlf, q = example; *q != '\0'; q++) {
		if (*q == '\n')
			*p++ = '\r';
		*p++ = *q;
	}
	*p = '\0';
	c = parse_ok(crlf);
	check_example(c);
	conf_unref(c);
	/* And with a UTF-8 byte order mark. */
	n = strlen(crlf);
	memmove(crlf + 3, crlf, n + 1);
	memcpy(crlf, "\xef\xbb\xbf", 3);
	c = parse_ok(crlf);
	check_example(c);
	conf_unref(c);
	free(crlf);

	/* No newline at the end of the file. */
	c = parse_ok("[service s]\nlisten = 1\nroute = r tcp://h:1");
	assert_string_equal(fmt(&c->services[0].routes[0].target), "h:1");
	conf_unref(c);

	/* A BOM is only skipped at the start. */
	EXPECT_ERRORS(SVC "\xef\xbb\xbf" "rise = 2\n", 0,
	    "t.conf:4: unknown key '\xef\xbb\xbf" "rise' in [service] "
	    "section");
}

static void
test_key_outside_section(void **state)
{
	EXPECT_ERRORS("listen = 7000\n" SVC, 0,
	    "t.conf:1: 'listen' is outside any section (start with "
	    "[postern] or [service NAME])");
	EXPECT_ERRORS("\n# comment\nrise = 2\nfall = 2\n" SVC, 0,
	    "t.conf:3: 'rise' is outside any section (start with "
	    "[postern] or [service NAME])",
	    "t.conf:4: 'fall' is outside any section (start with "
	    "[postern] or [service NAME])");
}

/*
 * After a broken header, keys are skipped: not filed under the section
 * before it (where "rise = 0" and the second listen would be errors).
 */
static void
test_broken_header(void **state)
{
	EXPECT_ERRORS(SVC "[service t\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: section header without ']'");
	EXPECT_ERRORS(SVC "[service t] x\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: text after section header");
	EXPECT_ERRORS(SVC "[ ]\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: empty section header");
	EXPECT_ERRORS(SVC "[redis]\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: unknown section [redis] (expected [postern], "
	    "[bastion NAME] or [service NAME])");
	EXPECT_ERRORS(SVC "[service s]\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: duplicate [service s]");
	EXPECT_ERRORS(SVC "[service a/b]\nrise = 0\nlisten = 7000\n", 0,
	    "t.conf:4: bad name 'a/b' (letters, digits, '-', '_', '.')");
	/* Keys under the next good header count again. */
	EXPECT_ERRORS(SVC "[service t\nrise = 0\n[service u]\nrise = 0\n", 0,
	    "t.conf:4: section header without ']'",
	    "t.conf:7: rise: 0 is out of range (1 to 100)",
	    "t.conf:6: [service u]: missing required key 'listen'",
	    "t.conf:6: [service u]: missing required key 'route'");
}

/* Lines up to 8191 bytes are read; longer ones are an error of their own. */
static void
test_long_lines(void **state)
{
	char	*buf;
	size_t	 off;

	buf = malloc(3 * 8192 + 256);
	assert_non_null(buf);
	off = (size_t)sprintf(buf, SVC "#");
	memset(buf + off, 'x', 8190);		/* line 4: 8191 bytes */
	off += 8190;
	off += (size_t)sprintf(buf + off, "\n#");
	memset(buf + off, 'x', 8191);		/* line 5: 8192 bytes */
	off += 8191;
	off += (size_t)sprintf(buf + off, "\nrise = 0\n");
	expect_errors_buf(buf, off, 0, (const char *const[]){
	    "t.conf:5: line too long",
	    "t.conf:6: rise: 0 is out of range (1 to 100)", NULL });

	/* A long value is reported, not cut to a shorter valid one. */
	off = (size_t)sprintf(buf, SVC "listen = 7001");
	memset(buf + off, '1', 9000);
	off += 9000;
	expect_errors_buf(buf, off, 0, (const char *const[]){
	    "t.conf:4: line too long", NULL });

	/* A long header is a broken header: keys below it are skipped. */
	off = (size_t)sprintf(buf, SVC "[service ");
	memset(buf + off, 'n', 9000);
	off += 9000;
	off += (size_t)sprintf(buf + off, "]\nrise = 0\n");
	expect_errors_buf(buf, off, 0, (const char *const[]){
	    "t.conf:4: line too long", NULL });
	free(buf);
}

static void
test_nul_bytes(void **state)
{
	static const char t1[] = SVC "rise = 2\0junk\nfall = 0\n";
	static const char t2[] = SVC "[serv\0ice t]\nrise = 0\n";
	static const char t3[] = "\0";

	/* The line is rejected whole; parsing goes on. */
	expect_errors_buf(t1, sizeof(t1) - 1, 0, (const char *const[]){
	    "t.conf:4: NUL byte in line",
	    "t.conf:5: fall: 0 is out of range (1 to 100)", NULL });
	/* A header with a NUL is a broken header. */
	expect_errors_buf(t2, sizeof(t2) - 1, 0, (const char *const[]){
	    "t.conf:4: NUL byte in line", NULL });
	expect_errors_buf(t3, 1, 0, (const char *const[]){
	    "t.conf:1: NUL byte in line",
	    "t.conf: no [service NAME] section: nothing to do", NULL });
}

/* The length given is respected: the buffer need not end in NUL. */
static void
test_length(void **state)
{
	static const char	t[] = SVC "rise = 50\n";
	struct conf		*c;

	c = parse_ok_buf(t, strlen(SVC), 0);
	assert_int_equal(c->services[0].rise, 2);
	conf_unref(c);
	c = parse_ok_buf(t, strlen(SVC) + 8, 0);	/* "rise = 5" */
	assert_int_equal(c->services[0].rise, 5);
	conf_unref(c);
}

/* New errors are appended; a caller's earlier ones do not fail a parse. */
static void
test_errors_append(void **state)
{
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*c;

	conf_errors_add(&e, "x", 3, "first %d", 1);
	conf_errors_add(&e, "y", 0, "second");
	c = parse_buf(SVC, strlen(SVC), 0, &e);
	assert_non_null(c);
	conf_unref(c);
	assert_int_equal(e.n, 2);
	c = parse_buf(SVC "rise = 0\n", strlen(SVC) + 9, 0, &e);
	assert_null(c);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.msg[0], "x:3: first 1");
	assert_string_equal(e.msg[1], "y: second");
	assert_string_equal(e.msg[2],
	    "t.conf:4: rise: 0 is out of range (1 to 100)");
	conf_errors_free(&e);
	assert_int_equal(e.n, 0);
	assert_null(e.msg);
	conf_errors_free(&e);		/* twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_key_outside_section),
		cmocka_unit_test(test_broken_header),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_errors_append),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
