/*
 * service_sync.c — which accounts may be synced now, and why not: not
 * authorized, auth_invalid, throttled until a time Microsoft gave, the
 * provider not configured, or nothing to sync. The same rules for `sync`,
 * `serve` and the API's "sync now".
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/provider.h"
#include "inboxsync/service.h"
#include "inboxsync/timeutil.h"

static int allowed(const struct auth_env *env, const struct store_account *a,
		   unsigned flags, struct err *e)
{
	if (a->state == STORE_STATE_AUTH_INVALID) {
		err_set(e, ERR_AUTH, "auth_invalid", "'%s' is auth_invalid: background "
			"sync is suspended (%.300s)", a->name, a->state_reason);
		return err_set_fix(e, FIX_REAUTHORIZE, a->name);
	}
	if (!a->authorized_at) {
		err_set(e, ERR_AUTH, "auth_required", "'%s' is not authorized%s", a->name,
			a->state == STORE_STATE_STOPPED ? " (synchronization was stopped)" : "");
		return err_set_fix(e, FIX_AUTHORIZE, a->name);
	}
	if (a->throttled_until > time_now() && !(flags & SERVICE_SYNC_WAIT_THROTTLED)) {
		char when[TIME_RFC3339_LEN];

		time_format_rfc3339(a->throttled_until, when);
		err_set(e, ERR_THROTTLED, "throttled", "Microsoft asked to wait with "
			"'%s' until %s (Retry-After)", a->name, when);
		e->retry_after_s = (int)(a->throttled_until - time_now());
		return err_set_fix_at(e, FIX_RETRY_AT, a->throttled_until);
	}
	return provider_require(env->store, a->transport, NULL, e);
}

int service_sync_allowed(const struct auth_env *env, const struct store_account *a,
			 struct err *e)
{
	return allowed(env, a, 0, e);
}

/* Something to do for `a`: selected folders, or mail in its outbox. */
static int has_work(const struct auth_env *env, const struct store_account *a,
		    bool *work, struct err *e)
{
	struct store_outbox *open;
	long long selected = 0;
	size_t n = 0;

	*work = false;
	if (store_count_selected_folders(env->store, a->id, &selected, e) < 0)
		return -1;
	if (selected) {
		*work = true;
		return 0;
	}
	if (store_outbox_list_open(env->store, a->id, INT64_MAX, &open, &n, e) < 0)
		return -1;
	store_outbox_list_free(open, n);
	*work = n > 0;
	return 0;
}

int service_sync_targets(const struct auth_env *env, const struct service_actor *who,
			 const char *what, unsigned flags, struct store_account **accounts,
			 size_t *n_accounts, int64_t **ids, size_t *n_ids,
			 void (*skipped)(void *ctx, const struct service_skip *s),
			 void *ctx, struct err *e)
{
	struct store_account one;

	*accounts = NULL;
	*ids = NULL;
	*n_accounts = *n_ids = 0;
	if (what) {
		if (service_account_find(env, who, what, NULL, &one, e) < 0 ||
		    allowed(env, &one, flags, e) < 0)
			return -1;
		*accounts = xmalloc(sizeof(**accounts));
		(*accounts)[0] = one;
		*n_accounts = 1;
	} else if (service_account_list(env, who, accounts, n_accounts, e) < 0) {
		return -1;
	}
	*ids = xcalloc(*n_accounts ? *n_accounts : 1, sizeof(**ids));
	for (size_t i = 0; i < *n_accounts; i++) {
		const struct store_account *a = &(*accounts)[i];
		struct service_skip s = { .account = a };
		bool work;

		err_clear(&s.why);
		if (!what && allowed(env, a, flags, &s.why) < 0) {
			if (skipped)
				skipped(ctx, &s);
			continue;
		}
		if (has_work(env, a, &work, e) < 0)
			return -1;
		if (!work) {
			err_set(&s.why, ERR_PERMANENT, "no_folders", "no folders selected "
				"for '%s'", a->name);
			err_set_fix(&s.why, FIX_SELECT_FOLDERS, a->name);
			if (skipped)
				skipped(ctx, &s);
			continue;
		}
		(*ids)[(*n_ids)++] = a->id;
	}
	return 0;
}
