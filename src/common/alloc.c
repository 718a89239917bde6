/*
 * alloc.c — allocation wrappers that abort cleanly on out-of-memory, and
 * the test hook that makes the N-th allocation "fail" (abort the same way)
 * so tests can prove that a process dying at any allocation loses and
 * duplicates nothing.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <jansson.h>
#include <sodium.h>
#include "inboxsync/alloc.h"

static atomic_ulong alloc_seen;
static atomic_ulong alloc_fail_n;     /* 0 = never */
static atomic_int alloc_env_read;
static atomic_bool alloc_counting;    /* the hook was set: count */

static void die_oom(size_t n)
{
	fprintf(stderr, "inboxsync: out of memory (allocating %zu bytes)\n", n);
	abort();
}

/* $INBOXSYNC_ALLOC_FAIL_AT, read at the first allocation. */
static void read_env(void)
{
	const char *v;

	if (atomic_exchange(&alloc_env_read, 1))
		return;
	v = getenv("INBOXSYNC_ALLOC_FAIL_AT");
	if (v && *v) {
		atomic_store(&alloc_fail_n, strtoul(v, NULL, 10));
		atomic_store(&alloc_counting, true);
	}
}

/* Count one allocation; the one the hook names fails. Until the hook is
 * set nothing is written: every thread of the server allocates here, and
 * a shared counter bumped on each allocation made them queue on one cache
 * line. */
static void count_one(size_t n)
{
	unsigned long k, fail;

	if (!atomic_load_explicit(&alloc_env_read, memory_order_relaxed))
		read_env();
	if (!atomic_load_explicit(&alloc_counting, memory_order_relaxed))
		return;
	k = atomic_fetch_add(&alloc_seen, 1) + 1;
	fail = atomic_load(&alloc_fail_n);
	if (fail && k == fail)
		die_oom(n);
}

/* This thread's budget for library allocations (alloc_library_budget). */
static _Thread_local bool budget_set, budget_hit;
static _Thread_local size_t budget_left;

void alloc_library_budget(size_t bytes)
{
	budget_set = bytes > 0;
	budget_left = bytes;
	budget_hit = false;
}

bool alloc_library_budget_hit(void)
{
	return budget_hit;
}

void *alloc_library_malloc(size_t n)
{
	if (budget_set) {
		if (n > budget_left) {
			budget_hit = true;
			return NULL;
		}
		budget_left -= n;
	}
	return xmalloc(n);
}

/* A thread's current arena for cJSON (alloc_cjson_arena). */
static _Thread_local void *(*cjson_arena_alloc)(void *, size_t);
static _Thread_local void *cjson_arena_ctx;

static void *cjson_malloc(size_t n)
{
	return cjson_arena_alloc ? cjson_arena_alloc(cjson_arena_ctx, n) : xmalloc(n);
}

/* Arena memory goes with its arena; cJSON frees only on a parse error,
 * and then only what it took from the arena. */
static void cjson_free(void *p)
{
	if (!cjson_arena_alloc)
		free(p);
}

void alloc_cjson_arena(void *(*alloc)(void *ctx, size_t n), void *ctx)
{
	cjson_arena_alloc = alloc;
	cjson_arena_ctx = ctx;
}

/* jansson and cJSON allocate through the wrappers, so the hook counts
 * (and can fail) their allocations too. In this file because every
 * program links it. */
__attribute__((constructor)) static void use_our_allocator_in_json_libraries(void)
{
	cJSON_Hooks h = { cjson_malloc, cjson_free };

	json_set_alloc_funcs(alloc_library_malloc, free);
	cJSON_InitHooks(&h);
}

void alloc_fail_at(unsigned long n)
{
	atomic_store(&alloc_env_read, 1);
	atomic_store(&alloc_seen, 0);
	atomic_store(&alloc_fail_n, n);
	atomic_store(&alloc_counting, true);
}

unsigned long alloc_count(void)
{
	return atomic_load(&alloc_seen);
}

void *xmalloc(size_t n)
{
	void *p;

	count_one(n);
	p = malloc(n ? n : 1);

	if (!p)
		die_oom(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p;

	count_one(count * size);
	p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		die_oom(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q;

	count_one(n);
	q = realloc(p, n ? n : 1);

	if (!q)
		die_oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die_oom(0);
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int str_copy(char *dst, size_t n, const char *src)
{
	size_t len;

	if (!n)
		return -1;
	if (!src)
		src = "";
	len = strlen(src);
	if (len >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

void xfree(void *pp)
{
	void **p = pp;

	free(*p);
	*p = NULL;
}

void xfree_secret(char *s)
{
	if (!s)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}
