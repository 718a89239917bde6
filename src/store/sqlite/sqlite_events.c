/*
 * sqlite_events.c — reading the event feed of the SQLite store, adding
 * events no other call writes, and waiting for new ones. SQLite has one
 * writer at a time and assigns seq at insert inside it, so seq order is
 * commit order: a reader never skips an event committed late.
 */
#include <string.h>
#include <time.h>
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"

#define EVENT_COLUMNS \
	"seq, account_id, user_id, type, entity_id, folder_path, from_folder, " \
	"backfill, data, at"

void sq_read_event(sqlite3_stmt *s, int first, struct store_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->seq = sq_col_int(s, first);
	ev->account_id = sq_col_int(s, first + 1);
	ev->user_id = sq_col_int(s, first + 2);
	ev->type = (enum store_event_type)sq_col_int(s, first + 3);
	ev->entity_id = sq_col_str(s, first + 4);
	ev->folder_path = sq_col_str(s, first + 5);
	ev->from_folder = sq_col_str(s, first + 6);
	ev->backfill = sq_col_int(s, first + 7) != 0;
	ev->data_json = sq_col_str(s, first + 8);
	ev->at = sq_col_int(s, first + 9);
}

int sqlite_read_events(struct store *st, const struct store_event_query *q,
		       store_event_cb cb, void *ctx, struct err *e)
{
	static const char sql[] =
		"SELECT " EVENT_COLUMNS " FROM events WHERE seq > ?1 "
		"AND (?2 = 0 OR user_id = ?2) AND (?3 = 0 OR account_id = ?3) "
		"AND ((?4 >> type) & 1) AND (?5 OR backfill = 0) ORDER BY seq LIMIT ?6";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	if (!s)
		return -1;
	sq_int(s, 1, q->after_seq);
	sq_int(s, 2, q->user_id);
	sq_int(s, 3, q->account_id);
	sq_int(s, 4, q->types ? q->types : STORE_EVENT_ALL);
	sq_int(s, 5, q->include_backfill);
	sq_int(s, 6, (int64_t)(q->limit ? q->limit : 100));
	while ((rc = sq_row(st, s, "reading events", e)) == 1) {
		struct store_event ev;
		int stop;

		sq_read_event(s, 0, &ev);
		if ((stop = cb(ctx, &ev)) != 0) {
			sqlite3_reset(s);
			return stop;
		}
	}
	sqlite3_reset(s);
	return rc < 0 ? -1 : 0;
}

int sqlite_last_event_seq(struct store *st, int64_t *seq, struct err *e)
{
	return sq_query_int(st, "SELECT COALESCE(MAX(seq), 0) FROM events",
			    "reading the last event", seq, e, 0);
}

int sqlite_add_event(struct store *st, int64_t account_id,
		     enum store_event_type type, const char *entity_id,
		     const char *data_json, struct err *e)
{
	int owned, rc;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = sq_event(st, &(struct store_event_new){ .account_id = account_id, .type = type,
		      .entity_id = entity_id, .data = data_json }, e);
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_wait_events(struct store *st, int64_t after_seq, int timeout_ms,
		       struct err *e)
{
	int64_t deadline = time_mono_ms() + timeout_ms;

	for (;;) {
		int64_t last = 0;
		struct timespec ts = { 0, 100 * 1000000L };

		if (sqlite_last_event_seq(st, &last, e) < 0)
			return -1;
		if (last > after_seq)
			return 1;
		if (time_mono_ms() >= deadline)
			return 0;
		nanosleep(&ts, NULL);
	}
}
