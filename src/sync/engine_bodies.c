/*
 * engine_bodies.c — message bodies on demand: fetched when a message is
 * opened (`messages show`) and cached, or prefetched for the newest
 * messages of a folder when configured. Metadata sync never downloads
 * bodies. Prefetching asks for them in batches (Graph: one $batch of 20
 * per request) and stores each batch in one transaction.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
#include "inboxsync/alloc.h"
#include "sync/engine_internal.h"

int engine_cache_body(struct store *st, struct driver *d, int64_t account_id,
		      const char *remote_id, struct err *e)
{
	struct driver_body b;
	int rc;

	if (driver_fetch_body(d, remote_id, &b, e) < 0)
		return -1;
	rc = store_put_body(st, account_id, remote_id,
			    b.content_type ? b.content_type : "text",
			    b.content ? b.content : "", b.len, e);
	driver_body_free(&b);
	return rc;
}

/* Store the bodies of one batch in one transaction (they can be fetched
 * again: redoable). Items that failed are left out; the first failure
 * other than a message gone since is the batch's. */
static int store_bodies(struct store *st, int64_t account_id,
			struct driver_body_fetch *items, size_t n, struct err *e)
{
	struct err first = { 0 };
	int rc;

	if (store_begin_redoable(st, e) < 0)
		return -1;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct driver_body *b = &items[i].body;

		if (items[i].rc < 0) {
			if (!first.class && !err_is(&items[i].err, "not_found"))
				first = items[i].err;
			continue;
		}
		rc = store_put_body(st, account_id, items[i].remote_id,
				    b->content_type ? b->content_type : "text",
				    b->content ? b->content : "", b->len, e);
	}
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st, e) < 0)
		return -1;
	if (first.class) {
		*e = first;
		return -1;
	}
	return 0;
}

int engine_prefetch_bodies(struct store *st, struct driver *d,
			   int64_t account_id, int64_t folder_id, size_t limit,
			   struct err *e)
{
	size_t batch = d->limits.max_bodies ? d->limits.max_bodies : 1;
	struct driver_body_fetch *items;
	char **ids;
	size_t n;
	int rc = 0;

	if (store_list_missing_bodies(st, folder_id, limit, &ids, &n, e) < 0)
		return -1;
	items = xcalloc(batch, sizeof(*items));
	for (size_t at = 0; rc == 0 && at < n; at += batch) {
		size_t k = n - at < batch ? n - at : batch;

		for (size_t i = 0; i < k; i++)
			items[i].remote_id = ids[at + i];
		rc = driver_fetch_bodies(d, items, k, e);
		if (rc == 0)
			rc = store_bodies(st, account_id, items, k, e);
		for (size_t i = 0; i < k; i++)
			driver_body_free(&items[i].body);
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(items);
	return rc;
}

int engine_fetch_body(const struct auth_env *env, int64_t account_id,
		      const char *remote_id, struct err *e)
{
	struct store_message m;
	struct store_account a;
	struct account_conn c;
	int rc;

	rc = store_get_message(env->store, account_id, remote_id, &m, e);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(e, ERR_PERMANENT, "not_found",
					     "no message with id '%.200s' in this account",
					     remote_id);
	rc = m.body_fetched || m.pending;
	store_message_clear(&m);
	if (rc)
		return 0;
	if (store_get_account(env->store, account_id, &a, e) != 1 ||
	    account_connect(env, &a, &c, e) < 0)
		return -1;
	rc = engine_cache_body(env->store, c.driver, account_id, remote_id, e);
	account_disconnect(&c);
	return rc;
}
