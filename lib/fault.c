/*
 * fault.c: named failure points for tests (see fault.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

#ifdef POSTERN_FAULTS
int
fault_at(const char *point)
{
	const char	*path = getenv("POSTERN_FAULT_FILE");
	char		 line[128];
	FILE		*f;
	int		 hit = 0;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return (0);
	while (!hit && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		hit = strcmp(line, point) == 0;
	}
	fclose(f);
	return (hit);
}
#endif
