/*
 * The audit log's hash chain: how a record is sealed and how a file of
 * records is checked.  Shared by the node (node/work/audit.c seals each
 * record it appends) and `agentflow audit verify --file` (which checks a
 * copy offline, without a node).
 *
 * A record is one JSON object per line.  Sealing sets its "prev" to the
 * previous record's hash (AUDIT_CHAIN_GENESIS for the first) and its
 * "hash" to the lowercase hex SHA-256 of prev followed by the record's
 * canonical JSON without "hash" (compact, keys sorted, non-ASCII escaped:
 * what jansson writes for JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII).
 * So an edited line no longer matches its hash, and a deleted, inserted
 * or moved line breaks the next line's prev.  The chain detects changes
 * made by anyone who does not rewrite every later line too; it is not a
 * signature.
 */
#ifndef AGENTFLOW_AUDIT_CHAIN_H
#define AGENTFLOW_AUDIT_CHAIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_CHAIN_HEX		65	/* 64 hex digits and a NUL */
#define AUDIT_CHAIN_GENESIS \
	"0000000000000000000000000000000000000000000000000000000000000000"

/* Lowercase hex SHA-256 of data into out. */
void audit_chain_sha256_hex(const void *data, size_t len,
    char out[AUDIT_CHAIN_HEX]);

/*
 * Seals rec (an object, modified: "prev" and "hash" set) after prev and
 * returns its line without the newline (the caller frees it), its hash
 * into hash.  NULL when rec cannot be encoded.
 */
char *audit_chain_seal(json_t *rec, const char *prev, char hash[AUDIT_CHAIN_HEX]);

/*
 * Checks one line on its own (len bytes, no newline): a JSON object whose
 * "hash" is the hash of the rest.  0 with its prev and hash copied out;
 * -1 with why ("hash mismatch: the record was edited", ...).
 */
int audit_chain_check_line(const char *line, size_t len,
    char prev[AUDIT_CHAIN_HEX], char hash[AUDIT_CHAIN_HEX], char *why,
    size_t whylen);

struct audit_chain_report {
	uint64_t	 records;	/* good lines before the first bad one */
	uint64_t	 bad_line;	/* 1-based; 0 when the whole file is good */
	char		 why[256];	/* what is wrong with bad_line */
	char		 head[AUDIT_CHAIN_HEX];	/* hash of the last good line */
	char		 head_prev[AUDIT_CHAIN_HEX];	/* and its prev */
};

/*
 * Checks the file at path line by line from the genesis.  0 when it could
 * be read (r says whether it is good); -1 with r->why when it cannot be
 * opened or read.  A last line without its newline is reported as
 * truncated.
 */
int audit_chain_verify_file(const char *path, struct audit_chain_report *r);
/* The same for a file whose chain goes on from start (the hash of the
 * last record of the file before it, or AUDIT_CHAIN_GENESIS). */
int audit_chain_verify_file_from(const char *path, const char *start,
    struct audit_chain_report *r);
/*
 * The prev of the first record of the file at path: 1 with it in prev,
 * 0 when the file is empty or missing, -1 with why when its first line is
 * not a record.
 */
int audit_chain_first_prev(const char *path, char prev[AUDIT_CHAIN_HEX],
    char *why, size_t whylen);

/*
 * A verification as the node's API and the CLI show it (new reference):
 * {"ok", "records", "file", "line"?, "error"?}; rc is what
 * audit_chain_verify_file returned.
 */
json_t *audit_chain_report_json(const char *file,
    const struct audit_chain_report *, int rc);

/*
 * The file's last line as audit_chain_check_line sees it, read from the
 * end (the node's start-up does not read the whole log).  Returns 1 with
 * prev and hash, 0 when the file is empty, -1 with why when the last line
 * is incomplete, not a record or unreadable.
 */
int audit_chain_last(int fd, char prev[AUDIT_CHAIN_HEX],
    char hash[AUDIT_CHAIN_HEX], char *why, size_t whylen);

#endif
