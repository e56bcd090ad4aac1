/*
 * scram.c: SCRAM-SHA-256 client (RFC 5802 / RFC 7677) over OpenSSL.
 *
 * The arithmetic, from RFC 5802 section 3:
 *   SaltedPassword  = PBKDF2-HMAC-SHA-256(password, salt, i)
 *   ClientKey       = HMAC(SaltedPassword, "Client Key")
 *   StoredKey       = SHA-256(ClientKey)
 *   AuthMessage     = client-first-bare "," server-first ","
 *                     client-final-without-proof
 *   ClientProof     = ClientKey XOR HMAC(StoredKey, AuthMessage)
 *   ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage)
 * Every intermediate key lives on the stack of one function and is wiped
 * before it returns; only the expected ServerSignature is kept.
 *
 * The password is used as written: SASLprep (RFC 4013) leaves printable
 * ASCII unchanged, and a non-ASCII password that it would normalise is
 * not supported (DESIGN.md, Active checks).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "scram.h"

#define SCRAM_KEY_LEN		SHA256_DIGEST_LENGTH
#define SCRAM_NONCE_RAW		18	/* libpq's SCRAM_RAW_NONCE_LEN */
#define SCRAM_MAX_MESSAGE	4096	/* a server message we parse */

struct scram {
	char			*user;		/* saslname-escaped */
	char			*password;
	struct scram_keys	 keys;		/* password NULL */
	unsigned char		 salt[256];	/* keys.salt points here */
	enum scram_binding	 binding;
	unsigned char		*cbind;
	size_t			 cbind_len;
	int			 max_iterations;
	char			 nonce[64];
	char			*client_first;	/* gs2 header + bare */
	size_t			 bare_off;	/* where the bare part starts */
	char			*client_final;
	unsigned char		 server_sig[SCRAM_KEY_LEN];
	int			 have_sig;
};

static void
scram_wipe_str(char *p)
{
	if (p != NULL) {
		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
}

void
scram_free(struct scram *s)
{
	if (s == NULL)
		return;
	scram_wipe_str(s->password);
	free(s->user);
	free(s->cbind);
	free(s->client_first);
	free(s->client_final);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* base64 of n bytes; NULL when out of memory. */
static char *
scram_b64(const unsigned char *in, size_t n)
{
	char	*out;

	if ((out = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		return (NULL);
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return (out);
}

/*
 * Decode strict base64 (length a multiple of 4, padding only at the end)
 * into out (max bytes); returns the length or -1.
 */
static int
scram_unb64(const char *in, size_t n, unsigned char *out, size_t max)
{
	static const char	 alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i, pad = 0;
	int			 len;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > max)
		return (-1);
	for (i = 0; i < n; i++) {
		if (in[i] == '=' && i >= n - 2)
			pad++;
		else if (in[i] == '\0' || strchr(alphabet, in[i]) == NULL ||
		    pad > 0)
			return (-1);
	}
	len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (len < 0 || (size_t)len < pad)
		return (-1);
	return (len - (int)pad);
}

/* "=" -> "=3D", "," -> "=2C" (RFC 5802 saslname). */
static char *
scram_saslname(const char *user)
{
	char	*out, *o;

	if ((out = malloc(3 * strlen(user) + 1)) == NULL)
		return (NULL);
	for (o = out; *user != '\0'; user++) {
		if (*user == '=' || *user == ',') {
			memcpy(o, *user == '=' ? "=3D" : "=2C", 3);
			o += 3;
		} else
			*o++ = *user;
	}
	*o = '\0';
	return (out);
}

static const char *
scram_gs2(enum scram_binding b)
{
	switch (b) {
	case SCRAM_BIND_UNUSED:
		return ("y,,");
	case SCRAM_BIND_USED:
		return ("p=tls-server-end-point,,");
	case SCRAM_BIND_NONE:
		break;
	}
	return ("n,,");
}

static int
scram_make_nonce(struct scram *s, const char *fixed)
{
	unsigned char	 raw[SCRAM_NONCE_RAW];
	char		*b64;

	if (fixed != NULL) {
		if (strlen(fixed) >= sizeof(s->nonce) || *fixed == '\0' ||
		    strchr(fixed, ',') != NULL)
			return (-1);
		snprintf(s->nonce, sizeof(s->nonce), "%s", fixed);
		return (0);
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return (-1);
	if ((b64 = scram_b64(raw, sizeof(raw))) == NULL)
		return (-1);
	snprintf(s->nonce, sizeof(s->nonce), "%s", b64);
	free(b64);
	return (0);
}

struct scram *
scram_new(const struct scram_params *pp)
{
	struct scram	*s;
	const char	*gs2 = scram_gs2(pp->binding);

	if (pp->binding == SCRAM_BIND_USED && pp->cbind_len == 0)
		return (NULL);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	s->binding = pp->binding;
	s->max_iterations = pp->max_iterations;
	if (pp->keys != NULL) {
		if (pp->keys->salt_len > sizeof(s->salt))
			goto fail;
		s->keys = *pp->keys;
		memcpy(s->salt, pp->keys->salt, pp->keys->salt_len);
		s->keys.salt = s->salt;
	}
	if ((s->user = scram_saslname(pp->user)) == NULL ||
	    (pp->keys == NULL &&
	    (s->password = strdup(pp->password)) == NULL) ||
	    scram_make_nonce(s, pp->nonce) != 0)
		goto fail;
	if (pp->cbind_len > 0) {
		if ((s->cbind = malloc(pp->cbind_len)) == NULL)
			goto fail;
		memcpy(s->cbind, pp->cbind, pp->cbind_len);
		s->cbind_len = pp->cbind_len;
	}
	if (asprintf(&s->client_first, "%sn=%s,r=%s", gs2, s->user,
	    s->nonce) == -1) {
		s->client_first = NULL;
		goto fail;
	}
	s->bare_off = strlen(gs2);
	return (s);
fail:
	scram_free(s);
	return (NULL);
}

const char *
scram_client_first(const struct scram *s)
{
	return (s->client_first);
}

const char *
scram_client_final(const struct scram *s)
{
	return (s->client_final);
}

/* Copy a server's text into err without control characters. */
static void
scram_err(char *err, size_t errlen, const char *what, const char *v,
    size_t n)
{
	size_t	i, j;
	int	k;

	k = snprintf(err, errlen, "%s", what);
	if (k < 0 || (size_t)k >= errlen)
		return;
	for (i = 0, j = (size_t)k; i < n && j + 1 < errlen; i++)
		err[j++] = (v[i] >= 32 && v[i] < 127) ? v[i] : '?';
	err[j] = '\0';
}

/* The server-first attributes, pointing into a NUL-terminated copy. */
struct scram_first {
	const char	*nonce;
	unsigned char	 salt[256];
	int		 salt_len;
	int		 iterations;
};

static int
scram_parse_first(struct scram *s, char *m, struct scram_first *f,
    char *err, size_t errlen)
{
	char	*salt, *iter, *end;
	long	 v;

	if (strncmp(m, "m=", 2) == 0) {
		snprintf(err, errlen, "SCRAM: the server requires an "
		    "extension we do not know");
		return (-1);
	}
	if (strncmp(m, "r=", 2) != 0 || (salt = strstr(m, ",s=")) == NULL ||
	    (iter = strstr(salt + 3, ",i=")) == NULL) {
		snprintf(err, errlen, "SCRAM: malformed server-first-message");
		return (-1);
	}
	*salt = '\0';
	*iter = '\0';
	f->nonce = m + 2;
	if (strncmp(f->nonce, s->nonce, strlen(s->nonce)) != 0 ||
	    strlen(f->nonce) == strlen(s->nonce)) {
		snprintf(err, errlen, "SCRAM: the server's nonce does not "
		    "extend ours");
		return (-1);
	}
	f->salt_len = scram_unb64(salt + 3, strlen(salt + 3), f->salt,
	    sizeof(f->salt));
	if (f->salt_len <= 0) {
		snprintf(err, errlen, "SCRAM: bad salt");
		return (-1);
	}
	iter += 3;
	if ((end = strchr(iter, ',')) != NULL)
		*end = '\0';		/* extensions follow: ignored */
	if (*iter < '1' || *iter > '9' || strlen(iter) > 10 ||
	    (v = strtol(iter, &end, 10)) <= 0 || *end != '\0' ||
	    v > s->max_iterations) {
		snprintf(err, errlen, "SCRAM: iteration count '%.12s' is not "
		    "in 1..%d", iter, s->max_iterations);
		return (-1);
	}
	f->iterations = (int)v;
	return (0);
}

static int
scram_hmac(const unsigned char *key, const void *data, size_t n,
    unsigned char *out)
{
	unsigned int	len = SCRAM_KEY_LEN;

	return (HMAC(EVP_sha256(), key, SCRAM_KEY_LEN, data, n, out, &len) ==
	    NULL ? -1 : 0);
}

/* c=base64(gs2 header [+ certificate hash]); NULL when out of memory. */
static char *
scram_binding_b64(const struct scram *s)
{
	const char	*gs2 = scram_gs2(s->binding);
	unsigned char	*buf;
	size_t		 n = strlen(gs2);
	char		*out;

	if ((buf = malloc(n + s->cbind_len + 1)) == NULL)
		return (NULL);
	memcpy(buf, gs2, n);
	if (s->binding == SCRAM_BIND_USED) {
		memcpy(buf + n, s->cbind, s->cbind_len);
		n += s->cbind_len;
	}
	out = scram_b64(buf, n);
	free(buf);
	return (out);
}

/* The keys and proof for AuthMessage; 0 or -1. */
static int
scram_prove(struct scram *s, const struct scram_first *f, const char *auth,
    const char *without_proof)
{
	unsigned char	 salted[SCRAM_KEY_LEN], ckey[SCRAM_KEY_LEN];
	unsigned char	 stored[SCRAM_KEY_LEN], skey[SCRAM_KEY_LEN];
	unsigned char	 proof[SCRAM_KEY_LEN];
	char		*p64 = NULL;
	size_t		 i;
	int		 rc = -1;

	if (s->password == NULL) {
		/* Keys: made with this salt and count, or useless here. */
		if ((size_t)f->salt_len != s->keys.salt_len ||
		    f->iterations != s->keys.iterations ||
		    CRYPTO_memcmp(f->salt, s->keys.salt, s->keys.salt_len) != 0)
			goto out;
		memcpy(ckey, s->keys.client_key, SCRAM_KEY_LEN);
		memcpy(stored, s->keys.stored_key, SCRAM_KEY_LEN);
		memcpy(skey, s->keys.server_key, SCRAM_KEY_LEN);
	} else if (PKCS5_PBKDF2_HMAC(s->password, (int)strlen(s->password),
	    f->salt, f->salt_len, f->iterations, EVP_sha256(), SCRAM_KEY_LEN,
	    salted) != 1 ||
	    scram_hmac(salted, "Client Key", 10, ckey) != 0 ||
	    SHA256(ckey, SCRAM_KEY_LEN, stored) == NULL ||
	    scram_hmac(salted, "Server Key", 10, skey) != 0)
		goto out;
	if (scram_hmac(stored, auth, strlen(auth), proof) != 0 ||
	    scram_hmac(skey, auth, strlen(auth), s->server_sig) != 0)
		goto out;
	for (i = 0; i < SCRAM_KEY_LEN; i++)
		proof[i] ^= ckey[i];
	if ((p64 = scram_b64(proof, SCRAM_KEY_LEN)) == NULL)
		goto out;
	if (asprintf(&s->client_final, "%s,p=%s", without_proof, p64) == -1) {
		s->client_final = NULL;
		goto out;
	}
	s->have_sig = 1;
	rc = 0;
out:
	free(p64);
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(ckey, sizeof(ckey));
	OPENSSL_cleanse(stored, sizeof(stored));
	OPENSSL_cleanse(skey, sizeof(skey));
	OPENSSL_cleanse(proof, sizeof(proof));
	return (rc);
}

int
scram_server_first(struct scram *s, const char *msg, size_t len, char *err,
    size_t errlen)
{
	struct scram_first	 f;
	char			*m = NULL, *cb = NULL, *without = NULL;
	char			*auth = NULL;
	int			 rc = -1;

	if (s->client_final != NULL || len == 0 || len > SCRAM_MAX_MESSAGE ||
	    memchr(msg, '\0', len) != NULL) {
		snprintf(err, errlen, "SCRAM: unexpected server-first-message");
		return (-1);
	}
	if ((m = strndup(msg, len)) == NULL)
		goto oom;
	if (scram_parse_first(s, m, &f, err, errlen) != 0)
		goto out;
	if ((cb = scram_binding_b64(s)) == NULL ||
	    asprintf(&without, "c=%s,r=%s", cb, f.nonce) == -1) {
		without = NULL;
		goto oom;
	}
	/* AuthMessage quotes the server's message exactly as sent. */
	if (asprintf(&auth, "%s,%.*s,%s", s->client_first + s->bare_off,
	    (int)len, msg, without) == -1) {
		auth = NULL;
		goto oom;
	}
	if (scram_prove(s, &f, auth, without) != 0) {
		if (s->password == NULL)
			snprintf(err, errlen, "SCRAM: the server's salt or "
			    "iteration count differs from the auth_file "
			    "secret's (another password?)");
		else
			snprintf(err, errlen, "SCRAM: out of memory");
		goto out;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "SCRAM: out of memory");
out:
	free(m);
	free(cb);
	free(without);
	free(auth);
	return (rc);
}

int
scram_server_final(struct scram *s, const char *msg, size_t len, char *err,
    size_t errlen)
{
	unsigned char	 sig[64];
	const char	*end;
	int		 n;

	if (!s->have_sig) {
		snprintf(err, errlen, "SCRAM: unexpected server-final-message");
		return (-1);
	}
	s->have_sig = 0;	/* one answer only */
	if (len >= 2 && strncmp(msg, "e=", 2) == 0) {
		scram_err(err, errlen, "SCRAM: the server refused: ", msg + 2,
		    len - 2 > 100 ? 100 : len - 2);
		return (-1);
	}
	if ((end = memchr(msg, ',', len)) != NULL)
		len = (size_t)(end - msg);	/* extensions: ignored */
	if (len < 2 || strncmp(msg, "v=", 2) != 0 ||
	    (n = scram_unb64(msg + 2, len - 2, sig, sizeof(sig))) !=
	    SCRAM_KEY_LEN) {
		snprintf(err, errlen, "SCRAM: malformed server-final-message");
		return (-1);
	}
	if (CRYPTO_memcmp(sig, s->server_sig, SCRAM_KEY_LEN) != 0) {
		snprintf(err, errlen, "SCRAM: the server's signature is wrong "
		    "(it does not know the password: not the server we "
		    "expected?)");
		return (-1);
	}
	return (0);
}

int
scram_client_key(const unsigned char *stored, const char *first, size_t flen,
    const char *server_first, size_t slen, const char *final, size_t fnlen,
    unsigned char *out)
{
	unsigned char	 sig[SCRAM_KEY_LEN], proof[64], check[SCRAM_KEY_LEN];
	const char	*bare, *p;
	char		*auth = NULL;
	size_t		 i, wlen;
	int		 rc = -1, n;

	if (flen > SCRAM_MAX_MESSAGE || slen > SCRAM_MAX_MESSAGE ||
	    fnlen > SCRAM_MAX_MESSAGE)
		return (-1);
	/* The bare part follows the gs2 header's two commas. */
	if ((bare = memchr(first, ',', flen)) == NULL ||
	    (bare = memchr(bare + 1, ',', flen - (size_t)(bare + 1 - first)))
	    == NULL)
		return (-1);
	bare++;
	/* The proof is the last attribute: ",p=" from the end. */
	for (p = NULL, i = fnlen; i >= 3; i--)
		if (memcmp(final + i - 3, ",p=", 3) == 0) {
			p = final + i - 3;
			break;
		}
	if (p == NULL)
		return (-1);
	wlen = (size_t)(p - final);
	n = scram_unb64(p + 3, fnlen - wlen - 3, proof, sizeof(proof));
	if (n != SCRAM_KEY_LEN)
		goto out;
	if (asprintf(&auth, "%.*s,%.*s,%.*s", (int)(flen - (size_t)(bare -
	    first)), bare, (int)slen, server_first, (int)wlen, final) == -1) {
		auth = NULL;
		goto out;
	}
	if (strlen(auth) != flen - (size_t)(bare - first) + slen + wlen + 2 ||
	    scram_hmac(stored, auth, strlen(auth), sig) != 0)
		goto out;
	for (i = 0; i < SCRAM_KEY_LEN; i++)
		out[i] = proof[i] ^ sig[i];
	if (SHA256(out, SCRAM_KEY_LEN, check) == NULL ||
	    CRYPTO_memcmp(check, stored, SCRAM_KEY_LEN) != 0) {
		OPENSSL_cleanse(out, SCRAM_KEY_LEN);
		goto out;
	}
	rc = 0;
out:
	free(auth);
	OPENSSL_cleanse(proof, sizeof(proof));
	OPENSSL_cleanse(sig, sizeof(sig));
	OPENSSL_cleanse(check, sizeof(check));
	return (rc);
}
