/*
 * admin_routes.c: route control, POST /routes/ACTION?service=S&route=R
 * (pin, unpin, drain, enable, disable): the query checked against what
 * the action takes, the service's own function called (it logs the
 * change), one line logged with the request, the answer.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "addr.h"
#include "admin_int.h"
#include "conf.h"
#include "conf_keys.h"
#include "log.h"
#include "route.h"
#include "service.h"

struct admin_routes_args {
	const char	*service;
	const char	*route;
	const char	*dur;		/* "for" */
	int		 ms;
	const char	*deadline;	/* drain */
	int		 deadline_ms;
};

/*
 * Check the query against what the action takes.  Returns 0, or the
 * HTTP code with a message in err.
 */
static int
admin_routes_args(struct evkeyvalq *q, int action,
    struct admin_routes_args *a, char *err, size_t errlen)
{
	struct evkeyval	*kv;
	char		 clean[64];

	memset(a, 0, sizeof(*a));
	TAILQ_FOREACH(kv, q, next) {
		if (strcmp(kv->key, "service") == 0)
			a->service = kv->value;
		else if (strcmp(kv->key, "route") == 0 && action != ADMIN_UNPIN)
			a->route = kv->value;
		else if (strcmp(kv->key, "for") == 0 && action == ADMIN_PIN)
			a->dur = kv->value;
		else if (strcmp(kv->key, "deadline") == 0 &&
		    action == ADMIN_DRAIN)
			a->deadline = kv->value;
		else {
			snprintf(err, errlen, "unknown parameter '%s' (this "
			    "action takes service%s%s)", admin_clean(kv->key,
			    clean, sizeof(clean)), action != ADMIN_UNPIN ?
			    ", route" : "", action == ADMIN_PIN ? ", for" :
			    action == ADMIN_DRAIN ? ", deadline" : "");
			return (400);
		}
	}
	if (a->service == NULL || (a->route == NULL && action != ADMIN_UNPIN)) {
		snprintf(err, errlen, "missing parameter '%s'",
		    a->service == NULL ? "service" : "route");
		return (400);
	}
	if (a->dur != NULL && (conf_keys_parse_duration(a->dur, &a->ms) != 0 ||
	    a->ms == 0)) {
		snprintf(err, errlen, "for: bad duration '%s' (like 90s or "
		    "30m; more than 0, at most 1440m)",
		    admin_clean(a->dur, clean, sizeof(clean)));
		return (400);
	}
	if (a->deadline != NULL && (conf_keys_parse_duration(a->deadline,
	    &a->deadline_ms) != 0 || a->deadline_ms == 0)) {
		snprintf(err, errlen, "deadline: bad duration '%s' (like 90s "
		    "or 5m; more than 0, at most 1440m)",
		    admin_clean(a->deadline, clean, sizeof(clean)));
		return (400);
	}
	return (0);
}

/* "; new sessions go to public" or "; no usable route" */
static void
admin_routes_note(const struct service *svc, char *buf, size_t len)
{
	if (admin_service_connected(svc))
		snprintf(buf, len, "; new sessions go to %s",
		    svc->order[svc->current]->cr->name);
	else
		snprintf(buf, len, "; no usable route for new sessions");
}

/* Do the action; 0, or -1 with err. */
static int
admin_routes_apply(struct service *svc, int action,
    const struct admin_routes_args *a, char *msg, size_t msglen, char *err,
    size_t errlen)
{
	struct route	*r = a->route != NULL ?
			    service_find_route(svc, a->route) : NULL;
	unsigned int	 open = r != NULL ? r->sessions_active : 0;
	int		 rc = -1;

	switch (action) {
	case ADMIN_PIN:
		rc = service_pin(svc, a->route, a->ms, err, errlen);
		snprintf(msg, msglen, "service %s pinned to %s %s%s", svc->name,
		    a->route, a->dur != NULL ? "for " : "until unpinned",
		    a->dur != NULL ? a->dur : "");
		break;
	case ADMIN_UNPIN:
		snprintf(msg, msglen, "service %s unpinned from %s", svc->name,
		    svc->routes[svc->pin]->cr->name);
		rc = service_unpin(svc, err, errlen);
		break;
	case ADMIN_DRAIN:
		rc = service_set_admin(svc, a->route, ROUTE_ADMIN_DRAINING, err,
		    errlen);
		if (rc == 0)
			service_drain_deadline(svc, a->route, a->deadline_ms);
		snprintf(msg, msglen, "%s draining: no new sessions, %u "
		    "established leave at safe points%s%s%s", r->label, open,
		    a->deadline != NULL ? " (closed after " : "",
		    a->deadline != NULL ? a->deadline : "",
		    a->deadline != NULL ? ")" : "");
		break;
	case ADMIN_ENABLE:
		rc = service_set_admin(svc, a->route, ROUTE_ADMIN_ENABLED, err,
		    errlen);
		snprintf(msg, msglen, "%s enabled", r->label);
		break;
	case ADMIN_DISABLE:
		rc = service_set_admin(svc, a->route, ROUTE_ADMIN_DISABLED, err,
		    errlen);
		if (svc->cs->on_route_down == ON_DOWN_MOVE)
			snprintf(msg, msglen, "%s disabled: %u session%s "
			    "leave%s now (moved; closed if busy with a write)",
			    r->label, open, open == 1 ? "" : "s",
			    open == 1 ? "s" : "");
		else
			snprintf(msg, msglen, "%s disabled: %u session%s "
			    "closed", r->label, open, open == 1 ? "" : "s");
		break;
	}
	return (rc);
}

void
admin_routes_page(struct admin *ad, struct evhttp_request *req,
    const struct admin_page *pg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = evhttp_uri_get_path(uri);
	const char		*query = evhttp_uri_get_query(uri);
	struct evkeyvalq	 q;
	struct admin_routes_args	 a;
	struct service		*svc;
	char			 err[256], msg[512], note[128];
	char			 peer[ADDR_STRLEN], clean[2][64];
	int			 code, action = pg->action;

	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) != 0) {
		admin_result(req, 400, "malformed query string");
		goto out;
	}
	if ((code = admin_routes_args(&q, action, &a, err, sizeof(err))) != 0) {
		admin_result(req, code, err);
		goto out;
	}
	if ((svc = service_find(ad->px, a.service)) == NULL) {
		snprintf(err, sizeof(err), "no service '%s'",
		    admin_clean(a.service, clean[0], sizeof(clean[0])));
		admin_result(req, 404, err);
		goto out;
	}
	if (a.route != NULL && service_find_route(svc, a.route) == NULL) {
		snprintf(err, sizeof(err), "service %s has no route '%s'",
		    svc->name, admin_clean(a.route, clean[1],
		    sizeof(clean[1])));
		admin_result(req, 404, err);
		goto out;
	}
	if (action == ADMIN_UNPIN && !svc->pinned) {
		snprintf(msg, sizeof(msg), "service %s was not pinned",
		    svc->name);
		admin_result(req, 200, msg);
		goto out;
	}
	/* Names and duration are checked: they are safe to log. */
	log_info("admin: POST %s service=%s%s%s%s%s%s%s from %s", path,
	    svc->name, a.route != NULL ? " route=" : "",
	    a.route != NULL ? a.route : "", a.dur != NULL ? " for=" : "",
	    a.dur != NULL ? a.dur : "", a.deadline != NULL ? " deadline=" : "",
	    a.deadline != NULL ? a.deadline : "",
	    admin_peer(ad, req, peer, sizeof(peer)));
	if (admin_routes_apply(svc, action, &a, msg, sizeof(msg), err,
	    sizeof(err)) != 0) {
		log_warnx("admin: POST %s: %s", path, err);
		admin_result(req, 400, err);
		goto out;
	}
	admin_routes_note(svc, note, sizeof(note));
	strncat(msg, note, sizeof(msg) - strlen(msg) - 1);
	admin_result(req, 200, msg);
out:
	evhttp_clear_headers(&q);
}
