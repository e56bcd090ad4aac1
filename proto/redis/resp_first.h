/*
 * resp_first.h: the name of the first command a Redis client sends, read
 * from its first bytes, so that a session knows whether its server must
 * answer promptly (a GET must; a BLPOP may wait for ever).
 */
#ifndef POSTERN_RESP_FIRST_H
#define POSTERN_RESP_FIRST_H

#include <stddef.h>
#include <stdint.h>

/* Longest command name kept, with its NUL. */
#define RESP_FIRST_NAME_MAX	32

enum resp_first_status {
	RESP_FIRST_MORE,		/* not enough bytes yet */
	RESP_FIRST_NAME,		/* name holds the command, upper case */
	RESP_FIRST_BAD		/* not a command we can name */
};

/*
 * resp_first_name(buf, len, name): parse the start of a client's stream,
 * RESP ("*2\r\n$3\r\nGET\r\n...") or inline ("PING\r\n"), up to the
 * command's name.  name has RESP_FIRST_NAME_MAX bytes.  Reads nothing
 * past len; never allocates.
 */
enum resp_first_status resp_first_name(const uint8_t *buf, size_t len,
	    char *name);

/*
 * resp_first_prompt(name): does the server answer this command at once?
 * Not for the blocking ones (BLPOP, XREAD ... BLOCK, WAIT), those whose
 * reply may legitimately take long (scripts, DEBUG, replication) or
 * never come (CLIENT REPLY OFF).  Unknown names: yes.
 */
int	resp_first_prompt(const char *name);

#endif
