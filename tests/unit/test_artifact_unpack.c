/*
 * Unit tests of node/work/artifact_unpack.c.  Each test writes its
 * archives with libarchive's write API into a private temporary directory
 * and unpacks them into T/out: good archives come out with their content
 * and modes; hostile ones are refused with the entry named, and then
 * nothing is left in T but the archive (no T/out, nothing beside it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "artifact_unpack.h"
#include "open_fds.h"
#include "tmpdir.h"

enum fmt { TGZ, TAR, ZIP };

/* One entry of an archive a test writes. */
struct ent {
	const char	*name;
	mode_t		 type;		/* AE_IF*; 0: AE_IFREG */
	int		 perm;		/* 0: 0644 (0755 for directories) */
	const char	*data;		/* a regular file's content */
	const char	*link;		/* a symlink's target */
	const char	*hardlink;	/* makes the entry a hard link */
	size_t		 size;		/* with data NULL: this many bytes */
};

/* A test's directory T, its archive T/a and where it unpacks, T/out. */
struct fx {
	char	 dir[64];
	char	 arch[96];
	char	 out[96];
	char	 err[512];
	size_t	 fds;
};

static const struct artifact_unpack_limits big = { 1 << 20, 100 };

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || tmpdir_make(f->dir, sizeof(f->dir),
	    "test_artifact_unpack") == -1)
		return -1;
	snprintf(f->arch, sizeof(f->arch), "%s/a", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	f->fds = open_fds();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	/* Every unpack, good or refused, closed what it opened. */
	assert_int_equal(open_fds(), f->fds);
	/* Fails when the module left a directory its owner cannot write. */
	assert_int_equal(tmpdir_remove(f->dir), 0);
	free(f);
	return 0;
}

/* Writes ents as an archive of format fmt at path. */
static void
write_archive(const char *path, enum fmt fmt, const struct ent *ents,
    size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	char *fill;
	size_t i, len;
	mode_t type;

	assert_non_null(a);
	if (fmt == ZIP)
		assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	else
		assert_int_equal(archive_write_set_format_pax_restricted(a),
		    ARCHIVE_OK);
	if (fmt == TGZ)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		assert_non_null(e = archive_entry_new());
		type = ents[i].type != 0 ? ents[i].type : AE_IFREG;
		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_filetype(e, type);
		archive_entry_set_perm(e, ents[i].perm != 0 ? ents[i].perm :
		    type == AE_IFDIR ? 0755 : 0644);
		archive_entry_set_uid(e, 0);	/* root's, never applied */
		archive_entry_set_gid(e, 0);
		if (ents[i].link != NULL)
			archive_entry_set_symlink(e, ents[i].link);
		if (ents[i].hardlink != NULL)
			archive_entry_set_hardlink(e, ents[i].hardlink);
		len = ents[i].data != NULL ? strlen(ents[i].data) :
		    ents[i].size;
		if (type == AE_IFREG && ents[i].hardlink == NULL)
			archive_entry_set_size(e, (la_int64_t)len);
		if (type == AE_IFCHR)
			archive_entry_set_rdev(e, makedev(1, 3));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (type == AE_IFREG && ents[i].hardlink == NULL && len > 0) {
			if (ents[i].data != NULL)
				fill = strdup(ents[i].data);
			else if ((fill = malloc(len)) != NULL)
				memset(fill, 'x', len);
			assert_non_null(fill);
			assert_int_equal(archive_write_data(a, fill, len),
			    (la_ssize_t)len);
			free(fill);
		}
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* Writes len bytes of p to path. */
static void
write_file(const char *path, const void *p, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* The content of dir/rel, NUL-terminated; the caller frees. */
static char *
read_rel(const char *dir, const char *rel)
{
	char path[PATH_MAX], *buf;
	FILE *fp;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((fp = fopen(path, "rb")) == NULL)
		fail_msg("%s: cannot open", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	rewind(fp);
	assert_non_null(buf = malloc((size_t)len + 1));
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	buf[len] = '\0';
	fclose(fp);
	return buf;
}

/* Asserts that dir/rel holds exactly want. */
static void
assert_content(const char *dir, const char *rel, const char *want)
{
	char *got = read_rel(dir, rel);

	assert_string_equal(got, want);
	free(got);
}

/* lstat of dir/rel; the mode, or 0 when there is nothing there. */
static mode_t
lmode(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (lstat(path, &st) == -1)
		return 0;
	return st.st_mode;
}

/* The names in dir, "." and ".." aside. */
static int
count_names(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/*
 * Unpacks ents (as fmt) with lim and asserts the refusal is why: T/out
 * not there and nothing beside the archive in T.
 */
static void
assert_refused(struct fx *f, enum fmt fmt, const struct ent *ents, size_t n,
    const struct artifact_unpack_limits *lim, const char *why)
{
	write_archive(f->arch, fmt, ents, n);
	assert_int_equal(artifact_unpack(f->arch, f->out, lim, f->err,
	    sizeof(f->err)), -1);
	assert_string_equal(f->err, why);
	assert_int_equal(lmode(f->dir, "out"), 0);
	assert_int_equal(count_names(f->dir), 1);
}

/* Unpacks ents (as fmt) with lim, which must succeed. */
static void
unpack_ok(struct fx *f, enum fmt fmt, const struct ent *ents, size_t n,
    const struct artifact_unpack_limits *lim)
{
	write_archive(f->arch, fmt, ents, n);
	if (artifact_unpack(f->arch, f->out, lim, f->err, sizeof(f->err)) != 0)
		fail_msg("refused: %s", f->err);
}

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_good_targz(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "app/", .type = AE_IFDIR },
		{ .name = "app/bin/", .type = AE_IFDIR, .perm = 0750 },
		{ .name = "app/bin/run", .perm = 0755,
		    .data = "#!/bin/sh\necho hi\n" },
		/* Its directories come with it, 0755. */
		{ .name = "app/etc/conf/x.txt", .data = "x = 1\n" },
		{ .name = "./app/suid", .perm = 06755, .data = "s" },
		{ .name = "app/sticky/", .type = AE_IFDIR, .perm = 01777 },
		{ .name = "app/ro/", .type = AE_IFDIR, .perm = 0555 },
		{ .name = "app/ro/secret", .perm = 0400, .data = "k" },
		{ .name = "app/empty", .data = "" },
	};
	struct stat st;

	unpack_ok(f, TGZ, ents, N(ents), &big);
	assert_content(f->out, "app/bin/run", "#!/bin/sh\necho hi\n");
	assert_content(f->out, "app/etc/conf/x.txt", "x = 1\n");
	assert_content(f->out, "app/ro/secret", "k");
	assert_content(f->out, "app/empty", "");
	assert_int_equal(lmode(f->dir, "out"), S_IFDIR | 0755);
	assert_int_equal(lmode(f->out, "app/bin"), S_IFDIR | 0750);
	assert_int_equal(lmode(f->out, "app/bin/run"), S_IFREG | 0755);
	assert_int_equal(lmode(f->out, "app/etc"), S_IFDIR | 0755);
	assert_int_equal(lmode(f->out, "app/etc/conf/x.txt"), S_IFREG | 0644);
	assert_int_equal(lmode(f->out, "app/suid"), S_IFREG | 0755);
	assert_int_equal(lmode(f->out, "app/sticky"), S_IFDIR | 0777);
	assert_int_equal(lmode(f->out, "app/ro"), S_IFDIR | 0755);
	assert_int_equal(lmode(f->out, "app/ro/secret"), S_IFREG | 0400);
	/* The archive said root; the files are ours. */
	assert_int_equal(stat(f->out, &st), 0);
	assert_int_equal(st.st_uid, geteuid());
	snprintf(f->err, sizeof(f->err), "%s/app/bin/run", f->out);
	assert_int_equal(stat(f->err, &st), 0);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(access(f->err, X_OK), 0);
}

static void
test_good_tar(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "a/b/c", .data = "plain tar" },
		/* A ".." that stays inside is only a detour. */
		{ .name = "a/../d", .data = "d" },
	};

	unpack_ok(f, TAR, ents, N(ents), &big);
	assert_content(f->out, "a/b/c", "plain tar");
	assert_content(f->out, "d", "d");
}

static void
test_good_zip(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "README", .data = "read me\n" },
		{ .name = "lib/", .type = AE_IFDIR },
		{ .name = "lib/x.py", .perm = 0600, .data = "print(1)\n" },
		{ .name = "bin/tool", .perm = 0755, .data = "#!/bin/sh\n" },
		{ .name = "lib/link", .type = AE_IFLNK, .link = "x.py" },
	};

	unpack_ok(f, ZIP, ents, N(ents), &big);
	assert_content(f->out, "README", "read me\n");
	assert_content(f->out, "lib/x.py", "print(1)\n");
	assert_content(f->out, "lib/link", "print(1)\n");
	assert_int_equal(lmode(f->out, "lib/x.py"), S_IFREG | 0600);
	assert_int_equal(lmode(f->out, "bin/tool"), S_IFREG | 0755);
	assert_int_equal(lmode(f->out, "lib/link") & S_IFMT, S_IFLNK);
}

static void
test_zip_dotdot(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "ok.txt", .data = "fine" },
		{ .name = "../evil", .data = "pwned" },
	};

	/* ok.txt was written, and is gone with out; T/evil never was. */
	assert_refused(f, ZIP, ents, N(ents), &big,
	    "entry '../evil': leaves the directory");
	assert_int_equal(lmode(f->dir, "evil"), 0);
}

static void
test_dotdot_deeper(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "a/b/../../../evil", .data = "pwned" },
	};

	assert_refused(f, TGZ, ents, N(ents), &big,
	    "entry 'a/b/../../../evil': leaves the directory");
}

static void
test_absolute(void **state)
{
	struct fx *f = *state;
	char name[128], why[256];
	struct ent ents[] = {
		{ .name = name, .data = "pwned" },
	};

	snprintf(name, sizeof(name), "%s/abs", f->dir);
	snprintf(why, sizeof(why), "entry '%s': an absolute path", name);
	assert_refused(f, TGZ, ents, N(ents), &big, why);
	assert_int_equal(lmode(f->dir, "abs"), 0);
}

static void
test_symlink_absolute(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "pw", .type = AE_IFLNK, .link = "/etc/passwd" },
	};

	assert_refused(f, TGZ, ents, N(ents), &big,
	    "entry 'pw': symlink to '/etc/passwd' leaves the directory");
}

static void
test_symlink_up(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "a", .type = AE_IFLNK, .link = "../../x" },
	};
	static const struct ent deeper[] = {
		{ .name = "d/e/a", .type = AE_IFLNK, .link = "../../../x" },
	};

	assert_refused(f, TGZ, ents, N(ents), &big,
	    "entry 'a': symlink to '../../x' leaves the directory");
	assert_refused(f, ZIP, deeper, N(deeper), &big,
	    "entry 'd/e/a': symlink to '../../../x' leaves the directory");
}

static void
test_symlink_inside(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "a", .type = AE_IFLNK, .link = "b/c" },
		{ .name = "b/c", .data = "through a" },
		{ .name = "d/e/up", .type = AE_IFLNK, .link = "../../b/./c" },
		{ .name = "dangling", .type = AE_IFLNK, .link = "nowhere" },
	};
	char target[64];
	ssize_t n;

	unpack_ok(f, TGZ, ents, N(ents), &big);
	snprintf(f->err, sizeof(f->err), "%s/a", f->out);
	n = readlink(f->err, target, sizeof(target) - 1);
	assert_int_equal(n, 3);
	target[n] = '\0';
	assert_string_equal(target, "b/c");
	assert_content(f->out, "a", "through a");
	assert_content(f->out, "d/e/up", "through a");
	assert_int_equal(lmode(f->out, "dangling") & S_IFMT, S_IFLNK);
}

static void
test_symlink_dotdot_after_name(void **state)
{
	struct fx *f = *state;
	/*
	 * s -> ".." is inside (s's directory is one deep), but t's
	 * "a/s/../.." would then climb out: refused on its text.
	 */
	static const struct ent ents[] = {
		{ .name = "a/s", .type = AE_IFLNK, .link = ".." },
		{ .name = "t", .type = AE_IFLNK, .link = "a/s/../.." },
	};

	assert_refused(f, TGZ, ents, N(ents), &big,
	    "entry 't': symlink to 'a/s/../..' has '..' after a name");
}

static void
test_through_symlinked_dir(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "sub/", .type = AE_IFDIR },
		{ .name = "l", .type = AE_IFLNK, .link = "sub" },
		{ .name = "l/f", .data = "via the link" },
	};
	static const struct ent leaf[] = {
		{ .name = "x", .data = "x" },
		{ .name = "l", .type = AE_IFLNK, .link = "x" },
		{ .name = "l", .data = "over the link" },
	};

	assert_refused(f, TGZ, ents, N(ents), &big,
	    "entry 'l/f': goes through the symlink 'l'");
	assert_refused(f, TGZ, leaf, N(leaf), &big,
	    "entry 'l': already in the archive, as a symlink");
}

static void
test_hardlinks(void **state)
{
	struct fx *f = *state;
	static const struct ent good[] = {
		{ .name = "f", .data = "shared" },
		{ .name = "d/h", .hardlink = "f" },
	};
	static const struct ent out[] = {
		{ .name = "h", .hardlink = "../x" },
	};
	static const struct ent abs[] = {
		{ .name = "h", .hardlink = "/etc/passwd" },
	};
	static const struct ent to_link[] = {
		{ .name = "d/l", .type = AE_IFLNK, .link = "../f" },
		{ .name = "f", .data = "f" },
		{ .name = "h", .hardlink = "d/l" },
	};
	struct stat a, b;
	char path[PATH_MAX];

	unpack_ok(f, TGZ, good, N(good), &big);
	assert_content(f->out, "d/h", "shared");
	snprintf(path, sizeof(path), "%s/f", f->out);
	assert_int_equal(stat(path, &a), 0);
	snprintf(path, sizeof(path), "%s/d/h", f->out);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(tmpdir_remove(f->out), 0);

	assert_refused(f, TGZ, out, N(out), &big,
	    "entry 'h': hard link to '../x' leaves the directory");
	assert_refused(f, TGZ, abs, N(abs), &big,
	    "entry 'h': hard link to '/etc/passwd' leaves the directory");
	/* A link to d/l would read "../f" from the top: out of dir. */
	assert_refused(f, TGZ, to_link, N(to_link), &big,
	    "entry 'h': hard link to 'd/l', which is not a file unpacked "
	    "before it");
}

static void
test_special_files(void **state)
{
	struct fx *f = *state;
	static const struct ent fifo[] = {
		{ .name = "ok", .data = "ok" },
		{ .name = "p", .type = AE_IFIFO },
	};
	static const struct ent chr[] = {
		{ .name = "null", .type = AE_IFCHR },
	};
	static const struct ent blk[] = {
		{ .name = "sda", .type = AE_IFBLK },
	};

	assert_refused(f, TGZ, fifo, N(fifo), &big, "entry 'p': a FIFO");
	assert_refused(f, TAR, chr, N(chr), &big,
	    "entry 'null': a character device");
	assert_refused(f, TGZ, blk, N(blk), &big,
	    "entry 'sda': a block device");
}

static void
test_max_bytes(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "a", .size = 600 },
		{ .name = "b", .size = 600 },
	};
	const struct artifact_unpack_limits exact = { 1200, 10 };
	const struct artifact_unpack_limits less = { 1199, 10 };

	unpack_ok(f, TGZ, ents, N(ents), &exact);
	assert_int_equal(tmpdir_remove(f->out), 0);
	assert_refused(f, TGZ, ents, N(ents), &less,
	    "entry 'b': more than 1199 bytes in all");
	/* The same in a zip, whose sizes come from its own headers. */
	assert_refused(f, ZIP, ents, N(ents), &less,
	    "entry 'b': more than 1199 bytes in all");
}

static void
test_max_entries(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "a/", .type = AE_IFDIR },
		{ .name = "a/b", .data = "b" },
		{ .name = "c", .type = AE_IFLNK, .link = "a/b" },
	};
	const struct artifact_unpack_limits three = { 1000, 3 };
	const struct artifact_unpack_limits two = { 1000, 2 };

	unpack_ok(f, TGZ, ents, N(ents), &three);
	assert_int_equal(tmpdir_remove(f->out), 0);
	assert_refused(f, TGZ, ents, N(ents), &two,
	    "entry 'c': more than 2 entries");
}

static void
test_not_an_archive(void **state)
{
	struct fx *f = *state;
	unsigned char junk[4096];
	unsigned int seed = 42;
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand_r(&seed);
	write_file(f->arch, junk, sizeof(junk));
	assert_int_equal(artifact_unpack(f->arch, f->out, &big, f->err,
	    sizeof(f->err)), -1);
	assert_string_equal(f->err, "not a .tar.gz or .zip archive");
	assert_int_equal(lmode(f->dir, "out"), 0);

	/* Nor is an empty file, or text. */
	write_file(f->arch, "", 0);
	assert_int_equal(artifact_unpack(f->arch, f->out, &big, f->err,
	    sizeof(f->err)), -1);
	assert_string_equal(f->err, "not a .tar.gz or .zip archive");
	write_file(f->arch, "hello\n", 6);
	assert_int_equal(artifact_unpack(f->arch, f->out, &big, f->err,
	    sizeof(f->err)), -1);
	assert_string_equal(f->err, "not a .tar.gz or .zip archive");
	assert_int_equal(count_names(f->dir), 1);
}

static void
test_truncated(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "first", .data = "first" },
		{ .name = "big", .size = 300000 },
		{ .name = "last", .data = "last" },
	};
	unsigned char *buf;
	char *got;
	struct stat st;
	FILE *fp;

	write_archive(f->arch, TGZ, ents, N(ents));
	assert_int_equal(stat(f->arch, &st), 0);
	assert_non_null(buf = malloc((size_t)st.st_size));
	assert_non_null(fp = fopen(f->arch, "rb"));
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, fp),
	    (size_t)st.st_size);
	fclose(fp);
	/* The gzip stream without its last bytes: no end, no CRC. */
	write_file(f->arch, buf, (size_t)st.st_size - 12);
	free(buf);
	assert_int_equal(artifact_unpack(f->arch, f->out, &big, f->err,
	    sizeof(f->err)), -1);
	got = strstr(f->err, "truncated or corrupt archive");
	if (got == NULL)
		fail_msg("err: %s", f->err);
	assert_int_equal(lmode(f->dir, "out"), 0);
	assert_int_equal(count_names(f->dir), 1);
}

static void
test_dir_exists(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "x", .data = "new" },
	};
	char why[256];

	write_archive(f->arch, TGZ, ents, N(ents));
	assert_int_equal(mkdir(f->out, 0700), 0);
	snprintf(why, sizeof(why), "%s/x", f->out);
	write_file(why, "old", 3);
	assert_int_equal(artifact_unpack(f->arch, f->out, &big, f->err,
	    sizeof(f->err)), -1);
	snprintf(why, sizeof(why), "%s: File exists", f->out);
	assert_string_equal(f->err, why);
	/* What was there is untouched. */
	assert_int_equal(lmode(f->dir, "out"), S_IFDIR | 0700);
	assert_content(f->out, "x", "old");
}

static void
test_duplicates(void **state)
{
	struct fx *f = *state;
	static const struct ent files[] = {
		{ .name = "x", .data = "one" },
		{ .name = "./x", .data = "two" },
	};
	static const struct ent dirs[] = {
		{ .name = "d/f", .data = "f" },
		{ .name = "d/", .type = AE_IFDIR, .perm = 0700 },
		{ .name = "./", .type = AE_IFDIR, .perm = 0777 },
	};

	assert_refused(f, TGZ, files, N(files), &big,
	    "entry './x': already in the archive");
	/* A directory after what it holds sets its mode; "./" is out. */
	unpack_ok(f, TGZ, dirs, N(dirs), &big);
	assert_int_equal(lmode(f->out, "d"), S_IFDIR | 0700);
	assert_int_equal(lmode(f->dir, "out"), S_IFDIR | 0755);
	assert_content(f->out, "d/f", "f");
}

static void
test_names_printable(void **state)
{
	struct fx *f = *state;
	static const struct ent ents[] = {
		{ .name = "../\033[2Jx", .data = "x" },
	};

	assert_refused(f, TGZ, ents, N(ents), &big,
	    "entry '../\xef\xbf\xbd[2Jx': leaves the directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_good_targz),
		T(test_good_tar),
		T(test_good_zip),
		T(test_zip_dotdot),
		T(test_dotdot_deeper),
		T(test_absolute),
		T(test_symlink_absolute),
		T(test_symlink_up),
		T(test_symlink_inside),
		T(test_symlink_dotdot_after_name),
		T(test_through_symlinked_dir),
		T(test_hardlinks),
		T(test_special_files),
		T(test_max_bytes),
		T(test_max_entries),
		T(test_not_an_archive),
		T(test_truncated),
		T(test_dir_exists),
		T(test_duplicates),
		T(test_names_printable),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
