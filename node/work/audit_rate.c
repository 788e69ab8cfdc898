/* The quiet reads' audit rate (audit_rate.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_rate.h"
#include "xalloc.h"

struct slot {
	char		*key;	/* NULL: free */
	uint64_t	 at_ms;	/* when its row was last written */
};

struct audit_rate {
	size_t		 n;
	uint64_t	 window_ms;
	struct slot	*slots;
};

struct audit_rate *
audit_rate_new(size_t keys, uint64_t window_ms)
{
	struct audit_rate *r = xcalloc(1, sizeof(*r));

	r->n = keys > 0 ? keys : 1;
	r->window_ms = window_ms;
	r->slots = xcalloc(r->n, sizeof(*r->slots));
	return r;
}

void
audit_rate_free(struct audit_rate *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->slots[i].key);
	free(r->slots);
	free(r);
}

int
audit_rate_admit(struct audit_rate *r, const char *principal,
    const char *origin, int type, const char *action, uint64_t now_ms)
{
	struct slot *s, *room = NULL;
	char key[512];

	/* Principals and node ids hold no newline (name and id syntax), and
	 * the wire bounds them well inside key. */
	snprintf(key, sizeof(key), "%s\n%s\n%d\n%s", principal ? principal :
	    "", origin ? origin : "", type, action ? action : "");
	for (size_t i = 0; i < r->n; i++) {
		s = &r->slots[i];
		if (s->key != NULL && strcmp(s->key, key) == 0) {
			if (now_ms >= s->at_ms &&
			    now_ms - s->at_ms < r->window_ms)
				return 0;
			s->at_ms = now_ms;
			return 1;
		}
		/* A free slot, else the one written longest ago. */
		if (room == NULL || (room->key != NULL && (s->key == NULL ||
		    s->at_ms < room->at_ms)))
			room = s;
	}
	free(room->key);
	room->key = xstrdup(key);
	room->at_ms = now_ms;
	return 1;
}

size_t
audit_rate_count(const struct audit_rate *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++)
		k += r->slots[i].key != NULL;
	return k;
}
