/*
 * engine_apply.c — turning driver pages into store rows. A page of a round
 * and the cursor after it are committed together (DESIGN.md invariant 1);
 * a fresh round ends with mark-and-sweep; orphans (removed from a folder)
 * are resolved into moves or deletions by looking them up.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/crashpoint.h"
#include "inboxsync/log.h"
#include "sync/engine_internal.h"

/* The page's counts into the pass's result. */
static void count_page(const struct store_page_result *pr, struct engine_result *r)
{
	r->created += pr->created;
	r->updated += pr->updated + pr->replaced;
	r->moved += pr->moved;
}

/* Upsert or orphan every item (inside the caller's transaction). Messages
 * first stored by the folder's first round are backfill (INTERFACE.md
 * "Events"). */
static int apply_items(struct store *st, int64_t account_id,
		       const struct store_folder *f, const struct driver_page *pg,
		       struct engine_result *r, struct err *e)
{
	struct store_page_result pr = { 0 };

	if (store_put_messages(st, account_id, f->id, pg->items, pg->n, f->round_gen,
			       f->first_round, &pr, e) < 0)
		return -1;
	count_page(&pr, r);
	return 0;
}

/* The end of a fresh round would delete `n` of the folder's `stored`
 * messages. A large share is confirmed against the server's own count
 * (`confirmed`, -1 = not asked yet) before anything goes: a garbled or
 * hostile answer must never cost local mail. Returns 0 to sweep, 1 to ask
 * for the count first, -1 (with `e`) to refuse. */
static int sweep_guard(const struct store_folder *f, long long n, long long stored,
		       long long confirmed, struct err *e)
{
	long long remaining = stored - n, off, slack;

	if (n < ENGINE_SWEEP_GUARD_MIN || n * 100 <= stored * ENGINE_SWEEP_GUARD_PERCENT)
		return 0;
	if (confirmed < 0)
		return 1;
	off = confirmed > remaining ? confirmed - remaining : remaining - confirmed;
	slack = remaining / 50 > 10 ? remaining / 50 : 10; /* mail arriving meanwhile */
	if (off <= slack)
		return 0;
	err_set(e, ERR_TRANSIENT, "sweep_refused", "%.200s: the server's listing ended "
		"with %lld of the %lld local messages, but the server counts %lld in the "
		"folder; nothing was deleted and the last page will be asked again",
		f->path, remaining, stored, confirmed);
	return err_set_fix(e, FIX_RETRY, NULL);
}

/* The writes of engine_apply_page inside its transaction: 0 done, 1 the
 * server's count is needed first, -1 error. */
static int apply_in_tx(struct store *st, int64_t account_id, struct store_folder *f,
		       struct driver_page *pg, enum store_phase next_phase,
		       const char *cursor, long long confirmed, long long *swept,
		       struct engine_result *r, struct err *e)
{
	struct store_folder now;
	long long n = 0;
	int guard;

	if (apply_items(st, account_id, f, pg, r, e) < 0 ||
	    store_set_folder_sync(st, f->id, next_phase, cursor, e) < 0)
		return -1;
	if (!pg->done_cursor || !f->round_fresh)
		return 0;
	if (store_count_unswept(st, f->id, &n, e) < 0 ||
	    store_get_folder(st, f->id, &now, e) != 1)
		return -1;
	store_folder_clear(&now);
	guard = sweep_guard(f, n, now.synced, confirmed, e);
	if (guard != 0)
		return guard;
	return store_sweep_folder(st, f->id, swept, e);
}

int engine_apply_page(struct store *st, int64_t account_id,
		      struct store_folder *f, struct driver_page *pg,
		      enum store_phase phase, long long confirmed,
		      struct engine_result *r, struct err *e)
{
	const char *cursor = pg->done_cursor ? pg->done_cursor : pg->next_cursor;
	enum store_phase next_phase = pg->done_cursor ? STORE_PHASE_LIVE : phase;
	struct engine_result before = *r;
	long long swept = 0;
	int rc;

	if (!cursor)
		return err_set(e, ERR_BUG, "no_cursor", "a page of changes without a cursor");
	/* Lost to a power failure, the page would be fetched again with the
	 * cursor before it. */
	if (store_begin_redoable(st, e) < 0)
		return -1;
	rc = apply_in_tx(st, account_id, f, pg, next_phase, cursor, confirmed, &swept, r, e);
	if (rc != 0) {
		store_rollback(st);
		*r = before;
		return rc;
	}
	if (store_commit(st, e) < 0)
		return -1;
	crashpoint("engine:after_page");
	if (pg->done_cursor && f->round_fresh) {
		f->round_fresh = false;
		r->deleted += swept;
		if (swept)
			log_info("sync", "%s: %lld messages no longer on the server were "
				 "removed (reconcile)", f->path, swept);
	}
	f->phase = next_phase;
	if (next_phase == STORE_PHASE_LIVE)
		f->first_round = false;
	free(f->cursor);
	f->cursor = xstrdup(cursor);
	r->pages++;
	return 0;
}

int engine_apply_listing(struct store *st, int64_t account_id,
			 const struct store_folder *f, const struct driver_page *pg,
			 struct engine_result *r, struct err *e)
{
	if (pg->n == 0)
		return 0;
	if (store_begin_redoable(st, e) < 0)
		return -1;
	if (apply_items(st, account_id, f, pg, r, e) < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, e);
}

/* Where one located orphan goes. */
static int settle_orphan(struct store *st, int64_t account_id,
			 const struct driver_locate *it, struct engine_result *r,
			 struct err *e)
{
	struct store_folder dest;
	int found;

	if (it->gone) {
		r->deleted++;
		return store_delete_message(st, account_id, it->remote_id, e);
	}
	found = store_find_folder_by_remote(st, account_id, it->folder_remote_id,
					    &dest, e);
	if (found < 0)
		return -1;
	store_folder_clear(&dest);
	if (found && dest.selected) {
		r->moved++;
		return store_move_message(st, account_id, it->remote_id, dest.id,
					  it->new_remote_id, e);
	}
	/* Moved to a folder we do not sync: it leaves the local view. */
	r->deleted++;
	return store_delete_message(st, account_id, it->remote_id, e);
}

int engine_resolve_orphans(struct store *st, struct driver *d,
			   int64_t account_id, struct engine_result *r,
			   struct err *e)
{
	size_t batch = d->limits.max_locate ? d->limits.max_locate : 1;

	for (int round = 0; round < 50; round++) {
		struct driver_locate *items;
		size_t n, settled = 0;
		char **ids;
		int rc = 0;

		if (store_list_orphans(st, account_id, batch, &ids, &n, e) < 0)
			return -1;
		if (n == 0) {
			free(ids);
			return 0;
		}
		items = xcalloc(n, sizeof(*items));
		for (size_t i = 0; i < n; i++)
			items[i].remote_id = ids[i];
		rc = driver_locate_messages(d, items, n, e);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if (items[i].rc != 0) {
				/* Stop here; the rest is retried next pass. */
				*e = items[i].err;
				rc = -1;
			} else if (settle_orphan(st, account_id, &items[i], r, e) < 0) {
				rc = -1;
			} else {
				settled++;
			}
		}
		for (size_t i = 0; i < n; i++) {
			free(items[i].folder_remote_id);
			free(items[i].new_remote_id);
			free(ids[i]);
		}
		free(items);
		free(ids);
		if (rc < 0)
			return err_prefix(e, "finding where %zu removed messages went "
					  "(%zu settled): ", n, settled);
	}
	r->stopped_early = true; /* more than 50 batches: the rest next pass */
	return 0;
}
