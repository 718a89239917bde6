/*
 * text_cache.h — inside src/service: looking up and remembering a
 * message's rendered text in a service_text_cache (service_text_cache.c),
 * for service_message_text.c.
 */
#ifndef INBOXSYNC_SERVICE_TEXT_CACHE_H
#define INBOXSYNC_SERVICE_TEXT_CACHE_H

#include <stddef.h>
#include "inboxsync/buf.h"
#include "inboxsync/service.h"

/* Append the text remembered for `m` to `out`: 1 when there is one for
 * this row with exactly this content, 0 when not (or when it does not fit
 * in `out`; `out` is then unchanged). Thread-safe. */
int service_text_cache_get(struct service_text_cache *c, const struct store_message *m,
			   struct buf *out);

/* Remember `text` (len bytes) as the rendering of `m`, replacing what its
 * slot held; silently nothing when the message is too large to remember or
 * the cache is at its byte budget. Thread-safe. */
void service_text_cache_put(struct service_text_cache *c, const struct store_message *m,
			    const char *text, size_t len);

#endif
