/*
 * One process per data directory: an exclusive flock(2) on DATA_DIR/lock,
 * which holds the holder's pid for the message a second process prints.
 * The kernel drops the lock when its holder dies, however it dies, so a
 * kill -9 leaves nothing stale behind; the file itself stays (removing it
 * would let a process that opened it before the removal lock an orphan).
 */
#ifndef AGENTFLOW_DATADIR_LOCK_H
#define AGENTFLOW_DATADIR_LOCK_H

#include <stddef.h>

struct datadir_lock;

/*
 * Creates dir if missing and locks it.  Returns the lock (release with
 * datadir_lock_release), or NULL with why in err: "data directory X is in
 * use by pid N" when another process holds it.
 */
struct datadir_lock *datadir_lock_take(const char *dir, char *err,
    size_t errlen);
/* Empties the pid file and drops the lock.  NULL: no-op. */
void datadir_lock_release(struct datadir_lock *);

#endif
