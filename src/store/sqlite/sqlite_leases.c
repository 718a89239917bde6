/*
 * sqlite_leases.c — sync leases in the SQLite store: one holder (a process
 * or a node) per account, with an expiry and a generation that fences
 * the commits of a holder that lost its lease (see store_set_fence).
 * Writes run under SQLite's write lock (BEGIN IMMEDIATE), which makes the
 * read-then-write of a claim atomic across processes.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"

static void read_lease(sqlite3_stmt *s, int64_t account_id, struct store_lease *l)
{
	memset(l, 0, sizeof(*l));
	l->account_id = account_id;
	sq_col_copy(s, 0, l->holder, sizeof(l->holder));
	l->generation = sq_col_int(s, 1);
	l->expires_at = sq_col_int(s, 2);
}

static int read_lease_row(struct store *st, int64_t account_id,
			  struct store_lease *out, struct err *e)
{
	static const char sql[] =
		"SELECT holder, generation, expires_at FROM account_leases WHERE account_id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	memset(out, 0, sizeof(*out));
	out->account_id = account_id;
	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	rc = sq_row(st, s, "reading a sync lease", e);
	if (rc == 1) {
		read_lease(s, account_id, out);
		sqlite3_reset(s);
	}
	return rc;
}

/* Inside a transaction: take or renew. 1 taken, 0 held by another. */
static int claim_in_tx(struct store *st, int64_t account_id, const char *holder,
		       int ttl_s, int64_t *gen, struct store_lease *current,
		       struct err *e)
{
	static const char upsert[] =
		"INSERT INTO account_leases (account_id, holder, generation, expires_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id) DO UPDATE SET "
		"holder = excluded.holder, generation = excluded.generation, "
		"expires_at = excluded.expires_at";
	struct store_lease l;
	int64_t now = time_now(), next_gen;
	sqlite3_stmt *s;
	int found = read_lease_row(st, account_id, &l, e);

	if (found < 0)
		return -1;
	if (found && l.holder[0] && strcmp(l.holder, holder) != 0 &&
	    l.expires_at > now) {
		if (current)
			*current = l;
		return 0;
	}
	/* Renewing keeps the generation; a lease that changes hands (or was
	 * free) gets the next one, so the old holder's commits are refused. */
	next_gen = found && strcmp(l.holder, holder) == 0 && l.expires_at > now
		   ? l.generation : l.generation + 1;
	if (!(s = sq_prepare(st, upsert, e)))
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, holder);
	sq_int(s, 3, next_gen);
	sq_int(s, 4, now + ttl_s);
	if (sq_done(st, s, "taking a sync lease", e) < 0)
		return -1;
	if (gen)
		*gen = next_gen;
	if (current) {
		memset(current, 0, sizeof(*current));
		current->account_id = account_id;
		str_copy(current->holder, sizeof(current->holder), holder);
		current->generation = next_gen;
		current->expires_at = now + ttl_s;
	}
	return 1;
}

int sqlite_claim_lease(struct store *st, int64_t account_id, const char *holder,
		       int ttl_s, int64_t *gen, struct store_lease *current,
		       struct err *e)
{
	int owned, rc;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = claim_in_tx(st, account_id, holder, ttl_s, gen, current, e);
	if (sq_auto_end(st, owned, rc < 0 ? -1 : 0, e) < 0)
		return -1;
	return rc;
}

int sqlite_release_lease(struct store *st, int64_t account_id,
			 const char *holder, struct err *e)
{
	static const char sql[] =
		"UPDATE account_leases SET holder = '', expires_at = 0 "
		"WHERE account_id = ? AND holder = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, holder);
	return sq_done(st, s, "releasing a sync lease", e);
}

int sqlite_get_lease(struct store *st, int64_t account_id,
		     struct store_lease *out, struct err *e)
{
	int rc = read_lease_row(st, account_id, out, e);

	if (rc < 0)
		return -1;
	if (out->expires_at <= time_now())
		out->holder[0] = '\0';
	return 0;
}

int sqlite_claim_due_accounts(struct store *st, const char *holder, int ttl_s,
			      size_t max, int64_t **ids, size_t *n,
			      struct err *e)
{
	static const char sql[] =
		"SELECT a.id FROM accounts a LEFT JOIN account_leases l ON l.account_id = a.id "
		"WHERE a.authorized_at > 0 AND a.state <> 'auth_invalid' AND a.state <> 'stopped' "
		"AND a.next_due_at <= ?1 AND (l.account_id IS NULL OR l.holder = '' OR "
		"l.expires_at <= ?1) ORDER BY a.next_due_at, a.id LIMIT ?2";
	int64_t *cand = NULL;
	size_t nc = 0;
	sqlite3_stmt *s;
	int owned, rc = -1, row = 0;

	*ids = NULL;
	*n = 0;
	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, sql, e)))
		goto out;
	sq_int(s, 1, time_now());
	sq_int(s, 2, (int64_t)max);
	cand = xcalloc(max ? max : 1, sizeof(*cand));
	while (nc < max && (row = sq_row(st, s, "finding due accounts", e)) == 1)
		cand[nc++] = sq_col_int(s, 0);
	sqlite3_reset(s);
	if (nc < max && row < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < nc; i++) {
		int got = claim_in_tx(st, cand[i], holder, ttl_s, NULL, NULL, e);

		if (got < 0)
			rc = -1;
		else if (got)
			cand[(*n)++] = cand[i];
	}
out:
	rc = sq_auto_end(st, owned, rc, e);
	if (rc < 0) {
		free(cand);
		*n = 0;
		return -1;
	}
	*ids = cand;
	return 0;
}

int sqlite_count_leases(struct store *st, struct store_holder_count *out,
			size_t max, size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT holder, COUNT(*) FROM account_leases WHERE holder <> '' AND "
		"expires_at > ? GROUP BY holder ORDER BY holder";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc = 0;

	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, time_now());
	while (*n < max && (rc = sq_row(st, s, "counting sync leases", e)) == 1) {
		sq_col_copy(s, 0, out[*n].holder, sizeof(out[*n].holder));
		out[*n].leases = sq_col_int(s, 1);
		(*n)++;
	}
	sqlite3_reset(s);
	return rc < 0 ? -1 : 0;
}
