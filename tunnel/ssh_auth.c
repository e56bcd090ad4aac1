/*
 * ssh_auth.c: public key authentication: the identity file (ed25519,
 * ecdsa or RSA, OpenSSH or PEM format, with a passphrase from
 * identity_passphrase_file), then the keys of the ssh-agent at
 * SSH_AUTH_SOCK.
 *
 * RSA keys that OpenSSL reads (PEM, PKCS#8) are signed here with
 * rsa-sha2-256: libssh2 1.10 only knows the SHA-1 "ssh-rsa" signature,
 * which OpenSSH 8.8 and later refuse by default.  The request names the
 * algorithm by the type string of the key blob (libssh2 copies it from
 * there), and RFC 8332 servers accept "rsa-sha2-256" there as an RSA key.
 *
 * The server's side of each attempt is non-blocking like everything else.
 * The agent's side is not: libssh2 talks to the agent over a blocking
 * unix socket (connect, list, one signature per attempt).  A local agent
 * answers in well under a millisecond; a hung agent would stall the loop,
 * which is why the identity file, when configured, goes first.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "log.h"
#include "secret.h"
#include "ssh_int.h"

enum ssh_auth_steps {
	AUTH_START,
	AUTH_RSA,		/* our rsa-sha2-256 signature */
	AUTH_FILE,
	AUTH_AGENT_LIST,
	AUTH_AGENT_TRY
};


/* The public key blob of an "openssh-key-v1" private key (unencrypted). */
static int
ssh_auth_openssh_blob(const char *text, unsigned char *blob, size_t max)
{
	static const char	 begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	unsigned char		*raw = NULL, *p;
	char			*b64 = NULL, *q;
	const char		*s, *e;
	size_t			 n = 0, left, len, i, size = 0;
	int			 got, rc = -1;

	if ((s = strstr(text, begin)) == NULL || (e = strstr(s,
	    "-----END")) == NULL)
		return (-1);
	s += sizeof(begin) - 1;
	size = (size_t)(e - s);
	if ((b64 = malloc((size_t)(e - s) + 1)) == NULL ||
	    (raw = malloc((size_t)(e - s))) == NULL)
		goto out;
	for (q = b64; s < e; s++)
		if (*s != '\n' && *s != '\r' && *s != ' ')
			*q++ = *s, n++;
	if (n == 0 || (got = EVP_DecodeBlock(raw, (unsigned char *)b64,
	    (int)n)) < 15 + 4 || memcmp(raw, "openssh-key-v1", 15) != 0)
		goto out;
	p = raw + 15;
	left = (size_t)got - 15;
	/* ciphername, kdfname, kdfoptions: skip; then nkeys; then the key */
	for (i = 0; i < 4; i++) {
		if (left < 4)
			goto out;
		len = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
		    (size_t)p[2] << 8 | p[3];
		if (i == 3) {	/* nkeys: a uint32, not a string */
			p += 4, left -= 4;
			continue;
		}
		if (len > left - 4)
			goto out;
		p += 4 + len, left -= 4 + len;
	}
	if (left < 4)
		goto out;
	len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	    p[3];
	if (len > left - 4 || len > max)
		goto out;
	memcpy(blob, p + 4, len);
	rc = (int)len;
out:
	/* Both hold the private key too (unencrypted). */
	if (b64 != NULL)
		explicit_bzero(b64, size + 1);
	if (raw != NULL)
		explicit_bzero(raw, size);
	free(b64);
	free(raw);
	return (rc);
}

/* "type base64 [comment]" from the .pub file next to the key. */
static int
ssh_auth_pub_blob(const char *path, unsigned char *blob, size_t max)
{
	char	 pub[4096], line[8192], *sp, *end;
	FILE	*fp;
	int	 n;

	snprintf(pub, sizeof(pub), "%s.pub", path);
	if ((fp = fopen(pub, "re")) == NULL)
		return (-1);
	n = fgets(line, sizeof(line), fp) != NULL;
	fclose(fp);
	if (!n || (sp = strchr(line, ' ')) == NULL)
		return (-1);
	sp++;
	end = sp + strcspn(sp, " \r\n");
	if ((size_t)(end - sp) / 4 * 3 > max || (end - sp) % 4 != 0)
		return (-1);
	n = EVP_DecodeBlock(blob, (unsigned char *)sp, (int)(end - sp));
	if (n > 0 && end[-1] == '=')
		n--;
	if (n > 0 && end[-2] == '=')
		n--;
	return (n);
}

/* "ssh-ed25519 SHA256:... (/path)", or just the path. */
static const char *
ssh_auth_describe(const struct ssh_bastion *b, char *buf, size_t len)
{
	unsigned char	 blob[4096];
	char		 desc[160];
	const char	*path = b->set.identity;
	int		 bl = -1;

	if (b->auth.keyfile != NULL)
		bl = ssh_auth_openssh_blob(b->auth.keyfile, blob,
		    sizeof(blob));
	if (bl <= 0)
		bl = ssh_auth_pub_blob(path, blob, sizeof(blob));
	if (bl > 0)
		snprintf(buf, len, "%s (%s)", ssh_key_describe(blob, (size_t)bl,
		    desc, sizeof(desc)), path);
	else
		snprintf(buf, len, "%s", path);
	return (buf);
}

/*
 * The identity file into b->auth.keyfile, with read(2) and its mode
 * checked (secret.h): libssh2 and OpenSSL read it from there, and it is
 * wiped when authentication ends.  -1 with b->auth.error set.
 */
static int
ssh_auth_key_read(struct ssh_bastion *b)
{
	char	why[300];

	if (secret_load(b->set.identity, 1, NULL, &b->auth.keyfile,
	    &b->auth.keyfile_len, why, sizeof(why)) == 0)
		return (0);
	snprintf(b->auth.error, sizeof(b->auth.error), "identity %.400s: "
	    "%s", b->set.identity, why);
	return (-1);
}

static void
ssh_auth_key_drop(struct ssh_bastion *b)
{
	secret_free(b->auth.keyfile, b->auth.keyfile_len);
	b->auth.keyfile = NULL;
	b->auth.keyfile_len = 0;
}

/* Append an SSH mpint (big-endian, a leading 0 if the top bit is set). */
static size_t
ssh_auth_put_mpint(unsigned char *p, const BIGNUM *bn)
{
	int	n = BN_num_bytes(bn), pad;

	BN_bn2bin(bn, p + 5);
	pad = n > 0 && (p[5] & 0x80);
	if (!pad)
		memmove(p + 4, p + 5, (size_t)n);
	else
		p[4] = 0;
	n += pad;
	p[0] = (unsigned char)(n >> 24), p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8), p[3] = (unsigned char)n;
	return (4 + (size_t)n);
}

static size_t
ssh_auth_put_str(unsigned char *p, const char *s)
{
	size_t	n = strlen(s);

	p[0] = (unsigned char)(n >> 24), p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8), p[3] = (unsigned char)n;
	memcpy(p + 4, s, n);
	return (4 + n);
}

/* The RSA public key blob under the given type name; its length. */
static size_t
ssh_auth_rsa_blob(EVP_PKEY *pkey, const char *type, unsigned char *blob,
    size_t max)
{
	BIGNUM	*n = NULL, *e = NULL;
	size_t	 len = 0;

	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
	    (size_t)(BN_num_bytes(n) + BN_num_bytes(e)) + 40 < max) {
		len = ssh_auth_put_str(blob, type);
		len += ssh_auth_put_mpint(blob + len, e);
		len += ssh_auth_put_mpint(blob + len, n);
	}
	BN_free(n);
	BN_free(e);
	return (len);
}

/* An RSA identity that OpenSSL reads; NULL for anything else. */
static EVP_PKEY *
ssh_auth_rsa_load(const struct ssh_bastion *b)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*bio;

	if ((bio = BIO_new_mem_buf(b->auth.keyfile,
	    (int)b->auth.keyfile_len)) == NULL)
		return (NULL);
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL,
	    b->set.passphrase != NULL ? b->set.passphrase : (char *)"");
	BIO_free(bio);
	ERR_clear_error();
	if (pkey != NULL && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return (pkey);
}

/* libssh2's sign callback: PKCS#1 v1.5 over SHA-256. */
static LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC(ssh_auth_rsa_sign)
{
	EVP_PKEY	*pkey = *abstract;
	EVP_MD_CTX	*ctx;
	size_t		 len = 0;
	int		 rc = -1;

	*sig = NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, NULL, &len, data, data_len) == 1 &&
	    (*sig = malloc(len)) != NULL &&
	    EVP_DigestSign(ctx, *sig, &len, data, data_len) == 1) {
		*sig_len = len;
		rc = 0;
	} else {
		free(*sig);
		*sig = NULL;
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return (rc);
}

/* Why the identity file did not do: into b->auth.error. */
static void
ssh_auth_file_failed(struct ssh_bastion *b, int rc)
{
	char	 desc[600], *msg = NULL;
	int	 len = 0;

	libssh2_session_last_error(b->sess, &msg, &len, 0);
	/* libssh2 says only "unable to extract public key" for a missing file. */
	if (rc == LIBSSH2_ERROR_FILE && access(b->set.identity, R_OK) != 0) {
		snprintf(b->auth.error, sizeof(b->auth.error), "identity "
		    "%.600s: %s", b->set.identity, strerror(errno));
		return;
	}
	ssh_auth_describe(b, desc, sizeof(desc));
	switch (rc) {
	case LIBSSH2_ERROR_FILE:
		snprintf(b->auth.error, sizeof(b->auth.error),
		    "identity %.600s cannot be used: %s", desc, b->set.passphrase != NULL ?
		    "wrong passphrase, or a format libssh2 cannot read" :
		    "it needs a passphrase (identity_passphrase_file), or is "
		    "in a format libssh2 cannot read");
		break;
	case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
	case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
		snprintf(b->auth.error, sizeof(b->auth.error), "the bastion "
		    "refused identity %.500s%s", desc, strncmp(desc, "ssh-rsa ",
		    8) == 0 ? " (libssh2 signs OpenSSH-format RSA keys with "
		    "SHA-1, which OpenSSH 8.8 and later refuse: convert the "
		    "key with ssh-keygen -p -m PEM, or use ed25519)" : "");
		break;
	default:
		snprintf(b->auth.error, sizeof(b->auth.error),
		    "identity %.600s: %.*s", desc, len > 100 ? 100 : len, msg != NULL ? msg :
		    "failed");
		break;
	}
}

static int
ssh_auth_fail(struct ssh_bastion *b, const char *agent_why)
{
	snprintf(b->last_error, sizeof(b->last_error), "authentication as "
	    "%.64s failed: %.700s%s%.200s", b->set.user, b->auth.error,
	    b->auth.error[0] != '\0' ? "; " : "", agent_why);
	return (-1);
}

/* Connect to the agent and list its keys (blocking, on a unix socket). */
static int
ssh_auth_agent_list(struct ssh_bastion *b)
{
	const char	*sock = getenv("SSH_AUTH_SOCK");
	char		 why[300];

	if (sock == NULL || *sock == '\0')
		return (ssh_auth_fail(b, b->set.identity != NULL ? "no "
		    "ssh-agent (SSH_AUTH_SOCK is not set)" : "no identity "
		    "configured and no ssh-agent (SSH_AUTH_SOCK is not set)"));
	if ((b->auth.agent = libssh2_agent_init(b->sess)) == NULL)
		return (ssh_auth_fail(b, "ssh-agent: out of memory"));
	if (libssh2_agent_connect(b->auth.agent) != 0) {
		snprintf(why, sizeof(why), "cannot reach the ssh-agent at %s",
		    sock);
		return (ssh_auth_fail(b, why));
	}
	if (libssh2_agent_list_identities(b->auth.agent) != 0) {
		snprintf(why, sizeof(why), b->auth.agent_timeout ?
		    "the ssh-agent at %s did not answer within %d s" :
		    "the ssh-agent at %s does not list its keys", sock,
		    SSH_AGENT_TIMEOUT_MS / 1000);
		return (ssh_auth_fail(b, why));
	}
	b->auth.agent_id = NULL;
	if (libssh2_agent_get_identity(b->auth.agent, &b->auth.agent_id,
	    NULL) != 0) {
		snprintf(why, sizeof(why), "the ssh-agent at %s holds no keys",
		    sock);
		return (ssh_auth_fail(b, why));
	}
	return (0);
}

int
ssh_auth_step(struct ssh_bastion *b)
{
	struct libssh2_agent_publickey	*next;
	const char			*user = b->set.user;
	char				 why[300];
	int				 rc;

	for (;;) {
		switch (b->auth.step) {
		case AUTH_START:
			b->auth.error[0] = '\0';
			if (b->set.identity != NULL &&
			    ssh_auth_key_read(b) != 0) {
				log_warnx("%s: %s", b->label, b->auth.error);
				b->auth.step = AUTH_AGENT_LIST;
				continue;
			}
			b->auth.step = b->set.identity == NULL ?
			    AUTH_AGENT_LIST : (b->auth.key =
			    ssh_auth_rsa_load(b)) != NULL ? AUTH_RSA :
			    AUTH_FILE;
			if (b->auth.key != NULL)
				b->auth.bloblen = ssh_auth_rsa_blob(b->auth.key,
				    "rsa-sha2-256", b->auth.blob,
				    sizeof(b->auth.blob));
			continue;
		case AUTH_RSA:
			rc = b->auth.bloblen == 0 ? LIBSSH2_ERROR_FILE :
			    libssh2_userauth_publickey(b->sess, user,
			    b->auth.blob, b->auth.bloblen, ssh_auth_rsa_sign,
			    &b->auth.key);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return (0);
			EVP_PKEY_free(b->auth.key);
			b->auth.key = NULL;
			if (rc == 0) {
				ssh_auth_key_drop(b);
				return (1);
			}
			if (b->io.rx_eof || b->io.io_error)
				return (0);
			ssh_auth_file_failed(b, rc);
			ssh_auth_key_drop(b);
			log_debug("%s: %s", b->label, b->auth.error);
			b->auth.step = AUTH_AGENT_LIST;
			continue;
		case AUTH_FILE:
			/*
			 * libssh2 reads the file again itself, with stdio
			 * (an unwiped buffer we cannot reach): its
			 * _frommemory twin leaks the key's numbers in 1.10
			 * (LeakSanitizer) and loses the reason of a wrong
			 * passphrase.  The mode was checked as we read it.
			 */
			rc = libssh2_userauth_publickey_fromfile_ex(b->sess,
			    user, (unsigned int)strlen(user), NULL,
			    b->set.identity, b->set.passphrase != NULL ?
			    b->set.passphrase : "");
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return (0);
			if (rc == 0) {
				ssh_auth_key_drop(b);
				return (1);
			}
			if (b->io.rx_eof || b->io.io_error)
				return (0);	/* ssh_drive reports it */
			ssh_auth_file_failed(b, rc);
			ssh_auth_key_drop(b);
			log_debug("%s: %s", b->label, b->auth.error);
			b->auth.step = AUTH_AGENT_LIST;
			continue;
		case AUTH_AGENT_LIST:
			if (ssh_auth_agent_list(b) != 0)
				return (-1);
			b->auth.step = AUTH_AGENT_TRY;
			continue;
		case AUTH_AGENT_TRY:
			if (b->auth.agent_id == NULL) {
				snprintf(why, sizeof(why), "the bastion refused "
				    "every key of the ssh-agent at %s",
				    getenv("SSH_AUTH_SOCK"));
				return (ssh_auth_fail(b, why));
			}
			rc = libssh2_agent_userauth(b->auth.agent, user,
			    b->auth.agent_id);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return (0);
			if (rc == 0) {
				log_debug("%s: authenticated with the agent's "
				    "key %s", b->label,
				    b->auth.agent_id->comment);
				return (1);
			}
			if (b->io.rx_eof || b->io.io_error)
				return (0);
			if (b->auth.agent_timeout) {
				snprintf(why, sizeof(why), "the ssh-agent at "
				    "%s did not answer within %d s (signing "
				    "with %s)", getenv("SSH_AUTH_SOCK"),
				    SSH_AGENT_TIMEOUT_MS / 1000,
				    b->auth.agent_id->comment);
				return (ssh_auth_fail(b, why));
			}
			if (libssh2_agent_get_identity(b->auth.agent, &next,
			    b->auth.agent_id) != 0)
				next = NULL;
			b->auth.agent_id = next;
			continue;
		}
		return (-1);
	}
}

void
ssh_auth_reset(struct ssh_bastion *b)
{
	b->auth.agent_timeout = 0;
	if (b->auth.agent != NULL) {
		libssh2_agent_disconnect(b->auth.agent);
		libssh2_agent_free(b->auth.agent);
		b->auth.agent = NULL;
	}
	b->auth.agent_id = NULL;
	EVP_PKEY_free(b->auth.key);
	b->auth.key = NULL;
	ssh_auth_key_drop(b);
	b->auth.step = AUTH_START;
}
