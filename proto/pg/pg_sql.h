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

enum pgsql_stmt {
	PGSQL_OTHER,
	PGSQL_SET,		/* SET, SET SESSION */
	PGSQL_SET_LOCAL,	/* SET LOCAL, SET TRANSACTION: no state */
	PGSQL_RESET,
	PGSQL_RESET_ALL,
	PGSQL_DEALLOCATE,
	PGSQL_STATE		/* DISCARD, PREPARE, LISTEN...: not alone */
};

/* The keyword scan's state across the pieces of one message. */
struct pgsql_scan {
	char	 word[24];
	size_t	 wlen;
};

/*
 * pgsql_scan(sc, p, n): the next n bytes of a query (sc zeroed at its
 * start).  Returns why the session cannot be resumed when a word says
 * so, else NULL.  pgsql_scan_end(sc): the message ended (its last word).
 */
const char *pgsql_scan(struct pgsql_scan *sc, const uint8_t *p, size_t n);
const char *pgsql_scan_end(struct pgsql_scan *sc);

/* pgsql_classify(p, n): what a statement's first words make it. */
enum pgsql_stmt pgsql_classify(const uint8_t *p, size_t n);

/* pgsql_single(p, n): one statement only (no ';' but trailing ones). */
int	pgsql_single(const uint8_t *p, size_t n);

/*
 * pgsql_deallocate_name(p, n, name, max): the statement DEALLOCATE
 * [PREPARE] names, as the server folds it.  0, or -1 when unreadable.
 */
int	pgsql_deallocate_name(const char *p, size_t n, char *name, size_t max);

#endif
