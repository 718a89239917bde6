/*
 * fuzz_quote.c — libFuzzer target for quote_text (src/common/quote.c),
 * which every message built from remote data passes: any bytes, any
 * output size. The output is valid UTF-8 without control characters
 * (checked with GLib, not with quote.c's own decoder), fits its buffer,
 * ends in "…" exactly when it was cut, a cut output is a prefix of the
 * uncut one, quoting it again changes nothing, and quote_fwrite writes
 * the uncut rendering byte for byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/quote.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t cut = sizeof(QUOTE_CUT) - 1;
	size_t full_n = 6 * size + 8, small_n, got_full, got_small, again_n;
	char *full, *small, *again, *streamed = NULL;
	size_t streamed_n = 0;
	unsigned flags;
	FILE *stream;

	if (size < 1)
		return 0;
	small_n = data[0];
	flags = data[0] & 0x80 ? QUOTE_KEEP_LINES : 0;
	data++, size--;
	full = malloc(full_n);
	small = malloc(small_n ? small_n : 1); /* exact size: ASan sees overflows */
	got_full = quote_text(full, full_n, (const char *)data, size, flags);
	must(got_full == strlen(full) && got_full < full_n);
	if (!flags)
		must(text_is_shown(full));
	/* nothing was cut from the full rendering */
	must(got_full < cut || memcmp(full + got_full - cut, QUOTE_CUT, cut) != 0 ||
	     (size >= cut && memcmp(data + size - cut, QUOTE_CUT, cut) == 0));

	got_small = quote_text(small, small_n, (const char *)data, size, flags);
	if (small_n) {
		must(got_small == strlen(small) && got_small < small_n);
		if (got_small == got_full) {
			must(memcmp(small, full, got_full) == 0);
		} else { /* cut: a prefix, then the mark when there was room */
			size_t kept = got_small >= cut &&
				memcmp(small + got_small - cut, QUOTE_CUT, cut) == 0 ?
				got_small - cut : got_small;

			must(memcmp(small, full, kept) == 0);
			must(small_n - 1 < cut || kept < got_small);
		}
	} else {
		must(got_small == 0);
	}

	/* the streaming form writes exactly the uncut rendering */
	stream = open_memstream(&streamed, &streamed_n);
	must(stream != NULL);
	quote_fwrite(stream, (const char *)data, size, flags);
	must(fclose(stream) == 0);
	must(streamed_n == got_full && memcmp(streamed, full, got_full) == 0);
	free(streamed);

	again_n = full_n;
	again = malloc(again_n);
	quote_text(again, again_n, full, got_full, flags);
	must(strcmp(again, full) == 0);
	free(again);
	free(small);
	free(full);
	return 0;
}
