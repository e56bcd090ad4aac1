/*
 * ctl.c: "postern ctl": one HTTP/1.0 request to the admin endpoint over a
 * plain blocking socket (5 s timeouts), read to EOF, print the answer.
 * "status" prints the admin's own text table (GET /status), so the client
 * parses no JSON beyond the one string of a route-control answer.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

enum ctl_kind {
	CTL_PRINT,		/* print the body; 0 on 200 */
	CTL_ACTION		/* POST; print the JSON message or error */
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

struct ctl_reply {
	char	*buf;		/* the whole answer, NUL-terminated */
	size_t	 len;
	int	 code;
	char	*reason;	/* in buf */
	char	*body;		/* in buf */
	size_t	 bodylen;
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
"              configuration file (without -a or -c: " CTL_DEFAULT ")\n"
"  -t, --token-file file\n"
"              send the bearer token in the first line of file\n"
"              (default: the admin_token_file of -c)\n"
"  -h, --help  print this help and exit\n"
"\n"
"Commands:\n"
"  status                        services and routes as a table; exit 1\n"
"                                when a service has no usable route\n"
"  pin SERVICE ROUTE [--for D]   new sessions go to ROUTE first (while it\n"
"                                is usable), for D (90s, 30m; at most\n"
"                                1440m) or until unpinned\n"
"  unpin SERVICE                 back to the configured route order\n"
"  drain SERVICE ROUTE           no new sessions on ROUTE; established\n"
"                                ones stay\n"
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

/* Read path whole; NULL (with a message printed) on failure. */
static char *
ctl_read_file(const char *path, size_t *len)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 n;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "postern ctl: %s: %s\n", path, strerror(errno));
		return (NULL);
	}
	if ((buf = malloc(CTL_MAX_CONF + 1)) == NULL) {
		fprintf(stderr, "postern ctl: out of memory\n");
		goto out;
	}
	n = fread(buf, 1, CTL_MAX_CONF + 1, fp);
	if (ferror(fp) || n > CTL_MAX_CONF) {
		fprintf(stderr, "postern ctl: %s: %s\n", path, ferror(fp) ?
		    strerror(errno) : "too large");
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = n;
out:
	fclose(fp);
	return (buf);
}

/*
 * The admin address of a configuration file, and its admin_token_file
 * (NULL when unset; the caller frees it); 0, or CTL_USAGE.
 */
static int
ctl_conf_addr(const char *path, struct addr *a, char **token_file)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*c;
	char			*buf;
	size_t			 len, i;
	int			 rc = CTL_USAGE;

	if ((buf = ctl_read_file(path, &len)) == NULL)
		return (CTL_USAGE);
	c = conf_parse(buf, len, path, 0, &errs);
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

static void
ctl_timeouts(int fd)
{
	struct timeval	tv = { CTL_TIMEOUT_S, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int
ctl_connect_unix(const struct addr *a)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	ctl_timeouts(fd);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", a->path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

/* Connected socket, or -1 with errno (or *gai set). */
static int
ctl_connect_inet(const struct addr *a, int *gai)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*host = a->host;
	char		 port[8];
	int		 fd = -1, saved = ECONNREFUSED;

	/* "*:port" listens everywhere: loopback reaches it. */
	if (strcmp(host, "*") == 0)
		host = "127.0.0.1";
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", a->port);
	if ((*gai = getaddrinfo(host, port, &hints, &res)) != 0)
		return (-1);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		ctl_timeouts(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	errno = saved;
	return (fd);
}

static int
ctl_connect(const struct addr *a)
{
	char	buf[ADDR_STRLEN];
	int	fd, gai = 0;

	if (a->kind == ADDR_UNIX)
		fd = ctl_connect_unix(a);
	else
		fd = ctl_connect_inet(a, &gai);
	if (fd != -1)
		return (fd);
	addr_format(a, buf, sizeof(buf));
	if (gai != 0)
		fprintf(stderr, "postern ctl: cannot connect to %s: %s\n", buf,
		    gai_strerror(gai));
	else if (errno == EINPROGRESS || errno == EAGAIN)
		fprintf(stderr, "postern ctl: cannot connect to %s: no answer "
		    "within %ds\n", buf, CTL_TIMEOUT_S);
	else
		fprintf(stderr, "postern ctl: cannot connect to %s: %s%s\n",
		    buf, strerror(errno), errno == ECONNREFUSED ||
		    errno == ENOENT ? " (is admin set in the config?)" : "");
	return (-1);
}

static int
ctl_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Read to EOF into r->buf; 0 or -1 (printed). */
static int
ctl_read_all(int fd, const char *where, struct ctl_reply *r)
{
	size_t	 cap = 0;
	ssize_t	 n;
	char	*p;

	for (;;) {
		if (cap - r->len < 4096) {
			cap = cap ? cap * 2 : 16384;
			if (cap > CTL_MAX_REPLY + 1 ||
			    (p = realloc(r->buf, cap + 1)) == NULL) {
				fprintf(stderr, "postern ctl: %s: answer too "
				    "large\n", where);
				return (-1);
			}
			r->buf = p;
		}
		n = read(fd, r->buf + r->len, cap - r->len);
		if (n == 0)
			break;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "postern ctl: %s: %s\n", where,
			    errno == EAGAIN ? "no answer within 5s" :
			    strerror(errno));
			return (-1);
		}
		r->len += (size_t)n;
	}
	r->buf[r->len] = '\0';
	return (0);
}

/* Split the answer: status line, headers, body.  0 or -1 (printed). */
static int
ctl_parse(const char *where, struct ctl_reply *r)
{
	char	*eol, *end;

	if (r->len == 0) {
		fprintf(stderr, "postern ctl: %s: closed without answering\n",
		    where);
		return (-1);
	}
	if (r->len < 12 || strncmp(r->buf, "HTTP/1.", 7) != 0 ||
	    r->buf[8] != ' ' || (eol = strchr(r->buf, '\n')) == NULL) {
		fprintf(stderr, "postern ctl: %s: not an HTTP answer\n", where);
		return (-1);
	}
	r->code = (int)strtol(r->buf + 9, &end, 10);
	if (end != r->buf + 12 || r->code < 100 || r->code > 599) {
		fprintf(stderr, "postern ctl: %s: bad HTTP status line\n",
		    where);
		return (-1);
	}
	*eol = '\0';
	if (eol > r->buf && eol[-1] == '\r')
		eol[-1] = '\0';
	r->reason = end + (*end == ' ');
	if ((end = strstr(eol + 1, "\r\n\r\n")) != NULL)
		r->body = end + 4;
	else if ((end = strstr(eol + 1, "\n\n")) != NULL)
		r->body = end + 2;
	else if (eol[1] == '\r' && eol[2] == '\n')
		r->body = eol + 3;	/* no headers */
	else {
		fprintf(stderr, "postern ctl: %s: truncated HTTP answer\n",
		    where);
		return (-1);
	}
	r->bodylen = r->len - (size_t)(r->body - r->buf);
	return (0);
}

/*
 * The Host header: the address connected to, as an IP literal, which the
 * endpoint accepts whatever name the configuration used (it refuses
 * names other than localhost, see admin_guard.c).
 */
static void
ctl_host(int fd, const struct addr *a, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			 ip[INET6_ADDRSTRLEN];
	const void		*src = NULL;
	unsigned int		 port = 0;

	snprintf(buf, len, "localhost");
	if (a->kind == ADDR_UNIX ||
	    getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1)
		return;
	if (ss.ss_family == AF_INET) {
		src = &((struct sockaddr_in *)&ss)->sin_addr;
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		src = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	if (src == NULL || inet_ntop(ss.ss_family, src, ip, sizeof(ip)) == NULL)
		return;
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
	    port);
}

/*
 * One request; 0 with r filled, or -1 (printed).  token (or NULL) goes in
 * an Authorization header; X-Postern-Request marks it as no browser's.
 */
static int
ctl_request(const struct addr *a, const char *method, const char *target,
    const char *token, struct ctl_reply *r)
{
	char	 where[ADDR_STRLEN], host[ADDR_STRLEN], *req = NULL;
	int	 fd, rc = -1, n = -1;

	addr_format(a, where, sizeof(where));
	if ((fd = ctl_connect(a)) == -1)
		return (-1);
	ctl_host(fd, a, host, sizeof(host));
	n = asprintf(&req, "%s %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: "
	    "postern-ctl/%s\r\nX-Postern-Request: 1\r\n%s%s%s"
	    "Content-Length: 0\r\n\r\n", method, target, host,
	    PACKAGE_VERSION, token != NULL ? "Authorization: Bearer " : "",
	    token != NULL ? token : "", token != NULL ? "\r\n" : "");
	if (n == -1) {
		fprintf(stderr, "postern ctl: out of memory\n");
		goto out;
	}
	if (ctl_write_all(fd, req, (size_t)n) == -1) {
		fprintf(stderr, "postern ctl: %s: %s\n", where,
		    errno == EAGAIN ? "timed out sending" : strerror(errno));
		goto out;
	}
	if (ctl_read_all(fd, where, r) == 0 && ctl_parse(where, r) == 0)
		rc = 0;
out:
	if (req != NULL) {
		OPENSSL_cleanse(req, (size_t)n);
		free(req);
	}
	close(fd);
	return (rc);
}

/* Append s percent-encoded (all but RFC 3986 unreserved characters). */
static void
ctl_encode(char *buf, size_t len, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = strlen(buf);

	for (; *s != '\0' && n + 4 < len; s++) {
		unsigned char	c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
			buf[n++] = (char)c;
		else {
			buf[n++] = '%';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		}
	}
	buf[n] = '\0';
}

/*
 * The value of "key":"..." in our own JSON answers, unescaped into buf;
 * NULL when absent.
 */
static const char *
ctl_json_field(const char *json, const char *key, char *buf, size_t len)
{
	char		 pat[32];
	const char	*p;
	size_t		 n = 0;
	unsigned int	 u;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(json, pat)) == NULL)
		return (NULL);
	for (p += strlen(pat); *p != '\0' && *p != '"' && n + 1 < len; p++) {
		if (*p != '\\') {
			buf[n++] = *p;
			continue;
		}
		switch (*++p) {
		case 'n':
			buf[n++] = '\n';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case 'r':
			buf[n++] = '\r';
			break;
		case 'u':
			if (sscanf(p + 1, "%4x", &u) == 1 && u < 0x80) {
				buf[n++] = (char)u;
				p += 4;
			} else
				buf[n++] = '?';
			break;
		case '\0':
			p--;
			break;
		default:
			buf[n++] = *p;
			break;
		}
	}
	buf[n] = '\0';
	return (buf);
}

static int
ctl_print(const struct ctl_reply *r)
{
	fwrite(r->body, 1, r->bodylen, stdout);
	if (r->code != 200 && r->bodylen == 0)
		fprintf(stderr, "postern ctl: HTTP %d %s\n", r->code,
		    r->reason);
	return (r->code == 200 ? CTL_OK : CTL_FAIL);
}

static int
ctl_action(const struct ctl_reply *r)
{
	char	msg[1024];

	if (r->code == 200 &&
	    ctl_json_field(r->body, "message", msg, sizeof(msg)) != NULL) {
		printf("%s\n", msg);
		return (CTL_OK);
	}
	if (ctl_json_field(r->body, "error", msg, sizeof(msg)) != NULL)
		fprintf(stderr, "postern ctl: %s\n", msg);
	else
		fprintf(stderr, "postern ctl: HTTP %d %s\n", r->code,
		    r->reason);
	return (CTL_FAIL);
}

/* Build the request target of cmd from its arguments; 0 or CTL_USAGE. */
static int
ctl_target(const struct ctl_cmd *cmd, int argc, char **argv, char *buf,
    size_t len)
{
	const char	*pos[2] = { NULL, NULL }, *dur = NULL;
	int		 i, n = 0, pin = strcmp(cmd->name, "pin") == 0;

	for (i = 0; i < argc; i++) {
		if (pin && strcmp(argv[i], "--for") == 0) {
			if (++i == argc) {
				fprintf(stderr, "postern ctl: pin: --for "
				    "needs a duration (like 90s or 30m)\n");
				return (CTL_USAGE);
			}
			dur = argv[i];
		} else if (pin && strncmp(argv[i], "--for=", 6) == 0)
			dur = argv[i] + 6;
		else if (argv[i][0] == '-' || n == cmd->nargs) {
			fprintf(stderr, "postern ctl: %s: unexpected '%s'\n",
			    cmd->name, argv[i]);
			return (CTL_USAGE);
		} else
			pos[n++] = argv[i];
	}
	if (n < cmd->nargs) {
		fprintf(stderr, "postern ctl: %s needs %s\n", cmd->name,
		    cmd->nargs == 1 ? "SERVICE" : "SERVICE ROUTE");
		return (CTL_USAGE);
	}
	snprintf(buf, len, "%s", cmd->path);
	if (pos[0] != NULL) {
		strncat(buf, "?service=", len - strlen(buf) - 1);
		ctl_encode(buf, len, pos[0]);
	}
	if (pos[1] != NULL) {
		strncat(buf, "&route=", len - strlen(buf) - 1);
		ctl_encode(buf, len, pos[1]);
	}
	if (dur != NULL) {
		strncat(buf, "&for=", len - strlen(buf) - 1);
		ctl_encode(buf, len, dur);
	}
	return (0);
}

/*
 * Where to ask (-a, else -c's admin, else the default) and the token
 * (-t, else -c's admin_token_file; *token NULL without).  A token file
 * that cannot be read fails a write or an explicit -t; a read goes on
 * without (it needs the token only with admin_read_token, and then the
 * answer says so).  0, or CTL_USAGE (printed).
 */
static int
ctl_endpoint(const char *aopt, const char *file, const char *topt,
    int write, struct addr *a, char **token)
{
	struct addr	 ca;
	const char	*path;
	char		 err[256], *tfile = NULL;
	int		 rc;

	if (file != NULL && (rc = ctl_conf_addr(file, &ca, &tfile)) != 0)
		return (rc);
	rc = CTL_USAGE;
	if (aopt != NULL) {
		if (addr_parse_listen(aopt, a, err, sizeof(err)) != 0) {
			fprintf(stderr, "postern ctl: -a %s: %s\n", aopt, err);
			goto out;
		}
	} else if (file != NULL)
		*a = ca;
	else if (addr_parse_listen(CTL_DEFAULT, a, err, sizeof(err)) != 0)
		goto out;
	path = topt != NULL ? topt : tfile;
	if (path != NULL && conf_secret_read(path, 0, token, err,
	    sizeof(err)) != 0 && (topt != NULL || write)) {
		fprintf(stderr, "postern ctl: token file %s: %s\n", path, err);
		goto out;
	}
	rc = 0;
out:
	free(tfile);
	return (rc);
}

int
ctl_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "token-file", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const struct ctl_cmd	*cmd = NULL;
	struct ctl_reply	 r;
	struct addr		 a;
	const char		*aopt = NULL, *file = NULL, *topt = NULL;
	char			 target[1024], *token = NULL;
	size_t			 i;
	int			 ch, rc;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:a:c:t:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			aopt = optarg;
			break;
		case 'c':
			file = optarg;
			break;
		case 't':
			topt = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return (CTL_OK);
		case ':':
			fprintf(stderr, "postern ctl: -%c needs a value\n",
			    optopt);
			return (ctl_usage_hint());
		default:
			if (optopt != 0)
				fprintf(stderr, "postern ctl: unknown option "
				    "-%c\n", optopt);
			else
				fprintf(stderr, "postern ctl: unknown option "
				    "%s\n", argv[optind - 1]);
			return (ctl_usage_hint());
		}
	}
	if (optind == argc) {
		fprintf(stderr, "postern ctl: no command\n");
		return (ctl_usage_hint());
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		if (strcmp(ctl_cmds[i].name, argv[optind]) == 0)
			cmd = &ctl_cmds[i];
	}
	if (cmd == NULL) {
		fprintf(stderr, "postern ctl: unknown command '%s'\n",
		    argv[optind]);
		return (ctl_usage_hint());
	}
	if ((rc = ctl_target(cmd, argc - optind - 1, argv + optind + 1,
	    target, sizeof(target))) != 0)
		return (rc);

	if ((rc = ctl_endpoint(aopt, file, topt, cmd->kind == CTL_ACTION, &a,
	    &token)) != 0)
		return (rc);
	memset(&r, 0, sizeof(r));
	if (ctl_request(&a, cmd->kind == CTL_ACTION ? "POST" : "GET", target,
	    token, &r) != 0)
		rc = CTL_FAIL;
	else if (cmd->kind == CTL_ACTION)
		rc = ctl_action(&r);
	else
		rc = ctl_print(&r);
	free(r.buf);
	if (token != NULL) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	return (rc);
}
