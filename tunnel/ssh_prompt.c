/*
 * ssh_prompt.c: ask the user at the terminal, as ssh(1) does, whether
 * an unknown bastion host key is the right one
 * (strict_host_key_checking = ask, quick mode's default on a terminal).
 *
 * The question blocks the event loop until it is answered: it comes only
 * in quick mode, while the bastion is not up yet (nothing flows through
 * it), and ssh(1) blocks the same way.  The caller re-arms its connect
 * timeout afterwards.  Ctrl-C at the question ends postern at once, as it
 * ends ssh: SIGINT has its default action while the question waits.
 */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ssh_int.h"

/* "ssh-ed25519" -> "ED25519", "ecdsa-sha2-nistp256" -> "ECDSA". */
static const char *
prompt_type(const char *type, char *buf, size_t len)
{
	size_t	i;

	if (strncmp(type, "ssh-", 4) == 0)
		type += 4;
	snprintf(buf, len, "%.*s", (int)strcspn(type, "-"), type);
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	return (buf);
}

int
ssh_prompt_hostkey(const char *name, const char *type, const char *fp,
    const char *file)
{
	struct sigaction	 dfl, old;
	FILE			*tty;
	char			 line[256], kind[32];
	int			 fd, rc = 0;

	if (!isatty(STDIN_FILENO) ||
	    (fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return (-1);
	if ((tty = fdopen(fd, "r+")) == NULL) {
		close(fd);
		return (-1);
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGINT, &dfl, &old);
	fprintf(tty, "The authenticity of host '%s' can't be established.\n"
	    "%s key fingerprint is %s.\nIt is not in %s.\n"
	    "Are you sure you want to continue connecting "
	    "(yes/no/[fingerprint])? ", name, prompt_type(type, kind,
	    sizeof(kind)), fp, file);
	fflush(tty);
	while (fgets(line, sizeof(line), tty) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcasecmp(line, "yes") == 0 || strcmp(line, fp) == 0) {
			rc = 1;
			break;
		}
		if (strcasecmp(line, "no") == 0)
			break;
		fprintf(tty, "Please type 'yes', 'no' or the fingerprint: ");
		fflush(tty);
	}
	sigaction(SIGINT, &old, NULL);
	fclose(tty);
	return (rc);
}
