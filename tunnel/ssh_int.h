/*
 * ssh_int.h: what the SSH modules share (ssh.c, ssh_adapter.c,
 * ssh_algs.c, ssh_channel.c, ssh_conns.c, ssh_open.c, ssh_auth.c,
 * ssh_knownhosts.c, and the OpenSSH engine's ssh_mux*.c).  Nothing
 * outside tunnel/ssh*.c includes it.
 *
 * One struct ssh_bastion per SSH connection: one TCP connection, one
 * libssh2 session, many direct-tcpip channels.  A [bastion] section has
 * one in the pool, which owns the section's other connections
 * (ssh_conns.c).  libssh2 runs in
 * non-blocking mode on the daemon's event loop; see DESIGN.md, "SSH
 * tunnel", for the state machine and the rules the adapter enforces.
 */
#ifndef POSTERN_SSH_INT_H
#define POSTERN_SSH_INT_H

#include <sys/queue.h>
#include <sys/time.h>

#include <stdint.h>

#include <event2/util.h>
#include <libssh2.h>

#include "link.h"
#include "ssh.h"
#include "ssh_mux_wire.h"

struct event;
struct event_base;
struct evbuffer;
struct evdns_base;
struct tcp_connect;

/* libssh2 1.10 sends at most 32 KiB of channel data per packet. */
#define SSH_CHUNK		(32 * 1024)
/* Encrypted bytes waiting for the kernel (per bastion). */
#define SSH_OUT_HIGH		(1024 * 1024)
#define SSH_OUT_LOW		(256 * 1024)
/* An open unanswered this long while others wait: another connection. */
#define SSH_SLOT_STUCK_MS	1000
/* Opens in flight on every ready connection that grow one more. */
#define SSH_GROW_QUEUE		4
/* A grown connection that carried nothing this long closes. */
#define SSH_GROWN_LINGER_MS	10000
/* The most connections to one bastion (max_connections' bound). */
#define SSH_CONNS_MAX		16
/* The longest the loop waits for one answer of the ssh-agent. */
#define SSH_AGENT_TIMEOUT_MS	5000
/* Bytes of the bastion's hello kept for its KEXINIT (ssh_algs.c). */
#define SSH_HELLO_MAX		8192
/* Reconnect back-off bounds. */
#define SSH_BACKOFF_MIN_MS	1000
#define SSH_BACKOFF_MAX_MS	60000

enum ssh_state {
	SSH_IDLE,		/* retired: no connection, none coming */
	SSH_CONNECTING,		/* resolve, TCP (tcp_connect.c) */
	SSH_HANDSHAKE,		/* banner, key exchange, host key check */
	SSH_AUTH,		/* public key (file), then the agent */
	SSH_READY,		/* channels may open */
	SSH_BACKOFF		/* lost or failed: waiting to retry */
};

/* A [bastion] section, copied: the object outlives generations. */
struct ssh_settings {
	char		*name;
	char		*host;
	unsigned int	 port;
	char		*user;
	char		*identity;		/* NULL: agent only */
	char		*passphrase;
	char		*known_hosts;		/* resolved: never NULL */
	char		*pin;			/* "SHA256:..." or NULL */
	char		*command;		/* session_command or NULL */
	char		*ciphers;		/* NULL: the default order */
	char		*hostkey_algs;		/* NULL: default */
	int		 accept_new;
	int		 ask;			/* at the terminal, if any */
	int		 keepalive_ms;
	int		 keepalive_count;
	int		 connect_timeout_ms;
	int		 connections;		/* kept open */
	int		 max_connections;	/* >= connections */
	int		 openssh;		/* engine = openssh */
	char		*control_path;		/* attach, or NULL: run ssh */
	char		*ssh_config;		/* ssh -F, or NULL */
	char		*destination;		/* ssh's host argument, or NULL */
	char		*proxy_jump;		/* ssh -J, or NULL */
	int		 known_hosts_given;	/* not ssh's own default */
	int		 mux_listener;		/* mux_forward = listener */
	int		 mux_client;		/* mux_forward = client */
	int		 mux_proxy;		/* mux_forward = proxy */
	/* libssh2: proxy_jump's [bastion] sections, the nearest first */
	struct ssh_settings *hops;
	size_t		 nhops;
};

/* What an open is for. */
enum ssh_open_kind {
	SSH_OPEN_DIRECT,	/* direct-tcpip for a dial */
	SSH_OPEN_SESSION,	/* the session_command channel */
	SSH_OPEN_PROBE		/* keepalive: an unknown channel type */
};

/*
 * ssh_open_cb(status, detail, link, arg): a direct-tcpip open ended.  On
 * DIAL_OK link is the channel (the caller owns it: link_close());
 * otherwise link is NULL and detail says why.  Called from the loop,
 * never from inside ssh_open_start.
 */
typedef void ssh_open_cb(int status, const char *detail, struct link *link,
	    void *arg);

struct ssh_open {
	TAILQ_ENTRY(ssh_open)	 entry;
	struct ssh_bastion	*b;
	enum ssh_open_kind	 kind;
	char			*host;
	unsigned int		 port;
	ssh_open_cb		*cb;		/* NULL: cancelled */
	void			*arg;
	int			 urgent;	/* a health check's */
	int64_t			 queued;	/* clock_ms: asked for */
};
TAILQ_HEAD(ssh_open_list, ssh_open);

/*
 * One direct-tcpip channel, served to its user as a link (ssh_channel.c).
 * Also, with only b and ch set, a channel libssh2 is still closing.
 */
struct ssh_chan {
	struct link		 link;		/* what the user holds */
	TAILQ_ENTRY(ssh_chan)	 entry;
	struct ssh_bastion	*b;		/* NULL: orphaned by a loss */
	LIBSSH2_CHANNEL		*ch;
	char			 target[300];	/* "host:port" for logs */
	struct evbuffer		*up;		/* user -> channel */
	int			 paused;	/* the user takes no data */
	int			 blocked;	/* writable() due below LOW */
	int			 up_eof;	/* the user shut its direction */
	int			 eof_sent;	/* channel EOF sent */
	int			 down_eof;	/* channel EOF delivered */
	int			 gone;		/* the server closed it: closed() */
	int			 write_dead;	/* channel takes no more */
	int			 closed;	/* link_close: free it */
};
TAILQ_HEAD(ssh_chan_list, ssh_chan);

/* The session_command channel. */
enum ssh_ctl_state {
	SSH_CTL_NONE,		/* not configured, or ended */
	SSH_CTL_OPENING,	/* queued or in the open slot */
	SSH_CTL_EXEC,		/* exec request sent */
	SSH_CTL_RUNNING
};

/* The connection's I/O under libssh2 (ssh_adapter.c owns it). */
struct ssh_io {
	int			 fd;
	struct event		*rev, *wev;	/* rev: persistent */
	int			 writing;
	struct evbuffer		*out;		/* sent by libssh2, not by TCP */
	int			 flush_due;	/* wev activated to send out */
	int			 rx_drained;	/* recv saw EAGAIN since rev */
	int			 io_error;	/* errno of a failed send/recv */
	int			 rx_eof;	/* the bastion closed TCP */
	int			 dead;		/* fail every I/O at once */
	uint64_t		 rx_bytes;
	unsigned char		*hello;		/* received, until KEXINIT read */
	size_t			 hello_len;
};

/* Authentication's progress (ssh_auth.c owns it). */
struct ssh_auth_state {
	int			 step;
	LIBSSH2_AGENT		*agent;
	int			 agent_timeout;	/* an answer did not come */
	struct libssh2_agent_publickey *agent_id;
	void			*key;		/* EVP_PKEY: RSA signed here */
	char			*keyfile;	/* identity; wiped */
	size_t			 keyfile_len;
	unsigned char		 blob[2048];
	size_t			 bloblen;
	char			 error[768];
};

/* A bastion's other connections (ssh_conns.c owns it). */
struct ssh_conns_state {
	struct ssh_bastion	*conn[SSH_CONNS_MAX];	/* the main one's */
	unsigned int		 n;
	struct ssh_bastion	*owner;		/* an extra's main connection */
	unsigned int		 number;	/* an extra's: 2, 3, ... */
	int			 grown;		/* above `connections` */
	int64_t			 idle_since;	/* clock_ms: carried nothing */
	struct event		*timer;		/* the main one's tick */
};

/* The OpenSSH engine's state (ssh_mux.c owns it). */
struct ssh_mux_conn;
struct ssh_mux_fwd;
struct ssh_mux_target;
TAILQ_HEAD(ssh_mux_list, ssh_mux_conn);
struct muxp_conn;
struct muxp_chan;
TAILQ_HEAD(muxp_conn_list, muxp_conn);
struct ssh_mux_state {
	int			 pid;		/* the master, or -1 */
	int			 errfd;		/* its stderr, or -1 */
	struct event		*errev;
	char			 errbuf[512];	/* a line being read */
	size_t			 errlen;
	char			 errline[512];	/* its last whole line */
	char			 idline[512];	/* the missing -i, or the
						   offending known_hosts
						   line and its ssh-keygen
						   -R command; or "" */
	char			 errwhy[512];	/* its first final one */
	int			 art;		/* in a randomart box */
	char			 dir[96];	/* private 0700, or "" */
	char			 path[108];	/* the control socket (sun_path) */
	struct event		*poll;		/* the socket is not there yet */
	int			 polls;
	struct ssh_mux_list	 waiting;	/* dials before ready */
	struct ssh_mux_list	 conns;		/* mux connections, any kind */
	struct ssh_mux_conn	*probe;		/* alive check in flight */
	struct muxp_conn_list	 proxies;	/* mux_forward = proxy */
	uint32_t		 rid;		/* next request id */
	/* mux_forward = listener: the master's listeners, per target */
	struct ssh_mux_fwd	*fwd;
	size_t			 nfwd;
	struct ssh_mux_target	*targets;	/* the routes': asked at ready */
	size_t			 ntargets;
	int64_t			 stdio_failed_ms;	/* clock_ms: the last
							   refused stdio open */
};

struct ssh_bastion {
	TAILQ_ENTRY(ssh_bastion) entry;
	struct ssh_pool		*pool;
	struct ssh_settings	 set;
	char			 label[600];	/* "bastion NAME (user@host:port)" */
	char			 via[400];	/* "user@host:port" */
	char			**forwards;	/* quick mode: "L -> T" lines */
	size_t			 nforwards;
	enum ssh_state		 state;
	int			 retired;	/* removed by a reload */

	struct tcp_connect	*tcp;		/* connecting */
	int			 broken;	/* fatal error: ssh_fail soon */
	LIBSSH2_SESSION		*sess;
	struct ssh_io		 io;		/* ssh_adapter.c */
	int			 running, again;	/* in ssh_drive */
	struct event		*kick;		/* drive from the loop */

	/* life */
	struct event		*timer;		/* connect deadline; retry */
	struct event		*ka_timer;	/* keepalive tick */
	uint64_t		 ka_rx;		/* rx_bytes at the last tick */
	int			 missed;	/* ticks without a byte */
	int			 backoff_ms;	/* next retry delay */
	int			 attempts;	/* failed since last ready */
	unsigned long long	 losses;	/* ready connections lost */
	int			 ever_up;
	int			 seen;		/* ssh_pool_commit's mark */
	int64_t			 attempt_start;	/* clock_ms: this attempt */
	int64_t			 down_since;	/* first failure of a streak */
	int64_t			 retry_at;	/* clock_ms */
	char			 last_error[1024];
	char			 logged_error[1024];	/* last one logged */
	char			 hint[768];	/* what to do, for the log */
	int			 refused;	/* the user said no: stop */
	int			 permanent;	/* host key, auth: no retry helps */
	int			 quick;		/* -L/-J: the user waits */
	char			 hostkey[160];	/* "ssh-ed25519 SHA256:..." */
	char			 fingerprint[64]; /* "SHA256:..." */

	struct ssh_auth_state	 auth;		/* ssh_auth.c */

	/* channels (ssh_open.c, ssh_channel.c) */
	struct ssh_open_list	 opens;		/* waiting for the slot */
	struct ssh_open		*opening;	/* in the slot */
	int64_t			 slot_since;	/* clock_ms: entered the slot */
	int			 slot_warned;	/* its wait was logged */
	struct ssh_chan_list	 chans;
	struct ssh_chan_list	 closing;	/* libssh2_channel_free EAGAIN */
	unsigned int		 nchans;
	int			 probing;	/* a probe queued or open */
	int			 local_fail;	/* last TCP connect: EMFILE... */
	LIBSSH2_CHANNEL		*ctl;		/* session_command */
	enum ssh_ctl_state	 ctl_state;

	struct ssh_conns_state	 conns;		/* ssh_conns.c */
	struct ssh_mux_state	 mux;		/* ssh_mux.c */

	/* A chain (ssh_hop.c): connected through the hop before it. */
	struct ssh_bastion	*hop;		/* owned; extras use the main's */
	struct ssh_open		*hop_open;	/* the channel, being opened */
	struct ssh_hop_pipe	*hop_pipe;	/* the channel, pumped */
};
TAILQ_HEAD(ssh_bastion_list, ssh_bastion);

struct ssh_pool {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct ssh_bastion_list	 live;		/* serve dials, by name */
	struct ssh_bastion_list	 retired;	/* finishing their channels */
	struct ssh_bastion_list	 pending;	/* prepared, not yet committed */
	struct event		*reap;		/* frees idle retired ones */
	void			(*refused_cb)(void *, int);	/* quick mode stops */
	void			*refused_arg;
	unsigned char		 buf[SSH_CHUNK * 2];	/* channel reads */
};

/* ssh_mux.c: the OpenSSH engine (set.openssh) */

/* ssh_mux_init(b): no master yet.  Call from ssh_bastion_new(). */
void	ssh_mux_init(struct ssh_bastion *b);

/*
 * ssh_mux_connect(b): start (or attach to) the ControlMaster; ready
 * once it answers an alive check on its control socket.
 */
void	ssh_mux_connect(struct ssh_bastion *b);

/*
 * ssh_mux_spawn(b) (ssh_mux_master.c): run ssh as b's ControlMaster in a
 * private directory, its stderr watched (its exit fails b with its last
 * line).  Returns -1 with b->last_error set; ssh_mux_stop() ends it.
 */
int	ssh_mux_spawn(struct ssh_bastion *b);

/*
 * ssh_mux_err_drain(b): read the lines the master has written so far
 * (its host key fingerprint into b->fingerprint), without waiting.
 */
void	ssh_mux_err_drain(struct ssh_bastion *b);

/*
 * ssh_mux_asks(b): does b's master ask at the terminal about an unknown
 * host key (strict_host_key_checking = ask, standard input a terminal)?
 * Then connect_timeout does not cover the master's start: the user may
 * be reading the question (ssh's ConnectTimeout and ServerAlive* bound
 * the network).
 */
int	ssh_mux_asks(const struct ssh_bastion *b);

/*
 * ssh_mux_stop(b, detail): fail the dials waiting or opening with detail
 * (NULL: "bastion closed"),
 * close every mux connection (ending their channels), stop the master
 * (SIGTERM, reaped) and remove its private directory.
 */
void	ssh_mux_stop(struct ssh_bastion *b, const char *detail);

/* ssh_mux_free(b): ssh_mux_stop(b, NULL) and free the rest. */
void	ssh_mux_free(struct ssh_bastion *b);

/* ssh_mux_keepalive(b): a keepalive tick: an alive check to the master. */
void	ssh_mux_keepalive(struct ssh_bastion *b);

/* ssh_mux_dial(b, d): open d's channel through the master. */
void	ssh_mux_dial(struct ssh_bastion *b, struct dial *d);

/* ssh_mux_dial_timeout(d): what d's open waited for, into d->detail. */
void	ssh_mux_dial_timeout(struct dial *d);

/*
 * ssh_mux_stdio_opening(b): is a stdio forward waiting or asked for, or
 * was one refused a moment ago?  A channel open failure the master logs
 * then is likelier its; else it was a session's through a listener
 * (mux_forward = listener), which learns no reason of its own.
 */
int	ssh_mux_stdio_opening(const struct ssh_bastion *b);

/* ssh_mux_cancel(c): abandon an open; NULL is a no-op. */
void	ssh_mux_cancel(struct ssh_mux_conn *c);

/* ssh_mux_proxy_dial_timeout(d): as ssh_mux_dial_timeout, for a proxy open. */
void	ssh_mux_proxy_dial_timeout(struct dial *d);

/*
 * ssh_mux_proxy_cancel(ch): abandon a proxy open (mux_forward = proxy):
 * the channel is closed when the server answers; NULL is a no-op.
 */
void	ssh_mux_proxy_cancel(struct muxp_chan *ch);

/* The OpenSSH engine's own declarations: ssh_mux_int.h. */

/*
 * ssh_mux_fwd_targets(b, c): keep the targets of c's ssh:// routes
 * through b (mux_forward = listener; else none), so that a master asks
 * for their listeners as soon as it is ready, before the first burst
 * (ssh_mux_fwd_prepare); a ready master is asked for new ones at once.
 * Call at every commit of a configuration; ssh_mux_free() frees them.
 */
void	ssh_mux_fwd_targets(struct ssh_bastion *b, const struct conf *c);

/* ssh_hop.c: chains (set.nhops > 0, libssh2) */
struct ssh_hop_pipe;

/*
 * ssh_hop_connect(b): connect b through its hop (made and started on
 * first use): a direct-tcpip channel to b's address through it, then
 * ssh_transport_up() on a socketpair pumped to the channel.  The hop's
 * failure fails b, naming the hop.
 */
void	ssh_hop_connect(struct ssh_bastion *b);

/* ssh_hop_release(b): cancel the channel open, close the pump. */
void	ssh_hop_release(struct ssh_bastion *b);

/* ssh_hop_free(b): ssh_hop_release(b), then free b's own hop. */
void	ssh_hop_free(struct ssh_bastion *b);

/* ssh_prompt.c */

/*
 * ssh_prompt_hostkey(name, type, fp, file): ask on /dev/tty whether the
 * unknown type key fp of host name (not in file) may be trusted.  Returns
 * 1 (yes, or the fingerprint typed), 0 (no, or end of input) or -1 when
 * there is no terminal to ask (standard input is not one).
 */
int	ssh_prompt_hostkey(const char *name, const char *type, const char *fp,
	    const char *file);

/* ssh.c */

/*
 * ssh_drive(b): run the state machine as far as it goes without
 * waiting: handshake, authentication, opens, channel pumps.  Re-entrant
 * calls only ask the running one to go round again.
 */
void	ssh_drive(struct ssh_bastion *b);

/* ssh_kick(b): ssh_drive(b) from the next loop iteration. */
void	ssh_kick(struct ssh_bastion *b);

/* ssh_drive_soon(b): another pass of the running drive, or ssh_kick(b). */
void	ssh_drive_soon(struct ssh_bastion *b);

/*
 * ssh_fail(b, fmt, ...): the connection failed or was lost: log once,
 * fail every open, close every channel, free the session, back off.
 */
void	ssh_fail(struct ssh_bastion *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* ssh_error(b, what, rc): "what: libssh2 message" into b->last_error. */
const char *ssh_error(struct ssh_bastion *b, const char *what, int rc);

/* ssh_fatal(rc): does libssh2 error rc end the whole connection? */
int	ssh_fatal(int rc);

/*
 * ssh_broken(b, fmt, ...): a fatal error seen where the connection
 * cannot be torn down (inside a pump loop): remember it; ssh_drive()
 * calls ssh_fail() at a safe point.
 */
void	ssh_broken(struct ssh_bastion *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* ssh_backoff_left_ms(b): time to the next connection attempt. */
long	ssh_backoff_left_ms(const struct ssh_bastion *b);

/*
 * ssh_bastion_new(pool, set): a bastion, not connecting yet; takes set's
 * strings (on failure too: NULL, set cleared by the caller).
 */
struct ssh_bastion *ssh_bastion_new(struct ssh_pool *pool,
	    struct ssh_settings *set);

/* ssh_bastion_free(b): disconnect, free channels, session and b. */
void	ssh_bastion_free(struct ssh_bastion *b);

/*
 * ssh_transport_up(b, fd): b's byte stream is connected (TCP, or a
 * socketpair to a hop's channel); b takes fd: the SSH handshake starts.
 */
void	ssh_transport_up(struct ssh_bastion *b, int fd);

/* ssh_connect(b): start a connection attempt (CONNECTING). */
void	ssh_connect(struct ssh_bastion *b);

/* ssh_pool.c */

/* ssh_pool_find(pool, name): the live bastion called name, or NULL. */
struct ssh_bastion *ssh_pool_find(struct ssh_pool *pool, const char *name);

/*
 * ssh_settings_copy(dst, src): a deep copy.  Returns 0, or -1 when out
 * of memory (dst cleared).
 */
int	ssh_settings_copy(struct ssh_settings *dst,
	    const struct ssh_settings *src);

/* ssh_settings_clear(s): free a settings copy's strings. */
void	ssh_settings_clear(struct ssh_settings *s);

/* ssh_forwards_clear(b): forget the quick-mode forward lines. */
void	ssh_forwards_clear(struct ssh_bastion *b);

/* ssh_adapter.c */

/*
 * ssh_adapter_start(b): a libssh2 session on b->io.fd that sends and
 * receives through our callbacks; b->io.out buffers what the kernel does
 * not take at once.  Returns 0 or -1 (b->last_error).
 */
int	ssh_adapter_start(struct ssh_bastion *b);

/*
 * ssh_adapter_arm(b): event interest from libssh2's block directions and
 * our send buffer.
 */
void	ssh_adapter_arm(struct ssh_bastion *b);

/*
 * ssh_adapter_stop(b, graceful): free the session (channels first) and
 * close the socket.  graceful sends a disconnect message first.
 */
void	ssh_adapter_stop(struct ssh_bastion *b, int graceful);

/* ssh_adapter_out_full(b): is the send buffer above its high mark? */
int	ssh_adapter_out_full(const struct ssh_bastion *b);

/* ssh_algs.c */

/*
 * ssh_algs_filter(sess, type, wanted, out, len): the names of wanted
 * (comma-separated, in order) that this libssh2 supports for method type,
 * into out.  Returns 0, or -1 when none is left.
 */
int	ssh_algs_filter(LIBSSH2_SESSION *sess, int type, const char *wanted,
	    char *out, size_t len);

/* ssh_algs_ciphers(s): the bastion's ciphers, or the default order. */
const char *ssh_algs_ciphers(const struct ssh_settings *s);

/*
 * ssh_algs_hello_start(b), _add(b, buf, n), _end(b): keep the first
 * SSH_HELLO_MAX bytes the bastion sends (its banner and KEXINIT) from
 * start to end, which frees them.  start returns 0, or -1 out of memory.
 */
int	ssh_algs_hello_start(struct ssh_bastion *b);
void	ssh_algs_hello_add(struct ssh_bastion *b, const void *buf, size_t n);
void	ssh_algs_hello_end(struct ssh_bastion *b);

/*
 * ssh_algs_explain(b, what, rc): as ssh_error(), but a key exchange that
 * failed for want of a common cipher says so and names both lists (ours,
 * the bastion's from its KEXINIT).  Into b->last_error.
 */
const char *ssh_algs_explain(struct ssh_bastion *b, const char *what,
	    int rc);

/* ssh_conns.c */

/* ssh_conns_init(b): b's tick timer.  Returns 0 or -1 (out of memory). */
int	ssh_conns_init(struct ssh_bastion *b);

/* ssh_conns_start(m): main connection m started: open the fixed others. */
void	ssh_conns_start(struct ssh_bastion *m);

/* ssh_conns_slot_taken(b): an open entered b's slot: watch it. */
void	ssh_conns_slot_taken(struct ssh_bastion *b);

/*
 * ssh_conns_pick(m, host, port, why, len): the connection of main
 * connection m's bastion a new open to host:port should queue on (the
 * ready one with the fewest opens in flight, then channels; growing one
 * more during a burst), or one still connecting.  NULL (why says it)
 * when an open to that very target is stuck, or every connection is
 * backing off.
 */
struct ssh_bastion *ssh_conns_pick(struct ssh_bastion *m, const char *host,
	    unsigned int port, char *why, size_t len);

/* ssh_conns_ready(c): c is up: take waiting opens from busier ones. */
void	ssh_conns_ready(struct ssh_bastion *c);

/*
 * ssh_conns_lost(b): b failed: its waiting opens (and the one in its
 * slot) go to the other ready connections, if any.
 */
void	ssh_conns_lost(struct ssh_bastion *b);

/* ssh_conns_retire(m, detail): m retires: so do the others (opens fail). */
void	ssh_conns_retire(struct ssh_bastion *m, const char *detail);

/* ssh_conns_busy(m): does another connection of m still carry channels? */
int	ssh_conns_busy(const struct ssh_bastion *m);

/* ssh_conns_free(m): free m's other connections and its timer. */
void	ssh_conns_free(struct ssh_bastion *m);

/* ssh_open.c */

/*
 * ssh_open_start(b, kind, host, port, cb, arg): queue a channel open.
 * Returns NULL when out of memory.  libssh2 opens one channel at a time
 * per session: opens wait in order for the slot.
 */
struct ssh_open *ssh_open_start(struct ssh_bastion *b, int kind,
	    const char *host, unsigned int port, ssh_open_cb *cb, void *arg);

/*
 * ssh_open_urgent(o): move queued direct-tcpip open o ahead of every
 * queued one that is not urgent (after the urgent ones, in order).  For
 * health checks: a check stuck behind a burst of new sessions would time
 * out and mark a busy route down.
 */
void	ssh_open_urgent(struct ssh_open *o);

/* ssh_open_cancel(o): no callback follows; NULL is a no-op. */
void	ssh_open_cancel(struct ssh_open *o);

/* ssh_open_step(b): progress the open in the slot, start the next. */
void	ssh_open_step(struct ssh_bastion *b);

/* ssh_open_fail_all(b, detail): fail every queued and running open. */
void	ssh_open_fail_all(struct ssh_bastion *b, const char *detail);

/* ssh_ctl_step(b): the session_command channel's exec and output. */
void	ssh_ctl_step(struct ssh_bastion *b);

/* ssh_channel.c */

/*
 * ssh_chan_new(b, ch, target): channel ch as a link, paused until a user
 * attaches.  Takes ch (released on failure).  Returns NULL when out of
 * memory.
 */
struct ssh_chan *ssh_chan_new(struct ssh_bastion *b, LIBSSH2_CHANNEL *ch,
	    const char *target);

/*
 * ssh_chan_release(b, ch): close and free a libssh2 channel; if libssh2
 * must wait for the server, it is finished from b->closing.
 */
void	ssh_chan_release(struct ssh_bastion *b, LIBSSH2_CHANNEL *ch);

/* ssh_chan_step_all(b): pump every channel; free the closed ones. */
void	ssh_chan_step_all(struct ssh_bastion *b);

/*
 * ssh_chan_close_all(b): the connection is gone: free the closed
 * channels, orphan the others and tell their users (error()).
 */
void	ssh_chan_close_all(struct ssh_bastion *b);

/* ssh_auth.c */

/*
 * ssh_auth_step(b): authenticate: the identity file, then the agent.
 * Returns 1 when authenticated, 0 to wait (EAGAIN), -1 on failure with
 * b->last_error set.
 */
int	ssh_auth_step(struct ssh_bastion *b);

/* ssh_auth_reset(b): forget the agent and the progress. */
void	ssh_auth_reset(struct ssh_bastion *b);

/* ssh_knownhosts.c */

/*
 * ssh_key_describe(blob, len, buf, buflen): "ssh-ed25519 SHA256:..." for
 * a public key blob in SSH wire format.
 */
const char *ssh_key_describe(const unsigned char *blob, size_t len,
	    char *buf, size_t buflen);

/* ssh_fingerprint(blob, len, buf, buflen): "SHA256:..." (OpenSSH style). */
const char *ssh_fingerprint(const unsigned char *blob, size_t len,
	    char *buf, size_t buflen);

/*
 * ssh_hostkey_prefs(b, buf, len): the host key algorithms to offer: of
 * those host_key_algorithms allows (ssh_hostkey_allowed), the ones the
 * known_hosts file has for this host first (as OpenSSH does), so that
 * the key the server shows is one we can check.
 */
const char *ssh_hostkey_prefs(const struct ssh_bastion *b, char *buf,
	    size_t len);

/*
 * ssh_hostkey_allowed(s): the bastion's host_key_algorithms, or the
 * default list, which leaves out ssh-rsa (SHA-1 signatures).
 */
const char *ssh_hostkey_allowed(const struct ssh_settings *s);

/*
 * ssh_hostkey_verify(b): check the server's host key against the pin or
 * known_hosts (appending it under accept-new).  Fills b->hostkey and
 * b->fingerprint.  Returns 0, or -1 with b->last_error naming the key
 * type, its fingerprint and the file.
 */
int	ssh_hostkey_verify(struct ssh_bastion *b);

#endif
