/*
 * Services in the node's database (node/work/services.h): each definition
 * this node keeps, as its normalized JSON, and its desired state.
 */
#ifndef AGENTFLOW_STORE_SERVICES_H
#define AGENTFLOW_STORE_SERVICES_H

#include <stdint.h>

struct store;

struct store_service {
	const char	*name;
	const char	*spec;		/* JSON */
	int		 desired;	/* 1 running, 0 stopped */
	int64_t		 updated_ms;
};

/* Stores (or replaces) a service.  0, or -1 with store_error(). */
int store_service_put(struct store *, const struct store_service *);
/* Only the desired state of name (a row that exists).  0, or -1. */
int store_service_desired(struct store *, const char *name, int desired,
    int64_t updated_ms);
/* Forgets name.  0, or -1. */
int store_service_del(struct store *, const char *name);
/* cb(arg, row) for every row, by name (non-zero from cb stops); 0, or -1. */
int store_services_all(struct store *,
    int (*cb)(void *arg, const struct store_service *), void *arg);

#endif
