/*
 * pg_internal.h — internals shared by the PostgreSQL store files: the
 * connection struct, query parameters, the pipelined executor (statements
 * prepared once per connection; queued writes that travel with the next
 * statement), result helpers, the implicit-transaction helpers, the event
 * stager, and the prototypes of every pg_* operation (generated from
 * store_ops.def). Not a public header: only src/store/pg includes it.
 */
#ifndef INBOXSYNC_PG_INTERNAL_H
#define INBOXSYNC_PG_INTERNAL_H

#include <libpq-fe.h>
#include "store/store_backend.h"

#define PG_MAX_PARAMS 24
#define PG_STMT_MAX 256
#define PG_QUEUE_MAX 64

/* One command in the pipeline whose result is still to be read. */
struct pg_queued {
	const char *what;          /* for messages: "saving a folder's sync state" */
	const char *prepare;       /* the Parse of this SQL, not an execution */
	bool keep;                 /* the caller wants this result */
};

struct pg_store {
	struct store base;         /* first: a struct store * points here */
	PGconn *conn;              /* NULL after the connection was lost */
	char *url;                 /* as given (may hold a password) */
	char where[300];           /* the location for messages, password masked */
	char *password;            /* to scrub from server messages, or NULL */
	/* transaction */
	bool in_tx;
	bool tx_failed;            /* an error happened inside: only rollback helps */
	struct err tx_err;         /* that error, given again to later calls */
	/* commands sent (or buffered) but not read back yet */
	size_t nqueued;
	struct pg_queued queue[PG_QUEUE_MAX];
	/* statements prepared on this connection, by the address of their SQL */
	size_t nprepared;
	const char *prepared[PG_STMT_MAX];
	bool listening;            /* LISTEN inboxsync_events issued */
	char *scratch;             /* strings handed out until the next call that
				      uses it (webhook deliveries) */
	char last_state[6];        /* SQLSTATE of the last failure ("" = none) */
	/* counters for diagnostics and the benchmark */
	long long round_trips;
	long long statements;
	long long tx_start;        /* round_trips when the transaction began */
};

static inline struct pg_store *PG(struct store *st)
{
	return (struct pg_store *)st;
}

#define STORE_OP(name, params, args) int pg_##name params;
#define STORE_VOID_OP(name, params, args) void pg_##name params;
#include "store/store_ops.def"
#undef STORE_OP
#undef STORE_VOID_OP

/* ---- parameters ------------------------------------------------------- */

/* Parameters of one statement, all sent as text except bytes. */
struct pg_params {
	int n;
	const char *values[PG_MAX_PARAMS];
	int lengths[PG_MAX_PARAMS];
	int formats[PG_MAX_PARAMS];
	char nums[PG_MAX_PARAMS][24];
};

/* Append a parameter ($1, $2, ... in call order). NULL text is SQL NULL;
 * pgp_opt_int sends 0 as NULL; pgp_tri sends MAIL_UNKNOWN as NULL. The
 * strings are borrowed until the statement is sent. */
void pgp_int(struct pg_params *p, int64_t v);
void pgp_opt_int(struct pg_params *p, int64_t v);
void pgp_text(struct pg_params *p, const char *v);
void pgp_bool(struct pg_params *p, bool v);
void pgp_tri(struct pg_params *p, int v);
void pgp_bytes(struct pg_params *p, const void *v, size_t n);

/* ---- running statements ------------------------------------------------ */

/* Run `sql` (a string literal: prepared once per connection, cached by
 * address) together with everything queued, in one round trip. Returns
 * its result (caller frees with PQclear), or NULL with `e` filled: the
 * first failure of the round trip, classified (lost connection:
 * ERR_TRANSIENT "store_unavailable", the next call reconnects; lock and
 * serialization conflicts: ERR_TRANSIENT "store_busy"; the rest:
 * ERR_PERMANENT "store"). `what` says what the statement does. */
PGresult *pg_query(struct store *st, const char *sql, const struct pg_params *p,
		   const char *what, struct err *e);

/* pg_query for a write (a result from RETURNING, a row count, or none):
 * outside a transaction it runs in its own, whose commit checks the fence
 * and numbers the events the statement staged, in one round trip all the
 * same. */
PGresult *pg_wquery(struct store *st, const char *sql, const struct pg_params *p,
		    const char *what, struct err *e);

/* pg_wquery for a statement without rows: *affected (may be NULL) gets
 * its row count. Returns 0 or -1. */
int pg_exec(struct store *st, const char *sql, const struct pg_params *p,
	    const char *what, long long *affected, struct err *e);

/* A write whose result the caller does not look at: inside a transaction
 * it is only queued and travels with the transaction's next statement or
 * its commit (which then report its failure); outside one it runs at
 * once. Returns 0 or -1. */
int pg_write(struct store *st, const char *sql, const struct pg_params *p,
	     const char *what, struct err *e);

/* pg_write of a statement whose parameters are `n` int64 values. */
int pg_write_ints(struct store *st, const char *sql, const char *what,
		  struct err *e, int n, ...);

/* A query with int64 parameters whose first row's first column is an
 * integer; *out gets it (0 when there is no row or it is NULL). */
int pg_query_int(struct store *st, const char *sql, const char *what,
		 int64_t *out, struct err *e, int n, ...);

/* Run the plain statements `sql[0..n)` (not prepared: session set-up,
 * LISTEN) in one round trip, outside any transaction of the caller's;
 * *first (may be NULL) gets the first one's result. On a connection
 * that pg_ensure does not manage yet (while connecting). */
int pg_run(struct store *st, const char *const *sql, size_t n, PGresult **first,
	   const char *what, struct err *e);

/* Whether the last failure had SQLSTATE `state` ("23505" unique...). */
bool pg_failed_with(struct store *st, const char *state);

/* ---- results -------------------------------------------------------------- */

/* Column helpers (text results). pg_str never returns NULL (borrowed
 * from the result); pg_dup returns a heap copy or NULL for SQL NULL;
 * pg_copy copies into a fixed array (truncating); pg_bytes unescapes a
 * bytea column into a NUL-terminated heap copy (*n its length; NULL for
 * SQL NULL). */
int64_t pg_int(const PGresult *r, int row, int col);
bool pg_bool(const PGresult *r, int row, int col);
bool pg_null(const PGresult *r, int row, int col);
const char *pg_str(const PGresult *r, int row, int col);
char *pg_dup(const PGresult *r, int row, int col);
void pg_copy(const PGresult *r, int row, int col, char *dst, size_t n);
char *pg_bytes(const PGresult *r, int row, int col, size_t *n);

/* Read row `row` of `r` into `out` (a struct the reader knows). */
typedef void (*pg_row_fn)(const PGresult *r, int row, void *out);

/* Run the read `sql`; when it has a row, read the first into `out` with
 * `read`. Returns 1 found, 0 not, -1 error. */
int pg_get_row(struct store *st, const char *sql, const struct pg_params *p,
	       const char *what, pg_row_fn read, void *out, struct err *e);

/* Run the read `sql` and read every row into a new array of `size`-byte
 * elements (*out, caller frees; at least one element is allocated). */
int pg_get_rows(struct store *st, const char *sql, const struct pg_params *p,
		const char *what, pg_row_fn read, size_t size, void **out,
		size_t *n, struct err *e);

/* ---- transactions ------------------------------------------------------- */

/* Begin a transaction unless one is open; *owned says whether we did. */
int pg_auto_begin(struct store *st, int *owned, struct err *e);
/* Finish what pg_auto_begin started: commit when rc == 0, else roll back.
 * Returns rc, or -1 when the commit failed. */
int pg_auto_end(struct store *st, int owned, int rc, struct err *e);

/* ---- events ------------------------------------------------------------------- */

/* Stage an event in the current transaction (queued, see pg_write); it
 * gets its seq at commit. */
int pg_event(struct store *st, const struct store_event_new *ev, struct err *e);

/* Read the event columns "seq, account_id, user_id, type, entity_id,
 * folder_path, from_folder, backfill, data, at" of row `row` starting at
 * column `first` (strings borrowed from the result). */
#define PG_EVENT_COLUMNS \
	"seq, account_id, user_id, type, entity_id, folder_path, from_folder, " \
	"backfill, data, at"
void pg_read_event(const PGresult *r, int row, int first, struct store_event *ev);

/* The enumerations as stored (text names; unknown text reads as the
 * first value). */
enum store_state pg_col_state(const PGresult *r, int row, int col);
enum store_phase pg_col_phase(const PGresult *r, int row, int col);
enum mail_role pg_col_role(const PGresult *r, int row, int col);
enum store_outbox_state pg_col_outbox_state(const PGresult *r, int row, int col);

/* ---- the connection (pg_connection.c) -------------------------------------- */

/* Make sure the connection is up, reconnecting after a loss (never inside
 * a transaction, which the loss ended). Returns 0 or -1. */
int pg_ensure(struct store *st, struct err *e);

/* The connection was lost: drop it so the next call reconnects. */
void pg_lost(struct store *st);

/* Write the server's (or libpq's) message `msg` into `out` with the
 * password, if any, replaced by "***". */
void pg_scrub(const struct pg_store *q, const char *msg, char *out, size_t n);

#endif
