/*
 * test_mime_parse.c — reading received messages (mime_parse.c): header
 * fields decoded (RFC 2047 subjects, names, groups), previews from text
 * or from HTML, other charsets converted and bad bytes replaced, a
 * message cut after its first bytes (what a metadata fetch brings),
 * attachments, the conversation a reply stays in, the body to show, and
 * the envelope of a message to submit (Bcc kept off what is sent).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include "inboxsync/mime.h"

static void summarize(const char *raw, struct mime_summary *s)
{
	struct err e = { 0 };

	assert_int_equal(mime_summarize(raw, strlen(raw), 255, s, &e), 0);
}

static void test_header_fields_are_decoded(void **state)
{
	struct mime_summary s;

	(void)state;
	summarize("From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\r\n"
		  "To: Ann <ann@example.com>, bob@example.com\r\n"
		  "Cc: team: x@example.com, y@example.com;\r\n"
		  "Subject: =?iso-8859-1?q?=C4rger?= und mehr\r\n"
		  "Message-ID: <abc@example.de>\r\n"
		  "Date: Tue, 01 Dec 2026 10:00:00 +0100\r\n\r\nHallo\r\n", &s);
	assert_string_equal(s.message_id, "<abc@example.de>");
	assert_string_equal(s.subject, "\xc3\x84rger und mehr");
	assert_string_equal(s.from.name, "J\xc3\xbcrgen M\xc3\xbcller");
	assert_string_equal(s.from.address, "jm@example.de");
	assert_int_equal(s.n_to, 2);
	assert_string_equal(s.to[0].name, "Ann");
	assert_string_equal(s.to[1].address, "bob@example.com");
	assert_int_equal(s.n_cc, 2);
	assert_string_equal(s.cc[1].address, "y@example.com");
	assert_int_equal(s.date, 1796115600);
	assert_string_equal(s.preview, "Hallo");
	assert_false(s.has_attachments);
	mime_summary_free(&s);
}

static void test_a_message_without_headers_still_summarizes(void **state)
{
	struct mime_summary s;

	(void)state;
	summarize("\r\njust text\r\n", &s);
	assert_null(s.message_id);
	assert_string_equal(s.subject, "");
	assert_null(s.from.address);
	assert_int_equal(s.date, 0);
	assert_int_equal(strlen(s.conversation_id), MIME_CONVERSATION_ID_LEN - 1);
	mime_summary_free(&s);
}

static void test_preview_from_html_and_other_charsets(void **state)
{
	struct mime_summary s;

	(void)state;
	summarize("Subject: x\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
		  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		  "<html><body><p>Gr=FC&szlig;e &amp; <b>mehr</b></p>\r\n\r\n<p>  zwei</p>",
		  &s);
	assert_string_equal(s.preview, "Gr\xc3\xbc&szlig;e & mehr zwei");
	mime_summary_free(&s);
	/* bytes that are not what the label says become replacement characters */
	summarize("Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbad \xff\xfe end",
		  &s);
	assert_true(g_utf8_validate(s.preview, -1, NULL));
	assert_non_null(strstr(s.preview, "end"));
	mime_summary_free(&s);
}

static void test_a_cut_multipart_gives_its_first_text(void **state)
{
	struct mime_summary s;

	(void)state;
	/* the header and the first bytes of the text: no closing boundary */
	summarize("Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
		  "boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: multipart/alternative; "
		  "boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\n"
		  "first words of a long message that goes on", &s);
	assert_string_equal(s.preview, "first words of a long message that goes on");
	mime_summary_free(&s);
}

static void test_preview_is_capped_at_a_character(void **state)
{
	char raw[2000];
	struct mime_summary s;
	struct err e = { 0 };
	size_t n = (size_t)snprintf(raw, sizeof(raw), "Subject: x\r\n\r\n");

	(void)state;
	for (int i = 0; i < 400; i++)
		n += (size_t)snprintf(raw + n, sizeof(raw) - n, "\xc3\xa4");
	assert_int_equal(mime_summarize(raw, n, 10, &s, &e), 0);
	assert_int_equal(g_utf8_strlen(s.preview, -1), 10);
	assert_true(g_utf8_validate(s.preview, -1, NULL));
	mime_summary_free(&s);
}

static void test_attachments_are_seen(void **state)
{
	struct mime_summary s;

	(void)state;
	summarize("Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
		  "boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
		  "--b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n"
		  "Content-Disposition: attachment; filename=\"a.pdf\"\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n", &s);
	assert_true(s.has_attachments);
	assert_string_equal(s.preview, "see attached");
	mime_summary_free(&s);
}

static void test_a_reply_stays_in_its_conversation(void **state)
{
	struct mime_summary root, reply, deeper, only_irt, other;

	(void)state;
	summarize("Message-ID: <root@x>\r\nSubject: plan\r\n\r\n.", &root);
	summarize("Message-ID: <r1@y>\r\nIn-Reply-To: <root@x>\r\nReferences: <root@x>\r\n"
		  "Subject: Re: plan\r\n\r\n.", &reply);
	summarize("Message-ID: <r2@x>\r\nIn-Reply-To: <r1@y>\r\n"
		  "References: <root@x> <r1@y>\r\nSubject: Re: Re: plan\r\n\r\n.", &deeper);
	summarize("Message-ID: <r3@z>\r\nIn-Reply-To: <root@x>\r\nSubject: Re: plan\r\n\r\n.",
		  &only_irt);
	summarize("Message-ID: <else@x>\r\nSubject: plan\r\n\r\n.", &other);
	assert_string_equal(reply.conversation_id, root.conversation_id);
	assert_string_equal(deeper.conversation_id, root.conversation_id);
	assert_string_equal(only_irt.conversation_id, root.conversation_id);
	assert_string_not_equal(other.conversation_id, root.conversation_id);
	mime_summary_free(&root);
	mime_summary_free(&reply);
	mime_summary_free(&deeper);
	mime_summary_free(&only_irt);
	mime_summary_free(&other);
}

static void test_body_prefers_html(void **state)
{
	static const char raw[] =
		"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; "
		"boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\nPHA+aHRtbDwvcD4=\r\n--b--\r\n";
	struct err e = { 0 };
	bool html;
	char *content;
	size_t len;

	(void)state;
	assert_int_equal(mime_body(raw, strlen(raw), &html, &content, &len, &e), 0);
	assert_true(html);
	assert_string_equal(content, "<p>html</p>");
	assert_int_equal(len, 11);
	free(content);
}

static void test_envelope_takes_every_recipient_and_drops_bcc(void **state)
{
	static const char raw[] =
		"From: me@contoso.com\r\nTo: a@x.com, B <b@x.com>\r\nCc: c@x.com\r\n"
		"Bcc: hidden@x.com\r\nSubject: s\r\nMessage-ID: <m@contoso.com>\r\n\r\nbody\r\n";
	static const char none[] = "From: me@contoso.com\r\nSubject: s\r\n\r\nbody\r\n";
	struct mime_envelope env;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(mime_envelope(raw, strlen(raw), &env, &e), 0);
	assert_int_equal(env.n_rcpts, 4);
	assert_string_equal(env.rcpts[3], "hidden@x.com");
	assert_string_equal(env.message_id, "<m@contoso.com>");
	assert_non_null(env.without_bcc);
	assert_null(strstr(env.without_bcc, "hidden"));
	assert_non_null(strstr(env.without_bcc, "To: a@x.com"));
	assert_non_null(strstr(env.without_bcc, "\r\n\r\nbody\r\n"));
	mime_envelope_free(&env);
	assert_int_equal(mime_envelope(none, strlen(none), &env, &e), -1);
	assert_string_equal(e.code, "usage");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_fields_are_decoded),
		cmocka_unit_test(test_a_message_without_headers_still_summarizes),
		cmocka_unit_test(test_preview_from_html_and_other_charsets),
		cmocka_unit_test(test_a_cut_multipart_gives_its_first_text),
		cmocka_unit_test(test_preview_is_capped_at_a_character),
		cmocka_unit_test(test_attachments_are_seen),
		cmocka_unit_test(test_a_reply_stays_in_its_conversation),
		cmocka_unit_test(test_body_prefers_html),
		cmocka_unit_test(test_envelope_takes_every_recipient_and_drops_bcc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
