/* Node identity syntax (see node_id.h). */
#include "node_id.h"

#include <ctype.h>

bool
node_id_valid(const char *id, size_t len)
{
	if (id == NULL || len == 0 || len > NODE_ID_MAX)
		return false;
	if (!isalnum((unsigned char)id[0]))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}
