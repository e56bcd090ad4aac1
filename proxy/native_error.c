/*
 * native_error.c: protocol-native error replies.
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "conf.h"
#include "native_error.h"

/* Keep a peer's parser safe: no CR/LF in a RESP line, no NUL in PG. */
static void
native_clean(char *dst, size_t len, const char *src)
{
	size_t	i;

	for (i = 0; src[i] != '\0' && i + 1 < len; i++)
		dst[i] = (src[i] == '\r' || src[i] == '\n') ? ' ' : src[i];
	dst[i] = '\0';
}

/* A FATAL ErrorResponse with SQLSTATE code: 'E', length, S V C M, end. */
static void
native_pg_fatal(const char *code, const char *clean, struct evbuffer *out)
{
	uint32_t	len;

	len = (uint32_t)(4 + 7 + 7 + 7 + 1 + strlen(clean) + 1 + 1);
	len = htonl(len);
	evbuffer_add(out, "E", 1);
	evbuffer_add(out, &len, 4);
	evbuffer_add(out, "SFATAL", 7);
	evbuffer_add(out, "VFATAL", 7);
	evbuffer_add(out, "C", 1);
	evbuffer_add(out, code, 6);
	evbuffer_add(out, "M", 1);
	evbuffer_add(out, clean, strlen(clean) + 1);
	evbuffer_add(out, "", 1);
}

int
native_error(int protocol, const char *text, struct evbuffer *out)
{
	char	clean[1024];

	native_clean(clean, sizeof(clean), text);
	switch (protocol) {
	case PROTO_REDIS:
		evbuffer_add_printf(out, "-ERR %s\r\n", clean);
		return (0);
	case PROTO_POSTGRES:
		native_pg_fatal("08006", clean, out);
		return (0);
	}
	return (-1);
}

int
native_shutdown(int protocol, const char *text, struct evbuffer *out)
{
	char	clean[1024];

	if (protocol != PROTO_POSTGRES)
		return (-1);
	native_clean(clean, sizeof(clean), text);
	native_pg_fatal("57P01", clean, out);
	return (0);
}
