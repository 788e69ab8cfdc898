/*
 * The CLI's text helpers (see cli_fmt.h).
 */
#include "cli_fmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

const char *
cli_fmt_str(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

const char *
cli_fmt_clean(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

const char *
cli_fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

const char *
cli_fmt_duration(long long s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

const char *
cli_fmt_ago(json_t *v, char *buf, size_t len)
{
	uint64_t now = clock_wall_ms();
	json_int_t ms = json_integer_value(v);

	if (ms <= 0)
		snprintf(buf, len, "-");
	else if ((uint64_t)ms >= now)
		snprintf(buf, len, "now");
	else if (now - (uint64_t)ms < 60000)
		snprintf(buf, len, "%.1fs ago", (double)(now - (uint64_t)ms) / 1000.0);
	else if (now - (uint64_t)ms < 3600000)
		snprintf(buf, len, "%" PRIu64 "m ago", (now - (uint64_t)ms) / 60000);
	else
		snprintf(buf, len, "%" PRIu64 "h ago", (now - (uint64_t)ms) / 3600000);
	return buf;
}

int
cli_fmt_exit_status(json_t *o)
{
	const char *s = cli_fmt_str(o, "state", "");
	json_t *code = json_object_get(o, "exit_code");
	json_t *sig = json_object_get(o, "term_signal");

	if (strcmp(s, "expired") == 0 || strcmp(s, "lost") == 0 ||
	    strcmp(s, "timed-out") == 0)
		return CLI_EXIT_EXPIRED;
	if (json_integer_value(sig) > 0 && json_integer_value(sig) < 128)
		return 128 + (int)json_integer_value(sig);
	if (json_is_integer(code) && (strcmp(s, "succeeded") == 0 ||
	    strcmp(s, "failed") == 0) && json_integer_value(code) >= 0 &&
	    json_integer_value(code) < 256)
		return strcmp(s, "failed") == 0 && json_integer_value(code) == 0 ?
		    1 : (int)json_integer_value(code);
	return strcmp(s, "succeeded") == 0 ? 0 : 1;
}
