/*
 * pg_rs_read.h: the reader of a resume's handshake with the new server
 * (pgresume.h): authentication (pg_auth.h, answered with the session's
 * auth_file secret), the startup's ParameterStatus and BackendKeyData,
 * then the replies to the replayed state, and at the end the check that
 * the parameters the client saw are the same here.  Untrusted bytes, in
 * any pieces; no I/O: what to send goes to an evbuffer
 * (tests/fuzz/fuzz_pgrs_read.c).
 */
#ifndef POSTERN_PGRS_READ_H
#define POSTERN_PGRS_READ_H

#include <stddef.h>
#include <stdint.h>

#include "pg_state.h"

struct evbuffer;
struct pg_auth;

#define PG_RS_MAX_MESSAGE	65536

enum pg_rs_status {
	PG_RS_MORE,		/* read on (and send what out holds) */
	PG_RS_READY,		/* logged in, replayed, parameters match */
	PG_RS_FAIL		/* its error says why */
};

enum pg_rs_phase {
	PG_RS_AUTH,		/* Authentication requests */
	PG_RS_STARTUP,		/* ParameterStatus, BackendKeyData, 'Z' */
	PG_RS_REPLAY,		/* the replies to the replay */
	PG_RS_DONE		/* ready or failed */
};

/* A cancel key: 4 bytes in protocol 3.0, 4 to 256 from 3.2 on. */
#define PG_RS_KEY_MIN	4
#define PG_RS_KEY_MAX	256

struct pg_rs {
	enum pg_rs_phase	 phase;
	struct pg_auth	*auth;		/* owned */
	struct evbuffer	*replay;	/* owned: sent at the first 'Z' */
	int		 nz;		/* ReadyForQuery the replay is owed */
	uint8_t		 hdr[5];
	size_t		 hlen;
	uint32_t	 left;
	uint8_t		*buf;
	size_t		 blen;
	char		 want[PG_STATE_NPARAMS][PG_STATE_VALUE_MAX];
	uint8_t		 wanted[PG_STATE_NPARAMS];
	char		 param[PG_STATE_NPARAMS][PG_STATE_VALUE_MAX];
	uint8_t		 have[PG_STATE_NPARAMS];
	uint32_t	 pid;
	uint8_t		 key[PG_RS_KEY_MAX];	/* BackendKeyData's, whole */
	size_t		 keylen;		/* 0: none */
	char		 error[256];
};

/*
 * pg_rs_init(r, auth, replay, nz, st): a reader that logs in with auth
 * (taken), then sends replay (its content taken) expecting nz
 * ReadyForQuery, and compares the parameters st recorded.  -1 when out
 * of memory (auth freed all the same).
 */
int	pg_rs_init(struct pg_rs *r, struct pg_auth *auth, struct evbuffer *replay,
	    int nz, const struct pg_state *st);

/* pg_rs_feed(r, p, n, out): bytes from the server; enum pg_rs_status. */
int	pg_rs_feed(struct pg_rs *r, const uint8_t *p, size_t n,
	    struct evbuffer *out);

/* pg_rs_clear(r): wipe and free what r holds. */
void	pg_rs_clear(struct pg_rs *r);

#endif
