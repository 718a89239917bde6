/*
 * pg_messages.c — messages in the PostgreSQL store: a page goes to the
 * server as one JSON array and is applied there by
 * inboxsync_put_messages (migrations/001_initial.sql; its set step
 * inboxsync_apply_items as 004_page_lists_text.sql redefines it) in one round trip,
 * with the same rules as the SQLite store; moves, deletes and flag
 * changes with their events; keyset-paged listing; cached bodies (bytea).
 * Address and category lists are stored as JSON arrays (store_rows.h).
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"
#include "store/store_rows.h"

/* ---- writing ------------------------------------------------------------- */

static void set_text(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

static void set_int(json_t *o, const char *key, int64_t v)
{
	if (v)
		json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void set_tri(json_t *o, const char *key, int v)
{
	if (v != MAIL_UNKNOWN)
		json_object_set_new(o, key, json_boolean(v));
}

static void set_value(json_t *o, const char *key, json_t *v)
{
	if (v)
		json_object_set_new(o, key, v);
}

/* One item as inboxsync_put_messages reads it: what is unknown is left
 * out (kept as stored). */
static json_t *page_item(const struct mail_message *m, size_t ord)
{
	json_t *o = json_object();

	json_object_set_new(o, "ord", json_integer((json_int_t)ord));
	set_text(o, "remote_id", m->remote_id);
	if (m->removed) {
		json_object_set_new(o, "removed", json_true());
		return o;
	}
	set_text(o, "internet_message_id", m->internet_message_id);
	set_text(o, "conversation_id", m->conversation_id);
	set_text(o, "subject", m->subject);
	set_text(o, "from_name", m->from.address ? m->from.name : NULL);
	set_text(o, "from_addr", m->from.address);
	set_value(o, "to_json", store_addresses_value(&m->to));
	set_value(o, "cc_json", store_addresses_value(&m->cc));
	set_value(o, "categories_json", store_strings_value(&m->categories));
	set_text(o, "preview", m->preview);
	set_text(o, "change_key", m->change_key);
	set_int(o, "received_at", m->received_at);
	set_int(o, "sent_at", m->sent_at);
	set_int(o, "size", m->size);
	set_tri(o, "is_read", m->is_read);
	set_tri(o, "is_flagged", m->is_flagged);
	set_tri(o, "is_draft", m->is_draft);
	set_tri(o, "has_attachments", m->has_attachments);
	return o;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether every remote id of the page occurs once. */
static bool ids_unique(const struct mail_message *items, size_t n)
{
	const char **ids = xcalloc(n ? n : 1, sizeof(*ids));
	bool unique = true;

	for (size_t i = 0; i < n; i++)
		ids[i] = items[i].remote_id;
	qsort(ids, n, sizeof(*ids), cmp_str);
	for (size_t i = 1; unique && i < n; i++)
		unique = strcmp(ids[i - 1], ids[i]) != 0;
	free(ids);
	return unique;
}

int pg_put_messages(struct store *st, int64_t account_id, int64_t folder_id,
		    const struct mail_message *items, size_t n, int64_t seen_gen,
		    bool backfill, struct store_page_result *r, struct err *e)
{
	static const char sql[] =
		"SELECT created, updated, replaced, moved, unchanged, removed FROM "
		"inboxsync_put_messages($1, $2, $3, $4, $5, $6::json, $7)";
	struct pg_params p = { 0 };
	json_t *page;
	char *text;
	PGresult *res;

	if (n == 0)
		return 0;
	page = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!items[i].remote_id || !*items[i].remote_id) {
			json_decref(page);
			return err_set(e, ERR_BUG, "store", "message without a remote id");
		}
		json_array_append_new(page, page_item(&items[i], i));
	}
	text = json_dumps(page, JSON_COMPACT);
	json_decref(page);
	if (!text)
		return err_set(e, ERR_BUG, "store", "cannot encode a page of messages");
	pgp_int(&p, account_id);
	pgp_int(&p, folder_id);
	pgp_int(&p, seen_gen);
	pgp_bool(&p, backfill);
	pgp_int(&p, time_now());
	pgp_text(&p, text);
	pgp_bool(&p, ids_unique(items, n));
	res = pg_wquery(st, sql, &p, "saving a page of messages", e);
	free(text);
	if (!res)
		return -1;
	if (r) {
		r->created += pg_int(res, 0, 0);
		r->updated += pg_int(res, 0, 1);
		r->replaced += pg_int(res, 0, 2);
		r->moved += pg_int(res, 0, 3);
		r->unchanged += pg_int(res, 0, 4);
		r->removed += pg_int(res, 0, 5);
	}
	PQclear(res);
	return 0;
}

int pg_put_local_message(struct store *st, int64_t account_id, int64_t folder_id,
			 const struct mail_message *m, struct err *e)
{
	/* The row and its message.created event in one statement. */
	static const char sql[] =
		"WITH ins AS (INSERT INTO messages (account_id, folder_id, remote_id, "
		"internet_message_id, conversation_id, subject, from_name, from_addr, "
		"to_json, cc_json, categories_json, preview, change_key, received_at, "
		"sent_at, size, is_read, is_flagged, is_draft, has_attachments, seen_gen, "
		"updated_at, pending) VALUES ($1, $2, $3, COALESCE($4, ''), COALESCE($5, ''), "
		"COALESCE($6, ''), COALESCE($7, ''), COALESCE($8, ''), COALESCE($9, '[]'), "
		"COALESCE($10, '[]'), COALESCE($11, '[]'), COALESCE($12, ''), "
		"COALESCE($13, ''), COALESCE($14::bigint, 0), COALESCE($15::bigint, 0), "
		"COALESCE($16::bigint, 0), COALESCE($17::boolean, false), "
		"COALESCE($18::boolean, false), COALESCE($19::boolean, false), "
		"COALESCE($20::boolean, false), 0, $21, true) RETURNING account_id), "
		"feed AS (INSERT INTO pg_temp.staged_events (account_id, user_id, type, "
		"entity_id, folder_path, at) SELECT $1, a.user_id, $22, $3, "
		"COALESCE((SELECT path FROM folders WHERE id = $2), ''), $21 "
		"FROM ins JOIN accounts a ON a.id = ins.account_id RETURNING 1) "
		"SELECT count(*) FROM feed";
	char *to = store_addresses_json(&m->to), *cc = store_addresses_json(&m->cc),
	     *cats = store_strings_json(&m->categories);
	struct pg_params p = { 0 };
	PGresult *r;

	pgp_int(&p, account_id);
	pgp_int(&p, folder_id);
	pgp_text(&p, m->remote_id);
	pgp_text(&p, m->internet_message_id);
	pgp_text(&p, m->conversation_id);
	pgp_text(&p, m->subject);
	pgp_text(&p, m->from.address ? m->from.name : NULL);
	pgp_text(&p, m->from.address);
	pgp_text(&p, to);
	pgp_text(&p, cc);
	pgp_text(&p, cats);
	pgp_text(&p, m->preview);
	pgp_text(&p, m->change_key);
	pgp_opt_int(&p, m->received_at);
	pgp_opt_int(&p, m->sent_at);
	pgp_opt_int(&p, m->size);
	pgp_tri(&p, m->is_read);
	pgp_tri(&p, m->is_flagged);
	pgp_tri(&p, m->is_draft);
	pgp_tri(&p, m->has_attachments);
	pgp_int(&p, time_now());
	pgp_int(&p, (int64_t)STORE_EVENT_MESSAGE_CREATED);
	r = pg_wquery(st, sql, &p, "adding a local sent entry", e);
	free(to);
	free(cc);
	free(cats);
	PQclear(r);
	return r ? 0 : -1;
}

/* Column 0 of every row of `sql` (parameters: id, limit). */
static int list_ids(struct store *st, const char *sql, int64_t id, size_t max,
		    const char *what, char ***ids, size_t *n, struct err *e)
{
	struct pg_params p = { 0 };
	PGresult *r;

	*ids = NULL;
	*n = 0;
	pgp_int(&p, id);
	pgp_int(&p, (int64_t)max);
	if (!(r = pg_query(st, sql, &p, what, e)))
		return -1;
	*ids = xcalloc(max ? max : 1, sizeof(char *));
	for (int i = 0; i < PQntuples(r) && *n < max; i++)
		(*ids)[(*n)++] = xstrdup(pg_str(r, i, 0));
	PQclear(r);
	return 0;
}

int pg_list_orphans(struct store *st, int64_t account_id, size_t max, char ***ids,
		    size_t *n, struct err *e)
{
	return list_ids(st, "SELECT remote_id FROM messages WHERE account_id = $1 "
			"AND orphan ORDER BY id LIMIT $2", account_id, max,
			"listing removed messages", ids, n, e);
}

int pg_move_message(struct store *st, int64_t account_id, const char *remote_id,
		    int64_t folder_id, const char *new_remote_id, struct err *e)
{
	/* The row joins the destination's current round (seen_gen), so a
	 * fresh round of that folder ending now does not sweep it away. */
	static const char sql[] =
		"WITH old AS (SELECT m.id, COALESCE(f.path, '') AS path FROM messages m "
		"LEFT JOIN folders f ON f.id = m.folder_id "
		"WHERE m.account_id = $1 AND m.remote_id = $2), "
		"up AS (UPDATE messages m SET folder_id = $3, orphan = false, updated_at = $4, "
		"remote_id = COALESCE($5, m.remote_id), "
		"seen_gen = (SELECT round_gen FROM folders WHERE id = $3) FROM old "
		"WHERE m.id = old.id RETURNING old.path AS from_path), "
		"feed AS (INSERT INTO pg_temp.staged_events (account_id, user_id, type, "
		"entity_id, folder_path, from_folder, at) SELECT $1, a.user_id, $6, "
		"COALESCE($5, $2), COALESCE((SELECT path FROM folders WHERE id = $3), ''), "
		"up.from_path, $4 FROM up JOIN accounts a ON a.id = $1 RETURNING 1) "
		"SELECT count(*) FROM feed";
	struct pg_params p = { 0 };
	PGresult *r;

	pgp_int(&p, account_id);
	pgp_text(&p, remote_id);
	pgp_int(&p, folder_id);
	pgp_int(&p, time_now());
	pgp_text(&p, new_remote_id);
	pgp_int(&p, (int64_t)STORE_EVENT_MESSAGE_MOVED);
	r = pg_wquery(st, sql, &p, "moving a message", e);
	PQclear(r);
	return r ? 0 : -1;
}

int pg_delete_message(struct store *st, int64_t account_id, const char *remote_id,
		      struct err *e)
{
	static const char sql[] =
		"WITH gone AS (DELETE FROM messages WHERE account_id = $1 AND remote_id = $2 "
		"RETURNING folder_id), "
		"feed AS (INSERT INTO pg_temp.staged_events (account_id, user_id, type, "
		"entity_id, folder_path, at) SELECT $1, a.user_id, $3, $2, "
		"COALESCE((SELECT path FROM folders WHERE id = gone.folder_id), ''), $4 "
		"FROM gone JOIN accounts a ON a.id = $1 RETURNING 1) "
		"SELECT count(*) FROM feed";
	struct pg_params p = { 0 };
	PGresult *r;

	pgp_int(&p, account_id);
	pgp_text(&p, remote_id);
	pgp_int(&p, (int64_t)STORE_EVENT_MESSAGE_DELETED);
	pgp_int(&p, time_now());
	r = pg_wquery(st, sql, &p, "deleting a message", e);
	PQclear(r);
	return r ? 0 : -1;
}

int pg_set_message_flags(struct store *st, int64_t account_id, const char *remote_id,
			 int is_read, int is_flagged, struct err *e)
{
	static const char sql[] =
		"WITH up AS (UPDATE messages SET is_read = COALESCE($1::boolean, is_read), "
		"is_flagged = COALESCE($2::boolean, is_flagged), updated_at = $3 "
		"WHERE account_id = $4 AND remote_id = $5 AND "
		"(is_read <> COALESCE($1::boolean, is_read) OR "
		"is_flagged <> COALESCE($2::boolean, is_flagged)) RETURNING folder_id), "
		"feed AS (INSERT INTO pg_temp.staged_events (account_id, user_id, type, "
		"entity_id, folder_path, at) SELECT $4, a.user_id, $6, $5, "
		"COALESCE((SELECT path FROM folders WHERE id = up.folder_id), ''), $3 "
		"FROM up JOIN accounts a ON a.id = $4 RETURNING 1) "
		"SELECT count(*) FROM feed";
	struct pg_params p = { 0 };
	PGresult *r;

	pgp_tri(&p, is_read);
	pgp_tri(&p, is_flagged);
	pgp_int(&p, time_now());
	pgp_int(&p, account_id);
	pgp_text(&p, remote_id);
	pgp_int(&p, (int64_t)STORE_EVENT_MESSAGE_UPDATED);
	r = pg_wquery(st, sql, &p, "changing message flags", e);
	PQclear(r);
	return r ? 0 : -1;
}

/* ---- reading --------------------------------------------------------------- */

#define MESSAGE_COLUMNS STORE_MESSAGE_COLUMNS

/* A row of a result, as store_message_read reads it. */
struct result_row {
	const PGresult *r;
	int i;
};

static const char *row_text(void *row, int col)
{
	const struct result_row *x = row;

	return pg_str(x->r, x->i, col);
}

static int64_t row_int(void *row, int col)
{
	const struct result_row *x = row;

	if (PQftype(x->r, col) == 16 /* boolean */)
		return pg_bool(x->r, x->i, col);
	return pg_int(x->r, x->i, col);
}

/* Row `i` of `r` into `out`, its strings in one new heap block. */
static void read_message(const PGresult *r, int i, bool with_body,
			 struct store_message *out)
{
	struct result_row x = { r, i };
	const struct store_row row = { row_text, row_int, &x };
	size_t len = 0;
	char *body = with_body ? pg_bytes(r, i, STORE_MESSAGE_COL_BODY, &len) : NULL;

	store_message_read(&row, with_body, body, len, out);
	free(body);
}

/* Call `cb` for every row of `r` (freed here), each message freed after
 * its call. */
static int each_row(PGresult *r, store_message_cb cb, void *ctx)
{
	int stop = 0;

	for (int i = 0; !stop && i < PQntuples(r); i++) {
		struct store_message m;

		read_message(r, i, false, &m);
		stop = cb(ctx, &m);
		store_message_clear(&m);
	}
	PQclear(r);
	return stop;
}

/* The page queries as in SQLite (sqlite_messages.c): the cursor as a row
 * comparison, which the (received_at, id) index answers as a range. */
#define LIST_SELECT \
	"SELECT " MESSAGE_COLUMNS " FROM messages m JOIN folders f ON f.id = m.folder_id WHERE "
#define LIST_FOLDER "m.folder_id = $1"
#define LIST_SELECTED "m.account_id = $1 AND f.selected"
#define LIST_AFTER " AND (m.received_at, m.id) < ($2::bigint, $3::bigint)"
#define LIST_NO_CURSOR " AND $2::bigint IS NOT NULL AND $3::bigint IS NOT NULL"
#define LIST_ORDER " AND ($4::boolean OR NOT m.orphan) " \
	"ORDER BY m.received_at DESC, m.id DESC LIMIT $5"

int pg_list_messages(struct store *st, const struct store_message_query *q,
		     store_message_cb cb, void *ctx, struct err *e)
{
	static const char *const sql[2][2] = {
		{ LIST_SELECT LIST_SELECTED LIST_NO_CURSOR LIST_ORDER,
		  LIST_SELECT LIST_SELECTED LIST_AFTER LIST_ORDER },
		{ LIST_SELECT LIST_FOLDER LIST_NO_CURSOR LIST_ORDER,
		  LIST_SELECT LIST_FOLDER LIST_AFTER LIST_ORDER },
	};
	struct pg_params p = { 0 };
	PGresult *r;

	pgp_int(&p, q->folder_id ? q->folder_id : q->account_id);
	pgp_int(&p, q->before_received);
	pgp_int(&p, q->before_id ? q->before_id : INT64_MAX);
	pgp_bool(&p, q->include_orphans);
	pgp_int(&p, (int64_t)(q->limit ? q->limit : 100));
	if (!(r = pg_query(st, sql[q->folder_id != 0][q->before_received != 0 || q->before_id != 0], &p,
			   "listing messages", e)))
		return -1;
	return each_row(r, cb, ctx);
}

int pg_each_message(struct store *st, int64_t account_id, store_message_cb cb,
		    void *ctx, struct err *e)
{
	static const char sql[] =
		"SELECT " MESSAGE_COLUMNS " FROM messages m JOIN folders f ON f.id = m.folder_id "
		"WHERE m.account_id = $1 ORDER BY m.id";
	struct pg_params p = { 0 };
	PGresult *r;

	pgp_int(&p, account_id);
	if (!(r = pg_query(st, sql, &p, "reading messages", e)))
		return -1;
	return each_row(r, cb, ctx);
}

int pg_get_message(struct store *st, int64_t account_id, const char *remote_id,
		   struct store_message *out, struct err *e)
{
	static const char sql[] =
		"SELECT " MESSAGE_COLUMNS ", m.body_type, m.body FROM messages m "
		"JOIN folders f ON f.id = m.folder_id WHERE m.account_id = $1 AND m.remote_id = $2";
	struct pg_params p = { 0 };
	PGresult *r;

	memset(out, 0, sizeof(*out));
	pgp_int(&p, account_id);
	pgp_text(&p, remote_id);
	if (!(r = pg_query(st, sql, &p, "reading a message", e)))
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	read_message(r, 0, true, out);
	PQclear(r);
	return 1;
}

int pg_put_body(struct store *st, int64_t account_id, const char *remote_id,
		const char *body_type, const char *body, size_t len, struct err *e)
{
	static const char sql[] =
		"UPDATE messages SET body_type = $1, body = $2 WHERE account_id = $3 "
		"AND remote_id = $4";
	struct pg_params p = { 0 };

	pgp_text(&p, body_type);
	pgp_bytes(&p, body ? body : "", len);
	pgp_int(&p, account_id);
	pgp_text(&p, remote_id);
	return pg_write(st, sql, &p, "saving a message body", e);
}

int pg_list_missing_bodies(struct store *st, int64_t folder_id, size_t limit,
			   char ***ids, size_t *n, struct err *e)
{
	return list_ids(st, "SELECT remote_id FROM messages WHERE folder_id = $1 "
			"AND body_type IS NULL AND NOT pending "
			"ORDER BY received_at DESC, id DESC LIMIT $2", folder_id, limit,
			"listing messages without bodies", ids, n, e);
}
