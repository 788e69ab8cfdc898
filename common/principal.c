/* Role names (see principal.h): one table, read both ways. */
#include "principal.h"

#include <string.h>

static const char *const names[] = {
	[PRINCIPAL_NONE] = "none",
	[PRINCIPAL_READ] = "read",
	[PRINCIPAL_WRITE] = "write",
	[PRINCIPAL_ADMIN] = "admin",
};

const char *
principal_role_name(enum principal_role r)
{
	return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "none";
}

enum principal_role
principal_role_parse(const char *s)
{
	for (size_t i = PRINCIPAL_READ; s != NULL &&
	    i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum principal_role)i;
	return PRINCIPAL_NONE;
}
