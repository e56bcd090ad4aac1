/*
 * native_error.h: the little postern says in its clients' own protocols.
 */
#ifndef POSTERN_NATIVE_ERROR_H
#define POSTERN_NATIVE_ERROR_H

struct evbuffer;

/*
 * native_error(protocol, text, out): append to out the error a client of
 * that protocol understands: a RESP error "-ERR text" for redis, an
 * ErrorResponse (FATAL, SQLSTATE 08006, text) for postgres.  Returns 0,
 * or -1 for plain tcp, which has no error message: the client is closed.
 */
int	native_error(int protocol, const char *text, struct evbuffer *out);

/*
 * native_shutdown(protocol, text, out): what a server going away says:
 * for postgres an ErrorResponse (FATAL, SQLSTATE 57P01 admin_shutdown,
 * text), which pools take for a restart and reconnect.  Returns 0, or -1
 * for a protocol without such a message (nothing appended).
 */
int	native_shutdown(int protocol, const char *text, struct evbuffer *out);

#endif
