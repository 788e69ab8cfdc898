/*
 * The data directory's lock (see datadir_lock.h).  The pid is written
 * only once the lock is held and emptied before it is dropped, so whoever
 * reads a pid from a locked file reads its holder's (or nothing, in the
 * moment between taking the lock and writing it).
 */
#include "datadir_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "xalloc.h"

#define LOCK_FILE	"lock"

struct datadir_lock {
	int	 fd;
};

/* The holder's pid as its file says, into buf ("" when not written yet). */
static void
read_holder(int fd, char *buf, size_t buflen)
{
	ssize_t n = pread(fd, buf, buflen - 1, 0);
	size_t i;

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (i = 0; buf[i] >= '0' && buf[i] <= '9'; i++)
		;
	buf[i] = '\0';
}

struct datadir_lock *
datadir_lock_take(const char *dir, char *err, size_t errlen)
{
	struct datadir_lock *dl;
	char path[4096], holder[32], pid[32];
	int fd, len;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create data directory: %s",
		    dir, strerror(errno));
		return NULL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, LOCK_FILE) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s: data directory path too long", dir);
		return NULL;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			read_holder(fd, holder, sizeof(holder));
			snprintf(err, errlen, "data directory %s is in use by %s%s",
			    dir, holder[0] != '\0' ? "pid " : "another process",
			    holder);
		} else
			snprintf(err, errlen, "%s: cannot lock: %s", path,
			    strerror(errno));
		close(fd);
		return NULL;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)len, 0) != len) {
		snprintf(err, errlen, "%s: cannot write our pid: %s", path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	dl = xcalloc(1, sizeof(*dl));
	dl->fd = fd;
	return dl;
}

void
datadir_lock_release(struct datadir_lock *dl)
{
	if (dl == NULL)
		return;
	/* Still ours while we empty it; close() drops the lock.  A pid left
	 * behind names no holder: nobody reads it while the lock is free. */
	if (ftruncate(dl->fd, 0) == -1)
		log_event(LOG_DEBUG, "cannot empty the data directory lock",
		    "{s:s}", "error", strerror(errno));
	close(dl->fd);
	free(dl);
}
