/*
 * test_secret.c: the one mode rule for files that hold secrets
 * (config/secret.c) and its use by every secret key of the configuration:
 * "postern -n" reports each wrong file at its key's line, all of them.
 */
#include "config.h"

#include <sys/stat.h>

#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_check.h"
#include "secret.h"
#include "tmpdir.h"

/* A gid that no group of this process has (checked). */
static gid_t
foreign_gid(void)
{
	gid_t	list[256], g;
	int	n = getgroups(256, list), i, mine;

	for (g = 54321; g < 54421; g++) {
		mine = g == getgid() || g == getegid();
		for (i = 0; i < n; i++)
			mine |= list[i] == g;
		if (!mine)
			return (g);
	}
	fail_msg("no foreign gid");
	return (0);
}

static int
check(mode_t mode, uid_t uid, gid_t gid, const char *user, char *err,
    size_t len)
{
	struct stat	st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | mode;
	st.st_uid = uid;
	st.st_gid = gid;
	err[0] = '\0';
	return (secret_mode_check(&st, user, err, len));
}

static void
test_mode_rule(void **state)
{
	char	err[300];
	gid_t	other = foreign_gid();

	(void)state;
	/* Owner only: always, whoever owns it. */
	assert_int_equal(check(0600, getuid(), getgid(), NULL, err,
	    sizeof(err)), 0);
	assert_int_equal(check(0400, 0, other, NULL, err, sizeof(err)), 0);
	assert_int_equal(check(0700, 12345, other, NULL, err, sizeof(err)),
	    0);
	/* Others: never (0644 is the common mistake). */
	assert_int_equal(check(0644, 0, getegid(), NULL, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "mode 0644 lets others read or write it: "
	    "chmod 600 it");
	assert_int_equal(check(0602, 0, getegid(), NULL, err, sizeof(err)),
	    -1);
	assert_int_equal(check(0601, 0, getegid(), NULL, err, sizeof(err)),
	    -1);
	/* The group may never write (nor execute). */
	assert_int_equal(check(0660, 0, getegid(), NULL, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "mode 0660 lets its group write it: chmod "
	    "600 it");
	assert_int_equal(check(0610, 0, getegid(), NULL, err, sizeof(err)),
	    -1);
	/* Group-readable: root-owned and one of our groups (fsGroup). */
	assert_int_equal(check(0640, 0, getegid(), NULL, err, sizeof(err)),
	    0);
	assert_int_equal(check(0440, 0, getegid(), NULL, err, sizeof(err)),
	    0);
	assert_int_equal(check(0640, 0, other, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "which is not a group postern runs "
	    "with: chmod 600 it, or chgrp it to postern's group"));
	assert_int_equal(check(0640, 12345, getegid(), NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "root does not own it"));
	if (getuid() != 0)
		assert_int_equal(check(0640, getuid(), getegid(), NULL, err,
		    sizeof(err)), -1);
	/* Not a file. */
	{
		struct stat	st;

		memset(&st, 0, sizeof(st));
		st.st_mode = S_IFDIR | 0700;
		assert_int_equal(secret_mode_check(&st, NULL, err,
		    sizeof(err)), -1);
		assert_string_equal(err, "not a regular file");
	}
}

/* As root with user =: that user's groups count (it reads them later). */
static void
test_mode_user_groups(void **state)
{
	struct passwd	*pw;
	char		 err[300];
	gid_t		 gid;

	(void)state;
	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	gid = pw->pw_gid;
	if (gid == getgid() || gid == getegid())
		skip();
	assert_int_equal(check(0640, 0, gid, NULL, err, sizeof(err)), -1);
	assert_int_equal(check(0640, 0, gid, "nobody", err, sizeof(err)), 0);
}

static void
test_load(void **state)
{
	char	 dir[128], path[200], err[300], *buf;
	size_t	 len;

	(void)state;
	tmpdir_make(dir, sizeof(dir), "secret");
	snprintf(path, sizeof(path), "%s/s", dir);
	write_file(path, "pass\nword\n");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(secret_load(path, 1, NULL, &buf, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(len, 10);
	/* NUL-terminated */
	assert_memory_equal(buf, "pass\nword\n", 11);
	secret_free(buf, len);
	/* The mode of the opened file, when asked. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(secret_load(path, 1, NULL, &buf, &len, err,
	    sizeof(err)), -1);
	assert_null(buf);
	assert_string_equal(err, "mode 0644 lets others read or write it: "
	    "chmod 600 it");
	assert_int_equal(secret_load(path, 0, NULL, &buf, &len, err,
	    sizeof(err)), 0);
	secret_free(buf, len);
	/* Empty, missing, a directory, too large. */
	write_file(path, "");
	assert_int_equal(secret_load(path, 0, NULL, &buf, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	secret_free(buf, len);
	assert_int_equal(secret_load("/nonexistent/x", 0, NULL, &buf, &len,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "No such file or directory");
	assert_int_equal(secret_load(dir, 0, NULL, &buf, &len, err,
	    sizeof(err)), -1);
	assert_int_equal(truncate(path, SECRET_MAX_SIZE + 1), 0);
	assert_int_equal(secret_load(path, 0, NULL, &buf, &len, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 65536 bytes"));
	secret_free(NULL, 0);
	tmpdir_remove(dir);
}

/* The first line, as conf_secret_read gives it (ctl and the config). */
static void
test_first_line(void **state)
{
	char	 dir[128], path[200], err[300], *out = NULL;

	(void)state;
	tmpdir_make(dir, sizeof(dir), "secret");
	snprintf(path, sizeof(path), "%s/s", dir);
	write_file(path, "tok-123\r\nrest\n");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(conf_secret_read(path, 1, &out, err, sizeof(err)),
	    0);
	assert_string_equal(out, "tok-123");
	secret_wipe_str(out);
	write_file(path, "\n");
	assert_int_equal(conf_secret_read(path, 1, &out, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "empty file");
	tmpdir_remove(dir);
}

/*
 * Every secret key: admin_token_file, check_password_file, a tls://
 * route's key= (and its cert= when that holds the key), identity and
 * identity_passphrase_file: each wrong mode reported at its line, all.
 */
static void
test_conf_all_keys(void **state)
{
	static const char *const names[] = {
		"token", "pw", "cert", "key", "certkey", "id", "pass"
	};
	char		 dir[128], p[7][200], text[2048], want[7][400];
	struct conf	*c;
	size_t		 i;

	(void)state;
	tmpdir_make(dir, sizeof(dir), "secret");
	for (i = 0; i < 7; i++) {
		snprintf(p[i], sizeof(p[i]), "%s/%s", dir, names[i]);
		write_file(p[i], "0123456789abcdef0123\n");
		assert_int_equal(chmod(p[i], 0600), 0);
	}
	snprintf(text, sizeof(text),
	    "[postern]\n"
	    "admin = 9090\n"
	    "admin_token_file = %s\n"			/* 3 */
	    "\n"
	    "[service s]\n"
	    "listen = 7000\n"
	    "protocol = postgres\n"
	    "route = t tls://127.0.0.1:5433 cert=%s key=%s\n"	/* 8 */
	    "route = u tls://127.0.0.1:5434 cert=%s\n"	/* 9 */
	    "route = b ssh://b/127.0.0.1:5432\n"
	    "check_user = chk\n"
	    "check_password_file = %s\n"		/* 12 */
	    "\n"
	    "[bastion b]\n"
	    "address = 127.0.0.1:22\n"
	    "user = u\n"
	    "identity = %s\n"				/* 17 */
	    "identity_passphrase_file = %s\n",		/* 18 */
	    p[0], p[2], p[3], p[4], p[1], p[5], p[6]);
	c = parse_ok_buf(text, strlen(text), CONF_CHECK_FILES);
	conf_unref(c);
	/* A certificate may be world-readable when the key is elsewhere. */
	assert_int_equal(chmod(p[2], 0644), 0);
	conf_unref(parse_ok_buf(text, strlen(text), CONF_CHECK_FILES));
	for (i = 0; i < 7; i++) {
		if (i != 2)
			assert_int_equal(chmod(p[i], 0644), 0);
	}
	snprintf(want[0], sizeof(want[0]), "t.conf:3: admin_token_file %s: "
	    "mode 0644 lets others read or write it: chmod 600 it", p[0]);
	snprintf(want[1], sizeof(want[1]), "t.conf:8: route 't': key %s: "
	    "mode 0644 lets others read or write it: chmod 600 it", p[3]);
	snprintf(want[2], sizeof(want[2]), "t.conf:9: route 'u': cert %s "
	    "(without key=, it holds the key): mode 0644 lets others read "
	    "or write it: chmod 600 it", p[4]);
	snprintf(want[3], sizeof(want[3]), "t.conf:12: check_password_file "
	    "%s: mode 0644 lets others read or write it: chmod 600 it", p[1]);
	snprintf(want[4], sizeof(want[4]), "t.conf:17: identity %s: mode "
	    "0644 lets others read or write it: chmod 600 it", p[5]);
	snprintf(want[5], sizeof(want[5]), "t.conf:18: "
	    "identity_passphrase_file %s: mode 0644 lets others read or "
	    "write it: chmod 600 it", p[6]);
	EXPECT_ERRORS(text, CONF_CHECK_FILES, want[0], want[3], want[4],
	    want[5], want[1], want[2]);
	tmpdir_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_rule),
		cmocka_unit_test(test_mode_user_groups),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_conf_all_keys),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
