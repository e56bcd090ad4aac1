/*
 * ctl.h: "postern ctl", the command-line client of the admin endpoint.
 */
#ifndef POSTERN_CTL_H
#define POSTERN_CTL_H

/*
 * ctl_main(argc, argv): run "postern ctl [-a ADDR] [-c FILE] [-t FILE]
 * COMMAND [ARGS]"; argv[0] is "ctl" (main passes argc - 1, argv + 1).
 * Talks HTTP/1.0 over a blocking socket with 5 s timeouts (with the
 * X-Postern-Request header, the IP connected to as Host and, from -t or
 * the admin_token_file of -c, a bearer token; route control asks for
 * text/plain), prints the answer and returns the exit status: 0 success,
 * 1 failure (including an unhealthy or not-ready answer), 2 usage error.
 * Starts no event loop and leaves nothing open.
 */
int	ctl_main(int argc, char **argv);

#endif
