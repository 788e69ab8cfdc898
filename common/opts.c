/*
 * Option parsing over a table (see opts.h).  getopt_long does the argv work;
 * this file adds defaults, the environment, typed storage and validation.
 */
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "man.h"


#define OPTS_MAX 64

/* The option's environment variable: AGENTFLOW_MAX_BODY for max-body. */
static const char *
env_name(const struct opt *o, char *buf, size_t len)
{
	size_t i, n = (size_t)snprintf(buf, len, "AGENTFLOW_");

	for (i = 0; o->name[i] != '\0' && n + 1 < len; i++, n++)
		buf[n] = o->name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)o->name[i]);
	buf[n] = '\0';
	return buf;
}

/* Names where a bad value came from, for the error message. */
static const char *
label(const struct opt *o, const char *origin)
{
	static char buf[128];
	char env[96];

	if (strcmp(origin, "env") == 0)
		snprintf(buf, sizeof(buf), "environment variable %s",
		    env_name(o, env, sizeof(env)));
	else
		snprintf(buf, sizeof(buf), "%s--%s", origin, o->name);
	return buf;
}

static int
set_value(const struct opt *o, void *cfg, const char *val, const char *origin,
    char *err, size_t errlen)
{
	return opts_set(o, cfg, val, label(o, origin), err, errlen);
}

/* A duration's unit suffixes, in seconds; none means seconds. */
static const struct {
	const char	*suffix;
	long		 seconds;
} duration_units[] = {
	{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	{ "w", 604800 },
};

int
opts_duration_parse(const char *val, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (errno != 0 || end == val || v < 0 || !isdigit((unsigned char)val[0]))
		return -1;
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]);
	    i++) {
		if (strcmp(end, duration_units[i].suffix) != 0)
			continue;
		if (v > LONG_MAX / duration_units[i].seconds)
			return -1;
		*out = v * duration_units[i].seconds;
		return 0;
	}
	return -1;
}

int
opts_set(const struct opt *o, void *cfg, const char *val, const char *where,
    char *err, size_t errlen)
{
	char *end;
	long v;

	switch (o->type) {
	case OPT_STRING:
		*(const char **)((char *)cfg + o->offset) = val;
		return 0;
	case OPT_INT:
		errno = 0;
		v = strtol(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0') {
			snprintf(err, errlen, "%s: \"%s\" is not an integer",
			    where, val);
			return -1;
		}
		if (v < o->min || v > o->max) {
			snprintf(err, errlen, "%s: %ld is outside [%ld, %ld]",
			    where, v, o->min, o->max);
			return -1;
		}
		*(long *)((char *)cfg + o->offset) = v;
		return 0;
	case OPT_DURATION:
		if (opts_duration_parse(val, &v) != 0) {
			snprintf(err, errlen, "%s: \"%s\" is not a duration (seconds, "
			    "or a number with s, m, h, d or w)", where, val);
			return -1;
		}
		if (v < o->min || v > o->max) {
			snprintf(err, errlen, "%s: %ld s is outside [%ld, %ld] s",
			    where, v, o->min, o->max);
			return -1;
		}
		*(long *)((char *)cfg + o->offset) = v;
		return 0;
	case OPT_BOOL:
		if (strcmp(val, "1") == 0 || strcasecmp(val, "true") == 0 ||
		    strcasecmp(val, "yes") == 0)
			v = 1;
		else if (strcmp(val, "0") == 0 || strcasecmp(val, "false") == 0 ||
		    strcasecmp(val, "no") == 0 || val[0] == '\0')
			v = 0;
		else {
			snprintf(err, errlen, "%s: \"%s\" is not a boolean",
			    where, val);
			return -1;
		}
		*(int *)((char *)cfg + o->offset) = (int)v;
		return 0;
	}
	return -1;
}

void
opts_usage(const struct opt *table, size_t n, const char *usage)
{
	printf("%s\n\nOptions (flag, environment variable, default):\n", usage);
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = &table[i];
		char env[96];
		printf("  --%s%s\n      %s\n      env %s", o->name,
		    o->type == OPT_BOOL ? "" : " VALUE", o->help,
		    env_name(o, env, sizeof(env)));
		if (o->defval != NULL)
			printf(", default %s", o->defval[0] ? o->defval : "\"\"");
		printf("\n");
	}
	printf("  --help\n      print this help\n");
	printf("  --version\n      print the version\n");
}

/*
 * The page: usage's first line (after "usage: ") is the synopsis, the rest
 * the description, and every row of the table an option as --help shows it.
 */
void
opts_man(const struct opt *table, size_t n, const char *usage,
    const char *prog)
{
	const char *synopsis = strncmp(usage, "usage: ", 7) == 0 ? usage + 7 :
	    usage;
	size_t synlen = strcspn(synopsis, "\n");
	const char *desc = synopsis + synlen;
	char env[96];

	desc += strspn(desc, "\n");
	man_head(stdout, prog, desc[0] != '\0' ? desc : prog);
	printf(".SH SYNOPSIS\n");
	man_text(stdout, synopsis, synlen);
	printf("\n.SH DESCRIPTION\n");
	man_puts(stdout, desc);
	printf("\n.PP\nEvery option may be given as --name VALUE, --name=VALUE "
	    "or in the environment\nvariable shown with it; a flag wins over the "
	    "environment, which wins over the default.\n.SH OPTIONS\n");
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = &table[i];

		printf(".TP\n.B \\-\\-");
		man_puts(stdout, o->name);
		printf("%s\n", o->type == OPT_BOOL ? "" : " \\fIVALUE\\fR");
		man_puts(stdout, o->help);
		printf("\n.br\nenv ");
		man_puts(stdout, env_name(o, env, sizeof(env)));
		if (o->defval != NULL) {
			printf(", default ");
			man_puts(stdout, o->defval[0] ? o->defval : "\"\"");
		}
		printf("\n");
	}
	printf(".TP\n.B \\-\\-help\nprint the help\n"
	    ".TP\n.B \\-\\-version\nprint the version\n"
	    ".SH SEE ALSO\n.BR agentflow (1),\n.BR agentflow\\-node (1),\n"
	    ".BR agentflow\\-signal (1)\n");
}

int
opts_defaults(const struct opt *table, size_t n, void *cfg, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = &table[i];
		if (o->defval != NULL &&
		    set_value(o, cfg, o->defval, "default of ", err, errlen) != 0)
			return -1;
	}
	return 0;
}

enum opts_result
opts_parse(const struct opt *table, size_t n, void *cfg, int argc, char **argv,
    const char *usage, int *first_arg, char *err, size_t errlen)
{
	if (opts_defaults(table, n, cfg, err, errlen) != 0)
		return OPTS_ERROR;
	return opts_apply(table, n, cfg, argc, argv, usage, first_arg, err,
	    errlen);
}

enum opts_result
opts_apply(const struct opt *table, size_t n, void *cfg, int argc, char **argv,
    const char *usage, int *first_arg, char *err, size_t errlen)
{
	struct option lopts[OPTS_MAX + 3];
	const char *env;
	char envbuf[96];
	int c, idx;

	if (n > OPTS_MAX) {
		snprintf(err, errlen, "too many options in table");
		return OPTS_ERROR;
	}
	/* --help and --version before anything else is read: a bad value
	 * elsewhere does not hide them. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			opts_usage(table, n, usage);
			return OPTS_HELP;
		}
		if (strcmp(argv[i], "--help-man") == 0) {
			const char *prog = strrchr(argv[0], '/');

			opts_man(table, n, usage, prog != NULL ? prog + 1 :
			    argv[0]);
			return OPTS_HELP;
		}
		if (strcmp(argv[i], "--version") == 0) {
			const char *prog = strrchr(argv[0], '/');

			printf("%s %s\n", prog != NULL ? prog + 1 : argv[0],
			    AGENTFLOW_VERSION);
			return OPTS_HELP;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = &table[i];
		if ((env = getenv(env_name(o, envbuf, sizeof(envbuf)))) != NULL &&
		    set_value(o, cfg, env, "env", err, errlen) != 0)
			return OPTS_ERROR;
		lopts[i].name = o->name;
		lopts[i].has_arg = o->type == OPT_BOOL ? optional_argument :
		    required_argument;
		lopts[i].flag = NULL;
		lopts[i].val = 0;
	}
	lopts[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n + 1] = (struct option){ "version", no_argument, NULL, 'V' };
	lopts[n + 2] = (struct option){ NULL, 0, NULL, 0 };

	optind = 1;
	opterr = 0;
	for (;;) {
		idx = -1;
		c = getopt_long(argc, argv, "+h", lopts, &idx);
		if (c == -1)
			break;
		if (c == 'h') {
			opts_usage(table, n, usage);
			return OPTS_HELP;
		}
		if (c == 'V')		/* an abbreviation: --vers */
			return opts_apply(table, n, cfg, 2, (char *[]){ argv[0],
			    "--version", NULL }, usage, first_arg, err, errlen);
		if (c == '?' || c == ':' || idx < 0 || (size_t)idx >= n) {
			snprintf(err, errlen, "unknown option or missing value: %s",
			    optind >= 1 && optind <= argc ? argv[optind - 1] : "?");
			return OPTS_ERROR;
		}
		if (set_value(&table[idx], cfg,
		    optarg != NULL ? optarg : "1", "", err, errlen) != 0)
			return OPTS_ERROR;
	}
	if (first_arg != NULL)
		*first_arg = optind;
	else if (optind < argc) {
		snprintf(err, errlen, "unexpected argument: %s", argv[optind]);
		return OPTS_ERROR;
	}
	return OPTS_OK;
}
