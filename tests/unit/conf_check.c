/*
 * conf_check.c: helpers shared by the configuration unit tests.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "conf.h"
#include "conf_keys.h"
#include "conf_check.h"

/* The example from the configuration contract (see postern.conf(5)). */
const char example[] =
	"[postern]\n"
	"admin     = 127.0.0.1:9090\n"
	"log_level = info\n"
	"\n"
	"[bastion prod]\n"
	"address     = bastion.example.com:22\n"
	"user        = deploy\n"
	"identity    = /etc/postern/id_ed25519\n"
	"known_hosts = /etc/postern/known_hosts\n"
	"\n"
	"[service redis]\n"
	"listen   = 127.0.0.1:6379\n"
	"protocol = redis\n"
	"route    = private tcp://172.16.0.4:6379\n"
	"route    = bastion ssh://prod/172.16.0.4:6379\n"
	"route    = public  tls://redis.example.net:6380 "
	    "ca=/etc/ssl/certs/ca-certificates.crt\n"
	"check    = redis\n"
	"check_interval = 2s\n"
	"rise     = 2\n"
	"fall     = 3\n"
	"\n"
	"[service postgres]\n"
	"listen   = 127.0.0.1:5432\n"
	"protocol = postgres\n"
	"route    = private tcp://10.0.1.2:5433\n"
	"route    = public  tls://db.example.net:5432 name=db.example.net\n";



struct conf *
parse_buf(const char *buf, size_t len, int flags, struct conf_errors *e)
{
	return (conf_parse(buf, len, "t.conf", flags, e));
}

void
dump_errors(const char *what, const struct conf_errors *e)
{
	size_t	i;

	print_error("%s: %zu error(s)\n", what, e->n);
	for (i = 0; i < e->n; i++)
		print_error("  got:  %s\n", e->msg[i]);
}

/* Parse buf, which must be valid; the caller unrefs the result. */
struct conf *
parse_ok_buf(const char *buf, size_t len, int flags)
{
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*c;

	c = parse_buf(buf, len, flags, &e);
	if (c == NULL || e.n != 0) {
		dump_errors("expected a valid configuration", &e);
		conf_unref(c);
		conf_errors_free(&e);
		fail();
	}
	assert_int_equal(c->refs, 1);
	return (c);
}

struct conf *
parse_ok(const char *text)
{
	return (parse_ok_buf(text, strlen(text), 0));
}

/* Compare the errors in e with the NULL-terminated list want. */
void
check_errors(struct conf *c, struct conf_errors *e, const char *const *want)
{
	size_t	 i, n;
	int	 same;

	for (n = 0; want[n] != NULL; n++)
		;
	same = c == NULL && e->n == n;
	for (i = 0; same && i < n; i++)
		same = strcmp(e->msg[i], want[i]) == 0;
	if (!same) {
		dump_errors(c != NULL ? "parsed, but expected errors" :
		    "unexpected errors", e);
		for (i = 0; i < n; i++)
			print_error("  want: %s\n", want[i]);
		conf_unref(c);
		conf_errors_free(e);
		fail();
	}
	conf_errors_free(e);
}

void
expect_errors_buf(const char *buf, size_t len, int flags,
    const char *const *want)
{
	struct conf_errors	 e = { NULL, 0 };

	check_errors(parse_buf(buf, len, flags, &e), &e, want);
}



const char *
fmt(const struct addr *a)
{
	static char	buf[ADDR_STRLEN];

	return (addr_format(a, buf, sizeof(buf)));
}

/* check_example(c): c is the contract example, parsed (values, lines). */
void
check_example(const struct conf *c)
{
	const struct conf_service	*s;
	const struct conf_bastion	*b;
	const struct conf_route		*r;

	assert_true(c->has_admin);
	assert_string_equal(fmt(&c->admin), "127.0.0.1:9090");
	assert_int_equal(c->log_level, LEVEL_INFO);
	assert_int_equal(c->drain_timeout_ms, 30000);

	assert_int_equal(c->nbastions, 1);
	b = conf_find_bastion(c, "prod");
	assert_non_null(b);
	assert_int_equal(b->line, 5);
	assert_string_equal(fmt(&b->address), "bastion.example.com:22");
	assert_string_equal(b->user, "deploy");
	assert_string_equal(b->identity, "/etc/postern/id_ed25519");
	assert_string_equal(b->known_hosts, "/etc/postern/known_hosts");
	assert_null(conf_find_bastion(c, "staging"));

	assert_int_equal(c->nservices, 2);
	s = conf_find_service(c, "redis");
	assert_ptr_equal(s, &c->services[0]);
	assert_int_equal(s->line, 11);
	assert_int_equal(s->nlisten, 1);
	assert_string_equal(fmt(&s->listen[0].addr), "127.0.0.1:6379");
	assert_int_equal(s->listen[0].line, 12);
	assert_int_equal(s->protocol, PROTO_REDIS);
	assert_int_equal(s->check, CHECK_REDIS);
	assert_int_equal(s->check_interval_ms, 2000);
	assert_int_equal(s->check_timeout_ms, 1000);
	assert_int_equal(s->connect_timeout_ms, 4000);
	assert_int_equal(s->rise, 2);
	assert_int_equal(s->fall, 3);
	assert_int_equal(s->max_connections, 4096);

	/* Routes keep the order written: it is their priority. */
	assert_int_equal(s->nroutes, 3);
	r = &s->routes[0];
	assert_string_equal(r->name, "private");
	assert_string_equal(r->url, "tcp://172.16.0.4:6379");
	assert_int_equal(r->kind, ROUTE_TCP);
	assert_string_equal(fmt(&r->target), "172.16.0.4:6379");
	assert_null(r->bastion);
	assert_int_equal(r->nopts, 0);
	assert_int_equal(r->line, 14);
	r = &s->routes[1];
	assert_string_equal(r->name, "bastion");
	assert_int_equal(r->kind, ROUTE_SSH);
	assert_string_equal(r->bastion, "prod");
	assert_string_equal(fmt(&r->target), "172.16.0.4:6379");
	assert_int_equal(r->line, 15);
	r = &s->routes[2];
	assert_string_equal(r->name, "public");
	assert_string_equal(r->url, "tls://redis.example.net:6380");
	assert_int_equal(r->kind, ROUTE_TLS);
	assert_string_equal(fmt(&r->target), "redis.example.net:6380");
	assert_int_equal(r->nopts, 1);
	assert_string_equal(conf_route_opt(r, "ca"),
	    "/etc/ssl/certs/ca-certificates.crt");
	assert_null(conf_route_opt(r, "name"));

	/* postgres: everything not written is a default. */
	s = conf_find_service(c, "postgres");
	assert_ptr_equal(s, &c->services[1]);
	assert_int_equal(s->protocol, PROTO_POSTGRES);
	assert_int_equal(s->check, CHECK_DEFAULT);
	assert_int_equal(s->check_interval_ms, 2000);
	assert_int_equal(s->check_timeout_ms, 1000);
	assert_int_equal(s->connect_timeout_ms, 4000);
	assert_int_equal(s->rise, 2);
	assert_int_equal(s->fall, 3);
	assert_int_equal(s->max_connections, 4096);
	assert_int_equal(s->nroutes, 2);
	assert_string_equal(s->routes[0].name, "private");
	assert_string_equal(fmt(&s->routes[0].target), "10.0.1.2:5433");
	assert_string_equal(conf_route_opt(&s->routes[1], "name"),
	    "db.example.net");
	assert_null(conf_find_service(c, "mysql"));
}
