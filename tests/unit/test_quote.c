/*
 * test_quote.c — untrusted text made safe to show (quote.c): controls and
 * invalid UTF-8 escaped, valid UTF-8 kept, bidi and C1 controls escaped,
 * cutting at character boundaries with "…", idempotence, NULs, tiny
 * buffers, the streaming form with and without kept lines, and one
 * character at a time (for the CLI's columns).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inboxsync/quote.h"

static const char *q(const char *s)
{
	static char out[256];

	return quote_str(out, sizeof(out), s);
}

static void test_plain_text_unchanged(void **state)
{
	(void)state;
	assert_string_equal(q("Invalid token near 'x'"), "Invalid token near 'x'");
	assert_string_equal(q(""), "");
	assert_string_equal(q(NULL), "");
	/* valid UTF-8 of every length passes through */
	assert_string_equal(q("Grüße — 日本 \xf0\x9f\x93\xa7"),
			    "Grüße — 日本 \xf0\x9f\x93\xa7");
	/* backslashes are left alone */
	assert_string_equal(q("C:\\temp\\x"), "C:\\temp\\x");
}

static void test_controls_escaped(void **state)
{
	(void)state;
	assert_string_equal(q("near '\x1b'"), "near '\\x1b'");
	assert_string_equal(q("a\nb\rc\td"), "a\\nb\\rc\\td");
	assert_string_equal(q("\x1b[2J\x07\x7f"), "\\x1b[2J\\x07\\x7f");
	assert_string_equal(q("\x01\x1f"), "\\x01\\x1f");
}

static void test_invalid_utf8_escaped(void **state)
{
	(void)state;
	assert_string_equal(q("\xff\xfe"), "\\xff\\xfe");
	assert_string_equal(q("a\x80z"), "a\\x80z");           /* lone continuation */
	assert_string_equal(q("\xc3("), "\\xc3(");             /* bad continuation */
	assert_string_equal(q("\xc0\xaf"), "\\xc0\\xaf");      /* overlong '/' */
	assert_string_equal(q("\xe0\x80\xaf"), "\\xe0\\x80\\xaf"); /* overlong */
	assert_string_equal(q("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* surrogate */
	assert_string_equal(q("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	assert_string_equal(q("ab\xe2\x80"), "ab\\xe2\\x80");  /* cut short */
}

static void test_invisible_code_points_escaped(void **state)
{
	(void)state;
	assert_string_equal(q("\xc2\x9b" "31m"), "\\u009b31m");      /* C1 CSI */
	assert_string_equal(q("abc\xe2\x80\xae" "txt.exe"), "abc\\u202etxt.exe");
	assert_string_equal(q("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
	assert_string_equal(q("a\xe2\x80\xa8" "b"), "a\\u2028b");
	/* neighbours of the ranges are ordinary text */
	assert_string_equal(q("\xc2\xa0\xe2\x80\xa9\xe2\x80\xaf"),
			    "\xc2\xa0\\u2029\xe2\x80\xaf");
}

static void test_nul_bytes_with_length(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(quote_text(out, sizeof(out), "a\0b", 3, 0), 6);
	assert_string_equal(out, "a\\x00b");
}

static void test_cut_at_boundaries(void **state)
{
	char out[12];
	size_t n;

	(void)state;
	/* 20 ASCII chars into 11 bytes: 8 chars and "…" */
	n = quote_text(out, sizeof(out), "abcdefghijklmnopqrst", 20, 0);
	assert_int_equal(n, 11);
	assert_string_equal(out, "abcdefgh" QUOTE_CUT);
	/* an escape is never split: "ab" + "\x1b" does not fit with "…" */
	n = quote_text(out, sizeof(out), "abcdef\x1bzzzzzz", 13, 0);
	assert_string_equal(out, "abcdef" QUOTE_CUT);
	assert_int_equal(n, 9);
	/* nor a UTF-8 sequence */
	n = quote_text(out, sizeof(out), "abcdefg日本語", strlen("abcdefg日本語"), 0);
	assert_string_equal(out, "abcdefg" QUOTE_CUT);
	/* exactly fitting text is not cut */
	n = quote_text(out, sizeof(out), "abcdefghijk", 11, 0);
	assert_string_equal(out, "abcdefghijk");
	assert_int_equal(n, 11);
}

static void test_tiny_buffers(void **state)
{
	char out[4];

	(void)state;
	assert_int_equal(quote_text(out, 0, "abc", 3, 0), 0);
	assert_int_equal(quote_text(out, 1, "abc", 3, 0), 0);
	assert_string_equal(out, "");
	assert_int_equal(quote_text(out, 3, "abc", 3, 0), 0); /* no room for "…" */
	assert_string_equal(out, "");
	assert_int_equal(quote_text(out, 4, "abcd", 4, 0), 3);
	assert_string_equal(out, QUOTE_CUT);
	assert_int_equal(quote_text(out, 4, "abc", 3, 0), 3);
	assert_string_equal(out, "abc");
}

static void test_idempotent(void **state)
{
	static const char *const inputs[] = {
		"near '\x1b'", "\xff\xc2\x9b\xe2\x80\xae ok", "a\\x1b", "tab\there",
	};
	char once[128], twice[128];

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		quote_str(once, sizeof(once), inputs[i]);
		quote_str(twice, sizeof(twice), once);
		assert_string_equal(once, twice);
	}
}

static void test_keep_lines(void **state)
{
	char out[64];
	static const char body[] = "l1\r\nl2\n\tx\ry\x1b";

	(void)state;
	quote_text(out, sizeof(out), body, sizeof(body) - 1, QUOTE_KEEP_LINES);
	assert_string_equal(out, "l1\r\nl2\n\tx\\ry\\x1b");
}

static void test_fwrite_streams_everything(void **state)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	char big[5000];

	(void)state;
	assert_non_null(f);
	memset(big, 'a', sizeof(big));
	big[100] = '\x1b';
	quote_fwrite(f, big, sizeof(big), 0);
	quote_fwrite(f, "\nend\n", 5, QUOTE_KEEP_LINES);
	quote_fwrite(f, NULL, 3, 0);
	fclose(f);
	assert_int_equal(size, sizeof(big) + 3 + 5);
	assert_memory_equal(text + 100, "\\x1b", 4);
	assert_string_equal(text + size - 5, "\nend\n");
	free(text);
}

static void test_char_by_char(void **state)
{
	char shown[QUOTE_CHAR_MAX];
	size_t used;
	uint32_t cp;

	(void)state;
	assert_int_equal(quote_char("\xe6\x97\xa5x", 4, 0, shown, &used, &cp), 3);
	assert_string_equal(shown, "\xe6\x97\xa5");
	assert_int_equal(used, 3);
	assert_int_equal(cp, 0x65e5);
	assert_int_equal(quote_char("\x1b[", 2, 0, shown, &used, &cp), 4);
	assert_string_equal(shown, "\\x1b");
	assert_int_equal(used, 1);
	assert_int_equal(cp, 0); /* an escape */
	assert_int_equal(quote_char("\xe2\x80\xae", 3, 0, shown, &used, &cp), 6);
	assert_string_equal(shown, "\\u202e");
	assert_int_equal(cp, 0);
	assert_int_equal(quote_char("\n", 1, QUOTE_KEEP_LINES, shown, &used, &cp), 1);
	assert_int_equal(cp, '\n');
	assert_int_equal(quote_char("", 0, 0, shown, &used, &cp), 0);
	assert_int_equal(used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_invalid_utf8_escaped),
		cmocka_unit_test(test_invisible_code_points_escaped),
		cmocka_unit_test(test_nul_bytes_with_length),
		cmocka_unit_test(test_cut_at_boundaries),
		cmocka_unit_test(test_tiny_buffers),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_keep_lines),
		cmocka_unit_test(test_fwrite_streams_everything),
		cmocka_unit_test(test_char_by_char),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
