/*
 * engine_bodies.c — message bodies on demand: fetched when a message is
 * opened (`messages show`) and cached, or prefetched for the newest
 * messages of a folder when configured. Metadata sync never downloads
 * bodies.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
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

int engine_prefetch_bodies(struct store *st, struct driver *d,
			   int64_t account_id, int64_t folder_id, size_t limit,
			   struct err *e)
{
	char **ids;
	size_t n;
	int rc = 0;

	if (store_list_missing_bodies(st, folder_id, limit, &ids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && engine_cache_body(st, d, account_id, ids[i], e) < 0 &&
		    !err_is(e, "not_found"))
			rc = -1;
		free(ids[i]);
	}
	free(ids);
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
