/*
 * engine_internal.h — pieces of the sync engine shared between its files:
 * applying a page with its cursor in one transaction, applying a listing,
 * resolving orphans, and recording the account's state after a pass.
 */
#ifndef INBOXSYNC_ENGINE_INTERNAL_H
#define INBOXSYNC_ENGINE_INTERNAL_H

#include "inboxsync/engine.h"
#include "inboxsync/store.h"

/* Apply a page of a round of `f` and store the cursor after it, in one
 * transaction: removed items become orphans, others are upserted with the
 * round's generation; a done cursor makes the folder live and, for a fresh
 * round, sweeps what the round did not see — unless that is more than
 * ENGINE_SWEEP_GUARD_PERCENT of the folder and at least
 * ENGINE_SWEEP_GUARD_MIN messages: then the server's count of the folder
 * must confirm it. Returns 0 (updates f: phase, cursor, round_fresh; and
 * r), 1 when nothing was committed because the count is needed (call
 * again with it in `confirmed`; -1 = not asked), or -1 with `e`
 * ("sweep_refused" when the count does not confirm). `phase` is the phase
 * while the round goes on. */
int engine_apply_page(struct store *st, int64_t account_id,
		      struct store_folder *f, struct driver_page *pg,
		      enum store_phase phase, long long confirmed,
		      struct engine_result *r, struct err *e);

/* Apply a listing (no cursor) to `f` in one transaction. */
int engine_apply_listing(struct store *st, int64_t account_id,
			 const struct store_folder *f, const struct driver_page *pg,
			 struct engine_result *r, struct err *e);

/* Decide the fate of orphaned messages (removed from their folder): moved
 * to a selected folder → one row moves; moved elsewhere or gone → deleted
 * locally. Batched lookups; items whose lookup failed stay orphans. */
int engine_resolve_orphans(struct store *st, struct driver *d,
			   int64_t account_id, struct engine_result *r,
			   struct err *e);

/* Fetch and cache the bodies of the newest `limit` messages of a folder
 * that have none yet. */
int engine_prefetch_bodies(struct store *st, struct driver *d,
			   int64_t account_id, int64_t folder_id, size_t limit,
			   struct err *e);

/* Fetch one body and cache it. */
int engine_cache_body(struct store *st, struct driver *d, int64_t account_id,
		      const char *remote_id, struct err *e);

#endif
