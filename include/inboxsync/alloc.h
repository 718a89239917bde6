/*
 * alloc.h — allocation wrappers. They never return NULL: on out-of-memory
 * they print one line and abort, so callers need no NULL checks for memory.
 * Tests can make the N-th allocation "fail" (abort) to prove cleanup paths.
 */
#ifndef INBOXSYNC_ALLOC_H
#define INBOXSYNC_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);        /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);

/* printf into a fresh heap string (caller frees). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy `src` into `dst` of size `n`, always NUL-terminated; returns 0, or -1
 * when `src` did not fit (dst then holds the truncated prefix). */
int str_copy(char *dst, size_t n, const char *src);

/* Free *p and set it to NULL. */
void xfree(void *pp);

#endif
