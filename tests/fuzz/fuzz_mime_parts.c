/*
 * fuzz_mime_parts.c — libFuzzer target for mime_list_attachments and
 * mime_extract_attachment (src/mime/mime_parts.c): arbitrary bytes as a
 * received message never crash, and every attachment listed can be
 * extracted with the size the list gave.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "inboxsync/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_part_info *list;
	struct err e = { 0 };
	struct buf out;
	size_t n;

	if (mime_list_attachments((const char *)data, size, &list, &n, &e) < 0)
		return 0;
	buf_init(&out, 1 << 20);
	for (size_t i = 0; i < n; i++)
		if (mime_extract_attachment((const char *)data, size, i + 1, &out, NULL, &e) < 0 ||
		    out.len != list[i].size)
			abort();
	buf_free(&out);
	free(list);
	return 0;
}
