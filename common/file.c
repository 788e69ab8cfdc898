/*
 * Whole-file reading (see file.h).  The size comes from fstat() of the
 * open descriptor, so the checks and the read are about the same file
 * even when the path is replaced meanwhile; reading one byte past that
 * size catches a file that grew beyond max after the fstat().
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *
fail(int fd, char *buf, int e, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why != NULL ? why : strerror(e));
	free(buf);
	if (fd >= 0)
		close(fd);
	errno = e;
	return NULL;
}

char *
file_read(const char *path, size_t max, size_t *lenp, struct stat *stp,
    char *err, size_t errlen)
{
	char toolarge[64];
	struct stat st;
	size_t len = 0, want;
	char *buf;
	ssize_t n;
	int fd;

	snprintf(toolarge, sizeof(toolarge), "larger than %zu bytes", max);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(-1, NULL, errno, err, errlen, NULL);
	if (fstat(fd, &st) != 0)
		return fail(fd, NULL, errno, err, errlen, NULL);
	if (stp != NULL)
		*stp = st;
	if (!S_ISREG(st.st_mode))
		return fail(fd, NULL, EINVAL, err, errlen,
		    "not a regular file");
	if ((uintmax_t)st.st_size > max)
		return fail(fd, NULL, EFBIG, err, errlen, toolarge);
	/* One byte more than the size, to notice a file that grew. */
	want = (size_t)st.st_size + 1;
	if ((buf = malloc(want + 1)) == NULL)
		return fail(fd, NULL, ENOMEM, err, errlen, "out of memory");
	while (len < want) {
		n = read(fd, buf + len, want - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(fd, buf, errno, err, errlen, NULL);
		if (n == 0)
			break;	/* shrank meanwhile; use what is there */
		len += (size_t)n;
	}
	close(fd);
	if (len > max)
		return fail(-1, buf, EFBIG, err, errlen, toolarge);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}
