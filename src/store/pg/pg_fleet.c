/*
 * pg_fleet.c — what the nodes of a fleet share besides the leases of
 * pg_leases.c: each node's heartbeat in fleet_nodes (how many nodes are
 * alive, hence each one's fair share of the accounts), the renewal of the
 * leases a node keeps between passes, and which of them are due — each
 * one statement, one round trip, however many accounts (the ids travel as
 * one bigint[] parameter).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"

/* "{1,2,3}": ids as a PostgreSQL array literal (caller frees). */
static char *id_array(const int64_t *ids, size_t n)
{
	size_t cap = 2 + n * 21 + 1, len = 0;
	char *s = xmalloc(cap);

	s[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%" PRId64, i ? "," : "", ids[i]);
	s[len++] = '}';
	s[len] = '\0';
	return s;
}

/* Mark in flags[] the ids of the first column of `r`. */
static void mark_rows(const PGresult *r, const int64_t *ids, size_t n, bool *flags)
{
	memset(flags, 0, n * sizeof(*flags));
	for (int row = 0; row < PQntuples(r); row++) {
		int64_t id = pg_int(r, row, 0);

		for (size_t i = 0; i < n; i++)
			if (ids[i] == id)
				flags[i] = true;
	}
}

int pg_renew_leases(struct store *st, const char *holder, int ttl_s,
		    const int64_t *ids, size_t n, bool *renewed, struct err *e)
{
	static const char sql[] =
		"UPDATE account_leases SET expires_at = $3 WHERE holder = $1 AND "
		"account_id = ANY($2::bigint[]) AND expires_at > $4 RETURNING account_id";
	int64_t now = time_now();
	struct pg_params p = { 0 };
	char *arr;
	PGresult *r;

	if (!n)
		return 0;
	arr = id_array(ids, n);
	pgp_text(&p, holder);
	pgp_text(&p, arr);
	pgp_int(&p, now + ttl_s);
	pgp_int(&p, now);
	r = pg_wquery(st, sql, &p, "renewing sync leases", e);
	free(arr);
	if (!r)
		return -1;
	mark_rows(r, ids, n, renewed);
	PQclear(r);
	return 0;
}

int pg_due_among(struct store *st, const int64_t *ids, size_t n, int64_t *due,
		 size_t *n_due, struct err *e)
{
	static const char sql[] =
		"SELECT id FROM accounts WHERE id = ANY($1::bigint[]) AND next_due_at <= $2 "
		"AND authorized_at > 0 AND state <> 'auth_invalid' AND state <> 'stopped' "
		"ORDER BY next_due_at, id";
	struct pg_params p = { 0 };
	char *arr;
	PGresult *r;

	*n_due = 0;
	if (!n)
		return 0;
	arr = id_array(ids, n);
	pgp_text(&p, arr);
	pgp_int(&p, time_now());
	r = pg_query(st, sql, &p, "finding due accounts", e);
	free(arr);
	if (!r)
		return -1;
	for (int row = 0; row < PQntuples(r) && *n_due < n; row++)
		due[(*n_due)++] = pg_int(r, row, 0);
	PQclear(r);
	return 0;
}

int pg_node_beat(struct store *st, const char *node, int ttl_s,
		 struct store_fleet *out, struct err *e)
{
	/* The counts see the fleet as it was before this statement: the
	 * node counts itself in whether or not its row was there. */
	static const char sql[] =
		"WITH beat AS (INSERT INTO fleet_nodes (node, alive_until) VALUES ($1, $2) "
		"ON CONFLICT (node) DO UPDATE SET alive_until = excluded.alive_until) "
		"SELECT (SELECT count(*) FROM fleet_nodes WHERE alive_until > $3 AND node <> $1) + 1, "
		"(SELECT count(*) FROM accounts WHERE authorized_at > 0 AND "
		"state <> 'auth_invalid' AND state <> 'stopped')";
	int64_t now = time_now();
	struct pg_params p = { 0 };
	PGresult *r;

	memset(out, 0, sizeof(*out));
	pgp_text(&p, node);
	pgp_int(&p, now + ttl_s);
	pgp_int(&p, now);
	if (!(r = pg_wquery(st, sql, &p, "recording the node's heartbeat", e)))
		return -1;
	if (PQntuples(r) > 0) {
		out->nodes = pg_int(r, 0, 0);
		out->accounts = pg_int(r, 0, 1);
	}
	PQclear(r);
	return 0;
}

int pg_node_leave(struct store *st, const char *node, struct err *e)
{
	/* Also forgets the nodes that died a day ago or more. */
	static const char sql[] =
		"DELETE FROM fleet_nodes WHERE node = $1 OR alive_until < $2";
	struct pg_params p = { 0 };

	pgp_text(&p, node);
	pgp_int(&p, time_now() - 86400);
	return pg_write(st, sql, &p, "removing the node's heartbeat", e);
}
