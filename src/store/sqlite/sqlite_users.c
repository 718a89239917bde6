/*
 * sqlite_users.c — users who sign in (admin flag, password hash), their
 * API tokens (only a hash is stored) and web sessions, in the SQLite
 * store. Hashing and comparing is the server's business (src/server);
 * this file only keeps the rows.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"

/* ---- users ------------------------------------------------------------------ */

#define USER_COLUMNS "id, name, admin, password_hash, created_at"

static void read_user(sqlite3_stmt *s, struct store_user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sq_col_int(s, 0);
	sq_col_copy(s, 1, u->name, sizeof(u->name));
	u->admin = sq_col_int(s, 2) != 0;
	u->password_hash = sq_col_dup(s, 3);
	u->created_at = sq_col_int(s, 4);
}

static int get_one_user(struct store *st, sqlite3_stmt *s, struct store_user *out,
			struct err *e)
{
	int rc = sq_row(st, s, "reading a user", e);

	memset(out, 0, sizeof(*out));
	if (rc == 1) {
		read_user(s, out);
		sqlite3_reset(s);
	}
	return rc;
}

int sqlite_add_user(struct store *st, struct store_user *u, struct err *e)
{
	static const char sql[] =
		"INSERT INTO users (name, admin, password_hash, created_at) "
		"VALUES (?, ?, ?, ?)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	u->created_at = time_now();
	sq_text(s, 1, u->name);
	sq_int(s, 2, u->admin);
	sq_text(s, 3, u->password_hash);
	sq_int(s, 4, u->created_at);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if (sqlite3_errcode(sq_db(st)) == SQLITE_CONSTRAINT)
			err_set(e, ERR_PERMANENT, "duplicate",
				"a user named '%s' already exists", u->name);
		else
			sq_fail(st, e, "adding a user");
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	u->id = sqlite3_last_insert_rowid(sq_db(st));
	return 0;
}

int sqlite_get_user(struct store *st, int64_t id, struct store_user *out,
		    struct err *e)
{
	static const char sql[] = "SELECT " USER_COLUMNS " FROM users WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, id);
	return get_one_user(st, s, out, e);
}

int sqlite_get_user_by_name(struct store *st, const char *name,
			    struct store_user *out, struct err *e)
{
	static const char sql[] = "SELECT " USER_COLUMNS " FROM users WHERE name = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, name);
	return get_one_user(st, s, out, e);
}

int sqlite_list_users(struct store *st, struct store_user **out, size_t *n,
		      struct err *e)
{
	static const char sql[] = "SELECT " USER_COLUMNS " FROM users ORDER BY name";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	while ((rc = sq_row(st, s, "listing users", e)) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_user(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (rc < 0) {
		store_user_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int sqlite_set_user_password(struct store *st, int64_t id, const char *hash,
			     struct err *e)
{
	static const char sql[] = "UPDATE users SET password_hash = ? WHERE id = ?";
	sqlite3_stmt *s;
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, sql, e)))
		goto out;
	sq_text(s, 1, hash);
	sq_int(s, 2, id);
	if (sq_done(st, s, "setting a password", e) < 0)
		goto out;
	rc = sq_exec_ints(st, "DELETE FROM sessions WHERE user_id = ?",
			  "ending the user's sessions", e, 1, id);
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_delete_user(struct store *st, int64_t id, struct err *e)
{
	int owned, rc;

	if (id == STORE_LOCAL_USER_ID)
		return err_set(e, ERR_PERMANENT, "forbidden",
			       "the built-in administrator 'local' cannot be removed");
	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = sq_exec_ints(st, "DELETE FROM events WHERE user_id = ?",
			  "removing the user's events", e, 1, id);
	if (rc == 0)
		rc = sq_exec_ints(st, "DELETE FROM users WHERE id = ?",
				  "removing the user", e, 1, id);
	return sq_auto_end(st, owned, rc, e);
}

/* ---- API tokens ---------------------------------------------------------------- */

#define TOKEN_COLUMNS "id, user_id, label, hash, created_at, last_used_at"

static void read_token(sqlite3_stmt *s, struct store_token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sq_col_int(s, 0);
	t->user_id = sq_col_int(s, 1);
	sq_col_copy(s, 2, t->label, sizeof(t->label));
	sq_col_copy(s, 3, t->hash, sizeof(t->hash));
	t->created_at = sq_col_int(s, 4);
	t->last_used_at = sq_col_int(s, 5);
}

int sqlite_add_token(struct store *st, struct store_token *t, struct err *e)
{
	static const char sql[] =
		"INSERT INTO api_tokens (user_id, label, hash, created_at) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	t->created_at = time_now();
	sq_int(s, 1, t->user_id);
	sq_text(s, 2, t->label);
	sq_text(s, 3, t->hash);
	sq_int(s, 4, t->created_at);
	if (sq_done(st, s, "adding an API token", e) < 0)
		return -1;
	t->id = sqlite3_last_insert_rowid(sq_db(st));
	return 0;
}

int sqlite_get_token(struct store *st, int64_t id, struct store_token *out,
		     struct err *e)
{
	static const char sql[] = "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	sq_int(s, 1, id);
	rc = sq_row(st, s, "reading an API token", e);
	if (rc == 1) {
		read_token(s, out);
		sqlite3_reset(s);
	}
	return rc;
}

int sqlite_list_tokens(struct store *st, int64_t user_id,
		       struct store_token **out, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " TOKEN_COLUMNS " FROM api_tokens "
		"WHERE ?1 = 0 OR user_id = ?1 ORDER BY id DESC";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, user_id);
	while ((rc = sq_row(st, s, "listing API tokens", e)) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_token(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int sqlite_delete_token(struct store *st, int64_t id, struct err *e)
{
	return sq_exec_ints(st, "DELETE FROM api_tokens WHERE id = ?",
			    "revoking an API token", e, 1, id);
}

int sqlite_touch_token(struct store *st, int64_t id, int64_t at, struct err *e)
{
	return sq_exec_ints(st, "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2 "
			    "AND last_used_at < ?1 - 60", "noting a token's use", e, 2,
			    at, id);
}

/* ---- sessions ------------------------------------------------------------------- */

int sqlite_put_session(struct store *st, const struct store_session *se,
		       struct err *e)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO sessions (id_hash, user_id, csrf, created_at, "
		"expires_at) VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *s;
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (sq_exec_ints(st, "DELETE FROM sessions WHERE expires_at < ?",
			 "removing expired sessions", e, 1, time_now()) < 0 ||
	    !(s = sq_prepare(st, sql, e)))
		goto out;
	sq_text(s, 1, se->id_hash);
	sq_int(s, 2, se->user_id);
	sq_text(s, 3, se->csrf);
	sq_int(s, 4, se->created_at);
	sq_int(s, 5, se->expires_at);
	rc = sq_done(st, s, "saving a session", e);
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_get_session(struct store *st, const char *id_hash,
		       struct store_session *out, struct err *e)
{
	static const char sql[] =
		"SELECT id_hash, user_id, csrf, created_at, expires_at FROM sessions "
		"WHERE id_hash = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	sq_text(s, 1, id_hash);
	rc = sq_row(st, s, "reading a session", e);
	if (rc != 1)
		return rc;
	sq_col_copy(s, 0, out->id_hash, sizeof(out->id_hash));
	out->user_id = sq_col_int(s, 1);
	sq_col_copy(s, 2, out->csrf, sizeof(out->csrf));
	out->created_at = sq_col_int(s, 3);
	out->expires_at = sq_col_int(s, 4);
	sqlite3_reset(s);
	if (out->expires_at < time_now()) {
		if (sqlite_delete_session(st, id_hash, e) < 0)
			return -1;
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return 1;
}

int sqlite_delete_session(struct store *st, const char *id_hash, struct err *e)
{
	static const char sql[] = "DELETE FROM sessions WHERE id_hash = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, id_hash);
	return sq_done(st, s, "ending a session", e);
}
