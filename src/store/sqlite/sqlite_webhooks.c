/*
 * sqlite_webhooks.c — webhooks in the SQLite store: the subscriptions, a
 * delivery slot per (webhook, account) that keeps that account's events in
 * seq order and is claimed by one worker at a time, and the delivery log.
 * Sending and signing are the server's business (src/server).
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"

#define DELIVERIES_KEPT 100
#define WEBHOOK_COLUMNS \
	"id, user_id, url, events, secret_sealed, include_backfill, after_seq, " \
	"disabled, disabled_reason, failing_since, created_at"

static void read_webhook(sqlite3_stmt *s, struct store_webhook *w)
{
	memset(w, 0, sizeof(*w));
	w->id = sq_col_int(s, 0);
	w->user_id = sq_col_int(s, 1);
	sq_col_copy(s, 2, w->url, sizeof(w->url));
	w->events = (unsigned)sq_col_int(s, 3);
	w->secret_sealed = sq_col_dup(s, 4);
	w->include_backfill = sq_col_int(s, 5) != 0;
	w->after_seq = sq_col_int(s, 6);
	w->disabled = sq_col_int(s, 7) != 0;
	sq_col_copy(s, 8, w->disabled_reason, sizeof(w->disabled_reason));
	w->failing_since = sq_col_int(s, 9);
	w->created_at = sq_col_int(s, 10);
}

int sqlite_add_webhook(struct store *st, struct store_webhook *w, struct err *e)
{
	static const char sql[] =
		"INSERT INTO webhooks (user_id, url, events, secret_sealed, "
		"include_backfill, after_seq, created_at) VALUES (?, ?, ?, ?, ?, "
		"(SELECT COALESCE(MAX(seq), 0) FROM events), ?)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int owned, rc;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	w->created_at = time_now();
	sq_int(s, 1, w->user_id);
	sq_text(s, 2, w->url);
	sq_int(s, 3, w->events);
	sq_text(s, 4, w->secret_sealed);
	sq_int(s, 5, w->include_backfill);
	sq_int(s, 6, w->created_at);
	rc = sq_done(st, s, "adding a webhook", e);
	if (rc == 0) {
		w->id = sqlite3_last_insert_rowid(sq_db(st));
		rc = sq_query_int(st, "SELECT after_seq FROM webhooks WHERE id = ?",
				  "reading a webhook", &w->after_seq, e, 1, w->id);
	}
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_get_webhook(struct store *st, int64_t id, struct store_webhook *out,
		       struct err *e)
{
	static const char sql[] = "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	sq_int(s, 1, id);
	rc = sq_row(st, s, "reading a webhook", e);
	if (rc == 1) {
		read_webhook(s, out);
		sqlite3_reset(s);
	}
	return rc;
}

int sqlite_list_webhooks(struct store *st, int64_t user_id,
			 struct store_webhook **out, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " WEBHOOK_COLUMNS " FROM webhooks "
		"WHERE ?1 = 0 OR user_id = ?1 ORDER BY id";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, user_id);
	while ((rc = sq_row(st, s, "listing webhooks", e)) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_webhook(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (rc < 0) {
		store_webhook_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int sqlite_update_webhook(struct store *st, const struct store_webhook *w,
			  struct err *e)
{
	static const char sql[] =
		"UPDATE webhooks SET url = ?, events = ?, include_backfill = ?, "
		"disabled = ?, disabled_reason = ?, failing_since = ? WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, w->url);
	sq_int(s, 2, w->events);
	sq_int(s, 3, w->include_backfill);
	sq_int(s, 4, w->disabled);
	sq_text(s, 5, w->disabled_reason);
	sq_int(s, 6, w->failing_since);
	sq_int(s, 7, w->id);
	return sq_done(st, s, "updating a webhook", e);
}

int sqlite_delete_webhook(struct store *st, int64_t id, struct err *e)
{
	return sq_exec_ints(st, "DELETE FROM webhooks WHERE id = ?",
			    "removing a webhook", e, 1, id);
}

/* The slots with an undelivered event, due now and not claimed by
 * someone else; with the next event's seq. */
static const char due_slots[] =
	"SELECT * FROM (SELECT w.id AS wid, a.id AS aid, "
	"MAX(COALESCE(sl.delivered_seq, 0), w.after_seq) AS done_seq, "
	"COALESCE(sl.attempts, 0) AS attempts, COALESCE(sl.next_attempt_at, 0) AS next_at, "
	"(SELECT ev.seq FROM events ev WHERE ev.account_id = a.id AND "
	" ev.seq > MAX(COALESCE(sl.delivered_seq, 0), w.after_seq) AND "
	" (((CASE WHEN w.events = 0 THEN ?3 ELSE w.events END) >> ev.type) & 1) AND "
	" (w.include_backfill OR ev.backfill = 0) ORDER BY ev.seq LIMIT 1) AS next_seq "
	"FROM webhooks w JOIN accounts a ON a.user_id = w.user_id "
	"LEFT JOIN webhook_slots sl ON sl.webhook_id = w.id AND sl.account_id = a.id "
	"WHERE w.disabled = 0 AND COALESCE(sl.next_attempt_at, 0) <= ?1 AND "
	"(sl.claim_until IS NULL OR sl.claim_until <= ?1 OR sl.claim_holder = ?2)) "
	"WHERE next_seq IS NOT NULL ORDER BY next_seq LIMIT ?4";

static int claim_slot(struct store *st, const struct store_delivery_slot *slot,
		      const char *holder, int64_t until, struct err *e)
{
	static const char sql[] =
		"INSERT INTO webhook_slots (webhook_id, account_id, delivered_seq, "
		"attempts, next_attempt_at, claim_holder, claim_until) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (webhook_id, account_id) "
		"DO UPDATE SET claim_holder = excluded.claim_holder, "
		"claim_until = excluded.claim_until";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, slot->webhook_id);
	sq_int(s, 2, slot->account_id);
	sq_int(s, 3, slot->delivered_seq);
	sq_int(s, 4, slot->attempts);
	sq_int(s, 5, slot->next_attempt_at);
	sq_text(s, 6, holder);
	sq_int(s, 7, until);
	return sq_done(st, s, "claiming a webhook delivery", e);
}

/* Copy the event `seq` into `ev`, its strings appended to `scratch`
 * (offsets fixed up by the caller once the block stops moving). */
struct copied_event {
	struct store_event ev;
	size_t off[4];             /* entity_id, folder_path, from_folder, data */
};

static size_t scratch_add(char **scratch, size_t *used, const char *s)
{
	size_t n = strlen(s) + 1, at = *used;

	*scratch = xrealloc(*scratch, *used + n);
	memcpy(*scratch + at, s, n);
	*used += n;
	return at;
}

static int copy_event(struct store *st, int64_t seq, struct copied_event *c,
		      char **scratch, size_t *used, struct err *e)
{
	static const char sql[] =
		"SELECT seq, account_id, user_id, type, entity_id, folder_path, "
		"from_folder, backfill, data, at FROM events WHERE seq = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	if (!s)
		return -1;
	sq_int(s, 1, seq);
	rc = sq_row(st, s, "reading an event", e);
	if (rc != 1) {
		sqlite3_reset(s);
		return rc < 0 ? -1 : err_set(e, ERR_BUG, "store", "event %lld vanished",
					     (long long)seq);
	}
	sq_read_event(s, 0, &c->ev);
	c->off[0] = scratch_add(scratch, used, c->ev.entity_id);
	c->off[1] = scratch_add(scratch, used, c->ev.folder_path);
	c->off[2] = scratch_add(scratch, used, c->ev.from_folder);
	c->off[3] = scratch_add(scratch, used, c->ev.data_json);
	sqlite3_reset(s);
	return 0;
}

int sqlite_claim_deliveries(struct store *st, const char *holder, int ttl_s,
			    size_t max, struct store_delivery_slot *out,
			    struct store_event *events, size_t *n,
			    struct err *e)
{
	struct sq_store *q = SQ(st);
	struct copied_event *copies = xcalloc(max ? max : 1, sizeof(*copies));
	int64_t *seqs = xcalloc(max ? max : 1, sizeof(*seqs));
	int64_t now = time_now();
	size_t used = 0;
	sqlite3_stmt *s;
	int owned, rc = -1, row = 0;

	*n = 0;
	free(q->scratch);
	q->scratch = NULL;
	if (sq_auto_begin(st, &owned, e) < 0)
		goto done;
	if (!(s = sq_prepare(st, due_slots, e)))
		goto out;
	sq_int(s, 1, now);
	sq_text(s, 2, holder);
	sq_int(s, 3, STORE_EVENT_ALL);
	sq_int(s, 4, (int64_t)max);
	while (*n < max && (row = sq_row(st, s, "finding webhook deliveries", e)) == 1) {
		struct store_delivery_slot *sl = &out[*n];

		sl->webhook_id = sq_col_int(s, 0);
		sl->account_id = sq_col_int(s, 1);
		sl->delivered_seq = sq_col_int(s, 2);
		sl->attempts = (int)sq_col_int(s, 3);
		sl->next_attempt_at = sq_col_int(s, 4);
		seqs[(*n)++] = sq_col_int(s, 5);
	}
	sqlite3_reset(s);
	if (row < 0 && *n < max)
		goto out;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < *n; i++) {
		rc = claim_slot(st, &out[i], holder, now + ttl_s, e);
		if (rc == 0)
			rc = copy_event(st, seqs[i], &copies[i], &q->scratch, &used, e);
	}
out:
	rc = sq_auto_end(st, owned, rc, e);
done:
	for (size_t i = 0; rc == 0 && i < *n; i++) {
		events[i] = copies[i].ev;
		events[i].entity_id = q->scratch + copies[i].off[0];
		events[i].folder_path = q->scratch + copies[i].off[1];
		events[i].from_folder = q->scratch + copies[i].off[2];
		events[i].data_json = q->scratch + copies[i].off[3];
	}
	if (rc < 0)
		*n = 0;
	free(copies);
	free(seqs);
	return rc;
}

int sqlite_finish_delivery(struct store *st, const struct store_delivery_slot *slot,
			   const struct store_delivery_attempt *a,
			   int64_t next_attempt_at, struct err *e)
{
	static const char ok[] =
		"UPDATE webhook_slots SET delivered_seq = ?1, attempts = 0, "
		"next_attempt_at = 0, claim_holder = '', claim_until = 0 "
		"WHERE webhook_id = ?2 AND account_id = ?3";
	static const char failed[] =
		"UPDATE webhook_slots SET attempts = attempts + 1, next_attempt_at = ?1, "
		"claim_holder = '', claim_until = 0 WHERE webhook_id = ?2 AND account_id = ?3";
	static const char log[] =
		"INSERT INTO webhook_deliveries (webhook_id, seq, account_id, at, ok, "
		"http_status, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	static const char trim[] =
		"DELETE FROM webhook_deliveries WHERE webhook_id = ?1 AND id <= "
		"(SELECT id FROM webhook_deliveries WHERE webhook_id = ?1 "
		"ORDER BY id DESC LIMIT 1 OFFSET ?2)";
	static const char failing[] =
		"UPDATE webhooks SET failing_since = CASE WHEN ?1 THEN 0 WHEN "
		"failing_since = 0 THEN ?2 ELSE failing_since END WHERE id = ?3";
	sqlite3_stmt *s;
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (a->ok)
		rc = sq_exec_ints(st, ok, "recording a delivery", e, 3, a->seq,
				  slot->webhook_id, slot->account_id);
	else
		rc = sq_exec_ints(st, failed, "recording a failed delivery", e, 3,
				  next_attempt_at, slot->webhook_id, slot->account_id);
	if (rc < 0 || !(s = sq_prepare(st, log, e))) {
		rc = -1;
		goto out;
	}
	sq_int(s, 1, slot->webhook_id);
	sq_int(s, 2, a->seq);
	sq_int(s, 3, slot->account_id);
	sq_int(s, 4, a->at ? a->at : time_now());
	sq_int(s, 5, a->ok);
	sq_int(s, 6, a->http_status);
	sq_int(s, 7, a->duration_ms);
	sq_text(s, 8, a->error);
	rc = sq_done(st, s, "logging a delivery", e);
	if (rc == 0)
		rc = sq_exec_ints(st, trim, "trimming the delivery log", e, 2,
				  slot->webhook_id, (int64_t)DELIVERIES_KEPT);
	if (rc == 0)
		rc = sq_exec_ints(st, failing, "recording the webhook's health", e, 3,
				  (int64_t)a->ok, time_now(), slot->webhook_id);
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_list_deliveries(struct store *st, int64_t webhook_id, size_t max,
			   struct store_delivery_attempt **out, size_t *n,
			   struct err *e)
{
	static const char sql[] =
		"SELECT webhook_id, seq, account_id, at, ok, http_status, duration_ms, "
		"error FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, webhook_id);
	sq_int(s, 2, (int64_t)max);
	*out = xcalloc(max ? max : 1, sizeof(**out));
	while (*n < max && (rc = sq_row(st, s, "reading the delivery log", e)) == 1) {
		struct store_delivery_attempt *a = &(*out)[(*n)++];

		a->webhook_id = sq_col_int(s, 0);
		a->seq = sq_col_int(s, 1);
		a->account_id = sq_col_int(s, 2);
		a->at = sq_col_int(s, 3);
		a->ok = sq_col_int(s, 4) != 0;
		a->http_status = (int)sq_col_int(s, 5);
		a->duration_ms = (int)sq_col_int(s, 6);
		sq_col_copy(s, 7, a->error, sizeof(a->error));
	}
	if (*n == max)
		rc = 0;
	sqlite3_reset(s);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int sqlite_count_undelivered(struct store *st, int64_t webhook_id,
			     long long *n, struct err *e)
{
	static const char sql[] =
		"SELECT COUNT(*) FROM webhooks w JOIN accounts a ON a.user_id = w.user_id "
		"LEFT JOIN webhook_slots sl ON sl.webhook_id = w.id AND sl.account_id = a.id "
		"JOIN events ev ON ev.account_id = a.id AND "
		"ev.seq > MAX(COALESCE(sl.delivered_seq, 0), w.after_seq) "
		"WHERE w.id = ?1 AND (((CASE WHEN w.events = 0 THEN ?2 ELSE w.events END) "
		">> ev.type) & 1) AND (w.include_backfill OR ev.backfill = 0)";
	int64_t v = 0;
	int rc = sq_query_int(st, sql, "counting undelivered events", &v, e, 2,
			      webhook_id, (int64_t)STORE_EVENT_ALL);

	*n = v;
	return rc;
}

int sqlite_retry_deliveries_now(struct store *st, int64_t webhook_id, struct err *e)
{
	return sq_exec_ints(st, "UPDATE webhook_slots SET next_attempt_at = 0, attempts = 0 "
			    "WHERE webhook_id = ?", "rescheduling webhook deliveries", e, 1,
			    webhook_id);
}
