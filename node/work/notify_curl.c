/*
 * libcurl loaded on first use (notify_curl.h), and the one option whose
 * name changed between the libcurl versions a node may load.
 */
/* CURLOPT_PROTOCOLS is deprecated since 7.85, and used here only when
 * the library loaded is older than that. */
#define CURL_DISABLE_DEPRECATION 1
#include "notify_curl.h"

#include "lazylib.h"

static struct notify_curl fns;

static const struct lazylib_sym syms[] = {
	LAZYLIB_SYM(struct notify_curl, global_init, "curl_global_init"),
	LAZYLIB_SYM(struct notify_curl, global_cleanup, "curl_global_cleanup"),
	LAZYLIB_SYM(struct notify_curl, easy_init, "curl_easy_init"),
	LAZYLIB_SYM(struct notify_curl, easy_setopt, "curl_easy_setopt"),
	LAZYLIB_SYM(struct notify_curl, easy_perform, "curl_easy_perform"),
	LAZYLIB_SYM(struct notify_curl, easy_getinfo, "curl_easy_getinfo"),
	LAZYLIB_SYM(struct notify_curl, easy_cleanup, "curl_easy_cleanup"),
	LAZYLIB_SYM(struct notify_curl, easy_strerror, "curl_easy_strerror"),
	LAZYLIB_SYM(struct notify_curl, free, "curl_free"),
	LAZYLIB_SYM(struct notify_curl, slist_append, "curl_slist_append"),
	LAZYLIB_SYM(struct notify_curl, slist_free_all, "curl_slist_free_all"),
	LAZYLIB_SYM(struct notify_curl, url, "curl_url"),
	LAZYLIB_SYM(struct notify_curl, url_cleanup, "curl_url_cleanup"),
	LAZYLIB_SYM(struct notify_curl, url_get, "curl_url_get"),
	LAZYLIB_SYM(struct notify_curl, url_set, "curl_url_set"),
};

static struct lazylib lib = LAZYLIB("libcurl.so.4", "libcurl4", syms, &fns);

const struct notify_curl *
notify_curl(char *err, size_t errlen)
{
	return lazylib_get(&lib, err, errlen) == 0 ? &fns : NULL;
}

CURLcode
notify_curl_protocols(const struct notify_curl *c, CURL *easy,
    const char *list, long mask)
{
	CURLcode rc;

	rc = c->easy_setopt(easy, CURLOPT_PROTOCOLS_STR, list);
	if (rc == CURLE_UNKNOWN_OPTION)		/* libcurl before 7.85 */
		rc = c->easy_setopt(easy, CURLOPT_PROTOCOLS, mask);
	return rc;
}
