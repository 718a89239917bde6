/*
 * pg_accounts.c — provider settings and mailbox accounts (state and fix,
 * Test & Confirm, scheduling, the latest error and its history,
 * stop/remove, counts) in the PostgreSQL store. Credentials and OAuth
 * states live in pg_credentials.c, leases in pg_leases.c.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"
#include "store/store_rows.h"

#define ACCOUNT_ERRORS_KEPT 20

/* ---- provider ----------------------------------------------------------- */

int pg_get_provider(struct store *st, const char *name, struct store_provider *p,
		    struct err *e)
{
	static const char sql[] =
		"SELECT name, tenant, client_id, client_secret_sealed, login_url, "
		"graph_url, imap_host, imap_port, smtp_host, smtp_port, enabled, "
		"transports, updated_at, secret_expires_at, problem_code, problem, "
		"problem_at FROM providers WHERE name = $1";
	struct pg_params a = { 0 };
	PGresult *r;

	memset(p, 0, sizeof(*p));
	pgp_text(&a, name);
	if (!(r = pg_query(st, sql, &a, "reading provider settings", e)))
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	pg_copy(r, 0, 0, p->name, sizeof(p->name));
	pg_copy(r, 0, 1, p->tenant, sizeof(p->tenant));
	pg_copy(r, 0, 2, p->client_id, sizeof(p->client_id));
	p->client_secret_sealed = pg_dup(r, 0, 3);
	pg_copy(r, 0, 4, p->login_url, sizeof(p->login_url));
	pg_copy(r, 0, 5, p->graph_url, sizeof(p->graph_url));
	pg_copy(r, 0, 6, p->imap_host, sizeof(p->imap_host));
	p->imap_port = (int)pg_int(r, 0, 7);
	pg_copy(r, 0, 8, p->smtp_host, sizeof(p->smtp_host));
	p->smtp_port = (int)pg_int(r, 0, 9);
	p->enabled = pg_bool(r, 0, 10);
	p->transports = (unsigned)pg_int(r, 0, 11);
	p->updated_at = pg_int(r, 0, 12);
	p->secret_expires_at = pg_int(r, 0, 13);
	pg_copy(r, 0, 14, p->problem_code, sizeof(p->problem_code));
	pg_copy(r, 0, 15, p->problem, sizeof(p->problem));
	p->problem_at = pg_int(r, 0, 16);
	PQclear(r);
	return 1;
}

int pg_put_provider(struct store *st, const struct store_provider *p, struct err *e)
{
	/* Every column, the problem cleared: new settings deserve a new try. */
	static const char sql[] =
		"INSERT INTO providers (name, tenant, client_id, client_secret_sealed, "
		"login_url, graph_url, imap_host, imap_port, smtp_host, smtp_port, "
		"enabled, transports, updated_at, secret_expires_at) VALUES ($1, $2, "
		"$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
		"ON CONFLICT (name) DO UPDATE SET tenant = excluded.tenant, "
		"client_id = excluded.client_id, "
		"client_secret_sealed = excluded.client_secret_sealed, "
		"login_url = excluded.login_url, graph_url = excluded.graph_url, "
		"imap_host = excluded.imap_host, imap_port = excluded.imap_port, "
		"smtp_host = excluded.smtp_host, smtp_port = excluded.smtp_port, "
		"enabled = excluded.enabled, transports = excluded.transports, "
		"updated_at = excluded.updated_at, "
		"secret_expires_at = excluded.secret_expires_at, problem_code = '', "
		"problem = '', problem_at = 0";
	struct pg_params a = { 0 };

	pgp_text(&a, p->name);
	pgp_text(&a, p->tenant);
	pgp_text(&a, p->client_id);
	pgp_text(&a, p->client_secret_sealed);
	pgp_text(&a, p->login_url);
	pgp_text(&a, p->graph_url);
	pgp_text(&a, p->imap_host);
	pgp_int(&a, p->imap_port);
	pgp_text(&a, p->smtp_host);
	pgp_int(&a, p->smtp_port);
	pgp_bool(&a, p->enabled);
	pgp_int(&a, p->transports);
	pgp_int(&a, time_now());
	pgp_int(&a, p->secret_expires_at);
	return pg_write(st, sql, &a, "saving provider settings", e);
}

int pg_set_provider_problem(struct store *st, const char *name, const char *code,
			    const char *problem, struct err *e)
{
	static const char sql[] =
		"UPDATE providers SET problem_code = $1, problem = $2, problem_at = $3 "
		"WHERE name = $4 AND (problem_code <> $1 OR problem <> $2)";
	bool clear = !code || !*code;
	struct pg_params a = { 0 };

	pgp_text(&a, clear ? "" : code);
	pgp_text(&a, clear ? "" : problem ? problem : "");
	pgp_int(&a, clear ? 0 : time_now());
	pgp_text(&a, name);
	return pg_write(st, sql, &a, "recording the provider's problem", e);
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

static void read_account(const PGresult *r, int i, void *row)
{
	struct store_account *a = row;
	enum store_incoming in = STORE_INCOMING_NOT_CONFIRMED;
	enum store_outgoing out = STORE_OUTGOING_UNTESTED;

	memset(a, 0, sizeof(*a));
	a->id = pg_int(r, i, 0);
	a->user_id = pg_int(r, i, 1);
	pg_copy(r, i, 2, a->name, sizeof(a->name));
	pg_copy(r, i, 3, a->email, sizeof(a->email));
	pg_copy(r, i, 4, a->sender_name, sizeof(a->sender_name));
	pg_copy(r, i, 5, a->transport, sizeof(a->transport));
	a->state = pg_col_state(r, i, 6);
	pg_copy(r, i, 7, a->state_reason, sizeof(a->state_reason));
	a->state_fix = err_fix_parse(pg_str(r, i, 8));
	pg_copy(r, i, 9, a->state_fix_arg, sizeof(a->state_fix_arg));
	a->auth_failures = (int)pg_int(r, i, 10);
	store_incoming_parse(pg_str(r, i, 11), &in);
	a->incoming_status = in;
	a->incoming_last_fetch_at = pg_int(r, i, 12);
	pg_copy(r, i, 13, a->incoming_error, sizeof(a->incoming_error));
	store_outgoing_parse(pg_str(r, i, 14), &out);
	a->outgoing_status = out;
	pg_copy(r, i, 15, a->outgoing_error, sizeof(a->outgoing_error));
	pg_copy(r, i, 16, a->identity, sizeof(a->identity));
	pg_copy(r, i, 17, a->display_name, sizeof(a->display_name));
	pg_copy(r, i, 18, a->tenant_id, sizeof(a->tenant_id));
	pg_copy(r, i, 19, a->object_id, sizeof(a->object_id));
	pg_copy(r, i, 20, a->graph_url, sizeof(a->graph_url));
	pg_copy(r, i, 21, a->imap_server, sizeof(a->imap_server));
	pg_copy(r, i, 22, a->smtp_server, sizeof(a->smtp_server));
	a->authorized_at = pg_int(r, i, 23);
	a->folders_scanned_at = pg_int(r, i, 24);
	a->next_due_at = pg_int(r, i, 25);
	a->throttled_until = pg_int(r, i, 26);
	a->backoff_s = (int)pg_int(r, i, 27);
	pg_copy(r, i, 28, a->last_error_code, sizeof(a->last_error_code));
	pg_copy(r, i, 29, a->last_error, sizeof(a->last_error));
	a->last_error_at = pg_int(r, i, 30);
	a->created_at = pg_int(r, i, 31);
	a->updated_at = pg_int(r, i, 32);
}

static int get_one_account(struct store *st, const char *sql,
			   const struct pg_params *p, struct store_account *out,
			   struct err *e)
{
	return pg_get_row(st, sql, p, "reading an account", read_account, out, e);
}

static int state_event(struct store *st, int64_t id, enum store_state state,
		       const char *reason, enum err_fix fix, const char *fix_arg,
		       struct err *e)
{
	char *data = store_state_event_data(state, reason, fix, fix_arg);
	int rc = pg_event(st, &(struct store_event_new){ .account_id = id,
			  .type = STORE_EVENT_ACCOUNT_STATE_CHANGED, .data = data }, e);

	free(data);
	return rc;
}

int pg_add_account(struct store *st, struct store_account *a, struct err *e)
{
	static const char sql[] =
		"INSERT INTO accounts (user_id, name, email, sender_name, transport, "
		"state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'new', $6, $6) "
		"RETURNING id";
	struct pg_params p = { 0 };
	PGresult *r;
	int owned, rc = -1;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	pgp_int(&p, a->user_id ? a->user_id : STORE_LOCAL_USER_ID);
	pgp_text(&p, a->name);
	pgp_text(&p, a->email);
	pgp_text(&p, a->sender_name);
	pgp_text(&p, a->transport);
	pgp_int(&p, time_now());
	if (!(r = pg_query(st, sql, &p, "adding an account", e))) {
		if (pg_failed_with(st, "23505"))
			err_set(e, ERR_PERMANENT, "duplicate",
				"an account named '%s' already exists", a->name);
		goto out;
	}
	a->id = pg_int(r, 0, 0);
	PQclear(r);
	if (!a->user_id)
		a->user_id = STORE_LOCAL_USER_ID;
	a->state = STORE_STATE_NEW;
	rc = state_event(st, a->id, STORE_STATE_NEW, "", FIX_NONE, NULL, e);
out:
	return pg_auto_end(st, owned, rc, e);
}

int pg_get_account(struct store *st, int64_t id, struct store_account *out,
		   struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = $1";
	struct pg_params p = { 0 };

	pgp_int(&p, id);
	return get_one_account(st, sql, &p, out, e);
}

int pg_get_account_by_name(struct store *st, int64_t user_id, const char *name,
			   struct store_account *out, struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts "
		"WHERE name = $1 AND ($2::bigint = 0 OR user_id = $2) ORDER BY id LIMIT 2";
	struct pg_params p = { 0 };
	PGresult *r;
	int n;

	pgp_text(&p, name);
	pgp_int(&p, user_id);
	if (!(r = pg_query(st, sql, &p, "reading an account", e)))
		return -1;
	n = PQntuples(r);
	if (n >= 1)
		read_account(r, 0, out);
	PQclear(r);
	if (n > 1) {
		err_set(e, ERR_PERMANENT, "ambiguous", "several users have an "
			"account named '%s'", name);
		return err_set_fix(e, FIX_CHECK_INPUT, "name the owner (--owner USER) or use the account id");
	}
	return n;
}

int pg_find_account_by_identity(struct store *st, const char *tenant_id,
				const char *object_id, int64_t except_id,
				struct store_account *out, struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts "
		"WHERE tenant_id = $1 AND object_id = $2 AND object_id <> '' AND id <> $3 "
		"ORDER BY id LIMIT 1";
	struct pg_params p = { 0 };

	pgp_text(&p, tenant_id);
	pgp_text(&p, object_id);
	pgp_int(&p, except_id);
	return get_one_account(st, sql, &p, out, e);
}

int pg_find_account_by_email(struct store *st, const char *email, int64_t except_id,
			     struct store_account *out, struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts "
		"WHERE (lower(email) = lower($1) OR lower(identity) = lower($1)) "
		"AND id <> $2 ORDER BY id LIMIT 1";
	struct pg_params p = { 0 };

	pgp_text(&p, email);
	pgp_int(&p, except_id);
	return get_one_account(st, sql, &p, out, e);
}

int pg_list_accounts(struct store *st, int64_t user_id, struct store_account **out,
		     size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " ACCOUNT_COLUMNS " FROM accounts "
		"WHERE $1::bigint = 0 OR user_id = $1 ORDER BY name, id";
	struct pg_params p = { 0 };

	pgp_int(&p, user_id);
	return pg_get_rows(st, sql, &p, "listing accounts", read_account, sizeof(**out),
			   (void **)out, n, e);
}

int pg_update_account(struct store *st, const struct store_account *a, struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET email = $1, sender_name = $2, identity = $3, "
		"display_name = $4, tenant_id = $5, object_id = $6, graph_url = $7, "
		"imap_server = $8, smtp_server = $9, authorized_at = $10, "
		"folders_scanned_at = $11, updated_at = $12 WHERE id = $13";
	struct pg_params p = { 0 };

	pgp_text(&p, a->email);
	pgp_text(&p, a->sender_name);
	pgp_text(&p, a->identity);
	pgp_text(&p, a->display_name);
	pgp_text(&p, a->tenant_id);
	pgp_text(&p, a->object_id);
	pgp_text(&p, a->graph_url);
	pgp_text(&p, a->imap_server);
	pgp_text(&p, a->smtp_server);
	pgp_int(&p, a->authorized_at);
	pgp_int(&p, a->folders_scanned_at);
	pgp_int(&p, time_now());
	pgp_int(&p, a->id);
	/* Not queued: a constraint failure has its own answer. */
	if (pg_exec(st, sql, &p, "updating an account", NULL, e) < 0) {
		if (pg_failed_with(st, "23505"))
			err_set(e, ERR_PERMANENT, "already_connected",
				"this Microsoft mailbox is already connected to "
				"another account");
		return -1;
	}
	return 0;
}

int pg_set_account_state(struct store *st, int64_t id, enum store_state state,
			 const char *reason, enum err_fix fix, const char *fix_arg,
			 struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET state = $1, state_reason = $2, state_fix = $3, "
		"state_fix_arg = $4, updated_at = $5 WHERE id = $6 AND (state <> $1 "
		"OR state_reason <> $2 OR state_fix <> $3 OR state_fix_arg <> $4)";
	struct pg_params p = { 0 };
	long long changed = 0;
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	pgp_text(&p, store_state_name(state));
	pgp_text(&p, reason ? reason : "");
	pgp_text(&p, err_fix_name(fix));
	pgp_text(&p, fix_arg ? fix_arg : "");
	pgp_int(&p, time_now());
	pgp_int(&p, id);
	rc = pg_exec(st, sql, &p, "setting the account state", &changed, e);
	if (rc == 0 && changed > 0)
		rc = state_event(st, id, state, reason, fix, fix_arg, e);
	return pg_auto_end(st, owned, rc, e);
}

int pg_record_auth_failure(struct store *st, int64_t id, int threshold,
			   const char *reason, int *count, struct err *e)
{
	static const char bump[] =
		"UPDATE accounts SET auth_failures = auth_failures + 1, "
		"last_error_code = 'auth', last_error = $1, last_error_at = $2, "
		"updated_at = $2 WHERE id = $3 RETURNING auth_failures, name";
	struct pg_params p = { 0 };
	PGresult *r;
	int64_t n = 0;
	char name[128] = "";
	int owned, rc = -1;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	pgp_text(&p, reason);
	pgp_int(&p, time_now());
	pgp_int(&p, id);
	if (!(r = pg_query(st, bump, &p, "recording an authorization failure", e)))
		goto out;
	if (PQntuples(r) > 0) {
		n = pg_int(r, 0, 0);
		pg_copy(r, 0, 1, name, sizeof(name));
	}
	PQclear(r);
	rc = 0;
	if (n >= threshold)
		rc = pg_set_account_state(st, id, STORE_STATE_AUTH_INVALID, reason,
					  FIX_REAUTHORIZE, name, e);
out:
	if (count)
		*count = (int)n;
	return pg_auto_end(st, owned, rc, e);
}

int pg_clear_auth_failures(struct store *st, int64_t id, struct err *e)
{
	return pg_write_ints(st, "UPDATE accounts SET auth_failures = 0 WHERE id = $1 "
			     "AND auth_failures <> 0", "clearing authorization failures",
			     e, 1, id);
}

int pg_set_incoming_status(struct store *st, int64_t id, enum store_incoming status,
			   const char *error, int64_t last_fetch_at, struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET incoming_status = $1, incoming_error = $2, "
		"incoming_last_fetch_at = CASE WHEN $3::bigint > 0 THEN $3 ELSE "
		"incoming_last_fetch_at END, updated_at = $4 WHERE id = $5";
	struct pg_params p = { 0 };

	pgp_text(&p, store_incoming_name(status));
	pgp_text(&p, error ? error : "");
	pgp_int(&p, last_fetch_at);
	pgp_int(&p, time_now());
	pgp_int(&p, id);
	return pg_write(st, sql, &p, "saving the incoming test result", e);
}

int pg_set_outgoing_status(struct store *st, int64_t id, enum store_outgoing status,
			   const char *error, struct err *e)
{
	static const char sql[] =
		"UPDATE accounts SET outgoing_status = $1, outgoing_error = $2, "
		"updated_at = $3 WHERE id = $4";
	struct pg_params p = { 0 };

	pgp_text(&p, store_outgoing_name(status));
	pgp_text(&p, error ? error : "");
	pgp_int(&p, time_now());
	pgp_int(&p, id);
	return pg_write(st, sql, &p, "saving the outgoing test result", e);
}

int pg_set_account_schedule(struct store *st, int64_t id, int64_t next_due_at,
			    int64_t throttled_until, int backoff_s, struct err *e)
{
	return pg_write_ints(st, "UPDATE accounts SET next_due_at = $1, "
			     "throttled_until = $2, backoff_s = $3 WHERE id = $4",
			     "saving the account schedule", e, 4, next_due_at,
			     throttled_until, (int64_t)backoff_s, id);
}

int pg_note_account_error(struct store *st, int64_t id, const struct err *err,
			  const char *request_id, struct err *e)
{
	static const char set[] =
		"UPDATE accounts SET last_error_code = $1, last_error = $2, "
		"last_error_at = $3 WHERE id = $4";
	static const char add[] =
		"INSERT INTO account_errors (account_id, at, class, code, message, "
		"request_id) VALUES ($1, $2, $3, $4, $5, $6)";
	static const char trim[] =
		"DELETE FROM account_errors WHERE account_id = $1 AND id <= "
		"(SELECT id FROM account_errors WHERE account_id = $1 "
		"ORDER BY id DESC LIMIT 1 OFFSET $2)";
	const char *code = err->code[0] ? err->code : err_class_name(err->class);
	int64_t now = time_now();
	struct pg_params p = { 0 }, q = { 0 };
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	pgp_text(&p, code);
	pgp_text(&p, err->msg);
	pgp_int(&p, now);
	pgp_int(&p, id);
	pgp_int(&q, id);
	pgp_int(&q, now);
	pgp_text(&q, err_class_name(err->class));
	pgp_text(&q, code);
	pgp_text(&q, err->msg);
	pgp_text(&q, request_id ? request_id : "");
	rc = pg_write(st, set, &p, "recording the account's error", e);
	if (rc == 0)
		rc = pg_write(st, add, &q, "recording the account's error", e);
	if (rc == 0)
		rc = pg_write_ints(st, trim, "trimming the error history", e, 2, id,
				   (int64_t)ACCOUNT_ERRORS_KEPT);
	return pg_auto_end(st, owned, rc, e);
}

int pg_clear_account_error(struct store *st, int64_t id, struct err *e)
{
	return pg_write_ints(st, "UPDATE accounts SET last_error_code = '', "
			     "last_error = '', last_error_at = 0 WHERE id = $1 AND "
			     "last_error_code <> ''", "clearing the account's error",
			     e, 1, id);
}

int pg_list_account_errors(struct store *st, int64_t id, size_t max,
			   struct store_account_error **out, size_t *n,
			   struct err *e)
{
	static const char sql[] =
		"SELECT at, class, code, message, request_id FROM account_errors "
		"WHERE account_id = $1 ORDER BY id DESC LIMIT $2";
	struct pg_params p = { 0 };
	PGresult *r;

	*out = NULL;
	*n = 0;
	pgp_int(&p, id);
	pgp_int(&p, (int64_t)max);
	if (!(r = pg_query(st, sql, &p, "reading the error history", e)))
		return -1;
	*out = xcalloc(max ? max : 1, sizeof(**out));
	for (int i = 0; i < PQntuples(r) && *n < max; i++) {
		struct store_account_error *a = &(*out)[(*n)++];

		a->at = pg_int(r, i, 0);
		pg_copy(r, i, 1, a->class_name, sizeof(a->class_name));
		pg_copy(r, i, 2, a->code, sizeof(a->code));
		pg_copy(r, i, 3, a->message, sizeof(a->message));
		pg_copy(r, i, 4, a->request_id, sizeof(a->request_id));
	}
	PQclear(r);
	return 0;
}

int pg_stop_account(struct store *st, int64_t id, bool purge, const char *reason,
		    struct err *e)
{
	static const char clear[] =
		"UPDATE accounts SET identity = '', display_name = '', tenant_id = '', "
		"object_id = '', graph_url = '', imap_server = '', smtp_server = '', "
		"authorized_at = 0, auth_failures = 0, incoming_status = 'not_confirmed', "
		"incoming_error = '', outgoing_status = 'untested', outgoing_error = '', "
		"next_due_at = 0, throttled_until = 0, backoff_s = 0, "
		"last_error_code = '', last_error = '', last_error_at = 0 WHERE id = $1";
	static const char unmap[] =
		"UPDATE folders SET selected = false, role = '', phase = 'pending', "
		"cursor = NULL, round_fresh = false, first_round = false "
		"WHERE account_id = $1";
	static const char *const purges[] = {
		"DELETE FROM messages WHERE account_id = $1",
		"DELETE FROM folders WHERE account_id = $1",
		"DELETE FROM outbox WHERE account_id = $1",
	};
	struct store_account a;
	int owned, rc = -1;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	if (pg_delete_credentials(st, id, e) < 0 ||
	    pg_write_ints(st, "DELETE FROM oauth_states WHERE account_id = $1",
			  "removing authorization states", e, 1, id) < 0 ||
	    pg_write_ints(st, "DELETE FROM account_leases WHERE account_id = $1",
			  "releasing the sync lease", e, 1, id) < 0 ||
	    pg_write_ints(st, clear, "clearing server settings", e, 1, id) < 0 ||
	    pg_write_ints(st, unmap, "removing folder mappings", e, 1, id) < 0)
		goto out;
	for (size_t i = 0; purge && i < sizeof(purges) / sizeof(purges[0]); i++)
		if (pg_write_ints(st, purges[i], "purging the account's mail", e, 1, id) < 0)
			goto out;
	if (pg_get_account(st, id, &a, e) != 1)
		goto out;
	rc = pg_set_account_state(st, id, STORE_STATE_STOPPED, reason, FIX_AUTHORIZE,
				  a.name, e);
out:
	return pg_auto_end(st, owned, rc, e);
}

int pg_delete_account(struct store *st, int64_t id, struct err *e)
{
	int owned, rc;

	if (pg_auto_begin(st, &owned, e) < 0)
		return -1;
	rc = pg_write_ints(st, "DELETE FROM accounts WHERE id = $1",
			   "removing the account", e, 1, id);
	if (rc == 0)
		rc = pg_write_ints(st, "DELETE FROM events WHERE account_id = $1",
				   "removing the account's events", e, 1, id);
	if (rc == 0)
		rc = pg_write_ints(st, "DELETE FROM pg_temp.staged_events WHERE account_id = $1",
				   "removing the account's events", e, 1, id);
	return pg_auto_end(st, owned, rc, e);
}

static int count_query(struct store *st, const char *sql, int64_t id,
		       long long *n, struct err *e)
{
	int64_t v = 0;
	int rc = pg_query_int(st, sql, "counting", &v, e, 1, id);

	*n = v;
	return rc;
}

int pg_count_messages(struct store *st, int64_t account_id, long long *n,
		      struct err *e)
{
	return count_query(st, "SELECT count(*) FROM messages WHERE account_id = $1",
			   account_id, n, e);
}

int pg_count_selected_folders(struct store *st, int64_t account_id, long long *n,
			      struct err *e)
{
	return count_query(st, "SELECT count(*) FROM folders WHERE account_id = $1 "
			   "AND selected", account_id, n, e);
}

/* One statement for every count: (kind, name, count) rows. */
int pg_get_stats(struct store *st, struct store_stats *out, struct err *e)
{
	static const char sql[] =
		"SELECT 'a', state, count(*) FROM accounts GROUP BY state UNION ALL "
		"SELECT 'f', phase, count(*) FROM folders WHERE selected GROUP BY phase "
		"UNION ALL SELECT 'o', state, count(*) FROM outbox GROUP BY state "
		"UNION ALL SELECT 'm', '', count(*) FROM messages "
		"UNION ALL SELECT 'e', '', COALESCE(max(seq), 0) FROM events";
	PGresult *r;

	memset(out, 0, sizeof(*out));
	if (!(r = pg_query(st, sql, NULL, "counting", e)))
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = pg_str(r, i, 1);
		long long v = pg_int(r, i, 2);
		enum store_state s;
		enum store_phase ph;
		enum store_outbox_state o;

		switch (pg_str(r, i, 0)[0]) {
		case 'a':
			if (store_state_parse(name, &s) == 0)
				out->accounts[s] += v;
			break;
		case 'f':
			if (store_phase_parse(name, &ph) == 0)
				out->folders[ph] += v;
			break;
		case 'o':
			if (store_outbox_state_parse(name, &o) == 0)
				out->outbox[o] += v;
			break;
		case 'm':
			out->messages = v;
			break;
		default:
			out->last_event_seq = v;
			break;
		}
	}
	PQclear(r);
	return 0;
}
