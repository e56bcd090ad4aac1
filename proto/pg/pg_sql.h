/*
 * pg_sql.h: the little of SQL text that a session's resume reads
 * (pg_state.h): the first words of a statement (is it a SET, a RESET, a
 * DEALLOCATE?), whether a query holds one statement, the name a
 * DEALLOCATE names, and a scan of every word of a query for the ones
 * that may make state a replay cannot make again (TEMP, HOLD,
 * pg_advisory_lock...).  Words, not a parser: conservative by design (a
 * keyword in a string literal counts too).  Pure: no allocation.
 */
#ifndef POSTERN_PGSQL_H
#define POSTERN_PGSQL_H

#include <stddef.h>
#include <stdint.h>

enum pg_sql_stmt {
	PG_SQL_OTHER,
	PG_SQL_SET,		/* SET, SET SESSION */
	PG_SQL_SET_LOCAL,	/* SET LOCAL, SET TRANSACTION: no state */
	PG_SQL_RESET,
	PG_SQL_RESET_ALL,
	PG_SQL_DEALLOCATE,
	PG_SQL_STATE		/* DISCARD, PREPARE, LISTEN...: not alone */
};

/* The keyword scan's state across the pieces of one message. */
struct pg_sql_scan {
	char	 word[24];
	size_t	 wlen;
};

/*
 * pg_sql_scan(sc, p, n): the next n bytes of a query (sc zeroed at its
 * start).  Returns why the session cannot be resumed when a word says
 * so, else NULL.  pg_sql_scan_end(sc): the message ended (its last word).
 */
const char *pg_sql_scan(struct pg_sql_scan *sc, const uint8_t *p, size_t n);
const char *pg_sql_scan_end(struct pg_sql_scan *sc);

/* pg_sql_classify(p, n): what a statement's first words make it. */
enum pg_sql_stmt pg_sql_classify(const uint8_t *p, size_t n);

/*
 * pg_sql_role(p, n): a SET or RESET of the role or the session
 * authorization (SET [SESSION] ROLE, SET SESSION AUTHORIZATION, SET
 * role/session_authorization =, their RESETs), which RESET ALL leaves as
 * they are.  1 or 0.
 */
int	pg_sql_role(const uint8_t *p, size_t n);

/* pg_sql_single(p, n): one statement only (no ';' but trailing ones). */
int	pg_sql_single(const uint8_t *p, size_t n);

/*
 * pg_sql_deallocate_name(p, n, name, max): the statement DEALLOCATE
 * [PREPARE] names, as the server folds it.  0, or -1 when unreadable.
 */
int	pg_sql_deallocate_name(const char *p, size_t n, char *name, size_t max);

#endif
