/*
 * sqlite_internal.h — internals shared by the SQLite store files: the
 * connection struct, the prepared-statement cache, bind/column helpers,
 * the implicit-transaction helpers, the event writer, and the prototypes
 * of every sqlite_* operation (generated from store_ops.def). Not a public
 * header: only src/store/sqlite includes it.
 */
#ifndef INBOXSYNC_SQLITE_INTERNAL_H
#define INBOXSYNC_SQLITE_INTERNAL_H

#include <sys/types.h>
#include <sqlite3.h>
#include "store/store_backend.h"
#include "store/sqlite/sqlite_keys.h"

#define STMT_CACHE_MAX 192

struct sq_store {
	struct store base;         /* first: a struct store * points here */
	sqlite3 *db;
	char *path;
	bool readonly;
	char readonly_why[600];    /* which file or directory is not writable */
	bool have_id;              /* dev/ino: the file opened (a path's file) */
	dev_t dev;
	ino_t ino;
	int in_tx;
	int redoable;              /* the open transaction is (synchronous NORMAL) */
	char *scratch;             /* strings handed out until the next call
				      that uses it (webhook deliveries) */
	size_t ncache;
	struct {
		const char *sql;       /* identity of the statement (static SQL) */
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE_MAX];
};

static inline struct sq_store *SQ(struct store *st)
{
	return (struct sq_store *)st;
}

static inline sqlite3 *sq_db(struct store *st)
{
	return SQ(st)->db;
}

#define STORE_OP(name, params, args) int sqlite_##name params;
#define STORE_VOID_OP(name, params, args) void sqlite_##name params;
#include "store/store_ops.def"
#undef STORE_OP
#undef STORE_VOID_OP

/* Fill `e` from the connection's last error; "busy"/"locked" are
 * ERR_TRANSIENT "store_busy", a full disk (or quota, or file size limit)
 * ERR_TRANSIENT "store_full", a damaged file ERR_PERMANENT "store_corrupt"
 * (FIX_RESTORE_BACKUP), a read-only store ERR_PERMANENT "store_readonly",
 * the rest ERR_PERMANENT "store". Returns -1. A write transaction on a
 * file deleted or replaced since it was opened fails with ERR_PERMANENT
 * "store_gone". */
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
/* Text SQLite does not copy: `v` must stay valid until the statement is
 * reset (the statement helpers reset it when they are done). */
void sq_text_static(sqlite3_stmt *s, int i, const char *v);
void sq_blob(sqlite3_stmt *s, int i, const void *v, size_t n);

/* Column helpers. sq_col_copy copies into a fixed array (truncating);
 * sq_col_dup returns a heap copy or NULL for SQL NULL; sq_col_str never
 * returns NULL (borrowed until the next step/reset). */
void sq_col_copy(sqlite3_stmt *s, int i, char *dst, size_t n);
char *sq_col_dup(sqlite3_stmt *s, int i);
const char *sq_col_str(sqlite3_stmt *s, int i);
int64_t sq_col_int(sqlite3_stmt *s, int i);


/* Build the indexes a large first round went without (sqlite_messages.c)
 * once no selected folder is in its first round; nothing when they are
 * there. */
int sq_restore_indexes(struct store *st, struct err *e);

/* store_begin_redoable (store.h): synchronous = NORMAL until it ends. */
int sqlite_begin_redoable(struct store *st, struct err *e);

/* Begin a transaction unless one is open; *owned says whether we did. */
int sq_auto_begin(struct store *st, int *owned, struct err *e);
/* Finish what sq_auto_begin started: commit when rc == 0, else roll back.
 * Returns rc, or -1 when the commit failed. */
int sq_auto_end(struct store *st, int owned, int rc, struct err *e);

/* Run a one-statement write with `n` int64 parameters and no result. */
int sq_exec_ints(struct store *st, const char *sql, const char *what,
		 struct err *e, int n, ...);

/* Run a query with `n` int64 parameters whose first row's first column
 * is an integer; *out gets it (0 when there is no row). */
int sq_query_int(struct store *st, const char *sql, const char *what,
		 int64_t *out, struct err *e, int n, ...);

/* Append an event (inside the caller's transaction). */
int sq_event(struct store *st, const struct store_event_new *ev, struct err *e);

/* Read the event columns "seq, account_id, user_id, type, entity_id,
 * folder_path, from_folder, backfill, data, at" starting at column
 * `first` (strings borrowed from the statement). */
void sq_read_event(sqlite3_stmt *s, int first, struct store_event *ev);

/* The enumerations as stored (text names; unknown text reads as the first
 * value). */
enum store_state sq_col_state(sqlite3_stmt *s, int i);
enum store_phase sq_col_phase(sqlite3_stmt *s, int i);
enum mail_role sq_col_role(sqlite3_stmt *s, int i);
enum store_outbox_state sq_col_outbox_state(sqlite3_stmt *s, int i);

#endif
