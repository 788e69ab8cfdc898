/*
 * Command-line and environment configuration from one table.
 *
 * Each option has a long flag (--name VALUE, --name=VALUE, or --name for
 * booleans) and an environment variable named by one rule: AGENTFLOW_ and
 * the flag's name in upper case with '-' as '_' (--max-body is
 * AGENTFLOW_MAX_BODY).  Precedence: flag, then
 * environment, then the table's default (config_file.h adds a file between
 * the environment and the default).  --help prints the table, --help-man
 * the same as a manual page.
 * Values are validated here (integers in range), so a daemon's main() only
 * checks relations between options.
 */
#ifndef AGENTFLOW_OPTS_H
#define AGENTFLOW_OPTS_H

#include <stddef.h>

enum opt_type {
	OPT_STRING,	/* const char * into argv, environ or the default; may be NULL */
	OPT_INT,	/* long, checked against [min, max] */
	OPT_BOOL,	/* int 0/1; flag form takes no value, env takes 0/1/true/false */
	OPT_DURATION,	/* long seconds: "90", "90s", "15m", "12h", "7d", "2w"; in [min, max] */
};

struct opt {
	const char	*name;
	enum opt_type	 type;
	size_t		 offset;	/* of the field in the caller's config struct */
	const char	*defval;	/* NULL: no default */
	long		 min, max;
	const char	*help;
};

enum opts_result { OPTS_OK = 0, OPTS_HELP = 1, OPTS_ERROR = -1 };

/*
 * Fills cfg from defaults, the environment and argv.  On OPTS_ERROR, err
 * holds a message naming the option and the problem.  On OPTS_HELP the usage
 * text (for --version, the program's name and version) has been printed to
 * stdout.  *first_arg receives the index of the
 * first non-option argument (may be NULL if none are allowed).
 */
enum opts_result opts_parse(const struct opt *table, size_t n, void *cfg,
    int argc, char **argv, const char *usage, int *first_arg,
    char *err, size_t errlen);

void opts_usage(const struct opt *table, size_t n, const char *usage);
/*
 * The same as a manual page in roff on stdout (man.h), for prog; what
 * --help-man prints (the build makes share/man/man1 from it).
 */
void opts_man(const struct opt *table, size_t n, const char *usage,
    const char *prog);

/*
 * The pieces opts_parse is made of, for callers that layer another source
 * (a config file, see config_file.h) between the defaults and the
 * environment: opts_parse is opts_defaults followed by opts_apply.
 *
 * opts_defaults sets every option that has a default; opts_apply then sets
 * those given in the environment or argv and leaves the others as they are.
 * opts_set sets one option from its text form with the same validation;
 * where names the value's source in err ("node.conf:3: max-links").  An
 * OPT_STRING keeps the pointer val: it must outlive cfg.  Both return 0, or
 * -1 with err set.
 */
int opts_defaults(const struct opt *table, size_t n, void *cfg, char *err,
    size_t errlen);
enum opts_result opts_apply(const struct opt *table, size_t n, void *cfg,
    int argc, char **argv, const char *usage, int *first_arg,
    char *err, size_t errlen);
int opts_set(const struct opt *o, void *cfg, const char *val,
    const char *where, char *err, size_t errlen);

/* An OPT_DURATION value, "90", "90s", "15m", "12h", "7d", "2w", into
 * seconds; -1 when not a non-negative integer with one of those units, or
 * too large for a long. */
int opts_duration_parse(const char *val, long *out);

#endif
