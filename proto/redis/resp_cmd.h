/*
 * resp_cmd.h: the name of the first command a Redis client sends, read
 * from its first bytes, so that a session knows whether its server must
 * answer promptly (a GET must; a BLPOP may wait for ever).
 */
#ifndef POSTERN_REDISCMD_H
#define POSTERN_REDISCMD_H

#include <stddef.h>
#include <stdint.h>

/* Longest command name kept, with its NUL. */
#define REDISCMD_NAME_MAX	32

enum rediscmd_status {
	REDISCMD_MORE,		/* not enough bytes yet */
	REDISCMD_NAME,		/* name holds the command, upper case */
	REDISCMD_BAD		/* not a command we can name */
};

/*
 * rediscmd_name(buf, len, name): parse the start of a client's stream,
 * RESP ("*2\r\n$3\r\nGET\r\n...") or inline ("PING\r\n"), up to the
 * command's name.  name has REDISCMD_NAME_MAX bytes.  Reads nothing
 * past len; never allocates.
 */
enum rediscmd_status rediscmd_name(const uint8_t *buf, size_t len,
	    char *name);

/*
 * rediscmd_prompt(name): does the server answer this command at once?
 * Not for the blocking ones (BLPOP, XREAD ... BLOCK, WAIT), those whose
 * reply may legitimately take long (scripts, DEBUG, replication) or
 * never come (CLIENT REPLY OFF).  Unknown names: yes.
 */
int	rediscmd_prompt(const char *name);

#endif
