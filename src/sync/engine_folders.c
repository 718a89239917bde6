/*
 * engine_folders.c — `folders fetch`: the mailbox's folder tree into the
 * store (display paths from parents, roles from well-known folders,
 * renames and deletions followed), with Inbox and Sent Items selected the
 * first time an account's folders are fetched.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/engine.h"
#include "inboxsync/log.h"

/* Server well-known name → our role (DESIGN.md), and whether a fresh
 * account starts with it selected. */
static const struct role_map {
	const char *well_known;
	const char *role;
	bool preselect;
} roles[] = {
	{ "inbox", "inbox", true },
	{ "sentitems", "sent", true },
	{ "drafts", "drafts", false },
	{ "deleteditems", "deleted", false },
	{ "archive", "archive", false },
	{ "junkemail", "junk", false },
};

static const struct role_map *role_for(const char *well_known)
{
	for (size_t i = 0; well_known && i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(roles[i].well_known, well_known) == 0)
			return &roles[i];
	return NULL;
}

/* A folder as listed, kept until the whole listing has arrived. */
struct listed_folder {
	char *remote_id, *parent_remote_id, *name, *well_known, *path;
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
static int on_folder(void *ctx, const struct driver_folder *f)
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
	it->well_known = xstrdup(f->well_known ? f->well_known : "");
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
		free(l->items[i].well_known);
		free(l->items[i].path);
	}
	free(l->items);
}

/* Write one listed folder; select it when it is new on a first fetch and
 * its role is preselected. */
static int apply_folder(struct store *st, int64_t account_id,
			const struct listed_folder *it, bool first_fetch,
			struct err *e)
{
	const struct role_map *role = role_for(it->well_known);
	struct store_folder_in in = {
		.remote_id = it->remote_id,
		.parent_remote_id = it->parent_remote_id,
		.name = it->name,
		.path = it->path,
		.well_known = it->well_known,
		.default_role = role ? role->role : "",
		.total = it->total,
		.unread = it->unread,
	};
	struct store_folder row;
	bool created;

	if (store_put_folder(st, account_id, &in, &created, e) < 0)
		return -1;
	if (!created || !first_fetch || !role || !role->preselect)
		return 0;
	if (store_find_folder_by_remote(st, account_id, it->remote_id, &row, e) != 1)
		return -1;
	store_folder_clear(&row);
	return store_select_folder(st, row.id, true, role->role, e);
}

int engine_scan_folders(struct store *st, struct driver *d, int64_t account_id,
			int *n_folders, struct err *e)
{
	struct listing l = { 0 };
	struct store_folder *existing;
	size_t n_existing;
	long long deleted = 0;
	bool first_fetch;
	int rc = -1;

	if (store_list_folders(st, account_id, false, &existing, &n_existing, e) < 0)
		return -1;
	store_folder_list_free(existing, n_existing);
	first_fetch = n_existing == 0;
	/* The whole listing is read first (network), then applied in one
	 * transaction: a failure midway leaves the old tree intact. */
	if (driver_list_folders(d, on_folder, &l, e) < 0)
		goto out;
	if (store_begin(st, e) < 0)
		goto out;
	if (store_begin_folder_scan(st, account_id, e) < 0)
		goto rollback;
	for (size_t i = 0; i < l.n; i++)
		if (apply_folder(st, account_id, &l.items[i], first_fetch, e) < 0)
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
