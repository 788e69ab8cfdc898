/*
 * Unpacking a service's artifact (a .tar.gz, .tar or .zip, stored by
 * SHA-256) into the directory of one version.  Artifacts come from other
 * members of the mesh and from users, so an archive is hostile input: it
 * is read with libarchive, and nothing it names is written outside the
 * directory, through a link, or with an owner or special bits of its own.
 *
 * Refinements of the contract below: directories get at least rwx for
 * their owner (a 0555 directory becomes 0755), so that a version can
 * always be removed again; data that libarchive hands over for entries
 * other than regular files is skipped but counts against max_bytes, so
 * the bound is on work as well as on disk.  A symlink's target may
 * start with ".." components but has none after a name ("a/../b" is
 * refused): the target of a link met on the way is not known from the
 * text alone.  A hard link is kept when it names a regular file unpacked
 * before it.  The same path twice is refused unless both are
 * directories.
 *
 * No chdir, no globals: safe on any thread, several unpacks at once.
 */
#ifndef AGENTFLOW_ARTIFACT_UNPACK_H
#define AGENTFLOW_ARTIFACT_UNPACK_H

#include <stddef.h>
#include <stdint.h>

/* Limits of one unpack. */
struct artifact_unpack_limits {
	uint64_t	max_bytes;	/* total bytes of regular files written */
	size_t		max_entries;	/* entries of any kind */
};

/*
 * Unpacks the .tar.gz, .tar or .zip at path into dir, which must not exist
 * (it is made 0755).  Regular files and directories only, plus symlinks whose
 * target stays inside dir (relative, never leaving it through ".."); refused
 * with the entry named: an absolute path, a ".." component that leaves dir, a
 * symlink or hardlink that points out of dir or through which a later entry
 * would be written, devices, FIFOs, sockets, more than max_entries entries or
 * max_bytes bytes, any other format ("not a .tar.gz or .zip archive"), a
 * truncated or corrupt archive.  Modes are kept but never setuid/setgid/sticky,
 * and the files belong to the process's user (no owner from the archive).
 * Returns 0, or -1 with why in err (e.g. "entry '../evil': leaves the
 * directory"), having removed dir and everything it wrote.
 */
int artifact_unpack(const char *path, const char *dir,
    const struct artifact_unpack_limits *lim, char *err, size_t errlen);

#endif
