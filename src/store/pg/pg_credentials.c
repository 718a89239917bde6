/*
 * pg_credentials.c — sealed refresh/access tokens and when a grant was
 * last used, the refresh lease (single-flight refresh across nodes: one
 * conditional UPDATE of the credentials row, atomic under its row lock)
 * and single-use OAuth states, in the PostgreSQL store. Everything here
 * is ciphertext produced by the vault.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"

int pg_get_credentials(struct store *st, int64_t account_id,
		       struct store_credentials *c, struct err *e)
{
	static const char sql[] =
		"SELECT refresh_sealed, scope, generation, updated_at, used_at FROM "
		"credentials WHERE account_id = $1 AND refresh_sealed IS NOT NULL";
	struct pg_params p = { 0 };
	PGresult *r;

	memset(c, 0, sizeof(*c));
	pgp_int(&p, account_id);
	if (!(r = pg_query(st, sql, &p, "reading credentials", e)))
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	c->account_id = account_id;
	c->refresh_sealed = pg_dup(r, 0, 0);
	c->scope = pg_dup(r, 0, 1);
	c->generation = pg_int(r, 0, 2);
	c->updated_at = pg_int(r, 0, 3);
	c->used_at = pg_int(r, 0, 4);
	PQclear(r);
	return 1;
}

int pg_put_refresh_token(struct store *st, int64_t account_id,
			 const char *refresh_sealed, const char *scope,
			 struct err *e)
{
	static const char sql[] =
		"INSERT INTO credentials (account_id, refresh_sealed, scope, "
		"generation, updated_at, used_at) VALUES ($1, $2, $3, 1, $4, $4) "
		"ON CONFLICT (account_id) DO UPDATE SET refresh_sealed = excluded.refresh_sealed, "
		"scope = excluded.scope, generation = credentials.generation + 1, "
		"updated_at = excluded.updated_at, used_at = excluded.used_at";
	struct pg_params p = { 0 };
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	pgp_int(&p, account_id);
	pgp_text(&p, refresh_sealed);
	pgp_text(&p, scope ? scope : "");
	pgp_int(&p, time_now());
	rc = pg_write(st, sql, &p, "saving the refresh token", e);
	if (rc == 0)
		rc = pg_write_ints(st, "DELETE FROM access_tokens WHERE account_id = $1",
				   "dropping old access tokens", e, 1, account_id);
	return pg_auto_end(st, owned, rc, e);
}

int pg_rotate_refresh_token(struct store *st, int64_t account_id,
			    int64_t expected_generation,
			    const char *refresh_sealed, struct err *e)
{
	static const char sql[] =
		"UPDATE credentials SET refresh_sealed = $1, generation = generation + 1, "
		"updated_at = $2, used_at = $2 WHERE account_id = $3 AND generation = $4";
	struct pg_params p = { 0 };
	long long n = 0;

	pgp_text(&p, refresh_sealed);
	pgp_int(&p, time_now());
	pgp_int(&p, account_id);
	pgp_int(&p, expected_generation);
	if (pg_exec(st, sql, &p, "rotating the refresh token", &n, e) < 0)
		return -1;
	return n > 0 ? 1 : 0;
}

int pg_touch_refresh_token(struct store *st, int64_t account_id, struct err *e)
{
	return pg_write_ints(st, "UPDATE credentials SET used_at = $1 WHERE account_id = $2",
			     "noting the use of the grant", e, 2, time_now(), account_id);
}

int pg_list_stale_grants(struct store *st, int64_t before, int64_t **ids,
			 size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT account_id FROM credentials WHERE refresh_sealed IS NOT NULL "
		"AND used_at < $1 ORDER BY account_id";
	struct pg_params p = { 0 };
	PGresult *r;

	*ids = NULL;
	*n = 0;
	pgp_int(&p, before);
	if (!(r = pg_query(st, sql, &p, "listing unused grants", e)))
		return -1;
	*n = (size_t)PQntuples(r);
	*ids = xcalloc(*n ? *n : 1, sizeof(**ids));
	for (size_t i = 0; i < *n; i++)
		(*ids)[i] = pg_int(r, (int)i, 0);
	PQclear(r);
	return 0;
}

int pg_get_access_token(struct store *st, int64_t account_id, const char *resource,
			char **sealed, int64_t *expires_at, struct err *e)
{
	static const char sql[] =
		"SELECT sealed, expires_at FROM access_tokens WHERE account_id = $1 "
		"AND resource = $2";
	struct pg_params p = { 0 };
	PGresult *r;
	int found;

	*sealed = NULL;
	*expires_at = 0;
	pgp_int(&p, account_id);
	pgp_text(&p, resource);
	if (!(r = pg_query(st, sql, &p, "reading an access token", e)))
		return -1;
	found = PQntuples(r) > 0;
	if (found) {
		*sealed = pg_dup(r, 0, 0);
		*expires_at = pg_int(r, 0, 1);
	}
	PQclear(r);
	return found;
}

int pg_put_access_token(struct store *st, int64_t account_id, const char *resource,
			const char *sealed, int64_t expires_at, struct err *e)
{
	static const char sql[] =
		"INSERT INTO access_tokens (account_id, resource, sealed, expires_at) "
		"VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, resource) DO UPDATE "
		"SET sealed = excluded.sealed, expires_at = excluded.expires_at";
	struct pg_params p = { 0 };

	pgp_int(&p, account_id);
	pgp_text(&p, resource);
	pgp_text(&p, sealed);
	pgp_int(&p, expires_at);
	return pg_write(st, sql, &p, "saving an access token", e);
}

int pg_delete_credentials(struct store *st, int64_t account_id, struct err *e)
{
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = pg_write_ints(st, "DELETE FROM access_tokens WHERE account_id = $1",
			   "deleting access tokens", e, 1, account_id);
	if (rc == 0)
		rc = pg_write_ints(st, "DELETE FROM credentials WHERE account_id = $1",
				   "deleting credentials", e, 1, account_id);
	return pg_auto_end(st, owned, rc, e);
}

int pg_lock_refresh(struct store *st, int64_t account_id, const char *owner,
		    int ttl_s, const char *steal_from, char *holder, struct err *e)
{
	/* One statement: the row lock makes the test and the take atomic
	 * across nodes; the holder comes back when the lease is someone
	 * else's. */
	static const char sql[] =
		"WITH took AS (UPDATE credentials SET lock_owner = $1, lock_until = $2 "
		"WHERE account_id = $3 AND (lock_until < $4 OR lock_owner = $1 OR "
		"lock_owner = '' OR lock_owner = $5) RETURNING 1) "
		"SELECT (SELECT count(*) FROM took), "
		"(SELECT lock_owner FROM credentials WHERE account_id = $3)";
	struct pg_params p = { 0 };
	int64_t now = time_now();
	PGresult *r;
	int got;

	pgp_text(&p, owner);
	pgp_int(&p, now + ttl_s);
	pgp_int(&p, account_id);
	pgp_int(&p, now);
	pgp_text(&p, steal_from ? steal_from : "");
	if (!(r = pg_wquery(st, sql, &p, "taking the refresh lock", e)))
		return -1;
	got = pg_int(r, 0, 0) > 0;
	if (!got && holder)
		str_copy(holder, 64, pg_str(r, 0, 1));
	PQclear(r);
	return got;
}

int pg_unlock_refresh(struct store *st, int64_t account_id, const char *owner,
		      struct err *e)
{
	static const char sql[] =
		"UPDATE credentials SET lock_owner = '', lock_until = 0 "
		"WHERE account_id = $1 AND lock_owner = $2";
	struct pg_params p = { 0 };

	pgp_int(&p, account_id);
	pgp_text(&p, owner);
	return pg_write(st, sql, &p, "releasing the refresh lock", e);
}

/* ---- OAuth states ------------------------------------------------------- */

int pg_put_oauth_state(struct store *st, const struct store_oauth_state *o,
		       struct err *e)
{
	static const char sql[] =
		"INSERT INTO oauth_states (state, account_id, verifier_sealed, "
		"redirect_uri, expires_at, return_to) VALUES ($1, $2, $3, $4, $5, $6)";
	struct pg_params p = { 0 };
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = pg_write_ints(st, "DELETE FROM oauth_states WHERE expires_at < $1",
			   "purging expired states", e, 1, time_now());
	pgp_text(&p, o->state);
	pgp_int(&p, o->account_id);
	pgp_text(&p, o->verifier_sealed);
	pgp_text(&p, o->redirect_uri);
	pgp_int(&p, o->expires_at);
	pgp_text(&p, o->return_to);
	if (rc == 0)
		rc = pg_write(st, sql, &p, "saving an authorization state", e);
	return pg_auto_end(st, owned, rc, e);
}

int pg_take_oauth_state(struct store *st, const char *state,
			struct store_oauth_state *o, struct err *e)
{
	/* Fetch and delete in one statement: single use, even across nodes. */
	static const char sql[] =
		"DELETE FROM oauth_states WHERE state = $1 RETURNING account_id, "
		"verifier_sealed, redirect_uri, expires_at, return_to";
	struct pg_params p = { 0 };
	PGresult *r;

	memset(o, 0, sizeof(*o));
	pgp_text(&p, state);
	if (!(r = pg_wquery(st, sql, &p, "consuming an authorization state", e)))
		return -1;
	if (PQntuples(r) == 0 || pg_int(r, 0, 3) < time_now()) {
		PQclear(r);
		return 0;
	}
	str_copy(o->state, sizeof(o->state), state);
	o->account_id = pg_int(r, 0, 0);
	o->verifier_sealed = pg_dup(r, 0, 1);
	pg_copy(r, 0, 2, o->redirect_uri, sizeof(o->redirect_uri));
	o->expires_at = pg_int(r, 0, 3);
	pg_copy(r, 0, 4, o->return_to, sizeof(o->return_to));
	PQclear(r);
	return 1;
}
