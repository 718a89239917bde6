/*
 * fuzz_rfc3339.c — libFuzzer target for time_parse_rfc3339 (timeutil.c):
 * arbitrary text never crashes, and whatever parses formats back to a
 * timestamp that parses to the same instant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char out[TIME_RFC3339_LEN];
	int64_t t, back;

	memcpy(s, data, size);
	s[size] = '\0';
	if (time_parse_rfc3339(s, &t) == 0 &&
	    t >= 0 && t <= 253402300799LL) { /* years 1970..9999 */
		time_format_rfc3339(t, out);
		if (strlen(out) != 20 || time_parse_rfc3339(out, &back) != 0 ||
		    back != t)
			abort();
	}
	free(s);
	return 0;
}
