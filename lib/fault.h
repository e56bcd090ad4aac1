/*
 * fault.h: named failure points, so that tests can make a step fail that
 * real life fails only under memory pressure (a reload's allocations).
 * Built in only with --enable-debug: there fault_at(point) is true when
 * the file named by the environment variable POSTERN_FAULT_FILE, read at
 * each call, lists the point (one name a line), so a test can arm a
 * point in a running daemon.  Elsewhere fault_at() is the constant 0.
 */
#ifndef POSTERN_FAULT_H
#define POSTERN_FAULT_H

#ifdef POSTERN_FAULTS
int	fault_at(const char *point);
#else
#define fault_at(point)	0
#endif

#endif
