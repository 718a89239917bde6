/*
 * pg_webhooks.c — webhooks in the PostgreSQL store: the subscriptions, a
 * delivery slot per (webhook, account) that keeps that account's events in
 * seq order and is claimed by one node at a time, and the delivery log.
 * A claim is one statement: the due slots are found, then each is taken
 * by an upsert that re-checks, under the slot's row lock, that it is still
 * free and unchanged (so a slot another node just claimed or finished is
 * left alone and no event goes out twice because of many nodes).
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"

#define DELIVERIES_KEPT 100
#define WEBHOOK_COLUMNS \
	"id, user_id, url, events, secret_sealed, include_backfill, after_seq, " \
	"disabled, disabled_reason, failing_since, created_at"

static void read_webhook(const PGresult *r, int i, void *out)
{
	struct store_webhook *w = out;

	memset(w, 0, sizeof(*w));
	w->id = pg_int(r, i, 0);
	w->user_id = pg_int(r, i, 1);
	pg_copy(r, i, 2, w->url, sizeof(w->url));
	w->events = (unsigned)pg_int(r, i, 3);
	w->secret_sealed = pg_dup(r, i, 4);
	w->include_backfill = pg_bool(r, i, 5);
	w->after_seq = pg_int(r, i, 6);
	w->disabled = pg_bool(r, i, 7);
	pg_copy(r, i, 8, w->disabled_reason, sizeof(w->disabled_reason));
	w->failing_since = pg_int(r, i, 9);
	w->created_at = pg_int(r, i, 10);
}

int pg_add_webhook(struct store *st, struct store_webhook *w, struct err *e)
{
	static const char sql[] =
		"INSERT INTO webhooks (user_id, url, events, secret_sealed, "
		"include_backfill, after_seq, created_at) VALUES ($1, $2, $3, $4, $5, "
		"(SELECT COALESCE(max(seq), 0) FROM events), $6) RETURNING id, after_seq";
	struct pg_params p = { 0 };
	PGresult *r;

	w->created_at = time_now();
	pgp_int(&p, w->user_id);
	pgp_text(&p, w->url);
	pgp_int(&p, w->events);
	pgp_text(&p, w->secret_sealed);
	pgp_bool(&p, w->include_backfill);
	pgp_int(&p, w->created_at);
	if (!(r = pg_wquery(st, sql, &p, "adding a webhook", e)))
		return -1;
	w->id = pg_int(r, 0, 0);
	w->after_seq = pg_int(r, 0, 1);
	PQclear(r);
	return 0;
}

int pg_get_webhook(struct store *st, int64_t id, struct store_webhook *out,
		   struct err *e)
{
	static const char sql[] = "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id = $1";
	struct pg_params p = { 0 };

	memset(out, 0, sizeof(*out));
	pgp_int(&p, id);
	return pg_get_row(st, sql, &p, "reading a webhook", read_webhook, out, e);
}

int pg_list_webhooks(struct store *st, int64_t user_id, struct store_webhook **out,
		     size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " WEBHOOK_COLUMNS " FROM webhooks "
		"WHERE $1::bigint = 0 OR user_id = $1 ORDER BY id";
	struct pg_params p = { 0 };

	pgp_int(&p, user_id);
	return pg_get_rows(st, sql, &p, "listing webhooks", read_webhook, sizeof(**out),
			   (void **)out, n, e);
}

int pg_update_webhook(struct store *st, const struct store_webhook *w, struct err *e)
{
	static const char sql[] =
		"UPDATE webhooks SET url = $1, events = $2, include_backfill = $3, "
		"disabled = $4, disabled_reason = $5, failing_since = $6 WHERE id = $7";
	struct pg_params p = { 0 };

	pgp_text(&p, w->url);
	pgp_int(&p, w->events);
	pgp_bool(&p, w->include_backfill);
	pgp_bool(&p, w->disabled);
	pgp_text(&p, w->disabled_reason);
	pgp_int(&p, w->failing_since);
	pgp_int(&p, w->id);
	return pg_write(st, sql, &p, "updating a webhook", e);
}

int pg_delete_webhook(struct store *st, int64_t id, struct err *e)
{
	return pg_write_ints(st, "DELETE FROM webhooks WHERE id = $1",
			     "removing a webhook", e, 1, id);
}

int pg_retry_deliveries_now(struct store *st, int64_t webhook_id, struct err *e)
{
	return pg_write_ints(st, "UPDATE webhook_slots SET next_attempt_at = 0, "
			     "attempts = 0 WHERE webhook_id = $1",
			     "rescheduling webhook deliveries", e, 1, webhook_id);
}

/* The slots with an undelivered event, due now and not claimed by someone
 * else, with the next event's seq ($1 now, $2 holder, $3 every type, $4
 * max, $5 claim until). Each is claimed by an upsert whose condition,
 * evaluated under the slot's row lock, still finds it free and in the
 * state the search saw; what the claim took comes back with its event. */
static const char claim_sql[] =
	"WITH due AS (SELECT * FROM (SELECT w.id AS wid, a.id AS aid, "
	"sl.delivered_seq AS raw_seq, "
	"GREATEST(COALESCE(sl.delivered_seq, 0), w.after_seq) AS done_seq, "
	"COALESCE(sl.attempts, 0) AS attempts, COALESCE(sl.next_attempt_at, 0) AS next_at, "
	"(SELECT ev.seq FROM events ev WHERE ev.account_id = a.id AND "
	" ev.seq > GREATEST(COALESCE(sl.delivered_seq, 0), w.after_seq) AND "
	" (((CASE WHEN w.events = 0 THEN $3::integer ELSE w.events END) >> ev.type) & 1) = 1 "
	" AND (w.include_backfill OR NOT ev.backfill) ORDER BY ev.seq LIMIT 1) AS next_seq "
	"FROM webhooks w JOIN accounts a ON a.user_id = w.user_id "
	"LEFT JOIN webhook_slots sl ON sl.webhook_id = w.id AND sl.account_id = a.id "
	"WHERE NOT w.disabled AND COALESCE(sl.next_attempt_at, 0) <= $1 AND "
	"(sl.claim_until IS NULL OR sl.claim_until <= $1 OR sl.claim_holder = $2)) d "
	"WHERE next_seq IS NOT NULL ORDER BY next_seq LIMIT $4), "
	"took AS (INSERT INTO webhook_slots AS s (webhook_id, account_id, delivered_seq, "
	"attempts, next_attempt_at, claim_holder, claim_until) "
	"SELECT wid, aid, COALESCE(raw_seq, done_seq), attempts, next_at, $2, $5 FROM due "
	"ON CONFLICT (webhook_id, account_id) DO UPDATE SET "
	"claim_holder = excluded.claim_holder, claim_until = excluded.claim_until "
	"WHERE (s.claim_until <= $1 OR s.claim_holder = excluded.claim_holder) "
	"AND s.delivered_seq = excluded.delivered_seq AND s.attempts = excluded.attempts "
	"AND s.next_attempt_at <= $1 "
	"RETURNING webhook_id, account_id) "
	"SELECT d.wid, d.aid, d.done_seq, d.attempts, d.next_at, "
	"ev.seq, ev.account_id, ev.user_id, ev.type, ev.entity_id, ev.folder_path, "
	"ev.from_folder, ev.backfill, ev.data, ev.at "
	"FROM took t JOIN due d ON d.wid = t.webhook_id AND d.aid = t.account_id "
	"JOIN events ev ON ev.seq = d.next_seq ORDER BY d.next_seq";

int pg_claim_deliveries(struct store *st, const char *holder, int ttl_s,
			size_t max, struct store_delivery_slot *out,
			struct store_event *events, size_t *n, struct err *e)
{
	struct pg_store *q = PG(st);
	int64_t now = time_now();
	struct pg_params p = { 0 };
	size_t size = 0, used = 0;
	PGresult *r;
	int rows;

	*n = 0;
	free(q->scratch);
	q->scratch = NULL;
	pgp_int(&p, now);
	pgp_text(&p, holder);
	pgp_int(&p, STORE_EVENT_ALL);
	pgp_int(&p, (int64_t)max);
	pgp_int(&p, now + ttl_s);
	if (!(r = pg_wquery(st, claim_sql, &p, "claiming webhook deliveries", e)))
		return -1;
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++)
		for (int c = 9; c <= 13; c++)
			size += strlen(pg_str(r, i, c)) + 1;
	q->scratch = xmalloc(size ? size : 1);
	for (int i = 0; i < rows && *n < max; i++) {
		struct store_delivery_slot *sl = &out[*n];
		struct store_event *ev = &events[*n];
		const char **strs[] = { &ev->entity_id, &ev->folder_path, &ev->from_folder,
					NULL, &ev->data_json };

		sl->webhook_id = pg_int(r, i, 0);
		sl->account_id = pg_int(r, i, 1);
		sl->delivered_seq = pg_int(r, i, 2);
		sl->attempts = (int)pg_int(r, i, 3);
		sl->next_attempt_at = pg_int(r, i, 4);
		pg_read_event(r, i, 5, ev);
		/* The strings move into the scratch block, which outlives `r`. */
		for (int c = 0; c < 5; c++) {
			size_t len;

			if (!strs[c])
				continue;
			len = strlen(*strs[c]) + 1;
			memcpy(q->scratch + used, *strs[c], len);
			*strs[c] = q->scratch + used;
			used += len;
		}
		(*n)++;
	}
	PQclear(r);
	return 0;
}

int pg_finish_delivery(struct store *st, const struct store_delivery_slot *slot,
		       const struct store_delivery_attempt *a, int64_t next_attempt_at,
		       struct err *e)
{
	/* A delivered seq never goes back (a slow node finishing after
	 * another one took over cannot make an event go out again). */
	static const char ok[] =
		"UPDATE webhook_slots SET delivered_seq = GREATEST(delivered_seq, $1), "
		"attempts = 0, next_attempt_at = 0, claim_holder = '', claim_until = 0 "
		"WHERE webhook_id = $2 AND account_id = $3";
	static const char failed[] =
		"UPDATE webhook_slots SET attempts = attempts + 1, next_attempt_at = $1, "
		"claim_holder = '', claim_until = 0 WHERE webhook_id = $2 AND account_id = $3";
	static const char log[] =
		"INSERT INTO webhook_deliveries (webhook_id, seq, account_id, at, ok, "
		"http_status, duration_ms, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
	static const char trim[] =
		"DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND id <= "
		"(SELECT id FROM webhook_deliveries WHERE webhook_id = $1 "
		"ORDER BY id DESC LIMIT 1 OFFSET $2)";
	static const char failing[] =
		"UPDATE webhooks SET failing_since = CASE WHEN $1::boolean THEN 0 WHEN "
		"failing_since = 0 THEN $2 ELSE failing_since END WHERE id = $3";
	struct pg_params p = { 0 }, f = { 0 };
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	if (a->ok)
		rc = pg_write_ints(st, ok, "recording a delivery", e, 3, a->seq,
				   slot->webhook_id, slot->account_id);
	else
		rc = pg_write_ints(st, failed, "recording a failed delivery", e, 3,
				   next_attempt_at, slot->webhook_id, slot->account_id);
	pgp_int(&p, slot->webhook_id);
	pgp_int(&p, a->seq);
	pgp_int(&p, slot->account_id);
	pgp_int(&p, a->at ? a->at : time_now());
	pgp_bool(&p, a->ok);
	pgp_int(&p, a->http_status);
	pgp_int(&p, a->duration_ms);
	pgp_text(&p, a->error);
	if (rc == 0)
		rc = pg_write(st, log, &p, "logging a delivery", e);
	if (rc == 0)
		rc = pg_write_ints(st, trim, "trimming the delivery log", e, 2,
				   slot->webhook_id, (int64_t)DELIVERIES_KEPT);
	pgp_bool(&f, a->ok);
	pgp_int(&f, time_now());
	pgp_int(&f, slot->webhook_id);
	if (rc == 0)
		rc = pg_write(st, failing, &f, "recording the webhook's health", e);
	return pg_auto_end(st, owned, rc, e);
}

int pg_list_deliveries(struct store *st, int64_t webhook_id, size_t max,
		       struct store_delivery_attempt **out, size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT webhook_id, seq, account_id, at, ok, http_status, duration_ms, "
		"error FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2";
	struct pg_params p = { 0 };
	PGresult *r;

	*out = NULL;
	*n = 0;
	pgp_int(&p, webhook_id);
	pgp_int(&p, (int64_t)max);
	if (!(r = pg_query(st, sql, &p, "reading the delivery log", e)))
		return -1;
	*out = xcalloc(max ? max : 1, sizeof(**out));
	for (int i = 0; i < PQntuples(r) && *n < max; i++) {
		struct store_delivery_attempt *a = &(*out)[(*n)++];

		a->webhook_id = pg_int(r, i, 0);
		a->seq = pg_int(r, i, 1);
		a->account_id = pg_int(r, i, 2);
		a->at = pg_int(r, i, 3);
		a->ok = pg_bool(r, i, 4);
		a->http_status = (int)pg_int(r, i, 5);
		a->duration_ms = (int)pg_int(r, i, 6);
		pg_copy(r, i, 7, a->error, sizeof(a->error));
	}
	PQclear(r);
	return 0;
}

int pg_count_undelivered(struct store *st, int64_t webhook_id, long long *n,
			 struct err *e)
{
	static const char sql[] =
		"SELECT count(*) FROM webhooks w JOIN accounts a ON a.user_id = w.user_id "
		"LEFT JOIN webhook_slots sl ON sl.webhook_id = w.id AND sl.account_id = a.id "
		"JOIN events ev ON ev.account_id = a.id AND "
		"ev.seq > GREATEST(COALESCE(sl.delivered_seq, 0), w.after_seq) "
		"WHERE w.id = $1 AND (((CASE WHEN w.events = 0 THEN $2::integer ELSE w.events END) "
		">> ev.type) & 1) = 1 AND (w.include_backfill OR NOT ev.backfill)";
	int64_t v = 0;
	int rc = pg_query_int(st, sql, "counting undelivered events", &v, e, 2,
			      webhook_id, (int64_t)STORE_EVENT_ALL);

	*n = v;
	return rc;
}
