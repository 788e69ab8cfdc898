/*
 * Decoding and encoding of mesh Frames (proto/mesh.proto).
 *
 * frame_codec_decode() is a pure bytes -> result function, safe on hostile
 * input and suitable for a fuzzer: it refuses a buffer over
 * FRAME_CODEC_MAX_FRAME, anything protobuf-c cannot unpack (or unpacks
 * but could not re-encode: field number 0), a Frame needing more heap than
 * its budget (FRAME_CODEC_MAX_DECODED, and 16x its size + 64 KiB), a Frame
 * with no body, and any Frame outside the bounds documented in mesh.proto (and
 * mirrored by the limits below).  A Frame it returns is safe to use: every
 * string is non-NULL, valid UTF-8 and within its length limit, every node id
 * passes node_id_valid(), every repeated field is within its count, every
 * required sub-message and oneof is present, every enum is non-zero, and
 * every floating-point field is finite.
 *
 * What a newer peer may send that this version does not know is skipped
 * and counted (frame_codec_skipped()), never refused, so that a mesh can
 * be upgraded one node at a time: a Frame whose body is a newer kind
 * decodes with body_case NOT_SET (the caller ignores it), an Event of a
 * newer kind with kind_case NOT_SET (numbered, so it advances its
 * origin's cursor and is forwarded, but not applied), an enum value this
 * version does not name stays as it is (mesh_names.h calls it "unknown"),
 * and unknown fields stay in the message (protobuf-c re-encodes them, so
 * a relay forwards them intact).  A Frame with no body and no unknown
 * field, or an Event with no kind at all, is still refused.
 *
 * The encode functions apply the same checks before packing, so a node
 * never sends what its peers would refuse.
 */
#ifndef AGENTFLOW_FRAME_CODEC_H
#define AGENTFLOW_FRAME_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"
#include "text.h"

/* mesh.proto's version, sent in Hello.protocol_version. */
#define FRAME_CODEC_PROTOCOL_VERSION	1

/* Limits; mesh.proto's header comment lists the same numbers. */
#define FRAME_CODEC_MAX_FRAME		(4u * 1024 * 1024) /* encoded bytes */
#define FRAME_CODEC_MAX_DECODED		(64u * 1024 * 1024) /* heap for one decode */
#define FRAME_CODEC_DECODE_RATIO	16u	/* ... and at most 16x input + 64 KiB */
#define FRAME_CODEC_MAX_NODES		1024	/* cursors, origins, links, members */
#define FRAME_CODEC_MAX_EVENTS		1024	/* events per EventBatch */
#define FRAME_CODEC_MAX_TASKS		1024	/* tasks per OriginState */
#define FRAME_CODEC_MAX_ALERTS		256	/* alerts per OriginState */
#define FRAME_CODEC_MAX_JOBS		1024	/* jobs per OriginState */
#define FRAME_CODEC_MAX_JOB_STATE	32	/* JobUpdate.state: [a-z_] */
#define FRAME_CODEC_MAX_WORKFLOWS	16	/* workflows per OriginState */
#define FRAME_CODEC_MAX_WORKFLOW_STEPS	256	/* steps per WorkflowUpdate */
#define FRAME_CODEC_MAX_STEP_NEEDS	64	/* needs per step */
#define FRAME_CODEC_MAX_WORKFLOW_BYTES	65536	/* a WorkflowUpdate, encoded */
#define FRAME_CODEC_MAX_SERVICES	128	/* services per OriginState */
#define FRAME_CODEC_MAX_SERVICE_BYTES	4096	/* a ServiceUpdate, encoded */
#define FRAME_CODEC_MAX_ENDPOINTS	16	/* endpoints per ServiceUpdate */
#define FRAME_CODEC_MAX_ENDPOINT_TAGS	16	/* tags per endpoint */
#define FRAME_CODEC_MAX_PROTOCOL	8	/* ServiceEndpoint.protocol: [a-z] */
#define FRAME_CODEC_MAX_SERVICE_VERSION	80	/* ServiceUpdate.version */
#define FRAME_CODEC_MAX_ARTIFACTS	256	/* artifacts per OriginState */
#define FRAME_CODEC_MAX_CHUNK		65536	/* ArtifactChunk.data */
#define FRAME_CODEC_MAX_ARTIFACT_ASK	(1u << 20) /* ArtifactRequest.length */
#define FRAME_CODEC_MAX_SCHEDULES	1152	/* schedules per OriginState: 128 live + 1024 deleted */
#define FRAME_CODEC_MAX_SCHEDULE_SPEC	8192	/* ScheduleUpdate.spec_json */
#define FRAME_CODEC_MAX_SILENCES	128	/* silences per OriginState: 64 live + 64 removed */
#define FRAME_CODEC_MAX_SILENCE_SPEC	8192	/* SilenceUpdate.spec_json */
/* SilenceUpdate.ends_ms, ScheduleUpdate.principal_ms:
 * 9999-12-31T23:59:59.999Z, the last instant a dashboard's Date prints
 * (far past what sync_silences keeps: an API silence lasts at most 90
 * days, a removal that plus a day's skew); a time held to it also costs
 * a snapshot 7 bytes of varint, not 10 (test_snapshot_budget). */
#define FRAME_CODEC_MAX_TIME_MS		253402300799999ULL
#define FRAME_CODEC_MAX_ADDRESSES	16
#define FRAME_CODEC_MAX_ADDRESS_LEN	255
#define FRAME_CODEC_MAX_LABELS		32
#define FRAME_CODEC_MAX_LABEL_KEY	TEXT_LABEL_KEY_MAX	/* text.h: the label rule */
#define FRAME_CODEC_MAX_LABEL_VALUE	TEXT_LABEL_VALUE_MAX
#define FRAME_CODEC_MAX_PAYLOAD		65536	/* user payload, args_json, body_json */
#define FRAME_CODEC_MAX_LOG_LINE	4096
#define FRAME_CODEC_MAX_TEXT		1024	/* reasons, messages, errors */
#define FRAME_CODEC_MAX_NAME		128	/* names, principals, keys */
/* Who changed a schedule or removed a silence: a principal's name as
 * common/principal.h holds it (PRINCIPAL_NAME_MAX + 16), not more, since
 * every schedule and silence of an origin, and their removals, ride in
 * its snapshot and the worst case must fit a frame (test_snapshot_budget). */
#define FRAME_CODEC_MAX_PRINCIPAL	80
/* ScheduleUpdate.principal_author: a digest of at most 3 varint bytes
 * (1152 of them in the worst snapshot: test_snapshot_budget). */
#define FRAME_CODEC_MAX_PRINCIPAL_AUTHOR	2097151
#define FRAME_CODEC_MAX_VERSION		32
#define FRAME_CODEC_MAX_HOSTNAME	255
#define FRAME_CODEC_MAX_FEATURES	32	/* names per Hello */
#define FRAME_CODEC_MAX_HOPS		16	/* hop_limit, and entries of a path */
#define FRAME_CODEC_MAX_SIGNAL		128	/* TaskUpdate.term_signal */
#define FRAME_CODEC_MAX_LINKS		1024	/* Hello.max_links, as --max-links */
#define FRAME_CODEC_MAX_CERT		4096	/* OriginKey.cert, DER */
#define FRAME_CODEC_PUBLIC_KEY		32	/* OriginKey.public_key: Ed25519 */
#define FRAME_CODEC_MAX_KEY_SIGNATURE	80	/* OriginKey.signature: ECDSA P-256 DER */
#define FRAME_CODEC_SIGNATURE		64	/* Event/Command/Result: Ed25519 */
#define FRAME_CODEC_MAX_PROOF		2	/* OriginState.proof events */
#define FRAME_CODEC_MAX_ROLE		16	/* Command.role */

enum frame_codec_err {
	FRAME_CODEC_OK = 0,
	FRAME_CODEC_ERR_TOO_LARGE,	/* buffer or encoding over MAX_FRAME */
	FRAME_CODEC_ERR_NOT_PROTOBUF,	/* protobuf-c could not unpack it */
	FRAME_CODEC_ERR_MEMORY,		/* decoding needs more than its budget */
	FRAME_CODEC_ERR_EMPTY,		/* no Frame body (this version knows) */
	FRAME_CODEC_ERR_MISSING,	/* required sub-message or oneof absent */
	FRAME_CODEC_ERR_BAD_NODE_ID,	/* fails node_id_valid() */
	FRAME_CODEC_ERR_BAD_ID,		/* task, alert or command id syntax */
	FRAME_CODEC_ERR_BAD_STRING,	/* not UTF-8, control chars, bad syntax */
	FRAME_CODEC_ERR_TOO_LONG,	/* string or bytes over its limit */
	FRAME_CODEC_ERR_TOO_MANY,	/* repeated field over its count */
	FRAME_CODEC_ERR_BAD_ENUM,	/* UNSPECIFIED or unknown enum value */
	FRAME_CODEC_ERR_BAD_VALUE,	/* zero seq/incarnation, NaN, hops > limit, duplicate key... */
};

/*
 * What went wrong, for a log line: detail names the field and the bound,
 * e.g. "events.events[3].user.payload: 70000 bytes, limit 65536".
 */
struct frame_codec_error {
	enum frame_codec_err	 code;
	char			 detail[256];
};

/* What decoding skipped; the names are the values of /metrics' label. */
enum frame_codec_skip {
	FRAME_CODEC_SKIP_FRAME_BODY,	/* "frame_body": a newer Frame body */
	FRAME_CODEC_SKIP_EVENT_KIND,	/* "event_kind": a newer Event kind */
	FRAME_CODEC_SKIP_COMMAND_TYPE,	/* "command_type": counted by the executor */
	FRAME_CODEC_SKIP_ENUM,		/* "enum": an enum value not named here */
	FRAME_CODEC_SKIP_FIELD,		/* "field": an unknown field */
	FRAME_CODEC_SKIP_N
};

/* "frame_body", "event_kind", ...: a static string. */
const char *frame_codec_skip_name(enum frame_codec_skip what);

/*
 * How many of what successful decodes in this process skipped (a
 * process-wide counter, safe from any thread).
 */
uint64_t frame_codec_skipped(enum frame_codec_skip what);

/* Adds n to a skip counter (for what only a later stage can tell). */
void frame_codec_skip_count(enum frame_codec_skip what, uint64_t n);

/* A static string describing code ("frame too large", ...). */
const char *frame_codec_strerror(enum frame_codec_err code);

/* "hello", "snapshot_request", ... or "none": the body of f, for logs. */
const char *frame_codec_body_name(const struct Agentflow__Mesh__V1__Frame *f);

/*
 * Decodes len bytes at buf (buf may be NULL when len is 0).  On
 * FRAME_CODEC_OK *out is a new Frame owned by the caller, to be released
 * with frame_codec_free(); it does not point into buf.  On error *out is
 * NULL, nothing is allocated, and err (if not NULL) says why.
 */
enum frame_codec_err frame_codec_decode(const uint8_t *buf, size_t len,
    struct Agentflow__Mesh__V1__Frame **out, struct frame_codec_error *err);

/* Frees a Frame from frame_codec_decode().  NULL is a no-op. */
void frame_codec_free(struct Agentflow__Mesh__V1__Frame *f);

/*
 * Checks a Frame (decoded, or built by the caller) against every bound
 * above.  NULL pointers where a string is expected count as "".
 */
enum frame_codec_err frame_codec_check(const struct Agentflow__Mesh__V1__Frame *f,
    struct frame_codec_error *err);

/*
 * Checks f and packs it into a new malloc'd buffer: *out (caller frees with
 * free()) of *outlen bytes.  On error *out is NULL and *outlen 0.
 */
enum frame_codec_err frame_codec_encode(const struct Agentflow__Mesh__V1__Frame *f,
    uint8_t **out, size_t *outlen, struct frame_codec_error *err);

/* Bytes frame_codec_encode_into() needs for f (no checks). */
size_t frame_codec_encoded_size(const struct Agentflow__Mesh__V1__Frame *f);

/*
 * Checks f and packs it into buf, which has room for cap bytes (e.g. a
 * grpc_slice of frame_codec_encoded_size() bytes); *outlen gets the length.
 * FRAME_CODEC_ERR_TOO_LARGE when it does not fit.
 */
enum frame_codec_err frame_codec_encode_into(const struct Agentflow__Mesh__V1__Frame *f,
    uint8_t *buf, size_t cap, size_t *outlen, struct frame_codec_error *err);

#endif
