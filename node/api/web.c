/*
 * Static files for the dashboard (see web.h).  Only files under root are
 * read: a path is refused before it touches the file system if any of its
 * segments starts with "." or it holds a backslash or a NUL.
 */
#include "web.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "http_json.h"

#define WEB_FILE_MAX	(16u * 1024 * 1024)

static const struct {
	const char	*ext;
	const char	*type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".map", "application/json" },
};

static const char *
content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static int
safe(const char *path)
{
	if (path[0] != '/' || strchr(path, '\\') != NULL)
		return 0;
	for (const char *p = path; (p = strchr(p, '/')) != NULL; p++)
		if (p[1] == '.')
			return 0;
	return strlen(path) < 1024;
}

static int
regular(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

void
web_serve(struct evhttp_request *req, const char *root, const char *path)
{
	char file[4096], err[256];
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf;
	const char *last;
	char *data;
	size_t len;
	int index;

	if (!safe(path)) {
		http_reply_error(req, 404, "not_found", "no such file");
		return;
	}
	snprintf(file, sizeof(file), "%s%s", root, path);
	last = strrchr(path, '/');
	/* The app's own routes (no extension) and "/" get the app. */
	index = strcmp(path, "/") == 0 || !regular(file);
	if (index && last != NULL && strchr(last, '.') != NULL &&
	    strcmp(path, "/index.html") != 0) {
		http_reply_error(req, 404, "not_found", "no such file: %.128s", path);
		return;
	}
	if (index)
		snprintf(file, sizeof(file), "%s/index.html", root);
	if ((data = file_read(file, WEB_FILE_MAX, &len, NULL, err,
	    sizeof(err))) == NULL) {
		http_reply_error(req, 404, "not_found", "the dashboard is not built "
		    "here (%s)", err);
		return;
	}
	evhttp_add_header(h, "Content-Type", content_type(file));
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	/* Vite names assets by content hash: they never change. */
	evhttp_add_header(h, "Cache-Control", strncmp(path, "/assets/", 8) == 0 ?
	    "public, max-age=31536000, immutable" : "no-cache");
	buf = evbuffer_new();
	evbuffer_add(buf, data, len);
	http_reply(req, 200, buf);
	evbuffer_free(buf);
	free(data);
}

const char *
web_default_root(const char *argv0, char *buf, size_t buflen)
{
	char exe[4096], probe[4200], *dir;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *const rel[] = { "/../../frontend/dist", "/../share/agentflow/web" };

	if (n <= 0) {
		snprintf(exe, sizeof(exe), "%s", argv0 ? argv0 : ".");
		n = (ssize_t)strlen(exe);
	}
	exe[n] = '\0';
	dir = dirname(exe);
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(probe, sizeof(probe), "%s%s/index.html", dir, rel[i]);
		if (regular(probe)) {
			snprintf(buf, buflen, "%s%s", dir, rel[i]);
			return buf;
		}
	}
#ifdef AGENTFLOW_WEB_DIR
	/* The install's own place, wherever the binary was copied to. */
	snprintf(probe, sizeof(probe), "%s/index.html", AGENTFLOW_WEB_DIR);
	if (regular(probe)) {
		snprintf(buf, buflen, "%s", AGENTFLOW_WEB_DIR);
		return buf;
	}
#endif
	return NULL;
}
