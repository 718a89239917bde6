/*
 * fuzz_retry_after.c — libFuzzer target for http_parse_retry_after
 * (http_util.c) and the HTTP-date parser under it: any header value gives
 * -1 or a delay within [0, one day], and never crashes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/http.h"
#include "inboxsync/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long long nows[] = { 0, 784111777LL, 1736392508LL, -1 };
	char *s = malloc(size + 1);
	int64_t t;

	memcpy(s, data, size);
	s[size] = '\0';
	for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
		int r = http_parse_retry_after(s, nows[i]);

		if (r < -1 || r > 86400)
			abort();
	}
	(void)time_parse_http_date(s, &t);
	free(s);
	return 0;
}
