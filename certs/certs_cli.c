/*
 * `agentflow certs` (see certs_cli.h): the subcommands are one table; each
 * parses its own flags with getopt_long (common/opts.c has no repeatable
 * flags, and --dns/--ip repeat) and then works through pki.c in memory and
 * certs_file.c on disk.  `bundle` is init-ca and issue (create_ca,
 * issue_cert) for a whole mesh, keeping what exists once it is verified.
 *
 * Invariants kept here: a key file that exists is never written (O_EXCL,
 * checked up front for a clear message and again by open() against races);
 * keys are created 0600, certificates and the CRL 0644; the CRL is replaced
 * atomically and keeps every earlier entry.
 */
#include "certs_cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "certs_file.h"
#include "certs_show.h"
#include "cmd_table.h"
#include "node_id.h"
#include "pki.h"
#include "trust.h"

#define EXIT_USAGE	2
#define DEFAULT_DIR	"certs/dev"
#define DEFAULT_CA_NAME	"AgentFlow Mesh CA"
#define CA_DAYS		3650
#define NODE_DAYS	365

/* Messages name the subcommand (its cmd_entry's name) first. */
static void __attribute__((format(printf, 2, 3)))
fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "agentflow certs %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int __attribute__((format(printf, 3, 4)))
usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "agentflow certs %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", usage);
	return EXIT_USAGE;
}

static const char *
default_dir(void)
{
	const char *d = getenv("AGENTFLOW_CERTS_DIR");

	return d != NULL && d[0] != '\0' ? d : DEFAULT_DIR;
}

static int
parse_days(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < 1 ||
	    v > PKI_DAYS_MAX)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* "YYYY-MM-DD" as midnight UTC; rejects dates like 2024-02-30. */
static int
parse_date(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int y, m, d, n = 0;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
	    n != 10 || y < 1950 || y > 9999)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*out = timegm(&tm);
	if (tm.tm_year != y - 1900 || tm.tm_mon != m - 1 || tm.tm_mday != d)
		return -1;
	return 0;
}

static int
join(const char *cmd, char *buf, const char *dir, const char *name, const char *suffix)
{
	size_t n = (size_t)snprintf(buf, PATH_MAX, "%s/%s%s", dir, name, suffix);

	if (n >= PATH_MAX) {
		fail(cmd, "path too long: %s/%s%s", dir, name, suffix);
		return -1;
	}
	return 0;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The CA of dir, or NULL after a message naming what is missing. */
static struct pki_ca *
load_ca(const char *cmd, const char *dir)
{
	char crt_path[PATH_MAX], key_path[PATH_MAX], err[512];
	char *crt = NULL, *key = NULL;
	struct pki_ca *ca = NULL;

	if (join(cmd, crt_path, dir, "ca", ".crt") != 0 ||
	    join(cmd, key_path, dir, "ca", ".key") != 0)
		return NULL;
	if (!exists(crt_path) && !exists(key_path)) {
		fail(cmd, "no CA in %s (missing %s and %s); create one with "
		    "`agentflow certs init-ca --dir %s`", dir, crt_path,
		    key_path, dir);
		return NULL;
	}
	if ((crt = certs_file_read(crt_path, NULL, err, sizeof(err))) == NULL ||
	    (key = certs_file_read(key_path, NULL, err, sizeof(err))) == NULL) {
		fail(cmd, "cannot load the CA: %s", err);
		goto out;
	}
	if ((ca = pki_ca_load(crt, key, err, sizeof(err))) == NULL)
		fail(cmd, "cannot load the CA from %s and %s: %s", crt_path,
		    key_path, err);
out:
	free(crt);
	pki_secret_free(key);
	return ca;
}

/* Shared flag handling: returns -1 to go on, else the exit status. */
static int
getopt_error(int c, char **argv, const char *usage)
{
	if (c == ':')
		return usage_error(argv[0], usage, "%s needs a value", argv[optind - 1]);
	return usage_error(argv[0], usage, "unknown option %s", argv[optind - 1]);
}

/* --days N: returns -1 to go on, else the exit status. */
static int
days_opt(char **argv, const char *usage, const char *s, unsigned int *out)
{
	if (parse_days(s, out) != 0)
		return usage_error(argv[0], usage, "--days: \"%s\" is not a "
		    "number of days in [1, %d]", s, PKI_DAYS_MAX);
	return -1;
}

/*
 * The one operand after the flags, named what in messages (e.g.
 * "<file>"): returns -1 to go on with *arg set, else the exit status.
 */
static int
operand(int argc, char **argv, const char *usage, const char *what,
    const char **arg)
{
	if (optind >= argc)
		return usage_error(argv[0], usage, "missing %s", what);
	if (optind + 1 < argc)
		return usage_error(argv[0], usage, "unexpected argument %s",
		    argv[optind + 1]);
	*arg = argv[optind];
	return -1;
}

/* The <node-id> operand, as operand() does, and checked. */
static int
node_id_operand(int argc, char **argv, const char *usage, const char **id)
{
	int rc;

	if ((rc = operand(argc, argv, usage, "<node-id>", id)) != -1)
		return rc;
	if (!node_id_valid(*id, strlen(*id)))
		return usage_error(argv[0], usage, "invalid node id \"%s\": use "
		    "1-%d characters of A-Z a-z 0-9 . _ -, starting with a "
		    "letter or digit", *id, NODE_ID_MAX);
	return -1;
}

/* The sha256 fingerprint of a PEM certificate, "?" if it does not parse. */
static void
pem_fingerprint(const char *pem, char fp[TRUST_FINGERPRINT_SIZE])
{
	mbedtls_x509_crt crt;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem,
	    strlen(pem) + 1) == 0)
		trust_fingerprint(&crt, fp);
	else
		snprintf(fp, TRUST_FINGERPRINT_SIZE, "?");
	mbedtls_x509_crt_free(&crt);
}

/* ---- init-ca ------------------------------------------------------------ */

/*
 * Creates DIR's CA (ca.crt, ca.key 0600, an empty ca.crl), refusing to touch
 * any of them that exists.  cmd names the caller in messages.  Returns the
 * exit status: 0 done, 1 failed.
 */
static int
create_ca(const char *cmd, const char *dir, const char *name, unsigned int days)
{
	char crt_path[PATH_MAX], key_path[PATH_MAX], crl_path[PATH_MAX];
	char err[512], fp[TRUST_FINGERPRINT_SIZE];
	char *key = NULL, *crl = NULL;
	struct pki_ca *ca = NULL;
	int rc = 1;

	if (join(cmd, crt_path, dir, "ca", ".crt") != 0 ||
	    join(cmd, key_path, dir, "ca", ".key") != 0 ||
	    join(cmd, crl_path, dir, "ca", ".crl") != 0)
		return 1;
	/* Checked before generating anything, for a clear message. */
	if (exists(key_path) || exists(crt_path) || exists(crl_path)) {
		fail(cmd, "refusing to overwrite the existing CA in %s (%s exists)",
		    dir, exists(key_path) ? key_path :
		    exists(crt_path) ? crt_path : crl_path);
		return 1;
	}
	if (certs_file_mkdirs(dir, err, sizeof(err)) != 0) {
		fail(cmd, "%s", err);
		return 1;
	}
	if ((ca = pki_ca_new(name, 0, days, err, sizeof(err))) == NULL ||
	    (key = pki_ca_key_pem(ca, err, sizeof(err))) == NULL ||
	    pki_ca_revoke(ca, NULL, NULL, 0, &crl, NULL, err,
	    sizeof(err)) != 0) {
		fail(cmd, "%s", err);
		goto out;
	}
	{
		const struct certs_file files[] = {
			{ key_path, 0600, key },
			{ crt_path, 0644, pki_ca_cert_pem(ca) },
			{ crl_path, 0644, crl },
		};

		if (certs_file_create_all(files, 3, err, sizeof(err)) != 0) {
			fail(cmd, "%s", err);
			goto out;
		}
	}
	pem_fingerprint(pki_ca_cert_pem(ca), fp);
	printf("created CA \"%s\" valid for %u days\n"
	    "  %s  certificate, %s\n"
	    "  %s  private key (mode 0600)\n"
	    "  %s  empty revocation list\n",
	    name, days, crt_path, fp, key_path, crl_path);
	rc = 0;
out:
	pki_secret_free(key);
	free(crl);
	pki_ca_free(ca);
	return rc;
}

static const char init_ca_usage[] =
    "agentflow certs init-ca [--dir DIR] [--name NAME] [--days N]";

static void
init_ca_help(void)
{
	printf("usage: %s\n\n"
	    "Creates a mesh CA (ECDSA P-256): DIR/ca.crt, DIR/ca.key (mode 0600)\n"
	    "and an empty DIR/ca.crl.  Refuses to touch an existing CA.\n\n"
	    "  --dir DIR    directory (default $AGENTFLOW_CERTS_DIR or %s)\n"
	    "  --name NAME  CA common name (default \"%s\")\n"
	    "  --days N     validity in days (default %d)\n",
	    init_ca_usage, DEFAULT_DIR, DEFAULT_CA_NAME, CA_DAYS);
}

static int
init_ca_main(const struct cmd_entry *self, int argc, char **argv)
{
	const char *cmd = self->name;
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "days", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = default_dir(), *name = DEFAULT_CA_NAME;
	unsigned int days = CA_DAYS;
	int c, st;

	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'D':
			if ((st = days_opt(argv, init_ca_usage, optarg,
			    &days)) != -1)
				return st;
			break;
		case 'h':
			init_ca_help();
			return 0;
		default:
			return getopt_error(c, argv, init_ca_usage);
		}
	}
	if (optind < argc)
		return usage_error(argv[0], init_ca_usage, "unexpected argument %s",
		    argv[optind]);
	return create_ca(cmd, dir, name, days);
}

/* ---- issue -------------------------------------------------------------- */

static const char issue_usage[] =
    "agentflow certs issue <node-id> [--dir DIR] [--days N] "
    "[--valid-from YYYY-MM-DD] [--dns NAME]... [--ip ADDR]...";

static void
issue_help(void)
{
	printf("usage: %s\n\n"
	    "Issues a certificate for a node, signed by DIR's CA: DIR/<node-id>.crt\n"
	    "and DIR/<node-id>.key (mode 0600).  The node id is the subject CN and\n"
	    "a DNS name; the certificate serves as TLS server and client.  Refuses\n"
	    "to overwrite an existing certificate or key.\n\n"
	    "  <node-id>               1-%d characters of A-Z a-z 0-9 . _ -,\n"
	    "                          starting with a letter or digit\n"
	    "  --dir DIR               directory (default $AGENTFLOW_CERTS_DIR or %s)\n"
	    "  --days N                validity in days (default %d)\n"
	    "  --valid-from YYYY-MM-DD start of validity, midnight UTC\n"
	    "                          (default: now minus %d seconds)\n"
	    "  --dns NAME              extra DNS name, repeatable\n"
	    "  --ip ADDR               IP address (IPv4 or IPv6), repeatable\n",
	    issue_usage, NODE_ID_MAX, DEFAULT_DIR, NODE_DAYS, PKI_BACKDATE);
}

/*
 * One --dns/--ip value into p (whose dns and ips arrays hold PKI_SAN_MAX
 * entries), checked: returns -1 to go on, else the exit status.
 */
static int
san_opt(char **argv, const char *usage, const char *flag, int is_ip,
    const char *val, struct pki_cert_params *p, const char **dns,
    const char **ips)
{
	unsigned char ipbuf[16];

	if (p->ndns + p->nips >= PKI_SAN_MAX)
		return usage_error(argv[0], usage, "too many DNS names and IP "
		    "addresses (at most %d)", PKI_SAN_MAX);
	if (!is_ip && !pki_dns_name_valid(val))
		return usage_error(argv[0], usage,
		    "%s: \"%s\" is not a valid DNS name", flag, val);
	if (is_ip && inet_pton(AF_INET, val, ipbuf) != 1 &&
	    inet_pton(AF_INET6, val, ipbuf) != 1)
		return usage_error(argv[0], usage,
		    "%s: \"%s\" is not an IPv4 or IPv6 address", flag, val);
	if (is_ip)
		ips[p->nips++] = val;
	else
		dns[p->ndns++] = val;
	return -1;
}

/*
 * Issues DIR/<p->node_id>.crt and .key with DIR's CA, refusing to touch
 * either if one exists.  cmd names the caller in messages.  Returns the exit
 * status: 0 done, 1 failed.
 */
static int
issue_cert(const char *cmd, const char *dir, const struct pki_cert_params *p)
{
	const char *id = p->node_id;
	char crt_path[PATH_MAX], key_path[PATH_MAX], err[512];
	char fp[TRUST_FINGERPRINT_SIZE];
	char *crt = NULL, *key = NULL;
	struct pki_ca *ca = NULL;
	int rc = 1;

	if (join(cmd, crt_path, dir, id, ".crt") != 0 ||
	    join(cmd, key_path, dir, id, ".key") != 0)
		return 1;
	if (exists(key_path) || exists(crt_path)) {
		fail(cmd, "refusing to overwrite %s (node \"%s\" already has a "
		    "certificate or key; move both away to issue anew)",
		    exists(key_path) ? key_path : crt_path, id);
		return 1;
	}
	if ((ca = load_ca(cmd, dir)) == NULL)
		return 1;
	if (pki_ca_issue(ca, p, &crt, &key, err, sizeof(err)) != 0) {
		fail(cmd, "%s", err);
		goto out;
	}
	{
		const struct certs_file files[] = {
			{ key_path, 0600, key },
			{ crt_path, 0644, crt },
		};

		if (certs_file_create_all(files, 2, err, sizeof(err)) != 0) {
			fail(cmd, "%s", err);
			goto out;
		}
	}
	pem_fingerprint(crt, fp);
	printf("issued certificate for node \"%s\" valid for %u days\n"
	    "  %s  certificate, %s\n"
	    "  %s  private key (mode 0600)\n", id, p->days, crt_path, fp,
	    key_path);
	rc = 0;
out:
	free(crt);
	pki_secret_free(key);
	pki_ca_free(ca);
	return rc;
}

static int
issue_main(const struct cmd_entry *self, int argc, char **argv)
{
	const char *cmd = self->name;
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "days", required_argument, NULL, 'D' },
		{ "valid-from", required_argument, NULL, 'f' },
		{ "dns", required_argument, NULL, 'n' },
		{ "ip", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = default_dir(), *id;
	const char *dns[PKI_SAN_MAX], *ips[PKI_SAN_MAX];
	struct pki_cert_params p = { .days = NODE_DAYS, .dns = dns, .ips = ips };
	int c, st;

	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'D':
			if ((st = days_opt(argv, issue_usage, optarg,
			    &p.days)) != -1)
				return st;
			break;
		case 'f':
			if (parse_date(optarg, &p.not_before) != 0)
				return usage_error(cmd, issue_usage,
				    "--valid-from: \"%s\" is not a date "
				    "YYYY-MM-DD (1950-9999)", optarg);
			break;
		case 'n':
		case 'i':
			if ((st = san_opt(argv, issue_usage, c == 'n' ? "--dns" :
			    "--ip", c == 'i', optarg, &p, dns, ips)) != -1)
				return st;
			break;
		case 'h':
			issue_help();
			return 0;
		default:
			return getopt_error(c, argv, issue_usage);
		}
	}
	if ((st = node_id_operand(argc, argv, issue_usage, &id)) != -1)
		return st;
	p.node_id = id;
	return issue_cert(cmd, dir, &p);
}

/* ---- revoke ------------------------------------------------------------- */

static const char revoke_usage[] =
    "agentflow certs revoke <node-id> [--dir DIR]";

static void
revoke_help(void)
{
	printf("usage: %s\n\n"
	    "Revokes DIR/<node-id>.crt: adds its serial to DIR/ca.crl, keeping\n"
	    "every earlier entry, and re-signs the CRL with DIR's CA.  The CRL\n"
	    "file is replaced atomically; distribute it to every node and signal.\n\n"
	    "  --dir DIR   directory (default $AGENTFLOW_CERTS_DIR or %s)\n",
	    revoke_usage, DEFAULT_DIR);
}

static int
revoke_main(const struct cmd_entry *self, int argc, char **argv)
{
	const char *cmd = self->name;
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = default_dir(), *id;
	char crt_path[PATH_MAX], crl_path[PATH_MAX], err[512];
	char *crt = NULL, *prev = NULL, *crl = NULL;
	struct pki_ca *ca = NULL;
	int c, rc = 1, st, already = 0;

	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			revoke_help();
			return 0;
		default:
			return getopt_error(c, argv, revoke_usage);
		}
	}
	if ((st = node_id_operand(argc, argv, revoke_usage, &id)) != -1)
		return st;

	if (join(cmd, crt_path, dir, id, ".crt") != 0 ||
	    join(cmd, crl_path, dir, "ca", ".crl") != 0)
		return 1;
	if ((ca = load_ca(cmd, dir)) == NULL)
		return 1;
	if ((crt = certs_file_read(crt_path, NULL, err, sizeof(err))) == NULL) {
		fail(cmd, "no certificate for node \"%s\": %s", id, err);
		goto out;
	}
	if (exists(crl_path)) {
		if ((prev = certs_file_read(crl_path, NULL, err,
		    sizeof(err))) == NULL) {
			fail(cmd, "%s", err);
			goto out;
		}
	} else
		fprintf(stderr, "agentflow certs revoke: %s is missing; "
		    "starting a new CRL\n", crl_path);
	if (pki_ca_revoke(ca, prev, crt, 0, &crl, &already, err,
	    sizeof(err)) != 0) {
		fail(cmd, "%s: %s", prev != NULL ? crl_path : crt_path, err);
		goto out;
	}
	if (already && prev != NULL) {
		printf("node \"%s\" (%s) is already revoked in %s; "
		    "nothing changed\n", id, crt_path, crl_path);
		rc = 0;
		goto out;
	}
	if (certs_file_replace(crl_path, 0644, crl, err, sizeof(err)) != 0) {
		fail(cmd, "%s", err);
		goto out;
	}
	printf("revoked node \"%s\" (%s)\n  %s  updated\n", id, crt_path,
	    crl_path);
	rc = 0;
out:
	free(crt);
	free(prev);
	free(crl);
	pki_ca_free(ca);
	return rc;
}

/* ---- bundle ------------------------------------------------------------- */

#define BUNDLE_SIGNAL_ID	"signal"
#define BUNDLE_NODES_MAX	256

static const char bundle_usage[] =
    "agentflow certs bundle [--dir DIR] [--signal-name NAME]... "
    "[--signal-ip ADDR]... [--ca-name NAME] [--days N] <node-id>...";

static void
bundle_help(void)
{
	printf("usage: %s\n\n"
	    "Everything a mesh needs, in one directory: the CA (DIR/ca.crt,\n"
	    "DIR/ca.key, DIR/ca.crl; created unless it exists), DIR/<node-id>.crt\n"
	    "and .key for every node named, and DIR/%s.crt and .key, the\n"
	    "signal's HTTPS certificate (CN \"%s\", also a DNS name, plus the\n"
	    "names and addresses given; default names: signal, localhost).\n"
	    "Keys are mode 0600.\n\n"
	    "Safe to run again: nothing that exists is overwritten.  An existing\n"
	    "certificate and key are kept when the certificate chains to DIR's\n"
	    "CA, is valid and not revoked, matches its key and (for the signal)\n"
	    "carries every name asked for; otherwise bundle fails and names the\n"
	    "file to move away.  So adding a node is running it again with one\n"
	    "more name.\n\n"
	    "  <node-id>            1-%d characters of A-Z a-z 0-9 . _ -, starting\n"
	    "                       with a letter or digit; not \"%s\"\n"
	    "  --dir DIR            directory (default $AGENTFLOW_CERTS_DIR or %s)\n"
	    "  --signal-name NAME   DNS name of the signal, repeatable\n"
	    "  --signal-ip ADDR     IP address of the signal, repeatable (an IPv4\n"
	    "                       one as a DNS name too, which nodes match)\n"
	    "  --ca-name NAME       common name of a new CA (default \"%s\")\n"
	    "  --days N             validity of new certificates (default %d;\n"
	    "                       a new CA gets %d)\n",
	    bundle_usage, BUNDLE_SIGNAL_ID, BUNDLE_SIGNAL_ID, NODE_ID_MAX,
	    BUNDLE_SIGNAL_ID, DEFAULT_DIR, DEFAULT_CA_NAME, NODE_DAYS, CA_DAYS);
}

/* 1 if crt has a subject alternative name of this tag with these bytes. */
static int
has_san(const mbedtls_x509_crt *crt, int tag, const void *val, size_t len)
{
	const mbedtls_x509_sequence *s;

	for (s = &crt->subject_alt_names; s != NULL; s = s->next)
		if (s->buf.p != NULL && (s->buf.tag & 0x1f) == tag &&
		    s->buf.len == len && memcmp(s->buf.p, val, len) == 0)
			return 1;
	return 0;
}

/*
 * DIR's CA for bundle: used when ca.crt and ca.key exist (an empty ca.crl
 * is added if it alone is missing), created when none of the three exist.
 * Returns 0, or 1 after a message.
 */
static int
bundle_ca(const char *cmd, const char *dir, const char *name, int *created)
{
	char crt_path[PATH_MAX], key_path[PATH_MAX], crl_path[PATH_MAX];
	char err[512], *crl = NULL;
	struct pki_ca *ca;
	int rc = 1;

	*created = 0;
	if (join(cmd, crt_path, dir, "ca", ".crt") != 0 ||
	    join(cmd, key_path, dir, "ca", ".key") != 0 ||
	    join(cmd, crl_path, dir, "ca", ".crl") != 0)
		return 1;
	if (!exists(crt_path) && !exists(key_path) && !exists(crl_path)) {
		*created = 1;
		return create_ca(cmd, dir, name, CA_DAYS);
	}
	if (!exists(crt_path) || !exists(key_path)) {
		fail(cmd, "incomplete CA in %s: %s exists but %s does not; "
		    "restore it, or move the CA files away to start a new mesh",
		    dir, exists(crt_path) ? crt_path : key_path,
		    exists(crt_path) ? key_path : crt_path);
		return 1;
	}
	if ((ca = load_ca(cmd, dir)) == NULL)
		return 1;
	if (exists(crl_path)) {
		printf("using the existing CA in %s\n", dir);
		rc = 0;
	} else if (pki_ca_revoke(ca, NULL, NULL, 0, &crl, NULL, err,
	    sizeof(err)) != 0) {
		fail(cmd, "%s", err);
	} else {
		const struct certs_file f = { crl_path, 0644, crl };

		if (certs_file_create_all(&f, 1, err, sizeof(err)) != 0)
			fail(cmd, "%s", err);
		else {
			printf("using the existing CA in %s\n"
			    "  %s  empty revocation list (was missing)\n",
			    dir, crl_path);
			rc = 0;
		}
	}
	free(crl);
	pki_ca_free(ca);
	return rc;
}

/*
 * When DIR/<id>.crt or .key exists: keeps the pair if the mesh accepts it
 * and it carries every SAN in p (returns 0), else fails (1).  When neither
 * exists returns -1: issue them.
 */
static int
bundle_existing(const char *cmd, const char *dir, const struct pki_cert_params *p)
{
	const char *id = p->node_id;
	char crt_path[PATH_MAX], key_path[PATH_MAX], crl_path[PATH_MAX];
	char ca_path[PATH_MAX], err[512], detail[512];
	char *crt = NULL, *key = NULL;
	unsigned char ipbuf[16];
	mbedtls_x509_crt chain;
	mbedtls_pk_context pk;
	struct trust *t = NULL;
	int rc = 1, have_chain = 0;

	if (join(cmd, crt_path, dir, id, ".crt") != 0 ||
	    join(cmd, key_path, dir, id, ".key") != 0 ||
	    join(cmd, ca_path, dir, "ca", ".crt") != 0 ||
	    join(cmd, crl_path, dir, "ca", ".crl") != 0)
		return 1;
	if (!exists(crt_path) && !exists(key_path))
		return -1;
	mbedtls_pk_init(&pk);
	if (!exists(crt_path) || !exists(key_path)) {
		fail(cmd, "%s exists without %s; refusing to overwrite it (move "
		    "it away to issue \"%s\" anew)", exists(crt_path) ? crt_path :
		    key_path, exists(crt_path) ? key_path : crt_path, id);
		goto out;
	}
	if ((crt = certs_file_read(crt_path, NULL, err, sizeof(err))) == NULL ||
	    (key = certs_file_read(key_path, NULL, err, sizeof(err))) == NULL) {
		fail(cmd, "%s", err);
		goto out;
	}
	if ((t = trust_new(ca_path, crl_path, err, sizeof(err))) == NULL) {
		fail(cmd, "%s", err);
		goto out;
	}
	if (trust_verify_pem(t, crt, strlen(crt), id, &chain, NULL, detail,
	    sizeof(detail)) != TRUST_OK) {
		fail(cmd, "%s exists but is not usable: %s; move %s and %s "
		    "away to issue \"%s\" anew", crt_path, detail, crt_path,
		    key_path, id);
		goto out;
	}
	have_chain = 1;
	if (mbedtls_pk_parse_key(&pk, (const unsigned char *)key,
	    strlen(key) + 1, NULL, 0) != 0 ||
	    mbedtls_pk_check_pair(&chain.pk, &pk) != 0) {
		fail(cmd, "%s is not the key of %s; move both away to issue "
		    "\"%s\" anew", key_path, crt_path, id);
		goto out;
	}
	for (size_t i = 0; i < p->ndns; i++) {
		/* An address as a name (--signal-ip) that an older bundle
		 * did not add: curl still matches the certificate, nodes do
		 * not.  Said, not refused, so a re-run keeps working. */
		if (!has_san(&chain, 2, p->dns[i], strlen(p->dns[i])) &&
		    (inet_pton(AF_INET, p->dns[i], ipbuf) == 1 ||
		    inet_pton(AF_INET6, p->dns[i], ipbuf) == 1)) {
			fprintf(stderr, "agentflow certs %s: %s has %s as an "
			    "address only, which nodes cannot match (Debian's "
			    "mbedTLS); move %s and %s away to issue it anew with "
			    "the address as a name too\n", cmd, crt_path,
			    p->dns[i], crt_path, key_path);
			continue;
		}
		if (!has_san(&chain, 2, p->dns[i], strlen(p->dns[i]))) {
			fail(cmd, "%s exists without the name %s; move %s and "
			    "%s away to issue \"%s\" anew", crt_path,
			    p->dns[i], crt_path, key_path, id);
			goto out;
		}
	}
	for (size_t i = 0; i < p->nips; i++) {
		int v6 = inet_pton(AF_INET, p->ips[i], ipbuf) != 1;

		if (v6)
			inet_pton(AF_INET6, p->ips[i], ipbuf);
		if (!has_san(&chain, 7, ipbuf, v6 ? 16 : 4)) {
			fail(cmd, "%s exists without the address %s; move %s "
			    "and %s away to issue \"%s\" anew", crt_path,
			    p->ips[i], crt_path, key_path, id);
			goto out;
		}
	}
	printf("kept the existing certificate for \"%s\" (%s)\n", id, crt_path);
	rc = 0;
out:
	if (have_chain)
		mbedtls_x509_crt_free(&chain);
	mbedtls_pk_free(&pk);
	trust_free(t);
	free(crt);
	pki_secret_free(key);
	return rc;
}

static int
bundle_main(const struct cmd_entry *self, int argc, char **argv)
{
	const char *cmd = self->name;
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "signal-name", required_argument, NULL, 'n' },
		{ "signal-ip", required_argument, NULL, 'i' },
		{ "ca-name", required_argument, NULL, 'c' },
		{ "days", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const default_names[] = { "localhost" };
	const char *dir = default_dir(), *ca_name = DEFAULT_CA_NAME;
	const char *dns[PKI_SAN_MAX], *ips[PKI_SAN_MAX];
	struct pki_cert_params sig = { .node_id = BUNDLE_SIGNAL_ID,
	    .days = NODE_DAYS, .dns = dns, .ips = ips };
	unsigned int days = NODE_DAYS;
	unsigned char ipbuf[16];
	int c, st, named = 0, created, nodes;

	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			named = 1;
			/* The CN is a DNS name already. */
			if (strcmp(optarg, BUNDLE_SIGNAL_ID) == 0)
				break;
			/* FALLTHROUGH */
		case 'i':
			if ((st = san_opt(argv, bundle_usage, c == 'i' ?
			    "--signal-ip" : "--signal-name", c == 'i', optarg,
			    &sig, dns, ips)) != -1)
				return st;
			/* An IPv4 address as a DNS name too: Debian 12's
			 * mbedTLS (2.28), which nodes verify the signal with,
			 * matches a URL's host against DNS names only, never
			 * an IP entry (which curl and browsers match).  An
			 * IPv6 address is no DNS name: such a signal needs
			 * one (--signal-name). */
			if (c == 'i' && inet_pton(AF_INET, optarg, ipbuf) == 1 &&
			    (st = san_opt(argv, bundle_usage, "--signal-ip", 0,
			    optarg, &sig, dns, ips)) != -1)
				return st;
			break;
		case 'c':
			ca_name = optarg;
			break;
		case 'D':
			if ((st = days_opt(argv, bundle_usage, optarg,
			    &days)) != -1)
				return st;
			break;
		case 'h':
			bundle_help();
			return 0;
		default:
			return getopt_error(c, argv, bundle_usage);
		}
	}
	if (!named)
		for (size_t i = 0; i < sizeof(default_names) /
		    sizeof(default_names[0]); i++)
			dns[sig.ndns++] = default_names[i];
	sig.days = days;
	nodes = argc - optind;
	if (nodes < 1)
		return usage_error(cmd, bundle_usage, "missing <node-id>");
	if (nodes > BUNDLE_NODES_MAX)
		return usage_error(cmd, bundle_usage, "too many nodes (at most "
		    "%d at once)", BUNDLE_NODES_MAX);
	for (int i = optind; i < argc; i++) {
		if (!node_id_valid(argv[i], strlen(argv[i])))
			return usage_error(cmd, bundle_usage, "invalid node id "
			    "\"%s\": use 1-%d characters of A-Z a-z 0-9 . _ -, "
			    "starting with a letter or digit", argv[i],
			    NODE_ID_MAX);
		if (strcmp(argv[i], BUNDLE_SIGNAL_ID) == 0)
			return usage_error(cmd, bundle_usage, "node id \"%s\" "
			    "is taken by the signal's certificate (%s.crt); "
			    "name the node otherwise", argv[i],
			    BUNDLE_SIGNAL_ID);
		for (int j = optind; j < i; j++)
			if (strcmp(argv[i], argv[j]) == 0)
				return usage_error(cmd, bundle_usage, "node id "
				    "\"%s\" given twice", argv[i]);
	}

	/* Every certificate, or the first failure: what was made stays. */
	if (bundle_ca(cmd, dir, ca_name, &created) != 0)
		return 1;
	for (int i = optind; i <= argc; i++) {
		struct pki_cert_params node = { .node_id = argv[i],
		    .days = days };
		const struct pki_cert_params *p = i < argc ? &node : &sig;

		if ((st = bundle_existing(cmd, dir, p)) == -1)
			st = issue_cert(cmd, dir, p);
		if (st != 0)
			return st;
	}
	printf("bundle in %s: CA%s, %d node certificate%s and the signal's "
	    "(%s.crt)\n", dir, created ? " (new)" : "", nodes,
	    nodes == 1 ? "" : "s", BUNDLE_SIGNAL_ID);
	return 0;
}

/* ---- show --------------------------------------------------------------- */

static const char show_usage[] = "agentflow certs show <file>";

static int
show_main(const struct cmd_entry *self, int argc, char **argv)
{
	const char *cmd = self->name;
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	char err[512], *buf;
	size_t len;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: %s\n\n"
			    "Prints a certificate (subject, issuer, serial, "
			    "validity, key, key usages,\nalt names, "
			    "sha256 fingerprint), a CRL (issuer, dates, revoked "
			    "serials)\nor a key (type and public key id; never "
			    "the secret).  PEM or DER.\n", show_usage);
			return 0;
		}
		return getopt_error(c, argv, show_usage);
	}
	if ((rc = operand(argc, argv, show_usage, "<file>", &path)) != -1)
		return rc;
	if ((buf = certs_file_read(path, &len, err, sizeof(err))) == NULL) {
		fail(cmd, "%s", err);
		return 1;
	}
	/* PEM parsers want the NUL counted; DER parsers ignore it. */
	if (len > 0 && buf[0] != 0x30)
		len++;
	rc = certs_show((const unsigned char *)buf, len, stdout, err,
	    sizeof(err));
	if (rc != 0)
		fail(cmd, "%s: %s", path, err);
	free(buf);
	return rc == 0 ? 0 : 1;
}

/* ---- dispatch ----------------------------------------------------------- */

/* Each command parses its own options (--dns and --ip repeat). */
static const struct cmd_entry subcommands[] = {
	{ "init-ca", NULL, 0, -1, NULL, init_ca_main,
	  "create the mesh CA and an empty CRL", NULL },
	{ "issue", NULL, 0, -1, NULL, issue_main,
	  "issue a node certificate and key", NULL },
	{ "bundle", NULL, 0, -1, NULL, bundle_main,
	  "the CA, node certificates and the signal's, at once", NULL },
	{ "revoke", NULL, 0, -1, NULL, revoke_main,
	  "revoke a node certificate (adds it to the CRL)", NULL },
	{ "show", NULL, 0, -1, NULL, show_main,
	  "print a certificate, CRL or key", NULL },
};

static const struct cmd_table certs_table = {
	"agentflow certs",
	"usage: agentflow certs <command> [options]\n\n"
	"Manages the mesh PKI (ECDSA P-256) in one directory:\n"
	"$AGENTFLOW_CERTS_DIR or ./" DEFAULT_DIR " unless --dir is given.\n\n"
	"commands:\n",
	"\n`agentflow certs <command> --help` describes one "
	"command.  Exit status: 0 done,\n1 failed, 2 usage error.\n",
	subcommands, sizeof(subcommands) / sizeof(subcommands[0]),
};

int
certs_main(int argc, char **argv)
{
	return cmd_table_main(&certs_table, argc, argv);
}
