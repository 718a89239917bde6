/*
 * sqlite_folders.c — folders in the SQLite store: the fetch scan (insert,
 * rename, delete what the server no longer has), selection and roles, and
 * the per-folder sync state (phase, cursor, round generation, sweep), with
 * their events. Counts of stored messages are derived from the messages
 * table on read.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"

#define FOLDER_COLUMNS \
	"f.id, f.account_id, f.remote_id, f.parent_remote_id, f.name, f.path, " \
	"f.role, f.server_role, f.selected, f.total, f.unread, f.phase, f.cursor, " \
	"f.round_gen, f.round_fresh, f.last_sync_at, f.resync_count, " \
	"f.last_resync_at, f.first_round, " \
	"(SELECT COUNT(*) FROM messages m WHERE m.folder_id = f.id), " \
	"(SELECT MIN(received_at) FROM messages m WHERE m.folder_id = f.id), " \
	"(SELECT MAX(received_at) FROM messages m WHERE m.folder_id = f.id)"

static void read_folder(sqlite3_stmt *s, struct store_folder *f)
{
	memset(f, 0, sizeof(*f));
	f->id = sq_col_int(s, 0);
	f->account_id = sq_col_int(s, 1);
	sq_col_copy(s, 2, f->remote_id, sizeof(f->remote_id));
	sq_col_copy(s, 3, f->parent_remote_id, sizeof(f->parent_remote_id));
	sq_col_copy(s, 4, f->name, sizeof(f->name));
	sq_col_copy(s, 5, f->path, sizeof(f->path));
	f->role = sq_col_role(s, 6);
	f->server_role = sq_col_role(s, 7);
	f->selected = sq_col_int(s, 8) != 0;
	f->total = sq_col_int(s, 9);
	f->unread = sq_col_int(s, 10);
	f->phase = sq_col_phase(s, 11);
	f->cursor = sq_col_dup(s, 12);
	f->round_gen = sq_col_int(s, 13);
	f->round_fresh = sq_col_int(s, 14) != 0;
	f->last_sync_at = sq_col_int(s, 15);
	f->resync_count = (int)sq_col_int(s, 16);
	f->last_resync_at = sq_col_int(s, 17);
	f->first_round = sq_col_int(s, 18) != 0;
	f->synced = sq_col_int(s, 19);
	f->oldest_at = sq_col_int(s, 20);
	f->newest_at = sq_col_int(s, 21);
}

static int folder_event(struct store *st, int64_t account_id,
			enum store_event_type type, const char *remote_id,
			const char *path, struct err *e)
{
	return sq_event(st, &(struct store_event_new){ .account_id = account_id,
			.type = type, .entity_id = remote_id, .folder_path = path }, e);
}

static int get_one_folder(struct store *st, sqlite3_stmt *s,
			  struct store_folder *out, struct err *e)
{
	int rc = sq_row(st, s, "reading a folder", e);

	memset(out, 0, sizeof(*out));
	if (rc == 1) {
		read_folder(s, out);
		sqlite3_reset(s);
	}
	return rc;
}

int sqlite_begin_folder_scan(struct store *st, int64_t account_id, struct err *e)
{
	return sq_exec_ints(st, "UPDATE folders SET scan_seen = 0 WHERE account_id = ?",
			    "starting a folder scan", e, 1, account_id);
}

int sqlite_put_folder(struct store *st, int64_t account_id,
		      const struct store_folder_in *in, bool *created,
		      struct err *e)
{
	static const char old[] =
		"SELECT name, path FROM folders WHERE account_id = ? AND remote_id = ?";
	static const char upd[] =
		"UPDATE folders SET parent_remote_id = ?1, name = ?2, path = ?3, "
		"server_role = ?4, role = CASE WHEN role = '' THEN ?4 ELSE role END, "
		"total = CASE WHEN ?5 < 0 THEN total ELSE ?6 END, "
		"unread = CASE WHEN ?7 < 0 THEN unread ELSE ?8 END, scan_seen = 1 "
		"WHERE account_id = ?9 AND remote_id = ?10";
	static const char ins[] =
		"INSERT INTO folders (account_id, remote_id, parent_remote_id, name, "
		"path, role, server_role, total, unread, scan_seen) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)";
	const struct mail_folder *f = &in->f;
	const char *role = mail_role_name(f->role);
	sqlite3_stmt *s;
	bool renamed = false;
	int owned, rc = -1, found;

	if (created)
		*created = false;
	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, old, e)))
		goto out;
	sq_int(s, 1, account_id);
	sq_text(s, 2, f->remote_id);
	if ((found = sq_row(st, s, "reading a folder", e)) < 0)
		goto out;
	if (found) {
		renamed = strcmp(sq_col_str(s, 1), in->path) != 0;
		sqlite3_reset(s);
		if (!(s = sq_prepare(st, upd, e)))
			goto out;
		sq_text(s, 1, f->parent_remote_id ? f->parent_remote_id : "");
		sq_text(s, 2, f->name);
		sq_text(s, 3, in->path);
		sq_text(s, 4, role);
		sq_int(s, 5, f->total);
		sq_int(s, 6, f->total);
		sq_int(s, 7, f->unread);
		sq_int(s, 8, f->unread);
		sq_int(s, 9, account_id);
		sq_text(s, 10, f->remote_id);
		rc = sq_done(st, s, "updating a folder", e);
		if (rc == 0 && renamed)
			rc = folder_event(st, account_id, STORE_EVENT_FOLDER_UPDATED,
					  f->remote_id, in->path, e);
		goto out;
	}
	if (!(s = sq_prepare(st, ins, e)))
		goto out;
	sq_int(s, 1, account_id);
	sq_text(s, 2, f->remote_id);
	sq_text(s, 3, f->parent_remote_id ? f->parent_remote_id : "");
	sq_text(s, 4, f->name);
	sq_text(s, 5, in->path);
	sq_text(s, 6, role);
	sq_text(s, 7, role);
	sq_int(s, 8, f->total > 0 ? f->total : 0);
	sq_int(s, 9, f->unread > 0 ? f->unread : 0);
	if (sq_done(st, s, "adding a folder", e) < 0)
		goto out;
	if (created)
		*created = true;
	rc = folder_event(st, account_id, STORE_EVENT_FOLDER_CREATED, f->remote_id,
			  in->path, e);
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_end_folder_scan(struct store *st, int64_t account_id,
			  long long *deleted, struct err *e)
{
	static const char gone[] =
		"SELECT remote_id, path FROM folders WHERE account_id = ? AND scan_seen = 0";
	sqlite3_stmt *s;
	int owned, rc = -1, row;
	long long n = 0;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, gone, e)))
		goto out;
	sq_int(s, 1, account_id);
	while ((row = sq_row(st, s, "listing deleted folders", e)) == 1) {
		char *id = xstrdup(sq_col_str(s, 0));
		char *path = xstrdup(sq_col_str(s, 1));
		struct err fe;

		/* Events use another statement: safe while iterating. */
		row = folder_event(st, account_id, STORE_EVENT_FOLDER_DELETED, id,
				   path, &fe);
		free(id);
		free(path);
		if (row < 0) {
			*e = fe;
			break;
		}
		n++;
	}
	sqlite3_reset(s);
	if (row < 0)
		goto out;
	rc = sq_exec_ints(st, "DELETE FROM folders WHERE account_id = ? AND scan_seen = 0",
			  "removing deleted folders", e, 1, account_id);
	if (rc == 0)
		rc = sq_exec_ints(st, "UPDATE accounts SET folders_scanned_at = ? WHERE id = ?",
				  "recording the folder scan", e, 2, time_now(), account_id);
out:
	if (deleted)
		*deleted = n;
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_list_folders(struct store *st, int64_t account_id, bool selected_only,
		       struct store_folder **out, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f "
		"WHERE f.account_id = ? AND (? = 0 OR f.selected = 1) "
		"ORDER BY f.path COLLATE NOCASE";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_int(s, 2, selected_only);
	while ((rc = sq_row(st, s, "listing folders", e)) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_folder(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (rc < 0) {
		store_folder_list_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int sqlite_find_folder(struct store *st, int64_t account_id, const char *what,
		      struct store_folder *out, struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f "
		"WHERE f.account_id = ? AND (f.path = ? COLLATE NOCASE OR f.remote_id = ? "
		"OR CAST(f.id AS TEXT) = ?) "
		"ORDER BY f.remote_id = ? DESC, f.path = ? DESC LIMIT 1";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	for (int i = 2; i <= 6; i++)
		sq_text(s, i, what);
	return get_one_folder(st, s, out, e);
}

int sqlite_get_folder(struct store *st, int64_t folder_id,
		     struct store_folder *out, struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f WHERE f.id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, folder_id);
	return get_one_folder(st, s, out, e);
}

int sqlite_find_folder_by_role(struct store *st, int64_t account_id,
			       enum mail_role role, struct store_folder *out,
			       struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f "
		"WHERE f.account_id = ?1 AND (f.role = ?2 OR f.server_role = ?2) "
		"ORDER BY f.role = ?2 DESC, f.selected DESC, f.path LIMIT 1";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, mail_role_name(role));
	return get_one_folder(st, s, out, e);
}

int sqlite_find_folder_by_remote(struct store *st, int64_t account_id,
				const char *remote_id, struct store_folder *out,
				struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f "
		"WHERE f.account_id = ? AND f.remote_id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, remote_id);
	return get_one_folder(st, s, out, e);
}

int sqlite_select_folder(struct store *st, int64_t folder_id, bool selected,
			 enum mail_role role, struct err *e)
{
	static const char sel[] =
		"UPDATE folders SET selected = 1, role = COALESCE(?1, role), "
		"phase = CASE WHEN selected = 1 THEN phase ELSE 'pending' END, "
		"cursor = CASE WHEN selected = 1 THEN cursor ELSE NULL END, "
		"round_fresh = CASE WHEN selected = 1 THEN round_fresh ELSE 0 END, "
		"first_round = CASE WHEN selected = 1 THEN first_round ELSE 1 END "
		"WHERE id = ?2";
	static const char unsel[] =
		"UPDATE folders SET selected = 0, role = COALESCE(?1, role) WHERE id = ?2";
	static const char who[] = "SELECT account_id, remote_id, path FROM folders WHERE id = ?";
	sqlite3_stmt *s;
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, selected ? sel : unsel, e)))
		goto out;
	sq_text(s, 1, role == MAIL_ROLE_NONE ? NULL : mail_role_name(role));
	sq_int(s, 2, folder_id);
	if (sq_done(st, s, "changing the folder selection", e) < 0 ||
	    !(s = sq_prepare(st, who, e)))
		goto out;
	sq_int(s, 1, folder_id);
	if ((rc = sq_row(st, s, "reading a folder", e)) == 1) {
		int64_t account_id = sq_col_int(s, 0);
		char *remote_id = xstrdup(sq_col_str(s, 1));
		char *path = xstrdup(sq_col_str(s, 2));

		sqlite3_reset(s);
		rc = folder_event(st, account_id, STORE_EVENT_FOLDER_UPDATED,
				  remote_id, path, e);
		free(remote_id);
		free(path);
	}
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_set_folder_sync(struct store *st, int64_t folder_id,
			   enum store_phase phase, const char *cursor,
			   struct err *e)
{
	static const char sql[] =
		"UPDATE folders SET phase = ?, cursor = ?, last_sync_at = ?, "
		"first_round = CASE WHEN ? THEN 0 ELSE first_round END WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, store_phase_name(phase));
	sq_text(s, 2, cursor);
	sq_int(s, 3, time_now());
	sq_int(s, 4, phase == STORE_PHASE_LIVE);
	sq_int(s, 5, folder_id);
	if (sq_done(st, s, "saving the folder's sync state", e) < 0)
		return -1;
	/* a first round may have ended: indexes left out meanwhile return */
	return phase == STORE_PHASE_LIVE ? sq_restore_indexes(st, e) : 0;
}

int sqlite_start_folder_round(struct store *st, int64_t folder_id,
			     bool is_resync, int64_t *gen, struct err *e)
{
	static const char bump[] =
		"UPDATE folders SET round_gen = round_gen + 1, round_fresh = 1, "
		"cursor = NULL, resync_count = resync_count + ?, "
		"last_resync_at = CASE WHEN ? THEN ? ELSE last_resync_at END WHERE id = ?";
	static const char read[] = "SELECT round_gen FROM folders WHERE id = ?";
	sqlite3_stmt *s;
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, bump, e)))
		goto out;
	sq_int(s, 1, is_resync ? 1 : 0);
	sq_int(s, 2, is_resync ? 1 : 0);
	sq_int(s, 3, time_now());
	sq_int(s, 4, folder_id);
	if (sq_done(st, s, "starting a sync round", e) < 0 ||
	    !(s = sq_prepare(st, read, e)))
		goto out;
	sq_int(s, 1, folder_id);
	if (sq_row(st, s, "reading the round generation", e) != 1) {
		if (!e->msg[0])
			err_set(e, ERR_BUG, "store", "folder %lld vanished",
				(long long)folder_id);
		goto out;
	}
	*gen = sq_col_int(s, 0);
	sqlite3_reset(s);
	rc = 0;
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_sweep_folder(struct store *st, int64_t folder_id, long long *swept,
		       struct err *e)
{
	static const char feed[] =
		"INSERT INTO events (account_id, user_id, type, entity_id, folder_path, at) "
		"SELECT m.account_id, a.user_id, ?1, m.remote_id, f.path, ?2 FROM messages m "
		"JOIN folders f ON f.id = m.folder_id JOIN accounts a ON a.id = m.account_id "
		"WHERE m.folder_id = ?3 AND m.seen_gen < f.round_gen AND m.pending = 0";
	static const char del[] =
		"DELETE FROM messages WHERE folder_id = ? AND pending = 0 AND seen_gen < "
		"(SELECT round_gen FROM folders WHERE id = ?)";
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (sq_exec_ints(st, feed, "recording swept messages", e, 3,
			 (int64_t)STORE_EVENT_MESSAGE_DELETED, time_now(), folder_id) < 0 ||
	    sq_exec_ints(st, del, "sweeping messages gone from the server", e, 2,
			 folder_id, folder_id) < 0)
		goto out;
	if (swept)
		*swept = sqlite3_changes(sq_db(st));
	rc = sq_exec_ints(st, "UPDATE folders SET round_fresh = 0 WHERE id = ?",
			  "closing the sync round", e, 1, folder_id);
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_count_unswept(struct store *st, int64_t folder_id, long long *n,
			 struct err *e)
{
	int64_t v = 0;
	int rc = sq_query_int(st, "SELECT COUNT(*) FROM messages WHERE folder_id = ?1 "
			      "AND pending = 0 AND seen_gen < (SELECT round_gen FROM "
			      "folders WHERE id = ?1)", "counting messages to sweep",
			      &v, e, 1, folder_id);

	*n = v;
	return rc;
}

int sqlite_set_folder_counts(struct store *st, int64_t folder_id, long long total,
			    long long unread, struct err *e)
{
	return sq_exec_ints(st, "UPDATE folders SET total = ?, unread = ? WHERE id = ?",
			    "saving folder counts", e, 3, (int64_t)total,
			    (int64_t)unread, folder_id);
}
