/*
 * Bounded decompression of a received gRPC message (the gzip and deflate
 * encodings of gRPC's per-message compression).  gRPC core 1.51 inflates
 * a message whole before its size limit applies, so a small compressed
 * message from a peer could take gigabytes; the transport turns gRPC's
 * own decompression off and inflates here instead, stopping at a bound.
 */
#ifndef AGENTFLOW_DECOMPRESS_H
#define AGENTFLOW_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

enum decompress_format {
	DECOMPRESS_DEFLATE,	/* zlib stream (gRPC's "deflate") */
	DECOMPRESS_GZIP,	/* gzip member (gRPC's "gzip") */
};

/*
 * Inflates the len bytes at in (one whole compressed message) into a new
 * malloc'd buffer: *out (caller frees with free()) of *outlen bytes.
 * Returns 0, or -1 with *out NULL and a reason in err when the input is
 * not one complete stream of that format, has bytes after its end, or
 * would inflate to more than max bytes (found out after at most max + 1
 * bytes of output: memory stays within max plus zlib's window).
 */
int decompress_message(enum decompress_format fmt, const uint8_t *in,
    size_t len, size_t max, uint8_t **out, size_t *outlen, char *err,
    size_t errlen);

#endif
