/*
 * fuzz_id_token.c — libFuzzer target for id_token claims
 * (oauth_parse_id_token, src/auth/oauth.c): any bytes as a whole token,
 * and as the claims JSON inside a well-formed token (base64url between two
 * dots), so the fuzzer reaches the claims without having to find base64.
 * Claims are taken whole (oid and tid present) or refused with a
 * classified error; every field stays NUL-terminated in its array.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/oauth.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *token)
{
	struct oauth_identity id;
	struct err e;

	err_clear(&e);
	if (oauth_parse_id_token(token, &id, &e) < 0) {
		must_be_error(&e);
		return;
	}
	must(id.oid[0] && id.tid[0]);
	must(memchr(id.preferred_username, '\0', sizeof(id.preferred_username)) &&
	     memchr(id.email, '\0', sizeof(id.email)) &&
	     memchr(id.name, '\0', sizeof(id.name)) &&
	     memchr(id.oid, '\0', sizeof(id.oid)) && memchr(id.tid, '\0', sizeof(id.tid)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t b64_len = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *token = fuzz_strdup(data, size);
	char *wrapped = malloc(20 + b64_len + 4);

	check(token);
	memcpy(wrapped, "eyJhbGciOiJub25lIn0.", 20);
	sodium_bin2base64(wrapped + 20, b64_len, data, size,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	memcpy(wrapped + strlen(wrapped), ".sig", 5);
	check(wrapped);
	free(wrapped);
	free(token);
	return 0;
}
