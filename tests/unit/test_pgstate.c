/*
 * test_pgstate.c: what a resume replays (pg_state.c), over two sessions
 * captured between psycopg 3.1 and PostgreSQL 15 (a SCRAM login; SETs by
 * the extended and the simple protocol; psycopg's prepared statements;
 * a SET rolled back, an error, SET LOCAL, RESET, DEALLOCATE; and a
 * temporary table), fed as captured, split at every byte of every read,
 * and one byte at a time: the state must be the same.  And the SCRAM
 * pass-through: the client's ClientKey from its captured login and the
 * StoredKey pg_authid held for its password.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <openssl/evp.h>

#include "pg_track.h"
#include "pg_state.h"
#include "scram.h"

struct chunk {
	int		 server;
	size_t		 len;
	const char	*data;
};

/* Captured after the StartupMessage (tests/unit, issue 21). */
static const struct chunk session[] = {
	{ 1, 24,
"R\000\000\000\027\000\000\000\012SCRAM-SHA-256\000\000" },
	{ 0, 55,
"p\000\000\0006SCRAM-SHA-256\000\000\000\000 n,,n=,r=6xrn6gJcuYKuZA"
"CyjmUTkTwS" },
	{ 1, 93,
"R\000\000\000\134\000\000\000\013r=6xrn6gJcuYKuZACyjmUTkTwSnrsI+up"
"9qWsX/4F+6kWvERFd,s=q0paWHTq/PsTmEi81OFiSg==,i=4096" },
	{ 0, 109,
"p\000\000\000lc=biws,r=6xrn6gJcuYKuZACyjmUTkTwSnrsI+up9qWsX/4F+6kW"
"vERFd,p=kRtIxoK63a4rEf8voUG/Ht1UL78fyGRdP42pLYkSRZ0=" },
	{ 1, 461,
"R\000\000\0006\000\000\000\014v=iG79VEdrQ4r6vkZ+1bNgZECot+kfZWUqAj"
"duqQBAo7w=R\000\000\000\010\000\000\000\000S\000\000\000\026applic"
"ation_name\000\000S\000\000\000\031client_encoding\000UTF8\000S\000"
"\000\000\027DateStyle\000ISO, MDY\000S\000\000\000&default_transac"
"tion_read_only\000off\000S\000\000\000\027in_hot_standby\000off\000"
"S\000\000\000\031integer_datetimes\000on\000S\000\000\000\033Inter"
"valStyle\000postgres\000S\000\000\000\025is_superuser\000off\000S\000"
"\000\000\031server_encoding\000UTF8\000S\000\000\0002server_versio"
"n\00015.18 (Debian 15.18-0+deb12u1)\000S\000\000\000\036session_au"
"thorization\000app\000S\000\000\000#standard_conforming_strings\000"
"on\000S\000\000\000\025TimeZone\000Etc/UTC\000K\000\000\000\014\000"
"\000i\034\216A8nZ\000\000\000\005I" },
	{ 0, 26,
"Q\000\000\000\031SET work_mem = '7MB'\000" },
	{ 1, 15,
"C\000\000\000\010SET\000Z\000\000\000\005I" },
	{ 0, 26,
"Q\000\000\000\031SET TimeZone = 'UTC'\000" },
	{ 1, 33,
"C\000\000\000\010SET\000S\000\000\000\021TimeZone\000UTC\000Z\000\000"
"\000\005I" },
	{ 0, 72,
"P\000\000\000\032\000SELECT $1::int\000\000\001\000\000\000\025B\000"
"\000\000\026\000\000\000\001\000\001\000\001\000\000\000\002\000\000"
"\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000"
"\000\000S\000\000\000\004" },
	{ 1, 72,
"1\000\000\000\0042\000\000\000\004T\000\000\000\035\000\001int4\000"
"\000\000\000\000\000\000\000\000\000\027\000\004\377\377\377\377\000"
"\000D\000\000\000\013\000\001\000\000\000\0010C\000\000\000\015SEL"
"ECT 1\000Z\000\000\000\005I" },
	{ 0, 72,
"P\000\000\000\032\000SELECT $1::int\000\000\001\000\000\000\025B\000"
"\000\000\026\000\000\000\001\000\001\000\001\000\000\000\002\000\001"
"\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000"
"\000\000S\000\000\000\004" },
	{ 1, 72,
"1\000\000\000\0042\000\000\000\004T\000\000\000\035\000\001int4\000"
"\000\000\000\000\000\000\000\000\000\027\000\004\377\377\377\377\000"
"\000D\000\000\000\013\000\001\000\000\000\0011C\000\000\000\015SEL"
"ECT 1\000Z\000\000\000\005I" },
	{ 0, 72,
"P\000\000\000\032\000SELECT $1::int\000\000\001\000\000\000\025B\000"
"\000\000\026\000\000\000\001\000\001\000\001\000\000\000\002\000\002"
"\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000"
"\000\000S\000\000\000\004" },
	{ 1, 72,
"1\000\000\000\0042\000\000\000\004T\000\000\000\035\000\001int4\000"
"\000\000\000\000\000\000\000\000\000\027\000\004\377\377\377\377\000"
"\000D\000\000\000\013\000\001\000\000\000\0012C\000\000\000\015SEL"
"ECT 1\000Z\000\000\000\005I" },
	{ 0, 72,
"P\000\000\000\032\000SELECT $1::int\000\000\001\000\000\000\025B\000"
"\000\000\026\000\000\000\001\000\001\000\001\000\000\000\002\000\003"
"\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000"
"\000\000S\000\000\000\004" },
	{ 1, 72,
"1\000\000\000\0042\000\000\000\004T\000\000\000\035\000\001int4\000"
"\000\000\000\000\000\000\000\000\000\027\000\004\377\377\377\377\000"
"\000D\000\000\000\013\000\001\000\000\000\0013C\000\000\000\015SEL"
"ECT 1\000Z\000\000\000\005I" },
	{ 0, 72,
"P\000\000\000\032\000SELECT $1::int\000\000\001\000\000\000\025B\000"
"\000\000\026\000\000\000\001\000\001\000\001\000\000\000\002\000\004"
"\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000"
"\000\000S\000\000\000\004" },
	{ 1, 72,
"1\000\000\000\0042\000\000\000\004T\000\000\000\035\000\001int4\000"
"\000\000\000\000\000\000\000\000\000\027\000\004\377\377\377\377\000"
"\000D\000\000\000\013\000\001\000\000\000\0014C\000\000\000\015SEL"
"ECT 1\000Z\000\000\000\005I" },
	{ 0, 38,
"P\000\000\000 _pg3_0\000SELECT $1::int\000\000\001\000\000\000\025"
"S\000\000\000\004" },
	{ 1, 11,
"1\000\000\000\004Z\000\000\000\005I" },
	{ 0, 51,
"B\000\000\000\034\000_pg3_0\000\000\001\000\001\000\001\000\000\000"
"\002\000\005\000\001\000\000D\000\000\000\006P\000E\000\000\000\011"
"\000\000\000\000\000S\000\000\000\004" },
	{ 1, 67,
"2\000\000\000\004T\000\000\000\035\000\001int4\000\000\000\000\000"
"\000\000\000\000\000\027\000\004\377\377\377\377\000\000D\000\000\000"
"\013\000\001\000\000\000\0015C\000\000\000\015SELECT 1\000Z\000\000"
"\000\005I" },
	{ 0, 51,
"B\000\000\000\034\000_pg3_0\000\000\001\000\001\000\001\000\000\000"
"\002\000\006\000\001\000\000D\000\000\000\006P\000E\000\000\000\011"
"\000\000\000\000\000S\000\000\000\004" },
	{ 1, 67,
"2\000\000\000\004T\000\000\000\035\000\001int4\000\000\000\000\000"
"\000\000\000\000\000\027\000\004\377\377\377\377\000\000D\000\000\000"
"\013\000\001\000\000\000\0016C\000\000\000\015SELECT 1\000Z\000\000"
"\000\005I" },
	{ 0, 28,
"P\000\000\000\026_pg3_1\000SELECT 2\000\000\000S\000\000\000\004" },
	{ 1, 11,
"1\000\000\000\004Z\000\000\000\005I" },
	{ 0, 43,
"B\000\000\000\024\000_pg3_1\000\000\000\000\000\000\001\000\000D\000"
"\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000"
"\004" },
	{ 1, 71,
"2\000\000\000\004T\000\000\000!\000\001\077column\077\000\000\000\000"
"\000\000\000\000\000\000\027\000\004\377\377\377\377\000\000D\000\000"
"\000\013\000\001\000\000\000\0012C\000\000\000\015SELECT 1\000Z\000"
"\000\000\005I" },
	{ 0, 34,
"Q\000\000\000!SET statement_timeout = 5000\000" },
	{ 1, 15,
"C\000\000\000\010SET\000Z\000\000\000\005I" },
	{ 0, 11,
"Q\000\000\000\012BEGIN\000" },
	{ 1, 17,
"C\000\000\000\012BEGIN\000Z\000\000\000\005T" },
	{ 0, 26,
"Q\000\000\000\031SET work_mem = '9MB'\000" },
	{ 1, 15,
"C\000\000\000\010SET\000Z\000\000\000\005T" },
	{ 0, 14,
"Q\000\000\000\015ROLLBACK\000" },
	{ 1, 20,
"C\000\000\000\015ROLLBACK\000Z\000\000\000\005I" },
	{ 0, 22,
"Q\000\000\000\025SELECT nosuchcol\000" },
	{ 1, 109,
"E\000\000\000lSERROR\000VERROR\000C42703\000Mcolumn \042nosuchcol\042"
" does not exist\000P8\000Fparse_relation.c\000L3665\000RerrorMissi"
"ngColumn\000\000" },
	{ 1, 6,
"Z\000\000\000\005I" },
	{ 0, 32,
"Q\000\000\000\037SET LOCAL work_mem = '3MB'\000" },
	{ 1, 118,
"N\000\000\000uSWARNING\000VWARNING\000C25P01\000MSET LOCAL can onl"
"y be used in transaction blocks\000Fxact.c\000L3587\000RCheckTrans"
"actionBlock\000\000" },
	{ 1, 15,
"C\000\000\000\010SET\000Z\000\000\000\005I" },
	{ 0, 29,
"Q\000\000\000\034RESET statement_timeout\000" },
	{ 1, 17,
"C\000\000\000\012RESET\000Z\000\000\000\005I" },
	{ 0, 23,
"Q\000\000\000\026DEALLOCATE _pg3_1\000" },
	{ 1, 22,
"C\000\000\000\017DEALLOCATE\000Z\000\000\000\005I" },
	{ 0, 51,
"B\000\000\000\034\000_pg3_0\000\000\001\000\001\000\001\000\000\000"
"\002\000\001\000\001\000\000D\000\000\000\006P\000E\000\000\000\011"
"\000\000\000\000\000S\000\000\000\004" },
	{ 1, 67,
"2\000\000\000\004T\000\000\000\035\000\001int4\000\000\000\000\000"
"\000\000\000\000\000\027\000\004\377\377\377\377\000\000D\000\000\000"
"\013\000\001\000\000\000\0011C\000\000\000\015SELECT 1\000Z\000\000"
"\000\005I" },
	{ 0, 5,
"X\000\000\000\004" },
};

static const struct chunk temp[] = {
	{ 1, 24,
"R\000\000\000\027\000\000\000\012SCRAM-SHA-256\000\000" },
	{ 0, 55,
"p\000\000\0006SCRAM-SHA-256\000\000\000\000 n,,n=,r=MilLxG+fibn2GQ"
"Zgf5DfPRva" },
	{ 1, 93,
"R\000\000\000\134\000\000\000\013r=MilLxG+fibn2GQZgf5DfPRvaDMeqhZv"
"1UClWnfc38xwgR3r/,s=q0paWHTq/PsTmEi81OFiSg==,i=4096" },
	{ 0, 109,
"p\000\000\000lc=biws,r=MilLxG+fibn2GQZgf5DfPRvaDMeqhZv1UClWnfc38xw"
"gR3r/,p=gQdi6FXEjXG/GYyhVb6aifVyM9Uceyo+Y5d6/p2geuA=" },
	{ 1, 461,
"R\000\000\0006\000\000\000\014v=sqy86guwBBQrrpYfep3GWDnmBwDWvmt6E6"
"gB64nPd5A=R\000\000\000\010\000\000\000\000S\000\000\000\026applic"
"ation_name\000\000S\000\000\000\031client_encoding\000UTF8\000S\000"
"\000\000\027DateStyle\000ISO, MDY\000S\000\000\000&default_transac"
"tion_read_only\000off\000S\000\000\000\027in_hot_standby\000off\000"
"S\000\000\000\031integer_datetimes\000on\000S\000\000\000\033Inter"
"valStyle\000postgres\000S\000\000\000\025is_superuser\000off\000S\000"
"\000\000\031server_encoding\000UTF8\000S\000\000\0002server_versio"
"n\00015.18 (Debian 15.18-0+deb12u1)\000S\000\000\000\036session_au"
"thorization\000app\000S\000\000\000#standard_conforming_strings\000"
"on\000S\000\000\000\025TimeZone\000Etc/UTC\000K\000\000\000\014\000"
"\000jUP\242z\370Z\000\000\000\005I" },
	{ 0, 39,
"Q\000\000\000&CREATE TEMP TABLE scratch (a int)\000" },
	{ 1, 24,
"C\000\000\000\021CREATE TABLE\000Z\000\000\000\005I" },
	{ 0, 5,
"X\000\000\000\004" },
};

/* pg_authid's secret for app (password "pencil") in that cluster. */
#define STORED	"AnwRbqP/XkzYfKH6ZmwKZ8U+MPdoAE8Lx9BDBJZpDrk="

#define N(a)	(sizeof(a) / sizeof((a)[0]))

struct fed {
	struct pg_track	t;
	struct pg_state	st;
};

/* Feed the chunks in order, each cut at cut (0: whole; 1: bytewise). */
static void
feed(struct fed *f, const struct chunk *c, size_t n, size_t cut, int bytes)
{
	size_t	i, j, k;

	pg_track_init(&f->t);
	pg_state_init(&f->st);
	f->t.st = &f->st;
	for (i = 0; i < n; i++) {
		const uint8_t	*p = (const uint8_t *)c[i].data;

		for (j = 0; j < c[i].len; j += k) {
			k = bytes ? 1 : (j == 0 && cut > 0 && cut < c[i].len) ?
			    cut : c[i].len - j;
			if (c[i].server)
				pg_track_server(&f->t, p + j, k);
			else
				pg_track_client(&f->t, p + j, k);
		}
	}
}

/* The replay and the state, as text, to compare. */
static void
summary(struct fed *f, char *out, size_t len)
{
	struct evbuffer	*b = evbuffer_new();
	char		 names[96];
	size_t		 n, i, o;
	unsigned char	*p;
	int		 nz;

	assert_non_null(b);
	nz = pg_state_replay(&f->st, b, names, sizeof(names));
	n = evbuffer_get_length(b);
	p = evbuffer_pullup(b, -1);
	o = (size_t)snprintf(out, len, "%d %s why=%s login=%d tz=%s |", nz,
	    names, pg_state_why(&f->st) ? pg_state_why(&f->st) : "-",
	    f->st.login, pg_state_param(&f->st, 4) ? pg_state_param(&f->st,
	    4) : "-");
	for (i = 0; i < n && o + 4 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%c",
		    p[i] >= 32 && p[i] < 127 ? p[i] : '.');
	evbuffer_free(b);
}

static void
test_session(void **state)
{
	struct fed	f;
	char		want[4096], got[4096];
	size_t		cut;

	(void)state;
	feed(&f, session, N(session), 0, 0);
	summary(&f, want, sizeof(want));
	/* Replayed in order: the committed SETs, the prepared statement
	 * psycopg still uses; not the one DEALLOCATEd, not the SET rolled
	 * back, not SET LOCAL. */
	assert_null(pg_state_why(&f.st));
	assert_int_equal(f.st.login, PG_STATE_LOGIN_SCRAM);
	assert_string_equal(pg_state_param(&f.st, 4), "UTC");
	assert_non_null(strstr(want, "5 4 SET, 1 prepared statement why=- "));
	assert_non_null(strstr(want, "SET work_mem = '7MB'"));
	assert_non_null(strstr(want, "SET TimeZone = 'UTC'"));
	assert_non_null(strstr(want, "_pg3_0.SELECT $1::int"));
	assert_non_null(strstr(want, "SET statement_timeout = 5000"));
	assert_null(strstr(want, "9MB"));
	assert_null(strstr(want, "3MB"));
	assert_null(strstr(want, "_pg3_1"));
	/* "RESET statement_timeout" is replayed after the SET. */
	assert_true(strstr(want, "RESET statement_timeout") >
	    strstr(want, "SET statement_timeout = 5000"));
	pg_state_free(&f.st);
	for (cut = 1; cut < 600; cut++) {
		feed(&f, session, N(session), cut, 0);
		summary(&f, got, sizeof(got));
		assert_string_equal(want, got);
		pg_state_free(&f.st);
	}
	feed(&f, session, N(session), 0, 1);
	summary(&f, got, sizeof(got));
	assert_string_equal(want, got);
	pg_state_free(&f.st);
}

static void
test_temp(void **state)
{
	struct fed	f;
	char		want[4096], got[4096];
	size_t		cut;

	(void)state;
	feed(&f, temp, N(temp), 0, 0);
	assert_non_null(pg_state_why(&f.st));
	assert_non_null(strstr(pg_state_why(&f.st), "TEMP"));
	summary(&f, want, sizeof(want));
	pg_state_free(&f.st);
	for (cut = 1; cut < 200; cut++) {
		feed(&f, temp, N(temp), cut, 0);
		summary(&f, got, sizeof(got));
		assert_string_equal(want, got);
		pg_state_free(&f.st);
	}
	feed(&f, temp, N(temp), 0, 1);
	summary(&f, got, sizeof(got));
	assert_string_equal(want, got);
	pg_state_free(&f.st);
}

/*
 * A DO block: a SET in its body is the session's (PostgreSQL keeps a
 * plpgsql SET past the block), which its tag "DO" does not tell; the
 * session is not resumable from then on, however the bytes are cut.
 */
static void
test_do_block(void **state)
{
	static const char	 q[] = "Q\0\0\0\053DO $$BEGIN SET work_mem = '9MB'; "
	    "END$$\0";
	static const char	 r[] = "C\0\0\0\007DO\0Z\0\0\0\005I";
	struct fed		 f;
	size_t			 cut;

	(void)state;
	for (cut = 0; cut < sizeof(q) - 1; cut++) {
		feed(&f, session, N(session), 0, 0);
		assert_null(pg_state_why(&f.st));
		pg_track_client(&f.t, (const uint8_t *)q, cut);
		pg_track_client(&f.t, (const uint8_t *)q + cut,
		    sizeof(q) - 1 - cut);
		pg_track_server(&f.t, (const uint8_t *)r, cut % (sizeof(r) - 1));
		pg_track_server(&f.t, (const uint8_t *)r + cut % (sizeof(r) - 1),
		    sizeof(r) - 1 - cut % (sizeof(r) - 1));
		assert_non_null(pg_state_why(&f.st));
		assert_non_null(strstr(pg_state_why(&f.st), "a DO block"));
		pg_state_free(&f.st);
	}
}

/*
 * RESET ALL leaves the role and the session authorization as they are
 * (PostgreSQL's GUC_NO_RESET_ALL): after SET ROLE, SET SESSION
 * AUTHORIZATION, a SET and RESET ALL, the replay still has both, in
 * order, and neither SET (the captured session's work_mem, this one).
 */
static void
test_reset_all_role(void **state)
{
	static const struct chunk more[] = {
		{ 0, 17, "Q\0\0\0\020SET ROLE r1\0" },
		{ 1, 15, "C\0\0\0\010SET\0Z\0\0\0\005I" },
		{ 0, 34, "Q\0\0\0\041SET SESSION AUTHORIZATION r1\0" },
		{ 1, 15, "C\0\0\0\010SET\0Z\0\0\0\005I" },
		{ 0, 26, "Q\0\0\0\031SET work_mem = '1MB'\0" },
		{ 1, 15, "C\0\0\0\010SET\0Z\0\0\0\005I" },
		{ 0, 15, "Q\0\0\0\016RESET ALL\0" },
		{ 1, 17, "C\0\0\0\012RESET\0Z\0\0\0\005I" },
	};
	struct chunk	 all[N(session) + N(more)];
	struct fed	 f;
	char		 got[4096];

	(void)state;
	memcpy(all, session, sizeof(session));
	memcpy(all + N(session), more, sizeof(more));
	feed(&f, all, N(all), 0, 0);
	summary(&f, got, sizeof(got));
	assert_null(pg_state_why(&f.st));
	assert_non_null(strstr(got, "SET ROLE r1"));
	assert_true(strstr(got, "SET SESSION AUTHORIZATION r1") >
	    strstr(got, "SET ROLE r1"));
	assert_null(strstr(got, "work_mem"));
	assert_null(strstr(got, "TimeZone"));
	pg_state_free(&f.st);
	feed(&f, all, N(all), 0, 1);
	summary(&f, got, sizeof(got));
	assert_non_null(strstr(got, "SET SESSION AUTHORIZATION r1"));
	assert_null(strstr(got, "work_mem"));
	pg_state_free(&f.st);
}

/* SCRAM pass-through over the captured login. */
static void
test_client_key(void **state)
{
	struct fed	 f;
	unsigned char	 stored[48], ckey[32];

	(void)state;
	assert_int_equal(EVP_DecodeBlock(stored, (const unsigned char *)STORED,
	    (int)strlen(STORED)), 33);
	feed(&f, session, N(session), 0, 0);
	assert_int_equal(scram_client_key(stored, f.st.scram[0],
	    f.st.scram_len[0], f.st.scram[1], f.st.scram_len[1],
	    f.st.scram[2], f.st.scram_len[2], ckey), 0);
	stored[5] ^= 1;
	assert_int_equal(scram_client_key(stored, f.st.scram[0],
	    f.st.scram_len[0], f.st.scram[1], f.st.scram_len[1],
	    f.st.scram[2], f.st.scram_len[2], ckey), -1);
	pg_state_free(&f.st);
}

/*
 * An empty CommandComplete (and Sync) read in pieces: no body bytes, no
 * buffer yet (a regression: memcpy from NULL, found by fuzz_pg_track).
 */
static void
test_empty_bodies(void **state)
{
	static const char	 srv[] = "C\0\0\0\4Z\0\0\0\5I";
	static const char	 cli[] = "S\0\0\0\4";
	struct pg_track		 t;
	struct pg_state		 st;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(srv) - 1; i++) {
		pg_track_init(&t);
		pg_state_init(&st);
		t.st = &st;
		pg_track_client(&t, (const uint8_t *)cli, 2);
		pg_track_client(&t, (const uint8_t *)cli + 2, 3);
		pg_track_server(&t, (const uint8_t *)srv, i);
		pg_track_server(&t, (const uint8_t *)srv + i,
		    sizeof(srv) - 1 - i);
		assert_int_equal(st.nops, 0);
		assert_int_equal(st.ready, 1);
		pg_state_free(&st);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_temp),
		cmocka_unit_test(test_do_block),
		cmocka_unit_test(test_reset_all_role),
		cmocka_unit_test(test_client_key),
		cmocka_unit_test(test_empty_bodies),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
