/*
 * graph_arena.c — the memory of one parsed page (see graph_internal.h):
 * a bump allocator in chunks, released whole. cJSON allocates through it
 * while a page is parsed (alloc_cjson_arena: a per-thread "current arena"),
 * so a 500-message page costs a few dozen mallocs instead of a hundred
 * per message, and freeing a page is freeing its chunks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "inboxsync/alloc.h"
#include "graph_internal.h"

/* Below glibc's mmap threshold: chunks come from the heap and are reused
 * page after page instead of being mapped and faulted in every time. */
#define CHUNK_BYTES ((size_t)60 << 10)
#define ALIGN 16u

struct graph_arena_chunk {
	struct graph_arena_chunk *next;
	size_t size;
	/* data follows, aligned */
};

static size_t chunk_header(void)
{
	return (sizeof(struct graph_arena_chunk) + ALIGN - 1) / ALIGN * ALIGN;
}

void graph_arena_init(struct graph_arena *a)
{
	memset(a, 0, sizeof(*a));
}

void *graph_arena_alloc(struct graph_arena *a, size_t n)
{
	size_t need = (n + ALIGN - 1) / ALIGN * ALIGN;
	struct graph_arena_chunk *c;
	char *p;

	if (need == 0)
		need = ALIGN;
	if ((size_t)(a->end - a->at) >= need) {
		p = a->at;
		a->at += need;
		return p;
	}
	if (need > CHUNK_BYTES / 4) {
		/* A large block gets a chunk of its own, behind the current one,
		 * so the rest of the current chunk stays in use. */
		c = xmalloc(chunk_header() + need);
		c->size = need;
		if (a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = NULL;
			a->head = c;
		}
		a->bytes += need;
		return (char *)c + chunk_header();
	}
	c = xmalloc(chunk_header() + CHUNK_BYTES);
	c->size = CHUNK_BYTES;
	c->next = a->head;
	a->head = c;
	a->bytes += CHUNK_BYTES;
	a->at = (char *)c + chunk_header();
	a->end = a->at + CHUNK_BYTES;
	p = a->at;
	a->at += need;
	return p;
}

char *graph_arena_strndup(struct graph_arena *a, const char *s, size_t n)
{
	char *p = graph_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void graph_arena_free(struct graph_arena *a)
{
	struct graph_arena_chunk *c = a->head;

	while (c) {
		struct graph_arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	graph_arena_init(a);
}

/* ---- cJSON allocates from the arena of the page being parsed ------------ */

/* cJSON's allocations during one parse: from the arena, within a budget
 * (NULL past it: cJSON then fails the parse, and its frees are no-ops). */
struct parse_budget {
	struct graph_arena *a;
	size_t left;
	bool hit;
};

static void *arena_cb(void *ctx, size_t n)
{
	struct parse_budget *b = ctx;

	if (n > b->left) {
		b->hit = true;
		return NULL;
	}
	b->left -= n;
	return graph_arena_alloc(b->a, n);
}

cJSON *graph_arena_parse(struct graph_arena *a, const char *text, size_t len,
			 size_t *error_at, bool *too_big)
{
	struct parse_budget b = { a, json_parse_memory_max(len), false };
	const char *end = NULL;
	cJSON *doc;

	alloc_cjson_arena(arena_cb, &b);
	/* The NUL after the text is part of what cJSON reads: it insists on
	 * seeing it after the value (nothing but blanks may follow). */
	doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
	alloc_cjson_arena(NULL, NULL);
	*too_big = !doc && b.hit;
	*error_at = doc || !end || end < text ? 0 : (size_t)(end - text);
	return doc;
}
