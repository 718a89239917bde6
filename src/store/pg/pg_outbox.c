/*
 * pg_outbox.c — the outbox (idempotent sends with recorded states, the
 * send.* events) in the PostgreSQL store. One node drains an account's
 * outbox at a time because it holds the account's sync lease; the rows
 * here make each step survive that node's death.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"
#include "store/store_rows.h"

#define OUTBOX_COLUMNS \
	"id, account_id, idem_key, state, internet_message_id, request_json, " \
	"mime, draft_remote_id, reply_to_remote_id, attempts, last_error, " \
	"next_attempt_at, created_at, updated_at, request_hash"

static void read_outbox(const PGresult *r, int i, void *out)
{
	struct store_outbox *o = out;

	memset(o, 0, sizeof(*o));
	o->id = pg_int(r, i, 0);
	o->account_id = pg_int(r, i, 1);
	pg_copy(r, i, 2, o->idem_key, sizeof(o->idem_key));
	o->state = pg_col_outbox_state(r, i, 3);
	pg_copy(r, i, 4, o->internet_message_id, sizeof(o->internet_message_id));
	o->request_json = pg_dup(r, i, 5);
	o->mime = pg_bytes(r, i, 6, &o->mime_len);
	o->draft_remote_id = pg_dup(r, i, 7);
	o->reply_to_remote_id = pg_dup(r, i, 8);
	o->attempts = (int)pg_int(r, i, 9);
	pg_copy(r, i, 10, o->last_error, sizeof(o->last_error));
	o->next_attempt_at = pg_int(r, i, 11);
	o->created_at = pg_int(r, i, 12);
	o->updated_at = pg_int(r, i, 13);
	pg_copy(r, i, 14, o->request_hash, sizeof(o->request_hash));
}

static int list_outbox(struct store *st, const char *sql, const struct pg_params *p,
		       struct store_outbox **out, size_t *n, struct err *e)
{
	return pg_get_rows(st, sql, p, "listing the outbox", read_outbox, sizeof(**out),
			   (void **)out, n, e);
}

int pg_outbox_add(struct store *st, struct store_outbox *o, struct err *e)
{
	/* The new row, or (same key) the existing one's identity. */
	static const char sql[] =
		"WITH ins AS (INSERT INTO outbox (account_id, idem_key, state, "
		"internet_message_id, request_json, mime, draft_remote_id, "
		"reply_to_remote_id, created_at, updated_at, request_hash) VALUES "
		"($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $8, $9) "
		"ON CONFLICT (account_id, idem_key) DO NOTHING RETURNING id) "
		"SELECT true, id, 'queued', $9, $3, $8::bigint FROM ins UNION ALL "
		"SELECT false, id, state, request_hash, internet_message_id, created_at "
		"FROM outbox WHERE account_id = $1 AND idem_key = $2 "
		"AND NOT EXISTS (SELECT 1 FROM ins)";
	int64_t now = time_now();
	struct pg_params p = { 0 };
	PGresult *r;
	int rc = -1;

	pgp_int(&p, o->account_id);
	pgp_text(&p, o->idem_key);
	pgp_text(&p, o->internet_message_id);
	pgp_text(&p, o->request_json);
	pgp_bytes(&p, o->mime, o->mime_len);
	pgp_text(&p, o->draft_remote_id);
	pgp_text(&p, o->reply_to_remote_id);
	pgp_int(&p, now);
	pgp_text(&p, o->request_hash);
	if (!(r = pg_wquery(st, sql, &p, "adding to the outbox", e)))
		return -1;
	if (PQntuples(r) == 0) {
		/* Taken by a transaction that has not committed yet. */
		err_set(e, ERR_TRANSIENT, "store_busy", "another request with "
			"idempotency key '%s' is being added right now", o->idem_key);
		err_set_fix(e, FIX_RETRY, NULL);
	} else if (pg_bool(r, 0, 0)) {
		o->id = pg_int(r, 0, 1);
		o->state = STORE_OUTBOX_QUEUED;
		o->created_at = o->updated_at = now;
		rc = 0;
	} else {
		o->id = pg_int(r, 0, 1);
		o->state = pg_col_outbox_state(r, 0, 2);
		pg_copy(r, 0, 3, o->request_hash, sizeof(o->request_hash));
		pg_copy(r, 0, 4, o->internet_message_id, sizeof(o->internet_message_id));
		o->created_at = pg_int(r, 0, 5);
		err_set(e, ERR_PERMANENT, "duplicate",
			"a message with idempotency key '%s' is already in the "
			"outbox (state %s)", o->idem_key, store_outbox_state_name(o->state));
	}
	PQclear(r);
	return rc;
}

int pg_outbox_get(struct store *st, int64_t id, struct store_outbox *out,
		  struct err *e)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = $1";
	struct pg_params p = { 0 };

	memset(out, 0, sizeof(*out));
	pgp_int(&p, id);
	return pg_get_row(st, sql, &p, "reading an outbox entry", read_outbox, out, e);
}

int pg_outbox_find(struct store *st, int64_t account_id, const char *key,
		   struct store_outbox *out, struct err *e)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM outbox "
		"WHERE account_id = $1 AND idem_key = $2";
	struct pg_params p = { 0 };

	memset(out, 0, sizeof(*out));
	pgp_int(&p, account_id);
	pgp_text(&p, key);
	return pg_get_row(st, sql, &p, "reading an outbox entry", read_outbox, out, e);
}

int pg_outbox_delete(struct store *st, const struct store_outbox *o, struct err *e)
{
	return pg_write_ints(st, "DELETE FROM outbox WHERE id = $1",
			     "removing an outbox entry", e, 1, o->id);
}

int pg_outbox_list_open(struct store *st, int64_t account_id, int64_t now,
			struct store_outbox **out, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM outbox "
		"WHERE account_id = $1 AND state IN ('queued', 'drafted', 'sending') "
		"AND next_attempt_at <= $2 ORDER BY id";
	struct pg_params p = { 0 };

	pgp_int(&p, account_id);
	pgp_int(&p, now);
	return list_outbox(st, sql, &p, out, n, e);
}

int pg_outbox_list_all(struct store *st, int64_t account_id,
		       struct store_outbox **out, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM outbox "
		"WHERE account_id = $1 ORDER BY id DESC";
	struct pg_params p = { 0 };

	pgp_int(&p, account_id);
	return list_outbox(st, sql, &p, out, n, e);
}

static int send_event(struct store *st, const struct store_outbox *o,
		      enum store_event_type type, struct err *e)
{
	char *data = store_send_event_data(o, type);
	int rc = pg_event(st, &(struct store_event_new){ .account_id = o->account_id,
			  .type = type, .entity_id = o->idem_key, .data = data }, e);

	free(data);
	return rc;
}

int pg_outbox_update(struct store *st, const struct store_outbox *o, struct err *e)
{
	/* The state before (for the send.failed event) comes back with the
	 * update. */
	static const char sql[] =
		"UPDATE outbox n SET state = $1, draft_remote_id = $2, attempts = $3, "
		"last_error = $4, next_attempt_at = $5, mime = $6, updated_at = $7 "
		"FROM (SELECT id, state FROM outbox WHERE id = $8 FOR UPDATE) o "
		"WHERE n.id = o.id RETURNING o.state = 'failed'";
	struct pg_params p = { 0 };
	PGresult *r;
	int owned, rc = -1;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	pgp_text(&p, store_outbox_state_name(o->state));
	pgp_text(&p, o->draft_remote_id);
	pgp_int(&p, o->attempts);
	pgp_text(&p, o->last_error);
	pgp_int(&p, o->next_attempt_at);
	pgp_bytes(&p, o->mime, o->mime_len);
	pgp_int(&p, time_now());
	pgp_int(&p, o->id);
	if ((r = pg_query(st, sql, &p, "updating an outbox entry", e))) {
		bool was_failed = PQntuples(r) > 0 && pg_bool(r, 0, 0);

		PQclear(r);
		rc = 0;
		if (o->state == STORE_OUTBOX_FAILED && !was_failed)
			rc = send_event(st, o, STORE_EVENT_SEND_FAILED, e);
	}
	return pg_auto_end(st, owned, rc, e);
}

int pg_outbox_confirm_synced(struct store *st, int64_t account_id, long long *n,
			     struct err *e)
{
	static const char which[] =
		"SELECT " OUTBOX_COLUMNS " FROM outbox o WHERE account_id = $1 "
		"AND state IN ('submitted', 'sending', 'failed') AND EXISTS (SELECT 1 "
		"FROM messages m WHERE m.account_id = $1 AND "
		"m.internet_message_id = o.internet_message_id AND "
		"m.internet_message_id <> '' AND NOT m.pending AND NOT m.is_draft)";
	/* Only an entry still waiting is confirmed (and announced): two
	 * nodes looking at once announce it once. */
	static const char confirm[] =
		"WITH up AS (UPDATE outbox SET state = 'confirmed', updated_at = $1 "
		"WHERE id = $2 AND state IN ('submitted', 'sending', 'failed') "
		"RETURNING account_id, idem_key) "
		"INSERT INTO pg_temp.staged_events (account_id, user_id, type, entity_id, "
		"data, at) SELECT up.account_id, a.user_id, $3, up.idem_key, $4, $1 "
		"FROM up JOIN accounts a ON a.id = up.account_id";
	struct store_outbox *list;
	struct pg_params p = { 0 };
	size_t count = 0;
	int owned, rc = 0;

	if (n)
		*n = 0;
	pgp_int(&p, account_id);
	if (list_outbox(st, which, &p, &list, &count, e) < 0)
		return -1;
	if (count == 0) {
		free(list);
		return 0;
	}
	if (pg_auto_begin(st, &owned, e) < 0) {
		store_outbox_list_free(list, count);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < count; i++) {
		char *data = store_send_event_data(&list[i], STORE_EVENT_SEND_CONFIRMED);
		struct pg_params c = { 0 };

		pgp_int(&c, time_now());
		pgp_int(&c, list[i].id);
		pgp_int(&c, (int64_t)STORE_EVENT_SEND_CONFIRMED);
		pgp_text(&c, data);
		rc = pg_write(st, confirm, &c, "confirming a sent message", e);
		free(data);
	}
	store_outbox_list_free(list, count);
	if (n && rc == 0)
		*n = (long long)count;
	return pg_auto_end(st, owned, rc, e);
}
