/*
 * sqlite_outbox.c — the outbox (idempotent sends with recorded states, the
 * send.* events) in the SQLite store.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/store_rows.h"

#define OUTBOX_COLUMNS \
	"id, account_id, idem_key, state, internet_message_id, request_json, " \
	"mime, draft_remote_id, reply_to_remote_id, attempts, last_error, " \
	"next_attempt_at, created_at, updated_at, request_hash"

static void read_outbox(sqlite3_stmt *s, struct store_outbox *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sq_col_int(s, 0);
	o->account_id = sq_col_int(s, 1);
	sq_col_copy(s, 2, o->idem_key, sizeof(o->idem_key));
	o->state = sq_col_outbox_state(s, 3);
	sq_col_copy(s, 4, o->internet_message_id, sizeof(o->internet_message_id));
	o->request_json = sq_col_dup(s, 5);
	if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
		o->mime_len = (size_t)sqlite3_column_bytes(s, 6);
		o->mime = xstrndup(sqlite3_column_blob(s, 6), o->mime_len);
	}
	o->draft_remote_id = sq_col_dup(s, 7);
	o->reply_to_remote_id = sq_col_dup(s, 8);
	o->attempts = (int)sq_col_int(s, 9);
	sq_col_copy(s, 10, o->last_error, sizeof(o->last_error));
	o->next_attempt_at = sq_col_int(s, 11);
	o->created_at = sq_col_int(s, 12);
	o->updated_at = sq_col_int(s, 13);
	sq_col_copy(s, 14, o->request_hash, sizeof(o->request_hash));
}

static int get_by_key(struct store *st, int64_t account_id, const char *key,
		      struct store_outbox *o, struct err *e)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM outbox "
		"WHERE account_id = ? AND idem_key = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, key);
	rc = sq_row(st, s, "reading an outbox entry", e);
	if (rc == 1) {
		read_outbox(s, o);
		sqlite3_reset(s);
	}
	return rc;
}

int sqlite_outbox_add(struct store *st, struct store_outbox *o, struct err *e)
{
	static const char sql[] =
		"INSERT INTO outbox (account_id, idem_key, state, internet_message_id, "
		"request_json, mime, draft_remote_id, reply_to_remote_id, created_at, "
		"updated_at, request_hash) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?) "
		"ON CONFLICT (account_id, idem_key) DO NOTHING";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int64_t now = time_now();
	int owned, rc = -1;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	sq_int(s, 1, o->account_id);
	sq_text(s, 2, o->idem_key);
	sq_text(s, 3, o->internet_message_id);
	sq_text(s, 4, o->request_json);
	sq_blob(s, 5, o->mime, o->mime_len);
	sq_text(s, 6, o->draft_remote_id);
	sq_text(s, 7, o->reply_to_remote_id);
	sq_int(s, 8, now);
	sq_int(s, 9, now);
	sq_text(s, 10, o->request_hash);
	if (sq_done(st, s, "adding to the outbox", e) < 0)
		goto out;
	if (sqlite3_changes(sq_db(st)) == 0) {
		struct store_outbox existing;

		if (get_by_key(st, o->account_id, o->idem_key, &existing, e) != 1)
			goto out;
		o->id = existing.id;
		o->state = existing.state;
		str_copy(o->request_hash, sizeof(o->request_hash), existing.request_hash);
		str_copy(o->internet_message_id, sizeof(o->internet_message_id),
			 existing.internet_message_id);
		o->created_at = existing.created_at;
		store_outbox_clear(&existing);
		err_set(e, ERR_PERMANENT, "duplicate",
			"a message with idempotency key '%s' is already in the "
			"outbox (state %s)", o->idem_key, store_outbox_state_name(o->state));
		goto out;
	}
	o->id = sqlite3_last_insert_rowid(sq_db(st));
	o->state = STORE_OUTBOX_QUEUED;
	o->created_at = o->updated_at = now;
	rc = 0;
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_outbox_get(struct store *st, int64_t id, struct store_outbox *out,
		     struct err *e)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	sq_int(s, 1, id);
	rc = sq_row(st, s, "reading an outbox entry", e);
	if (rc == 1) {
		read_outbox(s, out);
		sqlite3_reset(s);
	}
	return rc;
}

int sqlite_outbox_find(struct store *st, int64_t account_id, const char *key,
		      struct store_outbox *out, struct err *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = get_by_key(st, account_id, key, out, e);
	return rc;
}

int sqlite_outbox_delete(struct store *st, const struct store_outbox *o,
			struct err *e)
{
	return sq_exec_ints(st, "DELETE FROM outbox WHERE id = ?",
			    "removing an outbox entry", e, 1, o->id);
}

static int list_outbox(struct store *st, sqlite3_stmt *s,
		       struct store_outbox **out, size_t *n, struct err *e)
{
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = sq_row(st, s, "listing the outbox", e)) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_outbox(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (rc < 0) {
		store_outbox_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int sqlite_outbox_list_open(struct store *st, int64_t account_id, int64_t now,
			   struct store_outbox **out, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM outbox "
		"WHERE account_id = ? AND state IN ('queued', 'drafted', 'sending') "
		"AND next_attempt_at <= ? ORDER BY id";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_int(s, 2, now);
	return list_outbox(st, s, out, n, e);
}

int sqlite_outbox_list_all(struct store *st, int64_t account_id,
			  struct store_outbox **out, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM outbox "
		"WHERE account_id = ? ORDER BY id DESC";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	return list_outbox(st, s, out, n, e);
}

/* The send.* event of an entry: its key, and the reason when it failed. */
static int send_event(struct store *st, const struct store_outbox *o,
		      enum store_event_type type, struct err *e)
{
	char *data = store_send_event_data(o, type);
	int rc = sq_event(st, &(struct store_event_new){ .account_id = o->account_id,
			  .type = type, .entity_id = o->idem_key, .data = data }, e);

	free(data);
	return rc;
}

int sqlite_outbox_update(struct store *st, const struct store_outbox *o,
			 struct err *e)
{
	static const char sql[] =
		"UPDATE outbox SET state = ?, draft_remote_id = ?, attempts = ?, "
		"last_error = ?, next_attempt_at = ?, mime = ?, updated_at = ? WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int64_t was = 0;
	int owned, rc;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = sq_query_int(st, "SELECT state = 'failed' FROM outbox WHERE id = ?",
			  "reading an outbox entry", &was, e, 1, o->id);
	if (rc < 0)
		return sq_auto_end(st, owned, rc, e);
	if (!(s = sq_prepare(st, sql, e)))
		return sq_auto_end(st, owned, -1, e);
	sq_text(s, 1, store_outbox_state_name(o->state));
	sq_text(s, 2, o->draft_remote_id);
	sq_int(s, 3, o->attempts);
	sq_text(s, 4, o->last_error);
	sq_int(s, 5, o->next_attempt_at);
	sq_blob(s, 6, o->mime, o->mime_len);
	sq_int(s, 7, time_now());
	sq_int(s, 8, o->id);
	rc = sq_done(st, s, "updating an outbox entry", e);
	if (rc == 0 && o->state == STORE_OUTBOX_FAILED && !was)
		rc = send_event(st, o, STORE_EVENT_SEND_FAILED, e);
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_outbox_confirm_synced(struct store *st, int64_t account_id,
				 long long *n, struct err *e)
{
	static const char which[] =
		"SELECT " OUTBOX_COLUMNS " FROM outbox WHERE account_id = ?1 "
		"AND state IN ('submitted', 'sending', 'failed') AND EXISTS (SELECT 1 FROM messages m WHERE "
		"m.account_id = ?1 AND m.internet_message_id = outbox.internet_message_id "
		/* spelled out so the partial index messages_imid applies */
		"AND m.internet_message_id <> '' AND m.pending = 0 AND m.is_draft = 0)";
	static const char confirm[] =
		"UPDATE outbox SET state = 'confirmed', updated_at = ? WHERE id = ?";
	struct store_outbox *list;
	sqlite3_stmt *s;
	size_t count = 0;
	int owned, rc;

	if (n)
		*n = 0;
	if (!(s = sq_prepare(st, which, e)))
		return -1;
	sq_int(s, 1, account_id);
	if (list_outbox(st, s, &list, &count, e) < 0)
		return -1;
	if (count == 0) {
		free(list);
		return 0;
	}
	if (sq_auto_begin(st, &owned, e) < 0) {
		store_outbox_list_free(list, count);
		return -1;
	}
	rc = 0;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		rc = sq_exec_ints(st, confirm, "confirming a sent message", e, 2,
				  time_now(), list[i].id);
		if (rc == 0)
			rc = send_event(st, &list[i], STORE_EVENT_SEND_CONFIRMED, e);
	}
	store_outbox_list_free(list, count);
	if (n && rc == 0)
		*n = (long long)count;
	return sq_auto_end(st, owned, rc, e);
}
