/*
 * drive.c: the trackers (resp_track.h, pg_track.h) driven over a pipe,
 * for tests/diff/diff.py, which talks to a real server and hands this
 * program the bytes each way exactly as they were sent and received.
 * A test program, not part of postern.
 *
 * stdin, one request per line (bytes follow where a length is given):
 *   R / P        a fresh Redis / PostgreSQL tracker
 *   c N / s N    N bytes the client / server sent
 *   q            print the tracker's state, one JSON line
 *   r            (Redis) print what a move would replay, one JSON line
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "pg_track.h"
#include "resp_track.h"

static const char *const resp_safe_names[] = {
	"BUSY", "SAFE", "SAFE_CLOSE", "LOST"
};
static const char *const pg_safe_names[] = {
	"BUSY", "SAFE", "LISTENING", "LOST"
};

/* A string for JSON: only what the trackers' reasons hold. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s < ' ')
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void
resp_state(const struct resp_track *t)
{
	/* No live part: the counts are all zero (resp_track.h). */
	static const struct resp_sub	none;
	struct resp_sub			sub = t->live != NULL ? t->live->sub :
					    none;

	printf("{\"safe\":\"%s\",\"why\":",
	    resp_safe_names[resp_track_safe(t)]);
	json_str(resp_track_why(t));
	printf(",\"lost\":%d,\"sent\":%llu,\"answered\":%llu,\"multi\":%d,"
	    "\"watch\":%d,\"subscribed\":%d,\"monitor\":%d,\"resp3\":%d,"
	    "\"sticky\":%d,\"n\":[%llu,%llu,%llu],\"unreplayable\":%d}\n",
	    t->lost != NULL, (unsigned long long)t->sent,
	    (unsigned long long)t->answered, t->multi, t->watch,
	    t->subscribed, t->monitor, t->resp3, sub.sticky,
	    (unsigned long long)sub.n[0], (unsigned long long)sub.n[1],
	    (unsigned long long)sub.n[2], t->unreplayable != NULL);
}

static void
resp_replay(const struct resp_track *t)
{
	struct resp_expect	 want[RESP_NSLOTS];
	struct evbuffer		*out = evbuffer_new();
	char			 names[256];
	const uint8_t		*p;
	size_t			 len, i;
	int			 n, k;

	n = resp_track_replay(t, out, want, names, sizeof(names));
	len = evbuffer_get_length(out);
	p = evbuffer_pullup(out, -1);
	printf("{\"n\":%d,\"names\":", n);
	json_str(names);
	printf(",\"hex\":\"");
	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
	printf("\",\"want\":[");
	for (k = 0; k < n; k++) {
		printf("%s[\"%c\",", k > 0 ? "," : "", want[k].type);
		json_str(want[k].line);
		printf(",%d]", want[k].any_body);
	}
	printf("]}\n");
	evbuffer_free(out);
}

static void
pg_state(const struct pg_track *t)
{
	printf("{\"safe\":\"%s\",\"why\":", pg_safe_names[pg_track_safe(t)]);
	json_str(pg_track_why(t));
	printf(",\"lost\":%d,\"status\":\"%c\",\"copy\":%d,\"batch\":%d,"
	    "\"syncs\":%llu,\"listening\":%d,\"nchan\":%zu,\"unknown\":%d}\n",
	    t->lost != NULL, t->status != 0 ? t->status : '0', t->copy,
	    t->batch, (unsigned long long)t->syncs,
	    pg_listen_on(&t->listen), (size_t)t->listen.nchan,
	    t->listen.unknown);
}

int
main(void)
{
	static struct resp_track	rt;
	static struct pg_track		pt;
	char				line[64];
	uint8_t				*buf = NULL;
	size_t				n;
	int				pg = 0;

	resp_track_init(&rt);
	pg_track_init(&pt);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		switch (line[0]) {
		case 'R':
			resp_track_clear(&rt);
			resp_track_init(&rt);
			pg = 0;
			break;
		case 'P':
			pg_track_clear(&pt);
			pg_track_init(&pt);
			pg = 1;
			break;
		case 'c':
		case 's':
			n = strtoul(line + 2, NULL, 10);
			if ((buf = realloc(buf, n + 1)) == NULL ||
			    fread(buf, 1, n, stdin) != n)
				return (1);
			if (pg && line[0] == 'c')
				pg_track_client(&pt, buf, n);
			else if (pg)
				pg_track_server(&pt, buf, n);
			else if (line[0] == 'c')
				resp_track_client(&rt, buf, n);
			else
				resp_track_server(&rt, buf, n);
			break;
		case 'q':
			if (pg)
				pg_state(&pt);
			else
				resp_state(&rt);
			break;
		case 'r':
			resp_replay(&rt);
			break;
		default:
			return (1);
		}
		fflush(stdout);
	}
	resp_track_clear(&rt);
	free(buf);
	return (0);
}
