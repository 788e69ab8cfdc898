/*
 * libcurl, loaded the first time an e-mail channel needs it
 * (notify_mail.c): linked into the node, it and the 24 libraries it
 * brings (GnuTLS, Kerberos, LDAP, libssh2, ...) cost every node about
 * 3.7 MiB of resident memory at start, e-mail or not (issue 21 bounds a
 * node's RSS).  Debian's libcurl4 (libcurl.so.4) is a dependency of the
 * node's package all the same; only a node whose --notify names an email
 * channel maps it.
 */
#ifndef AGENTFLOW_NOTIFY_CURL_H
#define AGENTFLOW_NOTIFY_CURL_H

#include <curl/curl.h>
#include <stddef.h>

struct notify_curl {
	CURLcode	 (*global_init)(long);
	void		 (*global_cleanup)(void);
	CURL		*(*easy_init)(void);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_perform)(CURL *);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	void		 (*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	void		 (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		 (*slist_free_all)(struct curl_slist *);
	CURLU		*(*url)(void);
	void		 (*url_cleanup)(CURLU *);
	CURLUcode	 (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	CURLUcode	 (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
};

/* The library's functions, loaded once for the process (any thread); NULL
 * with err saying why when it cannot be. */
const struct notify_curl *notify_curl(char *err, size_t errlen);

/* Lets easy (of c) speak only the protocols named in list (as
 * CURLOPT_PROTOCOLS_STR takes them, e.g. "smtp,smtps"), or the same as
 * the bit mask mask (CURLPROTO_*) on a libcurl older than 7.85, which
 * has no CURLOPT_PROTOCOLS_STR: the library loaded may be older than the
 * headers built against.  Returns curl's code. */
CURLcode notify_curl_protocols(const struct notify_curl *c, CURL *easy,
    const char *list, long mask);

#endif
