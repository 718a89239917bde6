/*
 * pg_events.c — reading the event feed of the PostgreSQL store, adding
 * events no other call writes, and waiting for new ones with
 * LISTEN/NOTIFY. Events get their seq when their transaction commits,
 * under one lock, in commit order (inboxsync_commit in
 * migrations/001_initial.sql): a reader that saw seq N never later finds
 * an event with a seq <= N, however the writers' transactions overlap.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"

int pg_read_events(struct store *st, const struct store_event_query *q,
		   store_event_cb cb, void *ctx, struct err *e)
{
	static const char sql[] =
		"SELECT " PG_EVENT_COLUMNS " FROM events WHERE seq > $1 "
		"AND ($2::bigint = 0 OR user_id = $2) AND ($3::bigint = 0 OR account_id = $3) "
		"AND (($4::integer >> type) & 1) = 1 AND ($5::boolean OR NOT backfill) "
		"ORDER BY seq LIMIT $6";
	struct pg_params p = { 0 };
	PGresult *r;
	int stop = 0;

	pgp_int(&p, q->after_seq);
	pgp_int(&p, q->user_id);
	pgp_int(&p, q->account_id);
	pgp_int(&p, q->types ? q->types : STORE_EVENT_ALL);
	pgp_bool(&p, q->include_backfill);
	pgp_int(&p, (int64_t)(q->limit ? q->limit : 100));
	if (!(r = pg_query(st, sql, &p, "reading events", e)))
		return -1;
	for (int i = 0; !stop && i < PQntuples(r); i++) {
		struct store_event ev;

		pg_read_event(r, i, 0, &ev);
		stop = cb(ctx, &ev);
	}
	PQclear(r);
	return stop;
}

int pg_last_event_seq(struct store *st, int64_t *seq, struct err *e)
{
	return pg_query_int(st, "SELECT COALESCE(max(seq), 0) FROM events",
			    "reading the last event", seq, e, 0);
}

int pg_add_event(struct store *st, int64_t account_id, enum store_event_type type,
		 const char *entity_id, const char *data_json, struct err *e)
{
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = pg_event(st, &(struct store_event_new){ .account_id = account_id, .type = type,
		      .entity_id = entity_id, .data = data_json }, e);
	return pg_auto_end(st, owned, rc, e);
}

/* A notification newer than `after_seq` arrived (and every pending one is
 * consumed). */
static bool notified(struct pg_store *q, int64_t after_seq)
{
	PGnotify *n;
	bool news = false;

	while ((n = PQnotifies(q->conn)) != NULL) {
		if (strtoll(n->extra, NULL, 10) > after_seq)
			news = true;
		PQfreemem(n);
	}
	return news;
}

int pg_wait_events(struct store *st, int64_t after_seq, int timeout_ms,
		   struct err *e)
{
	static const char *const listen[] = { "LISTEN inboxsync_events" };
	struct pg_store *q = PG(st);
	int64_t deadline = time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int64_t last = 0;

	if (q->in_tx)
		return err_set(e, ERR_BUG, "store", "waiting for events inside a transaction");
	if (pg_ensure(st, e) < 0)
		return -1;
	if (!q->listening) {
		if (pg_run(st, listen, 1, NULL, "listening for events", e) < 0)
			return -1;
		q->listening = true;
	}
	/* Listening first, then looking: an event committed in between is
	 * either seen here or notified. */
	if (pg_last_event_seq(st, &last, e) < 0)
		return -1;
	if (last > after_seq || notified(q, after_seq))
		return 1;
	for (;;) {
		struct pollfd pfd = { PQsocket(q->conn), POLLIN, 0 };
		int64_t left = deadline - time_mono_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno != EINTR)
			return err_set(e, ERR_TRANSIENT, "store_unavailable",
				       "waiting for events on %s failed: %s", q->where,
				       strerror(errno));
		if (n <= 0)
			continue;
		if (!PQconsumeInput(q->conn)) {
			pg_lost(st);
			err_set(e, ERR_TRANSIENT, "store_unavailable", "lost the "
				"connection to the PostgreSQL store %s while waiting for "
				"events; it is opened again on the next call", q->where);
			return err_set_fix(e, FIX_RETRY, NULL);
		}
		if (notified(q, after_seq))
			return 1;
	}
}
