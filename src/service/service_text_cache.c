/*
 * service_text_cache.c — the rendered text of messages the API listed
 * recently, by store row id, so that the same page asked for again costs
 * copies instead of encoding. An entry holds, next to the text, every
 * input of the rendering (each field's bytes with its length, flags and
 * times) and is used only when the message as read now has exactly those
 * inputs: the cache memoizes a pure function and needs no invalidation (the
 * change feed would not do: bodies fetched, folders renamed or swept and
 * orphan marks change a listed message without an event). Direct-mapped,
 * a byte budget, one lock per stripe of slots.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "service/text_cache.h"

#define CACHE_STRIPES 64
#define KEY_MAX 4096                   /* longer inputs are not remembered */
#define TEXT_MAX (16 * 1024)

struct text_entry {
	int64_t id;                        /* 0 = empty */
	uint32_t key_len, text_len;
	char *blob;                        /* key bytes, then text bytes */
};

struct service_text_cache {
	size_t slots;
	size_t max_bytes;
	atomic_size_t bytes;               /* blobs held */
	pthread_mutex_t locks[CACHE_STRIPES];
	struct text_entry *entries;
};

struct service_text_cache *service_text_cache_new(size_t slots, size_t max_bytes)
{
	struct service_text_cache *c = xcalloc(1, sizeof(*c));

	c->slots = slots ? slots : 1;
	c->max_bytes = max_bytes;
	atomic_init(&c->bytes, 0);
	for (size_t i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_init(&c->locks[i], NULL);
	c->entries = xcalloc(c->slots, sizeof(*c->entries));
	return c;
}

void service_text_cache_free(struct service_text_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->slots; i++)
		free(c->entries[i].blob);
	for (size_t i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_destroy(&c->locks[i]);
	free(c->entries);
	free(c);
}

/* The rendering's inputs as bytes, written into key[KEY_MAX]. */
struct key_writer {
	char *key;
	size_t len;
	bool full;
};

static void key_bytes(struct key_writer *k, const void *p, size_t n)
{
	if (k->full || n > KEY_MAX - k->len) {
		k->full = true;
		return;
	}
	memcpy(k->key + k->len, p, n);
	k->len += n;
}

static void key_int(struct key_writer *k, int64_t v)
{
	key_bytes(k, &v, sizeof(v));
}

/* NULL and "" differ (null and "" in the text): -1 is NULL's length. */
static void key_str(struct key_writer *k, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	key_int(k, s ? (int64_t)n : -1);
	if (s)
		key_bytes(k, s, n);
}

static void key_addresses(struct key_writer *k, const struct mail_address_list *l)
{
	key_int(k, (int64_t)l->n);
	for (size_t i = 0; i < l->n; i++) {
		key_str(k, l->items[i].name);
		key_str(k, l->items[i].address);
	}
}

/* Everything service_message_text reads of `sm`; false when too long. */
static bool message_key(const struct store_message *sm, char key[KEY_MAX], size_t *len)
{
	const struct mail_message *m = &sm->m;
	struct key_writer k = { key, 0, false };

	key_str(&k, m->remote_id);
	key_str(&k, sm->folder_path);
	key_str(&k, m->internet_message_id);
	key_str(&k, m->conversation_id);
	key_str(&k, m->subject);
	key_str(&k, m->from.name);
	key_str(&k, m->from.address);
	key_addresses(&k, &m->to);
	key_addresses(&k, &m->cc);
	key_int(&k, m->received_at);
	key_int(&k, m->sent_at);
	key_int(&k, (m->is_read == 1) | (m->is_flagged == 1) << 1 |
		    (m->has_attachments == 1) << 2 | (int)sm->body_fetched << 3 |
		    (int)sm->pending << 4);
	key_str(&k, m->preview);
	key_int(&k, (int64_t)m->categories.n);
	for (size_t i = 0; i < m->categories.n; i++)
		key_str(&k, m->categories.items[i]);
	*len = k.len;
	return !k.full;
}

static size_t slot_of(const struct service_text_cache *c, int64_t id)
{
	return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 17) % c->slots;
}

static pthread_mutex_t *lock_of(struct service_text_cache *c, size_t slot)
{
	return &c->locks[slot % CACHE_STRIPES];
}

int service_text_cache_get(struct service_text_cache *c, const struct store_message *m,
			   struct buf *out)
{
	char key[KEY_MAX];
	size_t len, slot;
	struct text_entry *t;
	int hit = 0;

	if (m->id <= 0 || !message_key(m, key, &len))
		return 0;
	slot = slot_of(c, m->id);
	t = &c->entries[slot];
	pthread_mutex_lock(lock_of(c, slot));
	if (t->id == m->id && t->key_len == len && memcmp(t->blob, key, len) == 0 &&
	    buf_append(out, t->blob + len, t->text_len, NULL) == 0)
		hit = 1;
	pthread_mutex_unlock(lock_of(c, slot));
	return hit;
}

void service_text_cache_put(struct service_text_cache *c, const struct store_message *m,
			    const char *text, size_t text_len)
{
	char key[KEY_MAX];
	size_t len, slot, size, held;
	struct text_entry *t;
	char *blob, *old;

	if (m->id <= 0 || text_len > TEXT_MAX || !message_key(m, key, &len))
		return;
	size = len + text_len;
	blob = xmalloc(size);
	memcpy(blob, key, len);
	memcpy(blob + len, text, text_len);
	slot = slot_of(c, m->id);
	t = &c->entries[slot];
	pthread_mutex_lock(lock_of(c, slot));
	old = t->blob;
	held = old ? (size_t)t->key_len + t->text_len : 0;
	if (atomic_load(&c->bytes) - held + size > c->max_bytes) {
		old = blob; /* over the budget: keep what the slot holds */
	} else {
		atomic_fetch_sub(&c->bytes, held);
		atomic_fetch_add(&c->bytes, size);
		t->id = m->id;
		t->key_len = (uint32_t)len;
		t->text_len = (uint32_t)text_len;
		t->blob = blob;
	}
	pthread_mutex_unlock(lock_of(c, slot));
	free(old);
}
