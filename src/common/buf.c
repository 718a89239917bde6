/*
 * buf.c — size-capped growable buffer (see buf.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"

void buf_init(struct buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->limit = limit ? limit : BUF_DEFAULT_LIMIT;
}

static int buf_grow(struct buf *b, size_t extra, struct err *e)
{
	size_t need;

	if (extra > b->limit || b->len > b->limit - extra)
		return err_set(e, ERR_PERMANENT, "too_large",
			       "data exceeds the limit of %zu bytes", b->limit);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc : 256;
	while (n < need)
		n = n > ((size_t)-1) / 2 ? need : n * 2;
	if (b->limit < (size_t)-1 && n > b->limit + 1) /* limit + 1 may wrap */
		n = b->limit + 1;
	b->data = xrealloc(b->data, n);
	b->alloc = n;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n, struct err *e)
{
	if (buf_grow(b, n, e) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_reserve(struct buf *b, size_t n, struct err *e)
{
	return buf_grow(b, n, e);
}

int buf_puts(struct buf *b, const char *s, struct err *e)
{
	return buf_append(b, s, strlen(s), e);
}

int buf_printf(struct buf *b, struct err *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err_set(e, ERR_BUG, "format", "bad format string");
	if (buf_grow(b, (size_t)n, e) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data ? b->data : xstrdup("");

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

void buf_free_secret(struct buf *b)
{
	if (b->data)
		sodium_memzero(b->data, b->alloc);
	buf_free(b);
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}
