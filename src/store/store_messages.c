/*
 * store_messages.c — messages in the SQLite store: idempotent upsert keyed
 * on the immutable remote id (moves change the folder of one row), orphan
 * marks for "@removed" entries, replacement of local Sent entries by the
 * server's copy, keyset-paged listing, cached bodies.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/store_sqlite.h"

static void bind_optional_bool(sqlite3_stmt *s, int i, int v)
{
	if (v == STORE_UNKNOWN)
		sqlite3_bind_null(s, i);
	else
		sq_int(s, i, v ? 1 : 0);
}

static void bind_optional_time(sqlite3_stmt *s, int i, int64_t v)
{
	if (v)
		sq_int(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* Bind the metadata columns 1..16 shared by insert and update. */
static void bind_metadata(sqlite3_stmt *s, const struct store_message_in *m)
{
	sq_text(s, 1, m->internet_message_id);
	sq_text(s, 2, m->conversation_id);
	sq_text(s, 3, m->subject);
	sq_text(s, 4, m->from_name);
	sq_text(s, 5, m->from_addr);
	sq_text(s, 6, m->to_json);
	sq_text(s, 7, m->cc_json);
	sq_text(s, 8, m->categories_json);
	sq_text(s, 9, m->preview);
	sq_text(s, 10, m->change_key);
	bind_optional_time(s, 11, m->received_at);
	bind_optional_time(s, 12, m->sent_at);
	bind_optional_bool(s, 13, m->is_read);
	bind_optional_bool(s, 14, m->is_flagged);
	bind_optional_bool(s, 15, m->is_draft);
	bind_optional_bool(s, 16, m->has_attachments);
}

/* Existing row for the remote id: its id, folder and change key. */
static int find_row(struct store *st, int64_t account_id, const char *remote_id,
		    int64_t *id, int64_t *folder_id, char **change_key,
		    struct err *e)
{
	static const char sql[] =
		"SELECT id, folder_id, change_key FROM messages "
		"WHERE account_id = ? AND remote_id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, remote_id);
	rc = sq_row(st, s, "looking up a message", e);
	if (rc == 1) {
		*id = sq_col_int(s, 0);
		*folder_id = sq_col_int(s, 1);
		*change_key = xstrdup(sq_col_str(s, 2));
		sqlite3_reset(s);
	}
	return rc;
}

/* A pending local entry with this Message-ID in this folder, if any: its
 * row id and (when `remote_id` is not NULL) its "local:" id (heap). */
static int find_pending_local(struct store *st, int64_t account_id,
			      int64_t folder_id, const char *imid, int64_t *id,
			      char **remote_id, struct err *e)
{
	/* "<> ''" is implied by the early return below; it is spelled out
	 * for the planner, which may only use the partial index messages_imid
	 * when the query implies its WHERE. Without it every new message
	 * scanned all messages of the account (quadratic bootstrap). */
	static const char sql[] =
		"SELECT id, remote_id FROM messages WHERE account_id = ? AND "
		"folder_id = ? AND internet_message_id = ? AND "
		"internet_message_id <> '' AND pending = 1 LIMIT 1";
	sqlite3_stmt *s;
	int rc;

	if (!imid || !*imid)
		return 0;
	if (!(s = sq_prepare(st, sql, e)))
		return -1;
	sq_int(s, 1, account_id);
	sq_int(s, 2, folder_id);
	sq_text(s, 3, imid);
	rc = sq_row(st, s, "looking up a local sent entry", e);
	if (rc == 1) {
		*id = sq_col_int(s, 0);
		if (remote_id)
			*remote_id = xstrdup(sq_col_str(s, 1));
		sqlite3_reset(s);
	}
	return rc;
}

/* The server's copy now sits in `folder_id` under an id we already had (a
 * draft synced before it was sent keeps its immutable id when it moves to
 * Sent Items): a pending local entry there with the same Message-ID is
 * the same message, so it goes — one entry, not two. */
static int drop_superseded_local(struct store *st, int64_t account_id,
				 int64_t folder_id, const char *imid,
				 struct err *e)
{
	char *local_id = NULL;
	int64_t row;
	int rc = find_pending_local(st, account_id, folder_id, imid, &row,
				    &local_id, e);

	if (rc <= 0)
		return rc;
	rc = store_delete_message(st, account_id, local_id, e);
	free(local_id);
	return rc;
}

static int update_row(struct store *st, int64_t row_id, int64_t folder_id,
		      const char *remote_id, const struct store_message_in *m,
		      int64_t seen_gen, struct err *e)
{
	static const char sql[] =
		"UPDATE messages SET "
		"internet_message_id = COALESCE(?1, internet_message_id), "
		"conversation_id = COALESCE(?2, conversation_id), "
		"subject = COALESCE(?3, subject), from_name = COALESCE(?4, from_name), "
		"from_addr = COALESCE(?5, from_addr), to_json = COALESCE(?6, to_json), "
		"cc_json = COALESCE(?7, cc_json), "
		"categories_json = COALESCE(?8, categories_json), "
		"preview = COALESCE(?9, preview), change_key = COALESCE(?10, change_key), "
		"received_at = COALESCE(?11, received_at), sent_at = COALESCE(?12, sent_at), "
		"is_read = COALESCE(?13, is_read), is_flagged = COALESCE(?14, is_flagged), "
		"is_draft = COALESCE(?15, is_draft), "
		"has_attachments = COALESCE(?16, has_attachments), "
		"folder_id = ?17, remote_id = ?18, seen_gen = ?19, orphan = 0, "
		"pending = 0, updated_at = ?20 WHERE id = ?21";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	bind_metadata(s, m);
	sq_int(s, 17, folder_id);
	sq_text(s, 18, remote_id);
	sq_int(s, 19, seen_gen);
	sq_int(s, 20, time_now());
	sq_int(s, 21, row_id);
	return sq_done(st, s, "updating a message", e);
}

static int insert_row(struct store *st, int64_t account_id, int64_t folder_id,
		      const struct store_message_in *m, int64_t seen_gen,
		      bool pending, struct err *e)
{
	static const char sql[] =
		"INSERT INTO messages (internet_message_id, conversation_id, subject, "
		"from_name, from_addr, to_json, cc_json, categories_json, preview, "
		"change_key, received_at, sent_at, is_read, is_flagged, is_draft, "
		"has_attachments, account_id, folder_id, remote_id, seen_gen, updated_at, pending) "
		"VALUES (COALESCE(?1, ''), COALESCE(?2, ''), COALESCE(?3, ''), "
		"COALESCE(?4, ''), COALESCE(?5, ''), COALESCE(?6, '[]'), "
		"COALESCE(?7, '[]'), COALESCE(?8, '[]'), COALESCE(?9, ''), "
		"COALESCE(?10, ''), COALESCE(?11, 0), COALESCE(?12, 0), "
		"COALESCE(?13, 0), COALESCE(?14, 0), COALESCE(?15, 0), "
		"COALESCE(?16, 0), ?17, ?18, ?19, ?20, ?21, ?22)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	bind_metadata(s, m);
	sq_int(s, 17, account_id);
	sq_int(s, 18, folder_id);
	sq_text(s, 19, m->remote_id);
	sq_int(s, 20, seen_gen);
	sq_int(s, 21, time_now());
	sq_int(s, 22, pending);
	return sq_done(st, s, "adding a message", e);
}

/* Replay of an unchanged message already in place: only the mark moves. */
static int touch_row(struct store *st, int64_t row_id, int64_t seen_gen,
		     struct err *e)
{
	return sq_exec_ints(st, "UPDATE messages SET seen_gen = ?, orphan = 0 "
			    "WHERE id = ?", "marking a message seen", e, 2,
			    seen_gen, row_id);
}

int store_put_message(struct store *st, int64_t account_id, int64_t folder_id,
		      const struct store_message_in *m, int64_t seen_gen,
		      char *outcome, struct err *e)
{
	int64_t row_id = 0, old_folder = 0;
	char *old_key = NULL;
	char what = 'c';
	int owned, rc = -1, found;

	if (!m->remote_id || !*m->remote_id)
		return err_set(e, ERR_BUG, "store", "message without a remote id");
	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	found = find_row(st, account_id, m->remote_id, &row_id, &old_folder,
			 &old_key, e);
	if (found < 0)
		goto out;
	if (found) {
		what = old_folder == folder_id ? 'u' : 'm';
		if (what == 'u' && m->change_key && *m->change_key &&
		    strcmp(old_key, m->change_key) == 0) {
			rc = touch_row(st, row_id, seen_gen, e);
			what = 0;
			goto out;
		}
		rc = update_row(st, row_id, folder_id, m->remote_id, m, seen_gen, e);
		if (rc == 0)
			rc = drop_superseded_local(st, account_id, folder_id,
						   m->internet_message_id, e);
	} else {
		found = find_pending_local(st, account_id, folder_id,
					   m->internet_message_id, &row_id, NULL, e);
		if (found < 0)
			goto out;
		if (found) {
			what = 'r';
			rc = update_row(st, row_id, folder_id, m->remote_id, m,
					seen_gen, e);
		} else {
			rc = insert_row(st, account_id, folder_id, m, seen_gen, false, e);
		}
	}
	if (rc == 0)
		rc = sq_feed(st, account_id, "message", m->remote_id,
			     what == 'c' ? "created" : what == 'm' ? "moved" : "updated", e);
out:
	free(old_key);
	if (outcome)
		*outcome = what;
	return sq_auto_end(st, owned, rc, e);
}

int store_put_local_message(struct store *st, int64_t account_id,
			    int64_t folder_id, const struct store_message_in *m,
			    struct err *e)
{
	int owned, rc;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = insert_row(st, account_id, folder_id, m, 0, true, e);
	if (rc == 0)
		rc = sq_feed(st, account_id, "message", m->remote_id, "created", e);
	return sq_auto_end(st, owned, rc, e);
}

int store_mark_message_removed(struct store *st, int64_t account_id,
			       int64_t folder_id, const char *remote_id,
			       struct err *e)
{
	static const char sql[] =
		"UPDATE messages SET orphan = 1 WHERE account_id = ? AND folder_id = ? "
		"AND remote_id = ? AND pending = 0";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_int(s, 2, folder_id);
	sq_text(s, 3, remote_id);
	return sq_done(st, s, "marking a removed message", e);
}

/* Run `sql` (parameters: id, limit) collecting column 0 of each row. */
static int list_ids(struct store *st, const char *sql, int64_t id, size_t max,
		    const char *what, char ***ids, size_t *n, struct err *e)
{
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	*ids = NULL;
	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, id);
	sq_int(s, 2, (int64_t)max);
	*ids = xcalloc(max ? max : 1, sizeof(char *));
	while (*n < max && (rc = sq_row(st, s, what, e)) == 1)
		(*ids)[(*n)++] = xstrdup(sq_col_str(s, 0));
	if (*n == max)
		rc = 0;
	sqlite3_reset(s);
	if (rc < 0) {
		for (size_t i = 0; i < *n; i++)
			free((*ids)[i]);
		free(*ids);
		*ids = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int store_list_orphans(struct store *st, int64_t account_id, size_t max,
		       char ***ids, size_t *n, struct err *e)
{
	return list_ids(st, "SELECT remote_id FROM messages WHERE account_id = ? "
			"AND orphan = 1 ORDER BY id LIMIT ?", account_id, max,
			"listing removed messages", ids, n, e);
}

int store_move_message(struct store *st, int64_t account_id,
		       const char *remote_id, int64_t folder_id, struct err *e)
{
	/* The row joins the destination's current round (seen_gen), so a
	 * fresh round of that folder ending now does not sweep it away. */
	static const char sql[] =
		"UPDATE messages SET folder_id = ?1, orphan = 0, updated_at = ?2, "
		"seen_gen = (SELECT round_gen FROM folders WHERE id = ?1) "
		"WHERE account_id = ?3 AND remote_id = ?4";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int owned, rc;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	sq_int(s, 1, folder_id);
	sq_int(s, 2, time_now());
	sq_int(s, 3, account_id);
	sq_text(s, 4, remote_id);
	rc = sq_done(st, s, "moving a message", e);
	if (rc == 0 && sqlite3_changes(st->db) > 0)
		rc = sq_feed(st, account_id, "message", remote_id, "moved", e);
	return sq_auto_end(st, owned, rc, e);
}

int store_delete_message(struct store *st, int64_t account_id,
			 const char *remote_id, struct err *e)
{
	static const char sql[] =
		"DELETE FROM messages WHERE account_id = ? AND remote_id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int owned, rc;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, remote_id);
	rc = sq_done(st, s, "deleting a message", e);
	if (rc == 0 && sqlite3_changes(st->db) > 0)
		rc = sq_feed(st, account_id, "message", remote_id, "deleted", e);
	return sq_auto_end(st, owned, rc, e);
}

#define MESSAGE_COLUMNS \
	"m.id, m.folder_id, f.path, m.remote_id, m.internet_message_id, " \
	"m.conversation_id, m.subject, m.from_name, m.from_addr, m.to_json, " \
	"m.cc_json, m.categories_json, m.preview, m.received_at, m.sent_at, " \
	"m.is_read, m.is_flagged, m.is_draft, m.has_attachments, m.pending, " \
	"m.body_type IS NOT NULL"

/* Fill `m` with borrowed column pointers of the current row. */
static void read_message(sqlite3_stmt *s, struct store_message *m)
{
	memset(m, 0, sizeof(*m));
	m->id = sq_col_int(s, 0);
	m->folder_id = sq_col_int(s, 1);
	m->folder_path = sq_col_str(s, 2);
	m->remote_id = sq_col_str(s, 3);
	m->internet_message_id = sq_col_str(s, 4);
	m->conversation_id = sq_col_str(s, 5);
	m->subject = sq_col_str(s, 6);
	m->from_name = sq_col_str(s, 7);
	m->from_addr = sq_col_str(s, 8);
	m->to_json = sq_col_str(s, 9);
	m->cc_json = sq_col_str(s, 10);
	m->categories_json = sq_col_str(s, 11);
	m->preview = sq_col_str(s, 12);
	m->received_at = sq_col_int(s, 13);
	m->sent_at = sq_col_int(s, 14);
	m->is_read = sq_col_int(s, 15) != 0;
	m->is_flagged = sq_col_int(s, 16) != 0;
	m->is_draft = sq_col_int(s, 17) != 0;
	m->has_attachments = sq_col_int(s, 18) != 0;
	m->pending = sq_col_int(s, 19) != 0;
	m->body_fetched = sq_col_int(s, 20) != 0;
}

int store_list_messages(struct store *st, const struct store_message_query *q,
			store_message_cb cb, void *ctx, struct err *e)
{
	static const char one_folder[] =
		"SELECT " MESSAGE_COLUMNS " FROM messages m JOIN folders f ON f.id = m.folder_id "
		"WHERE m.folder_id = ?1 AND (?2 = 0 OR m.received_at < ?2 OR "
		"(m.received_at = ?2 AND m.id < ?3)) AND (?4 OR m.orphan = 0) "
		"ORDER BY m.received_at DESC, m.id DESC LIMIT ?5";
	static const char selected[] =
		"SELECT " MESSAGE_COLUMNS " FROM messages m JOIN folders f ON f.id = m.folder_id "
		"WHERE m.account_id = ?1 AND f.selected = 1 AND (?2 = 0 OR m.received_at < ?2 OR "
		"(m.received_at = ?2 AND m.id < ?3)) AND (?4 OR m.orphan = 0) "
		"ORDER BY m.received_at DESC, m.id DESC LIMIT ?5";
	sqlite3_stmt *s = sq_prepare(st, q->folder_id ? one_folder : selected, e);
	int rc;

	if (!s)
		return -1;
	sq_int(s, 1, q->folder_id ? q->folder_id : q->account_id);
	sq_int(s, 2, q->before_received);
	sq_int(s, 3, q->before_id ? q->before_id : INT64_MAX);
	sq_int(s, 4, q->include_orphans);
	sq_int(s, 5, (int64_t)(q->limit ? q->limit : 100));
	while ((rc = sq_row(st, s, "listing messages", e)) == 1) {
		struct store_message m;
		int stop;

		read_message(s, &m);
		stop = cb(ctx, &m);
		if (stop) {
			sqlite3_reset(s);
			return stop;
		}
	}
	sqlite3_reset(s);
	return rc < 0 ? -1 : 0;
}

int store_each_message(struct store *st, int64_t account_id,
		       store_message_cb cb, void *ctx, struct err *e)
{
	static const char sql[] =
		"SELECT " MESSAGE_COLUMNS " FROM messages m JOIN folders f ON f.id = m.folder_id "
		"WHERE m.account_id = ? ORDER BY m.id";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	while ((rc = sq_row(st, s, "reading messages", e)) == 1) {
		struct store_message m;
		int stop;

		read_message(s, &m);
		if ((stop = cb(ctx, &m)) != 0) {
			sqlite3_reset(s);
			return stop;
		}
	}
	sqlite3_reset(s);
	return rc < 0 ? -1 : 0;
}

/* Strings of a fetched message, copied so they outlive the statement. */
struct owned_message {
	char *strings[13];
	char *body;
};

int store_get_message(struct store *st, int64_t account_id,
		      const char *remote_id, struct store_message *out,
		      struct err *e)
{
	static const char sql[] =
		"SELECT " MESSAGE_COLUMNS ", m.body_type, m.body FROM messages m "
		"JOIN folders f ON f.id = m.folder_id WHERE m.account_id = ? AND m.remote_id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	struct owned_message *o;
	const char **fields[13];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, remote_id);
	rc = sq_row(st, s, "reading a message", e);
	if (rc != 1)
		return rc;
	read_message(s, out);
	o = xcalloc(1, sizeof(*o));
	fields[0] = &out->folder_path;
	fields[1] = &out->remote_id;
	fields[2] = &out->internet_message_id;
	fields[3] = &out->conversation_id;
	fields[4] = &out->subject;
	fields[5] = &out->from_name;
	fields[6] = &out->from_addr;
	fields[7] = &out->to_json;
	fields[8] = &out->cc_json;
	fields[9] = &out->categories_json;
	fields[10] = &out->preview;
	fields[11] = &out->body_type;
	fields[12] = NULL;
	out->body_type = sq_col_str(s, 21);
	for (size_t i = 0; fields[i]; i++) {
		o->strings[i] = xstrdup(*fields[i]);
		*fields[i] = o->strings[i];
	}
	out->body_len = (size_t)sqlite3_column_bytes(s, 22);
	o->body = xstrndup(sqlite3_column_blob(s, 22) ? (const char *)sqlite3_column_blob(s, 22) : "",
			   out->body_len);
	out->body = o->body;
	out->owned = o;
	sqlite3_reset(s);
	return 1;
}

void store_message_clear(struct store_message *m)
{
	struct owned_message *o = m->owned;

	if (o) {
		for (size_t i = 0; i < sizeof(o->strings) / sizeof(o->strings[0]); i++)
			free(o->strings[i]);
		free(o->body);
		free(o);
	}
	memset(m, 0, sizeof(*m));
}

int store_put_body(struct store *st, int64_t account_id, const char *remote_id,
		   const char *body_type, const char *body, size_t len,
		   struct err *e)
{
	static const char sql[] =
		"UPDATE messages SET body_type = ?, body = ? WHERE account_id = ? "
		"AND remote_id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, body_type);
	sq_blob(s, 2, body ? body : "", len);
	sq_int(s, 3, account_id);
	sq_text(s, 4, remote_id);
	return sq_done(st, s, "saving a message body", e);
}

int store_list_missing_bodies(struct store *st, int64_t folder_id, size_t limit,
			      char ***ids, size_t *n, struct err *e)
{
	return list_ids(st, "SELECT remote_id FROM messages WHERE folder_id = ? "
			"AND body_type IS NULL AND pending = 0 "
			"ORDER BY received_at DESC, id DESC LIMIT ?", folder_id, limit,
			"listing messages without bodies", ids, n, e);
}
