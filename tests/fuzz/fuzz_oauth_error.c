/*
 * fuzz_oauth_error.c — libFuzzer target for the token endpoint's error
 * answers and the AADSTS classifier (src/auth/oauth_errors.c). Input: two
 * bytes of HTTP status (100..599), one of Retry-After, then the body.
 * Every answer is classified (never ERR_NONE), with a message fit for a
 * terminal; temporary failures never count toward auth_invalid.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "inboxsync/oauth.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	long status;
	int retry_after;

	if (size < 3)
		return 0;
	status = 100 + ((data[0] << 8) | data[1]) % 500;
	retry_after = data[2];
	err_clear(&e);
	must(oauth_classify(status, (const char *)data + 3, size - 3,
			    data[2] & 1 ? "work" : NULL, retry_after, &e) == -1);
	must_be_error(&e);
	must(e.http_status == (int)status);
	if (status == 429 || status >= 500) {
		must(e.class == ERR_THROTTLED || e.class == ERR_TRANSIENT);
		must(e.retry_after_s == retry_after);
	}
	if (oauth_is_definitive(&e))
		must(e.class == ERR_AUTH);
	if (e.class == ERR_TRANSIENT || e.class == ERR_THROTTLED)
		must(!oauth_is_definitive(&e));
	return 0;
}
