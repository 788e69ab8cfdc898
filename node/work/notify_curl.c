/*
 * libcurl loaded on first use (notify_curl.h).
 */
#include "notify_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct notify_curl lib;
static char why[256];
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* POSIX: a function pointer is set through its bytes (dlsym's manual). */
#define SYM(field, name)	do {					\
	void *p_ = dlsym(h, name);					\
	if (p_ == NULL) {						\
		snprintf(why, sizeof(why), "libcurl.so.4 has no %s",	\
		    name);						\
		return;							\
	}								\
	memcpy(&lib.field, &p_, sizeof(p_));				\
} while (0)

static void
load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		snprintf(why, sizeof(why), "cannot load libcurl (Debian: "
		    "libcurl4): %s", dlerror());
		return;
	}
	SYM(global_init, "curl_global_init");
	SYM(global_cleanup, "curl_global_cleanup");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(free, "curl_free");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(url, "curl_url");
	SYM(url_cleanup, "curl_url_cleanup");
	SYM(url_get, "curl_url_get");
	SYM(url_set, "curl_url_set");
	loaded = 1;	/* the handle stays open for the process */
}

const struct notify_curl *
notify_curl(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	return &lib;
}
