/*
 * sqlite_fleet.c — the fleet operations of store.h on SQLite: the leases a
 * node keeps between passes renewed, and which of them are due. Nodes are
 * not recorded (a SQLite store lives on one machine): each `serve` counts
 * as the only node, which keeps nothing between passes.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"

int sqlite_renew_leases(struct store *st, const char *holder, int ttl_s,
			const int64_t *ids, size_t n, bool *renewed, struct err *e)
{
	static const char sql[] =
		"UPDATE account_leases SET expires_at = ?1 WHERE account_id = ?2 AND "
		"holder = ?3 AND expires_at > ?4";
	int64_t now = time_now();
	int owned, rc = 0;

	if (!n)
		return 0;
	memset(renewed, 0, n * sizeof(*renewed));
	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *s = sq_prepare(st, sql, e);

		if (!s) {
			rc = -1;
			break;
		}
		sq_int(s, 1, now + ttl_s);
		sq_int(s, 2, ids[i]);
		sq_text(s, 3, holder);
		sq_int(s, 4, now);
		if (sq_done(st, s, "renewing a sync lease", e) < 0)
			rc = -1;
		else
			renewed[i] = sqlite3_changes(sq_db(st)) > 0;
	}
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_due_among(struct store *st, const int64_t *ids, size_t n, int64_t *due,
		     size_t *n_due, struct err *e)
{
	static const char sql[] =
		"SELECT next_due_at FROM accounts WHERE id = ?1 AND next_due_at <= ?2 AND "
		"authorized_at > 0 AND state <> 'auth_invalid' AND state <> 'stopped'";
	int64_t now = time_now(), *at = xcalloc(n ? n : 1, sizeof(*at));

	*n_due = 0;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *s = sq_prepare(st, sql, e);
		size_t k;
		int rc = -1;

		if (s) {
			sq_int(s, 1, ids[i]);
			sq_int(s, 2, now);
			rc = sq_row(st, s, "finding due accounts", e);
		}
		if (rc < 0) {
			free(at);
			*n_due = 0;
			return -1;
		}
		if (rc != 1)
			continue;
		/* insertion in due order (the longest due first) */
		k = (*n_due)++;
		for (; k > 0 && at[k - 1] > sq_col_int(s, 0); k--) {
			at[k] = at[k - 1];
			due[k] = due[k - 1];
		}
		at[k] = sq_col_int(s, 0);
		due[k] = ids[i];
		sqlite3_reset(s);
	}
	free(at);
	return 0;
}

int sqlite_node_beat(struct store *st, const char *node, int ttl_s,
		     struct store_fleet *out, struct err *e)
{
	static const char sql[] =
		"SELECT COUNT(*) FROM accounts WHERE authorized_at > 0 AND "
		"state <> 'auth_invalid' AND state <> 'stopped'";
	int64_t accounts = 0;

	(void)node;
	(void)ttl_s;
	memset(out, 0, sizeof(*out));
	if (sq_query_int(st, sql, "counting the accounts to sync", &accounts, e, 0) < 0)
		return -1;
	out->nodes = 1;
	out->accounts = accounts;
	return 0;
}

int sqlite_node_leave(struct store *st, const char *node, struct err *e)
{
	(void)st;
	(void)node;
	(void)e;
	return 0;
}
