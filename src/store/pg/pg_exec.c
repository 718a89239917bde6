/*
 * pg_exec.c — how the PostgreSQL store talks to the server: libpq in
 * pipeline mode, every statement prepared once per connection (the Parse
 * travels with its first execution), writes whose result nobody looks at
 * queued until the next statement or the commit, so that a transaction
 * costs one round trip per statement whose answer is needed plus one for
 * the commit (which carries the fence check and the feed step, see
 * inboxsync_commit in migrations/001_initial.sql). Also the error
 * classification, transactions, parameters and result helpers. The
 * connection itself (opening, session set-up, migrations) is
 * pg_connection.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"

/* No answer within this long means the server or the network is gone
 * (the session's statement_timeout is 300 s, see pg_connection.c). */
#define RESULT_TIMEOUT_MS (330 * 1000)

/* ---- parameters ------------------------------------------------------- */

static int next_param(struct pg_params *p)
{
	/* Every statement's parameter count is fixed in its SQL. */
	if (p->n >= PG_MAX_PARAMS)
		abort();
	return p->n++;
}

void pgp_int(struct pg_params *p, int64_t v)
{
	int i = next_param(p);

	snprintf(p->nums[i], sizeof(p->nums[i]), "%" PRId64, v);
	p->values[i] = p->nums[i];
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void pgp_opt_int(struct pg_params *p, int64_t v)
{
	if (v)
		pgp_int(p, v);
	else
		pgp_text(p, NULL);
}

void pgp_text(struct pg_params *p, const char *v)
{
	int i = next_param(p);

	p->values[i] = v;
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void pgp_bool(struct pg_params *p, bool v)
{
	pgp_text(p, v ? "t" : "f");
}

void pgp_tri(struct pg_params *p, int v)
{
	pgp_text(p, v == MAIL_UNKNOWN ? NULL : v ? "t" : "f");
}

void pgp_bytes(struct pg_params *p, const void *v, size_t n)
{
	int i = next_param(p);

	p->values[i] = v;
	p->lengths[i] = (int)n;
	p->formats[i] = 1;
}

/* ---- errors ------------------------------------------------------------- */

/* SQLSTATEs (or their class, two characters) and what they mean here. */
static const struct {
	const char *state;
	enum err_class class;
	const char *code;
	enum err_fix fix;
} states[] = {
	{ "IXL01", ERR_PERMANENT, "lease_lost", FIX_NONE },
	{ "40001", ERR_TRANSIENT, "store_busy", FIX_RETRY },   /* serialization */
	{ "40P01", ERR_TRANSIENT, "store_busy", FIX_RETRY },   /* deadlock */
	{ "55P03", ERR_TRANSIENT, "store_busy", FIX_RETRY },   /* lock not available */
	{ "57014", ERR_TRANSIENT, "store_busy", FIX_RETRY },   /* timeout, cancel */
	{ "53100", ERR_TRANSIENT, "store_full", FIX_STORAGE }, /* disk full */
	{ "53", ERR_TRANSIENT, "store_busy", FIX_RETRY },      /* out of resources */
	{ "57P", ERR_TRANSIENT, "store_unavailable", FIX_RETRY }, /* shutting down */
	{ "08", ERR_TRANSIENT, "store_unavailable", FIX_RETRY },  /* connection */
	{ "25006", ERR_PERMANENT, "store_readonly", FIX_STORAGE },
	{ "42P01", ERR_PERMANENT, "store_schema", FIX_MIGRATE }, /* no table */
	{ "42883", ERR_PERMANENT, "store_schema", FIX_MIGRATE }, /* no function */
	{ "42703", ERR_PERMANENT, "store_schema", FIX_MIGRATE }, /* no column */
};

static int fail_state(struct pg_store *q, const char *state, const char *msg,
		      const char *what, struct err *e)
{
	char clean[400];

	str_copy(q->last_state, sizeof(q->last_state), state ? state : "");
	pg_scrub(q, msg, clean, sizeof(clean));
	for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++) {
		if (strncmp(state, states[i].state, strlen(states[i].state)) != 0)
			continue;
		if (strcmp(states[i].code, "lease_lost") == 0)
			return err_set(e, ERR_PERMANENT, "lease_lost",
				       "the sync lease of account %lld moved to another "
				       "process; nothing of this step was written",
				       (long long)q->base.fence.account_id);
		err_set(e, states[i].class, states[i].code, "store %s: %s failed: %s",
			q->where, what, clean);
		return err_set_fix(e, states[i].fix,
				   states[i].fix == FIX_STORAGE ? q->where : NULL);
	}
	return err_set(e, ERR_PERMANENT, "store", "store %s: %s failed: %s",
		       q->where, what, clean);
}

/* The connection is gone: say so and drop it. */
static int fail_lost(struct pg_store *q, const char *what, struct err *e)
{
	char clean[300];

	pg_scrub(q, q->conn ? PQerrorMessage(q->conn) : "no connection", clean,
		 sizeof(clean));
	clean[strcspn(clean, "\n")] = '\0';
	str_copy(q->last_state, sizeof(q->last_state), "08006");
	pg_lost(&q->base);
	err_set(e, ERR_TRANSIENT, "store_unavailable",
		"lost the connection to the PostgreSQL store %s while %s (%s); "
		"it is opened again on the next call", q->where, what,
		clean[0] ? clean : "no answer");
	return err_set_fix(e, FIX_RETRY, NULL);
}

static int fail_result(struct pg_store *q, const PGresult *r, const char *what,
		       struct err *e)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	return fail_state(q, state, msg ? msg : PQresultErrorMessage(r), what, e);
}

bool pg_failed_with(struct store *st, const char *state)
{
	return strcmp(PG(st)->last_state, state) == 0;
}

/* Inside a transaction, the first failure is the transaction's: later
 * calls get it again until the rollback. */
static void note_tx_failure(struct pg_store *q, const struct err *e)
{
	if (q->in_tx && !q->tx_failed) {
		q->tx_failed = true;
		q->tx_err = *e;
	}
}

/* ---- the pipeline ----------------------------------------------------------- */

/* Wait for input until the deadline. 0 ready, -1 timeout or loss. */
static int wait_input(struct pg_store *q, int64_t deadline)
{
	while (PQisBusy(q->conn)) {
		struct pollfd pfd = { PQsocket(q->conn), POLLIN, 0 };
		int64_t left = deadline - time_mono_ms();
		int n;

		if (left <= 0 || pfd.fd < 0)
			return -1;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0 && !PQconsumeInput(q->conn))
			return -1;
	}
	return 0;
}

static int push(struct pg_store *q, const char *what, const char *prepare,
		bool keep)
{
	struct pg_queued *x = &q->queue[q->nqueued++];

	x->what = what;
	x->prepare = prepare;
	x->keep = keep;
	return 0;
}

/* Forget that `sql` is prepared (its Parse failed): its slot stays
 * empty, a later use prepares it again under a new name. */
static void unprepare(struct pg_store *q, const char *sql)
{
	for (size_t i = 0; i < q->nprepared; i++)
		if (q->prepared[i] == sql)
			q->prepared[i] = NULL;
}

/* Send the Sync and read every queued command's result. *kept (may be
 * NULL) gets the result of the entry marked keep. Returns 0, or -1 with
 * the first failure. */
static int flush(struct pg_store *q, PGresult **kept, struct err *e)
{
	int64_t deadline = time_mono_ms() + RESULT_TIMEOUT_MS;
	size_t i = 0, n = q->nqueued;
	const char *what = n ? q->queue[n - 1].what : "talking to the server";
	int rc = 0;

	if (kept)
		*kept = NULL;
	if (n == 0)
		return 0;
	q->nqueued = 0;
	q->round_trips++;
	if (!PQpipelineSync(q->conn))
		return fail_lost(q, what, e);
	for (;;) {
		PGresult *r;

		if (wait_input(q, deadline) < 0)
			return fail_lost(q, i < n ? q->queue[i].what : what, e);
		r = PQgetResult(q->conn);
		if (!r) {
			if (PQstatus(q->conn) == CONNECTION_BAD)
				return fail_lost(q, i < n ? q->queue[i].what : what, e);
			i++;            /* the end of one command's results */
			continue;
		}
		switch (PQresultStatus(r)) {
		case PGRES_PIPELINE_SYNC:
			PQclear(r);
			return rc;
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
			if (i < n && q->queue[i].keep && kept && !*kept) {
				*kept = r;
				r = NULL;
			}
			break;
		case PGRES_PIPELINE_ABORTED:
			break;
		default:
			if (PQstatus(q->conn) == CONNECTION_BAD) {
				PQclear(r);
				return fail_lost(q, i < n ? q->queue[i].what : what, e);
			}
			if (i < n && q->queue[i].prepare)
				unprepare(q, q->queue[i].prepare);
			if (rc == 0)
				rc = fail_result(q, r, i < n ? q->queue[i].what : what, e);
			break;
		}
		PQclear(r);
	}
}

/* Room for `k` more commands, flushing what is queued when there is not. */
static int make_room(struct pg_store *q, size_t k, struct err *e)
{
	if (q->nqueued + k <= PG_QUEUE_MAX)
		return 0;
	if (flush(q, NULL, e) < 0) {
		note_tx_failure(q, e);
		return -1;
	}
	return 0;
}

/* The prepared name of `sql`, sending its Parse first when this
 * connection has not seen it. */
static int statement(struct pg_store *q, const char *sql, const char *what,
		     char name[16], struct err *e)
{
	size_t i;

	for (i = 0; i < q->nprepared; i++)
		if (q->prepared[i] == sql)
			break;
	snprintf(name, 16, "ix%zu", i);
	if (i < q->nprepared)
		return 0;
	if (q->nprepared == PG_STMT_MAX)
		return err_set(e, ERR_BUG, "store", "too many distinct statements");
	if (!PQsendPrepare(q->conn, name, sql, 0, NULL))
		return fail_lost(q, what, e);
	q->prepared[q->nprepared++] = sql;
	return push(q, what, sql, false);
}

/* Queue one execution of `sql` (its Parse too when needed). */
static int queue_exec(struct pg_store *q, const char *sql, const struct pg_params *p,
		      const char *what, bool keep, struct err *e)
{
	static const struct pg_params none;
	char name[16];

	if (!p)
		p = &none;
	if (make_room(q, 2, e) < 0 || statement(q, sql, what, name, e) < 0)
		return -1;
	if (!PQsendQueryPrepared(q->conn, name, p->n, p->values, p->lengths,
				 p->formats, 0))
		return fail_lost(q, what, e);
	q->statements++;
	return push(q, what, NULL, keep);
}

/* Queue a statement that is not worth preparing (BEGIN, COMMIT...). */
static int queue_plain(struct pg_store *q, const char *sql, const char *what,
		       struct err *e)
{
	if (make_room(q, 1, e) < 0)
		return -1;
	if (!PQsendQueryParams(q->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
		return fail_lost(q, what, e);
	q->statements++;
	return push(q, what, NULL, false);
}

int pg_run(struct store *st, const char *const *sql, size_t n, PGresult **first,
	   const char *what, struct err *e)
{
	struct pg_store *q = PG(st);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = queue_plain(q, sql[i], what, e);
	if (rc == 0 && first && n)
		q->queue[q->nqueued - n].keep = true;
	return rc < 0 ? -1 : flush(q, first, e);
}

/* Ready to queue: connected, and not in a transaction that failed. */
static int ready(struct pg_store *q, struct err *e)
{
	if (q->in_tx && q->tx_failed) {
		*e = q->tx_err;
		return -1;
	}
	if (pg_ensure(&q->base, e) < 0) {
		note_tx_failure(q, e);
		return -1;
	}
	return 0;
}

PGresult *pg_query(struct store *st, const char *sql, const struct pg_params *p,
		   const char *what, struct err *e)
{
	struct pg_store *q = PG(st);
	PGresult *r = NULL;

	if (ready(q, e) < 0)
		return NULL;
	if (queue_exec(q, sql, p, what, true, e) < 0 || flush(q, &r, e) < 0) {
		note_tx_failure(q, e);
		PQclear(r);
		return NULL;
	}
	if (!r) {
		err_set(e, ERR_BUG, "store", "store %s: no result for %s", q->where, what);
		note_tx_failure(q, e);
	}
	return r;
}

static int queue_commit(struct pg_store *q, struct err *e);
static void abandon(struct pg_store *q);

PGresult *pg_wquery(struct store *st, const char *sql, const struct pg_params *p,
		    const char *what, struct err *e)
{
	struct pg_store *q = PG(st);
	PGresult *r = NULL;

	if (q->in_tx)
		return pg_query(st, sql, p, what, e);
	/* A write outside a transaction: BEGIN, the statement and the commit
	 * step (fence, events), in one round trip. */
	if (ready(q, e) < 0)
		return NULL;
	q->in_tx = true;
	if (queue_plain(q, "BEGIN", "beginning a transaction", e) < 0 ||
	    queue_exec(q, sql, p, what, true, e) < 0 || queue_commit(q, e) < 0 ||
	    flush(q, &r, e) < 0) {
		PQclear(r);
		abandon(q);
		return NULL;
	}
	q->in_tx = false;
	return r;
}

int pg_exec(struct store *st, const char *sql, const struct pg_params *p,
	    const char *what, long long *affected, struct err *e)
{
	PGresult *r = pg_wquery(st, sql, p, what, e);

	if (!r)
		return -1;
	if (affected)
		*affected = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

int pg_write(struct store *st, const char *sql, const struct pg_params *p,
	     const char *what, struct err *e)
{
	struct pg_store *q = PG(st);

	if (!q->in_tx)
		return pg_exec(st, sql, p, what, NULL, e);
	if (ready(q, e) < 0)
		return -1;
	if (queue_exec(q, sql, p, what, false, e) < 0) {
		note_tx_failure(q, e);
		return -1;
	}
	return 0;
}

int pg_write_ints(struct store *st, const char *sql, const char *what,
		  struct err *e, int n, ...)
{
	struct pg_params p = { 0 };
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		pgp_int(&p, va_arg(ap, int64_t));
	va_end(ap);
	return pg_write(st, sql, &p, what, e);
}

int pg_query_int(struct store *st, const char *sql, const char *what,
		 int64_t *out, struct err *e, int n, ...)
{
	struct pg_params p = { 0 };
	PGresult *r;
	va_list ap;

	*out = 0;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		pgp_int(&p, va_arg(ap, int64_t));
	va_end(ap);
	if (!(r = pg_query(st, sql, &p, what, e)))
		return -1;
	if (PQntuples(r) > 0)
		*out = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_get_row(struct store *st, const char *sql, const struct pg_params *p,
	       const char *what, pg_row_fn read, void *out, struct err *e)
{
	PGresult *r = pg_query(st, sql, p, what, e);
	int found;

	if (!r)
		return -1;
	found = PQntuples(r) > 0;
	if (found)
		read(r, 0, out);
	PQclear(r);
	return found;
}

int pg_get_rows(struct store *st, const char *sql, const struct pg_params *p,
		const char *what, pg_row_fn read, size_t size, void **out,
		size_t *n, struct err *e)
{
	PGresult *r = pg_query(st, sql, p, what, e);

	*out = NULL;
	*n = 0;
	if (!r)
		return -1;
	*n = (size_t)PQntuples(r);
	*out = xcalloc(*n ? *n : 1, size);
	for (size_t i = 0; i < *n; i++)
		read(r, (int)i, (char *)*out + i * size);
	PQclear(r);
	return 0;
}

/* ---- results ------------------------------------------------------------------ */

int64_t pg_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool pg_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

bool pg_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) != 0;
}

const char *pg_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

char *pg_dup(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : xstrdup(PQgetvalue(r, row, col));
}

void pg_copy(const PGresult *r, int row, int col, char *dst, size_t n)
{
	str_copy(dst, n, pg_str(r, row, col));
}

char *pg_bytes(const PGresult *r, int row, int col, size_t *n)
{
	unsigned char *raw;
	char *out;
	size_t len = 0;

	*n = 0;
	if (PQgetisnull(r, row, col))
		return NULL;
	raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &len);
	if (!raw)
		return NULL;
	out = xmalloc(len + 1);
	memcpy(out, raw, len);
	out[len] = '\0';
	PQfreemem(raw);
	*n = len;
	return out;
}

/* ---- transactions ------------------------------------------------------------ */

int pg_begin(struct store *st, struct err *e)
{
	struct pg_store *q = PG(st);

	if (q->in_tx)
		return err_set(e, ERR_BUG, "store", "nested store transaction");
	if (pg_ensure(st, e) < 0 || queue_plain(q, "BEGIN", "beginning a transaction", e) < 0)
		return -1;
	q->in_tx = true;
	q->tx_failed = false;
	q->tx_start = q->round_trips;
	return 0;
}

/* Drop out of a transaction that failed on the server. */
static void abandon(struct pg_store *q)
{
	struct err ignored;

	if (q->conn && PQtransactionStatus(q->conn) != PQTRANS_IDLE &&
	    queue_plain(q, "ROLLBACK", "rolling back", &ignored) == 0)
		flush(q, NULL, &ignored);
	q->nqueued = 0;
	q->in_tx = false;
	q->tx_failed = false;
}

/* Queue the commit step (fence check, the feed) and COMMIT. */
static int queue_commit(struct pg_store *q, struct err *e)
{
	static const char sql[] = "SELECT inboxsync_commit($1, $2, $3, $4)";
	const struct store_fence *f = &q->base.fence;
	struct pg_params p = { 0 };

	pgp_int(&p, f->account_id);
	pgp_text(&p, f->holder);
	pgp_int(&p, f->generation);
	pgp_int(&p, time_now());
	if (queue_exec(q, sql, &p, "checking the sync lease and the change feed",
		       false, e) < 0)
		return -1;
	return queue_plain(q, "COMMIT", "committing", e);
}

int pg_commit(struct store *st, struct err *e)
{
	struct pg_store *q = PG(st);

	if (!q->in_tx)
		return err_set(e, ERR_BUG, "store", "commit without a transaction");
	if (q->tx_failed) {
		*e = q->tx_err;
		abandon(q);
		return -1;
	}
	if (pg_ensure(st, e) < 0 || queue_commit(q, e) < 0 || flush(q, NULL, e) < 0) {
		abandon(q);
		return -1;
	}
	q->in_tx = false;
	log_debug("store", "transaction committed in %lld round trips",
		  q->round_trips - q->tx_start);
	return 0;
}

void pg_rollback(struct store *st)
{
	struct pg_store *q = PG(st);
	struct err ignored;

	if (!q->in_tx)
		return;
	if (q->conn && queue_plain(q, "ROLLBACK", "rolling back", &ignored) == 0)
		flush(q, NULL, &ignored);
	q->nqueued = 0;
	q->in_tx = false;
	q->tx_failed = false;
}

int pg_auto_begin(struct store *st, int *owned, struct err *e)
{
	*owned = 0;
	if (PG(st)->in_tx)
		return 0;
	if (pg_begin(st, e) < 0)
		return -1;
	*owned = 1;
	return 0;
}

int pg_auto_end(struct store *st, int owned, int rc, struct err *e)
{
	if (!owned)
		return rc;
	if (rc < 0) {
		pg_rollback(st);
		return rc;
	}
	return pg_commit(st, e);
}

/* ---- events -------------------------------------------------------------------- */

int pg_event(struct store *st, const struct store_event_new *ev, struct err *e)
{
	static const char sql[] =
		"INSERT INTO pg_temp.staged_events (account_id, user_id, type, entity_id, "
		"folder_path, from_folder, backfill, data, at) VALUES ($1, "
		"(SELECT user_id FROM accounts WHERE id = $1), $2, $3, $4, $5, $6, $7, $8)";
	struct pg_params p = { 0 };

	pgp_int(&p, ev->account_id);
	pgp_int(&p, (int64_t)ev->type);
	pgp_text(&p, ev->entity_id ? ev->entity_id : "");
	pgp_text(&p, ev->folder_path ? ev->folder_path : "");
	pgp_text(&p, ev->from_folder ? ev->from_folder : "");
	pgp_bool(&p, ev->backfill);
	pgp_text(&p, ev->data ? ev->data : "");
	pgp_int(&p, time_now());
	/* Outside a transaction the staged row would vanish at once. */
	if (!PG(st)->in_tx)
		return err_set(e, ERR_BUG, "store", "an event outside a transaction");
	return pg_write(st, sql, &p, "recording an event", e);
}

void pg_read_event(const PGresult *r, int row, int first, struct store_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->seq = pg_int(r, row, first);
	ev->account_id = pg_int(r, row, first + 1);
	ev->user_id = pg_int(r, row, first + 2);
	ev->type = (enum store_event_type)pg_int(r, row, first + 3);
	ev->entity_id = pg_str(r, row, first + 4);
	ev->folder_path = pg_str(r, row, first + 5);
	ev->from_folder = pg_str(r, row, first + 6);
	ev->backfill = pg_bool(r, row, first + 7);
	ev->data_json = pg_str(r, row, first + 8);
	ev->at = pg_int(r, row, first + 9);
}

#define COL_ENUM(fn, type, parse, fallback) \
	type fn(const PGresult *r, int row, int col) \
	{ \
		type v; \
		return parse(pg_str(r, row, col), &v) == 0 ? v : fallback; \
	}
COL_ENUM(pg_col_state, enum store_state, store_state_parse, STORE_STATE_NEW)
COL_ENUM(pg_col_phase, enum store_phase, store_phase_parse, STORE_PHASE_PENDING)
COL_ENUM(pg_col_role, enum mail_role, mail_role_parse, MAIL_ROLE_NONE)
COL_ENUM(pg_col_outbox_state, enum store_outbox_state, store_outbox_state_parse,
	 STORE_OUTBOX_QUEUED)
