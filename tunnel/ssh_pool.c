/*
 * ssh_pool.c: the bastions of the running configuration.  A bastion
 * copies its [bastion] section (settings), so it outlives generations.
 * A reload prepares the new bastions (ssh_pool_prepare: everything that
 * can fail), then commits (ssh_pool_commit: keeps an unchanged one,
 * connection, channels and all, retires a changed or unused one once its
 * channels are done, and starts the new ones).
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "fault.h"
#include "log.h"
#include "ssh_int.h"

/* ------------------------------------------------------------------ */
/* Settings: a [bastion] section, copied. */

static char *
ssh_default_known_hosts(void)
{
	const char	*home = getenv("HOME");
	struct passwd	*pw;
	char		*path;

	if ((home == NULL || *home == '\0') && (pw = getpwuid(getuid())) !=
	    NULL)
		home = pw->pw_dir;
	if (home == NULL || asprintf(&path, "%s/.ssh/known_hosts", home) ==
	    -1)
		return (strdup("/etc/ssh/ssh_known_hosts"));
	return (path);
}

static char *
ssh_strdup(const char *s, int *oom)
{
	char	*d;

	if (s == NULL)
		return (NULL);
	if ((d = strdup(s)) == NULL)
		*oom = 1;
	return (d);
}

void
ssh_settings_clear(struct ssh_settings *s)
{
	size_t	i;

	free(s->name);
	free(s->host);
	free(s->user);
	free(s->identity);
	if (s->passphrase != NULL) {
		explicit_bzero(s->passphrase, strlen(s->passphrase));
		free(s->passphrase);
	}
	free(s->known_hosts);
	free(s->pin);
	free(s->command);
	free(s->ciphers);
	free(s->hostkey_algs);
	free(s->control_path);
	free(s->ssh_config);
	free(s->destination);
	free(s->proxy_jump);
	for (i = 0; i < s->nhops; i++)
		ssh_settings_clear(&s->hops[i]);
	free(s->hops);
	memset(s, 0, sizeof(*s));
}

static int	ssh_settings_load(struct ssh_settings *,
		    const struct conf_bastion *, const struct conf *);

/*
 * The libssh2 engine's proxy_jump: the [bastion] sections it names, in
 * order (conf_validate checked that they exist, use libssh2 and have no
 * proxy_jump of their own).
 */
static int
ssh_settings_hops(struct ssh_settings *s, const char *list,
    const struct conf *c)
{
	char	*copy, *name, *save = NULL;
	size_t	 i, n = 1;
	int	 rc = -1;

	for (i = 0; list[i] != '\0'; i++)
		n += list[i] == ',';
	if ((s->hops = calloc(n, sizeof(*s->hops))) == NULL ||
	    (copy = strdup(list)) == NULL)
		return (-1);
	for (name = strtok_r(copy, ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < c->nbastions; i++)
			if (strcmp(c->bastions[i].name, name) == 0)
				break;
		if (i == c->nbastions || s->nhops == n ||
		    ssh_settings_load(&s->hops[s->nhops], &c->bastions[i],
		    NULL) != 0)
			goto out;
		s->nhops++;
	}
	rc = 0;
out:
	free(copy);
	return (rc);
}

static int
ssh_settings_load(struct ssh_settings *s, const struct conf_bastion *cb,
    const struct conf *c)
{
	const char	*pin = cb->host_key_sha256;
	int		 oom = 0;

	memset(s, 0, sizeof(*s));
	s->name = ssh_strdup(cb->name, &oom);
	s->host = ssh_strdup(cb->address.host, &oom);
	s->port = cb->address.port;
	s->user = ssh_strdup(cb->user, &oom);
	s->identity = ssh_strdup(cb->identity, &oom);
	s->passphrase = ssh_strdup(cb->identity_passphrase, &oom);
	s->known_hosts = cb->known_hosts != NULL ?
	    ssh_strdup(cb->known_hosts, &oom) : ssh_default_known_hosts();
	if (pin != NULL) {
		/* Kept as ssh-keygen prints it: "SHA256:" and no padding. */
		if (strncmp(pin, "SHA256:", 7) == 0)
			pin += 7;
		if (asprintf(&s->pin, "SHA256:%.43s", pin) == -1)
			s->pin = NULL, oom = 1;
	}
	s->command = ssh_strdup(cb->session_command, &oom);
	s->ciphers = ssh_strdup(cb->ciphers, &oom);
	s->hostkey_algs = ssh_strdup(cb->host_key_algorithms, &oom);
	s->openssh = cb->engine == SSH_ENGINE_OPENSSH;
	s->control_path = ssh_strdup(cb->control_path, &oom);
	s->ssh_config = ssh_strdup(cb->ssh_config, &oom);
	s->destination = ssh_strdup(cb->ssh_destination, &oom);
	s->proxy_jump = ssh_strdup(cb->proxy_jump, &oom);
	s->known_hosts_given = cb->known_hosts != NULL;
	s->mux_listener = cb->mux_forward == 1;
	s->mux_client = cb->mux_forward == 2;
	s->mux_proxy = cb->mux_forward == 3;
	s->accept_new = cb->strict_host_key_checking == HOSTKEY_ACCEPT_NEW;
	s->ask = cb->strict_host_key_checking == HOSTKEY_ASK;
	s->keepalive_ms = cb->keepalive_interval_ms;
	s->keepalive_count = cb->keepalive_count;
	s->connect_timeout_ms = cb->connect_timeout_ms;
	s->connections = cb->connections;
	s->max_connections = cb->max_connections > cb->connections ?
	    cb->max_connections : cb->connections;
	if (!s->openssh && cb->proxy_jump != NULL && !oom && (c == NULL ||
	    ssh_settings_hops(s, cb->proxy_jump, c) != 0))
		oom = 1;	/* a hop's own proxy_jump: c is NULL */
	if (oom || s->known_hosts == NULL) {
		ssh_settings_clear(s);
		return (-1);
	}
	return (0);
}

int
ssh_settings_copy(struct ssh_settings *d, const struct ssh_settings *s)
{
	size_t	i;
	int	oom = 0;

	*d = *s;
	d->name = ssh_strdup(s->name, &oom);
	d->host = ssh_strdup(s->host, &oom);
	d->user = ssh_strdup(s->user, &oom);
	d->identity = ssh_strdup(s->identity, &oom);
	d->passphrase = ssh_strdup(s->passphrase, &oom);
	d->known_hosts = ssh_strdup(s->known_hosts, &oom);
	d->pin = ssh_strdup(s->pin, &oom);
	d->command = ssh_strdup(s->command, &oom);
	d->ciphers = ssh_strdup(s->ciphers, &oom);
	d->hostkey_algs = ssh_strdup(s->hostkey_algs, &oom);
	d->control_path = ssh_strdup(s->control_path, &oom);
	d->ssh_config = ssh_strdup(s->ssh_config, &oom);
	d->destination = ssh_strdup(s->destination, &oom);
	d->proxy_jump = ssh_strdup(s->proxy_jump, &oom);
	d->hops = NULL;
	d->nhops = 0;
	if (!oom && s->nhops > 0 && (d->hops = calloc(s->nhops,
	    sizeof(*d->hops))) == NULL)
		oom = 1;
	for (i = 0; !oom && i < s->nhops; i++) {
		if (ssh_settings_copy(&d->hops[i], &s->hops[i]) != 0)
			oom = 1;
		else
			d->nhops++;
	}
	if (oom) {
		ssh_settings_clear(d);
		return (-1);
	}
	return (0);
}

static int
ssh_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

static int
ssh_settings_equal(const struct ssh_settings *a, const struct ssh_settings *b)
{
	size_t	i;

	if (a->nhops != b->nhops)
		return (0);
	for (i = 0; i < a->nhops; i++)
		if (!ssh_settings_equal(&a->hops[i], &b->hops[i]))
			return (0);
	return (ssh_str_eq(a->name, b->name) && ssh_str_eq(a->host, b->host) &&
	    a->port == b->port && ssh_str_eq(a->user, b->user) &&
	    ssh_str_eq(a->identity, b->identity) &&
	    ssh_str_eq(a->passphrase, b->passphrase) &&
	    ssh_str_eq(a->known_hosts, b->known_hosts) &&
	    ssh_str_eq(a->pin, b->pin) && ssh_str_eq(a->command, b->command) &&
	    ssh_str_eq(a->ciphers, b->ciphers) &&
	    ssh_str_eq(a->hostkey_algs, b->hostkey_algs) &&
	    a->accept_new == b->accept_new && a->ask == b->ask &&
	    a->keepalive_ms == b->keepalive_ms &&
	    a->keepalive_count == b->keepalive_count &&
	    a->connect_timeout_ms == b->connect_timeout_ms &&
	    a->connections == b->connections &&
	    a->max_connections == b->max_connections &&
	    a->openssh == b->openssh &&
	    ssh_str_eq(a->control_path, b->control_path) &&
	    ssh_str_eq(a->ssh_config, b->ssh_config) &&
	    ssh_str_eq(a->destination, b->destination) &&
	    ssh_str_eq(a->proxy_jump, b->proxy_jump) &&
	    a->known_hosts_given == b->known_hosts_given &&
	    a->mux_listener == b->mux_listener &&
	    a->mux_client == b->mux_client &&
	    a->mux_proxy == b->mux_proxy);
}

/* ------------------------------------------------------------------ */
/* Bastions and the pool. */

void
ssh_forwards_clear(struct ssh_bastion *b)
{
	size_t	i;

	for (i = 0; i < b->nforwards; i++)
		free(b->forwards[i]);
	free(b->forwards);
	b->forwards = NULL;
	b->nforwards = 0;
}

/* -L quick mode: the "listen -> target" of each forward through b. */
static void
ssh_forwards_build(struct ssh_bastion *b, const struct conf *c)
{
	const struct conf_service	*s;
	const struct conf_route		*r;
	char				 l[ADDR_STRLEN], t[ADDR_STRLEN];
	char				**grown, *line;
	size_t				 i, j;

	ssh_forwards_clear(b);
	b->quick = c->path == NULL;
	if (!b->quick)
		return;
	for (i = 0; i < c->nservices; i++) {
		s = &c->services[i];
		for (j = 0; j < s->nroutes && s->nlisten > 0; j++) {
			r = &s->routes[j];
			if (r->kind != ROUTE_SSH || strcmp(r->bastion,
			    b->set.name) != 0)
				continue;
			if (asprintf(&line, "%s -> %s", addr_format(
			    &s->listen[0].addr, l, sizeof(l)), addr_format(
			    &r->target, t, sizeof(t))) == -1)
				continue;
			grown = reallocarray(b->forwards, b->nforwards + 1,
			    sizeof(*grown));
			if (grown == NULL) {
				free(line);
				continue;
			}
			b->forwards = grown;
			b->forwards[b->nforwards++] = line;
		}
	}
}

static void
ssh_bastion_retire(struct ssh_bastion *b, const char *why)
{
	struct ssh_pool	*pool = b->pool;
	char		 detail[700];

	TAILQ_REMOVE(&pool->live, b, entry);
	TAILQ_INSERT_TAIL(&pool->retired, b, entry);
	b->retired = 1;
	snprintf(detail, sizeof(detail), "bastion %s: %s", b->set.name, why);
	ssh_open_fail_all(b, detail);
	ssh_conns_retire(b, detail);
	if (b->state == SSH_READY && b->nchans > 0)
		log_info("%s: %s: closing it once its %u channel%s done",
		    b->label, why, b->nchans, b->nchans == 1 ? " is" : "s are");
	else
		log_info("%s: %s: closing it", b->label, why);
	event_active(pool->reap, EV_TIMEOUT, 0);
}

static void
ssh_pool_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_pool		*pool = arg;
	struct ssh_bastion	*b, *next;

	for (b = TAILQ_FIRST(&pool->retired); b != NULL; b = next) {
		next = TAILQ_NEXT(b, entry);
		if ((b->state == SSH_READY && b->nchans > 0) ||
		    ssh_conns_busy(b))
			continue;
		TAILQ_REMOVE(&pool->retired, b, entry);
		ssh_bastion_free(b);
	}
}

struct ssh_pool *
ssh_pool_new(struct event_base *base, struct evdns_base *dns)
{
	struct ssh_pool	*pool;

	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return (NULL);
	pool->base = base;
	pool->dns = dns;
	TAILQ_INIT(&pool->live);
	TAILQ_INIT(&pool->retired);
	TAILQ_INIT(&pool->pending);
	if ((pool->reap = event_new(base, -1, 0, ssh_pool_reap_cb,
	    pool)) == NULL) {
		free(pool);
		return (NULL);
	}
	return (pool);
}

void
ssh_pool_on_refused(struct ssh_pool *pool, void (*cb)(void *, int),
    void *arg)
{
	pool->refused_cb = cb;
	pool->refused_arg = arg;
}

/* The bastion named name in list, or NULL. */
static struct ssh_bastion *
ssh_list_find(struct ssh_bastion_list *list, const char *name)
{
	struct ssh_bastion	*b;

	TAILQ_FOREACH(b, list, entry) {
		if (strcmp(b->set.name, name) == 0)
			return (b);
	}
	return (NULL);
}

struct ssh_bastion *
ssh_pool_find(struct ssh_pool *pool, const char *name)
{
	if (pool == NULL || name == NULL)
		return (NULL);
	return (ssh_list_find(&pool->live, name));
}

static int
ssh_conf_uses(const struct conf *c, const char *name)
{
	size_t	i, j;

	for (i = 0; i < c->nservices; i++) {
		for (j = 0; j < c->services[i].nroutes; j++) {
			const struct conf_route *r = &c->services[i].routes[j];

			if (r->kind == ROUTE_SSH && strcmp(r->bastion,
			    name) == 0)
				return (1);
		}
	}
	return (0);
}

void
ssh_pool_abort(struct ssh_pool *pool)
{
	struct ssh_bastion	*b;

	while ((b = TAILQ_FIRST(&pool->pending)) != NULL) {
		TAILQ_REMOVE(&pool->pending, b, entry);
		ssh_bastion_free(b);
	}
}

int
ssh_pool_prepare(struct ssh_pool *pool, const struct conf *c)
{
	struct ssh_bastion	*b, *old;
	struct ssh_settings	 set;
	struct conf_errors	 errs = { NULL, 0 };
	size_t			 i;
	int			 rc;

	ssh_pool_abort(pool);
	rc = ssh_algs_check(c, &errs);
	for (i = 0; i < errs.n; i++)
		log_error("%s", errs.msg[i]);
	conf_errors_free(&errs);
	if (rc != 0)
		return (-1);
	for (i = 0; i < c->nbastions; i++) {
		if (!ssh_conf_uses(c, c->bastions[i].name))
			continue;
		if (ssh_settings_load(&set, &c->bastions[i], c) != 0) {
			log_error("bastion %s: out of memory",
			    c->bastions[i].name);
			goto fail;
		}
		old = ssh_pool_find(pool, set.name);
		if (old != NULL && ssh_settings_equal(&old->set, &set)) {
			ssh_settings_clear(&set);
			continue;
		}
		if (fault_at("reload.bastion") ||
		    (b = ssh_bastion_new(pool, &set)) == NULL) {
			log_error("bastion %s: out of memory", set.name);
			ssh_settings_clear(&set);
			goto fail;
		}
		TAILQ_INSERT_TAIL(&pool->pending, b, entry);
	}
	return (0);
fail:
	ssh_pool_abort(pool);
	return (-1);
}

void
ssh_pool_commit(struct ssh_pool *pool, const struct conf *c)
{
	struct ssh_bastion	*b, *old, *next;
	size_t			 i;

	TAILQ_FOREACH(b, &pool->live, entry)
		b->seen = 0;
	for (i = 0; i < c->nbastions; i++) {
		if (!ssh_conf_uses(c, c->bastions[i].name))
			continue;
		old = ssh_pool_find(pool, c->bastions[i].name);
		if ((b = ssh_list_find(&pool->pending,
		    c->bastions[i].name)) == NULL) {
			/* Unchanged (ssh_pool_prepare kept it). */
			old->seen = 1;
			ssh_forwards_build(old, c);
			ssh_mux_fwd_targets(old, c);
			continue;
		}
		if (old != NULL)
			ssh_bastion_retire(old, "its [bastion] section "
			    "changed");
		TAILQ_REMOVE(&pool->pending, b, entry);
		b->seen = 1;
		ssh_forwards_build(b, c);
		ssh_mux_fwd_targets(b, c);
		TAILQ_INSERT_TAIL(&pool->live, b, entry);
		ssh_connect(b);
		if (!b->set.openssh)	/* one master serves every open */
			ssh_conns_start(b);
	}
	for (b = TAILQ_FIRST(&pool->live); b != NULL; b = next) {
		next = TAILQ_NEXT(b, entry);
		if (!b->seen)
			ssh_bastion_retire(b, "no ssh:// route uses it any "
			    "more");
	}
}

static const char *
ssh_state_name(int state)
{
	switch (state) {
	case SSH_IDLE:
		return ("closed");
	case SSH_CONNECTING:
		return ("connecting");
	case SSH_HANDSHAKE:
		return ("handshake");
	case SSH_AUTH:
		return ("authenticating");
	case SSH_READY:
		return ("ready");
	case SSH_BACKOFF:
		return ("backoff");
	}
	return ("?");
}

static unsigned int
ssh_waiting(const struct ssh_bastion *b)
{
	const struct ssh_open	*o;
	unsigned int		 n = 0;

	TAILQ_FOREACH(o, &b->opens, entry) {
		if (o->kind == SSH_OPEN_DIRECT && o->cb != NULL)
			n++;
	}
	if (b->opening != NULL && b->opening->kind == SSH_OPEN_DIRECT)
		n++;
	return (n);
}

void
ssh_pool_info(struct ssh_pool *pool, ssh_info_cb *cb, void *arg)
{
	const struct ssh_bastion	*b, *c;
	struct ssh_info			 in;
	unsigned int			 i;

	if (pool == NULL)
		return;
	TAILQ_FOREACH(b, &pool->live, entry) {
		memset(&in, 0, sizeof(in));
		in.name = b->set.name;
		in.via = b->via;
		in.state = ssh_state_name(b->state);
		for (i = 0; i <= b->conns.n; i++) {
			c = i == 0 ? b : b->conns.conn[i - 1];
			if (c->state == SSH_READY)
				in.connections++;
			in.channels += c->nchans;
			in.waiting += ssh_waiting(c);
			in.losses += c->losses;
			in.spare |= c->conns.grown && c->state != SSH_IDLE;
		}
		in.up = in.connections > 0;
		in.fingerprint = b->fingerprint;
		in.last_error = b->last_error;
		cb(&in, arg);
	}
}

void
ssh_pool_free(struct ssh_pool *pool)
{
	struct ssh_bastion	*b;

	if (pool == NULL)
		return;
	ssh_pool_abort(pool);
	while ((b = TAILQ_FIRST(&pool->live)) != NULL) {
		TAILQ_REMOVE(&pool->live, b, entry);
		ssh_bastion_free(b);
	}
	while ((b = TAILQ_FIRST(&pool->retired)) != NULL) {
		TAILQ_REMOVE(&pool->retired, b, entry);
		ssh_bastion_free(b);
	}
	event_free(pool->reap);
	free(pool);
}
