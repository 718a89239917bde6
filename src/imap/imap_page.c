/*
 * imap_page.c — pages of mail.h messages as the IMAP driver hands them
 * out: the items array grows as messages are fetched, and every string
 * and address list an item points to lives in one arena that the page
 * owns (driver_page_free releases it through the arena's first member).
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "imap/imap_internal.h"

#define ARENA_BLOCK ((size_t)64 << 10)

struct imap_arena_block {
	struct imap_arena_block *next;
	size_t used, size;
	max_align_t data[];
};

static void arena_release(void *p)
{
	imap_arena_free(p);
}

struct imap_arena *imap_arena_new(void)
{
	struct imap_arena *a = xcalloc(1, sizeof(*a));

	a->release = arena_release;
	return a;
}

void imap_arena_free(struct imap_arena *a)
{
	if (!a)
		return;
	while (a->blocks) {
		struct imap_arena_block *next = a->blocks->next;

		free(a->blocks);
		a->blocks = next;
	}
	free(a);
}

void *imap_arena_alloc(struct imap_arena *a, size_t n)
{
	struct imap_arena_block *b = a->blocks;
	size_t align = sizeof(max_align_t);
	void *p;

	n = (n + align - 1) / align * align;
	if (!b || b->size - b->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = xmalloc(sizeof(*b) + size);
		b->used = 0;
		b->size = size;
		b->next = a->blocks;
		a->blocks = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

const char *imap_arena_strndup(struct imap_arena *a, const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = imap_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

const char *imap_arena_strdup(struct imap_arena *a, const char *s)
{
	return s ? imap_arena_strndup(a, s, strlen(s)) : NULL;
}

/* ---- building a page ---------------------------------------------------------- */

void imap_page_init(struct imap_page *b, struct driver_page *page)
{
	memset(page, 0, sizeof(*page));
	b->page = page;
	b->arena = imap_arena_new();
	b->cap = 0;
}

struct mail_message *imap_page_add(struct imap_page *b)
{
	struct driver_page *p = b->page;

	if (p->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		p->items = xrealloc(p->items, b->cap * sizeof(*p->items));
	}
	mail_message_init(&p->items[p->n]);
	return &p->items[p->n++];
}

void imap_page_truncate(struct imap_page *b, size_t n)
{
	b->page->n = n < b->page->n ? b->page->n - n : 0;
}

void imap_page_finish(struct imap_page *b, bool ok)
{
	if (!ok) {
		free(b->page->items);
		b->page->items = NULL;
		b->page->n = 0;
	}
	b->page->priv = b->arena;
	b->arena = NULL;
}

/* ---- ordering ------------------------------------------------------------------- */

struct keyed {
	uint32_t uid;
	size_t index;
};

static int by_uid_desc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	return x->uid < y->uid ? 1 : x->uid > y->uid ? -1 : 0;
}

void imap_page_sort_desc(struct imap_page *b, uint32_t *uids)
{
	struct driver_page *p = b->page;
	struct keyed *k;
	struct mail_message *sorted;

	if (p->n < 2)
		return;
	k = xmalloc(p->n * sizeof(*k));
	for (size_t i = 0; i < p->n; i++)
		k[i] = (struct keyed){ uids[i], i };
	qsort(k, p->n, sizeof(*k), by_uid_desc);
	sorted = xmalloc(b->cap * sizeof(*sorted));
	for (size_t i = 0; i < p->n; i++) {
		sorted[i] = p->items[k[i].index];
		uids[i] = k[i].uid;
	}
	free(p->items);
	p->items = sorted;
	free(k);
}
