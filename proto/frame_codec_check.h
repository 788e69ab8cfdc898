/*
 * For frame_codec*.c only: the state of one check walk and the checks of
 * single fields every message's check is made of (static inline: each
 * file gets its own), and the checks of the work's messages
 * (frame_codec_work.c) that frame_codec.c's walk calls.
 *
 * A check returns 0, or -1 after fail() recorded the innermost failure;
 * CHECK adds each enclosing level's segment of the path on the way out.
 */
#ifndef AGENTFLOW_FRAME_CODEC_CHECK_H
#define AGENTFLOW_FRAME_CODEC_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "frame_codec.h"
#include "node_id.h"
#include "text.h"

/* Generated names are long; this keeps declarations readable. */
#define PB(name)	struct Agentflow__Mesh__V1__##name

#define PATH_DEPTH	12

/* The state of one check walk. */
struct ck {
	enum frame_codec_err	 code;
	char			 msg[160];
	int			 nseg;		/* segments, innermost first */
	const char		*seg[PATH_DEPTH];
	long			 idx[PATH_DEPTH]; /* -1: not an array element */
	uint64_t		 skips[FRAME_CODEC_SKIP_N]; /* what a newer peer sent */
};

/* ---- the check walk ---------------------------------------------------- */

static inline int fail(struct ck *ck, enum frame_codec_err code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the innermost failure: the field and what is wrong with it. */
static inline int
fail(struct ck *ck, enum frame_codec_err code, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	ck->code = code;
	va_start(ap, fmt);
	vsnprintf(ck->msg, sizeof(ck->msg), fmt, ap);
	va_end(ap);
	ck->nseg = 0;
	if (field != NULL) {
		ck->seg[0] = field;
		ck->idx[0] = -1;
		ck->nseg = 1;
	}
	return -1;
}

/* Adds an enclosing path segment on the way out of a failed check. */
static inline int
up(struct ck *ck, const char *field, long idx)
{
	if (field != NULL && ck->nseg < PATH_DEPTH) {
		ck->seg[ck->nseg] = field;
		ck->idx[ck->nseg] = idx;
		ck->nseg++;
	}
	return -1;
}

/*
 * Runs a check; on failure adds this level's segment ("field" or
 * "field[idx]"; none when field is NULL) and fails the caller too.
 */
#define CHECK(ck, expr, field, idx) do {				\
	if ((expr) != 0)						\
		return up((ck), (field), (idx));			\
} while (0)

static inline void
ck_detail(const struct ck *ck, struct frame_codec_error *err)
{
	char	*p;
	size_t	 left;
	int	 i, w;

	if (err == NULL)
		return;
	err->code = ck->code;
	p = err->detail;
	left = sizeof(err->detail);
	p[0] = '\0';
	for (i = ck->nseg - 1; i >= 0; i--) {
		if (ck->idx[i] >= 0)
			w = snprintf(p, left, "%s%s[%ld]", i == ck->nseg - 1 ?
			    "" : ".", ck->seg[i], ck->idx[i]);
		else
			w = snprintf(p, left, "%s%s", i == ck->nseg - 1 ?
			    "" : ".", ck->seg[i]);
		if (w < 0 || (size_t)w >= left)
			return;
		p += w;
		left -= (size_t)w;
	}
	snprintf(p, left, "%s%s", ck->nseg > 0 ? ": " : "", ck->msg);
}

static inline const char *
str(const char *s)
{
	return s == NULL ? "" : s;
}

/* Checks a string of min..max bytes of UTF-8 (without controls if asked). */
static inline int
check_str(struct ck *ck, const char *field, const char *s, size_t min,
    size_t max, bool no_ctrl)
{
	size_t len = strlen(str(s));

	if (len < min)
		return fail(ck, FRAME_CODEC_ERR_MISSING, field,
		    "empty, at least %zu bytes required", min);
	if (len > max)
		return fail(ck, FRAME_CODEC_ERR_TOO_LONG, field,
		    "%zu bytes, limit %zu", len, max);
	if (!text_utf8_valid(str(s), len, no_ctrl))
		return fail(ck, FRAME_CODEC_ERR_BAD_STRING, field, no_ctrl ?
		    "not UTF-8 text without control characters" :
		    "not valid UTF-8");
	return 0;
}

static inline int
check_name(struct ck *ck, const char *field, const char *s)
{
	return check_str(ck, field, s, 1, FRAME_CODEC_MAX_NAME, true);
}

static inline int
check_text(struct ck *ck, const char *field, const char *s, size_t max)
{
	return check_str(ck, field, s, 0, max, false);
}

static inline int
check_node_id(struct ck *ck, const char *field, const char *s)
{
	size_t len = strlen(str(s));

	if (!node_id_valid(str(s), len))
		return fail(ck, FRAME_CODEC_ERR_BAD_NODE_ID, field,
		    "not a node id (1-%d of [A-Za-z0-9._-], %zu bytes given)",
		    NODE_ID_MAX, len);
	return 0;
}

/* Task, alert and command ids share the node id syntax (they go in URLs). */
static inline int
check_id(struct ck *ck, const char *field, const char *s, bool required)
{
	size_t len = strlen(str(s));

	if (len == 0 && !required)
		return 0;
	if (!node_id_valid(str(s), len))
		return fail(ck, FRAME_CODEC_ERR_BAD_ID, field,
		    "not an id (1-%d of [A-Za-z0-9._-], %zu bytes given)",
		    NODE_ID_MAX, len);
	return 0;
}

static inline int
check_bytes(struct ck *ck, const char *field, const ProtobufCBinaryData *b,
    size_t max)
{
	if (b->len > 0 && b->data == NULL)
		return fail(ck, FRAME_CODEC_ERR_MISSING, field,
		    "%zu bytes but no data", b->len);
	if (b->len > max)
		return fail(ck, FRAME_CODEC_ERR_TOO_LONG, field,
		    "%zu bytes, limit %zu", b->len, max);
	return 0;
}

/* A repeated field: count within max, no NULL element. */
static inline int
check_count(struct ck *ck, const char *field, size_t n, const void *arr,
    size_t max)
{
	if (n > max)
		return fail(ck, FRAME_CODEC_ERR_TOO_MANY, field,
		    "%zu entries, limit %zu", n, max);
	if (n > 0 && arr == NULL)
		return fail(ck, FRAME_CODEC_ERR_MISSING, field,
		    "%zu entries but no array", n);
	return 0;
}

static inline int
check_present(struct ck *ck, const char *field, const void *p)
{
	if (p == NULL)
		return fail(ck, FRAME_CODEC_ERR_MISSING, field, "absent");
	return 0;
}

/*
 * A required enum: not UNSPECIFIED (0).  A value this version does not
 * know is a newer peer's: kept, and counted.
 */
static inline int
check_enum(struct ck *ck, const char *field, const ProtobufCEnumDescriptor *d,
    int v)
{
	if (v == 0)
		return fail(ck, FRAME_CODEC_ERR_BAD_ENUM, field,
		    "unspecified (0)");
	if (protobuf_c_enum_descriptor_get_value(d, v) == NULL)
		ck->skips[FRAME_CODEC_SKIP_ENUM]++;
	return 0;
}

static inline int
check_nonzero(struct ck *ck, const char *field, uint64_t v)
{
	if (v == 0)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, field,
		    "must not be 0");
	return 0;
}

/* A wall time a dashboard's Date can print: at most year 9999. */
static inline int
check_time(struct ck *ck, const char *field, uint64_t v)
{
	if (v > FRAME_CODEC_MAX_TIME_MS)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, field,
		    "%llu is past year 9999 (limit %llu)",
		    (unsigned long long)v, FRAME_CODEC_MAX_TIME_MS);
	return 0;
}

static inline int
check_real(struct ck *ck, const char *field, double v, double lo, double hi)
{
	if (!isfinite(v))
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, field,
		    "not a finite number");
	if (v < lo || v > hi)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, field,
		    "%g outside %g..%g", v, lo, hi);
	return 0;
}


/* frame_codec_work.c: the messages of tasks, alerts, jobs, workflows,
 * schedules, services and user events. */
int fc_check_task_update(struct ck *, const PB(TaskUpdate) *);
int fc_check_task_log(struct ck *, const PB(TaskLog) *);
int fc_check_alert(struct ck *, const PB(Alert) *);
int fc_check_job_update(struct ck *, const PB(JobUpdate) *);
int fc_check_workflow_update(struct ck *, const PB(WorkflowUpdate) *);
int fc_check_schedule_update(struct ck *, const PB(ScheduleUpdate) *);
int fc_check_silence_update(struct ck *, const PB(SilenceUpdate) *);
int fc_check_service_update(struct ck *, const PB(ServiceUpdate) *);
int fc_check_user_event(struct ck *, const PB(UserEvent) *);
int fc_check_artifact_update(struct ck *, const PB(ArtifactUpdate) *);
int fc_check_artifact_request(struct ck *, const PB(ArtifactRequest) *);
int fc_check_artifact_chunk(struct ck *, const PB(ArtifactChunk) *);

#endif
