/*
 * sqlite_credentials.c — sealed refresh/access tokens and when a grant was
 * last used, the refresh lease (single-flight refresh across processes)
 * and single-use OAuth states, in the SQLite store. Everything here is
 * ciphertext produced by the vault.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"

int sqlite_get_credentials(struct store *st, int64_t account_id,
			  struct store_credentials *c, struct err *e)
{
	static const char sql[] =
		"SELECT refresh_sealed, scope, generation, updated_at, used_at FROM credentials "
		"WHERE account_id = ? AND refresh_sealed IS NOT NULL";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	memset(c, 0, sizeof(*c));
	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	rc = sq_row(st, s, "reading credentials", e);
	if (rc != 1)
		return rc;
	c->account_id = account_id;
	c->refresh_sealed = sq_col_dup(s, 0);
	c->scope = sq_col_dup(s, 1);
	c->generation = sq_col_int(s, 2);
	c->updated_at = sq_col_int(s, 3);
	c->used_at = sq_col_int(s, 4);
	sqlite3_reset(s);
	return 1;
}

int sqlite_put_refresh_token(struct store *st, int64_t account_id,
			    const char *refresh_sealed, const char *scope,
			    struct err *e)
{
	static const char sql[] =
		"INSERT INTO credentials (account_id, refresh_sealed, scope, "
		"generation, updated_at, used_at) VALUES (?1, ?2, ?3, 1, ?4, ?4) "
		"ON CONFLICT (account_id) DO UPDATE SET refresh_sealed = excluded.refresh_sealed, "
		"scope = excluded.scope, generation = credentials.generation + 1, "
		"updated_at = excluded.updated_at, used_at = excluded.used_at";
	sqlite3_stmt *s;
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, sql, e)))
		goto out;
	sq_int(s, 1, account_id);
	sq_text(s, 2, refresh_sealed);
	sq_text(s, 3, scope ? scope : "");
	sq_int(s, 4, time_now());
	if (sq_done(st, s, "saving the refresh token", e) < 0)
		goto out;
	rc = sq_exec_ints(st, "DELETE FROM access_tokens WHERE account_id = ?",
			  "dropping old access tokens", e, 1, account_id);
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_rotate_refresh_token(struct store *st, int64_t account_id,
			       int64_t expected_generation,
			       const char *refresh_sealed, struct err *e)
{
	static const char sql[] =
		"UPDATE credentials SET refresh_sealed = ?1, generation = generation + 1, "
		"updated_at = ?2, used_at = ?2 WHERE account_id = ?3 AND generation = ?4";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, refresh_sealed);
	sq_int(s, 2, time_now());
	sq_int(s, 3, account_id);
	sq_int(s, 4, expected_generation);
	if (sq_done(st, s, "rotating the refresh token", e) < 0)
		return -1;
	return sqlite3_changes(sq_db(st)) > 0 ? 1 : 0;
}

int sqlite_touch_refresh_token(struct store *st, int64_t account_id,
			       struct err *e)
{
	return sq_exec_ints(st, "UPDATE credentials SET used_at = ? WHERE account_id = ?",
			    "noting the use of the grant", e, 2, time_now(), account_id);
}

int sqlite_list_stale_grants(struct store *st, int64_t before, int64_t **ids,
			     size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT account_id FROM credentials WHERE refresh_sealed IS NOT NULL "
		"AND used_at < ? ORDER BY account_id";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, before);
	while ((rc = sq_row(st, s, "listing unused grants", e)) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = sq_col_int(s, 0);
	}
	sqlite3_reset(s);
	if (rc < 0) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int sqlite_get_access_token(struct store *st, int64_t account_id,
			   const char *resource, char **sealed,
			   int64_t *expires_at, struct err *e)
{
	static const char sql[] =
		"SELECT sealed, expires_at FROM access_tokens WHERE account_id = ? "
		"AND resource = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	*sealed = NULL;
	*expires_at = 0;
	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, resource);
	rc = sq_row(st, s, "reading an access token", e);
	if (rc != 1)
		return rc;
	*sealed = sq_col_dup(s, 0);
	*expires_at = sq_col_int(s, 1);
	sqlite3_reset(s);
	return 1;
}

int sqlite_put_access_token(struct store *st, int64_t account_id,
			   const char *resource, const char *sealed,
			   int64_t expires_at, struct err *e)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO access_tokens (account_id, resource, sealed, "
		"expires_at) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, resource);
	sq_text(s, 3, sealed);
	sq_int(s, 4, expires_at);
	return sq_done(st, s, "saving an access token", e);
}

int sqlite_delete_credentials(struct store *st, int64_t account_id,
			     struct err *e)
{
	int owned, rc;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = sq_exec_ints(st, "DELETE FROM access_tokens WHERE account_id = ?",
			  "deleting access tokens", e, 1, account_id);
	if (rc == 0)
		rc = sq_exec_ints(st, "DELETE FROM credentials WHERE account_id = ?",
				  "deleting credentials", e, 1, account_id);
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_lock_refresh(struct store *st, int64_t account_id, const char *owner,
		       int ttl_s, const char *steal_from, char *holder,
		       struct err *e)
{
	static const char sql[] =
		"UPDATE credentials SET lock_owner = ?1, lock_until = ?2 "
		"WHERE account_id = ?3 AND (lock_until < ?4 OR lock_owner = ?1 OR "
		"lock_owner = '' OR lock_owner = ?5)";
	static const char who[] = "SELECT lock_owner FROM credentials WHERE account_id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int64_t now = time_now();

	if (!s)
		return -1;
	sq_text(s, 1, owner);
	sq_int(s, 2, now + ttl_s);
	sq_int(s, 3, account_id);
	sq_int(s, 4, now);
	sq_text(s, 5, steal_from ? steal_from : "");
	if (sq_done(st, s, "taking the refresh lock", e) < 0)
		return -1;
	if (sqlite3_changes(sq_db(st)) > 0)
		return 1;
	if (holder) {
		holder[0] = '\0';
		if (!(s = sq_prepare(st, who, e)))
			return -1;
		sq_int(s, 1, account_id);
		if (sq_row(st, s, "reading the refresh lock", e) == 1) {
			sq_col_copy(s, 0, holder, 64);
			sqlite3_reset(s);
		}
	}
	return 0;
}

int sqlite_unlock_refresh(struct store *st, int64_t account_id,
			 const char *owner, struct err *e)
{
	static const char sql[] =
		"UPDATE credentials SET lock_owner = '', lock_until = 0 "
		"WHERE account_id = ? AND lock_owner = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, owner);
	return sq_done(st, s, "releasing the refresh lock", e);
}

/* ---- OAuth states ------------------------------------------------------- */

int sqlite_put_oauth_state(struct store *st, const struct store_oauth_state *o,
			  struct err *e)
{
	static const char sql[] =
		"INSERT INTO oauth_states (state, account_id, verifier_sealed, "
		"redirect_uri, expires_at, return_to) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *s;
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (sq_exec_ints(st, "DELETE FROM oauth_states WHERE expires_at < ?",
			 "purging expired states", e, 1, time_now()) < 0 ||
	    !(s = sq_prepare(st, sql, e)))
		goto out;
	sq_text(s, 1, o->state);
	sq_int(s, 2, o->account_id);
	sq_text(s, 3, o->verifier_sealed);
	sq_text(s, 4, o->redirect_uri);
	sq_int(s, 5, o->expires_at);
	sq_text(s, 6, o->return_to);
	rc = sq_done(st, s, "saving an authorization state", e);
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_take_oauth_state(struct store *st, const char *state,
			   struct store_oauth_state *o, struct err *e)
{
	static const char sel[] =
		"SELECT account_id, verifier_sealed, redirect_uri, expires_at, "
		"return_to FROM oauth_states WHERE state = ?";
	static const char del[] = "DELETE FROM oauth_states WHERE state = ?";
	sqlite3_stmt *s;
	int owned, rc = -1, found = 0;

	memset(o, 0, sizeof(*o));
	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, sel, e)))
		goto out;
	sq_text(s, 1, state);
	found = sq_row(st, s, "reading an authorization state", e);
	if (found < 0)
		goto out;
	if (found) {
		str_copy(o->state, sizeof(o->state), state);
		o->account_id = sq_col_int(s, 0);
		o->verifier_sealed = sq_col_dup(s, 1);
		sq_col_copy(s, 2, o->redirect_uri, sizeof(o->redirect_uri));
		o->expires_at = sq_col_int(s, 3);
		sq_col_copy(s, 4, o->return_to, sizeof(o->return_to));
		sqlite3_reset(s);
	}
	if (!(s = sq_prepare(st, del, e)))
		goto out;
	sq_text(s, 1, state);
	rc = sq_done(st, s, "consuming an authorization state", e);
	if (found && o->expires_at < time_now())
		found = 0;
out:
	rc = sq_auto_end(st, owned, rc, e);
	if (rc < 0 || !found) {
		store_oauth_state_clear(o);
		return rc < 0 ? -1 : 0;
	}
	return 1;
}

