/*
 * Reading a small file whole: configuration, certificates, CRLs.  One
 * bounded reader, so every such file is refused the same way when it is
 * not a regular file (a FIFO would block the reader) or too large.
 */
#ifndef AGENTFLOW_FILE_H
#define AGENTFLOW_FILE_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * Reads the regular file at path, at most max bytes, and NUL-terminates it.
 * *len (may be NULL) gets the length without the NUL; st (may be NULL) the
 * fstat() of the file that was read.  A file that shrinks while being read
 * yields what is there; one that grows past max is refused.  The caller
 * frees the result.
 *
 * On failure returns NULL with err set to the reason alone, without the
 * path ("No such file or directory", "not a regular file", "larger than
 * 4194304 bytes", ...), for the caller to put into its own words; errno
 * is then EFBIG when the file was larger than max.
 */
char *file_read(const char *path, size_t max, size_t *len, struct stat *st,
    char *err, size_t errlen);

#endif
