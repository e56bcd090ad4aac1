/*
 * main.c: command line, configuration check, start-up.
 */
#include "config.h"

#include <sys/resource.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <libssh2.h>
#include <openssl/crypto.h>

#include "conf.h"
#include "conf_fds.h"
#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "priv.h"
#include "ssh.h"
#include "ssh_config.h"
#include "tls_reg.h"

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2
#define MAX_FORWARDS	64

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: postern [-dnv] -c file\n"
"       postern [-dnv] -L [bind_address:]port:host:hostport [-L ...]\n"
"               [-o k=v] [-J [user@]host[:port][,...] [-F file] [-i identity]\n"
"               [-p port]]\n"
"       postern ctl [-a address] [-c file] [-t file] command [args]\n"
"       postern --keys | -V | -h\n"
"\n"
"  -c file   run the services in the configuration file\n"
"  -L spec   forward a local port to host:hostport (like ssh -L),\n"
"            repeatable; bind_address defaults to 127.0.0.1\n"
"  -J [user@]host[:port]\n"
"            reach every -L host:hostport through this SSH bastion (like\n"
"            ssh -J); with ssh installed, postern runs ssh as a\n"
"            ControlMaster (engine=openssh: the whole ssh configuration,\n"
"            hop chains a,b); -o engine=libssh2: in process, completed\n"
"            from ~/.ssh/config Host entries, chains a,b hop by hop\n"
"  -F file   the ssh configuration file read instead of ~/.ssh/config\n"
"  -i file   the bastion's identity (private key); -p port its port\n"
"  -o key=value\n"
"            a [bastion] key of postern.conf(5), e.g. known_hosts=FILE;\n"
"            readonly=yes and protocol=redis|postgres apply to each -L\n"
"  -n        check the configuration, print 'configuration OK' or every\n"
"            error as file:line: message, and exit\n"
"  -d        detach and log to syslog\n"
"  -v        log debug detail\n"
"  -V        print the version and exit\n"
"  -h        print this help and exit\n"
"  --keys    print the configuration key table and exit\n"
"\n"
"Signals: SIGHUP reloads the file (with -L: ends the tunnel at once);\n"
"SIGTERM or SIGINT stops accepting, drains sessions up to drain_timeout\n"
"and exits.  Exit status: 0 clean\n"
"stop, 1 runtime failure, 2 usage or configuration error.\n"
"See postern(8) and postern.conf(5).\n");
}

/* Open files are the proxy's capacity: use what the hard limit allows. */
static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
}

/*
 * The caps against the descriptors: a warning, not an error, because
 * the accept path survives EMFILE (it pauses, sessions are refused), and
 * a configuration whose caps were never meant to be reached at once
 * (the defaults on a small machine) must still start.  -n checks the
 * hard limit, which the daemon raises the soft one to.
 */
static void
check_nofile(const struct conf *conf, int hard, const char *file)
{
	struct rlimit	rl;
	char		msg[512];

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    (hard ? rl.rlim_max : rl.rlim_cur) == RLIM_INFINITY)
		return;
	if (conf_fds_check(conf, (unsigned long)(hard ? rl.rlim_max :
	    rl.rlim_cur), msg, sizeof(msg)) == 0)
		return;
	if (hard)
		fprintf(stderr, "%s: warning: %s\n", file != NULL ? file :
		    "postern", msg);
	else
		log_warnx("%s", msg);
}

/* Is key=... among the -o options? */
static int
opt_given(char **opts, size_t n, const char *key)
{
	size_t	i, len = strlen(key);

	for (i = 0; i < n; i++) {
		if (strncmp(opts[i], key, len) == 0 && opts[i][len] == '=')
			return (1);
	}
	return (0);
}

/* Is ssh(1) in PATH?  Quick mode then defaults to engine = openssh. */
static int
ssh_installed(void)
{
	const char	*path = getenv("PATH"), *p, *end;
	char		 file[1024];

	for (p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0'; p = end) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		if (end > p && snprintf(file, sizeof(file), "%.*s/ssh",
		    (int)(end - p), p) < (int)sizeof(file) &&
		    access(file, X_OK) == 0)
			return (1);
		if (*end == ':')
			end++;
	}
	return (0);
}

/* Is "key=value" exactly among opts? */
static int
opt_has(char **opts, size_t n, const char *kv)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(opts[i], kv) == 0)
			return (1);
	}
	return (0);
}

static void
log_versions(void)
{
	log_info("%s %s starting (libevent %s, %s, libssh2 %s, hiredis "
	    "%d.%d.%d)", PACKAGE_NAME, PACKAGE_VERSION, event_get_version(),
	    OpenSSL_version(OPENSSL_VERSION), libssh2_version(0),
	    HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keys", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf = NULL;
	struct postern		*px = NULL;
	char			*file = NULL, *fwd[MAX_FORWARDS];
	char			*jump = NULL, *ident = NULL, *jport = NULL;
	char			*opts[SSH_CONFIG_MAXOPTS];
	size_t			 nopts = 0;
	size_t			 nfwd = 0, i;
	int			 ch, check = 0, detach = 0, verbose = 0, rc, tty;
	int			 dumps;
	char			 ask[] = "strict_host_key_checking=ask";
	char			 note[SSH_CONFIG_STRLEN + 600];
	char			 openssh[] = "engine=openssh";
	char			 muxclient[] = "mux_forward=client";
	char			 cfgopt[1100], destopt[1100], hopsopt[1100];
	char			*sshcfg = NULL, *last;

	/* Before any secret is read (ctl reads the admin token too). */
	dumps = priv_nodump();
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return (ctl_main(argc - 1, argv + 1));
	while ((ch = getopt_long(argc, argv, "c:dF:hi:J:L:no:p:vV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'F':
			sshcfg = optarg;
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 'K':
			conf_keys_print(stdout);
			return (0);
		case 'L':
			if (nfwd == MAX_FORWARDS) {
				fprintf(stderr, "postern: too many -L\n");
				return (EXIT_USAGE);
			}
			fwd[nfwd++] = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'i':
			ident = optarg;
			break;
		case 'J':
			jump = optarg;
			break;
		case 'o':
			if (nopts == SSH_CONFIG_MAXOPTS) {
				fprintf(stderr, "postern: too many -o\n");
				return (EXIT_USAGE);
			}
			opts[nopts++] = optarg;
			break;
		case 'p':
			jport = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return (0);
		default:
			usage(stderr);
			return (EXIT_USAGE);
		}
	}
	if (optind != argc || (file == NULL) == (nfwd == 0)) {
		fprintf(stderr, "postern: give either -c file or -L specs\n");
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (jump == NULL ? ident != NULL || jport != NULL || sshcfg != NULL ||
	    (nopts > 0 && file != NULL) : file != NULL) {
		fprintf(stderr, "postern: -J and -o go with -L; -F, -i and -p go "
		    "with -J\n");
		return (EXIT_USAGE);
	}
	/*
	 * Quick mode reaches what ssh -J reaches: the OpenSSH engine when
	 * ssh is installed (-o engine=libssh2 forces the library).  ssh then
	 * gets the -J hops as typed, -F, and the last hop as its
	 * destination; postern's own reading of ~/.ssh/config only names
	 * the bastion in its log.
	 */
	if (jump != NULL && !opt_given(opts, nopts, "engine") &&
	    ssh_installed() && nopts < SSH_CONFIG_MAXOPTS)
		opts[nopts++] = openssh;
	/*
	 * And at OpenSSH's speed: a plain forward's socket goes to the
	 * master whole, as ssh -L's would (mux_forward = client; sessions
	 * with a protocol, readonly, still pass through postern).
	 */
	if (jump != NULL && opt_has(opts, nopts, "engine=openssh") &&
	    !opt_given(opts, nopts, "mux_forward") &&
	    nopts < SSH_CONFIG_MAXOPTS)
		opts[nopts++] = muxclient;
	if (jump != NULL && opt_has(opts, nopts, "engine=openssh") &&
	    nopts + 3 <= SSH_CONFIG_MAXOPTS) {
		if (sshcfg != NULL) {
			snprintf(cfgopt, sizeof(cfgopt), "ssh_config=%s", sshcfg);
			opts[nopts++] = cfgopt;
		}
		if ((last = strrchr(jump, ',')) != NULL) {
			snprintf(hopsopt, sizeof(hopsopt), "proxy_jump=%.*s",
			    (int)(last - jump), jump);
			opts[nopts++] = hopsopt;
			jump = last + 1;
		}
		/* -p: ssh takes the port in the destination (ssh://). */
		snprintf(destopt, sizeof(destopt), "ssh_destination=%s%s%s",
		    jump, jport != NULL && strchr(jump, ':') == NULL ? ":" : "",
		    jport != NULL && strchr(jump, ':') == NULL ? jport : "");
		opts[nopts++] = destopt;
	}

	/*
	 * Quick mode on a terminal, like ssh: ask about an unknown bastion
	 * host key (unless -o says otherwise), and write status lines
	 * rather than the log (-v keeps the log).
	 */
	tty = file == NULL && !detach && !check && isatty(STDIN_FILENO) &&
	    isatty(STDERR_FILENO);
	if (tty && jump != NULL && !opt_given(opts, nopts,
	    "strict_host_key_checking") && nopts < SSH_CONFIG_MAXOPTS)
		opts[nopts++] = ask;
	if (jump != NULL && ssh_config_alias_note(jump, note, sizeof(note)))
		fprintf(stderr, "postern: %s\n", note);
	conf = file != NULL ? conf_load(file, &errs) : jump != NULL ?
	    ssh_config_conf(fwd, nfwd, jump, sshcfg, ident, jport, opts, nopts,
	    &errs) : conf_from_forwards_opts(fwd, nfwd, opts, nopts, &errs);
	/* The daemon loads them at start; -n must find what it would. */
	if (check && conf != NULL && (tls_reg_check(conf, &errs) |
	    ssh_algs_check(conf, &errs)) != 0) {
		conf_unref(conf);
		conf = NULL;
	}
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	conf_errors_free(&errs);
	if (conf == NULL)
		return (EXIT_USAGE);
	if (check) {
		check_nofile(conf, 1, file);
		if (conf->user == NULL && geteuid() == 0)
			fprintf(stderr, "postern: warning: %s\n",
			    DAEMON_ROOT_WARNING);
		printf("configuration OK\n");
		conf_unref(conf);
		return (0);
	}

	log_init(verbose ? LOG_LEVEL_DEBUG : conf->log_level, detach);
	log_set_brief(tty && !verbose);
	if (detach && daemon(0, 0) == -1)
		fatal("daemon");
	log_versions();
	if (dumps)
		log_warnx("POSTERN_CORE_DUMPS=1: core dumps and ptrace "
		    "allowed; a dump holds the admin token, passwords and "
		    "keys");
	raise_nofile();
	check_nofile(conf, 0, NULL);
	if ((px = daemon_new()) == NULL) {
		conf_unref(conf);
		return (EXIT_RUNTIME);
	}
	if ((rc = daemon_start(px, conf)) != 0) {
		conf_unref(conf);
		daemon_free(px);
		libevent_global_shutdown();
		return (rc);
	}
	if (verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	for (i = 0; file == NULL && i < conf->nservices; i++) {
		char	hint[512];

		conf_forward_hint(&conf->services[i], hint, sizeof(hint));
		log_status("%s: %s", conf->services[i].label != NULL ?
		    conf->services[i].label : conf->services[i].name, hint);
	}
	rc = daemon_run(px);
	daemon_free(px);
	libevent_global_shutdown();
	return (rc);
}
