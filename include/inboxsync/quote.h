/*
 * quote.h — untrusted text made safe to show. What a server, a sender or a
 * browser redirect chose (an error body, a subject, an IMAP reply) is
 * quoted through here before it goes into an error message, a log line or
 * the terminal: control characters and bytes that are not UTF-8 become
 * visible escapes, and text longer than its place is cut with "…". Valid
 * printable UTF-8 passes through unchanged. Does not redact secrets (that
 * is log.h's job) and does not escape for JSON, HTML or shells.
 */
#ifndef INBOXSYNC_QUOTE_H
#define INBOXSYNC_QUOTE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The mark that ends a cut quote (UTF-8, 3 bytes). */
#define QUOTE_CUT "\xe2\x80\xa6"

/* Flags. */
#define QUOTE_KEEP_LINES 0x1u /* keep \n, \t and CR before LF (bodies) */

/* Write the first `len` bytes of `s` (which may hold NULs; NULL = "") into
 * `out` (size `n`), always NUL-terminated when n > 0:
 *   - \n \r \t become the two characters "\n" "\r" "\t" (unless
 *     QUOTE_KEEP_LINES), every other C0 control, DEL and a NUL become
 *     "\xHH";
 *   - a byte that does not start or continue a valid UTF-8 sequence (bad
 *     lead or continuation bytes, overlong forms, surrogates, beyond
 *     U+10FFFF, a sequence cut short) becomes "\xHH";
 *   - the C1 controls U+0080..U+009F, the bidirectional overrides and
 *     isolates (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C)
 *     and the line/paragraph separators U+2028/U+2029 become "\uHHHH";
 *   - when the result does not fit in n - 1 bytes it is cut between two
 *     characters (never inside an escape or a UTF-8 sequence) and ends
 *     with QUOTE_CUT.
 * Backslashes are left alone, so quoting a quote again changes nothing.
 * Returns the length written. Never fails; allocates nothing. */
size_t quote_text(char *out, size_t n, const char *s, size_t len,
		  unsigned flags);

/* quote_text of the NUL-terminated `s` (NULL = "") with no flags, for use
 * as a printf argument: returns `out`. */
const char *quote_str(char *out, size_t n, const char *s);

/* One character as quote_text shows it, for code that lays text out by
 * display width (the CLI's columns): the first character of s[0..len)
 * rendered into `shown` (NUL-terminated), the bytes it takes in *used and,
 * when it is shown as itself, its code point in *cp (0 for an escape,
 * which takes one column per byte of `shown`). Returns the length of
 * `shown`; 0 (and *used 0) for empty input. */
#define QUOTE_CHAR_MAX 8
size_t quote_char(const char *s, size_t len, unsigned flags,
		  char shown[QUOTE_CHAR_MAX], size_t *used, uint32_t *cp);

/* Write all `len` bytes of `s`, quoted as quote_text does but never cut,
 * to `f` (for bodies and other long human output). */
void quote_fwrite(FILE *f, const char *s, size_t len, unsigned flags);

#endif
