/*
 * test_mime.c — outgoing messages built with GMime: headers (From, To,
 * Cc, Bcc, Subject, Message-ID, In-Reply-To, References), CRLF line ends,
 * attachments that decode back byte-exact, attachment names and reply ids
 * that cannot inject a header, address validation, and the size limit checked before
 * and after encoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <gmime/gmime.h>
#include "inboxsync/mime.h"

static GMimeMessage *parse(const struct buf *b)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(b->data, b->len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(s);
	return m;
}

/* Build `d` (it must build) into `b` and read it back. */
static GMimeMessage *build_parsed(const struct mime_draft *d, struct buf *b)
{
	struct err e = { 0 };

	buf_init(b, 1 << 20);
	assert_int_equal(mime_build(d, 1 << 20, b, &e), 0);
	return parse(b);
}

static void test_headers_and_crlf(void **state)
{
	struct mime_draft d = {
		.from_name = "Adele Vance", .from_address = "adele@contoso.com",
		.to = "Bob Kelly <bob@contoso.com>, carol@contoso.com", .cc = "dan@contoso.com",
		.subject = "Grüße — report", .body = "Hello\nthere", .body_len = 11,
		.message_id = "<abc.1@contoso.com>", .in_reply_to = "<orig@x>",
		.references = "<orig@x>", .date = 1700000000,
	};
	struct err e = { 0 };
	struct buf b;
	GMimeMessage *m;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(mime_build(&d, 1 << 20, &b, &e), 0);
	assert_non_null(strstr(b.data, "\r\n"));
	assert_null(strstr(b.data, "o\nthere")); /* body lines end in CRLF too */
	m = parse(&b);
	assert_non_null(m);
	assert_string_equal(g_mime_message_get_message_id(m), "abc.1@contoso.com");
	assert_string_equal(g_mime_message_get_subject(m), "Grüße — report");
	assert_int_equal(internet_address_list_length(g_mime_message_get_to(m)), 2);
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(m), "In-Reply-To"), "<orig@x>");
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(m), "References"), "<orig@x>");
	g_object_unref(m);
	buf_free(&b);
}

static void test_attachment_round_trip(void **state)
{
	unsigned char data[5000];
	struct mime_attachment att = { 0 };
	struct mime_draft d = {
		.from_name = "", .from_address = "a@contoso.com", .to = "b@contoso.com",
		.subject = "s", .body = "see attached", .body_len = 12,
		.message_id = "<m@contoso.com>", .date = 1700000000,
	};
	struct err e = { 0 };
	struct buf b;
	GMimeMessage *m;
	GMimeObject *part;
	GMimeDataWrapper *w;
	GMimeStream *out;
	GByteArray *bytes;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	att.name = "blob.bin";
	att.data = data;
	att.len = sizeof(data);
	d.attachments = &att;
	d.n_attachments = 1;
	buf_init(&b, 1 << 20);
	assert_int_equal(mime_build(&d, 1 << 20, &b, &e), 0);
	m = parse(&b);
	part = g_mime_multipart_get_part(GMIME_MULTIPART(g_mime_message_get_mime_part(m)), 1);
	assert_string_equal(g_mime_part_get_filename(GMIME_PART(part)), "blob.bin");
	w = g_mime_part_get_content(GMIME_PART(part));
	out = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, out);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	assert_int_equal(bytes->len, sizeof(data));
	assert_memory_equal(bytes->data, data, sizeof(data));
	g_object_unref(out);
	g_object_unref(m);
	buf_free(&b);
	/* too large: the raw attachment alone, and then the encoded message */
	assert_int_equal(mime_build(&d, 4000, &b, &e), -1);
	assert_string_equal(e.code, "too_large");
	assert_int_equal(mime_build(&d, 6000, &b, &e), -1); /* base64 grows it */
	assert_string_equal(e.code, "too_large");
	buf_free(&b);
}

/* A file name cannot end its header and start another (fuzz_mime found
 * "x\r\nBcc: ..." written as a header of the attachment's part). */
static void test_attachment_name_cannot_inject_a_header(void **state)
{
	struct mime_attachment att = { "report.pdf\r\nBcc: eve@evil.example", NULL, "x", 1 };
	struct mime_draft d = {
		.from_name = "", .from_address = "a@contoso.com", .to = "b@contoso.com",
		.subject = "s", .body = "b", .body_len = 1, .attachments = &att,
		.n_attachments = 1, .message_id = "<m@contoso.com>", .date = 1700000000,
	};
	struct buf b;
	GMimeMessage *m;
	GMimeObject *part;

	(void)state;
	m = build_parsed(&d, &b);
	assert_null(strstr(b.data, "\nBcc:"));
	part = g_mime_multipart_get_part(GMIME_MULTIPART(g_mime_message_get_mime_part(m)), 1);
	assert_null(g_mime_object_get_header(part, "Bcc"));
	assert_string_equal(g_mime_part_get_filename(GMIME_PART(part)),
			    "report.pdf__Bcc: eve@evil.example");
	g_object_unref(m);
	buf_free(&b);
}

/* Nor can the Message-ID a reply answers (the sender's, taken from the
 * synced message), when GMime cannot read it as one and writes it as is. */
static void test_reply_id_cannot_inject_a_header(void **state)
{
	struct mime_draft d = {
		.from_name = "", .from_address = "a@contoso.com", .to = "b@contoso.com",
		.subject = "RE: s", .body = "b", .body_len = 1,
		.message_id = "<m@contoso.com>", .date = 1700000000,
		.in_reply_to = "<broken\r\nBcc: eve@evil.example",
		.references = "<broken\r\nBcc: eve@evil.example",
	};
	struct buf b;
	GMimeMessage *m;

	(void)state;
	m = build_parsed(&d, &b);
	assert_null(strstr(b.data, "\nBcc:"));
	assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Bcc"));
	assert_int_equal(internet_address_list_length(
		g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_BCC)), 0);
	g_object_unref(m);
	buf_free(&b);
}

static void test_addresses(void **state)
{
	struct mime_addresses l;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(mime_parse_addresses("Bob <bob@contoso.com>, carol@contoso.com",
					      true, "To", &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].address, "bob@contoso.com");
	assert_string_equal(l.items[0].name, "Bob");
	assert_string_equal(l.items[1].address, "carol@contoso.com");
	assert_string_equal(l.items[1].name, "");
	mime_addresses_free(&l);
	assert_int_equal(mime_parse_addresses("not an address", true, "To", &l, &e), -1);
	assert_string_equal(e.code, "usage");
	mime_addresses_free(&l);
	assert_int_equal(mime_parse_addresses("", true, "To", &l, &e), -1);
	mime_addresses_free(&l);
	assert_int_equal(mime_parse_addresses(NULL, false, "Cc", &l, &e), 0);
	assert_int_equal(l.n, 0);
	mime_addresses_free(&l);
}

static void test_message_id_shape(void **state)
{
	char a[160], b[160];

	(void)state;
	mime_new_message_id("adele@contoso.com", a);
	mime_new_message_id("adele@contoso.com", b);
	assert_string_not_equal(a, b);
	assert_true(a[0] == '<' && a[strlen(a) - 1] == '>');
	assert_non_null(strstr(a, "@contoso.com>"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_and_crlf),
		cmocka_unit_test(test_attachment_round_trip),
		cmocka_unit_test(test_attachment_name_cannot_inject_a_header),
		cmocka_unit_test(test_reply_id_cannot_inject_a_header),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_message_id_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
