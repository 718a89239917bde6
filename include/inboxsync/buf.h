/*
 * buf.h — size-capped growable byte buffer (text or binary, always kept
 * NUL-terminated). Every piece of growing data from the network or the user
 * goes through it; exceeding the cap set at creation is an error, never
 * unbounded memory.
 */
#ifndef INBOXSYNC_BUF_H
#define INBOXSYNC_BUF_H

#include <stddef.h>
#include "inboxsync/err.h"

struct buf {
	char *data;     /* NUL-terminated; NULL until the first append */
	size_t len;     /* bytes used, excluding the terminating NUL */
	size_t alloc;   /* bytes allocated */
	size_t limit;   /* maximum len; appending past it fails */
};

#define BUF_DEFAULT_LIMIT ((size_t)64 << 20)

/* Initialise an empty buffer that may hold at most `limit` bytes (0 means
 * BUF_DEFAULT_LIMIT). Allocates nothing. */
void buf_init(struct buf *b, size_t limit);

/* Append `n` bytes. Returns 0, or -1 with ERR_PERMANENT code "too_large" in
 * `e` when the result would exceed the limit (the buffer is unchanged). */
int buf_append(struct buf *b, const void *p, size_t n, struct err *e);

/* Allocate now what appends of `n` more bytes need, so that they allocate
 * nothing (a step that must not be cut short by running out of memory).
 * Errors as buf_append. */
int buf_reserve(struct buf *b, size_t n, struct err *e);

/* Append a NUL-terminated string. Same errors as buf_append. */
int buf_puts(struct buf *b, const char *s, struct err *e);

/* Append printf-style text. Same errors as buf_append. */
int buf_printf(struct buf *b, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Text view: never NULL (an empty buffer gives ""). */
const char *buf_str(const struct buf *b);

/* Forget the contents but keep the allocation and limit. */
void buf_reset(struct buf *b);

/* Hand the data to the caller (who frees it; never NULL) and reset. */
char *buf_detach(struct buf *b, size_t *len);

/* Free the allocation and reset to empty (limit kept). */
void buf_free(struct buf *b);

/* Zero what `b` holds (a form with a client secret, a response with
 * tokens), then free it as buf_free does. */
void buf_free_secret(struct buf *b);

#endif
