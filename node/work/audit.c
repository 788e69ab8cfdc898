/*
 * The audit log (see audit.h).  A record is written to the file first and
 * then indexed, so the file never lacks what the index shows.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "store.h"
#include "store_work.h"
#include "xalloc.h"

struct audit {
	int		 fd;
	char		*self_id;
	struct store	*store;
};

struct audit *
audit_open(const char *dir, const char *self_id, struct store *store,
    char *err, size_t errlen)
{
	struct audit *a;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_FILE);
	a = xcalloc(1, sizeof(*a));
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (a->fd == -1) {
		snprintf(err, errlen, "%s: cannot open the audit log: %s", path,
		    strerror(errno));
		free(a);
		return NULL;
	}
	a->self_id = xstrdup(self_id);
	a->store = store;
	return a;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a->self_id);
	free(a);
}

void
audit_record(struct audit *a, const char *action, const char *actor,
    const char *result, json_t *details)
{
	uint64_t now = clock_wall_ms();
	json_t *rec;
	char *line;
	size_t len;

	rec = json_pack("{s:I, s:s, s:s, s:s, s:s}", "time_ms", (json_int_t)now,
	    "node", a->self_id, "action", action, "actor", actor ? actor : "",
	    "result", result ? result : "");
	if (rec == NULL) {
		json_decref(details);
		return;
	}
	if (details != NULL)
		json_object_set_new(rec, "details", details);
	line = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line == NULL)
		goto out;
	len = strlen(line);
	line[len] = '\n';	/* json_dumps' NUL becomes the newline */
	/* One write(2) per record: O_APPEND keeps records whole. */
	if (write(a->fd, line, len + 1) != (ssize_t)(len + 1))
		log_event(LOG_ERROR, "cannot append to the audit log", "{s:s}",
		    "error", strerror(errno));
	line[len] = '\0';
	if (store_audit_append(a->store, (int64_t)now, a->self_id, action, line,
	    NULL) != 0)
		log_event(LOG_ERROR, "cannot index an audit record", "{s:s}",
		    "error", store_error(a->store));
	free(line);
out:
	json_decref(rec);
}
