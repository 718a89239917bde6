/*
 * test_mime_html.c — HTML bodies as text for a terminal: blocks and line
 * breaks, lists, tables, quotes, links with their address, image alt
 * text, entities, collapsed whitespace (kept in <pre>), nothing of
 * scripts, styles or the head, bad markup read as a browser would, and
 * the caller's size cap.
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

static const struct {
	const char *html;
	const char *text;
} cases[] = {
	{ "<p>Hello <b>Bob</b>,</p><p>second   paragraph\n  here</p>",
	  "Hello Bob,\n\nsecond paragraph here\n" },
	{ "line one<br>line two<br/>line three", "line one\nline two\nline three\n" },
	{ "<ul><li>one</li><li>two</li></ul>", "- one\n- two\n" },
	{ "<ol><li>first</li><li>second</li></ol>", "1. first\n2. second\n" },
	{ "<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>",
	  "a | b\nc | d\n" },
	{ "<blockquote>quoted<br>text</blockquote>after", "> quoted\n> text\n\nafter\n" },
	{ "<a href=\"https://example.com/x\">the figures</a>",
	  "the figures <https://example.com/x>\n" },
	{ "<a href=\"https://example.com/\">https://example.com/</a>", "https://example.com/\n" },
	{ "<a href=\"mailto:bob@contoso.com\">Bob</a>", "Bob\n" },
	{ "<img src=\"x.png\" alt=\"the logo\">", "[the logo]\n" },
	{ "Caf&eacute; &amp; &#8212; &lt;tag&gt;", "Café & — <tag>\n" },
	{ "<pre>  code\n    indented</pre>", "  code\n    indented\n" },
	{ "<html><head><title>T</title><style>p{}</style><script>x()</script></head>"
	  "<body><script>alert(1)</script>visible</body></html>", "visible\n" },
	{ "<p>unclosed <b>bold <i>both</p><div>next", "unclosed bold both\n\nnext\n" },
	{ "Ünïcødé 🎉 text", "Ünïcødé 🎉 text\n" },
	{ "a&nbsp;&nbsp;b &nbsp;c", "a  b  c\n" },
	{ "", "" },
};

static void test_layout(void **state)
{
	struct err e = { 0 };
	struct buf out;

	(void)state;
	buf_init(&out, 1 << 16);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mime_html_to_text(cases[i].html, strlen(cases[i].html), &out, &e), 0);
		if (strcmp(buf_str(&out), cases[i].text) != 0)
			fail_msg("case %zu: %s\n got: [%s]\nwant: [%s]", i, cases[i].html,
				 buf_str(&out), cases[i].text);
	}
	buf_free(&out);
}

static void test_cap(void **state)
{
	struct err e = { 0 };
	struct buf out;
	char html[4000];

	(void)state;
	memset(html, 'x', sizeof(html) - 1);
	html[sizeof(html) - 1] = '\0';
	buf_init(&out, 100);
	assert_int_equal(mime_html_to_text(html, strlen(html), &out, &e), -1);
	assert_string_equal(e.code, "too_large");
	buf_free(&out);
}

static void test_deep_nesting(void **state)
{
	struct err e = { 0 };
	struct buf out, in;

	(void)state;
	buf_init(&in, 1 << 20);
	for (int i = 0; i < 5000; i++)
		buf_puts(&in, "<div>", &e);
	buf_puts(&in, "deep", &e);
	buf_init(&out, 1 << 16);
	assert_int_equal(mime_html_to_text(in.data, in.len, &out, &e), 0);
	assert_non_null(strstr(buf_str(&out), "deep"));
	buf_free(&out);
	buf_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_deep_nesting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
