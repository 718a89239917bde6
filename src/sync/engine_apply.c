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

#define ORPHAN_BATCH 20

static void to_store(const struct driver_message *d, struct store_message_in *m)
{
	m->remote_id = d->remote_id;
	m->internet_message_id = d->internet_message_id;
	m->conversation_id = d->conversation_id;
	m->subject = d->subject;
	m->from_name = d->from_name;
	m->from_addr = d->from_addr;
	m->to_json = d->to_json;
	m->cc_json = d->cc_json;
	m->categories_json = d->categories_json;
	m->preview = d->preview;
	m->change_key = d->change_key;
	m->received_at = d->received_at;
	m->sent_at = d->sent_at;
	m->is_read = d->is_read;
	m->is_flagged = d->is_flagged;
	m->is_draft = d->is_draft;
	m->has_attachments = d->has_attachments;
}

static void count_outcome(char outcome, struct engine_result *r)
{
	if (outcome == 'c')
		r->created++;
	else if (outcome == 'm')
		r->moved++;
	else if (outcome == 'u' || outcome == 'r')
		r->updated++;
}

/* Upsert or orphan every item (inside the caller's transaction). */
static int apply_items(struct store *st, int64_t account_id, int64_t folder_id,
		       int64_t gen, const struct driver_page *pg,
		       struct engine_result *r, struct err *e)
{
	for (size_t i = 0; i < pg->n; i++) {
		const struct driver_message *dm = &pg->items[i];
		struct store_message_in m;
		char outcome = 0;

		if (!dm->remote_id || !*dm->remote_id)
			continue;
		if (dm->removed) {
			if (store_mark_message_removed(st, account_id, folder_id,
						       dm->remote_id, e) < 0)
				return -1;
			continue;
		}
		memset(&m, 0, sizeof(m));
		to_store(dm, &m);
		if (store_put_message(st, account_id, folder_id, &m, gen, &outcome, e) < 0)
			return -1;
		count_outcome(outcome, r);
	}
	return 0;
}

int engine_apply_page(struct store *st, int64_t account_id,
		      struct store_folder *f, struct driver_page *pg,
		      const char *phase, struct engine_result *r, struct err *e)
{
	const char *cursor = pg->done_cursor ? pg->done_cursor : pg->next_cursor;
	const char *next_phase = pg->done_cursor ? STORE_PHASE_LIVE : phase;
	long long swept = 0;

	if (!cursor)
		return err_set(e, ERR_BUG, "no_cursor", "a page of changes without a cursor");
	if (store_begin(st, e) < 0)
		return -1;
	if (apply_items(st, account_id, f->id, f->round_gen, pg, r, e) < 0 ||
	    store_set_folder_sync(st, f->id, next_phase, cursor, e) < 0 ||
	    (pg->done_cursor && f->round_fresh &&
	     store_sweep_folder(st, f->id, &swept, e) < 0)) {
		store_rollback(st);
		return -1;
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
	str_copy(f->phase, sizeof(f->phase), next_phase);
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
	if (store_begin(st, e) < 0)
		return -1;
	if (apply_items(st, account_id, f->id, f->round_gen, pg, r, e) < 0) {
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
		return store_move_message(st, account_id, it->remote_id, dest.id, e);
	}
	/* Moved to a folder we do not sync: it leaves the local view. */
	r->deleted++;
	return store_delete_message(st, account_id, it->remote_id, e);
}

int engine_resolve_orphans(struct store *st, struct driver *d,
			   int64_t account_id, struct engine_result *r,
			   struct err *e)
{
	for (int round = 0; round < 50; round++) {
		struct driver_locate items[ORPHAN_BATCH];
		size_t n, settled = 0;
		char **ids;
		int rc = 0;

		if (store_list_orphans(st, account_id, ORPHAN_BATCH, &ids, &n, e) < 0)
			return -1;
		if (n == 0) {
			free(ids);
			return 0;
		}
		memset(items, 0, sizeof(items));
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
			free(ids[i]);
		}
		free(ids);
		if (rc < 0)
			return err_prefix(e, "finding where %zu removed messages went "
					  "(%zu settled): ", n, settled);
	}
	return 0;
}
