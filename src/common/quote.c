/*
 * quote.c — untrusted text made safe to show (see quote.h). The text is
 * read one unit at a time (a run of printable ASCII, one other UTF-8
 * character, or one byte that is not part of a valid one); each unit is
 * rendered as itself or as an escape, and the renderings are copied as far
 * as they fit, cut where a character ends.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "inboxsync/quote.h"

/* Code points that are valid UTF-8 but rearrange or break what a terminal
 * or a log reader shows. */
static const struct {
	uint32_t lo, hi;
} invisible[] = {
	{ 0x0080, 0x009f },   /* C1 controls (0x9b is CSI on some terminals) */
	{ 0x061c, 0x061c },   /* arabic letter mark */
	{ 0x200e, 0x200f },   /* left-to-right / right-to-left mark */
	{ 0x2028, 0x2029 },   /* line / paragraph separator */
	{ 0x202a, 0x202e },   /* bidi embeddings and overrides */
	{ 0x2066, 0x2069 },   /* bidi isolates */
};

static int is_invisible(uint32_t cp)
{
	for (size_t i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++)
		if (cp >= invisible[i].lo && cp <= invisible[i].hi)
			return 1;
	return 0;
}

/* Length of the valid UTF-8 sequence at s[0..len) and its code point, or 0
 * when s[0] does not start one (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t need;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, v = s[0] & 0x1fu, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, v = s[0] & 0x0fu, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, v = s[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (len < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need;
}

/* Render the unit at s[0..len) into `r`; *used gets the bytes it took
 * and *shown_cp the code point when the unit is shown as itself (0 for
 * an escape). Returns the rendering's length. */
static size_t unit_render(const unsigned char *s, size_t len, unsigned flags,
			  size_t *used, char r[QUOTE_CHAR_MAX], uint32_t *shown_cp)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;
	size_t n;

	*shown_cp = 0;
	if (s[0] >= 0x20 && s[0] < 0x7f) {         /* printable ASCII: as is */
		*used = 1;
		r[0] = (char)s[0];
		*shown_cp = s[0];
		return 1;
	}
	n = utf8_decode(s, len, &cp);
	*used = n ? n : 1;
	if (!n) {                                   /* not UTF-8 */
		snprintf(r, QUOTE_CHAR_MAX, "\\x%c%c", hex[s[0] >> 4], hex[s[0] & 15]);
		return 4;
	}
	if ((flags & QUOTE_KEEP_LINES) &&
	    (cp == '\n' || cp == '\t' || (cp == '\r' && len > 1 && s[1] == '\n'))) {
		r[0] = (char)cp;
		*shown_cp = cp;
		return 1;
	}
	if (cp == '\n' || cp == '\r' || cp == '\t') {
		r[0] = '\\';
		r[1] = (char)(cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't');
		return 2;
	}
	if (cp < 0x20 || cp == 0x7f) {
		snprintf(r, QUOTE_CHAR_MAX, "\\x%c%c", hex[cp >> 4], hex[cp & 15]);
		return 4;
	}
	if (is_invisible(cp)) {
		r[0] = '\\';
		r[1] = 'u';
		for (int i = 0; i < 4; i++)
			r[2 + i] = hex[(cp >> (12 - 4 * i)) & 15];
		return 6;
	}
	memcpy(r, s, n);
	*shown_cp = cp;
	return n;
}

size_t quote_char(const char *s, size_t len, unsigned flags,
		  char shown[QUOTE_CHAR_MAX], size_t *used, uint32_t *cp)
{
	size_t n;

	if (!s || !len) {
		shown[0] = '\0';
		*used = 0;
		*cp = 0;
		return 0;
	}
	n = unit_render((const unsigned char *)s, len, flags, used, shown, cp);
	shown[n] = '\0';
	return n;
}

/* Bytes of printable ASCII at the start of p[0..len): passed through. */
static size_t printable_run(const unsigned char *p, size_t len)
{
	size_t k = 0;

	while (k < len && p[k] >= 0x20 && p[k] < 0x7f)
		k++;
	return k;
}

size_t quote_text(char *out, size_t n, const char *s, size_t len,
		  unsigned flags)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const size_t cut_len = sizeof(QUOTE_CUT) - 1;
	size_t room, pos = 0, mark = 0; /* mark: last end that leaves room to cut */
	char r[QUOTE_CHAR_MAX];
	uint32_t cp;

	if (!n)
		return 0;
	room = n - 1;
	if (!s)
		len = 0;
	while (len) {
		size_t used = printable_run(p, len), rn = used;
		bool is_run = used > 0;

		if (!is_run)
			rn = unit_render(p, len, flags, &used, r, &cp);
		/* every byte of a printable run ends a character */
		if (is_run && room >= cut_len && room - cut_len > pos)
			mark = pos + rn < room - cut_len ? pos + rn : room - cut_len;
		if (pos + rn > room) {
			if (is_run && mark > pos) /* the part of the run kept */
				memcpy(out + pos, p, mark - pos);
			pos = mark;
			if (room - pos >= cut_len) {
				memcpy(out + pos, QUOTE_CUT, cut_len);
				pos += cut_len;
			}
			break;
		}
		memcpy(out + pos, is_run ? (const char *)p : r, rn);
		pos += rn;
		if (pos + cut_len <= room)
			mark = pos;
		p += used;
		len -= used;
	}
	out[pos] = '\0';
	return pos;
}

const char *quote_str(char *out, size_t n, const char *s)
{
	quote_text(out, n, s, s ? strlen(s) : 0, 0);
	return out;
}

void quote_fwrite(FILE *f, const char *s, size_t len, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char r[QUOTE_CHAR_MAX];
	uint32_t cp;

	if (!s)
		return;
	while (len) {
		size_t used, rn = unit_render(p, len, flags, &used, r, &cp);

		fwrite(r, 1, rn, f);
		p += used;
		len -= used;
	}
}
