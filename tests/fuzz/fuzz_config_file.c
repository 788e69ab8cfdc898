/*
 * fuzz_config_file: the text of a configuration file (common/config_file.h).
 *
 * Every input goes through the pure parser, config_file_parse(), with a
 * callback that checks what it is handed; then through config_file_load()
 * with a table of every option type, reading the same bytes from a memfd
 * (the loader only reads paths), which adds the typed validation of
 * opts_set(), duplicate and unknown keys, and the all-or-nothing rule.
 *
 * Invariants: keys are non-empty runs of [A-Za-z0-9._-]; a failure names
 * "name:LINE: "; a file the loader accepts also parses, and a file it
 * refuses leaves the config struct as it was.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config_file.h"
#include "fuzz_util.h"
#include "opts.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fcfg {
	const char	*name;
	const char	*signal;
	long		 max_links;
	long		 port;
	int		 verbose;
	int		 tls;
	long		 keep;
};

#define OPT(field) offsetof(struct fcfg, field)
static const struct opt table[] = {
	{ "name", OPT_STRING, OPT(name), NULL, 0, 0, "a string" },
	{ "signal", OPT_STRING, OPT(signal), "https://signal:7000", 0, 0, "a URL" },
	{ "max-links", OPT_INT, OPT(max_links), "3", 1, 64, "an int" },
	{ "port", OPT_INT, OPT(port), "7443", 0, 65535, "a port" },
	{ "verbose", OPT_BOOL, OPT(verbose), "0", 0, 1, "a boolean" },
	{ "tls", OPT_BOOL, OPT(tls), "1", 0, 1, "another" },
	{ "keep", OPT_DURATION, OPT(keep), "7d", 0, 315360000, "a duration" },
};
#define NOPTS	(sizeof(table) / sizeof(table[0]))

static int memfd = -1;
static char memfd_path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	if ((memfd = memfd_create("fuzz-config", MFD_CLOEXEC)) == -1) {
		perror("fuzz: memfd_create");
		exit(1);
	}
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	return 0;
}

static int
check_cb(void *arg, unsigned line, const char *key, const char *value,
    char *err, size_t errlen)
{
	unsigned *last = arg;
	size_t kl = strlen(key);

	if (line == 0 || line <= *last || kl == 0 || kl > CONFIG_FILE_LINE_MAX ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != kl || strlen(value) > CONFIG_FILE_LINE_MAX)
		abort();
	*last = line;
	/* Refuse one key, to drive the callback-error path. */
	if (strcmp(key, "refuse") == 0) {
		snprintf(err, errlen, "refused by the callback");
		return -1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fcfg cfg, before;
	struct config_file *cf = NULL;
	unsigned last = 0, lineno = 0;
	char err[1024];
	int parsed, loaded;

	err[0] = '\0';
	parsed = config_file_parse("fuzz.conf", (const char *)data, size,
	    check_cb, &last, &lineno, err, sizeof(err));
	if (parsed != 0 && (strncmp(err, "fuzz.conf:", 10) != 0 ||
	    (size <= CONFIG_FILE_MAX && lineno == 0)))
		abort();

	if (size > CONFIG_FILE_MAX + 1)
		return 0;
	if (ftruncate(memfd, 0) != 0 ||
	    pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	if (opts_defaults(table, NOPTS, &cfg, err, sizeof(err)) != 0)
		abort();
	before = cfg;
	loaded = config_file_load(table, NOPTS, &cfg, memfd_path, &cf, err,
	    sizeof(err));
	if (loaded != 0) {
		if (cf != NULL || memcmp(&cfg, &before, sizeof(cfg)) != 0)
			abort();	/* all or nothing */
	} else {
		if (cf == NULL || cfg.max_links < 1 || cfg.max_links > 64 ||
		    cfg.port < 0 || cfg.port > 65535 ||
		    (cfg.verbose != 0 && cfg.verbose != 1) ||
		    cfg.keep < 0 || cfg.keep > 315360000)
			abort();
		/* The loader is the stricter: "refuse" is an unknown key to it. */
		if (parsed != 0)
			abort();
	}
	config_file_free(cf);
	return 0;
}
