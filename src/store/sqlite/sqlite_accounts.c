/*
 * sqlite_accounts.c — provider settings and mailbox accounts (state and
 * fix, Test & Confirm, scheduling, the latest error and its history,
 * stop/remove, counts) in the SQLite store. Credentials and OAuth states
 * live in sqlite_credentials.c, leases in sqlite_leases.c.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/store_rows.h"

#define ACCOUNT_ERRORS_KEPT 20

/* ---- provider ----------------------------------------------------------- */

int sqlite_get_provider(struct store *st, const char *name,
		       struct store_provider *p, struct err *e)
{
	static const char sql[] =
		"SELECT name, tenant, client_id, client_secret_sealed, login_url, "
		"graph_url, imap_host, imap_port, smtp_host, smtp_port, enabled, "
		"transports, updated_at, secret_expires_at, problem_code, problem, "
		"problem_at FROM providers WHERE name = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	memset(p, 0, sizeof(*p));
	if (!s)
		return -1;
	sq_text(s, 1, name);
	rc = sq_row(st, s, "reading provider settings", e);
	if (rc <= 0)
		return rc;
	sq_col_copy(s, 0, p->name, sizeof(p->name));
	sq_col_copy(s, 1, p->tenant, sizeof(p->tenant));
	sq_col_copy(s, 2, p->client_id, sizeof(p->client_id));
	p->client_secret_sealed = sq_col_dup(s, 3);
	sq_col_copy(s, 4, p->login_url, sizeof(p->login_url));
	sq_col_copy(s, 5, p->graph_url, sizeof(p->graph_url));
	sq_col_copy(s, 6, p->imap_host, sizeof(p->imap_host));
	p->imap_port = (int)sq_col_int(s, 7);
	sq_col_copy(s, 8, p->smtp_host, sizeof(p->smtp_host));
	p->smtp_port = (int)sq_col_int(s, 9);
	p->enabled = sq_col_int(s, 10) != 0;
	p->transports = (unsigned)sq_col_int(s, 11);
	p->updated_at = sq_col_int(s, 12);
	p->secret_expires_at = sq_col_int(s, 13);
	sq_col_copy(s, 14, p->problem_code, sizeof(p->problem_code));
	sq_col_copy(s, 15, p->problem, sizeof(p->problem));
	p->problem_at = sq_col_int(s, 16);
	sqlite3_reset(s);
	return 1;
}

int sqlite_put_provider(struct store *st, const struct store_provider *p,
		       struct err *e)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO providers (name, tenant, client_id, "
		"client_secret_sealed, login_url, graph_url, imap_host, imap_port, "
		"smtp_host, smtp_port, enabled, transports, updated_at, "
		"secret_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, p->name);
	sq_text(s, 2, p->tenant);
	sq_text(s, 3, p->client_id);
	sq_text(s, 4, p->client_secret_sealed);
	sq_text(s, 5, p->login_url);
	sq_text(s, 6, p->graph_url);
	sq_text(s, 7, p->imap_host);
	sq_int(s, 8, p->imap_port);
	sq_text(s, 9, p->smtp_host);
	sq_int(s, 10, p->smtp_port);
	sq_int(s, 11, p->enabled);
	sq_int(s, 12, p->transports);
	sq_int(s, 13, time_now());
	sq_int(s, 14, p->secret_expires_at);
	return sq_done(st, s, "saving provider settings", e);
}

int sqlite_set_provider_problem(struct store *st, const char *name,
				const char *code, const char *problem,
				struct err *e)
{
	static const char sql[] =
		"UPDATE providers SET problem_code = ?1, problem = ?2, problem_at = ?3 "
		"WHERE name = ?4 AND (problem_code <> ?1 OR problem <> ?2)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	bool clear = !code || !*code;

	if (!s)
		return -1;
	sq_text(s, 1, clear ? "" : code);
	sq_text(s, 2, clear ? "" : problem ? problem : "");
	sq_int(s, 3, clear ? 0 : time_now());
	sq_text(s, 4, name);
	return sq_done(st, s, "recording the provider's problem", e);
}

/* ---- accounts ----------------------------------------------------------- */

#define ACCOUNT_COLUMNS \
	"id, user_id, name, email, sender_name, transport, state, state_reason, " \
	"state_fix, state_fix_arg, auth_failures, incoming_status, " \
	"incoming_last_fetch_at, incoming_error, outgoing_status, outgoing_error, " \
	"identity, display_name, tenant_id, object_id, graph_url, imap_server, " \
	"smtp_server, authorized_at, folders_scanned_at, next_due_at, " \
	"throttled_until, backoff_s, last_error_code, last_error, last_error_at, " \
	"created_at, updated_at"

static void read_account(sqlite3_stmt *s, struct store_account *a)
{
	enum store_incoming in = STORE_INCOMING_NOT_CONFIRMED;
	enum store_outgoing out = STORE_OUTGOING_UNTESTED;

	memset(a, 0, sizeof(*a));
	a->id = sq_col_int(s, 0);
	a->user_id = sq_col_int(s, 1);
	sq_col_copy(s, 2, a->name, sizeof(a->name));
	sq_col_copy(s, 3, a->email, sizeof(a->email));
	sq_col_copy(s, 4, a->sender_name, sizeof(a->sender_name));
	sq_col_copy(s, 5, a->transport, sizeof(a->transport));
	a->state = sq_col_state(s, 6);
	sq_col_copy(s, 7, a->state_reason, sizeof(a->state_reason));
	a->state_fix = err_fix_parse(sq_col_str(s, 8));
	sq_col_copy(s, 9, a->state_fix_arg, sizeof(a->state_fix_arg));
	a->auth_failures = (int)sq_col_int(s, 10);
	store_incoming_parse(sq_col_str(s, 11), &in);
	a->incoming_status = in;
	a->incoming_last_fetch_at = sq_col_int(s, 12);
	sq_col_copy(s, 13, a->incoming_error, sizeof(a->incoming_error));
	store_outgoing_parse(sq_col_str(s, 14), &out);
	a->outgoing_status = out;
	sq_col_copy(s, 15, a->outgoing_error, sizeof(a->outgoing_error));
	sq_col_copy(s, 16, a->identity, sizeof(a->identity));
	sq_col_copy(s, 17, a->display_name, sizeof(a->display_name));
	sq_col_copy(s, 18, a->tenant_id, sizeof(a->tenant_id));
	sq_col_copy(s, 19, a->object_id, sizeof(a->object_id));
	sq_col_copy(s, 20, a->graph_url, sizeof(a->graph_url));
	sq_col_copy(s, 21, a->imap_server, sizeof(a->imap_server));
	sq_col_copy(s, 22, a->smtp_server, sizeof(a->smtp_server));
	a->authorized_at = sq_col_int(s, 23);
	a->folders_scanned_at = sq_col_int(s, 24);
	a->next_due_at = sq_col_int(s, 25);
	a->throttled_until = sq_col_int(s, 26);
	a->backoff_s = (int)sq_col_int(s, 27);
	sq_col_copy(s, 28, a->last_error_code, sizeof(a->last_error_code));
	sq_col_copy(s, 29, a->last_error, sizeof(a->last_error));
	a->last_error_at = sq_col_int(s, 30);
	a->created_at = sq_col_int(s, 31);
	a->updated_at = sq_col_int(s, 32);
}

static int get_one_account(struct store *st, sqlite3_stmt *s,
			   struct store_account *out, struct err *e)
{
	int rc = sq_row(st, s, "reading an account", e);

	if (rc == 1) {
		read_account(s, out);
		sqlite3_reset(s);
	}
	return rc;
}

/* The account-state event: its data carries the state, reason and fix. */
static int state_event(struct store *st, int64_t id, enum store_state state,
		       const char *reason, enum err_fix fix, const char *fix_arg,
		       struct err *e)
{
	char *data = store_state_event_data(state, reason, fix, fix_arg);
	int rc = sq_event(st, &(struct store_event_new){ .account_id = id,
			  .type = STORE_EVENT_ACCOUNT_STATE_CHANGED, .data = data }, e);

	free(data);
	return rc;
}

int sqlite_add_account(struct store *st, struct store_account *a, struct err *e)
{
	static const char sql[] =
		"INSERT INTO accounts (user_id, name, email, sender_name, transport, "
		"state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'new', ?, ?)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int64_t now = time_now();
	int owned, rc = -1;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	sq_int(s, 1, a->user_id ? a->user_id : STORE_LOCAL_USER_ID);
	sq_text(s, 2, a->name);
	sq_text(s, 3, a->email);
	sq_text(s, 4, a->sender_name);
	sq_text(s, 5, a->transport);
	sq_int(s, 6, now);
	sq_int(s, 7, now);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if (sqlite3_errcode(sq_db(st)) == SQLITE_CONSTRAINT)
			err_set(e, ERR_PERMANENT, "duplicate",
				"an account named '%s' already exists", a->name);
		else
			sq_fail(st, e, "adding an account");
		sqlite3_reset(s);
		goto out;
	}
	sqlite3_reset(s);
	a->id = sqlite3_last_insert_rowid(sq_db(st));
	if (!a->user_id)
		a->user_id = STORE_LOCAL_USER_ID;
	a->state = STORE_STATE_NEW;
	rc = state_event(st, a->id, STORE_STATE_NEW, "", FIX_NONE, NULL, e);
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_get_account(struct store *st, int64_t id, struct store_account *out,
		       struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, id);
	return get_one_account(st, s, out, e);
}

int sqlite_get_account_by_name(struct store *st, int64_t user_id,
			       const char *name, struct store_account *out,
			       struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts "
		"WHERE name = ?1 AND (?2 = 0 OR user_id = ?2) ORDER BY id LIMIT 2";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	if (!s)
		return -1;
	sq_text(s, 1, name);
	sq_int(s, 2, user_id);
	rc = sq_row(st, s, "reading an account", e);
	if (rc != 1)
		return rc;
	read_account(s, out);
	rc = sq_row(st, s, "reading an account", e);
	sqlite3_reset(s);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		err_set(e, ERR_PERMANENT, "ambiguous", "several users have an "
			"account named '%s'", name);
		return err_set_fix(e, FIX_CHECK_INPUT, "name the owner (--owner USER) or use the account id");
	}
	return 1;
}

int sqlite_find_account_by_identity(struct store *st, const char *tenant_id,
				    const char *object_id, int64_t except_id,
				    struct store_account *out, struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts "
		"WHERE tenant_id = ? AND object_id = ? AND object_id <> '' AND id <> ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, tenant_id);
	sq_text(s, 2, object_id);
	sq_int(s, 3, except_id);
	return get_one_account(st, s, out, e);
}

int sqlite_find_account_by_email(struct store *st, const char *email,
				 int64_t except_id, struct store_account *out,
				 struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts "
		"WHERE (lower(email) = lower(?1) OR lower(identity) = lower(?1)) "
		"AND id <> ?2 ORDER BY id LIMIT 1";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, email);
	sq_int(s, 2, except_id);
	return get_one_account(st, s, out, e);
}

int sqlite_list_accounts(struct store *st, int64_t user_id,
			 struct store_account **out, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts "
		"WHERE ?1 = 0 OR user_id = ?1 ORDER BY name, id";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, user_id);
	while ((rc = sq_row(st, s, "listing accounts", e)) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_account(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int sqlite_update_account(struct store *st, const struct store_account *a,
			  struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET email = ?, sender_name = ?, identity = ?, "
		"display_name = ?, tenant_id = ?, object_id = ?, graph_url = ?, "
		"imap_server = ?, smtp_server = ?, authorized_at = ?, "
		"folders_scanned_at = ?, updated_at = ? WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, a->email);
	sq_text(s, 2, a->sender_name);
	sq_text(s, 3, a->identity);
	sq_text(s, 4, a->display_name);
	sq_text(s, 5, a->tenant_id);
	sq_text(s, 6, a->object_id);
	sq_text(s, 7, a->graph_url);
	sq_text(s, 8, a->imap_server);
	sq_text(s, 9, a->smtp_server);
	sq_int(s, 10, a->authorized_at);
	sq_int(s, 11, a->folders_scanned_at);
	sq_int(s, 12, time_now());
	sq_int(s, 13, a->id);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if (sqlite3_errcode(sq_db(st)) == SQLITE_CONSTRAINT) {
			err_set(e, ERR_PERMANENT, "already_connected",
				"this Microsoft mailbox is already connected to "
				"another account");
		} else {
			sq_fail(st, e, "updating an account");
		}
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

int sqlite_set_account_state(struct store *st, int64_t id, enum store_state state,
			     const char *reason, enum err_fix fix,
			     const char *fix_arg, struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET state = ?1, state_reason = ?2, state_fix = ?3, "
		"state_fix_arg = ?4, updated_at = ?5 WHERE id = ?6 AND (state <> ?1 "
		"OR state_reason <> ?2 OR state_fix <> ?3 OR state_fix_arg <> ?4)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int owned, rc;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	sq_text(s, 1, store_state_name(state));
	sq_text(s, 2, reason ? reason : "");
	sq_text(s, 3, err_fix_name(fix));
	sq_text(s, 4, fix_arg ? fix_arg : "");
	sq_int(s, 5, time_now());
	sq_int(s, 6, id);
	rc = sq_done(st, s, "setting the account state", e);
	if (rc == 0 && sqlite3_changes(sq_db(st)) > 0)
		rc = state_event(st, id, state, reason, fix, fix_arg, e);
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_record_auth_failure(struct store *st, int64_t id, int threshold,
			       const char *reason, int *count, struct err *e)
{
	static const char bump[] =
		"UPDATE accounts SET auth_failures = auth_failures + 1, "
		"last_error_code = 'auth', last_error = ?, last_error_at = ?, "
		"updated_at = ? WHERE id = ?";
	sqlite3_stmt *s;
	int64_t n = 0;
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, bump, e)))
		goto out;
	sq_text(s, 1, reason);
	sq_int(s, 2, time_now());
	sq_int(s, 3, time_now());
	sq_int(s, 4, id);
	if (sq_done(st, s, "recording an authorization failure", e) < 0 ||
	    sq_query_int(st, "SELECT auth_failures FROM accounts WHERE id = ?",
			 "reading authorization failures", &n, e, 1, id) < 0)
		goto out;
	rc = 0;
	if (n >= threshold) {
		struct store_account a;

		rc = sqlite_get_account(st, id, &a, e) < 0 ? -1 : 0;
		if (rc == 0)
			rc = sqlite_set_account_state(st, id, STORE_STATE_AUTH_INVALID,
						      reason, FIX_REAUTHORIZE, a.name, e);
	}
out:
	if (count)
		*count = (int)n;
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_clear_auth_failures(struct store *st, int64_t id, struct err *e)
{
	return sq_exec_ints(st, "UPDATE accounts SET auth_failures = 0 WHERE id = ? "
			    "AND auth_failures <> 0", "clearing authorization failures",
			    e, 1, id);
}

int sqlite_set_incoming_status(struct store *st, int64_t id,
			       enum store_incoming status, const char *error,
			       int64_t last_fetch_at, struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET incoming_status = ?, incoming_error = ?, "
		"incoming_last_fetch_at = CASE WHEN ? > 0 THEN ? ELSE "
		"incoming_last_fetch_at END, updated_at = ? WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, store_incoming_name(status));
	sq_text(s, 2, error ? error : "");
	sq_int(s, 3, last_fetch_at);
	sq_int(s, 4, last_fetch_at);
	sq_int(s, 5, time_now());
	sq_int(s, 6, id);
	return sq_done(st, s, "saving the incoming test result", e);
}

int sqlite_set_outgoing_status(struct store *st, int64_t id,
			       enum store_outgoing status, const char *error,
			       struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET outgoing_status = ?, outgoing_error = ?, "
		"updated_at = ? WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, store_outgoing_name(status));
	sq_text(s, 2, error ? error : "");
	sq_int(s, 3, time_now());
	sq_int(s, 4, id);
	return sq_done(st, s, "saving the outgoing test result", e);
}

int sqlite_set_account_schedule(struct store *st, int64_t id, int64_t next_due_at,
				int64_t throttled_until, int backoff_s,
				struct err *e)
{
	return sq_exec_ints(st, "UPDATE accounts SET next_due_at = ?, "
			    "throttled_until = ?, backoff_s = ? WHERE id = ?",
			    "saving the account schedule", e, 4, next_due_at,
			    throttled_until, (int64_t)backoff_s, id);
}

int sqlite_note_account_error(struct store *st, int64_t id, const struct err *err,
			      const char *request_id, struct err *e)
{
	static const char set[] =
		"UPDATE accounts SET last_error_code = ?, last_error = ?, "
		"last_error_at = ? WHERE id = ?";
	static const char add[] =
		"INSERT INTO account_errors (account_id, at, class, code, message, "
		"request_id) VALUES (?, ?, ?, ?, ?, ?)";
	static const char trim[] =
		"DELETE FROM account_errors WHERE account_id = ?1 AND id <= "
		"(SELECT id FROM account_errors WHERE account_id = ?1 "
		"ORDER BY id DESC LIMIT 1 OFFSET ?2)";
	const char *code = err->code[0] ? err->code : err_class_name(err->class);
	int64_t now = time_now();
	sqlite3_stmt *s;
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, set, e)))
		goto out;
	sq_text(s, 1, code);
	sq_text(s, 2, err->msg);
	sq_int(s, 3, now);
	sq_int(s, 4, id);
	if (sq_done(st, s, "recording the account's error", e) < 0 ||
	    !(s = sq_prepare(st, add, e)))
		goto out;
	sq_int(s, 1, id);
	sq_int(s, 2, now);
	sq_text(s, 3, err_class_name(err->class));
	sq_text(s, 4, code);
	sq_text(s, 5, err->msg);
	sq_text(s, 6, request_id ? request_id : "");
	if (sq_done(st, s, "recording the account's error", e) < 0)
		goto out;
	rc = sq_exec_ints(st, trim, "trimming the error history", e, 2, id,
			  (int64_t)ACCOUNT_ERRORS_KEPT);
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_clear_account_error(struct store *st, int64_t id, struct err *e)
{
	return sq_exec_ints(st, "UPDATE accounts SET last_error_code = '', "
			    "last_error = '', last_error_at = 0 WHERE id = ? AND "
			    "last_error_code <> ''", "clearing the account's error",
			    e, 1, id);
}

int sqlite_list_account_errors(struct store *st, int64_t id, size_t max,
			       struct store_account_error **out, size_t *n,
			       struct err *e)
{
	static const char sql[] =
		"SELECT at, class, code, message, request_id FROM account_errors "
		"WHERE account_id = ? ORDER BY id DESC LIMIT ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, id);
	sq_int(s, 2, (int64_t)max);
	*out = xcalloc(max ? max : 1, sizeof(**out));
	while (*n < max && (rc = sq_row(st, s, "reading the error history", e)) == 1) {
		struct store_account_error *a = &(*out)[(*n)++];

		a->at = sq_col_int(s, 0);
		sq_col_copy(s, 1, a->class_name, sizeof(a->class_name));
		sq_col_copy(s, 2, a->code, sizeof(a->code));
		sq_col_copy(s, 3, a->message, sizeof(a->message));
		sq_col_copy(s, 4, a->request_id, sizeof(a->request_id));
	}
	if (*n == max)
		rc = 0;
	sqlite3_reset(s);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc < 0 ? -1 : 0;
}

int sqlite_stop_account(struct store *st, int64_t id, bool purge,
			const char *reason, struct err *e)
{
	static const char clear[] =
		"UPDATE accounts SET identity = '', display_name = '', tenant_id = '', "
		"object_id = '', graph_url = '', imap_server = '', smtp_server = '', "
		"authorized_at = 0, auth_failures = 0, incoming_status = 'not_confirmed', "
		"incoming_error = '', outgoing_status = 'untested', outgoing_error = '', "
		"next_due_at = 0, throttled_until = 0, backoff_s = 0, "
		"last_error_code = '', last_error = '', last_error_at = 0 WHERE id = ?";
	static const char unmap[] =
		"UPDATE folders SET selected = 0, role = '', phase = 'pending', "
		"cursor = NULL, round_fresh = 0, first_round = 0 WHERE account_id = ?";
	static const char del_messages[] = "DELETE FROM messages WHERE account_id = ?";
	static const char del_folders[] = "DELETE FROM folders WHERE account_id = ?";
	static const char del_outbox[] = "DELETE FROM outbox WHERE account_id = ?";
	static const char del_states[] = "DELETE FROM oauth_states WHERE account_id = ?";
	static const char del_lease[] = "DELETE FROM account_leases WHERE account_id = ?";
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (sqlite_delete_credentials(st, id, e) < 0 ||
	    sq_exec_ints(st, del_states, "removing authorization states", e, 1, id) < 0 ||
	    sq_exec_ints(st, del_lease, "releasing the sync lease", e, 1, id) < 0 ||
	    sq_exec_ints(st, clear, "clearing server settings", e, 1, id) < 0 ||
	    sq_exec_ints(st, unmap, "removing folder mappings", e, 1, id) < 0)
		goto out;
	if (purge &&
	    (sq_exec_ints(st, del_messages, "purging messages", e, 1, id) < 0 ||
	     sq_exec_ints(st, del_folders, "purging folders", e, 1, id) < 0 ||
	     sq_exec_ints(st, del_outbox, "purging the outbox", e, 1, id) < 0))
		goto out;
	{
		struct store_account a;

		if (sqlite_get_account(st, id, &a, e) != 1)
			goto out;
		rc = sqlite_set_account_state(st, id, STORE_STATE_STOPPED, reason,
					      FIX_AUTHORIZE, a.name, e);
	}
out:
	return sq_auto_end(st, owned, rc, e);
}

int sqlite_delete_account(struct store *st, int64_t id, struct err *e)
{
	int owned, rc;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = sq_exec_ints(st, "DELETE FROM accounts WHERE id = ?",
			  "removing the account", e, 1, id);
	/* Rows that name the account without a foreign key. */
	if (rc == 0)
		rc = sq_exec_ints(st, "DELETE FROM events WHERE account_id = ?",
				  "removing the account's events", e, 1, id);
	if (rc == 0)
		rc = sq_exec_ints(st, "DELETE FROM webhook_deliveries WHERE account_id = ?",
				  "removing the account's webhook deliveries", e, 1, id);
	rc = sq_auto_end(st, owned, rc, e);
	/* Give the space back (auto_vacuum is incremental in every store:
	 * new files are made so, older ones converted when opened). */
	if (rc == 0 && owned)
		sqlite3_exec(sq_db(st), "PRAGMA incremental_vacuum", NULL, NULL, NULL);
	return rc;
}

static int count_query(struct store *st, const char *sql, int64_t id,
		       long long *n, struct err *e)
{
	int64_t v = 0;
	int rc = sq_query_int(st, sql, "counting", &v, e, 1, id);

	*n = v;
	return rc;
}

int sqlite_count_messages(struct store *st, int64_t account_id, long long *n,
			  struct err *e)
{
	return count_query(st, "SELECT COUNT(*) FROM messages WHERE account_id = ?",
			   account_id, n, e);
}

int sqlite_count_selected_folders(struct store *st, int64_t account_id,
				  long long *n, struct err *e)
{
	return count_query(st, "SELECT COUNT(*) FROM folders WHERE account_id = ? "
			   "AND selected = 1", account_id, n, e);
}

/* Rows of "SELECT name, COUNT(*) ... GROUP BY name" into counts[] by the
 * enumeration `parse` reads from the name. */
static int count_by(struct store *st, const char *sql, const char *const *names,
		    size_t n_names, long long *counts, struct err *e)
{
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	if (!s)
		return -1;
	while ((rc = sq_row(st, s, "counting", e)) == 1) {
		const char *name = sq_col_str(s, 0);

		for (size_t i = 0; i < n_names; i++)
			if (strcmp(names[i], name) == 0)
				counts[i] += sq_col_int(s, 1);
	}
	sqlite3_reset(s);
	return rc < 0 ? -1 : 0;
}

int sqlite_get_stats(struct store *st, struct store_stats *out, struct err *e)
{
	const char *states[STORE_STATE_COUNT], *phases[STORE_PHASE_COUNT],
		   *outbox[STORE_OUTBOX_STATE_COUNT];
	int64_t messages = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < STORE_STATE_COUNT; i++)
		states[i] = store_state_name((enum store_state)i);
	for (int i = 0; i < STORE_PHASE_COUNT; i++)
		phases[i] = store_phase_name((enum store_phase)i);
	for (int i = 0; i < STORE_OUTBOX_STATE_COUNT; i++)
		outbox[i] = store_outbox_state_name((enum store_outbox_state)i);
	if (count_by(st, "SELECT state, COUNT(*) FROM accounts GROUP BY state",
		     states, STORE_STATE_COUNT, out->accounts, e) < 0 ||
	    count_by(st, "SELECT phase, COUNT(*) FROM folders WHERE selected = 1 "
		     "GROUP BY phase", phases, STORE_PHASE_COUNT, out->folders, e) < 0 ||
	    count_by(st, "SELECT state, COUNT(*) FROM outbox GROUP BY state",
		     outbox, STORE_OUTBOX_STATE_COUNT, out->outbox, e) < 0 ||
	    sq_query_int(st, "SELECT COUNT(*) FROM messages", "counting", &messages,
			 e, 0) < 0 ||
	    sqlite_last_event_seq(st, &out->last_event_seq, e) < 0)
		return -1;
	out->messages = messages;
	return 0;
}
