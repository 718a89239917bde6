/*
 * fuzz_redact.c — libFuzzer target for log_redact (log.c): any bytes, any
 * output size. The output is always NUL-terminated inside the buffer, its
 * length is what was returned, and a smaller buffer gives a prefix of what
 * a larger one gives (so truncation can never reveal more). A secret
 * registered from the input is never in the output (secrets with a digit:
 * a rule copies field names such as "password" through on purpose).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *full, *small, *secret;
	size_t full_n, small_n, got_full, got_small;

	if (size < 1)
		return 0;
	small_n = (size_t)data[0] + 1;
	in = malloc(size);
	memcpy(in, data + 1, size - 1);
	in[size - 1] = '\0';
	full_n = 3 * size + 64; /* redaction may lengthen a line */
	full = malloc(full_n);
	small = malloc(small_n); /* exact size: ASan sees any overflow */

	got_full = log_redact(in, full, full_n);
	must(got_full == strlen(full) && got_full < full_n);
	got_small = log_redact(in, small, small_n);
	must(got_small == strlen(small) && got_small < small_n);
	must(memcmp(small, full, got_small) == 0);

	/* register a secret cut from the input; it must vanish (unless it
	 * contains the marker itself, which redaction writes) */
	if (size > 20) {
		size_t len = 8 + data[1] % 8;

		secret = malloc(len + 1);
		memcpy(secret, in + 2, len);
		secret[len] = '\0';
		if (strlen(secret) == len && strpbrk(secret, "0123456789") &&
		    !strchr(secret, '[') && !strchr(secret, ']')) {
			log_add_secret(secret);
			log_redact(in, full, full_n);
			must(strstr(full, secret) == NULL);
		}
		free(secret);
	}
	free(in);
	free(full);
	free(small);
	return 0;
}
