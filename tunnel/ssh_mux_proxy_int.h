/*
 * ssh_mux_proxy_int.h: private to mux_forward = proxy: its proxy
 * connections (ssh_mux_proxy.c, prefix muxp_) and the channels on them
 * (ssh_mux_pchan.c, prefix muxp_chan_), which call one another.  See
 * ssh_mux_proxy.c for how it works.
 */
#ifndef POSTERN_SSH_MUX_PROXY_INT_H
#define POSTERN_SSH_MUX_PROXY_INT_H

#include "link.h"
#include "ssh_int.h"
#include "ssh_mux_wire.h"

/* Our window and largest packet: what ssh -L offers (channels.h). */
#define MUXP_WINDOW		(2 * 1024 * 1024)
#define MUXP_MAXPKT		(32 * 1024)
/* Bytes given back to the server in one adjust, at least. */
#define MUXP_ADJUST_MIN		(3 * MUXP_MAXPKT)
/* Queued toward the master above this: channels wait. */
#define MUXP_OUT_HIGH		(256 * 1024)

enum muxp_state {
	MUXP_ASKING,		/* MUX_C_PROXY sent, no answer yet */
	MUXP_READY
};

enum muxp_chan_state {
	MUXP_OPENING,
	MUXP_OPEN,
	MUXP_DONE		/* to be freed by the kick */
};

TAILQ_HEAD(muxp_chan_list, muxp_chan);

struct muxp_conn {
	TAILQ_ENTRY(muxp_conn)	 entry;
	struct ssh_bastion	*b;		/* NULL: stopped, being freed */
	int			 fd;
	enum muxp_state		 state;
	uint32_t		 rid;
	struct event		*rev, *flush, *kick;
	struct evbuffer		*in, *out;
	struct muxp_chan	**chans;	/* by our channel id */
	uint32_t		 nalloc, hint;
	unsigned int		 nchans;
	struct muxp_chan_list	 blocked;	/* waiting for pc->out */
	struct muxp_chan_list	 kicked;	/* for the kick: to free, or
						   to deliver to */
	int			 dispatching;
	int			 eof;		/* the master closed it */
};

struct muxp_chan {
	struct link		 link;
	struct muxp_conn	*pc;		/* NULL: orphaned */
	TAILQ_ENTRY(muxp_chan)	 bentry;
	int			 queued;	/* in pc->blocked */
	TAILQ_ENTRY(muxp_chan)	 kentry;
	int			 kicked;	/* in pc->kicked */
	enum muxp_chan_state	 state;
	uint32_t		 id, peer;
	struct dial		*d;		/* while opening */
	uint32_t		 rwin, rmax;	/* the server's window, packet */
	uint32_t		 lwin;		/* what the server may still send */
	uint32_t		 consumed;	/* delivered, not yet adjusted */
	struct evbuffer		*up, *held;
	unsigned int		 paused:1, up_eof:1, eof_sent:1, close_sent:1,
				 eof_rcvd:1, eof_told:1, close_rcvd:1,
				 close_told:1, gone:1, owe_writable:1,
				 counted:1;
};

/* ssh_mux_proxy.c */

/* muxp_schedule(pc): write pc's queued output from the loop. */
void	muxp_schedule(struct muxp_conn *pc);

/* muxp_send(pc, type, peer, value): queue a short message (wire.h). */
void	muxp_send(struct muxp_conn *pc, uint8_t type, uint32_t peer,
	    uint32_t value);

/* ssh_mux_pchan.c */

/*
 * muxp_chan_new(pc): a channel in pc's table, opening, paused; NULL when
 * out of memory or ids.
 */
struct muxp_chan *muxp_chan_new(struct muxp_conn *pc);

/* muxp_chan_destroy(ch): free ch (out of any table). */
void	muxp_chan_destroy(struct muxp_chan *ch);

/*
 * muxp_chan_detach(ch, b): take ch out of its connection's table (its id
 * may be reused) and b's channel count.
 */
void	muxp_chan_detach(struct muxp_chan *ch, struct ssh_bastion *b);

/* muxp_chan_flush(ch): frame ch's queued bytes as its window allows. */
void	muxp_chan_flush(struct muxp_chan *ch);

/* muxp_chan_tell_writable(ch): writable() if a write owed it. */
void	muxp_chan_tell_writable(struct muxp_chan *ch);

/* muxp_chan_deliver(ch): held data, EOF, close to the user; the window. */
void	muxp_chan_deliver(struct muxp_chan *ch);

/* muxp_chan_dispatch(pc, m): one message from the master; -1: bad. */
int	muxp_chan_dispatch(struct muxp_conn *pc, const struct ssh_mux_pmsg *m);

/*
 * muxp_chan_data(pc, id, len): a DATA message's len bytes, next in
 * pc->in, for channel id; -1: a protocol error.
 */
int	muxp_chan_data(struct muxp_conn *pc, uint32_t id, size_t len);

#endif
