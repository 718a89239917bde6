/*
 * cli_text.c — display-width cells for the terminal (see cli_text.h):
 * quote.h reads the text a character at a time and turns control, C1 and
 * bidi characters and bytes that are not UTF-8 into escapes like "\x1b";
 * the C library measures what is left (wcwidth).
 */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"
#include "inboxsync/quote.h"

void cli_text_init(void)
{
	/* without C.UTF-8 either, wide characters count one column each */
	if (!setlocale(LC_CTYPE, "") || MB_CUR_MAX == 1)
		(void)setlocale(LC_CTYPE, "C.UTF-8");
}

/* The next piece of `s`: its bytes (*len), what to show (`shown`, NUL
 * ended: the character, or its escape from quote.h) and its columns. */
static int next_piece(const char *s, size_t *len, char shown[QUOTE_CHAR_MAX])
{
	uint32_t cp;
	size_t n = quote_char(s, strnlen(s, 4), 0, shown, len, &cp);
	int w;

	if (!cp) /* an escape such as "\x1b": one column a character */
		return (int)n;
	w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;
}

int cli_text_width(const char *s)
{
	char shown[QUOTE_CHAR_MAX];
	size_t len;
	int w = 0;

	while (s && *s) {
		w += next_piece(s, &len, shown);
		s += len;
	}
	return w;
}

void cli_out_wrapped(FILE *f, const char *s, int width)
{
	if (width < 2)
		width = 2;
	while (s && *s) {
		const char *p = s, *brk = NULL;
		int used = 0;

		/* as much as fits, ended at the last space when there is one */
		while (*p && *p != '\n') {
			char shown[QUOTE_CHAR_MAX];
			size_t len;
			int w = next_piece(p, &len, shown);

			if (used + w > width)
				break;
			if (*p == ' ')
				brk = p;
			used += w;
			p += len;
		}
		if (*p && *p != '\n' && brk && brk > s)
			p = brk;
		if (p == s && *p && *p != '\n') { /* a piece wider than a line */
			char shown[QUOTE_CHAR_MAX];
			size_t len;

			next_piece(p, &len, shown);
			p += len;
		}
		while (s < p) {
			char shown[QUOTE_CHAR_MAX];
			size_t len;

			next_piece(s, &len, shown);
			fputs(shown, f);
			s += len;
		}
		fputc('\n', f);
		while (*s == ' ')
			s++;
		if (*s == '\n')
			s++;
	}
}

const char *cli_text_cell(const char *s, int width, int pad, char *out, size_t n)
{
	size_t at = 0;
	int used = 0, total = cli_text_width(s);
	int room = total > width ? width - 1 : width; /* keep one for "…" */

	if (!n)
		return out;
	out[0] = '\0';
	while (s && *s) {
		char shown[QUOTE_CHAR_MAX];
		size_t len, sl;
		int w = next_piece(s, &len, shown);

		sl = strlen(shown);
		if (used + w > room || at + sl + 4 >= n)
			break;
		memcpy(out + at, shown, sl);
		at += sl;
		used += w;
		s += len;
	}
	if (total > width && at + 4 < n) {
		memcpy(out + at, "\xe2\x80\xa6", 3); /* … */
		at += 3;
		used++;
	}
	while (pad && used < width && at + 1 < n) {
		out[at++] = ' ';
		used++;
	}
	out[at] = '\0';
	return out;
}

char *cli_text_safe(const char *s)
{
	size_t cap = (s ? strlen(s) : 0) * 4 + 1; /* an escape is at most 4x */
	char *out = xmalloc(cap);

	quote_text(out, cap, s, s ? strlen(s) : 0, 0);
	return out;
}

void cli_out(FILE *f, const char *fmt, ...)
{
	va_list ap;
	char small[512], *text = small;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small)) {
		text = xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	for (const char *s = text; *s;) {
		char shown[QUOTE_CHAR_MAX];
		size_t len;

		if (*s == '\n' || (s[0] == '\r' && s[1] == '\n')) {
			fputc('\n', f);
			s += *s == '\r' ? 2 : 1;
			continue;
		}
		next_piece(s, &len, shown);
		fputs(shown, f);
		s += len;
	}
	if (text != small)
		free(text);
}
