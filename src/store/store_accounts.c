/*
 * store_accounts.c — provider settings, mailbox accounts (state, Test &
 * Confirm, scheduling, stop/remove) in the SQLite store. Credentials and
 * OAuth states live in store_credentials.c.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/store_sqlite.h"

/* ---- provider ----------------------------------------------------------- */

int store_get_provider(struct store *st, const char *name,
		       struct store_provider *p, struct err *e)
{
	static const char sql[] =
		"SELECT name, tenant, client_id, client_secret_sealed, login_url, "
		"graph_url, imap_host, imap_port, smtp_host, smtp_port, enabled, "
		"transports, updated_at FROM providers WHERE name = ?";
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
	sqlite3_reset(s);
	return 1;
}

int store_put_provider(struct store *st, const struct store_provider *p,
		       struct err *e)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO providers (name, tenant, client_id, "
		"client_secret_sealed, login_url, graph_url, imap_host, imap_port, "
		"smtp_host, smtp_port, enabled, transports, updated_at) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
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
	return sq_done(st, s, "saving provider settings", e);
}

void store_provider_clear(struct store_provider *p)
{
	free(p->client_secret_sealed);
	p->client_secret_sealed = NULL;
}

/* ---- accounts ----------------------------------------------------------- */

#define ACCOUNT_COLUMNS \
	"id, user_id, name, email, sender_name, transport, state, state_reason, " \
	"auth_failures, incoming_status, incoming_last_fetch_at, incoming_error, " \
	"outgoing_status, outgoing_error, identity, display_name, tenant_id, " \
	"object_id, graph_url, imap_server, smtp_server, authorized_at, " \
	"next_due_at, throttled_until, backoff_s, last_error, created_at, updated_at, " \
	"folders_scanned_at"

static void read_account(sqlite3_stmt *s, struct store_account *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sq_col_int(s, 0);
	a->user_id = sq_col_int(s, 1);
	sq_col_copy(s, 2, a->name, sizeof(a->name));
	sq_col_copy(s, 3, a->email, sizeof(a->email));
	sq_col_copy(s, 4, a->sender_name, sizeof(a->sender_name));
	sq_col_copy(s, 5, a->transport, sizeof(a->transport));
	sq_col_copy(s, 6, a->state, sizeof(a->state));
	sq_col_copy(s, 7, a->state_reason, sizeof(a->state_reason));
	a->auth_failures = (int)sq_col_int(s, 8);
	sq_col_copy(s, 9, a->incoming_status, sizeof(a->incoming_status));
	a->incoming_last_fetch_at = sq_col_int(s, 10);
	sq_col_copy(s, 11, a->incoming_error, sizeof(a->incoming_error));
	sq_col_copy(s, 12, a->outgoing_status, sizeof(a->outgoing_status));
	sq_col_copy(s, 13, a->outgoing_error, sizeof(a->outgoing_error));
	sq_col_copy(s, 14, a->identity, sizeof(a->identity));
	sq_col_copy(s, 15, a->display_name, sizeof(a->display_name));
	sq_col_copy(s, 16, a->tenant_id, sizeof(a->tenant_id));
	sq_col_copy(s, 17, a->object_id, sizeof(a->object_id));
	sq_col_copy(s, 18, a->graph_url, sizeof(a->graph_url));
	sq_col_copy(s, 19, a->imap_server, sizeof(a->imap_server));
	sq_col_copy(s, 20, a->smtp_server, sizeof(a->smtp_server));
	a->authorized_at = sq_col_int(s, 21);
	a->next_due_at = sq_col_int(s, 22);
	a->throttled_until = sq_col_int(s, 23);
	a->backoff_s = (int)sq_col_int(s, 24);
	sq_col_copy(s, 25, a->last_error, sizeof(a->last_error));
	a->created_at = sq_col_int(s, 26);
	a->updated_at = sq_col_int(s, 27);
	a->folders_scanned_at = sq_col_int(s, 28);
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

int store_add_account(struct store *st, struct store_account *a, struct err *e)
{
	static const char sql[] =
		"INSERT INTO accounts (user_id, name, email, sender_name, transport, "
		"state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'new', ?, ?)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int64_t now = time_now();
	int owned, rc = -1;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	sq_int(s, 1, a->user_id ? a->user_id : 1);
	sq_text(s, 2, a->name);
	sq_text(s, 3, a->email);
	sq_text(s, 4, a->sender_name);
	sq_text(s, 5, a->transport);
	sq_int(s, 6, now);
	sq_int(s, 7, now);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if (sqlite3_errcode(st->db) == SQLITE_CONSTRAINT)
			err_set(e, ERR_PERMANENT, "duplicate",
				"an account named '%s' already exists", a->name);
		else
			sq_fail(st, e, "adding an account");
		sqlite3_reset(s);
		goto out;
	}
	sqlite3_reset(s);
	a->id = sqlite3_last_insert_rowid(st->db);
	rc = sq_feed(st, a->id, "account", a->name, "created", e);
out:
	return sq_auto_end(st, owned, rc, e);
}

int store_get_account(struct store *st, int64_t id, struct store_account *out,
		      struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, id);
	return get_one_account(st, s, out, e);
}

int store_get_account_by_name(struct store *st, const char *name,
			      struct store_account *out, struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE name = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, name);
	return get_one_account(st, s, out, e);
}

int store_find_account_by_identity(struct store *st, const char *tenant_id,
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

int store_list_accounts(struct store *st, struct store_account **out,
			size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY name";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
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

int store_update_account(struct store *st, const struct store_account *a,
			 struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET email = ?, sender_name = ?, transport = ?, "
		"state = ?, state_reason = ?, auth_failures = ?, incoming_status = ?, "
		"incoming_last_fetch_at = ?, incoming_error = ?, outgoing_status = ?, "
		"outgoing_error = ?, identity = ?, display_name = ?, tenant_id = ?, "
		"object_id = ?, graph_url = ?, imap_server = ?, smtp_server = ?, "
		"authorized_at = ?, next_due_at = ?, throttled_until = ?, "
		"backoff_s = ?, last_error = ?, updated_at = ? WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int owned, rc;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	sq_text(s, 1, a->email);
	sq_text(s, 2, a->sender_name);
	sq_text(s, 3, a->transport);
	sq_text(s, 4, a->state);
	sq_text(s, 5, a->state_reason);
	sq_int(s, 6, a->auth_failures);
	sq_text(s, 7, a->incoming_status);
	sq_int(s, 8, a->incoming_last_fetch_at);
	sq_text(s, 9, a->incoming_error);
	sq_text(s, 10, a->outgoing_status);
	sq_text(s, 11, a->outgoing_error);
	sq_text(s, 12, a->identity);
	sq_text(s, 13, a->display_name);
	sq_text(s, 14, a->tenant_id);
	sq_text(s, 15, a->object_id);
	sq_text(s, 16, a->graph_url);
	sq_text(s, 17, a->imap_server);
	sq_text(s, 18, a->smtp_server);
	sq_int(s, 19, a->authorized_at);
	sq_int(s, 20, a->next_due_at);
	sq_int(s, 21, a->throttled_until);
	sq_int(s, 22, a->backoff_s);
	sq_text(s, 23, a->last_error);
	sq_int(s, 24, time_now());
	sq_int(s, 25, a->id);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if (sqlite3_errcode(st->db) == SQLITE_CONSTRAINT)
			err_set(e, ERR_PERMANENT, "duplicate",
				"this Microsoft mailbox is already connected to "
				"another account");
		else
			sq_fail(st, e, "updating an account");
		sqlite3_reset(s);
		rc = -1;
	} else {
		sqlite3_reset(s);
		rc = sq_feed(st, a->id, "account", a->name, "updated", e);
	}
	return sq_auto_end(st, owned, rc, e);
}

int store_set_account_state(struct store *st, int64_t id, const char *state,
			    const char *reason, struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET state = ?, state_reason = ?, updated_at = ? "
		"WHERE id = ? AND (state <> ? OR state_reason <> ?)";
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int owned, rc;

	if (!s || sq_auto_begin(st, &owned, e) < 0)
		return -1;
	sq_text(s, 1, state);
	sq_text(s, 2, reason ? reason : "");
	sq_int(s, 3, time_now());
	sq_int(s, 4, id);
	sq_text(s, 5, state);
	sq_text(s, 6, reason ? reason : "");
	rc = sq_done(st, s, "setting the account state", e);
	if (rc == 0 && sqlite3_changes(st->db) > 0)
		rc = sq_feed(st, id, "account", state, "state", e);
	return sq_auto_end(st, owned, rc, e);
}

int store_record_auth_failure(struct store *st, int64_t id, int threshold,
			      const char *reason, int *count, struct err *e)
{
	static const char bump[] =
		"UPDATE accounts SET auth_failures = auth_failures + 1, "
		"last_error = ?, updated_at = ? WHERE id = ?";
	static const char read[] = "SELECT auth_failures FROM accounts WHERE id = ?";
	sqlite3_stmt *s;
	int owned, rc = -1, n = 0;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (!(s = sq_prepare(st, bump, e)))
		goto out;
	sq_text(s, 1, reason);
	sq_int(s, 2, time_now());
	sq_int(s, 3, id);
	if (sq_done(st, s, "recording an authorization failure", e) < 0)
		goto out;
	if (!(s = sq_prepare(st, read, e)))
		goto out;
	sq_int(s, 1, id);
	if (sq_row(st, s, "reading authorization failures", e) != 1)
		goto out;
	n = (int)sq_col_int(s, 0);
	sqlite3_reset(s);
	rc = 0;
	if (n >= threshold)
		rc = store_set_account_state(st, id, STORE_STATE_AUTH_INVALID, reason, e);
out:
	if (count)
		*count = n;
	return sq_auto_end(st, owned, rc, e);
}

int store_clear_auth_failures(struct store *st, int64_t id, struct err *e)
{
	return sq_exec_ints(st, "UPDATE accounts SET auth_failures = 0 WHERE id = ? "
			    "AND auth_failures <> 0", "clearing authorization failures",
			    e, 1, id);
}

int store_set_incoming_status(struct store *st, int64_t id, const char *status,
			      const char *error, int64_t last_fetch_at,
			      struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET incoming_status = ?, incoming_error = ?, "
		"incoming_last_fetch_at = CASE WHEN ? > 0 THEN ? ELSE "
		"incoming_last_fetch_at END, updated_at = ? WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, status);
	sq_text(s, 2, error ? error : "");
	sq_int(s, 3, last_fetch_at);
	sq_int(s, 4, last_fetch_at);
	sq_int(s, 5, time_now());
	sq_int(s, 6, id);
	return sq_done(st, s, "saving the incoming test result", e);
}

int store_set_outgoing_status(struct store *st, int64_t id, const char *status,
			      const char *error, struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET outgoing_status = ?, outgoing_error = ?, "
		"updated_at = ? WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_text(s, 1, status);
	sq_text(s, 2, error ? error : "");
	sq_int(s, 3, time_now());
	sq_int(s, 4, id);
	return sq_done(st, s, "saving the outgoing test result", e);
}

int store_set_account_schedule(struct store *st, int64_t id, int64_t next_due_at,
			       int64_t throttled_until, int backoff_s,
			       const char *last_error, struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET next_due_at = ?, throttled_until = ?, "
		"backoff_s = ?, last_error = ? WHERE id = ?";
	sqlite3_stmt *s = sq_prepare(st, sql, e);

	if (!s)
		return -1;
	sq_int(s, 1, next_due_at);
	sq_int(s, 2, throttled_until);
	sq_int(s, 3, backoff_s);
	sq_text(s, 4, last_error ? last_error : "");
	sq_int(s, 5, id);
	return sq_done(st, s, "saving the account schedule", e);
}

int store_stop_account(struct store *st, int64_t id, bool purge,
		       const char *reason, struct err *e)
{
	static const char clear[] =
		"UPDATE accounts SET identity = '', display_name = '', tenant_id = '', "
		"object_id = '', graph_url = '', imap_server = '', smtp_server = '', "
		"authorized_at = 0, auth_failures = 0, incoming_status = 'not_confirmed', "
		"incoming_error = '', outgoing_status = 'untested', outgoing_error = '', "
		"next_due_at = 0, throttled_until = 0, backoff_s = 0, last_error = '' "
		"WHERE id = ?";
	static const char unmap[] =
		"UPDATE folders SET selected = 0, role = '', phase = 'pending', "
		"cursor = NULL, round_fresh = 0 WHERE account_id = ?";
	static const char del_messages[] = "DELETE FROM messages WHERE account_id = ?";
	static const char del_folders[] = "DELETE FROM folders WHERE account_id = ?";
	static const char del_outbox[] = "DELETE FROM outbox WHERE account_id = ?";
	static const char del_states[] = "DELETE FROM oauth_states WHERE account_id = ?";
	int owned, rc = -1;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	if (store_delete_credentials(st, id, e) < 0 ||
	    sq_exec_ints(st, del_states, "removing authorization states", e, 1, id) < 0 ||
	    sq_exec_ints(st, clear, "clearing server settings", e, 1, id) < 0 ||
	    sq_exec_ints(st, unmap, "removing folder mappings", e, 1, id) < 0)
		goto out;
	if (purge &&
	    (sq_exec_ints(st, del_messages, "purging messages", e, 1, id) < 0 ||
	     sq_exec_ints(st, del_folders, "purging folders", e, 1, id) < 0 ||
	     sq_exec_ints(st, del_outbox, "purging the outbox", e, 1, id) < 0))
		goto out;
	rc = store_set_account_state(st, id, STORE_STATE_STOPPED, reason, e);
out:
	return sq_auto_end(st, owned, rc, e);
}

int store_delete_account(struct store *st, int64_t id, struct err *e)
{
	int owned, rc;

	if (sq_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = sq_exec_ints(st, "DELETE FROM accounts WHERE id = ?",
			  "removing the account", e, 1, id);
	if (rc == 0)
		rc = sq_feed(st, id, "account", "", "deleted", e);
	return sq_auto_end(st, owned, rc, e);
}

static int count_query(struct store *st, const char *sql, int64_t id,
		       long long *n, struct err *e)
{
	sqlite3_stmt *s = sq_prepare(st, sql, e);
	int rc;

	*n = 0;
	if (!s)
		return -1;
	sq_int(s, 1, id);
	rc = sq_row(st, s, "counting", e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		*n = sq_col_int(s, 0);
	sqlite3_reset(s);
	return 0;
}

int store_count_messages(struct store *st, int64_t account_id, long long *n,
			 struct err *e)
{
	return count_query(st, "SELECT COUNT(*) FROM messages WHERE account_id = ?",
			   account_id, n, e);
}

int store_count_selected_folders(struct store *st, int64_t account_id,
				 long long *n, struct err *e)
{
	return count_query(st, "SELECT COUNT(*) FROM folders WHERE account_id = ? "
			   "AND selected = 1", account_id, n, e);
}
