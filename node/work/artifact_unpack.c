/*
 * Unpacking an artifact (artifact_unpack.h): libarchive reads the archive,
 * and this file writes what it finds itself, every name relative to a
 * descriptor of the version's directory (openat, mkdirat, symlinkat,
 * linkat), never through a path that the kernel would resolve on its own.
 *
 * The invariants that keep every write inside the directory:
 *   - An entry's name is made lexical first ("a/./b//c" is "a/b/c", "a/.."
 *     is gone), and refused when it is absolute or its ".." climbs out.
 *   - Directories on the way are opened with O_NOFOLLOW one component at a
 *     time, so they are real directories made by this unpack; a symlink
 *     met on the way refuses the entry.  Files are made with O_EXCL |
 *     O_NOFOLLOW, so nothing that exists is opened or followed.
 *   - A symlink is made only when its target, resolved from its own real
 *     directory, stays inside: leading ".." no more than its depth, then
 *     names only.  By induction every link met while resolving another
 *     such target also resolves inside.  A hard link is made only to a
 *     regular file (never to a symlink, whose target would be read from
 *     another directory).
 *   - Directories keep at least rwx for their owner, so that the next
 *     entry can be written and a failed unpack removed whole.
 * The directory itself is 0700 while it is written and 0755 once whole;
 * on any failure it is removed with everything in it.
 *
 * What is corrupt is what libarchive finds so: tar header checksums, zip
 * CRCs, a gzip stream that ends early.  libarchive (3.6) does not check
 * the gzip trailer's CRC, and a plain .tar cut exactly between two
 * entries reads as a shorter archive (libarchive needs no end marker);
 * an artifact's SHA-256, checked before it is unpacked, covers both.  A
 * zip is read from its central directory only (the seekable reader), so
 * a zip cut anywhere is refused rather than read from its local headers.
 */
#include "artifact_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "lazylib.h"
#include "text.h"

/*
 * libarchive, loaded by the first unpack (lazylib.h): linked, it and the
 * nine libraries it brings (ICU, libxml2, nettle, the compressors) cost
 * every node about 1.6 MiB of resident memory at start, artifacts or not.
 */
static struct libarchive {
	struct archive	*(*read_new)(void);
	int		 (*support_filter_gzip)(struct archive *);
	int		 (*support_filter_none)(struct archive *);
	int		 (*support_format_tar)(struct archive *);
	int		 (*support_format_zip_seekable)(struct archive *);
	int		 (*set_callback_data)(struct archive *, void *);
	int		 (*set_read_callback)(struct archive *,
			    archive_read_callback *);
	int		 (*set_seek_callback)(struct archive *,
			    archive_seek_callback *);
	int		 (*set_skip_callback)(struct archive *,
			    archive_skip_callback *);
	int		 (*open1)(struct archive *);
	int		 (*next_header)(struct archive *, struct archive_entry **);
	la_ssize_t	 (*read_data)(struct archive *, void *, size_t);
	int		 (*read_free)(struct archive *);
	const char	*(*error_string)(struct archive *);
	int		 (*errno_of)(struct archive *);
	int		 (*format)(struct archive *);
	void		 (*set_error)(struct archive *, int, const char *, ...);
	la_int64_t	 (*entry_size)(struct archive_entry *);
	int		 (*entry_size_is_set)(struct archive_entry *);
	mode_t		 (*entry_perm)(struct archive_entry *);
	const char	*(*entry_symlink)(struct archive_entry *);
	const char	*(*entry_hardlink)(struct archive_entry *);
	const char	*(*entry_pathname)(struct archive_entry *);
	mode_t		 (*entry_filetype)(struct archive_entry *);
} la;

#define LA(field, name)	LAZYLIB_SYM(struct libarchive, field, name)
static const struct lazylib_sym la_syms[] = {
	LA(read_new, "archive_read_new"),
	LA(support_filter_gzip, "archive_read_support_filter_gzip"),
	LA(support_filter_none, "archive_read_support_filter_none"),
	LA(support_format_tar, "archive_read_support_format_tar"),
	LA(support_format_zip_seekable, "archive_read_support_format_zip_seekable"),
	LA(set_callback_data, "archive_read_set_callback_data"),
	LA(set_read_callback, "archive_read_set_read_callback"),
	LA(set_seek_callback, "archive_read_set_seek_callback"),
	LA(set_skip_callback, "archive_read_set_skip_callback"),
	LA(open1, "archive_read_open1"),
	LA(next_header, "archive_read_next_header"),
	LA(read_data, "archive_read_data"),
	LA(read_free, "archive_read_free"),
	LA(error_string, "archive_error_string"),
	LA(errno_of, "archive_errno"),
	LA(format, "archive_format"),
	LA(set_error, "archive_set_error"),
	LA(entry_size_is_set, "archive_entry_size_is_set"),
	LA(entry_size, "archive_entry_size"),
	LA(entry_perm, "archive_entry_perm"),
	LA(entry_symlink, "archive_entry_symlink"),
	LA(entry_hardlink, "archive_entry_hardlink"),
	LA(entry_pathname, "archive_entry_pathname"),
	LA(entry_filetype, "archive_entry_filetype"),
};
static struct lazylib la_lib = LAZYLIB("libarchive.so.13", "libarchive13",
    la_syms, &la);

/* The library, loaded; -1 with err saying why it cannot be.  The sizeof
 * lines are the compiler's check that each pointer has its function's
 * type (comparing pointers of distinct types is a diagnostic; unevaluated:
 * nothing is linked). */
static int
la_load(char *err, size_t errlen)
{
	(void)sizeof(la.read_new == archive_read_new);
	(void)sizeof(la.support_filter_gzip == archive_read_support_filter_gzip);
	(void)sizeof(la.support_filter_none == archive_read_support_filter_none);
	(void)sizeof(la.support_format_tar == archive_read_support_format_tar);
	(void)sizeof(la.support_format_zip_seekable == archive_read_support_format_zip_seekable);
	(void)sizeof(la.set_callback_data == archive_read_set_callback_data);
	(void)sizeof(la.set_read_callback == archive_read_set_read_callback);
	(void)sizeof(la.set_seek_callback == archive_read_set_seek_callback);
	(void)sizeof(la.set_skip_callback == archive_read_set_skip_callback);
	(void)sizeof(la.open1 == archive_read_open1);
	(void)sizeof(la.next_header == archive_read_next_header);
	(void)sizeof(la.read_data == archive_read_data);
	(void)sizeof(la.read_free == archive_read_free);
	(void)sizeof(la.error_string == archive_error_string);
	(void)sizeof(la.errno_of == archive_errno);
	(void)sizeof(la.format == archive_format);
	(void)sizeof(la.set_error == archive_set_error);
	(void)sizeof(la.entry_size_is_set == archive_entry_size_is_set);
	(void)sizeof(la.entry_size == archive_entry_size);
	(void)sizeof(la.entry_perm == archive_entry_perm);
	(void)sizeof(la.entry_symlink == archive_entry_symlink);
	(void)sizeof(la.entry_hardlink == archive_entry_hardlink);
	(void)sizeof(la.entry_pathname == archive_entry_pathname);
	(void)sizeof(la.entry_filetype == archive_entry_filetype);
	return lazylib_get(&la_lib, err, errlen);
}

/*
 * The errno libarchive sets when no format or filter knows the data; its
 * archive.h leaves ARCHIVE_ERRNO_FILE_FORMAT commented out, and its
 * archive_private.h defines it this way.
 */
#ifdef EFTYPE
#define FILE_FORMAT_ERRNO	EFTYPE
#else
#define FILE_FORMAT_ERRNO	EILSEQ
#endif

#define NAME_SHOWN	200		/* bytes of a name in a message */
#define DATA_BUF	65536		/* bytes read from an entry at once */

/* One unpack: what it reads, where it writes, what it has used. */
struct unpack {
	struct archive	*a;
	int		 root;		/* descriptor of the directory */
	const struct artifact_unpack_limits *lim;
	uint64_t	 bytes;		/* data read from entries so far */
	size_t		 entries;
	char		*err;
	size_t		 errlen;
	char		 shown[NAME_SHOWN];	/* the entry, printable */
	char		*buf;		/* DATA_BUF bytes */
	int		 fd;		/* the archive */
	off_t		 size;		/* its size when opened */
	char		*in;		/* DATA_BUF bytes read from fd */
};

/* What an entry of a type that is never unpacked is called in messages. */
static const struct {
	mode_t		 type;
	const char	*what;
} refused_types[] = {
	{ AE_IFCHR,	"a character device" },
	{ AE_IFBLK,	"a block device" },
	{ AE_IFIFO,	"a FIFO" },
	{ AE_IFSOCK,	"a socket" },
};

static void	set_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	entry_fail(struct unpack *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Formats into err (when there is room for anything). */
static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Sets err to "entry 'NAME': " and the message; returns -1. */
static int
entry_fail(struct unpack *u, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(u->err, u->errlen, "entry '%s': %s", u->shown, msg);
	return -1;
}

/* libarchive's last error, printable (it may quote the archive). */
static const char *
unpack_why(struct unpack *u, char *buf, size_t len)
{
	const char *s = la.error_string(u->a);

	text_copy(buf, len, s != NULL ? s : "unknown error", true);
	return buf;
}

/*
 * The next name of a path at *p, skipping empty and "." components:
 * *c points at it and its length is returned (0 at the end); *p moves
 * past it and its '/'.
 */
static size_t
next_name(const char **p, const char **c)
{
	size_t n;

	while (**p != '\0') {
		*c = *p;
		while (**p != '\0' && **p != '/')
			(*p)++;
		n = (size_t)(*p - *c);
		if (**p == '/')
			(*p)++;
		if (n == 0 || (n == 1 && (*c)[0] == '.'))
			continue;
		return n;
	}
	return 0;
}

/*
 * Makes name lexical into out (cap bytes): components joined by '/', no
 * empty or "." ones, each ".." taking the one before it away.  Returns 0
 * (out may be "", the directory itself), -1 when a ".." climbs above the
 * start, -2 when out is too small.
 */
static int
path_lexical(const char *name, char *out, size_t cap)
{
	size_t len = 0, n;
	const char *p = name, *c;

	out[0] = '\0';
	while ((n = next_name(&p, &c)) > 0) {
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (len == 0)
				return -1;
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;	/* the '/' before it */
			out[len] = '\0';
			continue;
		}
		if (len + (len > 0) + n + 1 > cap)
			return -2;
		if (len > 0)
			out[len++] = '/';
		memcpy(out + len, c, n);
		len += n;
		out[len] = '\0';
	}
	return 0;
}

/*
 * Whether a symlink at path (lexical, not "") may point at target: NULL
 * when it may, else why not.  Leading ".." may climb as far as the link's
 * own directory is deep; after the first name only names follow.
 */
static const char *
link_target_refused(const char *path, const char *target)
{
	size_t depth = 0, up = 0, n;
	const char *p, *c;
	bool named = false;

	if (target[0] == '\0')
		return "is empty";
	if (target[0] == '/')
		return "leaves the directory";
	for (p = path; *p != '\0'; p++)
		if (*p == '/')
			depth++;
	p = target;
	while ((n = next_name(&p, &c)) > 0) {
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (named)
				return "has '..' after a name";
			if (++up > depth)
				return "leaves the directory";
			continue;
		}
		named = true;
	}
	return NULL;
}

/*
 * Opens the directory that holds path (lexical, not ""), walking from the
 * root one component at a time without following links; with create,
 * missing directories are made 0755.  Returns a descriptor the caller
 * closes, with *leaf pointing at the last component in path, or -1 with
 * err set.
 */
static int
open_parent(struct unpack *u, const char *path, bool create,
    const char **leaf)
{
	char comp[NAME_MAX + 1], shown[NAME_SHOWN];
	const char *p = path, *slash;
	struct stat st;
	size_t n;
	int cur, next;

	if ((cur = fcntl(u->root, F_DUPFD_CLOEXEC, 0)) == -1)
		return entry_fail(u, "%s", strerror(errno));
	while ((slash = strchr(p, '/')) != NULL) {
		n = (size_t)(slash - p);
		if (n > NAME_MAX) {
			close(cur);
			return entry_fail(u, "a name longer than %d bytes",
			    NAME_MAX);
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(cur, comp,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next == -1 && errno == ENOENT && create) {
			if (mkdirat(cur, comp, 0700) == -1) {
				close(cur);
				return entry_fail(u, "mkdir: %s",
				    strerror(errno));
			}
			next = openat(cur, comp,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next != -1 && fchmod(next, 0755) == -1) {
				close(next);
				next = -1;
			}
		}
		if (next == -1) {
			int e = errno;

			/* The prefix up to here, for the message. */
			n = (size_t)(slash - path);
			memcpy(u->buf, path, n);
			u->buf[n] = '\0';
			text_copy(shown, sizeof(shown), u->buf, true);
			if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode)) {
				close(cur);
				return entry_fail(u, "goes through the symlink "
				    "'%s'", shown);
			}
			close(cur);
			if (e == ENOTDIR)
				return entry_fail(u, "'%s' is not a directory",
				    shown);
			return entry_fail(u, "'%s': %s", shown, strerror(e));
		}
		close(cur);
		cur = next;
		p = slash + 1;
	}
	if (strlen(p) > NAME_MAX) {
		close(cur);
		return entry_fail(u, "a name longer than %d bytes", NAME_MAX);
	}
	*leaf = p;
	return cur;
}

/* Fails the entry because leaf exists in dir (what it is, if it can). */
static int
exists_fail(struct unpack *u, int dir, const char *leaf)
{
	struct stat st;

	if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return entry_fail(u, "already in the archive, as a symlink");
	return entry_fail(u, "already in the archive");
}

/* Reads and drops the data of an entry that is not a regular file. */
static int
skip_data(struct unpack *u)
{
	char why[256];
	la_ssize_t n;

	while ((n = la.read_data(u->a, u->buf, DATA_BUF)) > 0) {
		if ((uint64_t)n > u->lim->max_bytes - u->bytes)
			return entry_fail(u, "more than %" PRIu64 " bytes in "
			    "all", u->lim->max_bytes);
		u->bytes += (uint64_t)n;
	}
	if (n < 0)
		return entry_fail(u, "truncated or corrupt archive: %s",
		    unpack_why(u, why, sizeof(why)));
	return 0;
}

/* Writes len bytes to fd, whatever write() takes at once. */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A regular file: made new, its data written, then its mode set. */
static int
unpack_file(struct unpack *u, struct archive_entry *e, const char *path)
{
	const char *leaf;
	char why[256];
	la_ssize_t n;
	int dir, fd, rc = -1;

	if (la.entry_size_is_set(e) && la.entry_size(e) >= 0 &&
	    (uint64_t)la.entry_size(e) > u->lim->max_bytes - u->bytes)
		return entry_fail(u, "more than %" PRIu64 " bytes in all",
		    u->lim->max_bytes);
	if ((dir = open_parent(u, path, true, &leaf)) == -1)
		return -1;
	fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == EEXIST)
			exists_fail(u, dir, leaf);
		else
			entry_fail(u, "open: %s", strerror(errno));
		close(dir);
		return -1;
	}
	close(dir);
	while ((n = la.read_data(u->a, u->buf, DATA_BUF)) > 0) {
		if ((uint64_t)n > u->lim->max_bytes - u->bytes) {
			entry_fail(u, "more than %" PRIu64 " bytes in all",
			    u->lim->max_bytes);
			goto out;
		}
		u->bytes += (uint64_t)n;
		if (write_all(fd, u->buf, (size_t)n) == -1) {
			entry_fail(u, "write: %s", strerror(errno));
			goto out;
		}
	}
	if (n < 0) {
		entry_fail(u, "truncated or corrupt archive: %s",
		    unpack_why(u, why, sizeof(why)));
		goto out;
	}
	if (fchmod(fd, la.entry_perm(e) & 0777) == -1) {
		entry_fail(u, "chmod: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (close(fd) == -1 && rc == 0)
		rc = entry_fail(u, "close: %s", strerror(errno));
	return rc;
}

/* A directory: made unless there, its mode (owner rwx added) set. */
static int
unpack_dir(struct unpack *u, struct archive_entry *e, const char *path)
{
	const char *leaf;
	struct stat st;
	int dir, fd;

	if (path[0] == '\0')
		return 0;	/* "./": the root, which stays 0755 */
	if ((dir = open_parent(u, path, true, &leaf)) == -1)
		return -1;
	if (mkdirat(dir, leaf, 0700) == -1 && (errno != EEXIST ||
	    fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode))) {
		if (errno == EEXIST)
			exists_fail(u, dir, leaf);
		else
			entry_fail(u, "mkdir: %s", strerror(errno));
		close(dir);
		return -1;
	}
	fd = openat(dir, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(dir);
	if (fd == -1)
		return entry_fail(u, "open: %s", strerror(errno));
	if (fchmod(fd, (la.entry_perm(e) & 0777) | 0700) == -1) {
		close(fd);
		return entry_fail(u, "chmod: %s", strerror(errno));
	}
	close(fd);
	return skip_data(u);
}

/* A symlink, when its target stays inside (link_target_refused). */
static int
unpack_symlink(struct unpack *u, struct archive_entry *e, const char *path)
{
	const char *target = la.entry_symlink(e), *why, *leaf;
	char shown[NAME_SHOWN];
	int dir;

	if (target == NULL)
		return entry_fail(u, "a symlink without a target");
	text_copy(shown, sizeof(shown), target, true);
	if (path[0] == '\0')
		return entry_fail(u, "a symlink in place of the directory");
	if (strlen(target) >= PATH_MAX)
		return entry_fail(u, "symlink target longer than %d bytes",
		    PATH_MAX - 1);
	if ((why = link_target_refused(path, target)) != NULL)
		return entry_fail(u, "symlink to '%s' %s", shown, why);
	if ((dir = open_parent(u, path, true, &leaf)) == -1)
		return -1;
	if (symlinkat(target, dir, leaf) == -1) {
		if (errno == EEXIST)
			exists_fail(u, dir, leaf);
		else
			entry_fail(u, "symlink: %s", strerror(errno));
		close(dir);
		return -1;
	}
	close(dir);
	return skip_data(u);
}

/* A hard link to a regular file unpacked before it. */
static int
unpack_hardlink(struct unpack *u, struct archive_entry *e, const char *path)
{
	const char *tleaf, *leaf;
	char target[PATH_MAX], shown[NAME_SHOWN];
	struct stat st;
	int tdir, dir, r;

	text_copy(shown, sizeof(shown), la.entry_hardlink(e), true);
	if (path[0] == '\0')
		return entry_fail(u, "a hard link in place of the directory");
	if (la.entry_hardlink(e)[0] == '/' ||
	    (r = path_lexical(la.entry_hardlink(e), target,
	    sizeof(target))) == -1)
		return entry_fail(u, "hard link to '%s' leaves the directory",
		    shown);
	if (r == -2)
		return entry_fail(u, "hard link target longer than %d bytes",
		    PATH_MAX - 1);
	if (target[0] == '\0')
		return entry_fail(u, "hard link to the directory itself");
	/* Not made, nor followed: the target's way must be there. */
	if ((tdir = open_parent(u, target, false, &tleaf)) == -1)
		return entry_fail(u, "hard link to '%s', which is not a file "
		    "unpacked before it", shown);
	if (fstatat(tdir, tleaf, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode)) {
		close(tdir);
		return entry_fail(u, "hard link to '%s', which is not a file "
		    "unpacked before it", shown);
	}
	if ((dir = open_parent(u, path, true, &leaf)) == -1) {
		close(tdir);
		return -1;
	}
	if (linkat(tdir, tleaf, dir, leaf, 0) == -1) {
		if (errno == EEXIST)
			exists_fail(u, dir, leaf);
		else
			entry_fail(u, "link: %s", strerror(errno));
		close(dir);
		close(tdir);
		return -1;
	}
	close(dir);
	close(tdir);
	return skip_data(u);
}

/* One entry, its header read: checked against the limits, then written. */
static int
unpack_entry(struct unpack *u, struct archive_entry *e)
{
	const char *name = la.entry_pathname(e);
	char path[PATH_MAX];
	mode_t type = la.entry_filetype(e);
	size_t i;
	int r;

	text_copy(u->shown, sizeof(u->shown), name != NULL ? name : "", true);
	if (++u->entries > u->lim->max_entries)
		return entry_fail(u, "more than %zu entries",
		    u->lim->max_entries);
	if (name == NULL || name[0] == '\0')
		return entry_fail(u, "no name");
	if (name[0] == '/')
		return entry_fail(u, "an absolute path");
	if ((r = path_lexical(name, path, sizeof(path))) == -1)
		return entry_fail(u, "leaves the directory");
	if (r == -2)
		return entry_fail(u, "a name longer than %d bytes",
		    PATH_MAX - 1);
	if (la.entry_hardlink(e) != NULL)
		return unpack_hardlink(u, e, path);
	for (i = 0; i < sizeof(refused_types) / sizeof(refused_types[0]); i++)
		if (type == refused_types[i].type)
			return entry_fail(u, "%s", refused_types[i].what);
	switch (type) {
	case AE_IFREG:
		if (path[0] == '\0')
			return entry_fail(u, "a file in place of the "
			    "directory");
		return unpack_file(u, e, path);
	case AE_IFDIR:
		return unpack_dir(u, e, path);
	case AE_IFLNK:
		return unpack_symlink(u, e, path);
	default:
		return entry_fail(u, "of unknown type 0%o", (unsigned)type);
	}
}

/* libarchive's read callback: the next block of the archive. */
static la_ssize_t
read_cb(struct archive *a, void *arg, const void **block)
{
	struct unpack *u = arg;
	ssize_t n;

	*block = u->in;
	while ((n = read(u->fd, u->in, DATA_BUF)) == -1 && errno == EINTR)
		;
	if (n == -1)
		la.set_error(a, errno, "read: %s", strerror(errno));
	return n;
}

/* libarchive's seek callback, which the zip reader needs. */
static la_int64_t
seek_cb(struct archive *a, void *arg, la_int64_t off, int whence)
{
	struct unpack *u = arg;
	off_t r = lseek(u->fd, (off_t)off, whence);

	if (r == -1)
		la.set_error(a, errno, "seek: %s", strerror(errno));
	return r;
}

/*
 * libarchive's skip callback: forward by up to len bytes, never past the
 * end (lseek would go there, and the skipped data of a truncated archive
 * would pass for read).
 */
static la_int64_t
skip_cb(struct archive *a, void *arg, la_int64_t len)
{
	struct unpack *u = arg;
	off_t at;

	if ((at = lseek(u->fd, 0, SEEK_CUR)) == -1) {
		la.set_error(a, errno, "seek: %s", strerror(errno));
		return -1;
	}
	if (at >= u->size || len <= 0)
		return 0;
	if (len > u->size - at)
		len = u->size - at;
	if (lseek(u->fd, (off_t)len, SEEK_CUR) == -1) {
		la.set_error(a, errno, "seek: %s", strerror(errno));
		return -1;
	}
	return len;
}

/*
 * Sets err for a failure of libarchive outside an entry's data: opening
 * (where it picks the format) or reading a header.
 */
static void
unpack_fail(struct unpack *u)
{
	char why[256];

	unpack_why(u, why, sizeof(why));
	char magic[4];

	if (la.errno_of(u->a) == FILE_FORMAT_ERRNO &&
	    u->entries == 0 && la.format(u->a) == 0) {
		/* A zip is read from its central directory, at the end. */
		if (pread(u->fd, magic, 4, 0) == 4 &&
		    memcmp(magic, "PK\003\004", 4) == 0)
			set_err(u->err, u->errlen, "truncated or corrupt "
			    "archive: a zip without its central directory");
		else
			set_err(u->err, u->errlen,
			    "not a .tar.gz or .zip archive");
	}
	else if (u->entries == 0)
		set_err(u->err, u->errlen, "truncated or corrupt archive: %s",
		    why);
	else
		set_err(u->err, u->errlen, "after entry '%s': truncated or "
		    "corrupt archive: %s", u->shown, why);
}

/* Reads every entry of the open archive into u->root. */
static int
unpack_all(struct unpack *u)
{
	struct archive_entry *e;
	int r;

	for (;;) {
		r = la.next_header(u->a, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			unpack_fail(u);
			return -1;
		}
		if (unpack_entry(u, e) == -1)
			return -1;
	}
}

/* nftw callback of remove_tree: removes one, children first. */
static int
remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes dir and everything in it, not following links. */
static void
remove_tree(const char *dir)
{
	(void)nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
artifact_unpack(const char *path, const char *dir,
    const struct artifact_unpack_limits *lim, char *err, size_t errlen)
{
	struct unpack u;
	struct stat st;
	int fd, rc = -1;

	CHECK(path != NULL && dir != NULL && lim != NULL);
	memset(&u, 0, sizeof(u));
	u.root = -1;
	u.lim = lim;
	u.err = err;
	u.errlen = errlen;
	set_err(err, errlen, "%s", "");
	u.fd = -1;
	if (la_load(err, errlen) != 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (mkdir(dir, 0700) == -1) {
		set_err(err, errlen, "%s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	/* From here on dir is ours, and removed on failure. */
	u.root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u.root == -1) {
		set_err(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	u.fd = fd;
	u.size = st.st_size;
	if ((u.buf = malloc(DATA_BUF)) == NULL ||
	    (u.in = malloc(DATA_BUF)) == NULL ||
	    (u.a = la.read_new()) == NULL) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	if (la.support_filter_gzip(u.a) != ARCHIVE_OK ||
	    la.support_filter_none(u.a) != ARCHIVE_OK ||
	    la.support_format_tar(u.a) != ARCHIVE_OK ||
	    la.support_format_zip_seekable(u.a) != ARCHIVE_OK ||
	    la.set_callback_data(u.a, &u) != ARCHIVE_OK ||
	    la.set_read_callback(u.a, read_cb) != ARCHIVE_OK ||
	    la.set_seek_callback(u.a, seek_cb) != ARCHIVE_OK ||
	    la.set_skip_callback(u.a, skip_cb) != ARCHIVE_OK) {
		set_err(err, errlen, "libarchive: %s",
		    la.error_string(u.a));
		goto out;
	}
	if (la.open1(u.a) != ARCHIVE_OK) {
		unpack_fail(&u);
		goto out;
	}
	if (unpack_all(&u) == -1)
		goto out;
	if (fchmod(u.root, 0755) == -1) {
		set_err(err, errlen, "%s: chmod: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (u.a != NULL)
		la.read_free(u.a);
	free(u.buf);
	free(u.in);
	if (u.root != -1)
		close(u.root);
	close(fd);
	if (rc == -1)
		remove_tree(dir);
	return rc;
}
