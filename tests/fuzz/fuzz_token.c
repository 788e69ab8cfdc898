/*
 * fuzz_token: any bytes as the text of a signed API token (what a client
 * sends in Authorization), through common/token.c.
 *
 * Invariants: token_decode either refuses with a "malformed token"
 * message and empty claims' role, or gives claims that pass every rule
 * (name, id, node id, role, iat < exp); decoded claims minted again with a
 * key of ours decode to the same claims; token_verify never accepts
 * without an issuer; token_ttl_parse gives a positive ttl within the cap
 * or refuses.
 */
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

static struct rng *rng;
static mbedtls_pk_context key;

static void
init(void)
{
	rng = rng_new("fuzz_token");
	CHECK(rng != NULL);
	mbedtls_pk_init(&key);
	CHECK(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0);
	CHECK(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
	    rng_mbedtls, rng) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TOKEN_TEXT_MAX + 1], again[TOKEN_TEXT_MAX], err[256];
	struct token_claims c, d;
	int64_t ms;

	if (rng == NULL)
		init();
	if (size > TOKEN_TEXT_MAX)
		size = TOKEN_TEXT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';

	err[0] = '\0';
	if (token_decode(text, &c, err, sizeof(err)) != 0) {
		CHECK(strstr(err, "malformed token") == err);
		CHECK(c.role == PRINCIPAL_NONE);
	} else {
		CHECK(token_is_signed(text));
		CHECK(token_name_valid(c.name, strlen(c.name)));
		CHECK(token_id_valid(c.id, strlen(c.id)));
		CHECK(node_id_valid(c.iss, strlen(c.iss)));
		CHECK(c.role >= PRINCIPAL_READ && c.role <= PRINCIPAL_ADMIN);
		CHECK(c.iat_ms >= 0 && c.exp_ms > c.iat_ms);
		/* Any seed: the codec does not tie it to pk (tokens.c does). */
		CHECK(token_mint(&c, (const unsigned char *)"0123456789abcdef"
		    "0123456789abcdef", &key, rng, again, sizeof(again)) == 0);
		CHECK(token_decode(again, &d, err, sizeof(err)) == 0);
		CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	}
	CHECK(token_verify(text, NULL) == -1);
	if (token_ttl_parse(text, &ms) == 0)
		CHECK(ms > 0 && ms <= TOKEN_TTL_MAX_MS);
	return 0;
}
