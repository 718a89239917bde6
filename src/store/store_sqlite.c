/*
 * store_sqlite.c — the SQLite store's connection: opening with WAL,
 * foreign keys and a busy timeout, versioned migrations, transactions, the
 * statement cache and the small helpers the other store files share.
 * Tables and their meaning live in the migrations folder.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/store_sqlite.h"

extern const char *const store_migrations[];
extern const size_t store_migrations_count;

#define BUSY_TIMEOUT_MS 15000

int sq_fail(struct store *st, struct err *e, const char *what)
{
	int code = st->db ? sqlite3_errcode(st->db) : SQLITE_ERROR;
	const char *msg = st->db ? sqlite3_errmsg(st->db) : "no connection";

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return err_set(e, ERR_TRANSIENT, "store_busy",
			       "the store %s is busy (%s): %s; try again",
			       st->path, what, msg);
	if (code == SQLITE_FULL)
		return err_set(e, ERR_TRANSIENT, "store_full",
			       "the disk holding %s is full (%s)", st->path, what);
	return err_set(e, ERR_PERMANENT, "store", "store %s: %s failed: %s",
		       st->path, what, msg);
}

sqlite3_stmt *sq_prepare(struct store *st, const char *sql, struct err *e)
{
	sqlite3_stmt *s = NULL;

	for (size_t i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			s = st->cache[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
			       NULL) != SQLITE_OK) {
		sq_fail(st, e, "preparing a query");
		return NULL;
	}
	if (st->ncache < STMT_CACHE_MAX) {
		st->cache[st->ncache].sql = sql;
		st->cache[st->ncache].stmt = s;
		st->ncache++;
	} else {
		/* Full cache means a bug (SQL built at run time): refuse. */
		sqlite3_finalize(s);
		err_set(e, ERR_BUG, "store", "statement cache full");
		return NULL;
	}
	return s;
}

int sq_done(struct store *st, sqlite3_stmt *s, const char *what, struct err *e)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		sq_fail(st, e, what);
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

int sq_row(struct store *st, sqlite3_stmt *s, const char *what, struct err *e)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	sq_fail(st, e, what);
	sqlite3_reset(s);
	return -1;
}

void sq_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

void sq_int(sqlite3_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(s, i, v);
}

void sq_blob(sqlite3_stmt *s, int i, const void *v, size_t n)
{
	if (v)
		sqlite3_bind_blob64(s, i, v, n, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

const char *sq_col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

void sq_col_copy(sqlite3_stmt *s, int i, char *dst, size_t n)
{
	str_copy(dst, n, sq_col_str(s, i));
}

char *sq_col_dup(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	return xstrdup(sq_col_str(s, i));
}

int64_t sq_col_int(sqlite3_stmt *s, int i)
{
	return sqlite3_column_int64(s, i);
}

static int exec_sql(struct store *st, const char *sql, const char *what,
		    struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = err_set(e, ERR_PERMANENT, "store", "store %s: %s failed: %s",
				 st->path, what, msg ? msg : "unknown error");
		if (sqlite3_errcode(st->db) == SQLITE_BUSY)
			e->class = ERR_TRANSIENT;
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

int store_begin(struct store *st, struct err *e)
{
	if (st->in_tx)
		return err_set(e, ERR_BUG, "store", "nested store transaction");
	if (exec_sql(st, "BEGIN IMMEDIATE", "beginning a transaction", e) < 0)
		return -1;
	st->in_tx = 1;
	return 0;
}

int store_commit(struct store *st, struct err *e)
{
	if (!st->in_tx)
		return err_set(e, ERR_BUG, "store", "commit without a transaction");
	if (exec_sql(st, "COMMIT", "committing", e) < 0) {
		store_rollback(st);
		return -1;
	}
	st->in_tx = 0;
	return 0;
}

void store_rollback(struct store *st)
{
	if (!st->in_tx)
		return;
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
}

int sq_auto_begin(struct store *st, int *owned, struct err *e)
{
	*owned = 0;
	if (st->in_tx)
		return 0;
	if (store_begin(st, e) < 0)
		return -1;
	*owned = 1;
	return 0;
}

int sq_auto_end(struct store *st, int owned, int rc, struct err *e)
{
	if (!owned)
		return rc;
	if (rc < 0) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st, e);
}

int sq_exec_ints(struct store *st, const char *sql, const char *what,
		 struct err *e, int n, ...)
{
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	va_list ap;

	if (!s)
		return -1;
	va_start(ap, n);
	for (int i = 1; i <= n; i++)
		sq_int(s, i, va_arg(ap, int64_t));
	va_end(ap);
	return sq_done(st, s, what, e);
}

int sq_feed(struct store *st, int64_t account_id, const char *entity,
	    const char *entity_id, const char *op, struct err *e)
{
	static const char sql[] =
		"INSERT INTO changes (account_id, entity, entity_id, op, at) "
		"VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, account_id);
	sq_text(s, 2, entity);
	sq_text(s, 3, entity_id);
	sq_text(s, 4, op);
	sq_int(s, 5, time_now());
	return sq_done(st, s, "recording a change", e);
}

static int get_user_version(struct store *st, int *v, struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return sq_fail(st, e, "reading the schema version");
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return sq_fail(st, e, "reading the schema version");
	return 0;
}

/* Apply every migration newer than the file's user_version, each in its
 * own transaction together with the version bump. */
static int migrate(struct store *st, struct err *e)
{
	int version;

	if (get_user_version(st, &version, e) < 0)
		return -1;
	if (version > (int)store_migrations_count)
		return err_set(e, ERR_PERMANENT, "store",
			       "store %s has schema version %d, newer than this "
			       "inboxsync understands (%zu); upgrade inboxsync",
			       st->path, version, store_migrations_count);
	for (size_t i = (size_t)version; i < store_migrations_count; i++) {
		char bump[64];

		if (store_begin(st, e) < 0)
			return -1;
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %zu", i + 1);
		if (exec_sql(st, store_migrations[i], "migrating the schema", e) < 0 ||
		    exec_sql(st, bump, "recording the schema version", e) < 0) {
			store_rollback(st);
			return -1;
		}
		if (store_commit(st, e) < 0)
			return -1;
	}
	return 0;
}

int store_open(const char *location, struct store **out, struct err *e)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	st->path = xstrdup(location);
	if (sqlite3_open_v2(location, &st->db, flags, NULL) != SQLITE_OK) {
		err_set(e, ERR_PERMANENT, "store", "cannot open the store %s: %s",
			location, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(st);
		return -1;
	}
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 0);
	if (exec_sql(st, "PRAGMA journal_mode = WAL", "enabling WAL", e) < 0 ||
	    exec_sql(st, "PRAGMA foreign_keys = ON", "enabling foreign keys", e) < 0 ||
	    exec_sql(st, "PRAGMA synchronous = FULL", "setting durability", e) < 0 ||
	    /* A bootstrap commit dirties ~1,000 index pages; checkpointing
	     * after every one wrote each page twice. Every 8,000 pages (a WAL
	     * of ~32 MB at most) the same index pages are written once per
	     * several commits instead. */
	    exec_sql(st, "PRAGMA wal_autocheckpoint = 8000", "setting checkpoints", e) < 0 ||
	    migrate(st, e) < 0) {
		if (strstr(e->msg, "not a database"))
			err_set(e, ERR_PERMANENT, "store",
				"%s is not an inboxsync store (not a SQLite "
				"database); move it away or choose another "
				"--data-dir", location);
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	store_rollback(st);
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	if (st->db)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
}

int store_schema_version(struct store *st)
{
	struct err e;
	int v = -1;

	if (get_user_version(st, &v, &e) < 0)
		return -1;
	return v;
}
