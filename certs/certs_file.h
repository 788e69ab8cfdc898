/*
 * File handling for `agentflow certs`: reading small PEM files, creating new
 * files without ever replacing one (keys are born 0600, no chmod window),
 * and replacing a CRL atomically.
 */
#ifndef AGENTFLOW_CERTS_FILE_H
#define AGENTFLOW_CERTS_FILE_H

#include <stddef.h>
#include <sys/types.h>

#define CERTS_FILE_MAX	(4 * 1024 * 1024)

/* One file to create: path, permission bits, NUL-terminated contents. */
struct certs_file {
	const char	*path;
	mode_t		 mode;
	const char	*data;
};

/*
 * Reads a whole file (at most CERTS_FILE_MAX bytes) and NUL-terminates it.
 * *len (may be NULL) gets the length without the NUL.  The caller frees the
 * result; NULL with err set on failure.
 */
char *certs_file_read(const char *path, size_t *len, char *err, size_t errlen);

/*
 * Creates every file with O_EXCL and its mode, and writes it.  An existing
 * file is never touched.  On any failure the files this call created are
 * removed again, so either all exist afterwards or none of the new ones do.
 */
int certs_file_create_all(const struct certs_file *files, size_t n,
    char *err, size_t errlen);

/*
 * Replaces path with data atomically (temporary file in the same directory,
 * fsync, rename), with the given mode.
 */
int certs_file_replace(const char *path, mode_t mode, const char *data,
    char *err, size_t errlen);

/* Creates dir and its missing parents (mode 0755 before umask). */
int certs_file_mkdirs(const char *dir, char *err, size_t errlen);

#endif
