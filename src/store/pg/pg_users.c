/*
 * pg_users.c — users who sign in (admin flag, password hash), their API
 * tokens (only a hash is stored) and web sessions, in the PostgreSQL
 * store. Hashing and comparing is the server's business; this file only
 * keeps the rows.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"

/* ---- users ------------------------------------------------------------------ */

#define USER_COLUMNS "id, name, admin, password_hash, created_at"

static void read_user(const PGresult *r, int i, void *out)
{
	struct store_user *u = out;

	memset(u, 0, sizeof(*u));
	u->id = pg_int(r, i, 0);
	pg_copy(r, i, 1, u->name, sizeof(u->name));
	u->admin = pg_bool(r, i, 2);
	u->password_hash = pg_dup(r, i, 3);
	u->created_at = pg_int(r, i, 4);
}

static int get_one_user(struct store *st, const char *sql, const struct pg_params *p,
			struct store_user *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	return pg_get_row(st, sql, p, "reading a user", read_user, out, e);
}

int pg_add_user(struct store *st, struct store_user *u, struct err *e)
{
	static const char sql[] =
		"INSERT INTO users (name, admin, password_hash, created_at) "
		"VALUES ($1, $2, $3, $4) RETURNING id";
	struct pg_params p = { 0 };
	PGresult *r;

	u->created_at = time_now();
	pgp_text(&p, u->name);
	pgp_bool(&p, u->admin);
	pgp_text(&p, u->password_hash);
	pgp_int(&p, u->created_at);
	if (!(r = pg_wquery(st, sql, &p, "adding a user", e))) {
		if (pg_failed_with(st, "23505"))
			err_set(e, ERR_PERMANENT, "duplicate",
				"a user named '%s' already exists", u->name);
		return -1;
	}
	u->id = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_get_user(struct store *st, int64_t id, struct store_user *out, struct err *e)
{
	static const char sql[] = "SELECT " USER_COLUMNS " FROM users WHERE id = $1";
	struct pg_params p = { 0 };

	pgp_int(&p, id);
	return get_one_user(st, sql, &p, out, e);
}

int pg_get_user_by_name(struct store *st, const char *name,
			struct store_user *out, struct err *e)
{
	static const char sql[] = "SELECT " USER_COLUMNS " FROM users WHERE name = $1";
	struct pg_params p = { 0 };

	pgp_text(&p, name);
	return get_one_user(st, sql, &p, out, e);
}

int pg_list_users(struct store *st, struct store_user **out, size_t *n,
		  struct err *e)
{
	static const char sql[] = "SELECT " USER_COLUMNS " FROM users ORDER BY name";

	return pg_get_rows(st, sql, NULL, "listing users", read_user, sizeof(**out),
			   (void **)out, n, e);
}

int pg_set_user_password(struct store *st, int64_t id, const char *hash,
			 struct err *e)
{
	struct pg_params p = { 0 };
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	pgp_text(&p, hash);
	pgp_int(&p, id);
	rc = pg_write(st, "UPDATE users SET password_hash = $1 WHERE id = $2",
		      &p, "setting a password", e);
	if (rc == 0)
		rc = pg_write_ints(st, "DELETE FROM sessions WHERE user_id = $1",
				   "ending the user's sessions", e, 1, id);
	return pg_auto_end(st, owned, rc, e);
}

int pg_delete_user(struct store *st, int64_t id, struct err *e)
{
	int owned, rc;

	if (id == STORE_LOCAL_USER_ID)
		return err_set(e, ERR_PERMANENT, "forbidden",
			       "the built-in administrator 'local' cannot be removed");
	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = pg_write_ints(st, "DELETE FROM events WHERE user_id = $1",
			   "removing the user's events", e, 1, id);
	if (rc == 0)
		rc = pg_write_ints(st, "DELETE FROM pg_temp.staged_events WHERE user_id = $1",
				   "removing the user's events", e, 1, id);
	if (rc == 0)
		rc = pg_write_ints(st, "DELETE FROM users WHERE id = $1",
				   "removing the user", e, 1, id);
	return pg_auto_end(st, owned, rc, e);
}

/* ---- API tokens ---------------------------------------------------------------- */

#define TOKEN_COLUMNS "id, user_id, label, hash, created_at, last_used_at"

static void read_token(const PGresult *r, int i, void *out)
{
	struct store_token *t = out;

	memset(t, 0, sizeof(*t));
	t->id = pg_int(r, i, 0);
	t->user_id = pg_int(r, i, 1);
	pg_copy(r, i, 2, t->label, sizeof(t->label));
	pg_copy(r, i, 3, t->hash, sizeof(t->hash));
	t->created_at = pg_int(r, i, 4);
	t->last_used_at = pg_int(r, i, 5);
}

int pg_add_token(struct store *st, struct store_token *t, struct err *e)
{
	static const char sql[] =
		"INSERT INTO api_tokens (user_id, label, hash, created_at) "
		"VALUES ($1, $2, $3, $4) RETURNING id";
	struct pg_params p = { 0 };
	PGresult *r;

	t->created_at = time_now();
	pgp_int(&p, t->user_id);
	pgp_text(&p, t->label);
	pgp_text(&p, t->hash);
	pgp_int(&p, t->created_at);
	if (!(r = pg_wquery(st, sql, &p, "adding an API token", e)))
		return -1;
	t->id = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_get_token(struct store *st, int64_t id, struct store_token *out,
		 struct err *e)
{
	static const char sql[] = "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE id = $1";
	struct pg_params p = { 0 };

	memset(out, 0, sizeof(*out));
	pgp_int(&p, id);
	return pg_get_row(st, sql, &p, "reading an API token", read_token, out, e);
}

int pg_list_tokens(struct store *st, int64_t user_id, struct store_token **out,
		   size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " TOKEN_COLUMNS " FROM api_tokens "
		"WHERE $1::bigint = 0 OR user_id = $1 ORDER BY id DESC";
	struct pg_params p = { 0 };

	pgp_int(&p, user_id);
	return pg_get_rows(st, sql, &p, "listing API tokens", read_token, sizeof(**out),
			   (void **)out, n, e);
}

int pg_delete_token(struct store *st, int64_t id, struct err *e)
{
	return pg_write_ints(st, "DELETE FROM api_tokens WHERE id = $1",
			     "revoking an API token", e, 1, id);
}

int pg_touch_token(struct store *st, int64_t id, int64_t at, struct err *e)
{
	return pg_write_ints(st, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 "
			     "AND last_used_at < $1::bigint - 60", "noting a token's use",
			     e, 2, at, id);
}

/* ---- sessions ------------------------------------------------------------------- */

int pg_put_session(struct store *st, const struct store_session *se,
		   struct err *e)
{
	static const char sql[] =
		"INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) "
		"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id_hash) DO UPDATE SET "
		"user_id = excluded.user_id, csrf = excluded.csrf, "
		"created_at = excluded.created_at, expires_at = excluded.expires_at";
	struct pg_params p = { 0 };
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = pg_write_ints(st, "DELETE FROM sessions WHERE expires_at < $1",
			   "removing expired sessions", e, 1, time_now());
	pgp_text(&p, se->id_hash);
	pgp_int(&p, se->user_id);
	pgp_text(&p, se->csrf);
	pgp_int(&p, se->created_at);
	pgp_int(&p, se->expires_at);
	if (rc == 0)
		rc = pg_write(st, sql, &p, "saving a session", e);
	return pg_auto_end(st, owned, rc, e);
}

int pg_get_session(struct store *st, const char *id_hash,
		   struct store_session *out, struct err *e)
{
	static const char sql[] =
		"SELECT id_hash, user_id, csrf, created_at, expires_at FROM sessions "
		"WHERE id_hash = $1";
	struct pg_params p = { 0 };
	PGresult *r;

	memset(out, 0, sizeof(*out));
	pgp_text(&p, id_hash);
	if (!(r = pg_query(st, sql, &p, "reading a session", e)))
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	pg_copy(r, 0, 0, out->id_hash, sizeof(out->id_hash));
	out->user_id = pg_int(r, 0, 1);
	pg_copy(r, 0, 2, out->csrf, sizeof(out->csrf));
	out->created_at = pg_int(r, 0, 3);
	out->expires_at = pg_int(r, 0, 4);
	PQclear(r);
	if (out->expires_at < time_now()) {
		if (pg_delete_session(st, id_hash, e) < 0)
			return -1;
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return 1;
}

int pg_delete_session(struct store *st, const char *id_hash, struct err *e)
{
	struct pg_params p = { 0 };

	pgp_text(&p, id_hash);
	return pg_write(st, "DELETE FROM sessions WHERE id_hash = $1", &p,
			"ending a session", e);
}
