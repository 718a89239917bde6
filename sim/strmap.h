/*
 * strmap.h — a small string-keyed hash map (chained, power-of-two buckets).
 * Owns copies of its keys, never its values: the caller frees values (use
 * smap_foreach before smap_free). Not thread-safe; m365sim holds the
 * world lock around every use.
 */
#ifndef SIM_STRMAP_H
#define SIM_STRMAP_H

#include <stddef.h>

struct strmap_entry {
	char *key;
	void *value;
	struct strmap_entry *next;
};

struct strmap {
	struct strmap_entry **buckets;
	size_t nbuckets;   /* power of two, or 0 before the first insert */
	size_t count;
};

/* Initialise an empty map (allocates nothing). */
void smap_init(struct strmap *m);

/* The value stored under `key`, or NULL. */
void *smap_get(const struct strmap *m, const char *key);

/* Store `value` under `key` (key copied). Returns the previous value for
 * that key (caller frees it), or NULL. */
void *smap_put(struct strmap *m, const char *key, void *value);

/* Remove `key`; returns its value (caller frees) or NULL when absent. */
void *smap_remove(struct strmap *m, const char *key);

/* Call fn(key, value, ctx) for each entry. When fn returns non-zero the
 * entry is removed from the map (fn has taken care of the value). */
void smap_foreach(struct strmap *m,
		    int (*fn)(const char *key, void *value, void *ctx),
		    void *ctx);

/* Free the map's own memory (keys, buckets); values are not touched. */
void smap_free(struct strmap *m);

#endif
