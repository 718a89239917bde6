/*
 * engine_folders.c — `folders fetch`: the mailbox's folder tree into the
 * store (display paths from parents, roles from what the server says,
 * renames and deletions followed), with Inbox and Sent Items selected
 * when no folder of the account is selected yet (a first fetch, or the
 * first after a stop: authorizing again gives what the first time gave).
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/engine.h"
#include "inboxsync/log.h"

/* A folder as listed, kept until the whole listing has arrived. */
struct listed_folder {
	char *remote_id, *parent_remote_id, *name, *path;
	enum mail_role role;
	long long total, unread;
};

struct listing {
	struct listed_folder *items;
	size_t n, cap;
};

static const char *path_of(const struct listing *l, const char *remote_id)
{
	for (size_t i = 0; remote_id && *remote_id && i < l->n; i++)
		if (strcmp(l->items[i].remote_id, remote_id) == 0)
			return l->items[i].path;
	return NULL;
}

/* Collect one folder; parents come before their children. */
static int on_folder(void *ctx, const struct mail_folder *f)
{
	struct listing *l = ctx;
	const char *parent_path = path_of(l, f->parent_remote_id);
	struct listed_folder *it;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	it = &l->items[l->n++];
	it->remote_id = xstrdup(f->remote_id);
	it->parent_remote_id = xstrdup(parent_path ? f->parent_remote_id : "");
	it->name = xstrdup(f->name);
	it->role = f->role;
	it->path = parent_path ? xasprintf("%s/%s", parent_path, f->name)
			       : xstrdup(f->name);
	it->total = f->total;
	it->unread = f->unread;
	return 0;
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].remote_id);
		free(l->items[i].parent_remote_id);
		free(l->items[i].name);
		free(l->items[i].path);
	}
	free(l->items);
}

/* Write one listed folder; select it when nothing is selected yet and its
 * role is one a fresh account starts with. */
static int apply_folder(struct store *st, int64_t account_id,
			const struct listed_folder *it, bool preselect,
			struct err *e)
{
	struct store_folder_in in = {
		.f = {
			.remote_id = it->remote_id,
			.parent_remote_id = it->parent_remote_id,
			.name = it->name,
			.role = it->role,
			.total = it->total,
			.unread = it->unread,
		},
		.path = it->path,
	};
	struct store_folder row;

	if (store_put_folder(st, account_id, &in, NULL, e) < 0)
		return -1;
	if (!preselect || !mail_role_preselected(it->role))
		return 0;
	if (store_find_folder_by_remote(st, account_id, it->remote_id, &row, e) != 1)
		return -1;
	store_folder_clear(&row);
	return store_select_folder(st, row.id, true, it->role, e);
}

int engine_scan_folders(struct store *st, struct driver *d, int64_t account_id,
			int *n_folders, struct err *e)
{
	struct listing l = { 0 };
	long long deleted = 0, selected = 0;
	int rc = -1;

	if (store_count_selected_folders(st, account_id, &selected, e) < 0)
		return -1;
	/* The whole listing is read first (network), then applied in one
	 * transaction: a failure midway leaves the old tree intact. */
	if (driver_list_folders(d, on_folder, &l, e) < 0)
		goto out;
	if (store_begin(st, e) < 0)
		goto out;
	if (store_begin_folder_scan(st, account_id, e) < 0)
		goto rollback;
	for (size_t i = 0; i < l.n; i++)
		if (apply_folder(st, account_id, &l.items[i], selected == 0, e) < 0)
			goto rollback;
	if (store_end_folder_scan(st, account_id, &deleted, e) < 0)
		goto rollback;
	if ((rc = store_commit(st, e)) == 0 && deleted)
		log_info("sync", "%lld folders were deleted on the server", deleted);
	goto out;
rollback:
	store_rollback(st);
out:
	if (n_folders)
		*n_folders = (int)l.n;
	listing_free(&l);
	return rc;
}

int engine_fetch_folders(const struct auth_env *env, int64_t account_id,
			 int *n_folders, struct err *e)
{
	struct store_account a;
	struct account_conn c;
	int rc = store_get_account(env->store, account_id, &a, e);

	if (rc <= 0)
		return rc < 0 ? -1 : err_set(e, ERR_PERMANENT, "not_found", "no such account");
	if (account_connect(env, &a, &c, e) < 0)
		return -1;
	rc = engine_scan_folders(env->store, c.driver, account_id, n_folders, e);
	account_disconnect(&c);
	return rc;
}
