/*
 * sqlite_connection.c — the SQLite store's connection: opening with WAL,
 * foreign keys and a busy timeout (read-only when the file cannot be
 * written), versioned migrations, transactions with the lease fence, the
 * online backup, the statement cache and the small helpers the other
 * sqlite_*.c files share, and the backend's ops table. Tables and their
 * meaning live in the migrations folder.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"

extern const char *const sqlite_migrations[];
extern const size_t sqlite_migrations_count;

#define BUSY_TIMEOUT_MS 15000
/* Stores up to this size are converted to incremental auto-vacuum when
 * opened (a VACUUM copies the file: about a second per 100 MB); larger
 * ones by an explicit migration (store_migrate). */
#define VACUUM_ON_OPEN_MAX ((int64_t)64 << 20)

/* Why a write found no room, by the system error under SQLite's
 * SQLITE_FULL or SQLITE_IOERR. */
static const struct {
	int sys;
	const char *why;
} no_room[] = {
	{ ENOSPC, "the disk holding it is full" },
	{ EDQUOT, "the disk quota of the user running inboxsync is used up" },
	{ EFBIG, "the file size limit of this process (ulimit -f) is reached, as on "
		 "a full disk" },
};

/* The reason a write failed for want of space, or NULL when it did not. */
static const char *no_room_why(int code, int sys)
{
	for (size_t i = 0; i < sizeof(no_room) / sizeof(no_room[0]); i++)
		if ((code == SQLITE_FULL || code == SQLITE_IOERR) && sys == no_room[i].sys)
			return no_room[i].why;
	return code == SQLITE_FULL ? no_room[0].why : NULL;
}

static int fail_code(struct sq_store *q, int code, const char *msg,
		     const char *what, struct err *e)
{
	/* SQLite keeps the system error of SQLITE_IOERR only where it reads
	 * it back at once; the write's own errno (ENOSPC, EDQUOT, EFBIG) is
	 * still there when the call returns, and only a write sets those. */
	int sys = errno;
	const char *room;

	if (q->db && sqlite3_system_errno(q->db))
		sys = sqlite3_system_errno(q->db);
	room = no_room_why(code, sys);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
		err_set(e, ERR_TRANSIENT, "store_busy",
			"the store %s is busy (%s): another process held its write "
			"lock for longer than %d s (%s); nothing of this step was "
			"written", q->path, what, BUSY_TIMEOUT_MS / 1000, msg);
		return err_set_fix(e, FIX_RETRY, NULL);
	}
	if (room) {
		err_set(e, ERR_TRANSIENT, "store_full",
			"cannot write the store %s (%s): %s; nothing of this step "
			"was written, and the sync resumes there once there is room",
			q->path, what, room);
		return err_set_fix(e, FIX_STORAGE, q->path);
	}
	if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
		err_set(e, ERR_PERMANENT, "store_corrupt",
			"the store %s is damaged (%s: %s); inboxsync does not write "
			"to it any more", q->path, what, msg);
		return err_set_fix(e, FIX_RESTORE_BACKUP, q->path);
	}
	if (code == SQLITE_READONLY || q->readonly) {
		err_set(e, ERR_PERMANENT, "store_readonly",
			"the store %s is read-only here (%s needs to write): %s; "
			"the user running inboxsync needs write permission on the "
			"file and on its directory", q->path, what,
			q->readonly_why[0] ? q->readonly_why : "it cannot be written");
		return err_set_fix(e, FIX_STORAGE, q->path);
	}
	return err_set(e, ERR_PERMANENT, "store", "store %s: %s failed: %s",
		       q->path, what, msg);
}

int sq_fail(struct store *st, struct err *e, const char *what)
{
	struct sq_store *q = SQ(st);
	int code = q->db ? sqlite3_errcode(q->db) : SQLITE_ERROR;

	return fail_code(q, code, q->db ? sqlite3_errmsg(q->db) : "no connection",
			 what, e);
}

sqlite3_stmt *sq_prepare(struct store *stp, const char *sql, struct err *e)
{
	struct sq_store *st = SQ(stp);
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
		sq_fail(stp, e, "preparing a query");
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

void sq_text_static(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
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

static int exec_sql(struct sq_store *q, const char *sql, const char *what,
		    struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = fail_code(q, sqlite3_errcode(q->db),
				   msg ? msg : "unknown error", what, e);

		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

/* The file opened is still the one at its path: a store deleted (or
 * replaced) underneath an open connection takes every later write into a
 * file nobody can see again. Checked before each write transaction. */
static int check_same_file(struct sq_store *q, struct err *e)
{
	struct stat now;
	int gone;

	if (!q->have_id)
		return 0;
	gone = stat(q->path, &now) < 0;
	if (!gone && now.st_dev == q->dev && now.st_ino == q->ino)
		return 0;
	err_set(e, ERR_PERMANENT, "store_gone",
		"the store %s was %s while inboxsync had it open; nothing more is "
		"written to it", q->path, gone ? "deleted" : "replaced by another file");
	return err_set_fix(e, FIX_RESTORE_BACKUP, q->path);
}

int sqlite_begin(struct store *st, struct err *e)
{
	struct sq_store *q = SQ(st);

	if (q->in_tx)
		return err_set(e, ERR_BUG, "store", "nested store transaction");
	if (check_same_file(q, e) < 0)
		return -1;
	if (exec_sql(q, "BEGIN IMMEDIATE", "beginning a transaction", e) < 0)
		return -1;
	q->in_tx = 1;
	return 0;
}

/* The disk wait of a commit, set outside transactions only. */
static void set_durability(struct sq_store *q, bool full)
{
	exec_sql(q, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
		 "setting durability", &(struct err){ 0 });
}

int sqlite_begin_redoable(struct store *st, struct err *e)
{
	struct sq_store *q = SQ(st);

	if (q->in_tx)
		return err_set(e, ERR_BUG, "store", "nested store transaction");
	set_durability(q, false);
	if (sqlite_begin(st, e) < 0) {
		set_durability(q, true);
		return -1;
	}
	q->redoable = 1;
	return 0;
}

/* After a redoable transaction: every other one waits for the disk. */
static void end_redoable(struct sq_store *q)
{
	if (q->redoable) {
		q->redoable = 0;
		set_durability(q, true);
	}
}

/* The fence holds when the lease row still names our holder and
 * generation and has not expired. Inside the transaction, which holds the
 * write lock: nobody can take the lease over between check and commit. */
static int check_fence(struct store *st, struct err *e)
{
	static const char sql[] =
		"SELECT 1 FROM account_leases WHERE account_id = ? AND holder = ? "
		"AND generation = ? AND expires_at > ?";
	const struct store_fence *f = &st->fence;
	sqlite3_stmt *s;
	int rc;

	if (!f->account_id)
		return 0;
	if (!(s = sq_prepare(st, sql, e)))
		return -1;
	sq_int(s, 1, f->account_id);
	sq_text(s, 2, f->holder);
	sq_int(s, 3, f->generation);
	sq_int(s, 4, time_now());
	rc = sq_row(st, s, "checking the sync lease", e);
	sqlite3_reset(s);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_PERMANENT, "lease_lost",
			       "the sync lease of account %lld moved to another "
			       "process; nothing of this step was written",
			       (long long)f->account_id);
	return 0;
}

int sqlite_commit(struct store *st, struct err *e)
{
	struct sq_store *q = SQ(st);

	if (!q->in_tx)
		return err_set(e, ERR_BUG, "store", "commit without a transaction");
	if (check_fence(st, e) < 0 ||
	    exec_sql(q, "COMMIT", "committing", e) < 0) {
		sqlite_rollback(st);
		return -1;
	}
	q->in_tx = 0;
	end_redoable(q);
	return 0;
}

void sqlite_rollback(struct store *st)
{
	struct sq_store *q = SQ(st);

	if (!q->in_tx)
		return;
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	q->in_tx = 0;
	end_redoable(q);
}

int sq_auto_begin(struct store *st, int *owned, struct err *e)
{
	*owned = 0;
	if (SQ(st)->in_tx)
		return 0;
	if (sqlite_begin(st, e) < 0)
		return -1;
	*owned = 1;
	return 0;
}

int sq_auto_end(struct store *st, int owned, int rc, struct err *e)
{
	if (!owned)
		return rc;
	if (rc < 0) {
		sqlite_rollback(st);
		return rc;
	}
	return sqlite_commit(st, e);
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

int sq_query_int(struct store *st, const char *sql, const char *what,
		 int64_t *out, struct err *e, int n, ...)
{
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	va_list ap;
	int rc;

	*out = 0;
	if (!s)
		return -1;
	va_start(ap, n);
	for (int i = 1; i <= n; i++)
		sq_int(s, i, va_arg(ap, int64_t));
	va_end(ap);
	rc = sq_row(st, s, what, e);
	if (rc == 1)
		*out = sq_col_int(s, 0);
	sqlite3_reset(s);
	return rc < 0 ? -1 : 0;
}

int sq_event(struct store *st, const struct store_event_new *ev, struct err *e)
{
	static const char sql[] =
		"INSERT INTO events (account_id, user_id, type, entity_id, "
		"folder_path, from_folder, backfill, data, at) VALUES (?1, "
		"(SELECT user_id FROM accounts WHERE id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, ev->account_id);
	sq_int(s, 2, (int64_t)ev->type);
	sq_text(s, 3, ev->entity_id ? ev->entity_id : "");
	sq_text(s, 4, ev->folder_path ? ev->folder_path : "");
	sq_text(s, 5, ev->from_folder ? ev->from_folder : "");
	sq_int(s, 6, ev->backfill);
	sq_text(s, 7, ev->data ? ev->data : "");
	sq_int(s, 8, time_now());
	return sq_done(st, s, "recording an event", e);
}

/* Text columns holding enumerations. */
#define COL_ENUM(fn, type, parse, fallback) \
	type fn(sqlite3_stmt *s, int i) \
	{ \
		type v; \
		return parse(sq_col_str(s, i), &v) == 0 ? v : (fallback); \
	}
COL_ENUM(sq_col_state, enum store_state, store_state_parse, STORE_STATE_NEW)
COL_ENUM(sq_col_phase, enum store_phase, store_phase_parse, STORE_PHASE_PENDING)
COL_ENUM(sq_col_role, enum mail_role, mail_role_parse, MAIL_ROLE_NONE)
COL_ENUM(sq_col_outbox_state, enum store_outbox_state, store_outbox_state_parse,
	 STORE_OUTBOX_QUEUED)

static int get_user_version(struct sq_store *q, int *v, struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return sq_fail(&q->base, e, "reading the schema version");
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return sq_fail(&q->base, e, "reading the schema version");
	return 0;
}

/* Apply every migration newer than the file's user_version, each in its
 * own transaction together with the version bump. Foreign keys are off
 * while migrating (a migration may rebuild a table) and checked before
 * each commit. */
static int migrate(struct sq_store *q, int *from, int *to, struct err *e)
{
	int version = 0;

	if (get_user_version(q, &version, e) < 0)
		return -1;
	if (from)
		*from = version;
	if (to)
		*to = version;
	if (version > (int)sqlite_migrations_count) {
		err_set(e, ERR_PERMANENT, "store_schema",
			"store %s has schema version %d, newer than this "
			"inboxsync understands (%zu)", q->path, version,
			sqlite_migrations_count);
		return err_set_fix(e, FIX_UPGRADE, NULL);
	}
	if ((size_t)version == sqlite_migrations_count)
		return 0;
	if (q->readonly) {
		err_set(e, ERR_PERMANENT, "store_readonly",
			"the store %s needs an upgrade of its schema, but %s: the "
			"user running inboxsync needs write permission on the file "
			"and on its directory", q->path, q->readonly_why);
		return err_set_fix(e, FIX_STORAGE, q->path);
	}
	/* A new file gives deleted space back on demand (removing an
	 * account runs PRAGMA incremental_vacuum); it can only be chosen
	 * before the first table exists. */
	if (version == 0 &&
	    exec_sql(q, "PRAGMA auto_vacuum = INCREMENTAL", "creating the store", e) < 0)
		return -1;
	if (exec_sql(q, "PRAGMA foreign_keys = OFF", "migrating the schema", e) < 0)
		return -1;
	for (size_t i = (size_t)version; i < sqlite_migrations_count; i++) {
		char bump[64];
		int64_t broken = 0;

		if (sqlite_begin(&q->base, e) < 0)
			return -1;
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %zu", i + 1);
		if (exec_sql(q, sqlite_migrations[i], "migrating the schema", e) < 0 ||
		    sq_query_int(&q->base, "SELECT COUNT(*) FROM pragma_foreign_key_check",
				 "checking the migrated schema", &broken, e, 0) < 0 ||
		    (broken && err_set(e, ERR_BUG, "store", "migration %zu left %lld "
				       "rows with broken references", i + 1,
				       (long long)broken) < 0) ||
		    exec_sql(q, bump, "recording the schema version", e) < 0) {
			sqlite_rollback(&q->base);
			return -1;
		}
		if (sqlite_commit(&q->base, e) < 0)
			return -1;
		if (to)
			*to = (int)i + 1;
	}
	return exec_sql(q, "PRAGMA foreign_keys = ON", "enabling foreign keys", e);
}

static void sq_close(struct store *st);
static const struct store_ops sqlite_ops;

/* The directory part of `path` ("." when there is none); heap. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xasprintf("%.*s", (int)(slash - path), path);
}

/* "file:PATH?immutable=1" with the characters a URI path reserves
 * escaped; heap. NULL when it does not fit the buffer's cap (the file is
 * then opened by its plain path). */
static char *immutable_uri(const char *path)
{
	struct buf b;
	int rc;

	buf_init(&b, strlen(path) * 3 + 64);
	rc = buf_puts(&b, "file:", NULL);
	for (const char *p = path; *p && rc == 0; p++)
		rc = *p == '%' || *p == '?' || *p == '#'
		     ? buf_printf(&b, NULL, "%%%02X", (unsigned char)*p)
		     : buf_append(&b, p, 1, NULL);
	if (rc == 0)
		rc = buf_puts(&b, "?immutable=1", NULL);
	if (rc < 0) { /* never a URI without its ?immutable=1 */
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

uint64_t sq_remote_key_mask = UINT64_MAX;

int64_t sq_remote_key(const char *remote_id)
{
	/* A fixed key: the value is stored, so it must never change. */
	static const unsigned char key[crypto_shorthash_KEYBYTES] = "inboxsync.msgkey";
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const unsigned char *)remote_id, strlen(remote_id), key);
	memcpy(&v, h, sizeof(v));
	return (int64_t)(v & sq_remote_key_mask);
}

/* inboxsync_remote_key(text) for SQL (the migration that added the key
 * fills it with this): NULL for NULL. */
static void remote_key_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *id = argc == 1 ? sqlite3_value_text(argv[0]) : NULL;

	if (id)
		sqlite3_result_int64(ctx, sq_remote_key((const char *)id));
	else
		sqlite3_result_null(ctx);
}

/* Open the file, read-write when we may, read-only otherwise. A store
 * whose directory cannot be written is read-only too: SQLite creates its
 * journal and WAL index there. With no write-ahead log waiting, such a
 * file is read as immutable (nothing can change it without the
 * directory); with one, SQLite reads it through the existing index. */
static int open_db(struct sq_store *q, const char *location, bool create,
		   struct err *e)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	bool exists = access(location, F_OK) == 0;
	char *dir = dir_of(location), *wal = xasprintf("%s-wal", location);
	char *uri = NULL;
	bool dir_ok = access(dir, W_OK) == 0;
	int rc = -1;

	if (!exists && !create) {
		err_set(e, ERR_PERMANENT, "store_gone", "the store %s was deleted "
			"while inboxsync had it open; no new one is made in its place",
			location);
		err_set_fix(e, FIX_RESTORE_BACKUP, location);
		goto out;
	}
	if (!create)
		flags &= ~SQLITE_OPEN_CREATE;
	if (!exists && !dir_ok) {
		err_set(e, ERR_PERMANENT, "store_readonly", "cannot create the store %s: "
			"its directory %s is not writable; the user running inboxsync "
			"needs write permission on that directory", location, dir);
		err_set_fix(e, FIX_STORAGE, dir);
		goto out;
	}
	if (exists && access(location, W_OK) < 0) {
		q->readonly = true;
		if (dir_ok)
			snprintf(q->readonly_why, sizeof(q->readonly_why), "the file is "
				 "not writable for this user");
		else
			snprintf(q->readonly_why, sizeof(q->readonly_why), "neither the "
				 "file nor its directory %.400s is writable for this user", dir);
	} else if (exists && !dir_ok) {
		q->readonly = true;
		snprintf(q->readonly_why, sizeof(q->readonly_why), "its directory %.400s "
			 "is not writable for this user", dir);
	}
	if (q->readonly) {
		flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
		if (!dir_ok && access(wal, F_OK) < 0) {
			uri = immutable_uri(location);
			flags |= SQLITE_OPEN_URI;
		}
	}
	if (sqlite3_open_v2(uri ? uri : location, &q->db, flags, NULL) == SQLITE_OK &&
	    sqlite3_create_function_v2(q->db, "inboxsync_remote_key", 1,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				       remote_key_sql, NULL, NULL, NULL) == SQLITE_OK) {
		struct stat st;

		if (stat(location, &st) == 0) {
			q->have_id = true;
			q->dev = st.st_dev;
			q->ino = st.st_ino;
		}
		rc = 0;
		goto out;
	}
	err_set(e, ERR_PERMANENT, "store", "cannot open the store %s: %s%s",
		location, q->db ? sqlite3_errmsg(q->db) : "out of memory",
		!exists ? " (the user running inboxsync needs write permission "
			  "on its directory to create it)" : "");
	err_set_fix(e, FIX_STORAGE, location);
out:
	free(dir);
	free(wal);
	free(uri);
	return rc;
}

static int pragma_int(struct sq_store *q, const char *sql, int64_t *v)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(q->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Stores made before the store chose incremental auto-vacuum never give
 * deleted space back (removing an account runs PRAGMA
 * incremental_vacuum, which needs it). Convert them once, outside any
 * transaction: the mode can only change with a VACUUM, which rewrites the
 * file. On open only when the store is small (`always` false); a larger
 * one is left as it is, with a warning, for store_migrate, which
 * converts any size. Best effort: a store that is busy or lacks the space
 * for the copy is converted another time. */
static void convert_auto_vacuum(struct sq_store *q, bool always)
{
	int64_t mode = 0, pages = 0, page_size = 0, size;

	if (q->readonly || pragma_int(q, "PRAGMA auto_vacuum", &mode) < 0 || mode == 2 ||
	    pragma_int(q, "PRAGMA page_count", &pages) < 0 ||
	    pragma_int(q, "PRAGMA page_size", &page_size) < 0)
		return;
	size = pages * page_size;
	if (!always && size > VACUUM_ON_OPEN_MAX) {
		log_warn("store", "%s (%lld MB) was made before inboxsync gave removed "
			 "space back; an explicit schema migration converts it once (it "
			 "rewrites the file and needs as much free space)", q->path,
			 (long long)(size >> 20));
		return;
	}
	if (sqlite3_exec(q->db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(q->db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK) {
		log_warn("store", "%s: converting to incremental auto-vacuum failed (%s); "
			 "it is tried again next time", q->path, sqlite3_errmsg(q->db));
		return;
	}
	log_info("store", "%s now gives removed space back (incremental auto-vacuum)",
		 q->path);
}

static int sq_setup(struct sq_store *q, int *from, int *to, bool migrating,
		    struct err *e)
{
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(q->db, 0);
	/* A read-only file may still be in WAL mode; reading it needs the
	 * -shm file, which SQLite can only use when it can create it. */
	if (!q->readonly &&
	    exec_sql(q, "PRAGMA journal_mode = WAL", "enabling WAL", e) < 0)
		return -1;
	if (exec_sql(q, "PRAGMA synchronous = FULL", "setting durability", e) < 0 ||
	    /* A bootstrap commit dirties ~1,000 index pages; checkpointing
	     * after every one wrote each page twice. Every 8,000 pages (a WAL
	     * of ~32 MB at most) the same index pages are written once per
	     * several commits instead. */
	    exec_sql(q, "PRAGMA wal_autocheckpoint = 8000", "setting checkpoints", e) < 0 ||
	    migrate(q, from, to, e) < 0 ||
	    exec_sql(q, "PRAGMA foreign_keys = ON", "enabling foreign keys", e) < 0)
		return -1;
	convert_auto_vacuum(q, migrating);
	return 0;
}

static int sq_open_at(const char *location, struct store **out, int *from,
		      int *to, bool migrating, bool create, struct err *e)
{
	struct sq_store *q = xcalloc(1, sizeof(*q));

	*out = NULL;
	q->base.ops = &sqlite_ops;
	q->path = xstrdup(location);
	if (open_db(q, location, create, e) < 0 || sq_setup(q, from, to, migrating, e) < 0) {
		if (strstr(e->msg, "not a database")) {
			err_set(e, ERR_PERMANENT, "store",
				"%s is not an inboxsync store (not a SQLite "
				"database); move it away or choose another "
				"--data-dir", location);
			err_set_fix(e, FIX_STORAGE, location);
		}
		sq_close(&q->base);
		return -1;
	}
	*out = &q->base;
	return 0;
}

static int sq_open(const char *location, struct store **out, struct err *e)
{
	return sq_open_at(location, out, NULL, NULL, false, true, e);
}

static int sq_open_existing(const char *location, struct store **out, struct err *e)
{
	return sq_open_at(location, out, NULL, NULL, false, false, e);
}

static int sq_migrate(const char *location, int *from, int *to, struct err *e)
{
	struct store *st;

	if (sq_open_at(location, &st, from, to, true, true, e) < 0)
		return -1;
	sq_close(st);
	return 0;
}

static void sq_close(struct store *st)
{
	struct sq_store *q = SQ(st);

	sqlite_rollback(st);
	for (size_t i = 0; i < q->ncache; i++)
		sqlite3_finalize(q->cache[i].stmt);
	if (q->db)
		sqlite3_close(q->db);
	free(q->path);
	free(q->scratch);
	free(q);
}

int sqlite_schema_version(struct store *st)
{
	struct err e;
	int v = -1;

	if (get_user_version(SQ(st), &v, &e) < 0)
		return -1;
	return v;
}

int sqlite_backup(struct store *st, const char *dest, struct err *e)
{
	sqlite3 *to = NULL;
	sqlite3_backup *b;
	int rc;

	if (access(dest, F_OK) == 0) {
		err_set(e, ERR_PERMANENT, "usage", "%s already exists; a backup "
			"goes to a new file", dest);
		return err_set_fix(e, FIX_CHECK_INPUT, "name a file that does not exist yet");
	}
	if (sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		err_set(e, ERR_PERMANENT, "store", "cannot create the backup %s: %s",
			dest, to ? sqlite3_errmsg(to) : "out of memory");
		sqlite3_close(to);
		return err_set_fix(e, FIX_STORAGE, dest);
	}
	b = sqlite3_backup_init(to, "main", sq_db(st), "main");
	if (!b) {
		err_set(e, ERR_PERMANENT, "store", "cannot start the backup: %s",
			sqlite3_errmsg(to));
		sqlite3_close(to);
		unlink(dest);
		return -1;
	}
	/* Steps of 256 pages let writers in between (they restart the copy
	 * of what they changed, so the result is one consistent snapshot). */
	do {
		rc = sqlite3_backup_step(b, 256);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(20);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_PERMANENT, "store", "the backup to %s failed: %s",
			dest, sqlite3_errstr(rc));
		sqlite3_close(to);
		unlink(dest);
		return err_set_fix(e, FIX_STORAGE, dest);
	}
	sqlite3_close(to);
	return 0;
}

static const char *const sqlite_schemes[] = { "sqlite:", "", NULL };

const struct store_backend store_sqlite_backend = {
	.schemes = sqlite_schemes,
	.open = sq_open,
	.open_existing = sq_open_existing,
	.migrate = sq_migrate,
};

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
#define STORE_OP(name, params, args) .name = sqlite_##name,
#define STORE_VOID_OP(name, params, args) .name = sqlite_##name,
#include "store/store_ops.def"
#undef STORE_OP
#undef STORE_VOID_OP
	.begin_redoable = sqlite_begin_redoable,
};
