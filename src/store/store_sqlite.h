/*
 * store_sqlite.h — internals shared by the SQLite store files: the
 * connection struct, the prepared-statement cache, bind/column helpers,
 * the implicit-transaction helpers and the change-feed writer. Not a
 * public header: only the src/store sources include it.
 */
#ifndef INBOXSYNC_STORE_SQLITE_H
#define INBOXSYNC_STORE_SQLITE_H

#include <sqlite3.h>
#include "inboxsync/store.h"

#define STMT_CACHE_MAX 128

struct store {
	sqlite3 *db;
	char *path;
	int in_tx;
	size_t ncache;
	struct {
		const char *sql;       /* identity of the statement (static SQL) */
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE_MAX];
};

/* Fill `e` from the connection's last error; "busy"/"locked" are
 * ERR_TRANSIENT, the rest ERR_PERMANENT "store". Returns -1. */
int sq_fail(struct store *st, struct err *e, const char *what);

/* The cached statement for `sql` (a string literal: cached by address),
 * reset and with bindings cleared. NULL with `e` filled on error. */
sqlite3_stmt *sq_prepare(struct store *st, const char *sql, struct err *e);

/* Step a statement that returns no rows. Returns 0 or -1. */
int sq_done(struct store *st, sqlite3_stmt *s, const char *what, struct err *e);

/* Step once: 1 = a row, 0 = no more rows, -1 = error. */
int sq_row(struct store *st, sqlite3_stmt *s, const char *what, struct err *e);

/* Bind helpers: NULL text binds SQL NULL. Index is 1-based. */
void sq_text(sqlite3_stmt *s, int i, const char *v);
void sq_int(sqlite3_stmt *s, int i, int64_t v);
void sq_blob(sqlite3_stmt *s, int i, const void *v, size_t n);

/* Column helpers. sq_col_copy copies into a fixed array (truncating);
 * sq_col_dup returns a heap copy or NULL for SQL NULL; sq_col_str never
 * returns NULL (borrowed until the next step/reset). */
void sq_col_copy(sqlite3_stmt *s, int i, char *dst, size_t n);
char *sq_col_dup(sqlite3_stmt *s, int i);
const char *sq_col_str(sqlite3_stmt *s, int i);
int64_t sq_col_int(sqlite3_stmt *s, int i);

/* Begin a transaction unless one is open; *owned says whether we did. */
int sq_auto_begin(struct store *st, int *owned, struct err *e);
/* Finish what sq_auto_begin started: commit when rc == 0, else roll back.
 * Returns rc, or -1 when the commit failed. */
int sq_auto_end(struct store *st, int owned, int rc, struct err *e);

/* Run a one-statement write with `n` int64 parameters and no result. */
int sq_exec_ints(struct store *st, const char *sql, const char *what,
		 struct err *e, int n, ...);

/* Append a change-feed row (inside the caller's transaction). */
int sq_feed(struct store *st, int64_t account_id, const char *entity,
	    const char *entity_id, const char *op, struct err *e);

#endif
