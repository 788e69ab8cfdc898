/*
 * Files for `agentflow certs` (see certs_file.h).  The one invariant: a file
 * that existed before a command is never opened for writing by it, except
 * the CRL, which is replaced by rename so a reader sees the old or the new
 * CRL and never half of one.
 */
#include "certs_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

char *
certs_file_read(const char *path, size_t *lenp, char *err, size_t errlen)
{
	char why[256];
	char *buf;

	if ((buf = file_read(path, CERTS_FILE_MAX, lenp, NULL, why,
	    sizeof(why))) == NULL)
		snprintf(err, errlen, "cannot read %s: %s", path, why);
	return buf;
}

int
certs_file_create_all(const struct certs_file *files, size_t n, char *err,
    size_t errlen)
{
	int fds[8];
	size_t made = 0, i;

	if (n > sizeof(fds) / sizeof(fds[0])) {
		snprintf(err, errlen, "too many files");
		return -1;
	}
	/* Claim every name first, so a clash leaves nothing written. */
	for (made = 0; made < n; made++) {
		fds[made] = open(files[made].path, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, files[made].mode);
		if (fds[made] < 0) {
			if (errno == EEXIST)
				snprintf(err, errlen, "refusing to overwrite "
				    "existing file %s", files[made].path);
			else
				snprintf(err, errlen, "cannot create %s: %s",
				    files[made].path, strerror(errno));
			goto undo;
		}
	}
	for (i = 0; i < n; i++) {
		if (write_all(fds[i], files[i].data, strlen(files[i].data)) != 0 ||
		    fsync(fds[i]) != 0) {
			snprintf(err, errlen, "cannot write %s: %s",
			    files[i].path, strerror(errno));
			goto undo;
		}
	}
	for (i = 0; i < n; i++) {
		if (close(fds[i]) != 0) {
			snprintf(err, errlen, "cannot write %s: %s",
			    files[i].path, strerror(errno));
			fds[i] = -1;
			for (size_t j = i + 1; j < n; j++) {
				close(fds[j]);
				fds[j] = -1;
			}
			goto undo;
		}
		fds[i] = -1;
	}
	return 0;
undo:
	while (made-- > 0) {
		if (fds[made] >= 0)
			close(fds[made]);
		unlink(files[made].path);
	}
	return -1;
}

int
certs_file_replace(const char *path, mode_t mode, const char *data, char *err,
    size_t errlen)
{
	char tmp[4096];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "path too long: %s", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "cannot create a temporary file beside "
		    "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0 ||
	    write_all(fd, data, strlen(data)) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot replace %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
certs_file_mkdirs(const char *dir, char *err, size_t errlen)
{
	char buf[4096];
	struct stat st;
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf)) {
		snprintf(err, errlen, "invalid directory name \"%s\"", dir);
		return -1;
	}
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s: %s",
			    buf, strerror(errno));
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	return 0;
}
