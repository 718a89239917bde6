/*
 * pg_folders.c — folders in the PostgreSQL store: the fetch scan (insert,
 * rename, delete what the server no longer has), selection and roles, and
 * the per-folder sync state (phase, cursor, round generation, sweep), with
 * their events. Counts of stored messages are derived from the messages
 * table on read.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"

#define FOLDER_COLUMNS \
	"f.id, f.account_id, f.remote_id, f.parent_remote_id, f.name, f.path, " \
	"f.role, f.server_role, f.selected, f.total, f.unread, f.phase, f.cursor, " \
	"f.round_gen, f.round_fresh, f.last_sync_at, f.resync_count, " \
	"f.last_resync_at, f.first_round, s.n, s.oldest, s.newest"
/* The stored messages of the folder f (count, oldest, newest). */
#define FOLDER_COUNTS \
	" CROSS JOIN LATERAL (SELECT count(*) AS n, min(received_at) AS oldest, " \
	"max(received_at) AS newest FROM messages m WHERE m.folder_id = f.id) s "

static void read_folder(const PGresult *r, int i, void *out)
{
	struct store_folder *f = out;

	memset(f, 0, sizeof(*f));
	f->id = pg_int(r, i, 0);
	f->account_id = pg_int(r, i, 1);
	pg_copy(r, i, 2, f->remote_id, sizeof(f->remote_id));
	pg_copy(r, i, 3, f->parent_remote_id, sizeof(f->parent_remote_id));
	pg_copy(r, i, 4, f->name, sizeof(f->name));
	pg_copy(r, i, 5, f->path, sizeof(f->path));
	f->role = pg_col_role(r, i, 6);
	f->server_role = pg_col_role(r, i, 7);
	f->selected = pg_bool(r, i, 8);
	f->total = pg_int(r, i, 9);
	f->unread = pg_int(r, i, 10);
	f->phase = pg_col_phase(r, i, 11);
	f->cursor = pg_dup(r, i, 12);
	f->round_gen = pg_int(r, i, 13);
	f->round_fresh = pg_bool(r, i, 14);
	f->last_sync_at = pg_int(r, i, 15);
	f->resync_count = (int)pg_int(r, i, 16);
	f->last_resync_at = pg_int(r, i, 17);
	f->first_round = pg_bool(r, i, 18);
	f->synced = pg_int(r, i, 19);
	f->oldest_at = pg_int(r, i, 20);
	f->newest_at = pg_int(r, i, 21);
}

static int get_one_folder(struct store *st, const char *sql,
			  const struct pg_params *p, struct store_folder *out,
			  struct err *e)
{
	memset(out, 0, sizeof(*out));
	return pg_get_row(st, sql, p, "reading a folder", read_folder, out, e);
}

int pg_begin_folder_scan(struct store *st, int64_t account_id, struct err *e)
{
	return pg_write_ints(st, "UPDATE folders SET scan_seen = false WHERE account_id = $1",
			     "starting a folder scan", e, 1, account_id);
}

int pg_put_folder(struct store *st, int64_t account_id,
		  const struct store_folder_in *in, bool *created, struct err *e)
{
	/* Insert or update, and the event, in one statement; the old path
	 * (NULL for a new row) tells a rename from a new folder. */
	static const char sql[] =
		"WITH old AS (SELECT path FROM folders WHERE account_id = $1 AND remote_id = $2), "
		"up AS (INSERT INTO folders (account_id, remote_id, parent_remote_id, name, "
		"path, role, server_role, total, unread, scan_seen) VALUES ($1, $2, $3, $4, "
		"$5, $6, $6, GREATEST($7::bigint, 0), GREATEST($8::bigint, 0), true) "
		"ON CONFLICT (account_id, remote_id) DO UPDATE SET "
		"parent_remote_id = excluded.parent_remote_id, name = excluded.name, "
		"path = excluded.path, server_role = excluded.server_role, "
		"role = CASE WHEN folders.role = '' THEN excluded.server_role ELSE folders.role END, "
		"total = CASE WHEN $7::bigint < 0 THEN folders.total ELSE $7 END, "
		"unread = CASE WHEN $8::bigint < 0 THEN folders.unread ELSE $8 END, "
		"scan_seen = true RETURNING 1), "
		"feed AS (INSERT INTO pg_temp.staged_events (account_id, user_id, type, "
		"entity_id, folder_path, at) SELECT $1, a.user_id, CASE WHEN o.path IS NULL "
		"THEN $9::integer ELSE $10::integer END, $2, $5, $11 FROM accounts a "
		"LEFT JOIN old o ON true WHERE a.id = $1 AND (o.path IS NULL OR o.path <> $5) "
		"RETURNING 1) "
		"SELECT (SELECT path FROM old), (SELECT count(*) FROM up), "
		"(SELECT count(*) FROM feed)";
	const struct mail_folder *f = &in->f;
	struct pg_params p = { 0 };
	PGresult *r;

	if (created)
		*created = false;
	pgp_int(&p, account_id);
	pgp_text(&p, f->remote_id);
	pgp_text(&p, f->parent_remote_id ? f->parent_remote_id : "");
	pgp_text(&p, f->name);
	pgp_text(&p, in->path);
	pgp_text(&p, mail_role_name(f->role));
	pgp_int(&p, f->total);
	pgp_int(&p, f->unread);
	pgp_int(&p, (int64_t)STORE_EVENT_FOLDER_CREATED);
	pgp_int(&p, (int64_t)STORE_EVENT_FOLDER_UPDATED);
	pgp_int(&p, time_now());
	if (!(r = pg_wquery(st, sql, &p, "saving a folder", e)))
		return -1;
	if (created)
		*created = pg_null(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_end_folder_scan(struct store *st, int64_t account_id, long long *deleted,
		       struct err *e)
{
	/* The events, the deletion and the scan time in one statement. */
	static const char sql[] =
		"WITH gone AS (DELETE FROM folders WHERE account_id = $1 AND NOT scan_seen "
		"RETURNING id, remote_id, path), "
		"feed AS (INSERT INTO pg_temp.staged_events (account_id, user_id, type, "
		"entity_id, folder_path, at) SELECT $1, a.user_id, $2, g.remote_id, g.path, $3 "
		"FROM gone g JOIN accounts a ON a.id = $1 ORDER BY g.id RETURNING 1), "
		"scanned AS (UPDATE accounts SET folders_scanned_at = $3 WHERE id = $1 RETURNING 1) "
		"SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM feed), "
		"(SELECT count(*) FROM scanned)";
	struct pg_params p = { 0 };
	PGresult *r;

	if (deleted)
		*deleted = 0;
	pgp_int(&p, account_id);
	pgp_int(&p, (int64_t)STORE_EVENT_FOLDER_DELETED);
	pgp_int(&p, time_now());
	if (!(r = pg_wquery(st, sql, &p, "removing deleted folders", e)))
		return -1;
	if (deleted)
		*deleted = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_list_folders(struct store *st, int64_t account_id, bool selected_only,
		    struct store_folder **out, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f " FOLDER_COUNTS
		"WHERE f.account_id = $1 AND (NOT $2::boolean OR f.selected) "
		"ORDER BY lower(f.path), f.id";
	struct pg_params p = { 0 };

	pgp_int(&p, account_id);
	pgp_bool(&p, selected_only);
	return pg_get_rows(st, sql, &p, "listing folders", read_folder, sizeof(**out),
			   (void **)out, n, e);
}

int pg_find_folder(struct store *st, int64_t account_id, const char *what,
		   struct store_folder *out, struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f " FOLDER_COUNTS
		"WHERE f.account_id = $1 AND (lower(f.path) = lower($2) OR f.remote_id = $2 "
		"OR f.id::text = $2) ORDER BY f.remote_id = $2 DESC, f.path = $2 DESC, f.id "
		"LIMIT 1";
	struct pg_params p = { 0 };

	pgp_int(&p, account_id);
	pgp_text(&p, what);
	return get_one_folder(st, sql, &p, out, e);
}

int pg_get_folder(struct store *st, int64_t folder_id, struct store_folder *out,
		  struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f " FOLDER_COUNTS
		"WHERE f.id = $1";
	struct pg_params p = { 0 };

	pgp_int(&p, folder_id);
	return get_one_folder(st, sql, &p, out, e);
}

int pg_find_folder_by_role(struct store *st, int64_t account_id, enum mail_role role,
			   struct store_folder *out, struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f " FOLDER_COUNTS
		"WHERE f.account_id = $1 AND (f.role = $2 OR f.server_role = $2) "
		"ORDER BY f.role = $2 DESC, f.selected DESC, f.path, f.id LIMIT 1";
	struct pg_params p = { 0 };

	pgp_int(&p, account_id);
	pgp_text(&p, mail_role_name(role));
	return get_one_folder(st, sql, &p, out, e);
}

int pg_find_folder_by_remote(struct store *st, int64_t account_id,
			     const char *remote_id, struct store_folder *out,
			     struct err *e)
{
	static const char sql[] = "SELECT " FOLDER_COLUMNS " FROM folders f " FOLDER_COUNTS
		"WHERE f.account_id = $1 AND f.remote_id = $2";
	struct pg_params p = { 0 };

	pgp_int(&p, account_id);
	pgp_text(&p, remote_id);
	return get_one_folder(st, sql, &p, out, e);
}

int pg_select_folder(struct store *st, int64_t folder_id, bool selected,
		     enum mail_role role, struct err *e)
{
	/* Selecting a folder that was not selected starts it over. */
	static const char sql[] =
		"WITH up AS (UPDATE folders SET selected = $3::boolean, "
		"role = COALESCE($1, role), "
		"phase = CASE WHEN NOT $3::boolean OR selected THEN phase ELSE 'pending' END, "
		"cursor = CASE WHEN NOT $3::boolean OR selected THEN cursor ELSE NULL END, "
		"round_fresh = CASE WHEN NOT $3::boolean OR selected THEN round_fresh ELSE false END, "
		"first_round = CASE WHEN NOT $3::boolean OR selected THEN first_round ELSE true END "
		"WHERE id = $2 RETURNING account_id, remote_id, path), "
		"feed AS (INSERT INTO pg_temp.staged_events (account_id, user_id, type, "
		"entity_id, folder_path, at) SELECT u.account_id, a.user_id, $4, u.remote_id, "
		"u.path, $5 FROM up u JOIN accounts a ON a.id = u.account_id RETURNING 1) "
		"SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM feed)";
	struct pg_params p = { 0 };
	PGresult *r;

	pgp_text(&p, role == MAIL_ROLE_NONE ? NULL : mail_role_name(role));
	pgp_int(&p, folder_id);
	pgp_bool(&p, selected);
	pgp_int(&p, (int64_t)STORE_EVENT_FOLDER_UPDATED);
	pgp_int(&p, time_now());
	if (!(r = pg_wquery(st, sql, &p, "changing the folder selection", e)))
		return -1;
	PQclear(r);
	return 0;
}

int pg_set_folder_sync(struct store *st, int64_t folder_id, enum store_phase phase,
		       const char *cursor, struct err *e)
{
	static const char sql[] =
		"UPDATE folders SET phase = $1, cursor = $2, last_sync_at = $3, "
		"first_round = CASE WHEN $4::boolean THEN false ELSE first_round END "
		"WHERE id = $5";
	struct pg_params p = { 0 };

	pgp_text(&p, store_phase_name(phase));
	pgp_text(&p, cursor);
	pgp_int(&p, time_now());
	pgp_bool(&p, phase == STORE_PHASE_LIVE);
	pgp_int(&p, folder_id);
	return pg_write(st, sql, &p, "saving the folder's sync state", e);
}

int pg_start_folder_round(struct store *st, int64_t folder_id, bool is_resync,
			  int64_t *gen, struct err *e)
{
	static const char sql[] =
		"UPDATE folders SET round_gen = round_gen + 1, round_fresh = true, "
		"cursor = NULL, resync_count = resync_count + $1, "
		"last_resync_at = CASE WHEN $1::integer = 1 THEN $2 ELSE last_resync_at END "
		"WHERE id = $3 RETURNING round_gen";
	struct pg_params p = { 0 };
	PGresult *r;
	int rc = -1;

	pgp_int(&p, is_resync ? 1 : 0);
	pgp_int(&p, time_now());
	pgp_int(&p, folder_id);
	if (!(r = pg_wquery(st, sql, &p, "starting a sync round", e)))
		return -1;
	if (PQntuples(r) == 1) {
		*gen = pg_int(r, 0, 0);
		rc = 0;
	} else {
		err_set(e, ERR_BUG, "store", "folder %lld vanished", (long long)folder_id);
	}
	PQclear(r);
	return rc;
}

int pg_sweep_folder(struct store *st, int64_t folder_id, long long *swept,
		    struct err *e)
{
	/* Events for what goes, the deletion and the end of the round in one
	 * statement. */
	static const char sql[] =
		"WITH gone AS (DELETE FROM messages m USING folders f WHERE f.id = $1 "
		"AND m.folder_id = f.id AND NOT m.pending AND m.seen_gen < f.round_gen "
		"RETURNING m.id, m.account_id, m.remote_id, f.path), "
		"feed AS (INSERT INTO pg_temp.staged_events (account_id, user_id, type, "
		"entity_id, folder_path, at) SELECT g.account_id, a.user_id, $2, "
		"g.remote_id, g.path, $3 FROM gone g JOIN accounts a ON a.id = g.account_id "
		"ORDER BY g.id RETURNING 1), "
		"done AS (UPDATE folders SET round_fresh = false WHERE id = $1 RETURNING 1) "
		"SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM feed), "
		"(SELECT count(*) FROM done)";
	struct pg_params p = { 0 };
	PGresult *r;

	pgp_int(&p, folder_id);
	pgp_int(&p, (int64_t)STORE_EVENT_MESSAGE_DELETED);
	pgp_int(&p, time_now());
	if (!(r = pg_wquery(st, sql, &p, "sweeping messages gone from the server", e)))
		return -1;
	if (swept)
		*swept = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_count_unswept(struct store *st, int64_t folder_id, long long *n,
		     struct err *e)
{
	int64_t v = 0;
	int rc = pg_query_int(st, "SELECT count(*) FROM messages m JOIN folders f ON "
			      "f.id = m.folder_id WHERE f.id = $1 AND NOT m.pending AND "
			      "m.seen_gen < f.round_gen", "counting messages to sweep",
			      &v, e, 1, folder_id);

	*n = v;
	return rc;
}

int pg_set_folder_counts(struct store *st, int64_t folder_id, long long total,
			 long long unread, struct err *e)
{
	return pg_write_ints(st, "UPDATE folders SET total = $1, unread = $2 WHERE id = $3",
			     "saving folder counts", e, 3, (int64_t)total,
			     (int64_t)unread, folder_id);
}
