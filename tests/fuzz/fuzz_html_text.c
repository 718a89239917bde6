/*
 * fuzz_html_text.c — libFuzzer target for mime_html_to_text
 * (src/mime/mime_html.c): arbitrary bytes as an HTML body never crash,
 * never exceed the output cap, and always give NUL-free text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = { 0 };
	struct buf out;

	buf_init(&out, 1 << 16);
	if (mime_html_to_text((const char *)data, size, &out, &e) == 0 &&
	    (out.len > (1 << 16) || memchr(buf_str(&out), '\0', out.len)))
		abort();
	buf_free(&out);
	return 0;
}
