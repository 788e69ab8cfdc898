/*
 * `agentflow certs`: the mesh PKI on disk (init-ca, issue, bundle, revoke,
 * show).
 * Files live in one directory: ca.crt, ca.key, ca.crl, <node-id>.crt and
 * <node-id>.key.  Exit status: 0 done, 1 failed, 2 usage error.
 */
#ifndef AGENTFLOW_CERTS_CLI_H
#define AGENTFLOW_CERTS_CLI_H

/* argv[0] is "certs", argv[1] the subcommand. */
int certs_main(int argc, char **argv);

#endif
