/*
 * cli_text.h — text for a terminal: cutting and padding by display width
 * (wide characters take two columns, combining marks none), never inside
 * a character, with control characters and invalid UTF-8 from remote data
 * shown as visible escapes instead of reaching the terminal. Every human
 * line goes out through cli_out.
 */
#ifndef INBOXSYNC_CLI_TEXT_H
#define INBOXSYNC_CLI_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Set up the locale for display widths (UTF-8 even under LANG=C). */
void cli_text_init(void);

/* Columns `s` takes on a terminal (escapes counted as shown). */
int cli_text_width(const char *s);

/* Write `s` into `out` (size n) for a cell of `width` columns: cut with
 * "…" when it is wider, padded with spaces when `pad`. Returns out. */
const char *cli_text_cell(const char *s, int width, int pad, char *out, size_t n);

/* `s` as cli_out shows it, in lines of at most `width` columns, broken
 * at spaces where it can be (inside a word only when a word is wider than
 * a line); each line ends with a newline. */
void cli_out_wrapped(FILE *f, const char *s, int width);

/* `s` made safe for a terminal line (no width limit); heap. */
char *cli_text_safe(const char *s);

/* printf to `f` for people: the formatted text is written with control
 * characters (other than newlines) and invalid UTF-8 shown as escapes, so
 * remote text (subjects, names, server messages) cannot move the cursor,
 * recolour or garble the terminal. */
void cli_out(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
