/*
 * The dashboard's static files (frontend/dist, built by Vite), served by
 * the local API for any GET outside /api/ and /ws.
 */
#ifndef AGENTFLOW_WEB_H
#define AGENTFLOW_WEB_H

#include <event2/http.h>

/*
 * Answers GET path from the directory root: "/" and paths without a file
 * of their own get index.html (the app routes in the browser).  Paths with
 * a segment starting with "." (traversal, dotfiles) get 404, as do files
 * that are not regular or above the size bound.
 */
void web_serve(struct evhttp_request *, const char *root, const char *path);

/* The directory to serve when none is configured: frontend/dist next to
 * the build's bin/ (a source checkout), else share/agentflow/web next to
 * the binary's bin/, else AGENTFLOW_WEB_DIR (the install prefix's
 * DATADIR/agentflow/web, set by the build); NULL when none has an
 * index.html. */
const char *web_default_root(const char *argv0, char *buf, size_t buflen);

#endif
