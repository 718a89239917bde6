/*
 * strmap.c — chained string hash map (see strmap.h). FNV-1a hashing,
 * doubling when the load factor passes 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "strmap.h"

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void smap_init(struct strmap *m)
{
	m->buckets = NULL;
	m->nbuckets = 0;
	m->count = 0;
}

static struct strmap_entry **find_slot(const struct strmap *m, const char *key)
{
	struct strmap_entry **pp;

	if (!m->nbuckets)
		return NULL;
	pp = &m->buckets[hash_key(key) & (m->nbuckets - 1)];
	while (*pp && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->next;
	return pp;
}

void *smap_get(const struct strmap *m, const char *key)
{
	struct strmap_entry **pp = find_slot(m, key);

	return pp && *pp ? (*pp)->value : NULL;
}

static void grow(struct strmap *m)
{
	size_t n = m->nbuckets ? m->nbuckets * 2 : 64;
	/* the buckets are pointers: an element is one */
	struct strmap_entry **nb = xcalloc(n, sizeof(*nb)); /* NOLINT(bugprone-sizeof-expression) */

	for (size_t i = 0; i < m->nbuckets; i++) {
		struct strmap_entry *e = m->buckets[i];

		while (e) {
			struct strmap_entry *next = e->next;
			size_t b = hash_key(e->key) & (n - 1);

			e->next = nb[b];
			nb[b] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = nb;
	m->nbuckets = n;
}

void *smap_put(struct strmap *m, const char *key, void *value)
{
	struct strmap_entry **pp;
	struct strmap_entry *e;

	if (m->count >= m->nbuckets)
		grow(m);
	pp = find_slot(m, key);
	if (*pp) {
		void *old = (*pp)->value;

		(*pp)->value = value;
		return old;
	}
	e = xmalloc(sizeof(*e));
	e->key = xstrdup(key);
	e->value = value;
	e->next = NULL;
	*pp = e;
	m->count++;
	return NULL;
}

void *smap_remove(struct strmap *m, const char *key)
{
	struct strmap_entry **pp = find_slot(m, key);
	struct strmap_entry *e;
	void *v;

	if (!pp || !*pp)
		return NULL;
	e = *pp;
	*pp = e->next;
	v = e->value;
	free(e->key);
	free(e);
	m->count--;
	return v;
}

void smap_foreach(struct strmap *m,
		    int (*fn)(const char *key, void *value, void *ctx),
		    void *ctx)
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct strmap_entry **pp = &m->buckets[i];

		while (*pp) {
			struct strmap_entry *e = *pp;

			if (fn(e->key, e->value, ctx)) {
				*pp = e->next;
				free(e->key);
				free(e);
				m->count--;
			} else {
				pp = &e->next;
			}
		}
	}
}

void smap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct strmap_entry *e = m->buckets[i];

		while (e) {
			struct strmap_entry *next = e->next;

			free(e->key);
			free(e);
			e = next;
		}
	}
	free(m->buckets);
	smap_init(m);
}
