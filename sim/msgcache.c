/*
 * msgcache.c — rendered message text kept between pages (see msgcache.h).
 * The index is two-level (chunks of 65,536 message numbers, allocated on
 * first use and never moved), so render threads under the shared world
 * lock can look up and insert concurrently; a message's slot is guarded
 * by one of 64 striped mutexes, held only to copy or swap one entry.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "msgcache.h"

#define CHUNK_BITS 16
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define NCHUNKS 4096u            /* message numbers below 2^28 are cached */
#define NSTRIPES 64u             /* divides CHUNK_SIZE */

struct entry {
	struct msgcache_stamp st;
	size_t len;
	char text[];
};

struct msgcache {
	struct entry **chunks[NCHUNKS];
	pthread_mutex_t stripes[NSTRIPES];
	pthread_mutex_t grow;        /* chunk allocation */
	size_t used;                 /* atomic: bytes held */
};

struct msgcache *msgcache_new(void)
{
	struct msgcache *mc = xcalloc(1, sizeof(*mc));

	for (size_t i = 0; i < NSTRIPES; i++)
		pthread_mutex_init(&mc->stripes[i], NULL);
	pthread_mutex_init(&mc->grow, NULL);
	return mc;
}

static size_t entry_size(const struct entry *e)
{
	return sizeof(*e) + e->len;
}

/* Free the entries of stripe s (slots s, s + NSTRIPES, ... of every
 * chunk: a chunk's size is a multiple of NSTRIPES). The caller holds the
 * stripe's lock, or is the only user left. */
static void drop_stripe(struct msgcache *mc, size_t s)
{
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct entry **chunk = __atomic_load_n(&mc->chunks[c], __ATOMIC_ACQUIRE);

		if (!chunk)
			continue;
		for (size_t i = s; i < CHUNK_SIZE; i += NSTRIPES) {
			if (!chunk[i])
				continue;
			__atomic_sub_fetch(&mc->used, entry_size(chunk[i]), __ATOMIC_RELAXED);
			free(chunk[i]);
			chunk[i] = NULL;
		}
	}
}

void msgcache_clear(struct msgcache *mc)
{
	/* one stripe at a time: lookups elsewhere go on meanwhile */
	for (size_t s = 0; s < NSTRIPES; s++) {
		pthread_mutex_lock(&mc->stripes[s]);
		drop_stripe(mc, s);
		pthread_mutex_unlock(&mc->stripes[s]);
	}
}

void msgcache_free(struct msgcache *mc)
{
	if (!mc)
		return;
	for (size_t s = 0; s < NSTRIPES; s++)
		drop_stripe(mc, s);
	for (size_t c = 0; c < NCHUNKS; c++)
		free(mc->chunks[c]);
	for (size_t i = 0; i < NSTRIPES; i++)
		pthread_mutex_destroy(&mc->stripes[i]);
	pthread_mutex_destroy(&mc->grow);
	free(mc);
}

static bool stamp_equal(const struct msgcache_stamp *a,
			const struct msgcache_stamp *b)
{
	return a->opts == b->opts && a->received == b->received &&
	       a->modified == b->modified && a->folder == b->folder &&
	       a->gen == b->gen && a->version == b->version && a->flags == b->flags;
}

bool msgcache_get(struct msgcache *mc, uint32_t num,
		  const struct msgcache_stamp *st, struct buf *out)
{
	struct entry **chunk;
	pthread_mutex_t *lock = &mc->stripes[num % NSTRIPES];
	const struct entry *e;
	bool hit = false;

	if ((num >> CHUNK_BITS) >= NCHUNKS)
		return false;
	chunk = __atomic_load_n(&mc->chunks[num >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	if (!chunk)
		return false;
	pthread_mutex_lock(lock);
	e = chunk[num & (CHUNK_SIZE - 1)];
	if (e && stamp_equal(&e->st, st))
		hit = buf_append(out, e->text, e->len, NULL) == 0;
	pthread_mutex_unlock(lock);
	return hit;
}

/* The chunk holding `num`, allocated when missing. */
static struct entry **chunk_for(struct msgcache *mc, uint32_t num)
{
	struct entry **chunk = __atomic_load_n(&mc->chunks[num >> CHUNK_BITS], __ATOMIC_ACQUIRE);

	if (chunk)
		return chunk;
	pthread_mutex_lock(&mc->grow);
	chunk = mc->chunks[num >> CHUNK_BITS];
	if (!chunk) {
		/* an array of pointers: its element is one */
		chunk = xcalloc(CHUNK_SIZE, sizeof(*chunk)); /* NOLINT(bugprone-sizeof-expression) */
		__atomic_store_n(&mc->chunks[num >> CHUNK_BITS], chunk, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&mc->grow);
	return chunk;
}

void msgcache_put(struct msgcache *mc, uint32_t num,
		  const struct msgcache_stamp *st, const char *text,
		  size_t len, size_t limit)
{
	size_t size = sizeof(struct entry) + len;
	pthread_mutex_t *lock = &mc->stripes[num % NSTRIPES];
	struct entry **chunk, *e, *old;

	if ((num >> CHUNK_BITS) >= NCHUNKS || size > limit)
		return;
	if (__atomic_load_n(&mc->used, __ATOMIC_RELAXED) + size > limit)
		msgcache_clear(mc);
	chunk = chunk_for(mc, num);
	e = xmalloc(size);
	e->st = *st;
	e->len = len;
	memcpy(e->text, text, len);
	pthread_mutex_lock(lock);
	old = chunk[num & (CHUNK_SIZE - 1)];
	chunk[num & (CHUNK_SIZE - 1)] = e;
	__atomic_add_fetch(&mc->used, size, __ATOMIC_RELAXED);
	if (old)
		__atomic_sub_fetch(&mc->used, entry_size(old), __ATOMIC_RELAXED);
	pthread_mutex_unlock(lock);
	free(old);
}

size_t msgcache_bytes(const struct msgcache *mc)
{
	return __atomic_load_n(&mc->used, __ATOMIC_RELAXED);
}
