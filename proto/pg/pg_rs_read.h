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
struct pgauth;

#define PGRS_MAX_MESSAGE	65536

enum pgrs_status {
	PGRS_MORE,		/* read on (and send what out holds) */
	PGRS_READY,		/* logged in, replayed, parameters match */
	PGRS_FAIL		/* pgrs.error says why */
};

enum pgrs_phase {
	PGRS_AUTH,		/* Authentication requests */
	PGRS_STARTUP,		/* ParameterStatus, BackendKeyData, 'Z' */
	PGRS_REPLAY,		/* the replies to the replay */
	PGRS_DONE		/* ready or failed */
};

/* A cancel key: 4 bytes in protocol 3.0, 4 to 256 from 3.2 on. */
#define PGRS_KEY_MIN	4
#define PGRS_KEY_MAX	256

struct pgrs {
	enum pgrs_phase	 phase;
	struct pgauth	*auth;		/* owned */
	struct evbuffer	*replay;	/* owned: sent at the first 'Z' */
	int		 nz;		/* ReadyForQuery the replay is owed */
	uint8_t		 hdr[5];
	size_t		 hlen;
	uint32_t	 left;
	uint8_t		*buf;
	size_t		 blen;
	char		 want[PGSTATE_NPARAMS][PGSTATE_VALUE_MAX];
	uint8_t		 wanted[PGSTATE_NPARAMS];
	char		 param[PGSTATE_NPARAMS][PGSTATE_VALUE_MAX];
	uint8_t		 have[PGSTATE_NPARAMS];
	uint32_t	 pid;
	uint8_t		 key[PGRS_KEY_MAX];	/* BackendKeyData's, whole */
	size_t		 keylen;		/* 0: none */
	char		 error[256];
};

/*
 * pgrs_init(r, auth, replay, nz, st): a reader that logs in with auth
 * (taken), then sends replay (its content taken) expecting nz
 * ReadyForQuery, and compares the parameters st recorded.  -1 when out
 * of memory (auth freed all the same).
 */
int	pgrs_init(struct pgrs *r, struct pgauth *auth, struct evbuffer *replay,
	    int nz, const struct pgstate *st);

/* pgrs_feed(r, p, n, out): bytes from the server; enum pgrs_status. */
int	pgrs_feed(struct pgrs *r, const uint8_t *p, size_t n,
	    struct evbuffer *out);

/* pgrs_clear(r): wipe and free what r holds. */
void	pgrs_clear(struct pgrs *r);

#endif
