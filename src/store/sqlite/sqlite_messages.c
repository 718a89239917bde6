/*
 * sqlite_messages.c — messages in the SQLite store: a page applied in one
 * pass of cached statements (upsert keyed on the stable remote id, so a
 * move changes the folder of one row; orphan marks for removed entries;
 * the local Sent entry replaced by the server's copy), their events,
 * keyset-paged listing, cached bodies. Address and category lists are
 * stored as JSON arrays (store_rows.h) and unpacked into one block per
 * message on read.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/store_rows.h"

/* ---- writing ------------------------------------------------------------- */

static void bind_optional_bool(sqlite3_stmt *s, int i, int v)
{
	if (v == MAIL_UNKNOWN)
		sqlite3_bind_null(s, i);
	else
		sq_int(s, i, v ? 1 : 0);
}

static void bind_optional_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v)
		sq_int(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* The lists of one message as stored: JSON text, NULL = unknown (keep
 * what is stored). Short lists are printed into `room`; longer ones go to
 * the heap (`heap` set). */
struct stored_list {
	char *text;
	bool heap;
	char room[1536];
};

struct stored_lists {
	struct stored_list to, cc, categories;
};

/* Print `arr` (built from references to the message's strings, so nothing
 * is copied) compactly into `out`; frees the tree. */
static void list_print(cJSON *arr, struct stored_list *out)
{
	out->heap = false;
	out->text = out->room;
	if (!arr || !cJSON_PrintPreallocated(arr, out->room, (int)sizeof(out->room), false)) {
		out->text = arr ? cJSON_PrintUnformatted(arr) : NULL;
		out->heap = out->text != NULL;
		if (!out->text)
			out->text = memcpy(out->room, "[]", 3);
	}
	cJSON_Delete(arr);
}

/* A JSON array of {"name","address"} (NULL when the list is unknown). */
static void addresses_json(const struct mail_address_list *l, struct stored_list *out)
{
	cJSON *arr;

	out->text = NULL;
	out->heap = false;
	if (!l->known)
		return;
	arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < l->n; i++) {
		cJSON *a = cJSON_CreateObject();

		cJSON_AddItemToArray(arr, a);
		cJSON_AddItemToObjectCS(a, "name", cJSON_CreateStringReference(
						l->items[i].name ? l->items[i].name : ""));
		cJSON_AddItemToObjectCS(a, "address", cJSON_CreateStringReference(
						l->items[i].address ? l->items[i].address : ""));
	}
	list_print(arr, out);
}

static void strings_json(const struct mail_string_list *l, struct stored_list *out)
{
	cJSON *arr;

	out->text = NULL;
	out->heap = false;
	if (!l->known)
		return;
	arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < l->n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateStringReference(
					     l->items[i] ? l->items[i] : ""));
	list_print(arr, out);
}

static void lists_build(const struct mail_message *m, struct stored_lists *l)
{
	addresses_json(&m->to, &l->to);
	addresses_json(&m->cc, &l->cc);
	strings_json(&m->categories, &l->categories);
}

static void list_free(struct stored_list *l)
{
	if (l->heap)
		cJSON_free(l->text);
	l->text = NULL;
	l->heap = false;
}

static void lists_free(struct stored_lists *l)
{
	list_free(&l->to);
	list_free(&l->cc);
	list_free(&l->categories);
}

/* Bind the metadata columns base+1..base+17 shared by insert and update. */
static void bind_metadata_at(sqlite3_stmt *s, int base, const struct mail_message *m,
			     const struct stored_lists *l)
{
	/* Everything bound stays alive until the statement is stepped and
	 * reset: no copies. */
	sq_text_static(s, base + 1, m->internet_message_id);
	sq_text_static(s, base + 2, m->conversation_id);
	sq_text_static(s, base + 3, m->subject);
	sq_text_static(s, base + 4, m->from.address ? m->from.name : NULL);
	sq_text_static(s, base + 5, m->from.address);
	sq_text_static(s, base + 6, l->to.text);
	sq_text_static(s, base + 7, l->cc.text);
	sq_text_static(s, base + 8, l->categories.text);
	sq_text_static(s, base + 9, m->preview);
	sq_text_static(s, base + 10, m->change_key);
	bind_optional_int(s, base + 11, m->received_at);
	bind_optional_int(s, base + 12, m->sent_at);
	bind_optional_bool(s, base + 13, m->is_read);
	bind_optional_bool(s, base + 14, m->is_flagged);
	bind_optional_bool(s, base + 15, m->is_draft);
	bind_optional_bool(s, base + 16, m->has_attachments);
	bind_optional_int(s, base + 17, m->size);
}

static void bind_metadata(sqlite3_stmt *s, const struct mail_message *m,
			  const struct stored_lists *l)
{
	bind_metadata_at(s, 0, m, l);
}

/* The row of remote id ID whose key is K (SQL parameters): through the
 * unique (account_id, remote_key) index, also when the id is one of the
 * rare ones stored without a key (sq_remote_key). */
#define KEY_MATCH(K, ID) "(remote_key = " K " OR remote_key IS NULL) AND remote_id = " ID

/* The key to store for remote id ID of account ACCOUNT (SQL parameters
 * or columns), whose key is KEY: KEY, or NULL when a row with another id
 * has that key already. A row with the same id keeps KEY, so writing an
 * id twice fails on the unique index, as it always has. */
#define KEY_OR_NULL(ACCOUNT, KEY, ID) \
	"CASE WHEN EXISTS (SELECT 1 FROM messages o WHERE o.account_id = " ACCOUNT \
	" AND o.remote_key = " KEY " AND o.remote_id <> " ID ") THEN NULL ELSE " KEY " END"

/* An existing row for the remote id: its id, folder and change key. */
struct row {
	int64_t id;
	int64_t folder_id;
	bool same_key;             /* the stored change key equals the new one */
};

static int find_row(struct store *st, int64_t account_id,
		    const struct mail_message *m, struct row *r, struct err *e)
{
	static const char sql[] =
		"SELECT id, folder_id, change_key FROM messages WHERE account_id = ?1 "
		"AND " KEY_MATCH("?2", "?3");
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_int(s, 2, sq_remote_key(m->remote_id));
	sq_text(s, 3, m->remote_id);
	rc = sq_row(st, s, "looking up a message", e);
	if (rc == 1) {
		r->id = sq_col_int(s, 0);
		r->folder_id = sq_col_int(s, 1);
		r->same_key = m->change_key && *m->change_key &&
			      strcmp(sq_col_str(s, 2), m->change_key) == 0;
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
	/* Through the partial index of pending rows (only local Sent
	 * entries are in it): never a walk over the folder's messages. */
	static const char sql[] =
		"SELECT id, remote_id FROM messages INDEXED BY messages_pending "
		"WHERE account_id = ? AND folder_id = ? AND pending = 1 AND "
		"internet_message_id = ? LIMIT 1";
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

static int delete_row(struct store *st, int64_t row_id, struct err *e)
{
	return sq_exec_ints(st, "DELETE FROM messages WHERE id = ?",
			    "deleting a message", e, 1, row_id);
}

static int update_row(struct store *st, int64_t row_id, int64_t folder_id,
		      const struct mail_message *m, const struct stored_lists *l,
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
		"size = COALESCE(?17, size), "
		"folder_id = ?18, remote_id = ?19, seen_gen = ?20, orphan = 0, "
		"pending = 0, updated_at = ?21, remote_key = CASE WHEN remote_id = ?19 "
		"THEN remote_key ELSE " KEY_OR_NULL("messages.account_id", "?23", "?19")
		" END WHERE id = ?22";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	bind_metadata(s, m, l);
	sq_int(s, 18, folder_id);
	sq_text(s, 19, m->remote_id);
	sq_int(s, 20, seen_gen);
	sq_int(s, 21, time_now());
	sq_int(s, 22, row_id);
	sq_int(s, 23, sq_remote_key(m->remote_id));
	return sq_done(st, s, "updating a message", e);
}

#define INSERT_MESSAGE \
	"INSERT INTO messages (internet_message_id, conversation_id, subject, " \
	"from_name, from_addr, to_json, cc_json, categories_json, preview, " \
	"change_key, received_at, sent_at, is_read, is_flagged, is_draft, " \
	"has_attachments, size, account_id, folder_id, remote_id, seen_gen, " \
	"updated_at, pending, remote_key) " \
	"VALUES (COALESCE(?1, ''), COALESCE(?2, ''), COALESCE(?3, ''), " \
	"COALESCE(?4, ''), COALESCE(?5, ''), COALESCE(?6, '[]'), " \
	"COALESCE(?7, '[]'), COALESCE(?8, '[]'), COALESCE(?9, ''), " \
	"COALESCE(?10, ''), COALESCE(?11, 0), COALESCE(?12, 0), " \
	"COALESCE(?13, 0), COALESCE(?14, 0), COALESCE(?15, 0), " \
	"COALESCE(?16, 0), COALESCE(?17, 0), ?18, ?19, ?20, ?21, ?22, ?23, "

/* The parameters of one row of INSERT_MESSAGE. */
#define ROW_PARAMS 24
/* Rows per multi-row INSERT of a page's new messages. */
#define INSERT_ROWS 16

/* INSERT_MESSAGE's columns with INSERT_ROWS rows of values (?1..?24,
 * ?25..?48, ...) and ON CONFLICT DO NOTHING, written once; its address
 * stays the same, as the statement cache wants. */
static char insert_many[INSERT_ROWS * 512 + 512];
static pthread_once_t insert_many_once = PTHREAD_ONCE_INIT;

static void insert_many_init(void)
{
	static const char head[] =
		"INSERT INTO messages (internet_message_id, conversation_id, subject, "
		"from_name, from_addr, to_json, cc_json, categories_json, preview, "
		"change_key, received_at, sent_at, is_read, is_flagged, is_draft, "
		"has_attachments, size, account_id, folder_id, remote_id, seen_gen, "
		"updated_at, pending, remote_key) VALUES ";
	static const char *const defaults[17] = {
		"''", "''", "''", "''", "''", "'[]'", "'[]'", "'[]'", "''", "''",
		"0", "0", "0", "0", "0", "0", "0",
	};
	size_t at = 0;

	at += (size_t)snprintf(insert_many + at, sizeof(insert_many) - at, "%s", head);
	for (int r = 0; r < INSERT_ROWS; r++) {
		int base = r * ROW_PARAMS;

		at += (size_t)snprintf(insert_many + at, sizeof(insert_many) - at, "%s(",
				       r ? ", " : "");
		for (int c = 0; c < 17; c++)
			at += (size_t)snprintf(insert_many + at, sizeof(insert_many) - at,
					       "COALESCE(?%d, %s), ", base + c + 1, defaults[c]);
		at += (size_t)snprintf(insert_many + at, sizeof(insert_many) - at,
				       "?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d)", base + 18, base + 19,
				       base + 20, base + 21, base + 22, base + 23, base + 24);
	}
	snprintf(insert_many + at, sizeof(insert_many) - at,
		 " ON CONFLICT (account_id, remote_key) DO NOTHING");
}

/* Insert a row; with `if_absent`, nothing happens when its key is taken
 * (the remote id is stored already, unless the page takes the general
 * path: page.keyless); without, the caller knows the id is not stored,
 * and the row goes without a key when another id has it. Returns 1
 * inserted, 0 already there, -1 error. */
static int insert_row(struct store *st, int64_t account_id, int64_t folder_id,
		      const struct mail_message *m, const struct stored_lists *l,
		      int64_t seen_gen, bool pending, bool if_absent, struct err *e)
{
	static const char sql[] = INSERT_MESSAGE
		KEY_OR_NULL("?18", "?24", "?20") ")";
	static const char sql_if_absent[] = INSERT_MESSAGE
		"?24) ON CONFLICT (account_id, remote_key) DO NOTHING";
	sqlite3_stmt *s = sq_prepare(st, if_absent ? sql_if_absent : sql, e);

	if (!s)
		return -1;
	bind_metadata(s, m, l);
	sq_int(s, 18, account_id);
	sq_int(s, 19, folder_id);
	sq_text_static(s, 20, m->remote_id);
	sq_int(s, 21, seen_gen);
	sq_int(s, 22, time_now());
	sq_int(s, 23, pending);
	sq_int(s, 24, sq_remote_key(m->remote_id));
	if (sq_done(st, s, "adding a message", e) < 0)
		return -1;
	return sqlite3_changes(sq_db(st)) > 0;
}

/* Replay of an unchanged message already in place: only the mark moves. */
static int touch_row(struct store *st, int64_t row_id, int64_t seen_gen,
		     struct err *e)
{
	return sq_exec_ints(st, "UPDATE messages SET seen_gen = ?, orphan = 0 "
			    "WHERE id = ?", "marking a message seen", e, 2,
			    seen_gen, row_id);
}

static int mark_removed(struct store *st, int64_t account_id, int64_t folder_id,
			const char *remote_id, long long *n, struct err *e)
{
	static const char sql[] =
		"UPDATE messages SET orphan = 1 WHERE account_id = ?1 AND folder_id = ?2 "
		"AND " KEY_MATCH("?4", "?3") " AND pending = 0";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_int(s, 2, folder_id);
	sq_text(s, 3, remote_id);
	sq_int(s, 4, sq_remote_key(remote_id));
	if (sq_done(st, s, "marking a removed message", e) < 0)
		return -1;
	*n += sqlite3_changes(sq_db(st));
	return 0;
}

/* The display path of a folder (heap; "" when gone). */
static char *folder_path(struct store *st, int64_t folder_id, struct err *e)
{
	static const char sql[] = "SELECT path FROM folders WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	char *path = NULL;

	if (!s)
		return NULL;
	sq_int(s, 1, folder_id);
	if (sq_row(st, s, "reading a folder", e) == 1) {
		path = xstrdup(sq_col_str(s, 0));
		sqlite3_reset(s);
	}
	return path ? path : xstrdup("");
}

static int message_event(struct store *st, int64_t account_id,
			 enum store_event_type type, const char *remote_id,
			 const char *path, const char *from, bool backfill,
			 const char *data, struct err *e)
{
	return sq_event(st, &(struct store_event_new){ .account_id = account_id,
			.type = type, .entity_id = remote_id, .folder_path = path,
			.from_folder = from, .backfill = backfill, .data = data }, e);
}

/* What one page shares: the folder and its path, the round, the counts,
 * and the rows it created whose events are not written yet. */
struct page {
	int64_t account_id;
	int64_t folder_id;
	char *path;
	int64_t seen_gen;
	bool backfill;
	bool pending_here;         /* the folder holds local Sent entries */
	bool keyless;              /* the account has ids stored without a key */
	int64_t run_first, run_last; /* created rows awaiting their events */
	struct stored_lists *lists;  /* INSERT_ROWS of them for put_many */
	struct store_page_result *r;
};

/* The message.created events of the rows created since the last flush,
 * in one statement: they are consecutive row ids (nothing else is
 * inserted or deleted in between, see page_event). */
static int flush_created(struct store *st, struct page *pg, struct err *e)
{
	static const char sql[] =
		"INSERT INTO events (account_id, user_id, type, entity_id, "
		"folder_path, from_folder, backfill, data, at) SELECT ?1, "
		"(SELECT user_id FROM accounts WHERE id = ?1), ?2, remote_id, ?3, '', "
		"?4, '', ?5 FROM messages WHERE id BETWEEN ?6 AND ?7 ORDER BY id";
	sqlite3_stmt *s;

	if (!pg->run_first)
		return 0;
	if (!(s = sq_prepare(st, sql, e)))
		return -1;
	sq_int(s, 1, pg->account_id);
	sq_int(s, 2, STORE_EVENT_MESSAGE_CREATED);
	sq_text_static(s, 3, pg->path);
	sq_int(s, 4, pg->backfill);
	sq_int(s, 5, time_now());
	sq_int(s, 6, pg->run_first);
	sq_int(s, 7, pg->run_last);
	pg->run_first = pg->run_last = 0;
	return sq_done(st, s, "recording events", e);
}

/* A row just created: its event joins the run. */
static void created(struct page *pg, int64_t row_id)
{
	if (!pg->run_first)
		pg->run_first = row_id;
	pg->run_last = row_id;
	pg->r->created++;
}

/* Any other event of the page: the created ones before it go first, so
 * the feed keeps the page's order. */
static int page_event(struct store *st, struct page *pg, enum store_event_type type,
		      const char *remote_id, const char *from, const char *data,
		      struct err *e)
{
	if (flush_created(st, pg, e) < 0)
		return -1;
	return message_event(st, pg->account_id, type, remote_id, pg->path, from,
			     false, data, e);
}

/* A row that already has this remote id. */
static int put_existing(struct store *st, struct page *pg,
			const struct mail_message *m, const struct row *row,
			const struct stored_lists *l, struct err *e)
{
	char *local_id = NULL, *from = NULL;
	int64_t local_row;
	int rc;

	if (row->folder_id != pg->folder_id &&
	    !(from = folder_path(st, row->folder_id, e)))
		return -1;
	rc = flush_created(st, pg, e);
	if (rc == 0)
		rc = update_row(st, row->id, pg->folder_id, m, l, pg->seen_gen, e);
	/* The server's copy sits here under an id we already had (a draft
	 * synced before it was sent keeps its immutable id when it moves to
	 * Sent Items): a pending local entry here with the same Message-ID is
	 * the same message, so it goes — one entry, not two. */
	if (rc == 0 && pg->pending_here &&
	    find_pending_local(st, pg->account_id, pg->folder_id,
			       m->internet_message_id, &local_row, &local_id, e) == 1) {
		rc = delete_row(st, local_row, e);
		if (rc == 0)
			rc = page_event(st, pg, STORE_EVENT_MESSAGE_DELETED, local_id,
					NULL, NULL, e);
	}
	if (rc == 0)
		rc = page_event(st, pg, from ? STORE_EVENT_MESSAGE_MOVED
				: STORE_EVENT_MESSAGE_UPDATED, m->remote_id, from, NULL, e);
	if (rc == 0 && from)
		pg->r->moved++;
	else if (rc == 0)
		pg->r->updated++;
	free(local_id);
	free(from);
	return rc;
}

/* A remote id we have never stored: the local Sent entry it replaces, or
 * a new row. */
static int put_new(struct store *st, struct page *pg, const struct mail_message *m,
		   const struct stored_lists *l, struct err *e)
{
	char *local_id = NULL;
	int64_t local_row;
	int found = pg->pending_here ? find_pending_local(st, pg->account_id,
			pg->folder_id, m->internet_message_id, &local_row, &local_id, e) : 0;
	int rc;

	if (found < 0)
		return -1;
	if (found) {
		json_t *d = json_pack("{s:s}", "replaces", local_id);
		char *data = d ? json_dumps(d, JSON_COMPACT) : NULL;

		json_decref(d);
		rc = flush_created(st, pg, e);
		if (rc == 0)
			rc = update_row(st, local_row, pg->folder_id, m, l, pg->seen_gen, e);
		if (rc == 0)
			rc = page_event(st, pg, STORE_EVENT_MESSAGE_UPDATED, m->remote_id,
					NULL, data, e);
		pg->r->replaced += rc == 0;
		free(data);
		free(local_id);
		return rc;
	}
	rc = insert_row(st, pg->account_id, pg->folder_id, m, l, pg->seen_gen, false,
			false, e);
	if (rc < 0)
		return -1;
	created(pg, sqlite3_last_insert_rowid(sq_db(st)));
	return 0;
}

/* The usual case of a folder's first round: a message never stored, in a
 * folder without local Sent entries, is one INSERT (the unique index
 * finds an existing row on the way). Returns 1 done, 0 the row exists
 * (take the general path), -1 error. */
static int put_fast(struct store *st, struct page *pg, const struct mail_message *m,
		    struct err *e)
{
	struct stored_lists l;
	int rc;

	lists_build(m, &l);
	rc = insert_row(st, pg->account_id, pg->folder_id, m, &l, pg->seen_gen, false,
			true, e);
	lists_free(&l);
	if (rc == 1)
		created(pg, sqlite3_last_insert_rowid(sq_db(st)));
	return rc;
}

static int put_one(struct store *st, struct page *pg, const struct mail_message *m,
		   struct err *e);

/* INSERT_ROWS new messages (none removed, the folder without local Sent
 * entries) in one statement. Rows take consecutive ids after the largest
 * (the write lock is ours), so when every row went in they are created;
 * when some keys were taken (stored already, or another id's), each
 * message is looked at again: the rows just made are created, the others
 * take the general path. */
static int put_many(struct store *st, struct page *pg, const struct mail_message *m,
		    struct err *e)
{
	struct stored_lists *l = pg->lists;
	int64_t before;
	sqlite3_stmt *s;
	int rc, changed;

	pthread_once(&insert_many_once, insert_many_init);
	if (sq_query_int(st, "SELECT COALESCE(max(id), 0) FROM messages",
			 "numbering messages", &before, e, 0) < 0 ||
	    !(s = sq_prepare(st, insert_many, e)))
		return -1;
	for (int r = 0; r < INSERT_ROWS; r++) {
		int base = r * ROW_PARAMS;

		lists_build(&m[r], &l[r]);
		bind_metadata_at(s, base, &m[r], &l[r]);
		sq_int(s, base + 18, pg->account_id);
		sq_int(s, base + 19, pg->folder_id);
		sq_text_static(s, base + 20, m[r].remote_id);
		sq_int(s, base + 21, pg->seen_gen);
		sq_int(s, base + 22, time_now());
		sq_int(s, base + 23, 0);
		sq_int(s, base + 24, sq_remote_key(m[r].remote_id));
	}
	rc = sq_done(st, s, "adding messages", e);
	changed = sqlite3_changes(sq_db(st));
	for (int r = 0; r < INSERT_ROWS; r++)
		lists_free(&l[r]);
	if (rc < 0)
		return -1;
	if (changed == INSERT_ROWS) {
		for (int r = 0; r < INSERT_ROWS; r++)
			created(pg, before + 1 + r);
		return 0;
	}
	/* First the rows this statement made (in order: their ids ascend; an
	 * id twice in the run finds the row its first copy made), then the
	 * rest, whose new rows (an id whose key another id has) come after. */
	bool done[INSERT_ROWS] = { false };
	int64_t last = before;

	for (int r = 0; r < INSERT_ROWS; r++) {
		struct row row = { 0 };
		int found = find_row(st, pg->account_id, &m[r], &row, e);

		if (found < 0)
			return -1;
		if (found && row.id > last && row.id <= before + changed) {
			created(pg, row.id);
			last = row.id;
			done[r] = true;
		}
	}
	for (int r = 0; rc == 0 && r < INSERT_ROWS; r++)
		if (!done[r])
			rc = put_one(st, pg, &m[r], e);
	return rc;
}

/* How many of `m` (at most INSERT_ROWS) can go into one put_many. */
static size_t fast_run(const struct page *pg, const struct mail_message *m, size_t n)
{
	size_t k = 0;

	if (pg->pending_here || pg->keyless)
		return 0;
	while (k < n && k < INSERT_ROWS && !m[k].removed && m[k].remote_id &&
	       *m[k].remote_id)
		k++;
	return k;
}

static int put_one(struct store *st, struct page *pg, const struct mail_message *m,
		   struct err *e)
{
	struct stored_lists l;
	struct row row = { 0 };
	int rc, found;

	if (!m->remote_id || !*m->remote_id)
		return err_set(e, ERR_BUG, "store", "message without a remote id");
	if (m->removed)
		return mark_removed(st, pg->account_id, pg->folder_id, m->remote_id,
				    &pg->r->removed, e);
	if (!pg->pending_here && !pg->keyless && (rc = put_fast(st, pg, m, e)) != 0)
		return rc < 0 ? -1 : 0;
	found = find_row(st, pg->account_id, m, &row, e);
	if (found < 0)
		return -1;
	if (found && row.folder_id == pg->folder_id && row.same_key) {
		pg->r->unchanged++;
		return touch_row(st, row.id, pg->seen_gen, e);
	}
	lists_build(m, &l);
	rc = found ? put_existing(st, pg, m, &row, &l, e) : put_new(st, pg, m, &l, e);
	lists_free(&l);
	return rc;
}

/* ---- the Message-ID index during large first rounds ---------------------- */

/* Folders whose first round brings at least this many messages, and at
 * least as many as the store holds already, are read without the
 * Message-ID index: its keys are random, so every message of a page
 * dirtied one more random index page (written to the WAL and again by the
 * checkpoint). Only the outbox's search for sent copies uses that index;
 * it is built again, sorted in one go, once no selected folder is in its
 * first round. */
#define BULK_MIN_MESSAGES 20000

static int imid_index_exists(struct store *st, bool *out, struct err *e)
{
	int64_t n;

	if (sq_query_int(st, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
			 "AND name = 'messages_imid'", "reading the schema", &n, e, 0) < 0)
		return -1;
	*out = n > 0;
	return 0;
}

/* At a page of a folder's first round: drop the index when the round is
 * large. */
static int bulk_begin(struct store *st, int64_t folder_id, struct err *e)
{
	int64_t total, stored;
	bool exists;

	if (imid_index_exists(st, &exists, e) < 0)
		return -1;
	if (!exists)
		return 0;
	if (sq_query_int(st, "SELECT total FROM folders WHERE id = ?", "reading a folder",
			 &total, e, 1, folder_id) < 0 ||
	    sq_query_int(st, "SELECT COALESCE(max(id), 0) FROM messages",
			 "counting messages", &stored, e, 0) < 0)
		return -1;
	if (total < BULK_MIN_MESSAGES || total < stored)
		return 0;
	return sq_exec_ints(st, "DROP INDEX messages_imid", "dropping an index", e, 0);
}

int sq_restore_indexes(struct store *st, struct err *e)
{
	int64_t bootstrapping;
	bool exists;

	if (imid_index_exists(st, &exists, e) < 0)
		return -1;
	if (exists)
		return 0;
	if (sq_query_int(st, "SELECT count(*) FROM folders WHERE selected = 1 AND "
			 "first_round = 1 AND phase <> 'live'", "reading folders",
			 &bootstrapping, e, 0) < 0)
		return -1;
	if (bootstrapping)
		return 0;
	/* as in 001_initial.sql */
	return sq_exec_ints(st, "CREATE INDEX IF NOT EXISTS messages_imid ON messages "
			    "(account_id, internet_message_id) WHERE internet_message_id <> ''",
			    "building the Message-ID index", e, 0);
}

/* Whether `sql` (SELECT EXISTS (...) with one parameter, `id`) holds. */
static int query_exists(struct store *st, const char *sql, int64_t id, const char *what,
			bool *out, struct err *e)
{
	int64_t n;

	if (sq_query_int(st, sql, what, &n, e, 1, id) < 0)
		return -1;
	*out = n != 0;
	return 0;
}

/* Whether the folder holds local Sent entries (through their partial
 * index: a lookup, not a walk). */
static int folder_has_pending(struct store *st, int64_t folder_id, bool *out,
			      struct err *e)
{
	return query_exists(st, "SELECT EXISTS (SELECT 1 FROM messages INDEXED BY "
		      "messages_pending WHERE folder_id = ? AND pending = 1)", folder_id,
		      "looking for local sent entries", out, e);
}

/* Whether the account has an id stored without a key (sq_remote_key):
 * then an insert that finds its key free may still be of an id already
 * stored, so every message takes the general path, which looks first. */
static int account_keyless(struct store *st, int64_t account_id, bool *out,
			   struct err *e)
{
	return query_exists(st, "SELECT EXISTS (SELECT 1 FROM messages WHERE account_id = ? "
		      "AND remote_key IS NULL)", account_id,
		      "looking for messages without a key", out, e);
}

int sqlite_put_messages(struct store *st, int64_t account_id, int64_t folder_id,
			const struct mail_message *items, size_t n,
			int64_t seen_gen, bool backfill,
			struct store_page_result *r, struct err *e)
{
	struct store_page_result local = { 0 };
	struct page pg = {
		.account_id = account_id, .folder_id = folder_id,
		.seen_gen = seen_gen, .backfill = backfill, .r = r ? r : &local,
	};
	int owned, rc = 0;

	if (n == 0)
		return 0;
	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(pg.path = folder_path(st, folder_id, e)) ||
	    folder_has_pending(st, folder_id, &pg.pending_here, e) < 0 ||
	    account_keyless(st, account_id, &pg.keyless, e) < 0 ||
	    (backfill && bulk_begin(st, folder_id, e) < 0))
		rc = -1;
	pg.lists = n >= INSERT_ROWS ? xcalloc(INSERT_ROWS, sizeof(*pg.lists)) : NULL;
	for (size_t i = 0; rc == 0 && i < n;) {
		if (pg.lists && fast_run(&pg, items + i, n - i) == INSERT_ROWS) {
			rc = put_many(st, &pg, items + i, e);
			i += INSERT_ROWS;
		} else {
			rc = put_one(st, &pg, &items[i], e);
			i++;
		}
	}
	if (rc == 0)
		rc = flush_created(st, &pg, e);
	free(pg.lists);
	free(pg.path);
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_put_local_message(struct store *st, int64_t account_id,
			     int64_t folder_id, const struct mail_message *m,
			     struct err *e)
{
	struct stored_lists l;
	char *path;
	int owned, rc;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	lists_build(m, &l);
	rc = insert_row(st, account_id, folder_id, m, &l, 0, true, false, e) < 0 ? -1 : 0;
	lists_free(&l);
	if (rc == 0 && !(path = folder_path(st, folder_id, e)))
		rc = -1;
	if (rc == 0) {
		rc = message_event(st, account_id, STORE_EVENT_MESSAGE_CREATED,
				   m->remote_id, path, NULL, false, NULL, e);
		free(path);
	}
	return sq_auto_end(st, owned, rc, e);
}

/* Run `sql` (parameters: id, limit) collecting column 0 of each row. */
static int list_ids(struct store *st, const char *sql, int64_t id, size_t max,
		    const char *what, char ***ids, size_t *n, struct err *e)
{
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc = 0;

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

int sqlite_list_orphans(struct store *st, int64_t account_id, size_t max,
			char ***ids, size_t *n, struct err *e)
{
	return list_ids(st, "SELECT remote_id FROM messages WHERE account_id = ? "
			"AND orphan = 1 ORDER BY id LIMIT ?", account_id, max,
			"listing removed messages", ids, n, e);
}

/* Row id and folder of a message by remote id. */
static int locate_row(struct store *st, int64_t account_id, const char *remote_id,
		      int64_t *row_id, int64_t *folder_id, struct err *e)
{
	static const char sql[] =
		"SELECT id, folder_id FROM messages WHERE account_id = ?1 AND "
		KEY_MATCH("?2", "?3");
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_int(s, 2, sq_remote_key(remote_id));
	sq_text(s, 3, remote_id);
	rc = sq_row(st, s, "looking up a message", e);
	if (rc == 1) {
		*row_id = sq_col_int(s, 0);
		*folder_id = sq_col_int(s, 1);
		sqlite3_reset(s);
	}
	return rc;
}

int sqlite_move_message(struct store *st, int64_t account_id,
			const char *remote_id, int64_t folder_id,
			const char *new_remote_id, struct err *e)
{
	/* The row joins the destination's current round (seen_gen), so a
	 * fresh round of that folder ending now does not sweep it away. */
	static const char sql[] =
		"UPDATE messages SET folder_id = ?1, orphan = 0, updated_at = ?2, "
		"remote_id = COALESCE(?3, remote_id), remote_key = CASE WHEN ?3 IS NULL "
		"THEN remote_key ELSE " KEY_OR_NULL("messages.account_id", "?5", "?3") " END, "
		"seen_gen = (SELECT round_gen FROM folders WHERE id = ?1) WHERE id = ?4";
	int64_t row_id = 0, old_folder = 0;
	char *from = NULL, *to = NULL;
	sqlite3_stmt *s;
	int owned, rc = -1, found;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	found = locate_row(st, account_id, remote_id, &row_id, &old_folder, e);
	if (found <= 0) {
		rc = found;
		goto out;
	}
	if (!(from = folder_path(st, old_folder, e)) ||
	    !(to = folder_path(st, folder_id, e)) || !(s = sq_prepare(st, sql, e)))
		goto out;
	sq_int(s, 1, folder_id);
	sq_int(s, 2, time_now());
	sq_text(s, 3, new_remote_id);
	sq_int(s, 4, row_id);
	if (new_remote_id)
		sq_int(s, 5, sq_remote_key(new_remote_id));
	rc = sq_done(st, s, "moving a message", e);
	if (rc == 0)
		rc = message_event(st, account_id, STORE_EVENT_MESSAGE_MOVED,
				   new_remote_id ? new_remote_id : remote_id, to,
				   from, false, NULL, e);
out:
	free(from);
	free(to);
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_delete_message(struct store *st, int64_t account_id,
			  const char *remote_id, struct err *e)
{
	int64_t row_id = 0, folder_id = 0;
	char *path = NULL;
	int owned, rc, found;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	found = locate_row(st, account_id, remote_id, &row_id, &folder_id, e);
	rc = found < 0 ? -1 : 0;
	if (found == 1 && !(path = folder_path(st, folder_id, e)))
		rc = -1;
	if (found == 1 && rc == 0)
		rc = delete_row(st, row_id, e);
	if (found == 1 && rc == 0)
		rc = message_event(st, account_id, STORE_EVENT_MESSAGE_DELETED,
				   remote_id, path, NULL, false, NULL, e);
	free(path);
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_set_message_flags(struct store *st, int64_t account_id,
			     const char *remote_id, int is_read, int is_flagged,
			     struct err *e)
{
	static const char sql[] =
		"UPDATE messages SET is_read = COALESCE(?1, is_read), "
		"is_flagged = COALESCE(?2, is_flagged), updated_at = ?3 "
		"WHERE account_id = ?4 AND " KEY_MATCH("?6", "?5") " AND "
		"(is_read <> COALESCE(?1, is_read) OR is_flagged <> COALESCE(?2, is_flagged))";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int64_t row_id, folder_id;
	char *path = NULL;
	int owned, rc;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	bind_optional_bool(s, 1, is_read);
	bind_optional_bool(s, 2, is_flagged);
	sq_int(s, 3, time_now());
	sq_int(s, 4, account_id);
	sq_text(s, 5, remote_id);
	sq_int(s, 6, sq_remote_key(remote_id));
	rc = sq_done(st, s, "changing message flags", e);
	if (rc == 0 && sqlite3_changes(sq_db(st)) > 0 &&
	    locate_row(st, account_id, remote_id, &row_id, &folder_id, e) == 1) {
		if (!(path = folder_path(st, folder_id, e)))
			rc = -1;
		else
			rc = message_event(st, account_id, STORE_EVENT_MESSAGE_UPDATED,
					   remote_id, path, NULL, false, NULL, e);
		free(path);
	}
	return sq_auto_end(st, owned, rc, e);
}

/* ---- reading --------------------------------------------------------------- */

#define MESSAGE_COLUMNS STORE_MESSAGE_COLUMNS

static const char *row_text(void *row, int col)
{
	return sq_col_str(row, col);
}

static int64_t row_int(void *row, int col)
{
	return sq_col_int(row, col);
}

/* Read the current row into `out`, its strings in one new heap block
 * (out->owned). */
static void read_message(sqlite3_stmt *s, bool with_body, struct store_message *out)
{
	const struct store_row row = { row_text, row_int, s };
	const void *body = with_body ? sqlite3_column_blob(s, STORE_MESSAGE_COL_BODY) : NULL;

	store_message_read(&row, with_body, body,
			   body ? (size_t)sqlite3_column_bytes(s, STORE_MESSAGE_COL_BODY) : 0,
			   out);
}

/* Call `cb` for every row of `s`, each message freed after its call. */
static int each_row(struct store *st, sqlite3_stmt *s, const char *what,
		    store_message_cb cb, void *ctx, struct err *e)
{
	int rc;

	while ((rc = sq_row(st, s, what, e)) == 1) {
		struct store_message m;
		int stop;

		read_message(s, false, &m);
		stop = cb(ctx, &m);
		store_message_clear(&m);
		if (stop) {
			sqlite3_reset(s);
			return stop;
		}
	}
	sqlite3_reset(s);
	return rc < 0 ? -1 : 0;
}

/* The page queries: one folder or every selected one, from the newest
 * or after a cursor. The cursor is a row-value comparison, which SQLite
 * seeks to in the (received_at, id) index; spelt "received_at < ?2 OR
 * (received_at = ?2 AND id < ?3)" behind "?2 = 0 OR" it walked the index
 * from the newest message down to the cursor (130 ms 900,000 messages
 * deep). Parameters: 1 folder or account, 2 and 3 the cursor, 4 orphans
 * too, 5 the limit. */
#define LIST_SELECT \
	"SELECT " MESSAGE_COLUMNS " FROM messages m JOIN folders f ON f.id = m.folder_id WHERE "
#define LIST_FOLDER "m.folder_id = ?1"
#define LIST_SELECTED "m.account_id = ?1 AND f.selected = 1"
#define LIST_AFTER " AND (m.received_at, m.id) < (?2, ?3)"
#define LIST_ORDER " AND (?4 OR m.orphan = 0) ORDER BY m.received_at DESC, m.id DESC LIMIT ?5"

int sqlite_list_messages(struct store *st, const struct store_message_query *q,
			 store_message_cb cb, void *ctx, struct err *e)
{
	static const char *const sql[2][2] = {
		{ LIST_SELECT LIST_SELECTED LIST_ORDER, LIST_SELECT LIST_SELECTED LIST_AFTER LIST_ORDER },
		{ LIST_SELECT LIST_FOLDER LIST_ORDER, LIST_SELECT LIST_FOLDER LIST_AFTER LIST_ORDER },
	};
	sqlite3_stmt *s = sq_prepare(st, sql[q->folder_id != 0][q->before_received != 0 || q->before_id != 0], e);

	if (!s)
		return -1;
	sq_int(s, 1, q->folder_id ? q->folder_id : q->account_id);
	sq_int(s, 2, q->before_received);
	sq_int(s, 3, q->before_id ? q->before_id : INT64_MAX);
	sq_int(s, 4, q->include_orphans);
	sq_int(s, 5, (int64_t)(q->limit ? q->limit : 100));
	return each_row(st, s, "listing messages", cb, ctx, e);
}

int sqlite_each_message(struct store *st, int64_t account_id,
			store_message_cb cb, void *ctx, struct err *e)
{
	static const char sql[] =
		"SELECT " MESSAGE_COLUMNS " FROM messages m JOIN folders f ON f.id = m.folder_id "
		"WHERE m.account_id = ? ORDER BY m.id";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	return each_row(st, s, "reading messages", cb, ctx, e);
}

int sqlite_get_message(struct store *st, int64_t account_id,
		       const char *remote_id, struct store_message *out,
		       struct err *e)
{
	static const char sql[] =
		"SELECT " MESSAGE_COLUMNS ", m.body_type, m.body FROM messages m "
		"JOIN folders f ON f.id = m.folder_id WHERE m.account_id = ?1 AND "
		"(m.remote_key = ?2 OR m.remote_key IS NULL) AND m.remote_id = ?3";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_int(s, 2, sq_remote_key(remote_id));
	sq_text(s, 3, remote_id);
	rc = sq_row(st, s, "reading a message", e);
	if (rc != 1)
		return rc;
	read_message(s, true, out);
	sqlite3_reset(s);
	return 1;
}

int sqlite_put_body(struct store *st, int64_t account_id, const char *remote_id,
		    const char *body_type, const char *body, size_t len,
		    struct err *e)
{
	static const char sql[] =
		"UPDATE messages SET body_type = ?1, body = ?2 WHERE account_id = ?3 "
		"AND " KEY_MATCH("?5", "?4");
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, body_type);
	sq_blob(s, 2, body ? body : "", len);
	sq_int(s, 3, account_id);
	sq_text(s, 4, remote_id);
	sq_int(s, 5, sq_remote_key(remote_id));
	return sq_done(st, s, "saving a message body", e);
}

int sqlite_list_missing_bodies(struct store *st, int64_t folder_id, size_t limit,
			       char ***ids, size_t *n, struct err *e)
{
	return list_ids(st, "SELECT remote_id FROM messages WHERE folder_id = ? "
			"AND body_type IS NULL AND pending = 0 "
			"ORDER BY received_at DESC, id DESC LIMIT ?", folder_id, limit,
			"listing messages without bodies", ids, n, e);
}
