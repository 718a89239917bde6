/*
 * pg_leases.c — sync leases in the PostgreSQL store: one holder per
 * account with an expiry and a generation that fences the commits of a
 * holder that lost its lease (inboxsync_commit checks it, see
 * store_set_fence). A claim is one INSERT ... ON CONFLICT DO UPDATE whose
 * condition PostgreSQL evaluates under the row lock, so two nodes never
 * both take a lease; a node looking for work takes due accounts with
 * FOR NO KEY UPDATE SKIP LOCKED, passing over rows another node is
 * claiming at the same moment instead of waiting for them.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"

/* Take (a free or expired lease, with the next generation) or renew (our
 * own live lease, same generation); nothing when another holder's lease
 * is live. $1 account, $2 holder, $3 now, $4 expiry. */
#define LEASE_UPSERT \
	"INSERT INTO account_leases AS l (account_id, holder, generation, expires_at) " \
	"SELECT id, $2, 1, $4 FROM ids ON CONFLICT (account_id) DO UPDATE SET " \
	"holder = excluded.holder, generation = CASE WHEN l.holder = excluded.holder " \
	"AND l.expires_at > $3 THEN l.generation ELSE l.generation + 1 END, " \
	"expires_at = excluded.expires_at " \
	"WHERE l.holder = '' OR l.holder = excluded.holder OR l.expires_at <= $3 " \
	"RETURNING account_id, generation, expires_at"

static void fill_lease(struct store_lease *l, int64_t account_id, const char *holder,
		       int64_t generation, int64_t expires_at)
{
	memset(l, 0, sizeof(*l));
	l->account_id = account_id;
	str_copy(l->holder, sizeof(l->holder), holder);
	l->generation = generation;
	l->expires_at = expires_at;
}

static int read_lease_row(struct store *st, int64_t account_id,
			  struct store_lease *out, struct err *e)
{
	static const char sql[] =
		"SELECT holder, generation, expires_at FROM account_leases WHERE account_id = $1";
	struct pg_params p = { 0 };
	PGresult *r;

	memset(out, 0, sizeof(*out));
	out->account_id = account_id;
	pgp_int(&p, account_id);
	if (!(r = pg_query(st, sql, &p, "reading a sync lease", e)))
		return -1;
	if (PQntuples(r) > 0)
		fill_lease(out, account_id, pg_str(r, 0, 0), pg_int(r, 0, 1), pg_int(r, 0, 2));
	PQclear(r);
	return 0;
}

int pg_claim_lease(struct store *st, int64_t account_id, const char *holder,
		   int ttl_s, int64_t *gen, struct store_lease *current,
		   struct err *e)
{
	static const char sql[] =
		"WITH ids AS (SELECT $1::bigint AS id) " LEASE_UPSERT;
	int64_t now = time_now();
	struct pg_params p = { 0 };
	PGresult *r;
	int got;

	pgp_int(&p, account_id);
	pgp_text(&p, holder);
	pgp_int(&p, now);
	pgp_int(&p, now + ttl_s);
	if (!(r = pg_wquery(st, sql, &p, "taking a sync lease", e)))
		return -1;
	got = PQntuples(r) > 0;
	if (got) {
		if (gen)
			*gen = pg_int(r, 0, 1);
		if (current)
			fill_lease(current, account_id, holder, pg_int(r, 0, 1),
				   pg_int(r, 0, 2));
	}
	PQclear(r);
	if (!got && current && read_lease_row(st, account_id, current, e) < 0)
		return -1;
	return got;
}

int pg_release_lease(struct store *st, int64_t account_id, const char *holder,
		     struct err *e)
{
	static const char sql[] =
		"UPDATE account_leases SET holder = '', expires_at = 0 "
		"WHERE account_id = $1 AND holder = $2";
	struct pg_params p = { 0 };

	pgp_int(&p, account_id);
	pgp_text(&p, holder);
	return pg_write(st, sql, &p, "releasing a sync lease", e);
}

int pg_get_lease(struct store *st, int64_t account_id, struct store_lease *out,
		 struct err *e)
{
	if (read_lease_row(st, account_id, out, e) < 0)
		return -1;
	if (out->expires_at <= time_now())
		out->holder[0] = '\0';
	return 0;
}

int pg_claim_due_accounts(struct store *st, const char *holder, int ttl_s,
			  size_t max, int64_t **ids, size_t *n, struct err *e)
{
	/* Candidates are locked as they are found, skipping those another
	 * node holds a lock on; the upsert then takes each lease only if it
	 * is still free when its row is locked. Returned in due order. */
	static const char sql[] =
		"WITH cand AS (SELECT a.id, a.next_due_at FROM accounts a "
		"LEFT JOIN account_leases l0 ON l0.account_id = a.id "
		"WHERE a.authorized_at > 0 AND a.state <> 'auth_invalid' "
		"AND a.state <> 'stopped' AND a.next_due_at <= $3 AND "
		"(l0.account_id IS NULL OR l0.holder = '' OR l0.expires_at <= $3) "
		"ORDER BY a.next_due_at, a.id LIMIT $1 FOR NO KEY UPDATE OF a SKIP LOCKED), "
		"ids AS (SELECT id FROM cand), "
		"took AS (" LEASE_UPSERT ") "
		"SELECT c.id FROM took t JOIN cand c ON c.id = t.account_id "
		"ORDER BY c.next_due_at, c.id";
	int64_t now = time_now();
	struct pg_params p = { 0 };
	PGresult *r;

	*ids = NULL;
	*n = 0;
	pgp_int(&p, (int64_t)max);
	pgp_text(&p, holder);
	pgp_int(&p, now);
	pgp_int(&p, now + ttl_s);
	if (!(r = pg_wquery(st, sql, &p, "claiming due accounts", e)))
		return -1;
	*n = (size_t)PQntuples(r);
	*ids = xcalloc(*n ? *n : 1, sizeof(**ids));
	for (size_t i = 0; i < *n; i++)
		(*ids)[i] = pg_int(r, (int)i, 0);
	PQclear(r);
	return 0;
}

int pg_count_leases(struct store *st, struct store_holder_count *out, size_t max,
		    size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT holder, count(*) FROM account_leases WHERE holder <> '' AND "
		"expires_at > $1 GROUP BY holder ORDER BY holder";
	struct pg_params p = { 0 };
	PGresult *r;

	*n = 0;
	pgp_int(&p, time_now());
	if (!(r = pg_query(st, sql, &p, "counting sync leases", e)))
		return -1;
	for (int i = 0; i < PQntuples(r) && *n < max; i++) {
		pg_copy(r, i, 0, out[*n].holder, sizeof(out[*n].holder));
		out[*n].leases = pg_int(r, i, 1);
		(*n)++;
	}
	PQclear(r);
	return 0;
}
