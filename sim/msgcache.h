/*
 * msgcache.h — rendered messages kept for the next page that shows them.
 * One entry per message: the JSON text msgjson wrote for it under one set
 * of render options, and the message state it was written from. A page
 * asking for the same message in the same state with the same options
 * copies the text instead of rendering it again (a client's next round,
 * a test or benchmark repeating a sync). Only seeded messages whose
 * content was never edited are kept: for them the stamp below is
 * everything the text depends on. Bounded per mailbox by the
 * render_cache_mb setting; when full it is emptied and filled again.
 */
#ifndef SIM_MSGCACHE_H
#define SIM_MSGCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/buf.h"

/* What a seeded message's text depends on besides its number. */
struct msgcache_stamp {
	uint64_t opts;        /* render options (msgjson) */
	int64_t received;
	uint32_t modified;
	uint32_t folder;
	uint32_t gen;
	uint32_t version;
	uint16_t flags;
};

struct msgcache;

/* An empty cache (allocates only its fixed index). */
struct msgcache *msgcache_new(void);
/* Free every entry and the cache (NULL-safe). */
void msgcache_free(struct msgcache *mc);
/* Drop every entry (thread-safe). */
void msgcache_clear(struct msgcache *mc);

/* If message `num` is cached with exactly `st`, append its text to `out`
 * and return true. Thread-safe; never blocks for long. */
bool msgcache_get(struct msgcache *mc, uint32_t num,
		  const struct msgcache_stamp *st, struct buf *out);

/* Remember `len` bytes of text for message `num` in state `st`, replacing
 * what was kept for it. When that would take the cache past `limit`
 * bytes, everything else is dropped first; text longer than the limit is
 * not kept. Thread-safe. */
void msgcache_put(struct msgcache *mc, uint32_t num,
		  const struct msgcache_stamp *st, const char *text,
		  size_t len, size_t limit);

/* Bytes of text (and entry headers) held now. */
size_t msgcache_bytes(const struct msgcache *mc);

#endif
