/*
 * resp_args.c: the arguments of a recorded state command, read after
 * the fact for resp_track.c: which CLIENT SETINFO attribute it sets, and
 * what a successful HELLO changed (protocol, user, name), each recorded
 * apart so that a later HELLO does not take back the AUTH or SETNAME of
 * an earlier one.  Only recorded commands come here (at most
 * RESP_CMD_MAX bytes): the hot path never does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resp_int.h"
#include "resp_track.h"

static void
resp_args_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

/* A decimal count at cmd[*i] ending in CRLF; -1 if not. */
static int
resp_args_num(const uint8_t *cmd, size_t len, size_t *i, size_t *v)
{
	size_t	j = *i, n = 0;

	if (j >= len || (unsigned)(cmd[j] - '0') > 9)
		return (-1);
	for (; j < len && (unsigned)(cmd[j] - '0') <= 9; j++) {
		n = n * 10 + (size_t)(cmd[j] - '0');
		if (n > RESP_CMD_MAX)
			return (-1);
	}
	if (j + 1 >= len || cmd[j] != '\r' || cmd[j + 1] != '\n')
		return (-1);
	*i = j + 2;
	*v = n;
	return (0);
}

static int
resp_args_array(const uint8_t *cmd, size_t len, uint8_t *buf,
    struct resp_args *a)
{
	size_t	i = 1, n, k, nargs, off = 0;

	if (resp_args_num(cmd, len, &i, &nargs) == -1 ||
	    nargs > RESP_ARGS_MAX)
		return (-1);
	for (k = 0; k < nargs; k++) {
		if (i >= len || cmd[i++] != '$' ||
		    resp_args_num(cmd, len, &i, &n) == -1 || n + 2 > len - i)
			return (-1);
		memcpy(buf + off, cmd + i, n);
		a->v[k] = buf + off;
		a->l[k] = n;
		off += n;
		i += n + 2;
	}
	a->n = (int)nargs;
	return (i == len ? 0 : -1);
}

int
resp_args_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

uint8_t
resp_args_esc(uint8_t c)
{
	switch (c) {
	case 'n':
		return ('\n');
	case 'r':
		return ('\r');
	case 't':
		return ('\t');
	case 'b':
		return ('\b');
	case 'a':
		return ('\a');
	default:
		return (c);
	}
}

static int
resp_args_space(uint8_t c)
{
	return (c == ' ' || (c >= '\t' && c <= '\r'));
}

/*
 * An inline line split as sdssplitargs splits it (the reader let only
 * such lines through, resp_read.c): the line less its LF (and a CR
 * before it).
 */
static int
resp_args_inline(const uint8_t *cmd, size_t len, uint8_t *buf,
    struct resp_args *a)
{
	size_t	i = 0, off = 0, start;
	int	q, closed, h1, h2;

	if (len > 0 && cmd[len - 1] == '\n')
		len--;
	if (len > 0 && cmd[len - 1] == '\r')
		len--;
	a->n = 0;
	for (;;) {
		while (i < len && resp_args_space(cmd[i]))
			i++;
		if (i == len)
			return (0);
		if (a->n == RESP_ARGS_MAX)
			return (-1);
		start = off;
		q = closed = 0;
		for (; i < len; i++) {
			if (q == '"' && cmd[i] == '\\' && i + 3 < len &&
			    cmd[i + 1] == 'x' &&
			    (h1 = resp_args_hex(cmd[i + 2])) >= 0 &&
			    (h2 = resp_args_hex(cmd[i + 3])) >= 0) {
				buf[off++] = (uint8_t)(h1 * 16 + h2);
				i += 3;
			} else if (q == '"' && cmd[i] == '\\' && i + 1 < len) {
				buf[off++] = resp_args_esc(cmd[++i]);
			} else if (q == '\'' && cmd[i] == '\\' && i + 1 < len &&
			    cmd[i + 1] == '\'') {
				buf[off++] = cmd[++i];
			} else if (q != 0 && cmd[i] == q) {
				if (i + 1 < len && !resp_args_space(cmd[i + 1]))
					return (-1);
				i++;
				closed = 1;
				break;
			} else if (q != 0) {
				buf[off++] = cmd[i];
			} else if (cmd[i] == ' ' || cmd[i] == '\t' ||
			    cmd[i] == '\r' || cmd[i] == '\n') {
				break;
			} else if (cmd[i] == '"' || cmd[i] == '\'') {
				q = cmd[i];
			} else
				buf[off++] = cmd[i];
		}
		if (q != 0 && !closed)
			return (-1);	/* unbalanced: the reader refused it */
		a->v[a->n] = buf + start;
		a->l[a->n++] = off - start;
	}
}

int
resp_args_split(const uint8_t *cmd, size_t len, uint8_t *buf,
    struct resp_args *a)
{
	a->n = 0;
	if (len == 0 || len > RESP_CMD_MAX)
		return (-1);
	return (cmd[0] == '*' ? resp_args_array(cmd, len, buf, a) :
	    resp_args_inline(cmd, len, buf, a));
}

int
resp_args_is(const struct resp_args *a, int k, const char *word)
{
	size_t	n = strlen(word);

	return (k < a->n && a->l[k] == n &&
	    strncasecmp((const char *)a->v[k], word, n) == 0);
}

/* An array command of the n arguments v, l: malloc'd, or NULL. */
static uint8_t *
resp_args_build(const uint8_t *const *v, const size_t *l, int n,
    size_t *len)
{
	uint8_t	*out, *p;
	size_t	 need = 16;
	int	 k, w;

	for (k = 0; k < n; k++)
		need += l[k] + 24;
	if ((out = malloc(need)) == NULL)
		return (NULL);
	p = out;
	p += snprintf((char *)p, 16, "*%d\r\n", n);
	for (k = 0; k < n; k++) {
		w = snprintf((char *)p, 24, "$%zu\r\n", l[k]);
		p += w;
		memcpy(p, v[k], l[k]);
		p += l[k];
		*p++ = '\r';
		*p++ = '\n';
	}
	*len = (size_t)(p - out);
	return (out);
}

int
resp_args_hello(const uint8_t *cmd, size_t len,
    struct resp_args_hello *h)
{
	struct resp_args	 a;
	uint8_t			 buf[RESP_CMD_MAX];
	const uint8_t		*v[4];
	size_t			 l[4];
	int			 k, user = 0, name = 0, rc = -1;

	memset(h, 0, sizeof(*h));
	if (resp_args_split(cmd, len, buf, &a) == -1)
		goto out;
	if (a.n < 2) {
		rc = 0;		/* HELLO alone changes nothing */
		goto out;
	}
	/* As helloCommand reads them: the last AUTH and SETNAME win. */
	for (k = 2; k < a.n; k++) {
		if (resp_args_is(&a, k, "AUTH") && k + 2 < a.n) {
			user = k + 1;
			k += 2;
		} else if (resp_args_is(&a, k, "SETNAME") && k + 1 < a.n) {
			name = k + 1;
			k++;
		} else
			goto out;	/* a HELLO it did not refuse: unknown */
	}
	v[0] = (const uint8_t *)"HELLO";
	l[0] = 5;
	v[1] = a.v[1];
	l[1] = a.l[1];
	if ((h->hello = resp_args_build(v, l, 2, &h->hello_len)) == NULL)
		goto out;
	if (user != 0) {
		v[0] = (const uint8_t *)"AUTH";
		l[0] = 4;
		v[1] = a.v[user];
		l[1] = a.l[user];
		v[2] = a.v[user + 1];
		l[2] = a.l[user + 1];
		if ((h->auth = resp_args_build(v, l, 3, &h->auth_len)) == NULL)
			goto out;
	}
	if (name != 0) {
		v[0] = (const uint8_t *)"CLIENT";
		l[0] = 6;
		v[1] = (const uint8_t *)"SETNAME";
		l[1] = 7;
		v[2] = a.v[name];
		l[2] = a.l[name];
		if ((h->setname = resp_args_build(v, l, 3,
		    &h->setname_len)) == NULL)
			goto out;
	}
	rc = 0;
out:
	resp_args_wipe(buf, sizeof(buf));
	if (rc == -1)
		resp_args_hello_free(h);
	return (rc);
}

void
resp_args_hello_free(struct resp_args_hello *h)
{
	resp_args_wipe(h->hello, h->hello_len);
	resp_args_wipe(h->auth, h->auth_len);
	resp_args_wipe(h->setname, h->setname_len);
	free(h->hello);
	free(h->auth);
	free(h->setname);
	memset(h, 0, sizeof(*h));
}
