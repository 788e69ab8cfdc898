/*
 * fuzz_frame: frame_codec_decode() on arbitrary bytes, as a link hands it
 * every message a peer sends.
 *
 * Invariants checked, beyond "no crash, no leak, no UB":
 *  - a refusal leaves *out NULL and says why in a NUL-terminated detail;
 *  - a Frame that decodes passes frame_codec_check() and re-encodes
 *    (frame_codec_encode and frame_codec_encode_into agree, and the size
 *    matches frame_codec_encoded_size);
 *  - the re-encoding decodes again, and encoding that gives the same bytes
 *    (what a relay forwards is what it received, as far as we understand).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame_codec.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct Agentflow__Mesh__V1__Frame *f = NULL, *g = NULL;
	struct frame_codec_error err;
	uint8_t *e1 = NULL, *e2 = NULL, *e3;
	size_t l1 = 0, l2 = 0, l3 = 0;
	enum frame_codec_err rc;

	rc = frame_codec_decode(data, size, &f, &err);
	if (rc != FRAME_CODEC_OK) {
		if (f != NULL || err.code != rc ||
		    memchr(err.detail, '\0', sizeof(err.detail)) == NULL ||
		    frame_codec_strerror(rc) == NULL)
			abort();
		return 0;
	}
	if (f == NULL || frame_codec_body_name(f) == NULL)
		abort();
	if (frame_codec_check(f, &err) != FRAME_CODEC_OK)
		abort();		/* decode and check disagree */
	if (frame_codec_encode(f, &e1, &l1, &err) != FRAME_CODEC_OK)
		abort();		/* a decoded Frame must re-encode */
	if (frame_codec_encoded_size(f) != l1)
		abort();
	e3 = malloc(l1 + 1);
	if (e3 == NULL)
		abort();
	if (frame_codec_encode_into(f, e3, l1, &l3, &err) != FRAME_CODEC_OK ||
	    l3 != l1 || memcmp(e1, e3, l1) != 0)
		abort();
	free(e3);

	if (frame_codec_decode(e1, l1, &g, &err) != FRAME_CODEC_OK)
		abort();		/* the round trip must succeed */
	if (g->body_case != f->body_case)
		abort();
	if (frame_codec_encode(g, &e2, &l2, &err) != FRAME_CODEC_OK ||
	    l2 != l1 || memcmp(e1, e2, l1) != 0)
		abort();		/* encoding is stable after one pass */

	free(e1);
	free(e2);
	frame_codec_free(g);
	frame_codec_free(f);
	return 0;
}
