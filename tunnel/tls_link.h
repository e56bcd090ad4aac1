/*
 * tls_link.h: a connected TLS upstream as a link (link.h), driven on its
 * socket by its own events, so that the relay's fd engine moves its bytes
 * with function calls as it does an SSH channel's.
 */
#ifndef POSTERN_TLS_LINK_H
#define POSTERN_TLS_LINK_H

struct event_base;
struct link;
struct ssl_st;

/*
 * tls_link_new(base, fd, ssl): a link over the connected socket fd and
 * ssl, whose handshake is done.  The link owns both from here, also on
 * failure (NULL: out of memory; fd is closed and ssl freed).  Freed by
 * link_close(), from the loop.
 */
struct link	*tls_link_new(struct event_base *base, int fd,
		    struct ssl_st *ssl);

/*
 * tls_link_ssl(l): the SSL of a TLS link, NULL for other links.  The
 * link keeps it; take a reference (SSL_up_ref) to keep it longer.
 */
struct ssl_st	*tls_link_ssl(const struct link *l);

#endif
