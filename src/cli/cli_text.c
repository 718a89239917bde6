/*
 * cli_text.c — display-width cells for the terminal (see cli_text.h):
 * the C library decodes UTF-8 (mbrtowc) and measures (wcwidth); bytes that
 * are not UTF-8 and control characters become escapes like "\x1b".
 */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"

void cli_text_init(void)
{
	if (!setlocale(LC_CTYPE, "") || MB_CUR_MAX == 1)
		setlocale(LC_CTYPE, "C.UTF-8");
}

/* The next piece of `s`: its bytes (*len), what to show (`shown`, NUL
 * ended) and its columns. */
static int next_piece(const char *s, size_t *len, char shown[8])
{
	mbstate_t st;
	wchar_t wc;
	size_t n;
	int w;

	memset(&st, 0, sizeof(st));
	n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0 ||
	    (wc < 0x20) || wc == 0x7f || (wc >= 0x80 && wc < 0xa0)) {
		unsigned char c = (unsigned char)*s;

		*len = 1;
		if (c == '\t') {
			memcpy(shown, " ", 2); /* one column, one space */
			return 1;
		}
		snprintf(shown, 8, "\\x%02x", c);
		return 4;
	}
	w = wcwidth(wc);
	if (w < 0)
		w = 1;
	*len = n;
	memcpy(shown, s, n);
	shown[n] = '\0';
	return w;
}

int cli_text_width(const char *s)
{
	char shown[8];
	size_t len;
	int w = 0;

	while (s && *s) {
		w += next_piece(s, &len, shown);
		s += len;
	}
	return w;
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
		char shown[8];
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
	size_t cap = (s ? strlen(s) : 0) * 4 + 1, at = 0;
	char *out = xmalloc(cap);

	while (s && *s) {
		char shown[8];
		size_t len, sl;

		next_piece(s, &len, shown);
		sl = strlen(shown);
		memcpy(out + at, shown, sl);
		at += sl;
		s += len;
	}
	out[at] = '\0';
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
		char shown[8];
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
