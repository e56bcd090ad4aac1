/*
 * ssh_config.h: the bastion of "postern -L ... -J [user@]host[:port]",
 * completed from the user's ~/.ssh/config as ssh(1) would.
 */
#ifndef POSTERN_SSH_CONFIG_H
#define POSTERN_SSH_CONFIG_H

#include <stddef.h>

struct conf;
struct conf_errors;

#define SSH_CONFIG_STRLEN	1024

/* A -J destination; empty strings and port 0 mean "not given". */
struct ssh_config_host {
	char		alias[256];		/* as given, without user/port */
	char		host[256];		/* HostName, or the alias */
	unsigned int	port;
	char		user[256];
	char		identity[SSH_CONFIG_STRLEN];
	char		known_hosts[SSH_CONFIG_STRLEN];
	char		proxy_jump[SSH_CONFIG_STRLEN];	/* ProxyJump */
};

/*
 * ssh_config_parse_jump(spec, h, err, errlen): split "[user@]host[:port]"
 * ("[v6]:port" too) into h (other fields left as they are).  Returns 0,
 * or -1 with a message in err.
 */
int	ssh_config_parse_jump(const char *spec, struct ssh_config_host *h,
	    char *err, size_t errlen);

/*
 * ssh_config_apply_err(path, h, err, errlen): fill the fields of h still
 * empty from the blocks of the ssh_config file at path that apply to
 * h->alias (HostName, User, Port, IdentityFile, UserKnownHostsFile; the
 * first value obtained wins, as in ssh(1)).  Host blocks; Match blocks
 * (all, canonical, final, host, originalhost, user, localuser, each
 * negatable; one pass, so canonical and final always match); Include
 * with globs, relative to ~/.ssh, at top level and inside blocks.
 * ProxyJump, ProxyCommand and CertificateFile in an applying block, and
 * Match exec, are errors naming what the libssh2 engine lacks.  A
 * missing file is not an error.  Returns the number of applying blocks,
 * or -1 with "file:line: message" in err.
 */
int	ssh_config_apply_err(const char *path, struct ssh_config_host *h,
	    char *err, size_t errlen);

/* ssh_config_apply(path, h): the same, the message dropped. */
int	ssh_config_apply(const char *path, struct ssh_config_host *h);

#define SSH_CONFIG_MAXOPTS	16

/*
 * ssh_config_conf(specs, n, jump, path, identity, port, opts, nopts,
 * errs): the generation for "postern -L spec... -J jump [-F path]
 * [-i identity] [-p port] [-o key=value]...": the -J destination is
 * completed from path (NULL: ~/.ssh/config; command-line values win).
 * A chain (-J a,b, or the destination's ProxyJump) becomes a [bastion]
 * section per hop, each completed from path too, and proxy_jump on the
 * last.  -o takes [bastion] keys and a
 * few ssh_config(5) names (UserKnownHostsFile, StrictHostKeyChecking,
 * IdentityFile, ServerAliveInterval, ServerAliveCountMax,
 * ConnectTimeout).  Returns NULL with every error in errs.
 */
struct conf *ssh_config_conf(char **specs, size_t n, const char *jump,
	    const char *path, const char *identity, const char *port,
	    char **opts, size_t nopts, struct conf_errors *errs);

/*
 * ssh_config_alias_note(jump, msg, len): is the -J destination a bare
 * name (no dot, not an address, not localhost) that no Host block of
 * ~/.ssh/config gives a HostName, most likely a mistyped alias?  Then 1,
 * with a sentence for the user in msg; else 0.
 */
int	ssh_config_alias_note(const char *jump, char *msg, size_t len);

/*
 * ssh_config_expand(in, h, out, len): "~/" and the tokens %d (home),
 * %u (local user), %h (host), %r (remote user), %p (port) and %%.
 */
void	ssh_config_expand(const char *in, const struct ssh_config_host *h,
	    char *out, size_t len);

/*
 * ssh_config_wild(pattern, s): OpenSSH's '*' and '?' wildcards,
 * case-insensitive; shared by ssh_config Host lines and known_hosts.
 */
int	ssh_config_wild(const char *pattern, const char *s);

/*
 * ssh_config_match_list(list, seps, name): does a list of patterns split
 * on seps ("Host a b !c" in ssh_config, "a,b,!c" in known_hosts) match
 * name?  A negated match wins.  list is cut up (strtok_r).
 */
int	ssh_config_match_list(char *list, const char *seps, const char *name);

#endif
