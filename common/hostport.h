/*
 * "host:port" strings as the daemons' --listen, --api and --advertise flags
 * take them: an IPv4 address or name before the last colon, or an IPv6
 * address in brackets ("[::1]:7000"), and a decimal port 0..65535.
 */
#ifndef AGENTFLOW_HOSTPORT_H
#define AGENTFLOW_HOSTPORT_H

#include <stddef.h>

/*
 * Splits s into host (brackets of a [v6] address removed, NUL-terminated,
 * written into the caller's buffer of hostlen bytes) and *port.  Returns 0,
 * or -1 when s has no ":PORT", the port is not a number in 0..65535, the
 * host is empty or does not fit in hostlen; host and *port are then
 * unspecified.
 */
int hostport_split(const char *s, char *host, size_t hostlen, int *port);

/* 1 when host is "localhost", a 127.0.0.0/8 address or ::1; else 0. */
int hostport_is_loopback(const char *host);

#endif
