/*
 * ctl.c: "postern ctl": one HTTP/1.0 request to the admin endpoint, the
 * answer printed.  The endpoint answers in the text ctl prints (the
 * /status table; route control, asked with "Accept: text/plain", its
 * message or error as one line), so ctl reads only the status line.
 *
 * Not evhttp's client: in libevent 2.1 an evhttp_connection always
 * connects by itself, by host name (evhttp_connection_connect_ resets
 * the bufferevent's socket), so it cannot reach a unix: admin address;
 * that arrives in 2.2.  One path for both kinds instead: a blocking
 * socket with 5 s timeouts, the answer read into an evbuffer.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/crypto.h>

#include "addr.h"
#include "conf.h"
#include "ctl.h"

#define CTL_OK		0
#define CTL_FAIL	1
#define CTL_USAGE	2
#define CTL_TIMEOUT_S	5
#define CTL_MAX_REPLY	(64 * 1024 * 1024)
#define CTL_MAX_CONF	(4 * 1024 * 1024)
#define CTL_DEFAULT	"127.0.0.1:9090"
/* The installed configuration ctl reads when given neither -a nor -c. */
#define CTL_DEFAULT_CONF	POSTERN_SYSCONFDIR "/postern/postern.conf"

enum ctl_kind {
	CTL_PRINT,		/* GET; print the body; 0 on 200 */
	CTL_ACTION		/* POST; print the message, or the error */
};

struct ctl_cmd {
	const char	*name;
	int		 nargs;		/* SERVICE [ROUTE] */
	const char	*path;
	enum ctl_kind	 kind;
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", 0, "/status", CTL_PRINT },
	{ "health", 0, "/health", CTL_PRINT },
	{ "metrics", 0, "/metrics", CTL_PRINT },
	{ "liveness", 0, "/liveness", CTL_PRINT },
	{ "readiness", 0, "/readiness", CTL_PRINT },
	{ "startup", 0, "/startup", CTL_PRINT },
	{ "pin", 2, "/routes/pin", CTL_ACTION },
	{ "unpin", 1, "/routes/unpin", CTL_ACTION },
	{ "drain", 2, "/routes/drain", CTL_ACTION },
	{ "enable", 2, "/routes/enable", CTL_ACTION },
	{ "disable", 2, "/routes/disable", CTL_ACTION },
};

static void
ctl_usage(FILE *fp)
{
	fprintf(fp,
"usage: postern ctl [-a address] [-c file] [-t file] command [arguments]\n"
"\n"
"Ask a running postern through its admin endpoint.\n"
"\n"
"  -a address  the admin address: host:port, [v6]:port, port (127.0.0.1)\n"
"              or unix:/path\n"
"  -c file     use the admin address and admin_token_file of this\n"
"              configuration file (without -a or -c: those of\n"
"              " CTL_DEFAULT_CONF ", else " CTL_DEFAULT ")\n"
"  -t, --token-file file\n"
"              send the bearer token in the first line of file\n"
"              (default: the admin_token_file of -c)\n"
"  -h, --help  print this help and exit\n"
"\n"
"Commands:\n"
"  status                        services and routes as a table; exit 1\n"
"                                when a service has no usable route\n"
"  pin SERVICE ROUTE [--for D]   new sessions go to ROUTE first (while it\n"
"                                is usable), for D (90s, 30m, 1h; at\n"
"                                most 24h) or until unpinned\n"
"  unpin SERVICE                 back to the configured route order\n"
"  drain SERVICE ROUTE [--deadline D]\n"
"                                no new sessions on ROUTE; established\n"
"                                ones leave it at safe points, and after\n"
"                                D (5m) what is left is closed\n"
"  disable SERVICE ROUTE         no new sessions on ROUTE; established\n"
"                                ones are closed\n"
"  enable SERVICE ROUTE          undo drain or disable\n"
"  health                        GET /health (JSON)\n"
"  metrics                       GET /metrics (Prometheus text format)\n"
"  liveness, readiness, startup  the probe's answer\n"
"\n"
"Exit status: 0 success (status: healthy or degraded), 1 failure or a\n"
"failing answer (unhealthy, not ready, HTTP error), 2 usage error.\n");
}

static int
ctl_usage_hint(void)
{
	fprintf(stderr, "usage: postern ctl [-a address] [-c file] [-t file] "
	    "command [arguments]\n(postern ctl --help lists the commands)\n");
	return (CTL_USAGE);
}

/*
 * The admin address of a configuration file, and its admin_token_file
 * (NULL when unset; the caller frees it); 0, or CTL_USAGE (printed).
 * Not conf_load(): that also checks the files the configuration names
 * and reads the secrets in them, which ctl has no use for and its user
 * may not be allowed to read.
 */
static int
ctl_conf_addr(const char *path, struct addr *a, char **token_file)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*c = NULL;
	FILE			*fp;
	char			*buf;
	size_t			 len = 0, i;
	int			 rc = CTL_USAGE;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "postern ctl: %s: %s\n", path, strerror(errno));
		return (CTL_USAGE);
	}
	if ((buf = malloc(CTL_MAX_CONF + 1)) != NULL)
		len = fread(buf, 1, CTL_MAX_CONF + 1, fp);
	if (buf == NULL || ferror(fp) || len > CTL_MAX_CONF)
		fprintf(stderr, "postern ctl: %s: %s\n", path, buf == NULL ?
		    "out of memory" : ferror(fp) ? strerror(errno) :
		    "too large");
	else
		c = conf_parse(buf, len, path, 0, &errs);
	fclose(fp);
	free(buf);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	conf_errors_free(&errs);
	if (c == NULL)
		return (CTL_USAGE);
	if (!c->has_admin)
		fprintf(stderr, "postern ctl: %s sets no admin address (add "
		    "'admin = %s' to [postern])\n", path, CTL_DEFAULT);
	else if (c->admin_token_file != NULL &&
	    (*token_file = strdup(c->admin_token_file)) == NULL)
		fprintf(stderr, "postern ctl: out of memory\n");
	else {
		*a = c->admin;
		rc = 0;
	}
	conf_unref(c);
	return (rc);
}

/*
 * Where a is: a literal or unix path as it is, "*" (every interface) as
 * 127.0.0.1, a name as the first address it resolves to, which is the
 * one the daemon bound (listener.c).  0, or a getaddrinfo error.
 */
static int
ctl_sockaddr(const struct addr *a, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addr	 lo = *a;
	struct addrinfo	 hints, *res;
	char		 port[8];
	int		 gai;

	if (strcmp(lo.host, "*") == 0 && lo.kind == ADDR_INET)
		snprintf(lo.host, sizeof(lo.host), "127.0.0.1");
	if (addr_sockaddr(&lo, ss, len) == 0)
		return (0);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", lo.port);
	if ((gai = getaddrinfo(lo.host, port, &hints, &res)) != 0)
		return (gai);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* A socket connected to a, with the timeouts set; -1 (printed). */
static int
ctl_connect(const struct addr *a, const char *where)
{
	struct sockaddr_storage	 ss;
	struct timeval		 tv = { CTL_TIMEOUT_S, 0 };
	socklen_t		 len;
	int			 fd = -1, gai;

	if ((gai = ctl_sockaddr(a, &ss, &len)) != 0) {
		fprintf(stderr, "postern ctl: cannot connect to %s: %s\n",
		    where, gai_strerror(gai));
		return (-1);
	}
	/* SO_SNDTIMEO bounds connect() too. */
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno == EINPROGRESS || errno == EAGAIN)
			fprintf(stderr, "postern ctl: cannot connect to %s: no "
			    "answer within %ds\n", where, CTL_TIMEOUT_S);
		else
			fprintf(stderr, "postern ctl: cannot connect to %s: "
			    "%s%s\n", where, strerror(errno), errno ==
			    ECONNREFUSED || errno == ENOENT ? " (is admin set "
			    "in the config?)" : "");
		if (fd != -1)
			close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * The Host header: the address connected to, as an IP literal, which the
 * endpoint accepts whatever name the configuration used (it refuses
 * names other than localhost, see admin_guard.c).
 */
static void
ctl_host(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		snprintf(buf, len, "localhost");
	else
		addr_from_sockaddr((struct sockaddr *)&ss, sslen, buf, len);
}

/*
 * Send req whole, then read the answer to EOF into in; 0, or -1
 * (printed).
 */
static int
ctl_exchange(int fd, const char *where, const char *req, size_t len,
    struct evbuffer *in)
{
	ssize_t	n;

	/* A request this small goes whole unless interrupted or timed out. */
	if ((n = send(fd, req, len, MSG_NOSIGNAL)) != (ssize_t)len) {
		fprintf(stderr, "postern ctl: %s: %s\n", where, n != -1 ||
		    errno == EAGAIN ? "timed out sending" : strerror(errno));
		return (-1);
	}
	while ((n = evbuffer_read(in, fd, -1)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || evbuffer_get_length(in) > CTL_MAX_REPLY) {
			fprintf(stderr, "postern ctl: %s: %s\n", where, n != -1 ?
			    "answer too large" : errno == EAGAIN ? "no answer "
			    "within 5s" : strerror(errno));
			return (-1);
		}
	}
	return (0);
}

/*
 * One request for target, its answer's status in *code and reason, the
 * body left in body; 0, or -1 (printed).  The token (or NULL) goes in an
 * Authorization header; X-Postern-Request marks it as no browser's.
 */
static int
ctl_request(const struct addr *a, const struct ctl_cmd *cmd,
    const char *target, const char *token, struct evbuffer *body, int *code,
    char *reason, size_t reasonlen)
{
	char	 where[ADDR_STRLEN], host[ADDR_STRLEN], *req = NULL, *line = NULL;
	size_t	 n;
	int	 fd, rc = -1, len = -1, at = 0;

	addr_format(a, where, sizeof(where));
	if ((fd = ctl_connect(a, where)) == -1)
		return (-1);
	ctl_host(fd, host, sizeof(host));
	len = asprintf(&req, "%s %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: "
	    "postern-ctl/%s\r\nX-Postern-Request: 1\r\n%s%s%s%sContent-Length:"
	    " 0\r\n\r\n", cmd->kind == CTL_ACTION ? "POST" : "GET", target,
	    host, PACKAGE_VERSION, cmd->kind == CTL_ACTION ? "Accept: "
	    "text/plain\r\n" : "", token != NULL ? "Authorization: Bearer " :
	    "", token != NULL ? token : "", token != NULL ? "\r\n" : "");
	if (len == -1)
		fprintf(stderr, "postern ctl: out of memory\n");
	else if (ctl_exchange(fd, where, req, (size_t)len, body) != 0)
		goto out;
	else if ((line = evbuffer_readln(body, &n, EVBUFFER_EOL_CRLF)) == NULL ||
	    sscanf(line, "HTTP/1.%*1[01] %3d %n", code, &at) != 1 || at == 0 ||
	    *code < 100 || *code > 599)
		fprintf(stderr, "postern ctl: %s: %s\n", where,
		    evbuffer_get_length(body) == 0 && line == NULL ? "closed "
		    "without answering" : "not an HTTP answer");
	else {
		snprintf(reason, reasonlen, "%s", line + at);
		/* Headers: none matters, the last is an empty line. */
		free(line);
		while ((line = evbuffer_readln(body, &n, EVBUFFER_EOL_CRLF)) !=
		    NULL && n > 0)
			free(line);
		if (line == NULL)
			fprintf(stderr, "postern ctl: %s: truncated HTTP "
			    "answer\n", where);
		else
			rc = 0;
	}
	free(line);
out:
	if (req != NULL) {
		OPENSSL_cleanse(req, (size_t)len);
		free(req);
	}
	close(fd);
	return (rc);
}

/*
 * Print what came back: a page's body as it is, a route-control message
 * on stdout and its error on stderr.  Returns the exit status.
 */
static int
ctl_show(const struct ctl_cmd *cmd, struct evbuffer *body, int code,
    const char *reason)
{
	size_t	 len = evbuffer_get_length(body);
	char	*p = (char *)evbuffer_pullup(body, -1);

	if (len > 0 && (cmd->kind == CTL_PRINT || code == 200))
		fwrite(p, 1, len, stdout);
	else if (len > 0)
		fprintf(stderr, "postern ctl: %.*s\n", (int)(len - (p[len - 1] ==
		    '\n')), p);
	if ((code != 200 || cmd->kind == CTL_ACTION) && len == 0)
		fprintf(stderr, "postern ctl: HTTP %d %s\n", code, reason);
	return (code == 200 && (cmd->kind == CTL_PRINT || len > 0) ? CTL_OK :
	    CTL_FAIL);
}

/* The command line: options anywhere (getopt permutes), then words. */
struct ctl_args {
	const struct ctl_cmd	*cmd;
	const char		*aopt, *file, *topt;
	const char		*val[4];	/* service, route, for, deadline */
};

/*
 * Where to ask (-a, else -c's admin, else the default) and the token
 * (-t, else -c's admin_token_file; *token NULL without).  A token file
 * that cannot be read fails a write or an explicit -t; a read goes on
 * without (it needs the token only with admin_read_token, and then the
 * answer says so).  0, or CTL_USAGE (printed).
 */
static int
ctl_endpoint(const struct ctl_args *ca, struct addr *a, char **token)
{
	struct addr	 conf;
	const char	*path, *file = ca->file;
	char		 err[256], *tfile = NULL;
	int		 rc;

	/*
	 * Neither -a nor -c: the installed configuration says where the
	 * daemon listens (the package's sets its own port); only where
	 * there is none, the default address.
	 */
	if (file == NULL && ca->aopt == NULL) {
		if (access(CTL_DEFAULT_CONF, F_OK) == 0 ||
		    errno != ENOENT)
			file = CTL_DEFAULT_CONF;
	}
	if (file != NULL && access(file, R_OK) != 0 && errno == EACCES &&
	    ca->file == NULL) {
		fprintf(stderr, "postern ctl: %s: %s: run as root or as a "
		    "member of its group (adduser USER postern), or give "
		    "-a ADDRESS\n", file, strerror(EACCES));
		return (CTL_USAGE);
	}
	if (file != NULL && (rc = ctl_conf_addr(file, &conf, &tfile)) != 0)
		return (rc);
	rc = CTL_USAGE;
	if (ca->aopt != NULL) {
		if (addr_parse_listen(ca->aopt, a, err, sizeof(err)) != 0) {
			fprintf(stderr, "postern ctl: -a %s: %s\n", ca->aopt,
			    err);
			goto out;
		}
	} else if (file != NULL)
		*a = conf;
	else if (addr_parse_listen(CTL_DEFAULT, a, err, sizeof(err)) != 0)
		goto out;
	path = ca->topt != NULL ? ca->topt : tfile;
	if (path != NULL && conf_secret_read(path, 0, token, err,
	    sizeof(err)) != 0 &&
	    (ca->topt != NULL || ca->cmd->kind == CTL_ACTION)) {
		fprintf(stderr, "postern ctl: token file %s: %s\n", path, err);
		goto out;
	}
	rc = 0;
out:
	free(tfile);
	return (rc);
}

/* Parse the command line into ca; 0, -1 after --help, or CTL_USAGE. */
static int
ctl_parse_args(int argc, char **argv, struct ctl_args *ca)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "token-file", required_argument, NULL, 't' },
		{ "for", required_argument, NULL, 'f' },
		{ "deadline", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	size_t	i;
	int	ch, n = 0;

	memset(ca, 0, sizeof(*ca));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":a:c:t:h", longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			ctl_usage(stdout);
			return (-1);
		}
		if (ch == ':' || ch == '?') {
			if (ch == ':' && optopt == 'f')
				fprintf(stderr, "postern ctl: pin: --for needs "
				    "a duration (like 90s or 30m)\n");
			else if (ch == ':' && optopt == 'd')
				fprintf(stderr, "postern ctl: drain: "
				    "--deadline needs a duration (like 5m)\n");
			else if (ch == ':')
				fprintf(stderr, "postern ctl: -%c needs a "
				    "value\n", optopt);
			else if (optopt != 0)
				fprintf(stderr, "postern ctl: unknown option "
				    "-%c\n", optopt);
			else
				fprintf(stderr, "postern ctl: unknown option "
				    "%s\n", argv[optind - 1]);
			return (CTL_USAGE);
		}
		*(ch == 'a' ? &ca->aopt : ch == 'c' ? &ca->file : ch == 't' ?
		    &ca->topt : ch == 'd' ? &ca->val[3] : &ca->val[2]) = optarg;
	}
	if (optind == argc) {
		fprintf(stderr, "postern ctl: no command\n");
		return (CTL_USAGE);
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		if (strcmp(ctl_cmds[i].name, argv[optind]) == 0)
			ca->cmd = &ctl_cmds[i];
	}
	if (ca->cmd == NULL) {
		fprintf(stderr, "postern ctl: unknown command '%s'\n",
		    argv[optind]);
		return (CTL_USAGE);
	}
	for (optind++; optind < argc && n < ca->cmd->nargs; optind++)
		ca->val[n++] = argv[optind];
	if (optind < argc || (ca->val[2] != NULL &&
	    strcmp(ca->cmd->name, "pin") != 0) || (ca->val[3] != NULL &&
	    strcmp(ca->cmd->name, "drain") != 0)) {
		fprintf(stderr, "postern ctl: %s: unexpected '%s'\n",
		    ca->cmd->name, optind < argc ? argv[optind] :
		    ca->val[2] != NULL && strcmp(ca->cmd->name, "pin") != 0 ?
		    "--for" : "--deadline");
		return (CTL_USAGE);
	}
	if (n < ca->cmd->nargs) {
		fprintf(stderr, "postern ctl: %s needs %s\n", ca->cmd->name,
		    ca->cmd->nargs == 1 ? "SERVICE" : "SERVICE ROUTE");
		return (CTL_USAGE);
	}
	return (0);
}

/* The request target: the command's path and query, percent-encoded. */
static int
ctl_target(const struct ctl_args *ca, struct evbuffer *t)
{
	static const char	*keys[4] = {
		"service", "route", "for", "deadline"
	};
	char			*enc;
	int			 i, sep = '?';

	evbuffer_add_printf(t, "%s", ca->cmd->path);
	for (i = 0; i < 4; i++) {
		if (ca->val[i] == NULL)
			continue;
		if ((enc = evhttp_uriencode(ca->val[i], -1, 0)) == NULL)
			return (-1);
		evbuffer_add_printf(t, "%c%s=%s", sep, keys[i], enc);
		free(enc);
		sep = '&';
	}
	return (evbuffer_add(t, "", 1));
}

int
ctl_main(int argc, char **argv)
{
	struct ctl_args		 ca;
	struct evbuffer		*target = NULL, *body = NULL;
	struct addr		 a;
	char			 reason[64], *token = NULL;
	int			 rc, code = 0;

	if ((rc = ctl_parse_args(argc, argv, &ca)) != 0)
		return (rc == CTL_USAGE ? ctl_usage_hint() : CTL_OK);
	if ((rc = ctl_endpoint(&ca, &a, &token)) != 0)
		return (rc);
	rc = CTL_FAIL;
	if ((target = evbuffer_new()) == NULL ||
	    (body = evbuffer_new()) == NULL || ctl_target(&ca, target) != 0)
		fprintf(stderr, "postern ctl: out of memory\n");
	else if (ctl_request(&a, ca.cmd, (char *)evbuffer_pullup(target, -1),
	    token, body, &code, reason, sizeof(reason)) == 0)
		rc = ctl_show(ca.cmd, body, code, reason);
	if (target != NULL)
		evbuffer_free(target);
	if (body != NULL)
		evbuffer_free(body);
	if (token != NULL) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	return (rc);
}
