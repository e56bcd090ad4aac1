/*
 * admin_int.h: what the admin endpoint's files (admin.c, admin_conns.c,
 * admin_health.c, admin_metrics.c, admin_routes.c) share.  Not for other
 * modules: they use admin.h.
 */
#ifndef POSTERN_ADMIN_INT_H
#define POSTERN_ADMIN_INT_H

#include <stdint.h>

#include "addr.h"
#include "admin_guard.h"

struct admin_conns;
struct admin_guard;
struct conf;
struct evbuffer;
struct event_base;
struct evhttp;
struct evhttp_connection;
struct postern;
struct service;

/* The overall status on /health, /status and "postern ctl status". */
enum admin_health {
	ADMIN_HEALTHY,		/* every service on its preferred route */
	ADMIN_DEGRADED,		/* every service has a route; some not the
				   preferred one */
	ADMIN_UNHEALTHY		/* some service has no usable route */
};

/*
 * admin_service_connected(svc): svc has a usable route for new sessions.
 */
int	admin_service_connected(const struct service *svc);

/* admin_health_status(px): enum admin_health of the serving services. */
int	admin_health_status(struct postern *px);

/* admin_health_name(status): "healthy", "degraded" or "unhealthy". */
const char *admin_health_name(int status);

/*
 * admin_health_json(px, b): append the /health document to b.  Returns
 * the enum admin_health it reports.
 */
int	admin_health_json(struct postern *px, struct evbuffer *b);

/*
 * admin_health_text(px, b): append the /status table (what "postern ctl
 * status" prints) to b.  Returns the enum admin_health it reports.
 */
int	admin_health_text(struct postern *px, struct evbuffer *b);

/*
 * admin_json_string(b, s): append s as a JSON string literal (quotes
 * included; NULL gives null).  Invalid UTF-8 becomes U+FFFD.
 */
void	admin_json_string(struct evbuffer *b, const char *s);

/*
 * admin_conns_new(base, http, guard, unix_socket, max, request_ms): count
 * http's connections and keep at most max: a new one closes the oldest,
 * logged once per client address through guard (admin_guard_first).  A
 * request not dispatched within request_ms of its first byte closes its
 * connection (admin_conns_request_done stops the clock).  Installs
 * http's bufferevent callback.  NULL on failure.  Free with
 * admin_conns_free() after evhttp_free(http), whose close callbacks it
 * needs; http and guard must outlive it.
 */
struct admin_conns *admin_conns_new(struct event_base *base,
	    struct evhttp *http, struct admin_guard *guard, int unix_socket,
	    unsigned int max, int request_ms);

/*
 * admin_conns_request_done(c, evcon): a request of evcon is complete and
 * dispatched: its deadline stops; the next byte starts the next one's.
 */
void	admin_conns_request_done(struct admin_conns *c,
	    struct evhttp_connection *evcon);

/* admin_conns_free(c): free c and what it still holds; NULL is a no-op. */
void	admin_conns_free(struct admin_conns *c);

/* admin_conns_now_ms(): the monotonic clock in ms, for admin_guard_first. */
int64_t	admin_conns_now_ms(void);

/*
 * admin_sock_listen(c, why, whylen): a listening socket for c->admin (see
 * listener_socket); a unix one with mode c->admin_socket_perm and group
 * c->admin_socket_group.  The caller owns the fd; -1 with the reason in
 * why, and nothing left open or on disk.
 */
int	admin_sock_listen(const struct conf *c, char *why, size_t whylen);

/*
 * admin_sock_perm(c, why, whylen): set the mode and group of c's unix
 * socket path (and its owner to c->user when root binds it); 0 for an IP
 * address.  0, or -1 with the reason in why.
 */
int	admin_sock_perm(const struct conf *c, char *why, size_t whylen);

/* admin_metrics_write(px, b): append the /metrics exposition to b. */
void	admin_metrics_write(struct postern *px, struct evbuffer *b);

struct route;

/* admin_json_route(b, r, now): route r as "name":{...} (admin_health.c). */
void	admin_json_route(struct evbuffer *b, const struct route *r,
	    int64_t now);

/* admin_label_value(b, v): v escaped for a metric label (admin_metrics.c). */
void	admin_label_value(struct evbuffer *b, const char *v);

/*
 * admin_cluster_json(b, svc, now), admin_cluster_text(b, svc): a cluster
 * seed's nodes inside its service's /health object and /status block
 * (nothing for other services); admin_cluster_metrics(px, b): the
 * per-node series and the unmapped gauge (admin_cluster.c).
 */
void	admin_cluster_json(struct evbuffer *b, const struct service *svc,
	    int64_t now);
void	admin_cluster_text(struct evbuffer *b, const struct service *svc);
void	admin_cluster_metrics(struct postern *px, struct evbuffer *b);

/* admin.c and admin_routes.c: the server and its pages. */
struct evhttp_request;
struct evconnlistener;
struct event;

struct admin {
	struct postern		*px;
	struct evhttp		*http;
	struct evconnlistener	*evl;		/* evhttp's once bound */
	struct event		*resume;
	struct admin_conns	*conns;
	struct admin_guard	 guard;
	struct addr		 addr;
	int			 unlink_path;
};

/* Route control actions: POST /routes/ACTION?service=S&route=R. */
enum admin_action {
	ADMIN_NONE,
	ADMIN_PIN,
	ADMIN_UNPIN,
	ADMIN_DRAIN,
	ADMIN_ENABLE,
	ADMIN_DISABLE
};

struct admin_page;
typedef void admin_page_fn(struct admin *, struct evhttp_request *,
    const struct admin_page *);
/* A document's writer: its status (ADMIN_UNHEALTHY: answered 503). */
typedef int admin_doc_fn(struct postern *, struct evbuffer *);

struct admin_page {
	const char		*path;
	int			 methods;
	enum admin_guard_access	 access;
	admin_page_fn		*fn;
	enum admin_action	 action;	/* route control */
	const char		*type;		/* a document's */
	admin_doc_fn		*doc;
};

/* admin_result(req, code, msg): a route-control answer (JSON or text). */
void	admin_result(struct evhttp_request *req, int code, const char *msg);
/* admin_peer(ad, req, buf, len): the client's address, for logs. */
const char *admin_peer(const struct admin *ad, struct evhttp_request *req,
	    char *buf, size_t len);
/* admin_clean(s, buf, len): s in buf, control characters made '?'. */
const char *admin_clean(const char *s, char *buf, size_t len);

/*
 * admin_routes_page(ad, req, pg): POST /routes/ACTION (pg->action):
 * check the query, apply it to the service, answer req.
 */
void	admin_routes_page(struct admin *ad, struct evhttp_request *req,
	    const struct admin_page *pg);

#endif
