/*
 * alloc.h — allocation wrappers. They never return NULL: on out-of-memory
 * they print one line and abort, so callers need no NULL checks for memory.
 * Tests can make the N-th allocation "fail" (abort) to prove cleanup paths.
 */
#ifndef INBOXSYNC_ALLOC_H
#define INBOXSYNC_ALLOC_H

#include <stdbool.h>
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

/* Zero a NUL-terminated secret (a password, a token) and free it.
 * NULL-safe. */
void xfree_secret(char *s);

/* For tests: from now on count the x* allocations and abort at the n-th
 * (1-based) as on out-of-memory; 0 turns it off. Also set from
 * $INBOXSYNC_ALLOC_FAIL_AT at the first allocation of a process. Only
 * allocations through these wrappers count (libraries allocate on their
 * own). Thread-safe. */
void alloc_fail_at(unsigned long n);

/* malloc for libraries that take one (jansson): counted by the hook,
 * aborts instead of returning NULL — except while this thread has a
 * budget set (alloc_library_budget) that `n` would pass: then it returns
 * NULL, which jansson turns into a failed parse. */
void *alloc_library_malloc(size_t n);

/* A budget for this thread's library allocations (bytes; 0 = none, the
 * default). Set around parsing remote JSON, so an answer whose size the
 * response cap allows but whose structure multiplies it in memory (tens
 * of thousands of `{}` in a row take 70 times their bytes) fails the
 * parse instead of exhausting memory. Frees do not give bytes back.
 * Setting a budget clears the "hit" flag. */
void alloc_library_budget(size_t bytes);

/* Whether an allocation was refused under this thread's budget since it
 * was set. */
bool alloc_library_budget_hit(void);

/* cJSON allocates through the wrappers as well. While a thread has set an
 * arena here, its cJSON allocations come from `alloc(ctx, n)` (NULL fails
 * the parse: a budget) and cJSON's frees do nothing: the tree is released
 * with the arena. alloc_cjson_arena(NULL, NULL) goes back to the heap. */
void alloc_cjson_arena(void *(*alloc)(void *ctx, size_t n), void *ctx);

/* Allocations counted since the hook was last set (0 until it is set:
 * before that nothing is counted). */
unsigned long alloc_count(void);

#endif
