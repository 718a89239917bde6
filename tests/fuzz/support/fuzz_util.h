/*
 * fuzz_util.h — what every fuzz target checks the same way: an error is a
 * classified value with a message, and text meant for people (messages,
 * codes) is valid UTF-8 without control characters, whatever the input.
 * The text check uses GLib's UTF-8 decoder, independent of quote.c; pages
 * a driver returns are whole.
 */
#ifndef INBOXSYNC_FUZZ_UTIL_H
#define INBOXSYNC_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/driver.h"
#include "inboxsync/err.h"

/* Abort (a finding) unless `ok`. */
void must(bool ok);

/* True when `s` is valid UTF-8 with no C0 or C1 control and no DEL. */
bool text_is_shown(const char *s);

/* A filled error: a known class other than ERR_NONE, a non-empty message,
 * message and code both text_is_shown. Aborts otherwise. */
void must_be_error(const struct err *e);

/* A page a driver returned: every item has a non-empty id, flags are
 * unknown/0/1, address and category lists are whole (every entry there);
 * a delta page (`is_delta`) has exactly one of next and done cursor, a
 * listing none. */
void must_be_page(const struct driver_page *page, bool is_delta);

/* The input as a NUL-terminated heap string (bytes after a NUL are kept
 * but invisible to string functions). Caller frees. */
char *fuzz_strdup(const uint8_t *data, size_t size);

#endif
