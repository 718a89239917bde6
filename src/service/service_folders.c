/*
 * service_folders.c — reading an account's folder tree from its server and
 * choosing which folders sync under which role. The rules: a role goes
 * only with selecting; a folder selected without a role takes the one the
 * server gives it, else custom; a selection is all or nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/engine.h"
#include "inboxsync/service.h"
#include "inboxsync/timeutil.h"

/* An account waiting for its folders (authorized or confirmed, its next
 * step fetching or selecting them) says what it waits for now: a reason
 * written before the folders were read must not outlive them. */
static void note_folder_step(const struct auth_env *env, int64_t id)
{
	struct store_account a;
	struct store_folder *list = NULL;
	char reason[512], names[300] = "";
	long long selected = 0;
	size_t n = 0, at = 0;
	struct err se;

	if (store_get_account(env->store, id, &a, &se) != 1 ||
	    (a.state != STORE_STATE_AUTHORIZED && a.state != STORE_STATE_CONFIRMED) ||
	    (a.state_fix != FIX_FETCH_FOLDERS && a.state_fix != FIX_SELECT_FOLDERS &&
	     a.state_fix != FIX_NONE))
		return;
	if (store_list_folders(env->store, id, true, &list, &n, &se) < 0)
		return;
	for (size_t i = 0; i < n && at + 1 < sizeof(names); i++) {
		int w = snprintf(names + at, sizeof(names) - at, "%s%s",
				 i ? ", " : "", list[i].path);

		if (w < 0 || (size_t)w >= sizeof(names) - at) {
			snprintf(names + at, sizeof(names) - at, "%s...", i ? ", " : "");
			break;
		}
		at += (size_t)w;
	}
	selected = (long long)n;
	store_folder_list_free(list, n);
	if (selected)
		snprintf(reason, sizeof(reason), "Ready to synchronize %lld selected "
			 "folder%s (%s): the next sync brings the newest mail first, "
			 "then older mail.", selected, selected == 1 ? "" : "s", names);
	else
		snprintf(reason, sizeof(reason), "Folders fetched; none is selected "
			 "yet. Next: select the folders to synchronize.");
	store_set_account_state(env->store, id, a.state, reason,
				selected ? FIX_NONE : FIX_SELECT_FOLDERS, a.name, &se);
}

int service_folders_fetch(const struct auth_env *env, const struct store_account *a,
			  int *n_folders, struct err *e)
{
	struct err se;

	if (!a->authorized_at) {
		err_set(e, ERR_AUTH, "auth_required", "'%s' is not authorized", a->name);
		return err_set_fix(e, FIX_AUTHORIZE, a->name);
	}
	if (a->state == STORE_STATE_AUTH_INVALID) {
		err_set(e, ERR_AUTH, "auth_invalid", "'%s' is auth_invalid: %.300s",
			a->name, a->state_reason);
		return err_set_fix(e, FIX_REAUTHORIZE, a->name);
	}
	if (a->throttled_until > time_now()) {
		/* Microsoft's Retry-After holds for every request of the mailbox. */
		char when[TIME_RFC3339_LEN];

		time_format_rfc3339(a->throttled_until, when);
		err_set(e, ERR_THROTTLED, "throttled", "Microsoft asked to wait with "
			"'%s' until %s (Retry-After); the folders were not read",
			a->name, when);
		e->retry_after_s = (int)(a->throttled_until - time_now());
		return err_set_fix_at(e, FIX_RETRY_AT, a->throttled_until);
	}
	if (engine_fetch_folders(env, a->id, n_folders, e) < 0) {
		err_prefix(e, "reading the folders of '%s': ", a->name);
		store_note_account_error(env->store, a->id, e, NULL, &se);
		/* Nothing retries a fetch: the person runs it again. A
		 * Retry-After is kept on the mailbox for every process. */
		if (e->class == ERR_THROTTLED) {
			int64_t until = time_now() + (e->retry_after_s > 0 ? e->retry_after_s : 1);

			store_set_account_schedule(env->store, a->id, until, until,
						   a->backoff_s, &se);
			err_set_fix_at(e, FIX_RETRY_AT, until);
		} else if (e->class == ERR_TRANSIENT && e->fix == FIX_NONE) {
			err_set_fix(e, FIX_RETRY, NULL);
		}
		return -1;
	}
	note_folder_step(env, a->id);
	return 0;
}

int service_folders_list(const struct auth_env *env, const struct store_account *a,
			 struct store_folder **out, size_t *n, struct err *e)
{
	return store_list_folders(env->store, a->id, false, out, n, e);
}

int service_folder_find(const struct auth_env *env, const struct store_account *a,
			const char *what, struct store_folder *out, struct err *e)
{
	int rc = store_find_folder(env->store, a->id, what ? what : "", out, e);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		err_set(e, ERR_PERMANENT, "not_found", "no folder '%.200s' in account "
			"'%s' (fetch the folders again if it is new)", what ? what : "",
			a->name);
		return err_set_fix(e, FIX_FETCH_FOLDERS, a->name);
	}
	return 0;
}

int service_folders_select(const struct auth_env *env, const struct store_account *a,
			   const char *const *what, size_t n, bool selected,
			   const char *role, struct store_folder *out,
			   struct err *e)
{
	enum mail_role chosen = MAIL_ROLE_NONE;
	size_t done = 0;

	if (role && (mail_role_parse(role, &chosen) < 0 || chosen == MAIL_ROLE_NONE)) {
		err_set(e, ERR_PERMANENT, "usage", "unknown role '%.40s': choose %s",
			role, mail_role_choices());
		return err_set_fix(e, FIX_CHECK_INPUT, "choose a known role");
	}
	if (role && !selected)
		return err_set(e, ERR_PERMANENT, "usage", "a role goes with selecting a "
			       "folder, not with unselecting it");
	if (n == 0)
		return err_set(e, ERR_PERMANENT, "usage", "name at least one folder");
	if (store_begin(env->store, e) < 0)
		return -1;
	for (; done < n; done++) {
		struct store_folder f;
		enum mail_role r = chosen;

		if (service_folder_find(env, a, what[done], &f, e) < 0)
			goto fail;
		if (selected && r == MAIL_ROLE_NONE && f.role == MAIL_ROLE_NONE)
			r = f.server_role ? f.server_role : MAIL_ROLE_CUSTOM;
		if (store_select_folder(env->store, f.id, selected, r, e) < 0 ||
		    (out && store_get_folder(env->store, f.id, &out[done], e) != 1)) {
			store_folder_clear(&f);
			goto fail;
		}
		store_folder_clear(&f);
	}
	if (store_commit(env->store, e) == 0) {
		note_folder_step(env, a->id);
		return 0;
	}
fail:
	store_rollback(env->store);
	for (size_t i = 0; out && i < done; i++)
		store_folder_clear(&out[i]);
	return -1;
}
