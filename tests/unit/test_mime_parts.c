/*
 * test_mime_parts.c — the attachments of received messages: listed with
 * their names, types and decoded sizes in tree order (files, inline
 * images with a name, attached messages; never the text or HTML body),
 * extracted byte-exact, with a clear error for a number that is not
 * there or an attachment over the caller's cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "inboxsync/mime.h"

static const unsigned char binary[] = { 0x00, 0xff, 0x10, 0x00, 'P', 'K', 0x03, 0x04, 0x7f, 0x80 };

/* A message built the way the outbox builds one: text body + two files. */
static void build(struct buf *out)
{
	struct mime_attachment att[2] = {
		{ "data.bin", "application/octet-stream", binary, sizeof(binary) },
		{ "Ünïcødé notes.txt", "text/plain", "line 1\nline 2\n", 14 },
	};
	struct mime_draft d = {
		.from_name = "Adele", .from_address = "adele@contoso.com",
		.to = "bob@contoso.com", .subject = "files", .body = "see attached",
		.body_len = 12, .attachments = att, .n_attachments = 2,
		.message_id = "<t@contoso.com>", .date = 1700000000,
	};
	struct err e = { 0 };

	buf_init(out, 1 << 20);
	assert_int_equal(mime_build(&d, 1 << 20, out, &e), 0);
}

static void test_lists_files_not_the_body(void **state)
{
	struct mime_part_info *list;
	struct err e = { 0 };
	struct buf m;
	size_t n;

	(void)state;
	build(&m);
	assert_int_equal(mime_list_attachments(m.data, m.len, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "data.bin");
	assert_string_equal(list[0].content_type, "application/octet-stream");
	assert_int_equal(list[0].size, sizeof(binary));
	assert_false(list[0].is_inline);
	assert_string_equal(list[1].name, "Ünïcødé notes.txt");
	assert_string_equal(list[1].content_type, "text/plain");
	free(list);
	buf_free(&m);
}

static void test_extracts_byte_exact(void **state)
{
	struct mime_part_info info;
	struct err e = { 0 };
	struct buf m, out;

	(void)state;
	build(&m);
	buf_init(&out, 1 << 20);
	assert_int_equal(mime_extract_attachment(m.data, m.len, 1, &out, &info, &e), 0);
	assert_int_equal(out.len, sizeof(binary));
	assert_memory_equal(out.data, binary, sizeof(binary));
	assert_string_equal(info.name, "data.bin");
	assert_int_equal(mime_extract_attachment(m.data, m.len, 2, &out, NULL, &e), 0);
	assert_int_equal(out.len, 14);
	assert_memory_equal(out.data, "line 1\nline 2\n", 14);
	buf_free(&out);
	buf_free(&m);
}

static void test_missing_number_and_cap(void **state)
{
	struct err e = { 0 };
	struct buf m, small;

	(void)state;
	build(&m);
	buf_init(&small, 4);
	assert_int_equal(mime_extract_attachment(m.data, m.len, 3, &small, NULL, &e), -1);
	assert_string_equal(e.code, "not_found");
	assert_non_null(strstr(e.msg, "has 2"));
	assert_int_equal(mime_extract_attachment(m.data, m.len, 0, &small, NULL, &e), -1);
	assert_string_equal(e.code, "not_found");
	assert_int_equal(mime_extract_attachment(m.data, m.len, 1, &small, NULL, &e), -1);
	assert_string_equal(e.code, "too_large");
	buf_free(&small);
	buf_free(&m);
}

/* Written by hand on purpose: an HTML alternative, an inline image with a
 * name (cid), an inline text part without one, an attached message. */
static const char handmade[] =
	"From: a@b.example\r\nTo: c@d.example\r\nSubject: mixed\r\n"
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"X\"\r\n\r\n"
	"--X\r\nContent-Type: multipart/alternative; boundary=\"Y\"\r\n\r\n"
	"--Y\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
	"--Y\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--Y--\r\n"
	"--X\r\nContent-Type: image/png; name=\"logo.png\"\r\nContent-Disposition: inline; "
	"filename=\"logo.png\"\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	"iVBORw0KGgo=\r\n"
	"--X\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nsignature\r\n"
	"--X\r\nContent-Type: message/rfc822\r\n\r\n"
	"From: x@y.example\r\nSubject: the forwarded one\r\n\r\nforwarded body\r\n"
	"--X--\r\n";

static void test_inline_images_and_attached_messages(void **state)
{
	struct mime_part_info *list;
	struct err e = { 0 };
	struct buf out;
	size_t n;

	(void)state;
	assert_int_equal(mime_list_attachments(handmade, sizeof(handmade) - 1, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "logo.png");
	assert_true(list[0].is_inline);
	assert_int_equal(list[0].size, 8); /* base64 decoded */
	assert_string_equal(list[1].content_type, "message/rfc822");
	assert_string_equal(list[1].name, "the forwarded one.eml");
	free(list);
	buf_init(&out, 1 << 16);
	assert_int_equal(mime_extract_attachment(handmade, sizeof(handmade) - 1, 2, &out, NULL, &e), 0);
	assert_non_null(strstr(buf_str(&out), "forwarded body"));
	buf_free(&out);
}

static void test_no_attachments(void **state)
{
	static const char plain[] = "From: a@b.example\r\nSubject: hi\r\n\r\njust text\r\n";
	struct mime_part_info *list = (void *)1;
	struct err e = { 0 };
	size_t n = 9;

	(void)state;
	assert_int_equal(mime_list_attachments(plain, sizeof(plain) - 1, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_files_not_the_body),
		cmocka_unit_test(test_extracts_byte_exact),
		cmocka_unit_test(test_missing_number_and_cap),
		cmocka_unit_test(test_inline_images_and_attached_messages),
		cmocka_unit_test(test_no_attachments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
