/*
 * The DNS responder (see dns_server.h), on libevent's evdns server: it
 * parses the queries and formats the replies, we only pick the records.
 */
#include "dns_server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/util.h>
#include <jansson.h>

#include "log.h"
#include "node.h"
#include "node_id.h"
#include "service_registry.h"
#include "service_spec.h"
#include "xalloc.h"

#define SVC_SUFFIX	".service.agentflow"
#define NODE_SUFFIX	".node.agentflow"
#define TYPE_SRV	33
#define TYPE_ANY	255
#define TTL		0

struct dns_server {
	struct node		*n;
	evutil_socket_t		 fd;
	struct evdns_server_port *port;
	int			 bound_port;
	unsigned long		 answered, refused, nxdomain;
};

/* name lowercased into out without a trailing dot, when it ends in
 * suffix: the labels before it in head.  0, or -1. */
static int
split(const char *name, const char *suffix, char *head, size_t len)
{
	char low[256];
	size_t n = strlen(name), s = strlen(suffix), i;

	if (n >= sizeof(low))
		return -1;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	if (n > 0 && low[n - 1] == '.')
		low[--n] = '\0';
	if (n <= s || strcmp(low + n - s, suffix) != 0 || n - s >= len)
		return -1;
	memcpy(head, low, n - s);
	head[n - s] = '\0';
	return 0;
}

/* An A or AAAA record for host when it is a literal of that family. */
static int
add_addr(struct evdns_server_request *req, const char *name, const char *host,
    int type)
{
	unsigned char a[16];

	if (type == EVDNS_TYPE_A && inet_pton(AF_INET, host, a) == 1)
		return evdns_server_request_add_a_reply(req, name, 1, a, TTL) == 0;
	if (type == EVDNS_TYPE_AAAA && inet_pton(AF_INET6, host, a) == 1)
		return evdns_server_request_add_aaaa_reply(req, name, 1, a, TTL) ==
		    0;
	return 0;
}

/* The address of an SRV record's target, in the additional section. */
static void
add_additional(struct evdns_server_request *req, const char *target,
    const char *host)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, host, a) == 1)
		(void)evdns_server_request_add_reply(req,
		    EVDNS_ADDITIONAL_SECTION, target, EVDNS_TYPE_A,
		    EVDNS_CLASS_INET, TTL, 4, 0, (const char *)a);
	else if (inet_pton(AF_INET6, host, a) == 1)
		(void)evdns_server_request_add_reply(req,
		    EVDNS_ADDITIONAL_SECTION, target, EVDNS_TYPE_AAAA,
		    EVDNS_CLASS_INET, TTL, 16, 0, (const char *)a);
}

/* SRV rdata: priority, weight, port, then the target's labels. */
static int
add_srv(struct evdns_server_request *req, const char *name, int port,
    const char *target)
{
	char rdata[300];
	size_t at = 6, l;
	const char *p = target, *dot;

	rdata[0] = 0;
	rdata[1] = 1;
	rdata[2] = 0;
	rdata[3] = 1;
	rdata[4] = (char)((port >> 8) & 0xff);
	rdata[5] = (char)(port & 0xff);
	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || at + l + 2 > sizeof(rdata))
			return 0;
		rdata[at++] = (char)l;
		memcpy(rdata + at, p, l);
		at += l;
		p += l + (dot != NULL);
	}
	rdata[at++] = 0;
	return evdns_server_request_add_reply(req, EVDNS_ANSWER_SECTION, name,
	    TYPE_SRV, EVDNS_CLASS_INET, TTL, (int)at, 0, rdata) == 0;
}

/* NAME or TAG.NAME under service.agentflow.  Returns the answers added,
 * -1 when head is not a service's name. */
static int
answer_service(struct dns_server *d, struct evdns_server_request *req,
    const struct evdns_server_question *q, const char *head)
{
	char tag[64], name[SERVICE_NAME_MAX + 1], target[300], seen[16][256];
	const char *dot = strchr(head, '.');
	json_t *all, *e;
	size_t i, nseen = 0, k;
	int added = 0;

	if (dot != NULL) {
		if ((size_t)(dot - head) >= sizeof(tag))
			return -1;
		memcpy(tag, head, (size_t)(dot - head));
		tag[dot - head] = '\0';
		if (strlen(dot + 1) >= sizeof(name))
			return -1;
		snprintf(name, sizeof(name), "%s", dot + 1);
	} else {
		if (strlen(head) >= sizeof(name))
			return -1;
		snprintf(name, sizeof(name), "%s", head);
	}
	if (!service_name_valid(name) || (dot != NULL &&
	    !service_name_valid(tag)))
		return -1;
	all = service_registry_instances(d->n, name, dot != NULL ? tag : NULL,
	    NULL, NULL);
	json_array_foreach(all, i, e) {
		const char *host = json_string_value(json_object_get(e,
		    "address"));
		const char *node = json_string_value(json_object_get(e, "node"));

		if (host == NULL || node == NULL || added >= DNS_ANSWERS_MAX)
			continue;
		if (q->type == TYPE_SRV || q->type == TYPE_ANY) {
			snprintf(target, sizeof(target), "%s" NODE_SUFFIX, node);
			if (add_srv(req, q->name, (int)json_integer_value(
			    json_object_get(e, "port")), target)) {
				added++;
				add_additional(req, target, host);
			}
		}
		if (q->type == TYPE_SRV)
			continue;
		/* One address record per host. */
		for (k = 0; k < nseen && strcmp(seen[k], host) != 0; k++)
			;
		if (k < nseen || nseen == 16)
			continue;
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", host);
		added += add_addr(req, q->name, host, q->type == TYPE_ANY ?
		    EVDNS_TYPE_A : q->type);
	}
	json_decref(all);
	return added;
}

/* NODE under node.agentflow.  -1 when head is not a node id. */
static int
answer_node(struct dns_server *d, struct evdns_server_request *req,
    const struct evdns_server_question *q, const char *head)
{
	char host[256];
	json_t *all;
	int known;

	if (!node_id_valid(head, strlen(head)))
		return -1;
	/* Only nodes the registry would hand out: one that runs a ready
	 * instance, so this is no map of the mesh for anyone asking. */
	all = service_registry_instances(d->n, NULL, NULL, head, NULL);
	known = json_array_size(all) > 0 && json_is_string(json_object_get(
	    json_array_get(all, 0), "address"));
	if (known)
		snprintf(host, sizeof(host), "%s", json_string_value(
		    json_object_get(json_array_get(all, 0), "address")));
	json_decref(all);
	if (!known)
		return 0;
	return add_addr(req, q->name, host, q->type == TYPE_ANY ?
	    EVDNS_TYPE_A : q->type);
}

static void
request_cb(struct evdns_server_request *req, void *arg)
{
	struct dns_server *d = arg;
	const struct evdns_server_question *q;
	char head[256];
	int added = 0, refused = 0, r;

	if (req->nquestions != 1) {
		d->refused++;
		evdns_server_request_respond(req, DNS_ERR_REFUSED);
		return;
	}
	q = req->questions[0];
	if (q->dns_question_class != EVDNS_CLASS_INET || (q->type !=
	    EVDNS_TYPE_A && q->type != EVDNS_TYPE_AAAA && q->type != TYPE_SRV &&
	    q->type != TYPE_ANY))
		refused = 1;
	else if (split(q->name, SVC_SUFFIX, head, sizeof(head)) == 0) {
		if ((r = answer_service(d, req, q, head)) < 0)
			refused = 1;
		else
			added = r;
	} else if (split(q->name, NODE_SUFFIX, head, sizeof(head)) == 0 &&
	    q->type != TYPE_SRV) {
		if ((r = answer_node(d, req, q, head)) < 0)
			refused = 1;
		else
			added = r;
	} else
		refused = 1;
	evdns_server_request_set_flags(req, EVDNS_FLAGS_AA);
	if (refused) {
		d->refused++;
		evdns_server_request_respond(req, DNS_ERR_REFUSED);
	} else if (added == 0) {
		d->nxdomain++;
		evdns_server_request_respond(req, DNS_ERR_NOTEXIST);
	} else {
		d->answered++;
		evdns_server_request_respond(req, 0);
	}
}

struct dns_server *
dns_server_new(struct node *n, const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int len = (int)sizeof(ss);
	struct dns_server *d;

	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(listen, (struct sockaddr *)&ss,
	    &len) != 0) {
		snprintf(err, errlen, "--dns %s: not HOST:PORT", listen);
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->n = n;
	d->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&ss,
	    (socklen_t)len) != 0 || getsockname(d->fd, (struct sockaddr *)&ss,
	    &sslen) != 0) {
		snprintf(err, errlen, "--dns %s: %s", listen, strerror(errno));
		if (d->fd >= 0)
			close(d->fd);
		free(d);
		return NULL;
	}
	d->bound_port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	if ((d->port = evdns_add_server_port_with_base(n->base, d->fd, 0,
	    request_cb, d)) == NULL) {
		snprintf(err, errlen, "--dns %s: cannot serve DNS", listen);
		close(d->fd);
		free(d);
		return NULL;
	}
	log_event(LOG_INFO, "dns responder listening", "{s:s, s:i}", "listen",
	    listen, "port", d->bound_port);
	return d;
}

void
dns_server_free(struct dns_server *d)
{
	if (d == NULL)
		return;
	/* The port closes its socket once its last reply is out. */
	evdns_close_server_port(d->port);
	free(d);
}

int
dns_server_port(const struct dns_server *d)
{
	return d->bound_port;
}
