/*
 * A fanned-out job's summary (fanout_summary.h).
 */
#include "fanout_summary.h"

#include <stdio.h>
#include <string.h>

void
fanout_summary_add(struct fanout_summary *s, const char *state)
{
	static const struct {
		const char	*name;
		size_t		 at;
	} finals[] = {
		{ "succeeded", offsetof(struct fanout_summary, succeeded) },
		{ "failed", offsetof(struct fanout_summary, failed) },
		{ "cancelled", offsetof(struct fanout_summary, cancelled) },
		{ "expired", offsetof(struct fanout_summary, expired) },
		{ "lost", offsetof(struct fanout_summary, lost) },
	};

	s->n++;
	for (size_t i = 0; state != NULL && i < sizeof(finals) /
	    sizeof(finals[0]); i++)
		if (strcmp(state, finals[i].name) == 0) {
			(*(unsigned *)((char *)s + finals[i].at))++;
			return;
		}
	s->open++;
}

const char *
fanout_summary_state(const struct fanout_summary *s, char *reason, size_t len)
{
	const struct {
		const char	*name;
		unsigned	 count;
	} parts[] = {
		{ "failed", s->failed }, { "cancelled", s->cancelled },
		{ "expired", s->expired }, { "lost", s->lost },
	};
	size_t at = 0;
	int w;

	if (reason != NULL && len > 0)
		reason[0] = '\0';
	if (s->open > 0)
		return "running";
	if (s->succeeded == s->n)
		return "succeeded";
	/* "2 of 5 failed, 1 lost": the first part says out of how many. */
	for (size_t i = 0; reason != NULL && i < sizeof(parts) /
	    sizeof(parts[0]); i++) {
		if (parts[i].count == 0)
			continue;
		w = at == 0 ? snprintf(reason, len, "%u of %u %s", parts[i].count,
		    s->n, parts[i].name) : snprintf(reason + at, len - at,
		    ", %u %s", parts[i].count, parts[i].name);
		if (w < 0 || (size_t)w >= len - at)
			break;
		at += (size_t)w;
	}
	return "failed";
}

int
fanout_summary_exit(const struct fanout_summary *s)
{
	if (s->open > 0)
		return -1;
	if (s->failed > 0 || s->cancelled > 0)
		return 1;
	if (s->expired > 0 || s->lost > 0)
		return FANOUT_EXIT_EXPIRED;
	return 0;
}
