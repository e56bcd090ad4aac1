/*
 * resp_scan.h: the RESP framing of a byte stream, just enough to see each
 * aggregate header (array, set, push, map) before a reader that allocates
 * from it does: hiredis allocates an array's element pointers when it
 * reads "*100000000", before a single element came (hiredis 0.14 has no
 * limit; 1.x's maxelements defaults to 2^32 - 1).  probe.c caps what a
 * check's reply may announce.  No I/O, no allocation: fuzzed
 * (tests/fuzz/fuzz_resp_scan.c).
 */
#ifndef POSTERN_RESP_SCAN_H
#define POSTERN_RESP_SCAN_H

#include <stddef.h>

/* Zeroed: before the first value. */
struct resp_scan {
	int		 state;
	char		 type;		/* of the header being read */
	char		 line[24];	/* its digits (longer: cut) */
	size_t		 len;
	long long	 skip;		/* bulk bytes and CRLF left */
};

/*
 * resp_scan_feed(s, b, n, max, count): follow n more bytes of the
 * stream.  0, or -1 when an aggregate header announces more than max
 * elements (a map's pairs count twice), with that number in *count; the
 * scan is then undefined.  Malformed framing is left to the reader
 * (the scan resynchronises at the next line).
 */
int	resp_scan_feed(struct resp_scan *s, const unsigned char *b, size_t n,
	    long long max, long long *count);

#endif
