/*
 * admin.c: the admin HTTP endpoint: its socket, request dispatch and
 * the probes.  Route control is in admin_routes.c, the documents in
 * admin_health.c and admin_metrics.c, who may ask in admin_guard.c, the
 * connection cap in admin_conns.c.  Nothing here dials anything: every
 * page reads state, and route control calls the service's own functions,
 * which log.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "addr.h"
#include "admin.h"
#include "admin_guard.h"
#include "admin_int.h"
#include "conf.h"
#include "daemon_ctx.h"
#include "health.h"
#include "listener.h"
#include "log.h"
#include "route.h"
#include "service.h"

#define ADMIN_PAUSE_MS		250
#define ADMIN_PARK_MS		(24 * 3600 * 1000)	/* admin_park */
#define ADMIN_TIMEOUT_S		10
#define ADMIN_REQUEST_MS	5000	/* first byte to whole request */
#define ADMIN_MAX_HEADERS	8192
#define ADMIN_MAX_BODY		4096
#define ADMIN_MAX_CONNS		64	/* see admin_conns.c */

#define ADMIN_READ	(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)
#define ADMIN_WRITE	EVHTTP_REQ_POST

static const char *
admin_reason(int code)
{
	switch (code) {
	case 200:
		return ("OK");
	case 400:
		return ("Bad Request");
	case 401:
		return ("Unauthorized");
	case 403:
		return ("Forbidden");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 421:
		return ("Misdirected Request");
	case 503:
		return ("Service Unavailable");
	}
	return ("Internal Server Error");
}

/* Send body (which may be NULL) with code; frees body. */
static void
admin_send(struct evhttp_request *req, int code, const char *type,
    struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	char			 len[32];

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	/* libevent 2.1 would send the body of a HEAD answer: keep its size. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD &&
	    body != NULL) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(h, "Content-Length", len);
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	evhttp_send_reply(req, code, admin_reason(code), body);
	if (body != NULL)
		evbuffer_free(body);
}

static void
admin_text(struct evhttp_request *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
admin_text(struct evhttp_request *req, int code, const char *fmt, ...)
{
	struct evbuffer	*b;
	va_list		 ap;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	va_start(ap, fmt);
	evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	admin_send(req, code, "text/plain; charset=utf-8", b);
}

/*
 * A route-control answer: {"ok":true,"message":"..."} or
 * {"ok":false,"error":"..."}; to a client that asks for text/plain
 * (postern ctl), the message or error alone on one line, for it to print
 * as it is.
 */
void
admin_result(struct evhttp_request *req, int code, const char *msg)
{
	const char	*accept = evhttp_find_header(
			    evhttp_request_get_input_headers(req), "Accept");
	struct evbuffer	*b;

	if (accept != NULL && strstr(accept, "text/plain") != NULL) {
		admin_text(req, code, "%s\n", msg);
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "{\"ok\":%s,\"%s\":", code == 200 ? "true" :
	    "false", code == 200 ? "message" : "error");
	admin_json_string(b, msg);
	evbuffer_add_printf(b, "}\n");
	admin_send(req, code, "application/json", b);
}

/* The client's address for logs: "127.0.0.1:45678", "[::1]:5", "unix". */
const char *
admin_peer(const struct admin *ad, struct evhttp_request *req, char *buf,
    size_t len)
{
	struct evhttp_connection	*evcon;
	char				*host = NULL;
	ev_uint16_t			 port = 0;

	evcon = evhttp_request_get_connection(req);
	if (ad->addr.kind == ADDR_UNIX || evcon == NULL)
		return ("unix");
	evhttp_connection_get_peer(evcon, &host, &port);
	if (host == NULL)
		snprintf(buf, len, "?");
	else if (strchr(host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
	return (buf);
}

/* Copy s for a log line, control characters made visible as '?'. */
const char *
admin_clean(const char *s, char *buf, size_t len)
{
	size_t	i;

	snprintf(buf, len, "%s", s);
	for (i = 0; buf[i] != '\0'; i++) {
		if (iscntrl((unsigned char)buf[i]))
			buf[i] = '?';
	}
	return (buf);
}

/* ------------------------------------------------------------------ */
/* Read-only pages. */

/* /metrics always answers 200: its gauges say what is down. */
static int
admin_metrics_doc(struct postern *px, struct evbuffer *b)
{
	admin_metrics_write(px, b);
	return (ADMIN_HEALTHY);
}

/* A document (/health, /status, /metrics): pg->doc writes it. */
static void
admin_doc(struct admin *ad, struct evhttp_request *req,
    const struct admin_page *pg)
{
	struct evbuffer	*b;
	int		 st;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	st = pg->doc(ad->px, b);
	admin_send(req, st == ADMIN_UNHEALTHY ? 503 : 200, pg->type, b);
}

static void
admin_liveness(struct admin *ad, struct evhttp_request *req,
    const struct admin_page *pg)
{
	admin_text(req, 200, "ok\n");
}

static void
admin_readiness(struct admin *ad, struct evhttp_request *req,
    const struct admin_page *pg)
{
	struct service	*svc;

	if (daemon_stopping(ad->px)) {
		admin_text(req, 503, "shutting down\n");
		return;
	}
	TAILQ_FOREACH(svc, daemon_services(ad->px), entry) {
		if (!admin_service_connected(svc)) {
			admin_text(req, 503, "not ready: service %s has no "
			    "usable route\n", svc->name);
			return;
		}
	}
	admin_text(req, 200, "ok\n");
}

static void
admin_startup(struct admin *ad, struct evhttp_request *req,
    const struct admin_page *pg)
{
	struct service	*svc;
	size_t		 i;

	TAILQ_FOREACH(svc, daemon_services(ad->px), entry) {
		if (conf_check_kind(svc->cs) == CHECK_NONE)
			continue;
		for (i = 0; i < svc->nroutes; i++) {
			if (svc->routes[i]->last_check != 0)
				continue;
			admin_text(req, 503, "starting: %s not checked yet\n",
			    svc->routes[i]->label);
			return;
		}
	}
	admin_text(req, 200, "ok\n");
}

/* ------------------------------------------------------------------ */
/* Dispatch. */

static const struct admin_page admin_pages[] = {
	{ "/health", ADMIN_READ, ADMIN_GUARD_READ, admin_doc, ADMIN_NONE,
	  "application/json", admin_health_json },
	{ "/status", ADMIN_READ, ADMIN_GUARD_READ, admin_doc, ADMIN_NONE,
	  "text/plain; charset=utf-8", admin_health_text },
	{ "/metrics", ADMIN_READ, ADMIN_GUARD_READ, admin_doc, ADMIN_NONE,
	  "text/plain; version=0.0.4; charset=utf-8", admin_metrics_doc },
	{ "/liveness", ADMIN_READ, ADMIN_GUARD_PROBE, admin_liveness,
	  ADMIN_NONE, NULL, NULL },
	{ "/readiness", ADMIN_READ, ADMIN_GUARD_PROBE, admin_readiness,
	  ADMIN_NONE, NULL, NULL },
	{ "/startup", ADMIN_READ, ADMIN_GUARD_PROBE, admin_startup,
	  ADMIN_NONE, NULL, NULL },
	{ "/routes/pin", ADMIN_WRITE, ADMIN_GUARD_WRITE, admin_routes_page,
	  ADMIN_PIN, NULL, NULL },
	{ "/routes/unpin", ADMIN_WRITE, ADMIN_GUARD_WRITE, admin_routes_page,
	  ADMIN_UNPIN, NULL, NULL },
	{ "/routes/drain", ADMIN_WRITE, ADMIN_GUARD_WRITE, admin_routes_page,
	  ADMIN_DRAIN, NULL, NULL },
	{ "/routes/enable", ADMIN_WRITE, ADMIN_GUARD_WRITE, admin_routes_page,
	  ADMIN_ENABLE, NULL, NULL },
	{ "/routes/disable", ADMIN_WRITE, ADMIN_GUARD_WRITE, admin_routes_page,
	  ADMIN_DISABLE, NULL, NULL },
};

/* The request's method for logs. */
static const char *
admin_method(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		return ("GET");
	case EVHTTP_REQ_HEAD:
		return ("HEAD");
	case EVHTTP_REQ_POST:
		return ("POST");
	default:
		break;
	}
	return ("a request for");
}

/* The client's address without port, for admin_guard_first(). */
static const char *
admin_peer_host(const struct admin *ad, struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	char				*host = NULL;
	ev_uint16_t			 port = 0;

	evcon = evhttp_request_get_connection(req);
	if (ad->addr.kind == ADDR_UNIX || evcon == NULL)
		return ("unix");
	evhttp_connection_get_peer(evcon, &host, &port);
	return (host != NULL ? host : "?");
}

/*
 * Apply the guard to req (a page it asks for, or NULL).  Returns 0, or
 * -1 once the refusal is answered (and logged once per client address).
 */
static int
admin_check_access(struct admin *ad, struct evhttp_request *req,
    const struct admin_page *pg)
{
	struct evkeyvalq		*in = evhttp_request_get_input_headers(req);
	const struct conf		*c = daemon_conf(ad->px);
	const struct evhttp_uri		*uri = evhttp_request_get_evhttp_uri(req);
	const char			*path = NULL, *why;
	struct admin_guard_req		 r;
	enum admin_guard_verdict	 v;
	char				 peer[ADDR_STRLEN], clean[2][80];
	int				 code;

	memset(&r, 0, sizeof(r));
	/* A method a page does not take changes nothing: answered 405. */
	r.access = ADMIN_GUARD_PROBE;
	if (pg != NULL && (evhttp_request_get_command(req) & pg->methods))
		r.access = pg->access;
	r.host = evhttp_find_header(in, "Host");
	r.origin = evhttp_find_header(in, "Origin");
	r.fetch_site = evhttp_find_header(in, "Sec-Fetch-Site");
	r.custom = evhttp_find_header(in, "X-Postern-Request");
	r.authorization = evhttp_find_header(in, "Authorization");
	ad->guard.token = c != NULL ? c->admin_token : NULL;
	ad->guard.read_token = c != NULL && c->admin_read_token;
	if ((v = admin_guard_check(&ad->guard, &r, &why)) == ADMIN_GUARD_OK)
		return (0);
	if (uri != NULL)
		path = evhttp_uri_get_path(uri);
	if (v != ADMIN_GUARD_MISDIRECTED)
		r.host = NULL;		/* only worth logging when it is why */
	if (admin_guard_first(&ad->guard, admin_peer_host(ad, req),
	    admin_conns_now_ms()))
		log_warnx("admin: refused %s %s%s%s from %s: %s; more refusals "
		    "from this address are not logged for %d minutes",
		    admin_method(req), admin_clean(path != NULL ? path : "?",
		    clean[0], sizeof(clean[0])), r.host != NULL ? " Host " : "",
		    r.host != NULL ? admin_clean(r.host, clean[1],
		    sizeof(clean[1])) : "", admin_peer(ad, req, peer,
		    sizeof(peer)), why, ADMIN_GUARD_QUIET_MS / 60000);
	code = admin_guard_status(v);
	if (v == ADMIN_GUARD_UNAUTHORIZED)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"postern\"");
	if (pg != NULL && pg->methods == ADMIN_WRITE)
		admin_result(req, code, why);
	else
		admin_text(req, code, "%s\n", why);
	return (-1);
}

static void
admin_request_cb(struct evhttp_request *req, void *arg)
{
	struct admin			*ad = arg;
	const struct admin_page		*pg;
	const struct evhttp_uri		*uri;
	const char			*path;
	size_t				 i;

	admin_conns_request_done(ad->conns, evhttp_request_get_connection(req));
	uri = evhttp_request_get_evhttp_uri(req);
	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL)
		path = "";
	pg = NULL;
	for (i = 0; i < sizeof(admin_pages) / sizeof(admin_pages[0]); i++) {
		if (strcmp(admin_pages[i].path, path) == 0)
			pg = &admin_pages[i];
	}
	if (admin_check_access(ad, req, pg) != 0)
		return;
	if (pg != NULL) {
		if ((evhttp_request_get_command(req) & pg->methods) == 0) {
			evhttp_add_header(
			    evhttp_request_get_output_headers(req), "Allow",
			    pg->methods == ADMIN_WRITE ? "POST" : "GET, HEAD");
			if (pg->methods == ADMIN_WRITE)
				admin_result(req, 405, "use POST");
			else
				admin_text(req, 405, "use GET\n");
			return;
		}
		pg->fn(ad, req, pg);
		return;
	}
	if (strncmp(path, "/routes/", 8) == 0)
		admin_result(req, 404, "no such action (pin, unpin, drain, "
		    "enable, disable)");
	else
		admin_text(req, 404, "not found; pages: /health /status "
		    "/metrics /liveness /readiness /startup, and POST "
		    "/routes/{pin,unpin,drain,enable,disable}\n");
}

/* ------------------------------------------------------------------ */
/* The socket. */

/*
 * While the listener runs, ad->resume waits with a far timeout: it is how
 * the accept error callback finds ad (see admin_accept_error_cb).  Paused,
 * it waits ADMIN_PAUSE_MS, resumes the listener and waits far again.
 */
static void
admin_park(struct admin *ad, int ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ad->resume, &tv);
}

static void
admin_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin	*ad = arg;

	evconnlistener_enable(ad->evl);
	admin_park(ad, ADMIN_PARK_MS);
}

/* event_base_foreach_event: find the admin whose listener is arg->evl. */
struct admin_find {
	struct evconnlistener	*evl;
	struct admin		*ad;
};

static int
admin_find_cb(const struct event_base *base, const struct event *ev,
    void *arg)
{
	struct admin_find	*f = arg;
	struct admin		*ad;

	if (event_get_callback(ev) != admin_resume_cb)
		return (0);
	ad = event_get_callback_arg(ev);
	if (ad->evl != f->evl)
		return (0);
	f->ad = ad;
	return (1);
}

/*
 * As listener.c: pause on fd exhaustion instead of spinning.  The
 * callback argument is not ours: evhttp_bind_listener() made it the
 * struct evhttp (libevent 2.1 has no way to set the error callback's
 * argument apart, nor to reach evhttp's accept callback to wrap it), so
 * ad is found through its resume timer, always pending, among the base's
 * events.  This runs only when accept fails.
 */
static void
admin_accept_error_cb(struct evconnlistener *evl, void *unused)
{
	struct admin_find	 f = { evl, NULL };
	int			 err = EVUTIL_SOCKET_ERROR();
	int			 pause;
	char			 buf[ADDR_STRLEN];

	pause = err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
	event_base_foreach_event(evconnlistener_get_base(evl), admin_find_cb,
	    &f);
	log_warnx("admin %s: accept: %s%s", f.ad != NULL ?
	    addr_format(&f.ad->addr, buf, sizeof(buf)) : "?", strerror(err),
	    pause ? "; pausing" : "");
	if (!pause)
		return;
	evconnlistener_disable(evl);
	/* Not found cannot happen; then the listener stays off, not spinning. */
	if (f.ad != NULL)
		admin_park(f.ad, ADMIN_PAUSE_MS);
}

struct admin *
admin_new(struct postern *px, const struct conf *c, char *err, size_t errlen)
{
	const struct addr	*a = &c->admin;
	struct admin		*ad;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd = -1;
	char			 why[256], buf[ADDR_STRLEN];

	snprintf(why, sizeof(why), "out of memory");
	if ((ad = calloc(1, sizeof(*ad))) == NULL)
		goto fail;
	ad->px = px;
	ad->addr = *a;
	if ((ad->http = evhttp_new(daemon_base(px))) == NULL ||
	    (ad->resume = evtimer_new(daemon_base(px), admin_resume_cb, ad)) == NULL ||
	    (ad->conns = admin_conns_new(daemon_base(px), ad->http, &ad->guard,
	    a->kind == ADDR_UNIX, ADMIN_MAX_CONNS, ADMIN_REQUEST_MS)) == NULL)
		goto fail;
	evhttp_set_gencb(ad->http, admin_request_cb, ad);
	evhttp_set_timeout(ad->http, ADMIN_TIMEOUT_S);
	evhttp_set_max_headers_size(ad->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(ad->http, ADMIN_MAX_BODY);
	/* Let every common method through, to answer 405 ourselves. */
	evhttp_set_allowed_methods(ad->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	if ((fd = admin_sock_listen(c, why, sizeof(why))) == -1)
		goto fail;
	ad->unlink_path = a->kind == ADDR_UNIX;
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1 ||
	    admin_guard_init(&ad->guard, (struct sockaddr *)&ss, sslen) != 0) {
		snprintf(why, sizeof(why), "getsockname: %s", strerror(errno));
		close(fd);
		goto fail;
	}
	/* The listener owns fd from here, and evhttp the listener. */
	ad->evl = evconnlistener_new(daemon_base(px), NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (ad->evl == NULL) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		close(fd);
		goto fail;
	}
	if (evhttp_bind_listener(ad->http, ad->evl) == NULL) {
		snprintf(why, sizeof(why), "out of memory");
		evconnlistener_free(ad->evl);
		ad->evl = NULL;
		goto fail;
	}
	evconnlistener_set_error_cb(ad->evl, admin_accept_error_cb);
	admin_park(ad, ADMIN_PARK_MS);
	log_info("admin: listening on %s%s", addr_format(a, buf, sizeof(buf)),
	    ad->guard.place == ADMIN_GUARD_ADDRESS ||
	    ad->guard.place == ADMIN_GUARD_WILDCARD ? " (not loopback: route "
	    "control needs admin_token_file)" : "");
	return (ad);
fail:
	snprintf(err, errlen, "cannot listen on %s: %s",
	    addr_format(a, buf, sizeof(buf)), why);
	admin_free(ad);
	return (NULL);
}

void
admin_free(struct admin *ad)
{
	if (ad == NULL)
		return;
	if (ad->http != NULL)
		evhttp_free(ad->http);	/* its listener and connections */
	admin_conns_free(ad->conns);	/* after evhttp's close callbacks */
	if (ad->resume != NULL)
		event_free(ad->resume);
	if (ad->unlink_path)
		unlink(ad->addr.path);
	free(ad);
}

int
admin_same_address(const struct admin *ad, const struct conf *c)
{
	return (c->has_admin && addr_equal(&ad->addr, &c->admin));
}

void
admin_reconfigure(struct admin *ad, const struct conf *c)
{
	char	why[256];

	if (admin_sock_perm(c, why, sizeof(why)) != 0)
		log_warnx("reload: admin: %s", why);
}
